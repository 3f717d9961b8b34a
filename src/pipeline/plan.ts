/**
 * Planning a validated request v2: resolves the instrument against the lake's symbol registry, converts
 * the spine (`spineSpecFromRequest`), binds each request operator to its aggregation and output columns, and fixes the warm-up and
 * the training split. A plan holds operator factories, not operators: every run (the main run and each
 * gate's re-run) builds fresh operator state.
 */
import { ConfigError } from "../core/errors.js";
import { toUs, US_PER_MS } from "../core/time.js";
import type { Operator } from "../engine/operator.js";
import { type SpineSpec, spineSpecFromRequest } from "../engine/spine-spec.js";
import { type FrameIncrements, frameUnit } from "../engine/units.js";
import { clockWarmupUs, SPINE_FRAME_COLUMNS } from "../features/frame.js";
import { Lake, type LakeRef } from "../lake/lake.js";
import type { TableName } from "../schema/tables.js";
import type { PipelineColumn } from "./gate-types.js";
import type { LabelSpec } from "./labels.js";
import type { AggregationSpec, JoinStrategy, OperatorRegistry } from "./registry.js";
import { roleOfTable } from "./registry.js";
import { operatorOutputs, type PipelineRequest, type ResolvedOutput } from "./request.js";

/** Default extra history replayed before the range (ms): as-of state (last quote, book, ticker) needs it. */
export const DEFAULT_WARMUP_MS = 300_000;
/** Default share of rows (in time order) forming the training split. */
export const DEFAULT_TRAIN_FRACTION = 0.7;

/** One request operator bound to its aggregation. */
export interface PlannedOperator {
  readonly name: string;
  readonly agg: string;
  readonly spec: AggregationSpec;
  readonly source: string;
  readonly table: TableName;
  readonly joinStrategy: JoinStrategy;
  readonly outputs: readonly ResolvedOutput[];
  /** Builds a fresh engine operator (fresh state). */
  readonly create: () => Operator;
}

/** A validated, resolved request. */
export interface PipelinePlan {
  readonly request: PipelineRequest;
  readonly exchange: string;
  readonly symbol: string;
  readonly startUs: number;
  readonly endUs: number;
  readonly spine: SpineSpec;
  readonly warmupUs: number;
  readonly operators: readonly PlannedOperator[];
  readonly labels: readonly LabelSpec[];
  /** Spine columns, then feature columns in operator order (labels are appended after the run), in frame units. */
  readonly columns: readonly PipelineColumn[];
  /** The instrument's increments at the range start (the sink's unit conversion). */
  readonly increments: FrameIncrements;
  readonly featureNames: readonly string[];
  readonly trainFraction: number;
}

/**
 * Resolves a request validated by `validateRequest`.
 * @throws ConfigError when the lake does not know the instrument at the range start.
 */
export async function planPipeline(
  req: PipelineRequest,
  registry: OperatorRegistry,
  lakeRef: LakeRef,
): Promise<PipelinePlan> {
  const lake = await Lake.from(lakeRef);
  const startUs = toUs(req.timeline.start);
  const endUs = toUs(req.timeline.end);
  const first = req.sources[0]!;
  const exchange = first.filters.exchange;
  const symbol = first.filters.symbol;
  if (!lake.registry.lookup(exchange, symbol, startUs)) {
    throw new ConfigError(
      `the lake at ${lake.root} has no symbol ${exchange}/${symbol} valid at ${String(req.timeline.start)} (see \`pointline symbols\`)`,
    );
  }
  const spine = spineSpecFromRequest(req.spine);
  const sources = new Map(req.sources.map((s) => [s.name, s]));
  const operators: PlannedOperator[] = req.operators.map((op) => {
    const spec = registry.getRequestOperator(op.agg);
    const src = sources.get(op.source);
    if (!spec || !src) throw new ConfigError(`operator ${op.name}: request not validated`);
    const table = src.table as TableName;
    const role = roleOfTable(table);
    if (!role) throw new ConfigError(`operator ${op.name}: table ${table} cannot be replayed`);
    const joinStrategy = op.join_strategy ?? spec.joinStrategies[0]!;
    const outputs = operatorOutputs(op, spec);
    const config = op.config ?? {};
    return {
      name: op.name,
      agg: op.agg,
      spec,
      source: op.source,
      table,
      joinStrategy,
      outputs,
      create: () => {
        const o = spec.impl({
          operatorName: op.name,
          role,
          table,
          outputNames: outputs.map((x) => x.name),
          ...(op.source_column !== undefined ? { sourceColumn: op.source_column } : {}),
          config,
          joinStrategy,
        });
        if (o.outputs.length !== outputs.length)
          throw new ConfigError(
            `aggregation ${op.agg}: impl declares ${o.outputs.length} outputs, outputs() ${outputs.length}`,
          );
        return o;
      },
    };
  });
  const increments = lake.instrument(exchange, symbol, startUs).increments;
  const columns: PipelineColumn[] = [
    ...SPINE_FRAME_COLUMNS.map((c) => ({ ...c, role: "spine" as const })),
    ...operators.flatMap((o) =>
      o.outputs.map((x) => ({
        name: x.name,
        role: "feature" as const,
        // the sink converts fixed-point outputs to natural units (floats; engine/units.ts)
        dtype:
          x.dtype === "i64" && frameUnit(x, increments).scale === null
            ? ("Int64" as const)
            : ("Float64" as const),
        unit: frameUnit(x, increments).unit,
        operator: o.name,
        aggregation: o.agg,
        aggregationVersion: o.spec.version,
        source: o.table,
        description: o.spec.description,
      })),
    ),
  ];
  const maxWarmRows = operators.reduce(
    (m, o) => o.outputs.reduce((mm, x) => Math.max(mm, x.warmupRows), m),
    0,
  );
  let warmupUs = (req.constraints.warmup_ms ?? DEFAULT_WARMUP_MS) * US_PER_MS;
  if (spine.type === "clock") warmupUs = Math.max(warmupUs, clockWarmupUs(maxWarmRows, spine.stepMs));
  return {
    request: req,
    exchange,
    symbol,
    startUs,
    endUs,
    spine,
    warmupUs,
    operators,
    labels: req.labels,
    columns,
    increments,
    featureNames: columns.filter((c) => c.role === "feature").map((c) => c.name),
    trainFraction: req.evaluation.split?.train_fraction ?? DEFAULT_TRAIN_FRACTION,
  };
}
