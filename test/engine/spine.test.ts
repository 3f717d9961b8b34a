/**
 * Spine bar invariants, as properties over seeded random trade streams (fast-check) and on the real
 * capture: every trade in exactly one bar, Σ bar volume = Σ trade volume, each bar reaches its threshold
 * (except a partial last bar when asked), bars never overlap, clock bars are half-open, bars reset at UTC
 * midnight.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { US_PER_DAY } from "../../src/core/time.js";
import type { SpineRow } from "../../src/engine/operator.js";
import { createSpine, type SpineSink } from "../../src/engine/spine.js";
import { parseSpineShorthand, parseSpineSpec, type SpineSpecInput } from "../../src/engine/spine-spec.js";

interface T {
  ts: number;
  px: number;
  qty: number;
  side: number;
}

interface Bar {
  tsEvent: number;
  tsEnd: number;
  available: number;
  index: number;
  /** (trade index, qty piece) fed into this bar */
  pieces: [number, number][];
}

/** Drives a spine over trades (no other events) and records which trade pieces landed in which row. */
function drive(cfgIn: SpineSpecInput, trades: readonly T[], startUs: number, endUs: number, warmupUs = 0) {
  const cfg = parseSpineSpec(cfgIn);
  const spine = createSpine(cfg, { startUs, priceIncrement: 0.1, amountIncrement: 0.001 });
  const from = spine.replayStartUs(startUs, warmupUs);
  const bars: Bar[] = [];
  let current: [number, number][] = [];
  let discarded: [number, number][] = [];
  let k = -1;
  const sink: SpineSink = {
    feedTrade(q: number) {
      current.push([k, q]);
    },
    emit(row: SpineRow) {
      bars.push({
        tsEvent: row.tsEventUs,
        tsEnd: row.tsEndUs,
        available: row.availableAtUs,
        index: row.barIndex,
        pieces: current,
      });
      current = [];
    },
    discard() {
      discarded = discarded.concat(current);
      current = [];
    },
  };
  for (k = 0; k < trades.length; k++) {
    const t = trades[k]!;
    if (t.ts < from || t.ts >= endUs) continue;
    spine.advanceTo(t.ts, sink);
    spine.onTrade({ tsLocalUs: t.ts, pxInt: t.px, qtyInt: t.qty, side: t.side }, sink);
  }
  spine.finish(endUs, sink);
  return { bars, discarded, stats: spine.stats, leftover: current };
}

const DAY0 = Date.UTC(2024, 7, 8) * 1000;
const tradesArb = fc
  .array(
    fc.record({
      dt: fc.integer({ min: 0, max: 4_000_000 }),
      px: fc.integer({ min: 500_000, max: 700_000 }),
      qty: fc.integer({ min: 1, max: 9_000 }),
      side: fc.constantFrom(0, 1, -1),
    }),
    { minLength: 1, maxLength: 400 },
  )
  .map((xs) => {
    let ts = DAY0 + US_PER_DAY - 300_000_000; // 5 min before midnight, so streams cross a UTC day
    return xs.map((x) => {
      ts += x.dt;
      return { ts, px: x.px, qty: x.qty, side: x.side };
    });
  });

const SEED = { seed: 20241122, numRuns: 200 };

function assertPartition(bars: Bar[], discarded: [number, number][], trades: readonly T[]): void {
  // every trade's qty is fed exactly once in total across bars + discarded partial bars
  const fed = new Map<number, number>();
  for (const b of bars) for (const [i, q] of b.pieces) fed.set(i, (fed.get(i) ?? 0) + q);
  for (const [i, q] of discarded) fed.set(i, (fed.get(i) ?? 0) + q);
  trades.forEach((t, i) => {
    assert.equal(fed.get(i) ?? 0, t.qty, `trade ${i} fed ${fed.get(i)} of ${t.qty}`);
  });
}

function assertNoOverlap(bars: Bar[]): void {
  for (let i = 1; i < bars.length; i++) {
    assert.ok(bars[i]!.tsEvent >= bars[i - 1]!.tsEnd, `bar ${i} starts before bar ${i - 1} ends`);
    assert.ok(bars[i]!.tsEnd >= bars[i]!.tsEvent);
  }
}

