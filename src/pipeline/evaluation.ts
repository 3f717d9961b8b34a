/**
 * Evaluation metrics of pipeline v2 (issue #4, deliverable 5): pure functions over the columns of a
 * finished pipeline frame (n rows, Float64Array columns, NaN = null) that summarise feature quality and
 * feature/label relationships. Every result is a JSON-able object `{ type, ...values }`: non-finite
 * numbers are reported as null (JSON has no NaN/Infinity).
 *
 * Metric types (request JSON keys are snake_case, Pointline "quant research input v2"; the Pointline
 * guide uses the first three):
 * - `row_count` → `{ type, value }`.
 * - `null_ratio { columns? }` → null (NaN) share and, separately, ±Infinity share per column.
 * - `label_distribution { column }` → class counts for a discrete column, else moments and quantiles.
 * - `rank_ic { label, features?, min_rows = 10 }` → Spearman information coefficient per feature with its
 *   t-test.
 * - `quintiles { label, features?, buckets = 5 }` → label mean/std per equal-count feature bucket.
 * - `redundancy { threshold = 0.9, method = "spearman" | "pearson", features? }` → highly correlated
 *   feature pairs.
 *
 * "Rows where both are finite": a row counts for a pair of columns when both values are finite (not null,
 * not ±Infinity).
 *
 * Sources: rank IC — Grinold & Kahn, "Active Portfolio Management" (2nd ed., 2000) ch. 6 and the
 * Alphalens `factor_information_coefficient` (Spearman per period); t = ρ·sqrt((n − 2)/(1 − ρ²)) with n − 2
 * df as in scipy.stats.spearmanr; quantile buckets — Alphalens `quantize_factor` / the quintile spread of
 * Fama–French style sorts; quantiles — Hyndman & Fan (1996) type 7 (numpy/Polars "linear").
 */
import { z } from "zod";
import { ConfigError, issuesText } from "../core/errors.js";
import {
  correlationTTest,
  finiteOrder,
  meanStd,
  pearson,
  quantileSorted,
  spearman,
  spearmanScratch,
} from "./stats.js";

const columnList = z.array(z.string().min(1));

/** zod schema of one metric spec (discriminated on `type`, strict objects; see the module doc). */
export const metricSpecSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("row_count") }).strict(),
  z.object({ type: z.literal("null_ratio"), columns: columnList.optional() }).strict(),
  z.object({ type: z.literal("label_distribution"), column: z.string().min(1) }).strict(),
  z
    .object({
      type: z.literal("rank_ic"),
      label: z.string().min(1),
      features: columnList.optional(),
      min_rows: z.number().int().min(3).default(10),
    })
    .strict(),
  z
    .object({
      type: z.literal("quintiles"),
      label: z.string().min(1),
      features: columnList.optional(),
      buckets: z.number().int().min(2).default(5),
    })
    .strict(),
  z
    .object({
      type: z.literal("redundancy"),
      threshold: z.number().min(0).max(1).default(0.9),
      method: z.enum(["pearson", "spearman"]).default("spearman"),
      features: columnList.optional(),
    })
    .strict(),
]);

/** A validated metric spec (defaults filled). */
export type MetricSpec = z.output<typeof metricSpecSchema>;
/** A metric spec as written in a request (defaults optional). */
export type MetricSpecInput = z.input<typeof metricSpecSchema>;

/** `row_count`: number of frame rows. */
export interface RowCountResult {
  readonly type: "row_count";
  readonly value: number;
}

/** `null_ratio`: per column, share of NaN (null) rows and, separately, of ±Infinity rows (null when n = 0). */
export interface NullRatioResult {
  readonly type: "null_ratio";
  readonly values: Record<string, number | null>;
  readonly inf_ratio: Record<string, number | null>;
}

/** One class of a discrete label. `share` = count / (finite rows). */
export interface LabelClass {
  readonly value: number;
  readonly count: number;
  readonly share: number;
}

/**
 * `label_distribution`. `count` = finite rows, `nulls` = NaN rows, `infs` = ±Infinity rows (excluded from
 * everything else). Discrete columns (every finite value an integer, ≤ 10 distinct values) get `classes`
 * sorted by value; others the sample moments (std ddof 1) and linear-interpolation quantiles.
 */
