/**
 * `deriv_open_interest`: the guide's open-interest features (≥ 25) on the as-of open interest of each spine
 * row — the last `open_interest` row of the row's knowledge set (null before the first) — sampled once per
 * row, so row windows (`_20`, `_50`, `_100`) count spine rows as the guide's pandas code does, and the
 * wall-clock ones (`_1h`, `_4h`, `_24h`, `_1d`) look up the as-of value at available_at − H (the last
 * open-interest row with ts_local_us ≤ available_at − H; null when the replay holds none that old).
 *
 * Conventions (stated per output in the catalogue): changes are fractions ((x − x₋ₖ)/x₋ₖ) except
 * `oi_pct_change` (percent, as the guide's `* 100`); `oi_std_*` are sample standard deviations (pandas
 * `rolling().std()`, ddof 1) and the OI Bollinger bands use them (the guide's `oi_sma_20 ± 2·oi_std_20`);
 * EMAs/MACD use the `"window"` seeding of indicators/ema.ts (span α = 2/(n+1)); the z-score is
 * (oi − mean₅₀)/std₅₀ (the guide's formula section; its code mixes 50- and 20-row windows); the percentile is
 * pandas `rank(pct=True)` (average ties) of the current value among the last 100 rows. OI–price divergence
 * follows the guide's `calculate_divergence` formula: with d_oi = sign(oi − oi₋ₖ) and d_px = sign(close −
 * close₋ₖ) over k rows (or the as-of values H ago), −1 (bearish) when they differ and price rose, +1 when
 * they differ otherwise, 0 when equal.
 */
import { EMPTY_F64, f64 } from "../../engine/inputs.js";
import type { EventCursor, JsonValue, Operator, SourceRole, SpineRow } from "../../engine/operator.js";
import { numberToJson, stateNumber, stateObject } from "../../engine/operator.js";
import type { OutputMeta } from "../../engine/registry.js";
import { RollingMedian, RollingStats } from "../../engine/rolling.js";
import type { TypedRows } from "../../query/query.js";
import { familyOperator } from "../family.js";
import {
  catalogBuilder,
  DERIV_SETTINGS_PARAMS,
  type DerivSettings,
  GUIDE,
  horizonRows,
  RowCursor,
  rel,
  sign,
  US_PER_DAY,
  US_PER_HOUR,
} from "./common.js";
import { Macd } from "./indicators/macd.js";
import { LinReg } from "./indicators/regression.js";
import { Ring, sub } from "./indicators/state.js";
import { LaggedValues } from "./indicators/time-series.js";

const PIT =
  "as-of backward: the last open_interest row of the row's knowledge set, sampled per spine row; lags look further back only";
const OI = ["open_interest.open_interest"];
const OI_PX = ["open_interest.open_interest", "row.close"];
const H = [US_PER_HOUR, 4 * US_PER_HOUR, 24 * US_PER_HOUR];
const EMA_TEXT = "EMA seeding: exact window of the last K rows (indicators/ema.ts, (1−α)^K ≤ 1e-12)";

