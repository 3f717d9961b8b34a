/**
 * Feature selection on a labelled frame (issue 13, item 4), out of sample:
 *
 * 1. Rows: those with a finite target, in time order, cut by `chronoSplit` (60/20/20 by default) with the
 *    target's label horizon (so training rows whose label window reaches the validation split are purged).
 *    Models fit on **train** only; permutation importance and SHAP are measured on **validation**; the test
 *    split is left untouched (its row count is reported, nothing is computed on it).
 * 2. Candidates: every numeric column except keys and times (`*_us`, `bar_index`), flags (`*_flag`),
 *    labels (`target_*`), the target and `exclude`. A candidate is dropped, with the reason, when it is null
 *    in more than `maxNullShare` of the training rows (e.g. a source absent from the lake) or constant on
 *    them. Then train/validation rows with a null in a remaining candidate are dropped (counted).
 * 3. Correlation filter (importance.ts) on the training rows: of a pair with |ρ| > threshold the feature
 *    earlier in the catalogue (frame column order) is kept.
 * 4. On the kept features: random-forest MDI importance (forest.ts: `trees` trees, ⌈F/3⌉ features per node
 *    (Breiman's regression default), depth ≤ 8, ≥ 5 rows per leaf, bootstrap, seeded), permutation
 *    importance of that forest on validation (MSE increase, `repeats` seeded permutations), and an XGBoost
 *    model (xgboost.ts: exact tree method, depth 4, η 0.1, 200 rounds, nthread 1, seed, base score = the
 *    training mean of the target) whose mean |SHAP|
 *    on validation (exact TreeSHAP) and gain importance are reported.
 * 5. Ranking: by the mean of the feature's ranks under MDI, permutation and mean |SHAP| (1 = most
 *    important); ties by catalogue order. Correlation-filtered and dropped features follow, unranked.
 *    `top` N names the selected list: the first N of the ranking.
 */
import pl from "nodejs-polars";
import { ConfigError } from "../core/errors.js";
import { fitForest, forestImportance, predictForest } from "./forest.js";
import { correlationFilter, mse, pearsonMatrix, permutationImportance } from "./importance.js";
import { chronoSplit } from "./splits.js";
import { trainXgboost } from "./xgboost.js";

/** Options of `selectFeatures`. */
export interface SelectOptions {
  readonly target: string;
  /** |ρ| above which the later feature of a pair is dropped; default 0.95. */
  readonly threshold?: number;
  /** Selected list length; default 20. */
  readonly top?: number;
  /** Label horizon in ms for purging; default from the target's name (`_1h`, `_4h`, `_24h`; `target_class`, `target_binary`: 4 h). */
  readonly horizonMs?: number;
  readonly ratios?: readonly [number, number, number];
  /** Columns never used as features. */
  readonly exclude?: readonly string[];
  /** Candidates null in more than this share of training rows are dropped; default 0.5. */
  readonly maxNullShare?: number;
  readonly trees?: number;
  readonly repeats?: number;
  readonly xgbRounds?: number;
  readonly seed?: number;
}

/** One row of the ranking table. */
export interface RankedFeature {
  readonly feature: string;
  /** 1-based rank among the scored features; null for dropped ones. */
  readonly rank: number | null;
  readonly status: "scored" | "correlated" | "null" | "constant";
  /** Why it was dropped (partner and ρ, null share), empty when scored. */
  readonly reason: string;
  readonly rfImportance: number | null;
  readonly permutationMean: number | null;
  readonly permutationStd: number | null;
  readonly shapMeanAbs: number | null;
  readonly xgbGain: number | null;
}

/** The result: ranking, selection, row accounting and model scores. */
export interface SelectionResult {
  readonly target: string;
  readonly ranking: readonly RankedFeature[];
  readonly selected: readonly string[];
  readonly rows: {
    readonly frame: number;
    readonly nullTarget: number;
    readonly train: number;
    readonly validation: number;
    readonly test: number;
    readonly purged: number;
    readonly droppedNullFeatures: number;
  };
  readonly settings: Record<string, number | string>;
  /** Validation MSE of the forest and of XGBoost, and of predicting the training mean. */
  readonly validationMse: { readonly forest: number; readonly xgboost: number; readonly trainMean: number };
  /** Pearson ρ on the training rows between the top features (for the report's heatmap). */
  readonly topCorrelation: {
    readonly names: readonly string[];
    readonly matrix: readonly (readonly number[])[];
  };
}

const HOUR = 3_600_000;

/** The label horizon implied by a target's name. @throws ConfigError when it cannot be inferred. */
export function targetHorizonMs(target: string): number {
  if (target === "target_class" || target === "target_binary") return 4 * HOUR;
  const m = /_(\d+)(m|h|d)$/.exec(target);
  if (m) return Number(m[1]) * (m[2] === "m" ? 60_000 : m[2] === "h" ? HOUR : 24 * HOUR);
  throw new ConfigError(
    `selection: cannot infer the label horizon of ${target} from its name (suffix _<n>m|h|d); give horizonMs (--horizon-minutes)`,
  );
}

