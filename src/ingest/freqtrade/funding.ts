/**
 * freqtrade funding-rate JSON → `funding_events` (format `freqtrade-funding` of the `binance-vision`
 * adapter).
 *
 * Source: freqtrade data format (freqtrade/freqtrade, `freqtrade download-data --trading-mode futures`,
 * docs "Data downloading"): one JSON array of candles `[ts_ms, open, high, low, close, volume]`; for
 * funding the rate is in `open`, the rest is 0. Plain or gzip. Name
 * `<BASE>_<QUOTE>[_<SETTLE>]-<timeframe>-funding_rate.json`, e.g. `XRP_USDT_USDT-8h-funding_rate.json`
 * → symbol `XRPUSDT`, exchange `binance-futures`; an inverse pair (settle ≠ quote, e.g. `BTC_USD_BTC`)
 * → `BTCUSD_PERP` on `binance-delivery`. `opts.exchange` / `opts.symbol` override both. The funding
 * interval (`funding_interval_us`, µs) is the file name's timeframe.
 *
 * Units: `ts_ms` is epoch **milliseconds**; rows are stamped at the funding time, `ts_local_us =
 * ts_exch_us = ts_ms × 1000` (the file carries no separate arrival time). `funding_rate` is float64,
 * the JSON number as given (a fraction per interval, e.g. 0.0001 = 1 bp).
 *
 * Line numbers: the "line" of a record is its **1-based element index** in the top-level array:
 * `lines_read` = number of elements and `file_line_number` = element index (the file is usually a
 * single physical line).
 *
 * Rejections (quarantined, never thrown): a record that is not a 6-element array, a `ts_ms` that is
 * not an integer epoch in ms, a rate that is not a finite JSON number, a timestamp that goes backwards.
 *
 * @throws IngestError (field `json`) for a file that does not parse as JSON or is not an array, and
 *   (line 1, field `format`) from `fromName` for a name with an unusable timeframe.
 */
import { basename } from "node:path";
import { IngestError } from "../../core/errors.js";
import { US_PER_MS } from "../../core/time.js";
import type { AdapterOptions, FileFormat } from "../adapter.js";
import { readLines } from "../lines.js";
import type { DecimalScanner, FileIngest } from "../session.js";
import { FundingWriter, parseBarInterval, stripBom } from "../vendor/shared.js";

/** A freqtrade funding file: the exchange/symbol its rows go to and the funding interval (µs). */
export interface FreqtradeFundingFile {
  readonly kind: "freqtrade-funding";
  readonly exchange: string;
  readonly symbol: string;
  readonly fundingIntervalUs: number;
}

const FREQTRADE_FUNDING_RE =
  /^([A-Za-z0-9]+)_([A-Za-z0-9]+)(?:_([A-Za-z0-9]+))?-(\d+)([mhdw])-funding_rate\.json(?:\.gz)?$/;

/**
 * Reads a (possibly gzip) JSON file and returns its top-level array (freqtrade candle and funding files,
 * Binance REST dumps). @throws IngestError (field `json`) if it does not parse or is not an array.
 */
export async function readJsonArray(path: string, what = "freqtrade funding file"): Promise<unknown[]> {
  const parts: string[] = [];
  await readLines(path, (text) => {
    parts.push(text);
  });
  const text = stripBom(parts.join("\n"));
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    const pos = /position (\d+)/.exec(msg);
    const line = pos === null ? 1 : text.slice(0, Number(pos[1])).split("\n").length;
    throw new IngestError({ file: path, line, field: "json" }, `not valid JSON (${what}): ${msg}`);
  }
  if (!Array.isArray(value)) {
    throw new IngestError(
      { file: path, line: 1, field: "json" },
      `expected a JSON array of records (${what})`,
    );
  }
  return value;
}

/** `[ts_ms, rate, …]` → its time in µs, or NaN if the time is not an integer epoch in ms. */
function freqtradeTimeUs(rec: unknown): number {
  if (!Array.isArray(rec)) return Number.NaN;
  const ts: unknown = rec[0];
  if (typeof ts !== "number" || !Number.isSafeInteger(ts) || ts < 1e11 || ts >= 1e14) return Number.NaN;
  return ts * US_PER_MS;
}

