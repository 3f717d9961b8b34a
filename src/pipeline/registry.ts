/**
 * The aggregation registry of pipeline v2 (Pointline: `pointline/research/resample/registry.py`).
 *
 * An aggregation turns the events of one request source into one or more columns per spine row (bar).
 * Each entry declares what the planner checks before any data is read — the source columns it needs
 * (`requiredColumns`), the pipeline modes it may run in (`modeAllowlist`), its stage, semantic type, PIT
 * policy, determinism requirements and version — and an `impl` that builds a streaming engine operator
 * (engine/operator.ts) for one request operator. The spec types live in aggregation-types.ts (re-exported
 * here). Built-ins live in `aggregations/`; a user aggregation registers the same way, on the caller's
 * own registry (no global state):
 *
 * ```ts
 * const registry = AggregationRegistry.withBuiltins();
 * registry.registerAggregation({ name: "my_agg", requiredColumns: ["px_int"], … , impl: (ctx) => new MyOp(ctx) });
 * await runPipeline(request, { lake, registry });
 * ```
 *
 * Units: aggregations over trades/quotes/books output decoded prices (quote currency, px_int ×
 * price_increment) and sizes (base units, qty_int × amount_increment) unless their outputs say otherwise;
 * the generic column aggregations (`sum`, `mean`, …) compute in the source column's stored unit and
 * declare it (`price increments`, `qty increments`, …); the run's sink then applies the units rule
 * (engine/units.ts): outputs whose name does not end in `_int` are converted to natural units.
 */
import { z } from "zod";
import { ConfigError } from "../core/errors.js";
import type { SourceRole } from "../engine/operator.js";
import {
  AGGREGATION_STAGES,
  type AggregationSpec,
  JOIN_STRATEGIES,
  PIPELINE_MODES,
} from "./aggregation-types.js";
import { BUILTIN_AGGREGATIONS } from "./aggregations/index.js";

export {
  AGGREGATION_STAGES,
  type AggregationContext,
  type AggregationOutput,
  type AggregationParams,
  type AggregationSpec,
  type AggregationStage,
  type DeterminismPolicy,
  JOIN_STRATEGIES,
  type JoinStrategy,
  PIPELINE_MODES,
  type PipelineMode,
  type PitPolicy,
} from "./aggregation-types.js";

const specShape = z.object({
  name: z.string().regex(/^[a-z][a-z0-9_]*$/, "snake_case identifier"),
  description: z.string().min(1),
  requiredColumns: z.array(z.string().min(1)),
  modeAllowlist: z.array(z.enum(PIPELINE_MODES)).min(1),
  stage: z.enum(AGGREGATION_STAGES),
  semanticType: z.string().min(1),
  pitPolicy: z.object({ featureDirection: z.literal("backward_only"), window: z.string().min(1) }),
  determinism: z.object({ requiredSort: z.array(z.string()) }),
  version: z.string().min(1),
  joinStrategies: z.array(z.enum(JOIN_STRATEGIES)).min(1),
  outputs: z.function(),
  impl: z.function(),
});

/** Aggregations by name. Create one per application (`withBuiltins()`), pass it to the pipeline. */
export class AggregationRegistry {
  private readonly specs = new Map<string, AggregationSpec>();

  /** A registry holding the built-in aggregations (`BUILTIN_AGGREGATIONS`, aggregations/index.ts). */
  static withBuiltins(): AggregationRegistry {
    const r = new AggregationRegistry();
    for (const s of BUILTIN_AGGREGATIONS) r.registerAggregation(s);
    return r;
  }

  /**
   * Adds an aggregation. @throws ConfigError if the spec is malformed or the name is already registered
   * (replacing an aggregation silently would change what existing requests compute).
   */
  registerAggregation(spec: AggregationSpec): this {
    const parsed = specShape.safeParse(spec);
    if (!parsed.success) {
      const msg = parsed.error.issues.map((i) => `${i.path.join(".") || "(spec)"}: ${i.message}`).join("; ");
      throw new ConfigError(`registerAggregation(${String(spec?.name)}): ${msg}`);
    }
    if (this.specs.has(spec.name)) throw new ConfigError(`aggregation ${spec.name} is already registered`);
    this.specs.set(spec.name, spec);
    return this;
  }

  /** The aggregation registered as `name`, or undefined. */
  get(name: string): AggregationSpec | undefined {
    return this.specs.get(name);
  }

  /** True when `name` is registered. */
  has(name: string): boolean {
    return this.specs.has(name);
  }

  /** Registered names, in registration order. */
  names(): string[] {
    return [...this.specs.keys()];
  }

  /** Registered specs, in registration order. */
  list(): AggregationSpec[] {
    return [...this.specs.values()];
  }
}

/** Engine role of a request source table (engine/operator.ts). */
export { roleOfTable } from "../engine/operator.js";
