/**
 * End to end on the real 2024 capture: the guide's example request (100 BTC volume bars) runs and its
 * decision is consistent with its gates; a 5 BTC variant is accepted and writes every artifact; output_dir
 * confinement; the CLI's exit codes (0 accept / valid, 2 reject / invalid, 1 error) and its JSON output.
 *
 * Independent references: bar count and unassigned trades recomputed from the raw trades with the guide's
 * volume-bar rule; the spread_bps column against the last raw quote at or before each bar's closing trade;
 * rank IC of a feature against a label against jstat's Spearman coefficient.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import jStat from "jstat";
import pl from "nodejs-polars";
import { canonicalFrameHash } from "../../src/engine/hash.js";
import type { RankIcResult } from "../../src/pipeline/evaluation.js";
import { runPipeline } from "../../src/pipeline/run.js";
import { tempDir } from "../helpers/data.js";
import { captureLake, rawEvents, W2024 } from "../helpers/lake.js";
import { runCli } from "../helpers/run-cli.js";

// biome-ignore lint/suspicious/noExplicitAny: request fixtures are edited as free-form JSON
type Req = Record<string, any>;

const EXAMPLE = new URL("../../examples/requests/btc_mft_volbar.json", import.meta.url);
const example = (): Req => JSON.parse(readFileSync(EXAMPLE, "utf8"));

/** Volume bars by the guide's rule from raw trades: [first index, closing index] per bar, and unassigned trades. */
function refVolumeBars(
  qty: Float64Array,
  thresholdInt: number,
): { bars: [number, number][]; unassigned: number } {
  const bars: [number, number][] = [];
  let acc = 0;
  let open = 0;
  for (let i = 0; i < qty.length; i++) {
    acc += qty[i]!;
    if (acc >= thresholdInt) {
      bars.push([open, i]);
      acc = 0;
      open = i + 1;
    }
  }
  return { bars, unassigned: qty.length - open };
}

