/**
 * `GroupOperator`: several operators run as one (a feature family of several registered operators,
 * features/family.ts). It is an operator like any other for the Driver — same contract, one state — and
 * adds one thing: a member may read earlier members' row outputs (`Operator.rowInputs`), resolved by
 * name when the group is built.
 *
 * Semantics: the group's inputs are the union of its members' roles and its declared reads the union of
 * theirs; an event goes to the members subscribed to its role, in member order; at a spine row every
 * member emits, in member order, into its own slice of the group's output columns, so a member's row
 * inputs (slices of the same columns, same row index, for kept and warm-up rows alike) hold this row's
 * values when it runs. `discardBar` and `init` go to every member. State: `{ v: 1, members: [{ id,
 * state }] }`; `restore` checks the member ids.
 *
 * Cost: one extra indirect call per event and per row; no allocation per event. When every trade
 * subscriber takes decoded trade fields (`TradeFieldsOperator`, e.g. the trade aggregations), a trade is
 * decoded once and handed to each (`onTrade`), instead of every member re-reading the batch. Members
 * whose per-bar trade state is a shareable accumulator (`SharedTradesOperator`, e.g. OHLCV, VWAP, trade
 * count, taker volume, sizes, realized volatility) get one accumulator, the union of theirs: the group
 * feeds it once per trade piece, resets it after all members emitted a row (or on `discardBar`) and
 * holds its state (`trades` in the group's state). Outputs are bitwise those of the members alone.
 */
import { ConfigError } from "../core/errors.js";
import type { TypedRows } from "../query/query.js";
import { EMPTY_F64, EMPTY_I8, f64, i8, mergeReads, type OperatorReads } from "./inputs.js";
import {
  type EventCursor,
  type JsonValue,
  type Operator,
  type OperatorContext,
  type OutputSpec,
  type SharedTradesOperator,
  type SourceRole,
  type SpineRow,
  stateObject,
  type TradeAccumulator,
  type TradeFieldsOperator,
} from "./operator.js";

/** True when `op` takes decoded trade fields (`TradeFieldsOperator`). */
function isTradeFieldsOperator(op: Operator): op is TradeFieldsOperator {
  return typeof (op as Partial<TradeFieldsOperator>).onTrade === "function";
}

/** True when `op` can read a shared trade accumulator (`SharedTradesOperator`). */
function isSharedTradesOperator(op: Operator): op is SharedTradesOperator {
  return isTradeFieldsOperator(op) && typeof (op as Partial<SharedTradesOperator>).shareTrades === "function";
}

/**
 * One accumulator for the members that can share one (null unless at least two can); the members are
 * switched to it. Members whose accumulators do not combine keep their own.
 */
function shareTradeAccumulator(subs: readonly Operator[]): {
  acc: TradeAccumulator | null;
  sharing: ReadonlySet<Operator>;
} {
  const candidates = subs.filter(isSharedTradesOperator);
  let acc: TradeAccumulator | null = null;
  const sharing = new Set<Operator>();
  for (const m of candidates) {
    const next: TradeAccumulator | null = acc === null ? m.tradeAccumulator : acc.union(m.tradeAccumulator);
    if (next === null) continue;
    acc = next;
    sharing.add(m);
  }
  if (acc === null || sharing.size < 2) return { acc: null, sharing: new Set() };
  // a fresh accumulator of the union's parts (never a member's own instance)
  const shared = acc.union(acc);
  if (shared === null) return { acc: null, sharing: new Set() };
  for (const m of sharing) (m as SharedTradesOperator).shareTrades(shared);
  return { acc: shared, sharing };
}

const NO_INPUTS: readonly Float64Array[] = [];

/** Several operators as one (see the module doc). */
export class GroupOperator implements Operator {
  readonly id: string;
  readonly inputs: readonly SourceRole[];
  readonly reads: OperatorReads;
  readonly outputs: readonly OutputSpec[];
  private readonly members: readonly Operator[];
  /** Per role, the members subscribed to it. */
  private readonly byRole: Partial<Record<SourceRole, readonly Operator[]>>;
  /** Per member, the first index of its outputs in the group's columns. */
  private readonly offsets: readonly number[];
  /** Per member, indices of its row inputs in the group's columns. */
  private readonly rowInputIdx: readonly (readonly number[])[];
  /** Per member, its output columns and row-input columns for the last `out` seen (rebound when it changes). */
  private boundOut: readonly Float64Array[] | null = null;
  private memberOut: Float64Array[][] = [];
  private memberIn: (readonly Float64Array[])[] = [];
  /** The trade subscribers when all of them take decoded trade fields (else null: `onEvent` per member). */
  private readonly tradeFields: readonly TradeFieldsOperator[] | null;
  /** The trade subscribers that do not read the shared accumulator. */
  private readonly tradeRest: readonly Operator[];
  /** The accumulator shared by several members (null when fewer than two can share one). */
  private readonly sharedTrades: TradeAccumulator | null;
  /** Columns of the current trades batch (resolved once per batch; not state). */
  private tradeRows: TypedRows | null = null;
  private tradePx = EMPTY_F64;
  private tradeSide = EMPTY_I8;

