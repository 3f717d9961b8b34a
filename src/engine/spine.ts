/**
 * Event spines (DESIGN.md "Time semantics"): the points at which a feature frame has a row, built by
 * `createSpine` from a validated `SpineSpec` (spine-spec.ts: the one spine grammar and its parsers).
 *
 * - `clock` (`stepMs`): bar k covers [t_k, t_k + step) with t_k a multiple of the step since the epoch;
 *   an event at exactly t_k + step belongs to bar k+1. Row: ts_event = t_k, ts_end = available_at =
 *   t_k + step. Bars without events still get a row. bar_index = t_k / step.
 * - `trades`: one row per trade, closed by that trade (ts_event = ts_end = available_at = its ts_local_us).
 * - `volume` (`volumeThreshold` in base units, e.g. BTC), `dollar` (`dollarThreshold` in quote units, e.g.
 *   USDT notional), `tick` (`tickThreshold` trades): a bar accumulates trades and closes on the trade e*
 *   that reaches the threshold, which it includes whole; the counter then resets to zero (the volume-bar
 *   MFT guide's rule). With `splitTrades`, e* is split: the part that fills the bar exactly closes it and
 *   the rest starts the next bar (exact-volume bars; a large trade may fill several bars). With
 *   `useAbsoluteVolume: false` a volume bar sums signed volume (buy +, sell −, unknown 0) and closes when
 *   |sum| reaches the threshold (imbalance bars).
 * - `hybrid` (`volumeThreshold`, `maxTimeMs`): a volume bar that also closes at open + maxTime, whichever
 *   comes first. A time close is a clock close: the row covers events with ts_local_us < open + maxTime,
 *   ts_end = available_at = open + maxTime.
 *
 * - `bars` (`intervalMs`): one row per vendor bar of the lake's `ohlcv_bars` whose `interval_us` is the
 *   interval (bars of other intervals are ignored). A vendor bar is stamped at its end (`ts_local_us` =
 *   bar end, ingest/binance-vision/klines.ts), so the bar event is the row's completing event e*, like an
 *   event bar's closing trade: ts_event = `bar_start_us`, ts_end = available_at = the bar event's
 *   ts_local_us, and the row's knowledge set is every event up to and including the bar in the total
 *   order (ohlcv_bars has the last table rank: every state event of the bar's end timestamp is in it).
 *   bar_index = bar_start / interval (epoch-anchored like clock bars). No partial bars, no trades.
 *
 * Event bars open at their first trade (ts_event = its ts_local_us) and never span a UTC midnight: the
 * counters reset at every UTC day boundary, so bars are a function of that day's trades only and a run
 * started anywhere in or before the day gives the same bars (partition safety). A bar still open at a
 * day boundary or at the range end is partial: it is dropped and its trades counted as unassigned,
 * unless `includePartialLastBar` (then it closes at the boundary: ts_end = available_at = boundary).
 * Operators' per-bar accumulations are cleared (`discardBar`) at every UTC day boundary even when no bar
 * is open, so non-trade events after a day's last close never reach the next day's first bar. Within a
 * day, an event bar's in-bar events are those after the previous bar's close up to its own close.
 */
import { ConfigError } from "../core/errors.js";
import { MAX_EXACT_INT } from "../core/fixed.js";
import { US_PER_DAY, US_PER_MS } from "../core/time.js";
import { SIDE_BUY, SIDE_SELL } from "../schema/tables.js";
import type { JsonValue, SpineRow } from "./operator.js";
import { stateNumber, stateObject } from "./operator.js";
import type { SpineSpec } from "./spine-spec.js";

/** Mutable spine row, reused for every emission. */
export class MutableSpineRow implements SpineRow {
  tsEventUs = 0;
  tsEndUs = 0;
  availableAtUs = 0;
  barIndex = 0;
}

/** Trade fields a spine needs. */
export interface SpineTrade {
  tsLocalUs: number;
  pxInt: number;
  qtyInt: number;
  side: number;
}

