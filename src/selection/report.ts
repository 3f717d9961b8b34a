/**
 * Artifacts of a selection run (`pointline select`): in `outDir`
 * - `ranking.csv` — one row per candidate: rank, feature, status, rf_importance, permutation_mean,
 *   permutation_std, shap_mean_abs, xgb_gain, reason (empty cells for dropped features);
 * - `ranking.json` — the same with the settings, row accounting and validation MSEs;
 * - `selected.txt` — the selected features (the first `top` of the ranking), one per line;
 * - `selection.html` — a self-contained report (report/html.ts): the table, a bar chart of the three
 *   importances of the top features and the correlation heatmap of the top 20 on the training rows.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { TopLevelSpec } from "vega-lite";
import { type ChartSpec, heatmapSpec, htmlTable, renderHtmlReport } from "../report/html.js";
import type { SelectionResult } from "./select.js";

const SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json";

const num = (v: number | null) => (v === null ? "" : String(v));
const csvCell = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

/** The ranking as CSV text (header + one line per feature). */
export function rankingCsv(r: SelectionResult): string {
  const head =
    "rank,feature,status,rf_importance,permutation_mean,permutation_std,shap_mean_abs,xgb_gain,reason";
  const lines = r.ranking.map((f) =>
    [
      num(f.rank),
      csvCell(f.feature),
      f.status,
      num(f.rfImportance),
      num(f.permutationMean),
      num(f.permutationStd),
      num(f.shapMeanAbs),
      num(f.xgbGain),
      csvCell(f.reason),
    ].join(","),
  );
  return `${[head, ...lines].join("\n")}\n`;
}

function importanceChart(r: SelectionResult, topN: number): ChartSpec {
  const scored = r.ranking.filter((f) => f.rank !== null).slice(0, topN);
  // each measure scaled to its maximum over the shown features, so the three share one axis
  const measures = [
    ["RF impurity (MDI)", (f: (typeof scored)[number]) => f.rfImportance ?? 0],
    ["permutation (validation)", (f: (typeof scored)[number]) => Math.max(0, f.permutationMean ?? 0)],
    ["mean |SHAP| (validation)", (f: (typeof scored)[number]) => f.shapMeanAbs ?? 0],
  ] as const;
  const values: { feature: string; measure: string; share: number }[] = [];
  for (const [name, get] of measures) {
    const mx = Math.max(...scored.map(get), 0);
    for (const f of scored)
      values.push({ feature: f.feature, measure: name, share: mx > 0 ? get(f) / mx : 0 });
  }
  const spec: TopLevelSpec = {
    $schema: SCHEMA,
    data: { values },
    width: 420,
    height: { step: 7 },
    mark: "bar",
    encoding: {
      y: { field: "feature", type: "nominal", sort: scored.map((f) => f.feature), title: null },
      yOffset: { field: "measure", type: "nominal" },
      x: { field: "share", type: "quantitative", title: "importance / max over the shown features" },
      color: { field: "measure", type: "nominal", title: "measure", legend: { labelLimit: 300 } },
    },
  };
  return {
    id: "importance",
    title: `Importance of the top ${scored.length} features`,
    caption:
      "each measure divided by its maximum over these features; negative permutation importance shown as 0",
    spec,
  };
}

/** The HTML report. */
export async function selectionHtml(r: SelectionResult, source: string): Promise<string> {
  const fmt = (v: number | null, d = 4) => (v === null ? null : Number(v.toPrecision(d)));
  const rows = r.rows;
  const intro = [
    `Frame ${source}, target ${r.target}. Rows: ${rows.frame} read = ${rows.nullTarget} without target + ${rows.purged} purged + ${rows.droppedNullFeatures} with a null feature + ${rows.train} train + ${rows.validation} validation + ${rows.test} test (held out, unused).`,
    `Models are fitted on the training rows only; permutation importance and SHAP are measured on the validation rows. Validation MSE: forest ${r.validationMse.forest.toPrecision(4)}, XGBoost ${r.validationMse.xgboost.toPrecision(4)}, training mean ${r.validationMse.trainMean.toPrecision(4)}.`,
    `Correlation filter: of a pair with |ρ| > ${r.settings.threshold} on the training rows the feature earlier in the catalogue is kept. Ranking: ${r.settings.ranking}.`,
  ];
  const table = htmlTable(
    ["rank", "feature", "status", "RF MDI", "permutation ΔMSE", "± std", "mean |SHAP|", "XGB gain", "reason"],
    r.ranking.map((f) => [
      f.rank,
      f.feature,
      f.status,
      fmt(f.rfImportance),
      fmt(f.permutationMean),
      fmt(f.permutationStd),
      fmt(f.shapMeanAbs),
      fmt(f.xgbGain),
      f.reason || null,
    ]),
  );
  const charts: ChartSpec[] = [importanceChart(r, 40)];
  if (r.topCorrelation.names.length > 1)
    charts.push({
      id: "correlation",
      title: "Pearson ρ between the top features (training rows)",
      spec: heatmapSpec("ρ", r.topCorrelation.names, r.topCorrelation.matrix),
    });
  return renderHtmlReport(`Feature selection: ${r.target}`, intro, [
    { title: "Selected", text: [r.selected.join(", ") || "(none)"] },
    { title: "Importance", charts },
    { title: "Ranking", html: table },
    {
      title: "Settings",
      html: htmlTable(
        ["setting", "value"],
        Object.entries(r.settings).map(([k, v]) => [k, v]),
      ),
    },
  ]);
}

/** Writes the four artifacts; returns their paths. */
export async function writeSelectionArtifacts(
  r: SelectionResult,
  outDir: string,
  source: string,
): Promise<{ csv: string; json: string; selected: string; html: string }> {
  const dir = resolve(outDir);
  mkdirSync(dir, { recursive: true });
  const p = {
    csv: join(dir, "ranking.csv"),
    json: join(dir, "ranking.json"),
    selected: join(dir, "selected.txt"),
    html: join(dir, "selection.html"),
  };
  writeFileSync(p.csv, rankingCsv(r));
  writeFileSync(
    p.json,
    `${JSON.stringify({ kind: "pointline.feature_selection", version: 1, source, ...r }, null, 2)}\n`,
  );
  writeFileSync(p.selected, r.selected.map((s) => `${s}\n`).join(""));
  writeFileSync(p.html, await selectionHtml(r, source));
  return p;
}
