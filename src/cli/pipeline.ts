/**
 * `pointline pipeline validate REQUEST.json` and `pointline pipeline run REQUEST.json --lake DIR
 * [--out-root DIR] [--json]`. Exit codes: 0 valid / accept, 2 invalid / reject, 1 error (unreadable file,
 * IO failure). The human summary goes to stderr; `--json` prints the full output JSON on stdout.
 */

import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { ConfigError } from "../core/errors.js";
import { frameUnitName } from "../engine/units.js";
import type { PipelineProgress } from "../pipeline/gate-types.js";
import { builtinRegistry, type OperatorRegistry } from "../pipeline/registry.js";
import { type RequestProblem, requestJsonSchema, validateRequest } from "../pipeline/request.js";
import { type PipelineOutput, rejectedOutput, requestOutputDir, runPipeline } from "../pipeline/run.js";
import { parseJsonText, requireLake } from "./args.js";
import type { CliIo } from "./main.js";
import type { StatusStream } from "./status-line.js";

/**
 * Reads and parses a request file: the JSON value, or a problem at `$` when it is not JSON
 * (`<file>:<line>:<column>: invalid JSON: …`, 1-based line and column of the first error).
 * @throws ConfigError naming the file when it cannot be read (an error, exit 1, not a rejection).
 */
export async function readRequestFile(
  path: string,
): Promise<{ value: unknown } | { problem: RequestProblem }> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    throw new ConfigError(
      `request file ${path}: cannot read: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
    );
  }
  try {
    return { value: parseJsonText(text, path) };
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return { problem: { path: "$", message: e.message } };
  }
}

/**
 * A `PipelineOptions.onProgress` that shows stages and gates on `stream` as they run: on a TTY the
 * running stage or gate on one live line, replaced by its result; elsewhere one line per finished
 * stage or gate (`pipeline: features 1234.5 ms`, `pipeline: gate lookahead_check pass 812.0 ms`). Times
 * are wall-clock ms. Call the returned `done()` before printing the summary (clears a live line).
 */
export function pipelineProgressPrinter(stream: StatusStream): {
  readonly onProgress: (e: PipelineProgress) => void;
  readonly done: () => void;
} {
  const tty = stream.isTTY === true;
  let live = false;
  const clear = (): void => {
    if (live) stream.write("\r\x1b[K");
    live = false;
  };
  const show = (text: string): void => {
    clear();
    stream.write(text);
    live = true;
  };
  const line = (text: string): void => {
    clear();
    stream.write(`${text}\n`);
  };
  const onProgress = (e: PipelineProgress): void => {
    switch (e.kind) {
      case "stage-start":
        if (tty) show(`pipeline: ${e.stage} …`);
        break;
      case "stage-end":
        line(`pipeline: ${e.stage} ${e.ms.toFixed(1)} ms`);
        break;
      case "gate-start":
        if (tty) show(`pipeline: gate ${e.gate} …`);
        break;
      case "gate-end": {
        const r = e.result;
        const mark = r.skipped ? "skip" : r.passed ? "pass" : "FAIL";
        const ms = r.details["elapsed_ms"];
        line(`pipeline: gate ${r.name} ${mark}${typeof ms === "number" ? ` ${ms.toFixed(1)} ms` : ""}`);
        break;
      }
    }
  };
  return { onProgress, done: clear };
}

/** Human summary of a pipeline output (stderr of `pipeline run`). */
export function formatPipelineSummary(o: PipelineOutput): string {
  const lines: string[] = [];
  lines.push(`request ${o.request_id ?? "(no id)"}: ${o.decision.status.toUpperCase()}`);
  if (o.problems.length > 0) {
    lines.push("problems:");
    for (const p of o.problems) lines.push(`  ${p.path}: ${p.message}`);
  }
  if (o.resolved_plan) {
    const tl = o.resolved_plan.timeline as { start: string; end: string };
    const inst = o.resolved_plan.instrument as { exchange: string; symbol: string };
    lines.push(
      `${inst.exchange} ${inst.symbol} [${tl.start}, ${tl.end}): ${o.results.row_count} rows, ${o.results.feature_columns.length} features, ${o.results.label_columns.length} labels`,
    );
  }
  for (const g of o.quality_gates.gate_results) {
    const mark = g.skipped ? "skip" : g.passed ? "pass" : "FAIL";
    lines.push(`  [${mark}] ${g.name}: ${g.reason}`);
  }
  if (o.decision.status === "reject" && o.problems.length === 0) {
    lines.push("reasons:");
    for (const r of o.decision.reasons) lines.push(`  ${r}`);
  }
  const t = o.run.timings_ms;
  if (Object.keys(t).length > 0)
    lines.push(
      `time: ${o.run.elapsed_ms} ms (${Object.entries(t)
        .map(([k, v]) => `${k} ${v}`)
        .join(", ")})`,
    );
  if (o.artifacts.paths.length > 0) lines.push(`artifacts in ${o.artifacts.output_dir}:`);
  for (const p of o.artifacts.paths) lines.push(`  ${p}`);
  return `${lines.join("\n")}\n`;
}

/** The aggregation catalogue as Markdown (docs/aggregations.md is generated from it by `npm run docs`). */
export function aggregationsMarkdown(registry: OperatorRegistry): string {
  const esc = (x: string): string => x.replaceAll("|", "\\|").replaceAll("\n", " ");
  const lines = [
    "# Aggregation catalogue (pipeline v2)",
    "",
    "Generated by `npm run docs` from the built-in registry (`src/pipeline/aggregations/`); do not edit by hand.",
    "A request operator `{ name, agg, source, source_column?, config?, join_strategy?, output_name? }` applies",
    "`agg` to the events of `source`, one value per spine row. `output_name` renames a single output and",
    "prefixes several (`<output_name>_<output>`).",
    "",
    "| aggregation | outputs (unit) | required columns | modes | stage | join | semantic type | PIT window | version | formula | source |",
    "|---|---|---|---|---|---|---|---|---|---|---|",
  ];
  for (const s of registry.requestOperators()) {
    const outs = s
      .outputs({
        config: {},
        joinStrategy: s.joinStrategies[0]!,
        ...(s.needsSourceColumn ? { sourceColumn: "<col>" } : {}),
      })
      .map((o) =>
        s.needsSourceColumn && o.unit !== "count"
          ? `\`${o.name}\` (source column unit; \`<col>\` without a trailing \`_int\`, fixed-point values converted to quote currency / base units by the sink)`
          : `\`${o.name}\` (${unitText(o)})`,
      )
      .join(", ");
    lines.push(
      `| \`${s.name}\` | ${esc(outs)} | ${esc(s.needsSourceColumn ? "source_column" : s.requiredColumns.join(", ") || "—")}${s.extraTables ? esc(`; also ${s.extraTables.join(", ")}`) : ""} | ${s.modeAllowlist.join(", ")} | ${s.stage} | ${s.joinStrategies.join(", ")} | ${esc(s.semanticType)} | ${esc(s.pitPolicy.window)} | ${esc(s.version)} | ${esc(s.description)} | ${esc(s.source ?? "")} |`,
    );
  }
  return `${lines.join("\n")}\n`;
}

