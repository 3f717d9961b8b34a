/**
 * Evaluation metrics of pipeline v2 against independent references.
 *
 * - rank_ic: jStat.spearmancoeff (jstat's own average ranks + Pearson) and a p-value from
 *   jStat.studentt.cdf (jstat's incomplete-beta t CDF, not @stdlib) — on real feature/label columns of a
 *   usdm2024 volume-bar frame (5 BTC) with labels from computeLabels, and on seeded tie-heavy vectors
 *   (fast-check, seed 42). A Spearman with ordinal (non-averaged) ranks is shown to fail the comparison.
 * - quintiles, redundancy: naive recomputation here (O(n²) ranks counted from scratch, bucket statistics
 *   and correlations from raw sums per bucket / pair).
 * - label_distribution: nodejs-polars (`quantile(q, "linear")`, `std` (ddof 1), `valueCounts`, mean, min,
 *   max). Quantile definition: linear interpolation between closest ranks, h = (m − 1)·q (Hyndman & Fan
 *   type 7 = numpy/Polars "linear"); Polars' "lower" is shown to differ, so the check can fail.
 * - null_ratio: Polars' null count of the frame and a hand vector with ±Infinity; row_count: frame height.
 *
 * Every assert.ok carries a message: without one, a failing node:assert re-parses the tsx-transpiled
 * (one-line) source to build a message, which can take minutes instead of failing at once.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import jStat from "jstat";
import pl from "nodejs-polars";
import { ConfigError } from "../../src/core/errors.js";
import {
  type EvaluationInput,
  evaluateMetrics,
  type LabelDistributionResult,
  type MetricResult,
  type MetricSpecInput,
  metricSpecSchema,
  type QuintilesResult,
  type RankIcResult,
  type RedundancyResult,
  type RedundantPair,
} from "../../src/pipeline/evaluation.js";
import { computeLabels, labelSpecSchema } from "../../src/pipeline/labels.js";
import { columnValues } from "../helpers/engine.js";
import { volumeBarAggregationFrame } from "../helpers/frames.js";
import { captureLake } from "../helpers/lake.js";

const N = Number.NaN;

function evalOne<T extends MetricResult>(input: EvaluationInput, spec: MetricSpecInput): T {
  const [r] = evaluateMetrics(input, [metricSpecSchema.parse(spec)]);
  assert.ok(r, "one result");
  // results are JSON-able: a JSON round trip changes nothing
  assert.deepEqual(JSON.parse(JSON.stringify(r)), r);
  return r as T;
}

function frameOf(
  cols: Record<string, ArrayLike<number>>,
  features: string[],
  labels: string[],
): EvaluationInput {
  const columns = new Map(Object.entries(cols).map(([k, v]) => [k, Float64Array.from(v)]));
  const n = columns.values().next().value?.length ?? 0;
  return { n, columns, features, labels };
}

/** Pairs of values where both are finite. */
function paired(x: ArrayLike<number>, y: ArrayLike<number>): [number[], number[]] {
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < x.length; i++) {
    if (Number.isFinite(x[i]!) && Number.isFinite(y[i]!)) {
      a.push(x[i]!);
      b.push(y[i]!);
    }
  }
  return [a, b];
}

const close = (a: number, e: number, abs: number, rel: number) => Math.abs(a - e) <= abs + rel * Math.abs(e);

/** rank_ic entry vs jstat: ic (1e-12), n, t from jstat's ic, p = 2·jStat.studentt.cdf(−|t|, n − 2). */
function checkIcAgainstJstat(
  tag: string,
  entry: RankIcResult["features"][number],
  x: ArrayLike<number>,
  y: ArrayLike<number>,
) {
  const [a, b] = paired(x, y);
  assert.equal(entry.n, a.length, `${tag} n`);
  const rho = jStat.spearmancoeff(a, b);
  assert.ok(entry.ic !== null, `${tag} ic null: ${entry.reason}`);
  assert.ok(close(entry.ic, rho, 1e-12, 0), `${tag} ic ${entry.ic} vs jstat ${rho}`);
  const df = a.length - 2;
  if (Math.abs(rho) < 1 - 1e-12) {
    const t = rho * Math.sqrt(df / (1 - rho * rho));
    const p = 2 * jStat.studentt.cdf(-Math.abs(t), df);
    assert.ok(
      entry.t_stat !== null && close(entry.t_stat, t, 1e-9, 1e-9),
      `${tag} t ${entry.t_stat} vs ${t}`,
    );
    assert.ok(
      entry.p_value !== null && close(entry.p_value, p, 1e-14, 1e-7),
      `${tag} p ${entry.p_value} vs ${p}`,
    );
  }
}

