/**
 * Query API: rows of one table for one exchange/symbol over [start, end) of ts_local_us, in the total
 * order of DESIGN.md (ts_local_us, table rank, file_id, file_line_number), as a nodejs-polars DataFrame
 * (`queryFrame`) or as typed columns (`query.trades(...)` etc.).
 *
 * Typed columns: every numeric column is a Float64Array (i64 values exact below 2^53; null = NaN);
 * `side` is an Int8Array; strings are `(string | null)[]`; book level lists are `{ values, lens }` with
 * `BOOK_DEPTH` slots per row (`values[i * 25 + k]` is level k of row i, `lens[i]` levels used).
 */
import { resolve } from "node:path";
import pl from "nodejs-polars";
import { ConfigError } from "../core/errors.js";
import { parseIncrement } from "../core/fixed.js";
import { type TimeInput, toUs } from "../core/time.js";
import { Lake, type LakeRef } from "../lake/lake.js";
import { rescaleExprs, type ScalePlan } from "../lake/scale.js";
import { BOOK_DEPTH, type ColumnSpec, TABLES, type TableName, tableColumns } from "../schema/tables.js";

/**
 * Rows of one table for one exchange/symbol over [start, end) of ts_local_us (see the module doc).
 *
 * Fixed-point scale: a read whose rows all come from one symbol-registry version returns the `_int`
 * columns as stored (in that version's increments, the row's `symbol_id`). A read spanning several
 * versions (a finer increment opened mid-range) returns every `_int` column in the instrument's common
 * scale, `Lake.scale(exchange, symbol)` — the finest increments of its versions, the scale the engine
 * computes on — the coarser rows multiplied exactly (lake/scale.ts); `symbol_id` keeps the version a row
 * was ingested under (lineage). Versions without an exact common scale make the read fail with a
 * `ConfigError` naming them.
 */
export interface QueryRequest {
  /** Lake root or an open handle. */
  readonly lake: LakeRef;
  readonly exchange: string;
  /** Exchange symbol as stored (e.g. BTCUSDT, BTCUSD_PERP). */
  readonly symbol: string;
  /** Inclusive start of ts_local_us (ISO string, Date, or µs). */
  readonly start: TimeInput;
  /** Exclusive end of ts_local_us. */
  readonly end: TimeInput;
  /**
   * Also return each fixed-point column decoded to natural units, named without `_int` (`px_int` →
   * `px` in quote currency, `qty_int` → `qty` in base units, `bid_px_int` → `bid_px` lists, …) — as
   * Pointline's `decoded=True`. Rows are decoded with the increments of their `symbol_id`, or of the
   * common scale when the read was converted (see `QueryRequest`): value · m / 10^s for an increment
   * m·10^−s, one correctly rounded division of exact integers (the double nearest the decimal price)
   * while |value · m| < 2^53. The `_int` columns stay. Default false.
   */
  readonly decoded?: boolean;
}

/** Book level lists of one column: `BOOK_DEPTH` slots per row. */
export interface LevelColumn {
  readonly values: Float64Array;
  readonly lens: Uint8Array;
}

/** One typed column: numbers (Float64Array, NaN = null), `side` (Int8Array), strings, or book levels. */
export type TypedColumn = Float64Array | Int8Array | (string | null)[] | LevelColumn;

/** Rows of one table as typed columns by name, in the total order; `length` rows. */
export interface TypedRows {
  readonly table: TableName;
  readonly length: number;
  readonly columns: Readonly<Record<string, TypedColumn>>;
}

/**
 * Reads the rows of `table` in [start, end) sorted in the total order.
 * @throws ConfigError if end ≤ start.
 */
export async function queryFrame(table: TableName, req: QueryRequest): Promise<pl.DataFrame> {
  const { df, lake, scale } = await readRows(table, req);
  return req.decoded ? decodeFrame(table, df, lake, scale) : df;
}

/**
 * The rows of a query, in the total order, and the common scale their fixed-point columns were converted
 * to when they span several registry versions (null: one version, as stored).
 */
