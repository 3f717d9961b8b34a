/**
 * The aggregation spec contract of pipeline v2 (types and the mode/stage/join enumerations): what an
 * aggregation declares (`AggregationSpec`) and what its `impl` is built with (`AggregationContext`).
 * Shared by the registry (registry.ts, which re-exports everything here) and the built-in aggregations
 * (aggregations/); it imports neither, so the two do not form an import cycle.
 */
import type { z } from "zod";
import type { Operator, OutputDtype, SourceRole } from "../engine/operator.js";
import type { TableName } from "../schema/tables.js";

/** Pipeline modes of request v2. */
export const PIPELINE_MODES = ["bar_then_feature", "tick_then_bar", "event_joined"] as const;
/** One of `PIPELINE_MODES`. */
export type PipelineMode = (typeof PIPELINE_MODES)[number];

/**
 * Stage of an aggregation. `aggregate_then_feature`: aggregate the raw values of the events in the bar
 * (Pattern A). `feature_then_aggregate`: compute a value per event (e.g. a per-quote spread or a per-book
 * OFI increment), then aggregate it over the bar (Pattern B).
 */
export const AGGREGATION_STAGES = ["aggregate_then_feature", "feature_then_aggregate"] as const;
/** One of `AGGREGATION_STAGES`. */
export type AggregationStage = (typeof AGGREGATION_STAGES)[number];

/**
 * How a source joins the spine. `in_bar`: only events inside the row's bar count (null when the bar has
 * none). `asof_backward`: the latest state at or before the row's close, carried across bars. Forward or
 * nearest joins look ahead and are never allowed for features.
 */
export const JOIN_STRATEGIES = ["in_bar", "asof_backward"] as const;
/** One of `JOIN_STRATEGIES`. */
export type JoinStrategy = (typeof JOIN_STRATEGIES)[number];

/** PIT policy of an aggregation: features only look backward; `window` says which events a row sees. */
export interface PitPolicy {
  readonly featureDirection: "backward_only";
  /** Plain-words statement of the events one row may use, e.g. "trades in the bar, up to its close". */
  readonly window: string;
}

/** Determinism requirements: the input order the result depends on. */
export interface DeterminismPolicy {
  /** Sort keys of the input; the engine's total order satisfies them. */
  readonly requiredSort: readonly string[];
}

/** One output column of an aggregation (default name; a request's `output_name` may rename it). */
export interface AggregationOutput {
  readonly name: string;
  readonly dtype: OutputDtype;
  readonly unit: string;
  /** Spine rows before the value can be non-null by construction (0 = none). */
  readonly warmupRows: number;
}

/** The request-operator settings an aggregation is built with. */
export interface AggregationParams {
  /** `source_column` of the request operator (required by the generic column aggregations). */
  readonly sourceColumn?: string;
  /** `config` of the request operator, validated by the aggregation's `params` schema when it has one. */
  readonly config: Readonly<Record<string, unknown>>;
  readonly joinStrategy: JoinStrategy;
}

/** Everything `impl` needs to build the operator of one request operator. */
export interface AggregationContext extends AggregationParams {
  /** Request operator name (use it as the engine operator id). */
  readonly operatorName: string;
  /** Engine role of the operator's source (e.g. `trades` for table `trades`, `book` for `book_snapshot_25`). */
  readonly role: SourceRole;
  readonly table: TableName;
  /** Final output column names, aligned with `outputs(params)`. */
  readonly outputNames: readonly string[];
}

/** A registered aggregation (see the module doc). */
export interface AggregationSpec {
  readonly name: string;
  /** Formula and meaning in one or two sentences (docs, reports). */
  readonly description: string;
  /** Columns the operator's source table must have (canonical lake names, e.g. `px_int`, `bid_qty_int`). */
  readonly requiredColumns: readonly string[];
  readonly modeAllowlist: readonly PipelineMode[];
  readonly stage: AggregationStage;
  /** e.g. "price", "size", "notional", "event_id", "state_variable", "book_top", "trade_flow". */
  readonly semanticType: string;
  readonly pitPolicy: PitPolicy;
  readonly determinism: DeterminismPolicy;
  readonly version: string;
  /** Join strategies supported; the first is the default. */
  readonly joinStrategies: readonly JoinStrategy[];
  /** True for the generic column aggregations: the request operator must name `source_column`. */
  readonly needsSourceColumn?: boolean;
  /**
   * Further tables the operator reads as-of from the same instrument (e.g. `quotes` for
   * `aggressive_ratio`); the request must declare a source for each.
   */
  readonly extraTables?: readonly TableName[];
  /** Schema of the request operator's `config` (unknown keys are rejected when given). */
  readonly params?: z.ZodType<Record<string, unknown>>;
  /** Output columns for given settings (default names). */
  readonly outputs: (p: AggregationParams) => readonly AggregationOutput[];
  /** Builds the streaming operator. */
  readonly impl: (ctx: AggregationContext) => Operator;
  /** Paper, vendor doc or reference implementation. */
  readonly source?: string;
}
