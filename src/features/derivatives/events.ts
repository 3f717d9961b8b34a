/**
 * The derivatives preset's event-series operators: funding (`funding_events`), liquidations
 * (`liquidations`), long/short ratios (`long_short_ratio`), time, and the guide's interactions.
 *
 * - Funding: the as-of realized funding rate (the last `funding_events` row of the row's knowledge set) and
 *   statistics over funding **events**: change vs the previous event, vs the as-of rate 24 h earlier, the
 *   sum of the rates of the events in the last 7 days (the guide's `cumulative_funding_7d`; null until the
 *   replay covers 7 days), z-score and percentile among the last 100 events (the guide's
 *   `funding_rates[-100:]`; sample std), extremes (rate > 0.0005 = 0.05 %, < −0.0002 = −0.02 %: the guide's
 *   thresholds, which are percent), the annualised rate (rate × 365 d / interval) and minutes until the next
 *   funding (last funding time + its interval − available_at). Funding-event windows warm up in events
 *   (100 events = 33 days at 8 h): replay enough history (`warmupMs`) for partition safety.
 * - Liquidations: per bar and over the last hour (events with ts_local_us in (available_at − 1 h,
 *   available_at]; null until the replay covers the hour): volume (qty increments), count, long (side 1,
 *   sell orders) and short (side 0) liquidated volume, net = short − long, average size, notional
 *   (Σ px·qty in quote currency), imbalance, and the guide's spike flag (1 h volume > 2 × its mean over the
 *   last 24 rows). No events → 0; no source → null: the liquidation source counts from the UTC midnight of
 *   the instrument's first `liquidations` row in the lake (`OperatorContext.dataFromUs`); a bar starting
 *   before it (every bar when the lake holds no liquidations for the instrument) has null per-bar values,
 *   and an hour window starting before it null 1 h values. Inside the source's span a bar without
 *   liquidations has 0 sums and counts.
 * - Long/short: each ratio column is its own as-of series (the last non-null value: REST dumps fill one
 *   column per row); `ls_ratio` is the top-trader account ratio; changes vs the as-of value 1 h / 4 h
 *   earlier; percentile among the last 100 rows.
 * - Time: hour and day of week (Monday = 0) of the bar start (ts_event_us, UTC), their sin/cos encodings,
 *   the guide's session flags (Asia 0–8 h, Europe 7–16 h, US 13–22 h UTC), hours since the last funding event
 *   at available_at and its cycle sin/cos over the funding interval.
 * - Interactions (the guide's): oi_volume_ratio = open_interest / volume_sma_20 (contracts per base unit),
 *   oi_volume_divergence = sign(oi_pct_change) − sign(volume_change), rsi_funding_interaction = rsi_14 ×
 *   funding_rate, oi_price_momentum = oi_change_20 × return_20, and `warmup_flag` (1 while fewer rows than
 *   the longest row warm-up of the price and volume features have passed since the first bar with a close,
 *   else 0: the trader set's WARMUP/OK flag; values in warm-up are null, never backfilled).
 */
import { EMPTY_F64, f64, i8 } from "../../engine/inputs.js";
import type {
  EventCursor,
  JsonValue,
  Operator,
  OperatorContext,
  SourceRole,
  SpineRow,
} from "../../engine/operator.js";
import { numberToJson, stateNumber, stateNumbers, stateObject } from "../../engine/operator.js";
import type { OutputMeta } from "../../engine/registry.js";
import { RollingMedian, RollingStats } from "../../engine/rolling.js";
import type { TypedRows } from "../../query/query.js";
import { SIDE_SELL } from "../../schema/tables.js";
import { familyOperator } from "../family.js";
import {
  catalogBuilder,
  DERIV_SETTINGS_PARAMS,
  type DerivSettings,
  GUIDE,
  horizonRows,
  RowCursor,
  sign,
  US_PER_DAY,
  US_PER_HOUR,
} from "./common.js";
import { sub } from "./indicators/state.js";
import { AsOfHistory, LaggedValues, TimeWindow } from "./indicators/time-series.js";
import { priceOutputs } from "./price.js";
import { volumeOutputs } from "./volume.js";

