/**
 * Decoded-partition cache: the typed columns of whole lake parts, kept in memory so that repeated replays
 * of the same partitions (a pipeline run's quality gates re-run the computation ≈ 9 times; a research
 * loop re-runs a request) pay the Parquet decode once. A replay given a cache (`LakeSourceConfig.partCache`)
 * decodes each part it touches whole, once, and serves every chunk of it as zero-copy slices
 * (`subarray`) of the cached columns; rows, order and values are exactly those of an uncached read.
 *
 * - Keyed by content: the sha256 of the part file's bytes (plus the table and the reader's rescale
 *   factors), not its path. The hash of a path is memoised against its stat signature (size, mtime, inode),
 *   so a re-ingest that rewrites or replaces a part changes the signature, the file is re-hashed, and the
 *   stale entry is never served (it ages out of the LRU).
 * - Bounded: least-recently-used entries are evicted once the decoded bytes exceed `maxBytes`; a part
 *   larger than the bound is decoded and returned but not kept.
 * - Cached columns are shared by every reader of the cache and must not be written to (operators never
 *   write to their input batches; see operator.ts).
 *
 * One cache serves one thread (it is a plain in-process object; nothing global). `runPipeline` makes one
 * per run unless given one to share across runs.
 */
import { createHash } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import type { LevelColumn, TypedColumn, TypedRows } from "../query/query.js";
import { BOOK_DEPTH } from "../schema/tables.js";

/** Default bound of a cache's decoded bytes: 512 MiB. */
export const DEFAULT_PART_CACHE_BYTES = 512 * 2 ** 20;

/** Counters of a cache since it was made. */
export interface PartCacheStats {
  /** Part loads served from the cache. */
  hits: number;
  /** Part loads that decoded the part. */
  misses: number;
  /** Entries dropped to stay within the bound. */
  evictions: number;
  /** Part files hashed (first sight of a path, or its stat signature changed). */
  filesHashed: number;
  /** Decoded bytes held now. */
  bytes: number;
  /** Parts held now. */
  entries: number;
}

/** A decoded part: its rows in file order, and whether ts_local_us is non-decreasing (slices by bisection). */
export interface CachedPart {
  readonly rows: TypedRows;
  readonly sorted: boolean;
}

/** Bounded LRU of decoded lake parts keyed by content (see the module doc). */
export class PartCache {
  readonly stats: PartCacheStats = { hits: 0, misses: 0, evictions: 0, filesHashed: 0, bytes: 0, entries: 0 };
  /** Map iteration order is insertion order: the first entry is the least recently used. */
  private readonly entries = new Map<string, { part: CachedPart; bytes: number }>();
  private readonly hashes = new Map<string, { signature: string; sha256: string }>();

  /**
   * @param maxBytes bound of the decoded bytes held (default `DEFAULT_PART_CACHE_BYTES`); 0 keeps nothing.
   * @throws RangeError if maxBytes is negative or not finite.
   */
  constructor(readonly maxBytes: number = DEFAULT_PART_CACHE_BYTES) {
    if (!(maxBytes >= 0 && Number.isFinite(maxBytes)))
      throw new RangeError(`part cache maxBytes must be a finite number ≥ 0, got ${maxBytes}`);
  }

  /**
   * sha256 (hex) of the file at `absPath`, memoised against its stat signature (size, mtime, inode).
   * @throws the file system error if the file cannot be read.
   */
  contentHash(absPath: string): string {
    const st = statSync(absPath, { bigint: true });
    const signature = `${st.size}:${st.mtimeNs}:${st.ino}:${st.dev}`;
    const memo = this.hashes.get(absPath);
    if (memo && memo.signature === signature) return memo.sha256;
    const sha256 = createHash("sha256").update(readFileSync(absPath)).digest("hex");
    this.stats.filesHashed++;
    this.hashes.set(absPath, { signature, sha256 });
    return sha256;
  }

  /**
   * The part under `key`, decoding it with `decode` on a miss (and keeping it if it fits the bound).
   * A hit makes the entry the most recently used.
   */
  getOrDecode(key: string, decode: () => TypedRows): CachedPart {
    const hit = this.entries.get(key);
    if (hit) {
      this.entries.delete(key);
      this.entries.set(key, hit);
      this.stats.hits++;
      return hit.part;
    }
    this.stats.misses++;
    const rows = decode();
    const part: CachedPart = { rows, sorted: isSorted(rows) };
    const bytes = rowsBytes(rows);
    if (bytes <= this.maxBytes) {
      this.entries.set(key, { part, bytes });
      this.stats.bytes += bytes;
      for (const [k, e] of this.entries) {
        if (this.stats.bytes <= this.maxBytes) break;
        this.entries.delete(k);
        this.stats.bytes -= e.bytes;
        this.stats.evictions++;
      }
    }
    this.stats.entries = this.entries.size;
    return part;
  }

  /** Drops every entry and memoised hash (counters keep counting). */
  clear(): void {
    this.entries.clear();
    this.hashes.clear();
    this.stats.bytes = 0;
    this.stats.entries = 0;
  }
}

function isSorted(rows: TypedRows): boolean {
  const ts = rows.columns.ts_local_us;
  if (!(ts instanceof Float64Array)) return false;
  for (let i = 1; i < ts.length; i++) if (!(ts[i - 1]! <= ts[i]!)) return false;
  return true;
}