async function readRows(
  table: TableName,
  req: QueryRequest,
): Promise<{ df: pl.DataFrame; lake: Lake; scale: ScalePlan | null }> {
  const startUs = toUs(req.start);
  const endUs = toUs(req.end);
  if (!(endUs > startUs)) throw new ConfigError(`query end (${endUs}) must be after start (${startUs})`);
  const lake = await Lake.from(req.lake);
  const parts = lake.parts(table, req.exchange, req.symbol, startUs, endUs);
  const names = tableColumns(table).map((c) => c.name);
  if (parts.length === 0) return { df: emptyFrame(table), lake, scale: null };
  const inRange = pl.col("ts_local_us").gtEq(startUs).and(pl.col("ts_local_us").lt(endUs));
  const read = parts
    .map((p) => ({
      p,
      df: pl
        .readParquet(resolve(lake.root, p.path))
        .select(...names)
        .filter(inRange),
    }))
    .filter((x) => x.df.height > 0);
  // rows of several registry versions: one scale, exactly (lake/scale.ts)
  const ids = new Set(read.map((x) => x.p.symbol_id));
  const scale = ids.size > 1 ? lake.scale(req.exchange, req.symbol) : null;
  const frames = read.map(({ p, df }) => {
    const f = scale?.factors[p.symbol_id];
    return f ? df.withColumns(...rescaleExprs(table, f)) : df;
  });
  if (frames.length === 0) return { df: emptyFrame(table), lake, scale: null };
  const df = frames.length === 1 ? frames[0]! : pl.concat(frames, { how: "vertical" });
  return { df: df.sort(["ts_local_us", "file_id", "file_line_number"]), lake, scale };
}

/** A column the typed converter reads: a canonical column, or a decoded (float) column or list. */
export interface ConvertSpec extends Omit<ColumnSpec, "dtype"> {
  readonly dtype: ColumnSpec["dtype"] | "list_f64";
}

/** Decoded columns of `table` (see `QueryRequest.decoded`): name without `_int`, natural units. */
export function decodedColumnSpecs(table: TableName): ConvertSpec[] {
  return tableColumns(table)
    .filter((c) => c.unit === "price_increment" || c.unit === "amount_increment")
    .map((c) => ({
      name: c.name.replace(/_int$/, ""),
      dtype: c.dtype === "list_i64" ? ("list_f64" as const) : ("f64" as const),
      nullable: c.nullable,
      unit: c.unit === "price_increment" ? "quote currency" : "base units",
      description: `${c.name} decoded with the row's symbol_id increments`,
    }));
}

/**
 * The decoded columns of typed rows of `table` (every canonical column present), each row with the
 * increments of its own `symbol_id`: v · m / 10^s in float64, computed here rather than in Polars, whose
 * float division is not correctly rounded (618131 / 10 gives 61813.100000000006 there).
 * @throws ConfigError when a row's symbol_id is not in the registry.
 */
export function decodeTypedRows(
  rows: TypedRows,
  lake: Lake,
  scale: ScalePlan | null = null,
): Record<string, Float64Array | LevelColumn> {
  const table = rows.table;
  const n = rows.length;
  const ids = rows.columns.symbol_id as Float64Array;
  const incs = new Map<number, { price: [number, number]; amount: [number, number] }>();
  const common = scale
    ? {
        price: [scale.price.mantissa, 10 ** scale.price.scale] as [number, number],
        amount: [scale.amount.mantissa, 10 ** scale.amount.scale] as [number, number],
      }
    : null;
  const incOf = (id: number) => {
    if (common) return common;
    let x = incs.get(id);
    if (!x) {
      const entry = lake.registry.byId(id);
      if (!entry)
        throw new ConfigError(`${table} rows carry symbol_id ${id}, which the lake's registry lacks`);
      const p = parseIncrement(entry.price_increment);
      const a = parseIncrement(entry.amount_increment);
      x = { price: [p.mantissa, 10 ** p.scale], amount: [a.mantissa, 10 ** a.scale] };
      incs.set(id, x);
    }
    return x;
  };
  const out: Record<string, Float64Array | LevelColumn> = {};
  for (const c of tableColumns(table)) {
    if (c.unit !== "price_increment" && c.unit !== "amount_increment") continue;
    const name = c.name.replace(/_int$/, "");
    const which = c.unit === "price_increment" ? "price" : "amount";
    const src = rows.columns[c.name];
    if (c.dtype === "list_i64") {
      const lc = src as LevelColumn;
      const values = new Float64Array(lc.values.length);
      for (let i = 0; i < n; i++) {
        const [m, d] = incOf(ids[i]!)[which];
        for (let k = i * BOOK_DEPTH; k < (i + 1) * BOOK_DEPTH; k++) values[k] = (lc.values[k]! * m) / d;
      }
      out[name] = { values, lens: lc.lens };
    } else {
      const v = src as Float64Array;
      const values = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const [m, d] = incOf(ids[i]!)[which];
        values[i] = (v[i]! * m) / d;
      }
      out[name] = values;
    }
  }
  return out;
}