  /**
   * @throws ConfigError if `members` is empty, two outputs share a name, or a row input names no output
   *   of an earlier member.
   */
  constructor(id: string, members: readonly Operator[]) {
    if (members.length === 0) throw new ConfigError(`group ${id}: no members`);
    this.id = id;
    this.members = members;
    const roles: SourceRole[] = [];
    for (const m of members) for (const r of m.inputs) if (!roles.includes(r)) roles.push(r);
    this.inputs = roles;
    this.reads = mergeReads(...members.map((m) => m.reads ?? {}));
    const byRole: Partial<Record<SourceRole, Operator[]>> = {};
    for (const r of roles) byRole[r] = members.filter((m) => m.inputs.includes(r));
    this.byRole = byRole;
    const outputs: OutputSpec[] = [];
    const index = new Map<string, number>();
    const offsets: number[] = [];
    const rowInputIdx: number[][] = [];
    for (const m of members) {
      rowInputIdx.push(
        (m.rowInputs ?? []).map((name) => {
          const k = index.get(name);
          if (k === undefined)
            throw new ConfigError(
              `group ${id}: ${m.id} reads row output ${name}, which no earlier member writes (earlier: ${[...index.keys()].join(", ") || "none"})`,
            );
          return k;
        }),
      );
      offsets.push(outputs.length);
      for (const o of m.outputs) {
        if (index.has(o.name)) throw new ConfigError(`group ${id}: duplicate output ${o.name}`);
        index.set(o.name, outputs.length);
        outputs.push(o);
      }
    }
    this.outputs = outputs;
    this.offsets = offsets;
    this.rowInputIdx = rowInputIdx;
    const tradeSubs = byRole.trades ?? [];
    const { acc, sharing } = shareTradeAccumulator(tradeSubs);
    this.sharedTrades = acc;
    this.tradeRest = tradeSubs.filter((m) => !sharing.has(m));
    this.tradeFields =
      (acc !== null || this.tradeRest.length > 1) && this.tradeRest.every(isTradeFieldsOperator)
        ? (this.tradeRest as TradeFieldsOperator[])
        : null;
  }

  init(ctx: OperatorContext): void {
    for (const m of this.members) m.init?.(ctx);
  }

  onEvent(ev: EventCursor): void {
    if (ev.role === "trades" && this.tradeFields !== null) {
      // decode the trade once for every member (see TradeFieldsOperator)
      const rows = ev.rows;
      if (rows !== this.tradeRows) {
        this.tradeRows = rows;
        this.tradePx = f64(rows, "px_int");
        this.tradeSide = i8(rows, "side");
      }
      const px = this.tradePx[ev.i]!;
      const side = this.tradeSide[ev.i]!;
      const qty = ev.qtyInt;
      const cont = ev.continuation;
      this.sharedTrades?.onTrade(px, qty, side, cont);
      const subs = this.tradeFields;
      for (let k = 0; k < subs.length; k++) subs[k]!.onTrade(px, qty, side, cont);
      return;
    }
    if (ev.role === "trades" && this.sharedTrades !== null) {
      // some trade subscriber needs the event itself: feed the shared accumulator, then the rest
      this.sharedTrades.onTrade(
        f64(ev.rows, "px_int")[ev.i]!,
        ev.qtyInt,
        i8(ev.rows, "side")[ev.i]!,
        ev.continuation,
      );
      const rest = this.tradeRest;
      for (let k = 0; k < rest.length; k++) rest[k]!.onEvent(ev);
      return;
    }
    const subs = this.byRole[ev.role];
    if (subs === undefined) return;
    for (let k = 0; k < subs.length; k++) subs[k]!.onEvent(ev);
  }

  emit(row: SpineRow, out: readonly Float64Array[], r: number): void {
    if (out !== this.boundOut) this.bind(out);
    const members = this.members;
    for (let k = 0; k < members.length; k++) members[k]!.emit(row, this.memberOut[k]!, r, this.memberIn[k]);
    this.sharedTrades?.reset();
  }

  /** Slices `out` per member (once per output batch: the Driver reuses a batch's columns for its rows). */
  private bind(out: readonly Float64Array[]): void {
    this.boundOut = out;
    this.memberOut = this.members.map((m, k) =>
      out.slice(this.offsets[k]!, this.offsets[k]! + m.outputs.length),
    );
    this.memberIn = this.rowInputIdx.map((idx) => (idx.length === 0 ? NO_INPUTS : idx.map((j) => out[j]!)));
  }

  discardBar(): void {
    for (const m of this.members) m.discardBar?.();
    this.sharedTrades?.reset();
  }

  snapshot(): JsonValue {
    const members = this.members.map((m) => ({ id: m.id, state: m.snapshot() }));
    return this.sharedTrades === null
      ? { v: 1, members }
      : { v: 1, members, trades: this.sharedTrades.toJson() };
  }

  /** @throws TypeError on another version or member list. */
  restore(state: JsonValue): void {
    const s = stateObject(state, this.id);
    if (s.v !== 1) throw new TypeError(`${this.id}: unsupported state version ${String(s.v)}`);
    const list = s.members;
    if (!Array.isArray(list) || list.length !== this.members.length)
      throw new TypeError(`${this.id}: state has another member list`);
    this.members.forEach((m, k) => {
      const e = stateObject(list[k] ?? null, this.id);
      if (e.id !== m.id) throw new TypeError(`${this.id}: state member ${String(e.id)} is not ${m.id}`);
      m.restore(e.state ?? null);
    });
    if (this.sharedTrades !== null) {
      if (s.trades === undefined) throw new TypeError(`${this.id}: state has no shared trade accumulator`);
      this.sharedTrades.fromJson(s.trades);
    } else if (s.trades !== undefined)
      throw new TypeError(`${this.id}: state has a shared trade accumulator`);
  }
}
