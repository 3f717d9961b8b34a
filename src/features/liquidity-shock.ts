/**
 * Liquidity-shock family (`ls_`): top-of-book depth of the as-of `book_snapshot_25` row and its rolling
 * z-score over the last N spine rows (N = `cfg.liquidityWindowRows`, default 50). Pointline:
 * `add_liquidity_shock_features` in pointline/research/features/families.py (Polars `rolling_mean/std`
 * with min_periods = N, ddof = 1).
 *
 * Outputs:
 * - `ls_top_depth` = bid_qty_int[0] + ask_qty_int[0] (i64, qty increments), as-of, warm-up 0 rows; null
 *   before the first book row or when a side is empty
 * - `ls_depth_mean_N`, `ls_depth_std_N` (f64, qty increments): mean and sample std (ddof 1) of
 *   ls_top_depth over the last N emitted rows, warm-up N − 1 rows; null while any of them is null
 * - `ls_depth_z_N` = (ls_top_depth − mean) / std (f64, standard deviations); null unless std > 0.
 *
 * Exactness: the window sums are those of RollingStats (pivot-shifted by a window value, exact for these
 * integer depths while the shifted sums of squares stay below 2^53). The mean is then within 1 ulp. The
 * std, sqrt((S2 − S1²/N)/(N − 1)), loses relative accuracy ≈ ε·(mean − pivot)²/std² when the depth has
 * moved far from the pivot (≈ 1e-12 relative seen on the BTCUSDT captures; the test bounds it). Rolling
 * state is keyed by the row's barIndex (RollingStats `rowKey`), so once the window is full and has passed a
 * rebuild row the values do not depend on where the replay started (partition safety).
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
import { RollingStats } from "../engine/rolling.js";
import {
  ASOF_BOOK_OUTPUT,
  ASOF_BOOK_PIT,
  ASOF_BOOK_READS,
  AsOfBook,
  POINTLINE_FAMILIES_SOURCE,
} from "./book-view.js";
import { defineFamily, type FamilyDef, familyOperator, outputBuilder, WINDOW_ROWS_PARAMS } from "./family.js";

const QTY = "qty increments";

/**
 * Output columns for window `n` rows, in order, each declared once with its catalogue metadata (the
 * operator's `outputs` and the family catalogue are this list).
 */
export function liquidityShockOutputs(n: number): OutputMeta[] {
  const shared = {
    unit: QTY,
    inputs: ["book_snapshot_25.bid_qty_int", "book_snapshot_25.ask_qty_int"],
    pitPolicy: `${ASOF_BOOK_PIT}; rolling over the last ${n} emitted rows' as-of values`,
    source: `${POINTLINE_FAMILIES_SOURCE} (add_liquidity_shock_features)`,
  };
  const level = outputBuilder({ ...ASOF_BOOK_OUTPUT, ...shared });
  const rolling = outputBuilder({
    ...shared,
    warmupRows: n - 1,
    window: `${n} spine rows`,
    warmup: `${n - 1} rows (null until ${n} rows with a book were emitted)`,
  });
  return [
    level("ls_top_depth", "i64", "bid_qty_int[0] + ask_qty_int[0]"),
    rolling(`ls_depth_mean_${n}`, "f64", `rolling_mean(ls_top_depth, ${n})`),
    rolling(`ls_depth_std_${n}`, "f64", `rolling_std(ls_top_depth, ${n}), ddof 1`),
    rolling(
      `ls_depth_z_${n}`,
      "f64",
      `(ls_top_depth − ls_depth_mean_${n}) / ls_depth_std_${n}; null unless ls_depth_std_${n} > 0`,
      { unit: "standard deviations" },
    ),
  ];
}

/**
 * Streaming operator of the liquidity-shock family: O(1) per book event, O(1) amortised per emit (one
 * RollingStats push), no allocation.
 */
export class LiquidityShockOperator implements Operator {
  readonly id = "liquidity_shock";
  readonly inputs = ["book"] as const;
  readonly reads = { book: ASOF_BOOK_READS } as const;
  readonly outputs: readonly OutputMeta[];
  private readonly book = new AsOfBook(1);
  private readonly depth: RollingStats;

  /** @param windowRows N ≥ 2 spine rows (std needs two values). */
  constructor(readonly windowRows: number) {
    this.outputs = liquidityShockOutputs(windowRows);
    this.depth = new RollingStats(windowRows);
  }

  onEvent(ev: EventCursor): void {
    this.book.update(ev);
  }

  emit(row: SpineRow, out: readonly Float64Array[], r: number): void {
    const x = this.book.bidQty0() + this.book.askQty0();
    this.depth.push(x, row.barIndex);
    const mean = this.depth.mean();
    const std = this.depth.std();
    out[0]![r] = x;
    out[1]![r] = mean;
    out[2]![r] = std;
    out[3]![r] = std > 0 ? (x - mean) / std : Number.NaN;
  }

  snapshot(): JsonValue {
    return { w: this.windowRows, book: this.book.snapshot(), depth: this.depth.snapshot() };
  }

  restore(state: JsonValue): void {
    const s = stateObject(state, this.id);
    if (stateNumber(s, "w") !== this.windowRows)
      throw new RangeError(`${this.id}: window size differs from snapshot`);
    this.book.restore(s["book"] ?? null);
    this.depth.restore(s["depth"] ?? null);
  }
}

/** Registered operator of the liquidity-shock family (features/registry.ts); `windowRows` = N. */
export const liquidityShockOperator = familyOperator({
  name: "liquidity_shock",
  description:
    "top-of-book depth of the as-of book_snapshot_25 row and its rolling mean, std and z-score over the last N spine rows",
  source: `${POINTLINE_FAMILIES_SOURCE} (add_liquidity_shock_features)`,
  params: WINDOW_ROWS_PARAMS,
  outputs: (c) => liquidityShockOutputs(c.windowRows),
  create: (c) => new LiquidityShockOperator(c.windowRows),
});

/** Liquidity-shock family (`ls_`, CLI id "ls", flag `includeLiquidityShock`, N = `liquidityWindowRows`). */
export const liquidityShock: FamilyDef = defineFamily({
  id: "ls",
  prefix: "ls_",
  title: "Liquidity shock: top-of-book depth and its rolling z-score",
  flag: "includeLiquidityShock",
  members: (cfg) => [{ def: liquidityShockOperator, config: { windowRows: cfg.liquidityWindowRows } }],
});
