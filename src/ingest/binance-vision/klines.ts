/**
 * Binance public-data kline CSV → `ohlcv_bars` (format `kline` of the `binance-vision` adapter).
 *
 * Source: https://github.com/binance/binance-public-data (files from data.binance.vision, unzipped;
 * plain or gzip). Name `<SYMBOL>-<interval>-<YYYY-MM[-DD]>.csv`, e.g. `ADABTC-1m-2021-11-27.csv`.
 * Twelve columns, with or without a header line:
 * `open_time,open,high,low,close,volume,close_time,quote_volume,trades,taker_buy_base,taker_buy_quote,ignore`.
 * Times are epoch **milliseconds** (13 digits) or, for spot files since 2025, **microseconds**
 * (16 digits); `close_time` is the last unit of the bar (`open_time + interval - 1 ms`, resp. `- 1 µs`).
 * Interval from the name: `<n>s|m|h|d|w` (1s, 1m, 3m, 5m, 15m, 30m, 1h, 2h, 4h, 6h, 8h, 12h, 1d, 3d,
 * 1w) or `1mo` (calendar month, UTC). Exchange: `opts.exchange`, else `binance-futures` if the path
 * contains `/futures/um/`, `binance-delivery` if it contains `/futures/cm/`, else `binance` (spot).
 * Symbol: `opts.symbol`, else the upper-cased name prefix. A file with another name is recognised from
 * its first data line when the symbol is given (`fromFirstLine`): a 12-field row whose interval is
 * `close_time - open_time + 1 unit`.
 *
 * ## Point-in-time rule for bars (important)
 * A vendor bar is **knowable only when it closes**: its high, low, close and volume describe the whole
 * interval. The row is therefore stamped `ts_local_us = ts_exch_us = bar end = open_time + interval`
 * (µs), and `bar_start_us = open_time` is kept as a separate column. Stamping the row at the bar start
 * would let every as-of join see the bar's close up to one interval before it happened (lookahead).
 * A bar ending exactly at UTC midnight is stored in the next day's partition.
 *
 * ## Encoding
 * Prices (`open/high/low/close_px_int`) count the symbol's `price_increment`, volumes
 * (`volume_qty_int`, `taker_buy_qty_int`) its `amount_increment`, both decoded from the decimal strings
 * without a float round trip (increments inferred in pass 1 from the largest number of significant
 * decimals, unless the registry already has the symbol). `quote_volume` and `taker_buy_quote_volume` are
 * float64 (`Number` of the decimal). `trade_count` is an integer. `interval_us` is µs. A record is a
 * physical line (1-based `file_line_number`).
 *
 * ## Rejections (quarantined with file, line, field and reason; never thrown)
 * Wrong field count; open/close time that is not an epoch in ms or µs; `close_time + 1 unit
 * ≠ open_time + interval`; a price or volume that is not a non-negative decimal representable at the
 * increment; non-numeric or negative quote volumes; a non-integer trade count; `high < max(open, close,
 * low)`; `low > min(open, close)`; taker-buy volume above volume; a timestamp that goes backwards.
 * Blank lines and header lines carry no row (`lines_without_row`: `blank`, `header`).
 *
 * @throws IngestError (file, line 1, field `format`) from `fromName` for a kline name with an
 *   unsupported interval (e.g. `2mo`).
 */

import { basename, sep } from "node:path";
import { IngestError } from "../../core/errors.js";
import { FixedDecoder } from "../../core/fixed.js";
import { US_PER_DAY, US_PER_HOUR, US_PER_MINUTE, US_PER_MS } from "../../core/time.js";
import type { AdapterOptions, FileFormat } from "../adapter.js";
import { BarColumns, ohlcInconsistency, ohlcReason } from "../bars.js";
import { readLines } from "../lines.js";
import type { DecimalScanner, FileIngest, SymbolSink } from "../session.js";
import { type BarInterval, DECIMAL_RE, parseBarInterval, stripBom } from "../vendor/shared.js";

/** Number of columns of a data.binance.vision kline CSV. */
export const KLINE_FIELDS = 12;

/** A kline file: the exchange/symbol its bars go to and their interval. */
export interface KlineFile {
  readonly kind: "kline";
  readonly exchange: string;
  readonly symbol: string;
  readonly interval: BarInterval;
  /** Interval as written in the file name ("1m"), for messages. */
  readonly intervalText: string;
}

