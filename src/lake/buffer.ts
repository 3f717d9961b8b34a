/**
 * Growable columnar row buffers for one (table, exchange, symbol) of one source file.
 *
 * Numeric columns are Float64Array (i64 values are exact below 2^53; null = NaN), side is Int8Array,
 * book levels are fixed-width slots (`BOOK_DEPTH` per row) plus a per-row level count. Appending a row
 * allocates nothing except when a column doubles its capacity (amortised O(1)).
 */
import pl from "nodejs-polars";
import { BOOK_DEPTH, type ColumnSpec, TABLES, type TableName } from "../schema/tables.js";

const INITIAL_CAPACITY = 1024;

export class NumColumn {
  data: Float64Array;
  constructor(capacity: number) {
    this.data = new Float64Array(capacity);
  }
  grow(capacity: number): void {
    const d = new Float64Array(capacity);
    d.set(this.data);
    this.data = d;
  }
}

export class I8Column {
  data: Int8Array;
  constructor(capacity: number) {
    this.data = new Int8Array(capacity);
  }
  grow(capacity: number): void {
    const d = new Int8Array(capacity);
    d.set(this.data);
    this.data = d;
  }
}

export class StrColumn {
  data: (string | null)[] = [];
  grow(_capacity: number): void {}
}

/** Up to `width` values per row, stored in fixed slots; `lens[i]` is the number used by row i. */
export class ListColumn {
  values: Float64Array;
  lens: Uint8Array;
  constructor(
    capacity: number,
    readonly width: number,
  ) {
    this.values = new Float64Array(capacity * width);
    this.lens = new Uint8Array(capacity);
  }
  grow(capacity: number): void {
    const v = new Float64Array(capacity * this.width);
    v.set(this.values);
    this.values = v;
    const l = new Uint8Array(capacity);
    l.set(this.lens);
    this.lens = l;
  }
}

type AnyColumn = NumColumn | I8Column | StrColumn | ListColumn;

/**
 * Rows of one table for one exchange/symbol from one source file, in file order.
 * Usage per row: `const i = buf.beginRow(tsLocalUs, tsExchUs, line)`, then write `col.data[i] = v`
 * for each column obtained once via `num()/i8()/str()/list()`.
 */
export class TableBuffer {
  length = 0;
  private capacity = INITIAL_CAPACITY;
  readonly tsLocal = new NumColumn(INITIAL_CAPACITY);
  readonly tsExch = new NumColumn(INITIAL_CAPACITY);
  readonly line = new NumColumn(INITIAL_CAPACITY);
  private readonly cols = new Map<string, AnyColumn>();
  private readonly all: AnyColumn[] = [this.tsLocal, this.tsExch, this.line];

  constructor(
    readonly table: TableName,
    readonly exchange: string,
    readonly symbol: string,
    readonly symbolId: number,
    readonly fileId: number,
  ) {
    for (const spec of TABLES[table].columns) {
      let col: AnyColumn;
      switch (spec.dtype) {
        case "i64":
        case "f64":
          col = new NumColumn(INITIAL_CAPACITY);
          break;
        case "i8":
          col = new I8Column(INITIAL_CAPACITY);
          break;
        case "str":
          col = new StrColumn();
          break;
        case "list_i64":
          col = new ListColumn(INITIAL_CAPACITY, BOOK_DEPTH);
          break;
      }
      this.cols.set(spec.name, col);
      this.all.push(col);
    }
  }

  private column<T extends AnyColumn>(name: string, ctor: abstract new (...a: never[]) => T): T {
    const col = this.cols.get(name);
    if (!(col instanceof ctor)) throw new Error(`table ${this.table} has no ${ctor.name} column '${name}'`);
    return col;
  }
  num(name: string): NumColumn {
    return this.column(name, NumColumn);
  }
  i8(name: string): I8Column {
    return this.column(name, I8Column);
  }
  str(name: string): StrColumn {
    return this.column(name, StrColumn);
  }
  list(name: string): ListColumn {
    return this.column(name, ListColumn);
  }

