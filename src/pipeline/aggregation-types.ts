/**
 * The aggregation contract of pipeline v2, as names over the one operator registry (engine/registry.ts):
 * an aggregation is a registered operator with the request binding (`AggregationSpec` =
 * `RequestOperatorDef`), built for one request operator from an `AggregationContext`. Shared by the
 * pipeline and the built-in aggregations (aggregations/), which import these types from here.
 */
import type { SourceRole } from "../engine/operator.js";
import type {
  DeclaredOutput,
  OperatorBuildContext,
  OperatorParams,
  RequestOperatorDef,
} from "../engine/registry.js";
import type { TableName } from "../schema/tables.js";

export {
  AGGREGATION_STAGES,
  type AggregationStage,
  type DeterminismPolicy,
  JOIN_STRATEGIES,
  type JoinStrategy,
  PIPELINE_MODES,
  type PipelineMode,
  type PitPolicy,
} from "../engine/registry.js";

/** One output column of an aggregation (default name; a request's `output_name` may rename it). */
export type AggregationOutput = DeclaredOutput;

/** The request-operator settings an aggregation is built with. */
export type AggregationParams = OperatorParams;

/** Everything `impl` needs to build the operator of one request operator (single source: role and table). */
export interface AggregationContext extends OperatorBuildContext {
  readonly role: SourceRole;
  readonly table: TableName;
}

/** A registered aggregation: an operator definition with the request binding. */
export type AggregationSpec = RequestOperatorDef;
