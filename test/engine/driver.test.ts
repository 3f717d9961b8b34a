/**
 * Driver snapshot/restore: a run snapshotted between two events (seeded random event counts, on both
 * sides of a UTC midnight) and restored in a fresh process continues bitwise identically, for every spine
 * type and every feature family; checkpoints do not perturb the run; a tampered or mismatched snapshot
 * is caught. Real captures: binance-futures BTCUSDT 2023-04-04/05 (crosses midnight, has the ticker
 * stream) and 2024-08-08 with binance spot (cross-venue).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import type { DriverSnapshot, FeatureBatch } from "../../src/engine/driver.js";
import type { SpineSpecInput } from "../../src/engine/spine-spec.js";
import type { FeatureRunInput } from "../../src/features/config.js";
import { type FeatureFrameRequest, planFeatureFrame, replayOf } from "../../src/features/frame.js";
import { captureLake, W2023, W2024 } from "../helpers/lake.js";
import { buildFeatureFrameRowsDigest, concatBatches, RestoreChild, rowsDigest } from "../helpers/restore.js";

const MIDNIGHT_2023_US = Date.parse("2023-04-05T00:00:00Z") * 1000;

/** Every family but cross-venue (the 2023 captures have no spot venue), plus the bar aggregations. */
const FAMILIES_2023: FeatureRunInput = { includeBarAggregations: true };

const SPINES: readonly [string, SpineSpecInput][] = [
  ["clock 1 s", { type: "clock", stepMs: 1000 }],
  ["trades", { type: "trades" }],
  ["volume 5 BTC, split trades", { type: "volume", volumeThreshold: 5, splitTrades: true }],
  ["dollar $200k", { type: "dollar", dollarThreshold: 200_000 }],
  ["tick 50", { type: "tick", tickThreshold: 50 }],
  ["hybrid 5 BTC / 10 s", { type: "hybrid", volumeThreshold: 5, maxTimeMs: 10_000 }],
];

interface CheckpointedRun {
  readonly cols: Float64Array[];
  readonly rows: number;
  readonly events: number;
  readonly snapshots: DriverSnapshot[];
}

/**
 * Runs `request` to its end, snapshotting at `checkpointAtEvents`; with `stopAtLastCheckpoint` the run is
 * abandoned once the last snapshot is taken (for tests that only need the snapshot).
 */
async function run(
  request: FeatureFrameRequest,
  checkpointAtEvents: readonly number[] = [],
  stopAtLastCheckpoint = false,
): Promise<CheckpointedRun> {
  const snapshots: DriverSnapshot[] = [];
  const plan = await planFeatureFrame(request);
  const replay = replayOf(plan, {
    ...request,
    checkpointAtEvents,
    // through JSON text, as a checkpoint file or another process would see it
    onCheckpoint: (s) => snapshots.push(JSON.parse(JSON.stringify(s)) as DriverSnapshot),
  });
  const batches: FeatureBatch[] = [];
  for await (const b of replay.batches()) {
    batches.push(b);
    if (stopAtLastCheckpoint && snapshots.length === checkpointAtEvents.length) break;
  }
  const cols = concatBatches(batches);
  const events = Object.values(replay.summary.events).reduce((a: number, b) => a + (b ?? 0), 0);
  return { cols, rows: replay.summary.rows, events, snapshots };
}

/** Twelve evenly spaced event counts of a run of `n` events, with a seeded offset. */
function evenCheckpoints(n: number, seed: number): number[] {
  const [u] = fc.sample(fc.double({ min: 0, max: 1, noNaN: true }), { seed, numRuns: 1 });
  const step = n / 12;
  return Array.from({ length: 12 }, (_, k) => Math.max(1, Math.min(n - 1, Math.floor(step * (k + u!)))));
}

/** Seeded choice of `k` distinct snapshots of `xs` (all of them when fewer). */
function pick<T>(xs: readonly T[], k: number, seed: number): T[] {
  if (xs.length <= k) return [...xs];
  const idx = fc.sample(fc.uniqueArray(fc.nat({ max: xs.length - 1 }), { minLength: k, maxLength: k }), {
    seed,
    numRuns: 1,
  })[0]!;
  return idx.sort((a, b) => a - b).map((i) => xs[i]!);
}

