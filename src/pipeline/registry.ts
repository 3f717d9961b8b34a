/**
 * The operators a pipeline v2 request can address (Pointline: `pointline/research/resample/registry.py`):
 * the request-bound definitions of the one operator registry (engine/registry.ts, built-ins in
 * features/registry.ts). A request operator names one by `agg`; the planner checks what it declares
 * before any data is read — the source columns it needs (`requiredColumns`), the pipeline modes it may run
 * in (`modeAllowlist`), its stage, semantic type, PIT policy, determinism requirements and version — and
 * its `impl` builds the streaming engine operator (engine/operator.ts). A user aggregation registers on
 * the caller's own registry (no global state):
 *
 * ```ts
 * const registry = builtinRegistry().register({ name: "my_agg", requiredColumns: ["px_int"], … , impl: (ctx) => new MyOp(ctx) });
 * await runPipeline(request, { lake, registry });
 * ```
 *
 * Units: aggregations compute prices and sizes in increments and declare it (`price increments`, `qty
 * increments`); the generic column aggregations (`sum`, `mean`, …) compute in the source column's stored
 * unit and declare it; the run's sink then applies the units rule (engine/units.ts): outputs whose name
 * does not end in `_int` are converted to natural units.
 */

/** Engine role of a request source table (engine/operator.ts). */
export { roleOfTable } from "../engine/operator.js";
export {
  isRequestOperator,
  OperatorRegistry,
} from "../engine/registry.js";
export { builtinRegistry } from "../features/registry.js";
export * from "./aggregation-types.js";
