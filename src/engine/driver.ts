/**
 * The Driver (DESIGN.md "Computation model": Source → Driver → Sink). It owns, for one run:
 *
 * - the **total-order merge** of its input streams: (ts_local_us, table rank, file_id, file_line_number);
 * - the **spine** (clock / event bars) and the emission of its rows;
 * - **operator fan-out**: every event goes to the operators that subscribe to its role, trades through the
 *   spine (which may split them across bars);
 * - **warm-up discard**: rows with ts_event_us < startUs or available_at_us > endUs are computed (rolling
 *   state advances identically whatever the range) and not output;
 * - **emission** of output rows to a `FrameSink` in columnar batches;
 * - **`snapshot()` / `restore()`** of all of it — spine, every operator, counters and the merge position —
 *   as one JSON value: a run snapshotted between any two events and restored in a fresh process continues
 *   bitwise identically.
 *
 * Sources are anything that delivers `EventChunk`s (lake replay: `LakeSource`; live feeds push their own).
 * The Driver does no IO and never awaits: batch and live differ only in their Source and Sink.
 *
 * Chunk contract: chunk k holds, per stream, every event with ts_local_us in [fromUs, toUs) sorted in the
 * total order, and chunks arrive in time order (chunk k+1's fromUs ≥ chunk k's toUs). `toUs` is a
 * watermark: no later chunk holds an earlier event. Violations are a `ConfigError` naming the chunk.
 * A chunk's events of a stream may be a row range of a longer batch (`EventChunk.starts`/`ends`: push
 * sources append into long-lived segments: live/push-source.ts), and a run of **one** stream may
 * continue its last timestamp in the next chunk (fromUs ≥ the last event's ts_local_us): with a single
 * stream there is no other table whose events at that timestamp could rank between them, so a live
 * trades-only run can process each trade as it arrives. `advanceTo(tsUs)` is a watermark too: later
 * chunks must start at or after it.
 *
 * Knowledge set of a row: every event before the row's close in the total order. For a clock bar (and a
 * hybrid time close) that is every event with ts_local_us < available_at_us; for an event-driven bar it is
 * every event up to and including the completing trade e*.
 */
import { ConfigError } from "../core/errors.js";
import type { TypedRows } from "../query/query.js";
import { TABLES } from "../schema/tables.js";
import { checkOperatorInputs } from "./inputs.js";
import type { EventCursor, JsonValue, Operator, SourceRole, SpineRow } from "./operator.js";
import { roleTable, stateNumber, stateNumbers, stateObject } from "./operator.js";
import type { Spine, SpineSink, SpineStats, SpineTrade } from "./spine.js";

/** Spine columns of every frame, in order. */
export const SPINE_COLUMNS = [
  "ts_event_us",
  "ts_end_us",
  "available_at_us",
  "bar_index",
  "bar_duration_us",
] as const;

/** Columnar rows of a feature frame: spine columns plus one column per operator output. */
export interface FeatureBatch {
  readonly length: number;
  readonly tsEventUs: Float64Array;
  readonly tsEndUs: Float64Array;
  readonly availableAtUs: Float64Array;
  readonly barIndex: Float64Array;
  readonly barDurationUs: Float64Array;
  /** Aligned with `outputNames(operators)`. NaN = null. */
  readonly columns: readonly Float64Array[];
}

/**
 * Where a Driver's output rows go: completed batches in row order (immutable once written; a sink may
 * keep them). `end` is called once after the last batch.
 */
export interface FrameSink {
  write(batch: FeatureBatch): void;
  end?(): void;
  /**
   * Optional, for live sinks: called as soon as output row `r` of `batch` is complete, before any later
   * event is fed. `batch` is the Driver's working batch: row `r` is final, rows after it are not written
   * yet; read the row during the call (the same rows reach `write` later, when the batch is full or at
   * `finish`).
   */
  row?(batch: FeatureBatch, r: number): void;
}

/** A sink that keeps every batch in memory (`batches`, in row order). */
export class CollectSink implements FrameSink {
  readonly batches: FeatureBatch[] = [];
  ended = false;
  write(batch: FeatureBatch): void {
    this.batches.push(batch);
  }
  end(): void {
    this.ended = true;
  }
  /** Takes the batches written so far (the sink forgets them). */
  drain(): FeatureBatch[] {
    return this.batches.splice(0, this.batches.length);
  }
}

