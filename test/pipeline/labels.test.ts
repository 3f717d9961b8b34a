/**
 * Labels of pipeline v2 against independent references.
 *
 * - Real capture: a usdm2024 frame on volume bars of 5 BTC (bar aggregations on) — every label type on
 *   `close`, `vwap` and `close` with injected nulls, compared with naive references written here from the
 *   definitions (x[i+w]/x[i] − 1, Math.log of the ratio, σ from Math.log(x[j]/x[j−1]) and the textbook
 *   sample variance, barrier scan checking the stop-loss first). The implementation computes returns as
 *   (b − a)/a and log returns with log1p, so floats are compared within 1e-15 absolute + 1e-12 relative;
 *   class labels and touch times must match exactly.
 * - Hand-made vectors with hand-checked answers (nulls, data end, x ≤ 0, threshold ties, pt/sl on the
 *   same bar, vertical barrier, null inside the horizon, σ warm-up after a gap).
 * - A seeded fast-check property: appending rows after row i + window never changes a label, and rows with
 *   i + window ≥ n are always null.
 * - Standardization: mean/std equal a naive fit on purged training rows and do not move when test-split
 *   values change.
 * Each kind of check is also run once against a deliberately broken implementation to show it can fail.
 * Every assert.ok carries a message (without one, a failing node:assert re-parses the tsx-transpiled source
 * to build it, which can take minutes).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { ConfigError } from "../../src/core/errors.js";
import {
  computeLabels,
  type LabelSpec,
  type LabelSpecInput,
  labelOutputNames,
  labelSpecSchema,
  parseLabelSpec,
} from "../../src/pipeline/labels.js";
import { columnValues } from "../helpers/engine.js";
import { volumeBarAggregationFrame } from "../helpers/frames.js";
import { captureLake } from "../helpers/lake.js";

// ---------------------------------------------------------------------------------------------------
// naive references (from the definitions in the brief, written independently of src/pipeline/labels.ts)

const isNull = (v: number | undefined): boolean => v === undefined || !Number.isFinite(v);

function refForward(x: ArrayLike<number>, w: number, log: boolean): number[] {
  const out: number[] = [];
  for (let i = 0; i < x.length; i++) {
    const a = x[i];
    const b = x[i + w];
    if (i + w >= x.length || isNull(a) || isNull(b) || a! <= 0 || (log && b! <= 0)) out.push(Number.NaN);
    else out.push(log ? Math.log(b! / a!) : b! / a! - 1);
  }
  return out;
}

function refDirection(x: ArrayLike<number>, w: number, bps: number): number[] {
  return refForward(x, w, false).map((r) => (Number.isNaN(r) ? Number.NaN : r > bps * 1e-4 ? 1 : 0));
}

function refThreeClass(x: ArrayLike<number>, w: number, bps: number): number[] {
  const th = bps * 1e-4;
  return refForward(x, w, false).map((r) => (Number.isNaN(r) ? Number.NaN : r > th ? 1 : r < -th ? -1 : 0));
}

function sampleStd(v: number[]): number {
  const m = v.reduce((s, a) => s + a, 0) / v.length;
  return Math.sqrt(v.reduce((s, a) => s + (a - m) ** 2, 0) / (v.length - 1));
}

/** Triple barrier from the definition; `ptFirst` is the deliberately broken tie rule. */
function refTripleBarrier(
  x: ArrayLike<number>,
  avail: ArrayLike<number>,
  window: number,
  pt: number,
  sl: number,
  volWindow: number,
  ptFirst = false,
): { label: number[]; touch: number[] } {
  const label: number[] = [];
  const touch: number[] = [];
  for (let i = 0; i < x.length; i++) {
    label.push(Number.NaN);
    touch.push(Number.NaN);
    if (i + window >= x.length || isNull(x[i])) continue;
    const rets: number[] = [];
    for (let j = i - volWindow + 1; j <= i; j++) {
      if (j - 1 < 0 || isNull(x[j]) || isNull(x[j - 1]) || x[j]! <= 0 || x[j - 1]! <= 0) break;
      rets.push(Math.log(x[j]! / x[j - 1]!));
    }
    if (rets.length < volWindow) continue;
    const sigma = sampleStd(rets);
    let lab = 0;
    let at = i + window;
    for (let j = i + 1; j <= i + window; j++) {
      if (isNull(x[j])) continue;
      const R = x[j]! / x[i]! - 1;
      const hitPt = R >= pt * sigma;
      const hitSl = R <= -sl * sigma;
      if (hitPt || hitSl) {
        lab = hitSl && !(ptFirst && hitPt) ? -1 : 1;
        at = j;
        break;
      }
    }
    label[i] = lab;
    touch[i] = avail[at]!;
  }
  return { label, touch };
}