/** Adds the decoded columns (see `QueryRequest.decoded`) to a frame of `table` with every column. */
function decodeFrame(table: TableName, df: pl.DataFrame, lake: Lake, scale: ScalePlan | null): pl.DataFrame {
  const decoded = decodeTypedRows(toTypedRows(table, df), lake, scale);
  const series = decodedColumnSpecs(table).map((spec) => {
    const col = decoded[spec.name]!;
    if (col instanceof Float64Array) return pl.Series(spec.name, col, pl.Float64);
    const lists: number[][] = [];
    for (let i = 0; i < df.height; i++) {
      const row: number[] = [];
      for (let k = 0; k < col.lens[i]!; k++) row.push(col.values[i * BOOK_DEPTH + k]!);
      lists.push(row);
    }
    return pl.Series(spec.name, lists, pl.List(pl.Float64));
  });
  const scalars = decodedColumnSpecs(table).filter((c) => c.dtype === "f64");
  return df.hstack(pl.DataFrame(series)).withColumns(...scalars.map((c) => pl.col(c.name).fillNan(null)));
}

const POLARS_DTYPE = {
  i64: pl.Int64,
  f64: pl.Float64,
  i8: pl.Int8,
  str: pl.Utf8,
  list_i64: pl.List(pl.Int64),
  list_f64: pl.List(pl.Float64),
} as const;

function emptyFrame(table: TableName): pl.DataFrame {
  // nodejs-polars cannot build an empty List series from [] with a dtype: cast an empty untyped one
  return pl.DataFrame(
    tableColumns(table).map((c) =>
      c.dtype === "list_i64"
        ? pl.Series(c.name, [] as number[][]).cast(POLARS_DTYPE[c.dtype])
        : pl.Series(c.name, [], POLARS_DTYPE[c.dtype]),
    ),
  );
}

/**
 * Converts frames holding `specs` (columns of one canonical table) to typed columns (see module doc).
 * Its Polars expressions are built once — building one costs about a millisecond in nodejs-polars —
 * so a converter reused for every chunk of a replay converts with a handful of native calls per chunk:
 * numeric columns in one select, list lengths once per book side (px and qty lists of a side are written
 * together at ingest), one explode per list column.
 */
export class TypedConverter {
  private readonly numeric: pl.Expr[];
  private readonly numericNames: string[];
  private readonly int8Names: string[];
  private readonly strNames: string[];
  private readonly lists: { name: string; explode: pl.Expr }[];
  private readonly sideLengths: pl.Expr[];

  constructor(
    readonly table: TableName,
    readonly specs: readonly ConvertSpec[] = tableColumns(table),
  ) {
    const nums = specs.filter((c) => c.dtype === "i64" || c.dtype === "f64");
    this.numeric = nums.map((c) => pl.col(c.name).cast(pl.Float64).fillNull(pl.lit(Number.NaN)));
    this.numericNames = nums.map((c) => c.name);
    this.int8Names = specs.filter((c) => c.dtype === "i8").map((c) => c.name);
    this.strNames = specs.filter((c) => c.dtype === "str").map((c) => c.name);
    this.lists = specs
      .filter((c) => c.dtype === "list_i64" || c.dtype === "list_f64")
      .map((c) => ({ name: c.name, explode: listExplodeExpr(c.name) }));
    this.sideLengths =
      this.lists.length > 0
        ? [listLengthsExpr("bid_px_int").alias("bid_len"), listLengthsExpr("ask_px_int").alias("ask_len")]
        : [];
  }

