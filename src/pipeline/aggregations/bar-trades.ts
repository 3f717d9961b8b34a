/**
 * `BarTrades`: the per-bar sums of a bar's trade pieces that the trade aggregations read — count, trades
 * (first pieces), open / high / low / close, volume, taker buy / sell volume, the VWAP numerator, the
 * largest size — plus optional parts (tick-return moments, the sizes of the bar, the volume-weighted log
 * return numerator) that only some aggregations need. One update per trade piece; an operator computes
 * its outputs from the sums at emit (trades.ts). Operators of one group share a single `BarTrades`
 * whose parts are the union of theirs (`union`, engine/group.ts), so a bar family of eight trade
 * aggregations accumulates each trade once, with the same arithmetic as each of them alone: outputs are
 * bitwise equal either way.
 *
 * Exactness (DESIGN.md "Data model"): prices and sizes are integer increments held in float64. `v`,
 * `buy`, `sell` are exact integer sums below 2^53; the VWAP numerator is kept relative to the bar's
 * first price, S = Σ (px − open)·qty, an exact integer while |S| < 2^53, and degrades to ordinary
 * float64 rounding beyond, never to wrap-around. Tick log returns are log1p((p_i − p_{i−1})/p_{i−1})
 * (no ~1e-16 absolute loss of ln(ratio)); their moments use Welford's update shifted by the first
 * return (`ShiftedMoments`).
 */
import {
  type JsonValue,
  numberToJson,
  stateNumber,
  stateObject,
  type TradeAccumulator,
} from "../../engine/operator.js";
import { SIDE_BUY, SIDE_SELL } from "../../schema/tables.js";
import { GrowableBuffer, ShiftedMoments } from "./shared.js";

/** Optional part: moments of the tick log returns between consecutive pieces (`returns.std()`). */
export const BT_RETURNS = 1;
/** Optional part: every piece's size (`sizes`, for the median). */
export const BT_SIZES = 2;
/** Optional part: Σ qty·ln(px/open) over the pieces after the first (`vwNum`). */
export const BT_VW_RETURN = 4;
const ALL_PARTS = BT_RETURNS | BT_SIZES | BT_VW_RETURN;

/** Per-bar sums of trade pieces (see the module doc). Fields are read by the trade operators. */
export class BarTrades implements TradeAccumulator {
  /** Trade pieces in the bar. */
  n = 0;
  /** Trades whose first piece is in the bar (continuations not counted). */
  trades = 0;
  /** First / max / min / last piece price (price increments); NaN without trades. */
  open = Number.NaN;
  high = Number.NaN;
  low = Number.NaN;
  close = Number.NaN;
  /** Σ qty (qty increments). */
  v = 0;
  /** Σ qty of taker-buy / taker-sell pieces (unknown sides in neither). */
  buy = 0;
  sell = 0;
  /** Σ (px − open)·qty (price × qty increments). */
  s = 0;
  /** Largest piece size (qty increments); NaN without trades. */
  max = Number.NaN;
  /** `BT_RETURNS`: moments of the tick log returns. */
  readonly returns = new ShiftedMoments();
  /** `BT_SIZES`: the bar's piece sizes. */
  readonly sizes = new GrowableBuffer();
  /** `BT_VW_RETURN`: Σ qty·ln(px/open) (log return × qty increments). */
  vwNum = 0;

  /** @param parts a bitwise or of `BT_RETURNS`, `BT_SIZES`, `BT_VW_RETURN` (0: the base sums only). */
  constructor(readonly parts: number) {
    if ((parts & ~ALL_PARTS) !== 0) throw new RangeError(`BarTrades: unknown parts ${parts}`);
  }

  onTrade(px: number, qty: number, side: number, continuation: boolean): void {
    const parts = this.parts;
    if (this.n === 0) {
      this.open = px;
      this.high = px;
      this.low = px;
      this.max = qty;
    } else {
      if (px > this.high) this.high = px;
      if (px < this.low) this.low = px;
      if (qty > this.max) this.max = qty;
      if ((parts & BT_RETURNS) !== 0) this.returns.push(Math.log1p((px - this.close) / this.close));
      if ((parts & BT_VW_RETURN) !== 0) this.vwNum += qty * Math.log1p((px - this.open) / this.open);
    }
    this.n++;
    if (!continuation) this.trades++;
    this.s += (px - this.open) * qty;
    this.v += qty;
    if (side === SIDE_BUY) this.buy += qty;
    else if (side === SIDE_SELL) this.sell += qty;
    this.close = px;
    if ((parts & BT_SIZES) !== 0) this.sizes.push(qty);
  }

  /** open + S/V (price increments); NaN when Σ qty = 0. */
  vwap(): number {
    return this.v !== 0 ? this.open + this.s / this.v : Number.NaN;
  }

  reset(): void {
    this.n = 0;
    this.trades = 0;
    this.open = Number.NaN;
    this.high = Number.NaN;
    this.low = Number.NaN;
    this.close = Number.NaN;
    this.v = 0;
    this.buy = 0;
    this.sell = 0;
    this.s = 0;
    this.max = Number.NaN;
    this.returns.reset();
    this.sizes.clear();
    this.vwNum = 0;
  }

  union(other: TradeAccumulator): BarTrades | null {
    return other instanceof BarTrades ? new BarTrades(this.parts | other.parts) : null;
  }

  toJson(): JsonValue {
    const st: { [k: string]: JsonValue } = {
      parts: this.parts,
      n: this.n,
      trades: this.trades,
      open: numberToJson(this.open),
      high: numberToJson(this.high),
      low: numberToJson(this.low),
      close: numberToJson(this.close),
      v: this.v,
      buy: this.buy,
      sell: this.sell,
      s: this.s,
      max: numberToJson(this.max),
    };
    if ((this.parts & BT_RETURNS) !== 0) st.returns = this.returns.toJson();
    if ((this.parts & BT_SIZES) !== 0) st.sizes = this.sizes.toJson();
    if ((this.parts & BT_VW_RETURN) !== 0) st.vwNum = this.vwNum;
    return st;
  }

  /** @throws TypeError on a malformed state or one of other parts. */
  fromJson(state: JsonValue): void {
    const st = stateObject(state, "BarTrades");
    if (st.parts !== this.parts)
      throw new TypeError(`BarTrades: state has parts ${String(st.parts)}, expected ${this.parts}`);
    this.n = stateNumber(st, "n");
    this.trades = stateNumber(st, "trades");
    this.open = stateNumber(st, "open");
    this.high = stateNumber(st, "high");
    this.low = stateNumber(st, "low");
    this.close = stateNumber(st, "close");
    this.v = stateNumber(st, "v");
    this.buy = stateNumber(st, "buy");
    this.sell = stateNumber(st, "sell");
    this.s = stateNumber(st, "s");
    this.max = stateNumber(st, "max");
    if ((this.parts & BT_RETURNS) !== 0) this.returns.fromJson(st.returns);
    else this.returns.reset();
    if ((this.parts & BT_SIZES) !== 0) this.sizes.fromJson(st, "sizes");
    else this.sizes.clear();
    this.vwNum = (this.parts & BT_VW_RETURN) !== 0 ? stateNumber(st, "vwNum") : 0;
  }
}
