/**
 * Rolling order statistics over the last `windowRows` values, O(log w) expected per push and per query,
 * bounded memory (typed arrays of w + 1 nodes, no allocation per push):
 *
 * - `RollingOrderStats`: rank of the latest value (share of the window ≤ it) and the median, as Polars /
 *   pandas `rolling(w).rank(pct=True, method="max")` and `rolling(w).median()` with `min_periods = w`: NaN
 *   until w values were pushed and while any value in the window is NaN;
 * - `RollingExtreme`: rolling max or min by a monotonic deque (O(1) amortised), same NaN rule.
 *
 * `RollingOrderStats` keeps the window's non-NaN values in a treap (a binary search tree balanced by
 * random priorities; subtree sizes give ranks and k-th elements). Priorities come from a fixed-seed
 * generator: the tree's shape never changes a result (ranks and order statistics depend only on the
 * multiset of values), so snapshots store only the window and `restore` rebuilds the tree.
 *
 * Exactness: ranks are counts divided by w (one rounding); the median of an even window is
 * (a + b) / 2 of the two middle values (one rounding), as Polars.
 */
import { type JsonValue, stateNumber, stateNumbers, stateObject } from "./operator.js";
import { RollingValueWindow } from "./rolling-window.js";

const NIL = 0;

/** An order-statistic multiset of float64 values (treap over typed arrays; node 0 is the nil sentinel). */
export class OrderStatTree {
  private readonly key: Float64Array;
  private readonly prio: Uint32Array;
  private readonly left: Int32Array;
  private readonly right: Int32Array;
  private readonly size: Int32Array;
  private readonly free: Int32Array;
  private nFree: number;
  private root = NIL;
  private seed = 0x9e3779b9;

  /** @param capacity the most values held at once. */
  constructor(readonly capacity: number) {
    const n = capacity + 1;
    this.key = new Float64Array(n);
    this.prio = new Uint32Array(n);
    this.left = new Int32Array(n);
    this.right = new Int32Array(n);
    this.size = new Int32Array(n);
    this.free = new Int32Array(capacity);
    for (let k = 0; k < capacity; k++) this.free[k] = capacity - k;
    this.nFree = capacity;
  }

  /** Number of values held. */
  get count(): number {
    return this.size[this.root]!;
  }

  /** Removes every value. */
  clear(): void {
    this.root = NIL;
    for (let k = 0; k < this.capacity; k++) this.free[k] = this.capacity - k;
    this.nFree = this.capacity;
  }

  private nextPrio(): number {
    // xorshift32: deterministic, never 0
    let x = this.seed;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.seed = x >>> 0;
    return this.seed;
  }

  private pull(t: number): void {
    this.size[t] = this.size[this.left[t]!]! + this.size[this.right[t]!]! + 1;
  }

  private rotateRight(t: number): number {
    const l = this.left[t]!;
    this.left[t] = this.right[l]!;
    this.right[l] = t;
    this.pull(t);
    this.pull(l);
    return l;
  }

  private rotateLeft(t: number): number {
    const r = this.right[t]!;
    this.right[t] = this.left[r]!;
    this.left[r] = t;
    this.pull(t);
    this.pull(r);
    return r;
  }

  private insertAt(t: number, node: number): number {
    if (t === NIL) return node;
    if (this.key[node]! < this.key[t]!) {
      this.left[t] = this.insertAt(this.left[t]!, node);
      this.pull(t);
      if (this.prio[this.left[t]!]! > this.prio[t]!) t = this.rotateRight(t);
    } else {
      this.right[t] = this.insertAt(this.right[t]!, node);
      this.pull(t);
      if (this.prio[this.right[t]!]! > this.prio[t]!) t = this.rotateLeft(t);
    }
    return t;
  }

  /** Adds `x` (not NaN). @throws RangeError when full. */
  insert(x: number): void {
    if (this.nFree === 0) throw new RangeError("OrderStatTree: capacity exceeded");
    const node = this.free[--this.nFree]!;
    this.key[node] = x;
    this.prio[node] = this.nextPrio();
    this.left[node] = NIL;
    this.right[node] = NIL;
    this.size[node] = 1;
    this.root = this.insertAt(this.root, node);
  }

  private merge(a: number, b: number): number {
    if (a === NIL) return b;
    if (b === NIL) return a;
    if (this.prio[a]! > this.prio[b]!) {
      this.right[a] = this.merge(this.right[a]!, b);
      this.pull(a);
      return a;
    }
    this.left[b] = this.merge(a, this.left[b]!);
    this.pull(b);
    return b;
  }

  private removeAt(t: number, x: number): number {
    if (t === NIL) throw new RangeError(`OrderStatTree: value ${x} not held`);
    const k = this.key[t]!;
    if (x === k) {
      const m = this.merge(this.left[t]!, this.right[t]!);
      this.free[this.nFree++] = t;
      return m;
    }
    if (x < k) this.left[t] = this.removeAt(this.left[t]!, x);
    else this.right[t] = this.removeAt(this.right[t]!, x);
    this.pull(t);
    return t;
  }

  /** Removes one instance of `x`. @throws RangeError if `x` is not held. */
  remove(x: number): void {
    this.root = this.removeAt(this.root, x);
  }

