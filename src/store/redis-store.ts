/**
 * `RedisOnlineStore`: the online store on Redis (≥ 6.2) through ioredis. Data layout (docs/store.md):
 *
 * | key | type | content |
 * |---|---|---|
 * | `pl:fs:sets` | hash | field `<name>@<version>` → the feature set's metadata (JSON); never expires |
 * | `pl:fs:{<name>@<v>/<exchange>/<symbol>}:rows` | sorted set | one member per row: score = available_at_us, member = 24-byte ordered key (codec.ts) + the row's float64 payload |
 * | `pl:fs:{…}:latest` | hash | `a`, `e`, `b` (the newest row's key) and `m` (its member): the latest pointer |
 * | `pl:fs:{…}:mat` | string | key of the last materialized row (JSON) |
 *
 * The `{…}` hash tag keeps an entity's keys in one cluster slot. Reads never use KEYS or SCAN:
 * `getLatest` = HGET of the pointer; `getAsOf(t)` = `ZRANGE rows t -inf BYSCORE REV LIMIT 0 1` (equal
 * scores come out in member order, i.e. by ts_event_us then bar_index); `getRange` = `ZRANGE rows s (e
 * BYSCORE`. Writes go through one Lua script per batch of ≤ 2,000 rows (all batches of a call in one
 * pipeline): it replaces rows with the same key (checked only for rows not newer than every stored row), adds the rest, moves the latest pointer if the batch's
 * newest row is not older, and refreshes the EXPIRE of the entity's three keys (the TTL).
 *
 * Connection: `RedisOnlineStore.connect(url)` fails at once with a StoreError naming the URL when the
 * server cannot be reached. Afterwards ioredis reconnects in the background (backoff ≤ 1 s); while the
 * connection is down every command fails fast with a StoreError (no offline queue), so a caller such as
 * `StoreRowWriter` decides what to retry and what to keep.
 */
import { Redis, type Result } from "ioredis";
import { ConfigError } from "../core/errors.js";
import {
  checkEntity,
  checkRow,
  decodePayload,
  definitionDifference,
  encodeKey,
  encodePayload,
  KEY_BYTES,
  keyLayout,
  metaOf,
  rowKey,
} from "./codec.js";
import {
  compareKeys,
  type Entity,
  type FeatureSetDef,
  type FeatureSetMeta,
  type OnlineStore,
  type RowKey,
  StoreError,
} from "./types.js";

declare module "ioredis" {
  interface RedisCommander<Context> {
    plWriteRows(...args: (string | Buffer | number)[]): Result<number, Context>;
  }
}

const SETS_KEY = "pl:fs:sets";
/** Rows per Lua call (a call's arguments are held in memory at once). */
const ROWS_PER_CALL = 2000;

/**
 * KEYS: rows, latest, mat. ARGV: ttl seconds, newest row's a, e, b, its position j (0-based), then
 * (score, member) per row. Members of equal score whose first 24 bytes (the key) equal a new member's
 * are replaced (Lua `==` on strings is binary-safe; `<` is not and is not used).
 */
const WRITE_LUA = `
local n = (#ARGV - 5) / 2
local top = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
local maxScore = nil
if top[2] then maxScore = tonumber(top[2]) end
local batch = {}
for i = 0, n - 1 do
  local s = ARGV[6 + 2 * i]
  local m = ARGV[7 + 2 * i]
  -- a row scored above every stored row cannot replace one (keys within a call are distinct)
  if maxScore ~= nil and tonumber(s) <= maxScore then
    local k = string.sub(m, 1, ${KEY_BYTES})
    local same = redis.call('ZRANGE', KEYS[1], s, s, 'BYSCORE')
    for _, x in ipairs(same) do
      if x ~= m and string.sub(x, 1, ${KEY_BYTES}) == k then redis.call('ZREM', KEYS[1], x) end
    end
  end
  batch[#batch + 1] = s
  batch[#batch + 1] = m
  if #batch >= 256 then
    redis.call('ZADD', KEYS[1], unpack(batch))
    batch = {}
  end
end
if #batch > 0 then redis.call('ZADD', KEYS[1], unpack(batch)) end
local a, e, b = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local cur = redis.call('HMGET', KEYS[2], 'a', 'e', 'b')
local newer = cur[1] == false
if not newer then
  local ca, ce, cb = tonumber(cur[1]), tonumber(cur[2]), tonumber(cur[3])
  newer = a > ca or (a == ca and (e > ce or (e == ce and b >= cb)))
end
if newer then
  redis.call('HSET', KEYS[2], 'a', ARGV[2], 'e', ARGV[3], 'b', ARGV[4], 'm', ARGV[7 + 2 * tonumber(ARGV[5])])
end
redis.call('EXPIRE', KEYS[1], ARGV[1])
redis.call('EXPIRE', KEYS[2], ARGV[1])
redis.call('EXPIRE', KEYS[3], ARGV[1])
return n
`;

