/**
 * `AsOfBook`: the as-of `book_snapshot_25` state shared by the book families (microstructure, book shape,
 * execution cost, spread dynamics, liquidity shock).
 *
 * It holds the top `depth` levels of each side of the last book row fed (the row's knowledge set's as-of
 * book) in preallocated Float64Arrays. The copy is lazy: `update` only records the row (O(1); book rows
 * usually outnumber spine rows many times over) and the first read after it copies at most 4·depth
 * numbers; nothing is allocated. The recorded batch stays valid (the operator contract: batches are
 * immutable), so reading it at the next emit sees exactly the row that was fed. Level 0 is the best level. A side with no levels (`nBid`/`nAsk` = 0) reads as NaN (null) at
 * level 0; before the first book row every read is NaN.
 *
 * Units: prices in price increments (`px_int`), sizes in qty increments (`qty_int`), as stored.
 *
 * Exactness rule: level values are integers below 2^53 (the ingest guarantees it) and are copied exactly.
 * Sums of sizes over ≤ 25 levels are exact while they stay below 2^53 (≈ 9·10^15 qty increments). Sums of
 * px_int·qty_int products (notional) are exact while every product and every partial sum stays below
 * 2^53; e.g. BTCUSDT at 0.1 / 0.001 increments (px_int ≈ 6·10^5) stays exact up to ≈ 1.5·10^10 qty
 * increments (1.5·10^7 BTC) summed over the levels. Beyond that the sums are ordinary float64 sums
 * (relative error ≤ 25·2^-53), never a silent integer overflow.
 */

import { type ColumnReads, EMPTY_LEVELS, levels } from "../engine/inputs.js";
import {
  type EventCursor,
  type JsonValue,
  numbersToJson,
  stateNumber,
  stateNumbers,
  stateObject,
} from "../engine/operator.js";
import type { LevelColumn, TypedRows } from "../query/query.js";
import { BOOK_DEPTH } from "../schema/tables.js";
import type { OutputDefaults } from "./family.js";

/** The book_snapshot_25 columns `AsOfBook` reads (declare them as the `book` role's reads). */
export const ASOF_BOOK_READS = {
  bid_px_int: "levels",
  bid_qty_int: "levels",
  ask_px_int: "levels",
  ask_qty_int: "levels",
} as const satisfies ColumnReads;

/** The as-of top-of-book copy (see module doc). */
export class AsOfBook {
  /** Bid prices (price increments), best first; slots ≥ `nBid` are stale. */
  readonly bidPx: Float64Array;
  /** Bid sizes (qty increments) aligned with `bidPx`. */
  readonly bidQty: Float64Array;
  /** Ask prices (price increments), best first; slots ≥ `nAsk` are stale. */
  readonly askPx: Float64Array;
  /** Ask sizes (qty increments) aligned with `askPx`. */
  readonly askQty: Float64Array;
  /** Bid levels held (≤ depth). */
  nBid = 0;
  /** Ask levels held (≤ depth). */
  nAsk = 0;
  /** True once a book row was fed. */
  has = false;
  /** The batch and row of the last book event, not yet copied (lazy as-of). */
  private pending: EventCursor["rows"] | null = null;
  private pendingI = 0;
  /** Level columns of the batch last copied from (resolved once per batch). */
  private colsOf: TypedRows | null = null;
  private bidPxCol = EMPTY_LEVELS;
  private bidQtyCol = EMPTY_LEVELS;
  private askPxCol = EMPTY_LEVELS;
  private askQtyCol = EMPTY_LEVELS;

  /** @param depth levels kept per side, 1…25. @throws RangeError otherwise. */
  constructor(readonly depth: number) {
    if (!Number.isInteger(depth) || depth < 1 || depth > BOOK_DEPTH)
      throw new RangeError(`AsOfBook depth must be 1…${BOOK_DEPTH}, got ${depth}`);
    this.bidPx = new Float64Array(depth);
    this.bidQty = new Float64Array(depth);
    this.askPx = new Float64Array(depth);
    this.askQty = new Float64Array(depth);
  }

  /** Records the book row under the cursor (a `book`/`spot_book` event); copied on the next read. */
  update(ev: EventCursor): void {
    this.pending = ev.rows;
    this.pendingI = ev.i;
    this.has = true;
  }

  /**
   * Copies the recorded row's levels if a book event came since the last read.
   * @throws ConfigError if the batch lacks a level column of `ASOF_BOOK_READS`.
   */
  private sync(): void {
    const rows = this.pending;
    if (rows === null) return;
    this.pending = null;
    if (rows !== this.colsOf) {
      this.colsOf = rows;
      this.bidPxCol = levels(rows, "bid_px_int");
      this.bidQtyCol = levels(rows, "bid_qty_int");
      this.askPxCol = levels(rows, "ask_px_int");
      this.askQtyCol = levels(rows, "ask_qty_int");
    }
    const i = this.pendingI;
    this.nBid = copySide(this.bidPxCol, this.bidQtyCol, i, this.bidPx, this.bidQty, this.depth);
    this.nAsk = copySide(this.askPxCol, this.askQtyCol, i, this.askPx, this.askQty, this.depth);
  }

