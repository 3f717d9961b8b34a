/**
 * Bar aggregations of the volume-bar MFT guide (Pointline docs/guides/volume-bar-features-crypto-mft.md,
 * "Building Volume Bar Features for Crypto Middle-Frequency Trading": the per-bar aggregations of its
 * pipeline request — ohlcv, trade_vwap, flow_imbalance, trade_count, avg_trade_size, spread_bps,
 * book_imbalance_top5, realized_volatility — and every column of its `add_derived_features`), as one
 * streaming family (`includeBarAggregations`, id "bar", no column prefix). Not part of Pointline's
 * `families.py` set.
 *
 * **Composition.** The family is a group of registered operators (features/family.ts): the per-bar
 * columns are the pipeline's own aggregations, addressed by their registry names and renamed to the
 * guide's column names — `ohlcv` (open, high, low, close, volume), `trade_vwap` (vwap), `trade_count`,
 * `taker_volume` (buy_volume, sell_volume), `signed_trade_imbalance` (flow_imbalance: null when
 * buy + sell = 0), `avg_trade_size` with `per: "trade"` (volume / trade_count), `spread_bps` (as-of
 * quotes), `book_imbalance_top5` (as-of book), `realized_volatility` (realized_vol) and `vwap_reversion`
 * — and the guide's derived columns are one operator, `bar_derived`, that reads those columns' row
 * values (`Operator.rowInputs`). No formula is implemented twice: a pipeline request and this family
 * compute the same numbers with the same code; the sink converts prices and sizes to natural units
 * for both (engine/units.ts).
 *
 * Per spine row (bar), from the trade pieces fed since the previous emit (or discarded partial bar):
 * a piece is one trade, or with `splitTrades` the part of a trade that belongs to this bar (`ev.qtyInt`;
 * `ev.continuation` marks the second and later pieces, whose trade was counted in an earlier bar). Its
 * price is the trade's `px_int`. Clock bars without trades get OHLC / vwap / ratios null, volume 0,
 * trade_count 0 — the aggregations work on any spine.
 *
 * As-of inputs (`spread_bps`, `book_imbalance_top5`) use the last `quotes` / `book_snapshot_25` event fed
 * before the row is emitted (the row's knowledge set, see engine/replay.ts); they are not per bar and are
 * kept when a partial bar is discarded.
 *
 * Derived columns follow Polars semantics on the emitted rows (warm-up rows included, so results do not
 * depend on where the output range starts): `shift(k)` is the value k rows back (null for the first k
 * rows), `rolling_*(w)` has `min_periods = w` (null until w rows and while any value in the window is
 * null), and any null operand gives null. Windows are fixed by the guide: 10 rows (spread), 20 rows
 * (realized vol), 50 rows (trade size median).
 *
 * Exactness (DESIGN.md "Data model"): prices and sizes are integers (increments) held in float64.
 * volume, buy/sell volume and trade_count are exact integer sums below 2^53. The VWAP numerator is summed
 * relative to the bar's open, S = Σ(px − open)·qty, which stays an exact integer while |S| < 2^53 (e.g. a
 * 10,000-increment range × 9·10^11 qty increments — far beyond any bar); vwap = open + S/V and
 * close − vwap = ((close − open)·V − S)/V are then a single rounding each. Beyond 2^53 the sums degrade to
 * ordinary float64 rounding, never to wrap-around. Returns are computed as (a − b)/b with an exact integer
 * numerator (correctly rounded) instead of a/b − 1, and log returns as log1p((p_i − p_{i−1})/p_{i−1})
 * instead of ln(p_i/p_{i−1}) (which loses ~1e-16 absolute, i.e. ~1e-10 relative on a one-tick return).
 * Realized volatility uses Welford's update on returns shifted by the bar's first return (O(1) per
 * trade, no cancellation when returns are nearly constant); it matches a two-pass standard deviation to
 * ~n·ε relative.
 *
 * Differences from the guide's code, on purpose: `flow_imbalance` and `book_imbalance_top5` are null (not
 * `fill_null(0)`) when their denominator is 0 or there is no input yet, so "no information" is not
 * confused with "balanced"; `vol_zscore` is null when the 20-row std is 0 (Polars would give NaN/±inf) —
 * a window of 20 identical realized_vol values is detected exactly by a run length, since a float
 * running-sum std of a constant window is not always exactly 0; `hour` is taken from `ts_event_us` (the
 * guide's `bucket_start`). Every column describes a bar that is complete only at `available_at_us` (the
 * bar's close): the guide's lookahead warning about using the bar's close applies to reading these values
 * at the bar's start, which a frame consumer must not do (labels look forward from `available_at_us`).
 */
