/**
 * Quality report of a pipeline v2 run: per-column statistics, high-correlation feature pairs and a
 * Markdown report (`quality_report.md`) with the decision, the gate results, the column tables and the
 * metric results.
 *
 * Columns are Float64Array with NaN = null (the pipeline's typed form of a frame column; Int64 columns
 * are converted to float64 by the caller). Statistics over "finite" values ignore NaN and ±∞.
 */
import { ConfigError } from "../core/errors.js";
import type { Decision, GateResult, PipelineColumn } from "./gate-types.js";
import { meanStd, pearson, quantileSorted } from "./stats.js";

/**
 * Statistics of one column.
 * - `count`: all values; `nulls`: NaN values (nulls); `posInf`/`negInf`: +∞/−∞; `finite`: the rest
 *   (count = nulls + posInf + negInf + finite).
 * - `min`, `max`, `mean`, `std` (sample standard deviation, ddof = 1 as Polars' `std()`), `p01`, `p50`,
 *   `p99`: over the finite values only; null when there is no finite value (`std` also when there is one).
 */
export interface ColumnStats {
  readonly count: number;
  readonly nulls: number;
  readonly posInf: number;
  readonly negInf: number;
  readonly finite: number;
  readonly min: number | null;
  readonly max: number | null;
  readonly mean: number | null;
  readonly std: number | null;
  readonly p01: number | null;
  readonly p50: number | null;
  readonly p99: number | null;
}

/**
 * Counts and statistics of a column (see `ColumnStats`).
 *
 * Quantiles use linear interpolation between order statistics of the sorted finite values, the "linear"
 * method of numpy.quantile / Polars `quantile(q, "linear")` (Hyndman & Fan 1996, definition 7):
 * h = (n − 1)·q, Q = x[⌊h⌋] + (h − ⌊h⌋)·(x[⌊h⌋+1] − x[⌊h⌋]) (`quantileSorted` of stats.ts). Mean and std
 * are two-pass (mean first, then the sum of squared deviations), std with ddof = 1 (`meanStd` of
 * stats.ts). Cost: one copy and sort of the finite values, O(n log n).
 */
export function columnStats(values: Float64Array): ColumnStats {
  const n = values.length;
  let nulls = 0;
  let posInf = 0;
  let negInf = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    if (Number.isNaN(v)) nulls++;
    else if (v === Number.POSITIVE_INFINITY) posInf++;
    else if (v === Number.NEGATIVE_INFINITY) negInf++;
  }
  const finite = n - nulls - posInf - negInf;
  const base = { count: n, nulls, posInf, negInf, finite };
  if (finite === 0) {
    return { ...base, min: null, max: null, mean: null, std: null, p01: null, p50: null, p99: null };
  }
  const sorted = new Float64Array(finite);
  let k = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    if (Number.isFinite(v)) sorted[k++] = v;
  }
  sorted.sort();
  const { mean, std } = meanStd(values);
  return {
    ...base,
    min: sorted[0]!,
    max: sorted[finite - 1]!,
    mean,
    std: finite > 1 ? std : null,
    p01: quantileSorted(sorted, 0.01),
    p50: quantileSorted(sorted, 0.5),
    p99: quantileSorted(sorted, 0.99),
  };
}

/** A pair of columns with a high Pearson correlation, over the `n` rows where both are finite. */
export interface CorrelationPair {
  readonly a: string;
  readonly b: string;
  readonly corr: number;
  readonly n: number;
}

/**
 * Pairs of `names` (a before b, in `names` order) whose Pearson correlation has |corr| > `threshold`,
 * sorted by |corr| descending (ties keep the pair order). Each pair uses the rows where both values are
 * finite (pairwise deletion, as pandas `DataFrame.corr()`); a pair with fewer than 2 such rows or a
 * constant column over them has no correlation and is never reported.
 *
 * Formula: r = Σ(a−ā)(b−b̄) / √(Σ(a−ā)² Σ(b−b̄)²), two passes per pair (means, then centred sums),
 * clamped to [−1, 1] (`pearson` of stats.ts). Cost O(k² n) for k names and n rows.
 * @throws ConfigError when a name is missing from `columns` or the columns differ in length
 */