const KLINE_NAME_RE = /^([A-Za-z0-9_]+)-(\d+)(mo|[smhdw])-(\d{4}-\d{2}(?:-\d{2})?)\.csv(?:\.gz)?$/;
const UINT_RE = /^\d+$/;

/** Exchange of a data.binance.vision file from its download path (spot unless under futures/um|cm). */
function klineExchangeFromPath(path: string): string {
  const p = path.split(sep).join("/");
  if (p.includes("/futures/um/")) return "binance-futures";
  if (p.includes("/futures/cm/")) return "binance-delivery";
  return "binance";
}

/** Interval of a 12-field kline row (`close_time - open_time + 1 unit`), or null if it is not one. */
function klineIntervalFromRow(row: string): BarInterval | null {
  const f = row.split(",");
  if (f.length !== KLINE_FIELDS) return null;
  const open = parseTime(f[0]!, 0, f[0]!.length);
  const close = parseTime(f[6]!, 0, f[6]!.length);
  if (open === null || close === null || open.unitUs !== close.unitUs) return null;
  const us = close.us + open.unitUs - open.us;
  return us > 0 ? { kind: "fixed", us } : null;
}

/** An interval as Binance names it (`1mo`, `1w`, `8h`, …; `<n>us` if no unit divides it). */
function formatInterval(iv: BarInterval): string {
  if (iv.kind === "month") return "1mo";
  const us = iv.us;
  for (const [u, n] of [
    ["w", 7 * US_PER_DAY],
    ["d", US_PER_DAY],
    ["h", US_PER_HOUR],
    ["m", US_PER_MINUTE],
    ["s", 1_000_000],
  ] as const) {
    if (us % n === 0) return `${us / n}${u}`;
  }
  return `${us}us`;
}

/** An epoch time in ms (12–14 digits) or µs (15–17 digits) → µs and the unit of the source. */
function parseTime(s: string, start: number, end: number): { us: number; unitUs: number } | null {
  const n = end - start;
  let unit: number;
  if (n >= 12 && n <= 14) unit = US_PER_MS;
  else if (n >= 15 && n <= 17) unit = 1;
  else return null;
  let v = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return null;
    v = v * 10 + (c - 48);
  }
  const us = v * unit;
  return Number.isSafeInteger(us) ? { us, unitUs: unit } : null;
}

/** Start (µs) of the UTC month after the one starting at `us`, or NaN if `us` is not a month start. */
function nextMonthStartUs(us: number): number {
  if (us % US_PER_MS !== 0) return Number.NaN;
  const d = new Date(us / US_PER_MS);
  if (
    d.getUTCDate() !== 1 ||
    d.getUTCHours() + d.getUTCMinutes() + d.getUTCSeconds() + d.getUTCMilliseconds() !== 0
  ) {
    return Number.NaN;
  }
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) * US_PER_MS;
}

/** Splits `line` at commas into `starts/ends` (first `cap` fields); returns the field count. */
function splitFields(line: string, starts: Int32Array, ends: Int32Array): number {
  const cap = starts.length;
  let n = 0;
  let s = 0;
  for (;;) {
    const c = line.indexOf(",", s);
    const e = c < 0 ? line.length : c;
    if (n < cap) {
      starts[n] = s;
      ends[n] = e;
    }
    n++;
    if (c < 0) return n;
    s = c + 1;
  }
}

const F_OPEN_TIME = 0;
const F_OPEN = 1;
const F_HIGH = 2;
const F_LOW = 3;
const F_CLOSE = 4;
const F_VOLUME = 5;
const F_CLOSE_TIME = 6;
const F_QUOTE_VOLUME = 7;
const F_TRADES = 8;
const F_TAKER_BASE = 9;
const F_TAKER_QUOTE = 10;
/** Source column names, used as the `field` of quarantine records. */
const KLINE_FIELD_NAMES = [
  "open_time",
  "open",
  "high",
  "low",
  "close",
  "volume",
  "close_time",
  "quote_volume",
  "trades",
  "taker_buy_base",
  "taker_buy_quote",
  "ignore",
] as const;

/** True for the kline CSV header line (`open_time,…`, optionally after a byte-order mark). */
export function isKlineHeader(line: string): boolean {
  return /^\uFEFF?\s*open_time\s*,/i.test(line);
}