import { z } from "zod";
import { US_PER_DAY, US_PER_HOUR, US_PER_SECOND } from "../core/time.js";
import {
  type JsonValue,
  type Operator,
  type OutputDtype,
  type SpineRow,
  stateField,
  stateNumber,
  stateObject,
} from "../engine/operator.js";
import type { OutputMeta } from "../engine/registry.js";
import { RollingMedian, RollingStats } from "../engine/rolling.js";
import type { AggregationSpec } from "../pipeline/aggregation-types.js";
import { BUILTIN_AGGREGATIONS } from "../pipeline/aggregations/index.js";
import { defineFamily, type FamilyDef, familyOperator, type OutputFields, outputBuilder } from "./family.js";

/** Rows of the `spread_bps` rolling mean in `spread_deviation` (guide: `rolling_mean(10)`). */
export const BAR_SPREAD_WINDOW_ROWS = 10;
/** Rows of the `realized_vol` rolling mean / std in `vol_zscore` (guide: `rolling_mean(20)`, `rolling_std(20)`). */
export const BAR_VOL_WINDOW_ROWS = 20;
/** Rows of the `avg_trade_size` rolling median in `size_ratio` (guide: `rolling_median(50)`). */
export const BAR_SIZE_WINDOW_ROWS = 50;

const SOURCE =
  'Pointline docs/guides/volume-bar-features-crypto-mft.md ("Building Volume Bar Features for Crypto MFT")';
const SOURCE_DERIVED = `${SOURCE}, add_derived_features`;
const PIT_BAR = "trades fed to the bar (up to and including its closing event); no later event";
const TRADE_INPUTS = ["trades.px_int", "trades.qty_int"] as const;
const PIT_ROWS = "emitted rows up to and including the current one";

const derivedOutput = outputBuilder({ source: SOURCE_DERIVED });

/** A `bar_derived` output; its warm-up in words and PIT policy follow from `warmupRows` (0: the current bar). */
const derived = (
  name: string,
  dtype: OutputDtype,
  formula: string,
  fields: Pick<OutputFields, "unit" | "warmupRows" | "inputs" | "window">,
): OutputMeta =>
  derivedOutput(name, dtype, formula, {
    ...fields,
    warmup:
      fields.warmupRows === 0
        ? "none"
        : `${fields.warmupRows} rows (null until the window's inputs are all non-null)`,
    pitPolicy: fields.warmupRows === 0 ? PIT_BAR : PIT_ROWS,
  });

/**
 * Outputs of `bar_derived`, in column order (the guide's `add_derived_features` after `vwap_reversion`).
 * Inputs name the raw columns behind each value (lineage); the operator reads them as row values.
 */
export const BAR_DERIVED_OUTPUTS: readonly OutputMeta[] = [
  derived("ret_1bar", "f64", "close / close.shift(1) − 1 (computed as (close − close₋₁) / close₋₁)", {
    unit: "return",
    warmupRows: 1,
    inputs: ["trades.px_int"],
    window: "2 rows",
  }),
  derived("ret_5bar", "f64", "close / close.shift(5) − 1 (computed as (close − close₋₅) / close₋₅)", {
    unit: "return",
    warmupRows: 5,
    inputs: ["trades.px_int"],
    window: "6 rows",
  }),
  derived(
    "trade_count_accel",
    "f64",
    "trade_count / trade_count.shift(1) − 1; null if the previous trade_count is 0",
    { unit: "ratio", warmupRows: 1, inputs: ["trades"], window: "2 rows" },
  ),
  derived("spread_deviation", "f64", `spread_bps − rolling_mean(spread_bps, ${BAR_SPREAD_WINDOW_ROWS})`, {
    unit: "bps",
    warmupRows: BAR_SPREAD_WINDOW_ROWS - 1,
    inputs: ["quotes.bid_px_int", "quotes.ask_px_int"],
    window: `${BAR_SPREAD_WINDOW_ROWS} spine rows`,
  }),
  derived("flow_persistence", "f64", "flow_imbalance · flow_imbalance.shift(1)", {
    unit: "1",
    warmupRows: 1,
    inputs: ["trades.qty_int", "trades.side"],
    window: "2 rows",
  }),
  derived("book_flow_divergence", "f64", "book_imbalance_top5 − flow_imbalance", {
    unit: "1",
    warmupRows: 0,
    inputs: ["book_snapshot_25.bid_qty_int", "book_snapshot_25.ask_qty_int", "trades.qty_int", "trades.side"],
    window: "current bar / as-of book",
  }),
  derived(
    "vol_zscore",
    "f64",
    `(realized_vol − rolling_mean(realized_vol, ${BAR_VOL_WINDOW_ROWS})) / rolling_std(realized_vol, ${BAR_VOL_WINDOW_ROWS}) (ddof 1); null if the std is 0`,
    {
      unit: "z-score",
      warmupRows: BAR_VOL_WINDOW_ROWS - 1,
      inputs: ["trades.px_int"],
      window: `${BAR_VOL_WINDOW_ROWS} spine rows`,
    },
  ),
  derived("size_ratio", "f64", `avg_trade_size / rolling_median(avg_trade_size, ${BAR_SIZE_WINDOW_ROWS})`, {
    unit: "ratio",
    warmupRows: BAR_SIZE_WINDOW_ROWS - 1,
    inputs: ["trades.qty_int"],
    window: `${BAR_SIZE_WINDOW_ROWS} spine rows`,
  }),
  derived("hl_range_pct", "f64", "(high − low) / vwap", {
    unit: "ratio (fraction of vwap, not percent)",
    warmupRows: 0,
    inputs: TRADE_INPUTS,
    window: "current bar",
  }),
  derived("hour", "i64", "UTC hour of ts_event_us (bar start)", {
    unit: "hour of day UTC [0, 23]",
    warmupRows: 0,
    inputs: ["spine.ts_event_us"],
    window: "current row",
  }),
  derived("bar_duration_seconds", "f64", "(ts_end_us − ts_event_us) / 1e6", {
    unit: "s",
    warmupRows: 0,
    inputs: ["spine.ts_event_us", "spine.ts_end_us"],
    window: "current row",
  }),
];

