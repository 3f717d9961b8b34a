/**
 * `LiveRunner`: the engine on arriving events (DESIGN.md "Computation model": batch and live differ only
 * in their Source and Sink). It is the one `Driver` with a `PushSource` (live/push-source.ts) in front
 * and a row sink behind: a feed pushes events one at a time and moves the watermark; the Driver merges
 * them in the total order, runs the spine and the operators, and every output row goes to the
 * listeners the moment it is complete:
 *
 * - an event bar (trades, volume, dollar, tick, hybrid volume close) on its completing trade — once the
 *   watermark has passed that trade's ts_local_us (`advanceTo`), or at once in one-stream runs
 *   (`processThrough`);
 * - a clock bar, and a hybrid bar's time close, as soon as `advanceTo(W)` reaches its end (a feed's timer
 *   calls it), even when no event follows.
 *
 * Rows are in frame units, converted per value by `toFrameValue` (engine/units.ts) — the conversion the
 * batch frame sink applies per column — so every value is bitwise the value `buildFeatureFrame` (or the
 * pipeline's `runFeatures`) computes for the same input and config: same operators, same spine, same
 * run setup (`setupRun`), same merge. The runner is set up from the same plans as batch frames:
 * `LiveRunner.forFeatures` (a `FeatureFrameRequest`) and `LiveRunner.forPipeline` (a pipeline plan's
 * operators).
 *
 * Warm-up: rows equal a batch run's only if the events start where the batch replay starts
 * (`replayStartUs`: the clock step at or before start − warm-up, or that UTC midnight for event spines);
 * a live session replays the lake from there (replay-feed.ts) before live events arrive.
 *
 * Time unit: every timestamp is ts_local_us, µs since the epoch UTC.
 */
import { ConfigError } from "../core/errors.js";
import type { Increment } from "../core/fixed.js";
import type { TimeInput } from "../core/time.js";
import {
  Driver,
  type DriverSnapshot,
  type FeatureBatch,
  type FrameSink,
  type StreamSpec,
} from "../engine/driver.js";
import { type LakeStream, streamSpecOf } from "../engine/lake-source.js";
import type { Operator, SourceRole } from "../engine/operator.js";
import { SPINE_COLUMNS, setupRun } from "../engine/replay.js";
import type { SpineSpec } from "../engine/spine-spec.js";
import { type FrameUnit, frameUnits, toFrameValue } from "../engine/units.js";
import {
  type FeatureFrameRequest,
  type FrameColumn,
  planFeatureFrame,
  runSpecOf,
} from "../features/frame.js";
import { Lake, type LakeRef } from "../lake/lake.js";
import type { PipelinePlan } from "../pipeline/plan.js";
import type { TypedRows } from "../query/query.js";
import { type EngineRow, PushSource } from "./push-source.js";

/** End of an open-ended live run, µs (no row is ever past it). */
export const OPEN_END_US = Number.MAX_SAFE_INTEGER;

/** Everything a live run needs (see `LiveRunner.forFeatures` / `forPipeline` for the usual ways). */
export interface LiveRunnerConfig {
  /** The open lake: its symbol registry gives the instruments' increments at `startUs`. */
  readonly lake: Lake;
  /** Primary instrument (spine and every role but `spot_*`). */
  readonly exchange: string;
  readonly symbol: string;
  /** Second instrument of `spot_*` roles (cross-venue). */
  readonly crossVenue?: { readonly exchange: string; readonly symbol: string };
  /** First output row's earliest ts_event_us, µs: earlier rows are warm-up (computed, not emitted). */
  readonly startUs: number;
  /** End of the output range (exclusive), µs; default `OPEN_END_US` (then `finish` is refused: `stop`). */
  readonly endUs?: number;
  readonly spine: SpineSpec;
  /** Fresh operators (not `init`-ed: the runner does it with the run's instruments). */
  readonly operators: readonly Operator[];
  /** History before `startUs` the events must start from, µs (see `replayStartUs`). */
  readonly warmupUs: number;
  /** The rows' columns: the spine columns (`SPINE_COLUMNS`), then one per operator output, in order. */
  readonly columns: readonly FrameColumn[];
  /** Per operator output: its frame unit (`frameUnits`), the batch sink's conversion. */
  readonly units: readonly FrameUnit[];
  /** Rows per segment of the push source (default 4,096). */
  readonly segmentRows?: number;
}