describe("volume bars (trade included whole, counter reset)", () => {
  it("partition trades, reach the threshold, never overlap, reset at UTC midnight", () => {
    fc.assert(
      fc.property(tradesArb, fc.integer({ min: 1, max: 40 }), (trades, thrBtc) => {
        const thr = thrBtc * 1000; // qty increments
        const { bars, discarded, stats } = drive(
          { type: "volume", volumeThreshold: thrBtc, includePartialLastBar: false },
          trades,
          DAY0,
          DAY0 + 2 * US_PER_DAY,
        );
        assertPartition(bars, discarded, trades);
        assertNoOverlap(bars);
        let assigned = 0;
        for (const b of bars) {
          const vol = b.pieces.reduce((s, p) => s + p[1], 0);
          assert.ok(vol >= thr, `bar volume ${vol} below threshold ${thr}`);
          // the completing trade is the only one that reaches the threshold: without it the bar is short
          assert.ok(
            vol - b.pieces.at(-1)![1] < thr,
            "bar continued past the trade that reached the threshold",
          );
          assert.equal(b.tsEnd, trades[b.pieces.at(-1)![0]]!.ts, "bar closes on its completing trade");
          assert.equal(b.tsEvent, trades[b.pieces[0]![0]]!.ts, "bar opens at its first trade");
          assert.equal(
            Math.floor(b.tsEvent / US_PER_DAY),
            Math.floor(b.tsEnd / US_PER_DAY),
            "bar spans midnight",
          );
          assigned += b.pieces.length;
        }
        assert.equal(stats.tradesInRange, trades.length);
        assert.equal(stats.unassignedTrades, trades.length - assigned);
        assert.equal(stats.unassignedTrades, discarded.length);
      }),
      SEED,
    );
  });

  it("with includePartialLastBar every trade is in exactly one emitted bar and Σ volume = total", () => {
    fc.assert(
      fc.property(tradesArb, fc.integer({ min: 1, max: 40 }), (trades, thrBtc) => {
        const { bars, discarded } = drive(
          { type: "volume", volumeThreshold: thrBtc, includePartialLastBar: true },
          trades,
          DAY0,
          DAY0 + 2 * US_PER_DAY,
        );
        assert.equal(discarded.length, 0);
        assertPartition(bars, [], trades);
        const total = trades.reduce((s, t) => s + t.qty, 0);
        assert.equal(
          bars.reduce((s, b) => s + b.pieces.reduce((a, p) => a + p[1], 0), 0),
          total,
        );
        const seen = bars.flatMap((b) => b.pieces.map((p) => p[0]));
        assert.deepEqual(
          seen,
          trades.map((_, i) => i),
          "each trade once, in order",
        );
      }),
      SEED,
    );
  });

  it("splitTrades gives exact-volume bars", () => {
    fc.assert(
      fc.property(tradesArb, fc.integer({ min: 1, max: 40 }), (trades, thrBtc) => {
        const thr = thrBtc * 1000;
        const { bars, discarded } = drive(
          { type: "volume", volumeThreshold: thrBtc, splitTrades: true },
          trades,
          DAY0,
          DAY0 + 2 * US_PER_DAY,
        );
        assertPartition(bars, discarded, trades);
        for (const b of bars)
          assert.equal(
            b.pieces.reduce((s, p) => s + p[1], 0),
            thr,
          );
        assertNoOverlap(bars);
      }),
      SEED,
    );
  });

  it("useAbsoluteVolume: false closes on |Σ signed volume| ≥ threshold", () => {
    fc.assert(
      fc.property(tradesArb, fc.integer({ min: 1, max: 20 }), (trades, thrBtc) => {
        const thr = thrBtc * 1000;
        const { bars } = drive(
          { type: "volume", volumeThreshold: thrBtc, useAbsoluteVolume: false },
          trades,
          DAY0,
          DAY0 + 2 * US_PER_DAY,
        );
        for (const b of bars) {
          const signed = b.pieces.map(([i, q]) =>
            trades[i]!.side === 0 ? q : trades[i]!.side === 1 ? -q : 0,
          );
          const sum = signed.reduce((s, x) => s + x, 0);
          assert.ok(Math.abs(sum) >= thr);
          let run = 0;
          for (let j = 0; j < signed.length - 1; j++) {
            run += signed[j]!;
            assert.ok(Math.abs(run) < thr, "closed late");
          }
        }
      }),
      SEED,
    );
  });
});

describe("dollar, tick, trades and hybrid bars", () => {
  it("dollar bars: notional Σ px·qty·incs reaches the threshold on the completing trade", () => {
    fc.assert(
      fc.property(tradesArb, fc.integer({ min: 1_000, max: 2_000_000 }), (trades, usd) => {
        const thrUnits = Math.ceil(usd / (0.1 * 0.001) - 1e-9 * (usd / 1e-4));
        const { bars, discarded } = drive(
          { type: "dollar", dollarThreshold: usd },
          trades,
          DAY0,
          DAY0 + 2 * US_PER_DAY,
        );
        assertPartition(bars, discarded, trades);
        for (const b of bars) {
          const n = b.pieces.map(([i, q]) => trades[i]!.px * q);
          const tot = n.reduce((s, x) => s + x, 0);
          assert.ok(tot >= thrUnits);
          assert.ok(tot - n.at(-1)! < thrUnits);
        }
      }),
      SEED,
    );
  });

  it("tick bars hold exactly N trades; the trades spine one trade per row", () => {
    fc.assert(
      fc.property(tradesArb, fc.integer({ min: 1, max: 30 }), (trades, n) => {
        const { bars, discarded } = drive(
          { type: "tick", tickThreshold: n },
          trades,
          DAY0,
          DAY0 + 2 * US_PER_DAY,
        );
        assertPartition(bars, discarded, trades);
        for (const b of bars) assert.equal(b.pieces.length, n);
        const one = drive({ type: "trades" }, trades, DAY0, DAY0 + 2 * US_PER_DAY);
        assert.equal(one.bars.length, trades.length);
        one.bars.forEach((b, i) => {
          assert.equal(b.tsEvent, trades[i]!.ts);
          assert.equal(b.tsEnd, trades[i]!.ts);
        });
      }),
      SEED,
    );
  });

  it("hybrid bars close at the volume threshold or at open + maxTime, whichever comes first", () => {
    fc.assert(
      fc.property(
        tradesArb,
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 20_000 }),
        (trades, thrBtc, maxMs) => {
          const thr = thrBtc * 1000;
          const maxUs = maxMs * 1000;
          const { bars, discarded } = drive(
            { type: "hybrid", volumeThreshold: thrBtc, maxTimeMs: maxMs },
            trades,
            DAY0,
            DAY0 + 2 * US_PER_DAY,
          );
          assertPartition(bars, discarded, trades);
          assertNoOverlap(bars);
          for (const b of bars) {
            const vol = b.pieces.reduce((s, p) => s + p[1], 0);
            for (const [i] of b.pieces)
              assert.ok(trades[i]!.ts < b.tsEvent + maxUs, "trade after the time limit");
            if (vol >= thr)
              assert.ok(b.tsEnd - b.tsEvent < maxUs || b.tsEnd === trades[b.pieces.at(-1)![0]]!.ts);
            else assert.equal(b.tsEnd, b.tsEvent + maxUs, "short bar must be a time close at open + maxTime");
            assert.equal(b.available, b.tsEnd);
          }
        },
      ),
      SEED,
    );
  });
});

