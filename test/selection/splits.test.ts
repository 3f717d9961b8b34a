/**
 * Splits (selection/splits.ts): seeded fast-check properties checked against brute force over every
 * (train, test) row pair — no training row's label window [t, t + h] overlaps a test row's (closed
 * intervals), embargo respected, parts partition the rows, chronological order — plus maximality (a row
 * is purged only when some test row's window really overlaps it) and the manifest round trip: the trader
 * format's `assignSplits` on `chronoManifest` reproduces the assignment row for row.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { US_PER_MINUTE } from "../../src/core/time.js";
import {
  chronoManifest,
  chronoSplit,
  type Fold,
  type LabelWindows,
  purgedKFold,
  purgedKFoldManifest,
  rowIntervals,
  walkForwardFolds,
} from "../../src/selection/splits.js";
import { assignSplits, parseSplitManifest, splitManifestJson } from "../../src/trader/splits.js";

const M = US_PER_MINUTE;

/** Random non-decreasing minute times (gaps 0..3 minutes, so duplicates and holes occur). */
const windowsArb = fc
  .record({
    gaps: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 120 }),
    horizonMin: fc.integer({ min: 0, max: 30 }),
  })
  .map(({ gaps, horizonMin }) => {
    const t: number[] = [];
    let x = 1_700_000_000_000_000;
    for (const g of gaps) {
      x += g * M;
      t.push(x);
    }
    return { timesUs: Float64Array.from(t), horizonUs: horizonMin * M } satisfies LabelWindows;
  });

const overlap = (w: LabelWindows, i: number, j: number) => {
  const a = w.timesUs[i]!;
  const b = w.timesUs[j]!;
  return a <= b + w.horizonUs && b <= a + w.horizonUs;
};

/** Runs a fold maker; skips the case (fc.pre) when duplicate times leave a block empty (a ConfigError). */
function cuts(f: () => Fold[]): Fold[] {
  try {
    return f();
  } catch (e) {
    fc.pre(!/distinct times cannot make/.test((e as Error).message));
    throw e;
  }
}

function assertPartition(n: number, parts: readonly Int32Array[]): void {
  const seen = new Uint8Array(n);
  for (const p of parts)
    for (let k = 0; k < p.length; k++) {
      assert.ok(k === 0 || p[k]! > p[k - 1]!, "ascending");
      seen[p[k]!]!++;
    }
  for (let i = 0; i < n; i++) assert.equal(seen[i], 1, `row ${i} in exactly one part`);
}

function assertNoLeak(w: LabelWindows, f: Fold, embargoUs: number): void {
  const testEnd = f.test.length > 0 ? w.timesUs[f.test[f.test.length - 1]!]! + w.horizonUs : 0;
  for (const i of f.train) {
    for (const j of f.test) assert.ok(!overlap(w, i, j), `fold ${f.fold}: train ${i} overlaps test ${j}`);
    if (i > f.test[0]!)
      assert.ok(w.timesUs[i]! > testEnd + embargoUs, `fold ${f.fold}: train ${i} in embargo`);
  }
  // maximality: each removed row had a reason
  for (const i of f.purged)
    assert.ok(
      [...f.test].some((j) => overlap(w, i, j)),
      `row ${i} purged without overlap`,
    );
  for (const i of f.embargoed) {
    assert.ok(i > f.test[f.test.length - 1]!);
    assert.ok(w.timesUs[i]! > testEnd && w.timesUs[i]! <= testEnd + embargoUs);
  }
}