export interface LabelDistributionResult {
  readonly type: "label_distribution";
  readonly column: string;
  readonly count: number;
  readonly nulls: number;
  readonly infs: number;
  readonly classes?: LabelClass[];
  readonly mean?: number | null;
  readonly std?: number | null;
  readonly min?: number | null;
  readonly p01?: number | null;
  readonly p05?: number | null;
  readonly p25?: number | null;
  readonly p50?: number | null;
  readonly p75?: number | null;
  readonly p95?: number | null;
  readonly p99?: number | null;
  readonly max?: number | null;
}

/** Rank IC of one feature against the label; `reason` says why `ic` is null. */
export interface RankIcEntry {
  readonly feature: string;
  readonly ic: number | null;
  /** Rows where feature and label are both finite. */
  readonly n: number;
  /** null when ic is null or |ic| = 1 (t infinite). */
  readonly t_stat: number | null;
  readonly p_value: number | null;
  readonly reason?: string;
}

/** `rank_ic`: one entry per feature. */
export interface RankIcResult {
  readonly type: "rank_ic";
  readonly label: string;
  readonly min_rows: number;
  readonly features: RankIcEntry[];
}

/** One bucket of `quintiles` (empty bucket: count 0 and null values). */
export interface QuantileBucket {
  /** 0-based bucket index, ascending feature. */
  readonly bucket: number;
  readonly feature_min: number | null;
  readonly feature_max: number | null;
  readonly count: number;
  readonly label_mean: number | null;
  /** Sample std (ddof 1); null below 2 rows. */
  readonly label_std: number | null;
}

/** Buckets of one feature; `spread` = last bucket label_mean − first bucket label_mean. */
export interface QuantileFeature {
  readonly feature: string;
  readonly n: number;
  readonly buckets: QuantileBucket[];
  readonly spread: number | null;
}

/** `quintiles`: per feature, label statistics by equal-count feature bucket. */
export interface QuintilesResult {
  readonly type: "quintiles";
  readonly label: string;
  readonly buckets: number;
  readonly features: QuantileFeature[];
}

/** A feature pair whose |corr| exceeds the threshold. */
export interface RedundantPair {
  readonly a: string;
  readonly b: string;
  readonly corr: number;
  /** Rows where both are finite. */
  readonly n: number;
}

/** `redundancy`: pairs with |corr| > threshold, sorted by |corr| descending (then by pair order). */
export interface RedundancyResult {
  readonly type: "redundancy";
  readonly method: "pearson" | "spearman";
  readonly threshold: number;
  readonly pairs: RedundantPair[];
}

/** The result of one metric (JSON-able). */
export type MetricResult =
  | RowCountResult
  | NullRatioResult
  | LabelDistributionResult
  | RankIcResult
  | QuintilesResult
  | RedundancyResult;

/** The frame the metrics read. */
export interface EvaluationInput {
  /** Number of rows. */
  readonly n: number;
  /** Columns by name, each of length n (NaN = null). */
  readonly columns: ReadonlyMap<string, Float64Array>;
  /** Feature column names (default feature list of the metrics). */
  readonly features: readonly string[];
  /** Label column names. */
  readonly labels: readonly string[];
}

/** Distinct finite integer values up to which `label_distribution` reports classes. */
const MAX_CLASSES = 10;

/**
 * Evaluates each metric spec (re-validated with `metricSpecSchema`) on the frame, in order.
 *
 * - `rank_ic`: Spearman ρ over the rows where label and feature are both finite (average ranks for ties,
 *   Pearson correlation of the ranks); t = ρ·sqrt((n − 2)/(1 − ρ²)), two-sided p = 2·F(−|t|; n − 2) with
 *   the Student-t CDF of @stdlib/stats-base-dists-t-cdf; n < min_rows → ic null with a reason; a
 *   constant feature or label on those rows → ic null ("constant"); |ρ| = 1 → p 0 and t_stat null.
 * - `quintiles`: on the rows where both are finite (n of them), rows are sorted by feature value with ties
 *   broken by row order (stable), and the row with 0-based rank k goes to bucket ⌊k·B/n⌋ — equal-count
 *   buckets (sizes differ by at most one), so equal feature values may fall in adjacent buckets.
 * - `redundancy`: every pair of the feature list (list order, a before b), correlation over the rows where
 *   both are finite; pairs whose correlation is undefined (n < 2, constant) are skipped.
 *
 * @throws ConfigError for an invalid spec, or a column (in a spec, or in `features` / `labels`) that is not
 *   in `columns` — the message names the metric and the column.
 * @throws RangeError when a column does not have n rows.
 */
