/**
 * The contract every vendor adapter implements. An adapter is stateless between files except for
 * what it persists in the lake (e.g. order-book continuation state).
 *
 * - `scan` (pass 1) reads the file and reports, per symbol, the time range and the decimals of prices
 *   and sizes to `scanner` (for increment inference). It must not write anything.
 * - `ingest` (pass 2) reads the file again and, for every line, does exactly one of: append a row via
 *   `fi.sink(...).row(...)`, `fi.reject(...)`/`fi.rejectLine(...)`, or `fi.noRow(reason)`. It sets
 *   `fi.report.lines_read` to the number of lines read. It calls `fi.flush()` periodically.
 */
import type { DecimalScanner, FileIngest } from "./session.js";

export interface AdapterOptions {
  /** Exchange id for files that do not name it (Tardis ids: binance-futures, binance-delivery, binance, …). */
  readonly exchange?: string;
  /** Symbol for files that do not name it. */
  readonly symbol?: string;
  /** Table for formats whose header is ambiguous (Tardis trades vs liquidations). */
  readonly table?: string;
}

export interface SourceAdapter {
  /** Format name recorded in manifests ("tardis", "binance-capture", "binance-vision"). */
  readonly format: string;
  scan(path: string, scanner: DecimalScanner, opts: AdapterOptions): Promise<void>;
  ingest(path: string, fi: FileIngest, opts: AdapterOptions): Promise<void>;
  /** Optional: sort key so that files of one stream are ingested in time order (book continuation). */
  firstTimestampUs?(path: string): Promise<number>;
}
