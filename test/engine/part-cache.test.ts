/**
 * The decoded-partition cache (engine/part-cache.ts) against the uncached reader, which filters each chunk
 * with a Polars predicate and converts it on its own (the independent reference): on the real captures,
 * for every table, chunk grid and a rescaled registry version, cached reads equal uncached reads bitwise;
 * overlapping parts merge in the total order; the cache is keyed by content (a rewritten part file is
 * re-hashed and never served stale), bounded (LRU eviction), and a pipeline run with, without, and with a
 * warm shared cache gives the same output hash and gate results.
 */

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { toUs } from "../../src/core/time.js";
import { roleTable, type SourceRole } from "../../src/engine/operator.js";
import { concatRows, PartCache, rowsBytes } from "../../src/engine/part-cache.js";
import { decodedBytesPerRow, hashPartitions, SourceReader } from "../../src/engine/source.js";
import { Lake } from "../../src/lake/lake.js";
import type { PartInfo } from "../../src/lake/manifest.js";
import { type PipelineOutput, runPipeline } from "../../src/pipeline/run.js";
import type { LevelColumn, TypedRows } from "../../src/query/query.js";
import { captureLake, W2024 } from "../helpers/lake.js";

const EX = "binance-futures";
const SYM = "BTCUSDT";

/** Every column of two typed reads, bitwise (NaN equal to NaN, -0 distinct from 0). */
function assertRowsEqual(a: TypedRows, b: TypedRows, what: string): void {
  assert.equal(a.table, b.table, what);
  assert.equal(a.length, b.length, `${what}: row count`);
  assert.deepEqual(Object.keys(a.columns).sort(), Object.keys(b.columns).sort(), `${what}: columns`);
  for (const [name, ca] of Object.entries(a.columns)) {
    const cb = b.columns[name]!;
    if (ca instanceof Float64Array || ca instanceof Int8Array) {
      assert.equal(ca.constructor, cb.constructor, `${what}.${name}: type`);
      const xb = cb as Float64Array | Int8Array;
      assert.equal(ca.length, xb.length, `${what}.${name}: length`);
      for (let i = 0; i < ca.length; i++)
        if (!Object.is(ca[i], xb[i])) assert.fail(`${what}.${name}[${i}]: ${ca[i]} ≠ ${xb[i]}`);
    } else if (Array.isArray(ca)) {
      assert.deepEqual(ca, cb, `${what}.${name}`);
    } else {
      const la = ca as LevelColumn;
      const lb = cb as LevelColumn;
      assert.deepEqual([...la.lens], [...lb.lens], `${what}.${name}: lens`);
      assert.equal(la.values.length, lb.values.length, `${what}.${name}: slots`);
      for (let i = 0; i < la.values.length; i++)
        if (!Object.is(la.values[i], lb.values[i]))
          assert.fail(`${what}.${name} slot ${i}: ${la.values[i]} ≠ ${lb.values[i]}`);
    }
  }
}

/** Chunks of `stepUs` on the epoch grid covering [fromUs, toUs). */
function grid(fromUs: number, toUs: number, stepUs: number): [number, number][] {
  const out: [number, number][] = [];
  for (let c = Math.floor(fromUs / stepUs) * stepUs; c < toUs; c += stepUs) out.push([c, c + stepUs]);
  return out;
}

