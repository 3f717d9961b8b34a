/**
 * freqtrade candle JSON → `ohlcv_bars` (trade candles) or `derivative_ticker` (mark-price candles): format
 * `freqtrade-candles` of the `binance-vision` adapter.
 *
 * Source: freqtrade data format (freqtrade/freqtrade, `freqtrade download-data`, docs "Data downloading"):
 * one JSON array of candles `[ts_ms, open, high, low, close, volume]`, plain or gzip. Names:
 * - `<BASE>_<QUOTE>-<timeframe>.json` — spot candles (`XRP_ETH-5m.json` → `binance` `XRPETH`);
 * - `<BASE>_<QUOTE>_<SETTLE>-<timeframe>-futures.json` — perpetual trade candles
 *   (`XRP_USDT_USDT-5m-futures.json` → `binance-futures` `XRPUSDT`; an inverse pair, settle ≠ quote,
 *   → `binance-delivery` `BTCUSD_PERP`, as freqtrade/funding.ts);
 * - `<BASE>_<QUOTE>_<SETTLE>-<timeframe>-mark.json` — mark-price candles of that perpetual.
 * `opts.exchange` / `opts.symbol` override exchange and symbol. The exchange is not recorded in freqtrade
 * files; Binance is assumed (freqtrade's futures test data is Binance's).
 *
 * PIT: `ts_ms` is the candle's **open** time (epoch ms); a candle is knowable when it closes, so every row
 * is stamped at its end, `ts_local_us = ts_exch_us = (ts_ms + timeframe) × 1000` (as klines.ts).
 * - Trade candles → `ohlcv_bars`: `bar_start_us` = open time, `interval_us` = timeframe, OHLC in price
 *   increments and volume (base units, e.g. XRP) in amount increments; quote volume, trade count and
 *   taker-buy columns are null (freqtrade candles do not carry them).
 * - Mark candles → `derivative_ticker` with `mark_px` = the candle's close at its end (quote currency,
 *   float64) and every other field null: the mark price as known at the close (the candle's open/high/low
 *   are not kept; volume is ignored, null in freqtrade's 1h mark files).
 *
 * Numbers: freqtrade writes JSON numbers (floats), e.g. `7267451.9000000004`. A number is decoded from its
 * shortest round-trip decimal (`String(x)`: `7267451.9`), which is the decimal the float stands for;
 * increments are inferred from those decimals in pass 1. Line numbers: the "line" of a record is its
 * 1-based element index in the top-level array (`lines_read` = elements).
 *
 * Rejections (quarantined, never thrown): a record that is not a 6-element array; a `ts_ms` that is not an
 * integer epoch in ms; an open/high/low/close that is not a finite non-negative number, or not
 * representable at the increment; a volume that is null, negative or not representable (trade candles);
 * `high < max(open, close, low)` or `low > min(open, close)`; a time going backwards.
 *
 * @throws IngestError (field `json`) for a file that does not parse or is not an array; (line 1, field
 *   `format`) from `fromName` for an unusable timeframe.
 */

import { basename } from "node:path";
import { FixedDecoder } from "../../core/fixed.js";
import { US_PER_MS } from "../../core/time.js";
import type { AdapterOptions, FileFormat } from "../adapter.js";
import { BarColumns, ohlcInconsistency, ohlcReason } from "../bars.js";
import type { DecimalScanner, FileIngest, SymbolSink } from "../session.js";
import { freqtradeInstrument, readJsonArray } from "./funding.js";

/** A freqtrade candle file: where its rows go and the candle length (µs). */
export interface FreqtradeCandleFile {
  readonly kind: "freqtrade-candles";
  readonly exchange: string;
  readonly symbol: string;
  readonly intervalUs: number;
  /** `trade`: ohlcv_bars; `mark`: derivative_ticker.mark_px. */
  readonly price: "trade" | "mark";
}

const CANDLE_RE =
  /^([A-Za-z0-9]+)_([A-Za-z0-9]+)(?:_([A-Za-z0-9]+))?-(\d+)([mhdw])(?:-(futures|mark))?\.json(?:\.gz)?$/;

/** `[ts_ms, …]` → the candle's open time in µs, or NaN. */
function openTimeUs(rec: unknown): number {
  if (!Array.isArray(rec)) return Number.NaN;
  const ts: unknown = rec[0];
  if (typeof ts !== "number" || !Number.isSafeInteger(ts) || ts < 1e11 || ts >= 1e14) return Number.NaN;
  return ts * US_PER_MS;
}

/** The decimal a JSON number stands for (its shortest round-trip form), or null if it is not a finite number ≥ 0. */
function decimalOf(v: unknown): string | null {
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0) return null;
  return String(v);
}

const FIELDS = ["ts_ms", "open", "high", "low", "close", "volume"] as const;