/** A feature-frame request for a live run: as `FeatureFrameRequest`, with an optional end. */
export type LiveFeatureRequest = Omit<FeatureFrameRequest, "end"> & {
  /** End of the output range; default open-ended. */
  readonly end?: TimeInput;
  /** Rows per segment of the push source (default 4,096). */
  readonly segmentRows?: number;
};

/**
 * One emitted row. The runner reuses this object for every row: read it during the listener call and
 * copy what you keep (`values.slice()`, `toObject()`).
 */
export class LiveRow {
  /** Values aligned with `columns`, in frame units; NaN = null. */
  readonly values: Float64Array;
  /** Output rows emitted before this one (0-based). */
  seq = -1;
  private readonly index: ReadonlyMap<string, number>;

  constructor(readonly columns: readonly FrameColumn[]) {
    this.values = new Float64Array(columns.length);
    this.index = new Map(columns.map((c, k) => [c.name, k]));
  }

  /** Bar start, µs (the frame's index). */
  get tsEventUs(): number {
    return this.values[0]!;
  }

  /** Earliest time the row is computable, µs: the clock bar end, or the completing trade's ts_local_us. */
  get availableAtUs(): number {
    return this.values[2]!;
  }

  /** The value of column `name` (NaN = null). @throws ConfigError for an unknown column. */
  value(name: string): number {
    const k = this.index.get(name);
    if (k === undefined) throw new ConfigError(`no column ${name} in the live rows`);
    return this.values[k]!;
  }

  /** The row as a plain object (null for NaN); allocates. */
  toObject(): Record<string, number | null> {
    const o: Record<string, number | null> = {};
    this.columns.forEach((c, k) => {
      const v = this.values[k]!;
      o[c.name] = Number.isNaN(v) ? null : v;
    });
    return o;
  }
}

/** Called with each row as soon as it is complete (see `LiveRow` for its lifetime). */
export type RowListener = (row: LiveRow) => void;

/** The Driver's sink of a live run: converts each completed row and hands it to the listeners. */
class LiveRowSink implements FrameSink {
  readonly listeners: RowListener[] = [];
  readonly enders: (() => void)[] = [];
  private readonly current: LiveRow;

  constructor(
    columns: readonly FrameColumn[],
    private readonly units: readonly FrameUnit[],
  ) {
    this.current = new LiveRow(columns);
  }

  write(_batch: FeatureBatch): void {
    // rows were delivered one by one (`row`); full batches are dropped
  }

  row(b: FeatureBatch, r: number): void {
    const v = this.current.values;
    v[0] = b.tsEventUs[r]!;
    v[1] = b.tsEndUs[r]!;
    v[2] = b.availableAtUs[r]!;
    v[3] = b.barIndex[r]!;
    v[4] = b.barDurationUs[r]!;
    const units = this.units;
    const cols = b.columns;
    for (let k = 0; k < cols.length; k++) v[5 + k] = toFrameValue(cols[k]![r]!, units[k]!);
    this.current.seq++;
    const ls = this.listeners;
    for (let k = 0; k < ls.length; k++) ls[k]!(this.current);
  }

  end(): void {
    for (const e of this.enders) e();
  }
}

/** The live runner (see the module doc). */
export class LiveRunner {
  /** The rows' columns: spine columns, then every operator output. */
  readonly columns: readonly FrameColumn[];
  /** The Driver's streams, in order (indices for `push`). */
  readonly streams: readonly StreamSpec[];
  /** The streams as lake sources (role, exchange, symbol), aligned with `streams`. */
  readonly lakeStreams: readonly LakeStream[];
  /** Where the events must start, µs (see the module doc). */
  readonly replayStartUs: number;
  readonly startUs: number;
  readonly endUs: number;
  private readonly source: PushSource;
  private readonly driver: Driver;
  private readonly lake: Lake;
  private readonly sink: LiveRowSink;
  private ended = false;

