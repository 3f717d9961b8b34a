/**
 * Event sources of a replay: the lake partitions of one (table, exchange, symbol), read in time chunks
 * of `chunkUs` so memory is bounded by the chunk, not by the range. Each chunk is returned as typed
 * columns sorted in the total order (ts_local_us, file_id, file_line_number); the table rank breaks
 * ties across sources in the merge.
 */
import { resolve } from "node:path";
import pl from "nodejs-polars";
import { PointlineError } from "../core/errors.js";
import { sha256File } from "../lake/hash.js";
import type { Lake } from "../lake/lake.js";
import type { PartInfo } from "../lake/manifest.js";
import { rescaleExprs, type ScaleFactors } from "../lake/scale.js";
import { TypedConverter, type TypedRows } from "../query/query.js";
import { BOOK_DEPTH, type ColumnSpec, type TableName, tableColumns } from "../schema/tables.js";
import { roleTable, type SourceRole } from "./operator.js";
import { concatRows, type PartCache, sliceRows } from "./part-cache.js";

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

/**
 * Engine converters by table: a memo of immutable objects (their Polars expressions cost about 1 ms each
 * to build, ~100 ms per replay of a book + quotes + trades run), shared by every replay of the process.
 */
const CONVERTERS = new Map<TableName, TypedConverter>();
/** The engine columns' `pl.col` expressions by table (a memo like CONVERTERS). */
const SELECTS = new Map<TableName, pl.Expr[]>();

/** What a reader decodes with: built on its first load only (see `SourceReader`). */
interface Decoding {
  /** `pl.col` of each engine column (shared per table, in SELECTS). */
  readonly select: pl.Expr[];
  readonly converter: TypedConverter;
  /** Per symbol_id of a coarser registry version, the expressions that rescale its fixed-point columns. */
  readonly rescale: Map<number, pl.Expr[]>;
}

/** Reads one source's lake parts chunk by chunk as typed rows in the total order (see the module doc). */
export class SourceReader {
  readonly table: TableName;
  /** Built on the first load: a reader that only plans (the main thread of a prefetched replay) builds no Polars expression. */
  private decoding: Decoding | null = null;

  /**
   * Every `load` returns fresh arrays, never reused: batches are immutable once handed to operators
   * (which may keep a reference for a lazy as-of read, see operator.ts).
   * @param parts the lake parts of this source (see `SourceReader.forRange`)
   * @param factors per symbol_id, the integer factors that bring a coarser registry version's fixed-point
   *   columns to the instrument's common scale (lake/scale.ts); absent ids are read as stored
   */
  constructor(
    private readonly lake: string,
    readonly source: EngineSource,
    readonly parts: readonly PartInfo[],
    readonly factors: Readonly<Record<number, ScaleFactors>> = {},
  ) {
    this.table = roleTable(source.role);
  }

  private get dec(): Decoding {
    if (this.decoding) return this.decoding;
    const specs = engineColumns(this.table);
    const columns = specs.map((c) => c.name);
    let select = SELECTS.get(this.table);
    if (!select) {
      select = columns.map((c) => pl.col(c));
      SELECTS.set(this.table, select);
    }
    let converter = CONVERTERS.get(this.table);
    if (!converter) {
      converter = new TypedConverter(this.table, specs);
      CONVERTERS.set(this.table, converter);
    }
    const rescale = new Map<number, pl.Expr[]>();
    const cols = new Set(columns);
    for (const [id, f] of Object.entries(this.factors))
      rescale.set(Number(id), rescaleExprs(this.table, f, cols));
    this.decoding = { select, converter, rescale };
    return this.decoding;
  }

  /** A reader of the parts of `source` that may hold rows in [fromUs, toUs). */
  static forRange(lake: Lake, source: EngineSource, fromUs: number, toUs: number): SourceReader {
    const table = roleTable(source.role);
    return new SourceReader(
      lake.root,
      source,
      lake.parts(table, source.exchange, source.symbol, fromUs, toUs),
      lake.scale(source.exchange, source.symbol).factors,
    );
  }

  /** Partitions this source reads (sha256 filled by `hashPartitions`, for manifests only). */
  partitions(): InputPartition[] {
    return this.parts.map((p) => ({
      role: this.source.role,
      table: this.table,
      path: p.path,
      file_id: p.path.match(/part-([0-9a-f]+)-/)?.[1] ?? "",
      rows: p.rows,
      sha256: "",
    }));
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
    const used = this.partsIn(fromUs, toUs);
    return this.assemble(
      used,
      used.map((p) => {
        try {
          return this.scan(p, fromUs, toUs).collectSync();
        } catch (e) {
          throw this.partError(p, e);
        }
      }),
    );
  }

  /**
   * `load` with the Parquet decode on Polars' thread pool (`collect()`): several readers (or parts) load
   * concurrently, which parallelises the single-threaded decode of each part. Every column is in an
   * ArrayBuffer of its own, transferable to another thread without a copy.
   */
  async loadAsync(fromUs: number, toUs: number): Promise<TypedRows> {
    const used = this.partsIn(fromUs, toUs);
    const frames = await Promise.all(
      used.map((p) =>
        this.scan(p, fromUs, toUs)
          .collect()
          .catch((e: unknown) => {
            throw this.partError(p, e);
          }),
      ),
    );
    if (frames.length === 0) return this.dec.converter.empty();
    return this.dec.converter.convertAsync(this.merged(used, frames), true);
  }

