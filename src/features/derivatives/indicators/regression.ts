/**
 * Rolling least squares over the last w rows, O(1) per push:
 * - `LinReg`: slope and R² of y on x = 0 … w−1 (TA-Lib `LINEARREG_SLOPE`; R² = Sxy²/(Sxx·Syy), the square of
 *   TA-Lib's `CORREL` of y with the row index): slope = Sxy/Sxx, Sxx = w(w²−1)/12, Sxy = Σ x·y − x̄Σy.
 * - `RollingCorr`: Pearson correlation of two series (pandas `rolling(w).corr`, TA-Lib `CORREL`).
 * Both keep the window in rings, the sums shifted by a pivot (the window's first value at the last
 * re-anchoring) and re-anchor them exactly from the rings at rows whose key (barIndex) is a multiple of w,
 * like engine/rolling.ts: partition-safe after 2w − 1 rows. Null until w values and while any is null;
 * R² and the correlation are null when a variance is 0.
 */
import { type JsonValue, Ring, stateNumber, stateObject, sub } from "./state.js";

export class LinReg {
  private readonly ring: Ring;
  private pivot = 0;
  private sy = 0;
  private syy = 0;
  private sxy = 0;
  private nan = 0;
  private since = 0;
  /** The sums hold a full, null-free window. */
  private valid = false;
  constructor(readonly windowRows: number) {
    this.ring = new Ring(windowRows);
  }
  get warmupRows(): number {
    return this.windowRows - 1;
  }
  push(y: number, rowKey = Number.NaN): void {
    const w = this.windowRows;
    const full = this.ring.size === w;
    const out = this.ring.push(y);
    if (Number.isNaN(y)) this.nan++;
    if (full && Number.isNaN(out)) this.nan--;
    this.since++;
    if (this.nan > 0) {
      this.valid = false;
      return;
    }
    if (!this.valid || !full || (Number.isNaN(rowKey) ? this.since >= w : rowKey % w === 0)) {
      this.reanchor();
      this.valid = full;
    } else {
      // slide: indices shift down by one, the new value enters at x = w − 1
      const d = y - this.pivot;
      const o = out - this.pivot;
      this.sxy = this.sxy - (this.sy - o) + (w - 1) * d;
      this.sy += d - o;
      this.syy += d * d - o * o;
    }
  }
  private reanchor(): void {
    this.since = 0;
    const vals = this.ring.values();
    this.pivot = vals[0] ?? 0;
    let sy = 0;
    let syy = 0;
    let sxy = 0;
    for (let i = 0; i < vals.length; i++) {
      const d = vals[i]! - this.pivot;
      sy += d;
      syy += d * d;
      sxy += i * d;
    }
    this.sy = sy;
    this.syy = syy;
    this.sxy = sxy;
  }
  private get ready(): boolean {
    return this.ring.size === this.windowRows && this.nan === 0;
  }
  slope(): number {
    if (!this.ready) return Number.NaN;
    const w = this.windowRows;
    const sxx = (w * (w * w - 1)) / 12;
    return (this.sxy - ((w - 1) / 2) * this.sy) / sxx;
  }
  r2(): number {
    if (!this.ready) return Number.NaN;
    const w = this.windowRows;
    const sxx = (w * (w * w - 1)) / 12;
    const sxy = this.sxy - ((w - 1) / 2) * this.sy;
    const syy = this.syy - (this.sy * this.sy) / w;
    return syy > 0 ? Math.min(1, (sxy * sxy) / (sxx * syy)) : Number.NaN;
  }
  snapshot(): JsonValue {
    return {
      ring: this.ring.snapshot(),
      pivot: this.pivot,
      sy: this.sy,
      syy: this.syy,
      sxy: this.sxy,
      since: this.since,
      valid: this.valid,
    };
  }
  restore(state: JsonValue): void {
    const s = stateObject(state, "LinReg");
    this.ring.restore(sub(s, "ring", "LinReg"));
    this.nan = this.ring.values().filter(Number.isNaN).length;
    this.pivot = stateNumber(s, "pivot");
    this.sy = stateNumber(s, "sy");
    this.syy = stateNumber(s, "syy");
    this.sxy = stateNumber(s, "sxy");
    this.since = stateNumber(s, "since");
    this.valid = s.valid === true;
  }
}

