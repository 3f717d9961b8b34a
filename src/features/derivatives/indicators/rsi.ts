/**
 * RSI (Wilder 1978, "New Concepts in Technical Trading Systems"; TA-Lib `RSI`, StockCharts): the Wilder
 * averages G, L of the gains max(Δc, 0) and losses max(−Δc, 0) of consecutive closes, RSI = 100·G/(G+L)
 * (= 100 − 100/(1 + G/L)); null when G + L = 0 (flat window; TA-Lib returns 0 there). Seeding: `Ema`
 * (Wilder α = 1/n; `"window"` in the preset, `"sma"` = TA-Lib/StockCharts). Warm-up: the averages' warm-up
 * plus one row (the first close has no change).
 */
import { Ema, type EmaSeed } from "./ema.js";
import { type JsonValue, stateNumber, stateObject, sub } from "./state.js";

export class Rsi {
  private readonly gain: Ema;
  private readonly loss: Ema;
  private prev = Number.NaN;
  constructor(
    readonly period: number,
    seed: EmaSeed = "window",
  ) {
    this.gain = new Ema(period, { wilder: true, seed });
    this.loss = new Ema(period, { wilder: true, seed });
  }
  get warmupRows(): number {
    return this.gain.warmupRows + 1;
  }
  push(close: number, rowKey = Number.NaN): void {
    const d = close - this.prev;
    this.prev = close;
    if (Number.isNaN(d)) {
      // no change yet (first close) or a null close: the averages restart
      if (Number.isNaN(close)) {
        this.gain.push(Number.NaN, rowKey);
        this.loss.push(Number.NaN, rowKey);
      }
      return;
    }
    this.gain.push(Math.max(d, 0), rowKey);
    this.loss.push(d < 0 ? -d : 0, rowKey);
  }
  value(): number {
    const g = this.gain.value();
    const l = this.loss.value();
    return g + l > 0 ? (100 * g) / (g + l) : Number.NaN;
  }
  snapshot(): JsonValue {
    return {
      prev: Number.isNaN(this.prev) ? null : this.prev,
      gain: this.gain.snapshot(),
      loss: this.loss.snapshot(),
    };
  }
  restore(state: JsonValue): void {
    const s = stateObject(state, "Rsi");
    this.prev = stateNumber(s, "prev");
    this.gain.restore(sub(s, "gain", "Rsi"));
    this.loss.restore(sub(s, "loss", "Rsi"));
  }
}