async function scanKlines(path: string, file: KlineFile, scanner: DecimalScanner): Promise<void> {
  const starts = new Int32Array(KLINE_FIELDS);
  const ends = new Int32Array(KLINE_FIELDS);
  await readLines(path, (raw) => {
    const text = stripBom(raw);
    if (text.trim() === "" || isKlineHeader(text)) return;
    if (splitFields(text, starts, ends) !== KLINE_FIELDS) return;
    const open = parseTime(text, starts[F_OPEN_TIME]!, ends[F_OPEN_TIME]!);
    if (open === null) return;
    const iv = file.interval.kind === "fixed" ? file.interval.us : nextMonthStartUs(open.us) - open.us;
    if (!Number.isFinite(iv)) return;
    const o = scanner.observe(file.exchange, file.symbol, open.us + iv);
    const f = (k: number): string => text.slice(starts[k]!, ends[k]!);
    scanner.price(o, f(F_OPEN));
    scanner.price(o, f(F_HIGH));
    scanner.price(o, f(F_LOW));
    scanner.price(o, f(F_CLOSE));
    scanner.amount(o, f(F_VOLUME));
    scanner.amount(o, f(F_TAKER_BASE));
  });
}

/** Column handles of an `ohlcv_bars` buffer (their `.data` arrays may be replaced as they grow). */
async function ingestKlines(path: string, file: KlineFile, fi: FileIngest): Promise<void> {
  const table = "ohlcv_bars";
  const starts = new Int32Array(KLINE_FIELDS);
  const ends = new Int32Array(KLINE_FIELDS);
  const dec = new FixedDecoder();
  let sink: SymbolSink | null = null;
  let cols: BarColumns | null = null;

  const res = await readLines(path, (raw, line) => {
    const text = stripBom(raw);
    if (text.trim() === "") return fi.noRow("blank");
    if (isKlineHeader(text)) return fi.noRow("header");
    const n = splitFields(text, starts, ends);
    if (n !== KLINE_FIELDS) {
      return fi.reject(
        table,
        line,
        "fields",
        `expected ${KLINE_FIELDS} comma-separated fields (${KLINE_FIELD_NAMES.join(",")}), got ${n}`,
        text,
      );
    }
    const f = (k: number): string => text.slice(starts[k]!, ends[k]!);

    // Times and interval.
    const open = parseTime(text, starts[F_OPEN_TIME]!, ends[F_OPEN_TIME]!);
    if (open === null) {
      return fi.reject(
        table,
        line,
        "open_time",
        `'${f(F_OPEN_TIME)}' is not an epoch time in ms (13 digits) or µs (16 digits)`,
        text,
      );
    }
    const close = parseTime(text, starts[F_CLOSE_TIME]!, ends[F_CLOSE_TIME]!);
    if (close === null || close.unitUs !== open.unitUs) {
      return fi.reject(
        table,
        line,
        "close_time",
        `'${f(F_CLOSE_TIME)}' is not an epoch time in the unit of open_time (${open.unitUs === 1 ? "µs" : "ms"})`,
        text,
      );
    }
    let intervalUs: number;
    if (file.interval.kind === "fixed") {
      intervalUs = file.interval.us;
    } else {
      intervalUs = nextMonthStartUs(open.us) - open.us;
      if (!Number.isFinite(intervalUs)) {
        return fi.reject(
          table,
          line,
          "open_time",
          `'${f(F_OPEN_TIME)}' is not the start of a UTC month (interval 1mo)`,
          text,
        );
      }
    }
    const barEnd = open.us + intervalUs;
    if (close.us + open.unitUs !== barEnd) {
      const unit = open.unitUs === 1 ? "µs" : "ms";
      return fi.reject(
        table,
        line,
        "close_time",
        `close_time ${f(F_CLOSE_TIME)} + 1 ${unit} ≠ open_time ${f(F_OPEN_TIME)} + interval ${file.intervalText} ` +
          `(expected close_time ${(barEnd - open.unitUs) / open.unitUs})`,
        text,
      );
    }

    // Fixed-point prices and sizes.
    if (sink === null) sink = fi.sink(file.exchange, file.symbol);
    const px = sink.px;
    const qty = sink.qty;
    const fixed = (k: number, inc: typeof px): number =>
      fi.decodeOrReject(dec, table, line, KLINE_FIELD_NAMES[k]!, text, inc, text, starts[k]!, ends[k]!);
    const o = fixed(F_OPEN, px);
    if (Number.isNaN(o)) return;
    const h = fixed(F_HIGH, px);
    if (Number.isNaN(h)) return;
    const l = fixed(F_LOW, px);
    if (Number.isNaN(l)) return;
    const c = fixed(F_CLOSE, px);
    if (Number.isNaN(c)) return;
    const vol = fixed(F_VOLUME, qty);
    if (Number.isNaN(vol)) return;
    let takerBuy = Number.NaN;
    if (ends[F_TAKER_BASE]! > starts[F_TAKER_BASE]!) {
      takerBuy = fixed(F_TAKER_BASE, qty);
      if (Number.isNaN(takerBuy)) return;
    }

    // Floats and counts (empty = null).
    const nonNegFloat = (k: number): number | null => {
      const s = f(k);
      if (s === "") return Number.NaN;
      if (!DECIMAL_RE.test(s)) {
        fi.reject(table, line, KLINE_FIELD_NAMES[k]!, `'${s}' is not a decimal number`, text);
        return null;
      }
      const v = Number(s);
      if (v < 0 || !Number.isFinite(v)) {
        fi.reject(table, line, KLINE_FIELD_NAMES[k]!, `'${s}' is ${v < 0 ? "negative" : "not finite"}`, text);
        return null;
      }
      return v;
    };
    const quoteVolume = nonNegFloat(F_QUOTE_VOLUME);
    if (quoteVolume === null) return;
    const takerBuyQuote = nonNegFloat(F_TAKER_QUOTE);
    if (takerBuyQuote === null) return;
    let trades = Number.NaN;
    const tradesText = f(F_TRADES);
    if (tradesText !== "") {
      trades = UINT_RE.test(tradesText) ? Number(tradesText) : Number.NaN;
      if (!Number.isSafeInteger(trades)) {
        return fi.reject(
          table,
          line,
          "trades",
          `'${tradesText}' is not a non-negative integer trade count`,
          text,
        );
      }
    }

    // Bar consistency.
    const bad = ohlcInconsistency(o, h, l, c);
    if (bad !== null)
      return fi.reject(table, line, bad, ohlcReason(bad, f(F_OPEN), f(F_HIGH), f(F_LOW), f(F_CLOSE)), text);
    if (takerBuy > vol) {
      return fi.reject(
        table,
        line,
        "taker_buy_base",
        `taker buy volume ${f(F_TAKER_BASE)} exceeds volume ${f(F_VOLUME)}`,
        text,
      );
    }
    if (takerBuyQuote > quoteVolume) {
      return fi.reject(
        table,
        line,
        "taker_buy_quote",
        `taker buy quote volume ${f(F_TAKER_QUOTE)} exceeds quote volume ${f(F_QUOTE_VOLUME)}`,
        text,
      );
    }

    // PIT: the bar is knowable at its end, not its start (see the module doc).
    if (!fi.checkTime(table, barEnd, line, text)) return;
    const i = sink.row(table, barEnd, barEnd, line);
    if (cols === null) cols = new BarColumns(sink.buffer(table));
    cols.set(i, open.us, intervalUs, o, h, l, c, vol, quoteVolume, trades, takerBuy, takerBuyQuote);
    fi.flush();
  });
  fi.report.lines_read = res.lines;
}

