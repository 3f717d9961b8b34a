/**
 * Lake-level record types: the file manifest (`_meta/files/<file_id>.json`) that an ingest commits last,
 * the parts (Parquet partition files) it lists, and the ingest report stored in it. Readers (catalog,
 * engine sources, query, pipeline) only read parts listed in a manifest; these types are the contract
 * between the writer (src/ingest) and those readers, so they live here and import nothing from ingest.
 *
 * Units: every `*_us` field is int64 µs UTC (epoch); `bytes` are raw (compressed, if gzip) file bytes;
 * `sha256` is the lowercase hex digest of those bytes; `content_sha256` / `content_bytes` are those of
 * the decoded (gunzipped) content, from which `file_id` is made (a file's identity: `x.csv` and
 * `x.csv.gz` are the same file). Manifests written before `content_sha256` existed (identity = raw
 * bytes) lack it and are still read; see `supersedes` and ingest/ingest.ts for how they are replaced.
 */
import type { TableName } from "../schema/tables.js";

/** Rows written and rejected for one table of one source file. */
export interface TableCounts {
  rows_written: number;
  rows_rejected: number;
  /**
   * Rows not written because the lake already held the same row from another source file of the same
   * stream (same vendor identity and values, see ingest/dedup.ts). Absent in manifests written before
   * deduplication existed (= 0).
   */
  rows_deduplicated?: number;
}

/** A committed file in which rows of this file were found already (deduplication). */
export interface DedupSource {
  readonly file_id: number;
  readonly source: string;
  /** Rows of this file dropped because that file holds them. */
  rows: number;
}

/** A previous ingest of the same content that this ingest replaced. */
export interface ReplacedFile {
  readonly file_id: number;
  readonly source: string;
  readonly ingested_at: string;
}

/** The first rejected line of a file (smallest line number), in full: the values are not masked. */
export interface FirstRejection {
  readonly line: number;
  /** Table the line was destined for, or "line" if it could not be routed. */
  readonly table: string;
  readonly field: string;
  readonly reason: string;
}

/**
 * A symbol-registry version this ingest opened by inference because its values needed finer increments
 * than the version before (lake/registry.ts). Rows of the two versions are in two fixed-point scales;
 * every reader converts them to one (lake/scale.ts).
 */
export interface RegistryChange {
  readonly exchange: string;
  readonly symbol: string;
  /** The new version. */
  readonly symbol_id: number;
  readonly price_increment: string;
  readonly amount_increment: string;
  /** Start of the new version's validity (µs, ts_local_us). */
  readonly valid_from_us: number;
  /** The version it follows (closed at `valid_from_us`). */
  readonly previous: {
    readonly symbol_id: number;
    readonly price_increment: string;
    readonly amount_increment: string;
  };
  /** The first line of this file whose value needs the finer increment (null if none was found: another file of the call forced it). */
  readonly forced_by: { readonly line: number; readonly field: string; readonly value: string } | null;
}

/** A break in an order-book update-id sequence (the book was discarded and resynced). */
export interface SequenceGap {
  readonly exchange: string;
  readonly symbol: string;
  readonly line: number;
  readonly ts_local_us: number;
  readonly expected: string;
  readonly got: string;
}

/**
 * Ingest accounting of one source file: every line ends in exactly one bucket,
 * `lines_read = Σ rows_written + Σ rows_rejected + Σ lines_without_row` (see ingest/report.ts).
 */
export interface IngestReport {
  readonly file: string;
  readonly file_id: number;
  readonly sha256: string;
  readonly format: string;
  lines_read: number;
  tables: Partial<Record<TableName, TableCounts>>;
  lines_without_row: Record<string, number>;
  rejected_by_reason: Record<string, number>;
  /** Lines rejected before they could be routed to a table (malformed line, unknown stream). */
  unrouted_rejected: number;
  sequence_gaps: SequenceGap[];
  /**
   * sha256 of the decoded content (the file's identity, see the module doc). Absent in old manifests.
   */
  readonly content_sha256?: string;
  /** Whether the same file (same decoded content) had been ingested before and was replaced. */
  replaced_previous: boolean;
  /** The previous ingests of the same content that were replaced (their sources may differ: x.csv.gz). */
  replaced?: ReplacedFile[];
  /** Per committed file: how many of this file's rows it held already (deduplicated rows). */
  deduplicated_against?: DedupSource[];
  /** The first rejected line (null when nothing was rejected). Absent in old manifests. */
  first_rejected?: FirstRejection | null;
  /** Absolute path of the quarantine file (null when nothing was rejected). Absent in old manifests. */
  quarantine_file?: string | null;
  /** Registry versions this ingest opened because values needed finer increments. Absent in old manifests. */
  registry_changes?: RegistryChange[];
  seconds: number;
}

/**
 * One Parquet part written by one source file: a (table, exchange, symbol, UTC date) partition file.
 * `path` is relative to the lake root; `first/last_ts_local_us` bound its rows (µs, inclusive).
 */
export interface PartInfo {
  readonly path: string;
  readonly table: TableName;
  readonly exchange: string;
  readonly symbol: string;
  readonly symbol_id: number;
  readonly date: string;
  readonly rows: number;
  readonly first_ts_local_us: number;
  readonly last_ts_local_us: number;
}

/** The committed record of one ingested source file (`_meta/files/<file_id>.json`). */
export interface FileManifest {
  readonly file_id: number;
  readonly source: string;
  readonly sha256: string;
  readonly bytes: number;
  /** sha256 of the decoded content (identity); absent in manifests of the raw-bytes identity. */
  readonly content_sha256?: string;
  readonly content_bytes?: number;
  /**
   * Manifests this one replaces although their file id differs (an earlier ingest of the same content
   * under the raw-bytes identity). Readers hide a manifest listed here (matched by file id and
   * `ingested_at`), so publishing this manifest — one atomic rename — switches the rows over; the
   * replaced manifests and parts are deleted afterwards (a crash in between leaves them hidden).
   */
  readonly supersedes?: readonly SupersededRef[];
  readonly format: string;
  readonly ingested_at: string;
  readonly parts: PartInfo[];
  readonly report: IngestReport;
}

/** A manifest that another one replaced (see `FileManifest.supersedes`). */
export interface SupersededRef {
  readonly file_id: number;
  readonly ingested_at: string;
}
