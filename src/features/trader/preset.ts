/**
 * The trader 1-minute preset: the named set of registered operators that computes the 33 features
 * (features/trader/features.ts) over the rows of a `replay_1m` frame, run as one `GroupOperator` by the
 * one Driver on a 60 s clock spine.
 *
 * The replay columns reach the features as row values written by the first member, `replay_rows`: an
 * operator that serves the rows of a replay (one symbol, sorted by minute) at the spine minute they
 * belong to, and null where the replay has no row. The same operator serves a replay built from the lake
 * (`buildReplay1m`) and one a user brings (`--replay FILE`), so both paths run the same feature operators
 * through the same Driver.
 */
import { ConfigError } from "../../core/errors.js";
import { US_PER_MINUTE } from "../../core/time.js";
import { GroupOperator } from "../../engine/group.js";
import type { JsonValue, Operator, OutputSpec, SpineRow } from "../../engine/operator.js";
import { stateNumber, stateObject } from "../../engine/operator.js";
import type { OperatorDef, OutputMeta } from "../../engine/registry.js";
import { TRADER_FEATURE_OPERATORS, TRADER_SOURCE } from "./features.js";

/** The value columns of a replay_1m row (after symbol, event_time, open_time_ms), in order. */
export const REPLAY_VALUE_COLUMNS = [
  "open",
  "high",
  "low",
  "close",
  "volume",
  "taker_buy_volume",
  "taker_sell_volume",
  "funding_bps",
  "mark_price",
  "index_price",
  "next_funding_time",
  "open_interest",
  "spread_bps",
  "level1_ofi_1m",
  "liquidation_buy_notional_1m",
  "liquidation_sell_notional_1m",
  "liquidation_available",
] as const;
/** One of `REPLAY_VALUE_COLUMNS`. */
export type ReplayValueColumn = (typeof REPLAY_VALUE_COLUMNS)[number];

/** Columns a user replay must have (the rest may be absent: then null, and features reading them are null). */
export const REPLAY_REQUIRED_COLUMNS = [
  "symbol",
  "event_time",
  "open",
  "high",
  "low",
  "close",
  "volume",
] as const;

/** Unit of each replay value column (natural units; next_funding_time in µs since the epoch). */
export const REPLAY_UNITS: Readonly<Record<ReplayValueColumn, string>> = {
  open: "quote currency",
  high: "quote currency",
  low: "quote currency",
  close: "quote currency",
  volume: "base units",
  taker_buy_volume: "base units",
  taker_sell_volume: "base units",
  funding_bps: "bps per funding interval",
  mark_price: "quote currency",
  index_price: "quote currency",
  next_funding_time: "µs",
  open_interest: "contracts",
  spread_bps: "bps",
  level1_ofi_1m: "base units",
  liquidation_buy_notional_1m: "quote currency",
  liquidation_sell_notional_1m: "quote currency",
  liquidation_available: "0/1",
};

/** The rows of one symbol's replay: minute opens (µs, strictly increasing, minute-aligned) and value columns. */
export interface ReplayRows {
  readonly eventUs: Float64Array;
  /** Aligned with `REPLAY_VALUE_COLUMNS`; NaN = null. */
  readonly columns: readonly Float64Array[];
}

/**
 * Checks a replay's minute grid. @throws ConfigError naming the symbol and row when a minute is not
 * aligned to a UTC minute or not strictly after the previous one (a duplicate minute).
 */
export function checkReplayRows(symbol: string, rows: ReplayRows): void {
  const t = rows.eventUs;
  for (let i = 0; i < t.length; i++) {
    if (t[i]! % US_PER_MINUTE !== 0)
      throw new ConfigError(
        `replay ${symbol}: row ${i}: event_time ${t[i]} µs is not the open of a UTC minute`,
      );
    if (i > 0 && !(t[i]! > t[i - 1]!))
      throw new ConfigError(
        `replay ${symbol}: row ${i}: event_time ${t[i]} µs is ${t[i] === t[i - 1] ? "a duplicate minute" : "before the previous row"}`,
      );
  }
}

const replayOutputs: OutputSpec[] = REPLAY_VALUE_COLUMNS.map((name) => ({
  name,
  dtype: "f64",
  unit: REPLAY_UNITS[name],
  warmupRows: 0,
}));

/**
 * Serves replay rows as row values: at the spine row of minute m it writes the replay's row of m, or
 * nulls when the replay has none. Reads no events; state = the index of the next row.
 */
export class ReplayRowsOperator implements Operator {
  readonly id = "replay_rows";
  readonly inputs = [] as const;
  readonly reads = {};
  readonly outputs: readonly OutputSpec[] = replayOutputs;
  private next = 0;

  constructor(private readonly rows: ReplayRows) {}

  onEvent(): void {}

  emit(row: SpineRow, out: readonly Float64Array[], r: number): void {
    const t = this.rows.eventUs;
    while (this.next < t.length && t[this.next]! < row.tsEventUs) this.next++;
    const hit = this.next < t.length && t[this.next] === row.tsEventUs;
    const cols = this.rows.columns;
    for (let k = 0; k < out.length; k++) out[k]![r] = hit ? cols[k]![this.next]! : Number.NaN;
    if (hit) this.next++;
  }

  snapshot(): JsonValue {
    return { v: 1, next: this.next };
  }

  restore(state: JsonValue): void {
    const s = stateObject(state, this.id);
    this.next = stateNumber(s, "next");
  }
}

const replayRowsMeta: OutputMeta[] = REPLAY_VALUE_COLUMNS.map((name) => ({
  name,
  dtype: "f64",
  unit: REPLAY_UNITS[name],
  warmupRows: 0,
  formula: `the replay row's ${name} (null where the replay has no row for the minute)`,
  inputs: [`replay_1m.${name}`],
  window: "current minute",
  warmup: "none",
  pitPolicy: "the replay row of the spine minute (knowable at the minute's close)",
  version: 1,
  source: TRADER_SOURCE,
}));

/**
 * Registered definition of `replay_rows`. Its rows come from `config.rows` (a `ReplayRows`), which the
 * trader frame builder passes; the operator is not addressable by a pipeline request.
 */
export const replayRowsOperator: OperatorDef = {
  name: "replay_rows",
  description:
    "the rows of a replay_1m frame served at their spine minute (null where the replay has no row)",
  version: "1",
  source: TRADER_SOURCE,
  outputs: () => replayRowsMeta,
  impl(ctx) {
    const rows = ctx.config.rows as ReplayRows | undefined;
    if (!rows || !(rows.eventUs instanceof Float64Array))
      throw new ConfigError("replay_rows: config.rows (a ReplayRows) is required");
    return new ReplayRowsOperator(rows);
  },
};

/** The trader preset: `replay_rows` then the feature operators, by registry name. */
export const TRADER_PRESET = {
  id: "trader",
  title: "Trader 1-minute features (issue #12)",
  members: [replayRowsOperator, ...TRADER_FEATURE_OPERATORS] as readonly OperatorDef[],
} as const;

/** A fresh group operator computing the 33 features over `rows` (one symbol). */
export function createTraderGroup(rows: ReplayRows): GroupOperator {
  const ops = TRADER_PRESET.members.map((d) =>
    d.impl({
      config: d === replayRowsOperator ? { rows } : {},
      joinStrategy: "asof_backward",
      operatorName: d.name,
      outputNames: d
        .outputs({ config: d === replayRowsOperator ? { rows } : {}, joinStrategy: "asof_backward" })
        .map((o) => o.name),
    }),
  );
  return new GroupOperator("trader_features", ops);
}