const FUNDING_EVENTS = 100;
const F_IN = ["funding_events.funding_rate"];
const ASOF = "as-of backward: events of the row's knowledge set only";

// ---------------------------------------------------------------------------------------------------
// funding

export function fundingOutputs(s: DerivSettings): OutputMeta[] {
  const col = catalogBuilder(ASOF, `${GUIDE}, §4 Funding Rate Features`);
  const r = "rate per funding interval";
  const ev = `${FUNDING_EVENTS} funding events`;
  const ew = `${FUNDING_EVENTS} funding events (${(FUNDING_EVENTS * 8) / 24} days at 8 h; replay that much history)`;
  return [
    col("funding_rate", "as-of realized funding rate", {
      unit: r,
      warmupRows: 0,
      inputs: F_IN,
      window: "as-of",
    }),
    col("funding_rate_change", "funding_rate − the previous funding event's rate", {
      unit: r,
      warmupRows: 0,
      inputs: F_IN,
      window: "2 funding events",
      warmup: "2 funding events",
    }),
    col("funding_rate_change_24h", "funding_rate − as-of rate at available_at − 24 h", {
      unit: r,
      warmupRows: horizonRows(s, US_PER_DAY),
      inputs: F_IN,
      window: "24 h wall clock",
      warmup: "24 h of funding history",
    }),
    col("cumulative_funding_7d", "Σ rates of the funding events in (available_at − 7 d, available_at]", {
      unit: r,
      warmupRows: horizonRows(s, 7 * US_PER_DAY),
      inputs: F_IN,
      window: "7 d wall clock",
      warmup: "7 d of replay (null until covered)",
    }),
    col("funding_zscore", `(funding_rate − mean)/std over the last ${ev} (sample std)`, {
      unit: "z-score",
      warmupRows: 0,
      inputs: F_IN,
      window: ev,
      warmup: ew,
    }),
    col("funding_percentile", `pandas rank(pct=True) of funding_rate among the last ${ev}`, {
      unit: "ratio (0,1]",
      warmupRows: 0,
      inputs: F_IN,
      window: ev,
      warmup: ew,
    }),
    col("funding_extreme_positive", "funding_rate > 0.0005 (0.05 %)", {
      unit: "flag {0,1}",
      warmupRows: 0,
      inputs: F_IN,
      window: "as-of",
      dtype: "i64",
    }),
    col("funding_extreme_negative", "funding_rate < −0.0002 (−0.02 %)", {
      unit: "flag {0,1}",
      warmupRows: 0,
      inputs: F_IN,
      window: "as-of",
      dtype: "i64",
    }),
    col("minutes_to_funding", "(last funding time + funding_interval − available_at) / 60 s", {
      unit: "min",
      warmupRows: 0,
      inputs: ["funding_events.ts_local_us", "funding_events.funding_interval_us"],
      window: "as-of",
    }),
    col("funding_rate_annualized", "funding_rate × 365 d / funding_interval", {
      unit: "rate per year",
      warmupRows: 0,
      inputs: F_IN,
      window: "as-of",
    }),
    col("funding_mean_24h", "mean rate of the funding events in (available_at − 24 h, available_at]", {
      unit: r,
      warmupRows: horizonRows(s, US_PER_DAY),
      inputs: F_IN,
      window: "24 h wall clock",
      warmup: "24 h of replay (null until covered)",
    }),
  ];
}

