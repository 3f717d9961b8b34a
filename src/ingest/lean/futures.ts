/**
 * QuantConnect Lean futures zips → `ohlcv_bars` (trade bars) and `open_interest`: formats `lean-future-bars`
 * and `lean-openinterest` of the `binance-vision` adapter (its dispatcher of vendor files).
 *
 * Source: Lean data format (QuantConnect/Lean `Data/future/<market>/<resolution>/<root>/`, shared/data
 * PROVENANCE.md §4): `<YYYYMMDD>_trade.zip` and `<YYYYMMDD>_openinterest.zip`, each holding one header-less
 * CSV per listed contract, named `<YYYYMMDD>_<root>_<resolution>_<trade|openinterest>_<YYYYMM>.csv`
 * (YYYYMM = the contract's expiry month). Zips are read with `fflate` (`unzipSync`).
 * - Trade bars (`minute` or `second`): `time,open,high,low,close,volume`.
 * - Open interest: `time,open_interest`.
 * `time` is **milliseconds since midnight of the file's date in the exchange time zone** (America/New_York
 * for CME/COMEX/NYMEX/CBOT/ICE US markets, as Lean's market-hours database lists them); it is converted to
 * UTC with that zone's offset at the wall-clock time (`Intl`, DST included). Prices are plain decimals
 * (futures are not scaled like Lean equities); volume and open interest are contracts.
 *
 * Rows: exchange = the Lean market (`cme`); symbol = root + CME month code + 2-digit year (`ESZ13` for
 * the ES contract expiring 2013-12). `opts.exchange` overrides the exchange (a zip holds several
 * contracts, so `opts.symbol` is refused).
 * - Trade bars → `ohlcv_bars`, stamped at their **end** (PIT, as klines.ts): `bar_start_us` = time,
 *   `interval_us` = 60 s (minute) or 1 s (second), `ts_local_us = ts_exch_us` = start + interval; quote
 *   volume, trade count and taker-buy columns are null.
 * - Open interest → `open_interest` at `time` (`ts_local_us = ts_exch_us`: the time Lean recorded the
 *   value), `open_interest` = contracts, `open_interest_value` null.
 *
 * Line numbers: the zip's CSVs are read in name order and numbered consecutively (the first line of the
 * second CSV follows the last line of the first); `lines_read` counts every line of every CSV. Rows of the
 * different contracts are written in time order (stable by line), so per-file time order holds.
 *
 * Rejections (quarantined): wrong field count; a time that is not an integer ms in [0, 1 day); a price or
 * volume that is not a non-negative decimal representable at the increment; `high < max(open, close,
 * low)`, `low > min(open, close)`; an open interest that is not a non-negative integer. Blank lines carry no
 * row (`blank`).
 *
 * @throws IngestError (line 1, field `zip`) for a file that is not a readable zip; (field `format`) from
 *   `fromName` when `opts.symbol` is given or the resolution is not minute/second.
 */

import { readFileSync } from "node:fs";
import { basename, dirname } from "node:path";
import { unzipSync } from "fflate";
import { IngestError } from "../../core/errors.js";
import { FixedDecoder } from "../../core/fixed.js";
import { US_PER_MS } from "../../core/time.js";
import type { AdapterOptions, FileFormat } from "../adapter.js";
import { BarColumns, ohlcInconsistency, ohlcReason } from "../bars.js";
import type { DecimalScanner, FileIngest } from "../session.js";
import { DECIMAL_RE } from "../vendor/shared.js";

/** A Lean futures zip: what it holds, its exchange, its date and (bars) the bar length. */
export interface LeanFuturesFile {
  readonly kind: "lean-future-bars" | "lean-openinterest";
  readonly exchange: string;
  /** Every contract of the zip goes to its own symbol; this is the root, e.g. `ES`. */
  readonly symbol: string;
  /** The file's date (exchange time zone). */
  readonly y: number;
  readonly mo: number;
  readonly d: number;
  /** Bar length, µs (trade bars only; 0 for open interest). */
  readonly intervalUs: number;
}

const ZIP_RE = /^(\d{4})(\d{2})(\d{2})_(trade|openinterest)\.zip$/;
const ENTRY_RE = /_(\d{4})(\d{2})\.csv$/;
const MONTH_CODES = "FGHJKMNQUVXZ";
const MS_PER_DAY = 86_400_000;
const EXCHANGE_TZ = "America/New_York";

