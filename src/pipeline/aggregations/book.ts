/**
 * Quote / book aggregations: the as-of snapshots `spread_bps`, `book_imbalance_top5`,
 * `microprice_close` (joins `asof_backward` — default — and `in_bar`) and the per-update aggregations
 * `spread_distribution`, `ofi_cont` (stage feature_then_aggregate, `in_bar`).
 *
 * L1 inputs (best bid/ask price and size) are read from either a `quotes` row (as stored) or level 0 of
 * a `book_snapshot_25` row (an empty side is null), so `spread_bps`, `microprice_close`,
 * `spread_distribution` and `ofi_cont` accept either table (both have bid_px_int, bid_qty_int,
 * ask_px_int, ask_qty_int). `book_imbalance_top5` needs the book's levels: book_snapshot_25 only.
 *
 * Snapshot aggregations: `asof_backward` = the value of the last row of the source in the row's
 * knowledge set (null before the first row since the replay start — as-of state older than the replay
 * start is not carried: choose `warmupUs`); `in_bar` = the value of the last row inside the bar, null if
 * the bar has none. Ratios and spreads are computed on the integers (increments cancel); the microprice
 * (price increments) and `ofi_cont` (qty increments) are converted to quote currency / base units by the
 * run's sink (engine/units.ts).
 *
 * Sources: Pointline `pointline/research/resample/aggregations/crypto_mft.py` (SpreadBPS,
 * BookImbalanceTop5), `.../microstructure.py` (microprice_close, spread_distribution, ofi_cont), and
 * Cont, Kukanov & Stoikov (2014), "The price impact of order book events", J. Financial Econometrics
 * 12(1), eq. (2) for e_n.
 */

import { EMPTY_LEVELS, levels, type OperatorReads, readsOf } from "../../engine/inputs.js";
import {
  type EventCursor,
  type JsonValue,
  numberToJson,
  type OutputSpec,
  stateNumber,
} from "../../engine/operator.js";
import type { TypedRows } from "../../query/query.js";
import type { TableName } from "../../schema/tables.js";
import type { AggregationContext, AggregationSpec } from "../aggregation-types.js";
import {
  asOfWindow,
  BarOperator,
  defineAggregation,
  inBarWindow,
  type L1,
  L1_READ_COLUMNS,
  L1Reader,
  levelSum,
  MODES_PATTERN_B,
  MODES_SNAPSHOT,
  out,
  ShiftedMoments,
  spreadBps,
  stateBool,
} from "./shared.js";

const CRYPTO_MFT = "Pointline pointline/research/resample/aggregations/crypto_mft.py";
const MICRO = "Pointline pointline/research/resample/aggregations/microstructure.py";
const CKS =
  'Cont, Kukanov & Stoikov (2014), "The price impact of order book events", J. Financial Econometrics 12(1):47-88, eq. (2)';
const L1_TABLES: readonly TableName[] = ["quotes", "book_snapshot_25"];
/** Book levels per side summed by `book_imbalance_top5`. */
export const TOP_LEVELS = 5;

const newL1 = (): L1 => ({ bidPx: Number.NaN, bidQty: Number.NaN, askPx: Number.NaN, askQty: Number.NaN });

const l1Json = (x: L1): JsonValue => [
  numberToJson(x.bidPx),
  numberToJson(x.bidQty),
  numberToJson(x.askPx),
  numberToJson(x.askQty),
];

function l1FromJson(v: JsonValue | undefined, x: L1): void {
  if (!Array.isArray(v) || v.length !== 4 || v.some((e) => e !== null && typeof e !== "number"))
    throw new TypeError("L1 state must be 4 numbers or nulls");
  const n = (e: JsonValue | undefined) => (e === null ? Number.NaN : (e as number));
  x.bidPx = n(v[0]);
  x.bidQty = n(v[1]);
  x.askPx = n(v[2]);
  x.askQty = n(v[3]);
}

/**
 * Base of the snapshot aggregations: `capture` records the state of each source row, `value` computes
 * the output from the last captured state (NaN state → null). `asof_backward` reads it at any row,
 * `in_bar` only when the bar captured a row.
 */