/** Output columns of `operators`, in order. @throws ConfigError on duplicate names. */
export function outputNames(operators: readonly Operator[]): string[] {
  const names: string[] = [];
  const seen = new Set<string>(SPINE_COLUMNS);
  for (const op of operators) {
    for (const o of op.outputs) {
      if (seen.has(o.name)) throw new ConfigError(`duplicate output column ${o.name} (operator ${op.id})`);
      seen.add(o.name);
      names.push(o.name);
    }
  }
  return names;
}

/**
 * A writable `EventCursor`: the Driver fills one instance per run and reuses it for every event (no
 * per-event allocation); wrappers that re-feed an event to an inner operator (e.g. the pipeline's PIT
 * guard, which swaps `rows` for a read-checked view) fill their own. Fields as `EventCursor`: `rows` is
 * unset until the first event, `i` a row index of `rows`, `tsLocalUs` in µs, `qtyInt` in qty increments
 * (NaN for non-trade tables), `continuation` true for later pieces of a split trade.
 */
export class MutableEventCursor implements EventCursor {
  role: SourceRole = "trades";
  rows!: TypedRows;
  i = 0;
  tsLocalUs = 0;
  qtyInt = Number.NaN;
  continuation = false;
}

/** One input stream of a Driver: the role operators subscribe to, and a label for errors/snapshots. */
export interface StreamSpec {
  readonly role: SourceRole;
  /** e.g. "binance-futures/BTCUSDT" (checked on restore). */
  readonly label: string;
}

/** Events of every stream with ts_local_us in [fromUs, toUs), each sorted in the total order. */
export interface EventChunk {
  readonly fromUs: number;
  readonly toUs: number;
  /** One per stream, aligned with the Driver's `streams`. */
  readonly rows: readonly TypedRows[];
  /**
   * Optional row ranges, per stream: the chunk's events of stream k are rows [starts[k], ends[k]) of
   * `rows[k]` (default: all its rows). Rows before `starts[k]` must be events already fed (a push
   * source's segment, see live/push-source.ts): a snapshot counts the events at the merge position's
   * timestamp there, so a chunk that continues a timestamp (one-stream runs) must hand rows that also hold
   * the events of that timestamp fed before it.
   */
  readonly starts?: ArrayLike<number>;
  readonly ends?: ArrayLike<number>;
}

/** A source of event chunks (see the chunk contract in the module doc). */
export type EventSource = AsyncIterable<EventChunk>;

/** Counters of a run: rows output, events fed per role, spine accounting. */
export interface DriverCounters {
  rows: number;
  events: Partial<Record<SourceRole, number>>;
  spine: SpineStats;
}

/** Validated Driver configuration. */
export interface DriverConfig {
  readonly streams: readonly StreamSpec[];
  /** A fresh spine whose `replayStartUs` has been called (or is restored by `restore`). */
  readonly spine: Spine;
  /** Operators, `init` already called. Output columns are laid out operator by operator. */
  readonly operators: readonly Operator[];
  /** Output range [startUs, endUs) of ts_local_us, µs: rows outside it are warm-up and not output. */
  readonly startUs: number;
  readonly endUs: number;
  readonly sink: FrameSink;
  /** Rows per batch handed to the sink; default 65,536. */
  readonly batchRows?: number;
  /**
   * Checkpoints: after each of these event counts (events fed since the run's replay start, 1-based,
   * ascending), `onCheckpoint` receives `snapshot()` (for tests and periodic checkpoints).
   */
  readonly checkpointAtEvents?: readonly number[];
  readonly onCheckpoint?: (snapshot: DriverSnapshot) => void;
}

/**
 * The JSON state of a Driver between two events. `position` is the merge position: every stream has
 * consumed all its events with ts_local_us < `tsUs` and its first `atTs[k]` events at `tsUs`.
 */
export interface DriverSnapshot {
  readonly version: 1;
  readonly streams: readonly string[];
  readonly operators: readonly string[];
  readonly startUs: number;
  readonly endUs: number;
  readonly events: number;
  readonly position: { readonly tsUs: number; readonly atTs: readonly number[] };
  readonly counters: JsonValue;
  readonly spine: JsonValue;
  readonly state: readonly JsonValue[];
}

