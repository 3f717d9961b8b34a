/**
 * Online-store benchmark (issue 11, "Benchmark"), for both backends (Redis on a private redis-server,
 * embedded SQLite in a temp dir):
 *
 * 1. bar close → row readable: a `StoreRowWriter.write(row)` as the live runner's listener calls it, then
 *    `flush()` resolving = the store acknowledged the row (a read issued afterwards sees it; checked on
 *    every 100th row); one row at a time, as bars close, after 2,000 warm-up rows. p50 / p99 / p99.9
 *    (target p99 ≤ 1 ms).
 * 2. `getLatest` of one entity with 100 columns (5 spine + 95 features: an 824-byte member) — p50 / p99
 *    (target p99 ≤ 1 ms) — beside the floor: `redis-benchmark -t get -d 824 -c 1` (one client, as our
 *    sequential calls) and a raw ioredis GET of an 824-byte value.
 * 3. materialize throughput: a 50,000-row × 100-column frame into an empty feature set, rows/s.
 *
 * Run: `npm run bench:store` (results also in bench/out/store.json). Latencies vary with the machine's
 * load; the numbers in the closing notes were measured on the 2-core machine shared with other work.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FrameColumn } from "../../src/features/frame.js";
import { EmbeddedOnlineStore } from "../../src/store/embedded-store.js";
import { materialize } from "../../src/store/materialize.js";
import { RedisOnlineStore } from "../../src/store/redis-store.js";
import { StoreRowWriter } from "../../src/store/row-writer.js";
import type { OnlineStore } from "../../src/store/types.js";
import { startRedis } from "../../test/helpers/redis.js";

const FEATURES = 95;
const COLUMNS: FrameColumn[] = [
  { name: "ts_event_us", dtype: "Int64", unit: "µs" },
  { name: "ts_end_us", dtype: "Int64", unit: "µs" },
  { name: "available_at_us", dtype: "Int64", unit: "µs" },
  { name: "bar_index", dtype: "Int64", unit: "" },
  { name: "bar_duration_us", dtype: "Int64", unit: "µs" },
  ...Array.from({ length: FEATURES }, (_, k) => ({ name: `f${k}`, dtype: "Float64" as const, unit: "" })),
];
const E = { exchange: "binance-futures", symbol: "BTCUSDT" };
const T0 = 1_723_161_600_000_000;

function row(i: number): Float64Array {
  const r = new Float64Array(COLUMNS.length);
  r[0] = T0 + i * 1_000_000;
  r[1] = r[0] + 1_000_000;
  r[2] = r[1];
  r[3] = i;
  r[4] = 1_000_000;
  for (let k = 5; k < r.length; k++) r[k] = k % 7 === 0 ? Number.NaN : Math.sin(i * k) * 1e3;
  return r;
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}
const fmt = (ms: number) => `${(ms * 1000).toFixed(0)} µs`;
const summary = (xs: number[]) => ({
  p50_ms: pct(xs, 50),
  p99_ms: pct(xs, 99),
  p999_ms: pct(xs, 99.9),
  n: xs.length,
});

async function barCloseToReadable(store: OnlineStore, n: number) {
  const set = await store.registerFeatureSet({ name: "bench_live", columns: COLUMNS });
  const writer = StoreRowWriter.create({ store, set, entity: E, columns: COLUMNS });
  const lat: number[] = [];
  const warm = WARMUP_ROWS;
  for (let i = 0; i < warm + n; i++) {
    const r = row(i);
    const t = performance.now();
    writer.write(r);
    await writer.flush();
    if (i >= warm) lat.push(performance.now() - t);
    if (i % 100 === 0) {
      const got = await store.getLatest(set, E);
      if (got === null || got[3] !== i) throw new Error(`row ${i} not readable after flush`);
    }
  }
  await writer.close();
  return summary(lat);
}

async function latestLatency(store: OnlineStore, n: number) {
  const set = await store.registerFeatureSet({ name: "bench_get", columns: COLUMNS });
  await store.writeRows(
    set,
    E,
    Array.from({ length: 1000 }, (_, i) => row(i)),
  );
  const lat: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    const r = await store.getLatest(set, E);
    lat.push(performance.now() - t);
    if (r === null) throw new Error("no latest row");
  }
  return summary(lat.slice(n / 10));
}

async function materializeRate(store: OnlineStore, rows: number) {
  const values = COLUMNS.map(() => new Float64Array(rows));
  for (let i = 0; i < rows; i++) {
    const r = row(i);
    for (let k = 0; k < r.length; k++) values[k]![i] = r[k]!;
  }
  const t = performance.now();
  const rep = await materialize({
    store,
    frame: { columns: COLUMNS, values, height: rows, entity: E, source: {} },
    set: { name: "bench_mat" },
  });
  const s = (performance.now() - t) / 1000;
  if (rep.rowsWritten !== rows) throw new Error("materialize wrote fewer rows");
  return { rows, seconds: s, rows_per_s: rows / s };
}

async function rawGetFloor(client: RedisOnlineStore["client"], n: number) {
  await client.set("bench:raw", Buffer.alloc(824, 7));
  const lat: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await client.getBuffer("bench:raw");
    lat.push(performance.now() - t);
  }
  return summary(lat.slice(n / 10));
}

function redisBenchmarkFloor(port: number): { p50_ms: number; p99_ms: number } | null {
  try {
    const out = execFileSync(
      "redis-benchmark",
      ["-h", "127.0.0.1", "-p", String(port), "-t", "get", "-d", "824", "-n", "20000", "-c", "1"],
      { encoding: "utf8" },
    );
    const lines = out.split("\n");
    const k = lines.findIndex((l) => /avg\s+min\s+p50\s+p95\s+p99\s+max/.test(l));
    const v = lines[k + 1]!.trim().split(/\s+/).map(Number);
    return { p50_ms: v[2]!, p99_ms: v[4]! };
  } catch {
    return null;
  }
}

const results: Record<string, unknown> = {};
const N_LIVE = Number(process.env["BENCH_LIVE_ROWS"] ?? 3000);
const N_GET = Number(process.env["BENCH_GET_CALLS"] ?? 10000);
const N_MAT = Number(process.env["BENCH_MAT_ROWS"] ?? 50000);
/** Rows written before the measured ones (JIT, connection and server allocations warm up). */
const WARMUP_ROWS = Number(process.env["BENCH_WARMUP_ROWS"] ?? 2000);

