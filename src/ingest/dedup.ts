/**
 * Cross-file deduplication: a row that another committed source file of the same stream (same table,
 * exchange, symbol) already put in the lake is not written again.
 *
 * Identity of a row (the dedup rule):
 * - by the vendor's own identity where the table has one and the row carries it (`VENDOR_IDENTITY`):
 *   `trade_id` (trades), `liquidation_id` (liquidations), `update_id` (quotes, book_snapshot_25: the
 *   Binance bookTicker `u` / book update id), (`interval_us`, `bar_start_us`) for vendor bars, the
 *   funding time `ts_exch_us` for funding events. Two rows with the same vendor identity are the same
 *   event even when their arrival times differ (two recorders of one stream); the row already in the
 *   lake is kept. If their exchange-side content (`ts_exch_us` and every value column, prices and sizes
 *   compared in natural units so that two registry versions compare exactly) differs, the new row is
 *   not a duplicate but a conflict: it is rejected (quarantined) with a reason naming the lake's file,
 *   line and the differing field, never written beside the other.
 * - otherwise (derivative_ticker, Tardis quotes/books without update ids, trades with an empty id) by
 *   the whole row: `ts_local_us`, `ts_exch_us` and every value column. Only byte-identical events of
 *   one stream match (overlapping downloads or copies of one capture); two recorders of a stream
 *   without vendor ids cannot be told apart from genuinely distinct events and are both kept.
 *
 * Scope: only rows of *other* committed files are compared (a file never deduplicates against itself
 * or against the previous ingest of the same content it replaces), within the new file's time range of
 * that exchange/symbol widened by `DEDUP_SLACK_US` on each side (recorders' clocks differ). Rows
 * repeated inside one file are kept as the vendor sent them.
 *
 * Cost: nothing when no committed part of the stream overlaps that window (the usual case); otherwise
 * the overlapping rows are read once per stream and indexed by identity.
 */
import { resolve } from "node:path";
import pl from "nodejs-polars";
import { formatFixed, type Increment, parseIncrement } from "../core/fixed.js";
import type { TableBuffer } from "../lake/buffer.js";
import { partsFor } from "../lake/catalog.js";
import type { FileManifest } from "../lake/manifest.js";
import type { SymbolRegistry } from "../lake/registry.js";
import { BOOK_DEPTH, COMMON_COLUMNS, type ColumnSpec, TABLES, type TableName } from "../schema/tables.js";

/** Columns holding the vendor's identity of a row, per table (null: the table has none). */
export const VENDOR_IDENTITY: Readonly<Record<TableName, readonly string[] | null>> = {
  trades: ["trade_id"],
  liquidations: ["liquidation_id"],
  quotes: ["update_id"],
  book_snapshot_25: ["update_id"],
  ohlcv_bars: ["interval_us", "bar_start_us"],
  quote_bars: ["interval_us", "bar_start_us"],
  funding_events: ["ts_exch_us"],
  derivative_ticker: null,
  // one open-interest snapshot per vendor time; long/short rows of different REST endpoints share a time
  // (each fills its own column), so they are compared as whole rows
  open_interest: ["ts_exch_us"],
  long_short_ratio: null,
};

/** Existing rows are looked up within the new file's time range widened by this much (µs) each side. */
export const DEDUP_SLACK_US = 60_000_000;

/** Read access to rows of one table (a buffer of the new file, or rows read back from the lake). */
interface RowAccess {
  readonly length: number;
  /** Number (NaN = null) of an i64/f64/i8 column. */
  num(col: string, i: number): number;
  str(col: string, i: number): string | null;
  /** Levels of a list column. */
  list(col: string, i: number): ArrayLike<number>;
  symbolId(i: number): number;
}

/** The increments a row's fixed-point values were encoded with (null: unknown symbol_id). */
type Incs = { readonly price: Increment; readonly amount: Increment } | null;

/** A value column compared between rows: its spec and how to render it in natural units. */
interface Field {
  readonly spec: ColumnSpec;
  readonly inc: "price" | "amount" | null;
}

/** One table's identity columns and compared fields (see the module doc). */
class TableRule {
  readonly identity: readonly string[] | null;
  readonly fields: readonly Field[];
  /** Identity columns stored as strings (ids), the others are numbers. */
  private readonly strIdentity: ReadonlySet<string>;
  constructor(readonly table: TableName) {
    this.identity = VENDOR_IDENTITY[table];
    this.strIdentity = new Set(
      TABLES[table].columns
        .filter((c) => c.dtype === "str" && this.identity?.includes(c.name))
        .map((c) => c.name),
    );
    const tsExch = COMMON_COLUMNS.find((c) => c.name === "ts_exch_us")!;
    const cols = [tsExch, ...TABLES[table].columns].filter((c) => !(this.identity ?? []).includes(c.name));
    this.fields = cols.map((spec) => ({
      spec,
      inc: spec.unit === "price_increment" ? "price" : spec.unit === "amount_increment" ? "amount" : null,
    }));
  }

