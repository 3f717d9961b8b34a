/**
 * `tb_` trade-burst family (Pointline `add_trade_burst_features`, pointline/research/features/families.py):
 * trade inter-arrival time and its rolling mean, dispersion and burst score over N =
 * `tradeBurstWindowRows` spine rows.
 *
 * Outputs (µs; null = NaN):
 * - `tb_dt_us` (i64) = ts_local_us of the last trade − ts_local_us of the trade before it, as-of the
 *   row's knowledge set (null until two trades were fed since the replay start). Pieces of a trade split
 *   across bars by a `splitTrades` spine (`ev.continuation`) are the same trade and are ignored. Trades
 *   at the same microsecond give 0.
 * - `tb_dt_mean_N`, `tb_dt_std_N` (f64, µs) = mean and sample standard deviation (ddof 1) of `tb_dt_us`
 *   over the last N emitted spine rows (Polars `rolling_mean/std(window_size=N)`, min_periods N).
 * - `tb_burst_score_N` (f64, unitless) = tb_dt_us / tb_dt_mean_N if the mean is > 0, else null
 *   (< 1: trades arriving faster than the recent average).
 *
 * Deviation from Pointline: Pointline computes `ts_local_us.diff()` over the spine rows, i.e. the time
 * between consecutive spine points. On a `trades` spine (one row per trade) that is exactly our value;
 * on a clock spine it is the constant step and carries no information, and on volume/dollar bars it is
 * the bar-to-bar time, not a trade inter-arrival. Here `tb_dt_us` is always the as-of inter-arrival time
 * of the last two trades, which equals Pointline's definition on the `trades` spine and stays
 * meaningful on every spine. On a clock spine, rows without a new trade repeat the as-of value, so the
 * window is over rows, not over trades.
 *
 * Warm-up: 1 row for `tb_dt_us` (it is a difference of two trades: on the `trades` spine the first row
 * is always null), N rows for the window statistics (N differences need N + 1 trades).
 *
 * Exactness: ts_local_us are integers below 2^53, so differences are exact, and the rolling sums of
 * integer µs differences are exact while they stay below 2^53 (≈ 285 years of µs).
 */
import type { EventCursor, JsonValue, Operator, SourceRole, SpineRow } from "../engine/operator.js";
import { numberToJson, stateNumber, stateObject } from "../engine/operator.js";
import type { OutputMeta } from "../engine/registry.js";
import { RollingStats } from "../engine/rolling.js";
import { POINTLINE_FAMILIES_SOURCE } from "./book-view.js";
import { defineFamily, type FamilyDef, familyOperator, outputBuilder, WINDOW_ROWS_PARAMS } from "./family.js";

const SOURCE = `${POINTLINE_FAMILIES_SOURCE} (add_trade_burst_features); deviation: as-of trade inter-arrival instead of the spine-row timestamp diff (equal on the trades spine)`;
const PIT_ASOF =
  "as-of backward: the last two trades in the row's knowledge set (ts_local_us < available_at for clock rows; up to and including the closing trade e* in the total order for event rows)";
const PIT_ROWS = `${PIT_ASOF}; window over the values of past emitted spine rows only`;

/**
 * Output columns for window `n` rows, in order, each declared once with its catalogue metadata (the
 * operator's `outputs` and the family catalogue are this list).
 */
export function tradeBurstOutputs(n: number): OutputMeta[] {
  const shared = { unit: "µs", inputs: ["trades.ts_local_us"], source: SOURCE };
  const last = outputBuilder({
    ...shared,
    warmupRows: 1,
    window: "as-of (last two trades)",
    warmup: "1 row after the first trade (null until two trades)",
    pitPolicy: PIT_ASOF,
  });
  const rolling = outputBuilder({
    ...shared,
    warmupRows: n,
    window: `${n} spine rows`,
    warmup: `${n} rows after the first trade`,
    pitPolicy: PIT_ROWS,
  });
  return [
    last(
      "tb_dt_us",
      "i64",
      "ts_local_us(last trade) − ts_local_us(trade before it), as-of; = ts_local_us.diff() on the trades spine",
    ),
    rolling(`tb_dt_mean_${n}`, "f64", `rolling_mean(tb_dt_us, ${n} rows), min_periods ${n}`),
    rolling(`tb_dt_std_${n}`, "f64", `rolling_std(tb_dt_us, ${n} rows, ddof 1), min_periods ${n}`),
    rolling(`tb_burst_score_${n}`, "f64", `tb_dt_us / tb_dt_mean_${n} if tb_dt_mean_${n} > 0 else null`, {
      unit: "1 (ratio)",
    }),
  ];
}

/** Streaming operator of the `tb_` family (see module doc). O(1) per event and per row, no allocation. */
class TradeBurstOperator implements Operator {
  readonly id = "trade_burst";
  readonly inputs: readonly SourceRole[] = ["trades"];
  /** Only the cursor's `tsLocalUs` (the trade's ts_local_us). */
  readonly reads = { trades: { ts_local_us: "f64" } } as const;
  readonly outputs: readonly OutputMeta[];
  private readonly stats: RollingStats;
  /** ts_local_us of the last trade and of the trade before it (NaN = none yet). */
  private lastUs = Number.NaN;
  private prevUs = Number.NaN;

  constructor(readonly windowRows: number) {
    this.stats = new RollingStats(windowRows);
    this.outputs = tradeBurstOutputs(windowRows);
  }

  onEvent(ev: EventCursor): void {
    if (ev.continuation) return;
    this.prevUs = this.lastUs;
    this.lastUs = ev.tsLocalUs;
  }

  emit(row: SpineRow, out: readonly Float64Array[], r: number): void {
    const dt = this.lastUs - this.prevUs;
    const st = this.stats;
    st.push(dt, row.barIndex);
    const mean = st.mean();
    out[0]![r] = dt;
    out[1]![r] = mean;
    out[2]![r] = st.std();
    out[3]![r] = mean > 0 ? dt / mean : Number.NaN;
  }

  snapshot(): JsonValue {
    return {
      lastUs: numberToJson(this.lastUs),
      prevUs: numberToJson(this.prevUs),
      stats: this.stats.snapshot(),
    };
  }

  restore(state: JsonValue): void {
    const s = stateObject(state, this.id);
    this.lastUs = stateNumber(s, "lastUs");
    this.prevUs = stateNumber(s, "prevUs");
    this.stats.restore(s["stats"] ?? null);
  }
}

/** Registered operator of the `tb_` family (features/registry.ts); `windowRows` = N. */
export const tradeBurstOperator = familyOperator({
  name: "trade_burst",
  description:
    "as-of trade inter-arrival time and its rolling mean, std and burst score over the last N spine rows",
  source: SOURCE,
  params: WINDOW_ROWS_PARAMS,
  outputs: (c) => tradeBurstOutputs(c.windowRows),
  create: (c) => new TradeBurstOperator(c.windowRows),
});

/**
 * The `tb_` trade-burst family (flag `includeTradeBurst`, source role `trades`, N =
 * `cfg.tradeBurstWindowRows` spine rows): `tb_dt_us`, `tb_dt_mean_N`, `tb_dt_std_N`, `tb_burst_score_N`
 * (see the module doc, including the deviation from Pointline on non-trade spines).
 */
export const tradeBurst: FamilyDef = defineFamily({
  id: "tb",
  prefix: "tb_",
  title: "Trade burst (trade inter-arrival time and burstiness)",
  flag: "includeTradeBurst",
  members: (cfg) => [{ def: tradeBurstOperator, config: { windowRows: cfg.tradeBurstWindowRows } }],
});
