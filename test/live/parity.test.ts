/**
 * Batch vs live, bitwise (issue 11, item 1): the lake replay feed plays the real captures into a
 * `LiveRunner` one event at a time — in arrival order (the order the recorder wrote the lines: a trade
 * may come before a quote of the same µs) and in the total order — and every emitted row equals the row
 * `buildFeatureFrame` (or the pipeline's `runFeatures`) computes, value by value (`Object.is`).
 *
 * Captures: binance-futures BTCUSDT 2023-04-04/05 (crosses a UTC midnight, has the ticker stream) with
 * every family but cross-venue, and 2024-08-08 with binance spot (every family incl. cross-venue), plus
 * the bar family; six spines each. The 5 BTC pipeline request's operators on the six spines. A run
 * stopped mid-feed, snapshotted and restored in a fresh runner continues with the remaining rows.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { roleTable } from "../../src/engine/operator.js";
import { engineColumns } from "../../src/engine/source.js";
import type { SpineSpecInput } from "../../src/engine/spine-spec.js";
import { formatSpineSpec, parseSpineSpec } from "../../src/engine/spine-spec.js";
import type { FeatureRunInput } from "../../src/features/config.js";
import { FAMILIES } from "../../src/features/families.js";
import { buildFeatureFrame, type FeatureFrameRequest } from "../../src/features/frame.js";
import { playbackChunks, replayLake } from "../../src/live/replay-feed.js";
import { LiveRunner } from "../../src/live/runner.js";
import { runFeatures } from "../../src/pipeline/execute.js";
import { planPipeline } from "../../src/pipeline/plan.js";
import { builtinRegistry } from "../../src/pipeline/registry.js";
import { validateRequest } from "../../src/pipeline/request.js";
import { BOOK_DEPTH, TABLES } from "../../src/schema/tables.js";
import { captureLake, W2023, W2024 } from "../helpers/lake.js";
import { assertBitwise, collect, frameColumns, liveColumns } from "../helpers/live.js";

const ROOT = resolve(fileURLToPath(import.meta.url), "..", "..", "..");
const EX = "binance-futures";
const SYM = "BTCUSDT";

/** Every family but cross-venue, plus the bar aggregations (the 2023 captures have no spot venue). */
const ALL_2023: FeatureRunInput = {
  ...Object.fromEntries(FAMILIES.map((f) => [f.flag, f.flag !== "includeCrossVenue"])),
};
/** Every family incl. cross-venue (binance spot BTCUSDT) and the bar aggregations. */
const ALL_2024: FeatureRunInput = {
  ...Object.fromEntries(FAMILIES.map((f) => [f.flag, true])),
  crossVenue: { exchange: "binance", symbol: "BTCUSDT" },
};

/** The six spine types, per capture (labels are the canonical shorthand, e.g. `volume:5`). */
const SPINES: Readonly<Record<2023 | 2024, readonly SpineSpecInput[]>> = {
  2023: [
    { type: "clock", stepMs: 1000 },
    { type: "trades" },
    { type: "volume", volumeThreshold: 5, splitTrades: true },
    { type: "dollar", dollarThreshold: 200_000 },
    { type: "tick", tickThreshold: 50 },
    { type: "hybrid", volumeThreshold: 5, maxTimeMs: 10_000 },
  ],
  2024: [
    { type: "clock", stepMs: 1000 },
    { type: "trades" },
    { type: "volume", volumeThreshold: 5 },
    { type: "dollar", dollarThreshold: 200_000 },
    { type: "tick", tickThreshold: 50 },
    { type: "hybrid", volumeThreshold: 2, maxTimeMs: 5_000 },
  ],
};
const label = (s: SpineSpecInput): string => formatSpineSpec(parseSpineSpec(s));

