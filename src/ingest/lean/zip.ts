/**
 * QuantConnect Lean data zips → the lake: format `lean` of the `binance-vision` adapter (its dispatcher of
 * vendor files). One reader for every Lean market-data zip of the asset classes `equity`, `future`,
 * `crypto` and `cryptofuture`:
 *
 * | path (under Lean's `Data/`) | rows → table |
 * |---|---|
 * | `<class>/<market>/tick/<sym>/<YYYYMMDD>_trade.zip` | `time,price,size,exchange,sale_condition,suspicious` → `trades` |
 * | `<class>/<market>/tick/<sym>/<YYYYMMDD>_quote.zip` | `time,bid_price,bid_size,ask_price,ask_size,exchange,condition,suspicious` → `quotes` |
 * | `<class>/<market>/<second\|minute>/<sym>/<YYYYMMDD>_trade.zip` | `time,open,high,low,close,volume` → `ohlcv_bars` |
 * | `<class>/<market>/<second\|minute>/<sym>/<YYYYMMDD>_quote.zip` | `time,bid_o,bid_h,bid_l,bid_c,bid_size,ask_o,ask_h,ask_l,ask_c,ask_size` → `quote_bars` |
 * | `future/<market>/<res>/<root>/<YYYYMMDD>_openinterest.zip` | `time,open_interest` → `open_interest` |
 *
 * Source: Lean data format (QuantConnect/Lean `Data/`, ToolBox `LeanData.GenerateZipEntryName`; shared/data
 * PROVENANCE.md §4). Zips are read with `fflate` (`unzipSync`); every `.csv` entry is read in name order and
 * its lines are numbered consecutively across entries (`file_line_number`; `lines_read` counts them all).
 * A 0-byte file (Lean ships some empty quote zips, e.g. SPY ticks) holds no lines.
 *
 * **Time.** `time` is integer milliseconds since midnight of the file's date in the *data* time zone —
 * a wall-clock time, converted to UTC by `DayClock` (luxon, DST included; src/core/zone.ts):
 * - `equity`: America/New_York (Lean's market-hours database: dataTimeZone of `Equity-usa-*`);
 * - `future`: **UTC** (dataTimeZone of `Future-cme-*`, `Future-comex-*`). The data shows it: the ES Sunday
 *   open of 2013-10-06 is at 79,200,000 ms = 22:00 UTC = 18:00 EDT (the Globex open), and the daily
 *   breaks are 20:15–20:30 and 21:15–22:00 UTC = 16:15–16:30 and 17:15–18:00 ET;
 * - `crypto`, `cryptofuture`: UTC.
 * Ticks are stamped at their time. Bars are stamped at their **end** (PIT, as klines.ts): `bar_start_us`
 * = time, `interval_us` = 1 s / 60 s, `ts_local_us = ts_exch_us` = start + interval.
 *
 * **Prices.** Equity prices are deci-cents (integers; ÷ 10,000, done on the digits, no float); futures
 * and crypto prices are plain decimals. Sizes: shares, contracts, or base units (crypto).
 *
 * **Symbols** (written into the registry with `annotateSymbol`):
 * - equity: exchange = the market (`usa`), symbol = upper-cased ticker (`SPY`), asset type `equity`;
 * - future: exchange = the market (`cme`), one symbol per contract entry `…_<YYYYMM>.csv`: root + CME month
 *   code + 2-digit year (`ESZ13`), asset type `future`, `contract_month` and `expiry_us`
 *   (futures.ts `contractExpiryUs`);
 * - crypto: exchange = market (`coinbase`, `binance`), except Bybit spot → `bybit-spot` (Tardis `bybit`
 *   is its derivatives venue); asset type `spot`;
 * - cryptofuture: as the funding files (margin-interest.ts `leanFundingSymbol`: Binance `btcusd` →
 *   `binance-delivery` `BTCUSD_PERP`); asset type `perpetual`.
 * `opts.exchange` / `opts.symbol` override both (`opts.symbol` is refused for futures zips: one symbol per
 * contract).
 *
 * **Tick quotes.** Each equity quote tick carries one side (the other is 0). As Lean's tick→quote
 * consolidators do, a side that a tick does not carry keeps its last value from the same file and symbol,
 * so every `quotes` row is a full L1 state (null until that side is first seen). The quoting exchange
 * and condition codes are not kept (no column); ticks of every exchange update the one L1 state.
 *
 * **Lines without a row**: blank lines (`blank`); ticks flagged `suspicious = 1` (`suspicious`: Lean's
 * default data filter drops them too); never silently.
 *
 * **Rejections** (quarantined with line and field): wrong field count; a time that is not an integer ms in
 * [0, 1 day); a price or size that is not a non-negative decimal representable at the increment (equity:
 * not an integer number of deci-cents); a trade tick with price 0; a quote tick with neither side;
 * trade bars with `high < max(open, close, low)` or `low > min(open, close)`; a quote-bar side whose four
 * prices are neither all present nor all empty, or that violates the same high/low rule; an open interest
 * that is not a non-negative integer.
 *
 * @throws IngestError (line 1, field `zip`) for a file that is not a readable zip; (field `format`) from
 *   `fromName` for a Lean path this reader cannot take (hour/daily bars, `opts.symbol` for futures).
 */
