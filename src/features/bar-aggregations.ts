/**
 * Bar aggregations of the volume-bar MFT guide (Pointline docs/guides/volume-bar-features-crypto-mft.md,
 * "Building Volume Bar Features for Crypto Middle-Frequency Trading": the per-bar aggregations of its
 * pipeline request — ohlcv, trade_vwap, flow_imbalance, trade_count, avg_trade_size, spread_bps,
 * book_imbalance_top5, realized_volatility — and every column of its `add_derived_features`), as one
 * streaming family (`includeBarAggregations`, id "bar", no column prefix). Not part of Pointline's
 * `families.py` set.
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
import { US_PER_DAY, US_PER_HOUR, US_PER_SECOND } from "../core/time.js";
import { EMPTY_F64, EMPTY_I8, EMPTY_LEVELS, f64, i8, levels } from "../engine/inputs.js";
import {
  type EventCursor,
  type JsonValue,
  type Operator,
  type OutputDtype,
  type OutputSpec,
  type SourceRole,
  type SpineRow,
  stateNumber,
  stateObject,
} from "../engine/operator.js";
import { RollingMedian, RollingStats } from "../engine/rolling.js";
import type { LevelColumn, TypedRows } from "../query/query.js";
import { BOOK_DEPTH, SIDE_BUY, SIDE_SELL } from "../schema/tables.js";
import type { FeatureRunConfig } from "./config.js";
import type { FamilyDef, FeatureMeta } from "./family.js";

/** Rows of the `spread_bps` rolling mean in `spread_deviation` (guide: `rolling_mean(10)`). */
export const BAR_SPREAD_WINDOW_ROWS = 10;
/** Rows of the `realized_vol` rolling mean / std in `vol_zscore` (guide: `rolling_mean(20)`, `rolling_std(20)`). */
export const BAR_VOL_WINDOW_ROWS = 20;
/** Rows of the `avg_trade_size` rolling median in `size_ratio` (guide: `rolling_median(50)`). */
export const BAR_SIZE_WINDOW_ROWS = 50;
/** Book levels per side summed by `book_imbalance_top5`. */
export const BAR_BOOK_LEVELS = 5;

const FAMILY = "bar";
const SOURCE =
  'Pointline docs/guides/volume-bar-features-crypto-mft.md ("Building Volume Bar Features for Crypto MFT")';
const SOURCE_AGG = `${SOURCE}, per-bar aggregations`;
const SOURCE_DERIVED = `${SOURCE}, add_derived_features`;
const PIT_BAR = "trades fed to the bar (up to and including its closing event); no later event";
const PIT_ASOF = "as-of backward: last event of the table in the row's knowledge set";
const PIT_ROWS = "emitted rows up to and including the current one";
const TRADE_INPUTS = ["trades.px_int", "trades.qty_int"] as const;

/** One output column of the family with its catalogue fields (see `FeatureMeta` / `OutputSpec`). */
export interface BarColumn {
  readonly name: string;
  readonly dtype: OutputDtype;
  readonly unit: string;
  readonly warmupRows: number;
  readonly formula: string;
  readonly inputs: readonly string[];
  readonly window: string;
  readonly warmup: string;
  readonly pitPolicy: string;
  readonly source: string;
}

const bar = (
  name: string,
  dtype: OutputDtype,
  unit: string,
  formula: string,
  inputs: readonly string[],
): BarColumn => ({
  name,
  dtype,
  unit,
  warmupRows: 0,
  formula,
  inputs,
  window: "current bar (trade pieces fed since the previous row)",
  warmup: "none",
  pitPolicy: PIT_BAR,
  source: SOURCE_AGG,
});

const derived = (
  name: string,
  dtype: OutputDtype,
  unit: string,
  warmupRows: number,
  formula: string,
  inputs: readonly string[],
  window: string,
): BarColumn => ({
  name,
  dtype,
  unit,
  warmupRows,
  formula,
  inputs,
  window,
  warmup: warmupRows === 0 ? "none" : `${warmupRows} rows (null until the window's inputs are all non-null)`,
  pitPolicy: warmupRows === 0 ? PIT_BAR : PIT_ROWS,
  source: SOURCE_DERIVED,
});