// ---------------------------------------------------------------------------------------------------
// naive references for quintiles and redundancy

/** Average rank from scratch: #smaller + (#equal + 1)/2 (O(n²)). */
function naiveAverageRanks(v: number[]): number[] {
  return v.map((a) => {
    let less = 0;
    let eq = 0;
    for (const b of v) {
      if (b < a) less++;
      else if (b === a) eq++;
    }
    return less + (eq + 1) / 2;
  });
}

function naivePearson(a: number[], b: number[]): number {
  const n = a.length;
  let sa = 0;
  let sb = 0;
  for (let i = 0; i < n; i++) {
    sa += a[i]!;
    sb += b[i]!;
  }
  const ma = sa / n;
  const mb = sb / n;
  let cov = 0;
  let va = 0;
  let vb = 0;
  for (let i = 0; i < n; i++) {
    cov += (a[i]! - ma) * (b[i]! - mb);
    va += (a[i]! - ma) ** 2;
    vb += (b[i]! - mb) ** 2;
  }
  return cov / Math.sqrt(va) / Math.sqrt(vb);
}

function naiveCorr(x: ArrayLike<number>, y: ArrayLike<number>, method: "pearson" | "spearman"): number {
  const [a, b] = paired(x, y);
  return method === "pearson" ? naivePearson(a, b) : naivePearson(naiveAverageRanks(a), naiveAverageRanks(b));
}

interface NaiveBucket {
  bucket: number;
  feature_min: number | null;
  feature_max: number | null;
  count: number;
  label_mean: number | null;
  label_std: number | null;
}

/** Buckets by 0-based rank k (ties by row order, or reversed row order when `reverseTies` — broken). */
function naiveQuintiles(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  B: number,
  reverseTies = false,
): NaiveBucket[] {
  const rows: number[] = [];
  for (let i = 0; i < x.length; i++) if (Number.isFinite(x[i]!) && Number.isFinite(y[i]!)) rows.push(i);
  const m = rows.length;
  const members: number[][] = Array.from({ length: B }, () => []);
  for (const i of rows) {
    let k = 0;
    for (const j of rows) {
      if (x[j]! < x[i]! || (x[j] === x[i] && (reverseTies ? j > i : j < i))) k++;
    }
    members[Math.floor((k * B) / m)]!.push(i);
  }
  return members.map((rs, bucket) => {
    if (rs.length === 0) {
      return { bucket, feature_min: null, feature_max: null, count: 0, label_mean: null, label_std: null };
    }
    const ys = rs.map((i) => y[i]!);
    const mean = ys.reduce((s, v) => s + v, 0) / ys.length;
    const std =
      ys.length > 1 ? Math.sqrt(ys.reduce((s, v) => s + (v - mean) ** 2, 0) / (ys.length - 1)) : null;
    return {
      bucket,
      feature_min: Math.min(...rs.map((i) => x[i]!)),
      feature_max: Math.max(...rs.map((i) => x[i]!)),
      count: rs.length,
      label_mean: mean,
      label_std: std,
    };
  });
}