describe("Driver snapshot/restore in a fresh process", () => {
  let lake2023: { lake: string; cleanup: () => void };
  let lake2024: { lake: string; cleanup: () => void };
  /** The fresh process the runs are continued in: it restores while this one computes the next runs. */
  let child: RestoreChild;
  before(async () => {
    child = new RestoreChild();
    [lake2023, lake2024] = await Promise.all([
      captureLake(["usdm2023a", "usdm2023b"]),
      captureLake(["usdm2024", "spot2024"]),
    ]);
  });
  after(() => {
    child?.close();
    lake2023?.cleanup();
    lake2024?.cleanup();
  });

  const req2023 = (spine: SpineSpecInput): FeatureFrameRequest => ({
    lake: lake2023.lake,
    exchange: "binance-futures",
    symbol: "BTCUSDT",
    start: W2023.start,
    end: W2023.end,
    // small chunks: positions fall near and on chunk boundaries
    chunkMs: 60_000,
    prefetch: false,
    config: { ...FAMILIES_2023, spine },
  });

  /** Test 1's uninterrupted and checkpointed runs per spine label (reused by the tampering test). */
  const runs = new Map<
    string,
    { plain: CheckpointedRun; probed: CheckpointedRun; request: FeatureFrameRequest }
  >();

  /** The runs of a spine label when the first test did not run (e.g. a name filter). */
  const runsOf = async (label: string) => {
    const request = req2023(SPINES.find(([l]) => l === label)![1]);
    const plain = await run(request);
    return { plain, probed: await run(request, evenCheckpoints(plain.events, 1)), request };
  };

  it("continues bitwise identically for every spine type, at random events on both sides of midnight", async () => {
    const tasks: {
      label: string;
      from: number;
      rows: number;
      expect: string;
      snapshot: DriverSnapshot;
      request: FeatureFrameRequest;
    }[] = [];
    // each spine's restores are sent as soon as its snapshots exist (the child works meanwhile)
    const restored: Promise<{ rows: number; sha256: string }[]>[] = [];
    let seed = 20261202;
    for (const [label, spine] of SPINES) {
      const request = req2023(spine);
      const plain = await run(request);
      assert.ok(plain.rows > 20, `${label}: enough rows (${plain.rows})`);
      const at = evenCheckpoints(plain.events, seed++);
      const probed = await run(request, at);
      runs.set(label, { plain, probed, request });
      // checkpoints are read-only: the checkpointed run equals the plain one
      assert.equal(rowsDigest(probed.cols, 0, probed.rows), rowsDigest(plain.cols, 0, plain.rows), label);
      assert.deepEqual(
        probed.snapshots.map((s) => s.events),
        at,
        `${label}: a snapshot at each requested event count`,
      );
      // restored in the child: one seeded snapshot before the UTC midnight (its run crosses it), two after
      const early = probed.snapshots.filter((s) => s.position.tsUs < MIDNIGHT_2023_US);
      const late = probed.snapshots.filter((s) => s.position.tsUs >= MIDNIGHT_2023_US);
      assert.ok(early.length >= 1 && late.length >= 2, `${label}: snapshots on both sides of midnight`);
      const chosen = [...pick(early, 1, seed++), ...pick(late, 2, seed++)];
      for (const s of chosen) {
        const from = (s.counters as { rows: number }).rows;
        tasks.push({
          label: `${label} @ event ${s.events}/${plain.events}`,
          from,
          rows: plain.rows - from,
          expect: rowsDigest(plain.cols, from, plain.rows),
          snapshot: s,
          request,
        });
      }
      const sent = child.restore(chosen.map((snapshot) => ({ request, snapshot })));
      sent.catch(() => {}); // awaited below (an assertion failing first must not leave it unhandled)
      restored.push(sent);
    }
    const got = (await Promise.all(restored)).flat();
    assert.equal(got.length, tasks.length);
    tasks.forEach((t, k) => {
      assert.equal(got[k]!.rows, t.rows, `${t.label}: rows after restore`);
      assert.equal(got[k]!.sha256, t.expect, `${t.label}: rows after restore differ`);
    });
  });

  it("cross-venue (every family incl. cv_) on the 1 s clock continues identically in a fresh process", async () => {
    const request: FeatureFrameRequest = {
      lake: lake2024.lake,
      exchange: "binance-futures",
      symbol: "BTCUSDT",
      start: W2024.start,
      end: W2024.end,
      chunkMs: 60_000,
      prefetch: true,
      config: {
        includeBarAggregations: true,
        includeCrossVenue: true,
        crossVenue: { exchange: "binance", symbol: "BTCUSDT" },
      },
    };
    const plain = await run(request);
    const probed = await run(request, evenCheckpoints(plain.events, 7));
    assert.equal(probed.snapshots.length, 12);
    const chosen = pick(probed.snapshots, 3, 8);
    const got = await child.restore(chosen.map((snapshot) => ({ request, snapshot })));
    chosen.forEach((s, k) => {
      const from = (s.counters as { rows: number }).rows;
      assert.equal(got[k]!.rows, plain.rows - from, `rows after event ${s.events}`);
      assert.equal(got[k]!.sha256, rowsDigest(plain.cols, from, plain.rows), `after event ${s.events}`);
    });
  });

  it("a snapshot whose merge position is moved back re-feeds events and changes the output", async () => {
    // the runs of the first test (its checkpointed run equals the plain one, asserted there)
    const label = "volume 5 BTC, split trades";
    const { plain, probed, request } = runs.get(label) ?? (await runsOf(label));
    assert.ok(probed.snapshots.length >= 6, `${label}: snapshots of the first test`);
    const s = probed.snapshots[Math.floor(probed.snapshots.length / 2)]!;
    const from = (s.counters as { rows: number }).rows;
    const honest = await buildFeatureFrameRowsDigest(request, s);
    assert.equal(honest.sha256, rowsDigest(plain.cols, from, plain.rows));
    // position one second earlier: the events of that second are fed twice
    const moved: DriverSnapshot = {
      ...s,
      position: { tsUs: s.position.tsUs - 1_000_000, atTs: s.position.atTs },
    };
    const tampered = await buildFeatureFrameRowsDigest(request, moved);
    assert.notEqual(tampered.sha256, rowsDigest(plain.cols, from, plain.rows));
  });

  it("refuses a snapshot of another run shape", async () => {
    const request = req2023({ type: "tick", tickThreshold: 50 });
    const probed = await run(request, [1000], true);
    assert.equal(probed.snapshots.length, 1);
    const s = probed.snapshots[0]!;
    const other = {
      ...request,
      config: { ...FAMILIES_2023, includeRegime: false, spine: { type: "tick", tickThreshold: 50 } },
    };
    await assert.rejects(buildFeatureFrameRowsDigest(other as FeatureFrameRequest, s), /snapshot operators/);
    const otherSpine = req2023({ type: "tick", tickThreshold: 60 });
    await assert.rejects(buildFeatureFrameRowsDigest(otherSpine, s), /spine state \(tick, threshold 50\)/);
    const otherRange = { ...request, end: "2023-04-05T00:06:00Z" };
    await assert.rejects(buildFeatureFrameRowsDigest(otherRange, s), /snapshot range/);
  });
});
