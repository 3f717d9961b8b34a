/**
 * Feature selection against scikit-learn 1.2.1 / XGBoost 1.7.4 golden values
 * (test/fixtures/selection/gen_selection.py → selection.json, Debian python3-sklearn / python3-xgboost):
 * - one regression tree (no bootstrap, all features, min 5 rows per leaf): same structure, predictions and
 *   impurity importance as `DecisionTreeRegressor` (≤ 1e-12);
 * - permutation importance of that tree with the fixture's permutations = sklearn's MSE increase (≤ 1e-12);
 * - a 300-tree forest vs `RandomForestRegressor` (different generators): importances within 0.03 and the
 *   same two leading features;
 * - Pearson ρ vs `np.corrcoef` (≤ 1e-12); the correlation filter keeps the earlier of x0 ≈ x5;
 * - XGBoost through the C API vs the Python package: predictions and gain identical (float32), mean |SHAP|
 *   ≤ 1e-6 relative (numpy averages in float32), SHAP additivity (contributions sum to the prediction);
 * - `selectFeatures` / `pointline select` / `pointline splits` on a synthetic frame with a known signal.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import pl from "nodejs-polars";
import {
  fitForest,
  fitTree,
  forestImportance,
  predictTree,
  treeImportance,
} from "../../src/selection/forest.js";
import { correlationFilter, pearsonMatrix, permutationImportance } from "../../src/selection/importance.js";
import { selectFeatures } from "../../src/selection/select.js";
import { trainXgboost } from "../../src/selection/xgboost.js";
import { parseSplitManifest } from "../../src/trader/splits.js";
import { tempDir } from "../helpers/data.js";
import { REPO_ROOT, runCli } from "../helpers/run-cli.js";

interface Fixture {
  X: number[][];
  y: number[];
  tree: { importances: number[]; predict_validation: number[]; node_count: number; features: number[] };
  permutation: { perms: number[][]; baseline_mse: number; importances: number[] };
  forest: { trees: number; max_features: number; max_depth: number; importances: number[] };
  pearson: number[][];
  xgboost: {
    params: Record<string, string>;
    rounds: number;
    predict_validation: number[];
    mean_abs_shap: number[];
    contribs_first_rows: number[][];
    gain: number[];
    total_gain: number[];
  };
}

const fx = JSON.parse(
  readFileSync(join(REPO_ROOT, "test", "fixtures", "selection", "selection.json"), "utf8"),
) as Fixture;
const cols = (rows: number[][], k: number) =>
  Array.from({ length: k }, (_, j) => Float64Array.from(rows, (r) => r[j]!));
const train = fx.X.slice(0, 200);
const valid = fx.X.slice(200);
const ytr = Float64Array.from(fx.y.slice(0, 200));
const yva = Float64Array.from(fx.y.slice(200));

const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol: number, what: string, rel = false) => {
  assert.equal(a.length, b.length, `${what}: length`);
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    const lim = rel ? tol * Math.max(1e-12, Math.abs(b[i]!)) : tol;
    assert.ok(d <= lim, `${what}[${i}]: ${a[i]} vs ${b[i]} (|Δ| ${d})`);
  }
};

describe("a hand-checked tree", () => {
  it("y = 1,1,1,4,4,10 on x = 1..6 (x1 constant): splits at 5.5 then 3.5, MDI decrease 8.45 + 1.8 = 10.25", () => {
    // root: variance 10.25; x ≤ 5.5 leaves [1,1,1,4,4] (variance 2.16) and [10]: decrease 10.25 − 5·2.16/6 = 8.45
    // (x ≤ 4.5 gives 6.125, x ≤ 3.5 gives 6.25); then [1,1,1,4,4] splits at 3.5 into pure leaves: 5·2.16/6 = 1.8
    const t = fitTree(
      [Float64Array.of(1, 2, 3, 4, 5, 6), new Float64Array(6).fill(7)],
      Float64Array.of(1, 1, 1, 4, 4, 10),
      {
        maxDepth: 2,
      },
    );
    assert.deepEqual([...t.feature], [0, 0, -1, -1, -1]);
    assert.deepEqual([t.threshold[0], t.threshold[1]], [5.5, 3.5]);
    assert.deepEqual([...t.value].slice(2), [1, 4, 10]);
    assert.ok(Math.abs(t.decrease[0]! - 10.25) < 1e-12, `${t.decrease[0]}`);
    assert.equal(t.decrease[1], 0);
    assert.deepEqual([...treeImportance(t)], [1, 0]);
  });
});

describe("regression tree and forest vs scikit-learn", () => {
  const tree = fitTree(cols(train, 5), ytr, { maxDepth: 4, minSamplesLeaf: 5 });

  it("one tree: same structure, predictions and impurity importance as DecisionTreeRegressor", () => {
    assert.equal(tree.feature.length, fx.tree.node_count);
    assert.deepEqual(
      [...tree.feature],
      fx.tree.features.map((f) => (f < 0 ? -1 : f)),
    );
    const Xva = cols(valid, 5);
    close(
      valid.map((_, i) => predictTree(tree, Xva, i)),
      fx.tree.predict_validation,
      1e-12,
      "predict",
    );
    close(treeImportance(tree), fx.tree.importances, 1e-12, "importance");
  });

  it("permutation importance with sklearn's permutations = its MSE increase", () => {
    const Xva = cols(valid, 5);
    const predict = (X: readonly Float64Array[]) =>
      Float64Array.from(valid, (_, i) => predictTree(tree, X, i));
    const r = permutationImportance(predict, Xva, yva, { perms: fx.permutation.perms });
    assert.ok(Math.abs(r.baselineMse - fx.permutation.baseline_mse) < 1e-12);
    close(r.mean, fx.permutation.importances, 1e-12, "permutation");
  });

  it("a forest: importances within 0.03 of RandomForestRegressor, same two leaders", () => {
    const f = fitForest(cols(train, 6), ytr, {
      trees: fx.forest.trees,
      maxFeatures: fx.forest.max_features,
      maxDepth: fx.forest.max_depth,
      seed: 1,
    });
    const imp = forestImportance(f);
    close(imp, fx.forest.importances, 0.03, "forest importance");
    const top2 = (v: ArrayLike<number>) =>
      Array.from(v, (x, i) => [x, i] as const)
        .sort((a, b) => b[0] - a[0])
        .slice(0, 2)
        .map((p) => p[1])
        .sort();
    assert.deepEqual(top2(imp), top2(fx.forest.importances));
    assert.deepEqual(top2(imp), [0, 5]);
    assert.ok(Math.abs(imp.reduce((a, b) => a + b, 0) - 1) < 1e-12);
  });

  it("permutation importance on held-out rows: informative > 0, pure noise ≈ 0", () => {
    const f = fitForest(cols(train, 5), ytr, { trees: 30, maxFeatures: 2, seed: 3 });
    const { predictForest } = { predictForest: (X: readonly Float64Array[]) => forestPredict(f, X) };
    const r = permutationImportance(predictForest, cols(valid, 5), yva, { repeats: 5, seed: 9 });
    assert.ok(r.mean[0]! > 1, `x0: ${r.mean[0]}`);
    for (const j of [3, 4]) assert.ok(Math.abs(r.mean[j]!) < 0.1 * r.mean[0]!, `noise x${j}: ${r.mean[j]}`);
  });
});

function forestPredict(f: ReturnType<typeof fitForest>, X: readonly Float64Array[]): Float64Array {
  const n = X[0]!.length;
  return Float64Array.from(
    { length: n },
    (_, i) => f.trees.reduce((s, t) => s + predictTree(t, X, i), 0) / f.trees.length,
  );
}

describe("correlation", () => {
  it("Pearson matrix = np.corrcoef; the filter keeps x0 (earlier) and drops x5", () => {
    const rho = pearsonMatrix(cols(train, 6));
    for (let a = 0; a < 6; a++) close(rho[a]!, fx.pearson[a]!, 1e-12, `rho[${a}]`);
    const r = correlationFilter(rho, 0.95);
    assert.deepEqual(r.kept, [0, 1, 2, 3, 4]);
    assert.equal(r.dropped.length, 1);
    assert.deepEqual([r.dropped[0]!.index, r.dropped[0]!.partner], [5, 0]);
    assert.throws(() => correlationFilter(rho, 0), /threshold/);
  });
});

describe("XGBoost C API (koffi) vs the Python package", () => {
  const m = trainXgboost(cols(train, 6), ytr, fx.xgboost.params, fx.xgboost.rounds);
  after(() => m.free());
  const Xva = cols(valid, 6);

  it("predictions and gain importance are identical", () => {
    close(m.predict(Xva), fx.xgboost.predict_validation, 0, "predict");
    close(m.importance("gain"), fx.xgboost.gain, 0, "gain");
    close(m.importance("total_gain"), fx.xgboost.total_gain, 0, "total_gain");
  });

  it("exact TreeSHAP: mean |SHAP| and contributions match; contributions add up to the prediction", () => {
    const c = m.contributions(Xva);
    const mean = new Float64Array(6);
    for (let i = 0; i < 100; i++) for (let j = 0; j < 6; j++) mean[j]! += Math.abs(c[i * 7 + j]!) / 100;
    close(mean, fx.xgboost.mean_abs_shap, 1e-6, "mean |SHAP|", true);
    for (let i = 0; i < 3; i++)
      close(c.subarray(i * 7, i * 7 + 7), fx.xgboost.contribs_first_rows[i]!, 0, `row ${i}`);
    const p = m.predict(Xva);
    for (let i = 0; i < 100; i++) {
      let s = 0;
      for (let j = 0; j < 7; j++) s += c[i * 7 + j]!;
      assert.ok(
        Math.abs(s - p[i]!) < 1e-4 * Math.max(1, Math.abs(p[i]!)),
        `row ${i}: Σ SHAP ${s} vs ${p[i]}`,
      );
    }
  });

  it("a bad parameter is an error naming XGBoost's message", () => {
    assert.throws(
      () => trainXgboost(cols(train, 6), ytr, { tree_method: "nonsense" }, 1),
      /XGBoost .*nonsense/i,
    );
  });
});

/** A frame of 5-minute rows: x_signal drives target_return_1h, x_copy ≈ x_signal, x_null all null. */
function syntheticFrame(n: number): pl.DataFrame {
  let s = 12345;
  const rnd = () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
  const t = Array.from({ length: n }, (_, i) => 1_700_000_000_000_000 + i * 300_000_000);
  const sig = Array.from({ length: n }, rnd);
  const noise = Array.from({ length: n }, rnd);
  const noise2 = Array.from({ length: n }, rnd);
  return pl.DataFrame({
    ts_event_us: t,
    available_at_us: t,
    x_signal: sig,
    x_noise: noise,
    x_copy: sig.map((v, i) => v + 0.001 * noise2[i]!),
    x_noise2: noise2,
    x_null: pl.Series("x_null", new Array(n).fill(null), pl.Float64),
    target_other: noise,
    target_return_1h: sig.map((v, i) => (i >= n - 12 ? null : 2 * v + 0.1 * noise2[i]! ** 2)),
  });
}