/** Callbacks from a spine into the replay loop (created once per run). */
export interface SpineSink {
  /** Feed (a piece of) the current trade to the operators. */
  feedTrade(qtyInt: number, continuation: boolean): void;
  /** Emit a row (operators write their outputs). */
  emit(row: SpineRow): void;
  /** The open bar was dropped as partial: operators forget their per-bar accumulations. */
  discard(): void;
}

/**
 * Trades with ts_local_us in the output range [start, end), and those of them that belong to no output
 * row (dropped partial bars, bars that began before start, clock bars cut by the range end). Split
 * trades count once, in the bar of their first piece.
 */
export interface SpineStats {
  tradesInRange: number;
  unassignedTrades: number;
  unassignedQtyInt: number;
}

/** Per-bar counts of in-range trades, settled when the bar is emitted or dropped. */
class BarTally {
  trades = 0;
  qtyInt = 0;
  constructor(readonly stats: SpineStats) {}
  add(qtyInt: number, newTrade: boolean): void {
    if (newTrade) {
      this.trades++;
      this.stats.tradesInRange++;
    }
    this.qtyInt += qtyInt;
  }
  snapshot(): JsonValue {
    const st = this.stats;
    return {
      trades: this.trades,
      qtyInt: this.qtyInt,
      tradesInRange: st.tradesInRange,
      unassignedTrades: st.unassignedTrades,
      unassignedQtyInt: st.unassignedQtyInt,
    };
  }
  restore(state: JsonValue): void {
    const s = stateObject(state, "spine tally");
    this.trades = stateNumber(s, "trades");
    this.qtyInt = stateNumber(s, "qtyInt");
    this.stats.tradesInRange = stateNumber(s, "tradesInRange");
    this.stats.unassignedTrades = stateNumber(s, "unassignedTrades");
    this.stats.unassignedQtyInt = stateNumber(s, "unassignedQtyInt");
  }
  settle(kept: boolean): void {
    if (!kept) {
      this.stats.unassignedTrades += this.trades;
      this.stats.unassignedQtyInt += this.qtyInt;
    }
    this.trades = 0;
    this.qtyInt = 0;
  }
}

/** A spine instance of one replay (stateful; see `createSpine`). */
export interface Spine {
  readonly stats: SpineStats;
  /** Closes every time-based bar ending at or before tsUs (called before each event at tsUs). */
  advanceTo(tsUs: number, sink: SpineSink): void;
  /** Handles one trade: feeds it (possibly in pieces) and emits the bars it closes. */
  onTrade(t: SpineTrade, sink: SpineSink): void;
  /**
   * Optional (`bars` spines): a vendor bar of `ohlcv_bars` was fed to the operators (µs: its start, its
   * interval, its ts_local_us = end); emits its row when the interval is the spine's.
   */
  onVendorBar?(barStartUs: number, intervalUs: number, tsLocalUs: number, sink: SpineSink): void;
  /** End of replay at endUs (exclusive): closes complete clock bars, handles the partial bar. */
  finish(endUs: number, sink: SpineSink): void;
  /** Where the replay must start for bars to be identical to a run from the beginning of time. */
  replayStartUs(startUs: number, warmupUs: number): number;
  /** State between two events (open bar, counters, day anchor, stats) as JSON. */
  snapshot(): JsonValue;
  /**
   * Restores `snapshot()` into a spine of the same config (after `replayStartUs`).
   * @throws ConfigError if the state is of another spine type or threshold; TypeError if malformed.
   */
  restore(state: JsonValue): void;
}

/** What a spine needs from the run: output start and the instrument's increments. */
export interface SpineContext {
  /** Start of the output range: trades before it are warm-up (not counted in stats). */
  readonly startUs: number;
  /** Price and amount increments of the instrument (for dollar and volume thresholds). */
  readonly priceIncrement: number;
  readonly amountIncrement: number;
}

