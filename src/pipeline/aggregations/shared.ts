/**
 * Shared machinery of the built-in aggregations (see index.ts for the catalogue).
 *
 * - `defineAggregation` turns a compact definition into an `AggregationSpec` whose `impl` validates the
 *   request operator (source table, join strategy, `config`, `source_column`, output names) before it
 *   builds the operator, so a bad request fails with a `ConfigError` before any data is read.
 * - `BarOperator` is the common operator skeleton: per-bar accumulators are cleared after every `emit`
 *   and on `discardBar`; as-of state (join `asof_backward`, previous-update state of OFI, the as-of quote
 *   of `aggressive_ratio`) is kept across bars. Increments for decoding come from `init`.
 * - Numeric helpers: `ShiftedMoments` (sample std, ddof 1), `GrowableBuffer` (median / n-unique),
 *   `L1Reader` (level 0 of a quotes or book_snapshot_25 row).
 *
 * Window semantics shared by every `in_bar` aggregation: a spine row's bar holds the events of its source
 * fed after the previous spine row (emitted or warm-up) or the last dropped partial bar, up to the row's
 * close in the total order (ts_local_us, table rank, file_id, file_line_number) — contiguous windows, as
 * Pointline's `bucket_assignment.py` ([previous bar end, bar end)). For a trade source with a
 * `splitTrades` volume/dollar spine, every piece of a split trade is one event of the bar it falls in
 * with `qty_int` = the piece's quantity (`EventCursor.qtyInt`); `trade_count` alone counts a split trade
 * once, in the bar of its first piece (as the engine's `bar` family). On event spines, rows after a day's
 * last emitted bar belong to the next bar unless that day ended with an open (dropped) bar, whose rows
 * are dropped with it (`discardBar`).
 *
 * Warm-up: every output declares `warmupRows` 0 (values depend on the current bar, or on as-of state
 * since the replay start — as-of state older than the replay start is not carried, choose `warmupUs`).
 * Null convention: NaN in the operator, null in frames (engine/operator.ts).
 *
 * Files in this directory import the spec types from ../aggregation-types.ts, never ../registry.ts
 * (registry.ts imports the catalogue).
 */
import { z } from "zod";
import { ConfigError, issuesText } from "../../core/errors.js";
import {
  EMPTY_F64,
  EMPTY_LEVELS,
  f64,
  levels,
  mergeReads,
  type OperatorReads,
  readsOf,
} from "../../engine/inputs.js";
import {
  type EventCursor,
  type JsonValue,
  numbersToJson,
  type Operator,
  type OutputSpec,
  roleTable,
  type SourceRole,
  type SpineRow,
  stateNumbers,
  stateObject,
} from "../../engine/operator.js";
import type { OperatorBuildContext } from "../../engine/registry.js";
import type { LevelColumn, TypedRows } from "../../query/query.js";
import { BOOK_DEPTH, type TableName } from "../../schema/tables.js";
import type {
  AggregationContext,
  AggregationOutput,
  AggregationParams,
  AggregationSpec,
  PipelineMode,
} from "../aggregation-types.js";

/** Sort keys every built-in depends on: the engine's total order. */
export const REQUIRED_SORT: readonly string[] = ["ts_local_us", "table rank", "file_id", "file_line_number"];

/** Version of every built-in (bump when a formula changes). */
export const BUILTIN_VERSION = "1";

/** Modes of trade and derivative-ticker aggregations. */
export const MODES_BAR: readonly PipelineMode[] = ["bar_then_feature", "tick_then_bar"];
/** Modes of the as-of snapshot aggregations (spread_bps, book_imbalance_top5, microprice_close). */
export const MODES_SNAPSHOT: readonly PipelineMode[] = ["bar_then_feature", "event_joined"];
/** Modes of the feature_then_aggregate aggregations (spread_distribution, ofi_cont). */
export const MODES_PATTERN_B: readonly PipelineMode[] = ["tick_then_bar", "bar_then_feature"];
/** Modes of the generic column aggregations. */
export const MODES_ALL: readonly PipelineMode[] = ["bar_then_feature", "tick_then_bar", "event_joined"];

/** `config` schema of aggregations that take no config keys (any key is rejected). */
export const NO_PARAMS: z.ZodType<Record<string, unknown>> = z.object({}).strict();

