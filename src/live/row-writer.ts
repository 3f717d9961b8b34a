/**
 * Where a live run's rows go. `RowWriter` is the one interface every output implements — the CSV and
 * Parquet files here, the online store later (a second writer is plugged in beside the file: the runner
 * hands each row to every writer). Writers that can be cut back to a checkpoint also implement
 * `CheckpointWriter` (live/checkpoint.ts states the contract).
 *
 * The files hold exactly what `features build` writes for the same run (same columns, dtypes and values:
 * the rows go through `typedColumnsToFrame`, the batch frame's conversion, and Polars' CSV/Parquet
 * writers), so a live file and a batch file of the same input compare byte for byte (CSV) or frame for
 * frame (Parquet):
 * - **CSV**: the header when the file is created, then every `flush` appends the rows buffered since the
 *   last one (fsync'd before it resolves). Restarting at a checkpoint truncates the file to the
 *   checkpoint's byte length.
 * - **Parquet** cannot be appended to, so rows are spooled: every `flush` appends them as raw float64
 *   rows (8 bytes × columns per row, fsync'd) to `<out>.spool`; `close` converts the spool to the Parquet
 *   file (temp + rename) and deletes it. Restarting at a checkpoint truncates the spool to the
 *   checkpoint's rows.
 */
import {
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  renameSync,
  rmSync,
  statSync,
  truncateSync,
  writeSync,
} from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import { dirname, extname, resolve } from "node:path";
import { ConfigError } from "../core/errors.js";
import type { FrameColumn } from "../features/frame.js";
import { typedColumnsToFrame } from "../features/frame.js";
import type { LiveRow } from "./runner.js";

/** An output of live rows. */
export interface RowWriter {
  /** Takes one row (copy what you keep: the row object is reused by the runner). Never blocks. */
  write(row: LiveRow): void;
  /** Makes every row written so far durable. */
  flush(): Promise<void>;
  /** Flushes and finishes the output (e.g. writes the Parquet file). */
  close(): Promise<void>;
}

/** A durable output position: rows, and the bytes of the file holding them. */
export interface WriterPosition {
  readonly rows: number;
  readonly bytes: number;
}

/** A writer whose output can be cut back to a checkpoint (see live/checkpoint.ts). */
export interface CheckpointWriter extends RowWriter {
  /** Rows written so far (durable or not). */
  readonly rows: number;
  /** Flushes, and returns the durable position of every row written before the call. */
  flushPosition(): Promise<WriterPosition>;
  /** The output file, for checkpoints and messages. */
  readonly path: string;
}

/** Rows buffered between flushes, row-major. */
class RowBuffer {
  private data: Float64Array;
  length = 0;
  constructor(readonly width: number) {
    this.data = new Float64Array(width * 256);
  }
  push(values: Float64Array): void {
    const o = this.length * this.width;
    if (o + this.width > this.data.length) {
      const next = new Float64Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data.set(values.subarray(0, this.width), o);
    this.length++;
  }
  /** The buffered rows (a copy), and the buffer emptied. */
  take(): Float64Array {
    const out = this.data.slice(0, this.length * this.width);
    this.length = 0;
    return out;
  }
}

/** Row-major values → one Float64Array per column. */
function toColumns(rowMajor: Float64Array, width: number): Float64Array[] {
  const n = rowMajor.length / width;
  const cols = Array.from({ length: width }, () => new Float64Array(n));
  for (let i = 0; i < n; i++) for (let k = 0; k < width; k++) cols[k]![i] = rowMajor[i * width + k]!;
  return cols;
}

/** Output format of a path (`.csv` or `.parquet`). @throws ConfigError for another extension */
export function outputFormat(path: string): "csv" | "parquet" {
  const ext = extname(path).toLowerCase();
  if (ext === ".csv") return "csv";
  if (ext === ".parquet") return "parquet";
  throw new ConfigError(`--out ${path}: extension must be .csv or .parquet`);
}

/**
 * Opens the CSV or Parquet writer of `path` (by extension) for rows of `columns`. With `resumeAt` (a
 * checkpoint's position) the existing output is cut back to it; without, it is replaced.
 * @throws ConfigError for another extension, or an output shorter than the checkpoint says
 */
export async function openFileWriter(
  path: string,
  columns: readonly FrameColumn[],
  resumeAt?: WriterPosition,
): Promise<CheckpointWriter> {
  const abs = resolve(path);
  await mkdir(dirname(abs), { recursive: true });
  return outputFormat(abs) === "csv"
    ? new CsvRowWriter(abs, columns, resumeAt)
    : new ParquetRowWriter(abs, columns, resumeAt);
}

/** Cuts `file` back to `bytes`. @throws ConfigError when it is missing or shorter */
function cutBack(file: string, bytes: number, what: string): void {
  const size = existsSync(file) ? statSync(file).size : -1;
  if (size < bytes)
    throw new ConfigError(
      `${what} ${file} has ${size < 0 ? "no file" : `${size} bytes`}, fewer than the ${bytes} bytes the checkpoint recorded: it was changed or removed since; start afresh (delete the checkpoint) or restore the file`,
    );
  truncateSync(file, bytes);
}

/** The CSV writer (see the module doc). */
export class CsvRowWriter implements CheckpointWriter {
  private readonly buf: RowBuffer;
  private readonly fd: number;
  private bytes: number;
  private written: number;
  private durable: number;

