/**
 * The online feature store's contract (issue 11, item 4): feature sets, entities, row keys and the one
 * `OnlineStore` interface that the Redis backend (store/redis-store.ts) and the embedded backend
 * (store/embedded-store.ts, SQLite) implement. docs/store.md describes the data layout of both.
 *
 * A **feature set** is a named, versioned schema: its columns (name, dtype, unit — the `FrameColumn`s of
 * a feature frame or of a `LiveRow`), its entity keys (exchange, symbol) and a TTL. A **row** is one
 * Float64Array aligned with the columns, in frame units, NaN = null (as `LiveRow.values`); Int64 columns
 * hold integers exact in float64 (|x| ≤ 2^53). Rows are stored bit for bit (a float64 payload), so every
 * value read back is `Object.is`-equal to the value written (−0 and NaN payloads included).
 *
 * A row's **key** is (available_at_us, ts_event_us, bar_index): rows are indexed and ordered by it, and
 * writing a row whose key exists replaces that row (upsert; rewriting is idempotent). Several rows may
 * share one available_at_us (volume bars with `splitTrades` close several bars on one trade): they are
 * all kept, ordered by ts_event_us then bar_index, as in the frame. A schema without `ts_event_us` or
 * `bar_index` uses 0 for the missing part (then available_at_us alone must identify a row).
 *
 * **TTL** (`ttlSeconds`, default 7 days as the OI guide's FeatureStore): an entity's rows of a feature set
 * live until `ttlSeconds` after the last write to that entity (Redis: EXPIRE on the entity's keys,
 * refreshed by every write; embedded: an expiry time per entity refreshed by every write, expired
 * entities invisible to reads and purged). Rows do not expire one by one. Feature-set metadata never
 * expires.
 */
import { PointlineError } from "../core/errors.js";
import type { FrameColumn } from "../features/frame.js";

/** Default TTL of a feature set: 7 days, as the OI guide's `FeatureStore`. */
export const DEFAULT_TTL_SECONDS = 7 * 24 * 3600;

/** The entity a row belongs to: one instrument. */
export interface Entity {
  readonly exchange: string;
  readonly symbol: string;
}

/** The entity key columns of every feature set (fixed: one instrument per entity). */
export const ENTITY_KEYS = ["exchange", "symbol"] as const;

/** What a feature set is registered with. */
export interface FeatureSetDef {
  /** Name: letters, digits, `_`, `-`, `.` (it is part of Redis keys and file names). */
  readonly name: string;
  /** Version ≥ 1 (default 1). A registered version is immutable: a new schema needs a new version. */
  readonly version?: number;
  /** Columns of every row, in order; must include `available_at_us` (Int64, µs). */
  readonly columns: readonly FrameColumn[];
  /** Lifetime of an entity's rows after its last write, seconds (default `DEFAULT_TTL_SECONDS`). */
  readonly ttlSeconds?: number;
  readonly description?: string;
  /** Where the rows come from (free-form, e.g. a feature config hash or a pipeline request hash). */
  readonly source?: Readonly<Record<string, string | number | null>>;
}

/** A registered feature set. */
export interface FeatureSetMeta {
  readonly name: string;
  readonly version: number;
  readonly columns: readonly FrameColumn[];
  readonly entityKeys: readonly string[];
  readonly ttlSeconds: number;
  readonly description: string | null;
  readonly source: Readonly<Record<string, string | number | null>> | null;
  /** Registration time, ms since the epoch. */
  readonly createdAtMs: number;
}

/** A row's key: (available_at_us, ts_event_us, bar_index), all integers (µs, µs, bars). */
export interface RowKey {
  readonly availableAtUs: number;
  readonly tsEventUs: number;
  readonly barIndex: number;
}

/** Compares two keys in store order (available_at_us, then ts_event_us, then bar_index). */
export function compareKeys(a: RowKey, b: RowKey): number {
  return a.availableAtUs - b.availableAtUs || a.tsEventUs - b.tsEventUs || a.barIndex - b.barIndex;
}

/** A feature set by name and version (`version` absent: the highest registered). */
export interface FeatureSetRef {
  readonly name: string;
  readonly version?: number;
}

/**
 * The online store (see the module doc). Every method that takes a `FeatureSetMeta` uses only its name,
 * version and columns; get it from `registerFeatureSet` or `getMetadata` once and pass it on.
 */
export interface OnlineStore {
  /** "redis" or "embedded". */
  readonly kind: "redis" | "embedded";
  /** Where the data lives: the Redis URL or the embedded store's file. */
  readonly location: string;
  /**
   * Registers a feature set, or returns the registered one when it is identical (same columns, TTL,
   * description and source).
   * @throws ConfigError for a bad name, version, TTL or schema, or when the version exists with another
   *   definition (register a new version); StoreError when the store cannot be reached.
   */
  registerFeatureSet(def: FeatureSetDef): Promise<FeatureSetMeta>;
  /** Every registered feature set, by name then version. */
  listFeatureSets(): Promise<FeatureSetMeta[]>;
  /** A feature set's metadata (`version` absent: the highest), or null. */
  getMetadata(name: string, version?: number): Promise<FeatureSetMeta | null>;
  /**
   * Writes rows of one entity (each aligned with `set.columns`), in one pipelined round trip (Redis) or one
   * transaction (embedded); rows whose key exists replace the stored ones. Refreshes the entity's TTL.
   * @returns the number of rows written.
   * @throws ConfigError for a row of the wrong length, a key value that is not an integer, or an Int64
   *   value that is not an integer exact in float64 (naming the row and column); StoreError on IO failure.
   */
  writeRows(set: FeatureSetMeta, entity: Entity, rows: readonly Float64Array[]): Promise<number>;
  /** The entity's row with the greatest key, or null (none, or expired). */
  getLatest(set: FeatureSetMeta, entity: Entity): Promise<Float64Array | null>;
  /** The entity's row with the greatest key whose available_at_us ≤ tUs, or null. */
  getAsOf(set: FeatureSetMeta, entity: Entity, tUs: number): Promise<Float64Array | null>;
  /** The entity's rows with startUs ≤ available_at_us < endUs, in key order. */
  getRange(set: FeatureSetMeta, entity: Entity, startUs: number, endUs: number): Promise<Float64Array[]>;
  /** Key of the last row `materialize` pushed for the entity (expires with the entity's rows), or null. */
  getMaterialized(set: FeatureSetMeta, entity: Entity): Promise<RowKey | null>;
  /** Records the key of the last materialized row of the entity. */
  setMaterialized(set: FeatureSetMeta, entity: Entity, key: RowKey): Promise<void>;
  /** Closes the connection / database. */
  close(): Promise<void>;
}

/** The store cannot be reached or answered with an error (the message names the URL or file). */
export class StoreError extends PointlineError {
  override readonly name: string = "StoreError";
}