async function scanFreqtradeFunding(
  path: string,
  file: FreqtradeFundingFile,
  scanner: DecimalScanner,
): Promise<void> {
  for (const rec of await readJsonArray(path)) {
    const ts = freqtradeTimeUs(rec);
    if (!Number.isNaN(ts)) scanner.observe(file.exchange, file.symbol, ts);
  }
}

async function ingestFreqtradeFunding(
  path: string,
  file: FreqtradeFundingFile,
  fi: FileIngest,
): Promise<void> {
  const table = "funding_events";
  const records = await readJsonArray(path);
  const w = new FundingWriter(fi, file);
  const one = (rec: unknown, line: number) => {
    const raw = JSON.stringify(rec) ?? String(rec);
    if (!Array.isArray(rec) || rec.length !== 6) {
      const got = Array.isArray(rec) ? `${rec.length} elements` : typeof rec;
      return fi.reject(
        table,
        line,
        "record",
        `expected [ts_ms, rate, 0, 0, 0, 0] (6 elements), got ${got}`,
        raw,
      );
    }
    const ts = freqtradeTimeUs(rec);
    if (Number.isNaN(ts)) {
      return fi.reject(
        table,
        line,
        "ts_ms",
        `${JSON.stringify(rec[0])} is not an integer epoch time in ms`,
        raw,
      );
    }
    const rate: unknown = rec[1];
    if (typeof rate !== "number" || !Number.isFinite(rate)) {
      return fi.reject(table, line, "rate", `${JSON.stringify(rate)} is not a finite JSON number`, raw);
    }
    w.row(ts, rate, line, raw);
  };
  // The "line" of a record is its 1-based element index (see the module doc).
  for (let idx = 0; idx < records.length; idx++) one(records[idx], idx + 1);
  fi.report.lines_read = records.length;
}

/**
 * The instrument and timeframe in a freqtrade data file name: groups 1–5 of `f` are base, quote, settle
 * (futures only), timeframe count and unit (`XRP_USDT_USDT-8h-…` → XRP, USDT, USDT, 8, h). The Binance
 * instrument: spot `<BASE><QUOTE>` on binance without a settle currency; with one, USDⓈ-M
 * `<BASE><QUOTE>` on binance-futures when it settles in the quote, else COIN-M `<BASE><QUOTE>_PERP` on
 * binance-delivery.
 * @throws IngestError (line 1, field `format`) for a timeframe that is not a fixed interval
 */
export function freqtradeInstrument(
  f: RegExpExecArray,
  path: string,
  what: string,
): {
  readonly exchange: string;
  readonly symbol: string;
  readonly intervalUs: number;
  readonly settled: boolean;
} {
  const base = f[1]!.toUpperCase();
  const quote = f[2]!.toUpperCase();
  const settle = f[3]?.toUpperCase();
  const iv = parseBarInterval(`${f[4]}${f[5]}`);
  if (iv === null || iv.kind !== "fixed")
    throw new IngestError(
      { file: path, line: 1, field: "format" },
      `unsupported ${what} timeframe in '${basename(path)}'`,
    );
  const at =
    settle === undefined
      ? { exchange: "binance", symbol: `${base}${quote}` }
      : settle !== quote
        ? { exchange: "binance-delivery", symbol: `${base}${quote}_PERP` }
        : { exchange: "binance-futures", symbol: `${base}${quote}` };
  return { ...at, intervalUs: iv.us, settled: settle !== undefined };
}

/** The `freqtrade-funding` format (see the module doc). */
export const freqtradeFunding: FileFormat<FreqtradeFundingFile> = {
  kind: "freqtrade-funding",
  accepted:
    "a freqtrade funding JSON named <BASE>_<QUOTE>_<SETTLE>-<timeframe>-funding_rate.json " +
    "(e.g. XRP_USDT_USDT-8h-funding_rate.json)",

  fromName(path: string, opts: AdapterOptions): FreqtradeFundingFile | null {
    const f = FREQTRADE_FUNDING_RE.exec(basename(path));
    if (f === null) return null;
    const at = freqtradeInstrument(f, path, "funding");
    return {
      kind: "freqtrade-funding",
      // funding is a perpetual's series: a name without a settle currency means USDⓈ-M
      exchange: opts.exchange ?? (at.settled ? at.exchange : "binance-futures"),
      symbol: opts.symbol ?? at.symbol,
      fundingIntervalUs: at.intervalUs,
    };
  },

  scan: scanFreqtradeFunding,
  ingest: ingestFreqtradeFunding,
};