class FundingOperator implements Operator {
  readonly id = "deriv_funding";
  readonly inputs: readonly SourceRole[] = ["funding"];
  readonly reads = { funding: { funding_rate: "f64", funding_interval_us: "f64" } } as const;
  readonly outputs: readonly OutputMeta[];
  private readonly o = new RowCursor();
  private rate = Number.NaN;
  private prevRate = Number.NaN;
  private lastTs = Number.NaN;
  private intervalUs = Number.NaN;
  private firstRowUs = Number.NaN;
  private readonly lag = new AsOfHistory();
  private readonly w7d = new TimeWindow(7 * US_PER_DAY);
  private readonly w24h = new TimeWindow(US_PER_DAY);
  private readonly stats = new RollingStats(FUNDING_EVENTS);
  private readonly order = new RollingMedian(FUNDING_EVENTS);
  private rows: TypedRows | null = null;
  private rateCol = EMPTY_F64;
  private ivCol = EMPTY_F64;
  constructor(s: DerivSettings) {
    this.outputs = fundingOutputs(s);
  }
  onEvent(ev: EventCursor): void {
    if (ev.rows !== this.rows) {
      this.rows = ev.rows;
      this.rateCol = f64(ev.rows, "funding_rate");
      this.ivCol = f64(ev.rows, "funding_interval_us");
    }
    const rate = this.rateCol[ev.i]!;
    this.prevRate = this.rate;
    this.rate = rate;
    this.lastTs = ev.tsLocalUs;
    const iv = this.ivCol[ev.i]!;
    this.intervalUs = iv > 0 ? iv : 8 * US_PER_HOUR;
    this.lag.push(ev.tsLocalUs, rate);
    this.w7d.add(ev.tsLocalUs, rate, 0, 0);
    this.w24h.add(ev.tsLocalUs, rate, 0, 0);
    // re-anchoring key: the funding hour (the same events whatever the replay start)
    this.stats.push(rate, Math.floor(ev.tsLocalUs / US_PER_HOUR));
    this.order.push(rate);
  }
  emit(row: SpineRow, out: readonly Float64Array[], r: number): void {
    const t = row.availableAtUs;
    if (Number.isNaN(this.firstRowUs)) this.firstRowUs = row.tsEventUs;
    this.w7d.query(t);
    this.w24h.query(t);
    const rate = this.rate;
    const sd = this.stats.std();
    const o = this.o.start(out, r);
    o.w(rate);
    o.w(rate - this.prevRate);
    o.w(rate - this.lag.at(t - US_PER_DAY));
    o.w(t - 7 * US_PER_DAY >= this.firstRowUs ? this.w7d.a : Number.NaN);
    o.w(sd > 0 ? (rate - this.stats.mean()) / sd : Number.NaN);
    o.w(this.order.rankPct(rate));
    o.w(Number.isNaN(rate) ? Number.NaN : rate > 0.0005 ? 1 : 0);
    o.w(Number.isNaN(rate) ? Number.NaN : rate < -0.0002 ? 1 : 0);
    o.w((this.lastTs + this.intervalUs - t) / 60_000_000);
    o.w((rate * 365 * US_PER_DAY) / this.intervalUs);
    o.w(
      t - US_PER_DAY >= this.firstRowUs && this.w24h.count > 0 ? this.w24h.a / this.w24h.count : Number.NaN,
    );
  }
  snapshot(): JsonValue {
    return {
      n: [this.rate, this.prevRate, this.lastTs, this.intervalUs, this.firstRowUs].map(numberToJson),
      lag: this.lag.snapshot(),
      w7d: this.w7d.snapshot(),
      w24h: this.w24h.snapshot(),
      stats: this.stats.snapshot(),
      order: this.order.snapshot(),
    };
  }
  restore(state: JsonValue): void {
    const s = stateObject(state, this.id);
    [this.rate, this.prevRate, this.lastTs, this.intervalUs, this.firstRowUs] = stateNumbers(s, "n") as [
      number,
      number,
      number,
      number,
      number,
    ];
    this.lag.restore(sub(s, "lag", this.id));
    this.w7d.restore(sub(s, "w7d", this.id));
    this.w24h.restore(sub(s, "w24h", this.id));
    this.stats.restore(sub(s, "stats", this.id));
    this.order.restore(sub(s, "order", this.id));
  }
}

export const derivFundingOperator = familyOperator<DerivSettings>({
  name: "deriv_funding",
  description:
    "the guide's funding-rate features from the realized funding events (as-of rate, changes, 7 d sum, event z-score/percentile, extremes, time to funding)",
  source: `${GUIDE}, §4`,
  params: DERIV_SETTINGS_PARAMS,
  outputs: fundingOutputs,
  create: (s) => new FundingOperator(s),
});

// ---------------------------------------------------------------------------------------------------
// liquidations

