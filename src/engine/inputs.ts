/**
 * Declared input columns and typed column accessors (DESIGN.md "Computation model": an operator declares
 * its inputs as tables and columns).
 *
 * **Declaration.** An operator lists, per source role, the columns it reads and the storage it reads them
 * as (`Operator.reads`, e.g. `{ trades: { px_int: "f64", side: "i8" } }`). `checkOperatorInputs` checks
 * the declaration against the canonical schema (`tableColumns` of schema/tables.ts: `COMMON_COLUMNS` and
 * the table's own, table of a role from `ROLE_TABLE`) once, when a `Driver` is built: every column exists in the role's table with that storage,
 * every role in `inputs` declares its columns and every declared role is one of `inputs`.
 *
 * **Accessors.** `f64`, `i8`, `levels`, `strs` and `numeric` return one column of a batch with its
 * concrete type, or throw a `ConfigError` naming table and column. Resolve them once per batch, not per
 * event: batches are immutable and never reused (operator.ts), so a reference comparison suffices:
 *
 * ```ts
 * if (ev.rows !== this.rows) { this.rows = ev.rows; this.px = f64(ev.rows, "px_int"); }
 * const p = this.px[ev.i]!;
 * ```
 *
 * The accessors check storage with `instanceof`, which also accepts the PIT guard's read-checked views
 * (pipeline/execute.ts: proxies of the same typed arrays). Column names are plain strings: the schema's
 * `TABLES` is typed by `TableSpec` (names are `string`), and the declaration check covers what literal
 * types would, once per run.
 *
 * Not read through accessors: the Driver's merge keys (ts_local_us, file_id, file_line_number) and the
 * trade fields it hands the spine (px_int, qty_int, side), cast in driver.ts once per chunk / run of
 * trades. The Driver is not an operator and those are non-optional columns of the canonical schema every
 * Source delivers; they were left as casts to keep driver.ts edits minimal while it is edited elsewhere.
 */
import { ConfigError } from "../core/errors.js";
import type { LevelColumn, TypedColumn, TypedRows } from "../query/query.js";
import { type DType, tableColumns } from "../schema/tables.js";
import type { Operator, SourceRole } from "./operator.js";
import { roleTable } from "./operator.js";

/**
 * How an operator reads a column: `f64` a Float64Array (schema dtypes i64 and f64; null = NaN), `i8` an
 * Int8Array (dtype i8), `levels` a `LevelColumn` (dtype list_i64, `BOOK_DEPTH` slots per row), `str` a
 * string array (dtype str).
 */
export type ColumnStorage = "f64" | "i8" | "levels" | "str";

/** Columns read from one role's table: column name → storage it is read as. */
export type ColumnReads = Readonly<Record<string, ColumnStorage>>;

/** Declared reads of an operator, per source role (see `Operator.reads`). */
export type OperatorReads = Readonly<Partial<Record<SourceRole, ColumnReads>>>;

/** The in-memory storage of each schema dtype (query.ts `TypedRows`). */
export const STORAGE_OF_DTYPE: Readonly<Record<DType, ColumnStorage>> = {
  i64: "f64",
  f64: "f64",
  i8: "i8",
  str: "str",
  list_i64: "levels",
};

/** Options of `checkOperatorInputs`. */
export interface CheckInputsOptions {
  /**
   * Reject an operator without a `reads` declaration (default false). The Driver checks every operator
   * with `requireReads: true`: an operator that does not say what it reads cannot run.
   */
  readonly requireReads?: boolean;
}

/**
 * Checks an operator's declared input columns against the schema (see the module doc).
 * @throws ConfigError naming the operator id, role, table and column when a declared column is not in the
 *   role's table or has another storage, a role of `inputs` declares no columns (or, with `requireReads`,
 *   the operator has no `reads`), or a declared role is not one of `inputs`.
 */
export function checkOperatorInputs(op: Operator, opts: CheckInputsOptions = {}): void {
  const reads = op.reads;
  if (reads === undefined) {
    if (opts.requireReads)
      throw new ConfigError(
        `operator ${op.id}: declares no input columns (reads) for its inputs ${op.inputs.join(", ")}`,
      );
    return;
  }
  for (const role of op.inputs) {
    if (reads[role] === undefined)
      throw new ConfigError(
        `operator ${op.id}: input role ${role} (table ${roleTable(role)}) declares no columns in reads`,
      );
  }
  for (const [role, cols] of Object.entries(reads) as [SourceRole, ColumnReads | undefined][]) {
    const table = roleTable(role);
    if (table === undefined) throw new ConfigError(`operator ${op.id}: reads unknown role ${role}`);
    if (cols === undefined) continue;
    if (!op.inputs.includes(role))
      throw new ConfigError(
        `operator ${op.id}: reads role ${role} (table ${table}, columns ${Object.keys(cols).join(", ")}) but does not list it in inputs`,
      );
    const specs = tableColumns(table);
    for (const [column, storage] of Object.entries(cols)) {
      const spec = specs.find((c) => c.name === column);
      if (spec === undefined)
        throw new ConfigError(
          `operator ${op.id}: role ${role} reads ${table}.${column}, but table ${table} has no column ${column}`,
        );
      const actual = STORAGE_OF_DTYPE[spec.dtype];
      if (actual !== storage)
        throw new ConfigError(
          `operator ${op.id}: role ${role} reads ${table}.${column} as ${storage}, but it is ${spec.dtype} (read as ${actual})`,
        );
    }
  }
}

