/**
 * Time closes from the timer (issue 11, item 1): a clock bar, and a hybrid bar's time close, is emitted
 * by `advanceTo(end)` — a live timer — before any later event has arrived, not when the next event comes;
 * one µs earlier it is not emitted. The feed here is a hand-written live loop over the real 2023 capture
 * (across the UTC midnight): it moves the watermark to each arriving event's ts_local_us (the events
 * arrive in ts order, so every earlier one is in) and fires the timer at every time-close end. Its rows
 * are then bitwise the batch frame's. And the paced replay feed (speed × real time) emits rows as the
 * simulated clock passes their ends, with the same rows.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { SpineSpecInput } from "../../src/engine/spine-spec.js";
import { buildFeatureFrame, type FeatureFrameRequest } from "../../src/features/frame.js";
import { playbackChunks, replayLake } from "../../src/live/replay-feed.js";
import { LiveRunner } from "../../src/live/runner.js";
import { FAMILIES_OFF } from "../helpers/frames.js";
import { captureLake, W2023 } from "../helpers/lake.js";
import { assertBitwise, collect, frameColumns, liveColumns } from "../helpers/live.js";

describe("live time closes fire from the timer", () => {
  let lake: { lake: string; cleanup: () => void };
  before(async () => {
    lake = await captureLake(["usdm2023a", "usdm2023b"]);
  });
  after(() => lake?.cleanup());

  const request = (spine: SpineSpecInput, extra: Partial<FeatureFrameRequest> = {}): FeatureFrameRequest => ({
    lake: lake.lake,
    exchange: "binance-futures",
    symbol: "BTCUSDT",
    ...W2023,
    prefetch: false,
    // trades, quotes, book (bar family) and the ticker (funding family)
    config: { ...FAMILIES_OFF, includeBarAggregations: true, includeFunding: true, spine },
    ...extra,
  });

  for (const [name, spine, isTimeClose] of [
    ["clock 1 s", { type: "clock", stepMs: 1000 }, () => true],
    [
      "hybrid 20 BTC / 5 s",
      { type: "hybrid", volumeThreshold: 20, maxTimeMs: 5_000 },
      (ev: number, end: number) => end - ev === 5_000_000,
    ],
  ] as const) {
    it(`${name}: each time close is emitted by advanceTo(end) with no later event pushed`, async (t) => {
      const req = request(spine);
      const batch = frameColumns(await buildFeatureFrame(req));
      const tsEvent = batch.get("ts_event_us")!;
      const avail = batch.get("available_at_us")!;
      const ends: number[] = [];
      for (let i = 0; i < avail.length; i++) if (isTimeClose(tsEvent[i]!, avail[i]!)) ends.push(avail[i]!);
      assert.ok(ends.length >= 20, `${name}: time closes in the window (${ends.length})`);

      const runner = await LiveRunner.forFeatures(req);
      const got = collect(runner);
      const emittedFor = (end: number, from: number): boolean =>
        got.rows.slice(from).some((r) => r[2] === end);
      let e = 0;
      let lastPushedUs = Number.NEGATIVE_INFINITY;
      let fired = 0;
      for await (const c of playbackChunks({
        lake: req.lake,
        streams: runner.lakeStreams,
        fromUs: runner.replayStartUs,
        endUs: runner.endUs,
        order: "arrival",
      })) {
        for (let j = 0; j < c.length; j++) {
          const ts = c.ts[j]!;
          // the timer fires at every time-close end before this event arrives
          while (e < ends.length && ends[e]! <= ts) {
            const end = ends[e++]!;
            assert.ok(lastPushedUs < end, "no event at or after the bar end was pushed");
            const n0 = got.rows.length;
            if (end - 1 > runner.watermarkUs) runner.advanceTo(end - 1);
            assert.ok(!emittedFor(end, n0), `row ending ${end} emitted 1 µs before its end`);
            runner.advanceTo(end);
            assert.ok(emittedFor(end, n0), `row ending ${end} not emitted by advanceTo(end)`);
            fired++;
          }
          runner.pushRow(c.stream[j]!, c.rows[c.stream[j]!]!, c.row[j]!);
          lastPushedUs = ts;
          // the events arrive in ts order: every event before this one's time is in
          if (ts > runner.watermarkUs) runner.advanceTo(ts);
        }
      }
      // time closes after the last event: the timer still fires at their ends
      while (e < ends.length) {
        const end = ends[e++]!;
        const n0 = got.rows.length;
        runner.advanceTo(end);
        assert.ok(emittedFor(end, n0), `row ending ${end} not emitted by advanceTo(end)`);
        fired++;
      }
      runner.finish();
      assert.equal(fired, ends.length);
      assertBitwise(name, batch, liveColumns(runner, got.rows));
      t.diagnostic(
        `${fired} time closes emitted by the timer; ${got.rows.length} rows bitwise equal to batch`,
      );
    });
  }

  it("the paced replay feed (5× real time) emits clock rows when the simulated clock passes their ends", async (t) => {
    // 3 s of data on a 100 ms clock, no warm-up: 600 ms of wall time
    const req = request(
      { type: "clock", stepMs: 100 },
      { start: "2023-04-05T00:02:00Z", end: "2023-04-05T00:02:03Z" },
    );
    const config = { ...req.config, warmupMs: 0 };
    const batch = frameColumns(await buildFeatureFrame({ ...req, config }));
    const runner = await LiveRunner.forFeatures({ ...req, config });
    const got = collect(runner);
    const wall: number[] = [];
    runner.onRow(() => wall.push(performance.now()));
    const speed = 5;
    const tickMs = 5;
    const stats = await replayLake(runner, { lake: req.lake, speed, tickMs });
    assertBitwise("paced clock 100 ms", batch, liveColumns(runner, got.rows));
    assert.equal(got.rows.length, 30);
    assert.ok(stats.events >= 100, `events in the window (${stats.events})`);
    const o = stats.clockOrigin!;
    // a row is never emitted before the simulated clock reaches its end, and (timer) soon after it
    const late: number[] = [];
    got.rows.forEach((r, i) => {
      const due = o.wallMs + (r[2]! - o.tsUs) / 1000 / speed;
      assert.ok(wall[i]! >= due - 0.001, `row ${i} emitted ${due - wall[i]!} ms before its end`);
      late.push(wall[i]! - due);
    });
    late.sort((a, b) => a - b);
    const median = late[late.length >> 1]!;
    assert.ok(median < tickMs + 20, `median emission delay ${median.toFixed(1)} ms`);
    assert.ok(stats.wallMs >= 2900 / speed, `paced wall time ${stats.wallMs} ms`);
    t.diagnostic(
      `30 rows over ${stats.wallMs.toFixed(0)} ms for 3 s of data at ${speed}×; median delay after the simulated end ${median.toFixed(2)} ms`,
    );
  });
});