describe("clock bars", () => {
  it("are aligned, contiguous, half-open, and include empty bars", () => {
    fc.assert(
      fc.property(tradesArb, fc.constantFrom(250, 1000, 60_000), (trades, stepMs) => {
        const step = stepMs * 1000;
        const start = trades[0]!.ts;
        const end = trades.at(-1)!.ts + 1;
        const { bars: all, leftover, stats } = drive({ type: "clock", stepMs }, trades, start, end);
        // rows are kept from the first aligned bar at or after start; the bar cut by the end has no row
        const bars = all.filter((b) => b.tsEvent >= start);
        const first = Math.ceil(start / step) * step;
        assert.equal(bars.length, Math.max(0, Math.floor((end - first) / step)));
        bars.forEach((b, i) => {
          assert.equal(b.tsEvent % step, 0);
          assert.equal(b.tsEvent, first + i * step);
          assert.equal(b.tsEnd, b.tsEvent + step);
          assert.equal(b.available, b.tsEnd);
          assert.equal(b.index, b.tsEvent / step);
          for (const [k] of b.pieces) {
            assert.ok(trades[k]!.ts >= b.tsEvent && trades[k]!.ts < b.tsEnd, "half-open [t, t+step)");
          }
        });
        const lastEnd = bars.at(-1)?.tsEnd ?? first;
        for (const [k] of leftover) assert.ok(trades[k]!.ts >= lastEnd || trades[k]!.ts < first);
        const outside = trades.filter((t) => t.ts < first || t.ts >= lastEnd).length;
        assert.equal(
          stats.unassignedTrades,
          outside,
          "trades outside emitted bars are counted as unassigned",
        );
        assert.equal(stats.tradesInRange, trades.length);
      }),
      { ...SEED, numRuns: 100 },
    );
  });

  it("an event at exactly t + step belongs to the next bar", () => {
    const t0 = DAY0;
    const trades: T[] = [
      { ts: t0, px: 1, qty: 1, side: 0 },
      { ts: t0 + 999_999, px: 1, qty: 2, side: 0 },
      { ts: t0 + 1_000_000, px: 1, qty: 4, side: 0 },
    ];
    const { bars } = drive({ type: "clock", stepMs: 1000 }, trades, t0, t0 + 2_000_000);
    assert.deepEqual(
      bars.map((b) => b.pieces.map((p) => p[1])),
      [[1, 2], [4]],
    );
  });
});

describe("spine config", () => {
  it("parses the CLI shorthand and rejects bad input with the field", () => {
    assert.deepEqual(parseSpineShorthand("clock:1000"), parseSpineSpec({ type: "clock", stepMs: 1000 }));
    assert.equal(parseSpineShorthand("hybrid:5:60000").type, "hybrid");
    assert.equal(parseSpineShorthand("dollar:1000000").type, "dollar");
    assert.throws(() => parseSpineShorthand("clock:abc"), /stepMs must be a number/);
    assert.throws(() => parseSpineShorthand("renko:5"), /unknown spine type/);
    assert.throws(() => parseSpineSpec({ type: "volume", volumeThreshold: -1 }), /volumeThreshold/);
    assert.throws(() => parseSpineSpec({ type: "clock", stepMs: 0 }), /stepMs/);
  });

  it("maxRows stops a runaway spine with a clear error", () => {
    const trades: T[] = Array.from({ length: 50 }, (_, i) => ({ ts: DAY0 + i, px: 1, qty: 1, side: 0 }));
    assert.throws(() => drive({ type: "trades", maxRows: 10 }, trades, DAY0, DAY0 + 1000), /maxRows=10/);
  });
});
