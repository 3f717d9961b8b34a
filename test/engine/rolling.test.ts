/**
 * RollingStats / RollingMedian against naive two-pass references (seeded properties), exact zero std on
 * constant windows, JSON snapshot/restore continuation, and partition safety of the keyed rebuild.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { RollingMedian, RollingStats } from "../../src/engine/rolling.js";

const SEED = { seed: 424242, numRuns: 150 };

function naive(xs: readonly number[], end: number, w: number) {
  if (end + 1 < w) return { sum: Number.NaN, mean: Number.NaN, std: Number.NaN, median: Number.NaN };
  const win = xs.slice(end + 1 - w, end + 1);
  if (win.some(Number.isNaN))
    return { sum: Number.NaN, mean: Number.NaN, std: Number.NaN, median: Number.NaN };
  const sum = win.reduce((s, x) => s + x, 0);
  const mean = sum / w;
  const std = w < 2 ? Number.NaN : Math.sqrt(win.reduce((s, x) => s + (x - mean) ** 2, 0) / (w - 1));
  const sorted = [...win].sort((a, b) => a - b);
  const median = w % 2 ? sorted[(w - 1) / 2]! : (sorted[w / 2 - 1]! + sorted[w / 2]!) / 2;
  return { sum, mean, std, median };
}

const close = (a: number, e: number, tol: number, what: string) => {
  if (Number.isNaN(e)) return assert.ok(Number.isNaN(a), `${what}: expected null, got ${a}`);
  assert.ok(Math.abs(a - e) <= tol * Math.max(1, Math.abs(e)), `${what}: ${a} vs ${e}`);
};

const seriesArb = fc.array(
  fc.oneof(
    { weight: 1, arbitrary: fc.constant(Number.NaN) },
    { weight: 6, arbitrary: fc.integer({ min: -5000, max: 5000 }) },
    { weight: 6, arbitrary: fc.double({ min: 1e3, max: 1e5, noNaN: true }) },
    { weight: 2, arbitrary: fc.constant(7) },
  ),
  { minLength: 1, maxLength: 300 },
);

describe("RollingStats", () => {
  it("matches a two-pass reference with Polars min_periods = w null semantics", () => {
    fc.assert(
      fc.property(seriesArb, fc.integer({ min: 1, max: 40 }), (xs, w) => {
        const r = new RollingStats(w);
        const m = new RollingMedian(w);
        xs.forEach((x, i) => {
          r.push(x, i);
          m.push(x);
          const e = naive(xs, i, w);
          close(r.sum(), e.sum, 1e-9, `sum@${i}`);
          close(r.mean(), e.mean, 1e-9, `mean@${i}`);
          close(r.std(), e.std, 1e-6, `std@${i}`);
          assert.ok(
            Object.is(m.median(), e.median) || Math.abs(m.median() - e.median) <= 1e-12 * Math.abs(e.median),
            `median@${i}`,
          );
        });
      }),
      SEED,
    );
  });

  it("integer windows: sums exact, std within 1e-12 of the exact value", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 2_000_000 }), { minLength: 60, maxLength: 200 }),
        (xs) => {
          const w = 50;
          const r = new RollingStats(w);
          xs.forEach((x, i) => {
            r.push(x, i);
            const e = naive(xs, i, w);
            if (Number.isNaN(e.sum)) return;
            assert.equal(r.sum(), e.sum);
            // exact variance by integer arithmetic
            const win = xs.slice(i + 1 - w, i + 1).map(BigInt);
            const s1 = win.reduce((a, b) => a + b, 0n);
            const s2 = win.reduce((a, b) => a + b * b, 0n);
            const v = Number(BigInt(w) * s2 - s1 * s1) / (w * (w - 1));
            close(r.std(), Math.sqrt(v), 1e-12, `std@${i}`);
          });
        },
      ),
      SEED,
    );
  });

  it("std of a constant window is exactly 0 even after drifting sums", () => {
    const r = new RollingStats(20);
    for (let i = 0; i < 500; i++) r.push(Math.sin(i) * 1e-3 + 0.1, i);
    for (let i = 500; i < 520; i++) r.push(0.123456789, i);
    assert.equal(r.std(), 0);
    r.push(0.2, 520);
    assert.ok(r.std() > 0);
  });

  it("snapshot → JSON → restore continues bitwise identically", () => {
    fc.assert(
      fc.property(seriesArb, fc.integer({ min: 1, max: 40 }), fc.nat(), (xs, w, cutRaw) => {
        const cut = cutRaw % xs.length;
        const a = new RollingStats(w);
        const ma = new RollingMedian(w);
        for (let i = 0; i < cut; i++) {
          a.push(xs[i]!, i);
          ma.push(xs[i]!);
        }
        const b = new RollingStats(w);
        b.restore(JSON.parse(JSON.stringify(a.snapshot())));
        const mb = new RollingMedian(w);
        mb.restore(JSON.parse(JSON.stringify(ma.snapshot())));
        for (let i = cut; i < xs.length; i++) {
          a.push(xs[i]!, i);
          b.push(xs[i]!, i);
          ma.push(xs[i]!);
          mb.push(xs[i]!);
          assert.ok(
            Object.is(a.std(), b.std()) && Object.is(a.mean(), b.mean()) && Object.is(a.sum(), b.sum()),
          );
          assert.ok(Object.is(ma.median(), mb.median()));
        }
      }),
      SEED,
    );
  });

  it("keyed rebuilds make runs started at different rows agree bitwise after 2w rows", () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: 200, maxLength: 400 }),
        fc.integer({ min: 2, max: 30 }),
        fc.integer({ min: 1, max: 60 }),
        (xs, w, offset) => {
          const a = new RollingStats(w);
          const b = new RollingStats(w);
          for (let i = 0; i < xs.length; i++) {
            a.push(xs[i]!, i);
            if (i >= offset) b.push(xs[i]!, i);
            if (i >= offset + 2 * w)
              assert.ok(Object.is(a.std(), b.std()) && Object.is(a.mean(), b.mean()), `row ${i}`);
          }
        },
      ),
      SEED,
    );
  });

  it("rejects windows below 1", () => {
    assert.throws(() => new RollingStats(0), /windowRows/);
    assert.throws(() => new RollingMedian(1.5), /windowRows/);
  });
});