function assertBucketsEqual(tag: string, got: readonly NaiveBucket[], exp: readonly NaiveBucket[]): void {
  assert.equal(got.length, exp.length, `${tag}: bucket count`);
  for (let b = 0; b < exp.length; b++) {
    const g = got[b]!;
    const e = exp[b]!;
    assert.equal(g.bucket, e.bucket);
    assert.equal(g.count, e.count, `${tag} bucket ${b} count`);
    assert.equal(g.feature_min, e.feature_min, `${tag} bucket ${b} min`);
    assert.equal(g.feature_max, e.feature_max, `${tag} bucket ${b} max`);
    for (const k of ["label_mean", "label_std"] as const) {
      const gv = g[k];
      const ev = e[k];
      if (ev === null || gv === null) assert.equal(gv, ev, `${tag} bucket ${b} ${k}`);
      else assert.ok(close(gv, ev, 1e-15, 1e-10), `${tag} bucket ${b} ${k}: ${gv} vs ${ev}`);
    }
  }
}

function naiveRedundancy(
  cols: ReadonlyMap<string, Float64Array>,
  features: string[],
  threshold: number,
  method: "pearson" | "spearman",
): { a: string; b: string; corr: number }[] {
  const out: { a: string; b: string; corr: number }[] = [];
  for (let i = 0; i < features.length; i++) {
    for (let j = i + 1; j < features.length; j++) {
      const c = naiveCorr(cols.get(features[i]!)!, cols.get(features[j]!)!, method);
      if (Math.abs(c) > threshold) out.push({ a: features[i]!, b: features[j]!, corr: c });
    }
  }
  return out.sort((p, q) => Math.abs(q.corr) - Math.abs(p.corr));
}

function assertPairsEqual(
  tag: string,
  got: readonly RedundantPair[],
  exp: readonly { a: string; b: string; corr: number }[],
): void {
  assert.deepEqual(
    got.map((p) => `${p.a}|${p.b}`).sort(),
    exp.map((p) => `${p.a}|${p.b}`).sort(),
    `${tag}: pair set`,
  );
  for (const e of exp) {
    const g = got.find((p) => p.a === e.a && p.b === e.b)!;
    assert.ok(close(g.corr, e.corr, 1e-12, 0), `${tag} ${e.a}|${e.b}: ${g.corr} vs ${e.corr}`);
  }
  for (let k = 1; k < got.length; k++)
    assert.ok(Math.abs(got[k - 1]!.corr) >= Math.abs(got[k]!.corr), `${tag} order`);
}

// ---------------------------------------------------------------------------------------------------

const FEATURES = [
  "open",
  "close",
  "vwap",
  "volume",
  "trade_count",
  "buy_volume",
  "sell_volume",
  "flow_imbalance",
  "avg_trade_size",
  "spread_bps",
  "book_imbalance_top5",
  "realized_vol",
  "vwap_reversion",
  "ret_1bar",
  "ret_5bar",
  "trade_count_accel",
  "vol_zscore",
  "size_ratio",
  "hl_range_pct",
  "bar_duration_seconds",
];
const LABELS = ["fwd_ret_5", "fwd_log_20", "dir_5", "cls_5", "tb", "tb_touch_us"];