/** Outputs of `deriv_open_interest` under the preset settings. */
export function oiOutputs(s: DerivSettings): OutputMeta[] {
  const col = catalogBuilder(PIT, `${GUIDE}, open-interest features`);
  const macd = new Macd();
  const h = H.map((x) => horizonRows(s, x));
  const c = "contracts";
  const f = "fraction";
  const rows = (n: number) => `${n} spine rows`;
  const hw = (x: string, n: number) => `${x} wall clock (${n} rows at this bar size)`;
  return [
    col("open_interest", "as-of open interest", { unit: c, warmupRows: 0, inputs: OI, window: "as-of" }),
    col("open_interest_value", "as-of open interest value", {
      unit: "quote currency",
      warmupRows: 0,
      inputs: ["open_interest.open_interest_value"],
      window: "as-of",
    }),
    col("oi_abs_change", "oi − oi₋₁", { unit: c, warmupRows: 1, inputs: OI, window: rows(2) }),
    col("oi_pct_change", "(oi − oi₋₁)/oi₋₁ · 100", { unit: "%", warmupRows: 1, inputs: OI, window: rows(2) }),
    col("oi_log_return", "ln(oi/oi₋₁) (as log1p((oi − oi₋₁)/oi₋₁))", {
      unit: "log return",
      warmupRows: 1,
      inputs: OI,
      window: rows(2),
    }),
    col("oi_change_5", "(oi − oi₋₅)/oi₋₅", { unit: f, warmupRows: 5, inputs: OI, window: rows(6) }),
    col("oi_change_20", "(oi − oi₋₂₀)/oi₋₂₀", { unit: f, warmupRows: 20, inputs: OI, window: rows(21) }),
    col("oi_velocity_1h", "(oi − oi as of t−1h)/oi as of t−1h", {
      unit: f,
      warmupRows: h[0]!,
      inputs: OI,
      window: hw("1 h", h[0]!),
      warmup: "1 h of open interest before the row",
    }),
    col("oi_velocity_4h", "(oi − oi as of t−4h)/oi as of t−4h", {
      unit: f,
      warmupRows: h[1]!,
      inputs: OI,
      window: hw("4 h", h[1]!),
      warmup: "4 h of open interest before the row",
    }),
    col("oi_velocity_24h", "(oi − oi as of t−24h)/oi as of t−24h", {
      unit: f,
      warmupRows: h[2]!,
      inputs: OI,
      window: hw("24 h", h[2]!),
      warmup: "24 h of open interest before the row",
    }),
    col("oi_acceleration", "oi_velocity_1h − oi_velocity_1h₋₁ (previous row)", {
      unit: f,
      warmupRows: h[0]! + 1,
      inputs: OI,
      window: hw("1 h + 1 row", h[0]! + 1),
      warmup: "1 h of open interest + 1 row",
    }),
    col("oi_sma_20", "mean of oi over 20 rows", { unit: c, warmupRows: 19, inputs: OI, window: rows(20) }),
    col("oi_sma_50", "mean of oi over 50 rows", { unit: c, warmupRows: 49, inputs: OI, window: rows(50) }),
    col("oi_ema_12", `EMA(oi, span 12); ${EMA_TEXT}`, {
      unit: c,
      warmupRows: macd.fast.warmupRows,
      inputs: OI,
      window: rows(macd.fast.windowRows),
    }),
    col("oi_ema_26", `EMA(oi, span 26); ${EMA_TEXT}`, {
      unit: c,
      warmupRows: macd.slow.warmupRows,
      inputs: OI,
      window: rows(macd.slow.windowRows),
    }),
    col("oi_macd", "oi_ema_12 − oi_ema_26", {
      unit: c,
      warmupRows: macd.slow.warmupRows,
      inputs: OI,
      window: rows(macd.slow.windowRows),
    }),
    col("oi_macd_signal", `EMA(oi_macd, span 9); ${EMA_TEXT}`, {
      unit: c,
      warmupRows: macd.warmupRows,
      inputs: OI,
      window: rows(macd.warmupRows + 1),
    }),
    col("oi_macd_histogram", "oi_macd − oi_macd_signal", {
      unit: c,
      warmupRows: macd.warmupRows,
      inputs: OI,
      window: rows(macd.warmupRows + 1),
    }),
    col(
      "oi_trend_slope",
      "least-squares slope of oi on the row index over 20 rows (TA-Lib LINEARREG_SLOPE)",
      {
        unit: "contracts per row",
        warmupRows: 19,
        inputs: OI,
        window: rows(20),
      },
    ),
    col("oi_r_squared", "R² of that regression", {
      unit: "ratio [0,1]",
      warmupRows: 19,
      inputs: OI,
      window: rows(20),
    }),
    col("oi_std_20", "sample std (ddof 1) of oi over 20 rows", {
      unit: c,
      warmupRows: 19,
      inputs: OI,
      window: rows(20),
    }),
    col("oi_std_50", "sample std (ddof 1) of oi over 50 rows", {
      unit: c,
      warmupRows: 49,
      inputs: OI,
      window: rows(50),
    }),
    col("oi_bb_upper", "oi_sma_20 + 2·oi_std_20", { unit: c, warmupRows: 19, inputs: OI, window: rows(20) }),
    col("oi_bb_lower", "oi_sma_20 − 2·oi_std_20", { unit: c, warmupRows: 19, inputs: OI, window: rows(20) }),
    col("oi_bb_position", "(oi − oi_bb_lower)/(oi_bb_upper − oi_bb_lower); null when the bands meet", {
      unit: "ratio",
      warmupRows: 19,
      inputs: OI,
      window: rows(20),
    }),
    col("oi_cv", "oi_std_20 / oi_sma_20", { unit: "ratio", warmupRows: 19, inputs: OI, window: rows(20) }),
    col(
      "oi_price_divergence_20",
      "divergence(sign(oi − oi₋₂₀), sign(close − close₋₂₀)): −1, 0, +1 (module doc)",
      {
        unit: "class {-1,0,1}",
        warmupRows: 20,
        inputs: OI_PX,
        window: rows(21),
      },
    ),
    col("oi_price_divergence_50", "as oi_price_divergence_20 over 50 rows", {
      unit: "class {-1,0,1}",
      warmupRows: 50,
      inputs: OI_PX,
      window: rows(51),
    }),
    col("oi_price_divergence_4h", "as oi_price_divergence_20 against the as-of values 4 h earlier", {
      unit: "class {-1,0,1}",
      warmupRows: h[1]!,
      inputs: OI_PX,
      window: hw("4 h", h[1]!),
      warmup: "4 h of rows",
    }),
    col("oi_price_divergence_1d", "as oi_price_divergence_20 against the as-of values 24 h earlier", {
      unit: "class {-1,0,1}",
      warmupRows: h[2]!,
      inputs: OI_PX,
      window: hw("24 h", h[2]!),
      warmup: "24 h of rows",
    }),
    col("oi_zscore", "(oi − oi_sma_50)/oi_std_50; null when the std is 0", {
      unit: "z-score",
      warmupRows: 49,
      inputs: OI,
      window: rows(50),
    }),
    col("oi_percentile_100", "pandas rank(pct=True) of oi among the last 100 rows (average ties)", {
      unit: "ratio (0,1]",
      warmupRows: 99,
      inputs: OI,
      window: rows(100),
    }),
    col("oi_high_100", "max of oi over 100 rows", { unit: c, warmupRows: 99, inputs: OI, window: rows(100) }),
    col("oi_low_100", "min of oi over 100 rows", { unit: c, warmupRows: 99, inputs: OI, window: rows(100) }),
    col("oi_dist_from_high", "(oi − oi_high_100)/oi_high_100", {
      unit: f,
      warmupRows: 99,
      inputs: OI,
      window: rows(100),
    }),
    col("oi_dist_from_low", "(oi − oi_low_100)/oi_low_100", {
      unit: f,
      warmupRows: 99,
      inputs: OI,
      window: rows(100),
    }),
  ];
}

