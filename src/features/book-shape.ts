/**
 * Book-shape family (`bs_…_D`): depth and depth-weighted prices of the top D levels of the as-of
 * `book_snapshot_25` row (D = `cfg.bookShapeDepth`, default 10). Pointline: `add_book_shape_features` in
 * pointline/research/features/families.py.
 *
 * Outputs (as-of, warm-up 0 rows; all null before the first book row). Sums run over the levels
 * 0…min(D, levels present)−1 of each side (an empty side sums to 0, Polars' `list.slice(0, D).list.sum()`):
 * - `bs_bid_depth_D` = Σ bid_qty_int, `bs_ask_depth_D` = Σ ask_qty_int (i64, qty increments)
 * - `bs_bid_vwap_D` = Σ bid_px_int·bid_qty_int / bs_bid_depth_D, `bs_ask_vwap_D` likewise (f64, price
 *   increments); null if the side's depth is 0
 * - `bs_slope_D` = (bs_ask_vwap_D − bs_bid_vwap_D) / (bs_bid_depth_D + bs_ask_depth_D) (f64, price
 *   increments per qty increment); null if the denominator is 0 or a vwap is null.
 *
 * Exactness rule: depths are exact integer sums below 2^53 qty increments. Σ px_int·qty_int is exact
 * while each product and each partial sum stays below 2^53 (≈ 9·10^15; BTCUSDT at 0.1/0.001 increments:
 * up to ≈ 1.5·10^10 qty increments on a side), so the vwap is then the correctly rounded quotient of two
 * exact integers; beyond it the numerator is a float64 sum with relative error ≤ D·2^-53.
 */
import { z } from "zod";
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
const QTY = "qty increments";
const SLOPE = "price increments per qty increment";

/**
 * Output columns for depth `d` levels, in order, each declared once with its catalogue metadata (the
 * operator's `outputs` and the family catalogue are this list).
 */
export function bookShapeOutputs(d: number): OutputMeta[] {
  const col = outputBuilder({
    ...ASOF_BOOK_OUTPUT,
    window: `as-of (last book row), top ${d} levels`,
    source: `${POINTLINE_FAMILIES_SOURCE} (add_book_shape_features)`,
  });
  const BID = ["book_snapshot_25.bid_px_int", "book_snapshot_25.bid_qty_int"];
  const ASK = ["book_snapshot_25.ask_px_int", "book_snapshot_25.ask_qty_int"];
  return [
    col(`bs_bid_depth_${d}`, "i64", `Σ bid_qty_int[0..${d})`, {
      unit: QTY,
      inputs: ["book_snapshot_25.bid_qty_int"],
    }),
    col(`bs_ask_depth_${d}`, "i64", `Σ ask_qty_int[0..${d})`, {
      unit: QTY,
      inputs: ["book_snapshot_25.ask_qty_int"],
    }),
    col(
      `bs_bid_vwap_${d}`,
      "f64",
      `Σ bid_px_int[0..${d})·bid_qty_int[0..${d}) / bs_bid_depth_${d}; null if the depth is 0`,
      { unit: PX, inputs: BID },
    ),
    col(
      `bs_ask_vwap_${d}`,
      "f64",
      `Σ ask_px_int[0..${d})·ask_qty_int[0..${d}) / bs_ask_depth_${d}; null if the depth is 0`,
      { unit: PX, inputs: ASK },
    ),
    col(
      `bs_slope_${d}`,
      "f64",
      `(bs_ask_vwap_${d} − bs_bid_vwap_${d}) / (bs_bid_depth_${d} + bs_ask_depth_${d}); null if the denominator is 0`,
      { unit: SLOPE, inputs: [...BID, ...ASK] },
    ),
  ];
}

/** Streaming operator of the book-shape family: O(D) per book event and per emit, no allocation. */
export class BookShapeOperator implements Operator {
  readonly id = "book_shape";
  readonly inputs = ["book"] as const;
  readonly reads = { book: ASOF_BOOK_READS } as const;
  readonly outputs: readonly OutputMeta[];
  private readonly book: AsOfBook;

  /** @param depth D levels per side, 1…25. */
  constructor(readonly depth: number) {
    this.outputs = bookShapeOutputs(depth);
    this.book = new AsOfBook(depth);
  }

  onEvent(ev: EventCursor): void {
    this.book.update(ev);
  }

  emit(_row: SpineRow, out: readonly Float64Array[], r: number): void {
    const b = this.book;
    const d = this.depth;
    const bidDepth = b.bidQtySum(d);
    const askDepth = b.askQtySum(d);
    const bidVwap = bidDepth > 0 ? b.bidNotionalSum(d) / bidDepth : Number.NaN;
    const askVwap = askDepth > 0 ? b.askNotionalSum(d) / askDepth : Number.NaN;
    const total = bidDepth + askDepth;
    out[0]![r] = bidDepth;
    out[1]![r] = askDepth;
    out[2]![r] = bidVwap;
    out[3]![r] = askVwap;
    out[4]![r] = total > 0 ? (askVwap - bidVwap) / total : Number.NaN;
  }

  snapshot(): JsonValue {
    return { book: this.book.snapshot() };
  }

  restore(state: JsonValue): void {
    this.book.restore(stateObject(state, this.id)["book"] ?? null);
  }
}

/** Registered operator of the book-shape family (features/registry.ts); `depth` = D. */
export const bookShapeOperator = familyOperator({
  name: "book_shape",
  description: "depth, depth-weighted prices and slope of the top D levels of the as-of book_snapshot_25 row",
  source: `${POINTLINE_FAMILIES_SOURCE} (add_book_shape_features)`,
  params: z.object({ depth: z.number().int().min(2).max(25) }).strict(),
  outputs: (c) => bookShapeOutputs(c.depth),
  create: (c) => new BookShapeOperator(c.depth),
});

/** Book-shape family (`bs_…_D`, CLI id "bs", flag `includeBookShape`, D = `bookShapeDepth`). */
export const bookShape: FamilyDef = defineFamily({
  id: "bs",
  prefix: "bs_",
  title: "Book shape: depth, depth-weighted prices and slope of the top D levels",
  flag: "includeBookShape",
  members: (cfg) => [{ def: bookShapeOperator, config: { depth: cfg.bookShapeDepth } }],
});
