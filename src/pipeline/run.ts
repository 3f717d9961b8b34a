/**
 * `runPipeline(request, options)`: one research run from a request v2 to a decision with evidence
 * (Pointline `research.pipeline(request)`; output shape after `quant_research_output.v2`):
 *
 * 1. validate the request (schema + registry; no data read) and confine `artifacts.output_dir` to the
 *    output root — a request that fails either is rejected with every problem and its JSON path;
 * 2. plan it against the lake (instrument known at the range start);
 * 3. replay the features once (engine/replay.ts), compute the labels on the rows (forward-looking, kept in
 *    label columns), hash the canonical output;
 * 4. run the quality gates (gates.ts) and the evaluation metrics;
 * 5. decide: accept iff every critical gate passed and the run produced rows; write the artifacts.
 *
 * Output JSON (stdout of `pointline pipeline run --json`): `{ schema_version, request_id, run,
 * resolved_plan, data_feasibility, quality_gates: { passed_gates, failed_gates, skipped_gates,
 * gate_results }, results: { row_count, columns, feature_columns, label_columns, metrics, label_fits },
 * decision: { status, reasons }, artifacts: { output_dir, paths }, problems }`.
 */

import { resolve } from "node:path";
import { canonicalJsonSha256 } from "../core/canonical-json.js";
import { ConfigError, PointlineError } from "../core/errors.js";
import { toUs, usToIso, utcDayStart } from "../core/time.js";
import { type CodeVersion, codeVersion } from "../core/version.js";
import { DEFAULT_PART_CACHE_BYTES, PartCache } from "../engine/part-cache.js";
import { decodedBytesPerRow } from "../engine/source.js";
import { Lake, type LakeRef } from "../lake/lake.js";
import type { TableName } from "../schema/tables.js";
import { writeArtifacts } from "./artifacts.js";
import { evaluateMetrics, type MetricResult } from "./evaluation.js";
import { type FeatureRun, frameOf, type RunOptions, runFeatures } from "./execute.js";
import type { Decision, GateResult, PipelineColumn, PipelineProgress } from "./gate-types.js";
import { hashColumns, runGates } from "./gates.js";
import { computeLabels, type LabelFit, labelOutputColumns } from "./labels.js";
import { resolveOutputDir } from "./paths.js";
import { type PipelinePlan, planPipeline } from "./plan.js";
import { builtinRegistry, type OperatorRegistry } from "./registry.js";
import { qualityReportMarkdown } from "./report.js";
import { pipelineReportHtml } from "./report-html.js";
import { type PipelineRequest, type RequestProblem, validateRequest } from "./request.js";

/** Options of a pipeline run. */
export interface PipelineOptions {
  /** Lake root or an open handle: opened once, shared by the run and every gate re-run. */
  readonly lake: LakeRef;
  /** Aggregations (default: a fresh registry with the built-ins). */
  readonly registry?: OperatorRegistry;
  /** Root that `artifacts.output_dir` must stay inside (default `./pipeline_runs`). */
  readonly outRoot?: string;
  /** Write the artifacts (default true). */
  readonly writeArtifacts?: boolean;
  /** Test hook: engine operators replacing the plan's (called for fresh instances per run). */
  readonly operators?: () => RunOptions["operators"];
  /** Called as the run goes: stages and gates starting and ending (see `PipelineProgress`). */
  readonly onProgress?: (event: PipelineProgress) => void;
  /**
   * Decoded-partition cache (engine/part-cache.ts) shared by the main run and the gates' re-runs. Default:
   * a fresh cache of `DEFAULT_PART_CACHE_BYTES` per run when the request's input partitions fit in it
   * decoded (estimated from their row counts), none otherwise (a cache smaller than one pass over the
   * data would only evict, and the main run keeps its prefetch worker); pass one to share decoded parts
   * across runs (repeated research runs of the same data decode it once), or `false` for none.
   */
  readonly partCache?: PartCache | false;
}

