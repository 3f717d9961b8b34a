/**
 * `bm_` basis-momentum family (Pointline `add_basis_momentum_features`,
 * pointline/research/features/families.py): level, change and rolling z-score of the perpetual basis
 * mark_px − index_px of the as-of `derivative_ticker` row, over N = `basisWindowRows` spine rows.
 *
 * Outputs (quote currency = price units, e.g. USDT; null = NaN), in Pointline's column order:
 * - `bm_basis` = mark_px − index_px as-of the last ticker row (null before the first ticker row).
 * - `bm_basis_mean_N` = mean of `bm_basis` over the last N emitted spine rows.
 * - `bm_basis_std_N` = sample standard deviation (ddof 1) of `bm_basis` over the last N rows.
 * - `bm_basis_z_N` = (bm_basis − mean) / std if std > 0, else null (unitless).
 * - `bm_basis_mom` = bm_basis(row r) − bm_basis(row r−1) (Pointline's `.diff()` over spine rows).
 *
 * Windows follow Polars' `rolling_mean/std(window_size=N)` (min_periods = N): null until N rows were
 * emitted and while any of the last N values is null (engine/rolling.ts `RollingStats`). Warm-up: 0 rows
 * for `bm_basis`, 1 for `bm_basis_mom`, N − 1 for the window statistics (counted from the first ticker
 * row). On a clock spine rows without a new ticker row repeat the as-of basis, so the window is over
 * rows, not over ticker updates (as in Pointline).
 */
import { EMPTY_F64, f64 } from "../engine/inputs.js";
import type { EventCursor, JsonValue, Operator, SourceRole, SpineRow } from "../engine/operator.js";
import { numberToJson, stateNumber, stateObject } from "../engine/operator.js";
import type { OutputMeta } from "../engine/registry.js";
import { RollingStats } from "../engine/rolling.js";
import type { TypedRows } from "../query/query.js";
import { POINTLINE_FAMILIES_SOURCE } from "./book-view.js";
import { defineFamily, type FamilyDef, familyOperator, outputBuilder, WINDOW_ROWS_PARAMS } from "./family.js";
import { ASOF_TICKER_OUTPUT, ASOF_TICKER_PIT } from "./funding.js";

const SOURCE = `${POINTLINE_FAMILIES_SOURCE} (add_basis_momentum_features)`;
const PIT_ROWS = `${ASOF_TICKER_PIT}; window over the as-of values of past emitted spine rows only`;

/**
 * Output columns for window `n` rows, in order, each declared once with its catalogue metadata (the
 * operator's `outputs` and the family catalogue are this list).
 */
export function basisMomentumOutputs(n: number): OutputMeta[] {
  const shared = {
    unit: "quote currency (price units)",
    inputs: ["derivative_ticker.mark_px", "derivative_ticker.index_px"],
    source: SOURCE,
  };
  const level = outputBuilder({ ...ASOF_TICKER_OUTPUT, ...shared });
  const rolling = outputBuilder({
    ...shared,
    warmupRows: n - 1,
    window: `${n} spine rows`,
    warmup: `${n - 1} rows after the first ticker row`,
    pitPolicy: PIT_ROWS,
  });
  return [
    level("bm_basis", "f64", "mark_px − index_px"),
    rolling(`bm_basis_mean_${n}`, "f64", `rolling_mean(bm_basis, ${n} rows), min_periods ${n}`),
    rolling(`bm_basis_std_${n}`, "f64", `rolling_std(bm_basis, ${n} rows, ddof 1), min_periods ${n}`),
    rolling(
      `bm_basis_z_${n}`,
      "f64",
      `(bm_basis − bm_basis_mean_${n}) / bm_basis_std_${n} if bm_basis_std_${n} > 0 else null`,
      { unit: "1 (z-score)" },
    ),
    rolling("bm_basis_mom", "f64", "bm_basis(row r) − bm_basis(row r−1)", {
      warmupRows: 1,
      window: "2 spine rows (current and previous)",
      warmup: "1 row after the first ticker row",
    }),
  ];
}

/** Streaming operator of the `bm_` family (see module doc). O(1) per event and per row, no allocation. */
class BasisMomentumOperator implements Operator {
  readonly id = "basis_momentum";
  readonly inputs: readonly SourceRole[] = ["ticker"];
  readonly reads = { ticker: { mark_px: "f64", index_px: "f64" } } as const;
  readonly outputs: readonly OutputMeta[];
  private readonly stats: RollingStats;
  /** As-of mark and index price (quote currency); NaN before the first ticker row. */
  private mark = Number.NaN;
  private index = Number.NaN;
  /** Basis at the previous emitted row. */
  private prevBasis = Number.NaN;
  /** Columns of the current batch (resolved once per batch). */
  private rows: TypedRows | null = null;
  private markCol = EMPTY_F64;
  private indexCol = EMPTY_F64;

  constructor(readonly windowRows: number) {
    this.stats = new RollingStats(windowRows);
    this.outputs = basisMomentumOutputs(windowRows);
  }

  onEvent(ev: EventCursor): void {
    if (ev.rows !== this.rows) {
      this.rows = ev.rows;
      this.markCol = f64(ev.rows, "mark_px");
      this.indexCol = f64(ev.rows, "index_px");
    }
    this.mark = this.markCol[ev.i]!;
    this.index = this.indexCol[ev.i]!;
  }

  emit(row: SpineRow, out: readonly Float64Array[], r: number): void {
    const basis = this.mark - this.index;
    const st = this.stats;
    st.push(basis, row.barIndex);
    const mean = st.mean();
    const std = st.std();
    out[0]![r] = basis;
    out[1]![r] = mean;
    out[2]![r] = std;
    out[3]![r] = std > 0 ? (basis - mean) / std : Number.NaN;
    out[4]![r] = basis - this.prevBasis;
    this.prevBasis = basis;
  }

  snapshot(): JsonValue {
    return {
      mark: numberToJson(this.mark),
      index: numberToJson(this.index),
      prevBasis: numberToJson(this.prevBasis),
      stats: this.stats.snapshot(),
    };
  }

  restore(state: JsonValue): void {
    const s = stateObject(state, this.id);
    this.mark = stateNumber(s, "mark");
    this.index = stateNumber(s, "index");
    this.prevBasis = stateNumber(s, "prevBasis");
    this.stats.restore(s["stats"] ?? null);
  }
}

/** Registered operator of the `bm_` family (features/registry.ts); `windowRows` = N. */
export const basisMomentumOperator = familyOperator({
  name: "basis_momentum",
  description:
    "level, change and rolling mean, std and z-score over the last N spine rows of the perpetual basis mark_px − index_px of the as-of derivative_ticker row",
  source: SOURCE,
  params: WINDOW_ROWS_PARAMS,
  outputs: (c) => basisMomentumOutputs(c.windowRows),
  create: (c) => new BasisMomentumOperator(c.windowRows),
});

/**
 * The `bm_` basis-momentum family (flag `includeBasisMomentum`, source role `ticker`, N =
 * `cfg.basisWindowRows` spine rows): `bm_basis`, `bm_basis_mean_N`, `bm_basis_std_N`, `bm_basis_z_N`,
 * `bm_basis_mom` (see the module doc).
 */
export const basisMomentum: FamilyDef = defineFamily({
  id: "bm",
  prefix: "bm_",
  title: "Basis momentum (perpetual basis level, change and rolling z-score)",
  flag: "includeBasisMomentum",
  members: (cfg) => [{ def: basisMomentumOperator, config: { windowRows: cfg.basisWindowRows } }],
});
