/**
 * `replay_1m` from the lake: one row per symbol per UTC minute, computed by the one Driver on a 60 s
 * clock spine with registered operators (the `replay_1m` preset, `replayMembers`). Existing pipeline
 * aggregations are reused by registry name wherever their definition is the replay column's:
 *
 * | replay column | operator (table, join) |
 * |---|---|
 * | open, high, low, close, volume | `ohlcv` (trades, in_bar) |
 * | taker_buy_volume, taker_sell_volume | `taker_volume` (trades, in_bar) |
 * | (fallback) open … volume, taker_buy_volume | `kline_1m` (ohlcv_bars, the vendor 1m bar of the minute) |
 * | funding_bps | `funding_close` (derivative_ticker, asof_backward) × 1e4; else `funding_events_1m` (funding_events) |
 * | mark_price, index_price, next_funding_time | `last` of mark_px / index_px / next_funding_time_us (derivative_ticker, asof_backward); next_funding_time else `funding_events_1m` |
 * | open_interest | `oi_last` (derivative_ticker, asof_backward) |
 * | spread_bps | `spread_bps` (quotes, else book_snapshot_25 level 0; asof_backward) |
 * | level1_ofi_1m | `ofi_cont` (quotes, else book_snapshot_25 level 0; in_bar) |
 * | liquidation_buy/sell_notional_1m, liquidation_available | `liquidation_notional_1m` (liquidations, in_bar) |
 *
 * and `replay_1m` assembles the row from those members' row values (`rowInputs`).
 *
 * **Time.** Row m (minute open t) is knowable at t + 60 s (`available_at_us`). Trades and as-of state are
 * those of the spine row [t, t + 60 s): events with ts_local_us < t + 60 s. A vendor 1m bar of minute m is
 * stamped at its close, ts_local_us = t + 60 s (ingest's PIT rule), which the clock spine's half-open bars
 * give to the next spine row. `replay_1m` therefore writes minute m at the spine row of minute m + 1: the
 * trade and as-of values it holds from the row before, and the vendor bar that arrived exactly at that
 * row's open (`kline_1m` keeps only a bar whose close is the row's open). The builder runs the Driver over
 * [start + 60 s, end + 60 s) and labels each output row with its minute (ts_event − 60 s). No value of
 * row m depends on an event after t + 60 s (prefix-truncation tested).
 *
 * **Fallback.** A minute with trades takes OHLCV and taker volumes from them; a minute without trades
 * takes them from the vendor 1m bar when there is one (taker sell = volume − taker buy; null when the
 * vendor bar has no taker volume); a minute with neither has no close and no replay row.
 *
 * **Open interest.** `derivative_ticker.open_interest` is the one source today; the member list takes
 * the open-interest member as a parameter (`oiTable`), so an `open_interest` table (issue #13) can be
 * added as a second source without touching `replay_1m`, which reads the row value `open_interest_asof`.
 *
 * **Units.** Prices and sizes stay in increments inside the run (`price increments`, `qty increments`)
 * and are converted exactly at the sink (engine/units.ts); liquidation notionals are quote currency
 * (px · qty · price_increment · amount_increment); funding in bps per funding interval.
 */
import { z } from "zod";
import { US_PER_MINUTE } from "../../core/time.js";
import { f64, i8, readsOf } from "../../engine/inputs.js";
import {
  type EventCursor,
  type JsonValue,
  numbersToJson,
  numberToJson,
  type Operator,
  type OperatorContext,
  type OutputSpec,
  type SpineRow,
  stateNumber,
  stateNumbers,
  stateObject,
} from "../../engine/operator.js";
import type { OperatorDef, OutputMeta } from "../../engine/registry.js";
import { BUILTIN_AGGREGATIONS } from "../../pipeline/aggregations/index.js";
import type { TypedRows } from "../../query/query.js";
import type { TableName } from "../../schema/tables.js";
import type { FamilyMember } from "../family.js";
import { familyOperator, outputBuilder } from "../family.js";
import { TRADER_SOURCE } from "./features.js";
import { REPLAY_UNITS, REPLAY_VALUE_COLUMNS } from "./preset.js";

