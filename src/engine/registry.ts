/**
 * The one operator registry (DESIGN.md "Computation model"): every feature, aggregation and derived
 * column of Pointline is an `OperatorDef` registered here, and the engine's `Driver` runs the operators
 * these definitions build. Two consumers address the same definitions:
 *
 * - **feature families** (features/family.ts) are named groups of registered operators, each member with
 *   the settings a `FeatureRunConfig` gives it (window sizes, output names);
 * - **pipeline requests** (pipeline/request.ts) address an operator by its registry name (`agg`), with
 *   `source_column`, `config` and `join_strategy` from the request. Only definitions that declare the
 *   request binding (`modeAllowlist`, `stage`, … — `isRequestOperator`) can be requested.
 *
 * **Declared once.** Each output column is declared once, with everything the catalogue, the manifests and
 * the contract tests need (`OutputMeta`: name, dtype, unit, warm-up in rows and in words, formula, inputs,
 * window, PIT policy, version, source). `OperatorRegistry.outputMeta` completes the partial outputs a
 * user-registered aggregation may give (formula = the description, inputs = its required columns, …).
 *
 * **One state format.** Family operators and aggregations are the same `Operator` contract: each
 * state is the JSON value of its `snapshot()`, a family of several operators nests its members' states
 * as `{ v: 1, members: [{ id, state }] }` (engine/group.ts), and the Driver's snapshot (operator ids in
 * order, their states, the spine and the merge position: engine/driver.ts) is the one checkpoint format
 * that restores, partition hand-off and the online store share.
 *
 * No global mutable state: the built-in registry is built by `builtinRegistry()` (features/registry.ts);
 * an application adds its own operators to its own instance.
 */
import type { z } from "zod";
import { ConfigError } from "../core/errors.js";
import type { TableName } from "../schema/tables.js";
import type { Operator, OutputSpec, SourceRole } from "./operator.js";

/** Everything the catalogue says about one output column (declared once, in the operator's definition). */
export interface OutputMeta extends OutputSpec {
  /** Formula in plain text, e.g. "(ask_px_int[0] − bid_px_int[0]) / 2". */
  readonly formula: string;
  /** Input tables and columns (`book_snapshot_25.bid_px_int`), spine fields (`spine.ts_event_us`) or row outputs (`row.close`). */
  readonly inputs: readonly string[];
  /** Window, e.g. "50 spine rows", "as-of (last event)", "current bar". */
  readonly window: string;
  /** Warm-up in words, e.g. "49 rows after the first trade" (`warmupRows` is the number). */
  readonly warmup: string;
  /** How the value stays point-in-time. */
  readonly pitPolicy: string;
  readonly version: number;
  /** Paper, vendor doc or reference implementation. */
  readonly source: string;
}

/** An output as an operator definition returns it: the four engine fields, the catalogue fields when known. */
export type DeclaredOutput = OutputSpec & Partial<Omit<OutputMeta, keyof OutputSpec>>;

/** Pipeline modes of request v2. */
export const PIPELINE_MODES = ["bar_then_feature", "tick_then_bar", "event_joined"] as const;
/** One of `PIPELINE_MODES`. */
export type PipelineMode = (typeof PIPELINE_MODES)[number];

/**
 * Stage of a request operator. `aggregate_then_feature`: aggregate the raw values of the events in the
 * bar (Pattern A). `feature_then_aggregate`: compute a value per event (e.g. a per-quote spread or a
 * per-book OFI increment), then aggregate it over the bar (Pattern B).
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

/** PIT policy of a request operator: features only look backward; `window` says which events a row sees. */
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

/** The settings an operator is built with (from a request operator or a family member). */
export interface OperatorParams {
  /** Source column (required by the generic column aggregations). */
  readonly sourceColumn?: string;
  /** Operator settings, validated by the definition's `params` schema when it has one. */
  readonly config: Readonly<Record<string, unknown>>;
  readonly joinStrategy: JoinStrategy;
}

/** Everything `impl` needs to build one operator instance. */
export interface OperatorBuildContext extends OperatorParams {
  /** Instance name (request operator name, or the registry name in a family); use it as the operator id. */
  readonly operatorName: string;
  /** Engine role of the operator's source table, for single-source operators. */
  readonly role?: SourceRole;
  /** Source table, for single-source operators (e.g. `trades`, `book_snapshot_25`). */
  readonly table?: TableName;
  /** Final output column names, aligned with `outputs(params)`. */
  readonly outputNames: readonly string[];
}

/**
 * A registered operator. The request binding (`requiredColumns` … `joinStrategies`) is present on
 * operators a pipeline request may address (`isRequestOperator`); feature-family operators that read
 * several sources at once leave it out and run in their families.
 */
export interface OperatorDef {
  /** Registry name (snake_case), e.g. `trade_vwap`, `microstructure`. */
  readonly name: string;
  /** Formula and meaning in one or two sentences (docs, reports). */
  readonly description: string;
  /** Version of the definition (bump when a formula changes). */
  readonly version: string;
  /** Paper, vendor doc or reference implementation. */
  readonly source?: string;
  /** Schema of `config` (unknown keys are rejected when given). */
  readonly params?: z.ZodType<Record<string, unknown>>;
  /** Output columns for given settings (default names), in column order. */
  readonly outputs: (p: OperatorParams) => readonly DeclaredOutput[];
  /**
   * Builds a fresh operator. A request operator (`isRequestOperator`) is always given `role` and `table`
   * (the pipeline passes its source; a family member names its table), so its `impl` may declare its
   * parameter as the narrower `AggregationContext` (method syntax keeps that assignable).
   * @throws ConfigError on settings it cannot serve.
   */
  impl(ctx: OperatorBuildContext): Operator;
  /** Columns the source table must have (request binding). */
  readonly requiredColumns?: readonly string[];
  /** Pipeline modes the operator may run in (request binding). */
  readonly modeAllowlist?: readonly PipelineMode[];
  readonly stage?: AggregationStage;
  /** e.g. "price", "size", "notional", "event_id", "state_variable", "book_top", "trade_flow". */
  readonly semanticType?: string;
  readonly pitPolicy?: PitPolicy;
  readonly determinism?: DeterminismPolicy;
  /** Join strategies supported; the first is the default. */
  readonly joinStrategies?: readonly JoinStrategy[];
  /** True for the generic column aggregations: the request operator must name `source_column`. */
  readonly needsSourceColumn?: boolean;
  /** Further tables the operator reads as-of from the same instrument; a request declares a source for each. */
  readonly extraTables?: readonly TableName[];
}

