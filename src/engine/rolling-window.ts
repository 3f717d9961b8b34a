/**
 * The window bookkeeping shared by the rolling order statistics (`RollingMedian` in rolling.ts,
 * `RollingOrderStats` in order-stats.ts): a ring of the last `windowRows` pushed values (NaN = null), the
 * count of NaNs in the window, and the snapshot format `{ w, pushed, vals }` (the window oldest first).
 * A subclass keeps the window's non-NaN values in a sorted structure through `insertValue` /
 * `removeValue` / `clearValues`; a restore replays the stored window into it, so the structure's internal
 * layout never enters a snapshot. No allocation per push.
 */
import { type JsonValue, numbersToJson, stateNumber, stateNumbers, stateObject } from "./operator.js";

export abstract class RollingValueWindow {
  private readonly ring: Float64Array;
  private pos = 0;
  private pushed = 0;
  private nanInWindow = 0;

  /** @throws RangeError if windowRows < 1. */
  constructor(
    readonly windowRows: number,
    private readonly stateLabel: string,
  ) {
    if (!Number.isInteger(windowRows) || windowRows < 1)
      throw new RangeError(`windowRows must be ≥ 1, got ${windowRows}`);
    this.ring = new Float64Array(windowRows);
  }

  /** Adds a non-NaN value to the sorted structure. */
  protected abstract insertValue(x: number): void;
  /** Removes one copy of a non-NaN value held by the sorted structure. */
  protected abstract removeValue(x: number): void;
  /** Empties the sorted structure. */
  protected abstract clearValues(): void;

  /** Pushes the next row's value (NaN = null); the value w pushes ago leaves the window. */
  push(x: number): void {
    const w = this.windowRows;
    if (this.pushed >= w) {
      const old = this.ring[this.pos]!;
      if (Number.isNaN(old)) this.nanInWindow--;
      else this.removeValue(old);
    }
    this.ring[this.pos] = x;
    if (Number.isNaN(x)) this.nanInWindow++;
    else this.insertValue(x);
    this.pos = this.pos + 1 === w ? 0 : this.pos + 1;
    this.pushed++;
  }

  /** True when the window holds w values and none is NaN. */
  get full(): boolean {
    return this.pushed >= this.windowRows && this.nanInWindow === 0;
  }

  /** The latest value pushed (NaN before the first). */
  latest(): number {
    if (this.pushed === 0) return Number.NaN;
    return this.ring[this.pos === 0 ? this.windowRows - 1 : this.pos - 1]!;
  }

  snapshot(): JsonValue {
    const n = Math.min(this.pushed, this.windowRows);
    const vals: number[] = [];
    for (let k = n - 1; k >= 0; k--) {
      let p = this.pos - 1 - k;
      if (p < 0) p += this.windowRows;
      vals.push(this.ring[p]!);
    }
    return { w: this.windowRows, pushed: this.pushed, vals: numbersToJson(vals) };
  }

  /** @throws RangeError on another window size; TypeError on a malformed state. */
  restore(state: JsonValue): void {
    const s = stateObject(state, this.stateLabel);
    if (stateNumber(s, "w") !== this.windowRows)
      throw new RangeError(`${this.stateLabel}: window size differs from snapshot`);
    this.pushed = 0;
    this.pos = 0;
    this.nanInWindow = 0;
    this.clearValues();
    for (const v of stateNumbers(s, "vals")) this.push(v);
    this.pushed = stateNumber(s, "pushed");
  }
}
