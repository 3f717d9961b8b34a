/**
 * Event sources of a replay: the lake partitions of one (table, exchange, symbol), read in time chunks
 * of `chunkUs` so memory is bounded by the chunk, not by the range. Each chunk is returned as typed
 * columns sorted in the total order (ts_local_us, file_id, file_line_number); the table rank breaks
 * ties across sources in the merge.
 */
import { resolve } from "node:path";
import pl from "nodejs-polars";
import { sha256File } from "../ingest/lines.js";
import type { FileManifest, PartInfo } from "../ingest/session.js";
import { partsFor } from "../lake/catalog.js";
import { levelColumn, type TypedColumn, type TypedRows } from "../query/query.js";
import { type TableName, tableColumns } from "../schema/tables.js";
import { ROLE_TABLE, type SourceRole } from "./operator.js";

/** One input stream of a replay. */
export interface EngineSource {
  readonly role: SourceRole;
  readonly exchange: string;
  readonly symbol: string;
}

/** Content identity of one input partition (for manifests and lineage). */
export interface InputPartition {
  readonly role: SourceRole;
  readonly table: TableName;
  readonly path: string;
  readonly file_id: string;
  readonly rows: number;
  readonly sha256: string;
}

export class SourceReader {
  readonly table: TableName;
  private readonly parts: PartInfo[];
  private readonly columns: string[];

  constructor(
    private readonly lake: string,
    manifests: readonly FileManifest[],
    readonly source: EngineSource,
    fromUs: number,
    toUs: number,
  ) {
    this.table = ROLE_TABLE[source.role];
    this.parts = partsFor(manifests, this.table, source.exchange, source.symbol, fromUs, toUs);
    // string columns (exchange, trade_id, …) are lineage only: operators never read them
    this.columns = tableColumns(this.table)
      .filter((c) => c.dtype !== "str")
      .map((c) => c.name);
  }

  /** Partitions this source reads, with the sha256 of each Parquet part's bytes. */
  async partitions(): Promise<InputPartition[]> {
    const out: InputPartition[] = [];
    for (const p of this.parts) {
      out.push({
        role: this.source.role,
        table: this.table,
        path: p.path,
        file_id: p.path.match(/part-([0-9a-f]+)-/)?.[1] ?? "",
        rows: p.rows,
        sha256: (await sha256File(resolve(this.lake, p.path))).sha256,
      });
    }
    return out;
  }

  /** The earliest ts_local_us ≥ fromUs at which this source may have rows (+∞ if none): skips gaps. */
  nextDataUs(fromUs: number): number {
    let next = Number.POSITIVE_INFINITY;
    for (const p of this.parts) {
      if (p.last_ts_local_us < fromUs) continue;
      next = Math.min(next, Math.max(fromUs, p.first_ts_local_us));
    }
    return next;
  }

  /** Rows with ts_local_us in [fromUs, toUs), in the total order. */
  load(fromUs: number, toUs: number): TypedRows {
    const frames: pl.DataFrame[] = [];
    for (const p of this.parts) {
      if (p.last_ts_local_us < fromUs || p.first_ts_local_us >= toUs) continue;
      frames.push(
        pl
          .scanParquet(resolve(this.lake, p.path))
          .filter(pl.col("ts_local_us").gtEq(fromUs).and(pl.col("ts_local_us").lt(toUs)))
          .select(...this.columns)
          .collectSync(),
      );
    }
    if (frames.length === 0) return emptyRows(this.table);
    let df = frames.length === 1 ? frames[0]! : pl.concat(frames, { how: "vertical" });
    if (frames.length > 1) df = df.sort(["ts_local_us", "file_id", "file_line_number"]);
    return this.typed(df);
  }

  /** Numeric columns as Float64Array (NaN null) in one conversion, side as Int8Array, lists as levels. */
  private typed(df: pl.DataFrame): TypedRows {
    const n = df.height;
    const specs = tableColumns(this.table).filter((c) => c.dtype !== "str");
    const nums = specs.filter((c) => c.dtype === "i64" || c.dtype === "f64");
    const conv = df.select(...nums.map((c) => pl.col(c.name).cast(pl.Float64).fillNull(pl.lit(Number.NaN))));
    const columns: Record<string, TypedColumn> = {};
    for (const c of specs) {
      if (c.dtype === "i64" || c.dtype === "f64")
        columns[c.name] = conv.getColumn(c.name).toTypedArray() as Float64Array;
      else if (c.dtype === "i8")
        columns[c.name] = Int8Array.from(df.getColumn(c.name).toTypedArray() as Int8Array);
      else columns[c.name] = levelColumn(df, c.name, n);
    }
    return { table: this.table, length: n, columns };
  }
}

/** Zero rows of `table` as typed columns. */
function emptyRows(table: TableName): TypedRows {
  const columns: Record<string, TypedColumn> = {};
  for (const c of tableColumns(table).filter((x) => x.dtype !== "str")) {
    columns[c.name] =
      c.dtype === "i8"
        ? new Int8Array(0)
        : c.dtype === "str"
          ? []
          : c.dtype === "list_i64"
            ? { values: new Float64Array(0), lens: new Uint8Array(0) }
            : new Float64Array(0);
  }
  return { table, length: 0, columns };
}
