/**
 * The operators under contract: every operator of the one registry (`builtinRegistry()`), each with its
 * declared outputs — request-bound aggregations on their own, family operators in their families. An aggregation is instantiated automatically on the first engine table that has its required
 * columns and that its `impl` accepts (generic column aggregations on `trades.px_int`), with its default
 * join strategy — a newly registered operator gets the contract tests without a hand-written case.
 */
import assert from "node:assert/strict";
import { ConfigError } from "../../src/core/errors.js";
import type { Operator, OutputDtype } from "../../src/engine/operator.js";
import { type FeatureRunConfig, parseFeatureRunConfig } from "../../src/features/config.js";
import { PRESETS } from "../../src/features/derivatives/preset.js";
import { FAMILIES } from "../../src/features/families.js";
import type { FamilyDef } from "../../src/features/family.js";
import { intervalCrossAssetDef } from "../../src/features/intervals/cross-asset.js";
import { intervalMicrostructureDef } from "../../src/features/intervals/microstructure.js";
import { TRADER_PRESET } from "../../src/features/trader/preset.js";
import { REPLAY_OPERATORS } from "../../src/features/trader/replay.js";
import {
  type AggregationSpec,
  builtinRegistry,
  isRequestOperator,
  roleOfTable,
} from "../../src/pipeline/registry.js";
import { type TableName, tableColumns } from "../../src/schema/tables.js";

/** An output as declared in a registry (catalogue entry or aggregation spec). */
export interface DeclaredOutput {
  readonly name: string;
  readonly dtype: OutputDtype;
  readonly unit: string;
}

/** One registered operator: a label, a factory of fresh instances, and what its registry declares. */
export interface ContractOperator {
  readonly label: string;
  readonly make: () => Operator;
  readonly declared: readonly DeclaredOutput[];
  /** Declared input columns, `table.column`. */
  readonly inputs: readonly string[];
}

const ENGINE_TABLES: readonly TableName[] = ["trades", "quotes", "book_snapshot_25", "derivative_ticker"];

function family(f: FamilyDef, cfg: FeatureRunConfig): ContractOperator {
  const catalog = f.catalog(cfg);
  return {
    label: `family ${f.id}`,
    make: () => f.create(cfg),
    inputs: [...new Set(catalog.flatMap((m) => m.inputs))],
    declared: catalog.map((m) => ({ name: m.name, unit: m.unit, dtype: m.dtype })),
  };
}

function aggregation(spec: AggregationSpec): ContractOperator {
  for (const table of ENGINE_TABLES) {
    const cols = new Set(tableColumns(table).map((c) => c.name));
    if (!spec.requiredColumns.every((c) => cols.has(c))) continue;
    const sourceColumn = spec.needsSourceColumn ? (table === "trades" ? "px_int" : undefined) : undefined;
    if (spec.needsSourceColumn && !sourceColumn) continue;
    const params = {
      ...(sourceColumn ? { sourceColumn } : {}),
      config: {},
      joinStrategy: spec.joinStrategies[0]!,
    };
    const declared = spec.outputs(params).map((o) => ({ ...o, name: `${spec.name}:${o.name}` }));
    const role = roleOfTable(table)!;
    const make = () =>
      spec.impl({
        ...params,
        operatorName: spec.name,
        role,
        table,
        outputNames: declared.map((d) => d.name),
      });
    try {
      make();
    } catch (e) {
      if (e instanceof ConfigError) continue;
      throw e;
    }
    const inputs = [
      ...spec.requiredColumns.map((c) => `${table}.${c}`),
      ...(sourceColumn ? [`${table}.${sourceColumn}`] : []),
    ];
    return { label: `aggregation ${spec.name}@${table}`, make, declared, inputs };
  }
  assert.fail(`aggregation ${spec.name}: no engine table serves it`);
}

/**
 * Every operator of the built-in registry (`builtinRegistry()`), under the default feature config with
 * `spine`: a request-bound operator on its own (see `aggregation`), a family operator as the family that
 * runs it (a derived operator needs the members it reads), once per family. Cross-venue operators are
 * left to `crossVenueOperator` (they need a second venue). Fails if a registered operator belongs to no
 * family and is not request-bound (it would escape the contract).
 */
export function registeredOperators(spine: FeatureRunConfig["spine"]): ContractOperator[] {
  const cfg = parseFeatureRunConfig({ spine, includeBarAggregations: true });
  const out: ContractOperator[] = [];
  for (const def of builtinRegistry().list()) {
    if (isRequestOperator(def)) {
      out.push(aggregation(def));
      continue;
    }
    // the trader presets read replay rows / run on a minute spine: contract in test/trader/contract.test.ts
    if (TRADER_OPERATORS.has(def.name)) continue;
    // multi-instrument interval operators read `<base>@<alias>` roles of Lean data: contract (snapshot /
    // restore, prefix truncation, reproducibility, partition safety) in test/features/intervals.test.ts
    if (def === intervalMicrostructureDef || def === intervalCrossAssetDef) continue;
    if (PRESETS.some((f) => f.members(cfg).some((m) => m.def === def))) continue; // presetOperators
    const fam = FAMILIES.find((f) => f.members(cfg).some((m) => m.def === def));
    if (fam === undefined && CROSS_VENUE_OPERATORS.includes(def.name)) continue;
    assert.ok(fam, `registered operator ${def.name} is neither request-bound nor in a family`);
    if (fam.flag === "includeCrossVenue") continue;
    if (!out.some((o) => o.label === `family ${fam.id}`)) out.push(family(fam, cfg));
  }
  return out;
}

/** Operators of the trader presets (contract: test/trader/contract.test.ts). */
const TRADER_OPERATORS: ReadonlySet<string> = new Set(
  [...REPLAY_OPERATORS, ...TRADER_PRESET.members].map((d) => d.name),
);

/** Registered operators that read a second venue (contract: `crossVenueOperator`). */
const CROSS_VENUE_OPERATORS: readonly string[] = ["cross_venue", "cross_venue_mid"];

/** The cross-venue family against `spot` (the one registered operator that reads a second instrument). */
export function crossVenueOperator(
  spine: FeatureRunConfig["spine"],
  spot: { readonly exchange: string; readonly symbol: string },
): ContractOperator {
  const cfg = parseFeatureRunConfig({ spine, includeCrossVenue: true, crossVenue: spot });
  const cv = FAMILIES.find((f) => f.id === "cv");
  assert.ok(cv, "the cross-venue family is registered");
  return family(cv, cfg);
}

/**
 * The preset families (features/derivatives/preset.ts), each as one contract operator: their column names
 * are the guide's (`open`, `close`, `vwap`, `hour`) and collide with the bar family's, so they run in a
 * Driver of their own.
 */
export function presetOperators(spine: FeatureRunConfig["spine"]): ContractOperator[] {
  const cfg = parseFeatureRunConfig({ spine, includeDerivatives: true });
  return PRESETS.map((f) => family(f, cfg));
}
