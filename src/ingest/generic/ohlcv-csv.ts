/**
 * Generic 1-minute OHLCV CSV → `ohlcv_bars` (format `ohlcv-1m` of the `binance-vision` adapter, which
 * takes vendor bar files that are not raw captures).
 *
 * Shape: a header `timestamp,open,high,low,close,volume` (case-insensitive, optional byte-order mark)
 * and one bar per line, e.g. nautilus_trader's `btc-perp-20211231-20220201_1m.csv.gz`:
 * `2021-12-31 23:01:00.000000,46319.0,46385.0,46319.0,46377.0,2300413.7295`. `timestamp` is the bar's
 * **open** (UTC): ISO-8601 with a space or `T` (zone optional, default UTC; fractional seconds allowed)
 * or an epoch integer in s, ms, µs or ns (by digit count). The bars are 1 minute long; `volume` is in base
 * units. The file names neither exchange nor symbol: both must be given (`--exchange`, `--symbol`).
 *
 * PIT rule (as for klines, binance-vision/klines.ts): a bar is knowable at its close, so the row is
 * stamped `ts_local_us = ts_exch_us = bar_start_us + 60 s`; `interval_us` = 60,000,000. Prices and volume
 * are fixed-point at the symbol's increments (decoded from the decimal strings, increments inferred in
 * pass 1); `quote_volume`, `trade_count`, `taker_buy_qty_int` and `taker_buy_quote_volume` are null.
 *
 * Rejections (quarantined with file, line, field and reason): a wrong field count; a timestamp that is
 * neither ISO-8601 nor an epoch, or not on a whole UTC minute; a price or volume that is not a
 * non-negative decimal representable at the increment; `high < max(open, close, low)`;
 * `low > min(open, close)`; a timestamp that goes backwards. Blank and header lines carry no row.
 *
 * @throws IngestError (file, line 1, field `exchange` / `symbol`) when the exchange or symbol is not given.
 */

import { IngestError } from "../../core/errors.js";
import { FixedDecoder } from "../../core/fixed.js";
import { parseEpochToUs, toUs, US_PER_MINUTE } from "../../core/time.js";
import type { AdapterOptions, FileFormat } from "../adapter.js";
import { BarColumns, ohlcInconsistency, ohlcReason } from "../bars.js";
import { readLines } from "../lines.js";
import type { DecimalScanner, FileIngest, SymbolSink } from "../session.js";
import { stripBom } from "../vendor/shared.js";

/** A generic 1m OHLCV file: where its bars go. */
export interface Ohlcv1mFile {
  readonly kind: "ohlcv-1m";
  readonly exchange: string;
  readonly symbol: string;
}

const FIELDS = ["timestamp", "open", "high", "low", "close", "volume"] as const;
const HEADER_RE = /^\uFEFF?\s*timestamp\s*,\s*open\s*,\s*high\s*,\s*low\s*,\s*close\s*,\s*volume\s*$/i;

/** True for the header line `timestamp,open,high,low,close,volume`. */
export function isOhlcvHeader(line: string): boolean {
  return HEADER_RE.test(line);
}

/** Bar open (µs) of a timestamp field, or NaN when it is neither ISO-8601 nor an epoch integer. */
export function parseBarTimestamp(s: string): number {
  const t = s.trim();
  if (/^\d+$/.test(t)) return parseEpochToUs(t);
  if (!/^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}/.test(t)) return Number.NaN;
  try {
    return toUs(t.replace(" ", "T"));
  } catch {
    return Number.NaN;
  }
}

/** True when `line` is a 6-field row whose first field is a timestamp (content recognition). */
function looksLikeRow(line: string): boolean {
  const f = line.split(",");
  return f.length === FIELDS.length && !Number.isNaN(parseBarTimestamp(f[0]!));
}

