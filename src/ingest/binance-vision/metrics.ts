/**
 * Binance public-data futures `metrics` CSV → `open_interest` and `long_short_ratio` (format `metrics`
 * of the `binance-vision` adapter).
 *
 * Source: https://github.com/binance/binance-public-data (data.binance.vision
 * `data/futures/um/daily/metrics/<SYMBOL>/<SYMBOL>-metrics-<YYYY-MM-DD>.zip`, unzipped; plain or gzip).
 * One row per 5 minutes, with a header:
 * `create_time,symbol,sum_open_interest,sum_open_interest_value,count_toptrader_long_short_ratio,
 * sum_toptrader_long_short_ratio,count_long_short_ratio,sum_taker_long_short_vol_ratio`, e.g.
 * `2024-01-01 00:05:00,BTCUSDT,71208.123,3012345678.9,1.2345,1.1111,1.3333,0.9876`. `create_time` is UTC
 * (`YYYY-MM-DD HH:MM:SS`). Name: `<SYMBOL>-metrics-<YYYY-MM-DD>.csv[.gz]`; exchange `binance-futures`
 * (`binance-delivery` under `/futures/cm/`), symbol from the name; `opts.exchange` / `opts.symbol`
 * override.
 *
 * Mapping (both rows stamped `ts_local_us = ts_exch_us = create_time`, µs; the file carries no arrival
 * time, so a value counts as known at the time it describes):
 * - `open_interest`: `open_interest` = sum_open_interest (base units for USDⓈ-M, e.g. BTC),
 *   `open_interest_value` = sum_open_interest_value (quote currency); both float64;
 * - `long_short_ratio`: `top_account_ratio` = count_toptrader_long_short_ratio, `top_position_ratio` =
 *   sum_toptrader_long_short_ratio, `global_account_ratio` = count_long_short_ratio,
 *   `taker_buy_sell_ratio` = sum_taker_long_short_vol_ratio (float64; an empty field is null).
 *
 * Accounting: a data line holds **two records** (its open-interest row and its long/short row), so
 * `lines_read` counts records: 2 per data line, 1 per header or blank line; both rows carry the line's
 * `file_line_number`. A record that cannot be written is rejected on its own table (a bad ratio does not
 * drop the line's open interest), with file, line and field.
 *
 * Rejections: wrong field count (both records); a create_time that is not a UTC `YYYY-MM-DD HH:MM:SS`
 * (both); a symbol field other than the file's (both); open interest that is not a non-negative decimal
 * (open-interest record); a ratio that is neither empty nor a non-negative decimal (long/short record); a
 * time going backwards.
 */
import { basename, sep } from "node:path";
import { US_PER_MS, utcCalendarMs } from "../../core/time.js";
import type { AdapterOptions, FileFormat } from "../adapter.js";
import { readLines } from "../lines.js";
import type { DecimalScanner, FileIngest } from "../session.js";
import { DECIMAL_RE, stripBom } from "../vendor/shared.js";

/** A metrics file: the exchange/symbol its rows go to. */
export interface MetricsFile {
  readonly kind: "metrics";
  readonly exchange: string;
  readonly symbol: string;
}

/** The metrics CSV header columns, in order. */
export const METRICS_FIELDS = [
  "create_time",
  "symbol",
  "sum_open_interest",
  "sum_open_interest_value",
  "count_toptrader_long_short_ratio",
  "sum_toptrader_long_short_ratio",
  "count_long_short_ratio",
  "sum_taker_long_short_vol_ratio",
] as const;

const NAME_RE = /^([A-Za-z0-9_]+)-metrics-(\d{4}-\d{2}-\d{2})\.csv(?:\.gz)?$/;
const TIME_RE = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;
const LS_COLUMNS = [
  "top_account_ratio",
  "top_position_ratio",
  "global_account_ratio",
  "taker_buy_sell_ratio",
];

/** `YYYY-MM-DD HH:MM:SS` (UTC) → µs, NaN if malformed or not a real time. */
export function parseUtcDateTimeUs(s: string): number {
  const m = TIME_RE.exec(s);
  if (m === null) return Number.NaN;
  const v = [m[1], m[2], m[3], m[4], m[5], m[6]].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  return utcCalendarMs(...v) * US_PER_MS;
}

function isHeader(line: string): boolean {
  return /^\uFEFF?\s*create_time\s*,/i.test(line);
}