export function liquidationOutputs(s: DerivSettings): OutputMeta[] {
  const col = catalogBuilder(ASOF, `${GUIDE}, §5 Liquidation Features`);
  const L = ["liquidations.qty_int", "liquidations.side"];
  const h1 = horizonRows(s, US_PER_HOUR);
  const hour = (name: string, f: string, unit: string, dtype: "f64" | "i64" = "f64") =>
    col(name, f, {
      unit,
      warmupRows: h1,
      inputs: L,
      window: "1 h wall clock",
      warmup:
        "1 h of replay and of the liquidation source (null until covered; null without liquidation data)",
      dtype,
    });
  return [
    col("liq_volume", "Σ liquidated qty in the bar (0 without events; null without liquidation data)", {
      unit: "qty increments",
      warmupRows: 0,
      inputs: L,
      window: "current bar",
    }),
    col("liq_count", "liquidations in the bar (0 without events; null without liquidation data)", {
      unit: "count",
      warmupRows: 0,
      inputs: L,
      window: "current bar",
      dtype: "i64",
    }),
    hour("liquidation_vol_1h", "Σ liquidated qty over the last hour", "qty increments"),
    hour("liquidation_count_1h", "liquidations over the last hour", "count", "i64"),
    hour(
      "long_liq_vol_1h",
      "Σ qty of SELL liquidation orders (longs liquidated), last hour",
      "qty increments",
    ),
    hour(
      "short_liq_vol_1h",
      "Σ qty of BUY liquidation orders (shorts liquidated), last hour",
      "qty increments",
    ),
    hour("net_liquidation", "short_liq_vol_1h − long_liq_vol_1h", "qty increments"),
    hour("avg_liq_size", "liquidation_vol_1h / max(liquidation_count_1h, 1)", "qty increments"),
    hour("liq_notional_1h", "Σ px·qty of the last hour's liquidations", "quote currency"),
    hour(
      "liq_imbalance_1h",
      "(short − long)/(short + long) over the last hour; null without liquidations",
      "ratio [-1,1]",
    ),
    col("liq_spike", "liquidation_vol_1h > 2 × mean(liquidation_vol_1h over the last 24 rows)", {
      unit: "flag {0,1}",
      warmupRows: h1 + 23,
      inputs: L,
      window: "1 h + 24 rows",
      warmup: "1 h of replay + 23 rows (null without liquidation data)",
      dtype: "i64",
    }),
  ];
}

