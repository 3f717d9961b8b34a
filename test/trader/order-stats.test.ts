/**
 * engine/order-stats.ts against naive window recomputations (sort / scan of the last w values), by
 * fast-check with a fixed seed: rank of the latest value, median, rolling max/min, NaN rules,
 * snapshot/restore mid-stream.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { OrderStatTree, RollingExtreme, RollingOrderStats } from "../../src/engine/order-stats.js";

const value = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: -20, max: 20 }).map((x) => x / 4) },
  { weight: 1, arbitrary: fc.constant(Number.NaN) },
  { weight: 2, arbitrary: fc.double({ min: -1e6, max: 1e6, noNaN: true }) },
);

function naive(xs: readonly number[], i: number, w: number) {
  if (i + 1 < w) return { rank: Number.NaN, median: Number.NaN, max: Number.NaN, min: Number.NaN };
  const win = xs.slice(i - w + 1, i + 1);
  if (win.some((x) => Number.isNaN(x)))
    return { rank: Number.NaN, median: Number.NaN, max: Number.NaN, min: Number.NaN };
  const s = [...win].sort((a, b) => a - b);
  const h = w >> 1;
  return {
    rank: win.filter((x) => x <= xs[i]!).length / w,
    median: w % 2 === 1 ? s[h]! : (s[h - 1]! + s[h]!) / 2,
    max: s[w - 1]!,
    min: s[0]!,
  };
}

describe("rolling order statistics", () => {
  it("rank, median, max and min equal a sort of the window at every push; restore continues identically", () => {
    fc.assert(
      fc.property(
        fc.array(value, { minLength: 1, maxLength: 300 }),
        fc.integer({ min: 1, max: 40 }),
        fc.nat(),
        (xs, w, cut) => {
          const os = new RollingOrderStats(w);
          const mx = new RollingExtreme(w, "max");
          const mn = new RollingExtreme(w, "min");
          const at = cut % xs.length;
          let os2: RollingOrderStats | null = null;
          let mx2: RollingExtreme | null = null;
          for (let i = 0; i < xs.length; i++) {
            os.push(xs[i]!);
            mx.push(xs[i]!);
            mn.push(xs[i]!);
            os2?.push(xs[i]!);
            mx2?.push(xs[i]!);
            const want = naive(xs, i, w);
            assert.ok(Object.is(os.rankOfLatest(), want.rank), `rank at ${i}`);
            assert.ok(Object.is(os.median(), want.median), `median at ${i}`);
            assert.ok(Object.is(mx.value(), want.max), `max at ${i}`);
            assert.ok(Object.is(mn.value(), want.min), `min at ${i}`);
            if (os2)
              assert.ok(Object.is(os2.median(), want.median) && Object.is(os2.rankOfLatest(), want.rank));
            if (mx2) assert.ok(Object.is(mx2.value(), want.max));
            if (i === at) {
              os2 = new RollingOrderStats(w);
              os2.restore(JSON.parse(JSON.stringify(os.snapshot())));
              mx2 = new RollingExtreme(w, "max");
              mx2.restore(JSON.parse(JSON.stringify(mx.snapshot())));
            }
          }
        },
      ),
      { seed: 12, numRuns: 300 },
    );
  });

  it("the tree holds duplicates, counts ≤ and finds k-th values; removing an absent value throws", () => {
    const t = new OrderStatTree(8);
    for (const x of [3, 1, 3, 2, 3]) t.insert(x);
    assert.equal(t.count, 5);
    assert.equal(t.countLessOrEqual(3), 5);
    assert.equal(t.countLessOrEqual(2.5), 2);
    assert.deepEqual(
      [0, 1, 2, 3, 4].map((k) => t.kth(k)),
      [1, 2, 3, 3, 3],
    );
    t.remove(3);
    assert.equal(t.countLessOrEqual(3), 4);
    assert.throws(() => t.remove(7), /not held/);
    assert.throws(() => t.kth(4), /no element/);
  });
});
