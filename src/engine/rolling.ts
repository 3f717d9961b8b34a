/**
 * Rolling statistics over the last `windowRows` values (spine rows), O(1) amortised per push, bounded
 * memory (one ring buffer of `windowRows` float64).
 *
 * Semantics match Polars' `rolling_sum/mean/std(window_size=w)` with the default `min_periods = w`: a
 * statistic is NaN (null) until w values were pushed and whenever any value in the window is NaN.
 * `std` is the sample standard deviation (ddof = 1).
 *
 * Exactness rule: sums are running sums of values shifted by a pivot (the first value of the window at
 * the last rebuild). Integer inputs whose shifted partial sums stay below 2^53 are summed exactly.
 * Float inputs accumulate rounding error, so the sums are rebuilt from the ring once every `windowRows`
 * pushes (amortised O(1)); the error is bounded by ~w·ε relative to the window's scale.
 *
 * Partition safety: pass the spine row's `barIndex` as `rowKey`. Rebuilds then happen at rows whose key is
 * a multiple of w — the same rows whatever the replay start — so two runs that both hold a full window at
 * such a row agree bitwise from there on (at most 2w − 1 rows after their first common row). Without a key
 * the rebuild schedule counts pushes, which depends on the start.
 */

import { type JsonValue, numbersToJson, stateNumber, stateNumbers, stateObject } from "./operator.js";
import { RollingValueWindow } from "./rolling-window.js";

/** Rolling sum / mean / sample std over the last `windowRows` pushes (see the module doc). */
export class RollingStats {
  private readonly ring: Float64Array;
  private pos = 0;
  private pushed = 0;
  private nanInWindow = 0;
  private pivot = 0;
  private s1 = 0;
  private s2 = 0;
  private sinceRebuild = 0;
  /** Length of the run of identical values ending at the latest push (capped at w): constant windows. */
  private run = 0;

  /** @throws RangeError if windowRows < 1. */
  constructor(readonly windowRows: number) {
    if (!Number.isInteger(windowRows) || windowRows < 1)
      throw new RangeError(`windowRows must be ≥ 1, got ${windowRows}`);
    this.ring = new Float64Array(windowRows);
  }

  /** Pushes the value of the next row (`rowKey`: the row's barIndex, see the class doc). */
  push(x: number, rowKey = Number.NaN): void {
    const w = this.windowRows;
    if (this.pushed >= w) {
      const old = this.ring[this.pos]!;
      if (Number.isNaN(old)) this.nanInWindow--;
      else {
        const d = old - this.pivot;
        this.s1 -= d;
        this.s2 -= d * d;
      }
    }
    const prev = this.pushed > 0 ? this.lag(0) : Number.NaN;
    this.run = x === prev ? Math.min(this.run + 1, w) : 1;
    this.ring[this.pos] = x;
    if (Number.isNaN(x)) this.nanInWindow++;
    else {
      const d = x - this.pivot;
      this.s1 += d;
      this.s2 += d * d;
    }
    this.pos = this.pos + 1 === w ? 0 : this.pos + 1;
    this.pushed++;
    this.sinceRebuild++;
    if (Number.isNaN(rowKey) ? this.sinceRebuild >= w : rowKey % w === 0) this.rebuild();
  }

  /** True when the window holds w values and none is NaN. */
  get full(): boolean {
    return this.pushed >= this.windowRows && this.nanInWindow === 0;
  }

  /** The value pushed `lag` pushes ago (0 = latest); NaN if not available. */
  lag(lag: number): number {
    if (lag >= this.windowRows || lag >= this.pushed) return Number.NaN;
    let p = this.pos - 1 - lag;
    if (p < 0) p += this.windowRows;
    return this.ring[p]!;
  }

  sum(): number {
    return this.full ? this.s1 + this.pivot * this.windowRows : Number.NaN;
  }

  /** Σ / w: exact for integer inputs (the sum is exact below 2^53), one rounding otherwise. */
  mean(): number {
    return this.full ? (this.s1 + this.pivot * this.windowRows) / this.windowRows : Number.NaN;
  }

  /**
   * Population standard deviation (ddof = 0, TA-Lib / StockCharts Bollinger bands); NaN when not full.
   * (w·S2 − S1²) / w², like `std`.
   */
  popStd(): number {
    const w = this.windowRows;
    if (!this.full) return Number.NaN;
    if (this.run >= w) return 0;
    const v = (w * this.s2 - this.s1 * this.s1) / (w * w);
    return v > 0 ? Math.sqrt(v) : 0;
  }

  /** Sample standard deviation (ddof = 1); NaN when not full or w < 2. */
  std(): number {
    const w = this.windowRows;
    if (!this.full || w < 2) return Number.NaN;
    if (this.run >= w) return 0; // constant window: exactly 0, whatever rounding the running sums carry
    // (w·S2 − S1²) / (w(w − 1)): exact up to the final division when the shifted sums are integers and
    // the products stay below 2^53 (integer inputs such as depths); otherwise the same formula rounded.
    const a = w * this.s2;
    const b = this.s1 * this.s1;
    const v = (a - b) / (w * (w - 1));
    return v > 0 ? Math.sqrt(v) : 0;
  }