interface Stream {
  readonly spec: StreamSpec;
  readonly rank: number;
  readonly subscribers: Operator[];
  rows: TypedRows | null;
  ts: Float64Array;
  file: Float64Array;
  line: Float64Array;
  pos: number;
  count: number;
}

const EMPTY = new Float64Array(0);
const SNAPSHOT_VERSION = 1;

/** One run's Driver. Feed it chunks with `push`, then `finish`; see the module doc. */
export class Driver {
  readonly counters: DriverCounters;
  readonly names: readonly string[];
  private readonly streams: Stream[];
  private readonly ops: readonly Operator[];
  private readonly spine: Spine;
  private readonly sink: FrameSink;
  private readonly batchRows: number;
  private readonly cursor = new MutableEventCursor();
  private readonly tradeView: SpineTrade = { tsLocalUs: 0, pxInt: 0, qtyInt: 0, side: 0 };
  private readonly spineSink: SpineSink;
  private tradeSubs: Operator[] = [];
  private batch: MutableBatch;
  private opCols: Float64Array[][];
  private readonly scratch: Float64Array[][];
  private eventsFed = 0;
  private nextCheckpoint = Number.POSITIVE_INFINITY;
  private checkpointIdx = 0;
  private lastChunkToUs = Number.NEGATIVE_INFINITY;
  /** The highest `advanceTo` watermark: no chunk may start before it. */
  private advancedUs = Number.NEGATIVE_INFINITY;
  /** ts_local_us of the last event fed (MIN_SAFE_INTEGER before the first: JSON-safe). */
  private lastTs = Number.MIN_SAFE_INTEGER;
  /** Restored merge position not yet passed; `left[k]`: events at tsUs of stream k still to skip. */
  private resume: { tsUs: number; atTs: readonly number[]; left: number[] } | null = null;
  private finished = false;

  constructor(private readonly cfg: DriverConfig) {
    if (!(cfg.endUs > cfg.startUs))
      throw new ConfigError(`end (${cfg.endUs}) must be after start (${cfg.startUs})`);
    this.names = outputNames(cfg.operators);
    for (const op of cfg.operators) {
      checkOperatorInputs(op, { requireReads: true });
      if ((op.rowInputs?.length ?? 0) > 0)
        throw new ConfigError(
          `operator ${op.id} reads row outputs (${op.rowInputs!.join(", ")}): run it in a GroupOperator (engine/group.ts) after the operators that write them`,
        );
    }
    this.ops = cfg.operators;
    this.spine = cfg.spine;
    this.sink = cfg.sink;
    this.batchRows = cfg.batchRows ?? 65_536;
    this.counters = {
      rows: 0,
      events: {},
      spine: cfg.spine.stats,
    };
    this.streams = cfg.streams.map((spec) => {
      this.counters.events[spec.role] = 0;
      return {
        spec,
        rank: TABLES[roleTable(spec.role)].rank,
        subscribers: cfg.operators.filter((op) => op.inputs.includes(spec.role)),
        rows: null,
        ts: EMPTY,
        file: EMPTY,
        line: EMPTY,
        pos: 0,
        count: 0,
      };
    });
    const nOut = this.names.length;
    this.batch = newBatch(this.batchRows, nOut);
    this.opCols = sliceColumns(this.ops, this.batch.columns);
    this.scratch = sliceColumns(
      this.ops,
      Array.from({ length: nOut }, () => new Float64Array(1)),
    );
    const checkpoints = cfg.checkpointAtEvents ?? [];
    for (let k = 1; k < checkpoints.length; k++) {
      if (!(checkpoints[k]! > checkpoints[k - 1]!))
        throw new ConfigError("checkpointAtEvents must be strictly ascending");
    }
    this.nextCheckpoint = checkpoints[0] ?? Number.POSITIVE_INFINITY;

    const self = this;
    const cursor = this.cursor;
    const startUs = cfg.startUs;
    const endUs = cfg.endUs;
    const ops = this.ops;
    const onRow = cfg.sink.row?.bind(cfg.sink);
    this.spineSink = {
      feedTrade(qtyInt: number, continuation: boolean): void {
        cursor.qtyInt = qtyInt;
        cursor.continuation = continuation;
        const subs = self.tradeSubs;
        for (let k = 0; k < subs.length; k++) subs[k]!.onEvent(cursor);
      },
      emit(row: SpineRow): void {
        if (row.tsEventUs >= startUs && row.availableAtUs <= endUs) {
          const batch = self.batch;
          const r = batch.length;
          batch.tsEventUs[r] = row.tsEventUs;
          batch.tsEndUs[r] = row.tsEndUs;
          batch.availableAtUs[r] = row.availableAtUs;
          batch.barIndex[r] = row.barIndex;
          batch.barDurationUs[r] = row.tsEndUs - row.tsEventUs;
          const opCols = self.opCols;
          for (let k = 0; k < ops.length; k++) ops[k]!.emit(row, opCols[k]!, r);
          batch.length++;
          self.counters.rows++;
          if (onRow !== undefined) onRow(batch, r);
          if (batch.length === self.batchRows) self.flushFull();
        } else {
          const scratch = self.scratch;
          for (let k = 0; k < ops.length; k++) ops[k]!.emit(row, scratch[k]!, 0);
        }
      },
      discard(): void {
        for (let k = 0; k < ops.length; k++) ops[k]!.discardBar?.();
      },
    };
  }

