/**
 * Request schema v2 of the research pipeline: Pointline's "quant research input v2"
 * (docs/guides/research-pipeline-v2.md and the complete example of docs/guides/volume-bar-features-crypto-mft.md
 * in the Pointline repository), so a request written for Pointline runs here unchanged. Keys stay snake_case.
 *
 * Shape (every object strict: unknown keys are errors, so a typo never silently falls back to a default):
 * ```
 * { schema_version: "2.0", request_id, mode: bar_then_feature | tick_then_bar | event_joined, objective?,
 *   timeline: { start, end, ts_col?: "ts_local_us", timezone?: "UTC" },          // [start, end): ISO or µs
 *   sources: [{ name, table, filters: { exchange, symbol } }],
 *   spine: { type: clock|trades|volume|dollar|tick|hybrid, config?: {…snake_case…}, source? },  // engine/spine-spec.ts
 *   operators: [{ name, stage?, agg, source, source_column?, config?, join_strategy?, output_name? }],
 *   labels: [LabelSpec], evaluation: { metrics: [MetricSpec], split? },
 *   constraints: { forbid_lookahead, require_pit_ordering, max_unassigned_ratio, check_reproducibility /
 *                  skip_reproducibility_check, check_partition_safety, lookahead_cuts, seed, warmup_ms,
 *                  max_null_ratio, cost_model },
 *   artifacts: { emit_lineage, output_dir } }
 * ```
 * `validateRequest` checks the shape (zod) and then everything that can be known without reading data —
 * unknown aggregation, a column its source lacks, a mode outside its allowlist, unknown source names,
 * duplicate names, output-name collisions, label and metric columns that no operator produces — and lists
 * every problem with its JSON path (`$.operators[2].agg`).
 */
import { z } from "zod";
import { ConfigError } from "../core/errors.js";
import { toUs } from "../core/time.js";
import { requestSpineSchema } from "../engine/spine-spec.js";
import { TABLES, type TableName, tableColumns } from "../schema/tables.js";
import { metricSpecSchema } from "./evaluation.js";
import { labelOutputNames, labelSpecSchema } from "./labels.js";
import {
  type AggregationSpec,
  JOIN_STRATEGIES,
  type OperatorRegistry,
  PIPELINE_MODES,
  roleOfTable,
} from "./registry.js";

const timeInput = z.union([z.string().min(1), z.number().int()]);

/** Operator stages: `aggregate` matches any aggregation; the two Pointline stages must match the aggregation's. */
export const OPERATOR_STAGES = ["aggregate", "aggregate_then_feature", "feature_then_aggregate"] as const;

/** zod schema of request v2 (the exported JSON Schema file is generated from it). */
export const requestSchema = z
  .object({
    schema_version: z.literal("2.0"),
    request_id: z.string().min(3),
    mode: z.enum(PIPELINE_MODES),
    objective: z.string().optional(),
    timeline: z
      .object({
        start: timeInput,
        end: timeInput,
        ts_col: z.enum(["ts_local_us"]).optional(),
        timezone: z.literal("UTC").optional(),
      })
      .strict(),
    sources: z
      .array(
        z
          .object({
            name: z.string().min(1),
            table: z.string().min(1),
            filters: z.object({ exchange: z.string().min(1), symbol: z.string().min(1) }).strict(),
          })
          .strict(),
      )
      .min(1),
    spine: requestSpineSchema,
    operators: z
      .array(
        z
          .object({
            name: z.string().min(1),
            stage: z.enum(OPERATOR_STAGES).optional(),
            agg: z.string().min(1),
            source: z.string().min(1),
            source_column: z.string().min(1).optional(),
            config: z.record(z.string(), z.unknown()).optional(),
            join_strategy: z.enum(JOIN_STRATEGIES).optional(),
            output_name: z
              .string()
              .regex(/^[A-Za-z_][A-Za-z0-9_]*$/)
              .optional(),
          })
          .strict(),
      )
      .min(1),
    labels: z.array(labelSpecSchema),
    evaluation: z
      .object({
        metrics: z.array(metricSpecSchema),
        split: z
          .object({
            method: z.literal("fixed").optional(),
            train_fraction: z.number().gt(0).lt(1).optional(),
          })
          .strict()
          .optional(),
      })
      .strict(),
    constraints: z
      .object({
        forbid_lookahead: z.boolean().optional(),
        require_pit_ordering: z.boolean().optional(),
        max_unassigned_ratio: z.number().min(0).max(1).optional(),
        check_reproducibility: z.boolean().optional(),
        skip_reproducibility_check: z.boolean().optional(),
        check_partition_safety: z.boolean().optional(),
        lookahead_cuts: z.number().int().min(1).max(100).optional(),
        seed: z.number().int().optional(),
        warmup_ms: z.number().int().min(0).optional(),
        max_null_ratio: z.number().min(0).max(1).optional(),
        cost_model: z
          .object({
            fees_bps: z.number().min(0),
            slippage_bps: z.number().min(0),
            funding_included: z.boolean().optional(),
          })
          .strict()
          .optional(),
      })
      .strict(),
    artifacts: z
      .object({
        emit_lineage: z.boolean().optional(),
        output_dir: z.string().min(1),
      })
      .strict(),
  })
  .strict();

