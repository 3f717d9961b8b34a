/**
 * `deriv_volume`: the guide's volume features (≥ 20 with the bar's `volume` and `taker_buy_volume`) from the
 * `deriv_bar` rows (volumes in qty increments, shown in base units). Cumulative ones — CVD, OBV, A/D, VWAP —
 * are anchored at the UTC day of the bar start (indicators/cumulative.ts), not at the first row. Windows
 * count spine rows; `volume_std_20` is the sample std (pandas); ROC in percent; the correlation is Pearson
 * over 20 rows (pandas `rolling(20).corr`).
 */
import type { JsonValue, Operator, SourceRole, SpineRow } from "../../engine/operator.js";
import { stateObject } from "../../engine/operator.js";
import type { OutputMeta } from "../../engine/registry.js";
import { RollingStats } from "../../engine/rolling.js";
import { familyOperator } from "../family.js";
import {
  catalogBuilder,
  DERIV_SETTINGS_PARAMS,
  type DerivSettings,
  GUIDE,
  RowCursor,
  rel,
} from "./common.js";
import { DayAnchored } from "./indicators/cumulative.js";
import { Ema } from "./indicators/ema.js";
import { Cmf, Mfi } from "./indicators/flow.js";
import { RollingCorr } from "./indicators/regression.js";
import { Ring, sub } from "./indicators/state.js";

const PIT = "emitted rows up to and including the current one; day-anchored sums restart at each UTC day";
const V = ["row.volume"];
const Q = "qty increments";
const DAY = "UTC day of the bar start (anchored)";

/** Outputs of `deriv_volume`. */
export function volumeOutputs(_s: DerivSettings): OutputMeta[] {
  const col = catalogBuilder(PIT, `${GUIDE}, §3 Volume Features`);
  const rows = (n: number) => `${n} spine rows`;
  const e20 = new Ema(20);
  const HLCV = ["row.high", "row.low", "row.close", "row.volume"];
  const TB = ["row.volume", "row.taker_buy_volume"];
  return [
    col("volume_change", "(volume − volume₋₁)/volume₋₁", {
      unit: "fraction",
      warmupRows: 1,
      inputs: V,
      window: rows(2),
    }),
    col("volume_sma_20", "mean volume over 20 rows", {
      unit: Q,
      warmupRows: 19,
      inputs: V,
      window: rows(20),
    }),
    col("volume_ratio", "volume / volume_sma_20", {
      unit: "ratio",
      warmupRows: 19,
      inputs: V,
      window: rows(20),
    }),
    col("volume_roc", "100·(volume − volume₋₁₀)/volume₋₁₀ (TA-Lib ROC 10)", {
      unit: "%",
      warmupRows: 10,
      inputs: V,
      window: rows(11),
    }),
    col("volume_std_20", "sample std (ddof 1) of volume over 20 rows", {
      unit: Q,
      warmupRows: 19,
      inputs: V,
      window: rows(20),
    }),
    col("volume_zscore", "(volume − volume_sma_20)/volume_std_20", {
      unit: "z-score",
      warmupRows: 19,
      inputs: V,
      window: rows(20),
    }),
    col("volume_ema_20", "EMA(volume, span 20), window seeding (indicators/ema.ts)", {
      unit: Q,
      warmupRows: e20.warmupRows,
      inputs: V,
      window: rows(e20.windowRows),
    }),
    col("taker_buy_ratio", "taker_buy_volume / volume", {
      unit: "ratio [0,1]",
      warmupRows: 0,
      inputs: TB,
      window: "current bar",
    }),
    col("taker_sell_volume", "volume − taker_buy_volume", {
      unit: Q,
      warmupRows: 0,
      inputs: TB,
      window: "current bar",
    }),
    col("volume_delta", "taker_buy_volume − taker_sell_volume", {
      unit: Q,
      warmupRows: 0,
      inputs: TB,
      window: "current bar",
    }),
    col("cvd", "Σ volume_delta since the UTC day began (the guide's cumsum, day-anchored)", {
      unit: Q,
      warmupRows: 0,
      inputs: TB,
      window: DAY,
    }),
    col("price_volume_corr", "Pearson correlation of close and volume over 20 rows", {
      unit: "ratio [-1,1]",
      warmupRows: 19,
      inputs: ["row.close", "row.volume"],
      window: rows(20),
    }),
    col("obv", "Σ sign(close − close₋₁)·volume since the UTC day began (TA-Lib OBV, day-anchored)", {
      unit: Q,
      warmupRows: 0,
      inputs: ["row.close", "row.volume"],
      window: DAY,
    }),
    col("obv_sma_20", "mean of obv over 20 rows", {
      unit: Q,
      warmupRows: 19,
      inputs: ["row.close", "row.volume"],
      window: rows(20),
    }),
    col("ad_line", "Σ ((C−L)−(H−C))/(H−L)·volume since the UTC day began (TA-Lib AD, day-anchored)", {
      unit: Q,
      warmupRows: 0,
      inputs: HLCV,
      window: DAY,
    }),
    col("cmf", "Σ₂₀ MFM·volume / Σ₂₀ volume (Chaikin money flow 20)", {
      unit: "ratio [-1,1]",
      warmupRows: 19,
      inputs: HLCV,
      window: rows(20),
    }),
    col("mfi", "money flow index 14 (TA-Lib MFI)", {
      unit: "0–100",
      warmupRows: 14,
      inputs: HLCV,
      window: rows(15),
    }),
    col("vwap", "Σ TP·volume / Σ volume since the UTC day began, TP = (H+L+C)/3 (pandas-ta vwap anchor D)", {
      unit: "price increments",
      warmupRows: 0,
      inputs: HLCV,
      window: DAY,
    }),
    col("price_vs_vwap", "(close − vwap)/vwap", {
      unit: "fraction",
      warmupRows: 0,
      inputs: HLCV,
      window: DAY,
    }),
  ];
}

