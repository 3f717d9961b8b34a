/**
 * `fr_` funding / basis family (Pointline `add_funding_features`, pointline/research/features/families.py):
 * perpetual basis and funding/open-interest changes from the as-of `derivative_ticker` row.
 *
 * Outputs (one row per spine point; null = NaN):
 * - `fr_basis` = mark_px − index_px, as-of the last ticker row (quote currency, e.g. USDT; f64).
 * - `fr_basis_bps` = 1e4 · (mark_px − index_px) / index_px (bps); null if index_px is 0 or null.
 * - `fr_funding_delta` = funding_rate_r − funding_rate_{r−1}: change of the as-of funding rate between
 *   this emitted spine row and the previous one (rate per funding interval; Pointline's `.diff()` over
 *   the spine rows after the as-of join).
 * - `fr_oi_delta` = open_interest_r − open_interest_{r−1}, same construction (contracts as the vendor
 *   reports them). Null whenever either row's as-of open interest is absent: Binance's `@markPrice`
 *   stream carries no open interest, so on Binance captures this column is entirely null (tested on
 *   synthetic rows instead).
 *
 * "As-of" takes every field from the last `derivative_ticker` row of the row's knowledge set (a field
 * that is null in that row is null, it is not filled from an older row), and is null before the first
 * ticker row since the replay start. Warm-up: 0 rows for the as-of values, 1 row for the deltas (the
 * first emitted row has no previous row). Deltas of a clock spine are 0 on rows without a new value.
 */
import { EMPTY_F64, f64 } from "../engine/inputs.js";
import type { EventCursor, JsonValue, Operator, SourceRole, SpineRow } from "../engine/operator.js";
import { numberToJson, stateNumber, stateObject } from "../engine/operator.js";
import type { OutputMeta } from "../engine/registry.js";
import type { TypedRows } from "../query/query.js";
import { POINTLINE_FAMILIES_SOURCE } from "./book-view.js";
import {
  defineFamily,
  type FamilyDef,
  familyOperator,
  type OutputDefaults,
  outputBuilder,
} from "./family.js";

const SOURCE = `${POINTLINE_FAMILIES_SOURCE} (add_funding_features)`;
/** PIT policy text of as-of `derivative_ticker` features. */
export const ASOF_TICKER_PIT =
  "as-of backward: last derivative_ticker row in the row's knowledge set (ts_local_us < available_at for clock rows; up to the closing trade e* in the total order for event rows)";
const PIT_DIFF = `${ASOF_TICKER_PIT}; differenced against the previous emitted spine row's as-of value`;

/** Shared `OutputMeta` fields of an as-of `derivative_ticker` output (warm-up 0 rows), for `outputBuilder`. */
export const ASOF_TICKER_OUTPUT = {
  warmupRows: 0,
  window: "as-of (last ticker row)",
  warmup: "0 rows (null before the first ticker row)",
  pitPolicy: ASOF_TICKER_PIT,
} satisfies OutputDefaults;

/**
 * Output columns of the funding operator, in order, each declared once with its catalogue metadata (the
 * operator's `outputs` and the family catalogue are this list).
 */
export const FR_OUTPUTS: readonly OutputMeta[] = (() => {
  const mk = "derivative_ticker.mark_px";
  const ix = "derivative_ticker.index_px";
  const asof = outputBuilder({ ...ASOF_TICKER_OUTPUT, inputs: [mk, ix], source: SOURCE });
  const delta = outputBuilder({
    warmupRows: 1,
    window: "2 spine rows (current and previous)",
    pitPolicy: PIT_DIFF,
    source: SOURCE,
  });
  return [
    asof("fr_basis", "f64", "mark_px − index_px", { unit: "quote currency (price units)" }),
    asof("fr_basis_bps", "f64", "1e4 · (mark_px − index_px) / index_px; null if index_px is 0 or null", {
      unit: "bps",
    }),
    delta(
      "fr_funding_delta",
      "f64",
      "funding_rate(row r) − funding_rate(row r−1), as-of values on consecutive spine rows",
      {
        unit: "rate per funding interval",
        inputs: ["derivative_ticker.funding_rate"],
        warmup: "1 row after the first ticker row",
      },
    ),
    delta(
      "fr_oi_delta",
      "f64",
      "open_interest(row r) − open_interest(row r−1), as-of values on consecutive spine rows; null when open interest is absent (always on Binance @markPrice captures)",
      {
        unit: "contracts",
        inputs: ["derivative_ticker.open_interest"],
        warmup: "1 row after the first ticker row with open interest",
      },
    ),
  ];
})();