export function highCorrelationPairs(
  columns: ReadonlyMap<string, Float64Array>,
  names: readonly string[],
  threshold: number,
): CorrelationPair[] {
  const cols = names.map((name) => {
    const c = columns.get(name);
    if (c === undefined) throw new ConfigError(`highCorrelationPairs: no values for column ${name}`);
    return c;
  });
  const len = cols[0]?.length ?? 0;
  cols.forEach((c, i) => {
    if (c.length !== len) {
      throw new ConfigError(
        `highCorrelationPairs: column ${names[i]} has ${c.length} rows, ${names[0]} has ${len}`,
      );
    }
  });
  const out: CorrelationPair[] = [];
  for (let i = 0; i < cols.length; i++) {
    for (let j = i + 1; j < cols.length; j++) {
      const { r: corr, n } = pearson(cols[i]!, cols[j]!);
      if (Math.abs(corr) > threshold) out.push({ a: names[i]!, b: names[j]!, corr, n });
    }
  }
  return out.sort((p, q) => Math.abs(q.corr) - Math.abs(p.corr));
}

/** Input of `qualityReportMarkdown`. */
export interface QualityReportInput {
  readonly requestId: string;
  readonly decision: Decision;
  readonly rowCount: number;
  /** Every column of the frame (spine columns are listed in the header only). */
  readonly columns: readonly PipelineColumn[];
  /** Values of every feature and label column (NaN = null), each `rowCount` long. */
  readonly values: ReadonlyMap<string, Float64Array>;
  readonly gates: readonly GateResult[];
  /** Feature pairs with |Pearson r| above this are listed (e.g. 0.95). */
  readonly correlationThreshold: number;
  /** Output range of the run (ISO timestamps). */
  readonly timeline: { readonly start: string; readonly end: string };
  /** Spine description, e.g. "clock 1000 ms". */
  readonly spine: string;
  /** Metric results (any JSON-serialisable values), printed as JSON code blocks. */
  readonly metrics?: readonly unknown[];
}

/**
 * The Markdown quality report of a run: title with request id and decision (status and reasons), the
 * timeline, spine and row count; a table of gate results (name, passed/failed/skipped, critical,
 * reason); a table of feature columns and one of label columns (NaN, +inf, −inf and finite counts, min,
 * p01, p50, p99, max; see `columnStats`); the feature pairs with |r| > threshold (`highCorrelationPairs`)
 * or a line saying there are none; the metric results as JSON code blocks.
 *
 * Numbers are printed with 6 significant digits (counts exactly); table cells escape `\` and `|` and
 * fold line breaks, so every table row has the same number of cells.
 * @throws ConfigError when a feature/label column has no values or its length differs from rowCount
 */
