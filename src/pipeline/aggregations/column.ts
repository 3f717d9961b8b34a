/**
 * Generic column aggregations (Pointline `pointline/research/resample/builtins.py`): `sum`, `mean`,
 * `std`, `min`, `max`, `first`, `last`, `count`, `nunique` of the request operator's `source_column`
 * over the bar's events of its source table.
 *
 * Sources: any numeric column the engine loads (Float64Array: i64 / f64 columns, NaN = null; Int8Array:
 * `side`) of trades, quotes, book_snapshot_25 (scalar columns such as `update_id`), derivative_ticker or
 * liquidations. String and book-list columns, and `symbol_id` / `ts_exch_us` (not loaded by the engine,
 * engine/source.ts), are rejected with a `ConfigError` by `impl`. Values are computed in the column's stored
 * unit (increments for `*_px_int` / `*_qty_int`, floats for ticker columns) and declared as such
 * (`price increments`, `qty increments`, or the schema's unit); the default output name drops a trailing
 * `_int` (`px_int` → `px_mean`), so under the units rule the pipeline's sink converts fixed-point
 * results to quote currency / base units (engine/units.ts; name an output `…_int` to keep increments).
 * For trades, `qty_int` is the piece quantity of a split trade (see shared.ts), so `qty_sum`
 * partitions traded volume exactly across bars.
 *
 * Nulls: only non-null values count. Every output is null when the bar has no non-null value, except
 * `count` (0). `std` is the sample std (ddof 1), null below 2 values, by a shifted Welford update (matches
 * a two-pass std to ~n·ε relative). `sum` / `mean` are left-to-right float64 sums in the total order
 * (exact for integer columns while |Σ| < 2^53). `nunique` counts distinct non-null values (Polars
 * `n_unique` also counts null as a value; we do not) from a per-bar growable buffer sorted at emit.
 * `first` / `last` also support `asof_backward`: `last` is then the latest non-null value at or before the
 * row's close (carried across bars since the replay start), `first` the bar's first non-null value or,
 * when the bar has none, that carried value (an empty bar opens and closes at the prevailing state).
 */
import { ConfigError } from "../../core/errors.js";
import { numeric, readsOf } from "../../engine/inputs.js";
import {
  type EventCursor,
  type JsonValue,
  numberToJson,
  type OutputSpec,
  stateNumber,
} from "../../engine/operator.js";
import type { TypedRows } from "../../query/query.js";
import { TABLES, type TableName, tableColumns } from "../../schema/tables.js";
import type { AggregationContext, AggregationParams, AggregationSpec } from "../aggregation-types.js";
import {
  BarOperator,
  defineAggregation,
  GrowableBuffer,
  inBarWindow,
  MODES_ALL,
  out,
  ShiftedMoments,
} from "./shared.js";

/** The generic column aggregations, in catalogue order. */
export const COLUMN_KINDS = [
  "sum",
  "mean",
  "std",
  "min",
  "max",
  "first",
  "last",
  "count",
  "nunique",
] as const;
/** Name of a generic column aggregation (`sum` … `nunique`). */
export type ColumnKind = (typeof COLUMN_KINDS)[number];

/** Tables a generic aggregation may read (every table the engine replays). */
const COLUMN_TABLES: readonly TableName[] = [
  "trades",
  "quotes",
  "book_snapshot_25",
  "derivative_ticker",
  "liquidations",
];

/** Columns of the schema the engine does not load (engine/source.ts `engineColumns`). */
const NOT_LOADED = new Set(["symbol_id", "ts_exch_us"]);

const SOURCE = "Pointline pointline/research/resample/builtins.py";

const EMPTY = new Float64Array(0);

/**
 * The streaming operator of one generic column aggregation (see the module doc). Inputs: the source's
 * role only. O(1) per event except `nunique` (one buffer push; sort of the bar's values at emit).
 */
export class ColumnAggOperator extends BarOperator {
  private readonly column: string;
  /** Trades `qty_int`: read the piece quantity from the cursor. */
  private readonly pieceQty: boolean;
  private readonly asof: boolean;
  private boundRows: TypedRows | null = null;
  private col: Float64Array | Int8Array = EMPTY;