/** PIT window text of in-bar aggregations over a table. */
export function inBarWindow(what: string): string {
  return `${what} of the bar: those after the previous spine row (or dropped partial bar) up to and including the row's close in the total order; nothing later`;
}

/** PIT window text of as-of aggregations over a table. */
export function asOfWindow(what: string): string {
  return `as-of backward (default): the last ${what} at or before the row's close in the total order, carried across bars since the replay start; in_bar: only ${what} of the bar`;
}

/**
 * A built-in's definition: the spec fields it sets itself (as `AggregationSpec`), the PIT window, the
 * tables it reads, its source and an operator factory (`defineAggregation` adds the rest).
 */
export interface AggregationDef
  extends Pick<
    AggregationSpec,
    | "name"
    | "description"
    | "requiredColumns"
    | "modeAllowlist"
    | "stage"
    | "semanticType"
    | "joinStrategies"
    | "needsSourceColumn"
    | "extraTables"
    | "outputs"
  > {
  /** Plain-words PIT window (`pitPolicy.window`). */
  readonly window: string;
  /** Source tables the operator can read (the contract has no such field: checked in `impl`). */
  readonly tables: readonly TableName[];
  /** Schema of `config` (default: no keys). Its parsed value is what `build` sees as `ctx.config`. */
  readonly params?: z.ZodType<Record<string, unknown>>;
  /**
   * Builds the operator once the context is validated; `outputs` carry the final column names. The
   * operator declares the columns it reads beyond `requiredColumns` and `source_column` (e.g. of an extra
   * table) in its `reads`; `defineAggregation` adds those two.
   */
  readonly build: (ctx: AggregationContext, outputs: readonly OutputSpec[]) => BarOperator;
  readonly source: string;
}

/**
 * An `AggregationSpec` from a definition. Its outputs carry the full catalogue metadata (formula =
 * the output's own or the description; inputs = the required columns of the source table; window and
 * PIT policy = the definition's window; version; source). Its `impl` throws `ConfigError` when the source
 * table is not one of `def.tables` or the role is not the primary instrument's role of that table, the
 * join strategy is not supported, `config` fails the params schema (default: no keys), a non-generic
 * aggregation is given a `source_column` it does not read (one of `requiredColumns` is accepted, as
 * Pointline requests name it), or `outputNames` does not match the outputs.
 */
export function defineAggregation(def: AggregationDef): AggregationSpec {
  const tableName = def.tables.length === 1 ? def.tables[0]! : def.tables.join("|");
  const outputs = (p: AggregationParams): AggregationOutput[] => {
    const inputs = def.requiredColumns.map((c) => `${tableName}.${c}`);
    if (p.sourceColumn !== undefined && !def.requiredColumns.includes(p.sourceColumn))
      inputs.push(`${tableName}.${p.sourceColumn}`);
    if (def.requiredColumns.length === 0 && p.sourceColumn === undefined) inputs.push(tableName);
    for (const t of def.extraTables ?? []) inputs.push(t);
    return def.outputs(p).map((o) => ({
      formula: def.description,
      inputs,
      window: def.window,
      warmup: o.warmupRows === 0 ? "none" : `${o.warmupRows} rows`,
      pitPolicy: `backward only: ${def.window}`,
      version: Number(BUILTIN_VERSION),
      source: def.source,
      ...o,
    }));
  };
  const spec: AggregationSpec = {
    name: def.name,
    description: def.description,
    requiredColumns: def.requiredColumns,
    modeAllowlist: def.modeAllowlist,
    stage: def.stage,
    semanticType: def.semanticType,
    pitPolicy: { featureDirection: "backward_only", window: def.window },
    determinism: { requiredSort: REQUIRED_SORT },
    version: BUILTIN_VERSION,
    joinStrategies: def.joinStrategies,
    ...(def.needsSourceColumn ? { needsSourceColumn: true } : {}),
    ...(def.extraTables ? { extraTables: def.extraTables } : {}),
    params: def.params ?? NO_PARAMS,
    outputs,
    impl: (ctx: OperatorBuildContext): Operator => {
      const { context, outs } = validateContext(def, ctx);
      const op = def.build(context, outs);
      op.reads = mergeReads(op.reads ?? {}, derivedReads(def, context));
      return op;
    },
    source: def.source,
  };
  return spec;
}

