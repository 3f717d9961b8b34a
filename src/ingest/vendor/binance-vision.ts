/**
 * `binance-vision` adapter: vendor bar and funding files that are not raw captures.
 *
 * Three file families are accepted, told apart by file name/path (and, failing that, by content):
 *
 * 1. **Binance public-data kline CSV** (https://github.com/binance/binance-public-data, files from
 *    data.binance.vision, unzipped; plain or gzip). Name `<SYMBOL>-<interval>-<YYYY-MM[-DD]>.csv`,
 *    e.g. `ADABTC-1m-2021-11-27.csv`. Twelve columns, with or without a header line:
 *    `open_time,open,high,low,close,volume,close_time,quote_volume,trades,taker_buy_base,taker_buy_quote,ignore`.
 *    Times are epoch **milliseconds** (13 digits) or, for spot files since 2025, **microseconds**
 *    (16 digits); `close_time` is the last unit of the bar (`open_time + interval - 1 ms`, resp. `- 1 µs`).
 *    Interval from the name: `<n>s|m|h|d|w` (1s, 1m, 3m, 5m, 15m, 30m, 1h, 2h, 4h, 6h, 8h, 12h, 1d, 3d,
 *    1w) or `1mo` (calendar month, UTC). Exchange: `opts.exchange`, else `binance-futures` if the path
 *    contains `/futures/um/`, `binance-delivery` if it contains `/futures/cm/`, else `binance` (spot).
 *    → table `ohlcv_bars`.
 * 2. **freqtrade funding-rate JSON** (freqtrade data format: one JSON array of candles
 *    `[ts_ms, open, high, low, close, volume]`; for funding the rate is in `open`, the rest is 0).
 *    Name `<BASE>_<QUOTE>[_<SETTLE>]-<timeframe>-funding_rate.json`, e.g.
 *    `XRP_USDT_USDT-8h-funding_rate.json` → symbol `XRPUSDT`, exchange `binance-futures`; an inverse
 *    pair (settle ≠ quote, e.g. `BTC_USD_BTC`) → `BTCUSD_PERP` on `binance-delivery`.
 *    The funding interval is the file name's timeframe. → table `funding_events`.
 * 3. **QuantConnect Lean crypto-future funding CSV** (Lean data format,
 *    `Data/cryptofuture/<market>/margin_interest/<symbol>.csv`): rows `YYYYMMDD HH:MM:SS,rate`, UTC, one
 *    per 8-hour funding event, no header. Market/symbol from the path: Binance `btcusd` (name ends in
 *    `usd`, coin-margined) → `binance-delivery` `BTCUSD_PERP`; Binance `adausdt` → `binance-futures`
 *    `ADAUSDT`; other markets (`bybit`, …) → that market id and the upper-cased name (`BTCUSD`).
 *    Funding interval 8 h (28,800,000,000 µs). → table `funding_events`.
 *
 * `opts.exchange` / `opts.symbol` override the exchange and symbol derived from the name. A file
 * whose name fits none of the above is still accepted when `opts.symbol` is given and its first data
 * line is a 12-field kline row (interval = `close_time - open_time + 1 unit` of that row) or a Lean
 * funding row (then `opts.exchange` is required too).
 *
 * ## Point-in-time rule for bars (important)
 * A vendor bar is **knowable only when it closes**: its high, low, close and volume describe the whole
 * interval. The row is therefore stamped `ts_local_us = ts_exch_us = bar end = open_time + interval`
 * (µs), and `bar_start_us = open_time` is kept as a separate column. Stamping the row at the bar start
 * would let every as-of join see the bar's close up to one interval before it happened (lookahead).
 * A bar ending exactly at UTC midnight is stored in the next day's partition.
 *
 * Funding rows are stamped at the funding time (`ts_local_us = ts_exch_us`), i.e. the time the rate is
 * applied and published; these vendor files carry no separate arrival time.
 *
 * ## Encoding
 * Prices (`open/high/low/close_px_int`) count the symbol's `price_increment`, volumes
 * (`volume_qty_int`, `taker_buy_qty_int`) its `amount_increment`, both decoded from the decimal strings
 * without a float round trip (increments inferred in pass 1 from the largest number of significant
 * decimals, unless the registry already has the symbol). `quote_volume`, `taker_buy_quote_volume` and
 * `funding_rate` are float64 (`Number` of the decimal / JSON number). `trade_count` is an integer.
 *
 * ## Line numbers
 * For CSV files a record is a physical line (1-based). For the JSON-array source the "line" of a record
 * is its **1-based element index** in the top-level array: `lines_read` = number of elements and
 * `file_line_number` = element index (the file is usually a single physical line).
 *
 * ## Rejections (quarantined with file, line, field and reason; never thrown)
 * Kline rows: wrong field count; open/close time that is not an epoch in ms or µs; `close_time + 1 unit
 * ≠ open_time + interval`; a price or volume that is not a non-negative decimal representable at the
 * increment; non-numeric or negative quote volumes; a non-integer trade count; `high < max(open, close,
 * low)`; `low > min(open, close)`; taker-buy volume above volume; a timestamp that goes backwards.
 * Funding rows: wrong element/field count, a malformed time or rate.
 * Blank lines and header lines carry no row (`lines_without_row`: `blank`, `header`).
 *
 * @throws IngestError (file, line 1, field `format`) for a file that matches none of the shapes, and
 *   (field `json`) for a funding JSON that does not parse or is not an array.
 */
