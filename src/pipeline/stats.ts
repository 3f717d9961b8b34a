/**
 * Shared statistics helpers of pipeline v2 labels and evaluation metrics: stable sort orders, average
 * ranks (ties get the mean of the ranks they span), sample mean / standard deviation, linear-interpolation
 * quantiles, Pearson and Spearman correlation over the rows where both columns are finite, and the
 * two-sided Student-t p-value of a correlation.
 *
 * Columns are Float64Array (or any ArrayLike<number>) with NaN = null. Helpers that take an `include`
 * mask (Uint8Array, 1 = use the row) restrict the computation to those rows; every helper skips rows whose
 * value is not finite unless stated otherwise. No helper keeps state between calls.
 *
 * Sources: average ranks and Spearman's ρ as the Pearson correlation of average ranks (Kendall & Gibbons,
 * "Rank Correlation Methods", 5th ed., ch. 3; same as scipy.stats.spearmanr / rankdata(method="average"));
 * the quantile is Hyndman & Fan (1996) definition 7 — numpy's and Polars' "linear" interpolation; the
 * correlation t-test t = r·sqrt((n − 2)/(1 − r²)) with n − 2 degrees of freedom (Fisher 1915; scipy's
 * pearsonr / spearmanr p-values use the same statistic) evaluated with @stdlib/stats-base-dists-t-cdf.
 */
import tCdf from "@stdlib/stats-base-dists-t-cdf";

/**
 * Indices of the rows with a finite value (and `include[i] === 1` when a mask is given), sorted by value
 * ascending; equal values keep row order (stable). O(m log m) for m selected rows.
 */
export function finiteOrder(values: ArrayLike<number>, include?: Uint8Array): Uint32Array {
  let m = 0;
  for (let i = 0; i < values.length; i++) {
    if (Number.isFinite(values[i]!) && (include === undefined || include[i] === 1)) m++;
  }
  const order = new Uint32Array(m);
  let k = 0;
  for (let i = 0; i < values.length; i++) {
    if (Number.isFinite(values[i]!) && (include === undefined || include[i] === 1)) order[k++] = i;
  }
  order.sort((a, b) => values[a]! - values[b]! || a - b);
  return order;
}

/**
 * Writes 1-based average ranks into `out[i]` for the rows of `order` (ascending by value, as returned by
 * `finiteOrder`) that are selected by `include` (all rows of `order` when omitted); tied values get the
 * mean of the ranks they occupy (1, 2.5, 2.5, 4 …). Rows not ranked are left untouched. Returns the
 * number of ranked rows. O(length of order); lets one precomputed order serve many row subsets.
 */
export function averageRanksInto(
  values: ArrayLike<number>,
  order: Uint32Array,
  out: Float64Array,
  include?: Uint8Array,
): number {
  let rank = 0; // ranks handed out so far
  let k = 0;
  const len = order.length;
  while (k < len) {
    // skip rows outside the subset
    const i = order[k]!;
    if (include !== undefined && include[i] !== 1) {
      k++;
      continue;
    }
    const v = values[i]!;
    // the tie group: every selected row of order[k…end) with the same value
    let end = k;
    let count = 0;
    while (end < len && values[order[end]!] === v) {
      if (include === undefined || include[order[end]!] === 1) count++;
      end++;
    }
    const avg = rank + (count + 1) / 2;
    for (let j = k; j < end; j++) {
      const r = order[j]!;
      if (include === undefined || include[r] === 1) out[r] = avg;
    }
    rank += count;
    k = end;
  }
  return rank;
}

/**
 * Average ranks (1-based, ties averaged) of the finite values of `values`; NaN where the value is not
 * finite. Same as scipy.stats.rankdata(method="average") on the finite values.
 */
export function averageRanks(values: ArrayLike<number>): Float64Array {
  const out = new Float64Array(values.length).fill(Number.NaN);
  averageRanksInto(values, finiteOrder(values), out);
  return out;
}

/** Mean and sample standard deviation (ddof = 1) of a set of rows; NaN std when fewer than 2 rows. */
export interface MeanStd {
  readonly mean: number;
  readonly std: number;
  readonly count: number;
}

/**
 * Mean and sample std (ddof 1, two passes: mean, then Σ(x − mean)²) of the finite values of
 * `values[from … to)` selected by `include` (all when omitted). Empty → mean NaN; one value → std NaN.
 */
export function meanStd(
  values: ArrayLike<number>,
  from = 0,
  to: number = values.length,
  include?: Uint8Array,
): MeanStd {
  let s = 0;
  let count = 0;
  for (let i = from; i < to; i++) {
    const x = values[i]!;
    if (Number.isFinite(x) && (include === undefined || include[i] === 1)) {
      s += x;
      count++;
    }
  }
  if (count === 0) return { mean: Number.NaN, std: Number.NaN, count };
  const mean = s / count;
  if (count < 2) return { mean, std: Number.NaN, count };
  let ss = 0;
  for (let i = from; i < to; i++) {
    const x = values[i]!;
    if (Number.isFinite(x) && (include === undefined || include[i] === 1)) {
      const d = x - mean;
      ss += d * d;
    }
  }
  return { mean, std: Math.sqrt(ss / (count - 1)), count };
}

