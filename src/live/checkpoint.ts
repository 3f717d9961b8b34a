/**
 * Checkpoint files of a live run (issue 11, item 3): the runner's state, the feed's position and the
 * output's position, written atomically every `checkpointEveryBars` rows or `checkpointEveryMs` ms, so a
 * process killed at any instant (SIGKILL included) restarts from the last checkpoint and its output ends
 * up identical to an uninterrupted run's.
 *
 * **What a checkpoint holds** (`LiveCheckpoint`, JSON, `<dir>/checkpoint.json`): a format name and
 * version; the hash of the run's config (`runConfigHash`: feed, instrument, range, spine, operators —
 * what decides the rows; not the speed, the checkpoint or recording paths); the runner's snapshot
 * (`LiveRunner.snapshot()`: the Driver's operators, spine and merge position — every event before the
 * watermark processed); the feed position (lake replay: the merge position `{tsUs, atTs}` the replay
 * resumes from; WebSocket: the last message's ts_local_us, line, trade id and book update id, for the
 * record — a live feed cannot be replayed, so a restarted WebSocket run continues with the events that
 * arrive after the restart); the rows emitted and the output's durable position (`WriterPosition`).
 *
 * **Atomic write.** The JSON goes to a temp file in the same directory, which is fsync'd, renamed over
 * `checkpoint.json`, and the directory fsync'd: a reader sees the previous checkpoint or the new one,
 * never a torn one.
 *
 * **Taking one.** Between two events (the feed calls `Checkpointer.maybe()` after moving the
 * watermark): the runner's snapshot and the rows emitted so far are read synchronously, then the output
 * is flushed (`CheckpointWriter.flushPosition`: the position of exactly those rows, durable), then the
 * file is written. The output is always flushed before the checkpoint that points into it.
 *
 * **The output contract: each row exactly once in the file.** Rows emitted before a checkpoint are in
 * the output up to the checkpoint's position and are not emitted again. Rows emitted after the last
 * checkpoint and before a kill may be in the output (flushed periodically) — the restart cuts the output
 * back to the checkpoint's position (CSV: truncated to its bytes; Parquet: its row spool truncated to its
 * rows) and the restored runner emits them again, once. So the file writers are exactly-once; a writer
 * that cannot be cut back (an online store) sees those rows at least once and must be idempotent per
 * row (keyed by `available_at_us`, as the store's writes are).
 *
 * Restarting with a checkpoint of another config is refused (`ConfigError` naming both hashes): the state
 * would not belong to the run. A checkpoint of a finished run makes a restart a no-op.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { canonicalJsonSha256 } from "../core/canonical-json.js";
import { ConfigError } from "../core/errors.js";
import type { DriverSnapshot } from "../engine/driver.js";
import type { JsonValue } from "../engine/operator.js";
import type { DecoderBook } from "../ingest/binance/decoder.js";
import type { CheckpointWriter, WriterPosition } from "./row-writer.js";
import type { LiveRunner } from "./runner.js";

/** Format name and version of checkpoint files. */
export const CHECKPOINT_FORMAT = "pointline-live-checkpoint";
export const CHECKPOINT_VERSION = 1;

/** The feed position of a checkpoint. */
export type FeedPosition =
  | {
      readonly kind: "replay-lake";
      /** The merge position: resume the replay at tsUs (the Driver skips atTs[k] events at tsUs). */
      readonly tsUs: number;
      readonly atTs: readonly number[];
    }
  | {
      readonly kind: "binance-ws";
      /** ts_local_us of the last message, µs. */
      readonly lastTsUs: number;
      /** Its line in the recording (messages received). */
      readonly line: number;
      readonly lastTradeId: Readonly<Record<string, string>>;
      readonly lastUpdateId: Readonly<Record<string, number>>;
      /** The client's synced order books (a restarted client continues them: `BinanceWsOptions.resume`). */
      readonly books: readonly DecoderBook[];
    };

/** One checkpoint file (see the module doc). */
export interface LiveCheckpoint {
  readonly format: typeof CHECKPOINT_FORMAT;
  readonly version: typeof CHECKPOINT_VERSION;
  readonly configHash: string;
  /** Wall time of the write, ISO-8601. */
  readonly writtenAt: string;
  /** True when the run finished (a restart has nothing to do). */
  readonly finished: boolean;
  /** Rows emitted up to the snapshot. */
  readonly rows: number;
  /** The output's durable position holding those rows (null without a file output). */
  readonly output: (WriterPosition & { readonly path: string }) | null;
  readonly feed: FeedPosition;
  readonly driver: DriverSnapshot;
}

/** sha256 of the canonical JSON of a run's config (what decides its rows). */
export function runConfigHash(config: JsonValue): string {
  return canonicalJsonSha256(config);
}

/** The checkpoint file of a directory. */
export function checkpointPath(dir: string): string {
  return join(dir, "checkpoint.json");
}

