/**
 * Execution-cost family (`ex_`): cost-of-crossing proxies from the top of the as-of `book_snapshot_25`
 * row. Pointline: `add_execution_cost_features` in pointline/research/features/families.py.
 *
 * Outputs (as-of, warm-up 0 rows; null before the first book row or when a side is empty):
 * - `ex_spread_int` = ask_px_int[0] − bid_px_int[0] (i64, price increments)
 * - `ex_half_spread_int` = ex_spread_int / 2 (f64, price increments): the cost of one market order
 *   against the mid
 * - `ex_depth_pressure` = bid_qty[0] / (bid_qty[0] + ask_qty[0]) (f64, ratio [0, 1]); null if the
 *   denominator is not > 0.
 */
import {
  type EventCursor,
  type JsonValue,
  type Operator,
  type SpineRow,
  stateObject,
} from "../engine/operator.js";
import type { OutputMeta } from "../engine/registry.js";
import { ASOF_BOOK_OUTPUT, ASOF_BOOK_READS, AsOfBook, POINTLINE_FAMILIES_SOURCE } from "./book-view.js";
import { defineFamily, type FamilyDef, familyOperator, outputBuilder } from "./family.js";

const PX = "price increments";

/**
 * Output columns of the execution-cost operator, in order, each declared once with its catalogue
 * metadata (the operator's `outputs` and the family catalogue are this list).
 */
export const EX_OUTPUTS: readonly OutputMeta[] = (() => {
  const col = outputBuilder({
    ...ASOF_BOOK_OUTPUT,
    unit: PX,
    inputs: ["book_snapshot_25.bid_px_int", "book_snapshot_25.ask_px_int"],
    source: `${POINTLINE_FAMILIES_SOURCE} (add_execution_cost_features)`,
  });
  return [
    col("ex_spread_int", "i64", "ask_px_int[0] − bid_px_int[0]"),
    col("ex_half_spread_int", "f64", "(ask_px_int[0] − bid_px_int[0]) / 2"),
    col(
      "ex_depth_pressure",
      "f64",
      "bid_qty_int[0] / (bid_qty_int[0] + ask_qty_int[0]); null if the denominator ≤ 0",
      { unit: "ratio [0,1]", inputs: ["book_snapshot_25.bid_qty_int", "book_snapshot_25.ask_qty_int"] },
    ),
  ];
})();

/** Streaming operator of the execution-cost family: O(1) per book event and per emit, no allocation. */
export class ExecutionCostOperator implements Operator {
  readonly id = "execution_cost";
  readonly inputs = ["book"] as const;
  readonly reads = { book: ASOF_BOOK_READS } as const;
  readonly outputs = EX_OUTPUTS;
  private readonly book = new AsOfBook(1);

  onEvent(ev: EventCursor): void {
    this.book.update(ev);
  }

  emit(_row: SpineRow, out: readonly Float64Array[], r: number): void {
    const b = this.book;
    const spread = b.askPx0() - b.bidPx0();
    const bidSz = b.bidQty0();
    const denom = bidSz + b.askQty0();
    out[0]![r] = spread;
    out[1]![r] = spread / 2;
    out[2]![r] = denom > 0 ? bidSz / denom : Number.NaN;
  }

  snapshot(): JsonValue {
    return { book: this.book.snapshot() };
  }

  restore(state: JsonValue): void {
    this.book.restore(stateObject(state, this.id)["book"] ?? null);
  }
}

/** Registered operator of the execution-cost family (features/registry.ts). */
export const executionCostOperator = familyOperator({
  name: "execution_cost",
  description: "spread, half spread and top-of-book depth pressure of the as-of book_snapshot_25 row",
  source: `${POINTLINE_FAMILIES_SOURCE} (add_execution_cost_features)`,
  outputs: () => EX_OUTPUTS,
  create: () => new ExecutionCostOperator(),
});

/** Execution-cost family (`ex_`, CLI id "ex", flag `includeExecutionCost`). */
export const executionCost: FamilyDef = defineFamily({
  id: "ex",
  prefix: "ex_",
  title: "Execution cost: spread, half spread and top-of-book depth pressure",
  flag: "includeExecutionCost",
  members: () => [{ def: executionCostOperator }],
});
