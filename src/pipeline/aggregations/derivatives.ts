/**
 * Derivative-ticker aggregations (source table `derivative_ticker`; columns funding_rate,
 * predicted_funding_rate, open_interest, mark_px are float64, NaN = null). Join `in_bar` (default);
 * `funding_close` and `oi_last` also `asof_backward` (the latest non-null value at or before the row's
 * close, carried across bars since the replay start).
 *
 * Per bar, over the bar's ticker rows (shared.ts windows), with first / last / high / low taken over the
 * non-null values of each column separately (f = funding_rate, pf = predicted_funding_rate,
 * oi = open_interest, m = mark_px); any null operand makes the output null:
 *
 * | aggregation | formula | unit |
 * |---|---|---|
 * | funding_rate_mean | mean(f) | rate per funding interval |
 * | funding_close | f_last | rate per funding interval |
 * | funding_step | f_last − f_first | rate per funding interval |
 * | funding_carry_8h_per_hour | f_last / 8 (8-hour settlement convention) | rate per hour |
 * | funding_surprise | f_last − pf_last | rate per funding interval |
 * | funding_pressure | (f_last − f_first)·(oi_last − oi_first) / max(abs(oi_last), 1e-12) | rate per funding interval |
 * | oi_change | oi_last − oi_first | contracts |
 * | oi_last | oi_last | contracts |
 * | oi_open | oi_first | contracts |
 * | oi_high | max(oi) | contracts |
 * | oi_low | min(oi) | contracts |
 * | oi_range | max(oi) − min(oi) | contracts |
 * | oi_pct_change | (oi_last − oi_first) / abs(oi_first); null when oi_first = 0 | ratio |
 * | oi_pressure | oi_pct_change · sign(m_last − m_first) (sign 0 → 0) | ratio |
 *
 * Binance's markPrice stream has no open interest and no predicted funding rate (both always null in
 * the lake): every oi_* output, funding_surprise and funding_pressure are then null.
 *
 * Sources: Pointline `pointline/research/resample/aggregations/derivatives.py` (funding_rate_mean,
 * funding_close, funding_step, funding_carry_8h_per_hour, funding_surprise, funding_pressure, oi_change,
 * oi_last); oi_open, oi_high, oi_low, oi_range, oi_pct_change and oi_pressure complete the OI set in the
 * same style (issue #4 catalogue).
 */
import { EMPTY_F64, f64, type OperatorReads } from "../../engine/inputs.js";
import {
  type EventCursor,
  type JsonValue,
  numberToJson,
  type OutputSpec,
  stateNumber,
} from "../../engine/operator.js";
import type { TypedRows } from "../../query/query.js";
import type { AggregationContext, AggregationSpec, JoinStrategy } from "../aggregation-types.js";
import { BarOperator, defineAggregation, inBarWindow, MODES_BAR, out } from "./shared.js";

/** The derivative-ticker aggregations, in catalogue order. */
export const TICKER_KINDS = [
  "funding_rate_mean",
  "funding_close",
  "funding_step",
  "funding_carry_8h_per_hour",
  "funding_surprise",
  "funding_pressure",
  "oi_change",
  "oi_last",
  "oi_open",
  "oi_high",
  "oi_low",
  "oi_range",
  "oi_pct_change",
  "oi_pressure",
] as const;
/** Name of a derivative-ticker aggregation (`funding_rate_mean` … `oi_pressure`). */
export type TickerKind = (typeof TICKER_KINDS)[number];

/** Floor of |oi_last| in funding_pressure's denominator (Pointline `eps`). */
export const OI_EPS = 1e-12;

const SOURCE = "Pointline pointline/research/resample/aggregations/derivatives.py";

/** One derivative-ticker aggregation (see the module doc). Inputs: ticker. O(1) per row. */
export class TickerAggOperator extends BarOperator {
  private readonly asof: boolean;
  // per bar (over non-null values of each column)
  protected fN = 0;
  protected fSum = 0;
  protected fFirst = Number.NaN;
  protected fLast = Number.NaN;
  protected pfLast = Number.NaN;
  protected oiFirst = Number.NaN;
  protected oiLast = Number.NaN;
  protected oiHigh = Number.NaN;
  protected oiLow = Number.NaN;
  protected mFirst = Number.NaN;
  protected mLast = Number.NaN;
  // carried across bars (as-of)
  protected fCarry = Number.NaN;
  protected oiCarry = Number.NaN;
  /** Every kind reads the same four ticker columns. */
  override reads: OperatorReads = {
    ticker: { funding_rate: "f64", predicted_funding_rate: "f64", open_interest: "f64", mark_px: "f64" },
  };
  /** Columns of the current batch (resolved once per batch; not state). */
  private rows: TypedRows | null = null;
  private fundingCol = EMPTY_F64;
  private predictedCol = EMPTY_F64;
  private oiCol = EMPTY_F64;
  private markCol = EMPTY_F64;

