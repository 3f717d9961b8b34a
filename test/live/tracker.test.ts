/**
 * `VolumeBarTracker` (issue 11, item 1: the guide's `addTrade(trade) → completed bar | null`): fed the
 * real trades one call at a time, each call returns exactly the bar its trade completes — bitwise the row
 * of `buildFeatureFrame` with the same spine and `TRACKER_FAMILY` — and the bars agree with a naive
 * reference written from the guide's loop (cumulative volume ≥ threshold closes the bar, the completing
 * trade included; plus the engine's documented UTC-midnight rule: a bar open at midnight is dropped).
 * Captures: binance-futures BTCUSDT 2024-08-08 and 2023-04-04/05 (crosses midnight).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { toUs, US_PER_DAY } from "../../src/core/time.js";
import { buildFeatureFrame } from "../../src/features/frame.js";
import { Lake } from "../../src/lake/lake.js";
import { EventOrderError } from "../../src/live/push-source.js";
import { TRACKER_FAMILY, type VolumeBar, VolumeBarTracker } from "../../src/live/volume-bar-tracker.js";
import { query } from "../../src/query/query.js";
import { FAMILIES_OFF } from "../helpers/frames.js";
import { captureLake, W2023, W2024 } from "../helpers/lake.js";
import { assertBitwise, frameColumns } from "../helpers/live.js";

const EX = "binance-futures";
const SYM = "BTCUSDT";

interface NaiveBar {
  startUs: number;
  endUs: number;
  volumeInt: number;
  trades: number;
  /** Σ px·qty in increments (exact below 2^53 here) */
  notionalInt: number;
  buyInt: number;
  sellInt: number;
  open: number;
  high: number;
  low: number;
  close: number;
}

/** The guide's tracker loop over fixed-point trades, with the UTC-midnight drop. */
function naiveBars(
  ts: Float64Array,
  px: Float64Array,
  qty: Float64Array,
  side: Int8Array,
  thresholdInt: number,
) {
  const bars: NaiveBar[] = [];
  let cur: NaiveBar | null = null;
  let day = Number.NaN;
  for (let i = 0; i < ts.length; i++) {
    const d = Math.floor(ts[i]! / US_PER_DAY);
    if (d !== day) {
      cur = null; // a bar open at midnight is partial: dropped
      day = d;
    }
    if (cur === null)
      cur = {
        startUs: ts[i]!,
        endUs: 0,
        volumeInt: 0,
        trades: 0,
        notionalInt: 0,
        buyInt: 0,
        sellInt: 0,
        open: px[i]!,
        high: px[i]!,
        low: px[i]!,
        close: px[i]!,
      };
    cur.volumeInt += qty[i]!;
    cur.trades++;
    cur.notionalInt += px[i]! * qty[i]!;
    if (side[i] === 0) cur.buyInt += qty[i]!;
    if (side[i] === 1) cur.sellInt += qty[i]!;
    cur.high = Math.max(cur.high, px[i]!);
    cur.low = Math.min(cur.low, px[i]!);
    cur.close = px[i]!;
    if (cur.volumeInt >= thresholdInt) {
      cur.endUs = ts[i]!;
      bars.push(cur);
      cur = null;
    }
  }
  return bars;
}

const close = (a: number | null, b: number, rel = 1e-12): boolean =>
  a !== null && Math.abs(a - b) <= rel * Math.max(1, Math.abs(b));

