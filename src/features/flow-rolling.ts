/**
 * Rolling flow family (`of_…_N`): signed and absolute taker volume, trade count and flow imbalance over
 * the last N spine rows (N = `cfg.flowWindowRows`, default 50). Pointline: `add_flow_rolling_features` in
 * pointline/research/features/families.py.
 *
 * Per spine row r the operator accumulates the trades fed since the previous emit (the row's bar):
 *   signed_r = Σ ±qty (buy +, sell −, unknown 0), abs_r = Σ qty, count_r = number of trades
 * where qty is the part of the trade fed to this bar (`ev.qtyInt`: the whole trade, or one piece of a
 * trade split by a `splitTrades` spine) and count counts each trade once, in the bar of its first piece.
 * Outputs (window N rows, warm-up N − 1 rows: null until N rows were emitted, Polars min_periods = N):
 * - `of_signed_qty_sum_N` = Σ signed over the last N rows (i64, qty increments)
 * - `of_abs_qty_sum_N` = Σ abs (i64, qty increments)
 * - `of_trade_count_N` = Σ count (i64, trades)
 * - `of_flow_imbalance_N` = of_signed_qty_sum_N / of_abs_qty_sum_N (f64, ratio [−1, 1]); null if abs = 0.
 *
 * Deliberate deviation from Pointline: Pointline sums the as-of *last* trade over the last N spine rows
 * (`of_signed_qty_int.rolling_sum(N)`, count = rows that have a last trade). On the `trades` spine each row
 * is exactly one trade, so both definitions agree (tested). On clock / volume / dollar / tick spines
 * Pointline's sum counts a trade again on every row it stays the last trade of, and misses every trade of
 * a bar except its last; this family sums every trade exactly once, in the bar it belongs to.
 *
 * Dropped partial bars (`discardBar`, e.g. the open bar at a UTC midnight) lose their accumulations: their
 * trades belong to no row. Exactness: bar sums and window sums are integer sums, exact below 2^53 qty
 * increments (RollingStats sums integers exactly in that range), so the outputs do not depend on where the
 * replay started once N rows were emitted (partition safety).
 */
import { EMPTY_I8, i8 } from "../engine/inputs.js";
import {
  type EventCursor,
  type JsonValue,
  type Operator,
  type SpineRow,
  stateNumber,
  stateObject,
} from "../engine/operator.js";
import type { OutputMeta } from "../engine/registry.js";
import { RollingStats } from "../engine/rolling.js";
import type { TypedRows } from "../query/query.js";
import { SIDE_BUY, SIDE_SELL } from "../schema/tables.js";
import { POINTLINE_FAMILIES_SOURCE } from "./book-view.js";
import { defineFamily, type FamilyDef, familyOperator, outputBuilder, WINDOW_ROWS_PARAMS } from "./family.js";

const QTY = "qty increments";
const SOURCE = `${POINTLINE_FAMILIES_SOURCE} (add_flow_rolling_features); deviation: sums every trade of each bar instead of the as-of last trade per row (identical on the trades spine)`;

/**
 * Output columns for window `n` rows, in order, each declared once with its catalogue metadata (the
 * operator's `outputs` and the family catalogue are this list).
 */
export function flowRollingOutputs(n: number): OutputMeta[] {
  const col = outputBuilder({
    unit: QTY,
    warmupRows: n - 1,
    window: `${n} spine rows`,
    warmup: `${n - 1} rows (null until ${n} rows were emitted)`,
    pitPolicy:
      "per-bar sums of the trades fed to each of the last N rows (each trade counted once, in its bar); no event after the row's close",
    source: SOURCE,
  });
  return [
    col(
      `of_signed_qty_sum_${n}`,
      "i64",
      `Σ over the last ${n} rows of Σ_bar (+qty buy, −qty sell, 0 unknown)`,
      {
        inputs: ["trades.qty_int", "trades.side"],
      },
    ),
    col(`of_abs_qty_sum_${n}`, "i64", `Σ over the last ${n} rows of Σ_bar qty`, {
      inputs: ["trades.qty_int"],
    }),
    col(`of_trade_count_${n}`, "i64", `Σ over the last ${n} rows of the number of trades in the bar`, {
      unit: "trades",
      inputs: ["trades"],
    }),
    col(
      `of_flow_imbalance_${n}`,
      "f64",
      `of_signed_qty_sum_${n} / of_abs_qty_sum_${n}; null if of_abs_qty_sum_${n} = 0`,
      { unit: "ratio [-1,1]", inputs: ["trades.qty_int", "trades.side"] },
    ),
  ];
}