  /** Best bid price (price increments); NaN if no book or an empty bid side. */
  bidPx0(): number {
    this.sync();
    return this.nBid > 0 ? this.bidPx[0]! : Number.NaN;
  }
  /** Best ask price (price increments); NaN if no book or an empty ask side. */
  askPx0(): number {
    this.sync();
    return this.nAsk > 0 ? this.askPx[0]! : Number.NaN;
  }
  /** Size at the best bid (qty increments); NaN if no book or an empty bid side. */
  bidQty0(): number {
    this.sync();
    return this.nBid > 0 ? this.bidQty[0]! : Number.NaN;
  }
  /** Size at the best ask (qty increments); NaN if no book or an empty ask side. */
  askQty0(): number {
    this.sync();
    return this.nAsk > 0 ? this.askQty[0]! : Number.NaN;
  }

  /** Σ bid sizes over levels 0…min(k, nBid)−1 (qty increments); 0 for an empty side, NaN if no book. */
  bidQtySum(k: number): number {
    this.sync();
    return this.has ? sum(this.bidQty, Math.min(k, this.nBid)) : Number.NaN;
  }
  /** Σ ask sizes over levels 0…min(k, nAsk)−1 (qty increments); 0 for an empty side, NaN if no book. */
  askQtySum(k: number): number {
    this.sync();
    return this.has ? sum(this.askQty, Math.min(k, this.nAsk)) : Number.NaN;
  }
  /** Σ px_int·qty_int over the first min(k, nBid) bid levels (see the exactness rule); NaN if no book. */
  bidNotionalSum(k: number): number {
    this.sync();
    return this.has ? dot(this.bidPx, this.bidQty, Math.min(k, this.nBid)) : Number.NaN;
  }
  /** Σ px_int·qty_int over the first min(k, nAsk) ask levels (see the exactness rule); NaN if no book. */
  askNotionalSum(k: number): number {
    this.sync();
    return this.has ? dot(this.askPx, this.askQty, Math.min(k, this.nAsk)) : Number.NaN;
  }

  /** State as JSON: the held levels only (exact integers). */
  snapshot(): JsonValue {
    this.sync();
    return {
      depth: this.depth,
      has: this.has,
      bidPx: numbersToJson(this.bidPx.subarray(0, this.nBid)),
      bidQty: numbersToJson(this.bidQty.subarray(0, this.nBid)),
      askPx: numbersToJson(this.askPx.subarray(0, this.nAsk)),
      askQty: numbersToJson(this.askQty.subarray(0, this.nAsk)),
    };
  }

  /** @throws TypeError / RangeError on a malformed state or a different depth. */
  restore(state: JsonValue): void {
    const s = stateObject(state, "AsOfBook");
    if (stateNumber(s, "depth") !== this.depth) throw new RangeError("AsOfBook: depth differs from snapshot");
    if (typeof s["has"] !== "boolean") throw new TypeError("AsOfBook: state field has must be a boolean");
    this.has = s["has"];
    this.pending = null;
    this.nBid = restoreSide(stateNumbers(s, "bidPx"), stateNumbers(s, "bidQty"), this.bidPx, this.bidQty);
    this.nAsk = restoreSide(stateNumbers(s, "askPx"), stateNumbers(s, "askQty"), this.askPx, this.askQty);
  }
}

function copySide(
  px: LevelColumn,
  qty: LevelColumn,
  i: number,
  outPx: Float64Array,
  outQty: Float64Array,
  depth: number,
): number {
  const n = Math.min(px.lens[i]!, qty.lens[i]!, depth);
  const base = i * BOOK_DEPTH;
  for (let k = 0; k < n; k++) {
    outPx[k] = px.values[base + k]!;
    outQty[k] = qty.values[base + k]!;
  }
  return n;
}

function restoreSide(px: number[], qty: number[], outPx: Float64Array, outQty: Float64Array): number {
  if (px.length !== qty.length || px.length > outPx.length)
    throw new RangeError("AsOfBook: malformed level arrays in snapshot");
  outPx.set(px);
  outQty.set(qty);
  return px.length;
}

function sum(a: Float64Array, n: number): number {
  let s = 0;
  for (let k = 0; k < n; k++) s += a[k]!;
  return s;
}

function dot(a: Float64Array, b: Float64Array, n: number): number {
  let s = 0;
  for (let k = 0; k < n; k++) s += a[k]! * b[k]!;
  return s;
}

/** Reference implementation of the Pointline families (each cites it with its `add_…_features` function). */
export const POINTLINE_FAMILIES_SOURCE = "Pointline pointline/research/features/families.py";

/** PIT policy text of as-of book features. */
export const ASOF_BOOK_PIT =
  "as-of backward: last book_snapshot_25 row in the row's knowledge set (ts_local_us < available_at for clock rows; up to the closing trade e* in the total order for event rows)";

/** Shared `OutputMeta` fields of an as-of book output (warm-up 0 rows), for `outputBuilder` (family.ts). */
export const ASOF_BOOK_OUTPUT = {
  warmupRows: 0,
  window: "as-of (last book row)",
  warmup: "0 rows (null before the first book row)",
  pitPolicy: ASOF_BOOK_PIT,
} satisfies OutputDefaults;