describe("evaluation on the usdm2024 capture (volume bars of 5 BTC)", () => {
  let cleanup: () => void = () => {};
  let frame: pl.DataFrame;
  let input: EvaluationInput;

  before(async () => {
    const l = await captureLake(["usdm2024"]);
    cleanup = l.cleanup;
    frame = await volumeBarAggregationFrame(l.lake);
    const n = frame.height;
    const columns = new Map<string, Float64Array>(FEATURES.map((f) => [f, columnValues(frame, f)]));
    const labels = computeLabels(
      { n, columns, availableAtUs: columnValues(frame, "available_at_us") },
      [
        { name: "fwd_ret_5", type: "forward_return", column: "close", window: 5 },
        { name: "fwd_log_20", type: "forward_return", column: "vwap", window: 20, return_type: "log" },
        { name: "dir_5", type: "direction", column: "close", window: 5 },
        { name: "cls_5", type: "three_class", column: "close", window: 5, threshold_bps: 1 },
        {
          name: "tb",
          type: "triple_barrier",
          column: "close",
          window: 10,
          profit_take: 1,
          stop_loss: 1,
          vol_window: 20,
        },
      ].map((s) => labelSpecSchema.parse(s)),
      { trainRows: n },
    );
    for (const [k, v] of labels.columns) columns.set(k, v);
    input = { n, columns, features: FEATURES, labels: LABELS };
  });
  after(() => cleanup());

  it("row_count and null_ratio match the frame (Polars null counts)", () => {
    assert.equal(evalOne<MetricResult & { value: number }>(input, { type: "row_count" }).value, frame.height);
    const r = evalOne<MetricResult & { values: Record<string, number>; inf_ratio: Record<string, number> }>(
      input,
      {
        type: "null_ratio",
      },
    );
    assert.deepEqual(Object.keys(r.values), [...FEATURES, ...LABELS]);
    const nulls = frame
      .select(...FEATURES.map((f) => pl.col(f)))
      .nullCount()
      .toRecords()[0]!;
    for (const f of FEATURES) {
      assert.equal(r.values[f], Number(nulls[f]) / frame.height, f);
      assert.equal(r.inf_ratio[f], 0, f);
    }
    const lab = pl
      .DataFrame(LABELS.map((c) => pl.Series(c, input.columns.get(c)!)))
      .select(...LABELS.map((c) => pl.col(c).fillNan(null)));
    const ln = lab.nullCount().toRecords()[0]!;
    for (const c of LABELS) assert.equal(r.values[c], Number(ln[c]) / frame.height, c);
    assert.ok(
      Object.values(r.values).some((v) => v > 0),
      "some nulls",
    );
  });

  it("rank_ic equals jstat (spearmancoeff, studentt.cdf) for every feature against each label", () => {
    for (const label of ["fwd_ret_5", "fwd_log_20", "cls_5", "tb", "dir_5"]) {
      const r = evalOne<RankIcResult>(input, { type: "rank_ic", label });
      assert.equal(r.label, label);
      assert.deepEqual(
        r.features.map((e) => e.feature),
        FEATURES,
      );
      for (const e of r.features)
        checkIcAgainstJstat(
          `${label}/${e.feature}`,
          e,
          input.columns.get(e.feature)!,
          input.columns.get(label)!,
        );
      // the statistics are informative: both signs and a range of p-values occur
      assert.ok(r.features.some((e) => (e.ic ?? 0) > 0) && r.features.some((e) => (e.ic ?? 0) < 0), label);
    }
    // a features subset and min_rows above the paired count
    const sub = evalOne<RankIcResult>(input, {
      type: "rank_ic",
      label: "fwd_ret_5",
      features: ["ret_5bar", "spread_bps"],
      min_rows: 100_000,
    });
    for (const e of sub.features) {
      assert.equal(e.ic, null);
      assert.match(e.reason ?? "", /< min_rows=100000/);
    }
  });

  it("quintiles equal a naive rank-bucket recomputation (5, 3 and 10 buckets; tie-heavy features)", () => {
    for (const buckets of [5, 3, 10]) {
      for (const label of ["fwd_ret_5", "tb"]) {
        const r = evalOne<QuintilesResult>(input, { type: "quintiles", label, buckets });
        assert.equal(r.features.length, FEATURES.length);
        for (const f of r.features) {
          const x = input.columns.get(f.feature)!;
          const y = input.columns.get(label)!;
          const exp = naiveQuintiles(x, y, buckets);
          assertBucketsEqual(`${label}/${f.feature}/${buckets}`, f.buckets, exp);
          assert.equal(f.n, paired(x, y)[0].length);
          const spread = exp[buckets - 1]!.label_mean! - exp[0]!.label_mean!;
          assert.ok(f.spread !== null && close(f.spread, spread, 1e-15, 1e-9), `${f.feature} spread`);
        }
      }
    }
    // ties: trade_count has many equal values; breaking them by reversed row order gives other buckets
    const x = input.columns.get("trade_count")!;
    const y = input.columns.get("fwd_ret_5")!;
    const got = evalOne<QuintilesResult>(input, {
      type: "quintiles",
      label: "fwd_ret_5",
      features: ["trade_count"],
    });
    assert.throws(() =>
      assertBucketsEqual("reversed ties", got.features[0]!.buckets, naiveQuintiles(x, y, 5, true)),
    );
  });

  it("redundancy equals naive pairwise correlations (spearman and pearson; thresholds 0.5 and 0.9)", () => {
    for (const method of ["spearman", "pearson"] as const) {
      for (const threshold of [0.5, 0.9]) {
        const r = evalOne<RedundancyResult>(input, { type: "redundancy", method, threshold });
        const exp = naiveRedundancy(input.columns, FEATURES, threshold, method);
        assertPairsEqual(`${method} ${threshold}`, r.pairs, exp);
        assert.ok(r.pairs.length >= 3, `${method} ${threshold}: ${r.pairs.length} pairs`);
      }
    }
    // default method is spearman with threshold 0.9; the pearson list differs from it (the check can fail)
    const def = evalOne<RedundancyResult>(input, { type: "redundancy" });
    assert.equal(def.method, "spearman");
    assert.equal(def.threshold, 0.9);
    assert.throws(() =>
      assertPairsEqual(
        "pearson as spearman",
        def.pairs,
        naiveRedundancy(input.columns, FEATURES, 0.9, "pearson"),
      ),
    );
  });

  it("label_distribution equals nodejs-polars (linear quantiles, ddof-1 std, valueCounts)", () => {
    for (const column of ["fwd_ret_5", "fwd_log_20", "ret_5bar", "vol_zscore", "trade_count", "spread_bps"]) {
      const r = evalOne<LabelDistributionResult>(input, { type: "label_distribution", column });
      const c = input.columns.get(column)!;
      const s = pl.Series(column, c).filter(pl.Series(Array.from(c, (v) => Number.isFinite(v))));
      assert.equal(r.count, s.length);
      assert.equal(r.nulls, c.length - s.length);
      assert.equal(r.infs, 0);
      assert.equal(r.classes, undefined, `${column} is continuous`);
      const stats = pl
        .DataFrame([s])
        .select(
          pl.col(column).mean().alias("mean"),
          pl.col(column).std().alias("std"),
          pl.col(column).min().alias("min"),
          pl.col(column).max().alias("max"),
        )
        .toRecords()[0]!;
      for (const k of ["mean", "std", "min", "max"] as const) {
        assert.ok(close(r[k]!, Number(stats[k]), 1e-15, 1e-10), `${column} ${k}: ${r[k]} vs ${stats[k]}`);
      }
      for (const [k, q] of [
        ["p01", 0.01],
        ["p05", 0.05],
        ["p25", 0.25],
        ["p50", 0.5],
        ["p75", 0.75],
        ["p95", 0.95],
        ["p99", 0.99],
      ] as const) {
        const ref = s.quantile(q, "linear");
        assert.ok(close(r[k]!, ref, 1e-15, 1e-12), `${column} ${k}: ${r[k]} vs polars ${ref}`);
      }
      if (column === "fwd_ret_5") {
        // another quantile definition would fail the check
        assert.ok(!close(r.p05!, s.quantile(0.05, "lower"), 1e-15, 1e-12), "lower differs");
      }
    }
    for (const column of ["dir_5", "cls_5", "tb"]) {
      const r = evalOne<LabelDistributionResult>(input, { type: "label_distribution", column });
      const c = input.columns.get(column)!;
      const s = pl.Series(column, c).filter(pl.Series(Array.from(c, (v) => Number.isFinite(v))));
      const vc = s
        .valueCounts()
        .toRecords()
        .map((row) => ({ value: Number(row[column]), count: Number(row["count"]) }))
        .sort((a, b) => a.value - b.value);
      assert.deepEqual(
        r.classes,
        vc.map((v) => ({ ...v, share: v.count / s.length })),
      );
      assert.equal(r.count, s.length);
      assert.equal(r.mean, undefined);
    }
  });
});

