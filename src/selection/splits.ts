/**
 * Leak-free time-series splits of a labelled frame (issue 13, item 5): chronological
 * train / validation / test, walk-forward folds and purged k-fold with embargo.
 *
 * Rows are in time order: `timesUs[i]` (the row's `available_at_us`, non-decreasing). Row i's label looks
 * forward over the window [timesUs[i], timesUs[i] + horizonUs] (the derivatives targets: horizon 1 h, 4 h
 * or 24 h; labels.ts). A training row is **purged** when its label window overlaps the label window of any
 * row of the evaluation block it is paired with (López de Prado, "Advances in Financial Machine
 * Learning" (2018), §7.4.1; closed intervals, so touching windows overlap). For a contiguous evaluation
 * block [a, b) with first time t_a and last label end T = max(timesUs[a..b)) + horizonUs this is exact:
 * a row before the block is purged iff timesUs[i] + horizonUs ≥ t_a, a row after it iff timesUs[i] ≤ T.
 * **Embargo** (ibid. §7.4.2, `getEmbargoTimes` / `PurgedKFold`): rows after the block with
 * T < timesUs[i] ≤ T + embargoUs are dropped from training too (their features still remember the block).
 *
 * Schemes (row blocks cut by row count, `Math.round(n · share)`, each cut moved forward past rows with the
 * same time so that rows knowable at the same instant always share a block):
 * - `chronoSplit`: train / validation / test by ratios (default 0.6 / 0.2 / 0.2); train rows overlapping
 *   validation ∪ test and validation rows overlapping test are purged (so the validation split can tune a
 *   model whose test score stays clean). No embargo is needed: nothing after a block trains.
 * - `walkForwardFolds`: K expanding folds over K + 1 equal blocks — fold k trains on blocks 0..k and tests
 *   on block k + 1; training rows overlapping the test block are purged.
 * - `purgedKFold`: K contiguous test blocks over all rows (no shuffling); every other row trains unless
 *   purged or embargoed.
 *
 * Each result converts to the trader frame's split manifest (trader/splits.ts, `manifestFor…`): intervals
 * [start, end) of `available_at_us`; `purge_minutes` = the horizon in minutes, so `assignSplits` on the
 * manifest reproduces the chronological assignment row for row.
 */
import { ConfigError } from "../core/errors.js";
import { US_PER_MINUTE } from "../core/time.js";
import type { PurgedFoldIntervals, SplitManifest } from "../trader/splits.js";

/** Row times and label horizon shared by every scheme. */
export interface LabelWindows {
  /** Row times, µs, non-decreasing (`available_at_us`). */
  readonly timesUs: ArrayLike<number>;
  /** Label horizon, µs (≥ 0): row i's label window is [t_i, t_i + horizonUs]. */
  readonly horizonUs: number;
}

/** Row indices of one train / evaluation pair, ascending. */
export interface Fold {
  readonly fold: number;
  readonly train: Int32Array;
  readonly test: Int32Array;
  /** Training candidates removed because their label window overlaps the test block's. */
  readonly purged: Int32Array;
  /** Training candidates removed by the embargo after the test block. */
  readonly embargoed: Int32Array;
}

/** A chronological split: row indices per part, ascending; every row is in exactly one array. */
export interface ChronoSplit {
  readonly train: Int32Array;
  readonly validation: Int32Array;
  readonly test: Int32Array;
  readonly purged: Int32Array;
  /** First row of the validation block and of the test block (n when empty). */
  readonly validationStart: number;
  readonly testStart: number;
}

function checkWindows(w: LabelWindows): number {
  const t = w.timesUs;
  if (!(Number.isFinite(w.horizonUs) && w.horizonUs >= 0))
    throw new ConfigError(`splits: horizonUs must be a finite number ≥ 0, got ${w.horizonUs}`);
  for (let i = 0; i < t.length; i++) {
    const v = t[i]!;
    if (!Number.isFinite(v)) throw new ConfigError(`splits: row ${i} has no time (available_at_us)`);
    if (i > 0 && v < t[i - 1]!)
      throw new ConfigError(`splits: rows are not in time order at row ${i} (available_at_us decreases)`);
  }
  return t.length;
}

function checkRatios(r: readonly number[]): void {
  if (r.some((x) => !(x >= 0)) || Math.abs(r.reduce((a, b) => a + b, 0) - 1) > 1e-9)
    throw new ConfigError(`splits: ratios ${r.join(",")} must be ≥ 0 and sum to 1`);
}

