/**
 * Ingest driver: `ingestFiles(kind, files, { lake })` runs both passes of the adapter on each file and
 * commits it to the lake. Files are processed one at a time (bounded memory), in first-timestamp order
 * when the adapter can tell it, so that a capture split across files continues its order book.
 *
 * File identity: a file's `file_id` is the 48-bit prefix of the sha256 of its *decoded* content (the
 * gunzipped bytes of a gzip file, see lake/hash.ts `hashSource`), so `x.csv` and `x.csv.gz` of one
 * capture are the same file: ingesting the second replaces the rows of the first (idempotent), and the
 * report says so. Manifests written under the former identity (sha256 of the raw bytes; no
 * `content_sha256`) are recognised by their raw hash: a re-ingest of such a file, or of its decoded or
 * re-compressed copy when its raw hash equals the new content hash, replaces that manifest (the new
 * manifest `supersedes` it, see lake/manifest.ts), so rows are never doubled. A gzip copy whose raw
 * bytes differ from an old manifest's (another compression level) is caught by deduplication instead.
 *
 * Overlapping files of one stream: rows that another committed file already holds are deduplicated by
 * the vendor's identity (trade id, update id, …) and counted, or rejected when the same identity has
 * other values (ingest/dedup.ts).
 *
 * Batches: each file commits or fails on its own. A file that fails (unreadable, truncated gzip, not of
 * the adapter's format, …) is aborted — nothing of it is published — and the others still commit;
 * `ingestBatch` returns what happened to each file, `ingestFiles` throws after the whole batch when any
 * file failed.
 */
import { resolve } from "node:path";
import { ConfigError, PointlineError } from "../core/errors.js";
import { loadAllManifests } from "../lake/catalog.js";
import { hashSource, type SourceHashes } from "../lake/hash.js";
import { idFromSha256 } from "../lake/layout.js";
import type { FileManifest } from "../lake/manifest.js";
import { SymbolRegistry } from "../lake/registry.js";
import type { AdapterOptions, SourceAdapter } from "./adapter.js";
import { binanceCaptureAdapter } from "./binance/capture.js";
import { DecimalScanner, FileIngest, type FileIngestOptions, removeManifest } from "./session.js";
import { tardisAdapter } from "./tardis/tardis.js";
import { binanceVisionAdapter } from "./vendor/binance-vision.js";

export const INGEST_KINDS = ["tardis", "binance-capture", "binance-vision"] as const;
export type IngestKind = (typeof INGEST_KINDS)[number];

/** The adapter of an ingest kind. */
export function adapterFor(kind: IngestKind): SourceAdapter {
  switch (kind) {
    case "tardis":
      return tardisAdapter;
    case "binance-capture":
      return binanceCaptureAdapter;
    case "binance-vision":
      return binanceVisionAdapter;
  }
}

/** What the driver is doing with one file: hashing it, pass 1, pass 2 (rows), publishing it. */
export type IngestStage = "hash" | "scan" | "write" | "commit";

/** A progress event: `file` (absolute path) enters `stage`; `index` is 0-based in processing order. */
export interface IngestProgress {
  readonly file: string;
  readonly index: number;
  readonly total: number;
  readonly stage: IngestStage;
}

/** A file of a batch that was not committed: the stage it failed at and the error (naming the file). */
export interface FailedFile {
  /** Absolute path. */
  readonly file: string;
  readonly stage: IngestStage;
  readonly error: Error;
}

/** What happened to each file of a batch. */
export interface IngestBatchResult {
  /** Manifests of the committed files, in processing order. */
  readonly committed: FileManifest[];
  /** Files that failed, in processing order (nothing of them is in the lake). */
  readonly failed: FailedFile[];
}

export interface IngestRequest extends AdapterOptions, FileIngestOptions {
  /** Lake root directory (created if missing). */
  readonly lake: string;
  /** Called after each file is committed (progress, printing). */
  readonly onFile?: (m: FileManifest) => void;
  /** Called when a file failed (it was aborted; the batch goes on). */
  readonly onFailed?: (f: FailedFile) => void;
  /** Called when a file enters a stage. */
  readonly onProgress?: (p: IngestProgress) => void;
}

/** A batch in which some files failed (the others were committed). */
export class IngestBatchError extends PointlineError {
  override readonly name: string = "IngestBatchError";
  constructor(readonly result: IngestBatchResult) {
    super(
      `${result.failed.length} of ${result.failed.length + result.committed.length} files failed ` +
        `(${result.committed.length} committed):\n${result.failed.map((f) => `  ${f.error.message}`).join("\n")}`,
    );
  }
}

/**
 * Ingests `files` of one vendor `kind` into the lake (see the module doc); re-ingesting a file with
 * the same content replaces its rows (same file_id), so the call is idempotent.
 * @returns the committed files' manifests, in processing order.
 * @throws ConfigError for an unknown kind (before anything is read). After the whole batch: the
 *   file's own error (IngestError naming file, line and reason for unreadable input) when a single
 *   file was given and it failed; IngestBatchError listing every failed file when several were given
 *   and any failed (the others are committed).
 */