export abstract class SnapshotOperator extends BarOperator {
  private readonly asof: boolean;
  private barHas = false;

  constructor(ctx: AggregationContext, outputs: readonly OutputSpec[]) {
    super(ctx.operatorName, [ctx.role], outputs);
    this.asof = ctx.joinStrategy === "asof_backward";
  }

  onEvent(ev: EventCursor): void {
    this.capture(ev);
    this.barHas = true;
  }

  /** Records the row under the cursor (no allocation). */
  protected abstract capture(ev: EventCursor): void;
  /** Output from the last captured row; NaN if none or undefined. */
  protected abstract value(): number;
  protected abstract saveCaptured(): JsonValue;
  protected abstract loadCaptured(v: JsonValue | undefined): void;

  protected write(outs: readonly Float64Array[], r: number): void {
    outs[0]![r] = this.asof || this.barHas ? this.value() : Number.NaN;
  }

  protected resetBar(): void {
    this.barHas = false;
  }

  protected saveState(): { [k: string]: JsonValue } {
    return { barHas: this.barHas, captured: this.saveCaptured() };
  }

  protected loadState(s: { readonly [k: string]: JsonValue }): void {
    this.barHas = stateBool(s, "barHas");
    this.loadCaptured(s.captured);
  }
}

/** `spread_bps` = 1e4·(ask − bid)/mid, mid = (ask + bid)/2, of the last quote (or book level 0). */
export class SpreadBpsOperator extends SnapshotOperator {
  /** L1 columns of the current batch; the operator reads the four L1 columns of its role. */
  private readonly l1r = new L1Reader();
  override reads: OperatorReads = { [this.inputs[0]!]: readsOf(this.inputs[0]!, L1_READ_COLUMNS) };
  private readonly l1 = newL1();
  protected capture(ev: EventCursor): void {
    this.l1r.read(ev.rows, ev.i, this.l1);
  }
  protected value(): number {
    return spreadBps(this.l1.bidPx, this.l1.askPx);
  }
  protected saveCaptured(): JsonValue {
    return l1Json(this.l1);
  }
  protected loadCaptured(v: JsonValue | undefined): void {
    l1FromJson(v, this.l1);
  }
}

/**
 * `book_imbalance_top5` = (B − A)/(B + A), B and A the bid / ask sizes summed over the top 5 levels
 * present of the last book_snapshot_25 row; null when B + A = 0 (Pointline fills 0: "no depth" is not
 * "balanced") or before the first row.
 */
export class BookImbalanceOperator extends SnapshotOperator {
  override reads: OperatorReads = {
    [this.inputs[0]!]: { bid_qty_int: "levels", ask_qty_int: "levels" },
  } as OperatorReads;
  /** Level columns of the current batch (resolved once per batch; not state). */
  private rows: TypedRows | null = null;
  private bidQty = EMPTY_LEVELS;
  private askQty = EMPTY_LEVELS;
  private bid = Number.NaN;
  private ask = Number.NaN;
  protected capture(ev: EventCursor): void {
    if (ev.rows !== this.rows) {
      this.rows = ev.rows;
      this.bidQty = levels(ev.rows, "bid_qty_int");
      this.askQty = levels(ev.rows, "ask_qty_int");
    }
    this.bid = levelSum(this.bidQty, ev.i, TOP_LEVELS);
    this.ask = levelSum(this.askQty, ev.i, TOP_LEVELS);
  }
  protected value(): number {
    const den = this.bid + this.ask;
    return den > 0 ? (this.bid - this.ask) / den : Number.NaN;
  }
  protected saveCaptured(): JsonValue {
    return [numberToJson(this.bid), numberToJson(this.ask)];
  }
  protected loadCaptured(v: JsonValue | undefined): void {
    if (!Array.isArray(v) || v.length !== 2) throw new TypeError("book imbalance state must be 2 numbers");
    this.bid = v[0] === null ? Number.NaN : (v[0] as number);
    this.ask = v[1] === null ? Number.NaN : (v[1] as number);
  }
}