/**
 * Builds the spine of a validated `SpineSpec` (see spine-spec.ts; parse user input with `parseSpineSpec`,
 * `parseSpineShorthand` or `spineSpecFromRequest`). Thresholds are converted to integer increments with
 * the instrument's `ctx` increments (`thresholdInt`).
 * @throws ConfigError if a threshold is not representable in the instrument's increments.
 */
export function createSpine(spec: SpineSpec, ctx: SpineContext): Spine {
  switch (spec.type) {
    case "clock":
      return new ClockSpine({ stepUs: spec.stepMs * US_PER_MS, maxRows: spec.maxRows });
    case "trades":
      return new ThresholdSpine({ ...ONE_TRADE_BARS, maxRows: spec.maxRows }, ctx);
    case "tick":
      return new ThresholdSpine(
        {
          ...ONE_TRADE_BARS,
          thresholdInt: spec.tickThreshold,
          includePartialLastBar: spec.includePartialLastBar,
          maxRows: spec.maxRows,
        },
        ctx,
      );
    case "volume":
      return new ThresholdSpine(
        {
          kind: "volume",
          thresholdInt: thresholdInt(spec.volumeThreshold, ctx.amountIncrement, "volumeThreshold"),
          splitTrades: spec.splitTrades,
          useAbsoluteVolume: spec.useAbsoluteVolume,
          maxTimeUs: 0,
          includePartialLastBar: spec.includePartialLastBar,
          maxRows: spec.maxRows,
        },
        ctx,
      );
    case "dollar":
      return new ThresholdSpine(
        {
          kind: "dollar",
          thresholdInt: thresholdInt(
            spec.dollarThreshold,
            ctx.amountIncrement * ctx.priceIncrement,
            "dollarThreshold",
          ),
          splitTrades: spec.splitTrades,
          useAbsoluteVolume: true,
          maxTimeUs: 0,
          includePartialLastBar: spec.includePartialLastBar,
          maxRows: spec.maxRows,
        },
        ctx,
      );
    case "bars":
      return new VendorBarSpine(spec.intervalMs * US_PER_MS, spec.maxRows, ctx.startUs);
    case "hybrid":
      return new ThresholdSpine(
        {
          kind: "volume",
          thresholdInt: thresholdInt(spec.volumeThreshold, ctx.amountIncrement, "volumeThreshold"),
          splitTrades: false,
          useAbsoluteVolume: spec.useAbsoluteVolume,
          maxTimeUs: spec.maxTimeMs * US_PER_MS,
          includePartialLastBar: spec.includePartialLastBar,
          maxRows: spec.maxRows,
        },
        ctx,
      );
  }
}

/** Options of a `ThresholdSpine`, in engine units (see `createSpine`). */
interface ThresholdSpineOptions {
  /** What the threshold counts: qty increments, price×qty increments, or trades. */
  readonly kind: "volume" | "dollar" | "tick";
  /** Threshold in integer units of `kind`. */
  readonly thresholdInt: number;
  readonly splitTrades: boolean;
  /** false: signed volume (buy +, sell −), closes on |sum| ≥ threshold. */
  readonly useAbsoluteVolume: boolean;
  /** Time close of hybrid bars (µs after the bar's open); 0 = none. */
  readonly maxTimeUs: number;
  readonly includePartialLastBar: boolean;
  readonly maxRows: number;
}

/** `trades` spine: 1-trade tick bars that are never partial. */
const ONE_TRADE_BARS = {
  kind: "tick",
  thresholdInt: 1,
  splitTrades: false,
  useAbsoluteVolume: true,
  maxTimeUs: 0,
  includePartialLastBar: false,
} as const;

/**
 * Threshold in integer units (qty increments, or price×qty increments for notional), rounded up so a bar
 * never closes below the requested threshold. @throws ConfigError if not exactly representable.
 */
