/**
 * Ingest driver: `ingestFiles(kind, files, { lake })` runs both passes of the adapter on each file and
 * commits it to the lake. Files are processed one at a time (bounded memory), in first-timestamp order
 * when the adapter can tell it, so that a capture split across files continues its order book.
 */
import { resolve } from "node:path";
import { ConfigError } from "../core/errors.js";
import { sha256File } from "../lake/hash.js";
import { idFromSha256 } from "../lake/layout.js";
import type { FileManifest } from "../lake/manifest.js";
import { SymbolRegistry } from "../lake/registry.js";
import type { AdapterOptions, SourceAdapter } from "./adapter.js";
import { binanceCaptureAdapter } from "./binance/capture.js";
import { DecimalScanner, FileIngest, type FileIngestOptions } from "./session.js";
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

export interface IngestRequest extends AdapterOptions, FileIngestOptions {
  /** Lake root directory (created if missing). */
  readonly lake: string;
  /** Called after each file is committed (progress, printing). */
  readonly onFile?: (m: FileManifest) => void;
}

/**
 * Ingests `files` of one vendor `kind` into the lake. Re-ingesting a file with the same content
 * replaces its rows (same file_id), so the call is idempotent.
 * @throws ConfigError for an unknown kind; IngestError for unreadable input (file, line, reason).
 */
export async function ingestFiles(
  kind: string,
  files: readonly string[],
  req: IngestRequest,
): Promise<FileManifest[]> {
  if (!(INGEST_KINDS as readonly string[]).includes(kind)) {
    throw new ConfigError(`unknown ingest kind '${kind}': expected one of ${INGEST_KINDS.join(", ")}`);
  }
  const adapter = adapterFor(kind as IngestKind);
  const lake = resolve(req.lake);
  const registry = await SymbolRegistry.open(lake);
  let ordered = files.map((f) => resolve(f));
  if (adapter.firstTimestampUs !== undefined) {
    const keyed = await Promise.all(
      ordered.map(async (f) => [await adapter.firstTimestampUs!(f), f] as const),
    );
    ordered = keyed.sort((a, b) => a[0] - b[0] || a[1].localeCompare(b[1])).map((k) => k[1]);
  }
  // Pass 1 over every file first: increments are inferred from the whole call, not file by file.
  const scans = new Map<string, DecimalScanner>();
  const batch = new DecimalScanner();
  for (const file of ordered) {
    const scanner = new DecimalScanner();
    await adapter.scan(file, scanner, req);
    scans.set(file, scanner);
    batch.merge(scanner);
  }
  const out: FileManifest[] = [];
  for (const file of ordered) {
    const { sha256, bytes } = await sha256File(file);
    const scanner = scans.get(file)!;
    const fi = new FileIngest(
      lake,
      file,
      idFromSha256(sha256),
      sha256,
      bytes,
      adapter.format,
      registry,
      scanner,
      req,
      batch,
    );
    try {
      await adapter.ingest(file, fi, req);
    } catch (e) {
      await fi.abort();
      throw e;
    }
    const m = await fi.commit();
    req.onFile?.(m);
    out.push(m);
  }
  return out;
}