/** The `kline` format (see the module doc). */
export const binanceVisionKlines: FileFormat<KlineFile> = {
  kind: "kline",
  accepted:
    "a data.binance.vision kline CSV named <SYMBOL>-<interval>-<YYYY-MM[-DD]>.csv[.gz] " +
    "(e.g. BTCUSDT-1m-2024-01-01.csv; unzip the .zip first)",

  fromName(path: string, opts: AdapterOptions): KlineFile | null {
    const name = basename(path);
    const k = KLINE_NAME_RE.exec(name);
    if (k === null) return null;
    const intervalText = `${k[2]}${k[3]}`;
    const interval = parseBarInterval(intervalText);
    if (interval === null) {
      throw new IngestError(
        { file: path, line: 1, field: "format" },
        `unsupported kline interval '${intervalText}' in the file name (use <n>s|m|h|d|w or 1mo)`,
      );
    }
    return {
      kind: "kline",
      exchange: opts.exchange ?? klineExchangeFromPath(path),
      symbol: opts.symbol ?? k[1]!.toUpperCase(),
      interval,
      intervalText,
    };
  },

  fromFirstLine(
    path: string,
    line: string,
    opts: AdapterOptions & { readonly symbol: string },
  ): KlineFile | null {
    const iv = klineIntervalFromRow(line);
    if (iv === null) return null;
    return {
      kind: "kline",
      exchange: opts.exchange ?? klineExchangeFromPath(path),
      symbol: opts.symbol,
      interval: iv,
      intervalText: formatInterval(iv),
    };
  },

  isHeader: isKlineHeader,
  scan: scanKlines,
  ingest: ingestKlines,
};