export async function ingestFiles(
  kind: string,
  files: readonly string[],
  req: IngestRequest,
): Promise<FileManifest[]> {
  const result = await ingestBatch(kind, files, req);
  if (result.failed.length > 0) {
    if (files.length === 1) throw result.failed[0]!.error;
    throw new IngestBatchError(result);
  }
  return result.committed;
}

/** Whether a committed manifest is an ingest of the same content under another identity (see module doc). */
function sameContent(m: FileManifest, h: SourceHashes): boolean {
  if (m.content_sha256 !== undefined) return m.content_sha256 === h.content_sha256;
  return m.sha256 === h.sha256 || m.sha256 === h.content_sha256;
}

function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

/**
 * Ingests `files` like `ingestFiles`, but never throws for a file: each file commits or fails on its
 * own (a failed file is aborted, nothing of it is published) and the result lists both.
 * @throws ConfigError for an unknown kind; the file system error if the lake's manifests or registry
 *   cannot be read.
 */
export async function ingestBatch(
  kind: string,
  files: readonly string[],
  req: IngestRequest,
): Promise<IngestBatchResult> {
  if (!(INGEST_KINDS as readonly string[]).includes(kind)) {
    throw new ConfigError(`unknown ingest kind '${kind}': expected one of ${INGEST_KINDS.join(", ")}`);
  }
  const adapter = adapterFor(kind as IngestKind);
  const lake = resolve(req.lake);
  let registry = await SymbolRegistry.open(lake);
  const manifests = await loadAllManifests(lake);
  // Replaced manifests whose deletion a crash interrupted: hidden from readers, removed now.
  for (const h of manifests.hidden) await removeManifest(lake, h);
  let committedInLake = manifests.visible;

  const failed: FailedFile[] = [];
  const fail = (file: string, stage: IngestStage, e: unknown): void => {
    const f = { file, stage, error: asError(e) };
    failed.push(f);
    req.onFailed?.(f);
  };
  let ordered = files.map((f) => resolve(f));
  if (adapter.firstTimestampUs !== undefined) {
    const keyed = await Promise.all(
      ordered.map(async (f) => {
        try {
          return [await adapter.firstTimestampUs!(f), f] as const;
        } catch {
          return [Number.POSITIVE_INFINITY, f] as const; // unreadable: fails below, in its own stage
        }
      }),
    );
    ordered = keyed.sort((a, b) => a[0] - b[0] || a[1].localeCompare(b[1])).map((k) => k[1]);
  }
  const total = ordered.length;
  const progress = (file: string, index: number, stage: IngestStage): void =>
    req.onProgress?.({ file, index, total, stage });

  // Pass 1 over every file first: increments are inferred from the whole call, not file by file.
  const scanned: { file: string; index: number; hashes: SourceHashes; scanner: DecimalScanner }[] = [];
  const batch = new DecimalScanner();
  for (const [index, file] of ordered.entries()) {
    let stage: IngestStage = "hash";
    try {
      progress(file, index, stage);
      const hashes = await hashSource(file);
      stage = "scan";
      progress(file, index, stage);
      const scanner = new DecimalScanner();
      await adapter.scan(file, scanner, req);
      scanned.push({ file, index, hashes, scanner });
      batch.merge(scanner);
    } catch (e) {
      fail(file, stage, e);
    }
  }

  const committed: FileManifest[] = [];
  for (const { file, index, hashes, scanner } of scanned) {
    const fileId = idFromSha256(hashes.content_sha256);
    const replaces = committedInLake.filter((m) => m.file_id !== fileId && sameContent(m, hashes));
    const others = committedInLake.filter((m) => m.file_id !== fileId && !replaces.includes(m));
    const fi = new FileIngest(
      lake,
      file,
      fileId,
      hashes.sha256,
      hashes.bytes,
      adapter.format,
      registry,
      scanner,
      req,
      batch,
      { contentSha256: hashes.content_sha256, contentBytes: hashes.content_bytes, others, replaces },
    );
    let stage: IngestStage = "write";
    let m: FileManifest;
    try {
      progress(file, index, stage);
      await adapter.ingest(file, fi, req);
      stage = "commit";
      progress(file, index, stage);
      m = await fi.commit();
    } catch (e) {
      await fi.abort();
      fail(file, stage, e);
      // Registry versions this file resolved in memory are dropped: back to what is committed.
      registry = await SymbolRegistry.open(lake);
      continue;
    }
    committedInLake = [...committedInLake.filter((x) => x.file_id !== m.file_id && !replaces.includes(x)), m];
    committed.push(m);
    req.onFile?.(m);
  }
  return { committed, failed };
}