const redis = await startRedis();
const dir = mkdtempSync(join(tmpdir(), "pointline-bench-store-"));
try {
  for (const kind of ["redis", "embedded"] as const) {
    const store: OnlineStore =
      kind === "redis" ? await RedisOnlineStore.connect(redis.url) : EmbeddedOnlineStore.open(dir);
    const live = await barCloseToReadable(store, N_LIVE);
    const get = await latestLatency(store, N_GET);
    const mat = await materializeRate(store, N_MAT);
    const r: Record<string, unknown> = {
      bar_close_to_readable: live,
      get_latest_100_columns: get,
      materialize: mat,
    };
    if (store instanceof RedisOnlineStore) {
      r["floor_ioredis_get_824B"] = await rawGetFloor(store.client, N_GET);
      r["floor_redis_benchmark_get_824B"] = redisBenchmarkFloor(redis.port);
    }
    results[kind] = r;
    await store.close();
    process.stdout.write(
      `${kind}: bar close → readable p50 ${fmt(live.p50_ms)}, p99 ${fmt(live.p99_ms)}, p99.9 ${fmt(live.p999_ms)} | getLatest (100 cols) p50 ${fmt(get.p50_ms)}, p99 ${fmt(get.p99_ms)} | materialize ${Math.round(mat.rows_per_s).toLocaleString("en-US")} rows/s (${mat.rows} rows in ${mat.seconds.toFixed(2)} s)\n`,
    );
    if (store instanceof RedisOnlineStore) {
      const a = r["floor_ioredis_get_824B"] as ReturnType<typeof summary>;
      const b = r["floor_redis_benchmark_get_824B"] as { p50_ms: number; p99_ms: number } | null;
      process.stdout.write(
        `  floor: raw ioredis GET 824 B p50 ${fmt(a.p50_ms)}, p99 ${fmt(a.p99_ms)}${b ? ` | redis-benchmark -t get -d 824 -c 1: p50 ${fmt(b.p50_ms)}, p99 ${fmt(b.p99_ms)}` : " | redis-benchmark not found"}\n`,
      );
    }
  }
} finally {
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
}
const outDir = join(import.meta.dirname, "..", "out");
mkdirSync(outDir, { recursive: true });
writeFileSync(
  join(outDir, "store.json"),
  `${JSON.stringify({ at: new Date().toISOString(), ...results }, null, 2)}\n`,
);