/** A request as written (JSON). */
export type PipelineRequest = z.infer<typeof requestSchema>;
/** One entry of `operators` in a request. */
export type RequestOperator = PipelineRequest["operators"][number];
/** One entry of `sources` in a request. */
export type RequestSource = PipelineRequest["sources"][number];

/** One validation problem: JSON path (`$.operators[2].agg`) and message. */
export interface RequestProblem {
  readonly path: string;
  readonly message: string;
}

/** Result of `validateRequest`. */
export type ValidationResult =
  | { readonly ok: true; readonly request: PipelineRequest; readonly problems: readonly [] }
  | { readonly ok: false; readonly problems: readonly RequestProblem[] };

/** Formats a zod/JSON path as `$.a[0].b`. */
export function jsonPath(path: readonly PropertyKey[]): string {
  let s = "$";
  for (const p of path) s += typeof p === "number" ? `[${p}]` : `.${String(p)}`;
  return s;
}

/** One resolved output column of a request operator. */
export interface ResolvedOutput {
  readonly name: string;
  readonly dtype: "f64" | "i64";
  readonly unit: string;
  readonly warmupRows: number;
}

/** Output column names of one request operator (`output_name` renames one output, prefixes several). */
export function operatorOutputs(op: RequestOperator, spec: AggregationSpec): ResolvedOutput[] {
  const outs = spec.outputs({
    ...(op.source_column !== undefined ? { sourceColumn: op.source_column } : {}),
    config: op.config ?? {},
    joinStrategy: op.join_strategy ?? spec.joinStrategies[0]!,
  });
  return outs.map((o) => ({
    name:
      op.output_name === undefined
        ? o.name
        : outs.length === 1
          ? op.output_name
          : `${op.output_name}_${o.name}`,
    dtype: o.dtype,
    unit: o.unit,
    warmupRows: o.warmupRows,
  }));
}

const NUMERIC = new Set(["i64", "f64", "i8"]);

/**
 * Validates a request against the schema and the registry, listing every problem with its JSON path.
 * Reads no data: checks that need the lake (symbol known, data present) happen when the run is planned.
 */