/** OI–price divergence of the guide's formula (module doc). */
export function divergence(dOi: number, dPx: number): number {
  if (Number.isNaN(dOi + dPx)) return Number.NaN;
  if (dOi === dPx) return 0;
  return dPx > 0 ? -1 : 1;
}

class OpenInterestOperator implements Operator {
  readonly id = "deriv_open_interest";
  readonly inputs: readonly SourceRole[] = ["open_interest"];
  readonly reads = { open_interest: { open_interest: "f64", open_interest_value: "f64" } } as const;
  readonly rowInputs = ["close"] as const;
  readonly outputs: readonly OutputMeta[];
  private readonly o = new RowCursor();
  private oi = Number.NaN;
  private oiValue = Number.NaN;
  private prevV1h = Number.NaN;
  private readonly oiRing = new Ring(51);
  private readonly pxRing = new Ring(51);
  private readonly oiLag = new LaggedValues(H);
  private readonly pxLag = new LaggedValues([4 * US_PER_HOUR, US_PER_DAY]);
  private readonly s20 = new RollingStats(20);
  private readonly s50 = new RollingStats(50);
  private readonly macd = new Macd();
  private readonly lr = new LinReg(20);
  private readonly order = new RollingMedian(100);
  private rows: TypedRows | null = null;
  private oiCol = EMPTY_F64;
  private valCol = EMPTY_F64;

  constructor(s: DerivSettings) {
    this.outputs = oiOutputs(s);
  }

  onEvent(ev: EventCursor): void {
    if (ev.rows !== this.rows) {
      this.rows = ev.rows;
      this.oiCol = f64(ev.rows, "open_interest");
      this.valCol = f64(ev.rows, "open_interest_value");
    }
    this.oi = this.oiCol[ev.i]!;
    this.oiValue = this.valCol[ev.i]!;
    this.oiLag.push(ev.tsLocalUs, this.oi);
  }

