/**
 * The lake replay feed (`--replay-lake`): plays stored events into a `LiveRunner` one at a time, as a
 * live feed would deliver them — for paper trading, demos and the batch/live parity tests.
 *
 * Events are read with the batch reader (`LakeSource`: the same partitions, chunks, scale conversion and
 * typed columns as `buildFeatureFrame`) and put in a playback order per chunk with the one definition of
 * the total order (`totalOrderPermutation`, core/order.ts):
 * - `"total"` (default): (ts_local_us, table rank, file_id, file_line_number), the order the Driver
 *   merges in;
 * - `"arrival"`: (ts_local_us, file_id, file_line_number) — the order a recorder wrote the lines in, where
 *   a trade may arrive before a quote of the same microsecond. The runner must (and does) produce the
 *   same rows: its watermark, not the arrival order, decides when an event is processed.
 *
 * Watermark: after each event the feed moves the runner's watermark to the next event's ts_local_us (at
 * a chunk's end, to the chunk's end): every event before it has been pushed. Paced (`speed`), the
 * watermark also follows the simulated clock t0 + (wall time elapsed) × speed (t0: the first event's
 * time, when it is played), from a timer every
 * `tickMs` while the feed waits for the next event's time, so a clock bar is emitted when the simulated
 * clock reaches its end even when no event follows; it never passes the next event's time.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { ConfigError } from "../core/errors.js";
import { totalOrderPermutation } from "../core/order.js";
import { US_PER_HOUR, US_PER_MS } from "../core/time.js";
import { LakeSource, type LakeStream } from "../engine/lake-source.js";
import { roleTable } from "../engine/operator.js";
import { Lake, type LakeRef } from "../lake/lake.js";
import type { TypedRows } from "../query/query.js";
import { TABLES } from "../schema/tables.js";
import { type LiveRunner, OPEN_END_US } from "./runner.js";

/** Playback order of a replay feed (see the module doc). */
export type PlaybackOrder = "total" | "arrival";

/** One chunk of stored events in playback order: event j is row `row[j]` of `rows[stream[j]]`. */
export interface PlaybackChunk {
  /** Per stream, its rows of the chunk (typed engine columns, as a lake replay reads them). */
  readonly rows: readonly TypedRows[];
  readonly length: number;
  readonly stream: Uint16Array;
  readonly row: Uint32Array;
  /** ts_local_us of event j, µs. */
  readonly ts: Float64Array;
  /** The chunk's end, µs: every stored event before it is in this chunk or an earlier one. */
  readonly toUs: number;
}

/** What `playbackChunks` reads. */
export interface PlaybackConfig {
  readonly lake: LakeRef;
  readonly streams: readonly LakeStream[];
  /** Range [fromUs, endUs) of ts_local_us, µs. */
  readonly fromUs: number;
  readonly endUs: number;
  readonly order?: PlaybackOrder;
  /** Events read at a time, ms of data (default 1 h; chunks end on multiples of it). */
  readonly chunkMs?: number;
  /** Read the next chunk on a worker thread (default false). */
  readonly prefetch?: boolean;
}

/**
 * The stored events of `streams` in [fromUs, endUs), chunk by chunk, each in playback order (see the
 * module doc). Allocates per chunk (the order), never per event.
 */
export async function* playbackChunks(cfg: PlaybackConfig): AsyncGenerator<PlaybackChunk> {
  const lake = await Lake.from(cfg.lake);
  const source = new LakeSource({
    lake,
    streams: cfg.streams,
    fromUs: cfg.fromUs,
    endUs: cfg.endUs,
    chunkUs: (cfg.chunkMs ?? US_PER_HOUR / US_PER_MS) * US_PER_MS,
    prefetch: cfg.prefetch ?? false,
  });
  const arrival = (cfg.order ?? "total") === "arrival";
  const ranks = cfg.streams.map((s) => (arrival ? 0 : TABLES[roleTable(s.role)].rank));
  for await (const chunk of source) {
    const n = chunk.rows.reduce((a, r) => a + r.length, 0);
    const ts = new Float64Array(n);
    const rank = new Float64Array(n);
    const file = new Float64Array(n);
    const line = new Float64Array(n);
    const streamOf = new Uint16Array(n);
    const rowOf = new Uint32Array(n);
    let o = 0;
    chunk.rows.forEach((rows, k) => {
      ts.set(rows.columns.ts_local_us as Float64Array, o);
      file.set(rows.columns.file_id as Float64Array, o);
      line.set(rows.columns.file_line_number as Float64Array, o);
      rank.fill(ranks[k]!, o, o + rows.length);
      streamOf.fill(k, o, o + rows.length);
      for (let i = 0; i < rows.length; i++) rowOf[o + i] = i;
      o += rows.length;
    });
    const perm = totalOrderPermutation(ts, rank, file, line);
    const out: PlaybackChunk = {
      rows: chunk.rows,
      length: n,
      stream: new Uint16Array(n),
      row: new Uint32Array(n),
      ts: new Float64Array(n),
      toUs: chunk.toUs,
    };
    for (let j = 0; j < n; j++) {
      const e = perm[j]!;
      out.stream[j] = streamOf[e]!;
      out.row[j] = rowOf[e]!;
      out.ts[j] = ts[e]!;
    }
    yield out;
  }
}