export function validateRequest(input: unknown, registry: OperatorRegistry): ValidationResult {
  const parsed = requestSchema.safeParse(input);
  if (!parsed.success) {
    return {
      ok: false,
      problems: parsed.error.issues.map((i) => ({ path: jsonPath(i.path), message: i.message })),
    };
  }
  const req = parsed.data;
  const problems: RequestProblem[] = [];
  const add = (path: string, message: string): void => {
    problems.push({ path, message });
  };

  // timeline
  let startUs = Number.NaN;
  let endUs = Number.NaN;
  try {
    startUs = toUs(req.timeline.start);
  } catch (e) {
    add("$.timeline.start", (e as Error).message);
  }
  try {
    endUs = toUs(req.timeline.end);
  } catch (e) {
    add("$.timeline.end", (e as Error).message);
  }
  if (Number.isFinite(startUs) && Number.isFinite(endUs) && !(endUs > startUs))
    add(
      "$.timeline.end",
      `end ${JSON.stringify(req.timeline.end)} must be after start ${JSON.stringify(req.timeline.start)} (half-open range [start, end))`,
    );

  // sources
  const sources = new Map<string, { table: TableName; exchange: string; symbol: string; index: number }>();
  req.sources.forEach((s, i) => {
    if (sources.has(s.name)) add(`$.sources[${i}].name`, `duplicate source name ${s.name}`);
    if (!(s.table in TABLES)) {
      add(`$.sources[${i}].table`, `unknown table ${s.table} (tables: ${Object.keys(TABLES).join(", ")})`);
      return;
    }
    if (roleOfTable(s.table) === undefined) {
      add(
        `$.sources[${i}].table`,
        `table ${s.table} cannot be replayed by the pipeline engine (supported: trades, quotes, book_snapshot_25, derivative_ticker, liquidations)`,
      );
      return;
    }
    if (!sources.has(s.name))
      sources.set(s.name, {
        table: s.table as TableName,
        exchange: s.filters.exchange,
        symbol: s.filters.symbol,
        index: i,
      });
  });
  const instruments = new Set([...sources.values()].map((s) => `${s.exchange}:${s.symbol}`));
  if (instruments.size > 1) {
    add(
      "$.sources",
      `all sources must name one instrument (exchange, symbol); found ${[...instruments].join(", ")}`,
    );
  }
  const tablesDeclared = new Map<TableName, string>();
  for (const [name, s] of sources) {
    const prev = tablesDeclared.get(s.table);
    if (prev !== undefined)
      add(`$.sources[${s.index}].table`, `table ${s.table} is already read by source ${prev}`);
    else tablesDeclared.set(s.table, name);
  }

  // spine
  if (req.spine.type !== "clock") {
    const spineSource = req.spine.source;
    if (spineSource !== undefined) {
      const s = sources.get(spineSource);
      if (!s) add("$.spine.source", `unknown source ${spineSource}`);
      else if (s.table !== "trades")
        add(
          "$.spine.source",
          `a ${req.spine.type} spine is built from trades; source ${spineSource} is ${s.table}`,
        );
    } else if (!tablesDeclared.has("trades")) {
      add("$.spine", `a ${req.spine.type} spine needs a trades source`);
    }
  }

  // operators
  const outputsSeen = new Map<string, string>();
  const opNames = new Set<string>();
  const featureNames: string[] = [];
  req.operators.forEach((op, i) => {
    const at = `$.operators[${i}]`;
    const problemsBefore = problems.length;
    if (opNames.has(op.name)) add(`${at}.name`, `duplicate operator name ${op.name}`);
    opNames.add(op.name);
    const spec = registry.getRequestOperator(op.agg);
    if (!spec && registry.has(op.agg)) {
      add(
        `${at}.agg`,
        `operator ${op.agg} reads several sources and runs in its feature family; a request can address the single-source aggregations (\`pointline pipeline aggregations\` lists them)`,
      );
      return;
    }
    if (!spec) {
      const near = closest(
        op.agg,
        registry.requestOperators().map((d) => d.name),
      );
      add(
        `${at}.agg`,
        `unknown aggregation ${op.agg}${near.length > 0 ? ` (did you mean ${near.join(", ")}?)` : ""}; \`pointline pipeline aggregations\` lists them`,
      );
      return;
    }
    const src = sources.get(op.source);
    if (!src) {
      add(`${at}.source`, `unknown source ${op.source} (sources: ${[...sources.keys()].join(", ")})`);
      return;
    }
    if (!spec.modeAllowlist.includes(req.mode)) {
      add(
        "$.mode",
        `aggregation ${op.agg} (operator ${op.name}) is not allowed in mode ${req.mode}; allowed: ${spec.modeAllowlist.join(", ")}`,
      );
    }
    if (op.stage !== undefined && op.stage !== "aggregate" && op.stage !== spec.stage)
      add(`${at}.stage`, `operator stage ${op.stage} does not match aggregation ${op.agg} (${spec.stage})`);
    const cols = new Map(tableColumns(src.table).map((c) => [c.name, c]));
    for (const c of spec.requiredColumns) {
      if (!cols.has(c))
        add(
          `${at}.source`,
          `aggregation ${op.agg} requires column ${c}, which source ${op.source} (${src.table}) lacks`,
        );
    }
    if (spec.needsSourceColumn) {
      if (op.source_column === undefined)
        add(`${at}.source_column`, `aggregation ${op.agg} needs source_column`);
      else {
        const c = cols.get(op.source_column);
        if (!c)
          add(`${at}.source_column`, `source ${op.source} (${src.table}) has no column ${op.source_column}`);
        else if (!NUMERIC.has(c.dtype))
          add(
            `${at}.source_column`,
            `column ${op.source_column} is ${c.dtype}; aggregation ${op.agg} needs a numeric column`,
          );
      }
    } else if (op.source_column !== undefined) {
      add(`${at}.source_column`, `aggregation ${op.agg} takes no source_column`);
    }
    if (op.join_strategy !== undefined && !spec.joinStrategies.includes(op.join_strategy))
      add(
        `${at}.join_strategy`,
        `aggregation ${op.agg} supports join strategies ${spec.joinStrategies.join(", ")}, not ${op.join_strategy}`,
      );
    for (const t of spec.extraTables ?? []) {
      if (!tablesDeclared.has(t))
        add(at, `aggregation ${op.agg} also reads ${t}: declare a source for that table`);
    }
    if (spec.params) {
      const r = spec.params.safeParse(op.config ?? {});
      if (!r.success)
        for (const iss of r.error.issues) add(jsonPath(["operators", i, "config", ...iss.path]), iss.message);
    } else if (op.config !== undefined && Object.keys(op.config).length > 0) {
      add(`${at}.config`, `aggregation ${op.agg} takes no config`);
    }
    let outs: ResolvedOutput[] = [];
    try {
      outs = operatorOutputs(op, spec);
    } catch (e) {
      add(at, (e as Error).message);
    }
    // dry-run the aggregation's own checks (e.g. which tables it reads) without reading data
    const role = roleOfTable(src.table);
    if (problems.length === problemsBefore && role !== undefined) {
      try {
        spec.impl({
          operatorName: op.name,
          role,
          table: src.table,
          outputNames: outs.map((o) => o.name),
          ...(op.source_column !== undefined ? { sourceColumn: op.source_column } : {}),
          config: op.config ?? {},
          joinStrategy: op.join_strategy ?? spec.joinStrategies[0]!,
        });
      } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
        add(`${at}.source`, e.message);
      }
    }
    for (const o of outs) {
      const prev = outputsSeen.get(o.name);
      if (prev !== undefined || SPINE_NAMES.has(o.name))
        add(
          `${at}.output_name`,
          `output column ${o.name} collides with ${prev === undefined ? "a spine column" : `operator ${prev}`}; set output_name`,
        );
      else outputsSeen.set(o.name, op.name);
      featureNames.push(o.name);
    }
  });

  // labels
  const labelNames = new Set<string>();
  req.labels.forEach((l, i) => {
    if (!outputsSeen.has(l.column) && !SPINE_NAMES.has(l.column))
      add(
        `$.labels[${i}].column`,
        `label ${l.name} reads column ${l.column}, which no operator produces (outputs: ${[...outputsSeen.keys()].join(", ")})`,
      );
    for (const n of labelOutputNames(l)) {
      if (outputsSeen.has(n) || labelNames.has(n) || SPINE_NAMES.has(n))
        add(`$.labels[${i}].name`, `label column ${n} collides with another column`);
      labelNames.add(n);
    }
  });

  // metrics: every column they name must exist
  const known = new Set([...outputsSeen.keys(), ...labelNames, ...SPINE_NAMES]);
  req.evaluation.metrics.forEach((m, i) => {
    for (const [key, col] of metricColumns(m)) {
      if (!known.has(col)) add(`$.evaluation.metrics[${i}].${key}`, `unknown column ${col}`);
    }
  });

  if (req.constraints.check_reproducibility === true && req.constraints.skip_reproducibility_check === true)
    add("$.constraints", "check_reproducibility and skip_reproducibility_check contradict each other");

  return problems.length === 0 ? { ok: true, request: req, problems: [] } : { ok: false, problems };
}

