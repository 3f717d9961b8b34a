/**
 * Spread-dynamics family (`sd_`): mid and spread of the as-of `book_snapshot_25` row and their changes
 * from the previous spine row. Pointline: `add_spread_dynamics_features` in
 * pointline/research/features/families.py (Polars `diff()`, then `abs()`).
 *
 * Outputs:
 * - `sd_mid_px` = (ask_px_int[0] + bid_px_int[0]) / 2 (f64, price increments), as-of, warm-up 0 rows
 * - `sd_spread_int` = ask_px_int[0] − bid_px_int[0] (i64, price increments), as-of, warm-up 0 rows
 * - `sd_mid_chg` = sd_mid_px[r] − sd_mid_px[r−1] (f64, price increments), warm-up 1 row
 * - `sd_spread_chg` = sd_spread_int[r] − sd_spread_int[r−1] (i64, price increments), warm-up 1 row
 * - `sd_mid_abs_chg` = |sd_mid_chg| (f64), `sd_spread_abs_chg` = |sd_spread_chg| (i64), warm-up 1 row
 * where r−1 is the previous emitted spine row (warm-up rows included); a change is null if either value
 * is null (no book yet, an empty side, or the first row). The mid is a multiple of ½ increment, so every
 * value here is exact.
 */
import {
  type EventCursor,
  type JsonValue,
  type Operator,
  type SpineRow,
  stateNumber,
  stateObject,
} from "../engine/operator.js";
import type { OutputMeta } from "../engine/registry.js";
import {
  ASOF_BOOK_OUTPUT,
  ASOF_BOOK_PIT,
  ASOF_BOOK_READS,
  AsOfBook,
  POINTLINE_FAMILIES_SOURCE,
} from "./book-view.js";
import { defineFamily, type FamilyDef, familyOperator, outputBuilder } from "./family.js";

const PX = "price increments";

/**
 * Output columns of the spread-dynamics operator, in order, each declared once with its catalogue
 * metadata (the operator's `outputs` and the family catalogue are this list).
 */
export const SD_OUTPUTS: readonly OutputMeta[] = (() => {
  const shared = {
    unit: PX,
    inputs: ["book_snapshot_25.bid_px_int", "book_snapshot_25.ask_px_int"],
    pitPolicy: `${ASOF_BOOK_PIT}; changes use the previous emitted row's value`,
    source: `${POINTLINE_FAMILIES_SOURCE} (add_spread_dynamics_features)`,
  };
  const level = outputBuilder({ ...ASOF_BOOK_OUTPUT, ...shared });
  const change = outputBuilder({
    ...shared,
    warmupRows: 1,
    window: "current and previous spine row",
    warmup: "1 row (null on the first row and while either value is null)",
  });
  return [
    level("sd_mid_px", "f64", "(ask_px_int[0] + bid_px_int[0]) / 2"),
    level("sd_spread_int", "i64", "ask_px_int[0] − bid_px_int[0]"),
    change("sd_mid_chg", "f64", "sd_mid_px[r] − sd_mid_px[r−1]"),
    change("sd_spread_chg", "i64", "sd_spread_int[r] − sd_spread_int[r−1]"),
    change("sd_mid_abs_chg", "f64", "|sd_mid_px[r] − sd_mid_px[r−1]|"),
    change("sd_spread_abs_chg", "i64", "|sd_spread_int[r] − sd_spread_int[r−1]|"),
  ];
})();

/** Streaming operator of the spread-dynamics family: O(1) per book event and per emit, no allocation. */
export class SpreadDynamicsOperator implements Operator {
  readonly id = "spread_dynamics";
  readonly inputs = ["book"] as const;
  readonly reads = { book: ASOF_BOOK_READS } as const;
  readonly outputs = SD_OUTPUTS;
  private readonly book = new AsOfBook(1);
  /** Values of the previous emitted row (NaN before the first row or when null there). */
  private prevMid = Number.NaN;
  private prevSpread = Number.NaN;

  onEvent(ev: EventCursor): void {
    this.book.update(ev);
  }

  emit(_row: SpineRow, out: readonly Float64Array[], r: number): void {
    const bid = this.book.bidPx0();
    const ask = this.book.askPx0();
    const mid = (ask + bid) / 2;
    const spread = ask - bid;
    const midChg = mid - this.prevMid;
    const spreadChg = spread - this.prevSpread;
    out[0]![r] = mid;
    out[1]![r] = spread;
    out[2]![r] = midChg;
    out[3]![r] = spreadChg;
    out[4]![r] = Math.abs(midChg);
    out[5]![r] = Math.abs(spreadChg);
    this.prevMid = mid;
    this.prevSpread = spread;
  }

  snapshot(): JsonValue {
    return {
      book: this.book.snapshot(),
      prevMid: Number.isNaN(this.prevMid) ? null : this.prevMid,
      prevSpread: Number.isNaN(this.prevSpread) ? null : this.prevSpread,
    };
  }

  restore(state: JsonValue): void {
    const s = stateObject(state, this.id);
    this.book.restore(s["book"] ?? null);
    this.prevMid = stateNumber(s, "prevMid");
    this.prevSpread = stateNumber(s, "prevSpread");
  }
}

/** Registered operator of the spread-dynamics family (features/registry.ts). */
export const spreadDynamicsOperator = familyOperator({
  name: "spread_dynamics",
  description:
    "mid and spread of the as-of book_snapshot_25 row and their changes from the previous spine row",
  source: `${POINTLINE_FAMILIES_SOURCE} (add_spread_dynamics_features)`,
  outputs: () => SD_OUTPUTS,
  create: () => new SpreadDynamicsOperator(),
});

/** Spread-dynamics family (`sd_`, CLI id "sd", flag `includeSpreadDynamics`). */
export const spreadDynamics: FamilyDef = defineFamily({
  id: "sd",
  prefix: "sd_",
  title: "Spread dynamics: mid and spread and their row-to-row changes",
  flag: "includeSpreadDynamics",
  members: () => [{ def: spreadDynamicsOperator }],
});
