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
import { type TypedColumn, type TypedRows, toTypedRows } from "../query/query.js";
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
    this.columns = tableColumns(this.table).map((c) => c.name);
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
    return toTypedRows(this.table, df);
  }
}

/** Zero rows of `table` as typed columns. */
function emptyRows(table: TableName): TypedRows {
  const columns: Record<string, TypedColumn> = {};
  for (const c of tableColumns(table)) {
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