  /** Events fed so far since the replay start (restored runs continue the count). */
  get events(): number {
    return this.eventsFed;
  }

  /**
   * Merges and processes one chunk (see the chunk contract). Rows completed on the way go to the sink.
   * @throws ConfigError if the chunk is out of order or has the wrong number of streams.
   */
  push(chunk: EventChunk): void {
    if (this.finished) throw new ConfigError("Driver.push after finish");
    const streams = this.streams;
    if (chunk.rows.length !== streams.length)
      throw new ConfigError(`chunk has ${chunk.rows.length} streams, the Driver ${streams.length}`);
    // one stream: a chunk may continue the last fed timestamp (see the chunk contract)
    const continues = streams.length === 1 && chunk.fromUs >= this.lastTs;
    if (chunk.fromUs < this.advancedUs || (chunk.fromUs < this.lastChunkToUs && !continues))
      throw new ConfigError(
        `chunk [${chunk.fromUs}, ${chunk.toUs}) starts before the previous chunk's end ${Math.max(this.lastChunkToUs, this.advancedUs)}`,
      );
    let any = false;
    for (let k = 0; k < streams.length; k++) {
      const rows = chunk.rows[k]!;
      const from = chunk.starts?.[k] ?? 0;
      const to = chunk.ends?.[k] ?? rows.length;
      if (!(from >= 0 && from <= to && to <= rows.length))
        throw new ConfigError(
          `chunk [${chunk.fromUs}, ${chunk.toUs}) of ${streams[k]!.spec.label}: rows [${from}, ${to}) outside its ${rows.length} rows`,
        );
      if (to > from) any = true;
    }
    if (chunk.toUs > this.lastChunkToUs) this.lastChunkToUs = chunk.toUs;
    // an empty chunk changes nothing (the streams keep the rows a snapshot counts the position in)
    if (!any) return;
    for (let k = 0; k < streams.length; k++) {
      const s = streams[k]!;
      const rows = chunk.rows[k]!;
      s.rows = rows;
      s.ts = rows.columns.ts_local_us as Float64Array;
      s.file = rows.columns.file_id as Float64Array;
      s.line = rows.columns.file_line_number as Float64Array;
      s.pos = chunk.starts?.[k] ?? 0;
      s.count = chunk.ends?.[k] ?? rows.length;
      if (s.count > s.pos && (s.ts[s.pos]! < chunk.fromUs || s.ts[s.count - 1]! >= chunk.toUs))
        throw new ConfigError(
          `chunk [${chunk.fromUs}, ${chunk.toUs}) of ${s.spec.label} ${s.spec.role} holds events outside it`,
        );
    }
    if (this.resume) this.skipConsumed(this.resume, chunk.toUs);
    for (let k = 0; k < streams.length; k++) {
      const s = streams[k]!;
      this.counters.events[s.spec.role] = (this.counters.events[s.spec.role] ?? 0) + (s.count - s.pos);
    }
    this.mergeChunk();
  }