  /** Number of held values ≤ x. */
  countLessOrEqual(x: number): number {
    let t = this.root;
    let n = 0;
    while (t !== NIL) {
      if (this.key[t]! <= x) {
        n += this.size[this.left[t]!]! + 1;
        t = this.right[t]!;
      } else t = this.left[t]!;
    }
    return n;
  }

  /** The k-th smallest held value (0-based). @throws RangeError if k is out of range. */
  kth(k: number): number {
    if (!(k >= 0 && k < this.count)) throw new RangeError(`OrderStatTree: no element ${k}`);
    let t = this.root;
    for (;;) {
      const ls = this.size[this.left[t]!]!;
      if (k < ls) t = this.left[t]!;
      else if (k === ls) return this.key[t]!;
      else {
        k -= ls + 1;
        t = this.right[t]!;
      }
    }
  }
}

/** Rolling rank and median over the last `windowRows` pushes (see the module doc). */
export class RollingOrderStats extends RollingValueWindow {
  private readonly tree: OrderStatTree;

  /** @throws RangeError if windowRows < 1. */
  constructor(windowRows: number) {
    super(windowRows, "RollingOrderStats");
    this.tree = new OrderStatTree(windowRows);
  }

  protected override insertValue(x: number): void {
    this.tree.insert(x);
  }

  protected override removeValue(x: number): void {
    this.tree.remove(x);
  }

  protected override clearValues(): void {
    this.tree.clear();
  }

  /** Share of the window's values ≤ the latest value, in (0, 1]; NaN unless `full`. */
  rankOfLatest(): number {
    if (!this.full) return Number.NaN;
    return this.tree.countLessOrEqual(this.latest()) / this.windowRows;
  }

  /** Median of the window; NaN unless `full`. */
  median(): number {
    if (!this.full) return Number.NaN;
    const n = this.windowRows;
    const h = n >> 1;
    return n % 2 === 1 ? this.tree.kth(h) : (this.tree.kth(h - 1) + this.tree.kth(h)) / 2;
  }
}

/**
 * Rolling max (`kind` "max") or min over the last `windowRows` pushes by a monotonic deque: O(1)
 * amortised per push. NaN until w values were pushed and while any value in the window is NaN.
 */
export class RollingExtreme {
  /** Deque of push indices (ring of capacity w) whose values are monotone. */
  private readonly idx: Float64Array;
  private readonly val: Float64Array;
  private head = 0;
  private len = 0;
  private pushed = 0;
  /** Push index of the latest NaN (−∞ if none). */
  private lastNan = Number.NEGATIVE_INFINITY;

  /** @throws RangeError if windowRows < 1. */
  constructor(
    readonly windowRows: number,
    readonly kind: "max" | "min",
  ) {
    if (!Number.isInteger(windowRows) || windowRows < 1)
      throw new RangeError(`windowRows must be ≥ 1, got ${windowRows}`);
    this.idx = new Float64Array(windowRows);
    this.val = new Float64Array(windowRows);
  }

  push(x: number): void {
    const w = this.windowRows;
    const i = this.pushed++;
    // drop the front when it left the window
    if (this.len > 0 && this.idx[this.head]! <= i - w) {
      this.head = this.head + 1 === w ? 0 : this.head + 1;
      this.len--;
    }
    if (Number.isNaN(x)) {
      this.lastNan = i;
      return;
    }
    const max = this.kind === "max";
    while (this.len > 0) {
      let back = this.head + this.len - 1;
      if (back >= w) back -= w;
      const b = this.val[back]!;
      if (max ? b <= x : b >= x) this.len--;
      else break;
    }
    let at = this.head + this.len;
    if (at >= w) at -= w;
    this.idx[at] = i;
    this.val[at] = x;
    this.len++;
  }

  /** The window's max (min); NaN until full or while the window holds a NaN. */
  value(): number {
    const i = this.pushed - 1;
    if (this.pushed < this.windowRows || this.lastNan > i - this.windowRows) return Number.NaN;
    return this.val[this.head]!;
  }

  snapshot(): JsonValue {
    const idx: number[] = [];
    const val: number[] = [];
    for (let k = 0; k < this.len; k++) {
      const p = (this.head + k) % this.windowRows;
      idx.push(this.idx[p]!);
      val.push(this.val[p]!);
    }
    return {
      w: this.windowRows,
      pushed: this.pushed,
      lastNan: Number.isFinite(this.lastNan) ? this.lastNan : null,
      idx,
      val,
    };
  }

  /** @throws RangeError on another window size; TypeError on a malformed state. */
  restore(state: JsonValue): void {
    const s = stateObject(state, "RollingExtreme");
    if (stateNumber(s, "w") !== this.windowRows)
      throw new RangeError("RollingExtreme: window size differs from snapshot");
    const idx = stateNumbers(s, "idx");
    const val = stateNumbers(s, "val");
    this.pushed = stateNumber(s, "pushed");
    const ln = stateNumber(s, "lastNan");
    this.lastNan = Number.isNaN(ln) ? Number.NEGATIVE_INFINITY : ln;
    this.head = 0;
    this.len = idx.length;
    for (let k = 0; k < idx.length; k++) {
      this.idx[k] = idx[k]!;
      this.val[k] = val[k]!;
    }
  }
}