  /** Appends a row's common columns and returns its index; fill the table columns at that index. */
  beginRow(tsLocalUs: number, tsExchUs: number, line: number): number {
    if (this.length === this.capacity) {
      this.capacity *= 2;
      for (const c of this.all) c.grow(this.capacity);
    }
    const i = this.length++;
    this.tsLocal.data[i] = tsLocalUs;
    this.tsExch.data[i] = tsExchUs;
    this.line.data[i] = line;
    return i;
  }

  /**
   * Keeps only the rows whose `keep[i]` is non-zero, in order (compacts every column in place);
   * `keep.length` must equal `length`.
   * @throws RangeError if `keep.length !== length`.
   */
  retain(keep: Uint8Array): void {
    if (keep.length !== this.length)
      throw new RangeError(`retain: mask of ${keep.length} rows for a buffer of ${this.length}`);
    let w = 0;
    for (let r = 0; r < this.length; r++) {
      if (keep[r] === 0) continue;
      if (w !== r) for (const c of this.all) moveRow(c, r, w);
      w++;
    }
    this.length = w;
    for (const c of this.all) if (c instanceof StrColumn) c.data.length = w;
  }

  /** Drops all rows, keeping capacity (after a flush). */
  clear(): void {
    this.length = 0;
    for (const c of this.all) if (c instanceof StrColumn) c.data.length = 0;
  }

  /** Rows [start, end) as a nodejs-polars DataFrame with the canonical schema and dtypes. */
  toDataFrame(start = 0, end = this.length): pl.DataFrame {
    const n = end - start;
    const series: pl.Series[] = [
      pl.Series("exchange", new Array<string>(n).fill(this.exchange), pl.Utf8),
      i64Series("symbol_id", new Float64Array(n).fill(this.symbolId)),
      i64Series("ts_local_us", this.tsLocal.data.subarray(start, end)),
      i64Series("ts_exch_us", this.tsExch.data.subarray(start, end)),
      i64Series("file_id", new Float64Array(n).fill(this.fileId)),
      i64Series("file_line_number", this.line.data.subarray(start, end)),
    ];
    const nanToNull: string[] = [];
    for (const spec of TABLES[this.table].columns) {
      series.push(this.columnSeries(spec, start, end));
      if (spec.dtype === "f64" && spec.nullable) nanToNull.push(spec.name);
    }
    const df = pl.DataFrame(series);
    // In memory NaN marks a missing float; in Parquet it is a real null (null ratios, is_null).
    return nanToNull.length === 0 ? df : df.withColumns(...nanToNull.map((c) => pl.col(c).fillNan(null)));
  }

  private columnSeries(spec: ColumnSpec, start: number, end: number): pl.Series {
    const col = this.cols.get(spec.name)!;
    if (col instanceof NumColumn) {
      const sub = col.data.subarray(start, end);
      return spec.dtype === "i64" ? i64Series(spec.name, sub) : pl.Series(spec.name, Float64Array.from(sub));
    }
    if (col instanceof I8Column) return pl.Series(spec.name, Int8Array.from(col.data.subarray(start, end)));
    if (col instanceof StrColumn) return pl.Series(spec.name, col.data.slice(start, end), pl.Utf8);
    const rows: number[][] = [];
    for (let i = start; i < end; i++) {
      const len = col.lens[i]!;
      const base = i * col.width;
      rows.push(Array.from(col.values.subarray(base, base + len)));
    }
    return pl.Series(spec.name, rows, pl.List(pl.Int64));
  }
}

/** Copies row `from` of a column to row `to` (`to < from`). */
function moveRow(c: AnyColumn, from: number, to: number): void {
  if (c instanceof ListColumn) {
    c.values.copyWithin(to * c.width, from * c.width, (from + 1) * c.width);
    c.lens[to] = c.lens[from]!;
  } else if (c instanceof StrColumn) {
    c.data[to] = c.data[from] ?? null;
  } else {
    c.data[to] = c.data[from]!;
  }
}

/** Float64Array of integral values (NaN = null) → Int64 Series. Exact below 2^53. */
export function i64Series(name: string, values: Float64Array): pl.Series {
  return pl.Series(name, Float64Array.from(values)).cast(pl.Int64);
}