function thresholdInt(threshold: number, increment: number, name: string): number {
  if (!(increment > 0)) throw new ConfigError(`${name}: instrument has no increment in the symbol registry`);
  const q = threshold / increment;
  const t = Math.ceil(q - 1e-9 * Math.max(1, q));
  if (!(t >= 1) || t > MAX_EXACT_INT / 4) {
    throw new ConfigError(`${name} ${threshold} is ${q} increments: must be between 1 and 2^51 increments`);
  }
  return t;
}

class ClockSpine implements Spine {
  readonly stats: SpineStats = { tradesInRange: 0, unassignedTrades: 0, unassignedQtyInt: 0 };
  private readonly tally = new BarTally(this.stats);
  private startUs = 0;
  private barStart = Number.NaN;
  private rows = 0;
  private readonly row = new MutableSpineRow();

  private readonly stepUs: number;
  private readonly maxRows: number;

  constructor(o: { readonly stepUs: number; readonly maxRows: number }) {
    this.stepUs = o.stepUs;
    this.maxRows = o.maxRows;
  }

  replayStartUs(startUs: number, warmupUs: number): number {
    this.startUs = startUs;
    const s = startUs - warmupUs;
    const start = Math.floor(s / this.stepUs) * this.stepUs;
    this.barStart = start;
    return start;
  }

  advanceTo(tsUs: number, sink: SpineSink): void {
    while (this.barStart + this.stepUs <= tsUs) this.close(sink);
  }

  snapshot(): JsonValue {
    return {
      type: "clock",
      stepUs: this.stepUs,
      startUs: this.startUs,
      barStart: this.barStart,
      rows: this.rows,
      tally: this.tally.snapshot(),
    };
  }

  restore(state: JsonValue): void {
    const s = stateObject(state, "clock spine");
    if (s.type !== "clock" || stateNumber(s, "stepUs") !== this.stepUs)
      throw new ConfigError(
        `spine state (${String(s.type)}, step ${String(s.stepUs)} µs) is not this clock spine's (step ${this.stepUs} µs)`,
      );
    this.startUs = stateNumber(s, "startUs");
    this.barStart = stateNumber(s, "barStart");
    this.rows = stateNumber(s, "rows");
    this.tally.restore(s.tally ?? null);
  }

  onTrade(t: SpineTrade, sink: SpineSink): void {
    if (t.tsLocalUs >= this.startUs) this.tally.add(t.qtyInt, true);
    sink.feedTrade(t.qtyInt, false);
  }

  finish(endUs: number, sink: SpineSink): void {
    this.advanceTo(endUs, sink);
    this.tally.settle(false); // the bar cut by the range end has no row
  }

  private close(sink: SpineSink): void {
    const r = this.row;
    r.tsEventUs = this.barStart;
    r.tsEndUs = this.barStart + this.stepUs;
    r.availableAtUs = r.tsEndUs;
    r.barIndex = Math.round(this.barStart / this.stepUs);
    if (++this.rows > this.maxRows)
      throw new ConfigError(`spine would produce more than maxRows=${this.maxRows} rows`);
    this.barStart = r.tsEndUs;
    this.tally.settle(r.tsEventUs >= this.startUs);
    sink.emit(r);
  }
}

/** volume / dollar / tick / trades / hybrid bars. */
class ThresholdSpine implements Spine {
  readonly stats: SpineStats = { tradesInRange: 0, unassignedTrades: 0, unassignedQtyInt: 0 };
  private readonly tally = new BarTally(this.stats);
  private open = false;
  private openUs = 0;
  private acc = 0;
  private barIndex = 0;
  private dayEndUs = Number.NaN;
  private rows = 0;
  private readonly row = new MutableSpineRow();

  private readonly kind: "volume" | "dollar" | "tick";
  private readonly threshold: number;
  private readonly split: boolean;
  private readonly absolute: boolean;
  private readonly maxTimeUs: number;
  private readonly includePartial: boolean;
  private readonly maxRows: number;