const EMPTY: Float64Array = new Float64Array(0);

// ---------------------------------------------------------------- kline_1m
const KLINE_NAMES = [
  "kline_open",
  "kline_high",
  "kline_low",
  "kline_close",
  "kline_volume",
  "kline_taker_buy",
] as const;
const KLINE_COLUMNS = [
  "bar_start_us",
  "interval_us",
  "open_px_int",
  "high_px_int",
  "low_px_int",
  "close_px_int",
  "volume_qty_int",
  "taker_buy_qty_int",
] as const;

const klineCol = outputBuilder({
  warmupRows: 0,
  window: "the vendor 1m bar that closed at the row's open (ts_local_us = bar end = the row's ts_event_us)",
  warmup: "none",
  pitPolicy:
    "a vendor bar is knowable at its close (ts_local_us = bar end); the row holds the bar closing at its open",
  source: "vendor 1m klines (ohlcv_bars, e.g. data.binance.vision)",
});

const KLINE_OUTPUTS: readonly OutputMeta[] = [
  klineCol("kline_open", "f64", "open_px_int of the 1m bar", {
    unit: "price increments",
    inputs: ["ohlcv_bars.open_px_int"],
  }),
  klineCol("kline_high", "f64", "high_px_int of the 1m bar", {
    unit: "price increments",
    inputs: ["ohlcv_bars.high_px_int"],
  }),
  klineCol("kline_low", "f64", "low_px_int of the 1m bar", {
    unit: "price increments",
    inputs: ["ohlcv_bars.low_px_int"],
  }),
  klineCol("kline_close", "f64", "close_px_int of the 1m bar", {
    unit: "price increments",
    inputs: ["ohlcv_bars.close_px_int"],
  }),
  klineCol("kline_volume", "f64", "volume_qty_int of the 1m bar", {
    unit: "qty increments",
    inputs: ["ohlcv_bars.volume_qty_int"],
  }),
  klineCol("kline_taker_buy", "f64", "taker_buy_qty_int of the 1m bar (null when the vendor has none)", {
    unit: "qty increments",
    inputs: ["ohlcv_bars.taker_buy_qty_int"],
  }),
];

/**
 * The vendor 1m bar (`ohlcv_bars` with interval_us = 60 s) that closed at the row's open: bars of other
 * intervals are ignored, a later bar of the same close replaces an earlier one (last in the total
 * order). O(1) per event.
 */
export class Kline1mOperator implements Operator {
  readonly id = "kline_1m";
  readonly inputs = ["bars"] as const;
  readonly reads = { bars: readsOf("bars", KLINE_COLUMNS) };
  readonly outputs: readonly OutputSpec[] = KLINE_OUTPUTS;
  /** The last 1m bar seen: its close (µs) and values. */
  private closeUs = Number.NaN;
  private readonly vals = new Float64Array(6).fill(Number.NaN);
  private rows: TypedRows | null = null;
  private cols: Float64Array[] = [];

  onEvent(ev: EventCursor): void {
    if (ev.rows !== this.rows) {
      this.rows = ev.rows;
      this.cols = KLINE_COLUMNS.map((c) => f64(ev.rows, c));
    }
    const i = ev.i;
    if (this.cols[1]![i] !== US_PER_MINUTE) return;
    this.closeUs = this.cols[0]![i]! + US_PER_MINUTE;
    for (let k = 0; k < 6; k++) this.vals[k] = this.cols[2 + k]![i]!;
  }

  emit(row: SpineRow, out: readonly Float64Array[], r: number): void {
    const hit = this.closeUs === row.tsEventUs;
    for (let k = 0; k < 6; k++) out[k]![r] = hit ? this.vals[k]! : Number.NaN;
  }

  snapshot(): JsonValue {
    return {
      v: 1,
      closeUs: Number.isNaN(this.closeUs) ? null : this.closeUs,
      vals: numbersToJson(this.vals),
    };
  }

