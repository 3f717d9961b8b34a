/**
 * `StoreRowWriter`: writes a live runner's rows into an online store (issue 11, item 4: "the live
 * runner writes every emitted row to the store").
 *
 * ```ts
 * const writer = StoreRowWriter.create({ store, set, entity, columns: runner.columns });
 * runner.onRow((row) => writer.write(row)); // synchronous: copies the values into the buffer
 * await replayLake(runner, { lake });
 * const stats = await writer.close();        // flushes; stats.dropped > 0 says rows were lost (counted)
 * ```
 *
 * `write(row)` copies the row's values into a preallocated ring buffer (no allocation, no IO) and
 * schedules a flush; the flush takes up to `batchRows` rows at a time and writes them with one
 * `writeRows` call (one pipelined round trip to Redis), one batch in flight at a time, in row order.
 * Rows written under the same key again replace the stored row, so a batch retried after an unknown
 * outcome is stored once.
 *
 * Store down (Redis stopped, network cut): the batch in flight is retried with exponential backoff
 * (`retryBaseMs` doubling up to `retryMaxMs`), at most `maxRetries` times per round; after that the
 * writer pauses until the next `write`, `flush` or `close` starts another round. Meanwhile the runner
 * keeps computing and rows wait in the buffer. When `bufferRows` rows wait, each new row pushes out the
 * oldest waiting one (the freshest rows are kept for serving): every such row is counted in `dropped`,
 * and `onDrop` is called at the first drop of an outage. Nothing is lost silently:
 *
 *   accepted = stored + dropped + pending + inFlight   (rows rejected as invalid are counted apart)
 *
 * At most `bufferRows` rows wait plus one batch (`batchRows`) in flight.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { ConfigError } from "../core/errors.js";
import type { FrameColumn } from "../features/frame.js";
import type { LiveRow } from "../live/runner.js";
import { checkRow, type KeyLayout, keyLayout } from "./codec.js";
import { type Entity, type FeatureSetMeta, type OnlineStore, StoreError } from "./types.js";

/** Options of `StoreRowWriter.create`. */
export interface StoreRowWriterOptions {
  readonly store: OnlineStore;
  /** The feature set (registered) the rows belong to. */
  readonly set: FeatureSetMeta;
  readonly entity: Entity;
  /** The rows' columns (e.g. `runner.columns`): checked to equal the set's, name by name. */
  readonly columns?: readonly FrameColumn[];
  /** Rows that may wait while the store is unreachable (default 100,000). */
  readonly bufferRows?: number;
  /** Rows per write call (default 512). */
  readonly batchRows?: number;
  /** Retries of a failed batch per round (default 10). */
  readonly maxRetries?: number;
  /** First retry delay, ms (default 25; doubles per retry). */
  readonly retryBaseMs?: number;
  /** Largest retry delay, ms (default 1,000). */
  readonly retryMaxMs?: number;
  /** Called with each failed write attempt's error (and with rows rejected as invalid). */
  readonly onError?: (error: Error, stats: WriterStats) => void;
  /** Called at the first dropped row of an outage (buffer full). */
  readonly onDrop?: (stats: WriterStats) => void;
}

/** The writer's counters (rows unless said otherwise). */
export interface WriterStats {
  /** Rows taken by `write` into the buffer. */
  accepted: number;
  /** Rows the store acknowledged. */
  stored: number;
  /** Rows pushed out of a full buffer (never stored). */
  dropped: number;
  /** Rows refused by `write` as invalid (wrong length, non-integer key or Int64 value). */
  rejected: number;
  /** Rows waiting in the buffer. */
  pending: number;
  /** Rows of the batch being written. */
  inFlight: number;
  /** Write calls that failed. */
  failedAttempts: number;
  /** Successful write calls. */
  batches: number;
  /** The last error's message (null if none). */
  lastError: string | null;
}

/** The writer (see the module doc). */
export class StoreRowWriter {
  private readonly ring: Float64Array;
  private readonly width: number;
  private readonly capacity: number;
  private head = 0;
  private count = 0;
  private inflight: Float64Array[] | null = null;
  private pumping: Promise<void> | null = null;
  private scheduled = false;
  private closed = false;
  private dropping = false;
  private readonly layout: KeyLayout;
  private readonly s: WriterStats = {
    accepted: 0,
    stored: 0,
    dropped: 0,
    rejected: 0,
    pending: 0,
    inFlight: 0,
    failedAttempts: 0,
    batches: 0,
    lastError: null,
  };

  private constructor(private readonly o: StoreRowWriterOptions) {
    this.width = o.set.columns.length;
    this.capacity = o.bufferRows ?? 100_000;
    this.ring = new Float64Array(this.capacity * this.width);
    this.layout = keyLayout(o.set.columns);
  }