  /**
   * Closes every time-based bar ending at or before `tsUs` (a watermark: no event before `tsUs` will
   * follow). Live runners call it from a timer; replays need not.
   */
  advanceTo(tsUs: number): void {
    if (this.finished) throw new ConfigError("Driver.advanceTo after finish");
    if (tsUs > this.advancedUs) this.advancedUs = tsUs;
    this.spine.advanceTo(tsUs, this.spineSink);
  }

  /**
   * The Driver's watermark, µs: every event before it has been fed (the end of the last chunk, or the
   * last `advanceTo`, whichever is later; −∞ before the first).
   */
  get watermarkUs(): number {
    return Math.max(this.lastChunkToUs, this.advancedUs);
  }

  /** End of the run at endUs (exclusive): closes the spine, flushes the last batch, ends the sink. */
  finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.spine.finish(this.cfg.endUs, this.spineSink);
    this.counters.spine = this.spine.stats;
    const b = this.batch;
    if (b.length > 0) this.sink.write(trim(b));
    this.batch = newBatch(0, this.names.length);
    this.sink.end?.();
  }

  /** The Driver's state between two events (see `DriverSnapshot`). Deterministic JSON. */
  snapshot(): DriverSnapshot {
    // every event at the last consumed timestamp lies in the current chunk (chunk contract)
    const tsUs = this.lastTs;
    const atTs = this.resume
      ? [...this.resume.atTs]
      : this.streams.map((s) => (s.pos > 0 && s.ts[s.pos - 1] === tsUs ? countTail(s.ts, s.pos, tsUs) : 0));
    const c = this.counters;
    const counters: JsonValue = {
      rows: c.rows,
      events: this.streams.map((s) => c.events[s.spec.role] ?? 0),
    };
    return {
      version: SNAPSHOT_VERSION,
      streams: this.streams.map(streamKey),
      operators: this.ops.map((o) => o.id),
      startUs: this.cfg.startUs,
      endUs: this.cfg.endUs,
      events: this.eventsFed,
      position: { tsUs, atTs },
      counters,
      spine: this.spine.snapshot(),
      state: this.ops.map((o) => o.snapshot()),
    };
  }

  /**
   * Restores a snapshot into this fresh Driver (same streams, operators in the same order, same range;
   * its operators `init`-ed, its spine's `replayStartUs` called). The next chunks may start anywhere at or
   * before the snapshot's position: events already consumed are skipped.
   *
   * With `handoff`, the snapshot is the end state of the previous partition of the same request (taken
   * after its last chunk, before `finish`; its range ends where this run's starts): this run continues
   * from it instead of replaying its warm-up, and its counters (rows, events, spine stats) start at 0.
   * @throws ConfigError if the snapshot belongs to another run shape or version, or (handoff) does not
   *   end at this run's start.
   */
  restore(snap: DriverSnapshot, opts: { readonly handoff?: boolean } = {}): void {
    if (this.eventsFed > 0 || this.watermarkUs !== Number.NEGATIVE_INFINITY)
      throw new ConfigError("Driver.restore on a Driver that has already run");
    if (snap.version !== SNAPSHOT_VERSION)
      throw new ConfigError(`driver snapshot version ${String(snap.version)} is not ${SNAPSHOT_VERSION}`);
    const keys = this.streams.map(streamKey);
    if (JSON.stringify(keys) !== JSON.stringify(snap.streams))
      throw new ConfigError(`snapshot streams ${snap.streams.join(",")} differ from ${keys.join(",")}`);
    const ids = this.ops.map((o) => o.id);
    if (JSON.stringify(ids) !== JSON.stringify(snap.operators))
      throw new ConfigError(`snapshot operators ${snap.operators.join(",")} differ from ${ids.join(",")}`);
    if (opts.handoff) {
      if (snap.endUs !== this.cfg.startUs)
        throw new ConfigError(
          `hand-off snapshot of [${snap.startUs}, ${snap.endUs}) does not end at this run's start ${this.cfg.startUs}`,
        );
    } else if (snap.startUs !== this.cfg.startUs || snap.endUs !== this.cfg.endUs)
      throw new ConfigError(
        `snapshot range [${snap.startUs}, ${snap.endUs}) differs from [${this.cfg.startUs}, ${this.cfg.endUs})`,
      );
    if (snap.state.length !== this.ops.length) throw new ConfigError("snapshot operator state count differs");
    this.spine.restore(snap.spine);
    for (let k = 0; k < this.ops.length; k++) this.ops[k]!.restore(snap.state[k]!);
    const c = stateObject(snap.counters, "driver counters");
    this.counters.rows = stateNumber(c, "rows");
    const ev = stateNumbers(c, "events");
    this.streams.forEach((s, k) => {
      this.counters.events[s.spec.role] = ev[k] ?? 0;
    });
    this.counters.spine = this.spine.stats;
    this.eventsFed = snap.events;
    if (opts.handoff) {
      this.counters.rows = 0;
      for (const s of this.streams) this.counters.events[s.spec.role] = 0;
      const st = this.spine.stats;
      st.tradesInRange = 0;
      st.unassignedTrades = 0;
      st.unassignedQtyInt = 0;
      this.eventsFed = 0;
    }
    this.lastTs = snap.position.tsUs;
    this.resume = { tsUs: snap.position.tsUs, atTs: snap.position.atTs, left: [...snap.position.atTs] };
    const checkpoints = this.cfg.checkpointAtEvents ?? [];
    while (this.checkpointIdx < checkpoints.length && checkpoints[this.checkpointIdx]! <= this.eventsFed)
      this.checkpointIdx++;
    this.nextCheckpoint = checkpoints[this.checkpointIdx] ?? Number.POSITIVE_INFINITY;
  }

  /**
   * Skips, per stream, the events the restored run had consumed (before the merge position). The
   * position is passed once a chunk reaching beyond its timestamp has been skipped (chunk contract); in
   * a one-stream run, whose chunks may split a timestamp, once its consumed events there are skipped too
   * (or a later event shows there are no more).
   */
  private skipConsumed(
    resume: { tsUs: number; atTs: readonly number[]; left: number[] },
    chunkToUs: number,
  ): void {
    let pending = false;
    this.streams.forEach((s, k) => {
      let p = s.pos;
      while (p < s.count && s.ts[p]! < resume.tsUs) p++;
      let skip = resume.left[k] ?? 0;
      while (p < s.count && skip > 0 && s.ts[p]! === resume.tsUs) {
        p++;
        skip--;
      }
      resume.left[k] = skip;
      s.pos = p;
      if (skip > 0 && p === s.count) pending = true;
    });
    if (chunkToUs > resume.tsUs && !(this.streams.length === 1 && pending)) this.resume = null;
  }

  private mergeChunk(): void {
    const streams = this.streams;
    const spine = this.spine;
    const sink = this.spineSink;
    const cursor = this.cursor;
    const tradeView = this.tradeView;
    for (;;) {
      // pick the stream whose next event is first in the total order, and the earliest next
      // timestamp of the others: best's events strictly before it need no further comparison
      let best: Stream | null = null;
      let bTs = 0;
      let otherTs = Number.POSITIVE_INFINITY;
      for (let k = 0; k < streams.length; k++) {
        const s = streams[k]!;
        if (s.pos >= s.count) continue;
        const t = s.ts[s.pos]!;
        if (
          best === null ||
          t < bTs ||
          (t === bTs &&
            (s.rank < best.rank ||
              (s.rank === best.rank &&
                (s.file[s.pos]! < best.file[best.pos]! ||
                  (s.file[s.pos]! === best.file[best.pos]! && s.line[s.pos]! < best.line[best.pos]!)))))
        ) {
          if (best !== null && bTs < otherTs) otherTs = bTs;
          best = s;
          bTs = t;
        } else if (t < otherTs) otherTs = t;
      }
      if (best === null) break;
      const rows = best.rows!;
      const ts = best.ts;
      cursor.role = best.spec.role;
      cursor.rows = rows;
      // a checkpoint inside this run of events bounds the run
      let stop = best.count;
      const toCheckpoint = this.nextCheckpoint - this.eventsFed;
      if (best.pos + toCheckpoint < stop) stop = best.pos + toCheckpoint;
      const from = best.pos;
      if (best.spec.role === "trades") {
        this.tradeSubs = best.subscribers;
        const px = rows.columns.px_int as Float64Array;
        const qty = rows.columns.qty_int as Float64Array;
        const side = rows.columns.side as Int8Array;
        do {
          const i = best.pos++;
          const t = ts[i]!;
          spine.advanceTo(t, sink);
          cursor.i = i;
          cursor.tsLocalUs = t;
          tradeView.tsLocalUs = t;
          tradeView.pxInt = px[i]!;
          tradeView.qtyInt = qty[i]!;
          tradeView.side = side[i]!;
          spine.onTrade(tradeView, sink);
        } while (best.pos < stop && ts[best.pos]! < otherTs);
      } else if (best.spec.role === "bars" && spine.onVendorBar !== undefined) {
        // a vendor bar closes its `bars` spine row after the operators have seen it (it is e*)
        cursor.qtyInt = Number.NaN;
        cursor.continuation = false;
        const subs = best.subscribers;
        const nSubs = subs.length;
        const start = rows.columns.bar_start_us as Float64Array;
        const interval = rows.columns.interval_us as Float64Array;
        do {
          const i = best.pos++;
          const t = ts[i]!;
          spine.advanceTo(t, sink);
          cursor.i = i;
          cursor.tsLocalUs = t;
          for (let k = 0; k < nSubs; k++) subs[k]!.onEvent(cursor);
          spine.onVendorBar(start[i]!, interval[i]!, t, sink);
        } while (best.pos < stop && ts[best.pos]! < otherTs);
      } else {
        cursor.qtyInt = Number.NaN;
        cursor.continuation = false;
        const subs = best.subscribers;
        const nSubs = subs.length;
        do {
          const i = best.pos++;
          const t = ts[i]!;
          spine.advanceTo(t, sink);
          cursor.i = i;
          cursor.tsLocalUs = t;
          for (let k = 0; k < nSubs; k++) subs[k]!.onEvent(cursor);
        } while (best.pos < stop && ts[best.pos]! < otherTs);
      }
      this.eventsFed += best.pos - from;
      this.lastTs = ts[best.pos - 1]!;
      if (this.eventsFed === this.nextCheckpoint) this.checkpoint();
    }
  }

  private checkpoint(): void {
    const checkpoints = this.cfg.checkpointAtEvents ?? [];
    this.checkpointIdx++;
    this.nextCheckpoint = checkpoints[this.checkpointIdx] ?? Number.POSITIVE_INFINITY;
    this.cfg.onCheckpoint?.(this.snapshot());
  }

  private flushFull(): void {
    this.sink.write(this.batch);
    this.batch = newBatch(this.batchRows, this.names.length);
    this.opCols = sliceColumns(this.ops, this.batch.columns);
  }
}