  constructor(
    o: ThresholdSpineOptions,
    private readonly ctx: SpineContext,
  ) {
    this.kind = o.kind;
    this.threshold = o.thresholdInt;
    this.split = o.splitTrades;
    this.absolute = o.useAbsoluteVolume;
    this.maxTimeUs = o.maxTimeUs;
    this.includePartial = o.includePartialLastBar;
    this.maxRows = o.maxRows;
  }

  replayStartUs(startUs: number, warmupUs: number): number {
    const s = Math.floor((startUs - warmupUs) / US_PER_DAY) * US_PER_DAY;
    this.dayEndUs = s + US_PER_DAY;
    return s;
  }

  snapshot(): JsonValue {
    return {
      type: this.kind,
      threshold: this.threshold,
      open: this.open,
      openUs: this.openUs,
      acc: this.acc,
      barIndex: this.barIndex,
      dayEndUs: this.dayEndUs,
      rows: this.rows,
      tally: this.tally.snapshot(),
    };
  }

  restore(state: JsonValue): void {
    const s = stateObject(state, "event spine");
    if (s.type !== this.kind || stateNumber(s, "threshold") !== this.threshold)
      throw new ConfigError(
        `spine state (${String(s.type)}, threshold ${String(s.threshold)}) is not this spine's (${this.kind}, threshold ${this.threshold} increments)`,
      );
    if (typeof s.open !== "boolean") throw new TypeError("state field open must be a boolean");
    this.open = s.open;
    this.openUs = stateNumber(s, "openUs");
    this.acc = stateNumber(s, "acc");
    this.barIndex = stateNumber(s, "barIndex");
    this.dayEndUs = stateNumber(s, "dayEndUs");
    this.rows = stateNumber(s, "rows");
    this.tally.restore(s.tally ?? null);
  }

  advanceTo(tsUs: number, sink: SpineSink): void {
    if (this.open && this.maxTimeUs > 0 && tsUs >= this.openUs + this.maxTimeUs) {
      this.close(this.openUs + this.maxTimeUs, sink);
    }
    while (tsUs >= this.dayEndUs) {
      // a day boundary always clears per-bar accumulations: a bar open at midnight is partial, and when
      // none is open, events since the day's last close (quotes, books, ticker) must not leak into the
      // next day's first bar (that would make the bar depend on the previous day)
      if (this.open) this.partial(this.dayEndUs, sink);
      else sink.discard();
      this.barIndex = 0;
      this.dayEndUs += US_PER_DAY;
    }
  }

  onTrade(t: SpineTrade, sink: SpineSink): void {
    const inRange = t.tsLocalUs >= this.ctx.startUs;
    if (!this.open) {
      this.open = true;
      this.openUs = t.tsLocalUs;
      this.acc = 0;
    }
    if (this.kind === "tick") {
      if (inRange) this.tally.add(t.qtyInt, true);
      sink.feedTrade(t.qtyInt, false);
      if (++this.acc >= this.threshold) this.close(t.tsLocalUs, sink);
      return;
    }
    // volume or dollar: per-unit weight of one qty increment in threshold units
    const unit = this.kind === "dollar" ? t.pxInt : 1;
    const sign = this.absolute ? 1 : t.side === SIDE_BUY ? 1 : t.side === SIDE_SELL ? -1 : 0;
    if (!this.split) {
      if (inRange) this.tally.add(t.qtyInt, true);
      this.acc += sign * t.qtyInt * unit;
      sink.feedTrade(t.qtyInt, false);
      if (Math.abs(this.acc) >= this.threshold) this.close(t.tsLocalUs, sink);
      return;
    }
    // exact bars: fill the bar with the part of the trade that reaches the threshold
    let remaining = t.qtyInt;
    let continuation = false;
    while (remaining > 0) {
      const needUnits = this.threshold - this.acc;
      const needQty = Math.ceil(needUnits / unit);
      const piece = Math.min(remaining, needQty);
      if (inRange) this.tally.add(piece, !continuation);
      this.acc += piece * unit;
      remaining -= piece;
      sink.feedTrade(piece, continuation);
      continuation = true;
      if (this.acc >= this.threshold) {
        this.close(t.tsLocalUs, sink);
        if (remaining > 0) {
          this.open = true;
          this.openUs = t.tsLocalUs;
          this.acc = 0;
        }
      }
    }
  }