/** Row outputs `bar_derived` reads (names of the family's aggregation columns), in `BarDerivedOperator` order. */
const ROW_INPUTS = [
  "close",
  "trade_count",
  "spread_bps",
  "flow_imbalance",
  "book_imbalance_top5",
  "realized_vol",
  "avg_trade_size",
  "high",
  "low",
  "vwap",
] as const;
const I_CLOSE = 0;
const I_TRADES = 1;
const I_SPREAD = 2;
const I_FLOW = 3;
const I_BOOK = 4;
const I_RV = 5;
const I_SIZE = 6;
const I_HIGH = 7;
const I_LOW = 8;
const I_VWAP = 9;

/**
 * The guide's derived columns from the bar columns of the same row and earlier rows (Polars semantics:
 * see the module doc). Reads no events: every input is a row value of an earlier family member
 * (`rowInputs`), in operator units (prices in increments — every derived column is a ratio, a difference
 * of bps or a time, so the increments cancel). O(1) per row except `size_ratio` (rolling median, O(log w)).
 */
export class BarDerivedOperator implements Operator {
  readonly id = "bar_derived";
  readonly inputs = [] as const;
  readonly reads = {};
  readonly rowInputs: readonly string[] = ROW_INPUTS;
  readonly outputs = BAR_DERIVED_OUTPUTS;

  /** The last 5 closes (lag 0 = previous row's close). */
  private readonly closes = new RollingStats(5);
  private prevTrades = Number.NaN;
  private prevFlow = Number.NaN;
  private readonly spreadStats = new RollingStats(BAR_SPREAD_WINDOW_ROWS);
  private readonly rvStats = new RollingStats(BAR_VOL_WINDOW_ROWS);
  /** Length of the run of identical non-null realized_vol values ending at the last row (std exactly 0). */
  private rvRun = 0;
  private rvLast = Number.NaN;
  private readonly sizeMedian = new RollingMedian(BAR_SIZE_WINDOW_ROWS);

  onEvent(): void {}

  emit(row: SpineRow, out: readonly Float64Array[], r: number, rowInputs?: readonly Float64Array[]): void {
    const ins = rowInputs!;
    const close = ins[I_CLOSE]![r]!;
    const trades = ins[I_TRADES]![r]!;
    const spread = ins[I_SPREAD]![r]!;
    const flow = ins[I_FLOW]![r]!;
    const book = ins[I_BOOK]![r]!;
    const rv = ins[I_RV]![r]!;
    const avgSize = ins[I_SIZE]![r]!;
    const vwap = ins[I_VWAP]![r]!;

    const close1 = this.closes.lag(0);
    const close5 = this.closes.lag(4);
    out[0]![r] = (close - close1) / close1;
    out[1]![r] = (close - close5) / close5;
    this.closes.push(close, row.barIndex);
    const prevTrades = this.prevTrades;
    out[2]![r] = prevTrades !== 0 ? (trades - prevTrades) / prevTrades : Number.NaN;
    this.prevTrades = trades;
    this.spreadStats.push(spread, row.barIndex);
    out[3]![r] = spread - this.spreadStats.mean();
    out[4]![r] = flow * this.prevFlow;
    this.prevFlow = flow;
    out[5]![r] = book - flow;
    this.rvStats.push(rv, row.barIndex);
    if (Number.isNaN(rv)) this.rvRun = 0;
    else this.rvRun = rv === this.rvLast ? this.rvRun + 1 : 1;
    this.rvLast = rv;
    const rvStd = this.rvRun >= BAR_VOL_WINDOW_ROWS ? 0 : this.rvStats.std();
    out[6]![r] = rvStd > 0 ? (rv - this.rvStats.mean()) / rvStd : Number.NaN;
    this.sizeMedian.push(avgSize);
    out[7]![r] = avgSize / this.sizeMedian.median();
    out[8]![r] = (ins[I_HIGH]![r]! - ins[I_LOW]![r]!) / vwap;
    const tod = ((row.tsEventUs % US_PER_DAY) + US_PER_DAY) % US_PER_DAY;
    out[9]![r] = Math.floor(tod / US_PER_HOUR);
    out[10]![r] = (row.tsEndUs - row.tsEventUs) / US_PER_SECOND;
  }

