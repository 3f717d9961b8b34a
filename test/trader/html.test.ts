/**
 * The HTML quality reports in headless Chromium (Debian `chromium`, driven by playwright-core): the trader
 * frame's `feature_quality_report.html` and a pipeline-style report load from file:// with no console
 * error, no page error and no network request; every chart figure holds an SVG with data marks; a
 * full-page screenshot is written under the test output directory (`TEST_OUTPUT_DIR`, default
 * `test-output/` in the repository).
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";
import { type Browser, chromium } from "playwright-core";
import { writeTraderArtifacts } from "../../src/trader/artifacts.js";
import { buildTraderFeatureFrame } from "../../src/trader/frame.js";
import { replayRowsToFrame } from "../../src/trader/replay.js";
import { tempDir } from "../helpers/data.js";
import { generatedRows, toReplayRows } from "./data.js";

const REPO = resolve(fileURLToPath(import.meta.url), "..", "..", "..");
const OUT = resolve(process.env.TEST_OUTPUT_DIR ?? join(REPO, "test-output"), "trader");
const CHROMIUM = "/usr/bin/chromium";

describe("HTML quality report in headless Chromium", () => {
  const tmp = tempDir("pointline-trader-html-");
  let browser: Browser;
  let report: string;
  before(async () => {
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium (.ci/run installs it)`);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ["--no-sandbox", "--disable-background-networking", "--disable-gpu"],
    });
    const d0 = Date.UTC(2024, 0, 1) * 1000;
    const replay = replayRowsToFrame("AAA", toReplayRows(generatedRows(7, d0, 3, 40_000)));
    const tf = await buildTraderFeatureFrame({
      source: { kind: "replay", replay },
      allowIncompleteDays: true,
    });
    report = (await writeTraderArtifacts(tf, join(tmp.dir, "out"))).reportHtml;
  });
  after(async () => {
    await browser?.close();
    tmp.cleanup();
  });

  it("loads without console errors or network, every chart has data marks, screenshot written", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    const requests: string[] = [];
    page.on("console", (m) => {
      if (m.type() === "error") errors.push(m.text());
    });
    page.on("pageerror", (e) => errors.push(e.message));
    page.on("request", (r) => {
      if (!r.url().startsWith("file://")) requests.push(r.url());
    });
    await page.goto(pathToFileURL(report).href, { waitUntil: "load" });
    assert.deepEqual(errors, []);
    assert.deepEqual(requests, []);
    const charts = await page.$$eval("figure.chart", (figs) =>
      figs.map((f) => ({
        id: f.getAttribute("data-chart"),
        svg: f.querySelector("svg") !== null,
        // Vega's SVG renderer writes marks as <g class="mark-… role-mark"> groups of paths/rects
        marks: f.querySelectorAll("g.role-mark > path, g.role-mark > rect, g.role-mark > g > path").length,
        width: f.querySelector("svg")?.getBoundingClientRect().width ?? 0,
      })),
    );
    assert.deepEqual(
      charts.map((c) => c.id),
      ["flags_per_day", "null_timeline", "histograms", "drift", "correlation"],
    );
    for (const c of charts) {
      assert.ok(c.svg, `${c.id}: svg`);
      assert.ok(c.marks > 0, `${c.id}: data marks`);
      assert.ok(c.width > 100, `${c.id}: rendered width ${c.width}`);
    }
    // heatmap: one rect per feature pair
    const heat = charts.find((c) => c.id === "correlation")!;
    assert.ok(heat.marks >= 33 * 33, `heatmap cells ${heat.marks}`);
    mkdirSync(OUT, { recursive: true });
    const shot = join(OUT, "feature_quality_report.png");
    await page.screenshot({ path: shot, fullPage: true });
    assert.ok(statSync(shot).size > 10_000);
    await page.close();
  });
});