import { open } from "node:fs/promises";
import { basename, dirname, sep } from "node:path";
import { createGunzip } from "node:zlib";
import { IngestError } from "../../core/errors.js";
import { FixedDecoder } from "../../core/fixed.js";
import { US_PER_DAY, US_PER_HOUR, US_PER_MINUTE, US_PER_MS } from "../../core/time.js";
import type { NumColumn } from "../../lake/buffer.js";
import type { AdapterOptions, SourceAdapter } from "../adapter.js";
import { readLines } from "../lines.js";
import type { DecimalScanner, FileIngest, SymbolSink } from "../session.js";

/** Lean crypto-future funding events are 8 hours apart. */
export const LEAN_FUNDING_INTERVAL_US = 8 * US_PER_HOUR;
/** Number of columns of a data.binance.vision kline CSV. */
export const KLINE_FIELDS = 12;

/** A bar length: a fixed number of µs, or a UTC calendar month (`1mo`). */
export type BarInterval = { readonly kind: "fixed"; readonly us: number } | { readonly kind: "month" };

/** What a file was recognised as, with the exchange/symbol its rows go to. */
export type VisionShape =
  | {
      readonly kind: "kline";
      readonly exchange: string;
      readonly symbol: string;
      readonly interval: BarInterval;
      /** Interval as written in the file name ("1m"), for messages. */
      readonly intervalText: string;
    }
  | {
      readonly kind: "freqtrade-funding";
      readonly exchange: string;
      readonly symbol: string;
      readonly fundingIntervalUs: number;
    }
  | {
      readonly kind: "lean-funding";
      readonly exchange: string;
      readonly symbol: string;
      readonly fundingIntervalUs: number;
    };

type KlineShape = VisionShape & { kind: "kline" };
type FundingShape = VisionShape & { kind: "freqtrade-funding" | "lean-funding" };

const KLINE_NAME_RE = /^([A-Za-z0-9_]+)-(\d+)(mo|[smhdw])-(\d{4}-\d{2}(?:-\d{2})?)\.csv(?:\.gz)?$/;
const FREQTRADE_FUNDING_RE =
  /^([A-Za-z0-9]+)_([A-Za-z0-9]+)(?:_([A-Za-z0-9]+))?-(\d+)([mhdw])-funding_rate\.json(?:\.gz)?$/;