  /** @throws ConfigError as `setupRun` and the Driver (unknown instrument, bad range, duplicate column) */
  constructor(cfg: LiveRunnerConfig) {
    const endUs = cfg.endUs ?? OPEN_END_US;
    const nOut = cfg.operators.reduce((n, o) => n + o.outputs.length, 0);
    if (cfg.columns.length !== SPINE_COLUMNS.length + nOut || cfg.units.length !== nOut)
      throw new ConfigError(
        `live runner: ${cfg.columns.length} columns and ${cfg.units.length} units for ${nOut} operator outputs`,
      );
    const setup = setupRun(cfg, cfg.lake);
    this.lake = cfg.lake;
    this.columns = cfg.columns;
    this.lakeStreams = setup.streams;
    this.streams = setup.streams.map(streamSpecOf);
    this.replayStartUs = setup.replayStartUs;
    this.startUs = cfg.startUs;
    this.endUs = endUs;
    this.source = new PushSource(
      this.streams,
      cfg.segmentRows !== undefined ? { segmentRows: cfg.segmentRows } : {},
    );
    this.sink = new LiveRowSink(cfg.columns, cfg.units);
    this.driver = new Driver({
      streams: this.streams,
      spine: setup.spine,
      operators: cfg.operators,
      startUs: cfg.startUs,
      endUs,
      sink: this.sink,
      // rows leave through `row`; a small batch bounds the memory of the Driver's working batch
      batchRows: 1024,
    });
  }

  /**
   * A runner of a feature-frame request: the operators, columns, units, spine and warm-up
   * `planFeatureFrame` gives `buildFeatureFrame` for the same request (end optional: open-ended).
   * @throws ConfigError as `planFeatureFrame`
   */
  static async forFeatures(req: LiveFeatureRequest): Promise<LiveRunner> {
    const lake = await Lake.from(req.lake);
    const plan = await planFeatureFrame({ ...req, lake, end: req.end ?? OPEN_END_US });
    return new LiveRunner({
      lake,
      ...runSpecOf(plan),
      columns: plan.columns,
      units: plan.frameUnits,
      ...(req.segmentRows !== undefined ? { segmentRows: req.segmentRows } : {}),
    });
  }

  /**
   * A runner of a pipeline plan's operators (fresh instances), spine, range and warm-up — the features
   * `runFeatures` computes for it, in its frame units (labels look forward and are not live values).
   * `overrides` replaces the range (e.g. an open end) or the spine.
   */
  static async forPipeline(
    plan: PipelinePlan,
    lakeRef: LakeRef,
    overrides: { readonly startUs?: number; readonly endUs?: number; readonly spine?: SpineSpec } = {},
  ): Promise<LiveRunner> {
    const lake = await Lake.from(lakeRef);
    const operators = plan.operators.map((o) => o.create());
    return new LiveRunner({
      lake,
      exchange: plan.exchange,
      symbol: plan.symbol,
      startUs: overrides.startUs ?? plan.startUs,
      endUs: overrides.endUs ?? plan.endUs,
      spine: overrides.spine ?? plan.spine,
      operators,
      warmupUs: plan.warmupUs,
      columns: plan.columns
        .filter((c) => c.role !== "label")
        .map((c) => ({ name: c.name, dtype: c.dtype, unit: c.unit })),
      units: frameUnits(
        operators.flatMap((o) => o.outputs),
        plan.increments,
      ),
    });
  }

  /**
   * The increments a feed decodes an instrument's decimals at: the lake's common scale (lake/scale.ts),
   * the scale every lake read of the run converts to, so pushed `_int` values mean what replayed ones do.
   * @throws ConfigError for an instrument the lake's registry does not know
   */
  increments(exchange: string, symbol: string): { readonly price: Increment; readonly amount: Increment } {
    const s = this.lake.scale(exchange, symbol);
    return { price: s.price, amount: s.amount };
  }

  /** Index of the stream of `role` (of the run's instrument for that role). @throws ConfigError if none. */
  streamIndex(role: SourceRole): number {
    const k = this.streams.findIndex((s) => s.role === role);
    if (k < 0)
      throw new ConfigError(
        `the run has no ${role} stream (streams: ${this.streams.map((s) => s.role).join(", ")})`,
      );
    return k;
  }

  /** Calls `listener` with every row from now on; returns its unsubscribe function. */
  onRow(listener: RowListener): () => void {
    this.sink.listeners.push(listener);
    return () => {
      const i = this.sink.listeners.indexOf(listener);
      if (i >= 0) this.sink.listeners.splice(i, 1);
    };
  }