/** Options of `replayLake`. */
export interface ReplayFeedOptions {
  /** The lake to play (the runner's instruments and streams). */
  readonly lake: LakeRef;
  /** First event time, µs; default the runner's `replayStartUs` (rows then equal a batch run's). */
  readonly fromUs?: number;
  /** End (exclusive), µs; default the runner's end (required for an open-ended runner). */
  readonly endUs?: number;
  /** Playback speed: absent or Infinity = as fast as possible; s > 0 = s × real time. */
  readonly speed?: number;
  readonly order?: PlaybackOrder;
  /** Timer period while paced, ms of wall time (default 50). */
  readonly tickMs?: number;
  /** Events read at a time, ms of data (default 1 h). */
  readonly chunkMs?: number;
  readonly prefetch?: boolean;
  /** Call the runner's `finish()` at the end (default true for a bounded runner). */
  readonly finish?: boolean;
  /** Stops the feed (the runner is left as is: `stop()` or `snapshot()` it). */
  readonly signal?: AbortSignal;
  /**
   * Called between two events, after each event's watermark move (and each paced timer tick): the
   * runner's state is consistent there (checkpoints: `Checkpointer.maybe`). A returned promise is
   * awaited before the next event.
   */
  readonly between?: () => Promise<void> | null | undefined | void;
}

/** What a replay feed did. */
export interface ReplayFeedStats {
  /** Events pushed. */
  events: number;
  /** Rows the runner emitted meanwhile. */
  rows: number;
  /** Wall time, ms. */
  wallMs: number;
  /** True when the signal stopped the feed early. */
  aborted: boolean;
  /**
   * Paced feeds: the simulated clock's origin — at `performance.now()` = `wallMs` it read `tsUs` (the
   * first event's time); it reads tsUs + (now − wallMs) × 1000 × speed µs afterwards.
   */
  clockOrigin?: { wallMs: number; tsUs: number };
}

/** Events pushed between two turns of the event loop when playing as fast as possible. */
const YIELD_EVERY = 4096;

/**
 * Plays the lake's events of the runner's streams into it, one at a time (see the module doc), and
 * finishes the runner at the end (unless `finish: false`).
 * @throws ConfigError for a bad speed or an open-ended runner without `endUs`; whatever the runner
 *   throws (e.g. EventOrderError when `fromUs` is after events it already processed)
 */
export async function replayLake(runner: LiveRunner, opts: ReplayFeedOptions): Promise<ReplayFeedStats> {
  const speed = opts.speed ?? Number.POSITIVE_INFINITY;
  if (!(speed > 0)) throw new ConfigError(`replay speed must be > 0, got ${speed}`);
  const endUs = opts.endUs ?? runner.endUs;
  if (endUs === OPEN_END_US) throw new ConfigError("replaying into an open-ended runner needs endUs");
  const paced = Number.isFinite(speed);
  const tickMs = opts.tickMs ?? 50;
  const rows0 = runner.counters.rows;
  const start = performance.now();
  const stats: ReplayFeedStats = { events: 0, rows: 0, wallMs: 0, aborted: false };
  // the simulated clock starts at the first event's time when it is played
  let t0 = Number.NaN;
  let w0 = Number.NaN;
  /** The simulated clock, µs (paced mode). */
  const sim = (): number => t0 + (performance.now() - w0) * US_PER_MS * speed;
  const advance = (W: number): void => {
    if (W > runner.watermarkUs) runner.advanceTo(W);
  };
  let sinceYield = 0;
  outer: for await (const c of playbackChunks({
    lake: opts.lake,
    streams: runner.lakeStreams,
    fromUs: opts.fromUs ?? runner.replayStartUs,
    endUs,
    ...(opts.order !== undefined ? { order: opts.order } : {}),
    ...(opts.chunkMs !== undefined ? { chunkMs: opts.chunkMs } : {}),
    ...(opts.prefetch !== undefined ? { prefetch: opts.prefetch } : {}),
  })) {
    for (let j = 0; j < c.length; j++) {
      if (opts.signal?.aborted) {
        stats.aborted = true;
        break outer;
      }
      const t = c.ts[j]!;
      if (paced) {
        if (Number.isNaN(t0)) {
          t0 = t;
          w0 = performance.now();
          stats.clockOrigin = { wallMs: w0, tsUs: t0 };
        }
        // wait for the event's time; the timer moves the watermark meanwhile (never past t)
        for (let now = sim(); now < t; now = sim()) {
          advance(Math.floor(now));
          const b = opts.between?.();
          if (b) await b;
          await sleep(Math.max(0, Math.min(tickMs, (t - now) / US_PER_MS / speed)));
        }
      }
      // a feed playing as fast as possible, or paced but behind the clock, lets timers run now and then
      if (++sinceYield === YIELD_EVERY) {
        sinceYield = 0;
        await new Promise<void>((r) => setImmediate(r));
      }
      runner.pushRow(c.stream[j]!, c.rows[c.stream[j]!]!, c.row[j]!);
      stats.events++;
      // every event before the next one's time has been pushed
      const next = j + 1 < c.length ? c.ts[j + 1]! : c.toUs;
      advance(paced ? Math.min(next, Math.floor(sim())) : next);
      const b = opts.between?.();
      if (b) await b;
    }
  }
  if (!stats.aborted && (opts.finish ?? true) && runner.endUs !== OPEN_END_US) {
    if (paced) {
      for (let now = sim(); now < endUs; now = sim()) {
        advance(Math.floor(now));
        await sleep(Math.max(0, Math.min(tickMs, (endUs - now) / US_PER_MS / speed)));
      }
    }
    runner.finish();
  }
  stats.rows = runner.counters.rows - rows0;
  stats.wallMs = performance.now() - start;
  return stats;
}