  // per bar
  protected n = 0;
  protected sum = 0;
  protected min = Number.NaN;
  protected max = Number.NaN;
  protected first = Number.NaN;
  protected last = Number.NaN;
  protected readonly moments = new ShiftedMoments();
  protected readonly values = new GrowableBuffer();
  // carried across bars (as-of)
  protected carry = Number.NaN;

  constructor(
    readonly kind: ColumnKind,
    ctx: AggregationContext,
    outputs: readonly OutputSpec[],
  ) {
    super(ctx.operatorName, [ctx.role], outputs);
    const column = ctx.sourceColumn!;
    const spec = tableColumns(ctx.table).find((c) => c.name === column);
    const where = `${ctx.operatorName} (${kind})`;
    if (!spec) throw new ConfigError(`${where}: table ${ctx.table} has no column ${column}`);
    if (spec.dtype === "str" || spec.dtype === "list_i64")
      throw new ConfigError(`${where}: column ${ctx.table}.${column} is ${spec.dtype}, not numeric`);
    if (NOT_LOADED.has(column))
      throw new ConfigError(`${where}: column ${column} is not loaded by the replay engine`);
    this.column = column;
    this.reads = { [ctx.role]: readsOf(ctx.role, [column]) };
    this.pieceQty = ctx.table === "trades" && column === "qty_int";
    this.asof = ctx.joinStrategy === "asof_backward";
  }

  onEvent(ev: EventCursor): void {
    let x: number;
    if (this.pieceQty) x = ev.qtyInt;
    else {
      if (ev.rows !== this.boundRows) this.bind(ev.rows);
      x = this.col[ev.i]!;
    }
    if (Number.isNaN(x)) return;
    if (this.n === 0) {
      this.first = x;
      this.min = x;
      this.max = x;
    } else {
      if (x < this.min) this.min = x;
      if (x > this.max) this.max = x;
    }
    this.n++;
    this.sum += x;
    this.last = x;
    this.carry = x;
    if (this.kind === "std") this.moments.push(x);
    else if (this.kind === "nunique") this.values.push(x);
  }

  /** @throws ConfigError naming table and column if the batch lacks the column or it is not numeric. */
  private bind(rows: TypedRows): void {
    this.col = numeric(rows, this.column);
    this.boundRows = rows;
  }

  protected write(outs: readonly Float64Array[], r: number): void {
    const has = this.n > 0;
    let v: number;
    switch (this.kind) {
      case "sum":
        v = has ? this.sum : Number.NaN;
        break;
      case "mean":
        v = has ? this.sum / this.n : Number.NaN;
        break;
      case "std":
        v = this.moments.std();
        break;
      case "min":
        v = has ? this.min : Number.NaN;
        break;
      case "max":
        v = has ? this.max : Number.NaN;
        break;
      case "first":
        v = has ? this.first : this.asof ? this.carry : Number.NaN;
        break;
      case "last":
        v = this.asof ? this.carry : has ? this.last : Number.NaN;
        break;
      case "count":
        v = this.n;
        break;
      case "nunique":
        v = has ? this.values.distinct() : Number.NaN;
        break;
    }
    outs[0]![r] = v;
  }

  protected resetBar(): void {
    this.n = 0;
    this.sum = 0;
    this.min = Number.NaN;
    this.max = Number.NaN;
    this.first = Number.NaN;
    this.last = Number.NaN;
    this.moments.reset();
    this.values.clear();
  }

  protected saveState(): { [k: string]: JsonValue } {
    return {
      n: this.n,
      sum: this.sum,
      min: numberToJson(this.min),
      max: numberToJson(this.max),
      first: numberToJson(this.first),
      last: numberToJson(this.last),
      moments: this.moments.toJson(),
      values: this.values.toJson(),
      carry: numberToJson(this.carry),
    };
  }

  protected loadState(s: { readonly [k: string]: JsonValue }): void {
    this.n = stateNumber(s, "n");
    this.sum = stateNumber(s, "sum");
    this.min = stateNumber(s, "min");
    this.max = stateNumber(s, "max");
    this.first = stateNumber(s, "first");
    this.last = stateNumber(s, "last");
    this.moments.fromJson(s.moments);
    this.values.fromJson(s, "values");
    this.carry = stateNumber(s, "carry");
  }
}