describe("decoded-partition cache", () => {
  let lake: string;
  let cleanup: () => void;
  let handle: Lake;
  const from = toUs("2023-04-04T23:00:00Z");
  const to = toUs("2023-04-05T01:00:00Z");

  before(async () => {
    ({ lake, cleanup } = await captureLake(["usdm2023a", "usdm2023b"]));
    handle = await Lake.from(lake);
  });
  after(() => cleanup?.());

  const reader = (role: SourceRole, factors?: Record<number, { price: number; amount: number }>) => {
    const parts = handle.parts(roleTable(role), EX, SYM, from, to);
    return new SourceReader(lake, { role, exchange: EX, symbol: SYM }, parts, factors ?? {});
  };

  it("serves every table, on every chunk grid, exactly the rows of an uncached read", () => {
    const cache = new PartCache();
    for (const role of ["trades", "quotes", "book", "ticker"] as const) {
      const r = reader(role);
      assert.ok(r.parts.length >= 2, `${role}: the window spans several parts`);
      for (const stepUs of [7_000_000, 600_000_000, 3_600_000_000]) {
        let rows = 0;
        for (const [a, b] of grid(from, to, stepUs)) {
          const want = r.load(a, b);
          assertRowsEqual(r.loadCached(a, b, cache), want, `${role} [${a}, ${b})`);
          rows += want.length;
        }
        assert.ok(rows > 0, `${role}: rows compared`);
      }
    }
    // every part decoded once, then served from the cache
    assert.ok(
      cache.stats.misses > 0 && cache.stats.hits > 10 * cache.stats.misses,
      JSON.stringify(cache.stats),
    );
    assert.equal(cache.stats.evictions, 0);
    assert.equal(cache.stats.entries, cache.stats.misses);
  });

  it("keys by rescale factors: a coarser registry version's parts are rescaled as uncached reads do", () => {
    const cache = new PartCache();
    const id = reader("trades").parts[0]!.symbol_id;
    const plain = reader("trades");
    const scaled = reader("trades", { [id]: { price: 10, amount: 100 } });
    const [a, b] = [toUs("2023-04-04T23:58:00Z"), toUs("2023-04-05T00:07:00Z")];
    assertRowsEqual(plain.loadCached(a, b, cache), plain.load(a, b), "plain");
    const got = scaled.loadCached(a, b, cache);
    assertRowsEqual(got, scaled.load(a, b), "rescaled");
    const p = plain.load(a, b).columns.px_int as Float64Array;
    assert.equal((got.columns.px_int as Float64Array)[0], p[0]! * 10);
    assert.equal(cache.stats.hits, 0, "different factors, different entries");
  });

  it("merges overlapping parts in the total order, as the uncached reader does", () => {
    const cache = new PartCache();
    const base = reader("trades");
    const parts: PartInfo[] = [...base.parts, ...base.parts].sort(
      (x, y) => x.first_ts_local_us - y.first_ts_local_us,
    );
    const r = new SourceReader(lake, base.source, parts);
    for (const [a, b] of grid(from, to, 600_000_000)) {
      const got = r.loadCached(a, b, cache);
      assertRowsEqual(got, r.load(a, b), `overlap [${a}, ${b})`);
      const ts = got.columns.ts_local_us as Float64Array;
      for (let i = 1; i < ts.length; i++) assert.ok(ts[i - 1]! <= ts[i]!);
    }
  });

  it("concatRows with merge sorts by (ts_local_us, file_id, file_line_number) like a brute-force sort", () => {
    const mk = (keys: [number, number, number][]): TypedRows => ({
      table: "trades",
      length: keys.length,
      columns: {
        ts_local_us: Float64Array.from(keys.map((k) => k[0])),
        file_id: Float64Array.from(keys.map((k) => k[1])),
        file_line_number: Float64Array.from(keys.map((k) => k[2])),
        side: Int8Array.from(keys.map((k) => (k[2] % 2 ? 1 : -1))),
      },
    });
    const a: [number, number, number][] = [
      [5, 2, 1],
      [5, 1, 9],
      [7, 1, 3],
    ];
    const b: [number, number, number][] = [
      [5, 1, 4],
      [6, 3, 1],
      [7, 1, 2],
    ];
    const got = concatRows([mk(a), mk(b)], true);
    const want = [...a, ...b].sort((x, y) => x[0] - y[0] || x[1] - y[1] || x[2] - y[2]);
    assertRowsEqual(got, mk(want), "merged");
  });

  it("is keyed by content: a rewritten part is re-hashed and the stale decode is never served", () => {
    const cache = new PartCache();
    const r = reader("trades");
    const [a, b] = [from, to];
    const before = r.loadCached(a, b, cache);
    assert.equal(cache.stats.filesHashed, r.parts.length);
    // re-ingest stand-in: part 0's file now holds part 1's bytes (a valid trades part, other rows)
    const p0 = resolve(lake, r.parts[0]!.path);
    const p1 = resolve(lake, r.parts[1]!.path);
    const saved = readFileSync(p0);
    copyFileSync(p1, p0);
    try {
      const sha = createHash("sha256").update(readFileSync(p1)).digest("hex");
      assert.equal(cache.contentHash(p0), sha);
      assert.equal(cache.stats.filesHashed, r.parts.length + 1);
      const after = r.loadCached(a, b, cache);
      assertRowsEqual(after, r.load(a, b), "after rewrite");
      assert.notEqual(after.length, before.length);
    } finally {
      writeFileSync(p0, saved);
    }
  });

  it("lineage hashes reused from the cache equal a streamed sha256 of each part file", async () => {
    const cache = new PartCache();
    const r = reader("book");
    r.loadCached(from, to, cache);
    const hashed = cache.stats.filesHashed;
    const parts = r.partitions();
    const viaCache = await hashPartitions(lake, parts, cache);
    assert.equal(cache.stats.filesHashed, hashed, "no file hashed twice");
    assert.deepEqual(viaCache, await hashPartitions(lake, parts));
    assert.ok(viaCache.every((p) => /^[0-9a-f]{64}$/.test(p.sha256)));
  });

  it("decodedBytesPerRow is what a decoded read holds per row (the pipeline's cache-sizing estimate)", () => {
    for (const role of ["trades", "quotes", "book", "ticker"] as const) {
      const rows = reader(role).load(from, to);
      assert.ok(rows.length > 0);
      assert.equal(decodedBytesPerRow(roleTable(role)) * rows.length, rowsBytes(rows), role);
    }
  });

  it("is bounded: evicts least-recently-used parts and never holds more than maxBytes", () => {
    const probe = new PartCache();
    const r = reader("book");
    r.loadCached(from, to, probe);
    const total = probe.stats.bytes;
    assert.ok(probe.stats.entries >= 2 && total > 0);
    const small = new PartCache(total - 1); // every part fits, not all of them
    for (let k = 0; k < 3; k++) {
      assertRowsEqual(r.loadCached(from, to, small), r.load(from, to), `bounded pass ${k}`);
      assert.ok(small.stats.bytes <= small.maxBytes, `${small.stats.bytes} ≤ ${small.maxBytes}`);
    }
    assert.ok(small.stats.evictions > 0);
    const none = new PartCache(0);
    assertRowsEqual(r.loadCached(from, to, none), r.load(from, to), "maxBytes 0");
    assert.equal(none.stats.entries, 0);
    assert.equal(rowsBytes(r.load(from, to)) > 0, true);
    assert.throws(() => new PartCache(-1), RangeError);
  });

  it("pipeline runs without, with and with a warm shared cache agree on output hash and gates", async () => {
    const { lake: lake24, cleanup: clean24 } = await captureLake(["usdm2024"]);
    try {
      const req = JSON.parse(readFileSync(join("examples", "requests", "btc_mft_volbar.json"), "utf8"));
      req.timeline = { start: W2024.start, end: W2024.end, ts_col: "ts_local_us" };
      const shared = new PartCache();
      const runs: PipelineOutput[] = [];
      for (const partCache of [false, undefined, shared, shared] as const)
        runs.push(
          await runPipeline(req, {
            lake: lake24,
            writeArtifacts: false,
            ...(partCache !== undefined ? { partCache } : {}),
          }),
        );
      assert.ok(shared.stats.hits > 0);
      const strip = (o: PipelineOutput) =>
        o.quality_gates.gate_results.map((g) => {
          const { elapsed_ms: _, ...details } = g.details;
          return { ...g, details };
        });
      for (const o of runs.slice(1)) {
        assert.deepEqual(strip(o), strip(runs[0]!));
        assert.deepEqual(o.decision, runs[0]!.decision);
      }
      assert.ok(runs[0]!.results.row_count > 0);
      const repro = runs[0]!.quality_gates.gate_results.find((g) => g.name === "reproducibility_check");
      assert.match(String(repro?.details.sha256_run1), /^[0-9a-f]{64}$/, "the output hash is compared");
    } finally {
      clean24();
    }
  });
});