/**
 * Every output of the family, in column order, with its catalogue entry. Prices are `px_int` (price
 * increments), sizes `qty_int` (qty increments); "null" = NaN in the operator, null in frames.
 */
export const BAR_COLUMNS: readonly BarColumn[] = [
  bar("open", "i64", "price increments", "px_int of the bar's first trade piece; null if no trade", [
    "trades.px_int",
  ]),
  bar("high", "i64", "price increments", "max px_int over the bar's trade pieces; null if no trade", [
    "trades.px_int",
  ]),
  bar("low", "i64", "price increments", "min px_int over the bar's trade pieces; null if no trade", [
    "trades.px_int",
  ]),
  bar("close", "i64", "price increments", "px_int of the bar's last trade piece; null if no trade", [
    "trades.px_int",
  ]),
  bar("volume", "i64", "qty increments", "Σ qty of the bar's trade pieces (0 if no trade)", [
    "trades.qty_int",
  ]),
  bar(
    "vwap",
    "f64",
    "price increments",
    "Σ px_int·qty / Σ qty over the bar's pieces (computed as open + Σ(px − open)·qty / Σ qty); null if Σ qty = 0",
    TRADE_INPUTS,
  ),
  bar(
    "trade_count",
    "i64",
    "trades",
    "number of trade pieces that are not continuations (a split trade counts in the bar of its first piece)",
    ["trades"],
  ),
  bar("buy_volume", "i64", "qty increments", "Σ qty of pieces with side = 0 (taker buy)", [
    "trades.qty_int",
    "trades.side",
  ]),
  bar("sell_volume", "i64", "qty increments", "Σ qty of pieces with side = 1 (taker sell)", [
    "trades.qty_int",
    "trades.side",
  ]),
  bar(
    "flow_imbalance",
    "f64",
    "ratio [-1,1]",
    "(buy_volume − sell_volume) / (buy_volume + sell_volume); null if the denominator is 0 (the guide fills 0)",
    ["trades.qty_int", "trades.side"],
  ),
  bar("avg_trade_size", "f64", "qty increments per trade", "volume / trade_count; null if trade_count = 0", [
    "trades.qty_int",
  ]),
  {
    ...bar(
      "spread_bps",
      "f64",
      "bps",
      "1e4 · (ask − bid) / ((ask + bid) / 2) of the as-of quote (L1) at the row's close; null before the first quote",
      ["quotes.bid_px_int", "quotes.ask_px_int"],
    ),
    window: "as-of (last quote)",
    pitPolicy: PIT_ASOF,
  },
  {
    ...bar(
      "book_imbalance_top5",
      "f64",
      "ratio [-1,1]",
      "(Σ bid_qty_int[0..5) − Σ ask_qty_int[0..5)) / (Σ bid + Σ ask) of the as-of book_snapshot_25 (levels present); null before the first snapshot or if the sum is 0 (the guide fills 0)",
      ["book_snapshot_25.bid_qty_int", "book_snapshot_25.ask_qty_int"],
    ),
    window: "as-of (last book snapshot)",
    pitPolicy: PIT_ASOF,
  },
  bar(
    "realized_vol",
    "f64",
    "log return (std per trade)",
    "sample std (ddof 1) of r_i = ln(p_i / p_{i−1}) between consecutive trade pieces of the bar (computed as log1p((p_i − p_{i−1}) / p_{i−1})); null if fewer than 2 returns",
    ["trades.px_int"],
  ),
  derived("vwap_reversion", "f64", "return", 0, "(close − vwap) / vwap", TRADE_INPUTS, "current bar"),
  derived(
    "ret_1bar",
    "f64",
    "return",
    1,
    "close / close.shift(1) − 1 (computed as (close − close₋₁) / close₋₁)",
    ["trades.px_int"],
    "2 rows",
  ),
  derived(
    "ret_5bar",
    "f64",
    "return",
    5,
    "close / close.shift(5) − 1 (computed as (close − close₋₅) / close₋₅)",
    ["trades.px_int"],
    "6 rows",
  ),
  derived(
    "trade_count_accel",
    "f64",
    "ratio",
    1,
    "trade_count / trade_count.shift(1) − 1; null if the previous trade_count is 0",
    ["trades"],
    "2 rows",
  ),
  derived(
    "spread_deviation",
    "f64",
    "bps",
    BAR_SPREAD_WINDOW_ROWS - 1,
    `spread_bps − rolling_mean(spread_bps, ${BAR_SPREAD_WINDOW_ROWS})`,
    ["quotes.bid_px_int", "quotes.ask_px_int"],
    `${BAR_SPREAD_WINDOW_ROWS} spine rows`,
  ),
  derived(
    "flow_persistence",
    "f64",
    "1",
    1,
    "flow_imbalance · flow_imbalance.shift(1)",
    ["trades.qty_int", "trades.side"],
    "2 rows",
  ),
  derived(
    "book_flow_divergence",
    "f64",
    "1",
    0,
    "book_imbalance_top5 − flow_imbalance",
    ["book_snapshot_25.bid_qty_int", "book_snapshot_25.ask_qty_int", "trades.qty_int", "trades.side"],
    "current bar / as-of book",
  ),
  derived(
    "vol_zscore",
    "f64",
    "z-score",
    BAR_VOL_WINDOW_ROWS - 1,
    `(realized_vol − rolling_mean(realized_vol, ${BAR_VOL_WINDOW_ROWS})) / rolling_std(realized_vol, ${BAR_VOL_WINDOW_ROWS}) (ddof 1); null if the std is 0`,
    ["trades.px_int"],
    `${BAR_VOL_WINDOW_ROWS} spine rows`,
  ),
  derived(
    "size_ratio",
    "f64",
    "ratio",
    BAR_SIZE_WINDOW_ROWS - 1,
    `avg_trade_size / rolling_median(avg_trade_size, ${BAR_SIZE_WINDOW_ROWS})`,
    ["trades.qty_int"],
    `${BAR_SIZE_WINDOW_ROWS} spine rows`,
  ),
  derived(
    "hl_range_pct",
    "f64",
    "ratio (fraction of vwap, not percent)",
    0,
    "(high − low) / vwap",
    TRADE_INPUTS,
    "current bar",
  ),
  derived(
    "hour",
    "i64",
    "hour of day UTC [0, 23]",
    0,
    "UTC hour of ts_event_us (bar start)",
    ["spine.ts_event_us"],
    "current row",
  ),
  derived(
    "bar_duration_seconds",
    "f64",
    "s",
    0,
    "(ts_end_us − ts_event_us) / 1e6",
    ["spine.ts_event_us", "spine.ts_end_us"],
    "current row",
  ),
];