  constructor(
    readonly path: string,
    private readonly columns: readonly FrameColumn[],
    resumeAt?: WriterPosition,
  ) {
    this.buf = new RowBuffer(columns.length);
    if (resumeAt) {
      cutBack(path, resumeAt.bytes, "CSV output");
      this.fd = openSync(path, "r+");
      this.bytes = resumeAt.bytes;
      this.written = resumeAt.rows;
    } else {
      this.fd = openSync(path, "w");
      const header = typedColumnsToFrame(
        columns,
        columns.map(() => new Float64Array(0)),
      )
        .writeCSV({ includeHeader: true })
        .toString();
      this.bytes = writeSync(this.fd, header, 0);
      fsyncSync(this.fd);
      this.written = 0;
    }
    this.durable = this.written;
  }

  get rows(): number {
    return this.written;
  }

  write(row: LiveRow): void {
    this.buf.push(row.values);
    this.written++;
  }

  async flush(): Promise<void> {
    await this.flushPosition();
  }

  async flushPosition(): Promise<WriterPosition> {
    const n = this.buf.length;
    if (n > 0) {
      const cols = toColumns(this.buf.take(), this.columns.length);
      const text = typedColumnsToFrame(this.columns, cols).writeCSV({ includeHeader: false }).toString();
      const b = Buffer.from(text, "utf8");
      let o = 0;
      while (o < b.length) o += writeSync(this.fd, b, o, b.length - o, this.bytes + o);
      this.bytes += b.length;
      fsyncSync(this.fd);
      this.durable += n;
    }
    return { rows: this.durable, bytes: this.bytes };
  }

  async close(): Promise<void> {
    await this.flush();
    closeSync(this.fd);
  }
}

/** The Parquet writer: a float64 row spool converted at close (see the module doc). */
export class ParquetRowWriter implements CheckpointWriter {
  readonly spool: string;
  /** Keep the spool at `close` (an interrupted run that will resume from its checkpoint). */
  keepSpool = false;
  private readonly buf: RowBuffer;
  private readonly fd: number;
  private written: number;
  private durable: number;

  constructor(
    readonly path: string,
    private readonly columns: readonly FrameColumn[],
    resumeAt?: WriterPosition,
  ) {
    this.spool = `${path}.spool`;
    this.buf = new RowBuffer(columns.length);
    if (resumeAt) {
      cutBack(this.spool, resumeAt.bytes, "Parquet row spool");
      this.fd = openSync(this.spool, "r+");
      this.written = resumeAt.rows;
    } else {
      this.fd = openSync(this.spool, "w");
      this.written = 0;
    }
    this.durable = this.written;
  }

  get rows(): number {
    return this.written;
  }

  write(row: LiveRow): void {
    this.buf.push(row.values);
    this.written++;
  }

  async flush(): Promise<void> {
    await this.flushPosition();
  }

  async flushPosition(): Promise<WriterPosition> {
    const n = this.buf.length;
    const rowBytes = 8 * this.columns.length;
    if (n > 0) {
      const data = this.buf.take();
      const b = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
      let o = 0;
      while (o < b.length) o += writeSync(this.fd, b, o, b.length - o, this.durable * rowBytes + o);
      fsyncSync(this.fd);
      this.durable += n;
    }
    return { rows: this.durable, bytes: this.durable * rowBytes };
  }

  async close(): Promise<void> {
    await this.flush();
    closeSync(this.fd);
    const raw = await readFile(this.spool);
    const data = new Float64Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
    const frame = typedColumnsToFrame(this.columns, toColumns(data, this.columns.length));
    const tmp = `${this.path}.tmp-${process.pid}`;
    frame.writeParquet(tmp);
    renameSync(tmp, this.path);
    if (!this.keepSpool) rmSync(this.spool, { force: true });
  }
}