/** `requiredColumns` and the `source_column` as reads of the context's role (storage from the schema). */
function derivedReads(def: AggregationDef, ctx: AggregationContext): OperatorReads {
  const cols = [...def.requiredColumns];
  if (ctx.sourceColumn !== undefined && !cols.includes(ctx.sourceColumn)) cols.push(ctx.sourceColumn);
  return { [ctx.role]: readsOf(ctx.role, cols) };
}

function validateContext(
  def: AggregationDef,
  ctx: OperatorBuildContext,
): { context: AggregationContext; outs: OutputSpec[] } {
  const where = `${ctx.operatorName} (${def.name})`;
  const { role, table } = ctx;
  if (role === undefined || table === undefined)
    throw new ConfigError(`${where}: reads one source table (${def.tables.join(" or ")}); none given`);
  if (!def.tables.includes(table))
    throw new ConfigError(`${where}: source table must be ${def.tables.join(" or ")}, got ${table}`);
  if (roleTable(role) !== table || role.startsWith("spot_"))
    throw new ConfigError(
      `${where}: role ${role} does not read ${table} of the primary instrument (increments decode the primary)`,
    );
  if (!def.joinStrategies.includes(ctx.joinStrategy))
    throw new ConfigError(
      `${where}: join_strategy ${ctx.joinStrategy} not supported (${def.joinStrategies.join(", ")})`,
    );
  const schema = def.params ?? NO_PARAMS;
  const parsed = schema.safeParse(ctx.config ?? {});
  if (!parsed.success)
    throw new ConfigError(
      def.params
        ? `${where}: config: ${issuesText(parsed.error.issues, "(config)")}`
        : `${where}: config takes no keys, got ${Object.keys(ctx.config).join(", ")}`,
    );
  if (def.needsSourceColumn) {
    if (!ctx.sourceColumn) throw new ConfigError(`${where}: source_column is required`);
  } else if (ctx.sourceColumn !== undefined && !def.requiredColumns.includes(ctx.sourceColumn)) {
    throw new ConfigError(
      `${where}: reads fixed columns (${def.requiredColumns.join(", ") || "none"}); source_column ${ctx.sourceColumn} is not one of them`,
    );
  }
  const context: AggregationContext = { ...ctx, role, table, config: parsed.data };
  const declared = def.outputs(context);
  if (ctx.outputNames.length !== declared.length)
    throw new ConfigError(
      `${where}: ${declared.length} output names expected, got ${ctx.outputNames.length}`,
    );
  const outs = declared.map((o, k) => {
    const name = ctx.outputNames[k]!;
    if (name.length === 0) throw new ConfigError(`${where}: empty output name`);
    return { name, dtype: o.dtype, unit: o.unit, warmupRows: o.warmupRows };
  });
  return { context, outs };
}

/** One output with no warm-up; `formula` when it differs from the aggregation's description. */
export function out(name: string, dtype: "f64" | "i64", unit: string, formula?: string): AggregationOutput {
  return formula === undefined
    ? { name, dtype, unit, warmupRows: 0 }
    : { name, dtype, unit, warmupRows: 0, formula };
}

/**
 * The operator skeleton of every built-in. Subclasses accumulate in `onEvent`, write their outputs in
 * `write` and clear per-bar accumulators in `resetBar` (called after `write` and by `discardBar`); state
 * they keep across bars is left alone by `resetBar`. State is a JSON object `{ v: 1, state: {…} }`.
 */
export abstract class BarOperator implements Operator {
  readonly id: string;
  readonly inputs: readonly SourceRole[];
  /**
   * Declared input columns (see `Operator.reads`): every built-in subclass sets the columns it reads (so
   * an operator constructed directly is checked too); for operators built by `defineAggregation` the
   * aggregation's `requiredColumns` and `source_column` are added.
   */
  reads: OperatorReads | undefined = undefined;
  readonly outputs: readonly OutputSpec[];

  constructor(id: string, inputs: readonly SourceRole[], outputs: readonly OutputSpec[]) {
    this.id = id;
    this.inputs = inputs;
    this.outputs = outputs;
  }

  abstract onEvent(ev: EventCursor): void;

  emit(_row: SpineRow, outs: readonly Float64Array[], r: number): void {
    this.write(outs, r);
    this.resetBar();
  }