describe("VolumeBarTracker on the live runner", () => {
  let lake2023: { lake: string; cleanup: () => void };
  let lake2024: { lake: string; cleanup: () => void };
  before(async () => {
    [lake2023, lake2024] = await Promise.all([
      captureLake(["usdm2023a", "usdm2023b"]),
      captureLake(["usdm2024"]),
    ]);
  });
  after(() => {
    lake2023?.cleanup();
    lake2024?.cleanup();
  });

  for (const [name, win, threshold] of [
    ["2024-08-08, 5 BTC", W2024, 5],
    ["2023-04-04/05 across midnight, 2 BTC", W2023, 2],
  ] as const) {
    it(`${name}: addTrade returns each bar on its completing trade, = batch bitwise, = naive reference`, async (t) => {
      const lakePath = name.startsWith("2024") ? lake2024.lake : lake2023.lake;
      const tracker = await VolumeBarTracker.create({
        lake: lakePath,
        exchange: EX,
        symbol: SYM,
        threshold,
        start: win.start,
        end: win.end,
      });
      const trades = await query.trades({
        lake: lakePath,
        exchange: EX,
        symbol: SYM,
        start: tracker.runner.replayStartUs,
        end: win.end,
      });
      const ts = trades.columns.ts_local_us as Float64Array;
      const px = trades.columns.px_int as Float64Array;
      const qty = trades.columns.qty_int as Float64Array;
      const side = trades.columns.side as Int8Array;
      const file = trades.columns.file_id as Float64Array;
      const line = trades.columns.file_line_number as Float64Array;
      const bars: VolumeBar[] = [];
      let sameUsAfterClose = 0;
      for (let i = 0; i < trades.length; i++) {
        const bar = tracker.addTrade({
          tsLocalUs: ts[i]!,
          pxInt: px[i]!,
          qtyInt: qty[i]!,
          side: side[i]!,
          fileId: file[i]!,
          line: line[i]!,
        });
        if (bar !== null) {
          assert.equal(bar.available_at_us, ts[i], "the bar is returned by its completing trade's call");
          if (ts[i + 1] === ts[i]) sameUsAfterClose++;
          bars.push(bar);
        }
      }
      assert.ok(bars.length >= 50, `${name}: bars (${bars.length})`);
      // 2024 stamps are ns truncated to µs: bars close on trades that share their µs with the next trade,
      // which the one-stream runner still accepts after processing the bar (chunk continuation)
      if (name.startsWith("2024")) assert.ok(sameUsAfterClose > 0);

      // batch: the same bars and columns from buildFeatureFrame
      const batch = frameColumns(
        await buildFeatureFrame({
          lake: lakePath,
          exchange: EX,
          symbol: SYM,
          ...win,
          families: [TRACKER_FAMILY],
          config: {
            ...FAMILIES_OFF,
            includeBarAggregations: true,
            spine: { type: "volume", volumeThreshold: threshold },
          },
        }),
      );
      const live = new Map(
        [...batch.keys()].map((c) => [
          c,
          Float64Array.from(bars, (b) => (b as unknown as Record<string, number | null>)[c] ?? Number.NaN),
        ]),
      );
      assertBitwise(name, batch, live);

      // naive reference
      const lake = await Lake.from(lakePath);
      const inst = lake.instrument(EX, SYM, toUs(win.start));
      const thresholdInt = Math.round(threshold / inst.amountIncrement);
      const startUs = toUs(win.start);
      const ref = naiveBars(ts, px, qty, side, thresholdInt).filter((b) => b.startUs >= startUs);
      assert.equal(bars.length, ref.length, `${name}: bar count`);
      const pInc = inst.priceIncrement;
      const aInc = inst.amountIncrement;
      ref.forEach((r, k) => {
        const b = bars[k]!;
        assert.equal(b.ts_event_us, r.startUs, `bar ${k} start`);
        assert.equal(b.ts_end_us, r.endUs, `bar ${k} end`);
        assert.equal(b.trade_count, r.trades, `bar ${k} trades`);
        assert.ok(
          close(b.volume, r.volumeInt * aInc),
          `bar ${k} volume ${b.volume} vs ${r.volumeInt * aInc}`,
        );
        assert.ok(close(b.vwap, (r.notionalInt / r.volumeInt) * pInc), `bar ${k} vwap`);
        assert.ok(close(b.open, r.open * pInc) && close(b.close, r.close * pInc), `bar ${k} open/close`);
        assert.ok(close(b.high, r.high * pInc) && close(b.low, r.low * pInc), `bar ${k} high/low`);
        const signed = r.buyInt + r.sellInt;
        if (signed === 0) assert.equal(b.flow_imbalance, null);
        else assert.ok(close(b.flow_imbalance, (r.buyInt - r.sellInt) / signed), `bar ${k} flow imbalance`);
      });
      t.diagnostic(
        `${bars.length} bars from ${trades.length} trades; ${sameUsAfterClose} bars closed by a trade followed by another trade of the same µs`,
      );
    });
  }

  it("refuses a trade before the previous one", async () => {
    const tracker = await VolumeBarTracker.create({
      lake: lake2024.lake,
      exchange: EX,
      symbol: SYM,
      threshold: 5,
      start: W2024.start,
    });
    const t0 = toUs(W2024.start);
    assert.equal(tracker.addTrade({ tsLocalUs: t0 + 10, pxInt: 600_000, qtyInt: 1, side: 0 }), null);
    assert.equal(tracker.addTrade({ tsLocalUs: t0 + 10, pxInt: 600_000, qtyInt: 1, side: 1 }), null);
    assert.throws(
      () => tracker.addTrade({ tsLocalUs: t0 + 9, pxInt: 600_000, qtyInt: 1, side: 0 }),
      EventOrderError,
    );
  });
});