  /**
   * @param transferable every column in an ArrayBuffer of its own that `postMessage` can transfer (detach)
   *   rather than copy: nodejs-polars' `toTypedArray()` returns arrays over external (native) memory, which
   *   a transfer list silently serialises and the receiver copies again. Costs one memcpy per such column.
   */
  convert(df: pl.DataFrame, transferable = false): TypedRows {
    if (df.height === 0) return this.empty();
    return this.build(
      df,
      df.select(...this.numeric),
      this.lists.length > 0 ? df.select(...this.sideLengths) : null,
      this.lists.map((l) => df.select(l.explode)),
      transferable,
    );
  }

  /**
   * `convert` with its casts, list lengths and explodes as lazy queries collected concurrently on Polars'
   * thread pool (`collect()`), so the calling thread only copies out the results (the prefetch worker's
   * path). Same rows as `convert`.
   */
  async convertAsync(df: pl.DataFrame, transferable = false): Promise<TypedRows> {
    if (df.height === 0) return this.empty();
    const lazy = df.lazy();
    const [conv, lens, ...flats] = await Promise.all([
      lazy.select(...this.numeric).collect(),
      this.lists.length > 0 ? lazy.select(...this.sideLengths).collect() : null,
      ...this.lists.map((l) => lazy.select(l.explode).collect()),
    ]);
    return this.build(df, conv, lens, flats as pl.DataFrame[], transferable);
  }

  private build(
    df: pl.DataFrame,
    conv: pl.DataFrame,
    lens: pl.DataFrame | null,
    flats: readonly pl.DataFrame[],
    transferable: boolean,
  ): TypedRows {
    // The casts below are where TypedRows are made, from frames whose columns were cast to Float64 (or are
    // Int8 as stored): nodejs-polars types toTypedArray() as any typed array. Readers use the typed
    // accessors of engine/inputs.ts instead.
    const n = df.height;
    const columns: Record<string, TypedColumn> = {};
    for (const name of this.numericNames) {
      const a = conv.getColumn(name).toTypedArray() as Float64Array;
      columns[name] = transferable ? new Float64Array(a) : a;
    }
    for (const name of this.int8Names)
      columns[name] = new Int8Array(df.getColumn(name).toTypedArray() as Int8Array); // own copy
    for (const name of this.strNames) columns[name] = df.getColumn(name).toArray() as (string | null)[];
    if (lens) {
      const bid = lens.getColumn("bid_len").toTypedArray() as Float64Array;
      const ask = lens.getColumn("ask_len").toTypedArray() as Float64Array;
      this.lists.forEach((l, k) => {
        const flat = flats[k]!.getColumn(l.name).toTypedArray() as Float64Array; // Float64 by `explode`
        columns[l.name] = slotLayout(flat, n, l.name.startsWith("bid_") ? bid : ask, transferable);
      });
    }
    return { table: this.table, length: n, columns };
  }

  /** Zero rows. */
  empty(): TypedRows {
    const columns: Record<string, TypedColumn> = {};
    for (const c of this.specs) {
      columns[c.name] =
        c.dtype === "i8"
          ? new Int8Array(0)
          : c.dtype === "str"
            ? []
            : c.dtype === "list_i64"
              ? { values: new Float64Array(0), lens: new Uint8Array(0) }
              : new Float64Array(0);
    }
    return { table: this.table, length: 0, columns };
  }
}

/** Converts a frame of a canonical table (every column) to typed columns (see module doc). */
export function toTypedRows(table: TableName, df: pl.DataFrame): TypedRows {
  return new TypedConverter(table).convert(df);
}

