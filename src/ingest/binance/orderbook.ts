/**
 * Price-level order book for one symbol, keyed by fixed-point price.
 *
 * Each side is a sorted pair of Float64Arrays (prices, sizes): bids descending, asks ascending, so the
 * best level is index 0 and the top 25 levels are a prefix. `set(px, qty)` is a binary search plus a
 * memmove (O(log n + n) with n ≈ 1,000 levels for Binance snapshots); no allocation except when a side
 * doubles its capacity. qty 0 deletes a level (Binance diff semantics).
 */

export class BookSide {
  px: Float64Array;
  qty: Float64Array;
  size = 0;

  constructor(
    /** true: bids (best = highest price first); false: asks (best = lowest first). */
    readonly descending: boolean,
    capacity = 2048,
  ) {
    this.px = new Float64Array(capacity);
    this.qty = new Float64Array(capacity);
  }

  clear(): void {
    this.size = 0;
  }

  /** Index of `px`, or -(insertion point) - 1. */
  private find(px: number): number {
    let lo = 0;
    let hi = this.size - 1;
    const d = this.descending;
    const a = this.px;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = a[mid]!;
      if (v === px) return mid;
      if (d ? v > px : v < px) lo = mid + 1;
      else hi = mid - 1;
    }
    return -lo - 1;
  }

  /** Sets the size at a price; qty 0 removes the level. */
  set(px: number, qty: number): void {
    const i = this.find(px);
    if (i >= 0) {
      if (qty === 0) {
        this.px.copyWithin(i, i + 1, this.size);
        this.qty.copyWithin(i, i + 1, this.size);
        this.size--;
      } else {
        this.qty[i] = qty;
      }
      return;
    }
    if (qty === 0) return;
    const at = -i - 1;
    if (this.size === this.px.length) {
      const np = new Float64Array(this.px.length * 2);
      np.set(this.px);
      this.px = np;
      const nq = new Float64Array(this.qty.length * 2);
      nq.set(this.qty);
      this.qty = nq;
    }
    this.px.copyWithin(at + 1, at, this.size);
    this.qty.copyWithin(at + 1, at, this.size);
    this.px[at] = px;
    this.qty[at] = qty;
    this.size++;
  }

  /** Best price, or NaN when empty. */
  bestPx(): number {
    return this.size > 0 ? this.px[0]! : Number.NaN;
  }
  bestQty(): number {
    return this.size > 0 ? this.qty[0]! : Number.NaN;
  }

  /** Copies up to `depth` best levels into the slot arrays at `offset`; returns the count. */
  copyTop(depth: number, pxOut: Float64Array, qtyOut: Float64Array, offset: number): number {
    const n = Math.min(depth, this.size);
    pxOut.set(this.px.subarray(0, n), offset);
    qtyOut.set(this.qty.subarray(0, n), offset);
    return n;
  }

  /** All levels as [px, qty] pairs, best first (for persistence). */
  toPairs(): [number, number][] {
    const out: [number, number][] = [];
    for (let i = 0; i < this.size; i++) out.push([this.px[i]!, this.qty[i]!]);
    return out;
  }
}

export class OrderBook {
  readonly bids = new BookSide(true);
  readonly asks = new BookSide(false);
  /** Last applied update id (Binance `u` / snapshot `lastUpdateId`); NaN when not synced. */
  lastUpdateId = Number.NaN;

  get synced(): boolean {
    return !Number.isNaN(this.lastUpdateId);
  }

  reset(): void {
    this.bids.clear();
    this.asks.clear();
    this.lastUpdateId = Number.NaN;
  }

  /** A crossed or locked book (best bid ≥ best ask) indicates a broken reconstruction. */
  isCrossed(): boolean {
    return this.bids.size > 0 && this.asks.size > 0 && this.bids.px[0]! >= this.asks.px[0]!;
  }
}