// output indices (BAR_COLUMNS order)
const O_OPEN = 0;
const O_HIGH = 1;
const O_LOW = 2;
const O_CLOSE = 3;
const O_VOLUME = 4;
const O_VWAP = 5;
const O_TRADE_COUNT = 6;
const O_BUY = 7;
const O_SELL = 8;
const O_FLOW = 9;
const O_AVG_SIZE = 10;
const O_SPREAD = 11;
const O_BOOK = 12;
const O_RV = 13;
const O_VWAP_REV = 14;
const O_RET1 = 15;
const O_RET5 = 16;
const O_TC_ACCEL = 17;
const O_SPREAD_DEV = 18;
const O_FLOW_PERSIST = 19;
const O_BOOK_FLOW_DIV = 20;
const O_VOL_Z = 21;
const O_SIZE_RATIO = 22;
const O_HL_RANGE = 23;
const O_HOUR = 24;
const O_DURATION = 25;

const OUTPUTS: readonly OutputSpec[] = BAR_COLUMNS.map((c) => ({
  name: c.name,
  dtype: c.dtype,
  unit: c.unit,
  warmupRows: c.warmupRows,
}));

const INPUTS: readonly SourceRole[] = ["trades", "quotes", "book"];

/** The streaming operator of the bar family (see the module doc for formulas and units). */
export class BarAggregationsOperator implements Operator {
  readonly id = "bar_aggregations";
  readonly inputs = INPUTS;
  readonly reads = {
    trades: { px_int: "f64", side: "i8", qty_int: "f64" },
    quotes: { bid_px_int: "f64", ask_px_int: "f64" },
    book: { bid_qty_int: "levels", ask_qty_int: "levels" },
  } as const;
  readonly outputs = OUTPUTS;

