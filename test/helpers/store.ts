/**
 * Online-store test helpers: both backends behind one description (the same suite runs against each),
 * a raw "corrupt one stored value" that goes behind the store's back (as real corruption would), and
 * naive references over plain arrays of rows.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodeKey, KEY_BYTES } from "../../src/store/codec.js";
import { EmbeddedOnlineStore } from "../../src/store/embedded-store.js";
import { RedisOnlineStore } from "../../src/store/redis-store.js";
import type { Entity, FeatureSetMeta, OnlineStore, RowKey } from "../../src/store/types.js";
import { startRedis, type TestRedis } from "./redis.js";

/** One backend of the parameterised suite. */
export interface Backend {
  readonly name: "redis" | "embedded";
  /** A fresh handle on this backend's store (the same data for every call). */
  open(): Promise<OnlineStore>;
  /** Sets value `column` of the stored row with `key` to `value`, bypassing the store. */
  corrupt(
    store: OnlineStore,
    set: FeatureSetMeta,
    e: Entity,
    key: RowKey,
    column: number,
    value: number,
  ): Promise<void>;
  /** Rows physically present for the entity (expired but not yet purged/evicted included). */
  rawRowCount(store: OnlineStore, set: FeatureSetMeta, e: Entity): Promise<number>;
  readonly redis?: TestRedis;
  cleanup(): Promise<void>;
}

const redisTag = (set: FeatureSetMeta, e: Entity) =>
  `pl:fs:{${set.name}@${set.version}/${e.exchange}/${e.symbol}}`;

/** The Redis backend on a private server (stop with `cleanup`). */
export async function redisBackend(opts: { persistent?: boolean } = {}): Promise<Backend> {
  const redis = await startRedis(opts);
  return {
    name: "redis",
    redis,
    open: () => RedisOnlineStore.connect(redis.url),
    async corrupt(store, set, e, key, column, value) {
      const c = (store as RedisOnlineStore).client;
      const k = `${redisTag(set, e)}:rows`;
      const prefix = Buffer.from(encodeKey(key));
      const members = await c.zrangeBuffer(
        k,
        String(key.availableAtUs),
        String(key.availableAtUs),
        "BYSCORE",
      );
      const m = members.find((x) => x.subarray(0, KEY_BYTES).equals(prefix));
      if (!m) throw new Error("corrupt: no such row");
      const altered = Buffer.from(m);
      altered.writeDoubleLE(value, KEY_BYTES + column * 8);
      await c.zrem(k, m);
      await c.zadd(k, String(key.availableAtUs), altered);
      const latest = await c.hgetBuffer(`${redisTag(set, e)}:latest`, "m");
      if (latest?.equals(m)) await c.hset(`${redisTag(set, e)}:latest`, "m", altered);
    },
    async rawRowCount(store, set, e) {
      return (store as RedisOnlineStore).client.zcard(`${redisTag(set, e)}:rows`);
    },
    cleanup: () => redis.stop(),
  };
}

/** The embedded backend in a temp dir. */
export function embeddedBackend(): Backend {
  const dir = mkdtempSync(join(tmpdir(), "pointline-store-"));
  const entityId = (s: EmbeddedOnlineStore, set: FeatureSetMeta, e: Entity): number | undefined =>
    s.db
      .prepare<unknown[], { id: number }>(
        "SELECT id FROM entities WHERE name = ? AND version = ? AND exchange = ? AND symbol = ?",
      )
      .get(set.name, set.version, e.exchange, e.symbol)?.id;
  return {
    name: "embedded",
    open: async () => EmbeddedOnlineStore.open(dir),
    async corrupt(store, set, e, key, column, value) {
      const s = store as EmbeddedOnlineStore;
      const id = entityId(s, set, e);
      const where = "WHERE entity = ? AND a = ? AND e = ? AND b = ?";
      const args = [id, key.availableAtUs, key.tsEventUs, key.barIndex];
      const r = s.db
        .prepare<unknown[], { payload: Buffer }>(`SELECT payload FROM rows ${where}`)
        .get(...args);
      if (!r) throw new Error("corrupt: no such row");
      const altered = Buffer.from(r.payload);
      altered.writeDoubleLE(value, column * 8);
      s.db.prepare(`UPDATE rows SET payload = ? ${where}`).run(altered, ...args);
    },
    async rawRowCount(store, set, e) {
      const s = store as EmbeddedOnlineStore;
      const id = entityId(s, set, e);
      if (id === undefined) return 0;
      return s.db
        .prepare<unknown[], { n: number }>("SELECT count(*) AS n FROM rows WHERE entity = ?")
        .get(id)!.n;
    },
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Keys of rows (naive: plain loops over the rows' values, given the key columns' positions). */
export function naiveKey(row: Float64Array, at: { a: number; e: number; b: number }): RowKey {
  return { availableAtUs: row[at.a]!, tsEventUs: row[at.e]!, barIndex: row[at.b]! };
}

const cmp = (x: RowKey, y: RowKey): number =>
  x.availableAtUs !== y.availableAtUs
    ? x.availableAtUs < y.availableAtUs
      ? -1
      : 1
    : x.tsEventUs !== y.tsEventUs
      ? x.tsEventUs < y.tsEventUs
        ? -1
        : 1
      : x.barIndex === y.barIndex
        ? 0
        : x.barIndex < y.barIndex
          ? -1
          : 1;

/** The last row (greatest key) among those with available_at ≤ t: a scan of every row. */
export function naiveAsOf(
  rows: readonly Float64Array[],
  at: { a: number; e: number; b: number },
  t: number,
): Float64Array | null {
  let best: Float64Array | null = null;
  for (const r of rows) {
    if (!(r[at.a]! <= t)) continue;
    if (best === null || cmp(naiveKey(r, at), naiveKey(best, at)) > 0) best = r;
  }
  return best;
}

/** Rows with start ≤ available_at < end, in key order: filter then sort. */
export function naiveRange(
  rows: readonly Float64Array[],
  at: { a: number; e: number; b: number },
  start: number,
  end: number,
): Float64Array[] {
  return rows
    .filter((r) => r[at.a]! >= start && r[at.a]! < end)
    .sort((x, y) => cmp(naiveKey(x, at), naiveKey(y, at)));
}

/** True if the two rows are equal value by value (`Object.is`, NaN = NaN). */
export function sameRow(x: Float64Array | null, y: Float64Array | null): boolean {
  if (x === null || y === null) return x === y;
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++)
    if (!Object.is(x[i], y[i]) && !(Number.isNaN(x[i]) && Number.isNaN(y[i]))) return false;
  return true;
}