  /**
   * `load` through a decoded-partition cache (part-cache.ts): each part the chunk touches is decoded whole
   * once (on this thread) and every later chunk of it is a slice of the cached columns. Same rows as `load`.
   */
  loadCached(fromUs: number, toUs: number, cache: PartCache): TypedRows {
    const used = this.partsIn(fromUs, toUs);
    if (used.length === 0) return this.dec.converter.empty();
    const rows = used.map((p) => sliceRows(this.cachedPart(p, cache), fromUs, toUs));
    return concatRows(rows, overlapping(used));
  }

  private cachedPart(p: PartInfo, cache: PartCache) {
    const path = resolve(this.lake, p.path);
    const f = this.factors[p.symbol_id];
    // content identity + what this reader makes of it (table columns, rescale factors)
    const key = `${cache.contentHash(path)}:${this.table}:${f ? `${f.price}x${f.amount}` : "1"}`;
    return cache.getOrDecode(key, () => {
      let df: pl.DataFrame;
      try {
        df = this.scan(p, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY).collectSync();
      } catch (e) {
        throw this.partError(p, e);
      }
      return this.dec.converter.convert(df);
    });
  }

  /** A read error naming the lake part (a corrupt or truncated Parquet file) and the reader's error. */
  private partError(p: PartInfo, e: unknown): PointlineError {
    const msg = e instanceof Error ? e.message : String(e);
    return new PointlineError(`cannot read lake part ${resolve(this.lake, p.path)}: ${msg}`);
  }

  private partsIn(fromUs: number, toUs: number): PartInfo[] {
    return this.parts.filter((p) => !(p.last_ts_local_us < fromUs || p.first_ts_local_us >= toUs));
  }

  private scan(p: PartInfo, fromUs: number, toUs: number): pl.LazyDataFrame {
    // a part entirely inside the chunk needs no row filter
    const inside = p.first_ts_local_us >= fromUs && p.last_ts_local_us < toUs;
    const scan = pl.scanParquet(resolve(this.lake, p.path));
    const rows = (
      inside ? scan : scan.filter(pl.col("ts_local_us").gtEq(fromUs).and(pl.col("ts_local_us").lt(toUs)))
    ).select(...this.dec.select);
    // a part of a coarser registry version: its px/qty integers times the exact factor (lake/scale.ts)
    const rescale = this.dec.rescale.get(p.symbol_id);
    return rescale ? rows.withColumns(...rescale) : rows;
  }

  private assemble(used: readonly PartInfo[], frames: pl.DataFrame[]): TypedRows {
    if (frames.length === 0) return this.dec.converter.empty();
    return this.dec.converter.convert(this.merged(used, frames));
  }

  /** The parts' frames as one, in the total order. */
  private merged(used: readonly PartInfo[], frames: pl.DataFrame[]): pl.DataFrame {
    if (frames.length === 1) return frames[0]!;
    const df = pl.concat(frames, { how: "vertical" });
    return overlapping(used) ? df.sort(["ts_local_us", "file_id", "file_line_number"]) : df;
  }
}

/** Parts are in first-ts order; they need a merge sort only when their time ranges overlap. */
function overlapping(used: readonly PartInfo[]): boolean {
  for (let k = 1; k < used.length; k++) {
    if (used[k]!.first_ts_local_us <= used[k - 1]!.last_ts_local_us) return true;
  }
  return false;
}

/**
 * Columns the engine reads: everything but lineage-only strings (exchange, trade_id, …), the partition's
 * constant symbol_id and ts_exch_us (operators key on ts_local_us; fewer columns = less Parquet decode).
 * Every Source delivers exactly these columns (lake replays and push sources alike).
 */
export function engineColumns(table: TableName): readonly ColumnSpec[] {
  return tableColumns(table).filter(
    (c) => c.dtype !== "str" && c.name !== "symbol_id" && c.name !== "ts_exch_us",
  );
}

/**
 * Decoded bytes per row of a table's engine columns as typed rows (8 per number, 1 per i8, BOOK_DEPTH
 * slots of 8 plus a length byte per level list): what a decoded-partition cache holds per row.
 */
export function decodedBytesPerRow(table: TableName): number {
  let b = 0;
  for (const c of engineColumns(table))
    b += c.dtype === "i8" ? 1 : c.dtype === "list_i64" ? BOOK_DEPTH * 8 + 1 : 8;
  return b;
}

/**
 * Fills the sha256 of each partition's Parquet bytes (lineage of a written frame). With a decoded-partition
 * cache, hashes it already computed for the same files (unchanged since: same stat signature) are reused.
 */
export async function hashPartitions(
  lake: string,
  parts: readonly InputPartition[],
  cache?: PartCache,
): Promise<InputPartition[]> {
  const out: InputPartition[] = [];
  for (const p of parts) {
    const path = resolve(lake, p.path);
    out.push({ ...p, sha256: cache ? cache.contentHash(path) : (await sha256File(path)).sha256 });
  }
  return out;
}
