/**
 * Canonical table schemas (DESIGN.md "Data model").
 *
 * Every row carries the lineage/PIT columns of `COMMON_COLUMNS`. Prices and sizes are fixed-point
 * integers (`*_px_int`, `*_qty_int`) counting the symbol's `price_increment` / `amount_increment`
 * (see the symbol registry). Derived, non-tradeable prices (mark, index) and rates are float64.
 *
 * In memory, i64 columns live in Float64Array (exact below 2^53; null = NaN); in Parquet they are Int64.
 */

export type TableName =
  | "trades"
  | "quotes"
  | "book_snapshot_25"
  | "derivative_ticker"
  | "liquidations"
  | "ohlcv_bars"
  | "funding_events"
  | "open_interest"
  | "long_short_ratio"
  | "quote_bars";

/** Column storage type. `list_i64` holds up to `listWidth` values per row (book levels). */
export type DType = "i64" | "f64" | "i8" | "str" | "list_i64";

export interface ColumnSpec {
  readonly name: string;
  readonly dtype: DType;
  readonly nullable: boolean;
  /** Unit, e.g. "µs", "price_increment", "amount_increment", "ratio", "enum". */
  readonly unit: string;
  readonly description: string;
}

export interface TableSpec {
  readonly name: TableName;
  /**
   * Rank in the total event order (ts_local_us, rank, file_id, file_line_number). State tables
   * that describe the market before a trade prints sort first at equal arrival time.
   */
  readonly rank: number;
  readonly columns: readonly ColumnSpec[];
}

const c = (name: string, dtype: DType, unit: string, description: string, nullable = false): ColumnSpec => ({
  name,
  dtype,
  unit,
  description,
  nullable,
});

/** Columns every table starts with, in this order. */
export const COMMON_COLUMNS: readonly ColumnSpec[] = [
  c(
    "exchange",
    "str",
    "id",
    "Exchange id in Tardis naming (binance-futures = USDT-M, binance-delivery = COIN-M, binance = spot)",
  ),
  c("symbol_id", "i64", "id", "Symbol registry id (stable hash of exchange, symbol and increments)"),
  c("ts_local_us", "i64", "µs", "Arrival/knowledge time, µs since epoch UTC; the PIT clock"),
  c("ts_exch_us", "i64", "µs", "Exchange event time, µs since epoch UTC", true),
  c(
    "file_id",
    "i64",
    "id",
    "Stable id of the source file: 48-bit prefix of the sha256 of its decoded (gunzipped) content",
  ),
  c("file_line_number", "i64", "line", "1-based line of the source file the row comes from"),
];

const PX = "price_increment";
const QTY = "amount_increment";

/** Taker side: 0 = taker buy, 1 = taker sell, -1 = unknown. */
export const SIDE_BUY = 0;
export const SIDE_SELL = 1;
export const SIDE_UNKNOWN = -1;

/** Number of levels per side in book_snapshot_25. */
export const BOOK_DEPTH = 25;