  restore(state: JsonValue): void {
    const s = stateObject(state, this.id);
    if (s.v !== 1) throw new TypeError(`${this.id}: unsupported state version ${String(s.v)}`);
    this.closeUs = stateNumber(s, "closeUs");
    const v = stateNumbers(s, "vals");
    for (let k = 0; k < 6; k++) this.vals[k] = v[k] ?? Number.NaN;
  }
}

export const kline1mOperator: OperatorDef = familyOperator({
  name: "kline_1m",
  description: "the vendor 1m bar (ohlcv_bars, interval 60 s) that closed at the row's open, in increments",
  source: "vendor 1m klines (ohlcv_bars)",
  outputs: () => KLINE_OUTPUTS,
  create: () => new Kline1mOperator(),
});

// ---------------------------------------------------------------- liquidation_notional_1m
/** A covered interval [fromUs, toUs] of a liquidation stream (µs, inclusive). */
export interface CoverageInterval {
  readonly fromUs: number;
  readonly toUs: number;
}

const LIQ_PARAMS = z
  .object({
    /** Intervals in which the lake holds a liquidation stream for the instrument (µs, sorted or not). */
    coverage: z.array(z.object({ fromUs: z.number(), toUs: z.number() }).strict()).default([]),
  })
  .strict();

const liqCol = outputBuilder({
  warmupRows: 0,
  window: "current bar (liquidations with ts_local_us in [open, close))",
  warmup: "none",
  pitPolicy: "liquidations fed to the bar; availability from the lake's file coverage (metadata)",
  source: "Binance forceOrder / Tardis liquidations (side 0 = buy order: shorts liquidated)",
});

const LIQ_OUTPUTS: readonly OutputMeta[] = [
  liqCol(
    "liq_buy_notional",
    "f64",
    "Σ px · qty of the bar's liquidations with side 0 (buy); 0 when none; null when unavailable",
    {
      unit: "quote currency",
      inputs: ["liquidations.px_int", "liquidations.qty_int", "liquidations.side"],
    },
  ),
  liqCol(
    "liq_sell_notional",
    "f64",
    "Σ px · qty of the bar's liquidations with side 1 (sell); 0 when none; null when unavailable",
    {
      unit: "quote currency",
      inputs: ["liquidations.px_int", "liquidations.qty_int", "liquidations.side"],
    },
  ),
  liqCol(
    "liq_available",
    "f64",
    "1 when the bar [open, close) lies in a covered interval of the lake's liquidation stream, else 0",
    {
      unit: "0/1",
      inputs: ["liquidations"],
    },
  ),
];

/**
 * Liquidation notional per bar by side and the stream's availability. A bar is available when
 * [open, close) lies inside one `coverage` interval (the time range of a source file that holds the
 * instrument's liquidation stream; computed by the builder from the lake's manifests): "no liquidations
 * happened" is 0 with availability 1, "no liquidation data" is null with availability 0. Notional
 * px_int · qty_int is an exact integer below 2^53 (else float64 rounding) times the two increments.
 */
export class LiquidationNotionalOperator implements Operator {
  readonly id = "liquidation_notional_1m";
  readonly inputs = ["liquidations"] as const;
  readonly reads = { liquidations: { px_int: "f64", qty_int: "f64", side: "i8" } } as const;
  readonly outputs: readonly OutputSpec[] = LIQ_OUTPUTS;
  private readonly coverage: readonly CoverageInterval[];
  private scale = 1;
  private buy = 0;
  private sell = 0;
  private rows: TypedRows | null = null;
  private px = EMPTY;
  private qty = EMPTY;
  private side: Int8Array = new Int8Array(0);

  constructor(coverage: readonly CoverageInterval[]) {
    this.coverage = [...coverage].sort((a, b) => a.fromUs - b.fromUs);
  }

  init(ctx: OperatorContext): void {
    this.scale = ctx.primary.priceIncrement * ctx.primary.amountIncrement;
  }