/** Up to 3 names within edit distance ≤ max(2, len/3) of `name`, nearest first. */
function closest(name: string, names: readonly string[]): string[] {
  const dist = (a: string, b: string): number => {
    let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
      const cur = [i];
      for (let j = 1; j <= b.length; j++)
        cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
    return prev[b.length]!;
  };
  const limit = Math.max(2, Math.floor(name.length / 3));
  return names
    .map((n) => [n, dist(name, n)] as const)
    .filter(([, d]) => d <= limit)
    .sort((a, b) => a[1] - b[1])
    .slice(0, 3)
    .map(([n]) => n);
}

const SPINE_NAMES = new Set(["ts_event_us", "ts_end_us", "available_at_us", "bar_index", "bar_duration_us"]);

/** Column references of a metric spec, as [json key path, column] pairs. */
function metricColumns(m: PipelineRequest["evaluation"]["metrics"][number]): [string, string][] {
  const out: [string, string][] = [];
  const rec = m as Record<string, unknown>;
  for (const key of ["column", "label"]) {
    const v = rec[key];
    if (typeof v === "string") out.push([key, v]);
  }
  for (const key of ["columns", "features"]) {
    const v = rec[key];
    if (!Array.isArray(v)) continue;
    for (let j = 0; j < v.length; j++) {
      const c: unknown = v[j];
      if (typeof c === "string") out.push([`${key}[${j}]`, c]);
    }
  }
  return out;
}

/** The JSON Schema (draft 2020-12) of request v2, generated from `requestSchema`. */
export function requestJsonSchema(): Record<string, unknown> {
  const s = z.toJSONSchema(requestSchema, { io: "input", target: "draft-2020-12" }) as Record<
    string,
    unknown
  >;
  return {
    $id: "https://pointline.dev/schemas/quant_research_input.v2.json",
    title: "QuantResearchInputV2 (Pointline TypeScript)",
    ...s,
  };
}
