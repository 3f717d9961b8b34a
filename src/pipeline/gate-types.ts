/**
 * Shared types of pipeline v2 (issue #4): gate results, the accept/reject decision and the column
 * descriptor of a pipeline frame. Imported by the gates, the decision logic, the report and the
 * artifact writer; keep the names stable.
 */

/**
 * Outcome of one quality gate.
 * - `name`: stable gate identifier (e.g. "row_count").
 * - `passed`: true when the gate's condition holds (a skipped gate reports `passed: true`).
 * - `critical`: a failed critical gate rejects the run.
 * - `skipped`: the gate was not applicable/evaluated; `reason` says why.
 * - `reason`: human-readable one-line explanation.
 * - `details`: JSON-serialisable measurements backing the verdict.
 */
export interface GateResult {
  readonly name: string;
  readonly passed: boolean;
  readonly critical: boolean;
  readonly skipped: boolean;
  readonly reason: string;
  readonly details: Readonly<Record<string, unknown>>;
}

/**
 * Progress of a pipeline run, in order, for progress displays (`PipelineOptions.onProgress`): each
 * stage (`plan`, `features`, `labels`, `gates`, `evaluation`, `artifacts`) starts and ends with its
 * wall time in ms, and within `gates` each gate starts and ends with its result (`details.elapsed_ms`).
 */
export type PipelineProgress =
  | { readonly kind: "stage-start"; readonly stage: string }
  | { readonly kind: "stage-end"; readonly stage: string; readonly ms: number }
  | { readonly kind: "gate-start"; readonly gate: string }
  | { readonly kind: "gate-end"; readonly result: GateResult };

/** Final accept/reject verdict of a pipeline run, with the reasons (empty when accepted cleanly). */
export interface Decision {
  readonly status: "accept" | "reject";
  readonly reasons: readonly string[];
}

/**
 * One column of a pipeline frame.
 * - `role`: "spine" (timestamp/key), "feature" (model input) or "label" (forward-looking target).
 * - `dtype`: Polars dtype name of the column.
 * - `unit`: physical unit (e.g. "us", "price", "bps", "1").
 * - `operator`/`aggregation`/`aggregationVersion`/`source`/`description`: provenance, when known.
 */
export interface PipelineColumn {
  readonly name: string;
  readonly role: "spine" | "feature" | "label";
  readonly dtype: "Int64" | "Float64";
  readonly unit: string;
  readonly operator?: string;
  readonly aggregation?: string;
  readonly aggregationVersion?: string;
  readonly source?: string;
  readonly description?: string;
}