function streamKey(s: { readonly spec: StreamSpec }): string {
  return `${s.spec.role}:${s.spec.label}`;
}

/** Rows at timestamp `t` immediately before index `end` (ts sorted ascending). */
function countTail(ts: Float64Array, end: number, t: number): number {
  let n = 0;
  for (let i = end - 1; i >= 0 && ts[i] === t; i--) n++;
  return n;
}

interface MutableBatch extends FeatureBatch {
  length: number;
}

function newBatch(n: number, nOut: number): MutableBatch {
  return {
    length: 0,
    tsEventUs: new Float64Array(n),
    tsEndUs: new Float64Array(n),
    availableAtUs: new Float64Array(n),
    barIndex: new Float64Array(n),
    barDurationUs: new Float64Array(n),
    columns: Array.from({ length: nOut }, () => new Float64Array(n).fill(Number.NaN)),
  };
}

function trim(b: MutableBatch): FeatureBatch {
  const n = b.length;
  return {
    length: n,
    tsEventUs: b.tsEventUs.subarray(0, n),
    tsEndUs: b.tsEndUs.subarray(0, n),
    availableAtUs: b.availableAtUs.subarray(0, n),
    barIndex: b.barIndex.subarray(0, n),
    barDurationUs: b.barDurationUs.subarray(0, n),
    columns: b.columns.map((c) => c.subarray(0, n)),
  };
}

/** Per operator, its output columns within `columns` (outputs are laid out operator by operator). */
function sliceColumns(ops: readonly Operator[], columns: readonly Float64Array[]): Float64Array[][] {
  const out: Float64Array[][] = [];
  let k = 0;
  for (const op of ops) {
    out.push(columns.slice(k, k + op.outputs.length) as Float64Array[]);
    k += op.outputs.length;
  }
  return out;
}
