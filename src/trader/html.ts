/**
 * `feature_quality_report.html` of a trader frame: one self-contained file (report/html.ts) with per-feature
 * histograms by split, a drift chart, the correlation heatmap, flag counts per day and the null / warm-up
 * timeline, beside the tables of the Markdown report's sections.
 */
import type { TopLevelSpec } from "vega-lite";
import { type ChartSpec, heatmapSpec, histogramBins, htmlTable, renderHtmlReport } from "../report/html.js";
import type { TraderFrame } from "./frame.js";
import { columnValues, type QualityStats } from "./quality.js";
import { SPLIT_NAMES } from "./splits.js";

const SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json";

/**
 * Histograms of every feature by split (40 bins between the feature's p01 and p99; values outside go to
 * the edge bins), as one faceted chart with independent scales (one Vega view: rendering 33 separate
 * views costs seconds).
 */
function histograms(tf: TraderFrame, q: QualityStats): ChartSpec {
  const split = tf.frame.getColumn("split_id").toArray() as string[];
  const data: { feature: string; x0: number; x1: number; count: number; group: string }[] = [];
  tf.features.forEach((f, k) => {
    const { values } = columnValues(tf.frame, f);
    const d = q.distribution[k]!;
    const lo = d.p01 ?? 0;
    const hi = d.p99 ?? 0;
    for (const s of SPLIT_NAMES) {
      const v = values.filter((_, i) => split[i] === s);
      if (v.length === 0) continue;
      for (const b of histogramBins(v, 40, lo, hi)) data.push({ feature: f, ...b, group: s });
    }
  });
  const spec: TopLevelSpec = {
    $schema: SCHEMA,
    data: { values: data.length ? data : [{ feature: "(no values)", x0: 0, x1: 0, count: 0, group: "fit" }] },
    facet: { field: "feature", type: "nominal", title: null, sort: [...tf.features] },
    columns: 4,
    spec: {
      width: 220,
      height: 110,
      mark: { type: "bar", opacity: 0.6 },
      encoding: {
        x: { field: "x0", type: "quantitative", title: null, axis: { format: "~s", tickCount: 4 } },
        x2: { field: "x1" },
        y: { field: "count", type: "quantitative", stack: null, title: "rows" },
        y2: { datum: 0 },
        color: { field: "group", type: "nominal", title: "split" },
      },
    },
    resolve: { scale: { x: "independent", y: "independent" } },
  };
  return { id: "histograms", title: "Histograms of every feature by split (p01–p99 range)", spec };
}

/** Drift: (p50 of a split − p50 of fit) / (p99 − p01 over the frame), per feature. */
function driftChart(q: QualityStats): ChartSpec {
  const values: { feature: string; split: string; shift: number }[] = [];
  q.drift.forEach((d, k) => {
    const dist = q.distribution[k]!;
    const scale = (dist.p99 ?? 0) - (dist.p01 ?? 0);
    const fit = d.bySplit.fit?.p50;
    for (const s of ["tune", "validation_locked"]) {
      const p = d.bySplit[s]?.p50;
      if (fit === null || fit === undefined || p === null || p === undefined || !(scale > 0)) continue;
      values.push({ feature: d.feature, split: s, shift: (p - fit) / scale });
    }
  });
  const spec: TopLevelSpec = {
    $schema: SCHEMA,
    title: "median shift against fit (share of the p01–p99 range)",
    width: 700,
    height: Math.max(120, 14 * q.features.length),
    data: { values: values.length ? values : [{ feature: "(no split values)", split: "tune", shift: 0 }] },
    mark: { type: "point", filled: true, size: 60 },
    encoding: {
      y: { field: "feature", type: "nominal", sort: [...q.features], title: null },
      x: { field: "shift", type: "quantitative", title: "(p50 split − p50 fit) / (p99 − p01)" },
      color: { field: "split", type: "nominal" },
    },
  };
  return { id: "drift", title: "Drift of the median by split", spec };
}

