/**
 * Lake-level record types: the file manifest (`_meta/files/<file_id>.json`) that an ingest commits last,
 * the parts (Parquet partition files) it lists, and the ingest report stored in it. Readers (catalog,
 * engine sources, query, pipeline) only read parts listed in a manifest; these types are the contract
 * between the writer (src/ingest) and those readers, so they live here and import nothing from ingest.
 *
 * Units: every `*_us` field is int64 µs UTC (epoch); `bytes` are raw (compressed, if gzip) file bytes;
 * `sha256` is the lowercase hex digest of those bytes.
 */
import type { TableName } from "../schema/tables.js";

/** Rows written and rejected for one table of one source file. */
export interface TableCounts {
  rows_written: number;
  rows_rejected: number;
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
  /** Whether the same file (same sha256) had been ingested before and was replaced. */
  replaced_previous: boolean;
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
  readonly format: string;
  readonly ingested_at: string;
  readonly parts: PartInfo[];
  readonly report: IngestReport;
}