interface ColumnDoc {
  readonly description: string;
  readonly semanticType: string;
  readonly dtype: "f64" | "i64";
  readonly unit: string;
}

const DOCS: Readonly<Record<ColumnKind, ColumnDoc>> = {
  sum: {
    description: "Σ x over the bar's non-null values of source_column; null if none",
    semanticType: "size",
    dtype: "f64",
    unit: "source column unit",
  },
  mean: {
    description: "Σ x / n over the bar's non-null values of source_column; null if none",
    semanticType: "size",
    dtype: "f64",
    unit: "source column unit",
  },
  std: {
    description:
      "sample standard deviation sqrt(Σ (x − mean)² / (n − 1)) (ddof 1) of the bar's non-null values of source_column; null below 2 values",
    semanticType: "size",
    dtype: "f64",
    unit: "source column unit",
  },
  min: {
    description: "minimum of the bar's non-null values of source_column; null if none",
    semanticType: "size",
    dtype: "f64",
    unit: "source column unit",
  },
  max: {
    description: "maximum of the bar's non-null values of source_column; null if none",
    semanticType: "size",
    dtype: "f64",
    unit: "source column unit",
  },
  first: {
    description:
      "first non-null value of source_column in the bar (null if none); asof_backward: the same, or for a bar without one the latest non-null value before it",
    semanticType: "state_variable",
    dtype: "f64",
    unit: "source column unit",
  },
  last: {
    description:
      "last non-null value of source_column in the bar (null if none); asof_backward: the latest non-null value at or before the row's close",
    semanticType: "state_variable",
    dtype: "f64",
    unit: "source column unit",
  },
  count: {
    description: "number of the bar's events with a non-null source_column (0 if none)",
    semanticType: "event_id",
    dtype: "i64",
    unit: "count",
  },
  nunique: {
    description:
      "number of distinct non-null values of source_column in the bar; null if none (Polars n_unique would also count null)",
    semanticType: "event_id",
    dtype: "i64",
    unit: "count",
  },
};

/**
 * Unit of a source column's values as computed (schema unit; fixed-point units in operator terms).
 * Columns are looked up by name across the canonical tables (a name means the same in every table).
 */
function sourceUnit(column: string): string {
  for (const t of Object.values(TABLES)) {
    const c = t.columns.find((x) => x.name === column);
    if (!c) continue;
    if (c.unit === "price_increment") return "price increments";
    if (c.unit === "amount_increment") return "qty increments";
    return c.unit;
  }
  return "source column unit";
}

/**
 * Default output of a generic aggregation: `${source_column without _int}_${agg}`, in the source
 * column's unit (counts for count / nunique). @throws ConfigError without a column.
 */
function columnOutputs(kind: ColumnKind) {
  return (p: AggregationParams) => {
    if (!p.sourceColumn) throw new ConfigError(`aggregation ${kind} needs source_column`);
    const d = DOCS[kind];
    const unit = d.unit === "source column unit" ? sourceUnit(p.sourceColumn) : d.unit;
    return [out(`${p.sourceColumn.replace(/_int$/, "")}_${kind}`, d.dtype, unit)];
  };
}

function columnSpec(kind: ColumnKind): AggregationSpec {
  const d = DOCS[kind];
  const asof = kind === "first" || kind === "last";
  return defineAggregation({
    name: kind,
    description: d.description,
    requiredColumns: [],
    modeAllowlist: MODES_ALL,
    stage: "aggregate_then_feature",
    semanticType: d.semanticType,
    window: asof
      ? `${inBarWindow("non-null source_column values")}; asof_backward: the latest non-null value at or before the row's close, carried across bars since the replay start`
      : inBarWindow("non-null source_column values"),
    joinStrategies: asof ? ["in_bar", "asof_backward"] : ["in_bar"],
    tables: COLUMN_TABLES,
    needsSourceColumn: true,
    outputs: columnOutputs(kind),
    build: (ctx, outputs) => new ColumnAggOperator(kind, ctx, outputs),
    source: SOURCE,
  });
}

/** `sum` … `nunique`, in catalogue order. */
export const COLUMN_AGGREGATIONS: readonly AggregationSpec[] = COLUMN_KINDS.map(columnSpec);
