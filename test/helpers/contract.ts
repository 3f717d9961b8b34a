/**
 * The operators under contract: every registered feature family (`FAMILIES`) and every registered
 * aggregation of the pipeline registry (`AggregationRegistry.withBuiltins()`), each with its declared
 * outputs. An aggregation is instantiated automatically on the first engine table that has its required
 * columns and that its `impl` accepts (generic column aggregations on `trades.px_int`), with its default
 * join strategy — a newly registered operator gets the contract tests without a hand-written case.
 */
import assert from "node:assert/strict";
import { ConfigError } from "../../src/core/errors.js";
import type { Operator, OutputDtype } from "../../src/engine/operator.js";
import { type FeatureRunConfig, parseFeatureRunConfig } from "../../src/features/config.js";
import { FAMILIES } from "../../src/features/families.js";
import { AggregationRegistry, type AggregationSpec, roleOfTable } from "../../src/pipeline/registry.js";
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

function families(cfg: FeatureRunConfig): ContractOperator[] {
  return FAMILIES.filter((f) => cfg[f.flag]).map((f) => {
    const dtype = new Map(f.create(cfg).outputs.map((o) => [o.name, o.dtype]));
    return {
      label: `family ${f.id}`,
      make: () => f.create(cfg),
      inputs: [...new Set(f.catalog(cfg).flatMap((m) => m.inputs))],
      // the catalogue declares name and unit; the dtype comes from the operator (checked on values)
      declared: f
        .catalog(cfg)
        .map((m) => ({ name: m.name, unit: m.unit, dtype: dtype.get(m.name) ?? "f64" })),
    };
  });
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
 * Every registered operator but cross-venue (it needs a second venue: `crossVenueOperator`), under the
 * default feature config with `spine`.
 */
export function registeredOperators(spine: FeatureRunConfig["spine"]): ContractOperator[] {
  const cfg = parseFeatureRunConfig({ spine, includeBarAggregations: true });
  return [...families(cfg), ...AggregationRegistry.withBuiltins().list().map(aggregation)];
}

/** The cross-venue family against `spot` (the one registered operator that reads a second instrument). */
export function crossVenueOperator(
  spine: FeatureRunConfig["spine"],
  spot: { readonly exchange: string; readonly symbol: string },
): ContractOperator {
  const cfg = parseFeatureRunConfig({ spine, includeCrossVenue: true, crossVenue: spot });
  const cv = families(cfg).find((o) => o.label === "family cv");
  assert.ok(cv, "the cross-venue family is registered");
  return cv;
}