/**
 * Streaming operator of the rolling-flow family: O(1) per trade (three additions), O(1) amortised per
 * emit (three RollingStats pushes), no allocation.
 */
export class FlowRollingOperator implements Operator {
  readonly id = "flow_rolling";
  readonly inputs = ["trades"] as const;
  readonly reads = { trades: { side: "i8", qty_int: "f64" } } as const;
  readonly outputs: readonly OutputMeta[];
  private readonly signed: RollingStats;
  private readonly abs: RollingStats;
  private readonly count: RollingStats;
  /** Accumulations of the open bar (trades fed since the previous emit). */
  private barSigned = 0;
  private barAbs = 0;
  private barCount = 0;
  /** `side` of the current batch (resolved once per batch). */
  private rows: TypedRows | null = null;
  private sideCol = EMPTY_I8;

  /** @param windowRows N ≥ 1 spine rows. */
  constructor(readonly windowRows: number) {
    this.outputs = flowRollingOutputs(windowRows);
    this.signed = new RollingStats(windowRows);
    this.abs = new RollingStats(windowRows);
    this.count = new RollingStats(windowRows);
  }

  onEvent(ev: EventCursor): void {
    if (ev.rows !== this.rows) {
      this.rows = ev.rows;
      this.sideCol = i8(ev.rows, "side");
    }
    const side = this.sideCol[ev.i]!;
    const q = ev.qtyInt;
    if (side === SIDE_BUY) this.barSigned += q;
    else if (side === SIDE_SELL) this.barSigned -= q;
    this.barAbs += q;
    if (!ev.continuation) this.barCount++;
  }

  emit(row: SpineRow, out: readonly Float64Array[], r: number): void {
    this.signed.push(this.barSigned, row.barIndex);
    this.abs.push(this.barAbs, row.barIndex);
    this.count.push(this.barCount, row.barIndex);
    this.barSigned = 0;
    this.barAbs = 0;
    this.barCount = 0;
    const s = this.signed.sum();
    const a = this.abs.sum();
    out[0]![r] = s;
    out[1]![r] = a;
    out[2]![r] = this.count.sum();
    out[3]![r] = a > 0 ? s / a : Number.NaN;
  }

  discardBar(): void {
    this.barSigned = 0;
    this.barAbs = 0;
    this.barCount = 0;
  }

  snapshot(): JsonValue {
    return {
      w: this.windowRows,
      signed: this.signed.snapshot(),
      abs: this.abs.snapshot(),
      count: this.count.snapshot(),
      barSigned: this.barSigned,
      barAbs: this.barAbs,
      barCount: this.barCount,
    };
  }

  restore(state: JsonValue): void {
    const s = stateObject(state, this.id);
    if (stateNumber(s, "w") !== this.windowRows)
      throw new RangeError(`${this.id}: window size differs from snapshot`);
    this.signed.restore(s["signed"] ?? null);
    this.abs.restore(s["abs"] ?? null);
    this.count.restore(s["count"] ?? null);
    this.barSigned = stateNumber(s, "barSigned");
    this.barAbs = stateNumber(s, "barAbs");
    this.barCount = stateNumber(s, "barCount");
  }
}

/** Registered operator of the rolling-flow family (features/registry.ts); `windowRows` = N. */
export const flowRollingOperator = familyOperator({
  name: "flow_rolling",
  description:
    "signed and absolute taker volume, trade count and flow imbalance of the trades of the last N spine rows' bars",
  source: SOURCE,
  params: WINDOW_ROWS_PARAMS,
  outputs: (c) => flowRollingOutputs(c.windowRows),
  create: (c) => new FlowRollingOperator(c.windowRows),
});

/** Rolling-flow family (`of_…_N`, CLI id "flow", flag `includeFlowRolling`, N = `flowWindowRows`). */
export const flowRolling: FamilyDef = defineFamily({
  id: "flow",
  prefix: "of_",
  title: "Rolling flow: signed/absolute volume, trade count and flow imbalance over N rows",
  flag: "includeFlowRolling",
  members: (cfg) => [{ def: flowRollingOperator, config: { windowRows: cfg.flowWindowRows } }],
});