  constructor(
    readonly kind: TickerKind,
    ctx: AggregationContext,
    outputs: readonly OutputSpec[],
  ) {
    super(ctx.operatorName, ["ticker"], outputs);
    this.asof = ctx.joinStrategy === "asof_backward";
  }

  onEvent(ev: EventCursor): void {
    if (ev.rows !== this.rows) {
      this.rows = ev.rows;
      this.fundingCol = f64(ev.rows, "funding_rate");
      this.predictedCol = f64(ev.rows, "predicted_funding_rate");
      this.oiCol = f64(ev.rows, "open_interest");
      this.markCol = f64(ev.rows, "mark_px");
    }
    const i = ev.i;
    const f = this.fundingCol[i]!;
    if (!Number.isNaN(f)) {
      if (this.fN++ === 0) this.fFirst = f;
      this.fSum += f;
      this.fLast = f;
      this.fCarry = f;
    }
    const pf = this.predictedCol[i]!;
    if (!Number.isNaN(pf)) this.pfLast = pf;
    const oi = this.oiCol[i]!;
    if (!Number.isNaN(oi)) {
      if (Number.isNaN(this.oiFirst)) {
        this.oiFirst = oi;
        this.oiHigh = oi;
        this.oiLow = oi;
      } else {
        if (oi > this.oiHigh) this.oiHigh = oi;
        if (oi < this.oiLow) this.oiLow = oi;
      }
      this.oiLast = oi;
      this.oiCarry = oi;
    }
    const m = this.markCol[i]!;
    if (!Number.isNaN(m)) {
      if (Number.isNaN(this.mFirst)) this.mFirst = m;
      this.mLast = m;
    }
  }

  protected write(outs: readonly Float64Array[], r: number): void {
    outs[0]![r] = this.value();
  }

  private value(): number {
    switch (this.kind) {
      case "funding_rate_mean":
        return this.fN > 0 ? this.fSum / this.fN : Number.NaN;
      case "funding_close":
        return this.asof ? this.fCarry : this.fLast;
      case "funding_step":
        return this.fLast - this.fFirst;
      case "funding_carry_8h_per_hour":
        return this.fLast / 8;
      case "funding_surprise":
        return this.fLast - this.pfLast;
      case "funding_pressure":
        return (
          ((this.fLast - this.fFirst) * (this.oiLast - this.oiFirst)) /
          Math.max(Math.abs(this.oiLast), OI_EPS)
        );
      case "oi_change":
        return this.oiLast - this.oiFirst;
      case "oi_last":
        return this.asof ? this.oiCarry : this.oiLast;
      case "oi_open":
        return this.oiFirst;
      case "oi_high":
        return this.oiHigh;
      case "oi_low":
        return this.oiLow;
      case "oi_range":
        return this.oiHigh - this.oiLow;
      case "oi_pct_change":
        return this.oiPct();
      case "oi_pressure":
        return this.oiPct() * Math.sign(this.mLast - this.mFirst);
    }
  }

  private oiPct(): number {
    return this.oiFirst !== 0 ? (this.oiLast - this.oiFirst) / Math.abs(this.oiFirst) : Number.NaN;
  }

  protected resetBar(): void {
    this.fN = 0;
    this.fSum = 0;
    this.fFirst = Number.NaN;
    this.fLast = Number.NaN;
    this.pfLast = Number.NaN;
    this.oiFirst = Number.NaN;
    this.oiLast = Number.NaN;
    this.oiHigh = Number.NaN;
    this.oiLow = Number.NaN;
    this.mFirst = Number.NaN;
    this.mLast = Number.NaN;
  }

  protected saveState(): { [k: string]: JsonValue } {
    return {
      fN: this.fN,
      fSum: this.fSum,
      fFirst: numberToJson(this.fFirst),
      fLast: numberToJson(this.fLast),
      pfLast: numberToJson(this.pfLast),
      oiFirst: numberToJson(this.oiFirst),
      oiLast: numberToJson(this.oiLast),
      oiHigh: numberToJson(this.oiHigh),
      oiLow: numberToJson(this.oiLow),
      mFirst: numberToJson(this.mFirst),
      mLast: numberToJson(this.mLast),
      fCarry: numberToJson(this.fCarry),
      oiCarry: numberToJson(this.oiCarry),
    };
  }

