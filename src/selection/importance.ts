/**
 * Model-free and model-agnostic pieces of feature selection:
 *
 * - `pearsonMatrix`: Pearson ρ of every column pair (two-pass: means, then co-moments; NaN when a column is
 *   constant).
 * - `correlationFilter`: walks the features in catalogue order (the given order) and keeps a feature
 *   unless |ρ| with an already kept feature exceeds the threshold — so of a correlated pair the one
 *   earlier in the catalogue is kept, deterministically; the dropped one names its partner and ρ.
 * - `permutationImportance` (Breiman 2001 §10; Fisher, Rudin & Dominici 2019; scikit-learn's
 *   `permutation_importance` with the negated MSE as score): on held-out rows, the increase of the mean
 *   squared error when one feature's values are permuted among the rows, averaged over `repeats`
 *   permutations (Fisher–Yates over the seeded generator, or given permutations). Measured on a
 *   validation split, never on the rows the model was fitted on.
 */
import { ConfigError } from "../core/errors.js";
import { rng } from "./forest.js";

/** Pearson correlation matrix of column-major columns (NaN for a constant column). */
export function pearsonMatrix(X: readonly Float64Array[]): Float64Array[] {
  const F = X.length;
  const n = X[0]?.length ?? 0;
  const centred = X.map((c) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += c[i]!;
    const m = s / n;
    return c.map((v) => v - m);
  });
  const norm = centred.map((c) => Math.sqrt(c.reduce((a, v) => a + v * v, 0)));
  const out = Array.from({ length: F }, () => new Float64Array(F));
  for (let a = 0; a < F; a++)
    for (let b = a; b < F; b++) {
      const ca = centred[a]!;
      const cb = centred[b]!;
      let s = 0;
      for (let i = 0; i < n; i++) s += ca[i]! * cb[i]!;
      const d = norm[a]! * norm[b]!;
      const r = d > 0 ? Math.max(-1, Math.min(1, s / d)) : Number.NaN;
      out[a]![b] = r;
      out[b]![a] = r;
    }
  return out;
}

/** A feature dropped by the correlation filter: its index, the kept partner's and ρ. */
export interface CorrelationDrop {
  readonly index: number;
  readonly partner: number;
  readonly rho: number;
}

/**
 * Correlation filter (see the module doc) on a precomputed matrix.
 * @throws ConfigError when the threshold is not in (0, 1].
 */
export function correlationFilter(
  rho: readonly Float64Array[],
  threshold: number,
): { kept: number[]; dropped: CorrelationDrop[] } {
  if (!(threshold > 0 && threshold <= 1))
    throw new ConfigError(`selection: correlation threshold must be in (0, 1], got ${threshold}`);
  const kept: number[] = [];
  const dropped: CorrelationDrop[] = [];
  for (let j = 0; j < rho.length; j++) {
    let hit: CorrelationDrop | null = null;
    for (const k of kept) {
      const r = rho[j]![k]!;
      if (Math.abs(r) > threshold) {
        hit = { index: j, partner: k, rho: r };
        break;
      }
    }
    if (hit) dropped.push(hit);
    else kept.push(j);
  }
  return { kept, dropped };
}

/** Mean squared error. */
export function mse(y: ArrayLike<number>, p: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < y.length; i++) {
    const d = y[i]! - p[i]!;
    s += d * d;
  }
  return s / y.length;
}

/** Permutation importance per feature: mean and (population) std of the MSE increase over repeats. */
export interface PermutationResult {
  readonly baselineMse: number;
  readonly mean: Float64Array;
  readonly std: Float64Array;
}

/**
 * Permutation importance (module doc) of `predict` on held-out rows (column-major X, y).
 * @param perms explicit permutations of the rows (one per repeat); default `repeats` seeded ones.
 * @throws ConfigError on empty rows or a permutation of the wrong length.
 */
export function permutationImportance(
  predict: (X: readonly Float64Array[]) => Float64Array,
  X: readonly Float64Array[],
  y: Float64Array,
  o: {
    readonly repeats?: number;
    readonly seed?: number;
    readonly perms?: readonly ArrayLike<number>[];
  } = {},
): PermutationResult {
  const n = y.length;
  if (n === 0) throw new ConfigError("permutation importance: no held-out rows");
  const random = rng(o.seed ?? 0);
  const perms =
    o.perms ??
    Array.from({ length: o.repeats ?? 5 }, () => {
      const p = Int32Array.from({ length: n }, (_, i) => i);
      for (let i = n - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        const t = p[i]!;
        p[i] = p[j]!;
        p[j] = t;
      }
      return p;
    });
  for (const p of perms)
    if (p.length !== n)
      throw new ConfigError(`permutation importance: a permutation has ${p.length} rows, not ${n}`);
  const baselineMse = mse(y, predict(X));
  const mean = new Float64Array(X.length);
  const std = new Float64Array(X.length);
  const col = new Float64Array(n);
  for (let j = 0; j < X.length; j++) {
    const src = X[j]!;
    const cols = X.slice();
    cols[j] = col;
    const inc: number[] = [];
    for (const p of perms) {
      for (let i = 0; i < n; i++) col[i] = src[p[i]!]!;
      inc.push(mse(y, predict(cols)) - baselineMse);
    }
    const m = inc.reduce((a, b) => a + b, 0) / inc.length;
    mean[j] = m;
    std[j] = Math.sqrt(inc.reduce((a, b) => a + (b - m) * (b - m), 0) / inc.length);
  }
  return { baselineMse, mean, std };
}