import { readFileSync, statSync } from "node:fs";
import { basename, dirname } from "node:path";
import { unzipSync } from "fflate";
import { IngestError } from "../../core/errors.js";
import { FixedDecoder } from "../../core/fixed.js";
import { US_PER_MS } from "../../core/time.js";
import { DayClock, NEW_YORK, UTC } from "../../core/zone.js";
import type { AssetType } from "../../lake/registry.js";
import type { TableName } from "../../schema/tables.js";
import { SIDE_UNKNOWN } from "../../schema/tables.js";
import type { AdapterOptions, FileFormat } from "../adapter.js";
import { BarColumns, ohlcInconsistency, ohlcReason } from "../bars.js";
import type { DecimalScanner, FileIngest, SymbolSink } from "../session.js";
import { DECIMAL_RE } from "../vendor/shared.js";
import { contractExpiryUs, futuresSymbol } from "./futures.js";
import { leanFundingSymbol } from "./margin-interest.js";

export type LeanAssetClass = "equity" | "future" | "crypto" | "cryptofuture";
export type LeanResolution = "tick" | "second" | "minute";
export type LeanDataType = "trade" | "quote" | "openinterest";

/** A Lean data zip: what it holds and where its rows go. */
export interface LeanZipFile {
  readonly kind: "lean";
  readonly assetClass: LeanAssetClass;
  readonly market: string;
  readonly resolution: LeanResolution;
  readonly dataType: LeanDataType;
  readonly exchange: string;
  /** The symbol of every row; for futures the root (`ES`), each contract entry getting its own symbol. */
  readonly symbol: string;
  /** The file's date in its data time zone. */
  readonly y: number;
  readonly mo: number;
  readonly d: number;
  /** Data time zone (`America/New_York` or `UTC`). */
  readonly zone: string;
  /** Decimal places of the integer prices (4: equity deci-cents; 0: plain decimals). */
  readonly priceScale: number;
  /** Bar length, µs (0 for ticks and open interest). */
  readonly intervalUs: number;
}

const ZIP_RE = /^(\d{4})(\d{2})(\d{2})_(trade|quote|openinterest)\.zip$/;
const CONTRACT_RE = /_(\d{4})(\d{2})\.csv$/;
const MS_PER_DAY = 86_400_000;
const CLASSES: readonly LeanAssetClass[] = ["equity", "future", "crypto", "cryptofuture"];
const RESOLUTION_US: Readonly<Record<LeanResolution, number>> = {
  tick: 0,
  second: 1_000_000,
  minute: 60_000_000,
};

/** Lean market + ticker → (exchange, symbol) of non-future classes (see the module doc). */
export function leanSymbol(
  assetClass: Exclude<LeanAssetClass, "future">,
  market: string,
  ticker: string,
): { exchange: string; symbol: string } {
  const m = market.toLowerCase();
  if (assetClass === "cryptofuture") return leanFundingSymbol(m, ticker);
  if (assetClass === "crypto" && m === "bybit")
    return { exchange: "bybit-spot", symbol: ticker.toUpperCase() };
  return { exchange: m, symbol: ticker.toUpperCase() };
}