/** Fit of the standardization: purged training rows (i + w < trainRows) unless `purge` is false (broken). */
function refFit(
  x: ArrayLike<number>,
  w: number,
  log: boolean,
  trainRows: number,
  purge = true,
): { mean: number; std: number; rows: number } {
  const r = refForward(x, w, log);
  const used: number[] = [];
  for (let i = 0; i < trainRows; i++)
    if ((!purge || i + w < trainRows) && !Number.isNaN(r[i]!)) used.push(r[i]!);
  const mean = used.reduce((s, a) => s + a, 0) / used.length;
  return { mean, std: sampleStd(used), rows: used.length };
}

// ---------------------------------------------------------------------------------------------------
// comparisons

function assertClose(
  name: string,
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  abs = 1e-15,
): void {
  assert.equal(actual.length, expected.length, `${name}: length`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (Number.isNaN(a) || Number.isNaN(e)) {
      if (!(Number.isNaN(a) && Number.isNaN(e))) assert.fail(`${name}[${i}]: got ${a}, reference ${e}`);
      continue;
    }
    if (!(Math.abs(a - e) <= abs + 1e-12 * Math.abs(e)))
      assert.fail(`${name}[${i}]: got ${a}, reference ${e}`);
  }
}

function assertExact(name: string, actual: ArrayLike<number>, expected: ArrayLike<number>): void {
  assert.equal(actual.length, expected.length, `${name}: length`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (!(Object.is(a, e) || (Number.isNaN(a) && Number.isNaN(e)) || a === e)) {
      assert.fail(`${name}[${i}]: got ${a}, reference ${e}`);
    }
  }
}

const spec = (s: LabelSpecInput): LabelSpec => labelSpecSchema.parse(s);

function run(
  x: Float64Array,
  specs: LabelSpecInput[],
  trainRows = x.length,
  avail: Float64Array = Float64Array.from(x, (_, i) => 1000 * (i + 1)),
) {
  return computeLabels({ n: x.length, columns: new Map([["x", x]]), availableAtUs: avail }, specs.map(spec), {
    trainRows,
  });
}

const col = (res: { readonly columns: ReadonlyMap<string, Float64Array> }, name: string): Float64Array => {
  const c = res.columns.get(name);
  assert.ok(c, `missing output ${name}`);
  return c;
};

const N = Number.NaN;

// ---------------------------------------------------------------------------------------------------

