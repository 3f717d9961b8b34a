/**
 * The online store, one suite for both backends (Redis on a private redis-server, embedded SQLite):
 * feature-set registration, writes and the three reads against naive references (a scan of every row
 * written) on a real feature frame — 2023-04-04/05 BTCUSDT, 5 BTC volume bars with split trades, whose
 * bars share an available_at_us when one trade closes several — plus random rows and queries
 * (fast-check, fixed seed), exactness (NaN, −0, ±2^53), upserts, invalid rows, TTL expiry and refresh,
 * and incremental materialization from the Parquet file `features build` writes.
 */
import assert from "node:assert/strict";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import pl from "nodejs-polars";
import { ConfigError } from "../../src/core/errors.js";
import type { FrameColumn } from "../../src/features/frame.js";
import { writeFeatureFrame } from "../../src/features/output.js";
import { storeDiff } from "../../src/store/diff.js";
import { EmbeddedOnlineStore } from "../../src/store/embedded-store.js";
import { materialize, readStoreFrame } from "../../src/store/materialize.js";
import { RedisOnlineStore } from "../../src/store/redis-store.js";
import type { Entity, OnlineStore } from "../../src/store/types.js";
import { tempDir } from "../helpers/data.js";
import { captureLake, W2023 } from "../helpers/lake.js";
import { frameColumns } from "../helpers/live.js";
import { freePort } from "../helpers/redis.js";
import {
  type Backend,
  embeddedBackend,
  naiveAsOf,
  naiveKey,
  naiveRange,
  redisBackend,
  sameRow,
} from "../helpers/store.js";

const E: Entity = { exchange: "binance-futures", symbol: "BTCUSDT" };
const AT = { a: 2, e: 0, b: 3 }; // available_at_us, ts_event_us, bar_index in the spine columns
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The real frame: columns, rows (float64, NaN = null), its Parquet file and manifest. */
interface Fixture {
  columns: FrameColumn[];
  rows: Float64Array[];
  parquet: string;
}

let fixture: Fixture;
let tmp: { dir: string; cleanup: () => void };
let lake: { lake: string; cleanup: () => void };

before(async () => {
  tmp = tempDir("pointline-store-test-");
  lake = await captureLake(["usdm2023a", "usdm2023b"]);
  const parquet = join(tmp.dir, "bars.parquet");
  const manifest = await writeFeatureFrame(
    {
      lake: lake.lake,
      exchange: E.exchange,
      symbol: E.symbol,
      ...W2023,
      prefetch: false,
      config: {
        spine: { type: "volume", volumeThreshold: 5, splitTrades: true },
        includeBarAggregations: true,
      },
    },
    parquet,
  );
  const cols = frameColumns(pl.readParquet(parquet));
  const names = [...cols.keys()];
  const n = cols.get("ts_event_us")!.length;
  const rows = Array.from({ length: n }, (_, i) => Float64Array.from(names, (c) => cols.get(c)![i]!));
  fixture = { columns: [...manifest.columns], rows, parquet };
});
after(() => {
  lake?.cleanup();
  tmp?.cleanup();
});

const backends: (() => Promise<Backend>)[] = [() => redisBackend(), async () => embeddedBackend()];

