/**
 * The aggregation registry of pipeline v2 (Pointline: `pointline/research/resample/registry.py`).
 *
 * An aggregation turns the events of one request source into one or more columns per spine row (bar).
 * Each entry declares what the planner checks before any data is read — the source columns it needs
 * (`requiredColumns`), the pipeline modes it may run in (`modeAllowlist`), its stage, semantic type, PIT
 * policy, determinism requirements and version — and an `impl` that builds a streaming engine operator
 * (engine/operator.ts) for one request operator. Built-ins live in `aggregations/`; a user aggregation
 * registers the same way, on the caller's own registry (no global state):
 *
 * ```ts
 * const registry = AggregationRegistry.withBuiltins();
 * registry.registerAggregation({ name: "my_agg", requiredColumns: ["px_int"], … , impl: (ctx) => new MyOp(ctx) });
 * await runPipeline(request, { lake, registry });
 * ```
 *
 * Units: aggregations over trades/quotes/books output decoded prices (quote currency, px_int ×
 * price_increment) and sizes (base units, qty_int × amount_increment) unless their outputs say otherwise;
 * the generic column aggregations (`sum`, `mean`, …) keep the source column's stored unit.
 */
import { z } from "zod";
import { ConfigError } from "../core/errors.js";
import type { Operator, OutputDtype, SourceRole } from "../engine/operator.js";
import type { TableName } from "../schema/tables.js";
import { BUILTIN_AGGREGATIONS } from "./aggregations/index.js";

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

/** Engine role of a request source table, or undefined when the engine cannot replay that table. */
export function roleOfTable(table: string): SourceRole | undefined {
  switch (table) {
    case "trades":
      return "trades";
    case "quotes":
      return "quotes";
    case "book_snapshot_25":
      return "book";
    case "derivative_ticker":
      return "ticker";
    case "liquidations":
      return "liquidations";
    default:
      return undefined;
  }
}
