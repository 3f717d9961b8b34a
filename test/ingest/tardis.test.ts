/**
 * Tardis CSV adapter: real Tardis samples (used in place) and small hand-written files, ingested into
 * temporary lakes and read back from Parquet. Every expected value is computed here from the raw CSV
 * text (string/BigInt arithmetic), never from the adapter's own parsing.
 */
import assert from "node:assert/strict";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
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
import { TARDIS, tempDir } from "../helpers/data.js";

// ---------------------------------------------------------------------------------------------
// Independent references
// ---------------------------------------------------------------------------------------------

interface Csv {
  readonly header: string[];
  readonly rows: string[][];
  /** Number of lines in the file (header included). */
  readonly lines: number;
}

function readCsv(path: string): Csv {
  const text = readFileSync(path, "utf8");
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  const [head, ...rest] = lines;
  return { header: head!.split(","), rows: rest.map((l) => l.split(",")), lines: lines.length };
}

/** Canonical form of a plain decimal string: no leading integer zeros, no trailing fractional zeros. */
function canon(s: string): string {
  const m = /^(-?)(\d+)(?:\.(\d*))?$/.exec(s);
  if (m === null) throw new Error(`reference: '${s}' is not a plain decimal`);
  const int = BigInt(m[2]!).toString();
  const frac = (m[3] ?? "").replace(/0+$/, "");
  const body = frac === "" ? int : `${int}.${frac}`;
  return m[1] === "-" && /[1-9]/.test(body) ? `-${body}` : body;
}

function col(header: readonly string[], name: string): number {
  const i = header.indexOf(name);
  assert.ok(i >= 0, `column ${name} in header`);
  return i;
}

const sideRef = (s: string): number => (s === "buy" ? 0 : s === "sell" ? 1 : -1);

// ---------------------------------------------------------------------------------------------
// Lake access
// ---------------------------------------------------------------------------------------------

const cleanups: (() => void)[] = [];
after(() => {
  for (const c of cleanups) c();
});

function newLake(): string {
  const t = tempDir("pointline-tardis-");
  cleanups.push(t.cleanup);
  return t.dir;
}

/** Rows of `table` from the parts the manifests list, in (file_id, file line) order. */
function readTable(lake: string, manifests: readonly FileManifest[], table: string): pl.DataFrame | null {
  const paths = manifests.flatMap((m) =>
    m.parts.filter((p) => p.table === table).map((p) => join(lake, p.path)),
  );
  if (paths.length === 0) return null;
  return pl.concat(paths.map((p) => pl.readParquet(p))).sort(["file_id", "file_line_number"]);
}

/** A numeric column as Float64Array (Int64 cast to Float64 first; null → NaN). */
function f64(df: pl.DataFrame, name: string): Float64Array {
  const out = df.select(pl.col(name).cast(pl.Float64).fillNull(pl.lit(Number.NaN))).getColumn(name);
  return out.toTypedArray() as Float64Array;
}

function lists(df: pl.DataFrame, name: string): number[][] {
  return df.getColumn(name).cast(pl.List(pl.Float64)).toArray() as number[][];
}

function strings(df: pl.DataFrame, name: string): (string | null)[] {
  return df.getColumn(name).toArray() as (string | null)[];
}

/** Rows of every parquet part on disk under `<lake>/<table>` (not only the manifests' parts). */
function rowsOnDisk(lake: string, table: string): number {
  let n = 0;
  let files: string[];
  try {
    files = readdirSync(join(lake, table), { recursive: true }) as string[];
  } catch {
    return 0;
  }
  for (const f of files) if (f.endsWith(".parquet")) n += pl.readParquet(join(lake, table, f)).height;
  return n;
}

