/**
 * Split manifests of the trader frame (issue #12): named splits `fit`, `tune`, `validation_locked`, each
 * a [start, end) interval of minute opens, an optional purge gap and embargo, and optional walk-forward
 * folds. JSON (times as ISO-8601 strings or epoch µs):
 *
 * ```json
 * { "version": 1,
 *   "splits": { "fit": ["2022-01-01T00:00:00Z", "2022-01-20T00:00:00Z"], "tune": [...], "validation_locked": [...] },
 *   "purge_minutes": 60, "embargo_minutes": 60,
 *   "walk_forward": [{ "fold": 0, "train": [s, e], "test": [s, e] }, …],
 *   "purged_kfold": [{ "fold": 0, "test": [s, e], "train": [[s, e], …] }, …] }
 * ```
 *
 * `purged_kfold` (optional, written by the derivatives frame's `pointline splits --scheme purged-kfold`,
 * selection/splits.ts): per fold its test interval and its training intervals after purging and embargo
 * (López de Prado, AFML §7.4); `assignSplits` does not read it.
 *
 * Assignment of a row with minute open t (`assignSplits`):
 * - `split_id` = the split whose [start, end) holds t; but `PURGED` when t lies in the last
 *   `purge_minutes` before the start of a later split (the gap that keeps an earlier split's labels from
 *   overlapping the next split), and `EMBARGO` when t lies in the first `embargo_minutes` of a split that
 *   follows another (the period right after a boundary whose features still remember the earlier split);
 *   `UNASSIGNED` when no split holds t.
 * - `walk_forward_fold` = `fold_<k>` for the first fold whose test interval holds t, else `NO_FOLD`.
 *
 * `generateSplitManifest` writes a manifest for a date range: the range cut at whole minutes by ratios
 * (default 0.7 / 0.15 / 0.15) and K expanding-window folds over fit ∪ tune (fold k trains on the first
 * k + 1 of K + 1 equal blocks and tests on block k + 1).
 */
import { z } from "zod";
import { ConfigError, issuesText } from "../core/errors.js";
import { type TimeInput, toUs, US_PER_MINUTE, usToIso } from "../core/time.js";

/** Split names, in time order. */
export const SPLIT_NAMES = ["fit", "tune", "validation_locked"] as const;
export type SplitName = (typeof SPLIT_NAMES)[number];
/** `split_id` values besides the split names. */
export const PURGED = "PURGED";
export const EMBARGO = "EMBARGO";
export const UNASSIGNED = "UNASSIGNED";
export const NO_FOLD = "NO_FOLD";

const time = z.union([z.string(), z.number()]);
const interval = z.tuple([time, time]);

const manifestSchema = z
  .object({
    version: z.literal(1).default(1),
    splits: z
      .object({ fit: interval.optional(), tune: interval.optional(), validation_locked: interval.optional() })
      .strict(),
    purge_minutes: z.number().int().min(0).default(0),
    embargo_minutes: z.number().int().min(0).default(0),
    walk_forward: z
      .array(z.object({ fold: z.number().int().min(0), train: interval, test: interval }).strict())
      .default([]),
    purged_kfold: z
      .array(z.object({ fold: z.number().int().min(0), test: interval, train: z.array(interval) }).strict())
      .default([]),
  })
  .strict();

/** A validated split manifest, times in µs. */
export interface SplitManifest {
  readonly version: 1;
  readonly splits: Partial<Record<SplitName, readonly [number, number]>>;
  readonly purgeMinutes: number;
  readonly embargoMinutes: number;
  readonly walkForward: readonly {
    readonly fold: number;
    readonly train: readonly [number, number];
    readonly test: readonly [number, number];
  }[];
  /** Purged k-fold folds (optional; see the module doc). */
  readonly purgedKFold?: readonly PurgedFoldIntervals[];
}

/** One purged k-fold fold of a manifest: its test interval and training intervals, µs, [start, end). */
export interface PurgedFoldIntervals {
  readonly fold: number;
  readonly test: readonly [number, number];
  readonly train: readonly (readonly [number, number])[];
}

function iv(where: string, v: readonly [string | number, string | number]): [number, number] {
  let a: number;
  let b: number;
  try {
    a = toUs(v[0]);
    b = toUs(v[1]);
  } catch (e) {
    throw new ConfigError(`split manifest ${where}: ${(e as Error).message}`);
  }
  if (!(b > a)) throw new ConfigError(`split manifest ${where}: end must be after start`);
  return [a, b];
}

/**
 * Parses a manifest (JSON value). @throws ConfigError naming the field: unknown keys, bad times, empty or
 * overlapping splits, splits out of time order.
 */
export function parseSplitManifest(input: unknown, source = "split manifest"): SplitManifest {
  const r = manifestSchema.safeParse(input);
  if (!r.success) throw new ConfigError(`${source}: ${issuesText(r.error.issues, "(manifest)")}`);
  const m = r.data;
  const splits: Partial<Record<SplitName, readonly [number, number]>> = {};
  let prevEnd = Number.NEGATIVE_INFINITY;
  for (const name of SPLIT_NAMES) {
    const v = m.splits[name];
    if (!v) continue;
    const x = iv(`${source} splits.${name}`, v);
    if (x[0] < prevEnd)
      throw new ConfigError(
        `${source}: splits.${name} starts before the previous split ends (splits must be in time order: fit, tune, validation_locked)`,
      );
    prevEnd = x[1];
    splits[name] = x;
  }
  if (Object.keys(splits).length === 0)
    throw new ConfigError(`${source}: splits: at least one of fit, tune, validation_locked`);
  const walkForward = m.walk_forward.map((f, k) => ({
    fold: f.fold,
    train: iv(`${source} walk_forward[${k}].train`, f.train),
    test: iv(`${source} walk_forward[${k}].test`, f.test),
  }));
  const purgedKFold = m.purged_kfold.map((f, k) => ({
    fold: f.fold,
    test: iv(`${source} purged_kfold[${k}].test`, f.test),
    train: f.train.map((x, j) => iv(`${source} purged_kfold[${k}].train[${j}]`, x)),
  }));
  return {
    version: 1,
    splits,
    purgeMinutes: m.purge_minutes,
    embargoMinutes: m.embargo_minutes,
    walkForward,
    ...(purgedKFold.length > 0 ? { purgedKFold } : {}),
  };
}