/** An output's unit as the run's frame shows it, with the operator's computation unit when it differs. */
function unitText(o: { readonly name: string; readonly unit: string }): string {
  const u = frameUnitName(o);
  return u === o.unit ? u : `${u}; computed in ${o.unit}`;
}

/** Adds the `pipeline` command group to the CLI (writing to `io`). */
export function registerPipelineCommands(program: Command, io: CliIo): void {
  const pipeline = program
    .command("pipeline")
    .description("research pipeline v2: JSON requests → features, labels, quality gates, decision");
  pipeline
    .command("validate <request>")
    .description(
      "validate a request v2 file without reading data, artifacts.output_dir checked against --out-root as `run` does (exit 0 valid, 2 invalid)",
    )
    .option(
      "--out-root <dir>",
      "root directory that artifacts.output_dir must stay inside",
      "./pipeline_runs",
    )
    .option("--json", "print {valid, problems} as JSON on stdout")
    .action(async (file: string, o: { outRoot: string; json?: boolean }) => {
      const r = await readRequestFile(file);
      const problems: RequestProblem[] = [];
      if ("problem" in r) problems.push(r.problem);
      else {
        const v = validateRequest(r.value, builtinRegistry());
        if (v.ok) {
          const dir = requestOutputDir(v.request, o.outRoot);
          if ("problem" in dir) problems.push(dir.problem);
        } else problems.push(...v.problems);
      }
      if (o.json) io.stdout.write(`${JSON.stringify({ valid: problems.length === 0, problems }, null, 2)}\n`);
      if (problems.length === 0) io.stderr.write(`${file}: valid request v2\n`);
      else {
        io.stderr.write(`${file}: ${problems.length} problem(s)\n`);
        for (const p of problems) io.stderr.write(`  ${p.path}: ${p.message}\n`);
        io.setExitCode(2);
      }
    });
  pipeline
    .command("schema")
    .description("print the JSON Schema of request v2 (schemas/quant_research_input.v2.json)")
    .action(() => {
      io.stdout.write(`${JSON.stringify(requestJsonSchema(), null, 2)}\n`);
    });
  pipeline
    .command("aggregations")
    .description("list the registered aggregations")
    .option("--markdown", "Markdown table (docs/aggregations.md)")
    .option("--json", "JSON")
    .action((o: { markdown?: boolean; json?: boolean }) => {
      const reg = builtinRegistry();
      if (o.markdown) io.stdout.write(aggregationsMarkdown(reg));
      else if (o.json)
        io.stdout.write(
          `${JSON.stringify(
            reg.requestOperators().map(({ impl: _i, outputs: _o, params: _p, ...meta }) => meta),
            null,
            2,
          )}\n`,
        );
      else for (const s of reg.requestOperators()) io.stdout.write(`${s.name.padEnd(28)} ${s.description}\n`);
    });
  pipeline
    .command("run <request>")
    .description("run a request v2 on a lake: exit 0 accept, 2 reject, 1 error")
    .requiredOption("--lake <dir>", "lake root directory")
    .option(
      "--out-root <dir>",
      "root directory that artifacts.output_dir must stay inside",
      "./pipeline_runs",
    )
    .option("--no-artifacts", "do not write artifacts")
    .option("--json", "print the full output JSON on stdout")
    .action(
      async (file: string, o: { lake: string; outRoot: string; artifacts: boolean; json?: boolean }) => {
        const lake = requireLake(o.lake);
        const r = await readRequestFile(file);
        const progress = pipelineProgressPrinter(io.stderr);
        const out: PipelineOutput =
          "problem" in r
            ? rejectedOutput(undefined, [r.problem])
            : await runPipeline(r.value, {
                lake,
                outRoot: o.outRoot,
                writeArtifacts: o.artifacts,
                onProgress: progress.onProgress,
              });
        progress.done();
        io.stderr.write(formatPipelineSummary(out));
        if (o.json) io.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
        if (out.decision.status === "reject") io.setExitCode(2);
      },
    );
}