class VolumeOperator implements Operator {
  readonly id = "deriv_volume";
  readonly inputs: readonly SourceRole[] = [];
  readonly reads = {};
  readonly rowInputs = ["high", "low", "close", "volume", "taker_buy_volume"] as const;
  readonly outputs: readonly OutputMeta[];
  private readonly o = new RowCursor();
  private readonly vols = new Ring(11);
  private readonly v20 = new RollingStats(20);
  private readonly e20 = new Ema(20);
  private readonly corr = new RollingCorr(20);
  private readonly day = new DayAnchored();
  private readonly obv20 = new RollingStats(20);
  private readonly cmf = new Cmf(20);
  private readonly mfi = new Mfi(14);
  constructor(s: DerivSettings) {
    this.outputs = volumeOutputs(s);
  }
  onEvent(): void {}
  emit(row: SpineRow, out: readonly Float64Array[], r: number, ins?: readonly Float64Array[]): void {
    const x = ins!;
    const h = x[0]![r]!;
    const l = x[1]![r]!;
    const c = x[2]![r]!;
    const v = x[3]![r]!;
    const b = x[4]![r]!;
    const key = row.barIndex;
    const o = this.o.start(out, r);
    o.w(rel(v, this.vols.lag(0)));
    const v10 = this.vols.lag(9);
    this.vols.push(v);
    this.v20.push(v, key);
    this.e20.push(v, key);
    const m = this.v20.mean();
    const sd = this.v20.std();
    o.w(m);
    o.w(m !== 0 ? v / m : Number.NaN);
    o.w(100 * rel(v, v10));
    o.w(sd);
    o.w(sd > 0 ? (v - m) / sd : Number.NaN);
    o.w(this.e20.value());
    o.w(v > 0 ? b / v : Number.NaN);
    const sell = v - b;
    o.w(sell);
    const delta = b - sell;
    o.w(delta);
    this.day.push(row.tsEventUs, h, l, c, v, delta);
    o.w(this.day.cvd);
    this.corr.push(c, v, key);
    o.w(this.corr.value());
    o.w(this.day.obv);
    this.obv20.push(this.day.obv, key);
    o.w(this.obv20.mean());
    o.w(this.day.ad);
    this.cmf.push(h, l, c, v, key);
    o.w(this.cmf.value());
    this.mfi.push(h, l, c, v, key);
    o.w(this.mfi.value());
    const vwap = this.day.vwap;
    o.w(vwap);
    o.w(rel(c, vwap));
  }
  snapshot(): JsonValue {
    return {
      vols: this.vols.snapshot(),
      v20: this.v20.snapshot(),
      e20: this.e20.snapshot(),
      corr: this.corr.snapshot(),
      day: this.day.snapshot(),
      obv20: this.obv20.snapshot(),
      cmf: this.cmf.snapshot(),
      mfi: this.mfi.snapshot(),
    };
  }
  restore(state: JsonValue): void {
    const s = stateObject(state, this.id);
    const g = (k: string) => sub(s, k, this.id);
    this.vols.restore(g("vols"));
    this.v20.restore(g("v20"));
    this.e20.restore(g("e20"));
    this.corr.restore(g("corr"));
    this.day.restore(g("day"));
    this.obv20.restore(g("obv20"));
    this.cmf.restore(g("cmf"));
    this.mfi.restore(g("mfi"));
  }
}

/** Registered operator `deriv_volume`. */
export const derivVolumeOperator = familyOperator<DerivSettings>({
  name: "deriv_volume",
  description:
    "the guide's volume features (changes, SMA, ratio, ROC, taker flow, day-anchored CVD/OBV/A/D/VWAP, CMF, MFI, price–volume correlation)",
  source: `${GUIDE}, §3; TA-Lib / StockCharts definitions per output`,
  params: DERIV_SETTINGS_PARAMS,
  outputs: volumeOutputs,
  create: (s) => new VolumeOperator(s),
});