  /**
   * A writer of rows of `set` for `entity` into `store` (the store is opened, and closed, by the caller:
   * opening Redis fails with a StoreError naming the URL when it is down).
   * @throws ConfigError when `columns` differ from the set's or a size option is not a positive integer
   */
  static create(opts: StoreRowWriterOptions): StoreRowWriter {
    for (const [k, v] of [
      ["bufferRows", opts.bufferRows],
      ["batchRows", opts.batchRows],
    ] as const)
      if (v !== undefined && !(Number.isSafeInteger(v) && v > 0))
        throw new ConfigError(`StoreRowWriter: ${k} must be a positive integer, got ${v}`);
    if (opts.columns) {
      const want = opts.set.columns.map((c) => c.name);
      const got = opts.columns.map((c) => c.name);
      const k = want.findIndex((n, i) => n !== got[i]);
      if (got.length !== want.length || k >= 0)
        throw new ConfigError(
          `the rows' columns do not match feature set ${opts.set.name} v${opts.set.version}: ${
            k >= 0
              ? `column ${k} is ${got[k] ?? "(missing)"}, the set has ${want[k]}`
              : `${got.length} columns, the set has ${want.length}`
          }`,
        );
    }
    return new StoreRowWriter(opts);
  }

  /** The counters now (a copy). */
  stats(): WriterStats {
    return { ...this.s, pending: this.count, inFlight: this.inflight?.length ?? 0 };
  }

  /**
   * Takes a copy of a row (a `LiveRow` or its values) into the buffer and schedules a flush. Never
   * throws for a store problem; an invalid row is counted in `rejected` and reported to `onError`.
   * @throws ConfigError after `close`
   */
  write(row: LiveRow | Float64Array): void {
    if (this.closed) throw new ConfigError("StoreRowWriter.write after close");
    const v = row instanceof Float64Array ? row : row.values;
    try {
      checkRow(this.o.set, this.layout, v, this.s.accepted + this.s.rejected);
    } catch (e) {
      this.s.rejected++;
      this.s.lastError = e instanceof Error ? e.message : String(e);
      this.o.onError?.(e instanceof Error ? e : new Error(String(e)), this.stats());
      return;
    }
    if (this.count === this.capacity) {
      // full: the oldest waiting row gives way
      this.head = (this.head + 1) % this.capacity;
      this.count--;
      this.s.dropped++;
      if (!this.dropping) {
        this.dropping = true;
        this.o.onDrop?.(this.stats());
      }
    }
    this.ring.set(v, ((this.head + this.count) % this.capacity) * this.width);
    this.count++;
    this.s.accepted++;
    if (this.pumping === null && !this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.kick();
      });
    }
  }

  private kick(): Promise<void> {
    if (this.pumping === null) {
      this.pumping = this.pump().finally(() => {
        this.pumping = null;
      });
    }
    return this.pumping;
  }

  /** Takes up to `batchRows` waiting rows out of the ring as one contiguous copy (views per row). */
  private take(): Float64Array[] {
    const n = Math.min(this.count, this.o.batchRows ?? 512);
    const w = this.width;
    const block = new Float64Array(n * w);
    const first = Math.min(n, this.capacity - this.head);
    block.set(this.ring.subarray(this.head * w, (this.head + first) * w), 0);
    if (first < n) block.set(this.ring.subarray(0, (n - first) * w), first * w);
    this.head = (this.head + n) % this.capacity;
    this.count -= n;
    const rows: Float64Array[] = new Array(n);
    for (let i = 0; i < n; i++) rows[i] = block.subarray(i * w, (i + 1) * w);
    return rows;
  }

  /** Writes batches until the buffer is empty, or until a batch failed `maxRetries` times in a row. */
  private async pump(): Promise<void> {
    const maxRetries = this.o.maxRetries ?? 10;
    const base = this.o.retryBaseMs ?? 25;
    const cap = this.o.retryMaxMs ?? 1000;
    for (;;) {
      if (this.inflight === null) {
        if (this.count === 0) return;
        this.inflight = this.take();
      }
      const batch = this.inflight;
      for (let attempt = 0; ; attempt++) {
        try {
          await this.o.store.writeRows(this.o.set, this.o.entity, batch);
          this.s.stored += batch.length;
          this.s.batches++;
          this.inflight = null;
          this.dropping = false;
          break;
        } catch (e) {
          const err = e instanceof Error ? e : new Error(String(e));
          this.s.failedAttempts++;
          this.s.lastError = err.message;
          this.o.onError?.(err, this.stats());
          if (e instanceof ConfigError) {
            // rows the store refuses cannot succeed on retry (write() checks them first: not expected)
            this.s.rejected += batch.length;
            this.inflight = null;
            break;
          }
          if (attempt >= maxRetries) return; // paused: the next write/flush/close starts another round
          await sleep(Math.min(cap, base * 2 ** attempt));
        }
      }
    }
  }

  /**
   * Writes every buffered row now (rows written meanwhile too).
   * @throws StoreError when a batch still fails after `maxRetries` retries (the rows stay buffered)
   */
  async flush(): Promise<void> {
    while (this.count > 0 || this.inflight !== null) {
      await this.kick();
      if (this.inflight !== null)
        throw new StoreError(
          `online store ${this.o.store.location} unreachable after ${(this.o.maxRetries ?? 10) + 1} attempts: ${this.s.lastError} (${this.count + this.inflight.length} rows kept, ${this.s.dropped} dropped)`,
        );
    }
  }

  /**
   * Flushes and closes the writer (not the store). Returns the final counters.
   * @throws StoreError when rows could not be written (the message gives the counts)
   */
  async close(): Promise<WriterStats> {
    this.closed = true;
    await this.flush();
    return this.stats();
  }
}