/** `ES`, 2013, 12 → `ESZ13` (CME month code, 2-digit year). */
export function futuresSymbol(root: string, year: number, month: number): string {
  return `${root.toUpperCase()}${MONTH_CODES[month - 1]}${String(year % 100).padStart(2, "0")}`;
}

const offsetFormat = new Intl.DateTimeFormat("en-US", { timeZone: EXCHANGE_TZ, timeZoneName: "longOffset" });

/** Offset of the exchange time zone from UTC at UTC instant `ms`, in ms (e.g. −4 h in summer). */
function zoneOffsetMs(ms: number): number {
  const part =
    offsetFormat.formatToParts(new Date(ms)).find((p) => p.type === "timeZoneName")?.value ?? "GMT";
  const m = /GMT([+-])(\d{2}):(\d{2})/.exec(part);
  if (m === null) return 0;
  const v = (Number(m[2]) * 60 + Number(m[3])) * 60_000;
  return m[1] === "-" ? -v : v;
}

/**
 * UTC ms of the wall-clock time `msOfDay` after midnight of (y, mo, d) in America/New_York. Wall times
 * in a DST gap map forward by the gap; ambiguous ones take the earlier (daylight) instant.
 */
export function exchangeWallClockToUtcMs(y: number, mo: number, d: number, msOfDay: number): number {
  const wall = Date.UTC(y, mo - 1, d) + msOfDay;
  let utc = wall - zoneOffsetMs(wall);
  utc = wall - zoneOffsetMs(utc);
  return utc;
}

/** Every CSV of the zip in name order, as text. @throws IngestError if it is not a zip. */
function zipEntries(path: string): { name: string; text: string }[] {
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(new Uint8Array(readFileSync(path)));
  } catch (e) {
    throw new IngestError(
      { file: path, line: 1, field: "zip" },
      `not a readable zip (Lean futures data): ${e instanceof Error ? e.message : String(e)}`,
    );
  }
  const dec = new TextDecoder();
  return Object.keys(files)
    .filter((n) => n.toLowerCase().endsWith(".csv"))
    .sort()
    .map((name) => ({ name, text: dec.decode(files[name]!) }));
}

/** One line of a zip: its consecutive number, its contract's symbol and its text. */
interface ZipLine {
  readonly line: number;
  readonly symbol: string | null;
  readonly text: string;
}

function zipLines(path: string, file: LeanFuturesFile): ZipLine[] {
  const out: ZipLine[] = [];
  let line = 0;
  for (const e of zipEntries(path)) {
    const m = ENTRY_RE.exec(e.name);
    const symbol = m === null ? null : futuresSymbol(file.symbol, Number(m[1]), Number(m[2]));
    const lines = e.text.split(/\r?\n/);
    if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
    for (const text of lines) out.push({ line: ++line, symbol, text });
  }
  return out;
}

/** `time` field → UTC µs, or NaN when it is not an integer ms within the day. */
function timeUs(file: LeanFuturesFile, s: string): number {
  if (!/^\d+$/.test(s)) return Number.NaN;
  const ms = Number(s);
  if (!(ms < MS_PER_DAY)) return Number.NaN;
  return exchangeWallClockToUtcMs(file.y, file.mo, file.d, ms) * US_PER_MS;
}

async function scanLean(path: string, file: LeanFuturesFile, scanner: DecimalScanner): Promise<void> {
  for (const z of zipLines(path, file)) {
    if (z.symbol === null) continue;
    const f = z.text.split(",");
    const ts = timeUs(file, f[0] ?? "");
    if (Number.isNaN(ts)) continue;
    const o = scanner.observe(file.exchange, z.symbol, ts + file.intervalUs);
    if (file.kind !== "lean-future-bars" || f.length !== 6) continue;
    for (let k = 1; k <= 4; k++) scanner.price(o, f[k]);
    scanner.amount(o, f[5]);
  }
}