/** The manifest as JSON (ISO-8601 times). */
export function splitManifestJson(m: SplitManifest): Record<string, unknown> {
  const isoIv = (x: readonly [number, number]) => [usToIso(x[0]), usToIso(x[1])];
  return {
    version: 1,
    splits: Object.fromEntries(SPLIT_NAMES.filter((n) => m.splits[n]).map((n) => [n, isoIv(m.splits[n]!)])),
    purge_minutes: m.purgeMinutes,
    embargo_minutes: m.embargoMinutes,
    walk_forward: m.walkForward.map((f) => ({ fold: f.fold, train: isoIv(f.train), test: isoIv(f.test) })),
    ...(m.purgedKFold && m.purgedKFold.length > 0
      ? {
          purged_kfold: m.purgedKFold.map((f) => ({
            fold: f.fold,
            test: isoIv(f.test),
            train: f.train.map(isoIv),
          })),
        }
      : {}),
  };
}

/** Options of `generateSplitManifest`. */
export interface SplitGenOptions {
  readonly start: TimeInput;
  readonly end: TimeInput;
  /** fit / tune / validation_locked shares (default 0.7 / 0.15 / 0.15; must sum to 1). */
  readonly ratios?: readonly [number, number, number];
  readonly purgeMinutes?: number;
  readonly embargoMinutes?: number;
  /** Walk-forward folds over fit ∪ tune (default 0). */
  readonly folds?: number;
}

/** A manifest for [start, end) (see the module doc). @throws ConfigError on bad ratios or range. */
export function generateSplitManifest(o: SplitGenOptions): SplitManifest {
  const s = toUs(o.start);
  const e = toUs(o.end);
  if (!(e > s)) throw new ConfigError("splits: end must be after start");
  const ratios = o.ratios ?? [0.7, 0.15, 0.15];
  if (ratios.some((x) => !(x >= 0)) || Math.abs(ratios[0] + ratios[1] + ratios[2] - 1) > 1e-9)
    throw new ConfigError(`splits: ratios ${ratios.join(",")} must be ≥ 0 and sum to 1`);
  const minutes = Math.floor((e - s) / US_PER_MINUTE);
  const cut = (f: number) => s + Math.round(minutes * f) * US_PER_MINUTE;
  const b1 = cut(ratios[0]);
  const b2 = cut(ratios[0] + ratios[1]);
  const splits: Partial<Record<SplitName, readonly [number, number]>> = {};
  if (b1 > s) splits.fit = [s, b1];
  if (b2 > b1) splits.tune = [b1, b2];
  if (e > b2) splits.validation_locked = [b2, e];
  const k = o.folds ?? 0;
  if (!(Number.isInteger(k) && k >= 0))
    throw new ConfigError(`splits: folds must be a whole number ≥ 0, got ${k}`);
  const walkForward: { fold: number; train: [number, number]; test: [number, number] }[] = [];
  if (k > 0) {
    const span = Math.floor((b2 - s) / US_PER_MINUTE);
    const edge = (j: number) => s + Math.round((span * j) / (k + 1)) * US_PER_MINUTE;
    for (let f = 0; f < k; f++) {
      const trainEnd = edge(f + 1);
      const testEnd = edge(f + 2);
      if (!(trainEnd > s && testEnd > trainEnd))
        throw new ConfigError(`splits: ${k} folds do not fit in the fit and tune range`);
      walkForward.push({ fold: f, train: [s, trainEnd], test: [trainEnd, testEnd] });
    }
  }
  return {
    version: 1,
    splits,
    purgeMinutes: o.purgeMinutes ?? 0,
    embargoMinutes: o.embargoMinutes ?? 0,
    walkForward,
  };
}

/** `split_id` and `walk_forward_fold` per minute open (see the module doc). */
export function assignSplits(
  m: SplitManifest,
  eventUs: ArrayLike<number>,
): { splitId: string[]; fold: string[] } {
  const named = SPLIT_NAMES.filter((n) => m.splits[n]).map((n) => ({ name: n, iv: m.splits[n]! }));
  const purge = m.purgeMinutes * US_PER_MINUTE;
  const embargo = m.embargoMinutes * US_PER_MINUTE;
  const splitId: string[] = [];
  const fold: string[] = [];
  for (let i = 0; i < eventUs.length; i++) {
    const t = eventUs[i]!;
    let id: string = UNASSIGNED;
    for (let k = 0; k < named.length; k++) {
      const { name, iv } = named[k]!;
      if (!(t >= iv[0] && t < iv[1])) continue;
      const next = named[k + 1];
      if (next && purge > 0 && t >= next.iv[0] - purge) id = PURGED;
      else if (k > 0 && embargo > 0 && t < iv[0] + embargo) id = EMBARGO;
      else id = name;
      break;
    }
    splitId.push(id);
    const f = m.walkForward.find((x) => t >= x.test[0] && t < x.test[1]);
    fold.push(f ? `fold_${f.fold}` : NO_FOLD);
  }
  return { splitId, fold };
}