/** Recognises `…/<class>/<market>/<tick|second|minute>/<sym>/<YYYYMMDD>_<trade|quote|openinterest>.zip`. */
function fromName(path: string, opts: AdapterOptions): LeanZipFile | null {
  const m = ZIP_RE.exec(basename(path));
  if (m === null) return null;
  const up = (n: number) => {
    let p = path;
    for (let i = 0; i < n; i++) p = dirname(p);
    return basename(p);
  };
  const ticker = up(1);
  const resolution = up(2);
  const market = up(3);
  const assetClass = up(4) as LeanAssetClass;
  if (!CLASSES.includes(assetClass)) return null;
  const dataType = m[4] as LeanDataType;
  const fail = (why: string) => new IngestError({ file: path, line: 1, field: "format" }, why);
  if (resolution !== "tick" && resolution !== "second" && resolution !== "minute")
    throw fail(`unsupported Lean resolution '${resolution}' (tick, second or minute zips)`);
  if (dataType === "openinterest" && assetClass !== "future")
    throw fail("open-interest zips are read for futures only");
  let exchange: string;
  let symbol: string;
  if (assetClass === "future") {
    if (opts.symbol !== undefined)
      throw fail(
        "a Lean futures zip holds one CSV per contract: symbols come from its entries (do not give --symbol)",
      );
    exchange = market.toLowerCase();
    symbol = ticker.toUpperCase();
  } else {
    ({ exchange, symbol } = leanSymbol(assetClass, market, ticker));
    symbol = opts.symbol ?? symbol;
  }
  return {
    kind: "lean",
    assetClass,
    market: market.toLowerCase(),
    resolution,
    dataType,
    exchange: opts.exchange ?? exchange,
    symbol,
    y: Number(m[1]),
    mo: Number(m[2]),
    d: Number(m[3]),
    zone: assetClass === "equity" ? NEW_YORK : UTC,
    priceScale: assetClass === "equity" ? 4 : 0,
    intervalUs: dataType === "openinterest" ? 0 : RESOLUTION_US[resolution],
  };
}

/** Every CSV entry of the zip in name order, as text (none for a 0-byte file). @throws IngestError if not a zip. */
function zipEntries(path: string): { name: string; text: string }[] {
  if (statSync(path).size === 0) return [];
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(new Uint8Array(readFileSync(path)));
  } catch (e) {
    throw new IngestError(
      { file: path, line: 1, field: "zip" },
      `not a readable zip (Lean data): ${e instanceof Error ? e.message : String(e)}`,
    );
  }
  const dec = new TextDecoder();
  return Object.keys(files)
    .filter((n) => n.toLowerCase().endsWith(".csv"))
    .sort()
    .map((name) => ({ name, text: dec.decode(files[name]!) }));
}

/** One line of a zip: its consecutive number, its symbol (null: a futures entry without a contract month). */
interface ZipLine {
  readonly line: number;
  readonly symbol: string | null;
  /** Futures: the entry's contract month. */
  readonly contract: { readonly y: number; readonly mo: number } | null;
  readonly text: string;
}

/** Contract month `YYYYMM` of a futures entry name, or null. */
function contractOf(name: string): { y: number; mo: number } | null {
  const m = CONTRACT_RE.exec(name);
  return m === null ? null : { y: Number(m[1]), mo: Number(m[2]) };
}

function zipLines(path: string, file: LeanZipFile): ZipLine[] {
  const out: ZipLine[] = [];
  let line = 0;
  for (const e of zipEntries(path)) {
    let symbol: string | null = file.symbol;
    const contract = file.assetClass === "future" ? contractOf(e.name) : null;
    if (file.assetClass === "future")
      symbol = contract === null ? null : futuresSymbol(file.symbol, contract.y, contract.mo);
    const lines = e.text.split(/\r?\n/);
    if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
    for (const text of lines) out.push({ line: ++line, symbol, contract, text });
  }
  return out;
}

/** The registry annotation of a symbol of this file. */
function annotation(file: LeanZipFile, symbol: string, entryContract: { y: number; mo: number } | null) {
  if (file.assetClass === "future" && entryContract !== null) {
    return {
      asset_type: "future" as AssetType,
      base: file.symbol,
      quote: "USD",
      contract_month: `${entryContract.y}${String(entryContract.mo).padStart(2, "0")}`,
      expiry_us: contractExpiryUs(file.symbol, entryContract.y, entryContract.mo),
    };
  }
  if (file.assetClass === "equity") return { asset_type: "equity" as AssetType, base: symbol, quote: "USD" };
  return { asset_type: (file.assetClass === "crypto" ? "spot" : "perpetual") as AssetType };
}