describe("labels on the usdm2024 capture (volume bars of 5 BTC)", () => {
  let cleanup: () => void = () => {};
  let n = 0;
  let avail: Float64Array = new Float64Array(0);
  const prices = new Map<string, Float64Array>();

  before(async () => {
    const l = await captureLake(["usdm2024"]);
    cleanup = l.cleanup;
    const df = await volumeBarAggregationFrame(l.lake);
    n = df.height;
    avail = columnValues(df, "available_at_us");
    const close = columnValues(df, "close");
    const holes = close.slice();
    for (let i = 3; i < n; i += 37) holes[i] = Number.NaN;
    holes[n - 1] = Number.NaN;
    prices.set("close", close);
    prices.set("vwap", columnValues(df, "vwap"));
    prices.set("close_holes", holes);
  });
  after(() => cleanup());

  const label = (s: LabelSpecInput[], trainRows = n) =>
    computeLabels({ n, columns: prices, availableAtUs: avail }, s.map(spec), { trainRows });

  it("frame is non-trivial: hundreds of bars, close/vwap mostly non-null, avail non-decreasing", () => {
    assert.ok(n > 300, `rows ${n}`);
    for (const c of ["close", "vwap"])
      assert.ok(
        prices.get(c)!.every((v) => Number.isFinite(v)),
        c,
      );
    for (let i = 1; i < n; i++) assert.ok(avail[i]! >= avail[i - 1]!, `avail[${i}] decreases`);
  });

  it("forward_return (simple, log; windows 1, 5, 20) equals the naive reference", () => {
    for (const column of prices.keys()) {
      const x = prices.get(column)!;
      for (const w of [1, 5, 20]) {
        for (const rt of ["simple", "log"] as const) {
          const name = `fr_${column}_${w}_${rt}`;
          const res = label([{ name, type: "forward_return", column, window: w, return_type: rt }]);
          const got = col(res, name);
          const ref = refForward(x, w, rt === "log");
          assertClose(name, got, ref);
          // the last w rows are null, others non-null on a complete column
          if (column !== "close_holes") assert.equal(got.filter((v) => Number.isNaN(v)).length, w);
        }
      }
    }
  });

  it("the comparison rejects a broken forward return (window off by one, horizon truncated at the end)", () => {
    const x = prices.get("close")!;
    const off = col(label([{ name: "b", type: "forward_return", column: "close", window: 6 }]), "b");
    assert.throws(() => assertClose("off-by-one", off, refForward(x, 5, false)), /off-by-one\[/);
    // truncated horizon: last rows use x[n − 1] instead of null
    const truncated = refForward(x, 5, false).map((v, i) => (i + 5 >= n ? x[n - 1]! / x[i]! - 1 : v));
    const good = col(label([{ name: "g", type: "forward_return", column: "close", window: 5 }]), "g");
    assert.throws(() => assertClose("truncated", good, truncated), /truncated\[/);
  });

  it("direction and three_class equal the naive reference (no return within 1e-12 of a threshold)", () => {
    for (const column of prices.keys()) {
      const x = prices.get(column)!;
      for (const w of [1, 3, 10]) {
        const r = refForward(x, w, false);
        for (const bps of [0.5, 1, 3]) {
          for (const v of r)
            assert.ok(Number.isNaN(v) || Math.abs(Math.abs(v) - bps * 1e-4) > 1e-12, `near-tie ${v}`);
        }
        let ones = 0;
        for (const bps of [0, 1, 3]) {
          const res = label([
            { name: "d", type: "direction", column, window: w, threshold_bps: bps },
            ...(bps > 0
              ? [{ name: "t", type: "three_class" as const, column, window: w, threshold_bps: bps }]
              : []),
          ]);
          const d = col(res, "d");
          assertExact(`direction ${column} w${w} ${bps}bps`, d, refDirection(x, w, bps));
          ones += d.filter((v) => v === 1).length;
          if (bps > 0) {
            const t = col(res, "t");
            assertExact(`three_class ${column} w${w} ${bps}bps`, t, refThreeClass(x, w, bps));
            assert.ok(
              t.some((v) => v === -1) && t.some((v) => v === 1) && t.some((v) => v === 0),
              "all classes",
            );
          }
        }
        assert.ok(ones > 0, "some ups");
      }
    }
    // default threshold is 0 bps
    const d = col(label([{ name: "d", type: "direction", column: "close", window: 2 }]), "d");
    assertExact("direction default", d, refDirection(prices.get("close")!, 2, 0));
  });

  it("triple_barrier labels and touch times equal the naive reference", () => {
    const settings = [
      { window: 10, profit_take: 1, stop_loss: 1, vol_window: 20 },
      { window: 5, profit_take: 2, stop_loss: 1, vol_window: 10 },
      { window: 30, profit_take: 1.5, stop_loss: 3, vol_window: 2 },
      { window: 1, profit_take: 0.5, stop_loss: 0.5, vol_window: 50 },
    ];
    for (const column of prices.keys()) {
      const x = prices.get(column)!;
      for (const s of settings) {
        const res = label([{ name: "tb", type: "triple_barrier", column, ...s }]);
        const ref = refTripleBarrier(x, avail, s.window, s.profit_take, s.stop_loss, s.vol_window);
        const tag = `${column} ${JSON.stringify(s)}`;
        assertExact(`tb ${tag}`, col(res, "tb"), ref.label);
        assertExact(`tb_touch_us ${tag}`, col(res, "tb_touch_us"), ref.touch);
        if (column === "close" && s.window === 10) {
          // all three outcomes occur, and touch times lie in (avail[i], avail[i + window]]
          const lab = col(res, "tb");
          for (const v of [-1, 0, 1])
            assert.ok(
              lab.some((l) => l === v),
              `class ${v} occurs`,
            );
          const touch = col(res, "tb_touch_us");
          for (let i = 0; i < n; i++) {
            if (!Number.isNaN(touch[i]!))
              assert.ok(touch[i]! >= avail[i]! && touch[i]! <= avail[i + s.window]!, `touch[${i}]`);
          }
        }
      }
    }
    // pt/sl on the same bar needs σ = 0 (R = 0 ≥ 0 and ≤ −0): flat 2-bar vol windows of the capture give it,
    // and a broken profit-take-first rule fails the comparison there
    const x = prices.get("close")!;
    const { label: ref } = refTripleBarrier(x, avail, 30, 1.5, 3, 2);
    const { label: broken } = refTripleBarrier(x, avail, 30, 1.5, 3, 2, true);
    const got = col(
      label([
        {
          name: "tb",
          type: "triple_barrier",
          column: "close",
          window: 30,
          profit_take: 1.5,
          stop_loss: 3,
          vol_window: 2,
        },
      ]),
      "tb",
    );
    assertExact("tb", got, ref);
    assert.throws(() => assertExact("pt-first", got, broken), /pt-first\[/);
  });

  it("standardized forward return: fit equals a naive purged fit and ignores test-split values", () => {
    const x = prices.get("close")!;
    const trainRows = Math.floor(n * 0.7);
    for (const [w, rt] of [
      [5, "simple"],
      [20, "log"],
    ] as const) {
      const s: LabelSpecInput = {
        name: "z",
        type: "forward_return",
        column: "close",
        window: w,
        return_type: rt,
        normalization: "standardized",
      };
      const res = label([s], trainRows);
      const ref = refFit(x, w, rt === "log", trainRows);
      const fit = res.fits[0]!;
      assert.equal(res.fits.length, 1);
      assert.equal(fit.label, "z");
      assert.equal(fit.fitRows, ref.rows);
      assert.equal(fit.fitRows, trainRows - w);
      assert.ok(
        Math.abs(fit.mean - ref.mean) <= 1e-15 + 1e-9 * Math.abs(ref.mean),
        `mean ${fit.mean} ${ref.mean}`,
      );
      assert.ok(Math.abs(fit.std - ref.std) <= 1e-12 * ref.std, `std ${fit.std} ${ref.std}`);
      const z = refForward(x, w, rt === "log").map((r) => (r - ref.mean) / ref.std);
      assertClose("z", col(res, "z"), z, 1e-9);

      // change every test-split price: the fit must not move (bitwise), nor the z of purged training rows
      const changed = x.slice();
      for (let i = trainRows; i < n; i++) changed[i] = x[i]! * (1 + 0.01 * Math.sin(i));
      const res2 = computeLabels(
        { n, columns: new Map([["close", changed]]), availableAtUs: avail },
        [spec(s)],
        { trainRows },
      );
      assert.deepEqual(res2.fits, res.fits);
      assertExact(
        "z (train rows)",
        col(res2, "z").subarray(0, trainRows - w),
        col(res, "z").subarray(0, trainRows - w),
      );
      // a fit without purging would see those values (the check can fail)
      assert.notEqual(
        refFit(changed, w, rt === "log", trainRows, false).mean,
        refFit(x, w, rt === "log", trainRows, false).mean,
      );
    }
  });
});

describe("labels on hand-made vectors", () => {
  it("forward_return: nulls, x ≤ 0, data end; simple and log", () => {
    const x = Float64Array.from([100, 110, N, 121, 0, 50, 55]);
    const res = run(x, [
      { name: "s1", type: "forward_return", column: "x", window: 1 },
      { name: "l1", type: "forward_return", column: "x", window: 1, return_type: "log" },
      { name: "s2", type: "forward_return", column: "x", window: 2 },
    ]);
    assertClose("s1", col(res, "s1"), [0.1, N, N, -1, N, 0.1, N]);
    assertClose("l1", col(res, "l1"), [Math.log(1.1), N, N, N, N, Math.log(1.1), N]);
    assertClose("s2", col(res, "s2"), [N, 0.1, N, 50 / 121 - 1, N, N, N]);
    assert.deepEqual(res.fits, []);
  });

  it("direction: strict '>' at the threshold (100 bps vs a +1% move is 0), nulls, data end", () => {
    const x = Float64Array.from([100, 100, 101, 99, N, 100]);
    assertExact("d0", col(run(x, [{ name: "d", type: "direction", column: "x", window: 1 }]), "d"), [
      0,
      1,
      0,
      N,
      N,
      N,
    ]);
    const y = Float64Array.from([100, 101, 102]);
    const at = (bps: number) =>
      col(run(y, [{ name: "d", type: "direction", column: "x", window: 1, threshold_bps: bps }]), "d");
    assertExact("tie", at(100), [0, 0, N]); // +1% is not > 1%; +0.990099% is not either
    assertExact("below", at(99), [1, 1, N]); // both > 0.99%
  });

  it("three_class: ties at ±θ are 0", () => {
    const x = Float64Array.from([100, 101, 100, 98.99, 100, 100, 99]);
    const t = col(
      run(x, [{ name: "t", type: "three_class", column: "x", window: 1, threshold_bps: 100 }]),
      "t",
    );
    // +1% (tie) → 0; −0.99% → 0; −1.01% → −1; +1.02% → 1; 0 → 0; −1% (tie) → 0; end → null
    assertExact("t", t, [0, 0, -1, 1, 0, 0, N]);
  });

  it("triple_barrier: first touch, vertical barrier, nulls in the horizon, σ warm-up and gaps, data end", () => {
    const x = Float64Array.from([100, 101, 100, 101.5, 102, 98, 98.5, 98.4, N, 99, 99, 99.5, 100]);
    const avail = Float64Array.from(x, (_, i) => 10 * (i + 1));
    const s = {
      type: "triple_barrier" as const,
      column: "x",
      window: 2,
      profit_take: 1,
      stop_loss: 1,
      vol_window: 2,
    };
    const res = run(x, [{ name: "tb", ...s }], x.length, avail);
    // hand-checked (σ = |lr₁ − lr₂|/√2 for two log returns):
    // i=2 σ≈0.01407, R(3)=+1.5% → +1 @ row 3; i=3 σ≈0.01756, R(4)=+0.49%, R(5)=−3.45% → −1 @ 5;
    // i=4 σ≈0.00705, R(5)=−3.9% → −1 @ 5; i=5 σ≈0.0318, R=+0.51%, +0.41% → 0 @ vertical row 7;
    // i=6 σ≈0.0319, R(7)=−0.1%, x8 null → 0 @ row 8; i=7 σ≈0.00432, x8 null, R(9)=+0.61% → +1 @ 9;
    // i=8 x null; i=9,10 σ null (returns around the null x8); i ≥ 11 horizon past the end
    assertExact("tb", col(res, "tb"), [N, N, 1, -1, -1, 0, 0, 1, N, N, N, N, N]);
    assertExact("touch", col(res, "tb_touch_us"), [N, N, 40, 60, 60, 80, 90, 100, N, N, N, N, N]);
    const ref = refTripleBarrier(x, avail, 2, 1, 1, 2);
    assertExact("ref", ref.label, [N, N, 1, -1, -1, 0, 0, 1, N, N, N, N, N]);
  });

  it("triple_barrier: σ = 0 gives a tie at both barriers (−1, conservative); a broken pt-first rule fails", () => {
    const x = Float64Array.from([100, 100, 100, 100, 100.1, 99.9, 100]);
    const avail = Float64Array.from(x, (_, i) => i);
    const res = run(
      x,
      [
        {
          name: "tb",
          type: "triple_barrier",
          column: "x",
          window: 1,
          profit_take: 2,
          stop_loss: 2,
          vol_window: 2,
        },
      ],
      x.length,
      avail,
    );
    // i=2: σ=0, R=0 ≥ 0 and ≤ 0 → −1; i=3: σ=0, R=+0.1% → +1; i=4: σ≈0.000707, R=−0.2% ≤ −2σ → −1;
    // i=5: σ≈0.00212, R=+0.1% < 2σ → 0 at the vertical barrier; i=6: past the end
    const expected = [N, N, -1, 1, -1, 0, N];
    assertExact("tb", col(res, "tb"), expected);
    assertExact("touch", col(res, "tb_touch_us"), [N, N, 3, 4, 5, 6, N]);
    const broken = refTripleBarrier(x, avail, 1, 2, 2, 2, true).label;
    assert.throws(() => assertExact("pt-first", broken, expected), /pt-first\[2\]/);
  });

  it("standardization: hand-checked purged fit", () => {
    // w=1, trainRows=4: fit rows i with i + 1 < 4 → i ∈ {0,1,2}: returns 0.1, −0.1, 0.1 (x: 100,110,99,108.9)
    const x = Float64Array.from([100, 110, 99, 108.9, 1e6, 5]);
    const res = run(
      x,
      [{ name: "z", type: "forward_return", column: "x", window: 1, normalization: "standardized" }],
      4,
    );
    const fit = res.fits[0]!;
    assert.equal(fit.fitRows, 3);
    assert.ok(Math.abs(fit.mean - 0.1 / 3) < 1e-15, `mean ${fit.mean}`);
    // deviations 0.0667, −0.1333, 0.0667: Σd² = 0.02667, /2 → var 0.013333, std 0.11547
    assert.ok(Math.abs(fit.std - Math.sqrt(0.04 / 3)) < 1e-15, `std ${fit.std}`);
    assertClose(
      "z",
      col(res, "z"),
      [0.1, -0.1, 0.1, 1e6 / 108.9 - 1, 5 / 1e6 - 1, N].map((r) => (r - 0.1 / 3) / Math.sqrt(0.04 / 3)),
      1e-12,
    );
  });

  it("ConfigError: missing column, unfittable standardization, invalid specs, duplicates", () => {
    const x = Float64Array.from([100, 101, 102, 103, 104]);
    assert.throws(
      () => run(x, [{ name: "fr", type: "forward_return", column: "nope", window: 1 }]),
      (e: unknown) => e instanceof ConfigError && /'fr'/.test(e.message) && /'nope'/.test(e.message),
    );
    // trainRows 2, w 1 → one fit row
    assert.throws(
      () =>
        run(
          x,
          [{ name: "z", type: "forward_return", column: "x", window: 1, normalization: "standardized" }],
          2,
        ),
      (e: unknown) => e instanceof ConfigError && /'z'/.test(e.message),
    );
    // constant prices → std 0
    assert.throws(
      () =>
        run(Float64Array.from([5, 5, 5, 5, 5]), [
          { name: "zc", type: "forward_return", column: "x", window: 1, normalization: "standardized" },
        ]),
      (e: unknown) => e instanceof ConfigError && /'zc'/.test(e.message) && /std/.test(e.message),
    );
    const bad: unknown[] = [
      { name: "a", type: "forward_return", column: "x", window: 0 },
      { name: "a", type: "forward_return", column: "x", window: 1.5 },
      { name: "a", type: "forward_return", column: "x", window: 1, extra: 1 },
      { name: "a", type: "three_class", column: "x", window: 1 },
      { name: "a", type: "three_class", column: "x", window: 1, threshold_bps: 0 },
      {
        name: "a",
        type: "triple_barrier",
        column: "x",
        window: 1,
        profit_take: 1,
        stop_loss: 1,
        vol_window: 1,
      },
      {
        name: "a",
        type: "triple_barrier",
        column: "x",
        window: 1,
        profit_take: 0,
        stop_loss: 1,
        vol_window: 2,
      },
      { name: "a", type: "forwardReturn", column: "x", window: 1 },
      { name: "", type: "direction", column: "x", window: 1 },
    ];
    for (const b of bad) {
      assert.equal(labelSpecSchema.safeParse(b).success, false, JSON.stringify(b));
      assert.throws(() => parseLabelSpec(b), ConfigError);
      // computeLabels re-validates specs that bypassed the schema
      const input = { n: x.length, columns: new Map([["x", x]]), availableAtUs: x };
      assert.throws(() => computeLabels(input, [b as LabelSpec], { trainRows: 5 }), ConfigError);
    }
    assert.throws(
      () =>
        run(x, [
          { name: "d", type: "direction", column: "x", window: 1 },
          { name: "d", type: "direction", column: "x", window: 2 },
        ]),
      ConfigError,
    );
    assert.throws(() => run(x, [{ name: "x", type: "direction", column: "x", window: 1 }]), ConfigError);
    assert.throws(() => run(x, [], 6), ConfigError);
    assert.deepEqual(
      labelOutputNames(
        spec({
          name: "tb",
          type: "triple_barrier",
          column: "x",
          window: 1,
          profit_take: 1,
          stop_loss: 1,
          vol_window: 2,
        }),
      ),
      ["tb", "tb_touch_us"],
    );
    assert.deepEqual(labelOutputNames(spec({ name: "fr", type: "forward_return", column: "x", window: 1 })), [
      "fr",
    ]);
    assert.deepEqual(spec({ name: "fr", type: "forward_return", column: "x", window: 1 }), {
      name: "fr",
      type: "forward_return",
      column: "x",
      window: 1,
      return_type: "simple",
      normalization: "none",
    });
  });
});

// ---------------------------------------------------------------------------------------------------
// property: appending future rows never changes a complete label; rows with i + w ≥ n are null

type LabelFn = (
  x: Float64Array,
  avail: Float64Array,
  specs: LabelSpec[],
  trainRows: number,
) => Map<string, Float64Array>;

const realFn: LabelFn = (x, avail, specs, trainRows) =>
  computeLabels({ n: x.length, columns: new Map([["x", x]]), availableAtUs: avail }, specs, { trainRows })
    .columns;

/** A broken implementation: forward returns that truncate the horizon at the data end. */
const truncatingFn: LabelFn = (x, avail, specs, trainRows) => {
  const out = realFn(x, avail, specs, trainRows);
  for (const s of specs) {
    if (s.type !== "forward_return" || s.normalization !== "none") continue;
    const c = out.get(s.name)!;
    for (let i = Math.max(0, x.length - s.window!); i < x.length; i++) c[i] = x[x.length - 1]! / x[i]! - 1;
  }
  return out;
};

/** Returns a description of the first violation, or null. */
function appendViolation(
  fn: LabelFn,
  x: Float64Array,
  extra: Float64Array,
  specs: LabelSpec[],
  trainRows: number,
): string | null {
  const n = x.length;
  const all = Float64Array.from([...x, ...extra]);
  const avail = Float64Array.from(all, (_, i) => 1_000_000 + 7 * i);
  let a: Map<string, Float64Array>;
  let b: Map<string, Float64Array>;
  try {
    a = fn(x, avail.subarray(0, n), specs, trainRows);
  } catch (e) {
    // an unfittable standardization must stay unfittable: the fit rows do not change
    try {
      fn(all, avail, specs, trainRows);
    } catch {
      return e instanceof ConfigError ? null : `unexpected ${String(e)}`;
    }
    return "fit failed on the short frame but not on the extended one";
  }
  b = fn(all, avail, specs, trainRows);
  for (const s of specs) {
    for (const name of labelOutputNames(s)) {
      const ca = a.get(name)!;
      const cb = b.get(name)!;
      for (let i = 0; i < n; i++) {
        if (i + s.window! >= n) {
          if (!Number.isNaN(ca[i]!)) return `${name}[${i}] = ${ca[i]} although i + ${s.window} ≥ n = ${n}`;
        } else if (!Object.is(ca[i], cb[i])) return `${name}[${i}]: ${ca[i]} → ${cb[i]} after appending`;
      }
    }
  }
  return null;
}

const priceArb = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 1, max: 200 }).map((v) => 1000 + v) },
  { weight: 1, arbitrary: fc.constant(Number.NaN) },
  { weight: 1, arbitrary: fc.double({ min: -5, max: 5, noNaN: true }) },
);
const windowArb = fc.integer({ min: 1, max: 6 });
const specArb: fc.Arbitrary<LabelSpec> = fc.oneof(
  fc
    .record({
      window: windowArb,
      return_type: fc.constantFrom("simple" as const, "log" as const),
      normalization: fc.constantFrom("none" as const, "standardized" as const),
    })
    .map((r) => spec({ name: "fr", type: "forward_return", column: "x", ...r })),
  fc
    .record({ window: windowArb, threshold_bps: fc.double({ min: -50, max: 50, noNaN: true }) })
    .map((r) => spec({ name: "dir", type: "direction", column: "x", ...r })),
  fc
    .record({ window: windowArb, threshold_bps: fc.double({ min: 0.1, max: 200, noNaN: true }) })
    .map((r) => spec({ name: "tc", type: "three_class", column: "x", ...r })),
  fc
    .record({
      window: windowArb,
      profit_take: fc.double({ min: 0.1, max: 3, noNaN: true }),
      stop_loss: fc.double({ min: 0.1, max: 3, noNaN: true }),
      vol_window: fc.integer({ min: 2, max: 6 }),
    })
    .map((r) => spec({ name: "tb", type: "triple_barrier", column: "x", ...r })),
);

