/**
 * `storeDiff`: the online/batch consistency check (issue 11, item 6). It compares the rows an online
 * feature set holds for one entity (e.g. written by the live runner through `StoreRowWriter`) with the
 * batch frame of the same range (`buildFeatureFrame`, or a Parquet frame) — bitwise.
 *
 * Rows are matched by key (available_at_us, ts_event_us, bar_index). Online rows are read with
 * `getRange(startUs, endUs)` — by default the batch frame's available_at_us range [first, last + 1).
 * For every matched row, every column of the feature set is compared with `Object.is` on the float64
 * values (every bit of a non-null value: −0 ≠ +0; all NaN payloads are null and equal one another; Int64
 * columns compared as their exact float64 values). Reports rows compared, rows only online, rows only in
 * the batch, rows differing, values differing and the first differences.
 */
import type pl from "nodejs-polars";
import { ConfigError } from "../core/errors.js";
import { keyLayout, rowKey } from "./codec.js";
import { frameToStoreColumns, type StoreFrame } from "./materialize.js";
import { compareKeys, type Entity, type FeatureSetMeta, type OnlineStore, type RowKey } from "./types.js";

/** One differing value. */
export interface ValueDifference {
  readonly key: RowKey;
  readonly column: string;
  /** The values (null for NaN). */
  readonly online: number | null;
  readonly batch: number | null;
}

/** What `storeDiff` found. */
export interface StoreDiffResult {
  /** The online range read, µs [startUs, endUs). */
  readonly startUs: number;
  readonly endUs: number;
  /** Rows present on both sides (matched by key). */
  readonly rowsCompared: number;
  readonly rowsOnlyOnline: number;
  readonly rowsOnlyBatch: number;
  /** Matched rows with at least one differing value. */
  readonly rowsDiffering: number;
  readonly valuesDiffering: number;
  /** The first `maxDifferences` differing values, then rows only on one side (by key). */
  readonly differences: readonly ValueDifference[];
  readonly onlyOnline: readonly RowKey[];
  readonly onlyBatch: readonly RowKey[];
}

/** Options of `storeDiff`. */
export interface StoreDiffOptions {
  /** Online range start, µs (default: the batch's first available_at_us). */
  readonly startUs?: number;
  /** Online range end (exclusive), µs (default: the batch's last available_at_us + 1). */
  readonly endUs?: number;
  /** Differences (and one-sided keys) listed (default 10). */
  readonly maxDifferences?: number;
}

const same = (a: number, b: number): boolean => Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));
const show = (x: number): number | null => (Number.isNaN(x) ? null : x);

/**
 * Compares the online rows of `set` × `entity` with `batch` (see the module doc).
 * @throws ConfigError when the batch lacks a column of the set; StoreError from the store
 */
export async function storeDiff(
  store: OnlineStore,
  set: FeatureSetMeta,
  entity: Entity,
  batch: pl.DataFrame | StoreFrame,
  opts: StoreDiffOptions = {},
): Promise<StoreDiffResult> {
  const frame: Pick<StoreFrame, "columns" | "values" | "height"> =
    "values" in batch && "height" in batch && !("getColumn" in batch)
      ? batch
      : (() => {
          const df = batch as pl.DataFrame;
          return { ...frameToStoreColumns(df, "batch frame"), height: df.height };
        })();
  const byName = new Map(frame.columns.map((c, k) => [c.name, k]));
  const cols = set.columns.map((c) => {
    const k = byName.get(c.name);
    if (k === undefined)
      throw new ConfigError(
        `store diff: the batch frame has no column ${c.name} of ${set.name} v${set.version}`,
      );
    return frame.values[k]!;
  });
  const l = keyLayout(set.columns);
  const w = set.columns.length;
  // batch rows as keyed rows, in key order
  const bRows: Float64Array[] = [];
  for (let i = 0; i < frame.height; i++) {
    const r = new Float64Array(w);
    for (let c = 0; c < w; c++) r[c] = cols[c]![i]!;
    bRows.push(r);
  }
  const keyed = bRows.map((r) => ({ k: rowKey(l, r), r })).sort((x, y) => compareKeys(x.k, y.k));
  let startUs = opts.startUs;
  let endUs = opts.endUs;
  if (startUs === undefined) startUs = keyed.length > 0 ? keyed[0]!.k.availableAtUs : 0;
  if (endUs === undefined) endUs = keyed.length > 0 ? keyed.at(-1)!.k.availableAtUs + 1 : 0;
  const online = (await store.getRange(set, entity, startUs, endUs)).map((r) => ({ k: rowKey(l, r), r }));
  const inBatch = keyed.filter((x) => x.k.availableAtUs >= startUs && x.k.availableAtUs < endUs);
  const max = opts.maxDifferences ?? 10;
  const differences: ValueDifference[] = [];
  const onlyOnline: RowKey[] = [];
  const onlyBatch: RowKey[] = [];
  let compared = 0;
  let rowsDiffering = 0;
  let valuesDiffering = 0;
  let i = 0;
  let j = 0;
  while (i < online.length || j < inBatch.length) {
    const o = online[i];
    const b = inBatch[j];
    const c = o === undefined ? 1 : b === undefined ? -1 : compareKeys(o.k, b.k);
    if (c < 0) {
      if (onlyOnline.length < max) onlyOnline.push(o!.k);
      i++;
      continue;
    }
    if (c > 0) {
      if (onlyBatch.length < max) onlyBatch.push(b!.k);
      j++;
      continue;
    }
    compared++;
    let differing = false;
    for (let k = 0; k < w; k++) {
      const x = o!.r[k]!;
      const y = b!.r[k]!;
      if (same(x, y)) continue;
      differing = true;
      valuesDiffering++;
      if (differences.length < max)
        differences.push({ key: o!.k, column: set.columns[k]!.name, online: show(x), batch: show(y) });
    }
    if (differing) rowsDiffering++;
    i++;
    j++;
  }
  return {
    startUs,
    endUs,
    rowsCompared: compared,
    rowsOnlyOnline: online.length - compared,
    rowsOnlyBatch: inBatch.length - compared,
    rowsDiffering,
    valuesDiffering,
    differences,
    onlyOnline,
    onlyBatch,
  };
}
