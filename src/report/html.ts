/**
 * Self-contained HTML quality reports with charts: each chart is a Vega-Lite spec compiled to Vega and
 * rendered to SVG in Node (`vega-lite` compile → `new vega.View(vega.parse(spec), { renderer: "none" })` →
 * `toSVG()`), inlined in one HTML file with its CSS — no script, no network, no CDN. Shared by the trader
 * frame report (trader/html.ts) and the pipeline run's report (pipeline artifacts).
 *
 * Data given to a chart is pre-aggregated (histogram bins, quantiles, correlations, per-day counts), so
 * a report's size does not grow with the frame's row count.
 */
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";

/** One chart of a report: a title, an id (the figure's `data-chart`) and its Vega-Lite spec. */
export interface ChartSpec {
  readonly id: string;
  readonly title: string;
  readonly spec: TopLevelSpec;
  /** Optional caption under the chart. */
  readonly caption?: string;
}

/** A report section: heading, optional paragraphs of text (escaped), charts and raw HTML tables. */
export interface ReportSection {
  readonly title: string;
  readonly text?: readonly string[];
  readonly charts?: readonly ChartSpec[];
  /** Pre-rendered, escaped HTML (e.g. from `htmlTable`). */
  readonly html?: string;
}

/** Escapes text for HTML. */
export function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** An HTML table of escaped cells. */
export function htmlTable(
  head: readonly string[],
  rows: readonly (readonly (string | number | null)[])[],
): string {
  const cell = (v: string | number | null) => esc(v === null ? "—" : String(v));
  return `<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join("")}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((v) => `<td>${cell(v)}</td>`).join("")}</tr>`)
    .join("")}</tbody></table>`;
}

/** Renders one Vega-Lite spec to an SVG string (no browser, no canvas). @throws Error from Vega on a bad spec. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const vg = compile(spec).spec;
  const view = new vega.View(vega.parse(vg), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

const CSS = `body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;max-width:1200px;color:#222}
h1{font-size:1.6em}h2{margin-top:2em;border-bottom:1px solid #ddd;padding-bottom:4px}
table{border-collapse:collapse;font-size:12px;margin:8px 0}td,th{border:1px solid #ddd;padding:3px 6px;text-align:right}
th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}
.charts{display:flex;flex-wrap:wrap;gap:12px}figure.chart{margin:0;padding:6px;border:1px solid #eee;background:#fff}
figure.chart figcaption{font-size:12px;color:#555;max-width:560px}nav a{margin-right:12px}`;

/** The whole report as one HTML document (charts rendered to inline SVG). */
export async function renderHtmlReport(
  title: string,
  intro: readonly string[],
  sections: readonly ReportSection[],
): Promise<string> {
  const parts: string[] = [];
  parts.push(
    "<!DOCTYPE html>",
    `<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${esc(title)}</title><style>${CSS}</style></head><body>`,
    `<h1>${esc(title)}</h1>`,
    ...intro.map((p) => `<p>${esc(p)}</p>`),
    `<nav>${sections.map((s, k) => `<a href="#s${k}">${esc(s.title)}</a>`).join("")}</nav>`,
  );
  for (const [k, s] of sections.entries()) {
    parts.push(`<section id="s${k}"><h2>${esc(s.title)}</h2>`);
    for (const p of s.text ?? []) parts.push(`<p>${esc(p)}</p>`);
    if (s.html) parts.push(s.html);
    if (s.charts && s.charts.length > 0) {
      parts.push('<div class="charts">');
      for (const c of s.charts) {
        const svg = await renderSvg(c.spec);
        parts.push(
          `<figure class="chart" data-chart="${esc(c.id)}">${svg}<figcaption>${esc(c.title)}${c.caption ? ` — ${esc(c.caption)}` : ""}</figcaption></figure>`,
        );
      }
      parts.push("</div>");
    }
    parts.push("</section>");
  }
  parts.push("</body></html>");
  return parts.join("\n");
}

/** Equal-width histogram bins of finite values between their p01 and p99 (outliers go to the edge bins). */
export function histogramBins(
  values: ArrayLike<number>,
  bins: number,
  lo: number,
  hi: number,
): { x0: number; x1: number; count: number }[] {
  const out = Array.from({ length: bins }, (_, k) => ({
    x0: lo + ((hi - lo) * k) / bins,
    x1: lo + ((hi - lo) * (k + 1)) / bins,
    count: 0,
  }));
  const w = hi > lo ? (hi - lo) / bins : 1;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) continue;
    const k = hi > lo ? Math.min(bins - 1, Math.max(0, Math.floor((v - lo) / w))) : 0;
    out[k]!.count++;
  }
  return out;
}

/** A Vega-Lite heatmap of a correlation matrix. */
export function heatmapSpec(
  title: string,
  names: readonly string[],
  matrix: readonly (readonly (number | null)[])[],
): TopLevelSpec {
  const values: { a: string; b: string; rho: number | null }[] = [];
  names.forEach((a, i) => {
    names.forEach((b, j) => {
      values.push({ a, b, rho: matrix[i]![j] ?? null });
    });
  });
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title,
    width: Math.max(200, 14 * names.length),
    height: Math.max(200, 14 * names.length),
    data: { values },
    mark: "rect",
    encoding: {
      x: { field: "a", type: "nominal", sort: [...names], title: null },
      y: { field: "b", type: "nominal", sort: [...names], title: null },
      color: {
        field: "rho",
        type: "quantitative",
        scale: { domain: [-1, 1], scheme: "redblue", reverse: true },
        title: "ρ",
      },
    },
  };
}
