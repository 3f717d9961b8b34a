/**
 * QuantConnect Lean crypto-future funding CSV (`margin_interest`) → `funding_events` (format
 * `lean-funding` of the `binance-vision` adapter).
 *
 * Source: Lean data format (QuantConnect/Lean, `Data/cryptofuture/<market>/margin_interest/<symbol>.csv`):
 * rows `YYYYMMDD HH:MM:SS,rate`, UTC, one per 8-hour funding event, no header; plain or gzip.
 * Market/symbol from the path: Binance `btcusd` (name ends in `usd`, coin-margined) → `binance-delivery`
 * `BTCUSD_PERP`; Binance `adausdt` → `binance-futures` `ADAUSDT`; other markets (`bybit`, …) → that
 * market id and the upper-cased name (`BTCUSD`). `opts.exchange` / `opts.symbol` override both. A file
 * with another name is recognised from its first line (`fromFirstLine`) when both the symbol and the
 * exchange are given.
 *
 * Units: times are UTC seconds; rows are stamped at the funding time, `ts_local_us = ts_exch_us` (µs;
 * the file carries no separate arrival time). `funding_rate` is float64 (`Number` of the decimal, a
 * fraction per interval); `funding_interval_us` is 8 h (28,800,000,000 µs). A record is a physical line
 * (1-based `file_line_number`).
 *
 * Rejections (quarantined, never thrown): wrong field count, a time that is not a real UTC
 * `YYYYMMDD HH:MM:SS`, a rate that is not a finite decimal, a timestamp that goes backwards. Blank
 * lines carry no row (`lines_without_row`: `blank`).
 *
 * Throws nothing of its own beyond the read errors of `readLines` (IngestError on a corrupt gzip).
 */
import { basename, dirname } from "node:path";
import { US_PER_HOUR, US_PER_MS, utcCalendarMs } from "../../core/time.js";
import type { AdapterOptions, FileFormat } from "../adapter.js";
import { readLines } from "../lines.js";
import type { DecimalScanner, FileIngest } from "../session.js";
import { DECIMAL_RE, FundingWriter } from "../vendor/shared.js";

/** Lean crypto-future funding events are 8 hours apart. */
export const LEAN_FUNDING_INTERVAL_US = 8 * US_PER_HOUR;

/** A Lean funding file: the exchange/symbol its rows go to and the funding interval (µs). */
export interface LeanFundingFile {
  readonly kind: "lean-funding";
  readonly exchange: string;
  readonly symbol: string;
  readonly fundingIntervalUs: number;
}

const LEAN_NAME_RE = /^([A-Za-z0-9_]+)\.csv(?:\.gz)?$/;
const LEAN_ROW_RE = /^(\d{4})(\d{2})(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;

/**
 * Lean market + file name → (exchange, symbol) in Tardis naming. Binance coin-margined perpetuals
 * (`btcusd`) are `binance-delivery` `BTCUSD_PERP`; Binance USDⓈ-M (`adausdt`) are `binance-futures`;
 * any other market keeps its Lean id and the upper-cased name.
 */
export function leanFundingSymbol(market: string, name: string): { exchange: string; symbol: string } {
  const m = market.toLowerCase();
  const s = name.toUpperCase();
  if (m === "binance") {
    if (s.endsWith("USD")) return { exchange: "binance-delivery", symbol: `${s}_PERP` };
    return { exchange: "binance-futures", symbol: s };
  }
  return { exchange: m, symbol: s };
}

/** Lean `YYYYMMDD HH:MM:SS` (UTC) → µs, or NaN if malformed or not a real calendar time. */
export function parseLeanTimeUs(s: string): number {
  const m = LEAN_ROW_RE.exec(s);
  if (m === null) return Number.NaN;
  const [y, mo, d, hh, mi, ss] = [m[1], m[2], m[3], m[4], m[5], m[6]].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  return utcCalendarMs(y, mo, d, hh, mi, ss) * US_PER_MS;
}

async function scanLeanFunding(path: string, file: LeanFundingFile, scanner: DecimalScanner): Promise<void> {
  await readLines(path, (text) => {
    const comma = text.indexOf(",");
    if (comma < 0) return;
    const ts = parseLeanTimeUs(text.slice(0, comma).trim());
    if (!Number.isNaN(ts)) scanner.observe(file.exchange, file.symbol, ts);
  });
}

async function ingestLeanFunding(path: string, file: LeanFundingFile, fi: FileIngest): Promise<void> {
  const table = "funding_events";
  const w = new FundingWriter(fi, file);
  const res = await readLines(path, (text, line) => {
    if (text.trim() === "") return fi.noRow("blank");
    const parts = text.split(",");
    if (parts.length !== 2) {
      return fi.reject(
        table,
        line,
        "fields",
        `expected 2 comma-separated fields (YYYYMMDD HH:MM:SS,rate), got ${parts.length}`,
        text,
      );
    }
    const timeText = parts[0]!.replace(/^\uFEFF/, "").trim();
    const ts = parseLeanTimeUs(timeText);
    if (Number.isNaN(ts)) {
      return fi.reject(table, line, "time", `'${timeText}' is not a UTC time 'YYYYMMDD HH:MM:SS'`, text);
    }
    const rateText = parts[1]!.trim();
    if (!DECIMAL_RE.test(rateText))
      return fi.reject(table, line, "rate", `'${rateText}' is not a decimal number`, text);
    const rate = Number(rateText);
    if (!Number.isFinite(rate)) return fi.reject(table, line, "rate", `'${rateText}' is not finite`, text);
    w.row(ts, rate, line, text);
  });
  fi.report.lines_read = res.lines;
}

/** The `lean-funding` format (see the module doc). */
export const leanMarginInterest: FileFormat<LeanFundingFile> = {
  kind: "lean-funding",
  accepted:
    "a Lean crypto-future funding CSV at …/cryptofuture/<market>/margin_interest/<symbol>.csv " +
    "(rows 'YYYYMMDD HH:MM:SS,rate')",

  fromName(path: string, opts: AdapterOptions): LeanFundingFile | null {
    const l = LEAN_NAME_RE.exec(basename(path));
    if (l === null || basename(dirname(path)) !== "margin_interest") return null;
    const market = basename(dirname(dirname(path)));
    const mapped = leanFundingSymbol(market, l[1]!);
    return {
      kind: "lean-funding",
      exchange: opts.exchange ?? mapped.exchange,
      symbol: opts.symbol ?? mapped.symbol,
      fundingIntervalUs: LEAN_FUNDING_INTERVAL_US,
    };
  },

  fromFirstLine(
    _path: string,
    line: string,
    opts: AdapterOptions & { readonly symbol: string },
  ): LeanFundingFile | null {
    const parts = line.split(",");
    if (opts.exchange === undefined || parts.length !== 2 || !LEAN_ROW_RE.test(parts[0]!)) return null;
    return {
      kind: "lean-funding",
      exchange: opts.exchange,
      symbol: opts.symbol,
      fundingIntervalUs: LEAN_FUNDING_INTERVAL_US,
    };
  },

  scan: scanLeanFunding,
  ingest: ingestLeanFunding,
};
