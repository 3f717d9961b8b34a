/**
 * Time-indexed helpers for features over wall-clock horizons (1 h, 4 h, 24 h, 7 d) on any spine:
 * - `AsOfHistory`: (time, value) points in time order; `at(t)` = the value of the last point with
 *   time ≤ t (as-of), NaN when no point is that old. Queries must not go back in time; points older than
 *   the one a query returned are dropped (memory: the points within the largest horizon queried).
 * - `TimeWindow`: events (time, a, b, c) with running sums over the events with time in (t − H, t] at
 *   query time t (exact for integer inputs such as qty increments; the float sums are re-added from the
 *   held events whenever the window changes, so they do not depend on events that left it).
 * Amortised O(1) per point / event and per query.
 */
import { type JsonValue, numbersToJson, stateNumber, stateNumbers, stateObject } from "./state.js";

/** A growable FIFO of float64 tuples. */
class Fifo {
  private buf: Float64Array;
  private head = 0;
  private tail = 0;
  constructor(readonly width: number) {
    this.buf = new Float64Array(width * 16);
  }
  get length(): number {
    return this.tail - this.head;
  }
  push(values: ArrayLike<number>): void {
    const w = this.width;
    if ((this.tail + 1) * w > this.buf.length) {
      const n = this.tail - this.head;
      const next = new Float64Array(Math.max(this.buf.length, (n + 1) * w * 2));
      next.set(this.buf.subarray(this.head * w, this.tail * w));
      this.buf = next;
      this.head = 0;
      this.tail = n;
    }
    for (let k = 0; k < w; k++) this.buf[this.tail * w + k] = values[k]!;
    this.tail++;
  }
  get(i: number, k: number): number {
    return this.buf[(this.head + i) * this.width + k]!;
  }
  shift(): void {
    this.head++;
    if (this.head === this.tail) {
      this.head = 0;
      this.tail = 0;
    }
  }
  toJson(): (number | null)[] {
    return numbersToJson(this.buf.subarray(this.head * this.width, this.tail * this.width));
  }
  fromJson(v: number[]): void {
    this.head = 0;
    this.tail = 0;
    for (let i = 0; i + this.width <= v.length; i += this.width) this.push(v.slice(i, i + this.width));
  }
}

export class AsOfHistory {
  private readonly pts = new Fifo(2);
  private readonly tmp = new Float64Array(2);
  push(tsUs: number, value: number): void {
    this.tmp[0] = tsUs;
    this.tmp[1] = value;
    this.pts.push(this.tmp);
  }
  /** Value of the last point with time ≤ `tsUs` (NaN if none). Drops the points before it. */
  at(tsUs: number): number {
    const p = this.pts;
    while (p.length >= 2 && p.get(1, 0) <= tsUs) p.shift();
    return p.length >= 1 && p.get(0, 0) <= tsUs ? p.get(0, 1) : Number.NaN;
  }
  snapshot(): JsonValue {
    return this.pts.toJson();
  }
  restore(state: JsonValue): void {
    if (!Array.isArray(state)) throw new TypeError("AsOfHistory state must be an array");
    this.pts.fromJson(state.map((x) => (x === null ? Number.NaN : (x as number))));
  }
}

/**
 * Several as-of histories queried at the same times (one per horizon) share a `LaggedValues`: the value as
 * of t − H_k for each horizon H_k, from one point list per horizon.
 */
export class LaggedValues {
  private readonly hist: AsOfHistory[];
  constructor(readonly horizonsUs: readonly number[]) {
    this.hist = horizonsUs.map(() => new AsOfHistory());
  }
  push(tsUs: number, value: number): void {
    for (const h of this.hist) h.push(tsUs, value);
  }
  /** Value as of `tsUs − horizonsUs[k]`. */
  at(k: number, tsUs: number): number {
    return this.hist[k]!.at(tsUs - this.horizonsUs[k]!);
  }
  snapshot(): JsonValue {
    return this.hist.map((h) => h.snapshot());
  }
  restore(state: JsonValue): void {
    if (!Array.isArray(state) || state.length !== this.hist.length) throw new TypeError("LaggedValues state");
    this.hist.forEach((h, k) => {
      h.restore(state[k]!);
    });
  }
}

export class TimeWindow {
  private readonly ev = new Fifo(4);
  private readonly tmp = new Float64Array(4);
  private dirty = false;
  /** Σ a, Σ b, Σ c over the events in the window at the last `query`. */
  a = 0;
  b = 0;
  c = 0;
  constructor(readonly horizonUs: number) {}
  get count(): number {
    return this.ev.length;
  }
  add(tsUs: number, a: number, b: number, c: number): void {
    this.tmp[0] = tsUs;
    this.tmp[1] = a;
    this.tmp[2] = b;
    this.tmp[3] = c;
    this.ev.push(this.tmp);
    this.dirty = true;
  }
  /** Drops events with time ≤ tsUs − H and recomputes the sums if the window changed. */
  query(tsUs: number): void {
    const lo = tsUs - this.horizonUs;
    while (this.ev.length > 0 && this.ev.get(0, 0) <= lo) {
      this.ev.shift();
      this.dirty = true;
    }
    if (!this.dirty) return;
    this.dirty = false;
    let a = 0;
    let b = 0;
    let c = 0;
    for (let i = 0; i < this.ev.length; i++) {
      a += this.ev.get(i, 1);
      b += this.ev.get(i, 2);
      c += this.ev.get(i, 3);
    }
    this.a = a;
    this.b = b;
    this.c = c;
  }
  snapshot(): JsonValue {
    return { ev: this.ev.toJson(), a: this.a, b: this.b, c: this.c, dirty: this.dirty };
  }
  restore(state: JsonValue): void {
    const s = stateObject(state, "TimeWindow");
    this.ev.fromJson(stateNumbers(s, "ev"));
    this.a = stateNumber(s, "a");
    this.b = stateNumber(s, "b");
    this.c = stateNumber(s, "c");
    this.dirty = s.dirty === true;
  }
}