/**
 * `microprice_close` = (bid·askQty + ask·bidQty)/(bidQty + askQty) of the last book row's level 0 (or
 * quote), in price increments (computed as bid + (ask − bid)·bidQty/(bidQty + askQty); quote currency
 * after the sink); null if a side is missing or bidQty + askQty = 0 (Pointline: `when(denom > 0)`).
 */
export class MicropriceOperator extends SnapshotOperator {
  /** L1 columns of the current batch; the operator reads the four L1 columns of its role. */
  private readonly l1r = new L1Reader();
  override reads: OperatorReads = { [this.inputs[0]!]: readsOf(this.inputs[0]!, L1_READ_COLUMNS) };
  private readonly l1 = newL1();
  protected capture(ev: EventCursor): void {
    this.l1r.read(ev.rows, ev.i, this.l1);
  }
  protected value(): number {
    const { bidPx, bidQty, askPx, askQty } = this.l1;
    const den = bidQty + askQty;
    if (!(den > 0)) return Number.NaN;
    return bidPx + ((askPx - bidPx) * bidQty) / den;
  }
  protected saveCaptured(): JsonValue {
    return l1Json(this.l1);
  }
  protected loadCaptured(v: JsonValue | undefined): void {
    l1FromJson(v, this.l1);
  }
}

/**
 * `spread_distribution` → spread_bps_mean, spread_bps_std (ddof 1; null below 2 updates),
 * spread_bps_min, spread_bps_max of the per-update spread 1e4·(ask − bid)/mid over every quote (or book)
 * update of the bar; updates with a missing side are skipped; all null without updates. Pointline's
 * version divides by the bid; we use the mid, as `spread_bps`.
 */
export class SpreadDistributionOperator extends BarOperator {
  /** L1 columns of the current batch; the operator reads the four L1 columns of its role. */
  private readonly l1r = new L1Reader();
  override reads: OperatorReads = { [this.inputs[0]!]: readsOf(this.inputs[0]!, L1_READ_COLUMNS) };
  private readonly l1 = newL1();
  private n = 0;
  private sum = 0;
  private min = Number.NaN;
  private max = Number.NaN;
  private readonly moments = new ShiftedMoments();

  onEvent(ev: EventCursor): void {
    this.l1r.read(ev.rows, ev.i, this.l1);
    const s = spreadBps(this.l1.bidPx, this.l1.askPx);
    if (Number.isNaN(s)) return;
    if (this.n++ === 0) {
      this.min = s;
      this.max = s;
    } else {
      if (s < this.min) this.min = s;
      if (s > this.max) this.max = s;
    }
    this.sum += s;
    this.moments.push(s);
  }

  protected write(outs: readonly Float64Array[], r: number): void {
    outs[0]![r] = this.n > 0 ? this.sum / this.n : Number.NaN;
    outs[1]![r] = this.moments.std();
    outs[2]![r] = this.min;
    outs[3]![r] = this.max;
  }

  protected resetBar(): void {
    this.n = 0;
    this.sum = 0;
    this.min = Number.NaN;
    this.max = Number.NaN;
    this.moments.reset();
  }

  protected saveState(): { [k: string]: JsonValue } {
    return {
      n: this.n,
      sum: this.sum,
      min: numberToJson(this.min),
      max: numberToJson(this.max),
      moments: this.moments.toJson(),
    };
  }

  protected loadState(s: { readonly [k: string]: JsonValue }): void {
    this.n = stateNumber(s, "n");
    this.sum = stateNumber(s, "sum");
    this.min = stateNumber(s, "min");
    this.max = stateNumber(s, "max");
    this.moments.fromJson(s.moments);
  }
}

