/**
 * `materialize`: pushes an offline feature frame (Parquet, as written by `pointline features build` or a
 * pipeline run) into an online feature set, incrementally: only rows whose key (available_at_us,
 * ts_event_us, bar_index) is after the last materialized row's (kept by the store per entity, see
 * `OnlineStore.getMaterialized`) are written, so re-running on a grown frame writes only the new rows
 * and rows sharing the last available_at_us are neither lost nor written twice.
 *
 * Schema: from the manifest beside the file when there is one — `<file>.manifest.json` (feature frame:
 * columns with units, instrument) or `manifest.json` in the file's directory (pipeline run: its schema;
 * label columns are dropped: they look forward and are no online values) — else from the Parquet dtypes
 * (Int64 / Float64 only, units unknown: ""). Label columns never go online: those the pipeline run's schema
 * marks as labels, and the derivatives targets (`target_*`, appended by `pointline labels` and
 * `features derivatives-samples`, features/derivatives/targets.ts) — they are dropped and listed in
 * `StoreFrame.droppedLabels` and the report. Accounting: rows read = written + skipped.
 */
import { existsSync, readFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import pl from "nodejs-polars";
import { ConfigError } from "../core/errors.js";
import type { FrameColumn } from "../features/frame.js";
import { keyLayout, rowKey } from "./codec.js";
import {
  compareKeys,
  type Entity,
  type FeatureSetMeta,
  type FeatureSetRef,
  type OnlineStore,
  type RowKey,
} from "./types.js";

/** A frame read for the store: its columns as float64 (NaN = null) and their schema. */
export interface StoreFrame {
  readonly columns: readonly FrameColumn[];
  readonly values: readonly Float64Array[];
  readonly height: number;
  /** The instrument named by the file's manifest, if any. */
  readonly entity: Entity | null;
  /** Where the frame came from (manifest hashes), for a feature set's `source`. */
  readonly source: Record<string, string | number | null>;
  /** Label columns of the file left out (forward-looking: no online values). */
  readonly droppedLabels?: readonly string[];
}

/** The derivatives targets' prefix (features/derivatives/targets.ts): label columns, never materialized. */
export const LABEL_PREFIX = "target_";

const MAX_EXACT = 2 ** 53;

/**
 * A DataFrame's columns as float64 (NaN = null) with their schema (`units` by name; "" when unknown).
 * @throws ConfigError (naming `what`) for a column that is neither integer nor float, or an integer with
 *   |x| > 2^53 (not exact in float64)
 */
export function frameToStoreColumns(
  df: pl.DataFrame,
  what: string,
  units: ReadonlyMap<string, string> = new Map(),
): { columns: FrameColumn[]; values: Float64Array[] } {
  const columns: FrameColumn[] = [];
  const ints: string[] = [];
  for (const name of df.columns) {
    const dt = df.getColumn(name).dtype;
    const isInt = [pl.Int64, pl.Int32, pl.Int16, pl.Int8, pl.UInt32, pl.UInt16, pl.UInt8, pl.UInt64].some(
      (t) => dt.equals(t),
    );
    const isFloat = dt.equals(pl.Float64) || dt.equals(pl.Float32);
    if (!isInt && !isFloat)
      throw new ConfigError(`${what}: column ${name} has dtype ${String(dt)}; the store holds numbers only`);
    if (isInt) ints.push(name);
    columns.push({ name, dtype: isInt ? "Int64" : "Float64", unit: units.get(name) ?? "" });
  }
  // one query for the range check of every integer column, one for every column's values
  if (ints.length > 0 && df.height > 0) {
    const big = df.select(...ints.map((c) => pl.col(c).cast(pl.Float64).abs().gt(MAX_EXACT).any().alias(c)));
    for (const c of ints)
      if (big.getColumn(c).toArray()[0] === true)
        throw new ConfigError(`${what}: column ${c} holds an integer with |x| > 2^53 (not exact in float64)`);
  }
  const conv = df.select(...df.columns.map((c) => pl.col(c).cast(pl.Float64).fillNull(pl.lit(Number.NaN))));
  const values = df.columns.map((c) => conv.getColumn(c).toTypedArray() as Float64Array);
  return { columns, values };
}

interface SideManifest {
  readonly units: Map<string, string>;
  readonly drop: Set<string>;
  readonly entity: Entity | null;
  readonly source: Record<string, string | number | null>;
}

function sideManifest(file: string): SideManifest | null {
  const own = `${file}.manifest.json`;
  if (existsSync(own)) {
    const m = JSON.parse(readFileSync(own, "utf8")) as {
      kind?: string;
      columns?: FrameColumn[];
      instrument?: Entity;
      config_hash?: string;
      content_sha256?: string;
    };
    if (m.kind === "pointline.feature_frame" && m.columns)
      return {
        units: new Map(m.columns.map((c) => [c.name, c.unit])),
        drop: new Set(),
        entity: m.instrument ?? null,
        source: {
          manifest: own,
          config_hash: m.config_hash ?? null,
          content_sha256: m.content_sha256 ?? null,
        },
      };
  }
  const run = join(dirname(file), "manifest.json");
  if (existsSync(run)) {
    const m = JSON.parse(readFileSync(run, "utf8")) as {
      kind?: string;
      data?: { path?: string };
      schema?: { name: string; role: string; unit: string }[];
      request_hash?: string;
      content_hash?: string;
      request?: { instrument?: { exchange?: string; symbol?: string } };
    };
    if (m.kind === "pointline.pipeline_run" && m.schema && basename(m.data?.path ?? "") === basename(file)) {
      const ex = m.request?.instrument?.exchange;
      const sym = m.request?.instrument?.symbol;
      return {
        units: new Map(m.schema.map((c) => [c.name, c.unit])),
        drop: new Set(m.schema.filter((c) => c.role === "label").map((c) => c.name)),
        entity: typeof ex === "string" && typeof sym === "string" ? { exchange: ex, symbol: sym } : null,
        source: {
          manifest: run,
          request_hash: m.request_hash ?? null,
          content_hash: m.content_hash ?? null,
        },
      };
    }
  }
  return null;
}

/**
 * Reads a Parquet feature frame for the store (see the module doc for the schema rules).
 * @throws ConfigError naming the file when it is missing or unreadable, or a column is not numeric
 */
export function readStoreFrame(path: string): StoreFrame {
  const file = resolve(path);
  if (!existsSync(file)) throw new ConfigError(`${path}: no such file`);
  let df: pl.DataFrame;
  try {
    df = pl.readParquet(file);
  } catch (e) {
    throw new ConfigError(`${path}: not a readable Parquet file: ${e instanceof Error ? e.message : e}`);
  }
  const side = sideManifest(file);
  const drop = df.columns.filter((c) => side?.drop.has(c) || c.startsWith(LABEL_PREFIX));
  if (drop.length > 0) df = df.drop(drop);
  const { columns, values } = frameToStoreColumns(df, path, side?.units);
  return {
    columns,
    values,
    height: df.height,
    entity: side?.entity ?? null,
    source: { frame: file, ...(side?.source ?? {}) },
    droppedLabels: drop,
  };
}

/** What `materialize` did. */
export interface MaterializeReport {
  readonly set: FeatureSetMeta;
  readonly entity: Entity;
  /** True when the feature set was registered by this call. */
  readonly registered: boolean;
  readonly rowsRead: number;
  readonly rowsWritten: number;
  /** Rows at or before the previous watermark (already materialized). */
  readonly rowsSkipped: number;
  /** Label columns of the frame that were not materialized. */
  readonly droppedLabels: readonly string[];
  /** The watermark before and after. */
  readonly previous: RowKey | null;
  readonly last: RowKey | null;
  readonly seconds: number;
}

/** Options of `materialize`. */
export interface MaterializeOptions {
  readonly store: OnlineStore;
  /** The Parquet file, or a frame already read (`readStoreFrame`, `frameToStoreColumns`). */
  readonly frame: string | StoreFrame;
  /** The feature set; registered from the frame's schema when it does not exist yet. */
  readonly set: FeatureSetRef;
  /** The entity (default: the instrument named by the frame's manifest). */
  readonly entity?: Entity;
  /** TTL of a feature set registered here (default 7 days). */
  readonly ttlSeconds?: number;
  /** Rows per write call (default 4,096). */
  readonly batchRows?: number;
}

/**
 * Materializes a frame into the online store (see the module doc).
 * @throws ConfigError when the frame's columns differ from an existing set's, the entity is unknown, or
 *   as `readStoreFrame`; StoreError on store failures (rows written before stay, the watermark is not
 *   moved: a re-run rewrites them idempotently)
 */
export async function materialize(o: MaterializeOptions): Promise<MaterializeReport> {
  const t0 = performance.now();
  const frame = typeof o.frame === "string" ? readStoreFrame(o.frame) : o.frame;
  const entity = o.entity ?? frame.entity;
  if (entity === null)
    throw new ConfigError("materialize: give the entity (exchange, symbol): the frame's manifest names none");
  let set = await o.store.getMetadata(o.set.name, o.set.version);
  let registered = false;
  if (set === null) {
    set = await o.store.registerFeatureSet({
      name: o.set.name,
      ...(o.set.version !== undefined ? { version: o.set.version } : {}),
      columns: frame.columns,
      ...(o.ttlSeconds !== undefined ? { ttlSeconds: o.ttlSeconds } : {}),
      source: frame.source,
    });
    registered = true;
  } else {
    const a = set.columns;
    const b = frame.columns;
    const k = a.findIndex((c, i) => c.name !== b[i]?.name || c.dtype !== b[i]?.dtype);
    if (a.length !== b.length || k >= 0)
      throw new ConfigError(
        `materialize: the frame's columns do not match feature set ${set.name} v${set.version} (${
          k >= 0
            ? `column ${k}: set ${a[k]!.name} ${a[k]!.dtype}, frame ${b[k]?.name ?? "(none)"} ${b[k]?.dtype ?? ""}`
            : `set ${a.length} columns, frame ${b.length}`
        }): register a new version`,
      );
  }
  const l = keyLayout(set.columns);
  const previous = await o.store.getMaterialized(set, entity);
  const batchRows = o.batchRows ?? 4096;
  const w = frame.columns.length;
  let batch: Float64Array[] = [];
  let written = 0;
  let skipped = 0;
  let last: RowKey | null = previous;
  const row = new Float64Array(w);
  for (let i = 0; i < frame.height; i++) {
    for (let c = 0; c < w; c++) row[c] = frame.values[c]![i]!;
    const key = rowKey(l, row);
    if (previous !== null && compareKeys(key, previous) <= 0) {
      skipped++;
      continue;
    }
    batch.push(row.slice());
    if (last === null || compareKeys(key, last) > 0) last = key;
    if (batch.length === batchRows) {
      written += await o.store.writeRows(set, entity, batch);
      batch = [];
    }
  }
  if (batch.length > 0) written += await o.store.writeRows(set, entity, batch);
  if (written > 0 && last !== null) await o.store.setMaterialized(set, entity, last);
  if (written + skipped !== frame.height)
    throw new Error(`materialize: ${frame.height} rows read but ${written} written + ${skipped} skipped`);
  return {
    set,
    entity,
    registered,
    rowsRead: frame.height,
    rowsWritten: written,
    rowsSkipped: skipped,
    droppedLabels: frame.droppedLabels ?? [],
    previous,
    last,
    seconds: (performance.now() - t0) / 1000,
  };
}
