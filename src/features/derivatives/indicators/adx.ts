/**
 * ADX with +DI / −DI (Wilder 1978; TA-Lib `ADX`/`PLUS_DI`/`MINUS_DI`, StockCharts): from the second bar,
 * up = H − H₋₁, down = L₋₁ − L, +DM = up if up > down and up > 0 else 0, −DM = down if down > up and
 * down > 0 else 0, TR as atr.ts; Wilder averages (α = 1/n) of TR, +DM, −DM give +DI = 100·+DM̄/TR̄,
 * −DI = 100·−DM̄/TR̄; DX = 100·|+DI − −DI|/(+DI + −DI) (null when both are 0); ADX = Wilder average of DX.
 * (Wilder's running sums S ← S − S/n + x are n × these averages: the ratios are identical.) Seeding:
 * `Ema` (`"window"` in the preset, `"sma"` = TA-Lib/StockCharts). Warm-up: 1 + the averages' + DX's.
 */
import { trueRange } from "./atr.js";
import { Ema, type EmaSeed } from "./ema.js";
import { type JsonValue, stateNumber, stateObject, sub } from "./state.js";

export class Adx {
  private readonly tr: Ema;
  private readonly pdm: Ema;
  private readonly mdm: Ema;
  private readonly adx: Ema;
  private ph = Number.NaN;
  private pl = Number.NaN;
  private pc = Number.NaN;
  plusDi = Number.NaN;
  minusDi = Number.NaN;
  constructor(
    readonly period: number,
    seed: EmaSeed = "window",
  ) {
    const o = { wilder: true, seed } as const;
    this.tr = new Ema(period, o);
    this.pdm = new Ema(period, o);
    this.mdm = new Ema(period, o);
    this.adx = new Ema(period, o);
  }
  get warmupRows(): number {
    return 1 + this.tr.warmupRows + this.adx.warmupRows;
  }
  push(high: number, low: number, close: number, rowKey = Number.NaN): void {
    if (!Number.isNaN(this.pc) || Number.isNaN(high + low + close)) {
      const up = high - this.ph;
      const down = this.pl - low;
      this.tr.push(Number.isNaN(this.pc) ? Number.NaN : trueRange(high, low, this.pc), rowKey);
      this.pdm.push(up > down && up > 0 ? up : Number.isNaN(up + down) ? Number.NaN : 0, rowKey);
      this.mdm.push(down > up && down > 0 ? down : Number.isNaN(up + down) ? Number.NaN : 0, rowKey);
      const t = this.tr.value();
      this.plusDi = (100 * this.pdm.value()) / t;
      this.minusDi = (100 * this.mdm.value()) / t;
      const sum = this.plusDi + this.minusDi;
      const dx = sum > 0 ? (100 * Math.abs(this.plusDi - this.minusDi)) / sum : Number.NaN;
      if (!Number.isNaN(dx) || Number.isNaN(t)) this.adx.push(dx, rowKey);
    }
    this.ph = high;
    this.pl = low;
    this.pc = close;
  }
  value(): number {
    return this.adx.value();
  }
  snapshot(): JsonValue {
    const n = (x: number) => (Number.isNaN(x) ? null : x);
    return {
      ph: n(this.ph),
      pl: n(this.pl),
      pc: n(this.pc),
      tr: this.tr.snapshot(),
      pdm: this.pdm.snapshot(),
      mdm: this.mdm.snapshot(),
      adx: this.adx.snapshot(),
    };
  }
  restore(state: JsonValue): void {
    const s = stateObject(state, "Adx");
    this.ph = stateNumber(s, "ph");
    this.pl = stateNumber(s, "pl");
    this.pc = stateNumber(s, "pc");
    this.tr.restore(sub(s, "tr", "Adx"));
    this.pdm.restore(sub(s, "pdm", "Adx"));
    this.mdm.restore(sub(s, "mdm", "Adx"));
    this.adx.restore(sub(s, "adx", "Adx"));
    const t = this.tr.value();
    this.plusDi = (100 * this.pdm.value()) / t;
    this.minusDi = (100 * this.mdm.value()) / t;
  }
}
