/**
 * Cumulative indicators anchored at the UTC day (the fix of the guide's first-row anchoring): the
 * sums restart at the first row whose bar starts on a new UTC day (`ts_event_us`), so a row's value depends
 * only on its own day's rows (and, for OBV, the previous row's close) — a run started anywhere before the
 * day gives the same values.
 * - OBV (Granville; TA-Lib `OBV`, StockCharts): Σ sign(C − C₋₁)·V over the day (the first row ever has no
 *   previous close: 0).
 * - VWAP (StockCharts, pandas-ta `vwap(anchor="D")`): Σ TP·V / Σ V over the day, TP = (H + L + C)/3; null
 *   while Σ V = 0.
 * - A/D line (Chaikin; TA-Lib `AD`, StockCharts): Σ MFM·V, MFM = ((C − L) − (H − C))/(H − L) (0 when
 *   H = L).
 * - CVD: Σ (taker buy − taker sell) volume over the day.
 * Rows with a null input add nothing (the sum keeps its value; VWAP/OBV stay defined).
 */
import { US_PER_DAY } from "../../../core/time.js";
import { type JsonValue, stateNumber, stateObject } from "./state.js";

/** Money-flow multiplier ((C − L) − (H − C))/(H − L), 0 when H = L (Chaikin). */
export function moneyFlowMultiplier(high: number, low: number, close: number): number {
  const r = high - low;
  return r > 0 ? (close - low - (high - close)) / r : r === 0 ? 0 : Number.NaN;
}

/** Day-anchored sums of one row stream (see the module doc). */
export class DayAnchored {
  private day = Number.NaN;
  private prevClose = Number.NaN;
  obv = 0;
  pv = 0;
  v = 0;
  ad = 0;
  cvd = 0;
  /** Starts a new day when `tsEventUs` is on another UTC day than the previous row. */
  push(tsEventUs: number, high: number, low: number, close: number, volume: number, delta: number): void {
    const day = Math.floor(tsEventUs / US_PER_DAY);
    if (day !== this.day) {
      this.day = day;
      this.obv = 0;
      this.pv = 0;
      this.v = 0;
      this.ad = 0;
      this.cvd = 0;
    }
    if (!Number.isNaN(close) && !Number.isNaN(volume)) {
      const dc = close - this.prevClose;
      if (dc > 0) this.obv += volume;
      else if (dc < 0) this.obv -= volume;
      if (!Number.isNaN(high + low)) {
        this.pv += ((high + low + close) / 3) * volume;
        this.v += volume;
        const m = moneyFlowMultiplier(high, low, close);
        if (!Number.isNaN(m)) this.ad += m * volume;
      }
    }
    if (!Number.isNaN(delta)) this.cvd += delta;
    if (!Number.isNaN(close)) this.prevClose = close;
  }
  get vwap(): number {
    return this.v > 0 ? this.pv / this.v : Number.NaN;
  }
  snapshot(): JsonValue {
    return {
      day: Number.isNaN(this.day) ? null : this.day,
      prevClose: Number.isNaN(this.prevClose) ? null : this.prevClose,
      obv: this.obv,
      pv: this.pv,
      v: this.v,
      ad: this.ad,
      cvd: this.cvd,
    };
  }
  restore(state: JsonValue): void {
    const s = stateObject(state, "DayAnchored");
    this.day = stateNumber(s, "day");
    this.prevClose = stateNumber(s, "prevClose");
    this.obv = stateNumber(s, "obv");
    this.pv = stateNumber(s, "pv");
    this.v = stateNumber(s, "v");
    this.ad = stateNumber(s, "ad");
    this.cvd = stateNumber(s, "cvd");
  }
}