describe("selectFeatures and the CLI on a synthetic frame", () => {
  const tmp = tempDir("select");
  const file = join(tmp.dir, "frame.parquet");
  before(() => syntheticFrame(600).writeParquet(file));
  after(() => tmp.cleanup());

  it("ranks the signal first, drops its later copy and the null column, accounts for every row", () => {
    const r = selectFeatures(syntheticFrame(600), {
      target: "target_return_1h",
      top: 2,
      trees: 30,
      xgbRounds: 30,
    });
    assert.equal(r.ranking[0]!.feature, "x_signal");
    const by = new Map(r.ranking.map((f) => [f.feature, f]));
    assert.equal(by.get("x_copy")!.status, "correlated");
    assert.match(by.get("x_copy")!.reason, /with x_signal/);
    assert.equal(by.get("x_null")!.status, "null");
    assert.ok(!by.has("target_other") && !by.has("available_at_us"));
    assert.deepEqual(r.selected.length, 2);
    const x = r.rows;
    assert.equal(x.frame, x.nullTarget + x.purged + x.droppedNullFeatures + x.train + x.validation + x.test);
    assert.equal(x.nullTarget, 12);
    // 1 h horizon on 5-minute rows: 12 training rows reach validation; 12 validation rows reach test
    assert.equal(x.purged, 24);
  });

  it("pointline select writes the ranking, the selected list and the report", async () => {
    const out = join(tmp.dir, "sel");
    const r = await runCli([
      "select",
      "--in",
      file,
      "--target",
      "target_return_1h",
      "--top",
      "3",
      "--trees",
      "20",
      "--rounds",
      "20",
      "--out",
      out,
    ]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /top 3: x_signal, /);
    assert.equal(readFileSync(join(out, "selected.txt"), "utf8").trim().split("\n").length, 3);
    const csv = readFileSync(join(out, "ranking.csv"), "utf8").split("\n");
    assert.match(csv[0]!, /^rank,feature,status,rf_importance,permutation_mean/);
    assert.match(csv[1]!, /^1,x_signal,scored,/);
    const html = readFileSync(join(out, "selection.html"), "utf8");
    assert.match(html, /data-chart="importance"/);
    assert.match(html, /<svg/);
    assert.ok(existsSync(join(out, "ranking.json")));
  });

  it("pointline splits writes manifests in the trader format for every scheme", async () => {
    for (const scheme of ["chrono", "walk-forward", "purged-kfold"]) {
      const out = join(tmp.dir, `${scheme}.json`);
      const r = await runCli([
        "splits",
        "--in",
        file,
        "--scheme",
        scheme,
        "--target",
        "target_return_1h",
        "--folds",
        "3",
        "--embargo-minutes",
        "30",
        "--out",
        out,
      ]);
      assert.equal(r.status, 0, r.stderr);
      const m = parseSplitManifest(JSON.parse(readFileSync(out, "utf8")));
      assert.equal(m.purgeMinutes, 60);
      if (scheme === "walk-forward") assert.equal(m.walkForward.length, 3);
      if (scheme === "purged-kfold") assert.equal(m.purgedKFold?.length, 3);
      if (scheme === "chrono") assert.ok(m.splits.fit && m.splits.tune && m.splits.validation_locked);
    }
    const bad = await runCli(["splits", "--in", file, "--out", join(tmp.dir, "x.json")]);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /--target|--horizon-minutes/);
  });
});
