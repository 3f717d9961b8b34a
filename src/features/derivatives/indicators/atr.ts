/**
 * True range and ATR (Wilder 1978; TA-Lib `TRANGE`/`ATR`/`NATR`, StockCharts): TR = max(H − L, |H − C₋₁|,
 * |L − C₋₁|), or H − L on a row without a previous close (StockCharts' first row; TA-Lib starts one row
 * later, which the `"window"` seeding makes irrelevant after warm-up); ATR = Wilder average of TR (`Ema`,
 * α = 1/n). A row with a null high, low or close gives a null TR (and restarts the average).
 */
import { Ema, type EmaSeed } from "./ema.js";
import { type JsonValue, stateNumber, stateObject, sub } from "./state.js";

/** True range of a bar given the previous close (NaN prevClose: H − L). */
export function trueRange(high: number, low: number, prevClose: number): number {
  const hl = high - low;
  if (Number.isNaN(prevClose)) return hl;
  return Math.max(hl, Math.abs(high - prevClose), Math.abs(low - prevClose));
}

export class Atr {
  private readonly avg: Ema;
  private prevClose = Number.NaN;
  constructor(
    readonly period: number,
    seed: EmaSeed = "window",
  ) {
    this.avg = new Ema(period, { wilder: true, seed });
  }
  get warmupRows(): number {
    return this.avg.warmupRows;
  }
  push(high: number, low: number, close: number, rowKey = Number.NaN): void {
    this.avg.push(trueRange(high, low, this.prevClose) + 0 * close, rowKey);
    this.prevClose = close;
  }
  value(): number {
    return this.avg.value();
  }
  snapshot(): JsonValue {
    return { prevClose: Number.isNaN(this.prevClose) ? null : this.prevClose, avg: this.avg.snapshot() };
  }
  restore(state: JsonValue): void {
    const s = stateObject(state, "Atr");
    this.prevClose = stateNumber(s, "prevClose");
    this.avg.restore(sub(s, "avg", "Atr"));
  }
}
