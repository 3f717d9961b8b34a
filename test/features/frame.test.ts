/**
 * The full default family set (plus cross-venue and the bar aggregations) on the real captures: PIT
 * prefix truncation at random cut times on the clock and volume spines, determinism, warm-up invariance
 * (a later start with its default warm-up reproduces the rows of an earlier start bitwise), streaming =
 * batch, the manifest written by `features build` (CSV and Parquet give the same content hash; the CLI
 * run in process, see test/helpers/run-cli.ts), and the docs catalogue kept current.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import pl from "nodejs-polars";
import { toUs } from "../../src/core/time.js";
import { canonicalFrameHash } from "../../src/engine/hash.js";
import { checkPrefixTruncation } from "../../src/engine/pit.js";
import { catalogConfig, catalogMarkdown, featureCatalog } from "../../src/features/catalog.js";
import type { FeatureRunInput } from "../../src/features/config.js";
import { FAMILIES } from "../../src/features/families.js";
import { buildFeatureFrame, streamFeatureFrame } from "../../src/features/frame.js";
import { sha256File } from "../../src/lake/hash.js";
import { assertFramesIdentical } from "../helpers/engine.js";
import { captureLake, W2024 } from "../helpers/lake.js";
import { runCli } from "../helpers/run-cli.js";

const ROOT = resolve(fileURLToPath(import.meta.url), "..", "..", "..");
const EX = "binance-futures";
const SYM = "BTCUSDT";
const ALL: FeatureRunInput = {
  ...Object.fromEntries(FAMILIES.map((f) => [f.flag, true])),
  crossVenue: { exchange: "binance", symbol: "BTCUSDT" },
};

let lake = "";
let cleanup = () => {};

describe("feature frames with every family on binance-futures BTCUSDT 2024-08-08", () => {
  before(async () => {
    ({ lake, cleanup } = await captureLake(["usdm2024", "spot2024"]));
  });
  after(() => cleanup());

  const req = (spine: FeatureRunInput["spine"], extra: FeatureRunInput = {}) => ({
    lake,
    exchange: EX,
    symbol: SYM,
    ...W2024,
    config: { ...ALL, spine, ...extra },
  });
  /** The whole window's frame on the 1 s clock, built once for the PIT and determinism tests. */
  let clockFrame: Promise<pl.DataFrame> | undefined;
  const fullClock = (): Promise<pl.DataFrame> => {
    clockFrame ??= buildFeatureFrame(req({ type: "clock", stepMs: 1000 }));
    return clockFrame;
  };

  it("passes the PIT prefix-truncation check at random cuts (clock 1 s and 5 BTC volume bars)", async () => {
    const cuts = fc.sample(fc.integer({ min: toUs(W2024.start) + 30_000_000, max: toUs(W2024.end) - 1 }), {
      seed: 99,
      numRuns: 6,
    });
    for (const spine of [
      { type: "clock", stepMs: 1000 },
      { type: "volume", volumeThreshold: 5 },
    ] as const) {
      const full = await (spine.type === "clock" ? fullClock() : buildFeatureFrame(req(spine)));
      assert.ok(full.width > 80, `${full.width} columns`);
      const r = await checkPrefixTruncation(full, (c) => buildFeatureFrame({ ...req(spine), end: c }), cuts);
      assert.ok(r.passed, `${spine.type}: ${JSON.stringify(r.violations.slice(0, 3))}`);
      assert.ok(r.rowsCompared > 600, `${r.rowsCompared} rows compared`);
    }
  });

  it("is deterministic and streaming equals batch", async () => {
    // two separate runs (the first one shared with the PIT test)
    const a = await fullClock();
    const b = await buildFeatureFrame(req({ type: "clock", stepMs: 1000 }));
    assert.equal(canonicalFrameHash(a), canonicalFrameHash(b));
    const parts: pl.DataFrame[] = [];
    for await (const df of streamFeatureFrame({ ...req({ type: "clock", stepMs: 1000 }), batchRows: 50 }))
      parts.push(df);
    assert.ok(parts.length >= 7);
    assertFramesIdentical(pl.concat(parts, { how: "vertical" }), a, "streamed");
  });

  it("a later start with the default warm-up reproduces the earlier run's rows bitwise", async () => {
    const small: FeatureRunInput = {
      flowWindowRows: 10,
      liquidityWindowRows: 10,
      basisWindowRows: 10,
      tradeBurstWindowRows: 10,
      regimeWindowRows: 10,
    };
    const early = await buildFeatureFrame({
      ...req({ type: "clock", stepMs: 1000 }, small),
      start: "2024-08-08T23:55:00Z",
    });
    const late = await buildFeatureFrame({
      ...req({ type: "clock", stepMs: 1000 }, small),
      start: "2024-08-08T23:58:00Z",
    });
    assert.equal(late.height, 120);
    const cut = toUs("2024-08-08T23:58:00Z");
    assertFramesIdentical(late, early.filter(pl.col("ts_event_us").gtEq(cut)), "late start");
    // and the check can fail: without warm-up the late run's first rows differ (rolling windows not full)
    const cold = await buildFeatureFrame({
      ...req({ type: "clock", stepMs: 1000 }, { ...small, warmupMs: 0 }),
      start: "2024-08-08T23:58:00Z",
    });
    assert.throws(() => assertFramesIdentical(cold, early.filter(pl.col("ts_event_us").gtEq(cut))));
  });

  it("features build writes Parquet and CSV with manifests that describe them exactly", async () => {
    const out = join(lake, "..", "out");
    const args = (file: string) => [
      "features",
      "build",
      "--lake",
      lake,
      "--exchange",
      EX,
      "--symbol",
      SYM,
      "--start",
      W2024.start,
      "--end",
      W2024.end,
      "--spine",
      "hybrid:5:2000",
      "--families",
      "ms,flow,bar",
      "--out",
      join(out, file),
      "--json",
    ];
    const run = async (file: string) => {
      const r = await runCli(args(file));
      assert.equal(r.status, 0, r.stderr);
      return JSON.parse(r.stdout);
    };
    const mp = await run("f.parquet");
    const mc = await run("f.csv");
    const df = pl.readParquet(join(out, "f.parquet"));
    assert.equal(mp.row_count, df.height);
    assert.deepEqual(
      mp.columns.map((c: { name: string }) => c.name),
      df.columns,
    );
    assert.deepEqual(mp.families, ["ms", "flow", "bar"]);
    assert.equal(mp.output.sha256, (await sha256File(join(out, "f.parquet"))).sha256);
    assert.equal(mc.output.sha256, (await sha256File(join(out, "f.csv"))).sha256);
    assert.equal(mp.content_sha256, canonicalFrameHash(df), "content hash of the Parquet values");
    assert.equal(mc.content_sha256, mp.content_sha256, "CSV and Parquet hold the same values");
    assert.equal(mc.config_hash, mp.config_hash);
    for (const p of mp.input_partitions)
      assert.equal(p.sha256, (await sha256File(join(lake, p.path))).sha256);
    assert.ok(mp.input_partitions.some((p: { table: string }) => p.table === "trades"));
    assert.match(mp.code_version.package, /^pointline@/);
    // hybrid bars: volume close or a 2 s time close
    const dur = df.getColumn("bar_duration_us").toArray() as number[];
    assert.ok(dur.every((d) => Number(d) <= 2_000_000));
    assert.equal(mp.trades_in_range, mp.unassigned_trades + Number(df.getColumn("trade_count").sum()));
    // bad input: a clear error and exit code 1
    const bad = await runCli([
      ...args("g.parquet").slice(0, 12),
      "--spine",
      "volume:x",
      "--out",
      join(out, "g.parquet"),
    ]);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /--spine volume:x: volumeThreshold must be a number/);
  });
});

describe("feature catalogue", () => {
  it("covers every output of every family and docs/features.md is current", () => {
    const metas = featureCatalog();
    const names = new Set(metas.map((m) => m.name));
    assert.equal(names.size, metas.length, "duplicate feature names");
    const cfg = catalogConfig();
    const outputs = FAMILIES.flatMap((f) => f.create(cfg).outputs.map((o) => o.name));
    assert.deepEqual([...names].sort(), [...outputs].sort(), "catalogue = operator outputs");
    for (const m of metas) {
      for (const k of ["formula", "unit", "window", "warmup", "pitPolicy", "source"] as const) {
        assert.ok(m[k].length > 0, `${m.name}: empty ${k}`);
      }
      assert.ok(m.inputs.length > 0, `${m.name}: no inputs`);
    }
    assert.equal(
      readFileSync(join(ROOT, "docs", "features.md"), "utf8"),
      catalogMarkdown(),
      "run npm run docs",
    );
  });
});
