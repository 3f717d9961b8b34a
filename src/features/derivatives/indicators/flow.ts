/**
 * Windowed volume indicators over the last n rows (finite windows, `RollingStats` sums re-anchored on the
 * row key: partition-safe after 2n rows):
 * - MFI (Quong & Soudack; TA-Lib `MFI`, StockCharts): TP = (H + L + C)/3, raw flow TP·V, positive when TP
 *   > TP₋₁, negative when TP < TP₋₁ (neither on the first row); MFI = 100·Σpos/(Σpos + Σneg) over n rows
 *   (n flows: warm-up n rows); null when both sums are 0.
 * - CMF (Chaikin; pandas-ta `cmf`, StockCharts): Σ MFM·V / Σ V over n rows (MFM: cumulative.ts); null when
 *   Σ V = 0.
 */
import { RollingStats } from "../../../engine/rolling.js";
import { moneyFlowMultiplier } from "./cumulative.js";
import { type JsonValue, stateNumber, stateObject, sub } from "./state.js";

export class Mfi {
  private readonly pos: RollingStats;
  private readonly neg: RollingStats;
  private prevTp = Number.NaN;
  constructor(readonly period: number) {
    this.pos = new RollingStats(period);
    this.neg = new RollingStats(period);
  }
  get warmupRows(): number {
    return this.period;
  }
  push(high: number, low: number, close: number, volume: number, rowKey = Number.NaN): void {
    const tp = (high + low + close) / 3;
    if (Number.isNaN(this.prevTp) && !Number.isNaN(tp)) {
      this.prevTp = tp; // first row: no flow direction yet
      return;
    }
    const flow = tp * volume;
    this.pos.push(tp > this.prevTp ? flow : Number.isNaN(flow + this.prevTp) ? Number.NaN : 0, rowKey);
    this.neg.push(tp < this.prevTp ? flow : Number.isNaN(flow + this.prevTp) ? Number.NaN : 0, rowKey);
    this.prevTp = tp;
  }
  value(): number {
    const p = this.pos.sum();
    const n = this.neg.sum();
    return p + n > 0 ? (100 * p) / (p + n) : Number.NaN;
  }
  snapshot(): JsonValue {
    return {
      prevTp: Number.isNaN(this.prevTp) ? null : this.prevTp,
      pos: this.pos.snapshot(),
      neg: this.neg.snapshot(),
    };
  }
  restore(state: JsonValue): void {
    const s = stateObject(state, "Mfi");
    this.prevTp = stateNumber(s, "prevTp");
    this.pos.restore(sub(s, "pos", "Mfi"));
    this.neg.restore(sub(s, "neg", "Mfi"));
  }
}

export class Cmf {
  private readonly mfv: RollingStats;
  private readonly vol: RollingStats;
  constructor(readonly period: number) {
    this.mfv = new RollingStats(period);
    this.vol = new RollingStats(period);
  }
  get warmupRows(): number {
    return this.period - 1;
  }
  push(high: number, low: number, close: number, volume: number, rowKey = Number.NaN): void {
    this.mfv.push(moneyFlowMultiplier(high, low, close) * volume, rowKey);
    this.vol.push(volume, rowKey);
  }
  value(): number {
    const v = this.vol.sum();
    return v > 0 ? this.mfv.sum() / v : Number.NaN;
  }
  snapshot(): JsonValue {
    return { mfv: this.mfv.snapshot(), vol: this.vol.snapshot() };
  }
  restore(state: JsonValue): void {
    const s = stateObject(state, "Cmf");
    this.mfv.restore(sub(s, "mfv", "Cmf"));
    this.vol.restore(sub(s, "vol", "Cmf"));
  }
}