  /** The vendor identity of row `i`, or null when the table has none or the row lacks it. */
  identityKey(rows: RowAccess, i: number): string | null {
    if (this.identity === null) return null;
    let key = "";
    for (const col of this.identity) {
      const v = this.strIdentity.has(col) ? rows.str(col, i) : numText(rows.num(col, i));
      if (v === null || v === "") return null;
      key += `${v}\u0000`;
    }
    return key;
  }

  /** Rendered values of row `i` (natural units for prices and sizes), one per `fields` entry. */
  values(rows: RowAccess, i: number, incs: Incs): string[] {
    const out: string[] = [];
    for (const f of this.fields) {
      const { name, dtype } = f.spec;
      if (dtype === "str") {
        out.push(rows.str(name, i) ?? "");
      } else if (dtype === "list_i64") {
        const lv = rows.list(name, i);
        const parts: string[] = [];
        for (let k = 0; k < lv.length; k++) parts.push(fixedText(lv[k]!, f.inc, incs, rows.symbolId(i)));
        out.push(parts.join(" "));
      } else {
        out.push(fixedText(rows.num(name, i), f.inc, incs, rows.symbolId(i)));
      }
    }
    return out;
  }

  /** The index key of row `i`: its vendor identity, else its whole content (with `ts_local_us`). */
  key(rows: RowAccess, i: number, tsLocal: number, incs: Incs): { key: string; byIdentity: boolean } {
    const id = this.identityKey(rows, i);
    if (id !== null) return { key: `i\u0000${id}`, byIdentity: true };
    return { key: `c\u0000${tsLocal}\u0000${this.values(rows, i, incs).join("\u0000")}`, byIdentity: false };
  }
}

function numText(v: number): string | null {
  return Number.isNaN(v) ? null : String(v);
}

/** A value in natural units (exact decimal) when it is a fixed-point price/size with known increments. */
function fixedText(v: number, inc: "price" | "amount" | null, incs: Incs, symbolId: number): string {
  if (Number.isNaN(v)) return "";
  if (inc === null) return String(v);
  if (incs === null || !Number.isSafeInteger(v)) return `${v}@${symbolId}`; // comparable only within one version
  return formatFixed(v, inc === "price" ? incs.price : incs.amount);
}

/** Rows of the new file's buffer. */
function bufferAccess(buf: TableBuffer): RowAccess {
  const i8 = new Set(TABLES[buf.table].columns.filter((c) => c.dtype === "i8").map((c) => c.name));
  return {
    length: buf.length,
    num: (col, i) => {
      if (col === "ts_exch_us") return buf.tsExch.data[i]!;
      return i8.has(col) ? buf.i8(col).data[i]! : buf.num(col).data[i]!;
    },
    str: (col, i) => buf.str(col).data[i] ?? null,
    list: (col, i) => {
      const l = buf.list(col);
      return l.values.subarray(i * l.width, i * l.width + l.lens[i]!);
    },
    symbolId: () => buf.symbolId,
  };
}

/** Rows read back from committed parts, with their lineage. */
interface ExistingRows extends RowAccess {
  readonly tsLocal: Float64Array;
  readonly fileId: Float64Array;
  readonly line: Float64Array;
}

function frameAccess(table: TableName, df: pl.DataFrame): ExistingRows {
  const n = df.height;
  const nums = new Map<string, Float64Array>();
  const strs = new Map<string, (string | null)[]>();
  const lists = new Map<string, (number[] | null)[]>();
  const numOf = (name: string): Float64Array =>
    df
      .select(pl.col(name).cast(pl.Float64).fillNull(pl.lit(Number.NaN)))
      .getColumn(name)
      .toTypedArray() as Float64Array; // cast to Float64 just above
  for (const spec of [...COMMON_COLUMNS, ...TABLES[table].columns]) {
    if (spec.dtype === "str") strs.set(spec.name, df.getColumn(spec.name).toArray() as (string | null)[]);
    else if (spec.dtype === "list_i64")
      lists.set(
        spec.name,
        // Cast to List(Float64) here: every element is a number[] (or null), which the typings cannot say.
        df
          .select(pl.col(spec.name).cast(pl.List(pl.Float64)))
          .getColumn(spec.name)
          .toArray() as unknown as (number[] | null)[],
      );
    else nums.set(spec.name, numOf(spec.name));
  }
  const empty: number[] = [];
  return {
    length: n,
    num: (col, i) => nums.get(col)![i]!,
    str: (col, i) => strs.get(col)![i] ?? null,
    list: (col, i) => (lists.get(col)![i] ?? empty).slice(0, BOOK_DEPTH),
    symbolId: (i) => nums.get("symbol_id")![i]!,
    tsLocal: nums.get("ts_local_us")!,
    fileId: nums.get("file_id")!,
    line: nums.get("file_line_number")!,
  };
}

