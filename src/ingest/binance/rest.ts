/**
 * Binance USDⓈ-M futures REST statistics saved as JSON → `open_interest` / `long_short_ratio` (format
 * `binance-rest` of the `binance-vision` adapter).
 *
 * Source: Binance USDⓈ-M Futures REST API, "Market Data" endpoints (developers.binance.com):
 * | endpoint (file name contains it) | record | table, column |
 * |---|---|---|
 * | `openInterestHist` | `{symbol, sumOpenInterest, sumOpenInterestValue, timestamp}` | `open_interest`: `open_interest`, `open_interest_value` |
 * | `topLongShortAccountRatio` | `{symbol, longShortRatio, longAccount, shortAccount, timestamp}` | `long_short_ratio.top_account_ratio` |
 * | `topLongShortPositionRatio` | same | `long_short_ratio.top_position_ratio` |
 * | `globalLongShortAccountRatio` | same | `long_short_ratio.global_account_ratio` |
 * | `takerlongshortRatio` | `{buySellRatio, buyVol, sellVol, timestamp}` | `long_short_ratio.taker_buy_sell_ratio` |
 * A file is the JSON array one request returns (or several concatenated into one array), plain or gzip,
 * named `<SYMBOL>-<endpoint>[-…].json`, e.g. `BTCUSDT-openInterestHist-5m.json`; `opts.symbol` names the
 * symbol when the name does not start with it. Exchange `binance-futures` unless `opts.exchange`.
 * Values are decimal strings (numbers are accepted too); `timestamp` is epoch ms (number or string).
 *
 * Rows are stamped `ts_local_us = ts_exch_us = timestamp` (µs; the statistic's time, no arrival time in
 * the file). A long/short row fills only its endpoint's column (the others null): the engine reads each
 * ratio as its own series (last non-null value). Records must be in time order (Binance returns them so).
 * Line numbers: the 1-based element index in the array (`lines_read` = elements).
 *
 * Rejections (quarantined): a record that is not an object; a missing or non-integer `timestamp`; a
 * record `symbol` other than the file's; a value that is missing or not a non-negative decimal; a time
 * going backwards.
 *
 * @throws IngestError (field `json`) for a file that does not parse or is not an array; (line 1, field
 *   `format`) from `fromName` when neither the name nor `opts.symbol` gives the symbol.
 */
import { basename } from "node:path";
import { IngestError } from "../../core/errors.js";
import { US_PER_MS } from "../../core/time.js";
import type { AdapterOptions, FileFormat } from "../adapter.js";
import { readJsonArray } from "../freqtrade/funding.js";
import type { DecimalScanner, FileIngest } from "../session.js";
import { DECIMAL_RE } from "../vendor/shared.js";

/** The REST endpoints this format reads. */
export const REST_ENDPOINTS = [
  "openInterestHist",
  "topLongShortAccountRatio",
  "topLongShortPositionRatio",
  "globalLongShortAccountRatio",
  "takerlongshortRatio",
] as const;
/** One of `REST_ENDPOINTS`. */
export type RestEndpoint = (typeof REST_ENDPOINTS)[number];

/** A REST dump: its endpoint and where its rows go. */
export interface RestFile {
  readonly kind: "binance-rest";
  readonly endpoint: RestEndpoint;
  readonly exchange: string;
  readonly symbol: string;
}

/** Per endpoint: the table, and for each source field the column it fills. */
const MAPPING: Readonly<
  Record<
    RestEndpoint,
    { table: "open_interest" | "long_short_ratio"; fields: Readonly<Record<string, string>> }
  >
> = {
  openInterestHist: {
    table: "open_interest",
    fields: { sumOpenInterest: "open_interest", sumOpenInterestValue: "open_interest_value" },
  },
  topLongShortAccountRatio: { table: "long_short_ratio", fields: { longShortRatio: "top_account_ratio" } },
  topLongShortPositionRatio: { table: "long_short_ratio", fields: { longShortRatio: "top_position_ratio" } },
  globalLongShortAccountRatio: {
    table: "long_short_ratio",
    fields: { longShortRatio: "global_account_ratio" },
  },
  takerlongshortRatio: { table: "long_short_ratio", fields: { buySellRatio: "taker_buy_sell_ratio" } },
};

/** Every column of the endpoint's table (the ones it does not fill are null). */
const TABLE_COLUMNS: Readonly<Record<"open_interest" | "long_short_ratio", readonly string[]>> = {
  open_interest: ["open_interest", "open_interest_value"],
  long_short_ratio: [
    "top_account_ratio",
    "top_position_ratio",
    "global_account_ratio",
    "taker_buy_sell_ratio",
  ],
};