  snapshot(): JsonValue {
    const n = (x: number): number | null => (Number.isNaN(x) ? null : x);
    return {
      v: 1,
      closes: this.closes.snapshot(),
      prevTrades: n(this.prevTrades),
      prevFlow: n(this.prevFlow),
      spreadStats: this.spreadStats.snapshot(),
      rvStats: this.rvStats.snapshot(),
      rvRun: this.rvRun,
      rvLast: n(this.rvLast),
      sizeMedian: this.sizeMedian.snapshot(),
    };
  }

  restore(state: JsonValue): void {
    const s = stateObject(state, this.id);
    if (s.v !== 1) throw new TypeError(`${this.id}: unsupported state version ${String(s.v)}`);
    const sub = (k: string): JsonValue => stateField(s, k, this.id);
    this.closes.restore(sub("closes"));
    this.prevTrades = stateNumber(s, "prevTrades");
    this.prevFlow = stateNumber(s, "prevFlow");
    this.spreadStats.restore(sub("spreadStats"));
    this.rvStats.restore(sub("rvStats"));
    this.rvRun = stateNumber(s, "rvRun");
    this.rvLast = stateNumber(s, "rvLast");
    this.sizeMedian.restore(sub("sizeMedian"));
  }
}

/** Registered operator of the guide's derived columns (runs in the `bar` family after its aggregations). */
export const barDerivedOperator = familyOperator({
  name: "bar_derived",
  description:
    "the volume-bar guide's add_derived_features (ret_1bar … bar_duration_seconds) from the bar family's aggregation columns of the current and earlier rows",
  source: SOURCE_DERIVED,
  params: z.object({}).strict(),
  outputs: () => BAR_DERIVED_OUTPUTS,
  create: () => new BarDerivedOperator(),
});

/** A built-in aggregation by registry name. @throws Error if it is not built in (a programming error). */
function aggregation(name: string): AggregationSpec {
  const spec = BUILTIN_AGGREGATIONS.find((s) => s.name === name);
  if (!spec) throw new Error(`bar family: aggregation ${name} is not built in`);
  return spec;
}

/**
 * The bar-aggregation family: open, high, low, close, volume, vwap, trade_count, buy_volume, sell_volume,
 * flow_imbalance, avg_trade_size, spread_bps, book_imbalance_top5, realized_vol, vwap_reversion and the
 * guide's derived columns (ret_1bar … bar_duration_seconds). Column names have no prefix. Reads trades,
 * quotes and book_snapshot_25; switched on by `includeBarAggregations` (default off). See the module doc
 * for its members.
 */
export const barAggregations: FamilyDef = defineFamily({
  id: "bar",
  prefix: "",
  title: "Volume-bar aggregations (volume-bar MFT guide)",
  flag: "includeBarAggregations",
  members: () => [
    { def: aggregation("ohlcv"), table: "trades", outputNames: ["open", "high", "low", "close", "volume"] },
    { def: aggregation("trade_vwap"), table: "trades", outputNames: ["vwap"] },
    { def: aggregation("trade_count"), table: "trades" },
    { def: aggregation("taker_volume"), table: "trades" },
    { def: aggregation("signed_trade_imbalance"), table: "trades", outputNames: ["flow_imbalance"] },
    { def: aggregation("avg_trade_size"), table: "trades", config: { per: "trade" } },
    { def: aggregation("spread_bps"), table: "quotes", joinStrategy: "asof_backward" },
    { def: aggregation("book_imbalance_top5"), table: "book_snapshot_25", joinStrategy: "asof_backward" },
    { def: aggregation("realized_volatility"), table: "trades" },
    { def: aggregation("vwap_reversion"), table: "trades" },
    { def: barDerivedOperator },
  ],
});