export function evaluateMetrics(input: EvaluationInput, specs: readonly MetricSpec[]): MetricResult[] {
  const { n, columns } = input;
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`n must be a non-negative integer, got ${n}`);
  for (const [name, col] of columns) {
    if (col.length !== n) throw new RangeError(`column '${name}' has ${col.length} rows, expected ${n}`);
  }
  return specs.map((raw) => evaluateOne(input, raw));
}

/** Validates and evaluates one metric spec (see `evaluateMetrics`). */
function evaluateOne(input: EvaluationInput, raw: MetricSpec): MetricResult {
  const r = metricSpecSchema.safeParse(raw);
  if (!r.success) {
    throw new ConfigError(`invalid metric spec: ${issuesText(r.error.issues)}`);
  }
  const spec = r.data;
  const col = (name: string): Float64Array => {
    const c = input.columns.get(name);
    if (c === undefined) throw new ConfigError(`metric '${spec.type}': column '${name}' is not in the frame`);
    return c;
  };
  switch (spec.type) {
    case "row_count":
      return { type: "row_count", value: input.n };
    case "null_ratio":
      return nullRatio(input.n, spec.columns ?? unique([...input.features, ...input.labels]), col);
    case "label_distribution":
      return labelDistribution(spec.column, col(spec.column));
    case "rank_ic":
      return rankIc(spec.label, col(spec.label), spec.features ?? input.features, spec.min_rows, col);
    case "quintiles":
      return quintiles(spec.label, col(spec.label), spec.features ?? input.features, spec.buckets, col);
    case "redundancy":
      return redundancy(spec.features ?? input.features, spec.threshold, spec.method, col, input.n);
  }
}

function unique(xs: readonly string[]): string[] {
  return [...new Set(xs)];
}