/** Last label end of rows [a, b): max t_i + horizon (times are non-decreasing, so the last row's). */
function blockEnd(w: LabelWindows, b: number): number {
  return w.timesUs[b - 1]! + w.horizonUs;
}

/** Whether row i's label window overlaps the block [a, b)'s ([t_a, T]). */
function overlaps(w: LabelWindows, i: number, a: number, b: number): boolean {
  const ti = w.timesUs[i]!;
  return ti <= blockEnd(w, b) && ti + w.horizonUs >= w.timesUs[a]!;
}

/**
 * Chronological train / validation / test (see the module doc).
 * @throws ConfigError on bad ratios, unordered or missing times, a negative horizon.
 */
export function chronoSplit(
  w: LabelWindows,
  ratios: readonly [number, number, number] = [0.6, 0.2, 0.2],
): ChronoSplit {
  const n = checkWindows(w);
  checkRatios(ratios);
  const a = align(w.timesUs, Math.round(n * ratios[0]));
  const b = Math.max(a, align(w.timesUs, Math.round(n * (ratios[0] + ratios[1]))));
  const train: number[] = [];
  const validation: number[] = [];
  const test: number[] = [];
  const purged: number[] = [];
  for (let i = 0; i < n; i++) {
    if (i < a) (a < n && overlaps(w, i, a, n) ? purged : train).push(i);
    else if (i < b) (b < n && overlaps(w, i, b, n) ? purged : validation).push(i);
    else test.push(i);
  }
  return {
    train: Int32Array.from(train),
    validation: Int32Array.from(validation),
    test: Int32Array.from(test),
    purged: Int32Array.from(purged),
    validationStart: a,
    testStart: b,
  };
}

/** A cut at row i moved forward past rows with the time of row i − 1. */
function align(t: ArrayLike<number>, i: number): number {
  let k = i;
  while (k > 0 && k < t.length && t[k] === t[k - 1]) k++;
  return k;
}

/** Row block edges: K equal blocks of n rows (edge j = round(n·j/K), aligned). @throws ConfigError on an empty block. */
function edges(t: ArrayLike<number>, k: number, what: string): number[] {
  const n = t.length;
  const e = Array.from({ length: k + 1 }, (_, j) => align(t, Math.round((n * j) / k)));
  for (let j = 0; j < k; j++)
    if (!(e[j + 1]! > e[j]!))
      throw new ConfigError(
        `splits: ${n} rows with ${new Set(Array.from(t)).size} distinct times cannot make ${k} ${what} blocks`,
      );
  return e;
}

function checkFolds(k: number, n: number, what: string, blocks: number): void {
  if (!(Number.isInteger(k) && k >= 2 - (what === "walk-forward" ? 1 : 0)))
    throw new ConfigError(
      `splits: ${what} needs a whole number of folds ≥ ${what === "walk-forward" ? 1 : 2}, got ${k}`,
    );
  if (n < blocks) throw new ConfigError(`splits: ${n} rows cannot make ${blocks} ${what} blocks`);
}

/** Train rows of [0, n) outside [a, b) for a test block [a, b): purge and embargo (module doc). */
function foldOf(
  w: LabelWindows,
  fold: number,
  a: number,
  b: number,
  lo: number,
  hi: number,
  embargoUs: number,
): Fold {
  const train: number[] = [];
  const purged: number[] = [];
  const embargoed: number[] = [];
  const end = blockEnd(w, b);
  for (let i = lo; i < hi; i++) {
    if (i >= a && i < b) continue;
    if (overlaps(w, i, a, b)) purged.push(i);
    else if (i >= b && w.timesUs[i]! <= end + embargoUs) embargoed.push(i);
    else train.push(i);
  }
  const test = new Int32Array(b - a);
  for (let i = a; i < b; i++) test[i - a] = i;
  return {
    fold,
    train: Int32Array.from(train),
    test,
    purged: Int32Array.from(purged),
    embargoed: Int32Array.from(embargoed),
  };
}

/**
 * Walk-forward (expanding window) folds: fold k trains on blocks 0..k of K + 1 equal row blocks and tests
 * on block k + 1, training rows overlapping the test block purged.
 * @throws ConfigError when K < 1 or there are fewer rows than blocks; see `chronoSplit`.
 */
export function walkForwardFolds(w: LabelWindows, folds: number): Fold[] {
  const n = checkWindows(w);
  checkFolds(folds, n, "walk-forward", folds + 1);
  const e = edges(w.timesUs, folds + 1, "walk-forward");
  return Array.from({ length: folds }, (_, k) => foldOf(w, k, e[k + 1]!, e[k + 2]!, 0, e[k + 2]!, 0));
}