  emit(row: SpineRow, out: readonly Float64Array[], r: number, rowInputs?: readonly Float64Array[]): void {
    const close = rowInputs![0]![r]!;
    const oi = this.oi;
    const key = row.barIndex;
    const t = row.availableAtUs;
    const prev = this.oiRing.lag(0);
    const lag5 = this.oiRing.lag(4);
    const lag20 = this.oiRing.lag(19);
    const lag50 = this.oiRing.lag(49);
    const px20 = this.pxRing.lag(19);
    const px50 = this.pxRing.lag(49);
    this.oiRing.push(oi);
    this.pxRing.push(close);
    this.pxLag.push(t, close);
    this.s20.push(oi, key);
    this.s50.push(oi, key);
    this.macd.push(oi, key);
    this.lr.push(oi, key);
    this.order.push(oi);
    const o = this.o.start(out, r);
    o.w(oi);
    o.w(this.oiValue);
    o.w(oi - prev);
    o.w(prev !== 0 ? (100 * (oi - prev)) / prev : Number.NaN);
    o.w(prev !== 0 ? Math.log1p((oi - prev) / prev) : Number.NaN);
    o.w(rel(oi, lag5));
    o.w(rel(oi, lag20));
    const v1h = rel(oi, this.oiLag.at(0, t));
    o.w(v1h);
    o.w(rel(oi, this.oiLag.at(1, t)));
    o.w(rel(oi, this.oiLag.at(2, t)));
    o.w(v1h - this.prevV1h);
    this.prevV1h = v1h;
    const m20 = this.s20.mean();
    const sd20 = this.s20.std();
    const m50 = this.s50.mean();
    const sd50 = this.s50.std();
    o.w(m20);
    o.w(m50);
    o.w(this.macd.fast.value());
    o.w(this.macd.slow.value());
    o.w(this.macd.macd);
    o.w(this.macd.sig);
    o.w(this.macd.histogram);
    o.w(this.lr.slope());
    o.w(this.lr.r2());
    o.w(sd20);
    o.w(sd50);
    const up = m20 + 2 * sd20;
    const lo = m20 - 2 * sd20;
    o.w(up);
    o.w(lo);
    o.w(up > lo ? (oi - lo) / (up - lo) : Number.NaN);
    o.w(m20 !== 0 ? sd20 / m20 : Number.NaN);
    o.w(divergence(sign(oi - lag20), sign(close - px20)));
    o.w(divergence(sign(oi - lag50), sign(close - px50)));
    o.w(divergence(sign(oi - this.oiLag.at(1, t)), sign(close - this.pxLag.at(0, t))));
    o.w(divergence(sign(oi - this.oiLag.at(2, t)), sign(close - this.pxLag.at(1, t))));
    o.w(sd50 > 0 ? (oi - m50) / sd50 : Number.NaN);
    o.w(this.order.rankPct(oi));
    const hi = this.order.max();
    const lw = this.order.min();
    o.w(hi);
    o.w(lw);
    o.w(rel(oi, hi));
    o.w(rel(oi, lw));
  }

  snapshot(): JsonValue {
    return {
      oi: numberToJson(this.oi),
      oiValue: numberToJson(this.oiValue),
      prevV1h: numberToJson(this.prevV1h),
      oiRing: this.oiRing.snapshot(),
      pxRing: this.pxRing.snapshot(),
      oiLag: this.oiLag.snapshot(),
      pxLag: this.pxLag.snapshot(),
      s20: this.s20.snapshot(),
      s50: this.s50.snapshot(),
      macd: this.macd.snapshot(),
      lr: this.lr.snapshot(),
      order: this.order.snapshot(),
    };
  }

  restore(state: JsonValue): void {
    const s = stateObject(state, this.id);
    this.oi = stateNumber(s, "oi");
    this.oiValue = stateNumber(s, "oiValue");
    this.prevV1h = stateNumber(s, "prevV1h");
    this.oiRing.restore(sub(s, "oiRing", this.id));
    this.pxRing.restore(sub(s, "pxRing", this.id));
    this.oiLag.restore(sub(s, "oiLag", this.id));
    this.pxLag.restore(sub(s, "pxLag", this.id));
    this.s20.restore(sub(s, "s20", this.id));
    this.s50.restore(sub(s, "s50", this.id));
    this.macd.restore(sub(s, "macd", this.id));
    this.lr.restore(sub(s, "lr", this.id));
    this.order.restore(sub(s, "order", this.id));
  }
}

/** Registered operator `deriv_open_interest`. */
export const derivOpenInterestOperator = familyOperator<DerivSettings>({
  name: "deriv_open_interest",
  description: "the guide's open-interest features on the as-of open interest of each spine row (module doc)",
  source: `${GUIDE}, §1 Open Interest Features`,
  params: DERIV_SETTINGS_PARAMS,
  outputs: oiOutputs,
  create: (s) => new OpenInterestOperator(s),
});