  finish(endUs: number, sink: SpineSink): void {
    this.advanceTo(endUs, sink);
    if (this.open) this.partial(endUs, sink);
  }

  private partial(atUs: number, sink: SpineSink): void {
    if (this.includePartial) this.close(atUs, sink);
    else {
      this.tally.settle(false);
      this.open = false;
      sink.discard();
    }
  }

  private close(endUs: number, sink: SpineSink): void {
    const r = this.row;
    r.tsEventUs = this.openUs;
    r.tsEndUs = endUs;
    r.availableAtUs = endUs;
    r.barIndex = this.barIndex++;
    if (++this.rows > this.maxRows)
      throw new ConfigError(`spine would produce more than maxRows=${this.maxRows} rows`);
    this.open = false;
    this.tally.settle(r.tsEventUs >= this.ctx.startUs);
    sink.emit(r);
  }
}

/** `bars` spine: one row per vendor bar of the interval (see the module doc). */
class VendorBarSpine implements Spine {
  readonly stats: SpineStats = { tradesInRange: 0, unassignedTrades: 0, unassignedQtyInt: 0 };
  private rows = 0;
  private lastStartUs = Number.NEGATIVE_INFINITY;
  private readonly row = new MutableSpineRow();

  constructor(
    private readonly intervalUs: number,
    private readonly maxRows: number,
    private readonly startUs: number,
  ) {}

  replayStartUs(startUs: number, warmupUs: number): number {
    // a bar is read whole: start on the interval grid at or before start − warm-up
    return Math.floor((startUs - warmupUs) / this.intervalUs) * this.intervalUs;
  }

  advanceTo(): void {}

  onTrade(t: SpineTrade, sink: SpineSink): void {
    if (t.tsLocalUs >= this.startUs) this.stats.tradesInRange++;
    sink.feedTrade(t.qtyInt, false);
  }

  onVendorBar(barStartUs: number, intervalUs: number, tsLocalUs: number, sink: SpineSink): void {
    if (intervalUs !== this.intervalUs) return;
    if (!(barStartUs > this.lastStartUs))
      throw new ConfigError(
        `bars spine: vendor bar starting at ${barStartUs} µs follows one starting at ${this.lastStartUs} µs (two bars of one interval at one time, or out of order)`,
      );
    this.lastStartUs = barStartUs;
    const r = this.row;
    r.tsEventUs = barStartUs;
    r.tsEndUs = tsLocalUs;
    r.availableAtUs = tsLocalUs;
    r.barIndex = Math.floor(barStartUs / this.intervalUs);
    if (++this.rows > this.maxRows)
      throw new ConfigError(`spine would produce more than maxRows=${this.maxRows} rows`);
    sink.emit(r);
  }

  finish(): void {}

  snapshot(): JsonValue {
    return {
      type: "bars",
      intervalUs: this.intervalUs,
      rows: this.rows,
      lastStartUs: this.lastStartUs === Number.NEGATIVE_INFINITY ? null : this.lastStartUs,
    };
  }

  restore(state: JsonValue): void {
    const s = stateObject(state, "bars spine");
    if (s.type !== "bars" || stateNumber(s, "intervalUs") !== this.intervalUs)
      throw new ConfigError(
        `spine state (${String(s.type)}, interval ${String(s.intervalUs)} µs) is not this bars spine's (interval ${this.intervalUs} µs)`,
      );
    this.rows = stateNumber(s, "rows");
    const last = stateNumber(s, "lastStartUs");
    this.lastStartUs = Number.isNaN(last) ? Number.NEGATIVE_INFINITY : last;
  }
}
