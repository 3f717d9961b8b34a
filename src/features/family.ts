/**
 * A feature family: a named group of registered operators (engine/registry.ts), switched on by one
 * `include*` flag of `FeatureRunConfig`, with the settings (window sizes, source table, output names) a
 * config gives each member. The family's catalogue is its members' declared outputs (`OutputMeta`,
 * declared once in each operator's definition) tagged with the family id; `docs/features.md` is
 * generated from it (`npm run docs`).
 *
 * A family of one operator runs that operator; a family of several runs them as one `GroupOperator`
 * (engine/group.ts), in member order, so later members may read earlier members' row outputs (the `bar`
 * family's derived columns read its aggregations' values).
 */
import { z } from "zod";
import { ConfigError, issuesText } from "../core/errors.js";
import { GroupOperator } from "../engine/group.js";
import { type Operator, type OutputDtype, roleOfTable } from "../engine/operator.js";
import {
  completeOutputs,
  type JoinStrategy,
  type OperatorDef,
  type OperatorParams,
  type OutputMeta,
} from "../engine/registry.js";
import type { TableName } from "../schema/tables.js";
import type { FeatureRunConfig } from "./config.js";

/** Catalogue entry of one output column: its `OutputMeta` and the id of the family that computes it. */
export interface FeatureMeta extends OutputMeta {
  readonly family: string;
}

/** The `OutputMeta` fields other than an output's own name, dtype and formula. */
export type OutputFields = Omit<OutputMeta, "name" | "dtype" | "formula">;

/**
 * Fields every output of a family (or of a part of one) shares; each output may override any of them.
 * - `unit`: unit of the value, e.g. "price increments", "qty increments", "bps", "µs", "ratio [-1,1]";
 * - `warmupRows`: spine rows after the first input before the value can be non-null (0 = none);
 * - `inputs`: input tables and columns, e.g. `book_snapshot_25.bid_px_int`;
 * - `window`: in words, e.g. "50 spine rows", "as-of (last book row)";
 * - `warmup`: the warm-up in words, e.g. "49 rows (null until 50 rows were emitted)";
 * - `pitPolicy`: how the value stays point-in-time; `source`: paper, vendor doc or reference implementation;
 * - `version`: definition version of the output (default 1; bump when its formula changes).
 */
export type OutputDefaults = Partial<OutputFields>;

/** The fields an output must give itself under `defaults` of type `D` (those `D` lacks; `version` never). */
type MissingFields<D> = Exclude<keyof OutputFields, keyof D | "version">;

/** Per-output fields under defaults `D`: the missing ones required, any other one an override. */
export type OutputOverrides<D> = Pick<OutputFields, MissingFields<D>> & Partial<OutputFields>;

/**
 * A builder of `OutputMeta` entries (see `outputBuilder`): `col(name, dtype, formula, fields)`, where
 * `fields` gives what the defaults lack (required then) and overrides the rest (optional when the
 * defaults are complete).
 */
export type OutputBuilder<D> = (
  name: string,
  dtype: OutputDtype,
  formula: string,
  ...fields: [MissingFields<D>] extends [never] ? [fields?: OutputOverrides<D>] : [fields: OutputOverrides<D>]
) => OutputMeta;

const OUTPUT_FIELDS = ["unit", "warmupRows", "inputs", "window", "warmup", "pitPolicy", "source"] as const;

/**
 * A builder of `OutputMeta` entries sharing `defaults` (the fields a family's outputs, or a part of them,
 * have in common); each entry is `{ ...defaults, ...fields }` with `version` 1 unless given, in the
 * `OutputMeta` field order. E.g.
 * `const col = outputBuilder({ warmupRows: 0, window: "as-of (last book row)", …, pitPolicy, source });`
 * `col("ms_mid_px", "f64", "(ask_px_int[0] + bid_px_int[0]) / 2", { unit: PX, inputs: [BID_PX, ASK_PX] })`.
 * @throws Error (at the call) when a field is neither a default nor given, for defaults not known
 *   statically (a programming error).
 */
export function outputBuilder<D extends OutputDefaults>(defaults: D): OutputBuilder<D> {
  return (name, dtype, formula, ...rest) => {
    const f: Partial<OutputFields> = { ...defaults, ...rest[0] };
    for (const k of OUTPUT_FIELDS)
      if (f[k] === undefined) throw new Error(`output ${name}: field ${k} neither a default nor given`);
    return {
      name,
      dtype,
      unit: f.unit!,
      warmupRows: f.warmupRows!,
      formula,
      inputs: f.inputs!,
      window: f.window!,
      warmup: f.warmup!,
      pitPolicy: f.pitPolicy!,
      version: f.version ?? 1,
      source: f.source!,
    };
  };
}

/** Settings of a windowed family operator: `windowRows` = N, the window in spine rows (at least 2). */
export const WINDOW_ROWS_PARAMS = z.object({ windowRows: z.number().int().min(2) }).strict();

/** The `FeatureRunConfig` flag that switches a family on. */
export type FamilyFlag =
  | "includeMicrostructure"
  | "includeTradeFlow"
  | "includeFlowRolling"
  | "includeFunding"
  | "includeBookShape"
  | "includeExecutionCost"
  | "includeSpreadDynamics"
  | "includeLiquidityShock"
  | "includeBasisMomentum"
  | "includeTradeBurst"
  | "includeCrossVenue"
  | "includeRegime"
  | "includeBarAggregations"
  | "includeDerivatives";