/** Pipeline output (see the module doc). */
export interface PipelineOutput {
  readonly schema_version: "2.0";
  readonly request_id: string | null;
  readonly run: {
    readonly started_at: string;
    readonly elapsed_ms: number;
    readonly timings_ms: Readonly<Record<string, number>>;
    readonly code_version: CodeVersion;
    readonly request_sha256: string;
  };
  readonly resolved_plan: Readonly<Record<string, unknown>> | null;
  readonly data_feasibility: Readonly<Record<string, unknown>> | null;
  readonly quality_gates: {
    readonly passed_gates: readonly string[];
    readonly failed_gates: readonly string[];
    readonly skipped_gates: readonly string[];
    readonly gate_results: readonly GateResult[];
  };
  readonly results: {
    readonly row_count: number;
    readonly columns: readonly string[];
    readonly feature_columns: readonly string[];
    readonly label_columns: readonly string[];
    readonly metrics: readonly MetricResult[];
    readonly label_fits: readonly LabelFit[];
  };
  readonly decision: Decision;
  readonly artifacts: { readonly output_dir: string | null; readonly paths: readonly string[] };
  readonly problems: readonly RequestProblem[];
}

/** The output of a request rejected before any data was read (invalid request, bad output_dir, unknown symbol). */
export function rejectedOutput(
  input: unknown,
  problems: readonly RequestProblem[],
  reasons: readonly string[] = problems.map((p) => `${p.path}: ${p.message}`),
): PipelineOutput {
  return rejected(input, Date.now(), problems, reasons);
}

function rejected(
  input: unknown,
  started: number,
  problems: readonly RequestProblem[],
  reasons: readonly string[],
): PipelineOutput {
  const id = (input as { request_id?: unknown } | null)?.request_id;
  return {
    schema_version: "2.0",
    request_id: typeof id === "string" ? id : null,
    run: {
      started_at: new Date(started).toISOString(),
      elapsed_ms: Date.now() - started,
      timings_ms: {},
      code_version: codeVersion(),
      request_sha256: canonicalJsonSha256(input),
    },
    resolved_plan: null,
    data_feasibility: null,
    quality_gates: { passed_gates: [], failed_gates: [], skipped_gates: [], gate_results: [] },
    results: {
      row_count: 0,
      columns: [],
      feature_columns: [],
      label_columns: [],
      metrics: [],
      label_fits: [],
    },
    decision: { status: "reject", reasons },
    artifacts: { output_dir: null, paths: [] },
    problems,
  };
}

/**
 * A valid request's `artifacts.output_dir` resolved inside the output root (`outRoot`, default
 * `./pipeline_runs`, the CLI's `--out-root`): the absolute directory, or the problem at
 * `$.artifacts.output_dir` (outside the root, the root itself, unresolvable). `runPipeline` and
 * `pipeline validate` check it the same way. @throws only on internal errors.
 */
export function requestOutputDir(
  req: PipelineRequest,
  outRoot: string | undefined,
): { readonly dir: string } | { readonly problem: RequestProblem } {
  try {
    return { dir: resolveOutputDir(req.artifacts.output_dir, resolve(outRoot ?? "pipeline_runs")) };
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return { problem: { path: "$.artifacts.output_dir", message: e.message } };
  }
}

/** Features + labels of one feature run (labels fitted on its own training split). */
function withLabels(
  plan: PipelinePlan,
  run: FeatureRun,
): { values: Map<string, Float64Array>; labelNames: string[]; fits: LabelFit[] } {
  const trainRows = Math.floor(run.n * plan.trainFraction);
  const avail = run.values.get("available_at_us")!;
  const { columns, fits } = computeLabels(
    { n: run.n, columns: run.values, availableAtUs: avail },
    plan.labels,
    {
      trainRows,
    },
  );
  const values = new Map(run.values);
  for (const [k, v] of columns) values.set(k, v);
  return { values, labelNames: [...columns.keys()], fits };
}

/**
 * Runs a request end to end (see the module doc). Never throws for a bad request or missing data: those are
 * rejections with reasons. @throws only on internal errors (IO failures, bugs).
 */