async function scanCandles(path: string, file: FreqtradeCandleFile, scanner: DecimalScanner): Promise<void> {
  for (const rec of await readJsonArray(path, "freqtrade candle file")) {
    const ts = openTimeUs(rec);
    if (Number.isNaN(ts) || !Array.isArray(rec)) continue;
    const o = scanner.observe(file.exchange, file.symbol, ts + file.intervalUs);
    if (file.price === "mark") continue; // a mark price is a float of derivative_ticker: no increments
    for (let k = 1; k <= 4; k++) scanner.price(o, decimalOf(rec[k]));
    scanner.amount(o, decimalOf(rec[5]));
  }
}

async function ingestCandles(path: string, file: FreqtradeCandleFile, fi: FileIngest): Promise<void> {
  const records = await readJsonArray(path, "freqtrade candle file");
  const table = file.price === "mark" ? "derivative_ticker" : "ohlcv_bars";
  const dec = new FixedDecoder();
  let sink: SymbolSink | null = null;
  let cols: BarColumns | null = null;
  const one = (rec: unknown, line: number) => {
    const raw = JSON.stringify(rec) ?? String(rec);
    if (!Array.isArray(rec) || rec.length !== 6) {
      const got = Array.isArray(rec) ? `${rec.length} elements` : typeof rec;
      return fi.reject(
        table,
        line,
        "record",
        `expected [ts_ms, open, high, low, close, volume], got ${got}`,
        raw,
      );
    }
    const open = openTimeUs(rec);
    if (Number.isNaN(open))
      return fi.reject(
        table,
        line,
        "ts_ms",
        `${JSON.stringify(rec[0])} is not an integer epoch time in ms`,
        raw,
      );
    const texts: string[] = [];
    for (let k = 1; k <= 4; k++) {
      const t = decimalOf(rec[k]);
      if (t === null)
        return fi.reject(
          table,
          line,
          FIELDS[k]!,
          `${JSON.stringify(rec[k])} is not a finite number ≥ 0`,
          raw,
        );
      texts.push(t);
    }
    const [o, h, l, c] = texts.map(Number) as [number, number, number, number];
    const bad = ohlcInconsistency(o, h, l, c);
    if (bad !== null)
      return fi.reject(table, line, bad, ohlcReason(bad, `${o}`, `${h}`, `${l}`, `${c}`), raw);
    const end = open + file.intervalUs;
    if (sink === null) sink = fi.sink(file.exchange, file.symbol);
    if (file.price === "mark") {
      if (!fi.checkTime(table, end, line, raw)) return;
      const i = sink.row(table, end, end, line);
      const b = sink.buffer(table);
      b.num("mark_px").data[i] = c;
      for (const k of [
        "index_px",
        "last_px",
        "est_settle_px",
        "funding_rate",
        "predicted_funding_rate",
        "next_funding_time_us",
        "open_interest",
      ])
        b.num(k).data[i] = Number.NaN;
      fi.flush();
      return;
    }
    const vol = decimalOf(rec[5]);
    if (vol === null)
      return fi.reject(table, line, "volume", `${JSON.stringify(rec[5])} is not a finite number ≥ 0`, raw);
    const ints: number[] = [];
    for (let k = 0; k < 4; k++) {
      const v = fi.decodeOrReject(dec, table, line, FIELDS[k + 1]!, texts[k]!, sink.px, raw);
      if (Number.isNaN(v)) return;
      ints.push(v);
    }
    const v = fi.decodeOrReject(dec, table, line, "volume", vol, sink.qty, raw);
    if (Number.isNaN(v)) return;
    if (!fi.checkTime(table, end, line, raw)) return;
    const i = sink.row(table, end, end, line);
    if (cols === null) cols = new BarColumns(sink.buffer(table));
    cols.set(i, open, file.intervalUs, ints[0]!, ints[1]!, ints[2]!, ints[3]!, v);
    fi.flush();
  };
  for (let idx = 0; idx < records.length; idx++) one(records[idx], idx + 1);
  fi.report.lines_read = records.length;
}

/** The `freqtrade-candles` format (see the module doc). */
export const freqtradeCandles: FileFormat<FreqtradeCandleFile> = {
  kind: "freqtrade-candles",
  accepted:
    "a freqtrade candle JSON named <BASE>_<QUOTE>-<timeframe>.json or <BASE>_<QUOTE>_<SETTLE>-<timeframe>-futures|mark.json " +
    "(e.g. XRP_USDT_USDT-5m-futures.json)",

  fromName(path: string, opts: AdapterOptions): FreqtradeCandleFile | null {
    const f = CANDLE_RE.exec(basename(path));
    if (f === null) return null;
    const kind = f[6] as "futures" | "mark" | undefined;
    if ((kind === undefined) !== (f[3] === undefined)) return null; // spot has no settle, futures/mark do
    const at = freqtradeInstrument(f, path, "candle");
    return {
      kind: "freqtrade-candles",
      exchange: opts.exchange ?? at.exchange,
      symbol: opts.symbol ?? at.symbol,
      intervalUs: at.intervalUs,
      price: kind === "mark" ? "mark" : "trade",
    };
  },

  scan: scanCandles,
  ingest: ingestCandles,
};