  // --- per-bar accumulators (cleared at emit and by discardBar) ---
  /** Trade pieces fed to the bar. */
  private pieces = 0;
  private open = Number.NaN;
  private high = Number.NaN;
  private low = Number.NaN;
  private close = Number.NaN;
  /** Σ qty (qty increments). */
  private vol = 0;
  /** Σ (px − open)·qty (price × qty increments). */
  private dpxQty = 0;
  private trades = 0;
  private buyVol = 0;
  private sellVol = 0;
  /** Welford state of the bar's log returns shifted by its first return. */
  private retN = 0;
  private retShift = 0;
  private retMean = 0;
  private retM2 = 0;

  // --- as-of state (kept across bars) ---
  private bidPx = Number.NaN;
  private askPx = Number.NaN;
  private bookBid5 = Number.NaN;
  private bookAsk5 = Number.NaN;

  // --- state over emitted rows ---
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

  // --- columns of the current batch of each role (resolved once per batch; not state) ---
  private tradeRows: TypedRows | null = null;
  private pxCol = EMPTY_F64;
  private sideCol = EMPTY_I8;
  private quoteRows: TypedRows | null = null;
  private bidPxCol = EMPTY_F64;
  private askPxCol = EMPTY_F64;
  private bookRows: TypedRows | null = null;
  private bidQtyCol = EMPTY_LEVELS;
  private askQtyCol = EMPTY_LEVELS;

  onEvent(ev: EventCursor): void {
    const rows = ev.rows;
    const i = ev.i;
    if (ev.role === "trades") {
      if (rows !== this.tradeRows) {
        this.tradeRows = rows;
        this.pxCol = f64(rows, "px_int");
        this.sideCol = i8(rows, "side");
      }
      this.onTrade(this.pxCol[i]!, ev.qtyInt, this.sideCol[i]!, ev.continuation);
    } else if (ev.role === "quotes") {
      if (rows !== this.quoteRows) {
        this.quoteRows = rows;
        this.bidPxCol = f64(rows, "bid_px_int");
        this.askPxCol = f64(rows, "ask_px_int");
      }
      this.bidPx = this.bidPxCol[i]!;
      this.askPx = this.askPxCol[i]!;
    } else if (ev.role === "book") {
      if (rows !== this.bookRows) {
        this.bookRows = rows;
        this.bidQtyCol = levels(rows, "bid_qty_int");
        this.askQtyCol = levels(rows, "ask_qty_int");
      }
      this.bookBid5 = topLevels(this.bidQtyCol, i);
      this.bookAsk5 = topLevels(this.askQtyCol, i);
    }
  }

  private onTrade(px: number, qty: number, side: number, continuation: boolean): void {
    if (this.pieces === 0) {
      this.open = px;
      this.high = px;
      this.low = px;
    } else {
      if (px > this.high) this.high = px;
      if (px < this.low) this.low = px;
      // log return between consecutive pieces of the bar
      const prev = this.close;
      const r = Math.log1p((px - prev) / prev);
      if (this.retN === 0) this.retShift = r;
      const d = r - this.retShift;
      const n = ++this.retN;
      const delta = d - this.retMean;
      this.retMean += delta / n;
      this.retM2 += delta * (d - this.retMean);
    }
    this.pieces++;
    this.close = px;
    this.vol += qty;
    this.dpxQty += (px - this.open) * qty;
    if (!continuation) this.trades++;
    if (side === SIDE_BUY) this.buyVol += qty;
    else if (side === SIDE_SELL) this.sellVol += qty;
  }