  onEvent(ev: EventCursor): void {
    if (ev.rows !== this.rows) {
      this.rows = ev.rows;
      this.px = f64(ev.rows, "px_int");
      this.qty = f64(ev.rows, "qty_int");
      this.side = i8(ev.rows, "side");
    }
    const n = this.px[ev.i]! * this.qty[ev.i]!;
    const s = this.side[ev.i]!;
    if (s === 0) this.buy += n;
    else if (s === 1) this.sell += n;
  }

  private available(openUs: number, closeUs: number): boolean {
    for (const c of this.coverage) if (c.fromUs <= openUs && closeUs - 1 <= c.toUs) return true;
    return false;
  }

  emit(row: SpineRow, out: readonly Float64Array[], r: number): void {
    const ok = this.available(row.tsEventUs, row.tsEndUs);
    out[0]![r] = ok ? this.buy * this.scale : Number.NaN;
    out[1]![r] = ok ? this.sell * this.scale : Number.NaN;
    out[2]![r] = ok ? 1 : 0;
    this.buy = 0;
    this.sell = 0;
  }

  discardBar(): void {
    this.buy = 0;
    this.sell = 0;
  }

  snapshot(): JsonValue {
    return { v: 1, buy: this.buy, sell: this.sell };
  }

  restore(state: JsonValue): void {
    const s = stateObject(state, this.id);
    if (s.v !== 1) throw new TypeError(`${this.id}: unsupported state version ${String(s.v)}`);
    this.buy = stateNumber(s, "buy");
    this.sell = stateNumber(s, "sell");
  }
}

export const liquidationNotionalOperator: OperatorDef = familyOperator({
  name: "liquidation_notional_1m",
  description:
    "per bar: Σ px·qty of liquidations by side (quote currency) and whether the lake covers the bar with a liquidation stream",
  source: "Binance forceOrder / Tardis liquidations",
  params: LIQ_PARAMS,
  outputs: () => LIQ_OUTPUTS,
  create: (c) => new LiquidationNotionalOperator(c.coverage),
});

// ---------------------------------------------------------------- funding_events_1m
const fundCol = outputBuilder({
  warmupRows: 0,
  window: "as-of (last funding event at or before the row's close, carried since the replay start)",
  warmup: "none (null before the first funding event)",
  pitPolicy:
    "funding events with ts_local_us < the row's close (a realized funding event is knowable when it is stamped)",
  source: "realized funding events (funding_events: freqtrade funding JSON, Lean margin_interest, …)",
});

const FUNDING_EVENT_OUTPUTS: readonly OutputMeta[] = [
  fundCol("funding_rate_event_asof", "f64", "funding_rate of the last funding event", {
    unit: "rate per funding interval",
    inputs: ["funding_events.funding_rate"],
  }),
  fundCol(
    "next_funding_time_event",
    "f64",
    "T + I·(⌊(close − T) / I⌋ + 1): the first funding time after the row's close on the grid of the last event T with its interval I (null when I is unknown)",
    { unit: "µs", inputs: ["funding_events.ts_local_us", "funding_events.funding_interval_us"] },
  ),
];

/**
 * As-of realized funding (`funding_events`): the last event's rate and the next funding time projected
 * on its interval grid. The fallback of `funding_bps` / `next_funding_time` for lakes without a
 * derivative ticker. O(1) per event.
 */
export class FundingEventsOperator implements Operator {
  readonly id = "funding_events_1m";
  readonly inputs = ["funding"] as const;
  readonly reads = { funding: { funding_rate: "f64", funding_interval_us: "f64" } } as const;
  readonly outputs: readonly OutputSpec[] = FUNDING_EVENT_OUTPUTS;
  private rate = Number.NaN;
  private tsUs = Number.NaN;
  private intervalUs = Number.NaN;
  private rows: TypedRows | null = null;
  private rateCol = EMPTY;
  private intervalCol = EMPTY;