async function scan(path: string, file: Ohlcv1mFile, scanner: DecimalScanner): Promise<void> {
  await readLines(path, (raw) => {
    const text = stripBom(raw);
    if (text.trim() === "" || isOhlcvHeader(text)) return;
    const f = text.split(",");
    if (f.length !== FIELDS.length) return;
    const open = parseBarTimestamp(f[0]!);
    if (Number.isNaN(open)) return;
    const o = scanner.observe(file.exchange, file.symbol, open + US_PER_MINUTE);
    for (let k = 1; k <= 4; k++) scanner.price(o, f[k]!.trim());
    scanner.amount(o, f[5]!.trim());
  });
}

async function ingest(path: string, file: Ohlcv1mFile, fi: FileIngest): Promise<void> {
  const table = "ohlcv_bars";
  const dec = new FixedDecoder();
  let sink: SymbolSink | null = null;
  let cols: BarColumns | null = null;
  const res = await readLines(path, (raw, line) => {
    const text = stripBom(raw);
    if (text.trim() === "") return fi.noRow("blank");
    if (isOhlcvHeader(text)) return fi.noRow("header");
    const f = text.split(",");
    if (f.length !== FIELDS.length)
      return fi.reject(
        table,
        line,
        "fields",
        `expected ${FIELDS.length} comma-separated fields (${FIELDS.join(",")}), got ${f.length}`,
        text,
      );
    const open = parseBarTimestamp(f[0]!);
    if (Number.isNaN(open))
      return fi.reject(table, line, "timestamp", `'${f[0]}' is neither ISO-8601 nor an epoch time`, text);
    if (open % US_PER_MINUTE !== 0)
      return fi.reject(
        table,
        line,
        "timestamp",
        `'${f[0]}' is not on a whole UTC minute (1-minute bars open on the minute)`,
        text,
      );
    if (sink === null) sink = fi.sink(file.exchange, file.symbol);
    const px = sink.px;
    const qty = sink.qty;
    // field offsets within the line for the fixed-point decoder
    const starts: number[] = [];
    const ends: number[] = [];
    let s = 0;
    for (const part of f) {
      starts.push(s);
      ends.push(s + part.length);
      s += part.length + 1;
    }
    const fixed = (k: number, inc: typeof px): number =>
      fi.decodeOrReject(dec, table, line, FIELDS[k]!, text, inc, text, starts[k]!, ends[k]!);
    const o = fixed(1, px);
    if (Number.isNaN(o)) return;
    const h = fixed(2, px);
    if (Number.isNaN(h)) return;
    const l = fixed(3, px);
    if (Number.isNaN(l)) return;
    const c = fixed(4, px);
    if (Number.isNaN(c)) return;
    const v = fixed(5, qty);
    if (Number.isNaN(v)) return;
    const bad = ohlcInconsistency(o, h, l, c);
    if (bad !== null) return fi.reject(table, line, bad, ohlcReason(bad, f[1]!, f[2]!, f[3]!, f[4]!), text);
    const barEnd = open + US_PER_MINUTE;
    if (!fi.checkTime(table, barEnd, line, text)) return;
    const i = sink.row(table, barEnd, barEnd, line);
    if (cols === null) cols = new BarColumns(sink.buffer(table));
    cols.set(i, open, US_PER_MINUTE, o, h, l, c, v);
    fi.flush();
  });
  fi.report.lines_read = res.lines;
}

function target(path: string, opts: AdapterOptions & { readonly symbol: string }): Ohlcv1mFile {
  if (opts.exchange === undefined)
    throw new IngestError(
      { file: path, line: 1, field: "exchange" },
      "a generic 1-minute OHLCV CSV names no exchange: give --exchange",
    );
  return { kind: "ohlcv-1m", exchange: opts.exchange, symbol: opts.symbol };
}

/** The `ohlcv-1m` format (see the module doc). Recognised from its first data line (needs --symbol). */
export const genericOhlcv1m: FileFormat<Ohlcv1mFile> = {
  kind: "ohlcv-1m",
  accepted:
    "a generic 1-minute OHLCV CSV with header timestamp,open,high,low,close,volume (with --exchange and --symbol)",
  fromName: () => null,
  fromFirstLine(path, line, opts) {
    return looksLikeRow(line) ? target(path, opts) : null;
  },
  isHeader: isOhlcvHeader,
  scan,
  ingest,
};
