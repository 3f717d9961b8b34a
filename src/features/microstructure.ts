/**
 * Microstructure family (`ms_`): top of book, spread, mid, microprice and depth imbalances of the as-of
 * `book_snapshot_25` row. Pointline: `add_microstructure_features` in
 * pointline/research/features/families.py.
 *
 * Outputs (all as-of, warm-up 0 rows; null before the first book row):
 * - `ms_bid_px_int`, `ms_ask_px_int` (i64, price increments), `ms_bid_sz_int`, `ms_ask_sz_int` (i64, qty
 *   increments): level 0 of each side; null if that side is empty.
 * - `ms_spread_int` = ask_px − bid_px (i64, price increments); null if a side is empty.
 * - `ms_mid_px` = (ask_px + bid_px) / 2 (f64, price increments).
 * - `ms_microprice` = (ask_px·bid_sz + bid_px·ask_sz) / (bid_sz + ask_sz) (f64, price increments); null if
 *   the denominator is not > 0. Products follow the exactness rule of book-view.ts (exact below 2^53).
 * - `ms_imbalance_k`, k ∈ {1, 5, 10, 25} = (Σ bid_qty[0..k) − Σ ask_qty[0..k)) / (Σ bid + Σ ask) (f64,
 *   ratio in [−1, 1]) over the levels available (a side with fewer than k levels sums what it has, an
 *   empty side sums to 0 — Polars' `list.slice(0, k).list.sum()`); null if the denominator is not > 0.
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

/** Depth levels of the `ms_imbalance_k` outputs. */
export const MS_IMBALANCE_LEVELS: readonly number[] = [1, 5, 10, 25];

const PX = "price increments";
const QTY = "qty increments";

/**
 * Output columns of the microstructure operator, in order, each declared once with its catalogue
 * metadata (the operator's `outputs` and the family catalogue are this list).
 */
export const MS_OUTPUTS: readonly OutputMeta[] = (() => {
  const BID_PX = "book_snapshot_25.bid_px_int";
  const ASK_PX = "book_snapshot_25.ask_px_int";
  const BID_QTY = "book_snapshot_25.bid_qty_int";
  const ASK_QTY = "book_snapshot_25.ask_qty_int";
  const col = outputBuilder({
    ...ASOF_BOOK_OUTPUT,
    source: `${POINTLINE_FAMILIES_SOURCE} (add_microstructure_features)`,
  });
  return [
    col("ms_bid_px_int", "i64", "bid_px_int[0] (null if the bid side is empty)", {
      unit: PX,
      inputs: [BID_PX],
    }),
    col("ms_ask_px_int", "i64", "ask_px_int[0] (null if the ask side is empty)", {
      unit: PX,
      inputs: [ASK_PX],
    }),
    col("ms_bid_sz_int", "i64", "bid_qty_int[0] (null if the bid side is empty)", {
      unit: QTY,
      inputs: [BID_QTY],
    }),
    col("ms_ask_sz_int", "i64", "ask_qty_int[0] (null if the ask side is empty)", {
      unit: QTY,
      inputs: [ASK_QTY],
    }),
    col("ms_spread_int", "i64", "ask_px_int[0] − bid_px_int[0]", { unit: PX, inputs: [BID_PX, ASK_PX] }),
    col("ms_mid_px", "f64", "(ask_px_int[0] + bid_px_int[0]) / 2", { unit: PX, inputs: [BID_PX, ASK_PX] }),
    col(
      "ms_microprice",
      "f64",
      "(ask_px[0]·bid_qty[0] + bid_px[0]·ask_qty[0]) / (bid_qty[0] + ask_qty[0]); null if the denominator ≤ 0",
      { unit: PX, inputs: [BID_PX, ASK_PX, BID_QTY, ASK_QTY] },
    ),
    ...MS_IMBALANCE_LEVELS.map((k) =>
      col(
        `ms_imbalance_${k}`,
        "f64",
        `(Σ bid_qty[0..${k}) − Σ ask_qty[0..${k})) / (Σ bid_qty[0..${k}) + Σ ask_qty[0..${k})) over the levels present; null if the denominator ≤ 0`,
        { unit: "ratio [-1,1]", inputs: [BID_QTY, ASK_QTY] },
      ),
    ),
  ];
})();

/**
 * Streaming operator of the microstructure family: keeps the as-of book (25 levels per side) and
 * evaluates the formulas at each spine row. O(levels) per book event and per emit, no allocation.
 */
export class MicrostructureOperator implements Operator {
  readonly id = "microstructure";
  readonly inputs = ["book"] as const;
  readonly reads = { book: ASOF_BOOK_READS } as const;
  readonly outputs = MS_OUTPUTS;
  private readonly book = new AsOfBook(25);

  onEvent(ev: EventCursor): void {
    this.book.update(ev);
  }

  emit(_row: SpineRow, out: readonly Float64Array[], r: number): void {
    const b = this.book;
    const bidPx = b.bidPx0();
    const askPx = b.askPx0();
    const bidSz = b.bidQty0();
    const askSz = b.askQty0();
    out[0]![r] = bidPx;
    out[1]![r] = askPx;
    out[2]![r] = bidSz;
    out[3]![r] = askSz;
    out[4]![r] = askPx - bidPx;
    out[5]![r] = (askPx + bidPx) / 2;
    const denom = bidSz + askSz;
    out[6]![r] = denom > 0 ? (askPx * bidSz + bidPx * askSz) / denom : Number.NaN;
    for (let j = 0; j < MS_IMBALANCE_LEVELS.length; j++) {
      const k = MS_IMBALANCE_LEVELS[j]!;
      const bs = b.bidQtySum(k);
      const as = b.askQtySum(k);
      const d = bs + as;
      out[7 + j]![r] = d > 0 ? (bs - as) / d : Number.NaN;
    }
  }

  snapshot(): JsonValue {
    return { book: this.book.snapshot() };
  }

  restore(state: JsonValue): void {
    this.book.restore(stateObject(state, this.id)["book"] ?? null);
  }
}

/** Registered operator of the microstructure family (features/registry.ts). */
export const microstructureOperator = familyOperator({
  name: "microstructure",
  description: "top of book, spread, mid, microprice and depth imbalances of the as-of book_snapshot_25 row",
  source: `${POINTLINE_FAMILIES_SOURCE} (add_microstructure_features)`,
  outputs: () => MS_OUTPUTS,
  create: () => new MicrostructureOperator(),
});

/** Microstructure family (`ms_`, CLI id "ms", flag `includeMicrostructure`). */
export const microstructure: FamilyDef = defineFamily({
  id: "ms",
  prefix: "ms_",
  title: "Microstructure: top of book, spread, mid, microprice, depth imbalance",
  flag: "includeMicrostructure",
  members: () => [{ def: microstructureOperator }],
});