  onEvent(ev: EventCursor): void {
    if (ev.rows !== this.rows) {
      this.rows = ev.rows;
      this.rateCol = f64(ev.rows, "funding_rate");
      this.intervalCol = f64(ev.rows, "funding_interval_us");
    }
    const r = this.rateCol[ev.i]!;
    if (Number.isNaN(r)) return;
    this.rate = r;
    this.tsUs = ev.tsLocalUs;
    this.intervalUs = this.intervalCol[ev.i]!;
  }

  emit(row: SpineRow, out: readonly Float64Array[], r: number): void {
    out[0]![r] = this.rate;
    const i = this.intervalUs;
    out[1]![r] = i > 0 ? this.tsUs + i * (Math.floor((row.tsEndUs - this.tsUs) / i) + 1) : Number.NaN;
  }

  snapshot(): JsonValue {
    return {
      v: 1,
      rate: numberToJson(this.rate),
      tsUs: numberToJson(this.tsUs),
      intervalUs: numberToJson(this.intervalUs),
    };
  }

  restore(state: JsonValue): void {
    const s = stateObject(state, this.id);
    if (s.v !== 1) throw new TypeError(`${this.id}: unsupported state version ${String(s.v)}`);
    this.rate = stateNumber(s, "rate");
    this.tsUs = stateNumber(s, "tsUs");
    this.intervalUs = stateNumber(s, "intervalUs");
  }
}

export const fundingEventsOperator: OperatorDef = familyOperator({
  name: "funding_events_1m",
  description:
    "as-of realized funding (funding_events): the last event's rate and the next funding time on its interval grid",
  source: "realized funding events (funding_events)",
  outputs: () => FUNDING_EVENT_OUTPUTS,
  create: () => new FundingEventsOperator(),
});

// ---------------------------------------------------------------- replay_1m (assembly)
/** Row values replay_1m reads, in order (names written by the members of `replayMembers`). */
const ASSEMBLY_INPUTS = [
  "trade_open",
  "trade_high",
  "trade_low",
  "trade_close",
  "trade_volume",
  "trade_buy_volume",
  "trade_sell_volume",
  ...KLINE_NAMES,
  "funding_rate_asof",
  "mark_px_asof",
  "index_px_asof",
  "next_funding_time_asof",
  "funding_rate_event_asof",
  "next_funding_time_event",
  "open_interest_asof",
  "spread_bps_asof",
  "ofi_1m",
  "liq_buy_notional",
  "liq_sell_notional",
  "liq_available",
] as const;
const A = Object.fromEntries(ASSEMBLY_INPUTS.map((n, k) => [n, k])) as Record<
  (typeof ASSEMBLY_INPUTS)[number],
  number
>;
/** Inputs held from the previous spine row (all but the kline's, which arrive one row later). */
const HELD = ASSEMBLY_INPUTS.filter((n) => !n.startsWith("kline_")).map((n) => A[n]);

/** Engine units of the replay columns (prices/sizes in increments inside the run; the sink converts). */
const ENGINE_UNITS: Readonly<Record<string, string>> = {
  open: "price increments",
  high: "price increments",
  low: "price increments",
  close: "price increments",
  volume: "qty increments",
  taker_buy_volume: "qty increments",
  taker_sell_volume: "qty increments",
  level1_ofi_1m: "qty increments",
};

const asm = outputBuilder({
  warmupRows: 1,
  window: "the minute (trades, L1 updates, liquidations in [t, t + 60 s); as-of values at t + 60 s)",
  warmup: "1 spine row (the minute is written at the next spine row, see the module doc)",
  pitPolicy: "events with ts_local_us < t + 60 s, and the vendor 1m bar stamped at t + 60 s (its close)",
  source: TRADER_SOURCE,
});