class LiquidationOperator implements Operator {
  readonly id = "deriv_liquidations";
  readonly inputs: readonly SourceRole[] = ["liquidations"];
  readonly reads = { liquidations: { side: "i8", px_int: "f64", qty_int: "f64" } } as const;
  readonly outputs: readonly OutputMeta[];
  private readonly o = new RowCursor();
  private barQty = 0;
  private barN = 0;
  private firstRowUs = Number.NaN;
  /** The liquidation source's start (see the module doc); −∞ without a lake context. */
  private sourceFromUs = Number.NEGATIVE_INFINITY;
  private notionalScale = 1;
  private readonly win = new TimeWindow(US_PER_HOUR);
  private readonly spike = new RollingStats(24);
  private rows: TypedRows | null = null;
  private side: Int8Array = new Int8Array(0);
  private px = EMPTY_F64;
  private qty = EMPTY_F64;
  constructor(s: DerivSettings) {
    this.outputs = liquidationOutputs(s);
  }
  init(ctx: OperatorContext): void {
    this.notionalScale = ctx.primary.priceIncrement * ctx.primary.amountIncrement;
    this.sourceFromUs = ctx.dataFromUs?.liquidations ?? Number.NEGATIVE_INFINITY;
  }
  onEvent(ev: EventCursor): void {
    if (ev.rows !== this.rows) {
      this.rows = ev.rows;
      this.side = i8(ev.rows, "side");
      this.px = f64(ev.rows, "px_int");
      this.qty = f64(ev.rows, "qty_int");
    }
    const q = this.qty[ev.i]!;
    this.barQty += q;
    this.barN++;
    // a = qty, b = qty of long liquidations (sell orders), c = px·qty (exact integer products)
    this.win.add(ev.tsLocalUs, q, this.side[ev.i] === SIDE_SELL ? q : 0, this.px[ev.i]! * q);
  }
  emit(row: SpineRow, out: readonly Float64Array[], r: number): void {
    const t = row.availableAtUs;
    if (Number.isNaN(this.firstRowUs)) this.firstRowUs = row.tsEventUs;
    this.win.query(t);
    const covered = t - US_PER_HOUR >= this.firstRowUs && t - US_PER_HOUR >= this.sourceFromUs;
    const bar = row.tsEventUs >= this.sourceFromUs;
    const vol = this.win.a;
    const long = this.win.b;
    const short = vol - long;
    const o = this.o.start(out, r);
    o.w(bar ? this.barQty : Number.NaN);
    o.w(bar ? this.barN : Number.NaN);
    o.w(covered ? vol : Number.NaN);
    o.w(covered ? this.win.count : Number.NaN);
    o.w(covered ? long : Number.NaN);
    o.w(covered ? short : Number.NaN);
    o.w(covered ? short - long : Number.NaN);
    o.w(covered ? vol / Math.max(this.win.count, 1) : Number.NaN);
    o.w(covered ? this.win.c * this.notionalScale : Number.NaN);
    o.w(covered ? (vol > 0 ? (short - long) / vol : Number.NaN) : Number.NaN);
    const v1h = covered ? vol : Number.NaN;
    this.spike.push(v1h, row.barIndex);
    const m = this.spike.mean();
    o.w(Number.isNaN(m + v1h) ? Number.NaN : v1h > 2 * m ? 1 : 0);
    this.barQty = 0;
    this.barN = 0;
  }
  discardBar(): void {
    this.barQty = 0;
    this.barN = 0;
  }
  snapshot(): JsonValue {
    return {
      n: [this.barQty, this.barN, this.firstRowUs].map(numberToJson),
      win: this.win.snapshot(),
      spike: this.spike.snapshot(),
    };
  }
  restore(state: JsonValue): void {
    const s = stateObject(state, this.id);
    [this.barQty, this.barN, this.firstRowUs] = stateNumbers(s, "n") as [number, number, number];
    this.win.restore(sub(s, "win", this.id));
    this.spike.restore(sub(s, "spike", this.id));
  }
}

export const derivLiquidationOperator = familyOperator<DerivSettings>({
  name: "deriv_liquidations",
  description:
    "the guide's liquidation features: per-bar and last-hour liquidated volume, counts, long/short split, notional, spike flag",
  source: `${GUIDE}, §5`,
  params: DERIV_SETTINGS_PARAMS,
  outputs: liquidationOutputs,
  create: (s) => new LiquidationOperator(s),
});

// ---------------------------------------------------------------------------------------------------
// long/short ratios

const LS_COLS = [
  "top_account_ratio",
  "top_position_ratio",
  "global_account_ratio",
  "taker_buy_sell_ratio",
] as const;

export function longShortOutputs(s: DerivSettings): OutputMeta[] {
  const col = catalogBuilder(
    `${ASOF}; each ratio column as its own series (last non-null value)`,
    `${GUIDE}, §6 Long/Short Ratio Features`,
  );
  const I = ["long_short_ratio.top_account_ratio"];
  return [
    col("ls_ratio", "as-of top-trader long/short account ratio", {
      unit: "ratio",
      warmupRows: 0,
      inputs: I,
      window: "as-of",
    }),
    col("ls_ratio_change_1h", "ls_ratio − its as-of value 1 h earlier", {
      unit: "ratio",
      warmupRows: horizonRows(s, US_PER_HOUR),
      inputs: I,
      window: "1 h wall clock",
      warmup: "1 h of ratios",
    }),
    col("ls_ratio_change_4h", "ls_ratio − its as-of value 4 h earlier", {
      unit: "ratio",
      warmupRows: horizonRows(s, 4 * US_PER_HOUR),
      inputs: I,
      window: "4 h wall clock",
      warmup: "4 h of ratios",
    }),
    col("ls_ratio_percentile", "pandas rank(pct=True) of ls_ratio among the last 100 rows", {
      unit: "ratio (0,1]",
      warmupRows: 99,
      inputs: I,
      window: "100 spine rows",
    }),
    col("ls_top_position_ratio", "as-of top-trader long/short position ratio", {
      unit: "ratio",
      warmupRows: 0,
      inputs: ["long_short_ratio.top_position_ratio"],
      window: "as-of",
    }),
    col("ls_global_account_ratio", "as-of global long/short account ratio", {
      unit: "ratio",
      warmupRows: 0,
      inputs: ["long_short_ratio.global_account_ratio"],
      window: "as-of",
    }),
    col("taker_buy_sell_ratio", "as-of taker buy/sell volume ratio", {
      unit: "ratio",
      warmupRows: 0,
      inputs: ["long_short_ratio.taker_buy_sell_ratio"],
      window: "as-of",
    }),
  ];
}

