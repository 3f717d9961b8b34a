/**
 * Trade aggregations (source table `trades`, join `in_bar`): `trade_vwap`, `ohlcv`, `flow_imbalance`,
 * `trade_count`, `avg_trade_size`, `median_trade_size`, `max_trade_size`, `aggressive_ratio`,
 * `vw_return`, `signed_trade_imbalance`, `realized_volatility`.
 *
 * Events: the bar's trade pieces (shared.ts): one per trade, or with a `splitTrades` spine one per part
 * of a trade in this bar, with `qty_int` = the part's quantity. Sizes are per event; `trade_count`
 * counts trades (a split trade once, in the bar of its first piece). Units: prices and sizes are
 * computed and declared in increments (`price increments`, `qty increments`); the run's sink converts
 * them exactly to quote currency / base units (engine/units.ts), as it does for every operator. Ratios
 * and returns are computed on the integers (the increments cancel).
 *
 * Empty bars (clock spines): prices, ratios, returns and sizes are null; `volume` and `trade_count` are 0.
 *
 * Exactness (DESIGN.md "Data model"): sums of qty_int are exact integers below 2^53. The VWAP numerator
 * Σ px·qty is accumulated relative to the bar's first price, S = Σ (px − open)·qty, an exact integer
 * while |S| < 2^53 (e.g. a 10,000-increment price range × 9·10^11 qty increments), and vwap = open + S/V
 * is one rounding (then one more for × price_increment); beyond 2^53 the sum degrades to ordinary float64
 * rounding, never to wrap-around (the exactness note of features/book-view.ts). Log returns are
 * log1p((p − p_ref)/p_ref) — the real number ln(p/p_ref) without the ~1e-16 absolute error of
 * log(ratio), i.e. ~1e-10 relative on a one-tick BTC return.
 *
 * Sources: Pointline `pointline/research/resample/aggregations/crypto_mft.py` (FlowImbalance, TradeSize,
 * AggressiveRatio, VolumeWeightedReturn, RealizedVolatility), `.../trade_flow.py`
 * (signed_trade_imbalance), and the per-bar aggregations of Pointline's volume-bar guide
 * (`docs/guides/volume-bar-features-crypto-mft.md`: ohlcv, trade_vwap, trade_count).
 */
import { z } from "zod";
import { EMPTY_F64, EMPTY_I8, f64, i8, type OperatorReads } from "../../engine/inputs.js";
import {
  type EventCursor,
  type JsonValue,
  numberToJson,
  type OutputSpec,
  type SharedTradesOperator,
  type SourceRole,
  stateNumber,
  type TradeAccumulator,
  type TradeFieldsOperator,
} from "../../engine/operator.js";
import type { TypedRows } from "../../query/query.js";
import { SIDE_BUY, SIDE_SELL } from "../../schema/tables.js";
import type { AggregationContext, AggregationSpec } from "../aggregation-types.js";
import { BarTrades, BT_RETURNS, BT_SIZES, BT_VW_RETURN } from "./bar-trades.js";
import { BarOperator, defineAggregation, inBarWindow, MODES_BAR, out } from "./shared.js";

const CRYPTO_MFT = "Pointline pointline/research/resample/aggregations/crypto_mft.py";
const GUIDE = "Pointline docs/guides/volume-bar-features-crypto-mft.md (per-bar aggregations)";
const TRADE_WINDOW = inBarWindow("trades (trade pieces)");

/** The trades columns every trade operator reads. */
const TRADE_READS = { px_int: "f64", side: "i8", qty_int: "f64" } as const;

/**
 * Base of the trade operators: decodes each trade event (px_int, piece quantity, side, continuation)
 * and hands it to `onTrade`; events of other roles go to `onOther`.
 */