  protected loadState(s: { readonly [k: string]: JsonValue }): void {
    this.fN = stateNumber(s, "fN");
    this.fSum = stateNumber(s, "fSum");
    this.fFirst = stateNumber(s, "fFirst");
    this.fLast = stateNumber(s, "fLast");
    this.pfLast = stateNumber(s, "pfLast");
    this.oiFirst = stateNumber(s, "oiFirst");
    this.oiLast = stateNumber(s, "oiLast");
    this.oiHigh = stateNumber(s, "oiHigh");
    this.oiLow = stateNumber(s, "oiLow");
    this.mFirst = stateNumber(s, "mFirst");
    this.mLast = stateNumber(s, "mLast");
    this.fCarry = stateNumber(s, "fCarry");
    this.oiCarry = stateNumber(s, "oiCarry");
  }
}

interface TickerDoc {
  readonly description: string;
  readonly requiredColumns: readonly string[];
  readonly unit: string;
}

const RATE = "rate per funding interval";
const OI = "contracts";

const DOCS: Readonly<Record<TickerKind, TickerDoc>> = {
  funding_rate_mean: {
    description: "mean of the bar's non-null funding_rate values; null if none",
    requiredColumns: ["funding_rate"],
    unit: RATE,
  },
  funding_close: {
    description:
      "last non-null funding_rate of the bar (null if none); asof_backward: the latest at or before the row's close",
    requiredColumns: ["funding_rate"],
    unit: RATE,
  },
  funding_step: {
    description: "funding_rate last − first over the bar's non-null values",
    requiredColumns: ["funding_rate"],
    unit: RATE,
  },
  funding_carry_8h_per_hour: {
    description: "last funding_rate of the bar / 8 (per hour under an 8-hour settlement convention)",
    requiredColumns: ["funding_rate"],
    unit: "rate per hour",
  },
  funding_surprise: {
    description: "last funding_rate − last predicted_funding_rate of the bar (each over its non-null values)",
    requiredColumns: ["funding_rate", "predicted_funding_rate"],
    unit: RATE,
  },
  funding_pressure: {
    description:
      "(funding_rate last − first) · (open_interest last − first) / max(|open_interest last|, 1e-12) over the bar",
    requiredColumns: ["funding_rate", "open_interest"],
    unit: RATE,
  },
  oi_change: {
    description: "open_interest last − first over the bar's non-null values",
    requiredColumns: ["open_interest"],
    unit: OI,
  },
  oi_last: {
    description:
      "last non-null open_interest of the bar (null if none); asof_backward: the latest at or before the row's close",
    requiredColumns: ["open_interest"],
    unit: OI,
  },
  oi_open: {
    description: "first non-null open_interest of the bar",
    requiredColumns: ["open_interest"],
    unit: OI,
  },
  oi_high: { description: "max open_interest of the bar", requiredColumns: ["open_interest"], unit: OI },
  oi_low: { description: "min open_interest of the bar", requiredColumns: ["open_interest"], unit: OI },
  oi_range: {
    description: "max − min open_interest of the bar",
    requiredColumns: ["open_interest"],
    unit: OI,
  },
  oi_pct_change: {
    description: "(open_interest last − first) / |first| over the bar; null when first is 0",
    requiredColumns: ["open_interest"],
    unit: "ratio",
  },
  oi_pressure: {
    description: "oi_pct_change · sign(mark_px last − mark_px first) over the bar (sign of 0 is 0)",
    requiredColumns: ["open_interest", "mark_px"],
    unit: "ratio",
  },
};

function tickerSpec(kind: TickerKind): AggregationSpec {
  const d = DOCS[kind];
  const asof = kind === "funding_close" || kind === "oi_last";
  const joins: readonly JoinStrategy[] = asof ? ["in_bar", "asof_backward"] : ["in_bar"];
  const window = inBarWindow("derivative_ticker rows");
  return defineAggregation({
    name: kind,
    description: d.description,
    requiredColumns: d.requiredColumns,
    modeAllowlist: MODES_BAR,
    stage: "aggregate_then_feature",
    semanticType: "state_variable",
    window: asof
      ? `${window}; asof_backward: the latest non-null value at or before the row's close, carried across bars since the replay start`
      : window,
    joinStrategies: joins,
    tables: ["derivative_ticker"],
    outputs: () => [out(kind, "f64", d.unit)],
    build: (ctx, o) => new TickerAggOperator(kind, ctx, o),
    source: SOURCE,
  });
}

/** `funding_rate_mean` … `oi_pressure`, in catalogue order. */
export const TICKER_AGGREGATIONS: readonly AggregationSpec[] = TICKER_KINDS.map(tickerSpec);
