/**
 * Trade-flow family (`of_`, as-of last trade): the sign and size of the last trade in the row's
 * knowledge set. Pointline: `add_trade_flow_features` in pointline/research/features/families.py.
 *
 * Outputs (all i64, as-of, warm-up 0 rows; null before the first trade):
 * - `of_signed_qty_int` = +qty_int for a taker buy, −qty_int for a taker sell, 0 for an unknown side
 *   (qty increments).
 * - `of_trade_sign` = +1 / −1 / 0 (same rule).
 * - `of_last_qty_int` = qty_int (qty increments), `of_last_px_int` = px_int (price increments).
 *
 * The trade is the raw `trades` row: when a `splitTrades` spine feeds a trade in pieces, the first piece
 * records the whole row (its qty_int, not the piece's) and continuation pieces are ignored, so the value
 * does not depend on the spine. On the `trades` spine the as-of trade of a row is the row's own trade.
 */
import { EMPTY_F64, EMPTY_I8, f64, i8 } from "../engine/inputs.js";
import {
  type EventCursor,
  type JsonValue,
  type Operator,
  type SpineRow,
  stateNumber,
  stateObject,
} from "../engine/operator.js";
import type { OutputMeta } from "../engine/registry.js";
import type { TypedRows } from "../query/query.js";
import { SIDE_BUY, SIDE_SELL } from "../schema/tables.js";
import { POINTLINE_FAMILIES_SOURCE } from "./book-view.js";
import { defineFamily, type FamilyDef, familyOperator, outputBuilder } from "./family.js";

const PX = "price increments";
const QTY = "qty increments";

/**
 * Output columns of the trade-flow operator, in order, each declared once with its catalogue metadata
 * (the operator's `outputs` and the family catalogue are this list).
 */
export const OF_OUTPUTS: readonly OutputMeta[] = (() => {
  const col = outputBuilder({
    warmupRows: 0,
    window: "as-of (last trade)",
    warmup: "0 rows (null before the first trade)",
    pitPolicy:
      "as-of backward: last trades row in the row's knowledge set (ts_local_us < available_at for clock rows; the closing trade e* itself for event rows)",
    source: `${POINTLINE_FAMILIES_SOURCE} (add_trade_flow_features)`,
  });
  return [
    col("of_signed_qty_int", "i64", "qty_int if side = buy, −qty_int if sell, 0 if unknown", {
      unit: QTY,
      inputs: ["trades.qty_int", "trades.side"],
    }),
    col("of_trade_sign", "i64", "+1 if side = buy, −1 if sell, 0 if unknown", {
      unit: "sign {-1,0,1}",
      inputs: ["trades.side"],
    }),
    col("of_last_qty_int", "i64", "qty_int of the last trade", { unit: QTY, inputs: ["trades.qty_int"] }),
    col("of_last_px_int", "i64", "px_int of the last trade", { unit: PX, inputs: ["trades.px_int"] }),
  ];
})();

/** Streaming operator of the as-of trade-flow family. O(1) per trade and per emit, no allocation. */
export class TradeFlowOperator implements Operator {
  readonly id = "trade_flow";
  readonly inputs = ["trades"] as const;
  readonly reads = { trades: { side: "i8", px_int: "f64", qty_int: "f64" } } as const;
  readonly outputs = OF_OUTPUTS;
  /** Last trade's px_int, qty_int and signed direction (+1/−1/0); NaN before the first trade. */
  private px = Number.NaN;
  private qty = Number.NaN;
  private sign = Number.NaN;
  /** Columns of the current batch (resolved once per batch). */
  private rows: TypedRows | null = null;
  private sideCol = EMPTY_I8;
  private pxCol = EMPTY_F64;
  private qtyCol = EMPTY_F64;

  onEvent(ev: EventCursor): void {
    if (ev.continuation) return;
    if (ev.rows !== this.rows) {
      this.rows = ev.rows;
      this.sideCol = i8(ev.rows, "side");
      this.pxCol = f64(ev.rows, "px_int");
      this.qtyCol = f64(ev.rows, "qty_int");
    }
    const side = this.sideCol[ev.i]!;
    this.px = this.pxCol[ev.i]!;
    this.qty = this.qtyCol[ev.i]!;
    this.sign = side === SIDE_BUY ? 1 : side === SIDE_SELL ? -1 : 0;
  }

  emit(_row: SpineRow, out: readonly Float64Array[], r: number): void {
    // 0 · qty stays 0 for an unknown side (qty is finite once a trade was seen)
    out[0]![r] = this.sign === 0 ? 0 : this.sign * this.qty;
    out[1]![r] = this.sign;
    out[2]![r] = this.qty;
    out[3]![r] = this.px;
  }

  snapshot(): JsonValue {
    const nan = (x: number) => (Number.isNaN(x) ? null : x);
    return { px: nan(this.px), qty: nan(this.qty), sign: nan(this.sign) };
  }

  restore(state: JsonValue): void {
    const s = stateObject(state, this.id);
    this.px = stateNumber(s, "px");
    this.qty = stateNumber(s, "qty");
    this.sign = stateNumber(s, "sign");
  }
}

/** Registered operator of the as-of trade-flow family (features/registry.ts). */
export const tradeFlowOperator = familyOperator({
  name: "trade_flow",
  description: "sign, size and price of the last trade in the row's knowledge set",
  source: `${POINTLINE_FAMILIES_SOURCE} (add_trade_flow_features)`,
  outputs: () => OF_OUTPUTS,
  create: () => new TradeFlowOperator(),
});

/** As-of trade-flow family (`of_`, CLI id "of", flag `includeTradeFlow`). */
export const tradeFlow: FamilyDef = defineFamily({
  id: "of",
  prefix: "of_",
  title: "Trade flow: sign and size of the last trade",
  flag: "includeTradeFlow",
  members: () => [{ def: tradeFlowOperator }],
});