function flagsChart(q: QualityStats): ChartSpec {
  const spec: TopLevelSpec = {
    $schema: SCHEMA,
    title: "rows per UTC day by data_quality_flag",
    width: 700,
    height: 200,
    data: { values: q.flagsPerDay.filter((r) => r.rows > 0).map((r) => ({ ...r })) },
    mark: "bar",
    encoding: {
      x: { field: "day", type: "ordinal", title: null },
      y: { field: "rows", type: "quantitative", stack: "zero", title: "rows" },
      color: {
        field: "flag",
        type: "nominal",
        scale: { domain: ["WARMUP", "PARTIAL_OPTIONAL", "OK"], range: ["#d62728", "#ff7f0e", "#2ca02c"] },
      },
    },
  };
  return { id: "flags_per_day", title: "Flag counts per day", spec };
}

function nullTimeline(q: QualityStats): ChartSpec {
  const spec: TopLevelSpec = {
    $schema: SCHEMA,
    title: "null share of the features and WARMUP rows per UTC day",
    width: 700,
    height: 160,
    data: { values: q.nullsPerDay.map((r) => ({ ...r })) },
    layer: [
      {
        mark: { type: "line", point: true },
        encoding: {
          x: { field: "day", type: "ordinal", title: null },
          y: { field: "nullShare", type: "quantitative", title: "null share", axis: { format: "%" } },
        },
      },
      {
        mark: { type: "bar", opacity: 0.25 },
        encoding: {
          x: { field: "day", type: "ordinal" },
          y: { field: "warmupRows", type: "quantitative", title: "WARMUP rows" },
        },
      },
    ],
    resolve: { scale: { y: "independent" } },
  };
  return { id: "null_timeline", title: "Null / warm-up timeline", spec };
}

/** The HTML report. */
export async function qualityReportHtml(tf: TraderFrame, q: QualityStats): Promise<string> {
  const pct = (x: number) => `${(100 * x).toFixed(2)} %`;
  return renderHtmlReport(
    "Trader feature frame: quality report",
    [
      `Source: ${tf.sourceLabel}. Feature version ${tf.featureVersion}, ${q.features.length} features, ${q.rows} rows.`,
      `Flags: ${Object.entries(q.flagCounts)
        .map(([f, n]) => `${f} ${n}`)
        .join(", ")}.`,
    ],
    [
      { title: "Flags and warm-up", charts: [flagsChart(q), nullTimeline(q)] },
      {
        title: "Split coverage",
        html: htmlTable(
          ["split_id", "rows", "first minute", "last minute"],
          q.splitCounts.map((s) => [s.split, s.rows, s.from, s.to]),
        ),
      },
      {
        title: "Source coverage",
        html: htmlTable(
          ["input", "rows present", "share"],
          q.sourceCoverage.map((c) => [c.column, c.present, pct(c.share)]),
        ),
      },
      {
        title: "Leakage check (prefix truncation)",
        text: [
          `${q.leakage.cuts} cuts, ${q.leakage.rowsCompared} rows and ${q.leakage.valuesCompared} values compared bitwise; ${q.leakage.violations.length} changed: ${q.leakage.violations.length === 0 ? "passed" : "FAILED"}.`,
        ],
      },
      { title: "Distributions by split", charts: [histograms(tf, q)] },
      { title: "Drift", charts: [driftChart(q)] },
      {
        title: "Correlation",
        text: [
          `Pearson's ρ on ${q.correlation.sampled} sampled rows; ${q.correlation.pairs.length} pairs with |ρ| ≥ 0.95.`,
        ],
        charts: [
          {
            id: "correlation",
            title: "Correlation heatmap",
            spec: heatmapSpec("Pearson ρ", q.features, q.correlation.matrix),
          },
        ],
        html: q.correlation.pairs.length
          ? htmlTable(
              ["a", "b", "ρ"],
              q.correlation.pairs.map((p) => [p.a, p.b, p.rho.toFixed(4)]),
            )
          : "",
      },
      {
        title: "Extreme values and distribution",
        html: htmlTable(
          ["feature", "null", "NaN", "+inf", "−inf", "min", "p01", "p50", "p99", "max"],
          q.distribution.map((d) => [
            d.feature,
            d.nulls,
            d.nan,
            d.posInf,
            d.negInf,
            d.min,
            d.p01,
            d.p50,
            d.p99,
            d.max,
          ]),
        ),
      },
    ],
  );
}