describe("evaluation on hand-made and generated vectors", () => {
  it("rank_ic on tie-heavy vectors equals jstat (fast-check, seed 42); ordinal ranks fail the same check", () => {
    const vec = fc.array(
      fc.oneof(
        { weight: 6, arbitrary: fc.integer({ min: 0, max: 3 }) },
        { weight: 1, arbitrary: fc.constant(N) },
      ),
      {
        minLength: 12,
        maxLength: 80,
      },
    );
    let checked = 0;
    fc.assert(
      fc.property(vec, vec, (xs, ys) => {
        const m = Math.min(xs.length, ys.length);
        const x = xs.slice(0, m);
        const y = ys.slice(0, m);
        const inp = frameOf({ x, y }, ["x"], ["y"]);
        const e = evalOne<RankIcResult>(inp, { type: "rank_ic", label: "y", min_rows: 3 }).features[0]!;
        const [a, b] = paired(x, y);
        const constant = new Set(a).size < 2 || new Set(b).size < 2;
        if (a.length < 3 || constant) {
          assert.equal(e.ic, null);
          return;
        }
        checkIcAgainstJstat("ties", e, x, y);
        checked++;
      }),
      { seed: 42, numRuns: 300 },
    );
    assert.ok(checked > 250, `${checked} vectors compared`);
    // a broken Spearman with ordinal ranks (ties not averaged) disagrees with jstat on tied data
    const x = [0, 0, 1, 1, 1, 2, 3, 3, 0, 2, 1, 3];
    const y = [1, 0, 0, 2, 1, 1, 3, 2, 0, 0, 1, 3];
    const ordinal = (v: number[]) => {
      const idx = v.map((_, i) => i).sort((p, q) => v[p]! - v[q]! || p - q);
      const r = new Array<number>(v.length);
      idx.forEach((i, k) => {
        r[i] = k + 1;
      });
      return r;
    };
    const broken = naivePearson(ordinal(x), ordinal(y));
    assert.ok(!close(broken, jStat.spearmancoeff(x, y), 1e-12, 0), `ordinal ${broken}`);
    const e = evalOne<RankIcResult>(frameOf({ x, y }, ["x"], ["y"]), { type: "rank_ic", label: "y" })
      .features[0]!;
    checkIcAgainstJstat("hand", e, x, y);
  });

  it("rank_ic edge cases: |ic| = 1 → p 0, constant → null, n < min_rows → null; p hand-checked", () => {
    const inp = frameOf(
      {
        y: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, N, 12],
        up: [10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 5, N],
        down: [9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 5, -1],
        flat: [3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3],
        few: [1, 2, N, N, N, N, N, N, N, N, N, N],
        half: [1, 2, 6, 4, 3, 5, N, N, N, N, N, N],
      },
      ["up", "down", "flat", "few"],
      ["y"],
    );
    const r = evalOne<RankIcResult>(inp, {
      type: "rank_ic",
      label: "y",
      features: ["up", "down", "flat", "few"],
    });
    assert.deepEqual(r.features[0], { feature: "up", ic: 1, n: 10, t_stat: null, p_value: 0 });
    assert.deepEqual(r.features[1], { feature: "down", ic: -1, n: 11, t_stat: null, p_value: 0 });
    assert.equal(r.features[2]!.ic, null);
    assert.match(r.features[2]!.reason!, /constant/);
    assert.deepEqual(r.features[3], {
      feature: "few",
      ic: null,
      n: 2,
      t_stat: null,
      p_value: null,
      reason: "n=2 < min_rows=10",
    });
    const h = evalOne<RankIcResult>(inp, { type: "rank_ic", label: "y", features: ["half"], min_rows: 3 })
      .features[0]!;
    // ranks of half: 1 2 6 4 3 5 vs 1..6: Σd² = 0+0+9+0+4+1 = 14 → ρ = 1 − 6·14/(6·35) = 0.6
    assert.ok(close(h.ic!, 0.6, 1e-15, 0), `ic ${h.ic}`);
    // t = 0.6·sqrt(4/0.64) = 1.5; 4 df closed form F(t) = 1/2 + (3/8)·u·(1 − t²/(12·(1 + t²/4))),
    // u = t/sqrt(1 + t²/4) = 1.2 → F = 0.5 + 0.375·1.2·0.88 = 0.896 → two-sided p = 0.208
    assert.ok(close(h.t_stat!, 1.5, 1e-12, 0), `t ${h.t_stat}`);
    assert.ok(close(h.p_value!, 0.208, 1e-12, 0), `p ${h.p_value}`);
  });

  it("quintiles: hand-checked buckets with ties split by row order, fewer rows than buckets", () => {
    // feature f ties: rows 0..5 f = [2, 1, 2, 1, 3, 3]; label y = row index; 3 buckets of 2 rows
    // sorted (ties by row): r1(1) r3(1) | r0(2) r2(2) | r4(3) r5(3)
    const inp = frameOf({ f: [2, 1, 2, 1, 3, 3, N], y: [0, 1, 2, 3, 4, 5, 6] }, ["f"], ["y"]);
    const q = evalOne<QuintilesResult>(inp, { type: "quintiles", label: "y", buckets: 3 }).features[0]!;
    assert.deepEqual(
      q.buckets.map((b) => [b.count, b.feature_min, b.feature_max, b.label_mean]),
      [
        [2, 1, 1, 2],
        [2, 2, 2, 1],
        [2, 3, 3, 4.5],
      ],
    );
    assert.ok(close(q.buckets[0]!.label_std!, Math.SQRT2, 1e-15, 0), "std");
    assert.equal(q.spread, 2.5);
    // 4 rows in 5 buckets: k·5/4 → buckets 0, 1, 2, 3; bucket 4 empty, spread null
    const few = frameOf({ f: [4, 3, 2, 1], y: [1, 2, 3, 4] }, ["f"], ["y"]);
    const q2 = evalOne<QuintilesResult>(few, { type: "quintiles", label: "y" }).features[0]!;
    assert.deepEqual(
      q2.buckets.map((b) => b.count),
      [1, 1, 1, 1, 0],
    );
    assert.equal(q2.buckets[4]!.label_mean, null);
    assert.equal(q2.spread, null);
    assertBucketsEqual("few", q2.buckets, naiveQuintiles([4, 3, 2, 1], [1, 2, 3, 4], 5));
  });

  it("null_ratio counts ±Infinity separately; label_distribution classes and ±Infinity", () => {
    const inp = frameOf({ a: [N, Infinity, 1, -Infinity, 2], b: [1, 1, 2, 3, N] }, ["a"], ["b"]);
    const nr = evalOne<MetricResult>(inp, { type: "null_ratio" });
    assert.deepEqual(nr, { type: "null_ratio", values: { a: 0.2, b: 0.2 }, inf_ratio: { a: 0.4, b: 0 } });
    const only = evalOne<MetricResult>(inp, { type: "null_ratio", columns: ["b"] });
    assert.deepEqual(only, { type: "null_ratio", values: { b: 0.2 }, inf_ratio: { b: 0 } });
    const ld = evalOne<LabelDistributionResult>(inp, { type: "label_distribution", column: "b" });
    assert.deepEqual(ld, {
      type: "label_distribution",
      column: "b",
      count: 4,
      nulls: 1,
      infs: 0,
      classes: [
        { value: 1, count: 2, share: 0.5 },
        { value: 2, count: 1, share: 0.25 },
        { value: 3, count: 1, share: 0.25 },
      ],
    });
    const la = evalOne<LabelDistributionResult>(inp, { type: "label_distribution", column: "a" });
    assert.equal(la.infs, 2);
    assert.deepEqual(la.classes, [
      { value: 1, count: 1, share: 0.5 },
      { value: 2, count: 1, share: 0.5 },
    ]);
    // 10 distinct integers → classes; 11 → continuous; a non-integer → continuous
    const ten = Array.from({ length: 10 }, (_, i) => i - 5);
    const d10 = evalOne<LabelDistributionResult>(frameOf({ c: ten }, [], ["c"]), {
      type: "label_distribution",
      column: "c",
    });
    assert.equal(d10.classes?.length, 10);
    const d11 = evalOne<LabelDistributionResult>(frameOf({ c: [...ten, 99] }, [], ["c"]), {
      type: "label_distribution",
      column: "c",
    });
    assert.equal(d11.classes, undefined);
    // 11 values −5…4, 99: linear p50 = sorted[5] = 0; p25: h = 2.5 → −3 + 0.5·1 = −2.5
    assert.equal(d11.p50, 0);
    assert.equal(d11.p25, -2.5);
    assert.equal(d11.min, -5);
    assert.equal(d11.max, 99);
    const half = evalOne<LabelDistributionResult>(frameOf({ c: [0, 0.5, 1] }, [], ["c"]), {
      type: "label_distribution",
      column: "c",
    });
    assert.equal(half.classes, undefined);
    assert.equal(half.std, 0.5);
  });

  it("redundancy: hand-checked pairs, sign kept, sorted by |corr|", () => {
    const inp = frameOf(
      {
        a: [1, 2, 3, 4, 5],
        b: [2, 4, 6, 8, 11], // spearman 1 with a
        c: [5, 4, 3, 2, 1], // −1 with a
        d: [1, 3, 2, 5, 4], // ρ(a, d) = 1 − 6·4/120 = 0.8
      },
      ["a", "b", "c", "d"],
      [],
    );
    const r = evalOne<RedundancyResult>(inp, { type: "redundancy", threshold: 0.75 });
    // |corr| 1 pairs first in pair order (stable), then the 0.8 ones; d's ranks 1 3 2 5 4 → Σd² = 4
    const expected: [string, string, number][] = [
      ["a", "b", 1],
      ["a", "c", -1],
      ["b", "c", -1],
      ["a", "d", 0.8],
      ["b", "d", 0.8],
      ["c", "d", -0.8],
    ];
    assert.deepEqual(
      r.pairs.map((p) => [p.a, p.b]),
      expected.map(([a, b]) => [a, b]),
    );
    r.pairs.forEach((p, k) => {
      assert.ok(close(p.corr, expected[k]![2], 1e-15, 0), `${p.a}|${p.b} ${p.corr}`);
      assert.equal(p.n, 5);
    });
    // pearson: a–b is not exactly linear (11) → < 1; a–c exactly −1
    const pr = evalOne<RedundancyResult>(inp, { type: "redundancy", threshold: 0.99, method: "pearson" });
    assert.deepEqual(
      pr.pairs.map((p) => [p.a, p.b]),
      [
        ["a", "c"],
        ["a", "b"],
        ["b", "c"],
      ],
    );
  });

  it("ConfigError: unknown columns name the metric and the column; invalid specs", () => {
    const inp = frameOf({ a: [1, 2, 3], y: [1, 2, 3] }, ["a", "ghost"], ["y"]);
    const bad: [MetricSpecInput, RegExp][] = [
      [{ type: "label_distribution", column: "zz" }, /'label_distribution'.*'zz'/],
      [{ type: "rank_ic", label: "zz" }, /'rank_ic'.*'zz'/],
      [{ type: "rank_ic", label: "y" }, /'rank_ic'.*'ghost'/],
      [{ type: "quintiles", label: "y", features: ["nope"] }, /'quintiles'.*'nope'/],
      [{ type: "redundancy", features: ["a", "nope"] }, /'redundancy'.*'nope'/],
      [{ type: "null_ratio", columns: ["nope"] }, /'null_ratio'.*'nope'/],
      [{ type: "null_ratio" }, /'null_ratio'.*'ghost'/],
    ];
    for (const [s, re] of bad) {
      assert.throws(
        () => evaluateMetrics(inp, [metricSpecSchema.parse(s)]),
        (e: unknown) => e instanceof ConfigError && re.test(e.message),
        JSON.stringify(s),
      );
    }
    const invalid: unknown[] = [
      { type: "row_count", extra: 1 },
      { type: "rank_ic", label: "y", min_rows: 2 },
      { type: "quintiles", label: "y", buckets: 1 },
      { type: "redundancy", threshold: 1.5 },
      { type: "redundancy", method: "kendall" },
      { type: "nope" },
    ];
    for (const s of invalid) {
      assert.equal(metricSpecSchema.safeParse(s).success, false, JSON.stringify(s));
      assert.throws(() => evaluateMetrics(inp, [s as never]), ConfigError);
    }
  });
});