  emit(row: SpineRow, out: readonly Float64Array[], r: number): void {
    const hasTrade = this.pieces > 0;
    const open = this.open;
    const high = this.high;
    const low = this.low;
    const close = this.close;
    const vol = this.vol;
    const vwap = hasTrade && vol !== 0 ? open + this.dpxQty / vol : Number.NaN;
    const trades = this.trades;
    const buy = this.buyVol;
    const sell = this.sellVol;
    const flow = buy + sell !== 0 ? (buy - sell) / (buy + sell) : Number.NaN;
    const avgSize = trades !== 0 ? vol / trades : Number.NaN;
    const spread = (2e4 * (this.askPx - this.bidPx)) / (this.askPx + this.bidPx);
    const bookDen = this.bookBid5 + this.bookAsk5;
    const book = bookDen !== 0 ? (this.bookBid5 - this.bookAsk5) / bookDen : Number.NaN;
    const rv = this.retN >= 2 ? Math.sqrt(this.retM2 / (this.retN - 1)) : Number.NaN;

    out[O_OPEN]![r] = open;
    out[O_HIGH]![r] = high;
    out[O_LOW]![r] = low;
    out[O_CLOSE]![r] = close;
    out[O_VOLUME]![r] = vol;
    out[O_VWAP]![r] = vwap;
    out[O_TRADE_COUNT]![r] = trades;
    out[O_BUY]![r] = buy;
    out[O_SELL]![r] = sell;
    out[O_FLOW]![r] = flow;
    out[O_AVG_SIZE]![r] = avgSize;
    out[O_SPREAD]![r] = spread;
    out[O_BOOK]![r] = book;
    out[O_RV]![r] = rv;

    // close − vwap = ((close − open)·V − Σ(px − open)·qty) / V: exact integer numerator
    out[O_VWAP_REV]![r] = ((close - open) * vol - this.dpxQty) / vol / vwap;
    const close1 = this.closes.lag(0);
    const close5 = this.closes.lag(4);
    out[O_RET1]![r] = (close - close1) / close1;
    out[O_RET5]![r] = (close - close5) / close5;
    this.closes.push(close, row.barIndex);
    const prevTrades = this.prevTrades;
    out[O_TC_ACCEL]![r] = prevTrades !== 0 ? (trades - prevTrades) / prevTrades : Number.NaN;
    this.prevTrades = trades;
    this.spreadStats.push(spread, row.barIndex);
    out[O_SPREAD_DEV]![r] = spread - this.spreadStats.mean();
    out[O_FLOW_PERSIST]![r] = flow * this.prevFlow;
    this.prevFlow = flow;
    out[O_BOOK_FLOW_DIV]![r] = book - flow;
    this.rvStats.push(rv, row.barIndex);
    if (Number.isNaN(rv)) this.rvRun = 0;
    else this.rvRun = rv === this.rvLast ? this.rvRun + 1 : 1;
    this.rvLast = rv;
    const rvStd = this.rvRun >= BAR_VOL_WINDOW_ROWS ? 0 : this.rvStats.std();
    out[O_VOL_Z]![r] = rvStd > 0 ? (rv - this.rvStats.mean()) / rvStd : Number.NaN;
    this.sizeMedian.push(avgSize);
    out[O_SIZE_RATIO]![r] = avgSize / this.sizeMedian.median();
    out[O_HL_RANGE]![r] = (high - low) / vwap;
    const tod = ((row.tsEventUs % US_PER_DAY) + US_PER_DAY) % US_PER_DAY;
    out[O_HOUR]![r] = Math.floor(tod / US_PER_HOUR);
    out[O_DURATION]![r] = (row.tsEndUs - row.tsEventUs) / US_PER_SECOND;

    this.resetBar();
  }