/** Streaming operator of the `fr_` family (see module doc). O(1) per event and per row, no allocation. */
class FundingOperator implements Operator {
  readonly id = "funding";
  readonly inputs: readonly SourceRole[] = ["ticker"];
  readonly reads = {
    ticker: { mark_px: "f64", index_px: "f64", funding_rate: "f64", open_interest: "f64" },
  } as const;
  readonly outputs = FR_OUTPUTS;
  /** As-of fields of the last ticker row (NaN = null / none yet). */
  private mark = Number.NaN;
  private index = Number.NaN;
  private funding = Number.NaN;
  private oi = Number.NaN;
  /** As-of funding rate and open interest at the previous emitted row. */
  private prevFunding = Number.NaN;
  private prevOi = Number.NaN;
  /** Columns of the current batch (resolved once per batch). */
  private rows: TypedRows | null = null;
  private markCol = EMPTY_F64;
  private indexCol = EMPTY_F64;
  private fundingCol = EMPTY_F64;
  private oiCol = EMPTY_F64;

  onEvent(ev: EventCursor): void {
    if (ev.rows !== this.rows) {
      this.rows = ev.rows;
      this.markCol = f64(ev.rows, "mark_px");
      this.indexCol = f64(ev.rows, "index_px");
      this.fundingCol = f64(ev.rows, "funding_rate");
      this.oiCol = f64(ev.rows, "open_interest");
    }
    const i = ev.i;
    this.mark = this.markCol[i]!;
    this.index = this.indexCol[i]!;
    this.funding = this.fundingCol[i]!;
    this.oi = this.oiCol[i]!;
  }

  emit(_row: SpineRow, out: readonly Float64Array[], r: number): void {
    const basis = this.mark - this.index;
    out[0]![r] = basis;
    out[1]![r] = this.index !== 0 ? (1e4 * basis) / this.index : Number.NaN;
    out[2]![r] = this.funding - this.prevFunding;
    out[3]![r] = this.oi - this.prevOi;
    this.prevFunding = this.funding;
    this.prevOi = this.oi;
  }

  snapshot(): JsonValue {
    return {
      mark: numberToJson(this.mark),
      index: numberToJson(this.index),
      funding: numberToJson(this.funding),
      oi: numberToJson(this.oi),
      prevFunding: numberToJson(this.prevFunding),
      prevOi: numberToJson(this.prevOi),
    };
  }

  restore(state: JsonValue): void {
    const s = stateObject(state, this.id);
    this.mark = stateNumber(s, "mark");
    this.index = stateNumber(s, "index");
    this.funding = stateNumber(s, "funding");
    this.oi = stateNumber(s, "oi");
    this.prevFunding = stateNumber(s, "prevFunding");
    this.prevOi = stateNumber(s, "prevOi");
  }
}

/** Registered operator of the `fr_` family (features/registry.ts). */
export const fundingOperator = familyOperator({
  name: "funding",
  description:
    "perpetual basis (mark − index) and funding-rate and open-interest changes from the as-of derivative_ticker row",
  source: SOURCE,
  outputs: () => FR_OUTPUTS,
  create: () => new FundingOperator(),
});

/**
 * The `fr_` funding/basis family (flag `includeFunding`, source role `ticker` = `derivative_ticker`):
 * `fr_basis`, `fr_basis_bps`, `fr_funding_delta`, `fr_oi_delta` (see the module doc for formulas, units,
 * warm-up and the open-interest caveat on Binance data).
 */
export const funding: FamilyDef = defineFamily({
  id: "fr",
  prefix: "fr_",
  title: "Funding and basis (perpetual mark vs index, funding and open-interest changes)",
  flag: "includeFunding",
  members: () => [{ def: fundingOperator }],
});
