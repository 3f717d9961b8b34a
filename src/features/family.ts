/**
 * A feature family: a named group of features (Pointline prefix), switched on by one `include*` flag of
 * `FeatureRunConfig`, computed by one streaming operator, and documented by one catalogue entry per
 * output (DESIGN.md "Naming": name, family, formula, units, inputs, window, warm-up, PIT policy, version,
 * source). `docs/features.md` is generated from these entries (`npm run docs`).
 */
import type { Operator } from "../engine/operator.js";
import type { FeatureRunConfig } from "./config.js";

/** Catalogue entry of one output column. */
export interface FeatureMeta {
  readonly name: string;
  readonly family: string;
  /** Formula in plain text, e.g. "(ask_px_int[0] − bid_px_int[0]) / 2". */
  readonly formula: string;
  /** Unit: "price increments", "qty increments", "bps", "µs", "ratio", "1", "return", … */
  readonly unit: string;
  /** Input tables and columns, e.g. ["book_snapshot_25.bid_px_int"]. */
  readonly inputs: readonly string[];
  /** Window, e.g. "50 spine rows", "as-of (last event)", "current bar". */
  readonly window: string;
  /** Warm-up before the first non-null value, e.g. "49 rows after first trade". */
  readonly warmup: string;
  /** How the value stays point-in-time, e.g. "as-of backward over the row's knowledge set". */
  readonly pitPolicy: string;
  readonly version: number;
  /** Paper, vendor doc or reference implementation. */
  readonly source: string;
}

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
  | "includeBarAggregations";

/** A feature family: catalogue plus operator factory (see the module doc). */
export interface FamilyDef {
  /** Short id used by the CLI's `--families` (e.g. "ms", "of", "flow", "bar"). */
  readonly id: string;
  /** Column prefix ("ms_") or "" for the bar aggregations. */
  readonly prefix: string;
  readonly title: string;
  readonly flag: FamilyFlag;
  /** Catalogue entries for the outputs under `cfg` (window sizes appear in names). */
  catalog(cfg: FeatureRunConfig): FeatureMeta[];
  /** A fresh operator computing the family under `cfg`. */
  create(cfg: FeatureRunConfig): Operator;
}