export abstract class TradeOperator extends BarOperator implements TradeFieldsOperator {
  /** Every trade operator reads px_int, side and the piece quantity (from qty_int). */
  override reads: OperatorReads = { trades: TRADE_READS };
  /** Columns of the current trades batch (resolved once per batch; not state). */
  private tradeRows: TypedRows | null = null;
  private pxCol = EMPTY_F64;
  private sideCol = EMPTY_I8;

  onEvent(ev: EventCursor): void {
    if (ev.role === "trades") {
      if (ev.rows !== this.tradeRows) {
        this.tradeRows = ev.rows;
        this.pxCol = f64(ev.rows, "px_int");
        this.sideCol = i8(ev.rows, "side");
      }
      this.onTrade(this.pxCol[ev.i]!, ev.qtyInt, this.sideCol[ev.i]!, ev.continuation);
    } else this.onOther(ev);
  }

  /**
   * One trade piece: price (price increments), quantity of the piece (qty increments), taker side
   * (0 buy, 1 sell, −1 unknown), true for the second and later pieces of a split trade.
   */
  abstract onTrade(px: number, qty: number, side: number, continuation: boolean): void;

  /** An event of an extra table (e.g. quotes); ignored by default. */
  protected onOther(_ev: EventCursor): void {}
}

/**
 * Base of the trade operators whose per-bar state is a `BarTrades` (bar-trades.ts): each trade piece
 * updates the accumulator, `writeFrom` computes the outputs from its sums at emit. Standalone the
 * operator owns its accumulator (parts as its constructor asks); in a `GroupOperator` several of them
 * share one (`shareTrades`), fed once per piece by the group — same arithmetic, bitwise equal outputs.
 */
export abstract class BarTradesOperator extends TradeOperator implements SharedTradesOperator {
  private acc: BarTrades;
  private shared = false;

  /** @param parts optional `BarTrades` parts this operator reads (`BT_RETURNS`, `BT_SIZES`, `BT_VW_RETURN`). */
  constructor(id: string, inputs: readonly SourceRole[], outputs: readonly OutputSpec[], parts = 0) {
    super(id, inputs, outputs);
    this.acc = new BarTrades(parts);
  }

  get tradeAccumulator(): TradeAccumulator {
    return this.acc;
  }

  /** @throws TypeError if `acc` is not a `BarTrades` holding this operator's parts. */
  shareTrades(acc: TradeAccumulator): void {
    if (!(acc instanceof BarTrades) || (acc.parts & this.acc.parts) !== this.acc.parts)
      throw new TypeError(`${this.id}: cannot share a trade accumulator without parts ${this.acc.parts}`);
    this.acc = acc;
    this.shared = true;
  }

  onTrade(px: number, qty: number, side: number, continuation: boolean): void {
    this.acc.onTrade(px, qty, side, continuation);
  }

  protected write(outs: readonly Float64Array[], r: number): void {
    this.writeFrom(this.acc, outs, r);
  }

  /** Writes `outs[k][r]` for every output from the bar's sums (NaN = null). */
  protected abstract writeFrom(t: BarTrades, outs: readonly Float64Array[], r: number): void;

  protected resetBar(): void {
    if (!this.shared) this.acc.reset();
  }

  /** The accumulator's state when owned; nothing when shared (its owner holds it). */
  protected saveState(): { [k: string]: JsonValue } {
    return this.shared ? {} : { trades: this.acc.toJson() };
  }

  protected loadState(st: { readonly [k: string]: JsonValue }): void {
    if (!this.shared) this.acc.fromJson(st.trades ?? null);
  }
}

/** `trade_vwap` → `vwap_px` = Σ px·qty / Σ qty (quote currency; open + S/V, see bar-trades.ts); null when Σ qty = 0. */
export class TradeVwapOperator extends BarTradesOperator {
  protected writeFrom(t: BarTrades, outs: readonly Float64Array[], r: number): void {
    outs[0]![r] = t.vwap();
  }
}