/**
 * Purged k-fold with embargo (AFML §7.4.3, `PurgedKFold`): K contiguous test blocks; every other row
 * trains unless its label window overlaps the test block's (purged) or it starts within `embargoUs`
 * after the block's last label end (embargoed).
 * @throws ConfigError when K < 2, fewer rows than folds or a negative embargo; see `chronoSplit`.
 */
export function purgedKFold(w: LabelWindows, folds: number, embargoUs = 0): Fold[] {
  const n = checkWindows(w);
  checkFolds(folds, n, "purged k-fold", folds);
  if (!(Number.isFinite(embargoUs) && embargoUs >= 0))
    throw new ConfigError(`splits: embargo must be ≥ 0, got ${embargoUs}`);
  const e = edges(w.timesUs, folds, "purged k-fold");
  return Array.from({ length: folds }, (_, k) => foldOf(w, k, e[k]!, e[k + 1]!, 0, n, embargoUs));
}

/** [start, end) time intervals covering exactly the given rows (runs of consecutive indices). */
export function rowIntervals(timesUs: ArrayLike<number>, rows: Int32Array): [number, number][] {
  const out: [number, number][] = [];
  let k = 0;
  while (k < rows.length) {
    let j = k;
    while (j + 1 < rows.length && rows[j + 1] === rows[j]! + 1) j++;
    const last = rows[j]!;
    const next = last + 1 < timesUs.length ? timesUs[last + 1]! : timesUs[last]! + 1;
    out.push([timesUs[rows[k]!]!, next > timesUs[last]! ? next : timesUs[last]! + 1]);
    k = j + 1;
  }
  return out;
}

function minutes(us: number): number {
  return Math.ceil(us / US_PER_MINUTE);
}

/** [start, end) of the rows `rows` (one run of consecutive rows). */
function runInterval(t: ArrayLike<number>, rows: Int32Array, what: string): readonly [number, number] {
  const iv = rowIntervals(t, rows);
  if (iv.length !== 1)
    throw new ConfigError(`splits: ${what} has no rows (the label horizon is longer than the block)`);
  return iv[0]!;
}

/**
 * The chronological split (and optional walk-forward folds) as a trader-format manifest: fit = train with
 * its purged tail, tune = validation with its purged tail, validation_locked = test (each [first row's
 * time, next part's first time)); `purge_minutes` = the horizon in whole minutes (rounded up), so
 * `assignSplits` marks the purged rows PURGED. Walk-forward folds: train = the kept training rows, test =
 * the test block.
 * @throws ConfigError when the frame has no rows or a fold has no training rows left.
 */
export function chronoManifest(
  w: LabelWindows,
  s: ChronoSplit,
  walkForward: readonly Fold[] = [],
): SplitManifest {
  const t = w.timesUs;
  const n = t.length;
  if (n === 0) throw new ConfigError("splits: the frame has no rows");
  const last = t[n - 1]! + 1;
  const at = (i: number) => (i < n ? t[i]! : last);
  const b1 = at(s.validationStart);
  const b2 = at(s.testStart);
  const splits: SplitManifest["splits"] = {
    ...(b1 > t[0]! ? { fit: [t[0]!, b1] as const } : {}),
    ...(b2 > b1 ? { tune: [b1, b2] as const } : {}),
    ...(last > b2 ? { validation_locked: [b2, last] as const } : {}),
  };
  return {
    version: 1,
    splits,
    purgeMinutes: minutes(w.horizonUs),
    embargoMinutes: 0,
    walkForward: walkForward.map((f) => ({
      fold: f.fold,
      train: runInterval(t, f.train, `walk-forward fold ${f.fold} training`),
      test: runInterval(t, f.test, `walk-forward fold ${f.fold} test`),
    })),
  };
}

/** Purged k-fold folds as a manifest (`purged_kfold` intervals; the splits hold the whole range as fit). */
export function purgedKFoldManifest(
  w: LabelWindows,
  folds: readonly Fold[],
  embargoUs: number,
): SplitManifest {
  const t = w.timesUs;
  const n = t.length;
  if (n === 0) throw new ConfigError("splits: the frame has no rows");
  const purgedKFold: PurgedFoldIntervals[] = folds.map((f) => ({
    fold: f.fold,
    test: runInterval(t, f.test, `fold ${f.fold} test`),
    train: rowIntervals(t, f.train),
  }));
  return {
    version: 1,
    splits: { fit: [t[0]!, t[n - 1]! + 1] },
    purgeMinutes: minutes(w.horizonUs),
    embargoMinutes: minutes(embargoUs),
    walkForward: [],
    purgedKFold,
  };
}