const LEAN_NAME_RE = /^([A-Za-z0-9_]+)\.csv(?:\.gz)?$/;
const LEAN_ROW_RE = /^(\d{4})(\d{2})(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;
/** A plain decimal (optionally signed, optional exponent), as Binance and Lean write them. */
const DECIMAL_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const UINT_RE = /^\d+$/;

const ACCEPTED_SHAPES =
  "expected one of: (1) a data.binance.vision kline CSV named <SYMBOL>-<interval>-<YYYY-MM[-DD]>.csv[.gz] " +
  "(e.g. BTCUSDT-1m-2024-01-01.csv; unzip the .zip first), (2) a freqtrade funding JSON named " +
  "<BASE>_<QUOTE>_<SETTLE>-<timeframe>-funding_rate.json (e.g. XRP_USDT_USDT-8h-funding_rate.json), " +
  "(3) a Lean crypto-future funding CSV at …/cryptofuture/<market>/margin_interest/<symbol>.csv " +
  "(rows 'YYYYMMDD HH:MM:SS,rate'); other names only with --symbol (and --exchange for funding) " +
  "when the first line is a 12-field kline row or a Lean funding row";

/** µs per unit of a `<n><unit>` interval (`mo` handled separately). */
function unitUs(unit: string): number {
  switch (unit) {
    case "s":
      return 1_000_000;
    case "m":
      return US_PER_MINUTE;
    case "h":
      return US_PER_HOUR;
    case "d":
      return US_PER_DAY;
    case "w":
      return 7 * US_PER_DAY;
    default:
      return Number.NaN;
  }
}

/**
 * Parses a Binance/freqtrade interval ("1s", "1m", "8h", "1d", "1w", "1mo").
 * @returns the interval, or null if the text is not one.
 */
export function parseBarInterval(text: string): BarInterval | null {
  const m = /^(\d+)(mo|[smhdw])$/.exec(text);
  if (m === null) return null;
  const n = Number(m[1]);
  if (!Number.isSafeInteger(n) || n <= 0) return null;
  if (m[2] === "mo") return n === 1 ? { kind: "month" } : null;
  const us = n * unitUs(m[2]!);
  return Number.isSafeInteger(us) ? { kind: "fixed", us } : null;
}

/** Exchange of a data.binance.vision file from its download path (spot unless under futures/um|cm). */
function klineExchangeFromPath(path: string): string {
  const p = path.split(sep).join("/");
  if (p.includes("/futures/um/")) return "binance-futures";
  if (p.includes("/futures/cm/")) return "binance-delivery";
  return "binance";
}

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

/**
 * First line of the file's first 64 KiB that is neither blank nor a header, or null. Reads only that
 * head (gunzipping what it can of a gzip file), so sniffing a large file costs nothing.
 */
async function firstDataLine(path: string): Promise<string | null> {
  const HEAD = 1 << 16;
  const fh = await open(path, "r");
  let head: Buffer;
  let whole: boolean;
  try {
    const buf = Buffer.alloc(HEAD);
    const { bytesRead } = await fh.read(buf, 0, HEAD, 0);
    head = buf.subarray(0, bytesRead);
    whole = bytesRead < HEAD;
  } finally {
    await fh.close();
  }
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) {
    const gz = head;
    head = await new Promise<Buffer>((done) => {
      const chunks: Buffer[] = [];
      const g = createGunzip();
      g.on("data", (c: Buffer) => chunks.push(c));
      g.on("error", () => done(Buffer.concat(chunks)));
      g.on("end", () => done(Buffer.concat(chunks)));
      g.end(gz);
    });
    whole = false;
  }
  const lines = head.toString("utf8").split(/\r?\n/);
  if (!whole) lines.pop(); // possibly cut in the middle
  for (const l of lines) {
    const t = l.replace(/^\uFEFF/, "").trim();
    if (t !== "" && !isHeader(t)) return t;
  }
  return null;
}