/**
 * A list column as BOOK_DEPTH slots per row. Reads the flattened values in one typed copy (explode),
 * not per-row JS arrays; an empty or null list explodes to one null placeholder, skipped here.
 * With `transferable`, the values are in an ArrayBuffer of their own (see `TypedConverter.convert`).
 */
export function levelColumn(
  df: pl.DataFrame,
  name: string,
  n: number,
  lengthsOf?: Float64Array,
  explode: pl.Expr = listExplodeExpr(name),
  transferable = false,
): LevelColumn {
  const lengths = lengthsOf ?? listLengths(df, name);
  if (n === 0) return { values: new Float64Array(0), lens: new Uint8Array(0) };
  const flat = df.select(explode).getColumn(name).toTypedArray() as Float64Array; // cast to Float64 by `explode`
  return slotLayout(flat, n, lengths, transferable);
}

/** Exploded list values (`flat`) of `n` rows with list lengths `lengths` as BOOK_DEPTH slots per row. */
function slotLayout(
  flat: Float64Array,
  n: number,
  lengths: Float64Array,
  transferable: boolean,
): LevelColumn {
  const lens = new Uint8Array(n);
  if (flat.length === n * BOOK_DEPTH) {
    // every row holds exactly 25 levels (full books): the exploded values already are the slot layout
    let full = true;
    for (let i = 0; i < n && full; i++) full = lengths[i] === BOOK_DEPTH;
    if (full) return { values: transferable ? new Float64Array(flat) : flat, lens: lens.fill(BOOK_DEPTH) };
  }
  const values = new Float64Array(n * BOOK_DEPTH);
  let p = 0;
  for (let i = 0; i < n; i++) {
    const len = lengths[i]!;
    if (len === 0) {
      p++; // an empty or null list explodes to one null placeholder
      continue;
    }
    const used = Math.min(len, BOOK_DEPTH);
    lens[i] = used;
    const o = i * BOOK_DEPTH;
    for (let k = 0; k < used; k++) values[o + k] = flat[p + k]!; // no subarray views: no per-row allocation
    p += len;
  }
  return { values, lens };
}

/** The expression exploding a list column to float64 values (NaN for null elements). */
export function listExplodeExpr(name: string): pl.Expr {
  return pl.col(name).explode().cast(pl.Float64).fillNull(pl.lit(Number.NaN));
}

/** The expression of a list column's lengths as float64 (null list = 0). */
export function listLengthsExpr(name: string): pl.Expr {
  return pl.col(name).lst.lengths().cast(pl.Float64).fillNull(pl.lit(0));
}

/** Lengths of the lists of one list column (null list = 0). */
export function listLengths(df: pl.DataFrame, name: string): Float64Array {
  return df.select(listLengthsExpr(name)).getColumn(name).toTypedArray() as Float64Array; // Float64 expr
}

async function typed(table: TableName, req: QueryRequest): Promise<TypedRows> {
  const { df, lake, scale } = await readRows(table, req);
  const rows = toTypedRows(table, df);
  if (!req.decoded) return rows;
  return { ...rows, columns: { ...rows.columns, ...decodeTypedRows(rows, lake, scale) } };
}

/** Typed-column readers per canonical table (rows in the total order). */
export const query = {
  trades: (req: QueryRequest): Promise<TypedRows> => typed("trades", req),
  quotes: (req: QueryRequest): Promise<TypedRows> => typed("quotes", req),
  bookSnapshot25: (req: QueryRequest): Promise<TypedRows> => typed("book_snapshot_25", req),
  derivativeTicker: (req: QueryRequest): Promise<TypedRows> => typed("derivative_ticker", req),
  liquidations: (req: QueryRequest): Promise<TypedRows> => typed("liquidations", req),
  ohlcvBars: (req: QueryRequest): Promise<TypedRows> => typed("ohlcv_bars", req),
  fundingEvents: (req: QueryRequest): Promise<TypedRows> => typed("funding_events", req),
} as const;

/** Table rank of the total order (re-exported for callers merging several tables). */
export function tableRank(t: TableName): number {
  return TABLES[t].rank;
}
