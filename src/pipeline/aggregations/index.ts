/**
 * The built-in aggregations of pipeline v2, in catalogue order (39 specs):
 *
 * - generic column aggregations (column.ts): sum, mean, std, min, max, first, last, count, nunique;
 * - trades (trades.ts): trade_vwap, ohlcv, flow_imbalance, trade_count, avg_trade_size,
 *   median_trade_size, max_trade_size, aggressive_ratio, vw_return, signed_trade_imbalance,
 *   realized_volatility;
 * - quotes / book (book.ts): spread_bps, book_imbalance_top5, microprice_close, spread_distribution,
 *   ofi_cont;
 * - derivative ticker (derivatives.ts): funding_rate_mean, funding_close, funding_step,
 *   funding_carry_8h_per_hour, funding_surprise, funding_pressure, oi_change, oi_last, oi_open, oi_high,
 *   oi_low, oi_range, oi_pct_change, oi_pressure.
 *
 * Shared semantics (bar windows, split trades, null convention, state) are in shared.ts. Files here
 * import the spec types from ../aggregation-types.ts, never ../registry.ts (which imports this list).
 */
import type { AggregationSpec } from "../aggregation-types.js";
import { BOOK_AGGREGATIONS } from "./book.js";
import { COLUMN_AGGREGATIONS } from "./column.js";
import { TICKER_AGGREGATIONS } from "./derivatives.js";
import { TRADE_AGGREGATIONS } from "./trades.js";

/**
 * Every built-in `AggregationSpec`, in catalogue order (`AggregationRegistry.withBuiltins()` registers
 * them in this order). Each spec's `impl` throws `ConfigError` on a request it cannot serve (shared.ts
 * `defineAggregation`).
 */
export const BUILTIN_AGGREGATIONS: readonly AggregationSpec[] = [
  ...COLUMN_AGGREGATIONS,
  ...TRADE_AGGREGATIONS,
  ...BOOK_AGGREGATIONS,
  ...TICKER_AGGREGATIONS,
];