describe("pipeline v2 end to end on the 2024 capture", () => {
  let lake = "";
  let cleanup = (): void => {};
  let out = { dir: "", cleanup: (): void => {} };
  before(async () => {
    ({ lake, cleanup } = await captureLake(["usdm2024"]));
    out = tempDir("pointline-runs-");
  });
  after(() => {
    cleanup();
    out.cleanup();
  });

  it("the guide's example runs; rows, unassigned ratio and spread_bps match raw recomputation", async () => {
    const o = await runPipeline(example(), { lake, outRoot: out.dir, writeArtifacts: false });
    assert.deepEqual(o.problems, []);
    const raw = await rawEvents(lake, "binance-futures", "BTCUSDT", W2024.start, W2024.end);
    const qty = raw.trades.columns.qty_int as Float64Array;
    const ref = refVolumeBars(qty, 100_000); // 100 BTC at 0.001 BTC increments
    assert.equal(o.results.row_count, ref.bars.length);
    const ua = o.quality_gates.gate_results.find((g) => g.name === "max_unassigned_ratio")!;
    assert.equal(ua.details.unassigned_trades, ref.unassigned);
    assert.equal(ua.details.trades_in_range, qty.length);
    assert.equal(ua.passed, ref.unassigned / qty.length <= 0.01);
    // the decision is exactly the conjunction of the gates
    assert.equal(o.decision.status === "accept", o.quality_gates.failed_gates.length === 0);
    for (const g of [
      "pit_ordering_check",
      "lookahead_check",
      "reproducibility_check",
      "partition_safety_check",
    ])
      assert.ok(o.quality_gates.passed_gates.includes(g), `${g} must pass on the built-ins`);
    assert.deepEqual(o.results.label_columns, ["forward_return_5bar", "forward_return_10bar"]);
    for (const c of [
      "vwap_px",
      "open_px",
      "close_px",
      "volume",
      "flow_imbalance",
      "trade_count",
      "avg_trade_size",
      "spread_bps",
      "book_imbalance_top5",
      "realized_vol",
    ])
      assert.ok(o.results.feature_columns.includes(c), c);
    assert.equal(o.results.metrics.length, 3);
    assert.deepEqual(o.results.metrics[0], { type: "row_count", value: ref.bars.length });
  });

  it("a 5 BTC variant is accepted and writes every artifact; spread_bps and IC check out", async () => {
    const r = example();
    r.request_id = "btc_mft_volbar_5btc";
    r.spine.config.volume_threshold = 5;
    r.evaluation.metrics.push({
      type: "rank_ic",
      label: "forward_return_5bar",
      features: ["flow_imbalance", "spread_bps"],
    });
    r.artifacts.output_dir = "runs/btc_5";
    const o = await runPipeline(r, { lake, outRoot: out.dir });
    assert.equal(o.decision.status, "accept", o.decision.reasons.join("; "));
    assert.equal(o.artifacts.output_dir, join(out.dir, "runs/btc_5"));
    const names = o.artifacts.paths.map((p) => p.slice(o.artifacts.output_dir!.length + 1));
    assert.deepEqual(names, [
      "features.parquet",
      "manifest.json",
      "feature_schema.json",
      "lineage.json",
      "quality_report.md",
      "quality_report.html",
      "pipeline_output.json",
    ]);
    for (const p of o.artifacts.paths) assert.ok(existsSync(p), p);
    const df = pl.readParquet(o.artifacts.paths[0]!);
    assert.equal(df.height, o.results.row_count);
    assert.deepEqual(df.columns, o.results.columns);
    // spread_bps: last raw quote at or before the closing trade (quotes rank before trades at equal ts)
    const raw = await rawEvents(lake, "binance-futures", "BTCUSDT", "2024-08-08T23:00:00Z", W2024.end);
    const qts = raw.quotes.columns.ts_local_us as Float64Array;
    const bid = raw.quotes.columns.bid_px_int as Float64Array;
    const ask = raw.quotes.columns.ask_px_int as Float64Array;
    const avail = df.getColumn("available_at_us").cast(pl.Float64).toArray() as number[];
    const spread = df.getColumn("spread_bps").toArray() as (number | null)[];
    for (let i = 0; i < df.height; i++) {
      let j = -1;
      for (let k = 0; k < qts.length; k++) if (qts[k]! <= avail[i]!) j = k;
      const want = j < 0 ? null : ((ask[j]! - bid[j]!) / ((ask[j]! + bid[j]!) / 2)) * 1e4;
      if (want === null) assert.equal(spread[i], null);
      else
        assert.ok(Math.abs(spread[i]! - want) <= 1e-12 * Math.abs(want), `row ${i}: ${spread[i]} vs ${want}`);
    }
    // rank IC against jstat on the rows where both are finite
    const ic = o.results.metrics.find((m): m is RankIcResult => m.type === "rank_ic")!;
    const label = df.getColumn("forward_return_5bar").toArray() as (number | null)[];
    const fi = df.getColumn("flow_imbalance").toArray() as (number | null)[];
    const xs: number[] = [];
    const ys: number[] = [];
    for (let i = 0; i < df.height; i++)
      if (fi[i] !== null && label[i] !== null && Number.isFinite(fi[i]!) && Number.isFinite(label[i]!)) {
        xs.push(fi[i]!);
        ys.push(label[i]!);
      }
    const mine = ic.features.find((x) => x.feature === "flow_imbalance")!;
    assert.equal(mine.n, xs.length);
    assert.ok(Math.abs(mine.ic! - jStat.spearmancoeff(xs, ys)) < 1e-12);
    // lineage and manifest
    const manifest = JSON.parse(readFileSync(o.artifacts.paths[1]!, "utf8"));
    assert.equal(manifest.row_count, o.results.row_count);
    // the run hashes its typed columns directly (canonicalColumnsHash); the Polars path over the written
    // Parquet must give the same digest, nulls included
    assert.ok(
      df.getColumn("realized_vol").nullCount() > 0 && df.getColumn("forward_return_5bar").nullCount() > 0,
    );
    assert.equal(manifest.content_hash, canonicalFrameHash(df));
    const repro = o.quality_gates.gate_results.find((g) => g.name === "reproducibility_check")!;
    assert.equal(repro.details.sha256_run1, canonicalFrameHash(df));
    assert.equal(manifest.request_id, "btc_mft_volbar_5btc");
    const report = readFileSync(o.artifacts.paths[4]!, "utf8");
    for (const g of o.quality_gates.gate_results) assert.ok(report.includes(g.name));
    // the HTML report beside it: self-contained, charts rendered to SVG (browser check: test/trader/html.test.ts)
    const html = readFileSync(o.artifacts.paths[5]!, "utf8");
    assert.match(html, /^<!DOCTYPE html>/);
    assert.ok((html.match(/<figure class="chart"[^>]*><svg /g) ?? []).length >= 3);
    assert.doesNotMatch(html, /<script|https?:\/\/(?!www\.w3\.org|vega\.github\.io)/);
    const written = JSON.parse(readFileSync(o.artifacts.paths[6]!, "utf8"));
    assert.equal(written.decision.status, "accept");
  });

  it("the sink's units rule: a generic aggregation of px_int is in quote currency unless its output ends in _int", async () => {
    const r = example();
    r.request_id = "units_rule";
    r.spine.config.volume_threshold = 5;
    r.operators.push(
      { name: "px_last", stage: "aggregate", agg: "last", source: "trades_src", source_column: "px_int" },
      {
        name: "px_last_raw",
        stage: "aggregate",
        agg: "last",
        source: "trades_src",
        source_column: "px_int",
        output_name: "px_last_int",
      },
    );
    r.artifacts.output_dir = "runs/units";
    const o = await runPipeline(r, { lake, outRoot: out.dir });
    assert.equal(o.decision.status, "accept", o.decision.reasons.join("; "));
    const df = pl.readParquet(o.artifacts.paths[0]!);
    const natural = df.getColumn("px_last").toArray() as (number | null)[];
    const ints = df.getColumn("px_last_int").cast(pl.Float64).toArray() as (number | null)[];
    assert.ok(ints.every((v) => v === null || Number.isInteger(v)));
    let n = 0;
    for (let i = 0; i < df.height; i++) {
      if (ints[i] === null) {
        assert.equal(natural[i], null);
        continue;
      }
      // increments of 0.1 USDT: the decimal text of the integer, parsed by JavaScript (the nearest double)
      const v = ints[i]!;
      const text = `${Math.trunc(v / 10)}.${Math.abs(v % 10)}`;
      assert.equal(natural[i], Number(text), `row ${i}: ${v} increments`);
      n++;
    }
    assert.ok(n > 400);
    const schema = JSON.parse(readFileSync(o.artifacts.paths[2]!, "utf8")) as {
      columns: { name: string; unit: string }[];
    };
    const unit = (name: string) => schema.columns.find((c) => c.name === name)?.unit;
    assert.equal(unit("px_last"), "quote currency");
    assert.equal(unit("px_last_int"), "price increments");
  });

  it("output_dir must stay inside the output root", async () => {
    for (const dir of ["/data/research_outputs/btc_mft_volbar", "../escape", "a/../../escape"]) {
      const r = example();
      r.artifacts.output_dir = dir;
      const o = await runPipeline(r, { lake, outRoot: out.dir });
      assert.equal(o.decision.status, "reject");
      assert.equal(o.problems[0]?.path, "$.artifacts.output_dir");
      assert.equal(o.results.row_count, 0); // rejected before any data was read
    }
  });

  it("CLI: validate and run exit 0 / 2 / 1, summary on stderr, JSON on stdout", async () => {
    // in process (test/helpers/run-cli.ts); test/cli runs the binary's exit codes in a child process
    const run = (...args: string[]) => runCli(["pipeline", ...args]);
    const good = join(out.dir, "good.json");
    const r = example();
    r.spine.config.volume_threshold = 5;
    r.artifacts.output_dir = "cli_run";
    writeFileSync(good, JSON.stringify(r));
    const bad = join(out.dir, "bad.json");
    const b = example();
    b.operators[0].agg = "trade_vwapp";
    writeFileSync(bad, JSON.stringify(b));
    const notJson = join(out.dir, "not.json");
    writeFileSync(notJson, "{ nope");

    assert.equal((await run("validate", good)).status, 0);
    const v = await run("validate", bad, "--json");
    assert.equal(v.status, 2);
    assert.equal(JSON.parse(v.stdout).problems[0].path, "$.operators[0].agg");
    assert.match(v.stderr, /\$\.operators\[0\]\.agg: unknown aggregation trade_vwapp/);
    assert.equal((await run("validate", notJson)).status, 2);
    assert.equal((await run("validate", join(out.dir, "missing.json"))).status, 1);

    const ok = await run("run", good, "--lake", lake, "--out-root", out.dir, "--json");
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(JSON.parse(ok.stdout).decision.status, "accept");
    assert.match(ok.stderr, /ACCEPT/);
    const rej = await run("run", bad, "--lake", lake, "--out-root", out.dir);
    assert.equal(rej.status, 2);
    assert.match(rej.stderr, /REJECT/);
    // a --lake that does not exist is an error (exit 1) naming the flag, not a run on no data
    const noLake = await run("run", good, "--lake", join(out.dir, "no-lake"), "--out-root", out.dir);
    assert.equal(noLake.status, 1);
    assert.match(noLake.stderr, /--lake \S*no-lake: no such directory/);
  });
});
