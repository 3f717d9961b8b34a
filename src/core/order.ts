/**
 * The total order of events (DESIGN.md "Time semantics"):
 * (ts_local_us, table rank, file_id, file_line_number), ascending. Table ranks are `TABLES[t].rank`.
 * Every join, spine and query uses this order; ties on all four keys cannot happen for distinct rows
 * because (file_id, file_line_number) identifies a source line and a line yields at most one row per table.
 */

/** A row's position in the total order. */
export interface EventKey {
  readonly tsLocalUs: number;
  readonly rank: number;
  readonly fileId: number;
  readonly line: number;
}

/** Negative if a sorts before b, positive if after, 0 if equal. */
export function compareEventKeys(a: EventKey, b: EventKey): number {
  return a.tsLocalUs - b.tsLocalUs || a.rank - b.rank || a.fileId - b.fileId || a.line - b.line;
}

/**
 * Columnar variant: compares row i of (ts, rank, file, line) arrays with row j, for typed-array sorts.
 */
export function compareColumnar(
  ts: ArrayLike<number>,
  rank: ArrayLike<number>,
  file: ArrayLike<number>,
  line: ArrayLike<number>,
  i: number,
  j: number,
): number {
  return ts[i]! - ts[j]! || rank[i]! - rank[j]! || file[i]! - file[j]! || line[i]! - line[j]!;
}

/** Stable permutation that sorts columnar rows into the total order. */
export function totalOrderPermutation(
  ts: ArrayLike<number>,
  rank: ArrayLike<number>,
  file: ArrayLike<number>,
  line: ArrayLike<number>,
): Uint32Array {
  const n = ts.length;
  const idx = new Uint32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  idx.sort((a, b) => compareColumnar(ts, rank, file, line, a, b));
  return idx;
}