/** The request-binding fields of an `OperatorDef`. */
type RequestBinding =
  | "requiredColumns"
  | "modeAllowlist"
  | "stage"
  | "semanticType"
  | "pitPolicy"
  | "determinism"
  | "joinStrategies";

/** An operator a pipeline request can address by name (every request-binding field present). */
export type RequestOperatorDef = OperatorDef & Required<Pick<OperatorDef, RequestBinding>>;

const BINDING: readonly RequestBinding[] = [
  "requiredColumns",
  "modeAllowlist",
  "stage",
  "semanticType",
  "pitPolicy",
  "determinism",
  "joinStrategies",
];

/** True when `def` declares the full request binding. */
export function isRequestOperator(def: OperatorDef): def is RequestOperatorDef {
  return BINDING.every((k) => def[k] !== undefined);
}

/** A definition's declared outputs completed to `OutputMeta` (defaults from the definition). */
export function completeOutputs(def: OperatorDef, p: OperatorParams): OutputMeta[] {
  const inputs = (def.requiredColumns ?? []).map((c) => `source.${c}`);
  if (p.sourceColumn !== undefined && !def.requiredColumns?.includes(p.sourceColumn))
    inputs.push(`source.${p.sourceColumn}`);
  for (const t of def.extraTables ?? []) inputs.push(t);
  const version = Number.parseInt(def.version, 10);
  return def.outputs(p).map((o) => ({
    name: o.name,
    dtype: o.dtype,
    unit: o.unit,
    warmupRows: o.warmupRows,
    formula: o.formula ?? def.description,
    inputs: o.inputs ?? inputs,
    window: o.window ?? def.pitPolicy?.window ?? "see formula",
    warmup: o.warmup ?? (o.warmupRows === 0 ? "none" : `${o.warmupRows} rows`),
    pitPolicy: o.pitPolicy ?? "backward only: events in the row's knowledge set",
    version: o.version ?? (Number.isFinite(version) ? version : 1),
    source: o.source ?? def.source ?? "user-registered",
  }));
}

/** Operators by name. Create one per application (`builtinRegistry()`), pass it down. */
export class OperatorRegistry {
  private readonly defs = new Map<string, OperatorDef>();

  /**
   * Adds an operator. @throws ConfigError if the name is not snake_case, is already registered
   * (replacing an operator silently would change what existing requests and families compute), or the
   * request binding is partial.
   */
  register(def: OperatorDef): this {
    const name = String(def?.name);
    if (!/^[a-z][a-z0-9_]*$/.test(name)) throw new ConfigError(`register(${name}): name must be snake_case`);
    if (typeof def.description !== "string" || def.description.length === 0)
      throw new ConfigError(`register(${name}): description is required`);
    if (typeof def.version !== "string" || def.version.length === 0)
      throw new ConfigError(`register(${name}): version is required`);
    if (typeof def.outputs !== "function" || typeof def.impl !== "function")
      throw new ConfigError(`register(${name}): outputs and impl must be functions`);
    const present = BINDING.filter((k) => def[k] !== undefined);
    if (present.length > 0 && present.length < BINDING.length)
      throw new ConfigError(
        `register(${name}): a request operator declares all of ${BINDING.join(", ")}; missing ${BINDING.filter((k) => def[k] === undefined).join(", ")}`,
      );
    if (def.modeAllowlist?.length === 0 || def.joinStrategies?.length === 0)
      throw new ConfigError(`register(${name}): modeAllowlist and joinStrategies must not be empty`);
    if (def.pitPolicy && def.pitPolicy.featureDirection !== "backward_only")
      throw new ConfigError(`register(${name}): features look backward only`);
    if (this.defs.has(name)) throw new ConfigError(`operator ${name} is already registered`);
    this.defs.set(name, def);
    return this;
  }

  /** The operator registered as `name`, or undefined. */
  get(name: string): OperatorDef | undefined {
    return this.defs.get(name);
  }

  /** True when `name` is registered. */
  has(name: string): boolean {
    return this.defs.has(name);
  }

  /** Registered names, in registration order. */
  names(): string[] {
    return [...this.defs.keys()];
  }

  /** Registered definitions, in registration order. */
  list(): OperatorDef[] {
    return [...this.defs.values()];
  }

  /** The operator registered as `name` when a pipeline request can address it (`isRequestOperator`). */
  getRequestOperator(name: string): RequestOperatorDef | undefined {
    const def = this.defs.get(name);
    return def && isRequestOperator(def) ? def : undefined;
  }

  /** Definitions a pipeline request can address, in registration order. */
  requestOperators(): RequestOperatorDef[] {
    return this.list().filter(isRequestOperator);
  }

  /** Complete output metadata of `name` under `p`. @throws ConfigError if not registered. */
  outputMeta(name: string, p: OperatorParams): OutputMeta[] {
    const def = this.defs.get(name);
    if (!def) throw new ConfigError(`operator ${name} is not registered`);
    return completeOutputs(def, p);
  }
}