export class RollingCorr {
  private readonly xs: Ring;
  private readonly ys: Ring;
  private px = 0;
  private py = 0;
  private sx = 0;
  private sy = 0;
  private sxx = 0;
  private syy = 0;
  private sxy = 0;
  private nan = 0;
  private since = 0;
  private valid = false;
  constructor(readonly windowRows: number) {
    this.xs = new Ring(windowRows);
    this.ys = new Ring(windowRows);
  }
  get warmupRows(): number {
    return this.windowRows - 1;
  }
  push(x: number, y: number, rowKey = Number.NaN): void {
    const w = this.windowRows;
    const full = this.xs.size === w;
    const ox = this.xs.push(x);
    const oy = this.ys.push(y);
    if (Number.isNaN(x + y)) this.nan++;
    if (full && Number.isNaN(ox + oy)) this.nan--;
    this.since++;
    if (this.nan > 0) {
      this.valid = false;
      return;
    }
    if (!this.valid || !full || (Number.isNaN(rowKey) ? this.since >= w : rowKey % w === 0)) {
      this.reanchor();
      this.valid = full;
    } else {
      const dx = x - this.px;
      const dy = y - this.py;
      const qx = ox - this.px;
      const qy = oy - this.py;
      this.sx += dx - qx;
      this.sy += dy - qy;
      this.sxx += dx * dx - qx * qx;
      this.syy += dy * dy - qy * qy;
      this.sxy += dx * dy - qx * qy;
    }
  }
  private reanchor(): void {
    this.since = 0;
    const xs = this.xs.values();
    const ys = this.ys.values();
    this.px = xs[0] ?? 0;
    this.py = ys[0] ?? 0;
    let sx = 0;
    let sy = 0;
    let sxx = 0;
    let syy = 0;
    let sxy = 0;
    for (let i = 0; i < xs.length; i++) {
      const dx = xs[i]! - this.px;
      const dy = ys[i]! - this.py;
      sx += dx;
      sy += dy;
      sxx += dx * dx;
      syy += dy * dy;
      sxy += dx * dy;
    }
    this.sx = sx;
    this.sy = sy;
    this.sxx = sxx;
    this.syy = syy;
    this.sxy = sxy;
  }
  value(): number {
    const w = this.windowRows;
    if (this.xs.size < w || this.nan > 0) return Number.NaN;
    const vx = this.sxx - (this.sx * this.sx) / w;
    const vy = this.syy - (this.sy * this.sy) / w;
    if (!(vx > 0 && vy > 0)) return Number.NaN;
    const c = (this.sxy - (this.sx * this.sy) / w) / Math.sqrt(vx * vy);
    return Math.max(-1, Math.min(1, c));
  }
  snapshot(): JsonValue {
    return {
      xs: this.xs.snapshot(),
      ys: this.ys.snapshot(),
      p: [this.px, this.py, this.sx, this.sy, this.sxx, this.syy, this.sxy],
      since: this.since,
      valid: this.valid,
    };
  }
  restore(state: JsonValue): void {
    const s = stateObject(state, "RollingCorr");
    this.xs.restore(sub(s, "xs", "RollingCorr"));
    this.ys.restore(sub(s, "ys", "RollingCorr"));
    const xs = this.xs.values();
    const ys = this.ys.values();
    this.nan = xs.filter((v, i) => Number.isNaN(v + ys[i]!)).length;
    const p = sub(s, "p", "RollingCorr") as number[];
    [this.px, this.py, this.sx, this.sy, this.sxx, this.syy, this.sxy] = p.map((v) =>
      v === null ? Number.NaN : v,
    ) as [number, number, number, number, number, number, number];
    this.since = stateNumber(s, "since");
    this.valid = s.valid === true;
  }
}