/** Finite number or null (JSON has no NaN/Infinity). */
function num(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

function nullRatio(
  n: number,
  names: readonly string[],
  col: (name: string) => Float64Array,
): NullRatioResult {
  const values: Record<string, number | null> = {};
  const inf: Record<string, number | null> = {};
  for (const name of names) {
    const c = col(name);
    let nulls = 0;
    let infs = 0;
    for (let i = 0; i < n; i++) {
      const v = c[i]!;
      if (Number.isNaN(v)) nulls++;
      else if (v === Number.POSITIVE_INFINITY || v === Number.NEGATIVE_INFINITY) infs++;
    }
    values[name] = n === 0 ? null : nulls / n;
    inf[name] = n === 0 ? null : infs / n;
  }
  return { type: "null_ratio", values, inf_ratio: inf };
}

function labelDistribution(column: string, c: Float64Array): LabelDistributionResult {
  let nulls = 0;
  let infs = 0;
  let count = 0;
  for (let i = 0; i < c.length; i++) {
    const v = c[i]!;
    if (Number.isNaN(v)) nulls++;
    else if (!Number.isFinite(v)) infs++;
    else count++;
  }
  const sorted = new Float64Array(count);
  let k = 0;
  for (let i = 0; i < c.length; i++) if (Number.isFinite(c[i]!)) sorted[k++] = c[i]!;
  sorted.sort();
  // discrete: every value an integer and at most MAX_CLASSES distinct values
  let distinct = 0;
  let discrete = true;
  for (let i = 0; i < count && discrete; i++) {
    if (!Number.isInteger(sorted[i]!)) discrete = false;
    else if (i === 0 || sorted[i] !== sorted[i - 1]) distinct++;
    if (distinct > MAX_CLASSES) discrete = false;
  }
  const base = { type: "label_distribution" as const, column, count, nulls, infs };
  if (discrete) {
    const classes: LabelClass[] = [];
    let i = 0;
    while (i < count) {
      const value = sorted[i]!;
      let j = i;
      while (j < count && sorted[j] === value) j++;
      classes.push({ value: value === 0 ? 0 : value, count: j - i, share: (j - i) / count });
      i = j;
    }
    return { ...base, classes };
  }
  const { mean, std } = meanStd(sorted);
  const q = (p: number) => num(quantileSorted(sorted, p));
  return {
    ...base,
    mean: num(mean),
    std: num(std),
    min: num(sorted[0]!),
    p01: q(0.01),
    p05: q(0.05),
    p25: q(0.25),
    p50: q(0.5),
    p75: q(0.75),
    p95: q(0.95),
    p99: q(0.99),
    max: num(sorted[count - 1]!),
  };
}

function rankIc(
  label: string,
  y: Float64Array,
  features: readonly string[],
  minRows: number,
  col: (name: string) => Float64Array,
): RankIcResult {
  const xs = features.map(col);
  const orderY = finiteOrder(y);
  const scratch = spearmanScratch(y.length);
  const out: RankIcEntry[] = features.map((feature, k) => {
    const x = xs[k]!;
    let m = 0;
    for (let i = 0; i < y.length; i++) if (Number.isFinite(x[i]!) && Number.isFinite(y[i]!)) m++;
    if (m < minRows) {
      return { feature, ic: null, n: m, t_stat: null, p_value: null, reason: `n=${m} < min_rows=${minRows}` };
    }
    const { r } = spearman(x, y, finiteOrder(x), orderY, scratch);
    if (Number.isNaN(r)) {
      return {
        feature,
        ic: null,
        n: m,
        t_stat: null,
        p_value: null,
        reason: "feature or label is constant on the paired rows",
      };
    }
    const { t, p } = correlationTTest(r, m);
    return { feature, ic: r, n: m, t_stat: num(t), p_value: num(p) };
  });
  return { type: "rank_ic", label, min_rows: minRows, features: out };
}

function quintiles(
  label: string,
  y: Float64Array,
  features: readonly string[],
  buckets: number,
  col: (name: string) => Float64Array,
): QuintilesResult {
  const xs = features.map(col);
  const mask = new Uint8Array(y.length);
  const out: QuantileFeature[] = features.map((feature, k) => {
    const x = xs[k]!;
    for (let i = 0; i < y.length; i++) mask[i] = Number.isFinite(y[i]!) ? 1 : 0;
    const order = finiteOrder(x, mask); // rows where both finite, by feature value, ties by row
    const m = order.length;
    const res: QuantileBucket[] = [];
    // bucket b holds ranks k with ⌊k·B/m⌋ = b: k ∈ [⌈b·m/B⌉, ⌈(b+1)·m/B⌉)
    let k0 = 0;
    for (let b = 0; b < buckets; b++) {
      let k1 = k0;
      while (k1 < m && Math.floor((k1 * buckets) / m) === b) k1++;
      const cnt = k1 - k0;
      let s = 0;
      for (let j = k0; j < k1; j++) s += y[order[j]!]!;
      const mean = s / cnt;
      let ss = 0;
      for (let j = k0; j < k1; j++) {
        const d = y[order[j]!]! - mean;
        ss += d * d;
      }
      res.push({
        bucket: b,
        feature_min: cnt > 0 ? x[order[k0]!]! : null,
        feature_max: cnt > 0 ? x[order[k1 - 1]!]! : null,
        count: cnt,
        label_mean: cnt > 0 ? num(mean) : null,
        label_std: cnt > 1 ? num(Math.sqrt(ss / (cnt - 1))) : null,
      });
      k0 = k1;
    }
    const first = res[0]!.label_mean;
    const last = res[buckets - 1]!.label_mean;
    return {
      feature,
      n: m,
      buckets: res,
      spread: first !== null && last !== null ? num(last - first) : null,
    };
  });
  return { type: "quintiles", label, buckets, features: out };
}

function redundancy(
  features: readonly string[],
  threshold: number,
  method: "pearson" | "spearman",
  col: (name: string) => Float64Array,
  n: number,
): RedundancyResult {
  const names = unique(features);
  const xs = names.map(col);
  const orders = method === "spearman" ? xs.map((x) => finiteOrder(x)) : [];
  const scratch = spearmanScratch(n);
  const pairs: RedundantPair[] = [];
  for (let a = 0; a < names.length; a++) {
    for (let b = a + 1; b < names.length; b++) {
      const c =
        method === "spearman"
          ? spearman(xs[a]!, xs[b]!, orders[a]!, orders[b]!, scratch)
          : pearson(xs[a]!, xs[b]!);
      if (Number.isFinite(c.r) && Math.abs(c.r) > threshold) {
        pairs.push({ a: names[a]!, b: names[b]!, corr: c.r, n: c.n });
      }
    }
  }
  // Array.prototype.sort is stable: equal |corr| keep pair order
  pairs.sort((p, q) => Math.abs(q.corr) - Math.abs(p.corr));
  return { type: "redundancy", method, threshold, pairs };
}