export async function runPipeline(input: unknown, options: PipelineOptions): Promise<PipelineOutput> {
  const started = Date.now();
  const timings: Record<string, number> = {};
  const progress = options.onProgress;
  /** Starts a stage: its start time (performance.now, ms). */
  const begin = (stage: string): number => {
    progress?.({ kind: "stage-start", stage });
    return performance.now();
  };
  const lap = (name: string, t0: number): void => {
    timings[name] = Math.round((performance.now() - t0) * 10) / 10;
    progress?.({ kind: "stage-end", stage: name, ms: timings[name] });
  };
  const registry = options.registry ?? builtinRegistry();
  const lake = await Lake.from(options.lake);
  let t = begin("plan");
  const v = validateRequest(input, registry);
  if (!v.ok)
    return rejected(
      input,
      started,
      v.problems,
      v.problems.map((p) => `${p.path}: ${p.message}`),
    );
  const req = v.request;
  let outputDir: string | null = null;
  if (options.writeArtifacts !== false) {
    const r = requestOutputDir(req, options.outRoot);
    if ("problem" in r)
      return rejected(input, started, [r.problem], [`${r.problem.path}: ${r.problem.message}`]);
    outputDir = r.dir;
  }
  let plan: PipelinePlan;
  try {
    plan = await planPipeline(req, registry, lake);
  } catch (e) {
    if (!(e instanceof PointlineError)) throw e;
    const p = { path: "$.sources", message: e.message };
    return rejected(input, started, [p], [`data: ${e.message}`]);
  }
  lap("plan", t);

  t = begin("features");
  const partCache =
    options.partCache === false
      ? undefined
      : (options.partCache ??
        (inputDecodedBytes(plan, lake) <= DEFAULT_PART_CACHE_BYTES ? new PartCache() : undefined));
  const runOpts: RunOptions = {
    ...(partCache ? { partCache } : {}),
    ...(options.operators ? { operators: options.operators() } : {}),
  };
  const full = await runFeatures(plan, lake, runOpts);
  lap("features", t);
  t = begin("labels");
  let labelled: ReturnType<typeof withLabels>;
  try {
    labelled = withLabels(plan, full);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return rejected(input, started, [{ path: "$.labels", message: e.message }], [`labels: ${e.message}`]);
  }
  const columns: PipelineColumn[] = [
    ...plan.columns,
    ...plan.labels.flatMap(labelOutputColumns).map((c) => ({ ...c, role: "label" as const })),
  ];
  const outputHash = hashColumns(columns, labelled.values);
  lap("labels", t);

  t = begin("gates");
  const gates = await runGates({
    plan,
    lake,
    full,
    outputHash,
    hashOf: (run) => hashColumns(columns, withLabels(plan, run).values),
    ...(partCache ? { partCache } : {}),
    ...(options.operators ? { operators: options.operators } : {}),
    ...(progress ? { onProgress: progress } : {}),
  });
  lap("gates", t);

  t = begin("evaluation");
  const metrics = evaluateMetrics(
    { n: full.n, columns: labelled.values, features: plan.featureNames, labels: labelled.labelNames },
    req.evaluation.metrics,
  );
  lap("evaluation", t);

  const failed = gates.filter((g) => !g.passed);
  const reasons = failed.map((g) => `${g.name}: ${g.reason}`);
  if (full.n === 0) reasons.push("the run produced no rows (check timeline, sources and spine)");
  const decision: Decision = { status: reasons.length === 0 ? "accept" : "reject", reasons };
  const s = full.summary;
  const requestHash = canonicalJsonSha256(req);
  const output: PipelineOutput = {
    schema_version: "2.0",
    request_id: req.request_id,
    run: {
      started_at: new Date(started).toISOString(),
      elapsed_ms: Date.now() - started,
      timings_ms: timings,
      code_version: codeVersion(),
      request_sha256: requestHash,
    },
    resolved_plan: {
      mode: req.mode,
      instrument: { exchange: plan.exchange, symbol: plan.symbol },
      timeline: {
        start: usToIso(plan.startUs),
        end: usToIso(plan.endUs),
        start_us: plan.startUs,
        end_us: plan.endUs,
        ts_col: "ts_local_us",
      },
      spine: plan.spine,
      warmup_us: plan.warmupUs,
      replay_start_us: s.replayStartUs,
      operators: plan.operators.map((o) => ({
        name: o.name,
        agg: o.agg,
        version: o.spec.version,
        stage: o.spec.stage,
        source: o.source,
        table: o.table,
        join_strategy: o.joinStrategy,
        outputs: o.outputs.map((x) => x.name),
      })),
      labels: plan.labels,
      train_fraction: plan.trainFraction,
      train_rows: Math.floor(full.n * plan.trainFraction),
    },
    data_feasibility: {
      events: s.events,
      trades_in_range: s.spine.tradesInRange,
      unassigned_trades: s.spine.unassignedTrades,
      input_partitions: s.partitions.length,
      rows: full.n,
    },
    quality_gates: {
      passed_gates: gates.filter((g) => g.passed && !g.skipped).map((g) => g.name),
      failed_gates: failed.map((g) => g.name),
      skipped_gates: gates.filter((g) => g.skipped).map((g) => g.name),
      gate_results: gates,
    },
    results: {
      row_count: full.n,
      columns: columns.map((c) => c.name),
      feature_columns: plan.featureNames,
      label_columns: labelled.labelNames,
      metrics,
      label_fits: labelled.fits,
    },
    decision,
    artifacts: { output_dir: outputDir, paths: [] },
    problems: [],
  };
  if (outputDir === null) return output;

  t = begin("artifacts");
  const report = qualityReportMarkdown({
    requestId: req.request_id,
    decision,
    rowCount: full.n,
    columns,
    values: labelled.values,
    gates,
    correlationThreshold: 0.9,
    timeline: { start: usToIso(toUs(req.timeline.start)), end: usToIso(toUs(req.timeline.end)) },
    spine: JSON.stringify(plan.spine),
    metrics,
  });
  const names = [
    "features.parquet",
    "manifest.json",
    "feature_schema.json",
    ...(req.artifacts.emit_lineage === false ? [] : ["lineage.json"]),
    "quality_report.md",
    "quality_report.html",
    "pipeline_output.json",
  ];
  const final: PipelineOutput = {
    ...output,
    artifacts: { output_dir: outputDir, paths: names.map((n) => resolve(outputDir, n)) },
  };
  const written = await writeArtifacts({
    outputDir,
    lake: lake.root,
    ...(partCache ? { partCache } : {}),
    frame: frameOf(columns, labelled.values),
    columns,
    request: input,
    requestHash,
    partitions: s.partitions,
    codeVersion: codeVersion(),
    gates,
    decision,
    metrics,
    emitLineage: req.artifacts.emit_lineage !== false,
    report,
    reportHtml: await pipelineReportHtml({
      requestId: req.request_id,
      decision,
      gates,
      columns,
      values: labelled.values,
      rowCount: full.n,
    }),
    output: final,
    contentHash: outputHash,
  });
  lap("artifacts", t);
  return { ...final, artifacts: { output_dir: outputDir, paths: written.paths } };
}

/**
 * Upper estimate of the decoded bytes of a run's input partitions: every source table of the request
 * over [UTC midnight of start − warm-up, end) (the widest replay start of any spine), rows from the lake's
 * manifests times `decodedBytesPerRow`.
 */
export function inputDecodedBytes(plan: PipelinePlan, lake: Lake): number {
  const from = utcDayStart(plan.startUs - plan.warmupUs);
  let bytes = 0;
  for (const table of new Set(plan.request.sources.map((s) => s.table as TableName)))
    for (const p of lake.parts(table, plan.exchange, plan.symbol, from, plan.endUs))
      bytes += p.rows * decodedBytesPerRow(table);
  return bytes;
}