  /** The spine dropped the open bar: per-bar accumulators are cleared, as-of state is kept. */
  discardBar(): void {
    this.resetBar();
  }

  /** Writes `outs[k][r]` for every output (NaN = null). */
  protected abstract write(outs: readonly Float64Array[], r: number): void;
  /** Clears per-bar accumulators. */
  protected abstract resetBar(): void;
  /** Per-bar and carried state as JSON fields (NaN through `numberToJson`). */
  protected abstract saveState(): { [k: string]: JsonValue };
  /** Restores `saveState`'s fields. @throws TypeError on a malformed field. */
  protected abstract loadState(s: { readonly [k: string]: JsonValue }): void;

  snapshot(): JsonValue {
    return { v: 1, state: this.saveState() };
  }

  /** @throws TypeError on a state of another version or shape. */
  restore(state: JsonValue): void {
    const s = stateObject(state, this.id);
    if (s.v !== 1) throw new TypeError(`${this.id}: unsupported state version ${String(s.v)}`);
    this.loadState(stateObject(s.state ?? null, this.id));
  }
}

/** A boolean field of a restored state. @throws TypeError if it is not a boolean. */
export function stateBool(s: { readonly [k: string]: JsonValue }, key: string): boolean {
  const v = s[key];
  if (typeof v !== "boolean") throw new TypeError(`state field ${key} must be a boolean`);
  return v;
}

/**
 * Running sample moments (Welford's update on values shifted by the first one, so nearly constant
 * inputs do not cancel). `std()` is the sample standard deviation (ddof 1), NaN below 2 values; it
 * matches a two-pass computation to ~n·ε relative. O(1) per value, no allocation.
 */
export class ShiftedMoments {
  n = 0;
  private shift = 0;
  private mean = 0;
  private m2 = 0;

  /** Adds one value (not NaN). */
  push(x: number): void {
    if (this.n === 0) this.shift = x;
    const d = x - this.shift;
    const n = ++this.n;
    const delta = d - this.mean;
    this.mean += delta / n;
    this.m2 += delta * (d - this.mean);
  }

  /** Sample std (ddof 1); NaN with fewer than 2 values. */
  std(): number {
    return this.n >= 2 ? Math.sqrt(Math.max(0, this.m2) / (this.n - 1)) : Number.NaN;
  }

  /** Forgets every value. */
  reset(): void {
    this.n = 0;
    this.shift = 0;
    this.mean = 0;
    this.m2 = 0;
  }

  /** State as `[n, shift, mean, m2]`. */
  toJson(): JsonValue {
    return [this.n, this.shift, this.mean, this.m2];
  }

  /** @throws TypeError on a malformed state. */
  fromJson(v: JsonValue | undefined): void {
    if (!Array.isArray(v) || v.length !== 4 || v.some((x) => typeof x !== "number"))
      throw new TypeError("ShiftedMoments: state must be 4 numbers");
    const [n, shift, mean, m2] = v as [number, number, number, number];
    this.n = n;
    this.shift = shift;
    this.mean = mean;
    this.m2 = m2;
  }
}

/**
 * A growable Float64Array of the bar's values (median, n-unique): amortised O(1) `push` (the array
 * doubles when full), cleared per bar without freeing. Memory is the largest bar's event count.
 */
export class GrowableBuffer {
  private buf = new Float64Array(64);
  n = 0;

  /** Appends one value. */
  push(x: number): void {
    if (this.n === this.buf.length) {
      const next = new Float64Array(this.buf.length * 2);
      next.set(this.buf);
      this.buf = next;
    }
    this.buf[this.n++] = x;
  }

  /** Empties the buffer (keeps its memory). */
  clear(): void {
    this.n = 0;
  }

  /** Sorts the held values in place (ascending) and returns a view of them. */
  sorted(): Float64Array {
    return this.buf.subarray(0, this.n).sort();
  }

  /** Median (mean of the two middle values for an even count, as Polars); NaN when empty. */
  median(): number {
    if (this.n === 0) return Number.NaN;
    const s = this.sorted();
    const h = this.n >> 1;
    return this.n % 2 === 1 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
  }