class LongShortOperator implements Operator {
  readonly id = "deriv_long_short";
  readonly inputs: readonly SourceRole[] = ["long_short"];
  readonly reads = {
    long_short: Object.fromEntries(LS_COLS.map((c) => [c, "f64"])) as Record<string, "f64">,
  };
  readonly outputs: readonly OutputMeta[];
  private readonly last = [Number.NaN, Number.NaN, Number.NaN, Number.NaN];
  private readonly lag = new LaggedValues([US_PER_HOUR, 4 * US_PER_HOUR]);
  private readonly order = new RollingMedian(100);
  private rows: TypedRows | null = null;
  private cols: Float64Array[] = [];
  constructor(s: DerivSettings) {
    this.outputs = longShortOutputs(s);
  }
  onEvent(ev: EventCursor): void {
    if (ev.rows !== this.rows) {
      this.rows = ev.rows;
      this.cols = LS_COLS.map((c) => f64(ev.rows, c));
    }
    for (let k = 0; k < 4; k++) {
      const v = this.cols[k]![ev.i]!;
      if (!Number.isNaN(v)) {
        this.last[k] = v;
        if (k === 0) this.lag.push(ev.tsLocalUs, v);
      }
    }
  }
  emit(row: SpineRow, out: readonly Float64Array[], r: number): void {
    const t = row.availableAtUs;
    const ls = this.last[0]!;
    this.order.push(ls);
    out[0]![r] = ls;
    out[1]![r] = ls - this.lag.at(0, t);
    out[2]![r] = ls - this.lag.at(1, t);
    out[3]![r] = this.order.rankPct(ls);
    out[4]![r] = this.last[1]!;
    out[5]![r] = this.last[2]!;
    out[6]![r] = this.last[3]!;
  }
  snapshot(): JsonValue {
    return { last: this.last.map(numberToJson), lag: this.lag.snapshot(), order: this.order.snapshot() };
  }
  restore(state: JsonValue): void {
    const s = stateObject(state, this.id);
    stateNumbers(s, "last").forEach((v, k) => {
      this.last[k] = v;
    });
    this.lag.restore(sub(s, "lag", this.id));
    this.order.restore(sub(s, "order", this.id));
  }
}

export const derivLongShortOperator = familyOperator<DerivSettings>({
  name: "deriv_long_short",
  description: "the guide's long/short ratio features from the as-of top-trader, global and taker ratios",
  source: `${GUIDE}, §6`,
  params: DERIV_SETTINGS_PARAMS,
  outputs: longShortOutputs,
  create: (s) => new LongShortOperator(s),
});

// ---------------------------------------------------------------------------------------------------
// time

