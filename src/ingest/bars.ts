/**
 * What every adapter of the `ohlcv_bars` table shares (Binance Vision klines, generic 1-minute OHLCV CSV,
 * freqtrade candles, Lean futures minute bars): the OHLC consistency rule and the allocation-free write
 * of one bar into the table's columns.
 *
 * Consistency: a bar is rejected on field `high` when high < max(open, close, low), and on field `low`
 * when low > min(open, close) — compared as fixed-point increments (or natural units), exactly as given.
 */
import type { NumColumn, TableBuffer } from "../lake/buffer.js";

/** The field of an inconsistent bar (see the module doc), or null when the bar is consistent. */
export function ohlcInconsistency(
  open: number,
  high: number,
  low: number,
  close: number,
): "high" | "low" | null {
  if (high < open || high < close || high < low) return "high";
  if (low > open || low > close) return "low";
  return null;
}

/** The quarantine reason for `ohlcInconsistency`'s field, naming the values as the file gives them. */
export function ohlcReason(
  field: "high" | "low",
  open: string,
  high: string,
  low: string,
  close: string,
): string {
  return field === "high"
    ? `high ${high} is below max(open ${open}, close ${close}, low ${low})`
    : `low ${low} is above min(open ${open}, close ${close})`;
}

/** The `ohlcv_bars` columns of one table buffer, resolved once per file. */
export class BarColumns {
  private readonly barStart: NumColumn;
  private readonly interval: NumColumn;
  private readonly open: NumColumn;
  private readonly high: NumColumn;
  private readonly low: NumColumn;
  private readonly close: NumColumn;
  private readonly volume: NumColumn;
  private readonly quoteVolume: NumColumn;
  private readonly tradeCount: NumColumn;
  private readonly takerBuy: NumColumn;
  private readonly takerBuyQuote: NumColumn;

  constructor(b: TableBuffer) {
    this.barStart = b.num("bar_start_us");
    this.interval = b.num("interval_us");
    this.open = b.num("open_px_int");
    this.high = b.num("high_px_int");
    this.low = b.num("low_px_int");
    this.close = b.num("close_px_int");
    this.volume = b.num("volume_qty_int");
    this.quoteVolume = b.num("quote_volume");
    this.tradeCount = b.num("trade_count");
    this.takerBuy = b.num("taker_buy_qty_int");
    this.takerBuyQuote = b.num("taker_buy_quote_volume");
  }

  /**
   * Writes row `i` (from `sink.row`): bar start and interval in µs; open/high/low/close in price
   * increments, volume in quantity increments; the vendor's quote volume (natural units), trade count,
   * taker buy quantity (increments) and taker buy quote volume where it has them, NaN (null) otherwise.
   */
  set(
    i: number,
    barStartUs: number,
    intervalUs: number,
    openInt: number,
    highInt: number,
    lowInt: number,
    closeInt: number,
    volumeInt: number,
    quoteVolume = Number.NaN,
    tradeCount = Number.NaN,
    takerBuyInt = Number.NaN,
    takerBuyQuote = Number.NaN,
  ): void {
    this.barStart.data[i] = barStartUs;
    this.interval.data[i] = intervalUs;
    this.open.data[i] = openInt;
    this.high.data[i] = highInt;
    this.low.data[i] = lowInt;
    this.close.data[i] = closeInt;
    this.volume.data[i] = volumeInt;
    this.quoteVolume.data[i] = quoteVolume;
    this.tradeCount.data[i] = tradeCount;
    this.takerBuy.data[i] = takerBuyInt;
    this.takerBuyQuote.data[i] = takerBuyQuote;
  }
}
