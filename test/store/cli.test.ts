/**
 * `pointline store …` as a user runs it (child processes): materialize a `features build` frame into the
 * embedded store (twice: incremental), list sets, get the latest / as-of rows (compared with the frame's
 * rows), diff (identical, then a frame with one altered value: exit 2), the same into a private Redis,
 * offline register + history (compared with a naive lookup), and the errors users meet (Redis down,
 * unknown set).
 */
import assert from "node:assert/strict";
import { copyFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import pl from "nodejs-polars";
import { writeFeatureFrame } from "../../src/features/output.js";
import { tempDir } from "../helpers/data.js";
import { captureLake, W2024 } from "../helpers/lake.js";
import { frameColumns } from "../helpers/live.js";
import { freePort, startRedis, type TestRedis } from "../helpers/redis.js";
import { runCli } from "../helpers/run-cli.js";

const EX = "binance-futures";
const SYM = "BTCUSDT";

let lake: { lake: string; cleanup: () => void };
let tmp: { dir: string; cleanup: () => void };
let redis: TestRedis;
let frame: string;
let cols: Map<string, Float64Array>;

before(async () => {
  tmp = tempDir("pointline-store-cli-");
  [lake, redis] = await Promise.all([captureLake(["usdm2024", "spot2024"]), startRedis()]);
  frame = join(tmp.dir, "bars.parquet");
  await writeFeatureFrame(
    {
      lake: lake.lake,
      exchange: EX,
      symbol: SYM,
      ...W2024,
      prefetch: false,
      config: {
        spine: { type: "volume", volumeThreshold: 5 },
        includeBarAggregations: true,
      },
    },
    frame,
  );
  cols = frameColumns(pl.readParquet(frame));
});
after(async () => {
  await redis?.stop();
  lake?.cleanup();
  tmp?.cleanup();
});

const rowOf = (i: number): Record<string, number | null> =>
  Object.fromEntries([...cols].map(([k, v]) => [k, Number.isNaN(v[i]!) ? null : v[i]!]));

describe("pointline store (CLI)", { concurrency: true }, () => {
  it("embedded: materialize (incremental), sets, get latest / as of, diff", async () => {
    const st = join(tmp.dir, "store");
    const n = cols.get("ts_event_us")!.length;
    const m1 = await runCli(["store", "materialize", frame, "--set", "bars", "--store", st]);
    assert.equal(m1.status, 0, m1.stderr);
    assert.match(
      m1.stdout,
      new RegExp(`bars@1 ${EX}/${SYM} \\(registered\\): ${n} rows read = ${n} written \\+ 0 skipped`),
    );
    const m2 = await runCli(["store", "materialize", frame, "--set", "bars", "--store", st, "--json"]);
    const r2 = JSON.parse(m2.stdout) as { rowsRead: number; rowsWritten: number; rowsSkipped: number };
    assert.deepEqual([r2.rowsRead, r2.rowsWritten, r2.rowsSkipped], [n, 0, n]);
    const sets = await runCli(["store", "sets", "--store", st]);
    assert.match(sets.stdout, /bars@1: \d+ columns, ttl 604800 s/);
    const latest = await runCli([
      "store",
      "get",
      "--set",
      "bars",
      "--exchange",
      EX,
      "--symbol",
      SYM,
      "--store",
      st,
      "--format",
      "json",
    ]);
    assert.equal(latest.status, 0, latest.stderr);
    assert.deepEqual(JSON.parse(latest.stdout), [rowOf(n - 1)]);
    const k = 100;
    const at = cols.get("available_at_us")![k]!;
    const asOf = await runCli([
      "store",
      "get",
      "--set",
      "bars@1",
      "--exchange",
      EX,
      "--symbol",
      SYM,
      "--store",
      st,
      "--at",
      String(at + 1),
      "--format",
      "json",
    ]);
    assert.deepEqual(JSON.parse(asOf.stdout), [rowOf(k)]);
    const human = await runCli([
      "store",
      "get",
      "--set",
      "bars",
      "--exchange",
      EX,
      "--symbol",
      SYM,
      "--store",
      st,
    ]);
    assert.match(
      human.stdout,
      /^available_at_us\s+\d+ \(2024-08-0\dT.*Z\)\s+\[µs since epoch \(earliest knowable\)\]$/m,
    );
    const range = await runCli([
      "store",
      "get",
      "--set",
      "bars",
      "--exchange",
      EX,
      "--symbol",
      SYM,
      "--store",
      st,
      "--start",
      String(at),
      "--end",
      String(at + 60_000_000),
      "--format",
      "csv",
      "--limit",
      "100000",
    ]);
    const want = [...cols.get("available_at_us")!].filter((a) => a >= at && a < at + 60_000_000).length;
    assert.equal(range.stdout.trim().split("\n").length, want + 1, "header + rows in range");
    const same = await runCli(["store", "diff", frame, "--set", "bars", "--store", st]);
    assert.equal(same.status, 0, same.stdout + same.stderr);
    assert.match(
      same.stdout,
      new RegExp(`rows compared:\\s+${n}\\nrows differing:\\s+0\\nvalues differing:\\s+0`),
    );
    assert.match(same.stdout, /IDENTICAL \(bitwise\)/);
    // a batch frame with one value changed (manifest copied beside it): found, exit 2
    const altered = join(tmp.dir, "altered.parquet");
    const df = pl.readParquet(frame);
    const vwap = df.getColumn("vwap").toArray() as (number | null)[];
    const i = vwap.findIndex((v, j) => j > 50 && v !== null);
    vwap[i] = vwap[i]! + 1;
    df.withColumn(pl.Series("vwap", vwap, pl.Float64)).writeParquet(altered);
    copyFileSync(`${frame}.manifest.json`, `${altered}.manifest.json`);
    const diff = await runCli(["store", "diff", altered, "--set", "bars", "--store", st]);
    assert.equal(diff.status, 2);
    assert.match(diff.stdout, /rows differing:\s+1\nvalues differing:\s+1/);
    assert.match(diff.stdout, new RegExp(`vwap online ${vwap[i]! - 1} ≠ batch ${vwap[i]}`));
  });

  it("redis: materialize and diff; Redis down and an unknown set are clear errors", async () => {
    const m = await runCli(["store", "materialize", frame, "--set", "bars", "--redis", redis.url]);
    assert.equal(m.status, 0, m.stderr);
    const d = await runCli(["store", "diff", frame, "--set", "bars", "--redis", redis.url]);
    assert.equal(d.status, 0, d.stdout);
    assert.match(d.stdout, /rows differing:\s+0/);
    const down = `redis://127.0.0.1:${await freePort()}`;
    const e1 = await runCli(["store", "sets", "--redis", down]);
    assert.equal(e1.status, 1);
    assert.match(e1.stderr, new RegExp(`^pointline: cannot connect to Redis at ${down}: .*ECONNREFUSED`));
    const e2 = await runCli([
      "store",
      "get",
      "--set",
      "nope",
      "--exchange",
      EX,
      "--symbol",
      SYM,
      "--redis",
      redis.url,
    ]);
    assert.equal(e2.status, 1);
    assert.match(
      e2.stderr,
      new RegExp(`--set nope: no such feature set in redis store ${redis.url} \\(sets: bars@1\\)`),
    );
  });

  it("offline: register into the lake, then history = the naive as-of lookup", async () => {
    const reg = await runCli(["store", "register", frame, "--lake", lake.lake, "--set", "bars"]);
    assert.equal(reg.status, 0, reg.stderr);
    assert.match(reg.stdout, new RegExp(`^bars@1 ${EX}/${SYM}: \\d+ rows`));
    const avail = cols.get("available_at_us")!;
    const times = [avail[0]! - 1, avail[10]!, avail[10]! + 1, avail[200]! + 777];
    const ents = join(tmp.dir, "entities.csv");
    writeFileSync(
      ents,
      `exchange,symbol,event_time_us\n${times.map((t) => `${EX},${SYM},${t}`).join("\n")}\n`,
    );
    const out = join(tmp.dir, "history.parquet");
    const h = await runCli([
      "store",
      "history",
      "--lake",
      lake.lake,
      "--entities",
      ents,
      "--sets",
      "bars",
      "--out",
      out,
    ]);
    assert.equal(h.status, 0, h.stderr);
    const got = frameColumns(pl.readParquet(out));
    const naiveIndex = (t: number) => {
      let r = -1;
      for (let j = 0; j < avail.length; j++) if (avail[j]! <= t) r = j;
      return r;
    };
    times.forEach((t, i) => {
      const r = naiveIndex(t);
      for (const [c, v] of cols) {
        const gc = got.get(`bars__${c}`);
        assert.ok(gc, `no column bars__${c} in ${[...got.keys()].join(",")}`);
        const g = gc[i]!;
        const w = r < 0 ? Number.NaN : v[r]!;
        assert.ok(Object.is(g, w), `${c} at ${t}: ${g} vs ${w}`);
      }
    });
    const stale = await runCli([
      "store",
      "history",
      "--lake",
      lake.lake,
      "--entities",
      ents,
      "--sets",
      "bars",
      "--max-staleness-ms",
      "0",
      "--out",
      out,
    ]);
    assert.equal(stale.status, 0, stale.stderr);
    const s = frameColumns(pl.readParquet(out)).get("bars__vwap")!;
    assert.deepEqual([Number.isNaN(s[0]!), Number.isNaN(s[1]!), Number.isNaN(s[2]!)], [true, false, true]);
  });
});