export function timeOutputs(_s: DerivSettings): OutputMeta[] {
  const col = catalogBuilder(
    "the row's own timestamps; funding times of the knowledge set",
    `${GUIDE}, §7 Time-Based Features`,
  );
  const T = ["spine.ts_event_us"];
  const c = (name: string, f: string, unit: string, dtype: "f64" | "i64" = "f64") =>
    col(name, f, { unit, warmupRows: 0, inputs: T, window: "current row", dtype });
  const F = ["funding_events.ts_local_us", "funding_events.funding_interval_us", "spine.available_at_us"];
  return [
    c("hour", "UTC hour of ts_event_us (bar start)", "hour [0,23]", "i64"),
    c("day_of_week", "UTC day of week of ts_event_us, Monday = 0 (pandas dayofweek)", "day [0,6]", "i64"),
    c("hour_sin", "sin(2π·hour/24)", "1"),
    c("hour_cos", "cos(2π·hour/24)", "1"),
    c("day_sin", "sin(2π·day_of_week/7)", "1"),
    c("day_cos", "cos(2π·day_of_week/7)", "1"),
    c("is_asia_session", "0 ≤ hour < 8", "flag {0,1}", "i64"),
    c("is_europe_session", "7 ≤ hour < 16", "flag {0,1}", "i64"),
    c("is_us_session", "13 ≤ hour < 22", "flag {0,1}", "i64"),
    col("hours_since_funding", "(available_at − last funding event time) / 1 h", {
      unit: "h",
      warmupRows: 0,
      inputs: F,
      window: "as-of",
    }),
    col("funding_cycle_sin", "sin(2π·hours_since_funding / funding interval in h)", {
      unit: "1",
      warmupRows: 0,
      inputs: F,
      window: "as-of",
    }),
    col("funding_cycle_cos", "cos(2π·hours_since_funding / funding interval in h)", {
      unit: "1",
      warmupRows: 0,
      inputs: F,
      window: "as-of",
    }),
  ];
}

class TimeOperator implements Operator {
  readonly id = "deriv_time";
  readonly inputs: readonly SourceRole[] = ["funding"];
  readonly reads = { funding: { funding_interval_us: "f64" } } as const;
  readonly outputs: readonly OutputMeta[];
  private readonly o = new RowCursor();
  private lastTs = Number.NaN;
  private intervalUs = Number.NaN;
  private rows: TypedRows | null = null;
  private iv = EMPTY_F64;
  constructor(s: DerivSettings) {
    this.outputs = timeOutputs(s);
  }
  onEvent(ev: EventCursor): void {
    if (ev.rows !== this.rows) {
      this.rows = ev.rows;
      this.iv = f64(ev.rows, "funding_interval_us");
    }
    this.lastTs = ev.tsLocalUs;
    const iv = this.iv[ev.i]!;
    this.intervalUs = iv > 0 ? iv : 8 * US_PER_HOUR;
  }
  emit(row: SpineRow, out: readonly Float64Array[], r: number): void {
    const day = Math.floor(row.tsEventUs / US_PER_DAY);
    const hour = Math.floor((row.tsEventUs - day * US_PER_DAY) / US_PER_HOUR);
    const dow = (((day + 3) % 7) + 7) % 7; // 1970-01-01 was a Thursday (3 with Monday = 0)
    const since = (row.availableAtUs - this.lastTs) / US_PER_HOUR;
    const cycle = (2 * Math.PI * since) / (this.intervalUs / US_PER_HOUR);
    const o = this.o.start(out, r);
    o.w(hour);
    o.w(dow);
    o.w(Math.sin((2 * Math.PI * hour) / 24));
    o.w(Math.cos((2 * Math.PI * hour) / 24));
    o.w(Math.sin((2 * Math.PI * dow) / 7));
    o.w(Math.cos((2 * Math.PI * dow) / 7));
    o.w(hour < 8 ? 1 : 0);
    o.w(hour >= 7 && hour < 16 ? 1 : 0);
    o.w(hour >= 13 && hour < 22 ? 1 : 0);
    o.w(since);
    o.w(Math.sin(cycle));
    o.w(Math.cos(cycle));
  }
  snapshot(): JsonValue {
    return { lastTs: numberToJson(this.lastTs), intervalUs: numberToJson(this.intervalUs) };
  }
  restore(state: JsonValue): void {
    const s = stateObject(state, this.id);
    this.lastTs = stateNumber(s, "lastTs");
    this.intervalUs = stateNumber(s, "intervalUs");
  }
}

export const derivTimeOperator = familyOperator<DerivSettings>({
  name: "deriv_time",
  description: "the guide's time features: cyclical hour/day, trading sessions, funding-cycle position",
  source: `${GUIDE}, §7`,
  params: DERIV_SETTINGS_PARAMS,
  outputs: timeOutputs,
  create: (s) => new TimeOperator(s),
});

// ---------------------------------------------------------------------------------------------------
// interactions

