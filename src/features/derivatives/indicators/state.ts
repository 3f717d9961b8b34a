/** Small helpers for the indicators' JSON state (snapshot / restore). */
import {
  type JsonValue,
  numbersToJson,
  numberToJson,
  stateField,
  stateNumber,
  stateNumbers,
  stateObject,
} from "../../../engine/operator.js";

export type { JsonValue };
export { numbersToJson, numberToJson, stateNumber, stateNumbers, stateObject };
/** A sub-state field (engine/operator.ts `stateField`). */
export const sub = stateField;

/**
 * A fixed-capacity ring of float64 values (oldest evicted): O(1) push, `lag(k)` = the value pushed k
 * pushes ago. State: the values oldest → newest.
 */
export class Ring {
  private readonly buf: Float64Array;
  private pos = 0;
  /** Values held (≤ capacity). */
  size = 0;
  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError(`ring capacity must be ≥ 1, got ${capacity}`);
    this.buf = new Float64Array(capacity);
  }
  /** Pushes `x`; returns the evicted value (NaN when none was evicted). */
  push(x: number): number {
    const out = this.size === this.capacity ? this.buf[this.pos]! : Number.NaN;
    this.buf[this.pos] = x;
    this.pos = this.pos + 1 === this.capacity ? 0 : this.pos + 1;
    if (this.size < this.capacity) this.size++;
    return out;
  }
  /** The value pushed `k` pushes ago (0 = latest); NaN if not held. */
  lag(k: number): number {
    if (k >= this.size) return Number.NaN;
    let p = this.pos - 1 - k;
    if (p < 0) p += this.capacity;
    return this.buf[p]!;
  }
  /** Values oldest → newest. */
  values(): number[] {
    const out: number[] = [];
    for (let k = this.size - 1; k >= 0; k--) out.push(this.lag(k));
    return out;
  }
  clear(): void {
    this.pos = 0;
    this.size = 0;
  }
  snapshot(): JsonValue {
    return numbersToJson(this.values());
  }
  restore(state: JsonValue): void {
    if (!Array.isArray(state)) throw new TypeError("ring state must be an array");
    this.clear();
    for (const v of state) this.push(v === null ? Number.NaN : (v as number));
  }
}
