/**
 * Multi-symbol runs on the piscina pool: per-symbol and combined content hashes equal to the sequential
 * run and to independent single-symbol `buildFeatureFrame` runs; a symbol with a corrupt lake part fails
 * with an error naming the file while the others complete (exit code 3); registry queries.
 */
import assert from "node:assert/strict";
import { cpSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import pl from "nodejs-polars";
import { canonicalFrameHash } from "../../src/engine/hash.js";
import { buildFeatureFrame } from "../../src/features/frame.js";
import { type MultiSymbolManifest, runMultiSymbol } from "../../src/scale/multi.js";
import { tempDir } from "../helpers/data.js";
import { assertFramesIdentical } from "../helpers/engine.js";
import { corruptTradesPart, GEN_START_US, generateLake, TRADES_ONLY_FAMILIES } from "../helpers/gen-lake.js";
import { runCli } from "../helpers/run-cli.js";

const SYMBOLS = ["S01USDT", "S02USDT", "S03USDT"];
const START = GEN_START_US + 2 * 3_600_000_000;
const END = GEN_START_US + 20 * 3_600_000_000;
const CONFIG = {
  spine: { type: "clock" as const, stepMs: 300_000 },
  ...TRADES_ONLY_FAMILIES,
};

/** `features build-many` over [START, END) on 5-minute bars, in process. */
const buildMany = (lake: string, out: string, ...flags: string[]) =>
  runCli([
    "features",
    "build-many",
    "--lake",
    lake,
    "--start",
    String(START),
    "--end",
    String(END),
    "--spine",
    "clock:300000",
    "--out-dir",
    out,
    ...flags,
  ]);

describe("multi-symbol runs", () => {
  const tmp = tempDir("pointline-multi-");
  let lake = "";
  let seq: MultiSymbolManifest;
  let pool: MultiSymbolManifest;
  before(async () => {
    lake = await generateLake(tmp.dir, { symbols: SYMBOLS, days: 1, tradesPerDay: 3000 });
    const base = { lake, start: START, end: END, config: CONFIG };
    seq = await runMultiSymbol({
      ...base,
      selection: { query: { exchange: "binance-futures" } },
      outDir: join(tmp.dir, "seq"),
      workers: 0,
    });
    pool = await runMultiSymbol({
      ...base,
      selection: { query: { exchange: "binance-futures" } },
      outDir: join(tmp.dir, "pool"),
      workers: 2,
    });
  });
  after(() => tmp.cleanup());

  it("pool and sequential runs give equal per-symbol and combined content hashes", () => {
    assert.equal(seq.status, "ok");
    assert.equal(pool.status, "ok");
    assert.deepEqual(
      pool.symbols.map((s) => (s.ok ? [s.symbol, s.rows, s.contentSha256] : s.error)),
      seq.symbols.map((s) => (s.ok ? [s.symbol, s.rows, s.contentSha256] : s.error)),
    );
    assert.ok(pool.combined && seq.combined);
    assert.equal(pool.combined.content_sha256, seq.combined.content_sha256);
    assert.equal(pool.combined.rows, 3 * 216); // 18 h of 5-minute bars per symbol
  });

  it("each symbol equals an independent single-symbol buildFeatureFrame (hash and combined rows)", async () => {
    const combined = pl.readParquet(pool.combined!.path);
    for (const [k, symbol] of SYMBOLS.entries()) {
      const ref = await buildFeatureFrame({
        lake,
        exchange: "binance-futures",
        symbol,
        start: START,
        end: END,
        config: CONFIG,
      });
      const r = pool.symbols[k]!;
      assert.ok(r.ok);
      assert.equal(r.symbol, symbol);
      assert.equal(r.contentSha256, canonicalFrameHash(ref), symbol);
      const mine = combined.filter(pl.col("symbol").eq(pl.lit(symbol))).drop("exchange", "symbol");
      assertFramesIdentical(mine, ref, symbol);
    }
  });

  it("a symbol with a corrupt part fails with the file named; the others complete (CLI exit 3)", async () => {
    const copy = tempDir("pointline-multi-bad-");
    try {
      const bad = join(copy.dir, "lake");
      cpSync(lake, bad, { recursive: true });
      const part = corruptTradesPart(bad, "S02USDT", "2024-01-01");
      const out = join(copy.dir, "out");
      const res = await buildMany(
        bad,
        out,
        "--exchange",
        "binance-futures",
        "--families",
        "of,flow,tb",
        "--workers",
        "2",
        "--json",
      );
      assert.equal(res.status, 3, res.stderr);
      const m = JSON.parse(res.stdout) as MultiSymbolManifest;
      assert.equal(m.status, "partial");
      const failed = m.symbols.filter((s) => !s.ok);
      assert.deepEqual(
        failed.map((s) => s.symbol),
        ["S02USDT"],
      );
      assert.match(failed[0]!.ok ? "" : failed[0]!.error, new RegExp(part));
      assert.match(res.stderr, /FAILED binance-futures:S02USDT/);
      assert.equal(m.symbols.filter((s) => s.ok).length, 2);
      const combined = pl.readParquet(join(out, "combined.parquet"));
      assert.deepEqual([...new Set(combined.getColumn("symbol").toArray())], ["S01USDT", "S03USDT"]);
    } finally {
      copy.cleanup();
    }
  });

  it("selects instruments by list or registry query, and refuses unknown ones", async () => {
    const out = join(tmp.dir, "q");
    const res = await buildMany(
      lake,
      out,
      "--base",
      "s02",
      "--asset-type",
      "perpetual",
      "--families",
      "of",
      "--workers",
      "0",
    );
    assert.equal(res.status, 0, res.stderr);
    assert.match(res.stdout, /^ok: 1\/1 symbols/);
    assert.match(res.stdout, /binance-futures:S02USDT/);
    const bad = await buildMany(lake, out, "--symbols", "binance-futures:S01USDT,binance-futures:NOPE");
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /binance-futures:NOPE is not in the lake's symbol registry/);
    const both = await buildMany(lake, out, "--symbols", "binance-futures:S01USDT", "--base", "S01");
    assert.equal(both.status, 1);
    assert.match(both.stderr, /exclude each other/);
  });
});
