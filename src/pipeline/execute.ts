/**
 * One replay of a pipeline plan's features (spine + operator outputs) over a range, as typed columns, and
 * the PIT-ordering guard the `pit_ordering_check` gate runs it with.
 *
 * The guard tests the data flow rather than trusting declarations:
 * - an observer subscribed to every source checks that events arrive in the total order
 *   (ts_local_us, table rank, file_id, file_line_number) and that, when a row is emitted, no event later
 *   than the row's `available_at_us` has been fed (clock rows: none at or after it — bars are half-open);
 * - every operator sees its event batches through a read-checked view: reading a row of a batch that the
 *   engine has not fed yet (peeking ahead in the batch) is a violation naming the operator, table, row and
 *   its ts_local_us. Views cost a Proxy lookup per read, so the guard is for gate runs, not production runs.
 *   An operator that declares its `reads` sees only those columns, so the gate runs also check that the
 *   declaration covers what the operator reads (an undeclared column is missing: `ConfigError`).
 */

import type pl from "nodejs-polars";
import { US_PER_HOUR, US_PER_MS } from "../core/time.js";
import { type ColumnReads, EMPTY_F64, f64, type OperatorReads } from "../engine/inputs.js";
import type { EventCursor, JsonValue, Operator, SourceRole, SpineRow } from "../engine/operator.js";
import { roleTable } from "../engine/operator.js";
import type { PartCache } from "../engine/part-cache.js";
import { MutableEventCursor, Replay, type ReplaySummary, SPINE_COLUMNS } from "../engine/replay.js";
import { frameUnits, toFrameUnit } from "../engine/units.js";
import { typedColumnsToFrame } from "../features/frame.js";
import type { LakeRef } from "../lake/lake.js";
import type { TypedColumn, TypedRows } from "../query/query.js";
import { BOOK_DEPTH, TABLES } from "../schema/tables.js";
import type { PipelinePlan } from "./plan.js";

/** Columns of one run: spine columns and feature columns by name (NaN = null), `n` rows. */
export interface FeatureRun {
  readonly n: number;
  readonly values: Map<string, Float64Array>;
  readonly summary: ReplaySummary;
}

/** Options of one run; the defaults reproduce the plan's own range. */
export interface RunOptions {
  readonly startUs?: number;
  readonly endUs?: number;
  readonly chunkMs?: number;
  /** Prefetch worker (default: only when the range plus warm-up exceeds 2 h). */
  readonly prefetch?: boolean;
  readonly batchRows?: number;
  /** Decoded-partition cache shared with other runs of the same parts (engine/part-cache.ts). */
  readonly partCache?: PartCache;
  readonly guard?: PitGuard;
  /** Replace the plan's operators (tests inject broken operators this way). */
  readonly operators?: readonly Operator[];
}

/** Replays the plan's operators over [startUs, endUs) and returns the rows as typed columns. */
export async function runFeatures(
  plan: PipelinePlan,
  lake: LakeRef,
  opts: RunOptions = {},
): Promise<FeatureRun> {
  let ops: Operator[] = opts.operators ? [...opts.operators] : plan.operators.map((o) => o.create());
  if (opts.guard) {
    const g = opts.guard;
    const roles = new Set<SourceRole>();
    for (const o of ops) for (const r of o.inputs) roles.add(r);
    if (plan.spine.type !== "clock") roles.add("trades");
    ops = [g.observer([...roles], plan.spine.type === "clock"), ...ops.map((o) => g.wrap(o))];
  }
  const replay = new Replay({
    lake,
    exchange: plan.exchange,
    symbol: plan.symbol,
    startUs: opts.startUs ?? plan.startUs,
    endUs: opts.endUs ?? plan.endUs,
    spine: plan.spine,
    operators: ops,
    warmupUs: plan.warmupUs,
    ...(opts.chunkMs !== undefined ? { chunkUs: opts.chunkMs * US_PER_MS } : {}),
    // a worker thread pays off only when there are several chunks to overlap (default chunk: 1 h)
    prefetch:
      opts.prefetch ??
      (opts.endUs ?? plan.endUs) - (opts.startUs ?? plan.startUs) + plan.warmupUs > 2 * US_PER_HOUR,
    ...(opts.batchRows !== undefined ? { batchRows: opts.batchRows } : {}),
    ...(opts.partCache ? { partCache: opts.partCache } : {}),
  });
  const names = plan.columns.filter((c) => c.role !== "label").map((c) => c.name);
  // the sink: fixed-point outputs become natural units (engine/units.ts), spine columns are kept
  const units = [
    ...SPINE_COLUMNS.map(() => null),
    ...frameUnits(
      ops.flatMap((o) => o.outputs),
      plan.increments,
    ),
  ];
  const parts: Float64Array[][] = names.map(() => []);
  let n = 0;
  for await (const b of replay.batches()) {
    const spine = [b.tsEventUs, b.tsEndUs, b.availableAtUs, b.barIndex, b.barDurationUs];
    const cols = [...spine, ...b.columns];
    if (cols.length !== names.length)
      throw new Error(`replay produced ${cols.length} columns, plan ${names.length}`);
    for (let k = 0; k < cols.length; k++) parts[k]!.push(cols[k]!.slice(0, b.length));
    n += b.length;
  }
  const values = new Map<string, Float64Array>();
  for (let k = 0; k < names.length; k++) {
    const u = units[k];
    const v = concat(parts[k]!, n);
    values.set(names[k]!, u ? toFrameUnit(v, u) : v);
  }
  return { n, values, summary: replay.summary };
}