describe("splits properties (fast-check, seed 13)", () => {
  it("chronological: partition, order, no label overlap across parts, maximal purge", () => {
    fc.assert(
      fc.property(windowsArb, fc.integer({ min: 0, max: 10 }), fc.integer({ min: 0, max: 10 }), (w, x, y) => {
        const r1 = x / 20;
        const r2 = Math.min(1 - r1, y / 20);
        const s = chronoSplit(w, [r1, r2, 1 - r1 - r2]);
        const n = w.timesUs.length;
        assertPartition(n, [s.train, s.validation, s.test, s.purged]);
        const lastOf = (a: Int32Array) => (a.length ? a[a.length - 1]! : -1);
        if (s.validation.length) assert.ok(lastOf(s.train) < s.validation[0]!);
        if (s.test.length) assert.ok(lastOf(s.train) < s.test[0]! && lastOf(s.validation) < s.test[0]!);
        for (const i of s.train) for (const j of [...s.validation, ...s.test]) assert.ok(!overlap(w, i, j));
        for (const i of s.validation) for (const j of s.test) assert.ok(!overlap(w, i, j));
        for (const i of s.purged) {
          const later = i < s.validationStart ? s.validationStart : s.testStart;
          assert.ok(
            Array.from({ length: n - later }, (_, k) => later + k).some((j) => overlap(w, i, j)),
            `row ${i} purged without overlap`,
          );
        }
      }),
      { seed: 13, numRuns: 300 },
    );
  });

  it("the chronological manifest: assignSplits reproduces the assignment; JSON round trip", () => {
    fc.assert(
      fc.property(windowsArb, (w) => {
        const s = chronoSplit(w);
        const m = chronoManifest(w, s);
        const back = parseSplitManifest(JSON.parse(JSON.stringify(splitManifestJson(m))));
        assert.deepEqual(back, m);
        const { splitId } = assignSplits(m, w.timesUs);
        const expect: string[] = [];
        for (let i = 0; i < w.timesUs.length; i++) expect.push("");
        for (const i of s.train) expect[i] = "fit";
        for (const i of s.validation) expect[i] = "tune";
        for (const i of s.test) expect[i] = "validation_locked";
        for (const i of s.purged) expect[i] = "PURGED";
        assert.deepEqual(splitId, expect);
      }),
      { seed: 13, numRuns: 300 },
    );
  });

  it("walk-forward: train before test, no overlap, test blocks disjoint and in order", () => {
    fc.assert(
      fc.property(windowsArb, fc.integer({ min: 1, max: 6 }), (w, k) => {
        fc.pre(new Set(w.timesUs).size >= 2 * (k + 1));
        const folds = cuts(() => walkForwardFolds(w, k));
        assert.equal(folds.length, k);
        let prevTestEnd = -1;
        for (const f of folds) {
          assert.ok(f.test.length > 0);
          assert.ok(f.test[0]! > prevTestEnd);
          prevTestEnd = f.test[f.test.length - 1]!;
          for (const i of f.train) assert.ok(i < f.test[0]!);
          assert.equal(f.embargoed.length, 0);
          assertPartition(f.test[f.test.length - 1]! + 1, [f.train, f.test, f.purged]);
          assertNoLeak(w, f, 0);
        }
        assert.equal(prevTestEnd, w.timesUs.length - 1);
      }),
      { seed: 13, numRuns: 300 },
    );
  });

  it("purged k-fold: tests partition the rows, each fold partitions them, no overlap, embargo", () => {
    fc.assert(
      fc.property(windowsArb, fc.integer({ min: 2, max: 6 }), fc.integer({ min: 0, max: 20 }), (w, k, em) => {
        const n = w.timesUs.length;
        fc.pre(new Set(w.timesUs).size >= 2 * k);
        const embargoUs = em * M;
        const folds = cuts(() => purgedKFold(w, k, embargoUs));
        assertPartition(
          n,
          folds.map((f) => f.test),
        );
        for (const f of folds) {
          assertPartition(n, [f.train, f.test, f.purged, f.embargoed]);
          assertNoLeak(w, f, embargoUs);
        }
        const m = purgedKFoldManifest(w, folds, embargoUs);
        assert.deepEqual(parseSplitManifest(JSON.parse(JSON.stringify(splitManifestJson(m)))), m);
        // the manifest's training intervals hold exactly the training rows
        for (const f of folds) {
          const iv = m.purgedKFold![f.fold]!.train;
          const inTrain = (t: number) => iv.some(([a, b]) => t >= a && t < b);
          const set = new Set(f.train);
          for (let i = 0; i < n; i++)
            assert.equal(inTrain(w.timesUs[i]!), set.has(i), `fold ${f.fold} row ${i}`);
        }
      }),
      { seed: 13, numRuns: 300 },
    );
  });
});

describe("splits examples", () => {
  const hour = 60 * M;
  const w: LabelWindows = {
    timesUs: Float64Array.from({ length: 100 }, (_, i) => i * 5 * M),
    horizonUs: hour,
  };

  it("60/20/20 on 100 five-minute rows with a 1 h horizon purges 12 rows before each later block", () => {
    const s = chronoSplit(w);
    // rows 48..59 have t + 60 min ≥ t_60 (row 60 at 300 min): 12 rows
    assert.deepEqual([s.train.length, s.validation.length, s.test.length, s.purged.length], [48, 8, 20, 24]);
    assert.equal(s.purged[0], 48);
    assert.equal(s.purged[12], 68);
  });

  it("purged k-fold embargo of 30 min drops 6 rows after the test block's last label end", () => {
    const f = purgedKFold(w, 5, 30 * M)[1]!; // test rows 20..39; last label end 39·5 + 60 = 255 min = row 51
    assert.deepEqual(
      [...f.purged],
      [8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51],
    );
    assert.deepEqual([...f.embargoed], [52, 53, 54, 55, 56, 57]);
    assert.deepEqual(rowIntervals(w.timesUs, f.train), [
      [0, 8 * 5 * M],
      [58 * 5 * M, 99 * 5 * M + 1],
    ]);
  });

  it("rejects unordered times, bad ratios, too few rows", () => {
    assert.throws(() => chronoSplit({ timesUs: [2, 1], horizonUs: 0 }), /not in time order at row 1/);
    assert.throws(() => chronoSplit(w, [0.5, 0.5, 0.5]), /sum to 1/);
    assert.throws(() => purgedKFold({ timesUs: [1], horizonUs: 0 }, 2), /1 rows cannot make 2/);
    assert.throws(() => purgedKFold(w, 1), /folds ≥ 2/);
  });
});