function isCandidate(name: string, target: string, exclude: ReadonlySet<string>): boolean {
  return !(
    name === target ||
    exclude.has(name) ||
    name.endsWith("_us") ||
    name === "bar_index" ||
    name.endsWith("_flag") ||
    name.startsWith("target_")
  );
}

function ranksDesc(v: Float64Array): Float64Array {
  const idx = Array.from(v, (_, i) => i).sort((a, b) => v[b]! - v[a]! || a - b);
  const r = new Float64Array(v.length);
  idx.forEach((i, k) => {
    r[i] = k + 1;
  });
  return r;
}

const subset = (c: Float64Array, rows: Int32Array) => Float64Array.from(rows, (i) => c[i]!);

/**
 * Runs the selection (module doc) on a frame with `available_at_us`.
 * @throws ConfigError on a missing target/time column, too few rows or no usable feature.
 */
export function selectFeatures(frame: pl.DataFrame, o: SelectOptions): SelectionResult {
  const threshold = o.threshold ?? 0.95;
  const top = o.top ?? 20;
  const seed = o.seed ?? 0;
  const trees = o.trees ?? 100;
  const repeats = o.repeats ?? 5;
  const rounds = o.xgbRounds ?? 200;
  const maxNull = o.maxNullShare ?? 0.5;
  for (const c of ["available_at_us", o.target])
    if (!frame.columns.includes(c))
      throw new ConfigError(
        `selection: the frame has no column ${c} (columns: ${frame.columns.slice(0, 12).join(", ")}, …)`,
      );
  const horizonMs = o.horizonMs ?? targetHorizonMs(o.target);
  const exclude = new Set(o.exclude ?? []);
  const numeric = frame.columns.filter((c) => {
    const dt = frame.getColumn(c).dtype;
    return (
      dt.equals(pl.Float64) ||
      dt.equals(pl.Float32) ||
      dt.equals(pl.Int64) ||
      dt.equals(pl.Int32) ||
      dt.equals(pl.Bool)
    );
  });
  const names = numeric.filter((c) => isCandidate(c, o.target, exclude));
  const conv = frame.select(
    ...[...names, o.target, "available_at_us"].map((c) =>
      pl.col(c).cast(pl.Float64).fillNull(pl.lit(Number.NaN)),
    ),
  );
  const col = (c: string) => conv.getColumn(c).toTypedArray() as Float64Array;
  const yAll = col(o.target);
  const tAll = col("available_at_us");
  const labelled: number[] = [];
  for (let i = 0; i < yAll.length; i++) if (Number.isFinite(yAll[i]!)) labelled.push(i);
  const rowsL = Int32Array.from(labelled);
  const times = subset(tAll, rowsL);
  const split = chronoSplit({ timesUs: times, horizonUs: horizonMs * 1000 }, o.ratios ?? [0.6, 0.2, 0.2]);
  if (split.train.length < 20 || split.validation.length < 5)
    throw new ConfigError(
      `selection: too few labelled rows (${split.train.length} train, ${split.validation.length} validation after purging)`,
    );
  const trainRows = Int32Array.from(split.train, (k) => rowsL[k]!);
  const valRows = Int32Array.from(split.validation, (k) => rowsL[k]!);

  // candidate screening on the training rows
  const ranking: RankedFeature[] = [];
  const dropped = (feature: string, status: RankedFeature["status"], reason: string): RankedFeature => ({
    feature,
    rank: null,
    status,
    reason,
    rfImportance: null,
    permutationMean: null,
    permutationStd: null,
    shapMeanAbs: null,
    xgbGain: null,
  });
  const usable: string[] = [];
  const full = new Map<string, Float64Array>();
  for (const c of names) {
    const v = col(c);
    let nulls = 0;
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (const i of trainRows) {
      const x = v[i]!;
      if (!Number.isFinite(x)) nulls++;
      else {
        lo = Math.min(lo, x);
        hi = Math.max(hi, x);
      }
    }
    const share = nulls / trainRows.length;
    if (share > maxNull)
      ranking.push(dropped(c, "null", `null in ${(100 * share).toFixed(1)} % of training rows`));
    else if (!(hi > lo)) ranking.push(dropped(c, "constant", "constant on the training rows"));
    else {
      usable.push(c);
      full.set(c, v);
    }
  }
  if (usable.length === 0)
    throw new ConfigError("selection: no usable feature column (all null or constant)");
  const complete = (rows: Int32Array) =>
    Int32Array.from(Array.from(rows).filter((i) => usable.every((c) => Number.isFinite(full.get(c)![i]!))));
  const tr = complete(trainRows);
  const va = complete(valRows);
  if (tr.length < 20 || va.length < 5)
    throw new ConfigError(`selection: too few complete rows (${tr.length} train, ${va.length} validation)`);

  const Xtr0 = usable.map((c) => subset(full.get(c)!, tr));
  const rho = pearsonMatrix(Xtr0);
  const cf = correlationFilter(rho, threshold);
  for (const d of cf.dropped)
    ranking.push(
      dropped(
        usable[d.index]!,
        "correlated",
        `|ρ| = ${Math.abs(d.rho).toFixed(4)} with ${usable[d.partner]!} (kept: earlier in the catalogue)`,
      ),
    );
  const kept = cf.kept.map((j) => usable[j]!);
  const Xtr = cf.kept.map((j) => Xtr0[j]!);
  const Xva = kept.map((c) => subset(full.get(c)!, va));
  const ytr = subset(yAll, tr);
  const yva = subset(yAll, va);

  let meanY = 0;
  for (const v of ytr) meanY += v / ytr.length;
  const maxFeatures = Math.max(1, Math.ceil(kept.length / 3));
  const forest = fitForest(Xtr, ytr, { trees, maxFeatures, maxDepth: 8, minSamplesLeaf: 5, seed });
  const mdi = forestImportance(forest);
  const perm = permutationImportance((X) => predictForest(forest, X), Xva, yva, { repeats, seed: seed + 1 });
  const xgbParams = {
    objective: "reg:squarederror",
    tree_method: "exact",
    max_depth: 4,
    eta: 0.1,
    nthread: 1,
    seed,
    base_score: meanY,
  };
  const model = trainXgboost(Xtr, ytr, xgbParams, rounds);
  let shap: Float64Array;
  let gain: Float64Array;
  let xgbMse: number;
  try {
    const contrib = model.contributions(Xva);
    const F = kept.length;
    shap = new Float64Array(F);
    for (let i = 0; i < va.length; i++)
      for (let j = 0; j < F; j++) shap[j]! += Math.abs(contrib[i * (F + 1) + j]!) / va.length;
    gain = model.importance("gain");
    xgbMse = mse(yva, model.predict(Xva));
  } finally {
    model.free();
  }
  const r1 = ranksDesc(mdi);
  const r2 = ranksDesc(perm.mean);
  const r3 = ranksDesc(shap);
  const order = kept
    .map((_, j) => j)
    .sort((a, b) => r1[a]! + r2[a]! + r3[a]! - (r1[b]! + r2[b]! + r3[b]!) || a - b);
  const scored: RankedFeature[] = order.map((j, k) => ({
    feature: kept[j]!,
    rank: k + 1,
    status: "scored",
    reason: "",
    rfImportance: mdi[j]!,
    permutationMean: perm.mean[j]!,
    permutationStd: perm.std[j]!,
    shapMeanAbs: shap[j]!,
    xgbGain: gain[j]!,
  }));
  const catalogue = new Map(names.map((c, i) => [c, i]));
  ranking.sort((a, b) => catalogue.get(a.feature)! - catalogue.get(b.feature)!);
  const selected = scored.slice(0, top).map((r) => r.feature);
  const topNames = scored.slice(0, Math.min(20, scored.length)).map((r) => r.feature);
  const topIdx = topNames.map((c) => kept.indexOf(c));
  return {
    target: o.target,
    ranking: [...scored, ...ranking],
    selected,
    rows: {
      frame: frame.height,
      nullTarget: frame.height - rowsL.length,
      train: tr.length,
      validation: va.length,
      test: split.test.length,
      purged: split.purged.length,
      droppedNullFeatures: trainRows.length - tr.length + (valRows.length - va.length),
    },
    settings: {
      threshold,
      top,
      horizon_ms: horizonMs,
      ratios: (o.ratios ?? [0.6, 0.2, 0.2]).join("/"),
      max_null_share: maxNull,
      rf_trees: trees,
      rf_max_features: maxFeatures,
      rf_max_depth: 8,
      rf_min_samples_leaf: 5,
      permutation_repeats: repeats,
      xgb_rounds: rounds,
      xgb_params: JSON.stringify(xgbParams),
      seed,
      ranking: "mean of ranks under RF MDI, permutation (validation) and mean |SHAP| (validation)",
    },
    validationMse: {
      forest: mse(yva, predictForest(forest, Xva)),
      xgboost: xgbMse,
      trainMean: mse(
        yva,
        yva.map(() => meanY),
      ),
    },
    topCorrelation: {
      names: topNames,
      matrix: topIdx.map((a) => topIdx.map((b) => rho[cf.kept[a]!]![cf.kept[b]!]!)),
    },
  };
}