function concat(chunks: readonly Float64Array[], n: number): Float64Array {
  if (chunks.length === 1 && chunks[0]!.length === n) return chunks[0]!;
  const out = new Float64Array(n);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

/** One PIT-ordering violation found by the guard. */
export interface PitOrderingViolation {
  readonly kind: "order" | "late_event" | "peek";
  readonly operator: string;
  readonly message: string;
}

/** Collects PIT-ordering evidence during a run (see the module doc). */
export class PitGuard {
  readonly violations: PitOrderingViolation[] = [];
  violationCount = 0;
  eventsChecked = 0;
  rowsChecked = 0;
  readsChecked = 0;
  private readonly fed = new WeakMap<TypedRows, { max: number }>();
  private readonly views = new WeakMap<TypedRows, Map<string, TypedRows>>();

  constructor(private readonly maxViolations = 20) {}

  record(v: PitOrderingViolation): void {
    this.violationCount++;
    if (this.violations.length < this.maxViolations) this.violations.push(v);
  }

  /** Notes that row `i` of `rows` has been fed. */
  markFed(rows: TypedRows, i: number): void {
    const s = this.fedState(rows);
    if (i > s.max) s.max = i;
  }

  /** The fed-row state of a batch (one object per batch, shared by its views' read checks). */
  fedState(rows: TypedRows): { max: number } {
    let s = this.fed.get(rows);
    if (s === undefined) {
      s = { max: -1 };
      this.fed.set(rows, s);
    }
    return s;
  }

  /**
   * The read-checked view of `rows` for operator `id`: every column, or only `declared` ones (the
   * operator's `reads` of the event's role), so a read of an undeclared column finds no column (the
   * typed accessors then throw a `ConfigError` naming table and column).
   */
  view(rows: TypedRows, id: string, declared?: ColumnReads): TypedRows {
    let perOp = this.views.get(rows);
    if (!perOp) {
      perOp = new Map();
      this.views.set(rows, perOp);
    }
    let v = perOp.get(id);
    if (!v) {
      const fed = this.fedState(rows);
      const columns: Record<string, TypedColumn> = {};
      for (const [name, col] of Object.entries(rows.columns))
        if (declared === undefined || Object.hasOwn(declared, name))
          columns[name] = this.guardColumn(rows, fed, name, col, id);
      v = { table: rows.table, length: rows.length, columns };
      perOp.set(id, v);
    }
    return v;
  }

  private peek(rows: TypedRows, max: number, row: number, column: string, id: string): void {
    const tsCol = rows.columns.ts_local_us;
    const ts = tsCol instanceof Float64Array ? tsCol[row] : undefined;
    this.record({
      kind: "peek",
      operator: id,
      message: `operator ${id} read ${rows.table}.${column} of row ${row} (ts_local_us ${ts}) before the engine fed it (last fed row ${max})`,
    });
  }

  private guardArray<T extends Float64Array | Int8Array | Uint8Array>(
    target: T,
    rows: TypedRows,
    fed: { max: number },
    column: string,
    id: string,
    perRow: number,
  ): T {
    // the hot path of a guarded run (every indexed read of an operator): the batch's fed state is held
    // directly, not looked up per read
    return new Proxy(target, {
      get: (t, p) => {
        if (typeof p === "string") {
          const c = p.charCodeAt(0);
          if (c >= 48 && c <= 57) {
            const idx = +p;
            if (Number.isInteger(idx)) {
              this.readsChecked++;
              const row = perRow === 1 ? idx : Math.floor(idx / perRow);
              if (row > fed.max) this.peek(rows, fed.max, row, column, id);
              return t[idx];
            }
          }
        }
        const v: unknown = Reflect.get(t, p, t);
        return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(t) : v;
      },
    });
  }

  private guardColumn(
    rows: TypedRows,
    fed: { max: number },
    name: string,
    col: TypedColumn,
    id: string,
  ): TypedColumn {
    if (col instanceof Float64Array || col instanceof Int8Array)
      return this.guardArray(col, rows, fed, name, id, 1);
    if (Array.isArray(col)) return col;
    return {
      values: this.guardArray(col.values, rows, fed, name, id, BOOK_DEPTH),
      lens: this.guardArray(col.lens, rows, fed, name, id, 1),
    };
  }

  /** Wraps an operator so it reads its events through checked views. */
  wrap(op: Operator): Operator {
    return new GuardedOperator(op, this);
  }

  /** The observer operator: total order of every event and no late event at emit. */
  observer(roles: readonly SourceRole[], halfOpen: boolean): Operator {
    return new OrderObserver(roles, halfOpen, this);
  }
}

class GuardedOperator implements Operator {
  readonly id: string;
  readonly inputs: readonly SourceRole[];
  readonly reads: OperatorReads | undefined;
  readonly outputs: Operator["outputs"];
  private readonly cursor = new MutableEventCursor();
  /** The current batch, its fed state and this operator's view of it (not state). */
  private rows: TypedRows | null = null;
  private fed = { max: -1 };
  private view: TypedRows | null = null;

  constructor(
    private readonly inner: Operator,
    private readonly guard: PitGuard,
  ) {
    this.id = inner.id;
    this.inputs = inner.inputs;
    this.reads = inner.reads;
    this.outputs = inner.outputs;
  }

  init(ctx: Parameters<NonNullable<Operator["init"]>>[0]): void {
    this.inner.init?.(ctx);
  }

  onEvent(ev: EventCursor): void {
    // the batch's fed state and this operator's view of it, resolved once per batch
    if (ev.rows !== this.rows) {
      this.rows = ev.rows;
      this.fed = this.guard.fedState(ev.rows);
      this.view = this.guard.view(ev.rows, this.id, this.reads?.[ev.role]);
    }
    if (ev.i > this.fed.max) this.fed.max = ev.i;
    const c = this.cursor;
    c.role = ev.role;
    c.rows = this.view!;
    c.i = ev.i;
    c.tsLocalUs = ev.tsLocalUs;
    c.qtyInt = ev.qtyInt;
    c.continuation = ev.continuation;
    this.inner.onEvent(c);
  }

  emit(row: SpineRow, out: readonly Float64Array[], r: number): void {
    this.inner.emit(row, out, r);
  }

  discardBar(): void {
    this.inner.discardBar?.();
  }

  snapshot(): JsonValue {
    return this.inner.snapshot();
  }

  restore(state: JsonValue): void {
    this.inner.restore(state);
  }
}

class OrderObserver implements Operator {
  readonly id = "pit_ordering_observer";
  readonly outputs = [] as const;
  private lastTs = Number.NEGATIVE_INFINITY;
  private lastRank = -1;
  private lastFile = -1;
  private lastLine = -1;
  /** The order keys it reads, on every role it observes. */
  readonly reads: OperatorReads;
  /** Order-key columns of the current batch (resolved when the batch changes; not state). */
  private rows: TypedRows | null = null;
  private fileCol = EMPTY_F64;
  private lineCol = EMPTY_F64;

  constructor(
    readonly inputs: readonly SourceRole[],
    private readonly halfOpen: boolean,
    private readonly guard: PitGuard,
  ) {
    const keys = { ts_local_us: "f64", file_id: "f64", file_line_number: "f64" } as const;
    this.reads = Object.fromEntries(inputs.map((r) => [r, keys]));
  }

  onEvent(ev: EventCursor): void {
    if (ev.continuation) return;
    const g = this.guard;
    g.eventsChecked++;
    const rank = TABLES[roleTable(ev.role)].rank;
    if (ev.rows !== this.rows) {
      this.rows = ev.rows;
      this.fileCol = f64(ev.rows, "file_id");
      this.lineCol = f64(ev.rows, "file_line_number");
    }
    const file = this.fileCol[ev.i]!;
    const line = this.lineCol[ev.i]!;
    const t = ev.tsLocalUs;
    const after =
      t > this.lastTs ||
      (t === this.lastTs &&
        (rank > this.lastRank ||
          (rank === this.lastRank &&
            (file > this.lastFile || (file === this.lastFile && line > this.lastLine)))));
    if (!after) {
      g.record({
        kind: "order",
        operator: "(engine)",
        message: `event ${roleTable(ev.role)} file ${file} line ${line} at ${t} µs arrived after (${this.lastTs}, rank ${this.lastRank}, file ${this.lastFile}, line ${this.lastLine}) in violation of the total order`,
      });
    }
    this.lastTs = t;
    this.lastRank = rank;
    this.lastFile = file;
    this.lastLine = line;
  }

  emit(row: SpineRow): void {
    const g = this.guard;
    g.rowsChecked++;
    if (this.lastTs > row.availableAtUs || (this.halfOpen && this.lastTs >= row.availableAtUs)) {
      g.record({
        kind: "late_event",
        operator: "(engine)",
        message: `row ts_event_us ${row.tsEventUs} (available_at_us ${row.availableAtUs}) was emitted after an event at ${this.lastTs} µs was fed`,
      });
    }
  }

  snapshot(): JsonValue {
    return null;
  }

  restore(): void {}
}

/**
 * A DataFrame of the given columns (Int64 columns cast from their exact float values; NaN → null in
 * Float64 columns). Columns missing from `values` are an error.
 */
export function frameOf(
  columns: readonly { readonly name: string; readonly dtype: "Int64" | "Float64" }[],
  values: ReadonlyMap<string, Float64Array>,
): pl.DataFrame {
  return typedColumnsToFrame(
    columns,
    columns.map((c) => {
      const v = values.get(c.name);
      if (!v) throw new Error(`frameOf: no values for column ${c.name}`);
      return v;
    }),
  );
}
