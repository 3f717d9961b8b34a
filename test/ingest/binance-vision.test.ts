/**
 * binance-vision adapter on the real sample files (used in place): data.binance.vision ADABTC 1m
 * klines, freqtrade XRP funding JSON, Lean crypto-future funding CSVs. Every check compares against a
 * reference computed here from the raw file text, not from the adapter's own parsing.
 */
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { gzipSync } from "node:zlib";
import fc from "fast-check";
import pl from "nodejs-polars";
import { IngestError } from "../../src/core/errors.js";
import { formatFixed } from "../../src/core/fixed.js";
import { ingestFiles } from "../../src/ingest/ingest.js";
import type { FileManifest } from "../../src/lake/manifest.js";
import { SymbolRegistry } from "../../src/lake/registry.js";
import { data, tempDir } from "../helpers/data.js";

const KLINE_27 = data("nautilus_trader", "tests", "test_kit", "data", "ADABTC-1m-2021-11-27.csv");
const KLINE_28 = data("nautilus_trader", "tests", "test_kit", "data", "ADABTC-1m-2021-11-28.csv");
const FUNDING_JSON = data("freqtrade", "tests", "testdata", "futures", "XRP_USDT_USDT-8h-funding_rate.json");
const LEAN = (market: string, name: string): string =>
  data("lean", "cryptofuture", market, "margin_interest", `${name}.csv`);

const tmp = tempDir("pointline-bv-test-");
after(() => tmp.cleanup());
let lakeSeq = 0;
/** A fresh lake directory (fresh symbol registry) under the test's temp dir. */
function newLake(): string {
  const d = join(tmp.dir, `lake-${lakeSeq++}`);
  mkdirSync(d, { recursive: true });
  return d;
}
/** A fresh scratch directory for synthetic bad-input files. */
function newSrcDir(...sub: string[]): string {
  const d = join(tmp.dir, `src-${lakeSeq++}`, ...sub);
  mkdirSync(d, { recursive: true });
  return d;
}

// ---------------------------------------------------------------------------------------------
// Independent references and read-back helpers
// ---------------------------------------------------------------------------------------------

/** Canonical decimal text: no leading integer zeros, no trailing fractional zeros, no "-0". */
function normDecimal(s: string): string {
  let t = s.trim();
  let neg = false;
  if (t.startsWith("-") || t.startsWith("+")) {
    neg = t.startsWith("-");
    t = t.slice(1);
  }
  let [int = "", frac = ""] = t.split(".");
  int = int.replace(/^0+/, "") || "0";
  frac = frac.replace(/0+$/, "");
  const out = frac === "" ? int : `${int}.${frac}`;
  return neg && out !== "0" ? `-${out}` : out;
}

/** A non-negative decimal string scaled to `scale` decimals as a BigInt ("1.5", 3 → 1500n). */
function scaledBig(s: string, scale: number): bigint {
  const [int = "0", frac = ""] = s.split(".");
  const f = frac.padEnd(scale, "0");
  assert.equal(f.slice(scale).replace(/0/g, ""), "", `${s} has more than ${scale} decimals`);
  return BigInt(int + f.slice(0, scale));
}

function lines(path: string): string[] {
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((l) => l !== "");
}

/** All rows of `table` written by these manifests, in (file_id, file_line_number) order. */
function readRows(lake: string, manifests: readonly FileManifest[], table: string): pl.DataFrame {
  const frames = manifests.flatMap((m) =>
    m.parts.filter((p) => p.table === table).map((p) => pl.readParquet(join(lake, p.path))),
  );
  assert.ok(frames.length > 0, `no parts of ${table}`);
  return pl.concat(frames).sort(["file_id", "file_line_number"]);
}

/** An integer/float column as Float64Array (Int64 is cast first: never Series.get on Int64). */
function f64(df: pl.DataFrame, col: string): Float64Array {
  return df.getColumn(col).cast(pl.Float64).toTypedArray() as Float64Array;
}

function strs(df: pl.DataFrame, col: string): string[] {
  return df.getColumn(col).toArray() as string[];
}

interface QuarantineRecord {
  file: string;
  line: number;
  table: string;
  field: string;
  reason: string;
  raw?: string;
}