  /** Number of distinct values (sorts in place; +0 and −0 are one value). */
  distinct(): number {
    if (this.n === 0) return 0;
    const s = this.sorted();
    let k = 1;
    for (let i = 1; i < s.length; i++) if (s[i] !== s[i - 1]) k++;
    return k;
  }

  /** The held values as a JSON array. */
  toJson(): JsonValue {
    return numbersToJson(this.buf.subarray(0, this.n));
  }

  /** @throws TypeError if `v` is not a numeric array. */
  fromJson(s: { readonly [k: string]: JsonValue }, key: string): void {
    const xs = stateNumbers(s, key);
    this.n = 0;
    for (const x of xs) this.push(x);
  }
}

/** Level-0 (best) prices and sizes of a quotes or book row, in increments; NaN when missing. */
export interface L1 {
  bidPx: number;
  bidQty: number;
  askPx: number;
  askQty: number;
}

/** The L1 columns `L1Reader` reads (quotes as stored, book_snapshot_25 level 0). */
export const L1_READ_COLUMNS: readonly string[] = ["bid_px_int", "bid_qty_int", "ask_px_int", "ask_qty_int"];

/**
 * Reads the best bid/ask of a quotes or book_snapshot_25 row; its columns are resolved once per batch.
 * Declare `readsOf(role, L1_READ_COLUMNS)` as the role's reads.
 */
export class L1Reader {
  private rows: TypedRows | null = null;
  private book = false;
  private bidPx = EMPTY_F64;
  private bidQty = EMPTY_F64;
  private askPx = EMPTY_F64;
  private askQty = EMPTY_F64;
  private bidPxL = EMPTY_LEVELS;
  private bidQtyL = EMPTY_LEVELS;
  private askPxL = EMPTY_LEVELS;
  private askQtyL = EMPTY_LEVELS;

  /**
   * Reads row `i` of `rows` into `out`: the quotes columns as stored, or level 0 of the book_snapshot_25
   * lists (NaN for an empty side); price and qty increments. No allocation.
   * @throws ConfigError if the batch lacks an L1 column or stores it otherwise.
   */
  read(rows: TypedRows, i: number, out: L1): void {
    if (rows !== this.rows) this.bind(rows);
    if (this.book) {
      out.bidPx = level0(this.bidPxL, i);
      out.bidQty = level0(this.bidQtyL, i);
      out.askPx = level0(this.askPxL, i);
      out.askQty = level0(this.askQtyL, i);
    } else {
      out.bidPx = this.bidPx[i]!;
      out.bidQty = this.bidQty[i]!;
      out.askPx = this.askPx[i]!;
      out.askQty = this.askQty[i]!;
    }
  }

  private bind(rows: TypedRows): void {
    this.rows = rows;
    this.book = rows.table === "book_snapshot_25";
    if (this.book) {
      this.bidPxL = levels(rows, "bid_px_int");
      this.bidQtyL = levels(rows, "bid_qty_int");
      this.askPxL = levels(rows, "ask_px_int");
      this.askQtyL = levels(rows, "ask_qty_int");
    } else {
      this.bidPx = f64(rows, "bid_px_int");
      this.bidQty = f64(rows, "bid_qty_int");
      this.askPx = f64(rows, "ask_px_int");
      this.askQty = f64(rows, "ask_qty_int");
    }
  }
}

function level0(col: LevelColumn, i: number): number {
  return col.lens[i]! > 0 ? col.values[i * BOOK_DEPTH]! : Number.NaN;
}

/** Σ of the first min(k, len) levels of row `i` of a book level column (0 for an empty side). */
export function levelSum(col: LevelColumn, i: number, k: number): number {
  const n = Math.min(k, col.lens[i]!);
  const base = i * BOOK_DEPTH;
  let s = 0;
  for (let j = 0; j < n; j++) s += col.values[base + j]!;
  return s;
}

/** Spread in bps of the mid: 1e4·(ask − bid)/((ask + bid)/2); NaN if a side is missing or mid ≤ 0. */
export function spreadBps(bid: number, ask: number): number {
  // 1e4·(ask − bid)/((ask + bid)/2) = 2e4·(ask − bid)/(ask + bid): exact numerator and denominator
  // (integers below 2^53), one correctly rounded division
  const twoMid = ask + bid;
  return twoMid > 0 ? (2e4 * (ask - bid)) / twoMid : Number.NaN;
}