/** Longest row warm-up of the price and volume features (the `warmup_flag` horizon). */
export function maxRowWarmup(s: DerivSettings): number {
  return Math.max(...[...priceOutputs(s), ...volumeOutputs(s)].map((o) => o.warmupRows));
}

export function interactionOutputs(s: DerivSettings): OutputMeta[] {
  const col = catalogBuilder(
    "the row's values of the other derivatives operators",
    `${GUIDE}, OI/volume interaction and interaction features`,
  );
  const W = maxRowWarmup(s);
  return [
    col("oi_volume_ratio", "open_interest / volume_sma_20 (volume in base units)", {
      unit: "contracts per base unit",
      warmupRows: 19,
      inputs: ["row.open_interest", "row.volume_sma_20"],
      window: "20 spine rows",
    }),
    col("oi_volume_divergence", "sign(oi_pct_change) − sign(volume_change)", {
      unit: "{-2,…,2}",
      warmupRows: 1,
      inputs: ["row.oi_pct_change", "row.volume_change"],
      window: "2 spine rows",
    }),
    col("rsi_funding_interaction", "rsi_14 × funding_rate", {
      unit: "rate × 0–100",
      warmupRows: priceOutputs(s).find((o) => o.name === "rsi_14")!.warmupRows,
      inputs: ["row.rsi_14", "row.funding_rate"],
      window: "rsi_14's",
    }),
    col("oi_price_momentum", "oi_change_20 × return_20", {
      unit: "fraction²",
      warmupRows: 20,
      inputs: ["row.oi_change_20", "row.return_20"],
      window: "21 spine rows",
    }),
    col(
      "warmup_flag",
      `1 while fewer than ${W} rows (the longest row warm-up of the price/volume features) have passed since the first bar with a close, else 0`,
      {
        unit: "flag {0,1}",
        // the flag depends on the replay start by definition: it is 1 exactly during the warm-up
        warmupRows: W,
        warmup: `${W} rows (1 during them, then 0)`,
        inputs: ["row.close"],
        window: `${W} spine rows`,
        dtype: "i64",
      },
    ),
  ];
}

class InteractionOperator implements Operator {
  readonly id = "deriv_interactions";
  readonly inputs: readonly SourceRole[] = [];
  readonly reads = {};
  readonly rowInputs = [
    "open_interest",
    "volume_sma_20",
    "oi_pct_change",
    "volume_change",
    "rsi_14",
    "funding_rate",
    "oi_change_20",
    "return_20",
    "close",
  ] as const;
  readonly outputs: readonly OutputMeta[];
  private readonly horizon: number;
  private amount = 1;
  private seen = 0;
  constructor(s: DerivSettings) {
    this.outputs = interactionOutputs(s);
    this.horizon = maxRowWarmup(s);
  }
  init(ctx: OperatorContext): void {
    this.amount = ctx.primary.amountIncrement;
  }
  onEvent(): void {}
  emit(_row: SpineRow, out: readonly Float64Array[], r: number, ins?: readonly Float64Array[]): void {
    const x = ins!;
    const vs = x[1]![r]! * this.amount;
    out[0]![r] = vs !== 0 ? x[0]![r]! / vs : Number.NaN;
    out[1]![r] = sign(x[2]![r]!) - sign(x[3]![r]!);
    out[2]![r] = x[4]![r]! * x[5]![r]!;
    out[3]![r] = x[6]![r]! * x[7]![r]!;
    if (this.seen > 0 || !Number.isNaN(x[8]![r]!)) this.seen++;
    out[4]![r] = this.seen === 0 || this.seen <= this.horizon ? 1 : 0;
  }
  snapshot(): JsonValue {
    return { seen: this.seen };
  }
  restore(state: JsonValue): void {
    this.seen = stateNumber(stateObject(state, this.id), "seen");
  }
}

export const derivInteractionOperator = familyOperator<DerivSettings>({
  name: "deriv_interactions",
  description:
    "the guide's interaction features (OI/volume ratio and divergence, RSI × funding, OI change × return) and the warm-up flag",
  source: GUIDE,
  params: DERIV_SETTINGS_PARAMS,
  outputs: interactionOutputs,
  create: (s) => new InteractionOperator(s),
});