  /**
   * The rows from now on as an async iterator of copies (values aligned with `columns`), ending when the
   * run finishes or stops. Rows are queued without bound while the consumer lags (live data does not
   * wait); use `onRow` to act within the event's processing.
   */
  rows(): AsyncIterableIterator<Float64Array> {
    const queue: Float64Array[] = [];
    let wake: (() => void) | null = null;
    let done = this.ended;
    const unsubscribe = this.onRow((row) => {
      queue.push(row.values.slice());
      wake?.();
    });
    this.sink.enders.push(() => {
      done = true;
      wake?.();
    });
    const next = async (): Promise<IteratorResult<Float64Array>> => {
      for (;;) {
        const v = queue.shift();
        if (v !== undefined) return { value: v, done: false };
        if (done) {
          unsubscribe();
          return { value: undefined, done: true };
        }
        await new Promise<void>((r) => {
          wake = r;
        });
        wake = null;
      }
    };
    return {
      next,
      return: async () => {
        unsubscribe();
        done = true;
        return { value: undefined, done: true };
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  }

  /**
   * Pushes one event of stream k (values of its table's engine columns, see `EngineRow`). It is
   * processed when the watermark passes its ts_local_us (`advanceTo`, `processThrough`).
   * @throws ConfigError / EventOrderError as `PushSource.push`
   */
  push(k: number, row: EngineRow): void {
    this.source.push(k, row);
  }

  /** Pushes row `i` of a typed batch of stream k's table (no allocation). @throws as `PushSource.pushRow` */
  pushRow(k: number, rows: TypedRows, i: number): void {
    this.source.pushRow(k, rows, i);
  }

  /**
   * Moves the watermark to W (µs): processes every pushed event before W in the total order, then
   * closes every clock bar, hybrid time close and UTC day ending at or before W. Rows completed on the
   * way reach the listeners before it returns. The caller promises that no event before W will be
   * pushed (the watermark rule: push-source.ts); a later one is an `EventOrderError`.
   * @throws ConfigError if W is before the last watermark or the run has ended
   */
  advanceTo(W: number): void {
    if (this.ended) throw new ConfigError("LiveRunner.advanceTo after finish/stop");
    if (W > this.endUs) throw new ConfigError(`watermark ${W} µs is past the run's end ${this.endUs} µs`);
    const chunk = this.source.cut(W);
    if (chunk) this.driver.push(chunk);
    this.driver.advanceTo(W);
  }

  /**
   * One-stream runs (e.g. trades only): processes every pushed event up to and including ts t at once,
   * so a bar completed by a trade is emitted before this returns. Later events at t are still accepted.
   * Time closes are not advanced (a later event at t may still belong before them): call `advanceTo`.
   * @throws ConfigError on a run of several streams (their ties need the watermark: `advanceTo`)
   */
  processThrough(t: number): void {
    if (this.ended) throw new ConfigError("LiveRunner.processThrough after finish/stop");
    const chunk = this.source.cutThrough(t);
    if (chunk) this.driver.push(chunk);
  }

  /** Events pushed and not yet processed. */
  get pending(): number {
    return this.source.pending;
  }

  /** Events processed, rows emitted and spine accounting so far. */
  get counters(): Driver["counters"] {
    return this.driver.counters;
  }

  /** The watermark, µs (every event before it has been processed). */
  get watermarkUs(): number {
    return this.driver.watermarkUs;
  }

  /**
   * End of a bounded run: processes every pushed event (all before `endUs`), closes the spine at
   * `endUs` (a partial event bar is dropped, as in batch) and ends the row streams.
   * @throws ConfigError on an open-ended run (use `stop`)
   */
  finish(): void {
    if (this.ended) return;
    if (this.endUs === OPEN_END_US)
      throw new ConfigError("an open-ended live run has no end to finish at: stop()");
    const chunk = this.source.cut(this.endUs);
    if (this.source.pending > 0)
      throw new ConfigError(`${this.source.pending} events pushed at or after the run's end`);
    if (chunk) this.driver.push(chunk);
    this.ended = true;
    this.driver.finish();
  }

  /** Stops without closing the spine (the open bar stays open in `snapshot()`), ending the row streams. */
  stop(): void {
    if (this.ended) return;
    this.ended = true;
    this.sink.end();
  }

  /**
   * The Driver's state (operators, spine, merge position: every event before the watermark processed).
   * Pushed events not yet processed are not in it: a restored run gets them again from its feed.
   */
  snapshot(): DriverSnapshot {
    return this.driver.snapshot();
  }

  /**
   * Restores a snapshot of a run of the same shape (a live or a batch run) into this fresh runner. The
   * feed then pushes events from the snapshot's `position.tsUs` on; those already consumed are skipped.
   * @throws ConfigError as `Driver.restore`
   */
  restore(snap: DriverSnapshot): void {
    this.driver.restore(snap);
  }
}