describe("live runner = batch frame, bitwise, events fed one at a time by the lake replay feed", () => {
  let lake2023: { lake: string; cleanup: () => void };
  let lake2024: { lake: string; cleanup: () => void };
  /** Batch frames by test label, reused by later tests. */
  const frames = new Map<string, Map<string, Float64Array>>();
  before(async () => {
    [lake2023, lake2024] = await Promise.all([
      captureLake(["usdm2023a", "usdm2023b"]),
      captureLake(["usdm2024", "spot2024"]),
    ]);
  });
  after(() => {
    lake2023?.cleanup();
    lake2024?.cleanup();
  });

  const request = (year: 2023 | 2024, spine: SpineSpecInput): FeatureFrameRequest => ({
    lake: year === 2023 ? lake2023.lake : lake2024.lake,
    exchange: EX,
    symbol: SYM,
    ...(year === 2023 ? W2023 : W2024),
    prefetch: false,
    config: { ...(year === 2023 ? ALL_2023 : ALL_2024), spine },
  });

  for (const year of [2023, 2024] as const) {
    for (const spine of SPINES[year]) {
      it(`${year}: ${label(spine)}, every family, arrival order`, async (t) => {
        const req = request(year, spine);
        const batch = frameColumns(await buildFeatureFrame(req));
        frames.set(`${year} ${label(spine)}`, batch);
        const runner = await LiveRunner.forFeatures(req);
        const got = collect(runner);
        const stats = await replayLake(runner, { lake: req.lake, order: "arrival" });
        const values = assertBitwise(`${year} ${label(spine)}`, batch, liveColumns(runner, got.rows));
        const rows = got.rows.length;
        assert.ok(rows >= 30, `${year} ${label(spine)}: enough rows (${rows})`);
        assert.equal(stats.rows, rows);
        // every row was emitted once the watermark reached its available_at (never later than needed)
        got.rows.forEach((r, i) => {
          assert.ok(got.emittedAtWatermark[i]! >= r[2]!, `row ${i} emitted before it was complete`);
        });
        t.diagnostic(
          `${rows} rows × ${runner.columns.length} columns (${values} values) from ${stats.events} events, live ${stats.wallMs.toFixed(0)} ms`,
        );
      });
    }
  }

  it("the arrival order differs from the total order at some µs, and the total order gives the same rows", async (t) => {
    const req = request(2024, { type: "clock", stepMs: 1000 });
    const runner = await LiveRunner.forFeatures(req);
    // the capture has same-µs events the recorder wrote in another order than the total order
    let inversions = 0;
    for await (const c of playbackChunks({
      lake: req.lake,
      streams: runner.lakeStreams,
      fromUs: runner.replayStartUs,
      endUs: runner.endUs,
      order: "arrival",
    })) {
      const rank = (j: number) => TABLES[roleTable(runner.lakeStreams[c.stream[j]!]!.role)].rank;
      for (let j = 1; j < c.length; j++) if (c.ts[j] === c.ts[j - 1] && rank(j) < rank(j - 1)) inversions++;
    }
    assert.ok(inversions > 0, "arrival order has same-µs events out of rank order");
    const got = collect(runner);
    await replayLake(runner, { lake: req.lake, order: "total" });
    const batch = frames.get("2024 clock:1000") ?? frameColumns(await buildFeatureFrame(req));
    assertBitwise("2024 clock:1000, total order", batch, liveColumns(runner, got.rows));
    t.diagnostic(
      `${inversions} same-µs arrival inversions; ${got.rows.length} rows identical in both orders`,
    );
  });

  it("tiny push-source segments (replaced mid-timestamp) give the same rows", async () => {
    const spine = SPINES[2023][2]!;
    const req = request(2023, spine);
    const runner = await LiveRunner.forFeatures({ ...req, segmentRows: 3 });
    const got = collect(runner);
    await replayLake(runner, { lake: req.lake, order: "arrival" });
    const batch = frames.get(`2023 ${label(spine)}`)!;
    assertBitwise("2023 volume, 3-row segments", batch, liveColumns(runner, got.rows));
  });

  it("events pushed as column values (EngineRow objects) give the same rows as typed rows", async () => {
    const spine = SPINES[2023][0]!;
    const req = request(2023, spine);
    const runner = await LiveRunner.forFeatures(req);
    const got = collect(runner);
    const specs = runner.lakeStreams.map((s) => engineColumns(roleTable(s.role)));
    for await (const c of playbackChunks({
      lake: req.lake,
      streams: runner.lakeStreams,
      fromUs: runner.replayStartUs,
      endUs: runner.endUs,
      order: "arrival",
    })) {
      for (let j = 0; j < c.length; j++) {
        const k = c.stream[j]!;
        const i = c.row[j]!;
        const rows = c.rows[k]!;
        const row: Record<string, number | number[]> = {};
        for (const spec of specs[k]!) {
          const col = rows.columns[spec.name];
          if (col instanceof Float64Array || col instanceof Int8Array) row[spec.name] = col[i]!;
          else if (col !== undefined && !Array.isArray(col))
            row[spec.name] = Array.from(col.values.subarray(i * BOOK_DEPTH, i * BOOK_DEPTH + col.lens[i]!));
        }
        runner.push(k, row);
        const next = j + 1 < c.length ? c.ts[j + 1]! : c.toUs;
        if (next > runner.watermarkUs) runner.advanceTo(next);
      }
    }
    runner.finish();
    assertBitwise(
      "2023 clock, EngineRow pushes",
      frames.get(`2023 ${label(spine)}`)!,
      liveColumns(runner, got.rows),
    );
  });

  it("a run stopped mid-feed, snapshotted and restored in a fresh runner continues with exactly the remaining rows", async () => {
    for (const spine of [SPINES[2023][0]!, SPINES[2023][5]!]) {
      const name = `2023 ${label(spine)}`;
      const req = request(2023, spine);
      const batch = frames.get(name)!;
      const total = batch.get("ts_event_us")!.length;
      const first = await LiveRunner.forFeatures(req);
      const part1 = collect(first);
      const stop = new AbortController();
      // stop at 60% of the rows (after the UTC midnight); the feed may hold pushed, unprocessed events
      first.onRow(() => {
        if (part1.rows.length === Math.floor(total * 0.6)) stop.abort();
      });
      const s1 = await replayLake(first, { lake: req.lake, order: "arrival", signal: stop.signal });
      assert.ok(s1.aborted);
      const snap = JSON.parse(JSON.stringify(first.snapshot()));
      first.stop();
      const second = await LiveRunner.forFeatures(req);
      second.restore(snap);
      const part2 = collect(second);
      await replayLake(second, { lake: req.lake, order: "arrival", fromUs: snap.position.tsUs });
      assert.equal(part1.rows.length + part2.rows.length, total, `${name}: no row lost or duplicated`);
      assertBitwise(`${name} (restored)`, batch, liveColumns(second, [...part1.rows, ...part2.rows]));
    }
  });

  it("the 5 BTC pipeline request's operators, on its spine and five others", async (t) => {
    const registry = builtinRegistry();
    const json: unknown = JSON.parse(
      readFileSync(join(ROOT, "examples", "requests", "btc_mft_volbar_5btc.json"), "utf8"),
    );
    const v = validateRequest(json, registry);
    assert.ok(v.ok, JSON.stringify(v.problems));
    const plan = await planPipeline(v.request, registry, lake2024.lake);
    // the request's spine (volume 5 BTC), then the other spine types
    const spines = [
      plan.spine,
      ...SPINES[2024].map(parseSpineSpec).filter((s) => formatSpineSpec(s) !== formatSpineSpec(plan.spine)),
    ];
    const counts: string[] = [];
    for (const spine of spines) {
      const batch = await runFeatures({ ...plan, spine }, lake2024.lake);
      const runner = await LiveRunner.forPipeline(plan, lake2024.lake, { spine });
      const got = collect(runner);
      await replayLake(runner, { lake: lake2024.lake, order: "arrival" });
      assertBitwise(`pipeline ${spine.type}`, batch.values, liveColumns(runner, got.rows));
      assert.ok(got.rows.length >= 30);
      counts.push(`${formatSpineSpec(spine)}: ${got.rows.length} rows × ${runner.columns.length}`);
    }
    t.diagnostic(counts.join("; "));
  });
});