/**
 * `vwap_reversion` = (close − vwap)/vwap of the bar (return; close = the last trade piece's price);
 * null when Σ qty = 0. close − vwap = ((close − open)·V − S)/V has an exact integer numerator, so the
 * reversion of a bar whose close sits a fraction of a tick from its VWAP keeps full precision (the
 * difference of two rounded prices would lose ~1e-10 relative).
 */
export class VwapReversionOperator extends BarTradesOperator {
  protected writeFrom(t: BarTrades, outs: readonly Float64Array[], r: number): void {
    outs[0]![r] = ((t.close - t.open) * t.v - t.s) / t.v / t.vwap();
  }
}

/** `taker_volume` → buy_volume, sell_volume: Σ qty of the bar's pieces by taker side (qty increments; 0 without trades). */
export class TakerVolumeOperator extends BarTradesOperator {
  protected writeFrom(t: BarTrades, outs: readonly Float64Array[], r: number): void {
    outs[0]![r] = t.buy;
    outs[1]![r] = t.sell;
  }
}

/** `ohlcv` → open_px, high_px, low_px, close_px (quote currency; null without trades), volume (base units; 0). */
export class OhlcvOperator extends BarTradesOperator {
  protected writeFrom(t: BarTrades, outs: readonly Float64Array[], r: number): void {
    outs[0]![r] = t.open;
    outs[1]![r] = t.high;
    outs[2]![r] = t.low;
    outs[3]![r] = t.close;
    outs[4]![r] = t.v;
  }
}

/**
 * (buy − sell)/(buy + sell) of taker volume. `flow_imbalance`: 0 when buy + sell = 0 (Pointline
 * `otherwise(0.0)`), null without trades. `signed_trade_imbalance`: null when buy + sell = 0.
 */
export class FlowImbalanceOperator extends BarTradesOperator {
  constructor(
    private readonly nullWhenBalanced: boolean,
    id: string,
    outputs: readonly OutputSpec[],
  ) {
    super(id, ["trades"], outputs);
  }

  protected writeFrom(t: BarTrades, outs: readonly Float64Array[], r: number): void {
    const den = t.buy + t.sell;
    let v: number;
    if (den > 0) v = (t.buy - t.sell) / den;
    else v = t.n === 0 || this.nullWhenBalanced ? Number.NaN : 0;
    outs[0]![r] = v;
  }
}

/** `trade_count`: trades whose first piece is in the bar (0 without trades). */
export class TradeCountOperator extends BarTradesOperator {
  protected writeFrom(t: BarTrades, outs: readonly Float64Array[], r: number): void {
    outs[0]![r] = t.trades;
  }
}

/**
 * Trade sizes of the bar's events (base units): `avg` = Σ qty / n, `median` (Polars median: mean of the
 * two middle values for an even n; the bar's sizes in a growable buffer sorted at emit, memory = the
 * largest bar's trade count), `max`. Null without trades. `avg` divides by the number of trade pieces
 * (`per` = "event", default) or, as the volume-bar guide's `volume / trade_count`, by the number of trades
 * whose first piece is in the bar (`per` = "trade"; null when that count is 0). The two differ only on
 * `splitTrades` spines.
 */
export class TradeSizeOperator extends BarTradesOperator {
  constructor(
    readonly kind: "avg" | "median" | "max",
    id: string,
    outputs: readonly OutputSpec[],
    readonly per: "event" | "trade" = "event",
  ) {
    super(id, ["trades"], outputs, kind === "median" ? BT_SIZES : 0);
  }

  protected writeFrom(t: BarTrades, outs: readonly Float64Array[], r: number): void {
    let v: number;
    if (t.n === 0) v = Number.NaN;
    else if (this.kind === "avg")
      v = this.per === "trade" ? (t.trades !== 0 ? t.v / t.trades : Number.NaN) : t.v / t.n;
    else if (this.kind === "median") v = t.sizes.median();
    else v = t.max;
    outs[0]![r] = v;
  }
}