  /** A partial bar was dropped: forget its trades (as-of and row state are kept). */
  discardBar(): void {
    this.resetBar();
  }

  private resetBar(): void {
    this.pieces = 0;
    this.open = Number.NaN;
    this.high = Number.NaN;
    this.low = Number.NaN;
    this.close = Number.NaN;
    this.vol = 0;
    this.dpxQty = 0;
    this.trades = 0;
    this.buyVol = 0;
    this.sellVol = 0;
    this.retN = 0;
    this.retShift = 0;
    this.retMean = 0;
    this.retM2 = 0;
  }

  snapshot(): JsonValue {
    const n = (x: number): number | null => (Number.isNaN(x) ? null : x);
    return {
      v: 1,
      pieces: this.pieces,
      open: n(this.open),
      high: n(this.high),
      low: n(this.low),
      close: n(this.close),
      vol: this.vol,
      dpxQty: this.dpxQty,
      trades: this.trades,
      buyVol: this.buyVol,
      sellVol: this.sellVol,
      retN: this.retN,
      retShift: this.retShift,
      retMean: this.retMean,
      retM2: this.retM2,
      bidPx: n(this.bidPx),
      askPx: n(this.askPx),
      bookBid5: n(this.bookBid5),
      bookAsk5: n(this.bookAsk5),
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
    const sub = (k: string): JsonValue => {
      const v = s[k];
      if (v === undefined) throw new TypeError(`${this.id}: state field ${k} missing`);
      return v;
    };
    this.pieces = stateNumber(s, "pieces");
    this.open = stateNumber(s, "open");
    this.high = stateNumber(s, "high");
    this.low = stateNumber(s, "low");
    this.close = stateNumber(s, "close");
    this.vol = stateNumber(s, "vol");
    this.dpxQty = stateNumber(s, "dpxQty");
    this.trades = stateNumber(s, "trades");
    this.buyVol = stateNumber(s, "buyVol");
    this.sellVol = stateNumber(s, "sellVol");
    this.retN = stateNumber(s, "retN");
    this.retShift = stateNumber(s, "retShift");
    this.retMean = stateNumber(s, "retMean");
    this.retM2 = stateNumber(s, "retM2");
    this.bidPx = stateNumber(s, "bidPx");
    this.askPx = stateNumber(s, "askPx");
    this.bookBid5 = stateNumber(s, "bookBid5");
    this.bookAsk5 = stateNumber(s, "bookAsk5");
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

/** Σ of the first `BAR_BOOK_LEVELS` levels (those present) of row `i` of a book level column. */
function topLevels(col: LevelColumn, i: number): number {
  const n = Math.min(BAR_BOOK_LEVELS, col.lens[i]!);
  const base = i * BOOK_DEPTH;
  let s = 0;
  for (let k = 0; k < n; k++) s += col.values[base + k]!;
  return s;
}

/**
 * The bar-aggregation family: open, high, low, close, volume, vwap, trade_count, buy_volume, sell_volume,
 * flow_imbalance, avg_trade_size, spread_bps, book_imbalance_top5, realized_vol and the guide's derived
 * columns (vwap_reversion … bar_duration_seconds). Column names have no prefix. Reads trades, quotes
 * and book_snapshot_25; switched on by `includeBarAggregations` (default off).
 */
export const barAggregations: FamilyDef = {
  id: FAMILY,
  prefix: "",
  title: "Volume-bar aggregations (volume-bar MFT guide)",
  flag: "includeBarAggregations",
  catalog(_cfg: FeatureRunConfig): FeatureMeta[] {
    return BAR_COLUMNS.map((c) => ({
      name: c.name,
      family: FAMILY,
      formula: c.formula,
      unit: c.unit,
      inputs: c.inputs,
      window: c.window,
      warmup: c.warmup,
      pitPolicy: c.pitPolicy,
      version: 1,
      source: c.source,
    }));
  },
  create(_cfg: FeatureRunConfig): Operator {
    return new BarAggregationsOperator();
  },
};
