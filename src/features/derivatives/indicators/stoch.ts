/**
 * Stochastic oscillator (Lane; TA-Lib `STOCH` with SMA smoothing, pandas-ta `stoch(14, 3, 3)`,
 * StockCharts): fast %K = 100·(C − LL_k)/(HH_k − LL_k) over the last k bars (null when HH = LL), slow
 * %K = SMA_smoothK(fast %K), %D = SMA_d(slow %K). Finite windows: partition-safe after k + smoothK + d − 3
 * rows. Max/min from sorted windows (engine/rolling.ts `RollingMedian`), SMAs from `RollingStats`.
 */
import { RollingMedian, RollingStats } from "../../../engine/rolling.js";
import { type JsonValue, stateObject, sub } from "./state.js";

export class Stoch {
  private readonly highs: RollingMedian;
  private readonly lows: RollingMedian;
  private readonly kSma: RollingStats;
  private readonly dSma: RollingStats;
  fastK = Number.NaN;
  k = Number.NaN;
  d = Number.NaN;
  constructor(
    readonly kRows = 14,
    readonly smoothK = 3,
    readonly dRows = 3,
  ) {
    this.highs = new RollingMedian(kRows);
    this.lows = new RollingMedian(kRows);
    this.kSma = new RollingStats(smoothK);
    this.dSma = new RollingStats(dRows);
  }
  get warmupRows(): number {
    return this.kRows + this.smoothK + this.dRows - 3;
  }
  push(high: number, low: number, close: number, rowKey = Number.NaN): void {
    this.highs.push(high);
    this.lows.push(low);
    const hh = this.highs.max();
    const ll = this.lows.min();
    this.fastK = hh > ll ? (100 * (close - ll)) / (hh - ll) : Number.NaN;
    this.kSma.push(this.fastK, rowKey);
    this.k = this.kSma.mean();
    this.dSma.push(this.k, rowKey);
    this.d = this.dSma.mean();
  }
  snapshot(): JsonValue {
    return {
      highs: this.highs.snapshot(),
      lows: this.lows.snapshot(),
      kSma: this.kSma.snapshot(),
      dSma: this.dSma.snapshot(),
    };
  }
  restore(state: JsonValue): void {
    const s = stateObject(state, "Stoch");
    this.highs.restore(sub(s, "highs", "Stoch"));
    this.lows.restore(sub(s, "lows", "Stoch"));
    this.kSma.restore(sub(s, "kSma", "Stoch"));
    this.dSma.restore(sub(s, "dSma", "Stoch"));
    this.k = this.kSma.mean();
    this.d = this.dSma.mean();
  }
}