async function scanMetrics(path: string, file: MetricsFile, scanner: DecimalScanner): Promise<void> {
  await readLines(path, (raw) => {
    const t = stripBom(raw);
    const comma = t.indexOf(",");
    if (comma < 0) return;
    const ts = parseUtcDateTimeUs(t.slice(0, comma).trim());
    if (!Number.isNaN(ts)) scanner.observe(file.exchange, file.symbol, ts);
  });
}

async function ingestMetrics(path: string, file: MetricsFile, fi: FileIngest): Promise<void> {
  let records = 0;
  await readLines(path, (raw, line) => {
    const text = stripBom(raw);
    if (text.trim() === "") {
      records++;
      return fi.noRow("blank");
    }
    if (isHeader(text)) {
      records++;
      return fi.noRow("header");
    }
    records += 2;
    const f = text.split(",").map((x) => x.trim());
    const both = (field: string, reason: string): void => {
      fi.reject("open_interest", line, field, reason, text);
      fi.reject("long_short_ratio", line, field, reason, text);
    };
    if (f.length !== METRICS_FIELDS.length)
      return both(
        "fields",
        `expected ${METRICS_FIELDS.length} fields (${METRICS_FIELDS.join(",")}), got ${f.length}`,
      );
    const ts = parseUtcDateTimeUs(f[0]!);
    if (Number.isNaN(ts)) return both("create_time", `'${f[0]}' is not a UTC time 'YYYY-MM-DD HH:MM:SS'`);
    if (f[1]!.toUpperCase() !== file.symbol && f[1] !== "")
      return both("symbol", `row symbol '${f[1]}' is not the file's ${file.symbol}`);
    const sink = fi.sink(file.exchange, file.symbol);
    // open interest
    const oi = f[2]!;
    const oiv = f[3]!;
    if (!DECIMAL_RE.test(oi) || Number(oi) < 0)
      fi.reject("open_interest", line, "sum_open_interest", `'${oi}' is not a non-negative decimal`, text);
    else if (oiv !== "" && (!DECIMAL_RE.test(oiv) || Number(oiv) < 0))
      fi.reject(
        "open_interest",
        line,
        "sum_open_interest_value",
        `'${oiv}' is not a non-negative decimal`,
        text,
      );
    else if (fi.checkTime("open_interest", ts, line, text)) {
      const i = sink.row("open_interest", ts, ts, line);
      const b = sink.buffer("open_interest");
      b.num("open_interest").data[i] = Number(oi);
      b.num("open_interest_value").data[i] = oiv === "" ? Number.NaN : Number(oiv);
    }
    // long/short ratios
    const vals: number[] = [];
    for (let k = 0; k < 4; k++) {
      const s = f[4 + k]!;
      if (s === "") vals.push(Number.NaN);
      else if (!DECIMAL_RE.test(s) || Number(s) < 0) {
        fi.reject(
          "long_short_ratio",
          line,
          METRICS_FIELDS[4 + k]!,
          `'${s}' is not a non-negative decimal`,
          text,
        );
        return;
      } else vals.push(Number(s));
    }
    if (!fi.checkTime("long_short_ratio", ts, line, text)) return;
    const i = sink.row("long_short_ratio", ts, ts, line);
    const b = sink.buffer("long_short_ratio");
    LS_COLUMNS.forEach((c, k) => {
      b.num(c).data[i] = vals[k]!;
    });
    fi.flush();
  });
  fi.report.lines_read = records;
}

/** The `metrics` format (see the module doc). */
export const binanceVisionMetrics: FileFormat<MetricsFile> = {
  kind: "metrics",
  accepted: "a data.binance.vision futures metrics CSV named <SYMBOL>-metrics-<YYYY-MM-DD>.csv[.gz]",
  fromName(path: string, opts: AdapterOptions): MetricsFile | null {
    const m = NAME_RE.exec(basename(path));
    if (m === null) return null;
    const p = path.split(sep).join("/");
    return {
      kind: "metrics",
      exchange: opts.exchange ?? (p.includes("/futures/cm/") ? "binance-delivery" : "binance-futures"),
      symbol: opts.symbol ?? m[1]!.toUpperCase(),
    };
  },
  isHeader,
  scan: scanMetrics,
  ingest: ingestMetrics,
};