  private rebuild(): void {
    this.sinceRebuild = 0;
    const w = this.windowRows;
    const n = Math.min(this.pushed, w);
    // oldest value in the window becomes the pivot
    const oldestPos = this.pushed >= w ? this.pos : 0;
    let pivot = Number.NaN;
    for (let k = 0; k < n && Number.isNaN(pivot); k++) pivot = this.ring[(oldestPos + k) % w]!;
    this.pivot = Number.isNaN(pivot) ? 0 : pivot;
    let s1 = 0;
    let s2 = 0;
    for (let k = 0; k < n; k++) {
      const x = this.ring[(oldestPos + k) % w]!;
      if (Number.isNaN(x)) continue;
      const d = x - this.pivot;
      s1 += d;
      s2 += d * d;
    }
    this.s1 = s1;
    this.s2 = s2;
  }

  snapshot(): JsonValue {
    // store the window oldest→newest; restore replays it, which rebuilds sums identically
    const n = Math.min(this.pushed, this.windowRows);
    const vals: number[] = [];
    for (let k = n - 1; k >= 0; k--) vals.push(this.lag(k));
    return {
      w: this.windowRows,
      pushed: this.pushed,
      vals: numbersToJson(vals),
      pivot: this.pivot,
      s1: this.s1,
      s2: this.s2,
      since: this.sinceRebuild,
      run: this.run,
    };
  }

  restore(state: JsonValue): void {
    const s = stateObject(state, "RollingStats");
    if (stateNumber(s, "w") !== this.windowRows)
      throw new RangeError("RollingStats: window size differs from snapshot");
    const vals = stateNumbers(s, "vals");
    this.ring.fill(0);
    this.nanInWindow = 0;
    for (let k = 0; k < vals.length; k++) {
      this.ring[k % this.windowRows] = vals[k]!;
      if (Number.isNaN(vals[k]!)) this.nanInWindow++;
    }
    this.pushed = stateNumber(s, "pushed");
    this.pos = vals.length % this.windowRows;
    // keep the ring's logical order: oldest at pos when full
    if (this.pushed >= this.windowRows) this.pos = 0;
    this.pivot = stateNumber(s, "pivot");
    this.s1 = stateNumber(s, "s1");
    this.s2 = stateNumber(s, "s2");
    this.sinceRebuild = stateNumber(s, "since");
    this.run = stateNumber(s, "run");
  }
}

/**
 * Rolling order statistics over the last `windowRows` values — median (Polars `rolling_median(w)`,
 * min_periods = w), min, max and percentile rank — from one sorted copy of the window: NaN until full or
 * while any value in the window is NaN. Binary search (O(log w)) plus an O(w) memmove of at most w doubles
 * per push (w ≤ a few hundred rows here).
 */
export class RollingMedian extends RollingValueWindow {
  private readonly sorted: Float64Array;
  private nSorted = 0;

  /** @throws RangeError if windowRows < 1. */
  constructor(windowRows: number) {
    super(windowRows, "RollingMedian");
    this.sorted = new Float64Array(windowRows);
  }

  median(): number {
    if (!this.full) return Number.NaN;
    const n = this.nSorted;
    const h = n >> 1;
    return n % 2 === 1 ? this.sorted[h]! : (this.sorted[h - 1]! + this.sorted[h]!) / 2;
  }

  /** Largest value of the window (NaN unless `full`). O(1). */
  max(): number {
    return this.full ? this.sorted[this.nSorted - 1]! : Number.NaN;
  }

  /** Smallest value of the window (NaN unless `full`). O(1). */
  min(): number {
    return this.full ? this.sorted[0]! : Number.NaN;
  }

  /**
   * Percentile rank of `x` in the window, pandas `rank(pct=True)` with average ties: (number of values
   * < x + (number of values = x, counting x once if it is in the window) / 2 + ½) / w — for `x` the latest
   * value: its average 1-based rank / w. NaN unless `full`. O(log w).
   */
  rankPct(x: number): number {
    if (!this.full || Number.isNaN(x)) return Number.NaN;
    const lo = this.lowerBound(x);
    let hi = lo;
    while (hi < this.nSorted && this.sorted[hi] === x) hi++;
    // average 1-based rank of the tied block [lo, hi): (lo + 1 + hi) / 2
    return (lo + 1 + hi) / 2 / this.windowRows;
  }

  private lowerBound(x: number): number {
    let lo = 0;
    let hi = this.nSorted;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.sorted[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  protected override insertValue(x: number): void {
    const at = this.lowerBound(x);
    this.sorted.copyWithin(at + 1, at, this.nSorted);
    this.sorted[at] = x;
    this.nSorted++;
  }

  protected override removeValue(x: number): void {
    const at = this.lowerBound(x);
    this.sorted.copyWithin(at, at + 1, this.nSorted);
    this.nSorted--;
  }

  protected override clearValues(): void {
    this.nSorted = 0;
  }
}