function quarantine(lake: string, m: FileManifest): QuarantineRecord[] {
  const p = join(lake, "_quarantine", `${m.file_id.toString(16).padStart(12, "0")}.jsonl`);
  return readFileSync(p, "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as QuarantineRecord);
}

/** `YYYYMMDD HH:MM:SS` (UTC) → µs, via an ISO string (independent of the adapter's parser). */
function leanTimeUs(s: string): number {
  const iso = `${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6, 8)}T${s.slice(9)}Z`;
  const ms = Date.parse(iso);
  assert.ok(Number.isFinite(ms), iso);
  return ms * 1000;
}

const KLINE_COLS = {
  open: 1,
  high: 2,
  low: 3,
  close: 4,
  volume: 5,
  taker_buy_base: 9,
} as const;

/**
 * Asserts that every row of `df` equals the kline source `rows` (fields split at commas): timestamps
 * (bar end = open + interval), fixed-point values decoding back to the exact decimal strings, floats
 * and trade counts.
 */
async function assertKlinesMatch(
  lake: string,
  df: pl.DataFrame,
  rows: string[][],
  exchange: string,
  symbol: string,
  intervalUs: number,
): Promise<void> {
  assert.equal(df.height, rows.length);
  const reg = await SymbolRegistry.open(lake);
  const tsLocal = f64(df, "ts_local_us");
  const tsExch = f64(df, "ts_exch_us");
  const barStart = f64(df, "bar_start_us");
  const interval = f64(df, "interval_us");
  const px = {
    open: f64(df, "open_px_int"),
    high: f64(df, "high_px_int"),
    low: f64(df, "low_px_int"),
    close: f64(df, "close_px_int"),
  };
  const vol = f64(df, "volume_qty_int");
  const tb = f64(df, "taker_buy_qty_int");
  const qv = f64(df, "quote_volume");
  const tbq = f64(df, "taker_buy_quote_volume");
  const trades = f64(df, "trade_count");
  const first = rows[0]!;
  const unitUs = first[0]!.length === 16 ? 1 : 1000;
  const resolved = reg.lookup(exchange, symbol, Number(first[0]) * unitUs + intervalUs);
  assert.ok(resolved, `${exchange} ${symbol} in the registry`);
  const pxInc = resolved.priceIncrement;
  const qtyInc = resolved.amountIncrement;
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    const openUs = Number(r[0]) * unitUs;
    assert.equal(barStart[i], openUs, `bar_start_us row ${i}`);
    assert.equal(interval[i], intervalUs);
    // PIT: knowable at the bar end = close_time + 1 unit.
    assert.equal(tsLocal[i], openUs + intervalUs, `ts_local_us row ${i}`);
    assert.equal(tsExch[i], openUs + intervalUs);
    assert.equal(tsLocal[i], (Number(r[6]) + 1) * unitUs);
    for (const [name, col] of Object.entries(px)) {
      const src = r[KLINE_COLS[name as keyof typeof px]]!;
      assert.equal(formatFixed(col[i]!, pxInc), normDecimal(src), `${name} row ${i}: ${src}`);
    }
    assert.equal(formatFixed(vol[i]!, qtyInc), normDecimal(r[5]!), `volume row ${i}`);
    assert.equal(formatFixed(tb[i]!, qtyInc), normDecimal(r[9]!), `taker_buy_base row ${i}`);
    assert.equal(qv[i], Number(r[7]), `quote_volume row ${i}`);
    assert.equal(tbq[i], Number(r[10]), `taker_buy_quote row ${i}`);
    assert.equal(trades[i], Number(r[8]), `trade_count row ${i}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Real files
// ---------------------------------------------------------------------------------------------

describe("binance-vision: data.binance.vision klines (ADABTC 1m, 2021-11-27/28)", () => {
  const lake = newLake();
  const run = ingestFiles("binance-vision", [KLINE_27, KLINE_28], { lake });
  run.catch(() => {}); // awaited (and reported) by each test

  it("ingests 1,440 bars per file with balanced accounting", async () => {
    const ms = await run;
    assert.equal(ms.length, 2);
    for (const m of ms) {
      assert.equal(m.format, "binance-vision");
      assert.equal(m.report.lines_read, 1440);
      assert.deepEqual(m.report.tables, { ohlcv_bars: { rows_written: 1440, rows_rejected: 0 } });
      assert.deepEqual(m.report.lines_without_row, {});
      assert.equal(
        m.parts.reduce((a, p) => a + p.rows, 0),
        1440,
      );
      for (const p of m.parts) {
        assert.equal(p.exchange, "binance");
        assert.equal(p.symbol, "ADABTC");
      }
    }
  });

  it("stamps each bar at its end (PIT) and round-trips every value exactly", async () => {
    const ms = await run;
    for (const [m, file] of [
      [ms[0]!, KLINE_27],
      [ms[1]!, KLINE_28],
    ] as const) {
      const df = readRows(lake, [m], "ohlcv_bars");
      const rows = lines(file).map((l) => l.split(","));
      assert.equal(rows.length, 1440);
      await assertKlinesMatch(lake, df, rows, "binance", "ADABTC", 60_000_000);
      // ts_local = open_time + 60 s, the last bar of the day lands in the next day's partition.
      const ts = f64(df, "ts_local_us");
      assert.equal(ts[0], Number(rows[0]![0]) * 1000 + 60_000_000);
      assert.equal(ts[1439], Number(rows[1439]![0]) * 1000 + 60_000_000);
      assert.deepEqual(
        Array.from(f64(df, "file_line_number")),
        Array.from({ length: 1440 }, (_, i) => i + 1),
      );
      assert.deepEqual(
        m.parts.map((p) => [p.date, p.rows]),
        [
          [new Date(Number(rows[0]![0])).toISOString().slice(0, 10), 1439],
          [new Date(Number(rows[0]![0]) + 86_400_000).toISOString().slice(0, 10), 1],
        ],
      );
    }
  });

  it("keeps the exact volume sum (BigInt reference from the strings)", async () => {
    const ms = await run;
    const reg = await SymbolRegistry.open(lake);
    const inc = reg.lookup("binance", "ADABTC", 1637971260000000)!.amountIncrement;
    assert.equal(inc.mantissa, 1);
    for (const [m, file] of [
      [ms[0]!, KLINE_27],
      [ms[1]!, KLINE_28],
    ] as const) {
      const ref = lines(file).reduce((a, l) => a + scaledBig(l.split(",")[5]!, 8), 0n);
      const got = Array.from(f64(readRows(lake, [m], "ohlcv_bars"), "volume_qty_int")).reduce(
        (a, v) => a + BigInt(v),
        0n,
      );
      assert.equal(got * 10n ** BigInt(8 - inc.scale), ref);
    }
  });

  it("is idempotent: re-ingesting a file replaces its rows", async () => {
    const ms = await run;
    const [again] = await ingestFiles("binance-vision", [KLINE_27], { lake });
    assert.equal(again!.file_id, ms[0]!.file_id);
    assert.equal(again!.report.replaced_previous, true);
    assert.deepEqual(
      again!.parts.map((p) => p.path),
      ms[0]!.parts.map((p) => p.path),
    );
    assert.equal(readRows(lake, [again!], "ohlcv_bars").height, 1440);
  });
});

describe("binance-vision: freqtrade funding JSON (XRP_USDT_USDT-8h-funding_rate.json)", () => {
  const lake = newLake();
  const run = ingestFiles("binance-vision", [FUNDING_JSON], { lake });
  run.catch(() => {});

  it("writes 91 funding events equal to the source (line = element index)", async () => {
    const [m] = await run;
    assert.equal(m!.report.lines_read, 91);
    assert.deepEqual(m!.report.tables, { funding_events: { rows_written: 91, rows_rejected: 0 } });
    for (const p of m!.parts) {
      assert.equal(p.exchange, "binance-futures");
      assert.equal(p.symbol, "XRPUSDT");
    }
    // Reference from the raw text (regex, not JSON.parse): [ts_ms,rate,0.0,0.0,0.0,0.0]
    const raw = readFileSync(FUNDING_JSON, "utf8");
    const ref = [...raw.matchAll(/\[(\d+),\s*(-?[0-9.eE+-]+),/g)].map((x) => [x[1]!, x[2]!] as const);
    assert.equal(ref.length, 91);
    const df = readRows(lake, [m!], "funding_events");
    assert.equal(df.height, 91);
    const ts = f64(df, "ts_local_us");
    const tsEx = f64(df, "ts_exch_us");
    const rate = f64(df, "funding_rate");
    const iv = f64(df, "funding_interval_us");
    const line = f64(df, "file_line_number");
    for (let i = 0; i < 91; i++) {
      const [tms, r] = ref[i]!;
      assert.equal(ts[i], Number(tms) * 1000, `ts row ${i}`);
      assert.equal(tsEx[i], Number(tms) * 1000);
      assert.equal(rate[i], Number(r), `rate row ${i}`);
      assert.equal(iv[i], 28_800_000_000);
      assert.equal(line[i], i + 1);
    }
    assert.ok(
      rate.some((r) => r < 0),
      "negative funding rates survive",
    );
  });
});

describe("binance-vision: Lean crypto-future funding CSVs", () => {
  const cases = [
    { market: "binance", name: "btcusd", exchange: "binance-delivery", symbol: "BTCUSD_PERP", rows: 12 },
    { market: "binance", name: "adausdt", exchange: "binance-futures", symbol: "ADAUSDT", rows: 1 },
    { market: "bybit", name: "btcusd", exchange: "bybit", symbol: "BTCUSD", rows: 3 },
    { market: "bybit", name: "btcusdt", exchange: "bybit", symbol: "BTCUSDT", rows: 3 },
  ] as const;
  const lake = newLake();
  const run = ingestFiles(
    "binance-vision",
    cases.map((c) => LEAN(c.market, c.name)),
    { lake },
  );
  run.catch(() => {});

  for (const c of cases) {
    it(`${c.market}/${c.name}.csv → ${c.exchange} ${c.symbol}, ${c.rows} rows equal to the source`, async () => {
      const ms = await run;
      const file = LEAN(c.market, c.name);
      const m = ms.find((x) => x.source === file)!;
      assert.ok(m, file);
      assert.equal(m.report.lines_read, c.rows);
      assert.deepEqual(m.report.tables, { funding_events: { rows_written: c.rows, rows_rejected: 0 } });
      for (const p of m.parts) {
        assert.equal(p.exchange, c.exchange);
        assert.equal(p.symbol, c.symbol);
      }
      const src = lines(file).map((l) => l.split(","));
      const df = readRows(lake, [m], "funding_events");
      assert.equal(df.height, c.rows);
      assert.deepEqual(strs(df, "exchange"), new Array(c.rows).fill(c.exchange));
      const ts = f64(df, "ts_local_us");
      const rate = f64(df, "funding_rate");
      const iv = f64(df, "funding_interval_us");
      for (let i = 0; i < c.rows; i++) {
        assert.equal(ts[i], leanTimeUs(src[i]![0]!), `ts row ${i}`);
        assert.equal(rate[i], Number(src[i]![1]), `rate row ${i}`);
        assert.equal(iv[i], 28_800_000_000);
      }
    });
  }
});

// ---------------------------------------------------------------------------------------------
// Bad and unusual input (synthetic files built from real rows, in a temp dir)
// ---------------------------------------------------------------------------------------------

describe("binance-vision: rejected kline rows", () => {
  it("quarantines each bad row with file, line, field and reason", async () => {
    const real = lines(KLINE_27).slice(0, 12);
    const f = real.map((l) => l.split(","));
    const set = (row: number, col: number, v: string): string => {
      const r = [...f[row]!];
      r[col] = v;
      return r.join(",");
    };
    // Find a row with high > low for the high < low case.
    const file = join(newSrcDir(), "ADABTC-1m-2021-11-27.csv");
    const content = [
      "open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore", // 1 header
      real[0]!, // 2 ok
      f[1]!.slice(0, 11).join(","), // 3 wrong field count
      set(2, 2, "abc"), // 4 non-numeric high
      set(3, 5, "-1.5"), // 5 negative volume
      set(4, 6, String(Number(f[4]![6]) + 1)), // 6 close_time mismatch
      set(5, 2, "0.00002000"), // 7 high < low
      "", // 8 blank
      real[7]!, // 9 ok
      real[6]!, // 10 backwards timestamp
      set(8, 9, String(Number(f[8]![5]) + 1)), // 11 taker buy > volume
      real[9]!, // 12 ok
    ].join("\n");
    writeFileSync(file, `${content}\n`);
    const lake = newLake();
    const [m] = await ingestFiles("binance-vision", [file], { lake });
    const r = m!.report;
    assert.equal(r.lines_read, 12);
    assert.deepEqual(r.tables, { ohlcv_bars: { rows_written: 3, rows_rejected: 7 } });
    assert.deepEqual(r.lines_without_row, { header: 1, blank: 1 });
    const q = quarantine(lake, m!);
    assert.deepEqual(
      q.map((x) => [x.line, x.table, x.field]),
      [
        [3, "ohlcv_bars", "fields"],
        [4, "ohlcv_bars", "high"],
        [5, "ohlcv_bars", "volume"],
        [6, "ohlcv_bars", "close_time"],
        [7, "ohlcv_bars", "high"],
        [10, "ohlcv_bars", "ts_local_us"],
        [11, "ohlcv_bars", "taker_buy_base"],
      ],
    );
    for (const x of q) assert.equal(x.file, file);
    assert.match(q[0]!.reason, /expected 12 comma-separated fields .* got 11/);
    assert.match(q[1]!.reason, /'abc' is not a decimal number/);
    assert.match(q[2]!.reason, /'-1\.5' is negative/);
    assert.match(q[3]!.reason, /close_time \d+ \+ 1 ms ≠ open_time \d+ \+ interval 1m/);
    assert.match(q[4]!.reason, /high 0\.00002000 is below max\(open .*low .*\)/);
    assert.match(q[5]!.reason, /timestamp went backwards/);
    assert.match(q[6]!.reason, /taker buy volume .* exceeds volume/);
    // The good rows are intact.
    const df = readRows(lake, [m!], "ohlcv_bars");
    assert.deepEqual(Array.from(f64(df, "file_line_number")), [2, 9, 12]);
    await assertKlinesMatch(lake, df, [f[0]!, f[7]!, f[9]!], "binance", "ADABTC", 60_000_000);
  });

  it("rejects low above min(open, close) and a malformed open_time", async () => {
    const f = lines(KLINE_27)
      .slice(0, 3)
      .map((l) => l.split(","));
    const bad1 = [...f[0]!];
    bad1[3] = bad1[2]!; // low = high > open
    const bad2 = [...f[1]!];
    bad2[0] = "16379712600x0";
    const file = join(newSrcDir(), "ADABTC-1m-2021-11-27.csv");
    writeFileSync(file, [bad1.join(","), bad2.join(","), f[2]!.join(",")].join("\n"));
    const lake = newLake();
    const [m] = await ingestFiles("binance-vision", [file], { lake });
    assert.deepEqual(m!.report.tables, { ohlcv_bars: { rows_written: 1, rows_rejected: 2 } });
    const q = quarantine(lake, m!);
    assert.deepEqual(
      q.map((x) => [x.line, x.field]),
      [
        [1, "low"],
        [2, "open_time"],
      ],
    );
    assert.match(q[0]!.reason, /low .* is above min\(open .*close .*\)/);
    assert.match(q[1]!.reason, /not an epoch time in ms \(13 digits\) or µs \(16 digits\)/);
  });

  it("throws an IngestError naming the file for an unrecognised name", async () => {
    const file = join(newSrcDir(), "klines.csv");
    writeFileSync(file, `${lines(KLINE_27)[0]}\n`);
    await assert.rejects(ingestFiles("binance-vision", [file], { lake: newLake() }), (e: unknown) => {
      assert.ok(e instanceof IngestError);
      assert.equal(e.location.file, file);
      assert.equal(e.location.line, 1);
      assert.equal(e.location.field, "format");
      assert.ok(e.message.includes(file));
      assert.match(e.message, /<SYMBOL>-<interval>-<YYYY-MM\[-DD\]>\.csv/);
      assert.match(e.message, /funding_rate\.json/);
      assert.match(e.message, /margin_interest/);
      return true;
    });
  });
});

describe("binance-vision: other kline variants", () => {
  it("header + gzip + futures/um path → binance-futures, header counted as a line without row", async () => {
    const real = lines(KLINE_27).slice(0, 5);
    const dir = newSrcDir("data", "futures", "um", "daily", "klines", "ADABTC", "1m");
    const file = join(dir, "ADABTC-1m-2021-11-27.csv.gz");
    const header =
      "open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore";
    writeFileSync(file, gzipSync(`${[header, ...real].join("\r\n")}\r\n`));
    const lake = newLake();
    const [m] = await ingestFiles("binance-vision", [file], { lake });
    assert.equal(m!.report.lines_read, 6);
    assert.deepEqual(m!.report.lines_without_row, { header: 1 });
    assert.deepEqual(m!.report.tables, { ohlcv_bars: { rows_written: 5, rows_rejected: 0 } });
    assert.equal(m!.parts[0]!.exchange, "binance-futures");
    const df = readRows(lake, [m!], "ohlcv_bars");
    await assertKlinesMatch(
      lake,
      df,
      real.map((l) => l.split(",")),
      "binance-futures",
      "ADABTC",
      60_000_000,
    );
  });

  it("microsecond timestamps (data.binance.vision spot since 2025) give the same bars", async () => {
    const rows = lines(KLINE_27)
      .slice(0, 4)
      .map((l) => l.split(","));
    const us = rows.map((r) => {
      const c = [...r];
      c[0] = `${c[0]}000`;
      c[6] = `${c[6]}999`;
      return c;
    });
    const file = join(newSrcDir(), "ADABTC-1m-2021-11-27.csv");
    // With a UTF-8 byte-order mark, as spreadsheet exports write.
    writeFileSync(file, `\uFEFF${us.map((r) => r.join(",")).join("\n")}\n`);
    const lake = newLake();
    const [m] = await ingestFiles("binance-vision", [file], { lake });
    assert.deepEqual(m!.report.tables, { ohlcv_bars: { rows_written: 4, rows_rejected: 0 } });
    await assertKlinesMatch(lake, readRows(lake, [m!], "ohlcv_bars"), us, "binance", "ADABTC", 60_000_000);
    const ts = f64(readRows(lake, [m!], "ohlcv_bars"), "ts_local_us");
    assert.equal(ts[0], Number(rows[0]![0]) * 1000 + 60_000_000);
  });

  it("monthly bars (1mo) use the calendar month as interval", async () => {
    const jan = Date.UTC(2024, 0, 1);
    const feb = Date.UTC(2024, 1, 1);
    const mar = Date.UTC(2024, 2, 1);
    const file = join(newSrcDir(), "BTCUSDT-1mo-2024-01.csv");
    writeFileSync(
      file,
      [
        `${jan},42283.58,48969.48,38555.00,42580.00,1000.5,${feb - 1},1.5e7,10,500.25,7.5e6,0`,
        `${feb},42580.00,63913.13,41884.28,61130.98,900.25,${mar - 1},1.6e7,11,450,8e6,0`,
        `${mar},61130.98,73777.00,59005.00,71280.01,800,${mar + 30 * 86_400_000 - 1},1.7e7,12,400,8.5e6,0`,
      ].join("\n"),
    );
    const lake = newLake();
    const [m] = await ingestFiles("binance-vision", [file], { lake });
    // March has 31 days: a 30-day close_time is rejected.
    assert.deepEqual(m!.report.tables, { ohlcv_bars: { rows_written: 2, rows_rejected: 1 } });
    const df = readRows(lake, [m!], "ohlcv_bars");
    assert.deepEqual(Array.from(f64(df, "interval_us")), [(feb - jan) * 1000, (mar - feb) * 1000]);
    assert.deepEqual(Array.from(f64(df, "ts_local_us")), [feb * 1000, mar * 1000]);
    assert.equal(quarantine(lake, m!)[0]!.field, "close_time");
  });

  it("content fallback: any file name with an explicit symbol (interval from the first row)", async () => {
    const real = lines(KLINE_28).slice(0, 3);
    const file = join(newSrcDir(), "adabtc_export.csv");
    writeFileSync(file, `${real.join("\n")}\n`);
    const lake = newLake();
    const [m] = await ingestFiles("binance-vision", [file], { lake, symbol: "ADABTC", exchange: "binance" });
    assert.deepEqual(m!.report.tables, { ohlcv_bars: { rows_written: 3, rows_rejected: 0 } });
    await assertKlinesMatch(
      lake,
      readRows(lake, [m!], "ohlcv_bars"),
      real.map((l) => l.split(",")),
      "binance",
      "ADABTC",
      60_000_000,
    );
  });
});

describe("binance-vision: rejected funding records", () => {
  it("freqtrade JSON: wrong element count, non-numeric rate, bad time", async () => {
    const file = join(newSrcDir(), "XRP_USDT_USDT-8h-funding_rate.json");
    writeFileSync(
      file,
      JSON.stringify([
        [1637193600017, 0.0001, 0, 0, 0, 0],
        [1637222400007, 0.0001, 0, 0],
        [1637251200011, "0.0001", 0, 0, 0, 0],
        [1637280000000.5, 0.0001, 0, 0, 0, 0],
        [1637308800000, -0.00002024, 0, 0, 0, 0],
        [1637280000000, 0.0001, 0, 0, 0, 0],
      ]),
    );
    const lake = newLake();
    const [m] = await ingestFiles("binance-vision", [file], { lake });
    assert.equal(m!.report.lines_read, 6);
    assert.deepEqual(m!.report.tables, { funding_events: { rows_written: 2, rows_rejected: 4 } });
    const q = quarantine(lake, m!);
    assert.deepEqual(
      q.map((x) => [x.line, x.field]),
      [
        [2, "record"],
        [3, "rate"],
        [4, "ts_ms"],
        [6, "ts_local_us"],
      ],
    );
    assert.match(q[0]!.reason, /6 elements\), got 4 elements/);
    assert.match(q[1]!.reason, /"0\.0001" is not a finite JSON number/);
    const df = readRows(lake, [m!], "funding_events");
    assert.deepEqual(Array.from(f64(df, "funding_rate")), [0.0001, -0.00002024]);
    assert.deepEqual(Array.from(f64(df, "file_line_number")), [1, 5]);
  });

  it("freqtrade JSON that does not parse → IngestError naming the file", async () => {
    const file = join(newSrcDir(), "XRP_USDT_USDT-8h-funding_rate.json");
    writeFileSync(file, "[[1637193600017, 0.0001, 0,0,0,0],");
    await assert.rejects(ingestFiles("binance-vision", [file], { lake: newLake() }), (e: unknown) => {
      assert.ok(e instanceof IngestError);
      assert.equal(e.location.field, "json");
      assert.ok(e.message.includes(file));
      return true;
    });
  });

  it("Lean CSV: bad date, non-numeric rate, wrong field count; exchange/symbol override", async () => {
    const dir = newSrcDir("cryptofuture", "binance", "margin_interest");
    const file = join(dir, "ethusd.csv");
    writeFileSync(
      file,
      [
        "20221213 00:00:00,0.00010000",
        "20221313 08:00:00,0.00010000",
        "20221213 08:00:00,abc",
        "20221213 08:00:00,0.0001,1",
        "",
        "20221213 16:00:00,-0.00002983",
      ].join("\n"),
    );
    const lake = newLake();
    const [m] = await ingestFiles("binance-vision", [file], { lake });
    assert.equal(m!.report.lines_read, 6);
    assert.deepEqual(m!.report.tables, { funding_events: { rows_written: 2, rows_rejected: 3 } });
    assert.deepEqual(m!.report.lines_without_row, { blank: 1 });
    assert.equal(m!.parts[0]!.exchange, "binance-delivery");
    assert.equal(m!.parts[0]!.symbol, "ETHUSD_PERP");
    const q = quarantine(lake, m!);
    assert.deepEqual(
      q.map((x) => [x.line, x.field]),
      [
        [2, "time"],
        [3, "rate"],
        [4, "fields"],
      ],
    );
    assert.match(q[0]!.reason, /'20221313 08:00:00' is not a UTC time/);
    assert.match(q[1]!.reason, /'abc' is not a decimal number/);

    const lake2 = newLake();
    const [m2] = await ingestFiles("binance-vision", [file], {
      lake: lake2,
      exchange: "okex-swap",
      symbol: "ETH-USD-SWAP",
    });
    assert.equal(m2!.parts[0]!.exchange, "okex-swap");
    assert.equal(m2!.parts[0]!.symbol, "ETH-USD-SWAP");
  });
});

// ---------------------------------------------------------------------------------------------
// Property: any valid kline row round-trips exactly
// ---------------------------------------------------------------------------------------------

/** `mantissa × 10^-decimals` as text with `pad` extra trailing zeros ("12345", 2, 1 → "123.450"). */
function decText(mantissa: number, decimals: number, pad: number): string {
  let d = String(mantissa);
  if (decimals > 0) {
    d = d.padStart(decimals + 1, "0");
    d = `${d.slice(0, d.length - decimals)}.${d.slice(d.length - decimals)}`;
  }
  if (pad > 0) d = decimals > 0 ? d + "0".repeat(pad) : `${d}.${"0".repeat(pad)}`;
  return d;
}

const rowArb = fc.record({
  px: fc.array(fc.integer({ min: 0, max: 1e12 }), { minLength: 4, maxLength: 4 }),
  openFirst: fc.boolean(),
  vol: fc.array(fc.integer({ min: 0, max: 1e13 }), { minLength: 2, maxLength: 2 }),
  qv: fc.array(fc.double({ min: 0, max: 1e12, noNaN: true, noDefaultInfinity: true }), {
    minLength: 2,
    maxLength: 2,
  }),
  trades: fc.integer({ min: 0, max: 2e9 }),
  gap: fc.integer({ min: 1, max: 3 }),
  pads: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 6, maxLength: 6 }),
});

describe("binance-vision: property", () => {
  it("random valid kline rows round-trip exactly (seed 7, 100 runs)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 8 }),
        fc.integer({ min: 0, max: 8 }),
        fc.integer({ min: 0, max: 50_000_000 }),
        fc.array(rowArb, { minLength: 1, maxLength: 25 }),
        async (pxDec, qtyDec, startMin, gen) => {
          let t = 1_500_000_000_000 + startMin * 60_000;
          const rows: string[][] = gen.map((g) => {
            const p = [...g.px].sort((a, b) => a - b);
            const [lo, a, b, hi] = p as [number, number, number, number];
            const [open, close] = g.openFirst ? [a, b] : [b, a];
            const [tb, vol] = [...g.vol].sort((x, y) => x - y) as [number, number];
            const [tbq, qv] = [...g.qv].sort((x, y) => x - y) as [number, number];
            t += g.gap * 60_000;
            const pad = g.pads;
            return [
              String(t),
              decText(open, pxDec, pad[0]!),
              decText(hi, pxDec, pad[1]!),
              decText(lo, pxDec, pad[2]!),
              decText(close, pxDec, pad[3]!),
              decText(vol, qtyDec, pad[4]!),
              String(t + 59_999),
              String(qv),
              String(g.trades),
              decText(tb, qtyDec, pad[5]!),
              String(tbq),
              "0",
            ];
          });
          const file = join(newSrcDir(), "TESTUSDT-1m-2024-01-01.csv");
          writeFileSync(file, `${rows.map((r) => r.join(",")).join("\n")}\n`);
          const lake = newLake();
          const [m] = await ingestFiles("binance-vision", [file], { lake });
          assert.equal(m!.report.lines_read, rows.length);
          assert.deepEqual(m!.report.tables, { ohlcv_bars: { rows_written: rows.length, rows_rejected: 0 } });
          await assertKlinesMatch(
            lake,
            readRows(lake, [m!], "ohlcv_bars"),
            rows,
            "binance",
            "TESTUSDT",
            60_000_000,
          );
        },
      ),
      { seed: 7, numRuns: 100 },
    );
  });
});
