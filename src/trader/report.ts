/**
 * `feature_quality_report.md` of a trader frame: the reference's sections (split coverage, source
 * coverage, leakage check, extreme values, high correlation, drift, distribution), with the leakage
 * check's figures from an actual prefix-truncation run (trader/quality.ts).
 */
import { usToIso } from "../core/time.js";
import type { TraderFrame } from "./frame.js";
import type { QualityStats } from "./quality.js";
import { SPLIT_NAMES } from "./splits.js";

const fmt = (x: number | null | undefined, digits = 6): string =>
  x === null || x === undefined || Number.isNaN(x)
    ? "—"
    : Number.isInteger(x)
      ? String(x)
      : x.toPrecision(digits);
const pct = (x: number) => `${(100 * x).toFixed(2)} %`;

/** The Markdown report. */
export function qualityReportMarkdown(tf: TraderFrame, q: QualityStats): string {
  const out: string[] = [];
  out.push(
    "# Trader feature frame: quality report",
    "",
    `Source: ${tf.sourceLabel}. Feature version \`${tf.featureVersion}\`, ${q.features.length} features, ${q.rows} rows` +
      ` (${tf.filter.replayRows} replay rows; ${tf.filter.droppedRows} dropped by the complete-days filter, ${tf.filter.incompleteDays} incomplete symbol-days).`,
    "",
    "| flag | rows | share |",
    "|---|---|---|",
    ...Object.entries(q.flagCounts).map(([f, n]) => `| ${f} | ${n} | ${pct(q.rows ? n / q.rows : 0)} |`),
    "",
    "## Split coverage",
    "",
    `Purge ${tf.splitManifest.purgeMinutes} min, embargo ${tf.splitManifest.embargoMinutes} min, ${tf.splitManifest.walkForward.length} walk-forward folds.`,
    "",
    "| split_id | rows | share | first minute | last minute |",
    "|---|---|---|---|---|",
    ...q.splitCounts.map(
      (s) =>
        `| ${s.split} | ${s.rows} | ${pct(q.rows ? s.rows / q.rows : 0)} | ${s.from ?? "—"} | ${s.to ?? "—"} |`,
    ),
    "",
    "| walk_forward_fold | rows |",
    "|---|---|",
    ...q.foldCounts.map((f) => `| ${f.fold} | ${f.rows} |`),
    "",
    "## Source coverage",
    "",
    "Share of rows with each replay input present (`liquidation_available`: share of rows = 1). An input at 0 % is absent from the source: the features that read it are null (WARMUP) or 0 by their fill rule.",
    "",
    "| input | rows present | share |",
    "|---|---|---|",
    ...q.sourceCoverage.map((c) => `| ${c.column} | ${c.present} | ${pct(c.share)} |`),
    "",
    "## Leakage check (prefix truncation)",
    "",
    `Run on the frame: at ${q.leakage.cuts} cut times c (seed ${q.leakage.seed}, just after a random row's available_at_us, per symbol) the features were recomputed from the replay rows knowable before c, and every feature of every row with available_at_us < c was compared bitwise with the full run.`,
    "",
    `- rows compared: ${q.leakage.rowsCompared}`,
    `- values compared: ${q.leakage.valuesCompared}`,
    `- values that changed: ${q.leakage.violations.length}`,
    `- cuts: ${q.leakage.cutsUs.map((c) => usToIso(c)).join(", ") || "none (fewer than 2 rows)"}`,
    "",
    q.leakage.violations.length === 0
      ? "Result: **passed** — no feature used data from after its row was knowable."
      : `Result: **FAILED** — ${q.leakage.violations
          .slice(0, 10)
          .map(
            (v) =>
              `${v.symbol} ${v.column} at ${usToIso(v.tsEventUs)} (cut ${usToIso(v.cutUs)}): ${v.full} vs ${v.truncated}`,
          )
          .join("; ")}`,
    "",
    "## Extreme values",
    "",
    "| feature | null | NaN | +inf | −inf | finite |",
    "|---|---|---|---|---|---|",
    ...q.distribution.map(
      (d) => `| ${d.feature} | ${d.nulls} | ${d.nan} | ${d.posInf} | ${d.negInf} | ${d.finite} |`,
    ),
    "",
    "## High correlation",
    "",
    `Pearson's ρ on ${q.correlation.sampled} rows (seeded sample of at most 5,000), pairwise complete; pairs with |ρ| ≥ 0.95:`,
    "",
    ...(q.correlation.pairs.length === 0
      ? ["none"]
      : [
          "| feature a | feature b | ρ |",
          "|---|---|---|",
          ...q.correlation.pairs.map((p) => `| ${p.a} | ${p.b} | ${p.rho.toFixed(4)} |`),
        ]),
    "",
    "## Drift",
    "",
    "p50 and p99 per split, and their differences against `fit`.",
    "",
    `| feature | ${SPLIT_NAMES.map((s) => `${s} p50 | ${s} p99`).join(" | ")} | Δp50 tune | Δp99 tune | Δp50 validation_locked | Δp99 validation_locked |`,
    `|---|${SPLIT_NAMES.map(() => "---|---").join("|")}|---|---|---|---|`,
    ...q.drift.map((d) => {
      const fit = d.bySplit.fit!;
      const diff = (s: string, k: "p50" | "p99") => {
        const a = d.bySplit[s]?.[k];
        const b = fit[k];
        return a === null || a === undefined || b === null ? "—" : fmt(a - b);
      };
      return `| ${d.feature} | ${SPLIT_NAMES.map((s) => `${fmt(d.bySplit[s]!.p50)} | ${fmt(d.bySplit[s]!.p99)}`).join(" | ")} | ${diff("tune", "p50")} | ${diff("tune", "p99")} | ${diff("validation_locked", "p50")} | ${diff("validation_locked", "p99")} |`;
    }),
    "",
    "## Distribution",
    "",
    "| feature | nulls | min | p01 | p50 | p99 | max |",
    "|---|---|---|---|---|---|---|",
    ...q.distribution.map(
      (d) =>
        `| ${d.feature} | ${d.nulls} | ${fmt(d.min)} | ${fmt(d.p01)} | ${fmt(d.p50)} | ${fmt(d.p99)} | ${fmt(d.max)} |`,
    ),
    "",
  );
  return out.join("\n");
}
