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

/** What recognising a file of one format learned: the format's `kind` and where its rows go. */
export interface RecognisedFile {
  /** The format's discriminant, e.g. "kline" (unique among the formats of one adapter). */
  readonly kind: string;
  /** Exchange id (Tardis naming) the rows are stored under. */
  readonly exchange: string;
  /** Exchange symbol the rows are stored under. */
  readonly symbol: string;
}

/**
 * One file format of a multi-format adapter (one module per format, as tardis-node has one mapper per
 * format). The adapter (e.g. `binance-vision`, ingest/vendor/binance-vision.ts) keeps a list of formats,
 * asks each to recognise a file, and hands the file to the one that did. Adding a format = adding a
 * module that exports a `FileFormat` and registering it in that list.
 *
 * `scan` and `ingest` have the contract of `SourceAdapter.scan` / `SourceAdapter.ingest`, given what
 * `fromName` / `fromFirstLine` recognised.
 */
export interface FileFormat<F extends RecognisedFile = RecognisedFile> {
  /** The `kind` of every file this format recognises. */
  readonly kind: F["kind"];
  /** How to name such a file, one phrase for the adapter's "expected one of" error message. */
  readonly accepted: string;
  /**
   * Recognises a file from its name and path alone (reads nothing); `opts.exchange` / `opts.symbol`
   * override what the name says.
   * @returns null if the name is not of this format.
   * @throws IngestError (line 1, field `format`) if the name is of this format but unusable.
   */
  fromName(path: string, opts: AdapterOptions): F | null;
  /**
   * Recognises a file whose name fits no format from its first data line (content sniffing). Only
   * called when the caller named the symbol.
   * @returns null if the line is not of this format.
   */
  fromFirstLine?(path: string, line: string, opts: AdapterOptions & { readonly symbol: string }): F | null;
  /** True for a header line of this format (skipped when looking for the first data line). */
  isHeader?(line: string): boolean;
  scan(path: string, file: F, scanner: DecimalScanner): Promise<void>;
  ingest(path: string, file: F, fi: FileIngest): Promise<void>;
}
