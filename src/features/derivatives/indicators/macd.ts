/**
 * MACD (Appel; TA-Lib `MACD`, StockCharts): macd = EMA_fast(close) − EMA_slow(close), signal =
 * EMA_signal(macd), histogram = macd − signal (defaults 12, 26, 9; α = 2/(n+1)). Seeding: `Ema`
 * (`"window"` in the preset; `"first"` = pandas ewm(adjust=False) as the StockCharts sheet; `"sma"` =
 * TA-Lib-style SMA seeds). Warm-up: the slow EMA's, then the signal EMA's.
 */
import { Ema, type EmaSeed } from "./ema.js";
import { type JsonValue, stateObject, sub } from "./state.js";

export class Macd {
  readonly fast: Ema;
  readonly slow: Ema;
  readonly signal: Ema;
  macd = Number.NaN;
  sig = Number.NaN;
  constructor(fast = 12, slow = 26, signal = 9, seed: EmaSeed = "window") {
    this.fast = new Ema(fast, { seed });
    this.slow = new Ema(slow, { seed });
    this.signal = new Ema(signal, { seed });
  }
  get warmupRows(): number {
    return Math.max(this.fast.warmupRows, this.slow.warmupRows) + this.signal.warmupRows;
  }
  push(x: number, rowKey = Number.NaN): void {
    this.fast.push(x, rowKey);
    this.slow.push(x, rowKey);
    this.macd = this.fast.value() - this.slow.value();
    // the signal averages the macd line only once it exists (a null resets it)
    if (!Number.isNaN(this.macd) || !Number.isNaN(this.sig)) this.signal.push(this.macd, rowKey);
    this.sig = this.signal.value();
  }
  get histogram(): number {
    return this.macd - this.sig;
  }
  snapshot(): JsonValue {
    return { fast: this.fast.snapshot(), slow: this.slow.snapshot(), signal: this.signal.snapshot() };
  }
  restore(state: JsonValue): void {
    const s = stateObject(state, "Macd");
    this.fast.restore(sub(s, "fast", "Macd"));
    this.slow.restore(sub(s, "slow", "Macd"));
    this.signal.restore(sub(s, "signal", "Macd"));
    this.macd = this.fast.value() - this.slow.value();
    this.sig = this.signal.value();
  }
}