/**
 * `ofi_cont` = Σ e_n over the bar's quote (or book level-0) updates, in base units, with (Cont, Kukanov
 * & Stoikov 2014, eq. 2)
 *   e_n = 1{Pb_n ≥ Pb_{n−1}}·qb_n − 1{Pb_n ≤ Pb_{n−1}}·qb_{n−1} − 1{Pa_n ≤ Pa_{n−1}}·qa_n + 1{Pa_n ≥ Pa_{n−1}}·qa_{n−1}
 * (the piecewise form of Pointline's `ofi_cont`). The previous update's state carries across bars (and
 * dropped partial bars); the first update since the replay start contributes 0; a side with a missing
 * price or size in update n or n−1 contributes 0 (an empty side carries no queue information; the other
 * side still counts — Pointline's `fill_null(0)` is on the whole update). A bar without updates is 0
 * once a previous state exists, null before. Sums are exact integers (qty increments) below 2^53, then
 * × amount_increment.
 */
export class OfiContOperator extends BarOperator {
  /** L1 columns of the current batch; the operator reads the four L1 columns of its role. */
  private readonly l1r = new L1Reader();
  override reads: OperatorReads = { [this.inputs[0]!]: readsOf(this.inputs[0]!, L1_READ_COLUMNS) };
  private readonly cur = newL1();
  private readonly prev = newL1();
  private hasPrev = false;
  /** Σ e_n of the bar (qty increments). */
  private sum = 0;

  onEvent(ev: EventCursor): void {
    this.l1r.read(ev.rows, ev.i, this.cur);
    if (this.hasPrev) this.sum += this.increment(this.cur, this.prev);
    this.hasPrev = true;
    const p = this.prev;
    p.bidPx = this.cur.bidPx;
    p.bidQty = this.cur.bidQty;
    p.askPx = this.cur.askPx;
    p.askQty = this.cur.askQty;
  }

  /** e_n of update `c` after update `p` (qty increments), see the class doc. */
  protected increment(c: L1, p: L1): number {
    let e = 0;
    if (
      !(Number.isNaN(c.bidPx) || Number.isNaN(p.bidPx) || Number.isNaN(c.bidQty) || Number.isNaN(p.bidQty))
    ) {
      if (c.bidPx >= p.bidPx) e += c.bidQty;
      if (c.bidPx <= p.bidPx) e -= p.bidQty;
    }
    if (
      !(Number.isNaN(c.askPx) || Number.isNaN(p.askPx) || Number.isNaN(c.askQty) || Number.isNaN(p.askQty))
    ) {
      if (c.askPx <= p.askPx) e -= c.askQty;
      if (c.askPx >= p.askPx) e += p.askQty;
    }
    return e;
  }

  protected write(outs: readonly Float64Array[], r: number): void {
    outs[0]![r] = this.hasPrev ? this.sum : Number.NaN;
  }

  protected resetBar(): void {
    this.sum = 0;
  }

  protected saveState(): { [k: string]: JsonValue } {
    return { prev: l1Json(this.prev), hasPrev: this.hasPrev, sum: this.sum };
  }

  protected loadState(s: { readonly [k: string]: JsonValue }): void {
    l1FromJson(s.prev, this.prev);
    this.hasPrev = stateBool(s, "hasPrev");
    this.sum = stateNumber(s, "sum");
  }
}

function snapshotSpec(
  name: string,
  description: string,
  requiredColumns: readonly string[],
  semanticType: string,
  what: string,
  tables: readonly TableName[],
  output: ReturnType<typeof out>,
  build: (ctx: AggregationContext, outputs: readonly OutputSpec[]) => SnapshotOperator,
  source: string,
): AggregationSpec {
  return defineAggregation({
    name,
    description,
    requiredColumns,
    modeAllowlist: MODES_SNAPSHOT,
    stage: "aggregate_then_feature",
    semanticType,
    window: asOfWindow(what),
    joinStrategies: ["asof_backward", "in_bar"],
    tables,
    outputs: () => [output],
    build,
    source,
  });
}

const L1_COLUMNS = ["bid_px_int", "bid_qty_int", "ask_px_int", "ask_qty_int"] as const;