async function ingestLean(path: string, file: LeanFuturesFile, fi: FileIngest): Promise<void> {
  const bars = file.kind === "lean-future-bars";
  const table = bars ? "ohlcv_bars" : "open_interest";
  const nFields = bars ? 6 : 2;
  const lines = zipLines(path, file);
  const dec = new FixedDecoder();
  // validate and time-stamp every line, then write in time order (contracts interleave)
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
    if (f.length !== nFields) {
      fi.reject(
        table,
        z.line,
        "fields",
        `expected ${nFields} comma-separated fields (${bars ? "time,open,high,low,close,volume" : "time,open_interest"}), got ${f.length}`,
        z.text,
      );
      continue;
    }
    const ts = timeUs(file, f[0]!);
    if (Number.isNaN(ts)) {
      fi.reject(table, z.line, "time", `'${f[0]}' is not integer milliseconds within the day`, z.text);
      continue;
    }
    good.push({ ts: bars ? ts + file.intervalUs : ts, z, f });
  }
  good.sort((a, b) => a.ts - b.ts || a.z.line - b.z.line);
  for (const { ts, z, f } of good) {
    const sink = fi.sink(file.exchange, z.symbol!);
    if (bars) {
      const ints: number[] = [];
      const names = ["open", "high", "low", "close", "volume"];
      let ok = true;
      for (let k = 1; k <= 5; k++) {
        const v = fi.decodeOrReject(
          dec,
          table,
          z.line,
          names[k - 1]!,
          f[k]!,
          k === 5 ? sink.qty : sink.px,
          z.text,
        );
        if (Number.isNaN(v)) {
          ok = false;
          break;
        }
        ints.push(v);
      }
      if (!ok) continue;
      const [o, h, l, c, v] = ints as [number, number, number, number, number];
      const bad = ohlcInconsistency(o, h, l, c);
      if (bad !== null) {
        fi.reject(table, z.line, bad, ohlcReason(bad, f[1]!, f[2]!, f[3]!, f[4]!), z.text);
        continue;
      }
      if (!fi.checkTime(table, ts, z.line, z.text)) continue;
      const i = sink.row(table, ts, ts, z.line);
      new BarColumns(sink.buffer(table)).set(i, ts - file.intervalUs, file.intervalUs, o, h, l, c, v);
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

const RESOLUTION_US: Readonly<Record<string, number>> = { minute: 60_000_000, second: 1_000_000 };

/** Recognises `…/future/<market>/<resolution>/<root>/<YYYYMMDD>_<trade|openinterest>.zip`. */
function fromName(kind: LeanFuturesFile["kind"]) {
  return (path: string, opts: AdapterOptions): LeanFuturesFile | null => {
    const m = ZIP_RE.exec(basename(path));
    if (m === null) return null;
    const isBars = m[4] === "trade";
    if (isBars !== (kind === "lean-future-bars")) return null;
    const root = basename(dirname(path));
    const resolution = basename(dirname(dirname(path)));
    const market = basename(dirname(dirname(dirname(path))));
    if (basename(dirname(dirname(dirname(dirname(path))))) !== "future") return null;
    if (opts.symbol !== undefined)
      throw new IngestError(
        { file: path, line: 1, field: "format" },
        "a Lean futures zip holds one CSV per contract: symbols come from its entries (do not give --symbol)",
      );
    const intervalUs = isBars ? RESOLUTION_US[resolution] : 0;
    if (intervalUs === undefined)
      throw new IngestError(
        { file: path, line: 1, field: "format" },
        `unsupported Lean futures resolution '${resolution}' (minute or second trade bars)`,
      );
    return {
      kind,
      exchange: opts.exchange ?? market.toLowerCase(),
      symbol: root.toUpperCase(),
      y: Number(m[1]),
      mo: Number(m[2]),
      d: Number(m[3]),
      intervalUs,
    };
  };
}

/** The `lean-future-bars` format: Lean futures minute/second trade-bar zips (see the module doc). */
export const leanFutureBars: FileFormat<LeanFuturesFile> = {
  kind: "lean-future-bars",
  accepted: "a Lean futures trade-bar zip at …/future/<market>/<minute|second>/<root>/<YYYYMMDD>_trade.zip",
  fromName: fromName("lean-future-bars"),
  scan: scanLean,
  ingest: ingestLean,
};

/** The `lean-openinterest` format: Lean futures open-interest zips (see the module doc). */
export const leanOpenInterest: FileFormat<LeanFuturesFile> = {
  kind: "lean-openinterest",
  accepted:
    "a Lean futures open-interest zip at …/future/<market>/<resolution>/<root>/<YYYYMMDD>_openinterest.zip",
  fromName: fromName("lean-openinterest"),
  scan: scanLean,
  ingest: ingestLean,
};