export const TABLES: Readonly<Record<TableName, TableSpec>> = {
  book_snapshot_25: {
    name: "book_snapshot_25",
    rank: 0,
    columns: [
      c("update_id", "i64", "id", "Exchange book update id (Binance final update id u / lastUpdateId)", true),
      c("bid_px_int", "list_i64", PX, "Bid prices, best first, up to 25 levels"),
      c("bid_qty_int", "list_i64", QTY, "Bid sizes aligned with bid_px_int"),
      c("ask_px_int", "list_i64", PX, "Ask prices, best first, up to 25 levels"),
      c("ask_qty_int", "list_i64", QTY, "Ask sizes aligned with ask_px_int"),
    ],
  },
  quotes: {
    name: "quotes",
    rank: 1,
    columns: [
      c("update_id", "i64", "id", "Exchange update id (Binance bookTicker u)", true),
      c("bid_px_int", "i64", PX, "Best bid price", true),
      c("bid_qty_int", "i64", QTY, "Best bid size", true),
      c("ask_px_int", "i64", PX, "Best ask price", true),
      c("ask_qty_int", "i64", QTY, "Best ask size", true),
    ],
  },
  derivative_ticker: {
    name: "derivative_ticker",
    rank: 2,
    columns: [
      c("mark_px", "f64", "quote currency", "Mark price", true),
      c("index_px", "f64", "quote currency", "Index price", true),
      c("last_px", "f64", "quote currency", "Last traded price", true),
      c("est_settle_px", "f64", "quote currency", "Estimated settle price (Binance P)", true),
      c("funding_rate", "f64", "rate per funding interval", "Current funding rate", true),
      c("predicted_funding_rate", "f64", "rate per funding interval", "Predicted next funding rate", true),
      c("next_funding_time_us", "i64", "µs", "Next funding time", true),
      c("open_interest", "f64", "contracts", "Open interest", true),
    ],
  },
  open_interest: {
    name: "open_interest",
    rank: 3,
    columns: [
      c(
        "open_interest",
        "f64",
        "contracts",
        "Open interest in contracts as the vendor counts them (base units for Binance USDⓈ-M sumOpenInterest; contracts for CME futures)",
      ),
      c(
        "open_interest_value",
        "f64",
        "quote currency",
        "Open interest value (Binance sumOpenInterestValue)",
        true,
      ),
    ],
  },
  long_short_ratio: {
    name: "long_short_ratio",
    rank: 4,
    columns: [
      c(
        "top_account_ratio",
        "f64",
        "ratio",
        "Top-trader long/short account ratio (Binance topLongShortAccountRatio, metrics count_toptrader_long_short_ratio)",
        true,
      ),
      c(
        "top_position_ratio",
        "f64",
        "ratio",
        "Top-trader long/short position ratio (Binance topLongShortPositionRatio, metrics sum_toptrader_long_short_ratio)",
        true,
      ),
      c(
        "global_account_ratio",
        "f64",
        "ratio",
        "Global long/short account ratio (Binance globalLongShortAccountRatio, metrics count_long_short_ratio)",
        true,
      ),
      c(
        "taker_buy_sell_ratio",
        "f64",
        "ratio",
        "Taker buy/sell volume ratio (Binance takerlongshortRatio buySellRatio, metrics sum_taker_long_short_vol_ratio)",
        true,
      ),
    ],
  },
  funding_events: {
    name: "funding_events",
    rank: 5,
    columns: [
      c("funding_rate", "f64", "rate per funding interval", "Realized funding rate applied at ts_exch_us"),
      c("funding_interval_us", "i64", "µs", "Funding interval (8 h = 28,800,000,000 µs) when known", true),
    ],
  },
  liquidations: {
    name: "liquidations",
    rank: 6,
    columns: [
      c("liquidation_id", "str", "id", "Vendor liquidation id", true),
      c(
        "side",
        "i8",
        "enum",
        "Side of the liquidation order: 0 buy (short liquidated), 1 sell (long liquidated)",
      ),
      c("px_int", "i64", PX, "Price"),
      c("qty_int", "i64", QTY, "Size"),
    ],
  },
  trades: {
    name: "trades",
    rank: 7,
    columns: [
      c("trade_id", "str", "id", "Exchange trade id", true),
      c("side", "i8", "enum", "Taker side: 0 buy, 1 sell, -1 unknown"),
      c("px_int", "i64", PX, "Trade price"),
      c("qty_int", "i64", QTY, "Trade size"),
    ],
  },
  ohlcv_bars: {
    name: "ohlcv_bars",
    rank: 8,
    columns: [
      c("bar_start_us", "i64", "µs", "Bar open time; the row is knowable only at ts_local_us = bar end"),
      c("interval_us", "i64", "µs", "Bar length"),
      c("open_px_int", "i64", PX, "Open"),
      c("high_px_int", "i64", PX, "High"),
      c("low_px_int", "i64", PX, "Low"),
      c("close_px_int", "i64", PX, "Close"),
      c("volume_qty_int", "i64", QTY, "Base volume"),
      c("quote_volume", "f64", "quote currency", "Quote volume", true),
      c("trade_count", "i64", "count", "Number of trades", true),
      c("taker_buy_qty_int", "i64", QTY, "Taker buy base volume", true),
      c("taker_buy_quote_volume", "f64", "quote currency", "Taker buy quote volume", true),
    ],
  },
  quote_bars: {
    name: "quote_bars",
    rank: 9,
    columns: [
      c("bar_start_us", "i64", "µs", "Bar open time; the row is knowable only at ts_local_us = bar end"),
      c("interval_us", "i64", "µs", "Bar length"),
      c("bid_open_px_int", "i64", PX, "First best bid of the bar (null: no bid in the bar)", true),
      c("bid_high_px_int", "i64", PX, "Highest best bid", true),
      c("bid_low_px_int", "i64", PX, "Lowest best bid", true),
      c("bid_close_px_int", "i64", PX, "Last best bid", true),
      c("bid_qty_int", "i64", QTY, "Size at the last best bid (Lean: LastBidSize)", true),
      c("ask_open_px_int", "i64", PX, "First best ask of the bar (null: no ask in the bar)", true),
      c("ask_high_px_int", "i64", PX, "Highest best ask", true),
      c("ask_low_px_int", "i64", PX, "Lowest best ask", true),
      c("ask_close_px_int", "i64", PX, "Last best ask", true),
      c("ask_qty_int", "i64", QTY, "Size at the last best ask (Lean: LastAskSize)", true),
    ],
  },
};

export const TABLE_NAMES: readonly TableName[] = Object.keys(TABLES) as TableName[];

/** All columns of a table, common columns first. */
export function tableColumns(t: TableName): readonly ColumnSpec[] {
  return [...COMMON_COLUMNS, ...TABLES[t].columns];
}

export function isTableName(s: string): s is TableName {
  return Object.hasOwn(TABLES, s);
}