/**
 * The reads of `columns` of `role`'s table, each with its schema storage (for operators whose columns
 * are chosen at run time, e.g. the pipeline's generic aggregations).
 * @throws ConfigError if a column is not in the table.
 */
export function readsOf(role: SourceRole, columns: readonly string[]): ColumnReads {
  const table = roleTable(role);
  const out: Record<string, ColumnStorage> = {};
  for (const column of columns) {
    const spec = tableColumns(table).find((c) => c.name === column);
    if (spec === undefined) throw new ConfigError(`table ${table} (role ${role}) has no column ${column}`);
    out[column] = STORAGE_OF_DTYPE[spec.dtype];
  }
  return out;
}

/** An empty Float64Array (initial value of a column slot before the first batch). */
export const EMPTY_F64: Float64Array = new Float64Array(0);
/** An empty Int8Array (initial value of a column slot before the first batch). */
export const EMPTY_I8: Int8Array = new Int8Array(0);
/** An empty level column (initial value of a column slot before the first batch). */
export const EMPTY_LEVELS: LevelColumn = { values: new Float64Array(0), lens: new Uint8Array(0) };

function storageOf(col: TypedColumn | undefined): string {
  if (col === undefined) return "missing";
  if (col instanceof Float64Array) return "Float64Array";
  if (col instanceof Int8Array) return "Int8Array";
  if (Array.isArray(col)) return "a string array";
  return "a level column";
}

function wrongColumn(rows: TypedRows, name: string, want: string): ConfigError {
  const col = rows.columns[name];
  return new ConfigError(
    col === undefined
      ? `column ${rows.table}.${name} is missing from the batch (wanted ${want})`
      : `column ${rows.table}.${name} is ${storageOf(col)}, not ${want}`,
  );
}

/**
 * Column `name` of a batch as a Float64Array (schema dtypes i64 — exact below 2^53 — and f64; null = NaN;
 * units as in schema/tables.ts).
 * @throws ConfigError naming table and column if it is missing or stored otherwise.
 */
export function f64(rows: TypedRows, name: string): Float64Array {
  const col = rows.columns[name];
  if (col instanceof Float64Array) return col;
  throw wrongColumn(rows, name, "Float64Array (i64/f64)");
}

/**
 * Column `name` of a batch as an Int8Array (schema dtype i8, e.g. `side`: 0 buy, 1 sell, −1 unknown).
 * @throws ConfigError naming table and column if it is missing or stored otherwise.
 */
export function i8(rows: TypedRows, name: string): Int8Array {
  const col = rows.columns[name];
  if (col instanceof Int8Array) return col;
  throw wrongColumn(rows, name, "Int8Array (i8)");
}

/**
 * Column `name` of a batch as a numeric typed array: Float64Array (i64/f64) or Int8Array (i8).
 * @throws ConfigError naming table and column if it is missing or not numeric.
 */
export function numeric(rows: TypedRows, name: string): Float64Array | Int8Array {
  const col = rows.columns[name];
  if (col instanceof Float64Array || col instanceof Int8Array) return col;
  throw wrongColumn(rows, name, "a numeric column (i64/f64/i8)");
}

/**
 * Column `name` of a batch as book levels (schema dtype list_i64): `values[i·BOOK_DEPTH + k]` is level k
 * of row i in increments, valid for k < `lens[i]`.
 * @throws ConfigError naming table and column if it is missing or stored otherwise.
 */
export function levels(rows: TypedRows, name: string): LevelColumn {
  const col = rows.columns[name];
  if (
    col !== undefined &&
    !Array.isArray(col) &&
    !(col instanceof Float64Array) &&
    !(col instanceof Int8Array) &&
    col.values instanceof Float64Array &&
    col.lens instanceof Uint8Array
  )
    return col;
  throw wrongColumn(rows, name, "a level column (list_i64)");
}

/**
 * Column `name` of a batch as strings (schema dtype str; null = null).
 * @throws ConfigError naming table and column if it is missing or stored otherwise.
 */
export function strs(rows: TypedRows, name: string): readonly (string | null)[] {
  const col = rows.columns[name];
  if (Array.isArray(col)) return col;
  throw wrongColumn(rows, name, "a string column (str)");
}

/** The union of several read declarations, role by role (a later storage wins for the same column). */
export function mergeReads(...all: readonly OperatorReads[]): OperatorReads {
  const out: Partial<Record<SourceRole, Record<string, ColumnStorage>>> = {};
  for (const r of all) {
    for (const [role, cols] of Object.entries(r) as [SourceRole, ColumnReads | undefined][]) {
      if (cols === undefined) continue;
      out[role] = { ...(out[role] ?? {}), ...cols };
    }
  }
  return out;
}