/** What `StreamDedup.filter` decided for the rows of one buffer. */
export interface DedupOutcome {
  /** 1 = write the row, 0 = drop it (duplicate or conflict). */
  readonly keep: Uint8Array;
  /** Dropped duplicates per committed file id that holds them. */
  readonly duplicatesByFile: Map<number, number>;
  /** Rows rejected as conflicts: same vendor identity, different values. */
  readonly conflicts: { index: number; field: string; reason: string }[];
}

/** The committed rows of one stream near the new file's time range, indexed by identity. */
export class StreamDedup {
  private readonly rule: TableRule;
  private readonly index = new Map<string, number>();
  private readonly incCache = new Map<number, Incs>();

  private constructor(
    readonly table: TableName,
    private readonly existing: ExistingRows | null,
    private readonly registry: SymbolRegistry,
    private readonly sources: ReadonlyMap<number, string>,
  ) {
    this.rule = new TableRule(table);
    if (existing === null) return;
    for (let i = 0; i < existing.length; i++) {
      const { key } = this.rule.key(existing, i, existing.tsLocal[i]!, this.incsOf(existing.symbolId(i)));
      if (!this.index.has(key)) this.index.set(key, i);
    }
  }

  /**
   * Reads the rows of `others` (committed manifests of other files) of one stream with ts_local_us in
   * [fromUs, toUs] and indexes them.
   * @throws the Parquet reader's error if a listed part cannot be read.
   */
  static load(
    lake: string,
    others: readonly FileManifest[],
    table: TableName,
    exchange: string,
    symbol: string,
    fromUs: number,
    toUs: number,
    registry: SymbolRegistry,
  ): StreamDedup {
    const parts = partsFor(others, table, exchange, symbol, fromUs, toUs + 1);
    const sources = new Map<number, string>();
    for (const m of others) sources.set(m.file_id, m.source);
    if (parts.length === 0) return new StreamDedup(table, null, registry, sources);
    const frames = parts.map((p) =>
      pl
        .readParquet(resolve(lake, p.path))
        .filter(pl.col("ts_local_us").gtEq(fromUs).and(pl.col("ts_local_us").ltEq(toUs))),
    );
    const df = frames.length === 1 ? frames[0]! : pl.concat(frames, { how: "vertical" });
    return new StreamDedup(table, df.height === 0 ? null : frameAccess(table, df), registry, sources);
  }

  /** True when no committed row is near: every row is kept without looking at it. */
  get empty(): boolean {
    return this.index.size === 0;
  }

  private incsOf(symbolId: number): Incs {
    let x = this.incCache.get(symbolId);
    if (x === undefined) {
      const e = this.registry.byId(symbolId);
      x =
        e === undefined
          ? null
          : { price: parseIncrement(e.price_increment), amount: parseIncrement(e.amount_increment) };
      this.incCache.set(symbolId, x);
    }
    return x;
  }

  /** Decides, for every row of `buf`, whether it is new, a duplicate, or a conflict (see the module doc). */
  filter(buf: TableBuffer, incs: { price: Increment; amount: Increment }): DedupOutcome {
    const n = buf.length;
    const keep = new Uint8Array(n).fill(1);
    const duplicatesByFile = new Map<number, number>();
    const conflicts: DedupOutcome["conflicts"] = [];
    const ex = this.existing;
    if (ex === null || this.index.size === 0) return { keep, duplicatesByFile, conflicts };
    const rows = bufferAccess(buf);
    for (let i = 0; i < n; i++) {
      const { key, byIdentity } = this.rule.key(rows, i, buf.tsLocal.data[i]!, incs);
      const j = this.index.get(key);
      if (j === undefined) continue;
      keep[i] = 0;
      const fileId = ex.fileId[j]!;
      if (byIdentity) {
        const mine = this.rule.values(rows, i, incs);
        const theirs = this.rule.values(ex, j, this.incsOf(ex.symbolId(j)));
        const k = mine.findIndex((v, x) => v !== theirs[x]);
        if (k >= 0) {
          const field = this.rule.fields[k]!.spec.name;
          const id = (this.rule.identity ?? [])
            .map((c) => `${c} ${idText(rows, c, i, this.table)}`)
            .join(", ");
          const unit = this.rule.fields[k]!.inc === null ? "" : " (natural units)";
          conflicts.push({
            index: i,
            field,
            reason:
              `${id} is already in the lake from file_id ${fileId} (${this.sources.get(fileId) ?? "?"} ` +
              `line ${ex.line[j]}) with ${field} ${theirs[k] || "null"}${unit}; this line has ${mine[k] || "null"}`,
          });
          continue;
        }
      }
      duplicatesByFile.set(fileId, (duplicatesByFile.get(fileId) ?? 0) + 1);
    }
    return { keep, duplicatesByFile, conflicts };
  }
}

function idText(rows: RowAccess, col: string, i: number, table: TableName): string {
  const spec = TABLES[table].columns.find((c) => c.name === col);
  return spec?.dtype === "str" ? (rows.str(col, i) ?? "null") : String(rows.num(col, i));
}