/**
 * `aggressive_ratio`: share of the bar's volume from trades that executed at or through the as-of L1
 * quote on their aggressor side — taker buy with px ≥ ask, taker sell with px ≤ bid — the quote being the
 * latest `quotes` row before the trade in the total order (quotes rank before trades at equal
 * ts_local_us). Trades before the first quote, with a null quote side or an unknown taker side count in
 * the volume but never as aggressive. Null without trades or with zero volume. Inputs: trades, quotes
 * (the quote is carried across bars).
 */
export class AggressiveRatioOperator extends TradeOperator {
  override reads: OperatorReads = {
    trades: TRADE_READS,
    quotes: { bid_px_int: "f64", ask_px_int: "f64" },
  };
  private v = 0;
  private aggressive = 0;
  private bid = Number.NaN;
  private ask = Number.NaN;
  /** Columns of the current quotes batch (resolved once per batch; not state). */
  private quoteRows: TypedRows | null = null;
  private bidCol = EMPTY_F64;
  private askCol = EMPTY_F64;

  protected override onOther(ev: EventCursor): void {
    if (ev.rows !== this.quoteRows) {
      this.quoteRows = ev.rows;
      this.bidCol = f64(ev.rows, "bid_px_int");
      this.askCol = f64(ev.rows, "ask_px_int");
    }
    this.bid = this.bidCol[ev.i]!;
    this.ask = this.askCol[ev.i]!;
  }

  onTrade(px: number, qty: number, side: number): void {
    this.v += qty;
    if ((side === SIDE_BUY && px >= this.ask) || (side === SIDE_SELL && px <= this.bid))
      this.aggressive += qty;
  }

  protected write(outs: readonly Float64Array[], r: number): void {
    outs[0]![r] = this.v > 0 ? this.aggressive / this.v : Number.NaN;
  }

  protected resetBar(): void {
    this.v = 0;
    this.aggressive = 0;
  }

  protected saveState(): { [k: string]: JsonValue } {
    return {
      v: this.v,
      aggressive: this.aggressive,
      bid: numberToJson(this.bid),
      ask: numberToJson(this.ask),
    };
  }

  protected loadState(st: { readonly [k: string]: JsonValue }): void {
    this.v = stateNumber(st, "v");
    this.aggressive = stateNumber(st, "aggressive");
    this.bid = stateNumber(st, "bid");
    this.ask = stateNumber(st, "ask");
  }
}

/** `vw_return` = Σ qty·ln(p/p_first) / Σ qty over the bar's trades (log return); null when Σ qty = 0. */
export class VwReturnOperator extends BarTradesOperator {
  constructor(id: string, inputs: readonly SourceRole[], outputs: readonly OutputSpec[]) {
    super(id, inputs, outputs, BT_VW_RETURN);
  }

  protected writeFrom(t: BarTrades, outs: readonly Float64Array[], r: number): void {
    outs[0]![r] = t.v !== 0 ? t.vwNum / t.v : Number.NaN;
  }
}

/**
 * `realized_volatility` → `realized_vol`: sample std (ddof 1) of the tick log returns ln(p_i/p_{i−1})
 * between consecutive trade pieces of the bar; null with fewer than 2 returns.
 */
export class RealizedVolOperator extends BarTradesOperator {
  constructor(id: string, inputs: readonly SourceRole[], outputs: readonly OutputSpec[]) {
    super(id, inputs, outputs, BT_RETURNS);
  }

  protected writeFrom(t: BarTrades, outs: readonly Float64Array[], r: number): void {
    outs[0]![r] = t.returns.std();
  }
}

const TRADES = ["trades"] as const;