const FORMULAS: Readonly<Record<(typeof REPLAY_VALUE_COLUMNS)[number], [string, readonly string[]]>> = {
  open: [
    "first trade px of the minute; else the vendor bar's open",
    ["trades.px_int", "ohlcv_bars.open_px_int"],
  ],
  high: ["max trade px; else the vendor bar's high", ["trades.px_int", "ohlcv_bars.high_px_int"]],
  low: ["min trade px; else the vendor bar's low", ["trades.px_int", "ohlcv_bars.low_px_int"]],
  close: [
    "last trade px; else the vendor bar's close; null (no row) with neither",
    ["trades.px_int", "ohlcv_bars.close_px_int"],
  ],
  volume: ["Σ trade qty; else the vendor bar's volume", ["trades.qty_int", "ohlcv_bars.volume_qty_int"]],
  taker_buy_volume: [
    "Σ qty of taker buys; else the vendor bar's taker buy volume",
    ["trades.side", "ohlcv_bars.taker_buy_qty_int"],
  ],
  taker_sell_volume: [
    "Σ qty of taker sells; else vendor volume − taker buy volume",
    ["trades.side", "ohlcv_bars.taker_buy_qty_int"],
  ],
  funding_bps: [
    "funding_rate as-of the minute's close · 1e4 (derivative_ticker; else the last realized funding event)",
    ["derivative_ticker.funding_rate", "funding_events.funding_rate"],
  ],
  mark_price: ["mark_px as-of the minute's close", ["derivative_ticker.mark_px"]],
  index_price: ["index_px as-of the minute's close", ["derivative_ticker.index_px"]],
  next_funding_time: [
    "next_funding_time_us as-of the minute's close (µs)",
    ["derivative_ticker.next_funding_time_us"],
  ],
  open_interest: ["open_interest as-of the minute's close", ["derivative_ticker.open_interest"]],
  spread_bps: [
    "1e4 · (ask − bid) / mid of the L1 as-of the minute's close",
    ["quotes.bid_px_int", "quotes.ask_px_int"],
  ],
  level1_ofi_1m: [
    "Σ over the minute's L1 updates of the Cont–Kukanov–Stoikov e_n",
    ["quotes.bid_px_int", "quotes.bid_qty_int", "quotes.ask_px_int", "quotes.ask_qty_int"],
  ],
  liquidation_buy_notional_1m: [
    "Σ px · qty of the minute's buy liquidations; null when unavailable",
    ["liquidations.px_int", "liquidations.qty_int"],
  ],
  liquidation_sell_notional_1m: [
    "Σ px · qty of the minute's sell liquidations; null when unavailable",
    ["liquidations.px_int", "liquidations.qty_int"],
  ],
  liquidation_available: [
    "1 when the lake covers the minute with a liquidation stream, else 0",
    ["liquidations"],
  ],
};

/** Outputs of `replay_1m` (engine units; the sink converts increments to natural units), then `price_source`. */
export const REPLAY_ASSEMBLY_OUTPUTS: readonly OutputMeta[] = [
  ...REPLAY_VALUE_COLUMNS.map((name) =>
    asm(name, "f64", FORMULAS[name][0], {
      unit: ENGINE_UNITS[name] ?? REPLAY_UNITS[name],
      inputs: FORMULAS[name][1],
    }),
  ),
  asm(
    "price_source",
    "f64",
    "1 when OHLCV came from trades, 2 from the vendor 1m bar, null with neither (lineage)",
    {
      unit: "enum",
      inputs: ["trades", "ohlcv_bars"],
    },
  ),
];

/**
 * Assembles the replay row of the previous spine minute (see the module doc): trade and as-of values
 * held from the previous row, the vendor bar of the current row as the fallback. O(1) per row.
 */
export class Replay1mOperator implements Operator {
  readonly id = "replay_1m";
  readonly inputs = [] as const;
  readonly reads = {};
  readonly rowInputs: readonly string[] = ASSEMBLY_INPUTS;
  readonly outputs: readonly OutputSpec[] = REPLAY_ASSEMBLY_OUTPUTS;
  /** The previous row's held inputs (NaN before the first row). */
  private readonly held = new Float64Array(ASSEMBLY_INPUTS.length).fill(Number.NaN);

  onEvent(): void {}