function quarantine(
  lake: string,
  m: FileManifest,
): { file: string; line: number; field: string; reason: string; raw?: string }[] {
  const p = join(lake, "_quarantine", `${m.file_id.toString(16).padStart(12, "0")}.jsonl`);
  return readFileSync(p, "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l));
}

/** The accounting identity, recomputed from the report's raw counts. */
function assertBalanced(m: FileManifest, expectedLines?: number): void {
  const r = m.report;
  let written = 0;
  let rejected = r.unrouted_rejected;
  for (const c of Object.values(r.tables)) {
    written += c.rows_written;
    rejected += c.rows_rejected;
  }
  const without = Object.values(r.lines_without_row).reduce((a, b) => a + b, 0);
  assert.equal(
    r.lines_read,
    written + rejected + without,
    `${r.file}: lines_read = written + rejected + without_row`,
  );
  if (expectedLines !== undefined) assert.equal(r.lines_read, expectedLines, `${r.file}: lines_read`);
}

async function increments(lake: string, ex: string, sym: string, ts: number) {
  const reg = await SymbolRegistry.open(lake);
  const r = reg.lookup(ex, sym, ts);
  assert.ok(r !== undefined, `registry entry for ${ex} ${sym}`);
  return r;
}

/** Checks common columns of `df` against CSV rows (same order). */
function checkCommon(df: pl.DataFrame, csv: Csv, m: FileManifest, symbolId: number): void {
  const h = csv.header;
  const local = f64(df, "ts_local_us");
  const exch = f64(df, "ts_exch_us");
  const line = f64(df, "file_line_number");
  const fileId = f64(df, "file_id");
  const sid = f64(df, "symbol_id");
  const ex = strings(df, "exchange");
  const [iEx, iTs, iLocal] = [col(h, "exchange"), col(h, "timestamp"), col(h, "local_timestamp")];
  csv.rows.forEach((r, i) => {
    assert.equal(BigInt(local[i]!), BigInt(r[iLocal]!), `ts_local_us row ${i}`);
    assert.equal(BigInt(exch[i]!), BigInt(r[iTs]!), `ts_exch_us row ${i}`);
    assert.equal(line[i], i + 2, `file_line_number row ${i}`);
    assert.equal(fileId[i], m.file_id);
    assert.equal(sid[i], symbolId);
    assert.equal(ex[i], r[iEx]);
  });
}

/** Ingests one file into a (new) lake; `plainText` is the uncompressed CSV when `file` is gzip. */
async function ingestOne(
  file: string,
  opts: { table?: string; chunkRows?: number; lake?: string } = {},
  plainText: string = file,
) {
  const lake = opts.lake ?? newLake();
  const ms = await ingestFiles("tardis", [file], { lake, ...opts });
  assert.equal(ms.length, 1);
  const m = ms[0]!;
  assertBalanced(m, readCsv(plainText).lines);
  return { lake, m, ms };
}

// ---------------------------------------------------------------------------------------------
// Real samples
// ---------------------------------------------------------------------------------------------

async function checkTradesFile(file: string, opts: { chunkRows?: number } = {}): Promise<void> {
  const csv = readCsv(file);
  const { lake, m, ms } = await ingestOne(file, opts);
  const h = csv.header;
  const r0 = csv.rows[0]!;
  const inc = await increments(lake, r0[0]!, r0[1]!, Number(r0[col(h, "local_timestamp")]));
  assert.equal(m.report.tables.trades?.rows_written, csv.rows.length);
  assert.equal(m.report.tables.trades?.rows_rejected, 0);
  assert.deepEqual(m.report.lines_without_row, { header: 1 });
  assert.equal(
    m.parts.reduce((a, p) => a + p.rows, 0),
    csv.rows.length,
  );
  const df = readTable(lake, ms, "trades")!;
  assert.equal(df.height, csv.rows.length);
  checkCommon(df, csv, m, inc.entry.symbol_id);
  const px = f64(df, "px_int");
  const qty = f64(df, "qty_int");
  const side = f64(df, "side");
  const ids = strings(df, "trade_id");
  const [iId, iSide, iPx, iQty] = [col(h, "id"), col(h, "side"), col(h, "price"), col(h, "amount")];
  csv.rows.forEach((r, i) => {
    assert.equal(formatFixed(px[i]!, inc.priceIncrement), canon(r[iPx]!), `price row ${i}`);
    assert.equal(formatFixed(qty[i]!, inc.amountIncrement), canon(r[iQty]!), `amount row ${i}`);
    assert.equal(side[i], sideRef(r[iSide]!), `side row ${i}`);
    assert.equal(ids[i], r[iId]);
  });
}

async function checkQuotesFile(file: string): Promise<void> {
  const csv = readCsv(file);
  const { lake, m, ms } = await ingestOne(file);
  const h = csv.header;
  const r0 = csv.rows[0]!;
  const inc = await increments(lake, r0[0]!, r0[1]!, Number(r0[col(h, "local_timestamp")]));
  assert.equal(m.report.tables.quotes?.rows_written, csv.rows.length);
  assert.equal(m.report.tables.quotes?.rows_rejected, 0);
  const df = readTable(lake, ms, "quotes")!;
  assert.equal(df.height, csv.rows.length);
  checkCommon(df, csv, m, inc.entry.symbol_id);
  assert.equal(df.getColumn("update_id").nullCount(), df.height);
  const pairs: [string, string, "px" | "qty"][] = [
    ["bid_px_int", "bid_price", "px"],
    ["bid_qty_int", "bid_amount", "qty"],
    ["ask_px_int", "ask_price", "px"],
    ["ask_qty_int", "ask_amount", "qty"],
  ];
  for (const [name, src, kind] of pairs) {
    const v = f64(df, name);
    const j = col(h, src);
    const i0 = kind === "px" ? inc.priceIncrement : inc.amountIncrement;
    csv.rows.forEach((r, i) => {
      if (r[j] === "") assert.ok(Number.isNaN(v[i]!), `${name} row ${i} null`);
      else assert.equal(formatFixed(v[i]!, i0), canon(r[j]!), `${name} row ${i}`);
    });
  }
}

async function checkBookFile(file: string, levels: number): Promise<void> {
  const csv = readCsv(file);
  const { lake, m, ms } = await ingestOne(file);
  const h = csv.header;
  assert.equal(h.length, 4 + 4 * levels);
  const r0 = csv.rows[0]!;
  const inc = await increments(lake, r0[0]!, r0[1]!, Number(r0[col(h, "local_timestamp")]));
  assert.equal(m.report.tables.book_snapshot_25?.rows_written, csv.rows.length);
  const df = readTable(lake, ms, "book_snapshot_25")!;
  assert.equal(df.height, csv.rows.length);
  checkCommon(df, csv, m, inc.entry.symbol_id);
  assert.equal(df.getColumn("update_id").nullCount(), df.height);
  for (const [side, name] of [
    ["asks", "ask"],
    ["bids", "bid"],
  ] as const) {
    const px = lists(df, `${name}_px_int`);
    const qty = lists(df, `${name}_qty_int`);
    csv.rows.forEach((r, i) => {
      const expPx: string[] = [];
      const expQty: string[] = [];
      for (let k = 0; k < levels; k++) {
        const p = r[col(h, `${side}[${k}].price`)]!;
        const q = r[col(h, `${side}[${k}].amount`)]!;
        if (p === "") break;
        expPx.push(canon(p));
        expQty.push(canon(q));
      }
      assert.deepEqual(
        px[i]!.map((v) => formatFixed(v, inc.priceIncrement)),
        expPx,
        `${name} prices row ${i}`,
      );
      assert.deepEqual(
        qty[i]!.map((v) => formatFixed(v, inc.amountIncrement)),
        expQty,
        `${name} sizes row ${i}`,
      );
    });
  }
}

describe("tardis adapter: real samples", () => {
  it("trades.csv (binance-futures BTCUSDT, 9,999 rows): every value round-trips", async () => {
    await checkTradesFile(join(TARDIS, "trades.csv"));
  });

  it("trades.csv with small chunks (several parts per file) reads back identically", async () => {
    await checkTradesFile(join(TARDIS, "trades.csv"), { chunkRows: 1000 });
  });

  it("bitmex_trades_XBTUSD.csv (uuid ids, integer sizes)", async () => {
    await checkTradesFile(join(TARDIS, "bitmex_trades_XBTUSD.csv"));
  });

  it("quotes.csv (binance-futures BTCUSDT, 9,999 rows)", async () => {
    await checkQuotesFile(join(TARDIS, "quotes.csv"));
  });

  it("huobi-dm-swap_quotes_BTC-USD.csv", async () => {
    await checkQuotesFile(join(TARDIS, "huobi-dm-swap_quotes_BTC-USD.csv"));
  });

  it("book_snapshot_25: 25 levels per side equal the CSV columns", async () => {
    await checkBookFile(join(TARDIS, "binance-futures_book_snapshot_25_BTCUSDT.csv"), 25);
  });

  it("book_snapshot_5: 5 levels per side into book_snapshot_25", async () => {
    await checkBookFile(join(TARDIS, "binance-futures_book_snapshot_5_BTCUSDT.csv"), 5);
  });

  it("a gzip of trades.csv ingests to the same rows", async () => {
    const dir = newLake();
    const gz = join(dir, "trades.csv.gz");
    writeFileSync(gz, gzipSync(readFileSync(join(TARDIS, "trades.csv"))));
    const { lake, m, ms } = await ingestOne(join(TARDIS, "trades.csv"));
    const { lake: lake2, m: m2, ms: ms2 } = await ingestOne(gz, {}, join(TARDIS, "trades.csv"));
    assert.equal(m2.report.lines_read, m.report.lines_read);
    const a = readTable(lake, ms, "trades")!.drop("file_id");
    const b = readTable(lake2, ms2, "trades")!.drop("file_id");
    assert.ok(a.frameEqual(b));
  });

  it("incremental_book_L2 is rejected as an unsupported type, naming file, line and field", async () => {
    const lake = newLake();
    const file = join(TARDIS, "deribit_incremental_book_L2_BTC-PERPETUAL.csv");
    await assert.rejects(ingestFiles("tardis", [file], { lake }), (e: unknown) => {
      assert.ok(e instanceof IngestError);
      assert.equal(e.location.file, file);
      assert.equal(e.location.line, 1);
      assert.equal(e.location.field, "header");
      assert.match(e.message, /unsupported Tardis data type 'incremental_book_L2'/);
      assert.match(
        e.message,
        /header: exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount/,
      );
      assert.ok(e.message.includes(file));
      return true;
    });
    assert.equal(rowsOnDisk(lake, "trades"), 0);
  });
});

// ---------------------------------------------------------------------------------------------
// Hand-written files (types without a real sample, edge cases, bad input)
// ---------------------------------------------------------------------------------------------

const TRADES_HEADER = "exchange,symbol,timestamp,local_timestamp,id,side,price,amount";
const QUOTES_HEADER = "exchange,symbol,timestamp,local_timestamp,ask_amount,ask_price,bid_price,bid_amount";
const TICKER_HEADER =
  "exchange,symbol,timestamp,local_timestamp,funding_timestamp,funding_rate,predicted_funding_rate,open_interest,last_price,index_price,mark_price";

function writeCsv(dir: string, name: string, lines: readonly string[]): string {
  mkdirSync(dir, { recursive: true });
  const p = join(dir, name);
  writeFileSync(p, `${lines.join("\n")}\n`);
  return p;
}

describe("tardis adapter: other data types", () => {
  it("liquidations by file name: side, id (empty → null), px/qty", async () => {
    const dir = newLake();
    const file = writeCsv(join(dir, "src"), "binance-futures_liquidations_2020-09-01_BTCUSDT.csv", [
      TRADES_HEADER,
      "binance-futures,BTCUSDT,1598918401000000,1598918401100000,,sell,11650.5,0.123",
      "binance-futures,BTCUSDT,1598918402000000,1598918402100000,L2,buy,11651,1.5",
      "binance-futures,ETHUSDT,1598918403000000,1598918403100000,L3,sell,433.21,10",
    ]);
    const csv = readCsv(file);
    const { lake, m, ms } = await ingestOne(file, { lake: join(dir, "lake") });
    assert.equal(m.report.tables.liquidations?.rows_written, 3);
    assert.equal(m.report.tables.trades, undefined);
    const df = readTable(lake, ms, "liquidations")!;
    assert.equal(df.height, 3);
    const px = f64(df, "px_int");
    const qty = f64(df, "qty_int");
    const side = f64(df, "side");
    const ids = strings(df, "liquidation_id");
    const local = f64(df, "ts_local_us");
    for (let i = 0; i < 3; i++) {
      const r = csv.rows[i]!;
      const inc = await increments(lake, r[0]!, r[1]!, Number(r[3]));
      assert.equal(formatFixed(px[i]!, inc.priceIncrement), canon(r[6]!));
      assert.equal(formatFixed(qty[i]!, inc.amountIncrement), canon(r[7]!));
      assert.equal(side[i], sideRef(r[5]!));
      assert.equal(ids[i], r[4] === "" ? null : r[4]);
      assert.equal(BigInt(local[i]!), BigInt(r[3]!));
    }
    assert.deepEqual(new Set(m.parts.map((p) => p.symbol)), new Set(["BTCUSDT", "ETHUSDT"]));
  });

  it("liquidations by opts.table; a table that contradicts the header is an error", async () => {
    const dir = newLake();
    const file = writeCsv(join(dir, "src"), "some.csv", [
      TRADES_HEADER,
      "bitmex,XBTUSD,1598918401000000,1598918401100000,x1,buy,11650.5,100",
    ]);
    const { m } = await ingestOne(file, { table: "liquidations", lake: join(dir, "lake1") });
    assert.equal(m.report.tables.liquidations?.rows_written, 1);
    const { m: m2 } = await ingestOne(file, { lake: join(dir, "lake2") });
    assert.equal(m2.report.tables.trades?.rows_written, 1);
    await assert.rejects(
      ingestFiles("tardis", [file], { lake: join(dir, "lake3"), table: "quotes" }),
      (e: unknown) => e instanceof IngestError && e.location.field === "header" && /trades/.test(e.message),
    );
  });

  it("quotes with an empty side store nulls", async () => {
    const dir = newLake();
    const file = writeCsv(join(dir, "src"), "q.csv", [
      QUOTES_HEADER,
      "deribit,BTC-PERPETUAL,1598918401000000,1598918401100000,100,11650.5,11650,2000",
      "deribit,BTC-PERPETUAL,1598918402000000,1598918402100000,,,11649.5,10",
      "deribit,BTC-PERPETUAL,1598918403000000,1598918403100000,50,11651,,",
    ]);
    const { lake, m, ms } = await ingestOne(file, { lake: join(dir, "lake") });
    assert.equal(m.report.tables.quotes?.rows_written, 3);
    const df = readTable(lake, ms, "quotes")!;
    const inc = await increments(lake, "deribit", "BTC-PERPETUAL", 1598918401100000);
    const ask = f64(df, "ask_px_int");
    const askQ = f64(df, "ask_qty_int");
    const bid = f64(df, "bid_px_int");
    const bidQ = f64(df, "bid_qty_int");
    assert.deepEqual(
      [...ask].map((v) => (Number.isNaN(v) ? null : formatFixed(v, inc.priceIncrement))),
      ["11650.5", null, "11651"],
    );
    assert.deepEqual(
      [...askQ].map((v) => (Number.isNaN(v) ? null : formatFixed(v, inc.amountIncrement))),
      ["100", null, "50"],
    );
    assert.deepEqual(
      [...bid].map((v) => (Number.isNaN(v) ? null : formatFixed(v, inc.priceIncrement))),
      ["11650", "11649.5", null],
    );
    assert.deepEqual(
      [...bidQ].map((v) => (Number.isNaN(v) ? null : formatFixed(v, inc.amountIncrement))),
      ["2000", "10", null],
    );
    assert.equal(df.getColumn("ask_px_int").nullCount(), 1);
  });

  it("a shallow book stops at the first empty level", async () => {
    const dir = newLake();
    const head = ["exchange", "symbol", "timestamp", "local_timestamp"];
    for (let k = 0; k < 5; k++) {
      head.push(`asks[${k}].price`, `asks[${k}].amount`, `bids[${k}].price`, `bids[${k}].amount`);
    }
    const lvl = (a: string, aq: string, b: string, bq: string) => [a, aq, b, bq];
    const row = [
      "okex,BTC-USDT,1598918401000000,1598918401100000",
      ...lvl("101", "1", "99", "2"),
      ...lvl("102", "1.5", "98.5", "0.25"),
      ...lvl("103", "3", "", ""),
      ...lvl("", "", "", ""),
      ...lvl("", "", "", ""),
    ].join(",");
    const file = writeCsv(join(dir, "src"), "book.csv", [head.join(","), row]);
    const { lake, ms } = await ingestOne(file, { lake: join(dir, "lake") });
    const df = readTable(lake, ms, "book_snapshot_25")!;
    const inc = await increments(lake, "okex", "BTC-USDT", 1598918401100000);
    const fmt = (a: number[], i: typeof inc.priceIncrement) => a.map((v) => formatFixed(v, i));
    assert.deepEqual(fmt(lists(df, "ask_px_int")[0]!, inc.priceIncrement), ["101", "102", "103"]);
    assert.deepEqual(fmt(lists(df, "ask_qty_int")[0]!, inc.amountIncrement), ["1", "1.5", "3"]);
    assert.deepEqual(fmt(lists(df, "bid_px_int")[0]!, inc.priceIncrement), ["99", "98.5"]);
    assert.deepEqual(fmt(lists(df, "bid_qty_int")[0]!, inc.amountIncrement), ["2", "0.25"]);
  });

  it("derivative_ticker: floats, empty → null, funding_timestamp → next_funding_time_us", async () => {
    const dir = newLake();
    const file = writeCsv(join(dir, "src"), "binance-futures_derivative_ticker_2020-09-01_BTCUSDT.csv", [
      TICKER_HEADER,
      "binance-futures,BTCUSDT,1598918400000000,1598918400100000,1598947200000000,0.0001,0.00012345,12345.678,11650.5,11649.81234567,11651.1",
      "binance-futures,BTCUSDT,1598918401000000,1598918401100000,,,,,11650.6,,11651.2",
      "bitmex,XBTUSD,1598918402000000,1598918402100000,1598947200000000,-0.000375,-0.0001,123456789,11655,11654.37,11654.99",
    ]);
    const csv = readCsv(file);
    const { lake, m, ms } = await ingestOne(file, { lake: join(dir, "lake") });
    assert.equal(m.report.tables.derivative_ticker?.rows_written, 3);
    const df = readTable(lake, ms, "derivative_ticker")!;
    assert.equal(df.height, 3);
    const h = csv.header;
    const map: [string, string][] = [
      ["funding_rate", "funding_rate"],
      ["predicted_funding_rate", "predicted_funding_rate"],
      ["open_interest", "open_interest"],
      ["last_px", "last_price"],
      ["index_px", "index_price"],
      ["mark_px", "mark_price"],
    ];
    for (const [dst, src] of map) {
      const v = f64(df, dst);
      csv.rows.forEach((r, i) => {
        const s = r[col(h, src)]!;
        if (s === "") assert.ok(Number.isNaN(v[i]!), `${dst} row ${i} null`);
        else assert.equal(v[i], Number(s), `${dst} row ${i}`);
      });
    }
    const nf = f64(df, "next_funding_time_us");
    csv.rows.forEach((r, i) => {
      const s = r[col(h, "funding_timestamp")]!;
      if (s === "") assert.ok(Number.isNaN(nf[i]!));
      else assert.equal(BigInt(nf[i]!), BigInt(s));
      assert.equal(BigInt(f64(df, "ts_exch_us")[i]!), BigInt(r[2]!));
      assert.equal(BigInt(f64(df, "ts_local_us")[i]!), BigInt(r[3]!));
    });
    assert.ok([...f64(df, "est_settle_px")].every(Number.isNaN), "est_settle_px is null/NaN");
  });
});

describe("tardis adapter: bad input", () => {
  it("quarantines malformed lines with file, line, field and reason", async () => {
    const dir = newLake();
    const T = (local: string, rest: string) => `binance-futures,BTCUSDT,1600000000000000,${local},${rest}`;
    const file = writeCsv(join(dir, "src"), "bad_trades.csv", [
      TRADES_HEADER, // 1
      T("1600000000000100", "1,buy,100.5,0.25"), // 2 ok
      T("1600000000001100", "2,buy,100.5"), // 3 wrong field count
      T("1600000000002100", "3,sell,abc,0.25"), // 4 non-numeric price
      T("1600000000003100", "4,sell,100.5,-0.25"), // 5 negative size
      T("1600000000003200", '"5",buy,100.5,0.25'), // 6 quote character
      T("16000000000x4100", "6,buy,100.5,0.25"), // 7 non-numeric timestamp
      T("1600000000005100", "7,buy,100.75,1"), // 8 ok
      T("1600000000000200", "8,sell,100.5,1"), // 9 timestamp goes backwards
      T("1600000000006100", "9,sell,101,2"), // 10 ok
      T("1600000000007100", "10,buy,-101,2"), // 11 negative price
      T("1600000000008100", "11,buy,101,2,extra"), // 12 too many fields
    ]);
    const { lake, m, ms } = await ingestOne(file, { lake: join(dir, "lake") });
    assert.equal(m.report.lines_read, 12);
    assert.equal(m.report.tables.trades?.rows_written, 3);
    assert.equal(m.report.tables.trades?.rows_rejected, 8);
    assert.deepEqual(m.report.lines_without_row, { header: 1 });
    const q = quarantine(lake, m);
    const expected: [number, string, RegExp][] = [
      [3, "line", /expected 8 comma-separated fields.*got 7/],
      [4, "price", /'abc' is not a decimal number/],
      [5, "amount", /'-0\.25' is negative/],
      [6, "line", /quote character.*Tardis CSVs are never quoted/],
      [7, "local_timestamp", /'16000000000x4100' is not a µs epoch timestamp/],
      [9, "ts_local_us", /timestamp went backwards: 1600000000000200 < 1600000000005100 at line 8/],
      [11, "price", /'-101' is negative/],
      [12, "line", /expected 8 comma-separated fields.*got 9/],
    ];
    assert.equal(q.length, expected.length);
    const lines = readFileSync(file, "utf8").split("\n");
    expected.forEach(([line, field, reason], k) => {
      const rec = q[k]!;
      assert.equal(rec.file, file);
      assert.equal(rec.line, line);
      assert.equal(rec.field, field);
      assert.match(rec.reason, reason);
      assert.equal(rec.raw, lines[line - 1]);
    });
    const df = readTable(lake, ms, "trades")!;
    assert.deepEqual([...f64(df, "file_line_number")], [2, 8, 10]);
  });

  it("more decimals than an override increment allows are rejected; others encode at the override", async () => {
    const dir = newLake();
    const lake = join(dir, "lake");
    const reg = await SymbolRegistry.open(lake);
    reg.setSymbol("binance-futures", "BTCUSDT", { priceIncrement: "0.1", amountIncrement: "0.001" });
    await reg.save();
    const file = writeCsv(join(dir, "src"), "t.csv", [
      TRADES_HEADER,
      "binance-futures,BTCUSDT,1600000000000000,1600000000000100,1,buy,100.5,0.25",
      "binance-futures,BTCUSDT,1600000000001000,1600000000001100,2,buy,100.25,0.25",
      "binance-futures,BTCUSDT,1600000000002000,1600000000002100,3,sell,100.50,0.0001",
      "binance-futures,BTCUSDT,1600000000003000,1600000000003100,4,sell,100.50,0.5000",
    ]);
    const { m, ms } = await ingestOne(file, { lake });
    assert.equal(m.report.tables.trades?.rows_written, 2);
    assert.equal(m.report.tables.trades?.rows_rejected, 2);
    const q = quarantine(lake, m);
    assert.deepEqual(
      q.map((r) => [r.file, r.line, r.field]),
      [
        [file, 3, "price"],
        [file, 4, "amount"],
      ],
    );
    assert.match(q[0]!.reason, /'100\.25' has more decimals than the increment 0\.1 allows/);
    assert.match(q[1]!.reason, /'0\.0001' has more decimals than the increment 0\.001 allows/);
    const df = readTable(lake, ms, "trades")!;
    assert.deepEqual([...f64(df, "px_int")], [1005, 1005]);
    assert.deepEqual([...f64(df, "qty_int")], [250, 500]);
    const reopened = await SymbolRegistry.open(lake);
    assert.equal(
      reopened.lookup("binance-futures", "BTCUSDT", 1600000000000100)?.entry.increment_source,
      "override",
    );
  });

  it("a price that is not a multiple of the increment is rejected", async () => {
    const dir = newLake();
    const lake = join(dir, "lake");
    const reg = await SymbolRegistry.open(lake);
    reg.setSymbol("bitmex", "XBTUSD", { priceIncrement: "0.5", amountIncrement: "1" });
    await reg.save();
    const file = writeCsv(join(dir, "src"), "t.csv", [
      TRADES_HEADER,
      "bitmex,XBTUSD,1600000000000000,1600000000000100,a,buy,8531.5,10",
      "bitmex,XBTUSD,1600000000001000,1600000000001100,b,buy,8531.3,10",
    ]);
    const { m } = await ingestOne(file, { lake });
    assert.equal(m.report.tables.trades?.rows_written, 1);
    assert.equal(m.report.tables.trades?.rows_rejected, 1);
    const q = quarantine(lake, m);
    assert.equal(q.length, 1);
    assert.equal(q[0]!.line, 3);
    assert.equal(q[0]!.field, "price");
    assert.match(q[0]!.reason, /'8531\.3' is not a multiple of the increment 0\.5/);
  });

  it("a truncated .gz raises an IngestError naming the file and commits nothing", async () => {
    const dir = newLake();
    const full = gzipSync(readFileSync(join(TARDIS, "trades.csv")));
    const gz = join(dir, "trades_truncated.csv.gz");
    writeFileSync(gz, full.subarray(0, Math.floor(full.length / 2)));
    const lake = join(dir, "lake");
    await assert.rejects(ingestFiles("tardis", [gz], { lake }), (e: unknown) => {
      assert.ok(e instanceof IngestError);
      assert.ok(e.message.includes(gz), e.message);
      assert.match(e.message, /truncated or corrupt gzip/);
      return true;
    });
    assert.equal(rowsOnDisk(lake, "trades"), 0);
  });

  it("an empty file is an error", async () => {
    const dir = newLake();
    const file = join(dir, "empty.csv");
    writeFileSync(file, "");
    await assert.rejects(
      ingestFiles("tardis", [file], { lake: join(dir, "lake") }),
      (e: unknown) => e instanceof IngestError && e.location.line === 1 && e.location.field === "header",
    );
  });

  it("ingesting the same file twice replaces its rows (idempotent)", async () => {
    const lake = newLake();
    const file = join(TARDIS, "trades.csv");
    const [m1] = await ingestFiles("tardis", [file], { lake });
    assert.equal(m1!.report.replaced_previous, false);
    const before = rowsOnDisk(lake, "trades");
    assert.equal(before, 9999);
    const [m2] = await ingestFiles("tardis", [file], { lake });
    assert.equal(m2!.report.replaced_previous, true);
    assertBalanced(m2!, 10_000);
    assert.equal(m2!.file_id, m1!.file_id);
    assert.deepEqual(
      m2!.parts.map((p) => p.path),
      m1!.parts.map((p) => p.path),
    );
    assert.equal(rowsOnDisk(lake, "trades"), before);
    const [m3] = await ingestFiles("tardis", [file], { lake, chunkRows: 1000 });
    assert.equal(m3!.report.replaced_previous, true);
    assert.equal(rowsOnDisk(lake, "trades"), before);
  });
});

// ---------------------------------------------------------------------------------------------
// Property: random valid trade files round-trip exactly
// ---------------------------------------------------------------------------------------------

const decimalArb = fc
  .tuple(fc.integer({ min: 0, max: 99_999 }), fc.array(fc.integer({ min: 0, max: 9 }), { maxLength: 8 }))
  .map(([int, frac]) => (frac.length === 0 ? String(int) : `${int}.${frac.join("")}`));

const tradeRowArb = fc.record({
  id: fc.stringMatching(/^[0-9a-z-]{0,12}$/),
  side: fc.constantFrom("buy", "sell", "unknown", ""),
  price: decimalArb,
  amount: decimalArb,
  dt: fc.integer({ min: 0, max: 5_000_000 }),
  lag: fc.integer({ min: 0, max: 2_000_000 }),
});

describe("tardis adapter: property", () => {
  it("random valid trade rows decode back to their exact decimal strings", async () => {
    const root = newLake();
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(tradeRowArb, { minLength: 1, maxLength: 40 }), async (rows) => {
        const dir = join(root, `run-${run++}`);
        try {
          let local = 1_600_000_000_000_000;
          const lines = [TRADES_HEADER];
          const locals: number[] = [];
          const exchs: number[] = [];
          for (const r of rows) {
            local += r.dt;
            locals.push(local);
            exchs.push(local - r.lag);
            lines.push(
              `binance-futures,BTCUSDT,${local - r.lag},${local},${r.id},${r.side},${r.price},${r.amount}`,
            );
          }
          const file = writeCsv(dir, "binance-futures_trades_BTCUSDT.csv", lines);
          const lake = join(dir, "lake");
          const ms = await ingestFiles("tardis", [file], { lake });
          const m = ms[0]!;
          assertBalanced(m, rows.length + 1);
          assert.equal(m.report.tables.trades?.rows_written, rows.length);
          const inc = await increments(lake, "binance-futures", "BTCUSDT", locals[0]!);
          const df = readTable(lake, ms, "trades")!;
          const px = f64(df, "px_int");
          const qty = f64(df, "qty_int");
          const side = f64(df, "side");
          const ids = strings(df, "trade_id");
          const tl = f64(df, "ts_local_us");
          const te = f64(df, "ts_exch_us");
          rows.forEach((r, i) => {
            assert.equal(formatFixed(px[i]!, inc.priceIncrement), canon(r.price));
            assert.equal(formatFixed(qty[i]!, inc.amountIncrement), canon(r.amount));
            assert.equal(side[i], sideRef(r.side));
            assert.equal(ids[i], r.id === "" ? null : r.id);
            assert.equal(tl[i], locals[i]);
            assert.equal(te[i], exchs[i]);
          });
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      }),
      { seed: 42, numRuns: 200 },
    );
  });
});