export function qualityReportMarkdown(input: QualityReportInput): string {
  const { decision } = input;
  const lines: string[] = [];
  lines.push(`# Quality report: ${inline(input.requestId)} — ${decision.status.toUpperCase()}`, "");
  lines.push(`**Decision:** ${decision.status}`, "");
  if (decision.reasons.length > 0) {
    lines.push("Reasons:", "");
    for (const r of decision.reasons) lines.push(`- ${inline(r)}`);
    lines.push("");
  }
  lines.push(
    "## Run",
    "",
    `- Timeline: ${inline(input.timeline.start)} → ${inline(input.timeline.end)}`,
    `- Spine: ${inline(input.spine)}`,
    `- Rows: ${input.rowCount}`,
    "",
  );

  lines.push("## Gates", "");
  if (input.gates.length === 0) lines.push("No gates were evaluated.", "");
  else {
    lines.push(
      ...table(
        ["Gate", "Result", "Critical", "Reason"],
        input.gates.map((g) => [
          g.name,
          g.skipped ? "skipped" : g.passed ? "passed" : "failed",
          g.critical ? "yes" : "no",
          g.reason,
        ]),
      ),
      "",
    );
  }

  const features = input.columns.filter((c) => c.role === "feature");
  const labels = input.columns.filter((c) => c.role === "label");
  const valuesOf = (c: PipelineColumn): Float64Array => {
    const v = input.values.get(c.name);
    if (v === undefined) throw new ConfigError(`quality report: no values for ${c.role} column ${c.name}`);
    if (v.length !== input.rowCount) {
      throw new ConfigError(
        `quality report: ${c.role} column ${c.name} has ${v.length} values, the frame has ${input.rowCount} rows`,
      );
    }
    return v;
  };
  for (const [title, cols] of [
    ["Features", features],
    ["Labels", labels],
  ] as const) {
    lines.push(`## ${title}`, "");
    if (cols.length === 0) {
      lines.push(`No ${title.toLowerCase()}.`, "");
      continue;
    }
    const rows = cols.map((c) => {
      const s = columnStats(valuesOf(c));
      return [
        c.name,
        c.unit,
        String(s.nulls),
        String(s.posInf),
        String(s.negInf),
        String(s.finite),
        num(s.min),
        num(s.p01),
        num(s.p50),
        num(s.p99),
        num(s.max),
      ];
    });
    lines.push(
      ...table(["Column", "Unit", "NaN", "+inf", "−inf", "Finite", "Min", "p01", "p50", "p99", "Max"], rows),
      "",
    );
  }

  const th = num(input.correlationThreshold);
  lines.push(`## Highly correlated feature pairs (|r| > ${th})`, "");
  const pairs = highCorrelationPairs(
    new Map(features.map((c) => [c.name, valuesOf(c)])),
    features.map((c) => c.name),
    input.correlationThreshold,
  );
  if (pairs.length === 0) lines.push(`No pair of features has |r| > ${th}.`, "");
  else {
    lines.push(
      ...table(
        ["Feature A", "Feature B", "r", "Rows"],
        pairs.map((p) => [p.a, p.b, num(p.corr), String(p.n)]),
      ),
      "",
    );
  }

  lines.push("## Metrics", "");
  const metrics = input.metrics ?? [];
  if (metrics.length === 0) lines.push("No metrics were computed.", "");
  for (const m of metrics) {
    const name =
      m !== null && typeof m === "object" && typeof (m as { name?: unknown }).name === "string"
        ? (m as { name: string }).name
        : null;
    if (name !== null) lines.push(`### ${inline(name)}`, "");
    lines.push(...codeBlock("json", toJson(m)), "");
  }
  return `${lines.join("\n").trimEnd()}\n`;
}

/**
 * A number with 6 significant digits; integers exactly while float64 holds them exactly (|v| ≤ 2^53, e.g.
 * µs timestamps); null → "—"; ±∞ → "+inf"/"-inf".
 */
function num(v: number | null): string {
  if (v === null) return "—";
  if (Number.isNaN(v)) return "NaN";
  if (v === Number.POSITIVE_INFINITY) return "+inf";
  if (v === Number.NEGATIVE_INFINITY) return "-inf";
  if (Number.isInteger(v) && Math.abs(v) <= Number.MAX_SAFE_INTEGER) return String(v);
  return String(Number(v.toPrecision(6)));
}

/** A Markdown table (GitHub-flavoured) with escaped cells. */
function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const line = (cells: readonly string[]) => `| ${cells.map(cell).join(" | ")} |`;
  return [line(header), `|${header.map(() => "---").join("|")}|`, ...rows.map(line)];
}

/** A table cell: `\` and `|` escaped, line breaks folded into spaces. */
function cell(s: string): string {
  return s
    .replace(/\\/g, "\\\\")
    .replace(/\|/g, "\\|")
    .replace(/\r\n|\r|\n/g, " ");
}

/** Inline text: Markdown punctuation escaped, line breaks folded. */
function inline(s: string): string {
  return s.replace(/[\\`*_[\]<>|#]/g, (c) => `\\${c}`).replace(/\r\n|\r|\n/g, " ");
}

/** A fenced code block whose fence is longer than any backtick run in `body`. */
function codeBlock(lang: string, body: string): string[] {
  const longest = Math.max(0, ...(body.match(/`+/g) ?? []).map((r) => r.length));
  const fence = "`".repeat(Math.max(3, longest + 1));
  return [`${fence}${lang}`, body, fence];
}

/** Pretty JSON; bigint as string, non-finite numbers as null (JSON has none). */
function toJson(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === "bigint" ? x.toString() : x), 2) ?? String(v);
}