/** `timestamp` (ms, number or integer string) → µs, or NaN. */
function timestampUs(v: unknown): number {
  const n = typeof v === "string" && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 1e11 || n >= 1e14) return Number.NaN;
  return n * US_PER_MS;
}

/** A non-negative decimal (string or number) → number, or NaN. */
function decimal(v: unknown): number {
  const s = typeof v === "number" ? String(v) : v;
  if (typeof s !== "string" || !DECIMAL_RE.test(s)) return Number.NaN;
  const x = Number(s);
  return x >= 0 && Number.isFinite(x) ? x : Number.NaN;
}

async function scanRest(path: string, file: RestFile, scanner: DecimalScanner): Promise<void> {
  for (const rec of await readJsonArray(path, "Binance REST JSON")) {
    if (typeof rec !== "object" || rec === null) continue;
    const ts = timestampUs((rec as Record<string, unknown>)["timestamp"]);
    if (!Number.isNaN(ts)) scanner.observe(file.exchange, file.symbol, ts);
  }
}

async function ingestRest(path: string, file: RestFile, fi: FileIngest): Promise<void> {
  const records = await readJsonArray(path, "Binance REST JSON");
  const map = MAPPING[file.endpoint];
  const table = map.table;
  const one = (rec: unknown, line: number) => {
    const raw = JSON.stringify(rec) ?? String(rec);
    if (typeof rec !== "object" || rec === null || Array.isArray(rec))
      return fi.reject(table, line, "record", `expected an object (${file.endpoint} record)`, raw);
    const r = rec as Record<string, unknown>;
    const ts = timestampUs(r["timestamp"]);
    if (Number.isNaN(ts))
      return fi.reject(
        table,
        line,
        "timestamp",
        `${JSON.stringify(r["timestamp"])} is not an epoch time in ms`,
        raw,
      );
    const sym = r["symbol"];
    if (sym !== undefined && (typeof sym !== "string" || sym.toUpperCase() !== file.symbol))
      return fi.reject(
        table,
        line,
        "symbol",
        `record symbol ${JSON.stringify(sym)} is not the file's ${file.symbol}`,
        raw,
      );
    const values = new Map<string, number>();
    for (const [field, column] of Object.entries(map.fields)) {
      const x = decimal(r[field]);
      if (Number.isNaN(x))
        return fi.reject(
          table,
          line,
          field,
          `${JSON.stringify(r[field])} is not a non-negative decimal`,
          raw,
        );
      values.set(column, x);
    }
    if (!fi.checkTime(table, ts, line, raw)) return;
    const sink = fi.sink(file.exchange, file.symbol);
    const i = sink.row(table, ts, ts, line);
    const b = sink.buffer(table);
    for (const c of TABLE_COLUMNS[table]) b.num(c).data[i] = values.get(c) ?? Number.NaN;
    fi.flush();
  };
  for (let idx = 0; idx < records.length; idx++) one(records[idx], idx + 1);
  fi.report.lines_read = records.length;
}

/** The `binance-rest` format (see the module doc). */
export const binanceRestStats: FileFormat<RestFile> = {
  kind: "binance-rest",
  accepted: `a Binance futures REST JSON dump named <SYMBOL>-<endpoint>[-…].json (endpoint: ${REST_ENDPOINTS.join(", ")})`,
  fromName(path: string, opts: AdapterOptions): RestFile | null {
    const name = basename(path);
    if (!/\.json(?:\.gz)?$/i.test(name)) return null;
    const endpoint = REST_ENDPOINTS.find((e) => new RegExp(`(^|[-_.])${e}([-_.]|$)`).test(name));
    if (endpoint === undefined) return null;
    const prefix = /^([A-Za-z0-9]+)-/.exec(name)?.[1];
    const symbol =
      opts.symbol ?? (prefix !== undefined && prefix !== endpoint ? prefix.toUpperCase() : undefined);
    if (symbol === undefined)
      throw new IngestError(
        { file: path, line: 1, field: "format" },
        `Binance REST file '${name}' does not start with <SYMBOL>-: give --symbol`,
      );
    return { kind: "binance-rest", endpoint, exchange: opts.exchange ?? "binance-futures", symbol };
  },
  scan: scanRest,
  ingest: ingestRest,
};