/**
 * An integer count of 10^-scale units as a decimal string (`1815200`, 4 → `181.5200`), or null when the
 * text is not all digits. No float round trip.
 */
export function scaledDecimal(s: string, scale: number): string | null {
  if (scale === 0) return s;
  if (!/^\d+$/.test(s)) return null;
  const p = s.padStart(scale + 1, "0");
  return `${p.slice(0, p.length - scale)}.${p.slice(p.length - scale)}`;
}

/** Expected fields per shape. */
function layoutOf(file: LeanZipFile): { table: TableName; fields: number; names: string } {
  if (file.dataType === "openinterest")
    return { table: "open_interest", fields: 2, names: "time,open_interest" };
  if (file.resolution === "tick") {
    return file.dataType === "trade"
      ? { table: "trades", fields: 6, names: "time,price,size,exchange,sale_condition,suspicious" }
      : {
          table: "quotes",
          fields: 8,
          names: "time,bid_price,bid_size,ask_price,ask_size,exchange,condition,suspicious",
        };
  }
  return file.dataType === "trade"
    ? { table: "ohlcv_bars", fields: 6, names: "time,open,high,low,close,volume" }
    : {
        table: "quote_bars",
        fields: 11,
        names:
          "time,bid_open,bid_high,bid_low,bid_close,bid_size,ask_open,ask_high,ask_low,ask_close,ask_size",
      };
}

/** Which fields are prices / sizes (indexes) per table. */
const PRICE_FIELDS: Readonly<Partial<Record<TableName, readonly number[]>>> = {
  trades: [1],
  quotes: [1, 3],
  ohlcv_bars: [1, 2, 3, 4],
  quote_bars: [1, 2, 3, 4, 6, 7, 8, 9],
};
const SIZE_FIELDS: Readonly<Partial<Record<TableName, readonly number[]>>> = {
  trades: [2],
  quotes: [2, 4],
  ohlcv_bars: [5],
  quote_bars: [5, 10],
};

/** `time` field → ms of day, or NaN when it is not an integer ms within the day. */
function msOfDay(s: string): number {
  if (!/^\d+$/.test(s)) return Number.NaN;
  const ms = Number(s);
  return ms < MS_PER_DAY ? ms : Number.NaN;
}

async function scanLeanZip(path: string, file: LeanZipFile, scanner: DecimalScanner): Promise<void> {
  const { table, fields } = layoutOf(file);
  const clock = new DayClock(file.zone, file.y, file.mo, file.d);
  for (const z of zipLines(path, file)) {
    if (z.symbol === null) continue;
    const f = z.text.split(",");
    const ms = msOfDay(f[0] ?? "");
    if (Number.isNaN(ms)) continue;
    const o = scanner.observe(file.exchange, z.symbol, clock.utcMs(ms) * US_PER_MS + file.intervalUs);
    if (f.length !== fields) continue;
    for (const k of PRICE_FIELDS[table] ?? []) {
      const s = f[k]!;
      if (s !== "" && s !== "0") scanner.price(o, scaledDecimal(s, file.priceScale));
    }
    for (const k of SIZE_FIELDS[table] ?? []) scanner.amount(o, f[k]);
  }
}

/** Last L1 side values per symbol (tick quotes carry one side). */
interface QuoteCarry {
  bidPx: number;
  bidQty: number;
  askPx: number;
  askQty: number;
}

const BAR_NAMES = ["open", "high", "low", "close"] as const;