/** The quote / book aggregations, in catalogue order. */
export const BOOK_AGGREGATIONS: readonly AggregationSpec[] = [
  snapshotSpec(
    "spread_bps",
    "1e4 · (ask − bid) / ((ask + bid) / 2) of the last quote (asof_backward: at or before the row's close; in_bar: last quote of the bar, null if none); null if a side is missing",
    ["bid_px_int", "ask_px_int"],
    "quote_top",
    "quote (quotes row, or book_snapshot_25 level 0)",
    L1_TABLES,
    out("spread_bps", "f64", "bps"),
    (ctx, o) => new SpreadBpsOperator(ctx, o),
    `${CRYPTO_MFT} (SpreadBPS)`,
  ),
  snapshotSpec(
    "book_imbalance_top5",
    "(Σ bid_qty top 5 − Σ ask_qty top 5) / (Σ bid_qty top 5 + Σ ask_qty top 5) of the last book_snapshot_25 row (levels present); null when the sum is 0 (Pointline fills 0)",
    ["bid_qty_int", "ask_qty_int"],
    "book_depth",
    "book_snapshot_25 row",
    ["book_snapshot_25"],
    out("book_imbalance_top5", "f64", "ratio [-1,1]"),
    (ctx, o) => new BookImbalanceOperator(ctx, o),
    `${CRYPTO_MFT} (BookImbalanceTop5)`,
  ),
  snapshotSpec(
    "microprice_close",
    "(bid·askQty + ask·bidQty) / (bidQty + askQty) of level 0 of the last book row (or quote), in quote currency; null if a side is missing or bidQty + askQty = 0",
    [...L1_COLUMNS],
    "book_top",
    "book_snapshot_25 row (or quotes row)",
    L1_TABLES,
    out("microprice_close", "f64", "price increments"),
    (ctx, o) => new MicropriceOperator(ctx, o),
    `${MICRO} (microprice_close)`,
  ),
  defineAggregation({
    name: "spread_distribution",
    description:
      "mean, sample std (ddof 1), min and max over the bar's quote updates of 1e4 · (ask − bid) / mid (mid = (ask + bid) / 2; Pointline divides by the bid); null without updates (std: below 2)",
    requiredColumns: ["bid_px_int", "ask_px_int"],
    modeAllowlist: MODES_PATTERN_B,
    stage: "feature_then_aggregate",
    semanticType: "quote_top",
    window: inBarWindow("quote updates (quotes rows, or book_snapshot_25 rows)"),
    joinStrategies: ["in_bar"],
    tables: L1_TABLES,
    outputs: () => [
      out("spread_bps_mean", "f64", "bps"),
      out("spread_bps_std", "f64", "bps"),
      out("spread_bps_min", "f64", "bps"),
      out("spread_bps_max", "f64", "bps"),
    ],
    build: (ctx, o) => new SpreadDistributionOperator(ctx.operatorName, [ctx.role], o),
    source: `${MICRO} (spread_distribution)`,
  }),
  defineAggregation({
    name: "ofi_cont",
    description:
      "Σ over the bar's L1 updates of e_n = 1{Pb_n ≥ Pb_n−1}·qb_n − 1{Pb_n ≤ Pb_n−1}·qb_n−1 − 1{Pa_n ≤ Pa_n−1}·qa_n + 1{Pa_n ≥ Pa_n−1}·qa_n−1 (base units); previous state carried across bars, first update contributes 0; 0 for a bar without updates once a state exists",
    requiredColumns: [...L1_COLUMNS],
    modeAllowlist: MODES_PATTERN_B,
    stage: "feature_then_aggregate",
    semanticType: "book_depth",
    window: `${inBarWindow("L1 updates (quotes rows, or book_snapshot_25 level 0)")}; e_n also uses the update before (carried across bars)`,
    joinStrategies: ["in_bar"],
    tables: L1_TABLES,
    outputs: () => [out("ofi_cont", "f64", "qty increments")],
    build: (ctx, o) => new OfiContOperator(ctx.operatorName, [ctx.role], o),
    source: `${CKS}; ${MICRO} (ofi_cont)`,
  }),
];
