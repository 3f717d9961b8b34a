/**
 * Regression trees and random forests with impurity (MDI) importance, written against the definitions of
 * Breiman, "Random Forests" (Machine Learning 45, 2001) and scikit-learn's `DecisionTreeRegressor` /
 * `RandomForestRegressor` (criterion "squared_error", `BestSplitter`):
 *
 * - A node's impurity is the (population) variance of its targets; a split of node t on feature f at
 *   threshold θ sends x ≤ θ left. The best split maximises the impurity decrease, scanned over the node's
 *   values in ascending order; a candidate position needs x[p] > x[p−1] + 1e-7 (sklearn's
 *   FEATURE_THRESHOLD) and θ is the midpoint (x[p−1] + x[p]) / 2 (x[p−1] when the midpoint rounds to x[p]).
 *   Strictly better wins, so ties go to the first position, then to the first feature visited.
 * - A node is a leaf when depth = maxDepth, it has fewer than minSamplesSplit or 2·minSamplesLeaf rows,
 *   its impurity ≤ 2^−52, or no split keeps minSamplesLeaf rows each side.
 * - MDI importance of feature f = Σ over nodes splitting on f of (N_t·imp_t − N_l·imp_l − N_r·imp_r) / N,
 *   normalised to sum 1 per tree; the forest's is the mean over trees with a split, normalised to sum 1.
 * - Forests: each tree on a bootstrap sample (n draws with replacement; a row drawn k times counts k
 *   times) and `maxFeatures` features drawn without replacement at every node (Fisher–Yates over a seeded
 *   xorshift128+ generator; sklearn's generator differs, so forests agree with sklearn in distribution,
 *   not tree for tree).
 *
 * Inputs: X as column-major Float64Array columns (no NaN: rows with nulls are dropped by the caller),
 * y a Float64Array. Work per tree is O(F·n) per level: every feature's rows are presorted once, a node
 * owns a range of each sorted list and a split partitions the ranges stably.
 */
import { ConfigError } from "../core/errors.js";

/** Tree growth options (sklearn's names in camelCase). */
export interface TreeOptions {
  /** Maximum depth (root = 0); default 8. */
  readonly maxDepth?: number;
  /** Minimum rows to split a node; default 2. */
  readonly minSamplesSplit?: number;
  /** Minimum rows in a leaf; default 1. */
  readonly minSamplesLeaf?: number;
  /** Features tried per node; default all. */
  readonly maxFeatures?: number;
}

/** A fitted regression tree (arrays indexed by node; leaves have feature −1). */
export interface RegressionTree {
  readonly feature: Int32Array;
  readonly threshold: Float64Array;
  readonly left: Int32Array;
  readonly right: Int32Array;
  readonly value: Float64Array;
  /** Unnormalised impurity decrease per feature (Σ N_t·imp_t − children, over N). */
  readonly decrease: Float64Array;
}