/** Options of `RedisOnlineStore.connect`. */
export interface RedisStoreOptions {
  /** Time to wait for the first connection, ms (default 2,000). */
  readonly connectTimeoutMs?: number;
  /** Upper bound of ioredis' reconnect backoff, ms (default 1,000). */
  readonly maxReconnectDelayMs?: number;
}

/** The online store on Redis (see the module doc). */
export class RedisOnlineStore implements OnlineStore {
  readonly kind = "redis" as const;

  private constructor(
    readonly location: string,
    /** The ioredis client (exposed for tests and benchmarks). */
    readonly client: Redis,
  ) {}

  /**
   * Connects to `url` (`redis://host:port[/db]`).
   * @throws StoreError `cannot connect to Redis at <url>: <reason>` when the server cannot be reached
   *   within the timeout.
   */
  static async connect(url: string, opts: RedisStoreOptions = {}): Promise<RedisOnlineStore> {
    const maxDelay = opts.maxReconnectDelayMs ?? 1000;
    let client: Redis;
    try {
      client = new Redis(url, {
        lazyConnect: true,
        connectTimeout: opts.connectTimeoutMs ?? 2000,
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
        retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 10), maxDelay),
      });
    } catch (e) {
      throw new StoreError(`bad Redis URL ${url}: ${e instanceof Error ? e.message : String(e)}`);
    }
    // an 'error' listener keeps ioredis from printing reconnect errors; commands report them
    let socketError: Error | null = null;
    client.on("error", (e: Error) => {
      socketError = e;
    });
    try {
      await client.connect();
      await client.ping();
    } catch (e) {
      client.disconnect();
      const why = (socketError as Error | null)?.message ?? (e instanceof Error ? e.message : String(e));
      throw new StoreError(`cannot connect to Redis at ${url}: ${why}`);
    }
    client.defineCommand("plWriteRows", { numberOfKeys: 3, lua: WRITE_LUA });
    return new RedisOnlineStore(url, client);
  }

  private fail(what: string, e: unknown): never {
    if (e instanceof ConfigError || e instanceof StoreError) throw e;
    throw new StoreError(`Redis at ${this.location}: ${what}: ${e instanceof Error ? e.message : String(e)}`);
  }

  private keys(set: FeatureSetMeta, entity: Entity): { rows: string; latest: string; mat: string } {
    checkEntity(entity);
    const tag = `pl:fs:{${set.name}@${set.version}/${entity.exchange}/${entity.symbol}}`;
    return { rows: `${tag}:rows`, latest: `${tag}:latest`, mat: `${tag}:mat` };
  }

  async registerFeatureSet(def: FeatureSetDef): Promise<FeatureSetMeta> {
    const meta = metaOf(def, Date.now());
    const field = `${meta.name}@${meta.version}`;
    try {
      const created = await this.client.hsetnx(SETS_KEY, field, JSON.stringify(meta));
      if (created === 1) return meta;
      const cur = await this.getMetadata(meta.name, meta.version);
      if (cur === null) throw new StoreError(`feature set ${field} vanished while registering`);
      const diff = definitionDifference(cur, meta);
      if (diff !== null)
        throw new ConfigError(
          `feature set ${meta.name} v${meta.version} is registered with another definition (${diff}): register a new version`,
        );
      return cur;
    } catch (e) {
      return this.fail(`register ${field}`, e);
    }
  }

  async listFeatureSets(): Promise<FeatureSetMeta[]> {
    try {
      const all = await this.client.hgetall(SETS_KEY);
      return Object.values(all)
        .map((s) => JSON.parse(s) as FeatureSetMeta)
        .sort((a, b) => a.name.localeCompare(b.name) || a.version - b.version);
    } catch (e) {
      return this.fail("list feature sets", e);
    }
  }

  async getMetadata(name: string, version?: number): Promise<FeatureSetMeta | null> {
    try {
      if (version !== undefined) {
        const s = await this.client.hget(SETS_KEY, `${name}@${version}`);
        return s === null ? null : (JSON.parse(s) as FeatureSetMeta);
      }
      const versions = (await this.listFeatureSets()).filter((m) => m.name === name);
      return versions.at(-1) ?? null;
    } catch (e) {
      return this.fail(`metadata of ${name}`, e);
    }
  }

  async writeRows(set: FeatureSetMeta, entity: Entity, input: readonly Float64Array[]): Promise<number> {
    checkEntity(entity);
    let rows = input;
    if (rows.length === 0) return 0;
    const k = this.keys(set, entity);
    const l = keyLayout(set.columns);
    rows.forEach((r, i) => {
      checkRow(set, l, r, i);
    });
    // a key written twice in one call: the last row wins (the script relies on distinct keys per call)
    const n = rows.length;
    if (n > 1) {
      const seen = new Map<string, number>();
      for (let i = 0; i < n; i++) {
        const key = rowKey(l, rows[i]!);
        seen.set(`${key.availableAtUs}/${key.tsEventUs}/${key.barIndex}`, i);
      }
      if (seen.size < n) {
        const keep = new Set(seen.values());
        rows = rows.filter((_, i) => keep.has(i));
      }
    }
    const calls: (string | Buffer | number)[][] = [];
    for (let from = 0; from < rows.length; from += ROWS_PER_CALL) {
      const to = Math.min(rows.length, from + ROWS_PER_CALL);
      const args: (string | Buffer | number)[] = [k.rows, k.latest, k.mat, set.ttlSeconds, "", "", "", 0];
      let newest: RowKey | null = null;
      for (let i = from; i < to; i++) {
        const row = rows[i]!;
        const key = rowKey(l, row);
        if (newest === null || compareKeys(key, newest) >= 0) {
          newest = key;
          args[7] = i - from;
        }
        const member = encodePayload(row, KEY_BYTES);
        encodeKey(key, member, 0);
        args.push(String(key.availableAtUs), member);
      }
      args[4] = String(newest!.availableAtUs);
      args[5] = String(newest!.tsEventUs);
      args[6] = String(newest!.barIndex);
      calls.push(args);
    }
    if (calls.length === 1) {
      // one script call (the live writer's usual case, a bar at a time): no pipeline round
      try {
        await this.client.plWriteRows(...calls[0]!);
      } catch (e) {
        return this.fail(`write ${rows.length} rows`, e);
      }
      return input.length;
    }
    const pipe = this.client.pipeline();
    for (const args of calls) pipe.plWriteRows(...args);
    let res: [Error | null, unknown][] | null;
    try {
      res = await pipe.exec();
    } catch (e) {
      return this.fail(`write ${rows.length} rows`, e);
    }
    if (res === null) return this.fail(`write ${rows.length} rows`, new Error("pipeline discarded"));
    for (const [err] of res) if (err) return this.fail(`write ${rows.length} rows`, err);
    return input.length;
  }

  private decode(set: FeatureSetMeta, member: Buffer): Float64Array {
    try {
      return decodePayload(member, KEY_BYTES, set.columns.length, `${set.name} v${set.version}`);
    } catch (e) {
      return this.fail("decode", e);
    }
  }

  async getLatest(set: FeatureSetMeta, entity: Entity): Promise<Float64Array | null> {
    const k = this.keys(set, entity);
    let m: Buffer | null;
    try {
      m = await this.client.hgetBuffer(k.latest, "m");
    } catch (e) {
      return this.fail("getLatest", e);
    }
    return m === null ? null : this.decode(set, m);
  }

  async getAsOf(set: FeatureSetMeta, entity: Entity, tUs: number): Promise<Float64Array | null> {
    const k = this.keys(set, entity);
    let ms: Buffer[];
    try {
      ms = await this.client.zrangeBuffer(k.rows, String(tUs), "-inf", "BYSCORE", "REV", "LIMIT", 0, 1);
    } catch (e) {
      return this.fail("getAsOf", e);
    }
    return ms.length === 0 ? null : this.decode(set, ms[0]!);
  }

  async getRange(
    set: FeatureSetMeta,
    entity: Entity,
    startUs: number,
    endUs: number,
  ): Promise<Float64Array[]> {
    const k = this.keys(set, entity);
    if (!(endUs > startUs)) return [];
    let ms: Buffer[];
    try {
      ms = await this.client.zrangeBuffer(k.rows, String(startUs), `(${endUs}`, "BYSCORE");
    } catch (e) {
      return this.fail("getRange", e);
    }
    return ms.map((m) => this.decode(set, m));
  }

  async getMaterialized(set: FeatureSetMeta, entity: Entity): Promise<RowKey | null> {
    const k = this.keys(set, entity);
    try {
      const s = await this.client.get(k.mat);
      return s === null ? null : (JSON.parse(s) as RowKey);
    } catch (e) {
      return this.fail("getMaterialized", e);
    }
  }

  async setMaterialized(set: FeatureSetMeta, entity: Entity, key: RowKey): Promise<void> {
    const k = this.keys(set, entity);
    try {
      await this.client.set(k.mat, JSON.stringify(key), "EX", set.ttlSeconds);
    } catch (e) {
      this.fail("setMaterialized", e);
    }
  }

  async close(): Promise<void> {
    try {
      await this.client.quit();
    } catch {
      this.client.disconnect();
    }
  }
}