async function ingestLeanZip(path: string, file: LeanZipFile, fi: FileIngest): Promise<void> {
  const { table, fields, names } = layoutOf(file);
  const lines = zipLines(path, file);
  const clock = new DayClock(file.zone, file.y, file.mo, file.d);
  const dec = new FixedDecoder();
  const isBar = table === "ohlcv_bars" || table === "quote_bars";
  // validate and time-stamp every line, then write in time order (futures contracts interleave)
  const good: { ts: number; z: ZipLine; f: string[] }[] = [];
  for (const z of lines) {
    if (z.text.trim() === "") {
      fi.noRow("blank");
      continue;
    }
    if (z.symbol === null) {
      fi.reject(table, z.line, "entry", "zip entry name has no _<YYYYMM>.csv contract month", z.text);
      continue;
    }
    const f = z.text.split(",").map((x) => x.trim());
    if (f.length !== fields) {
      fi.reject(
        table,
        z.line,
        "fields",
        `expected ${fields} comma-separated fields (${names}), got ${f.length}`,
        z.text,
      );
      continue;
    }
    const ms = msOfDay(f[0]!);
    if (Number.isNaN(ms)) {
      fi.reject(table, z.line, "time", `'${f[0]}' is not integer milliseconds within the day`, z.text);
      continue;
    }
    if (file.resolution === "tick" && table !== "open_interest" && f[fields - 1] === "1") {
      fi.noRow("suspicious");
      continue;
    }
    good.push({ ts: clock.utcMs(ms) * US_PER_MS + (isBar ? file.intervalUs : 0), z, f });
  }
  good.sort((a, b) => a.ts - b.ts || a.z.line - b.z.line);
  const annotated = new Set<string>();
  const carry = new Map<string, QuoteCarry>();
  /** Decodes field `k` as a price (NaN: rejected). */
  const price = (sink: SymbolSink, z: ZipLine, f: string[], k: number, name: string): number => {
    const s = scaledDecimal(f[k]!, file.priceScale);
    if (s === null) {
      fi.reject(table, z.line, name, `'${f[k]}' is not an integer number of deci-cents`, z.text);
      return Number.NaN;
    }
    return fi.decodeOrReject(dec, table, z.line, name, s, sink.px, z.text);
  };
  const size = (sink: SymbolSink, z: ZipLine, f: string[], k: number, name: string): number =>
    fi.decodeOrReject(dec, table, z.line, name, f[k]!, sink.qty, z.text);

  for (const { ts, z, f } of good) {
    const symbol = z.symbol!;
    const sink = fi.sink(file.exchange, symbol);
    if (!annotated.has(symbol)) {
      annotated.add(symbol);
      fi.annotateSymbol(file.exchange, symbol, annotation(file, symbol, z.contract));
    }
    if (table === "trades") {
      const px = price(sink, z, f, 1, "price");
      if (Number.isNaN(px)) continue;
      if (px === 0) {
        fi.reject(table, z.line, "price", "trade price is 0", z.text);
        continue;
      }
      const qty = size(sink, z, f, 2, "size");
      if (Number.isNaN(qty) || !fi.checkTime(table, ts, z.line, z.text)) continue;
      const i = sink.row(table, ts, ts, z.line);
      const b = sink.buffer(table);
      b.str("trade_id").data[i] = null;
      b.i8("side").data[i] = SIDE_UNKNOWN;
      b.num("px_int").data[i] = px;
      b.num("qty_int").data[i] = qty;
    } else if (table === "quotes") {
      const bp = price(sink, z, f, 1, "bid_price");
      if (Number.isNaN(bp)) continue;
      const bq = size(sink, z, f, 2, "bid_size");
      if (Number.isNaN(bq)) continue;
      const ap = price(sink, z, f, 3, "ask_price");
      if (Number.isNaN(ap)) continue;
      const aq = size(sink, z, f, 4, "ask_size");
      if (Number.isNaN(aq)) continue;
      if (bp === 0 && ap === 0) {
        fi.reject(table, z.line, "bid_price", "quote tick carries neither a bid nor an ask price", z.text);
        continue;
      }
      if (!fi.checkTime(table, ts, z.line, z.text)) continue;
      let c = carry.get(symbol);
      if (c === undefined) {
        c = { bidPx: Number.NaN, bidQty: Number.NaN, askPx: Number.NaN, askQty: Number.NaN };
        carry.set(symbol, c);
      }
      if (bp !== 0) {
        c.bidPx = bp;
        c.bidQty = bq;
      }
      if (ap !== 0) {
        c.askPx = ap;
        c.askQty = aq;
      }
      const i = sink.row(table, ts, ts, z.line);
      const b = sink.buffer(table);
      b.num("update_id").data[i] = Number.NaN;
      b.num("bid_px_int").data[i] = c.bidPx;
      b.num("bid_qty_int").data[i] = c.bidQty;
      b.num("ask_px_int").data[i] = c.askPx;
      b.num("ask_qty_int").data[i] = c.askQty;
    } else if (table === "ohlcv_bars") {
      const v: number[] = [];
      for (let k = 1; k <= 4; k++) {
        const x = price(sink, z, f, k, BAR_NAMES[k - 1]!);
        if (Number.isNaN(x)) break;
        v.push(x);
      }
      if (v.length < 4) continue;
      const vol = size(sink, z, f, 5, "volume");
      if (Number.isNaN(vol)) continue;
      const bad = ohlcViolation(v, f, 1);
      if (bad !== null) {
        fi.reject(table, z.line, bad.field, bad.reason, z.text);
        continue;
      }
      if (!fi.checkTime(table, ts, z.line, z.text)) continue;
      const i = sink.row(table, ts, ts, z.line);
      new BarColumns(sink.buffer(table)).set(
        i,
        ts - file.intervalUs,
        file.intervalUs,
        v[0]!,
        v[1]!,
        v[2]!,
        v[3]!,
        vol,
      );
    } else if (table === "quote_bars") {
      const sides: (number[] | null)[] = [];
      let ok = true;
      for (const [side, at] of [
        ["bid", 1],
        ["ask", 6],
      ] as const) {
        const empty = [0, 1, 2, 3].filter((k) => f[at + k] === "").length;
        if (empty === 4) {
          sides.push(null);
          continue;
        }
        if (empty > 0) {
          fi.reject(table, z.line, `${side}_open`, `${side} prices are partly empty`, z.text);
          ok = false;
          break;
        }
        const v: number[] = [];
        for (let k = 0; k < 4; k++) {
          const x = price(sink, z, f, at + k, `${side}_${BAR_NAMES[k]}`);
          if (Number.isNaN(x)) break;
          v.push(x);
        }
        if (v.length < 4) {
          ok = false;
          break;
        }
        const q = size(sink, z, f, at + 4, `${side}_size`);
        if (Number.isNaN(q)) {
          ok = false;
          break;
        }
        const bad = ohlcViolation(v, f, at);
        if (bad !== null) {
          fi.reject(table, z.line, `${side}_${bad.field}`, bad.reason, z.text);
          ok = false;
          break;
        }
        v.push(q);
        sides.push(v);
      }
      if (!ok || !fi.checkTime(table, ts, z.line, z.text)) continue;
      const i = sink.row(table, ts, ts, z.line);
      const b = sink.buffer(table);
      b.num("bar_start_us").data[i] = ts - file.intervalUs;
      b.num("interval_us").data[i] = file.intervalUs;
      const cols = ["open_px_int", "high_px_int", "low_px_int", "close_px_int", "qty_int"];
      for (const [s, side] of [
        [0, "bid"],
        [1, "ask"],
      ] as const) {
        const v = sides[s] ?? null;
        for (let k = 0; k < 5; k++) b.num(`${side}_${cols[k]}`).data[i] = v === null ? Number.NaN : v[k]!;
      }
    } else {
      const s = f[1]!;
      if (!DECIMAL_RE.test(s) || !Number.isSafeInteger(Number(s)) || Number(s) < 0) {
        fi.reject(
          table,
          z.line,
          "open_interest",
          `'${s}' is not a non-negative integer number of contracts`,
          z.text,
        );
        continue;
      }
      if (!fi.checkTime(table, ts, z.line, z.text)) continue;
      const i = sink.row(table, ts, ts, z.line);
      const b = sink.buffer(table);
      b.num("open_interest").data[i] = Number(s);
      b.num("open_interest_value").data[i] = Number.NaN;
    }
    fi.flush();
  }
  fi.report.lines_read = lines.length;
}

/** OHLC sanity of [open, high, low, close] (fields at `at`…`at+3` of `f` for messages), or null (../bars.ts). */
function ohlcViolation(v: number[], f: string[], at: number): { field: string; reason: string } | null {
  const field = ohlcInconsistency(v[0]!, v[1]!, v[2]!, v[3]!);
  return field === null
    ? null
    : { field, reason: ohlcReason(field, f[at]!, f[at + 1]!, f[at + 2]!, f[at + 3]!) };
}

/** The `lean` format: Lean equity/future/crypto/cryptofuture data zips (see the module doc). */
export const leanZip: FileFormat<LeanZipFile> = {
  kind: "lean",
  accepted:
    "a Lean data zip at …/<equity|future|crypto|cryptofuture>/<market>/<tick|second|minute>/<symbol>/<YYYYMMDD>_<trade|quote|openinterest>.zip",
  fromName,
  scan: scanLeanZip,
  ingest: ingestLeanZip,
};