/** Seeded xorshift128+ uniform [0, 1) generator (deterministic across platforms). */
export function rng(seed: number): () => number {
  let s0 = (seed ^ 0x9e3779b9) >>> 0 || 1;
  let s1 = (Math.imul(seed, 0x85ebca6b) ^ 0xc2b2ae35) >>> 0 || 2;
  let s2 = 0x27d4eb2f;
  let s3 = 0x165667b1;
  return () => {
    // xoshiro128** on 32-bit lanes
    const r = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = rotl(s3, 11);
    return r / 4294967296;
  };
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

const FEATURE_THRESHOLD = 1e-7;
const EPSILON = 2 ** -52;

/**
 * Grows one tree on rows `sample` (indices into X/y; repeats allowed = bootstrap weights).
 * @throws ConfigError when X is empty or ragged.
 */
export function fitTree(
  X: readonly Float64Array[],
  y: Float64Array,
  o: TreeOptions = {},
  sample?: Int32Array,
  random: () => number = rng(0),
  orders: readonly Int32Array[] = sortOrders(X),
): RegressionTree {
  const F = X.length;
  const n = y.length;
  if (F === 0) throw new ConfigError("tree: no feature columns");
  for (const c of X)
    if (c.length !== n) throw new ConfigError("tree: feature columns and target differ in length");
  const rows = sample ?? Int32Array.from({ length: n }, (_, i) => i);
  const m = rows.length;
  if (m === 0) throw new ConfigError("tree: no rows");
  const maxDepth = o.maxDepth ?? 8;
  const minSplit = Math.max(2, o.minSamplesSplit ?? 2);
  const minLeaf = Math.max(1, o.minSamplesLeaf ?? 1);
  const mtry = Math.min(F, Math.max(1, o.maxFeatures ?? F));

  // sorted[f][lo..hi) = positions (into rows) of the node's samples in ascending X[f]
  const count = new Int32Array(n);
  for (let k = 0; k < m; k++) count[rows[k]!]!++;
  const sorted: Int32Array[] = [];
  // positions of each row's copies: row r's copies are positions in `copies` list
  const copyStart = new Int32Array(n + 1);
  for (let r = 0; r < n; r++) copyStart[r + 1] = copyStart[r]! + count[r]!;
  const copies = new Int32Array(m);
  const fill = copyStart.slice(0, n);
  for (let k = 0; k < m; k++) copies[fill[rows[k]!]!++] = k;
  for (let f = 0; f < F; f++) {
    const order = orders[f]!;
    const s = new Int32Array(m);
    let p = 0;
    for (let q = 0; q < n; q++) {
      const r = order[q]!;
      for (let c = copyStart[r]!; c < copyStart[r + 1]!; c++) s[p++] = copies[c]!;
    }
    sorted.push(s);
  }
  const yv = new Float64Array(m);
  for (let k = 0; k < m; k++) yv[k] = y[rows[k]!]!;
  const xAt = (f: number, pos: number) => X[f]![rows[pos]!]!;

  const feature: number[] = [];
  const threshold: number[] = [];
  const left: number[] = [];
  const right: number[] = [];
  const value: number[] = [];
  const decrease = new Float64Array(F);
  const goLeft = new Uint8Array(m);
  const scratch = new Int32Array(m);
  const features = Int32Array.from({ length: F }, (_, i) => i);

  const stats = (lo: number, hi: number) => {
    const s0 = sorted[0]!;
    let sum = 0;
    for (let k = lo; k < hi; k++) sum += yv[s0[k]!]!;
    const mean = sum / (hi - lo);
    let ss = 0;
    for (let k = lo; k < hi; k++) {
      const d = yv[s0[k]!]! - mean;
      ss += d * d;
    }
    return { sum, mean, imp: ss / (hi - lo) };
  };

  const grow = (lo: number, hi: number, depth: number): number => {
    const id = value.length;
    const { sum, mean, imp } = stats(lo, hi);
    feature.push(-1);
    threshold.push(Number.NaN);
    left.push(-1);
    right.push(-1);
    value.push(mean);
    const size = hi - lo;
    if (depth >= maxDepth || size < minSplit || size < 2 * minLeaf || imp <= EPSILON) return id;
    let bestF = -1;
    let bestPos = -1;
    let bestProxy = Number.NEGATIVE_INFINITY;
    // Fisher–Yates draw of features until mtry non-constant ones were visited
    let visited = 0;
    let drawn = 0;
    while (drawn < F && visited < mtry) {
      const j = drawn + Math.floor(random() * (F - drawn));
      const f = features[j]!;
      features[j] = features[drawn]!;
      features[drawn] = f;
      drawn++;
      const s = sorted[f]!;
      if (xAt(f, s[hi - 1]!) <= xAt(f, s[lo]!) + FEATURE_THRESHOLD) continue; // constant in the node
      visited++;
      let sl = 0;
      for (let p = lo + 1; p < hi; p++) {
        sl += yv[s[p - 1]!]!;
        const nl = p - lo;
        const nr = size - nl;
        if (nl < minLeaf) continue;
        if (nr < minLeaf) break;
        if (xAt(f, s[p]!) <= xAt(f, s[p - 1]!) + FEATURE_THRESHOLD) continue;
        const sr = sum - sl;
        const proxy = (sl * sl) / nl + (sr * sr) / nr;
        if (proxy > bestProxy) {
          bestProxy = proxy;
          bestF = f;
          bestPos = p;
        }
      }
    }
    if (bestF < 0) return id;
    const sb = sorted[bestF]!;
    const a = xAt(bestF, sb[bestPos - 1]!);
    const b = xAt(bestF, sb[bestPos]!);
    let th = a / 2 + b / 2;
    if (th === b || !Number.isFinite(th)) th = a;
    for (let k = lo; k < hi; k++) goLeft[sb[k]!] = k < bestPos ? 1 : 0;
    const mid = bestPos;
    for (let f = 0; f < F; f++) {
      const s = sorted[f]!;
      let l = lo;
      let r = 0;
      for (let k = lo; k < hi; k++) {
        const v = s[k]!;
        if (goLeft[v] === 1) s[l++] = v;
        else scratch[r++] = v;
      }
      s.set(scratch.subarray(0, r), l);
    }
    feature[id] = bestF;
    threshold[id] = th;
    const L = grow(lo, mid, depth + 1);
    const R = grow(mid, hi, depth + 1);
    left[id] = L;
    right[id] = R;
    const il = nodeImp(lo, mid);
    const ir = nodeImp(mid, hi);
    decrease[bestF]! += (size * imp - (mid - lo) * il - (hi - mid) * ir) / m;
    return id;
  };
  const nodeImp = (lo: number, hi: number) => stats(lo, hi).imp;
  grow(0, m, 0);
  return {
    feature: Int32Array.from(feature),
    threshold: Float64Array.from(threshold),
    left: Int32Array.from(left),
    right: Int32Array.from(right),
    value: Float64Array.from(value),
    decrease,
  };
}

/** Each column's row order by ascending value (ties by row), shared by the trees of a forest. */
export function sortOrders(X: readonly Float64Array[]): Int32Array[] {
  return X.map((col) =>
    Int32Array.from({ length: col.length }, (_, i) => i).sort((a, b) => col[a]! - col[b]! || a - b),
  );
}

/** The tree's prediction for row i of column-major X. */
export function predictTree(t: RegressionTree, X: readonly Float64Array[], i: number): number {
  let node = 0;
  while (t.feature[node]! >= 0)
    node = X[t.feature[node]!]![i]! <= t.threshold[node]! ? t.left[node]! : t.right[node]!;
  return t.value[node]!;
}

/** MDI importance of one tree: `decrease` normalised to sum 1 (all zeros for a single leaf). */
export function treeImportance(t: RegressionTree): Float64Array {
  const s = t.decrease.reduce((a, b) => a + b, 0);
  return t.decrease.map((v) => (s > 0 ? v / s : 0));
}

/** Forest options: tree options plus the number of trees, bootstrap and seed. */
export interface ForestOptions extends TreeOptions {
  /** Trees; default 100. */
  readonly trees?: number;
  /** Draw each tree's rows with replacement (default true). */
  readonly bootstrap?: boolean;
  /** Seed of the forest's generator; default 0. */
  readonly seed?: number;
}

/** A fitted forest. */
export interface RandomForest {
  readonly trees: readonly RegressionTree[];
  readonly features: number;
}

/** Fits a random forest (see the module doc). @throws ConfigError on bad shapes or options. */
export function fitForest(X: readonly Float64Array[], y: Float64Array, o: ForestOptions = {}): RandomForest {
  const trees = o.trees ?? 100;
  if (!(Number.isInteger(trees) && trees >= 1))
    throw new ConfigError(`forest: trees must be ≥ 1, got ${trees}`);
  const random = rng(o.seed ?? 0);
  const n = y.length;
  const out: RegressionTree[] = [];
  const orders = sortOrders(X);
  for (let k = 0; k < trees; k++) {
    const sample =
      o.bootstrap === false ? undefined : Int32Array.from({ length: n }, () => Math.floor(random() * n));
    out.push(fitTree(X, y, o, sample, random, orders));
  }
  return { trees: out, features: X.length };
}

/** Mean prediction of the forest for every row of X. */
export function predictForest(f: RandomForest, X: readonly Float64Array[]): Float64Array {
  const n = X[0]?.length ?? 0;
  const out = new Float64Array(n);
  for (const t of f.trees) for (let i = 0; i < n; i++) out[i]! += predictTree(t, X, i);
  for (let i = 0; i < n; i++) out[i]! /= f.trees.length;
  return out;
}

/** The forest's MDI importance (mean of per-tree normalised importances over trees with a split, normalised). */
export function forestImportance(f: RandomForest): Float64Array {
  const out = new Float64Array(f.features);
  for (const t of f.trees) {
    if (t.feature[0]! < 0) continue;
    const imp = treeImportance(t);
    for (let j = 0; j < out.length; j++) out[j]! += imp[j]!;
  }
  const s = out.reduce((a, b) => a + b, 0);
  return out.map((v) => (s > 0 ? v / s : 0));
}