function klineIntervalFromRow(row: string): BarInterval | null {
  const f = row.split(",");
  if (f.length !== KLINE_FIELDS) return null;
  const open = parseTime(f[0]!, 0, f[0]!.length);
  const close = parseTime(f[6]!, 0, f[6]!.length);
  if (open === null || close === null || open.unitUs !== close.unitUs) return null;
  const us = close.us + open.unitUs - open.us;
  return us > 0 ? { kind: "fixed", us } : null;
}

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

/**
 * Recognises a file (see the module doc). Reads at most the first data line (content fallback).
 * @throws IngestError (line 1, field `format`) if the file fits none of the shapes.
 */
export async function detectVisionShape(path: string, opts: AdapterOptions = {}): Promise<VisionShape> {
  const name = basename(path);
  const k = KLINE_NAME_RE.exec(name);
  if (k !== null) {
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
  }
  const f = FREQTRADE_FUNDING_RE.exec(name);
  if (f !== null) {
    const base = f[1]!.toUpperCase();
    const quote = f[2]!.toUpperCase();
    const settle = f[3]?.toUpperCase();
    const inverse = settle !== undefined && settle !== quote;
    const iv = parseBarInterval(`${f[4]}${f[5]}`);
    if (iv === null || iv.kind !== "fixed") {
      throw new IngestError(
        { file: path, line: 1, field: "format" },
        `unsupported funding timeframe in '${name}'`,
      );
    }
    return {
      kind: "freqtrade-funding",
      exchange: opts.exchange ?? (inverse ? "binance-delivery" : "binance-futures"),
      symbol: opts.symbol ?? (inverse ? `${base}${quote}_PERP` : `${base}${quote}`),
      fundingIntervalUs: iv.us,
    };
  }
  const l = LEAN_NAME_RE.exec(name);
  const parent = basename(dirname(path));
  if (l !== null && parent === "margin_interest") {
    const market = basename(dirname(dirname(path)));
    const mapped = leanFundingSymbol(market, l[1]!);
    return {
      kind: "lean-funding",
      exchange: opts.exchange ?? mapped.exchange,
      symbol: opts.symbol ?? mapped.symbol,
      fundingIntervalUs: LEAN_FUNDING_INTERVAL_US,
    };
  }
  // Content fallback: only with an explicit symbol (the name tells us nothing).
  if (opts.symbol !== undefined && !/\.(zip|json)$/i.test(name)) {
    const row = await firstDataLine(path);
    if (row !== null) {
      const iv = klineIntervalFromRow(row);
      if (iv !== null) {
        return {
          kind: "kline",
          exchange: opts.exchange ?? klineExchangeFromPath(path),
          symbol: opts.symbol,
          interval: iv,
          intervalText: formatInterval(iv),
        };
      }
      const parts = row.split(",");
      if (opts.exchange !== undefined && parts.length === 2 && LEAN_ROW_RE.test(parts[0]!)) {
        return {
          kind: "lean-funding",
          exchange: opts.exchange,
          symbol: opts.symbol,
          fundingIntervalUs: LEAN_FUNDING_INTERVAL_US,
        };
      }
    }
  }
  throw new IngestError(
    { file: path, line: 1, field: "format" },
    `unrecognised binance-vision input: ${ACCEPTED_SHAPES}`,
  );
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

/** Drops a UTF-8 byte-order mark (only ever at the start of line 1). */
function stripBom(line: string): string {
  return line.charCodeAt(0) === 0xfeff ? line.slice(1) : line;
}

function isHeader(line: string): boolean {
  return /^\uFEFF?\s*open_time\s*,/i.test(line);
}

// ---------------------------------------------------------------------------------------------
// Klines
// ---------------------------------------------------------------------------------------------

async function scanKlines(path: string, shape: KlineShape, scanner: DecimalScanner): Promise<void> {
  const starts = new Int32Array(KLINE_FIELDS);
  const ends = new Int32Array(KLINE_FIELDS);
  await readLines(path, (raw) => {
    const text = stripBom(raw);
    if (text.trim() === "" || isHeader(text)) return;
    if (splitFields(text, starts, ends) !== KLINE_FIELDS) return;
    const open = parseTime(text, starts[F_OPEN_TIME]!, ends[F_OPEN_TIME]!);
    if (open === null) return;
    const iv = shape.interval.kind === "fixed" ? shape.interval.us : nextMonthStartUs(open.us) - open.us;
    if (!Number.isFinite(iv)) return;
    const o = scanner.observe(shape.exchange, shape.symbol, open.us + iv);
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
interface BarColumns {
  barStart: NumColumn;
  interval: NumColumn;
  open: NumColumn;
  high: NumColumn;
  low: NumColumn;
  close: NumColumn;
  volume: NumColumn;
  quoteVolume: NumColumn;
  tradeCount: NumColumn;
  takerBuy: NumColumn;
  takerBuyQuote: NumColumn;
}

async function ingestKlines(path: string, shape: KlineShape, fi: FileIngest): Promise<void> {
  const table = "ohlcv_bars";
  const starts = new Int32Array(KLINE_FIELDS);
  const ends = new Int32Array(KLINE_FIELDS);
  const dec = new FixedDecoder();
  let sink: SymbolSink | null = null;
  let cols: BarColumns | null = null;

  const res = await readLines(path, (raw, line) => {
    const text = stripBom(raw);
    if (text.trim() === "") return fi.noRow("blank");
    if (isHeader(text)) return fi.noRow("header");
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
    if (shape.interval.kind === "fixed") {
      intervalUs = shape.interval.us;
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
        `close_time ${f(F_CLOSE_TIME)} + 1 ${unit} ≠ open_time ${f(F_OPEN_TIME)} + interval ${shape.intervalText} ` +
          `(expected close_time ${(barEnd - open.unitUs) / open.unitUs})`,
        text,
      );
    }

    // Fixed-point prices and sizes.
    if (sink === null) sink = fi.sink(shape.exchange, shape.symbol);
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
    if (h < o || h < c || h < l) {
      return fi.reject(
        table,
        line,
        "high",
        `high ${f(F_HIGH)} is below max(open ${f(F_OPEN)}, close ${f(F_CLOSE)}, low ${f(F_LOW)})`,
        text,
      );
    }
    if (l > o || l > c) {
      return fi.reject(
        table,
        line,
        "low",
        `low ${f(F_LOW)} is above min(open ${f(F_OPEN)}, close ${f(F_CLOSE)})`,
        text,
      );
    }
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
    if (cols === null) {
      const b = sink.buffer(table);
      cols = {
        barStart: b.num("bar_start_us"),
        interval: b.num("interval_us"),
        open: b.num("open_px_int"),
        high: b.num("high_px_int"),
        low: b.num("low_px_int"),
        close: b.num("close_px_int"),
        volume: b.num("volume_qty_int"),
        quoteVolume: b.num("quote_volume"),
        tradeCount: b.num("trade_count"),
        takerBuy: b.num("taker_buy_qty_int"),
        takerBuyQuote: b.num("taker_buy_quote_volume"),
      };
    }
    cols.barStart.data[i] = open.us;
    cols.interval.data[i] = intervalUs;
    cols.open.data[i] = o;
    cols.high.data[i] = h;
    cols.low.data[i] = l;
    cols.close.data[i] = c;
    cols.volume.data[i] = vol;
    cols.quoteVolume.data[i] = quoteVolume;
    cols.tradeCount.data[i] = trades;
    cols.takerBuy.data[i] = takerBuy;
    cols.takerBuyQuote.data[i] = takerBuyQuote;
    fi.flush();
  });
  fi.report.lines_read = res.lines;
}

// ---------------------------------------------------------------------------------------------
// Funding: freqtrade JSON and Lean CSV
// ---------------------------------------------------------------------------------------------

/** Reads a (possibly gzip) JSON file and returns its top-level array. @throws IngestError otherwise. */
async function readJsonArray(path: string): Promise<unknown[]> {
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
    throw new IngestError(
      { file: path, line, field: "json" },
      `not valid JSON (freqtrade funding file): ${msg}`,
    );
  }
  if (!Array.isArray(value)) {
    throw new IngestError(
      { file: path, line: 1, field: "json" },
      "expected a JSON array of [ts_ms, rate, 0, 0, 0, 0] records (freqtrade funding format)",
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
  const ms = Date.UTC(y, mo - 1, d, hh, mi, ss);
  const back = new Date(ms);
  if (
    back.getUTCFullYear() !== y ||
    back.getUTCMonth() !== mo - 1 ||
    back.getUTCDate() !== d ||
    back.getUTCHours() !== hh ||
    back.getUTCMinutes() !== mi ||
    back.getUTCSeconds() !== ss
  ) {
    return Number.NaN;
  }
  return ms * US_PER_MS;
}

async function scanFunding(path: string, shape: FundingShape, scanner: DecimalScanner): Promise<void> {
  if (shape.kind === "freqtrade-funding") {
    for (const rec of await readJsonArray(path)) {
      const ts = freqtradeTimeUs(rec);
      if (!Number.isNaN(ts)) scanner.observe(shape.exchange, shape.symbol, ts);
    }
    return;
  }
  await readLines(path, (text) => {
    const comma = text.indexOf(",");
    if (comma < 0) return;
    const ts = parseLeanTimeUs(text.slice(0, comma).trim());
    if (!Number.isNaN(ts)) scanner.observe(shape.exchange, shape.symbol, ts);
  });
}

/** Writes one funding row after the time check. */
/** Writes funding rows of one (exchange, symbol) after the time check. */
class FundingWriter {
  private sink: SymbolSink | null = null;
  private rate: NumColumn | null = null;
  private interval: NumColumn | null = null;
  constructor(
    private readonly fi: FileIngest,
    private readonly shape: FundingShape,
  ) {}
  row(tsUs: number, rate: number, line: number, raw: string): void {
    const table = "funding_events";
    if (!this.fi.checkTime(table, tsUs, line, raw)) return;
    if (this.sink === null) {
      this.sink = this.fi.sink(this.shape.exchange, this.shape.symbol);
      const b = this.sink.buffer(table);
      this.rate = b.num("funding_rate");
      this.interval = b.num("funding_interval_us");
    }
    const i = this.sink.row(table, tsUs, tsUs, line);
    this.rate!.data[i] = rate;
    this.interval!.data[i] = this.shape.fundingIntervalUs;
    this.fi.flush();
  }
}

async function ingestFreqtradeFunding(path: string, shape: FundingShape, fi: FileIngest): Promise<void> {
  const table = "funding_events";
  const records = await readJsonArray(path);
  const w = new FundingWriter(fi, shape);
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

async function ingestLeanFunding(path: string, shape: FundingShape, fi: FileIngest): Promise<void> {
  const table = "funding_events";
  const w = new FundingWriter(fi, shape);
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

// ---------------------------------------------------------------------------------------------

/**
 * The `binance-vision` source adapter (data.binance.vision klines, freqtrade funding JSON, Lean
 * crypto-future funding CSV); see the module doc for shapes, units, PIT stamping and rejections.
 */
export const binanceVisionAdapter: SourceAdapter = {
  format: "binance-vision",

  async scan(path: string, scanner: DecimalScanner, opts: AdapterOptions): Promise<void> {
    const shape = await detectVisionShape(path, opts);
    if (shape.kind === "kline") await scanKlines(path, shape, scanner);
    else await scanFunding(path, shape, scanner);
  },

  async ingest(path: string, fi: FileIngest, opts: AdapterOptions): Promise<void> {
    const shape = await detectVisionShape(path, opts);
    switch (shape.kind) {
      case "kline":
        return ingestKlines(path, shape, fi);
      case "freqtrade-funding":
        return ingestFreqtradeFunding(path, shape, fi);
      case "lean-funding":
        return ingestLeanFunding(path, shape, fi);
    }
  },
};
