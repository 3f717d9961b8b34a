/**
 * Artifacts of the trader frame (src/trader/artifacts.ts): files, feature schema, manifest hashes stable
 * across runs and recomputed independently, reports with the leakage figures; the BTC perp file through
 * the generic 1m CSV ingest, the lake replay against the raw file, lake path vs replay path, and the CLI.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import pl from "nodejs-polars";
import { TRADER_FEATURES } from "../../src/features/trader/features.js";
import { ingestFiles } from "../../src/ingest/ingest.js";
import { writeTraderArtifacts } from "../../src/trader/artifacts.js";
import { buildTraderFeatureFrame, type TraderFrame } from "../../src/trader/frame.js";
import { replayRowsToFrame } from "../../src/trader/replay.js";
import { parseSplitManifest } from "../../src/trader/splits.js";
import { tempDir } from "../helpers/data.js";
import { BTC_PERP_1M, btcPerpRows, generatedRows, toReplayRows } from "./data.js";

const REPO = resolve(fileURLToPath(import.meta.url), "..", "..", "..");
const D0 = Date.UTC(2024, 0, 1) * 1000;

function cli(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [join(REPO, "bin", "pointline.js"), ...args],
      { cwd: REPO, encoding: "utf8", timeout: 120_000, maxBuffer: 64 << 20 },
      (err, stdout, stderr) =>
        done({ status: err === null ? 0 : typeof err.code === "number" ? err.code : -1, stdout, stderr }),
    );
  });
}

const col = (df: pl.DataFrame, name: string) => df.getColumn(name).toArray() as unknown[];

describe("trader artifacts and CLI", () => {
  const tmp = tempDir("pointline-trader-artifacts-");
  let replay: pl.DataFrame;
  let tf: TraderFrame;
  before(async () => {
    replay = replayRowsToFrame("AAA", toReplayRows(generatedRows(7, D0, 2, 40_000)));
    tf = await buildTraderFeatureFrame({ source: { kind: "replay", replay } });
  });
  after(() => tmp.cleanup());

  it("artifacts: files, schema, manifest hashes stable across runs, reports with the leakage figures", async () => {
    const out1 = join(tmp.dir, "run1");
    const out2 = join(tmp.dir, "run2");
    const a1 = await writeTraderArtifacts(tf, out1);
    const again = await buildTraderFeatureFrame({ source: { kind: "replay", replay } });
    const a2 = await writeTraderArtifacts(again, out2);
    assert.deepEqual(a2.manifestJson, a1.manifestJson);
    const m = JSON.parse(readFileSync(a1.manifest, "utf8"));
    const order = JSON.parse(readFileSync(a1.featureOrder, "utf8"));
    assert.deepEqual(order, TRADER_FEATURES);
    // feature_order_hash: sha256 of the order's canonical JSON, recomputed here
    assert.equal(m.feature_order_hash, createHash("sha256").update(JSON.stringify(order)).digest("hex"));
    assert.equal(m.feature_count, 33);
    assert.deepEqual(m.rows_by_flag, tf.flagCounts);
    assert.match(m.data_hash_sha256, /^[0-9a-f]{64}$/);
    const schema = JSON.parse(readFileSync(a1.featureSchema, "utf8")) as Record<string, unknown>[];
    assert.equal(schema.length, 33);
    for (const e of schema)
      for (const k of ["name", "unit", "window", "warmup", "formula", "inputs"])
        assert.ok(e[k] !== undefined && e[k] !== "", `${String(e.name)} ${k}`);
    const back = pl.readParquet(a1.frame);
    assert.equal(back.height, tf.frame.height);
    assert.ok(String(back.getColumn("ret_1m_bps").dtype).includes("Float32"));
    const md = readFileSync(a1.reportMd, "utf8");
    for (const h of [
      "## Split coverage",
      "## Source coverage",
      "## Leakage check (prefix truncation)",
      "## Extreme values",
      "## High correlation",
      "## Drift",
      "## Distribution",
    ])
      assert.ok(md.includes(h), h);
    assert.match(md, /rows compared: [1-9]\d*/);
    assert.match(md, /values that changed: 0/);
    // a different frame hashes differently
    const sub = await buildTraderFeatureFrame({
      source: { kind: "replay", replay },
      features: ["ret_1m_bps"],
    });
    const a3 = await writeTraderArtifacts(sub, join(tmp.dir, "run3"));
    assert.notEqual(a3.manifestJson.data_hash_sha256, a1.manifestJson.data_hash_sha256);
    assert.notEqual(a3.manifestJson.feature_order_hash, a1.manifestJson.feature_order_hash);
  });

  it("BTC perp file: lake (generic 1m CSV ingest, vendor-bar replay) and raw file agree; CLI end to end", async () => {
    const lake = join(tmp.dir, "btc-lake");
    const [m] = await ingestFiles("binance-vision", [BTC_PERP_1M], {
      lake,
      exchange: "binance-futures",
      symbol: "BTC-PERP",
    });
    const raw = btcPerpRows();
    // float-noise volumes (e.g. 218102.59507500002) cannot be held at the inferred increment: quarantined, counted
    const rejected = m!.report.tables.ohlcv_bars!.rows_rejected;
    assert.equal(m!.report.tables.ohlcv_bars!.rows_written + rejected, raw.length);
    assert.ok(rejected > 0 && rejected < 10);
    const out = join(tmp.dir, "cli-btc");
    const r = await cli([
      "trader",
      "replay",
      "--lake",
      lake,
      "--exchange",
      "binance-futures",
      "--symbols",
      "BTC-PERP",
      "--start",
      "2022-01-10T00:00:00Z",
      "--end",
      "2022-01-16T00:00:00Z",
      "--out",
      out,
    ]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /BTC-PERP: \d+ rows of 8640 minutes \(0 from trades, \d+ from vendor 1m bars/);
    const lakeReplay = pl.readParquet(join(out, "replay", "replay_1m.parquet"));
    // the range holds 6 days of the file; the quarantined rows of Jan 13 are missing from the replay
    const inRange = raw.filter(
      (x) => x.t >= Date.UTC(2022, 0, 10) * 1000 && x.t < Date.UTC(2022, 0, 16) * 1000,
    );
    assert.ok(lakeReplay.height < inRange.length && lakeReplay.height > inRange.length - 10);
    const byT = new Map(raw.map((x) => [x.t / 1000, x]));
    const t = col(lakeReplay, "open_time_ms").map(Number);
    const close = col(lakeReplay, "close") as number[];
    const vol = col(lakeReplay, "volume") as number[];
    t.forEach((ms, i) => {
      const w = byT.get(ms)!;
      assert.ok(w, `minute ${ms}`);
      assert.equal(close[i], w.close);
      assert.ok(Math.abs(vol[i]! - w.volume) <= 1e-9 * w.volume, `volume ${ms}`);
    });
    // features from the lake equal features from the replay file it wrote (same operators, same Driver)
    const f = await cli([
      "trader",
      "features",
      "--replay",
      join(out, "replay", "replay_1m.parquet"),
      "--out",
      join(tmp.dir, "cli-f"),
      "--features",
      "ret_60m_bps,compression_score_4h_pct,volume_zscore_60m",
    ]);
    assert.equal(f.status, 0, f.stderr);
    assert.match(f.stdout, /flags: WARMUP \d+, PARTIAL_OPTIONAL 0, OK \d+/);
    assert.match(f.stdout, /html: .*feature_quality_report\.html/);
    const viaLake = await buildTraderFeatureFrame({
      source: {
        kind: "lake",
        lake,
        exchange: "binance-futures",
        symbols: ["BTC-PERP"],
        start: "2022-01-10T00:00:00Z",
        end: "2022-01-16T00:00:00Z",
      },
      features: ["ret_60m_bps", "compression_score_4h_pct", "volume_zscore_60m"],
    });
    const viaFile = pl.readParquet(join(tmp.dir, "cli-f", "feature", "feature_frame.parquet"));
    for (const c of [
      "sample_id",
      "ret_60m_bps",
      "compression_score_4h_pct",
      "volume_zscore_60m",
      "data_quality_flag",
      "split_id",
    ])
      assert.deepEqual(col(viaFile, c), col(viaLake.frame, c), c);
    const miss = await cli(["trader", "features", "--out", join(tmp.dir, "x")]);
    assert.equal(miss.status, 1);
    assert.match(
      miss.stderr,
      /give --replay FILE, or --lake with --lake, --exchange, --symbols, --start, --end/,
    );
    const splits = await cli([
      "trader",
      "splits",
      "--start",
      "2022-01-01",
      "--end",
      "2022-01-11",
      "--ratios",
      "0.6,0.2,0.2",
      "--folds",
      "2",
      "--purge-minutes",
      "60",
      "--out",
      join(tmp.dir, "splits.json"),
    ]);
    assert.equal(splits.status, 0, splits.stderr);
    const sm = parseSplitManifest(JSON.parse(readFileSync(join(tmp.dir, "splits.json"), "utf8")));
    assert.equal(sm.purgeMinutes, 60);
    assert.equal(sm.walkForward.length, 2);
    assert.equal(new Date(sm.splits.tune![0] / 1000).toISOString(), "2022-01-07T00:00:00.000Z");
    writeFileSync(join(tmp.dir, "bad-splits.json"), '{"splits": {"fit": ["2022-01-02", "2022-01-01"]}}');
    const badSplit = await cli([
      "trader",
      "features",
      "--replay",
      join(out, "replay", "replay_1m.parquet"),
      "--split-manifest",
      join(tmp.dir, "bad-splits.json"),
      "--out",
      join(tmp.dir, "y"),
    ]);
    assert.equal(badSplit.status, 1);
    assert.match(badSplit.stderr, /bad-splits\.json splits\.fit: end must be after start/);
  });
});