const propertyArb = fc
  .record({
    x: fc.array(priceArb, { minLength: 1, maxLength: 40 }),
    extra: fc.array(priceArb, { minLength: 1, maxLength: 15 }),
    specs: fc.uniqueArray(specArb, { minLength: 1, maxLength: 4, selector: (s) => s.name }),
    trainFrac: fc.double({ min: 0, max: 1, noNaN: true }),
  })
  .map((r) => ({ ...r, trainRows: Math.floor(r.trainFrac * r.x.length) }));

describe("labels property (fast-check, seed 42)", () => {
  it("appending rows after row i + window never changes label i; rows with i + w ≥ n are null", () => {
    fc.assert(
      fc.property(propertyArb, ({ x, extra, specs, trainRows }) => {
        const v = appendViolation(realFn, Float64Array.from(x), Float64Array.from(extra), specs, trainRows);
        assert.equal(v, null);
      }),
      { seed: 42, numRuns: 500 },
    );
  });

  it("the property catches a broken implementation that truncates the horizon at the data end", () => {
    const x = Float64Array.from([100, 101, 102, 103]);
    const s = [spec({ name: "fr", type: "forward_return", column: "x", window: 2 })];
    assert.equal(appendViolation(realFn, x, Float64Array.from([104]), s, 4), null);
    assert.match(
      appendViolation(truncatingFn, x, Float64Array.from([104]), s, 4) ?? "",
      /although i \+ 2 ≥ n/,
    );
  });
});