/** Writes `cp` to `<dir>/checkpoint.json` atomically (temp + fsync + rename + directory fsync). */
export async function writeCheckpoint(dir: string, cp: LiveCheckpoint): Promise<void> {
  await mkdir(dir, { recursive: true });
  const final = checkpointPath(dir);
  const tmp = `${final}.tmp-${process.pid}`;
  const fd = openSync(tmp, "w");
  try {
    writeSync(fd, JSON.stringify(cp));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, final);
  const d = openSync(dir, "r");
  try {
    fsyncSync(d);
  } finally {
    closeSync(d);
  }
}

/**
 * The checkpoint in `dir`, or null when there is none.
 * @throws ConfigError naming the file: unreadable JSON, another format or version, or a checkpoint of
 *   another config (`configHash` differs)
 */
export function readCheckpoint(dir: string, configHash: string): LiveCheckpoint | null {
  const path = checkpointPath(dir);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw new ConfigError(`checkpoint ${path}: cannot read: ${(e as Error).message}`);
  }
  let cp: Partial<LiveCheckpoint>;
  try {
    cp = JSON.parse(text) as Partial<LiveCheckpoint>;
  } catch (e) {
    throw new ConfigError(`checkpoint ${path}: not JSON: ${(e as Error).message}`);
  }
  if (cp.format !== CHECKPOINT_FORMAT || cp.version !== CHECKPOINT_VERSION)
    throw new ConfigError(
      `checkpoint ${path}: format ${String(cp.format)} version ${String(cp.version)}, expected ${CHECKPOINT_FORMAT} version ${CHECKPOINT_VERSION}`,
    );
  if (cp.configHash !== configHash)
    throw new ConfigError(
      `checkpoint ${path} belongs to a run of another config (config hash ${String(cp.configHash).slice(0, 16)}… ≠ this run's ${configHash.slice(0, 16)}…): give another --checkpoint directory, or delete it to start afresh`,
    );
  return cp as LiveCheckpoint;
}

/** The feed position of a lake replay: the runner's merge position (the replay resumes there). */
export function replayPosition(driver: DriverSnapshot): FeedPosition {
  return { kind: "replay-lake", tsUs: driver.position.tsUs, atTs: driver.position.atTs };
}

/** Options of a `Checkpointer`. */
export interface CheckpointerOptions {
  readonly dir: string;
  readonly configHash: string;
  readonly runner: LiveRunner;
  /** The file output whose position checkpoints record (null: none). */
  readonly writer: CheckpointWriter | null;
  /** The feed's position now, given the runner's snapshot (called between two events). */
  readonly feedPosition: (driver: DriverSnapshot) => FeedPosition;
  /** A checkpoint after this many rows since the last one (default 100; 0 = not by rows). */
  readonly everyBars?: number;
  /** A checkpoint after this much wall time since the last one, ms (default 5,000; 0 = not by time). */
  readonly everyMs?: number;
  /** Called after each checkpoint is written. */
  readonly onWritten?: (cp: LiveCheckpoint) => void;
}

/** Takes checkpoints of a run (see the module doc). */
export class Checkpointer {
  /** Checkpoints written. */
  written = 0;
  private lastRows: number;
  private lastMs = performance.now();
  private busy: Promise<void> | null = null;

  constructor(private readonly o: CheckpointerOptions) {
    this.lastRows = o.runner.counters.rows;
  }

  /**
   * Takes a checkpoint when one is due (rows or time since the last); returns the write's promise, or
   * null when none is due or one is being written. Call between two events.
   */
  maybe(): Promise<void> | null {
    if (this.busy !== null) return null;
    const bars = this.o.everyBars ?? 100;
    const ms = this.o.everyMs ?? 5000;
    const rows = this.o.runner.counters.rows;
    const due =
      (bars > 0 && rows - this.lastRows >= bars) ||
      (ms > 0 && performance.now() - this.lastMs >= ms && rows > this.lastRows);
    return due ? this.now() : null;
  }

  /**
   * Takes a checkpoint now (`finished`: the run is complete). Call between two events: the snapshot,
   * the rows emitted and the output flush are taken synchronously, the file is written after (in order
   * with earlier checkpoints).
   */
  now(finished = false): Promise<void> {
    const driver = this.o.runner.snapshot();
    const rows = this.o.runner.counters.rows;
    const feed = this.o.feedPosition(driver);
    this.lastRows = rows;
    this.lastMs = performance.now();
    const w = this.o.writer;
    const position = w ? w.flushPosition() : null;
    const prev = this.busy;
    const p = (async () => {
      const pos = position ? await position : null;
      if (pos !== null && pos.rows !== rows)
        throw new Error(`checkpoint: the output holds ${pos.rows} rows, the runner emitted ${rows}`);
      if (prev) await prev.catch(() => {});
      const cp: LiveCheckpoint = {
        format: CHECKPOINT_FORMAT,
        version: CHECKPOINT_VERSION,
        configHash: this.o.configHash,
        writtenAt: new Date().toISOString(),
        finished,
        rows,
        output: w && pos ? { path: w.path, ...pos } : null,
        feed,
        driver,
      };
      await writeCheckpoint(this.o.dir, cp);
      this.written++;
      this.o.onWritten?.(cp);
    })();
    this.busy = p;
    p.then(
      () => {
        if (this.busy === p) this.busy = null;
      },
      () => {
        if (this.busy === p) this.busy = null;
      },
    );
    return p;
  }
}