for (const make of backends) {
  describe(`online store (${make === backends[0] ? "redis" : "embedded"})`, () => {
    let b: Backend;
    let store: OnlineStore;
    before(async () => {
      b = await make();
      store = await b.open();
    });
    after(async () => {
      await store?.close();
      await b?.cleanup();
    });

    it("registers a feature set once, returns it again, refuses another definition of the version", async () => {
      const def = { name: "bars", columns: fixture.columns, description: "5 BTC bars" };
      const m = await store.registerFeatureSet(def);
      assert.equal(m.version, 1);
      assert.equal(m.ttlSeconds, 7 * 24 * 3600);
      assert.deepEqual(m.entityKeys, ["exchange", "symbol"]);
      assert.deepEqual(await store.registerFeatureSet(def), m);
      const other = fixture.columns.map((c, k) => (k === 5 ? { ...c, unit: "other" } : c));
      await assert.rejects(store.registerFeatureSet({ ...def, columns: other }), (e: Error) => {
        assert.ok(e instanceof ConfigError);
        assert.match(e.message, /bars v1 is registered with another definition \(column 5/);
        return true;
      });
      const v2 = await store.registerFeatureSet({ ...def, version: 2, columns: other });
      assert.equal((await store.getMetadata("bars"))!.version, 2, "no version: the highest");
      assert.deepEqual(await store.getMetadata("bars", 1), m);
      assert.deepEqual(
        (await store.listFeatureSets()).filter((s) => s.name === "bars"),
        [m, v2],
      );
      assert.equal(await store.getMetadata("nope"), null);
      await assert.rejects(store.registerFeatureSet({ ...def, name: "a b" }), /feature set name "a b"/);
      await assert.rejects(
        store.registerFeatureSet({
          ...def,
          name: "x",
          columns: fixture.columns.filter((c) => c.name !== "available_at_us"),
        }),
        /no available_at_us column/,
      );
    });

    it("real frame: getLatest / getAsOf / getRange equal a scan of every row, ties on available_at_us kept", async () => {
      const set = (await store.getMetadata("bars", 1))!;
      const rows = fixture.rows;
      const avail = rows.map((r) => r[AT.a]!);
      const ties = avail.filter((a, i) => i > 0 && a === avail[i - 1]).length;
      assert.ok(ties > 0, "the split-trade volume bars share available_at_us values");
      // written in three calls, out of order
      const third = Math.floor(rows.length / 3);
      await store.writeRows(set, E, rows.slice(2 * third));
      await store.writeRows(set, E, rows.slice(0, third));
      await store.writeRows(set, E, rows.slice(third, 2 * third));
      assert.ok(sameRow(await store.getLatest(set, E), naiveAsOf(rows, AT, Number.POSITIVE_INFINITY)));
      const all = await store.getRange(set, E, 0, Number.MAX_SAFE_INTEGER);
      assert.equal(all.length, rows.length, "every row kept, ties included");
      const ref = naiveRange(rows, AT, 0, Number.MAX_SAFE_INTEGER);
      for (const [i, r] of all.entries()) assert.ok(sameRow(r, ref[i]!), `row ${i}`);
      // as-of at every available_at_us, one µs before and after, and before the first row
      const ts = [...new Set(avail.flatMap((a) => [a - 1, a, a + 1]))];
      ts.push(avail[0]! - 1_000_000);
      for (const t of ts)
        assert.ok(sameRow(await store.getAsOf(set, E, t), naiveAsOf(rows, AT, t)), `asOf ${t}`);
      assert.equal(await store.getAsOf(set, E, avail[0]! - 1), null);
      // ranges are half-open on available_at_us
      for (let k = 0; k + 7 < avail.length; k += 7) {
        const [s, e] = [avail[k]!, avail[k + 7]!];
        const got = await store.getRange(set, E, s, e);
        const want = naiveRange(rows, AT, s, e);
        assert.equal(got.length, want.length);
        for (const [i, r] of got.entries()) assert.ok(sameRow(r, want[i]!));
      }
      assert.deepEqual(await store.getRange(set, E, avail[5]!, avail[5]!), []);
      // another entity is separate
      assert.equal(await store.getLatest(set, { exchange: E.exchange, symbol: "ETHUSDT" }), null);
    });

    it("random rows and queries (fast-check, fixed seed) = the naive scan", async () => {
      const cols: FrameColumn[] = [
        { name: "ts_event_us", dtype: "Int64", unit: "µs" },
        { name: "ts_end_us", dtype: "Int64", unit: "µs" },
        { name: "available_at_us", dtype: "Int64", unit: "µs" },
        { name: "bar_index", dtype: "Int64", unit: "" },
        { name: "x", dtype: "Float64", unit: "" },
      ];
      let run = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.tuple(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 3 }), fc.double()), {
            maxLength: 40,
          }),
          fc.array(fc.integer({ min: -2, max: 42 }), { minLength: 1, maxLength: 12 }),
          async (spec, queries) => {
            const set = await store.registerFeatureSet({ name: "prop", version: ++run, columns: cols });
            // rows: (available_at, bar) from the spec; a later duplicate key replaces the earlier row
            const byKey = new Map<string, Float64Array>();
            const rows = spec.map(([a, bar, x]) => new Float64Array([a - 5, a, a, bar, x]));
            for (const r of rows) byKey.set(`${r[2]}/${r[0]}/${r[3]}`, r);
            const kept = [...byKey.values()];
            for (let i = 0; i < rows.length; i += 7) await store.writeRows(set, E, rows.slice(i, i + 7));
            for (const t of queries) {
              if (!sameRow(await store.getAsOf(set, E, t), naiveAsOf(kept, AT, t))) return false;
              const got = await store.getRange(set, E, t, t + 5);
              const want = naiveRange(kept, AT, t, t + 5);
              if (got.length !== want.length || got.some((r, i) => !sameRow(r, want[i]!))) return false;
            }
            return sameRow(await store.getLatest(set, E), naiveAsOf(kept, AT, Number.POSITIVE_INFINITY));
          },
        ),
        { seed: 20261207, numRuns: 25 },
      );
    });

    it("stores values bit for bit: NaN (null), −0, ±2^53, tiny and huge floats; rewriting a key replaces the row", async () => {
      const cols: FrameColumn[] = [
        { name: "ts_event_us", dtype: "Int64", unit: "µs" },
        { name: "available_at_us", dtype: "Int64", unit: "µs" },
        { name: "big", dtype: "Int64", unit: "" },
        { name: "f", dtype: "Float64", unit: "" },
      ];
      const set = await store.registerFeatureSet({ name: "exact", columns: cols });
      const values = [Number.NaN, -0, 2 ** -1074, Number.MAX_VALUE, -1.5e-300, 0.1 + 0.2];
      const rows = values.map((f, i) => new Float64Array([i, 10 + i, (i % 2 ? -1 : 1) * 2 ** 53, f]));
      await store.writeRows(set, E, rows);
      const got = await store.getRange(set, E, 0, 100);
      assert.equal(got.length, rows.length);
      got.forEach((r, i) => {
        assert.ok(Object.is(r[3], values[i]), `value ${values[i]} came back as ${r[3]}`);
        assert.equal(r[2], (i % 2 ? -1 : 1) * 2 ** 53);
      });
      // same key, new values: replaced, not duplicated (latest too)
      const last = rows.at(-1)!;
      const again = new Float64Array([last[0]!, last[1]!, 7, 8]);
      await store.writeRows(set, E, [again]);
      assert.equal((await store.getRange(set, E, 0, 100)).length, rows.length);
      assert.ok(sameRow(await store.getLatest(set, E), again));
      assert.ok(sameRow(await store.getAsOf(set, E, last[1]!), again));
      // the same key twice in one call: the last row wins
      const first = rows[0]!;
      const twice = [
        new Float64Array([first[0]!, first[1]!, 1, 1]),
        new Float64Array([first[0]!, first[1]!, 2, 2]),
      ];
      await store.writeRows(set, E, twice);
      const back = await store.getRange(set, E, 0, 100);
      assert.equal(back.length, rows.length);
      assert.ok(sameRow(back[0]!, twice[1]!));
    });

    it("refuses invalid rows, naming the row and column", async () => {
      const set = (await store.getMetadata("exact"))!;
      await assert.rejects(
        store.writeRows(set, E, [new Float64Array(3)]),
        /row 0 has 3 values, the schema 4/,
      );
      await assert.rejects(
        store.writeRows(set, E, [new Float64Array([1, 2, 3, 4]), new Float64Array([1, 2.5, 3, 4])]),
        /row 1 column available_at_us = 2.5: a row key must be an integer/,
      );
      await assert.rejects(
        store.writeRows(set, E, [new Float64Array([1, 2, 2 ** 53 + 2, 4])]),
        /row 0 column big = 9007199254740994: an Int64 value must be an integer with \|x\| ≤ 2\^53/,
      );
      await assert.rejects(store.writeRows(set, { exchange: "a/b", symbol: "X" }, []), /exchange "a\/b"/);
    });

    it("materializes the Parquet frame incrementally (read = written + skipped), ties split across runs", async () => {
      const set = await store.registerFeatureSet({ name: "mat", columns: fixture.columns });
      const df = pl.readParquet(fixture.parquet);
      const avail = fixture.rows.map((r) => r[AT.a]!);
      // cut inside a group of rows sharing one available_at_us
      const cut = avail.findIndex((a, i) => i > 10 && a === avail[i - 1]);
      assert.ok(cut > 0);
      const part = join(tmp.dir, `part-${b.name}.parquet`);
      df.head(cut).writeParquet(part);
      const r1 = await materialize({ store, frame: part, set: { name: "mat" }, entity: E });
      assert.deepEqual([r1.rowsRead, r1.rowsWritten, r1.rowsSkipped, r1.registered], [cut, cut, 0, false]);
      assert.deepEqual(r1.last, naiveKey(fixture.rows[cut - 1]!, AT));
      const full = readStoreFrame(fixture.parquet); // read once: the frame and its manifest's entity
      const r2 = await materialize({ store, frame: full, set: { name: "mat" } });
      assert.deepEqual(r2.entity, E, "the entity from the frame's manifest");
      assert.deepEqual([r2.rowsRead, r2.rowsWritten, r2.rowsSkipped], [df.height, df.height - cut, cut]);
      const r3 = await materialize({ store, frame: full, set: { name: "mat" } });
      assert.deepEqual([r3.rowsWritten, r3.rowsSkipped], [0, df.height]);
      const d = await storeDiff(store, set, E, df);
      assert.deepEqual(
        [d.rowsCompared, d.rowsOnlyOnline, d.rowsOnlyBatch, d.rowsDiffering, d.valuesDiffering],
        [df.height, 0, 0, 0, 0],
      );
      // a new set is registered from the frame's schema (units from the manifest)
      const r4 = await materialize({ store, frame: fixture.parquet, set: { name: "mat2" }, ttlSeconds: 60 });
      assert.ok(r4.registered);
      assert.deepEqual(r4.set.columns, fixture.columns);
      assert.equal(r4.set.ttlSeconds, 60);
      // a frame with other columns is refused for an existing set
      const other = join(tmp.dir, `other-${b.name}.parquet`);
      df.drop("bar_duration_us").writeParquet(other);
      await assert.rejects(
        materialize({ store, frame: other, set: { name: "mat" }, entity: E }),
        /do not match feature set mat v1 \(column 4: set bar_duration_us Int64, frame/,
      );
      rmSync(other);
      writeFileSync(other, "not parquet");
      await assert.rejects(
        materialize({ store, frame: other, set: { name: "mat" }, entity: E }),
        /not a readable Parquet file/,
      );
    });

    it("TTL: an entity's rows expire ttlSeconds after its last write; a write refreshes them", async () => {
      const cols = fixture.columns;
      const set = await store.registerFeatureSet({ name: "ttl", columns: cols, ttlSeconds: 2 });
      const [r1, r2] = [fixture.rows[0]!, fixture.rows[1]!];
      const other = { exchange: E.exchange, symbol: "OTHER" };
      const t0 = Date.now();
      await store.writeRows(set, E, [r1]);
      await store.writeRows(set, other, [r1]);
      await store.setMaterialized(set, E, naiveKey(r1, AT));
      await sleep(1200 - (Date.now() - t0));
      await store.writeRows(set, E, [r2]); // refreshes E (deadline ≈ 3.2 s), not `other` (≈ 2.0 s)
      await sleep(2400 - (Date.now() - t0));
      assert.equal(
        (await store.getRange(set, E, 0, Number.MAX_SAFE_INTEGER)).length,
        2,
        "refreshed: both rows live",
      );
      assert.ok(sameRow(await store.getLatest(set, E), r2));
      assert.equal(await store.getLatest(set, other), null, "not refreshed: expired");
      assert.equal(await store.getAsOf(set, other, Number.MAX_SAFE_INTEGER), null);
      await sleep(3700 - (Date.now() - t0));
      assert.equal(await store.getLatest(set, E), null);
      assert.equal(await store.getAsOf(set, E, Number.MAX_SAFE_INTEGER), null);
      assert.deepEqual(await store.getRange(set, E, 0, Number.MAX_SAFE_INTEGER), []);
      assert.equal(await store.getMaterialized(set, E), null, "the watermark expires with the rows");
      if (store instanceof EmbeddedOnlineStore) assert.ok(store.purgeExpired() >= 2);
      assert.equal(await b.rawRowCount(store, set, E), 0, "expired rows are gone, not only hidden");
      assert.ok(await store.getMetadata("ttl"), "metadata does not expire");
    });
  });
}

describe("Redis down at start", () => {
  it("fails with an error naming the URL", async () => {
    const url = `redis://127.0.0.1:${await freePort()}`;
    await assert.rejects(RedisOnlineStore.connect(url, { connectTimeoutMs: 500 }), (e: Error) => {
      assert.equal(e.name, "StoreError");
      assert.ok(e.message.startsWith(`cannot connect to Redis at ${url}: `), e.message);
      assert.match(e.message, /ECONNREFUSED/);
      return true;
    });
  });
});