  emit(_row: SpineRow, out: readonly Float64Array[], r: number, rowInputs?: readonly Float64Array[]): void {
    const ins = rowInputs!;
    const h = this.held;
    const tradeClose = h[A.trade_close]!;
    const kClose = ins[A.kline_close]![r]!;
    let o: number;
    let hi: number;
    let lo: number;
    let c: number;
    let v: number;
    let tb: number;
    let ts: number;
    let source = Number.NaN;
    if (!Number.isNaN(tradeClose)) {
      source = 1;
      o = h[A.trade_open]!;
      hi = h[A.trade_high]!;
      lo = h[A.trade_low]!;
      c = tradeClose;
      v = h[A.trade_volume]!;
      tb = h[A.trade_buy_volume]!;
      ts = h[A.trade_sell_volume]!;
    } else if (!Number.isNaN(kClose)) {
      source = 2;
      o = ins[A.kline_open]![r]!;
      hi = ins[A.kline_high]![r]!;
      lo = ins[A.kline_low]![r]!;
      c = kClose;
      v = ins[A.kline_volume]![r]!;
      tb = ins[A.kline_taker_buy]![r]!;
      ts = v - tb;
    } else {
      o = hi = lo = c = v = tb = ts = Number.NaN;
    }
    out[0]![r] = o;
    out[1]![r] = hi;
    out[2]![r] = lo;
    out[3]![r] = c;
    out[4]![r] = v;
    out[5]![r] = tb;
    out[6]![r] = ts;
    // the derivative ticker's values; realized funding events where the ticker has none
    const rate = Number.isNaN(h[A.funding_rate_asof]!)
      ? h[A.funding_rate_event_asof]!
      : h[A.funding_rate_asof]!;
    out[7]![r] = rate * 1e4;
    out[8]![r] = h[A.mark_px_asof]!;
    out[9]![r] = h[A.index_px_asof]!;
    out[10]![r] = Number.isNaN(h[A.next_funding_time_asof]!)
      ? h[A.next_funding_time_event]!
      : h[A.next_funding_time_asof]!;
    out[11]![r] = h[A.open_interest_asof]!;
    out[12]![r] = h[A.spread_bps_asof]!;
    out[13]![r] = h[A.ofi_1m]!;
    out[14]![r] = h[A.liq_buy_notional]!;
    out[15]![r] = h[A.liq_sell_notional]!;
    out[16]![r] = h[A.liq_available]!;
    out[17]![r] = source;
    for (const k of HELD) h[k] = ins[k]![r]!;
  }

  snapshot(): JsonValue {
    return { v: 1, held: numbersToJson(this.held) };
  }

  restore(state: JsonValue): void {
    const s = stateObject(state, this.id);
    if (s.v !== 1) throw new TypeError(`${this.id}: unsupported state version ${String(s.v)}`);
    const v = stateNumbers(s, "held");
    if (v.length !== this.held.length) throw new TypeError(`${this.id}: state has ${v.length} held values`);
    this.held.set(v);
  }
}

export const replay1mOperator: OperatorDef = familyOperator({
  name: "replay_1m",
  description:
    "assembles the trader replay row of the previous spine minute from the replay members' row values (trades, else the vendor 1m bar; as-of funding, mark, index, next funding time, open interest, spread; OFI; liquidations)",
  source: TRADER_SOURCE,
  outputs: () => REPLAY_ASSEMBLY_OUTPUTS,
  create: () => new Replay1mOperator(),
});

// ---------------------------------------------------------------- members
function agg(name: string): OperatorDef {
  const d = BUILTIN_AGGREGATIONS.find((s) => s.name === name);
  if (!d) throw new Error(`replay_1m: aggregation ${name} is not built in`);
  return d;
}

/** What the lake holds for the instrument, deciding the L1 table and liquidation coverage. */
export interface ReplaySources {
  /** L1 table for spread and OFI (quotes preferred), or null when the lake has neither. */
  readonly l1Table: "quotes" | "book_snapshot_25" | null;
  /** Table of the open-interest member (today `derivative_ticker`; issue #13 adds `open_interest`). */
  readonly oiTable?: TableName;
  /** Intervals covered by a liquidation stream (µs, inclusive). */
  readonly liquidationCoverage: readonly CoverageInterval[];
}

