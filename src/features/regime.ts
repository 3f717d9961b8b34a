/**
 * `rg_` regime family (Pointline `add_regime_features`, pointline/research/features/families.py):
 * one-row return of the as-of top-of-book mid and its rolling volatility over N = `regimeWindowRows`
 * spine rows.
 *
 * Outputs (null = NaN):
 * - `rg_ret_1` = mid_r / mid_{r−1} − 1: simple return of the as-of mid (bid_px_int[0] + ask_px_int[0]) / 2
 *   of the last `book_snapshot_25` row between this emitted spine row and the previous one (Pointline:
 *   `ms_mid_px.pct_change()` over the spine rows). Unitless (the price increment cancels). Null if either
 *   mid is null (no book yet, or an empty side) or the previous mid is 0.
 * - `rg_vol_N` = sample standard deviation (ddof 1) of the last N `rg_ret_1` values (Polars
 *   `rolling_std(window_size=N)`, min_periods N: null while any of them is null). Per-row return
 *   volatility, not annualised.
 *
 * Warm-up: 1 row for `rg_ret_1`, N rows for `rg_vol_N` (counted from the first book row). On a clock
 * spine rows without a new book row have return 0.
 *
 * Difference from Polars' `pct_change`, which forward-fills nulls first: a null mid here stays null (and
 * makes the next return null). The as-of mid is only null before the first book row or after a book row
 * with an empty side, which the Binance captures never contain.
 */

import { EMPTY_LEVELS, levels } from "../engine/inputs.js";
import type { EventCursor, JsonValue, Operator, SourceRole, SpineRow } from "../engine/operator.js";
import { numberToJson, stateNumber, stateObject } from "../engine/operator.js";
import type { OutputMeta } from "../engine/registry.js";
import { RollingStats } from "../engine/rolling.js";
import type { TypedRows } from "../query/query.js";
import { BOOK_DEPTH } from "../schema/tables.js";
import { ASOF_BOOK_PIT, POINTLINE_FAMILIES_SOURCE } from "./book-view.js";
import { defineFamily, type FamilyDef, familyOperator, outputBuilder, WINDOW_ROWS_PARAMS } from "./family.js";

const SOURCE = `${POINTLINE_FAMILIES_SOURCE} (add_regime_features)`;
const PIT_ROWS = `${ASOF_BOOK_PIT}; computed from the current and past emitted spine rows only`;

/**
 * Output columns for window `n` rows, in order, each declared once with its catalogue metadata (the
 * operator's `outputs` and the family catalogue are this list).
 */
export function regimeOutputs(n: number): OutputMeta[] {
  const col = outputBuilder({
    inputs: ["book_snapshot_25.bid_px_int", "book_snapshot_25.ask_px_int"],
    pitPolicy: PIT_ROWS,
    source: SOURCE,
  });
  return [
    col(
      "rg_ret_1",
      "f64",
      "mid(row r) / mid(row r−1) − 1, mid = (bid_px_int[0] + ask_px_int[0]) / 2 as-of; null if either mid is null or mid(row r−1) = 0",
      {
        unit: "1 (simple return per row)",
        warmupRows: 1,
        window: "2 spine rows (current and previous)",
        warmup: "1 row after the first book row",
      },
    ),
    col(`rg_vol_${n}`, "f64", `rolling_std(rg_ret_1, ${n} rows, ddof 1), min_periods ${n}`, {
      unit: "1 (std of per-row returns)",
      warmupRows: n,
      window: `${n} spine rows`,
      warmup: `${n} rows after the first book row`,
    }),
  ];
}

/** Streaming operator of the `rg_` family (see module doc). O(1) per event and per row, no allocation. */
class RegimeOperator implements Operator {
  readonly id = "regime";
  readonly inputs: readonly SourceRole[] = ["book"];
  readonly reads = { book: { bid_px_int: "levels", ask_px_int: "levels" } } as const;
  readonly outputs: readonly OutputMeta[];
  private readonly stats: RollingStats;
  /** As-of mid (price increments; NaN = none or an empty side). */
  private mid = Number.NaN;
  /** Mid at the previous emitted row. */
  private prevMid = Number.NaN;
  /** Columns of the current batch (resolved once per batch). */
  private rows: TypedRows | null = null;
  private bidCol = EMPTY_LEVELS;
  private askCol = EMPTY_LEVELS;

  constructor(readonly windowRows: number) {
    this.stats = new RollingStats(windowRows);
    this.outputs = regimeOutputs(windowRows);
  }

  onEvent(ev: EventCursor): void {
    if (ev.rows !== this.rows) {
      this.rows = ev.rows;
      this.bidCol = levels(ev.rows, "bid_px_int");
      this.askCol = levels(ev.rows, "ask_px_int");
    }
    const bid = this.bidCol;
    const ask = this.askCol;
    const i = ev.i;
    this.mid =
      bid.lens[i]! > 0 && ask.lens[i]! > 0
        ? (bid.values[i * BOOK_DEPTH]! + ask.values[i * BOOK_DEPTH]!) / 2
        : Number.NaN;
  }

  emit(row: SpineRow, out: readonly Float64Array[], r: number): void {
    const prev = this.prevMid;
    // NaN mids propagate through the division; a zero previous mid would give ±Infinity
    const ret = prev !== 0 ? this.mid / prev - 1 : Number.NaN;
    this.prevMid = this.mid;
    this.stats.push(ret, row.barIndex);
    out[0]![r] = ret;
    out[1]![r] = this.stats.std();
  }

  snapshot(): JsonValue {
    return { mid: numberToJson(this.mid), prevMid: numberToJson(this.prevMid), stats: this.stats.snapshot() };
  }

  restore(state: JsonValue): void {
    const s = stateObject(state, this.id);
    this.mid = stateNumber(s, "mid");
    this.prevMid = stateNumber(s, "prevMid");
    this.stats.restore(s["stats"] ?? null);
  }
}

/** Registered operator of the `rg_` family (features/registry.ts); `windowRows` = N. */
export const regimeOperator = familyOperator({
  name: "regime",
  description:
    "one-row return of the as-of book_snapshot_25 top-of-book mid and its rolling volatility over the last N spine rows",
  source: SOURCE,
  params: WINDOW_ROWS_PARAMS,
  outputs: (c) => regimeOutputs(c.windowRows),
  create: (c) => new RegimeOperator(c.windowRows),
});

/**
 * The `rg_` regime family (flag `includeRegime`, source role `book`, N = `cfg.regimeWindowRows` spine
 * rows): `rg_ret_1`, `rg_vol_N` (see the module doc).
 */
export const regime: FamilyDef = defineFamily({
  id: "rg",
  prefix: "rg_",
  title: "Regime (per-row mid return and its rolling volatility)",
  flag: "includeRegime",
  members: (cfg) => [{ def: regimeOperator, config: { windowRows: cfg.regimeWindowRows } }],
});
