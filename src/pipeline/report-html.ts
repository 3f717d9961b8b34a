/**
 * `quality_report.html` of a pipeline run: the Markdown report's content as one self-contained HTML page
 * with charts (report/html.ts: Vega-Lite rendered to SVG in Node) — the decision and gate results,
 * histograms of every feature and label column, the feature correlation heatmap (Pearson, pipeline/stats.ts),
 * and the null share of the features and the rows per UTC day (timeline).
 */
import { usToIso } from "../core/time.js";
import { heatmapSpec, histogramBins, htmlTable, renderHtmlReport } from "../report/html.js";
import type { Decision, GateResult, PipelineColumn } from "./gate-types.js";
import { columnStats } from "./report.js";
import { pearson } from "./stats.js";

/** Input of `pipelineReportHtml`. */
export interface PipelineReportHtmlInput {
  readonly requestId: string;
  readonly decision: Decision;
  readonly gates: readonly GateResult[];
  readonly columns: readonly PipelineColumn[];
  /** Values of every feature and label column and of `ts_event_us` (NaN = null). */
  readonly values: ReadonlyMap<string, Float64Array>;
  readonly rowCount: number;
}

const SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json";

/** The HTML report of a pipeline run (see the module doc). */
export async function pipelineReportHtml(input: PipelineReportHtmlInput): Promise<string> {
  const features = input.columns.filter((c) => c.role === "feature").map((c) => c.name);
  const numeric = input.columns.filter((c) => c.role !== "spine").map((c) => c.name);
  const hist: { feature: string; x0: number; x1: number; count: number; group: string }[] = [];
  const stats = numeric.map((name) => {
    const v = input.values.get(name) ?? new Float64Array(input.rowCount).fill(Number.NaN);
    const st = columnStats(v);
    if (st.p01 !== null && st.p99 !== null)
      for (const b of histogramBins(v, 40, st.p01, st.p99))
        hist.push({ feature: name, ...b, group: "all rows" });
    return { name, st };
  });
  const matrix = features.map((a) =>
    features.map((b) => {
      if (a === b) return 1;
      const r = pearson(input.values.get(a)!, input.values.get(b)!).r;
      return Number.isNaN(r) ? null : r;
    }),
  );
  const ts = input.values.get("ts_event_us");
  const perDay = new Map<string, { rows: number; nulls: number; cells: number }>();
  if (ts)
    for (let i = 0; i < ts.length; i++) {
      const d = usToIso(ts[i]!).slice(0, 10);
      let e = perDay.get(d);
      if (!e) {
        e = { rows: 0, nulls: 0, cells: 0 };
        perDay.set(d, e);
      }
      e.rows++;
      for (const f of features) {
        e.cells++;
        if (Number.isNaN(input.values.get(f)![i]!)) e.nulls++;
      }
    }
  const days = [...perDay.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([day, e]) => ({ day, rows: e.rows, nullShare: e.cells ? e.nulls / e.cells : 0 }));
  return renderHtmlReport(
    `Quality report: ${input.requestId} — ${input.decision.status.toUpperCase()}`,
    [`${input.rowCount} rows, ${features.length} features.`, ...input.decision.reasons],
    [
      {
        title: "Gates",
        html: htmlTable(
          ["gate", "result", "reason"],
          input.gates.map((g) => [g.name, g.skipped ? "skipped" : g.passed ? "passed" : "FAILED", g.reason]),
        ),
      },
      {
        title: "Distributions",
        charts: [
          {
            id: "histograms",
            title: "Histograms of every feature and label (p01–p99 range)",
            spec: {
              $schema: SCHEMA,
              data: {
                values: hist.length
                  ? hist
                  : [{ feature: "(no values)", x0: 0, x1: 0, count: 0, group: "all rows" }],
              },
              facet: { field: "feature", type: "nominal", title: null, sort: numeric },
              columns: 4,
              spec: {
                width: 220,
                height: 110,
                mark: { type: "bar", opacity: 0.7 },
                encoding: {
                  x: { field: "x0", type: "quantitative", title: null, axis: { format: "~s", tickCount: 4 } },
                  x2: { field: "x1" },
                  y: { field: "count", type: "quantitative", stack: null, title: "rows" },
                  y2: { datum: 0 },
                },
              },
              resolve: { scale: { x: "independent", y: "independent" } },
            },
          },
        ],
        html: htmlTable(
          ["column", "null", "+inf", "−inf", "min", "p01", "p50", "p99", "max"],
          stats.map(({ name, st }) => [
            name,
            st.nulls,
            st.posInf,
            st.negInf,
            st.min,
            st.p01,
            st.p50,
            st.p99,
            st.max,
          ]),
        ),
      },
      {
        title: "Correlation",
        charts:
          features.length > 1
            ? [
                {
                  id: "correlation",
                  title: "Feature correlation heatmap",
                  spec: heatmapSpec("Pearson ρ", features, matrix),
                },
              ]
            : [],
      },
      {
        title: "Nulls per day",
        charts: [
          {
            id: "null_timeline",
            title: "Null share of the features and rows per UTC day",
            spec: {
              $schema: SCHEMA,
              width: 700,
              height: 160,
              data: { values: days.length ? days : [{ day: "(no rows)", rows: 0, nullShare: 0 }] },
              layer: [
                {
                  mark: { type: "bar", opacity: 0.3 },
                  encoding: {
                    x: { field: "day", type: "ordinal", title: null },
                    y: { field: "rows", type: "quantitative", title: "rows" },
                  },
                },
                {
                  mark: { type: "line", point: true },
                  encoding: {
                    x: { field: "day", type: "ordinal" },
                    y: {
                      field: "nullShare",
                      type: "quantitative",
                      title: "null share",
                      axis: { format: "%" },
                    },
                  },
                },
              ],
              resolve: { scale: { y: "independent" } },
            },
          },
        ],
      },
    ],
  );
}