/** A null-valued stand-in for an input the lake lacks (a member that writes one NaN column). */
class NullColumnOperator implements Operator {
  readonly inputs = [] as const;
  readonly reads = {};
  readonly outputs: readonly OutputSpec[];
  constructor(
    readonly id: string,
    name: string,
    unit: string,
  ) {
    this.outputs = [{ name, dtype: "f64", unit, warmupRows: 0 }];
  }
  onEvent(): void {}
  emit(_row: SpineRow, out: readonly Float64Array[], r: number): void {
    out[0]![r] = Number.NaN;
  }
  snapshot(): JsonValue {
    return { v: 1 };
  }
  restore(): void {}
}

export const nullColumnOperator: OperatorDef = familyOperator({
  name: "null_column",
  description: "one column of nulls standing in for an input the lake does not hold (e.g. no L1 table)",
  source: "Pointline",
  params: z.object({ name: z.string(), unit: z.string() }).strict(),
  outputs: (c) => [
    {
      name: c.name,
      dtype: "f64",
      unit: c.unit,
      warmupRows: 0,
      formula: "null",
      inputs: ["(none)"],
      window: "none",
      warmup: "none",
      pitPolicy: "no data",
      version: 1,
      source: "Pointline",
    },
  ],
  create: (c) => new NullColumnOperator(`null_${c.name}`, c.name, c.unit),
});

/** A replay member: a family member, with the source column of a generic aggregation (`last`). */
export type ReplayMember = FamilyMember & { readonly sourceColumn?: string };

/** The replay_1m preset's members for a lake's sources, in group order (`replay_1m` last). */
export function replayMembers(src: ReplaySources): ReplayMember[] {
  const l1 = src.l1Table;
  const oiTable = src.oiTable ?? "derivative_ticker";
  return [
    {
      def: agg("ohlcv"),
      table: "trades",
      outputNames: ["trade_open", "trade_high", "trade_low", "trade_close", "trade_volume"],
    },
    { def: agg("taker_volume"), table: "trades", outputNames: ["trade_buy_volume", "trade_sell_volume"] },
    { def: kline1mOperator },
    {
      def: agg("funding_close"),
      table: "derivative_ticker",
      joinStrategy: "asof_backward",
      outputNames: ["funding_rate_asof"],
    },
    ...(
      [
        ["mark_px", "mark_px_asof"],
        ["index_px", "index_px_asof"],
        ["next_funding_time_us", "next_funding_time_asof"],
      ] as const
    ).map(
      ([column, name]): ReplayMember => ({
        def: agg("last"),
        table: "derivative_ticker",
        joinStrategy: "asof_backward",
        config: {},
        outputNames: [name],
        sourceColumn: column,
      }),
    ),
    { def: fundingEventsOperator },
    {
      def: agg("oi_last"),
      table: oiTable,
      joinStrategy: "asof_backward",
      outputNames: ["open_interest_asof"],
    },
    l1 === null
      ? { def: nullColumnOperator, config: { name: "spread_bps_asof", unit: "bps" } }
      : {
          def: agg("spread_bps"),
          table: l1,
          joinStrategy: "asof_backward",
          outputNames: ["spread_bps_asof"],
        },
    l1 === null
      ? { def: nullColumnOperator, config: { name: "ofi_1m", unit: "qty increments" } }
      : { def: agg("ofi_cont"), table: l1, outputNames: ["ofi_1m"] },
    { def: liquidationNotionalOperator, config: { coverage: src.liquidationCoverage } },
    { def: replay1mOperator },
  ];
}

/** Registered operators the replay preset adds to the built-in registry (the rest are aggregations). */
export const REPLAY_OPERATORS: readonly OperatorDef[] = [
  kline1mOperator,
  fundingEventsOperator,
  liquidationNotionalOperator,
  nullColumnOperator,
  replay1mOperator,
];