/** One member of a family: a registered operator with its settings under a config. */
export interface FamilyMember {
  /** The operator's definition (registered in the built-in registry, features/registry.ts). */
  readonly def: OperatorDef;
  /** Operator settings, checked by the definition's `params` schema. */
  readonly config?: Readonly<Record<string, unknown>>;
  /** Source table, for single-source (request) operators: `trades`, `quotes`, `book_snapshot_25`, … */
  readonly table?: TableName;
  /** Output names in the frame (default: the definition's names). */
  readonly outputNames?: readonly string[];
  /** Join strategy (default: the definition's first, else `asof_backward`). */
  readonly joinStrategy?: JoinStrategy;
}

/** What a family declares (see the module doc). */
export interface FamilySpec {
  /** Short id used by the CLI's `--families` (e.g. "ms", "of", "flow", "bar") and in the catalogue. */
  readonly id: string;
  /** Column prefix ("ms_") or "" for the bar aggregations. */
  readonly prefix: string;
  readonly title: string;
  readonly flag: FamilyFlag;
  /** Members under `cfg`, in column order. */
  members(cfg: FeatureRunConfig): readonly FamilyMember[];
}

/** A feature family with its catalogue and operator factory (built by `defineFamily`). */
export interface FamilyDef extends FamilySpec {
  /** Catalogue entries of the outputs under `cfg` (window sizes appear in names). */
  catalog(cfg: FeatureRunConfig): FeatureMeta[];
  /** A fresh operator computing the family under `cfg` (a `GroupOperator` when it has several members). */
  create(cfg: FeatureRunConfig): Operator;
}

function memberParams(m: FamilyMember): OperatorParams {
  return {
    config: m.config ?? {},
    joinStrategy: m.joinStrategy ?? m.def.joinStrategies?.[0] ?? "asof_backward",
  };
}

/** Outputs of a member, renamed by its `outputNames`. @throws ConfigError on a count mismatch. */
function memberOutputs(m: FamilyMember): OutputMeta[] {
  const outs = completeOutputs(m.def, memberParams(m));
  if (!m.outputNames) return outs;
  if (m.outputNames.length !== outs.length)
    throw new ConfigError(
      `family member ${m.def.name}: ${outs.length} output names expected, got ${m.outputNames.length}`,
    );
  return outs.map((o, k) => ({ ...o, name: m.outputNames![k]! }));
}

/** A fresh operator of one member. */
function memberOperator(m: FamilyMember): Operator {
  const outs = memberOutputs(m);
  const role = m.table === undefined ? undefined : roleOfTable(m.table);
  if (m.table !== undefined && role === undefined)
    throw new ConfigError(`family member ${m.def.name}: the engine cannot replay table ${m.table}`);
  return m.def.impl({
    ...memberParams(m),
    operatorName: m.def.name,
    outputNames: outs.map((o) => o.name),
    ...(m.table !== undefined ? { table: m.table } : {}),
    ...(role !== undefined ? { role } : {}),
  });
}

/** A family from its spec: catalogue = members' outputs, operator = the member or a group of them. */
export function defineFamily(spec: FamilySpec): FamilyDef {
  return {
    ...spec,
    members: spec.members,
    catalog(cfg: FeatureRunConfig): FeatureMeta[] {
      return spec.members(cfg).flatMap((m) => memberOutputs(m).map((o) => ({ ...o, family: spec.id })));
    },
    create(cfg: FeatureRunConfig): Operator {
      const ops = spec.members(cfg).map(memberOperator);
      if (ops.length === 1) return ops[0]!;
      return new GroupOperator(`family_${spec.id}`, ops);
    },
  };
}

/** A family operator's definition as `familyOperator` takes it. */
export interface FamilyOperatorSpec<C extends Record<string, unknown>> {
  /** Registry name, e.g. `microstructure`. */
  readonly name: string;
  readonly description: string;
  /** Paper, vendor doc or reference implementation. */
  readonly source: string;
  /** Definition version (default "1"). */
  readonly version?: string;
  /** Schema of the operator's settings (default: none), e.g. `z.object({ windowRows: … }).strict()`. */
  readonly params?: z.ZodType<C>;
  /** Every output with its full metadata, under the settings (declared once: the operator's `outputs` are these). */
  outputs(config: C): readonly OutputMeta[];
  /** A fresh operator under the settings. */
  create(config: C): Operator;
}

const NO_SETTINGS = z.object({}).strict();

/**
 * The registry definition of a family operator (one that reads several sources and runs in its family,
 * not addressable by a pipeline request). `impl` validates `config` against `params` and refuses
 * renamed outputs (family column names are fixed by the family's prefix). @throws ConfigError on both.
 */
export function familyOperator<C extends Record<string, unknown>>(spec: FamilyOperatorSpec<C>): OperatorDef {
  const schema = (spec.params ?? NO_SETTINGS) as z.ZodType<C>;
  const parse = (config: Readonly<Record<string, unknown>>): C => {
    const r = schema.safeParse(config);
    if (!r.success) throw new ConfigError(`${spec.name}: config: ${issuesText(r.error.issues, "(config)")}`);
    return r.data;
  };
  return {
    name: spec.name,
    description: spec.description,
    version: spec.version ?? "1",
    source: spec.source,
    params: schema,
    outputs: (p) => spec.outputs(parse(p.config)),
    impl(ctx) {
      const config = parse(ctx.config);
      const op = spec.create(config);
      const names = op.outputs.map((o) => o.name);
      if (ctx.outputNames.length !== names.length || ctx.outputNames.some((n, k) => n !== names[k]))
        throw new ConfigError(`${spec.name}: output names are fixed (${names.join(", ")})`);
      return op;
    },
  };
}