/** Decoded bytes of typed rows (strings counted at 2 bytes per character plus 16 per value). */
export function rowsBytes(rows: TypedRows): number {
  let b = 0;
  for (const c of Object.values(rows.columns)) {
    if (ArrayBuffer.isView(c)) b += c.byteLength;
    else if (Array.isArray(c)) for (const s of c) b += 16 + (s === null ? 0 : 2 * s.length);
    else b += c.values.byteLength + c.lens.byteLength;
  }
  return b;
}

function lowerBound(ts: Float64Array, x: number): number {
  let lo = 0;
  let hi = ts.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ts[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The rows of a decoded part with ts_local_us in [fromUs, toUs), in the part's order: zero-copy
 * `subarray` views when the part is sorted by ts_local_us (or wholly inside the range), a gathered copy
 * otherwise.
 */
export function sliceRows(part: CachedPart, fromUs: number, toUs: number): TypedRows {
  const rows = part.rows;
  const ts = rows.columns.ts_local_us as Float64Array;
  if (part.sorted) {
    const a = lowerBound(ts, fromUs);
    const b = lowerBound(ts, toUs);
    return a === 0 && b === rows.length ? rows : mapColumns(rows, b - a, (c) => sliceColumn(c, a, b));
  }
  const idx: number[] = [];
  for (let i = 0; i < ts.length; i++) if (ts[i]! >= fromUs && ts[i]! < toUs) idx.push(i);
  return gatherRows(rows, idx);
}

function mapColumns(rows: TypedRows, length: number, f: (c: TypedColumn) => TypedColumn): TypedRows {
  const columns: Record<string, TypedColumn> = {};
  for (const [name, c] of Object.entries(rows.columns)) columns[name] = f(c);
  return { table: rows.table, length, columns };
}

function sliceColumn(c: TypedColumn, a: number, b: number): TypedColumn {
  if (c instanceof Float64Array || c instanceof Int8Array) return c.subarray(a, b);
  if (Array.isArray(c)) return c.slice(a, b);
  const l = c as LevelColumn;
  return { values: l.values.subarray(a * BOOK_DEPTH, b * BOOK_DEPTH), lens: l.lens.subarray(a, b) };
}

/** Rows `idx` of `rows`, in that order (fresh arrays). */
export function gatherRows(rows: TypedRows, idx: readonly number[]): TypedRows {
  const n = idx.length;
  return mapColumns(rows, n, (c) => {
    if (c instanceof Float64Array) {
      const out = new Float64Array(n);
      for (let k = 0; k < n; k++) out[k] = c[idx[k]!]!;
      return out;
    }
    if (c instanceof Int8Array) {
      const out = new Int8Array(n);
      for (let k = 0; k < n; k++) out[k] = c[idx[k]!]!;
      return out;
    }
    if (Array.isArray(c)) return idx.map((i) => c[i] ?? null);
    const l = c as LevelColumn;
    const values = new Float64Array(n * BOOK_DEPTH);
    const lens = new Uint8Array(n);
    for (let k = 0; k < n; k++) {
      const i = idx[k]!;
      values.set(l.values.subarray(i * BOOK_DEPTH, (i + 1) * BOOK_DEPTH), k * BOOK_DEPTH);
      lens[k] = l.lens[i]!;
    }
    return { values, lens };
  });
}

/**
 * Rows of several parts of one table, concatenated in order; with `merge`, sorted in the total order
 * (ts_local_us, file_id, file_line_number) — the keys are unique, so the order is the only one.
 */
export function concatRows(parts: readonly TypedRows[], merge: boolean): TypedRows {
  if (parts.length === 1 && !merge) return parts[0]!;
  const first = parts[0]!;
  const n = parts.reduce((s, p) => s + p.length, 0);
  const joined = mapColumns(first, n, () => new Float64Array(0));
  const columns = joined.columns as Record<string, TypedColumn>;
  for (const [name, c0] of Object.entries(first.columns)) {
    const cols = parts.map((p) => p.columns[name]!);
    if (c0 instanceof Float64Array || c0 instanceof Int8Array) {
      const out = c0 instanceof Float64Array ? new Float64Array(n) : new Int8Array(n);
      let o = 0;
      for (const c of cols as (Float64Array | Int8Array)[]) {
        out.set(c, o);
        o += c.length;
      }
      columns[name] = out;
    } else if (Array.isArray(c0)) {
      columns[name] = (cols as (string | null)[][]).flat();
    } else {
      const values = new Float64Array(n * BOOK_DEPTH);
      const lens = new Uint8Array(n);
      let o = 0;
      for (const c of cols as LevelColumn[]) {
        values.set(c.values, o * BOOK_DEPTH);
        lens.set(c.lens, o);
        o += c.lens.length;
      }
      columns[name] = { values, lens };
    }
  }
  if (!merge) return joined;
  const ts = columns.ts_local_us as Float64Array;
  const file = columns.file_id as Float64Array;
  const line = columns.file_line_number as Float64Array;
  const idx = Array.from({ length: n }, (_, i) => i);
  idx.sort((a, b) => ts[a]! - ts[b]! || file[a]! - file[b]! || line[a]! - line[b]!);
  return gatherRows(joined, idx);
}
