/**
 * Partition hand-off: a backfill plan whose day partitions start from the previous day's saved Driver
 * end state gives partitions identical (content hash, per partition and merged) to partitions that
 * replay their warm-up — on a clock spine with rolling windows over rows and on day-anchored volume
 * bars; a missing state falls back to the warm-up replay with the same output.
 */
import assert from "node:assert/strict";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ConfigError } from "../../src/core/errors.js";
import type { DriverSnapshot } from "../../src/engine/driver.js";
import { buildFeatureFrame } from "../../src/features/frame.js";
import {
  type BackfillPlan,
  mergeBackfill,
  type PartitionDone,
  partitionJobs,
  planBackfill,
  runBackfillLocal,
  runPartition,
} from "../../src/scale/backfill.js";
import { tempDir } from "../helpers/data.js";
import { GEN_START_US, generateLake, TRADES_ONLY_FAMILIES, US_PER_DAY_GEN } from "../helpers/gen-lake.js";

const CASES = {
  clock: { ...TRADES_ONLY_FAMILIES, spine: { type: "clock" as const, stepMs: 120_000 } },
  // event bars are day-anchored, but rolling windows over rows need the previous day replayed (a
  // partition-safe request: what partition_safety_check asks of it)
  volume: {
    ...TRADES_ONLY_FAMILIES,
    includeBarAggregations: true,
    warmupMs: 86_400_000,
    spine: { type: "volume" as const, volumeThreshold: 3 },
  },
};

describe("partition hand-off", () => {
  const tmp = tempDir("pointline-handoff-");
  let lake = "";
  before(async () => {
    lake = await generateLake(tmp.dir, { symbols: ["S01USDT", "S02USDT"], days: 2, tradesPerDay: 1000 });
  });
  after(() => tmp.cleanup());

  const plan = (name: string, config: object, handoff: boolean): Promise<BackfillPlan> =>
    planBackfill({
      lake,
      selection: { query: { exchange: "binance-futures" } },
      start: GEN_START_US,
      end: GEN_START_US + 2 * US_PER_DAY_GEN,
      config,
      outDir: join(tmp.dir, name),
      handoff,
    });
  const done = (out: string): PartitionDone =>
    JSON.parse(readFileSync(`${out}.done.json`, "utf8")) as PartitionDone;

  for (const [name, config] of Object.entries(CASES)) {
    it(`${name} spine: hand-off partitions equal warm-up partitions`, async () => {
      const warm = await plan(`${name}-warm`, config, false);
      const hand = await plan(`${name}-hand`, config, true);
      await runBackfillLocal(warm);
      await runBackfillLocal(hand);
      const a = await mergeBackfill(warm);
      const b = await mergeBackfill(hand);
      assert.ok(a.complete && b.complete);
      assert.ok(a.rows > 0);
      assert.equal(b.content_sha256, a.content_sha256);
      assert.deepEqual(b.instruments, a.instruments);
      hand.partitions.forEach((p, i) => {
        const d = done(p.out);
        assert.equal(d.content_sha256, done(warm.partitions[i]!.out).content_sha256, p.key);
        // the first day of each instrument replays its warm-up; later days start from the saved state
        assert.equal(d.handoff_from, p.date === "2024-01-01" ? null : hand.partitions[i - 1]!.key, p.key);
      });
      for (const p of warm.partitions) assert.equal(done(p.out).handoff_from, null);
    });
  }

  it("a missing previous state falls back to the warm-up replay, same output", async () => {
    const hand = await plan("fallback", CASES.clock, true);
    const jobs = partitionJobs(hand);
    // run the days of S01 in reverse: no previous state exists when each runs
    const s01 = jobs.filter((j) => j.partition.symbol === "S01USDT").reverse();
    for (const j of s01) await runPartition(j);
    for (const j of s01) assert.equal(done(j.partition.out).handoff_from, null);
    const ref = await plan("fallback-ref", CASES.clock, false);
    for (const [k, j] of partitionJobs(ref).entries())
      if (j.partition.symbol === "S01USDT") {
        await runPartition(j);
        assert.equal(done(j.partition.out).content_sha256, done(jobs[k]!.partition.out).content_sha256);
      }
    rmSync(join(tmp.dir, "fallback"), { recursive: true, force: true });
  });

  it("refuses a hand-off state that does not end at the run's start", async () => {
    let snap: DriverSnapshot | null = null;
    const req = { lake, exchange: "binance-futures", symbol: "S01USDT", config: CASES.clock };
    await buildFeatureFrame({
      ...req,
      start: GEN_START_US,
      end: GEN_START_US + US_PER_DAY_GEN,
      onEndSnapshot: (s) => {
        snap = s;
      },
    });
    assert.ok(snap);
    await assert.rejects(
      buildFeatureFrame({
        ...req,
        start: GEN_START_US + US_PER_DAY_GEN + 3_600_000_000,
        end: GEN_START_US + 2 * US_PER_DAY_GEN,
        handoff: snap,
      }),
      (e: unknown) => e instanceof ConfigError && /does not end at this run's start/.test(e.message),
    );
  });
});