function tradeSpec(
  name: string,
  description: string,
  requiredColumns: readonly string[],
  semanticType: string,
  outputs: ReturnType<typeof out>[],
  build: (ctx: AggregationContext, outputs: readonly OutputSpec[]) => TradeOperator,
  source: string,
  extra: { extraTables?: readonly ["quotes"]; params?: z.ZodType<Record<string, unknown>> } = {},
): AggregationSpec {
  return defineAggregation({
    name,
    description,
    requiredColumns,
    modeAllowlist: MODES_BAR,
    stage: "aggregate_then_feature",
    semanticType,
    window: extra.extraTables
      ? `${TRADE_WINDOW}; each trade is compared with the latest quotes row before it in the total order (as-of, carried across bars)`
      : TRADE_WINDOW,
    joinStrategies: ["in_bar"],
    tables: TRADES,
    ...extra,
    outputs: () => outputs,
    build,
    source,
  });
}

/** Operator units (increments); the run's sink converts them to quote currency / base units (engine/units.ts). */
const PRICE = "price increments";
const BASE = "qty increments";

/** The trade aggregations, in catalogue order. */
export const TRADE_AGGREGATIONS: readonly AggregationSpec[] = [
  tradeSpec(
    "trade_vwap",
    "vwap_px = Σ px·qty / Σ qty over the bar's trades, px decoded to quote currency (Σ px_int·qty_int exact, relative to the bar's first price); null when Σ qty = 0",
    ["px_int", "qty_int"],
    "price",
    [out("vwap_px", "f64", PRICE)],
    (ctx, o) => new TradeVwapOperator(ctx.operatorName, TRADES, o),
    GUIDE,
  ),
  tradeSpec(
    "ohlcv",
    "open_px / high_px / low_px / close_px = first / max / min / last trade price of the bar (quote currency; null without trades); volume = Σ qty (base units; 0 without trades)",
    ["px_int", "qty_int"],
    "price",
    [
      out("open_px", "f64", PRICE, "px of the bar's first trade piece; null without trades"),
      out("high_px", "f64", PRICE, "max px over the bar's trade pieces; null without trades"),
      out("low_px", "f64", PRICE, "min px over the bar's trade pieces; null without trades"),
      out("close_px", "f64", PRICE, "px of the bar's last trade piece; null without trades"),
      out("volume", "f64", BASE, "Σ qty of the bar's trade pieces; 0 without trades"),
    ],
    (ctx, o) => new OhlcvOperator(ctx.operatorName, TRADES, o),
    GUIDE,
  ),
  tradeSpec(
    "flow_imbalance",
    "(buy − sell) / (buy + sell) of the bar's taker volume (side 0 buy, 1 sell, unknown ignored); 0 when buy + sell = 0 (as Pointline); null without trades",
    ["qty_int", "side"],
    "trade_flow",
    [out("flow_imbalance", "f64", "ratio [-1,1]")],
    (ctx, o) => new FlowImbalanceOperator(false, ctx.operatorName, o),
    CRYPTO_MFT,
  ),
  tradeSpec(
    "trade_count",
    "number of trades in the bar (a trade split across bars counts once, in the bar of its first piece); 0 without trades",
    [],
    "event_id",
    [out("trade_count", "i64", "trades")],
    (ctx, o) => new TradeCountOperator(ctx.operatorName, TRADES, o),
    GUIDE,
  ),
  tradeSpec(
    "taker_volume",
    "buy_volume / sell_volume = Σ qty of the bar's trade pieces with taker side buy (0) / sell (1) (base units; unknown sides in neither; 0 without trades)",
    ["qty_int", "side"],
    "trade_flow",
    [
      out("buy_volume", "f64", BASE, "Σ qty of the bar's pieces with side = 0 (taker buy); 0 without trades"),
      out(
        "sell_volume",
        "f64",
        BASE,
        "Σ qty of the bar's pieces with side = 1 (taker sell); 0 without trades",
      ),
    ],
    (ctx, o) => new TakerVolumeOperator(ctx.operatorName, TRADES, o),
    GUIDE,
  ),
  tradeSpec(
    "avg_trade_size",
    'Σ qty / n over the bar (base units): n = trade events (config per = "event", default, as Pointline) or trades whose first piece is in the bar (per = "trade", the volume-bar guide\'s volume / trade_count; null when 0); null without trades',
    ["qty_int"],
    "size",
    [out("avg_trade_size", "f64", BASE)],
    (ctx, o) =>
      new TradeSizeOperator("avg", ctx.operatorName, o, ctx.config.per === "trade" ? "trade" : "event"),
    `${CRYPTO_MFT}; per = "trade": ${GUIDE}`,
    { params: z.object({ per: z.enum(["event", "trade"]).default("event") }).strict() },
  ),
  tradeSpec(
    "median_trade_size",
    "median of the bar's trade sizes (base units; mean of the two middle sizes for an even count); null without trades",
    ["qty_int"],
    "size",
    [out("median_trade_size", "f64", BASE)],
    (ctx, o) => new TradeSizeOperator("median", ctx.operatorName, o),
    CRYPTO_MFT,
  ),
  tradeSpec(
    "max_trade_size",
    "largest trade size of the bar (base units); null without trades",
    ["qty_int"],
    "size",
    [out("max_trade_size", "f64", BASE)],
    (ctx, o) => new TradeSizeOperator("max", ctx.operatorName, o),
    CRYPTO_MFT,
  ),
  tradeSpec(
    "aggressive_ratio",
    "Σ qty of trades at or through the as-of L1 quote on their aggressor side (taker buy px ≥ ask, taker sell px ≤ bid; quote = latest quotes row before the trade) / Σ qty of the bar; null without volume. Pointline's version is a constant 1.0 placeholder; this is the measure its TODO describes",
    ["px_int", "qty_int", "side"],
    "trade_flow",
    [out("aggressive_ratio", "f64", "ratio [0,1]")],
    (ctx, o) => new AggressiveRatioOperator(ctx.operatorName, ["trades", "quotes"], o),
    `${CRYPTO_MFT} (AggressiveRatio, its commented-out aggressor detection)`,
    { extraTables: ["quotes"] },
  ),
  tradeSpec(
    "vw_return",
    "Σ qty·ln(p / p_first) / Σ qty over the bar's trades, p_first the bar's first trade price (log return); null without trades (Pointline fills 0)",
    ["px_int", "qty_int"],
    "price",
    [out("vw_return", "f64", "log return")],
    (ctx, o) => new VwReturnOperator(ctx.operatorName, TRADES, o),
    `${CRYPTO_MFT} (VolumeWeightedReturn)`,
  ),
  tradeSpec(
    "signed_trade_imbalance",
    "(buy − sell) / (buy + sell) of the bar's taker volume; null when buy + sell = 0 (no trades, or only unknown sides)",
    ["qty_int", "side"],
    "trade_flow",
    [out("signed_trade_imbalance", "f64", "ratio [-1,1]")],
    (ctx, o) => new FlowImbalanceOperator(true, ctx.operatorName, o),
    "Pointline pointline/research/resample/aggregations/trade_flow.py",
  ),
  tradeSpec(
    "realized_volatility",
    "realized_vol = sample std (ddof 1) of the tick log returns ln(p_i / p_{i−1}) between consecutive trades of the bar; null with fewer than 2 returns (Pointline fills 0)",
    ["px_int"],
    "volatility",
    [out("realized_vol", "f64", "log return (std per trade)")],
    (ctx, o) => new RealizedVolOperator(ctx.operatorName, TRADES, o),
    `${CRYPTO_MFT} (RealizedVolatility)`,
  ),
  tradeSpec(
    "vwap_reversion",
    "(close − vwap) / vwap of the bar, close = the last trade piece's price, vwap = Σ px·qty / Σ qty (computed as ((close − open)·Σ qty − Σ (px − open)·qty) / Σ qty / vwap: exact integer numerator); null when Σ qty = 0",
    ["px_int", "qty_int"],
    "price",
    [out("vwap_reversion", "f64", "return")],
    (ctx, o) => new VwapReversionOperator(ctx.operatorName, TRADES, o),
    `${GUIDE.replace(" (per-bar aggregations)", "")} (add_derived_features)`,
  ),
];