/**
 * Quantile of sorted finite values by linear interpolation (Hyndman & Fan type 7; numpy
 * `quantile(method="linear")`, Polars `quantile(q, "linear")`): h = (m − 1)·q, result
 * x[⌊h⌋] + (h − ⌊h⌋)·(x[⌊h⌋ + 1] − x[⌊h⌋]). NaN for an empty input. @throws RangeError if q ∉ [0, 1].
 */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile q must be in [0, 1], got ${q}`);
  const m = sorted.length;
  if (m === 0) return Number.NaN;
  const h = (m - 1) * q;
  const lo = Math.floor(h);
  const a = sorted[lo]!;
  if (lo + 1 >= m) return a;
  const b = sorted[lo + 1]!;
  const frac = h - lo;
  return frac === 0 ? a : a + frac * (b - a);
}

/** A correlation over the rows where both inputs are finite; `r` NaN when undefined (n < 2, constant). */
export interface Correlation {
  readonly r: number;
  readonly n: number;
}

/**
 * Pearson correlation of x and y over the rows where both are finite (and `include[i] === 1` when a mask is
 * given): two passes, Σdxdy / sqrt(Σdx²·Σdy²), clamped to [−1, 1]. r NaN when n < 2 or a column is
 * constant on those rows.
 */
export function pearson(x: ArrayLike<number>, y: ArrayLike<number>, include?: Uint8Array): Correlation {
  if (x.length !== y.length) throw new RangeError(`pearson: lengths differ (${x.length} vs ${y.length})`);
  let sx = 0;
  let sy = 0;
  let n = 0;
  for (let i = 0; i < x.length; i++) {
    const a = x[i]!;
    const b = y[i]!;
    if (Number.isFinite(a) && Number.isFinite(b) && (include === undefined || include[i] === 1)) {
      sx += a;
      sy += b;
      n++;
    }
  }
  if (n < 2) return { r: Number.NaN, n };
  const mx = sx / n;
  const my = sy / n;
  let sxx = 0;
  let syy = 0;
  let sxy = 0;
  for (let i = 0; i < x.length; i++) {
    const a = x[i]!;
    const b = y[i]!;
    if (Number.isFinite(a) && Number.isFinite(b) && (include === undefined || include[i] === 1)) {
      const da = a - mx;
      const db = b - my;
      sxx += da * da;
      syy += db * db;
      sxy += da * db;
    }
  }
  if (sxx === 0 || syy === 0) return { r: Number.NaN, n };
  const r = sxy / Math.sqrt(sxx * syy);
  return { r: Math.min(1, Math.max(-1, r)), n };
}

/** Scratch buffers for `spearman` when many pairs are correlated (length ≥ the column length). */
export interface SpearmanScratch {
  readonly mask: Uint8Array;
  readonly rx: Float64Array;
  readonly ry: Float64Array;
}

/** Allocates scratch buffers for `spearman` over columns of `n` rows. */
export function spearmanScratch(n: number): SpearmanScratch {
  return { mask: new Uint8Array(n), rx: new Float64Array(n), ry: new Float64Array(n) };
}

/**
 * Spearman rank correlation over the rows where both x and y are finite: Pearson correlation of the
 * average ranks computed within those rows (ties averaged). `orderX` / `orderY` (from `finiteOrder`) may be
 * passed to reuse sorts across pairs; `scratch` avoids allocations. r NaN when n < 2 or either column is
 * constant on the paired rows.
 */
export function spearman(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  orderX: Uint32Array = finiteOrder(x),
  orderY: Uint32Array = finiteOrder(y),
  scratch: SpearmanScratch = spearmanScratch(x.length),
): Correlation {
  if (x.length !== y.length) throw new RangeError(`spearman: lengths differ (${x.length} vs ${y.length})`);
  const { mask, rx, ry } = scratch;
  for (let i = 0; i < x.length; i++) mask[i] = Number.isFinite(x[i]!) && Number.isFinite(y[i]!) ? 1 : 0;
  averageRanksInto(x, orderX, rx, mask);
  averageRanksInto(y, orderY, ry, mask);
  return pearson(rx.subarray(0, x.length), ry.subarray(0, x.length), mask);
}

/** t statistic and two-sided p-value of a correlation coefficient. */
export interface CorrelationTest {
  /** t = r·sqrt((n − 2)/(1 − r²)); ±Infinity when |r| = 1; NaN when undefined. */
  readonly t: number;
  /** Two-sided p = 2·F(−|t|; n − 2), F the Student-t CDF; 0 when |r| = 1; NaN when undefined. */
  readonly p: number;
}

/**
 * t-test of H0: ρ = 0 for a (Pearson or Spearman) correlation r over n rows: t with n − 2 degrees of
 * freedom (the large-sample approximation used by scipy.stats.spearmanr for ρ). NaN when n < 3 or r NaN.
 */
export function correlationTTest(r: number, n: number): CorrelationTest {
  if (!(n >= 3) || Number.isNaN(r)) return { t: Number.NaN, p: Number.NaN };
  if (Math.abs(r) >= 1) return { t: r > 0 ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY, p: 0 };
  const t = r * Math.sqrt((n - 2) / (1 - r * r));
  return { t, p: studentTTwoSidedP(t, n - 2) };
}

/** Two-sided Student-t p-value 2·F(−|t|; df) (evaluated in the lower tail for precision). */
export function studentTTwoSidedP(t: number, df: number): number {
  if (Number.isNaN(t) || !(df > 0)) return Number.NaN;
  return Math.min(1, 2 * tCdf(-Math.abs(t), df));
}
