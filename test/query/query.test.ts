/**
 * Query API on the real 2024-08-08 BTCUSDT USDⓈ-M capture (hftbacktest example). The capture is
 * ingested into a temp lake (a private copy of the shared test lake, see helpers/lake.ts); every expected value is recomputed by brute force from the raw
 * gzip text (zlib.gunzipSync, one message per line, local ts = floor(ns / 1000)).
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { gunzipSync } from "node:zlib";
import pl from "nodejs-polars";
import { ConfigError } from "../../src/core/errors.js";
import { dataCoverage } from "../../src/lake/catalog.js";
import { listSymbols } from "../../src/lake/symbols.js";
import { type LevelColumn, type QueryRequest, query, queryFrame } from "../../src/query/query.js";
import { BOOK_DEPTH, type DType, tableColumns } from "../../src/schema/tables.js";
import { HFT } from "../helpers/data.js";
import { CAPTURES, captureLake } from "../helpers/lake.js";

const CAPTURE = join(HFT, "usdm", "btcusdt_20240808.gz");
assert.equal(CAPTURE, CAPTURES.usdm2024);
const EXCHANGE = "binance-futures";
const SYMBOL = "BTCUSDT";
/** 2024-08-08T00:00:00Z in µs (1723075200 s). */
const D0808 = 1_723_075_200_000_000;

interface RawTrade {
  readonly line: number;
  readonly ts: number;
  readonly tsExch: number;
  readonly id: string;
  readonly p: string;
  readonly q: string;
  readonly m: boolean;
}

interface RawDepth {
  readonly line: number;
  readonly ts: number;
  readonly U: number;
  readonly u: number;
  readonly pu: number;
}

interface Raw {
  trades: RawTrade[];
  quotes: { line: number; ts: number }[];
  depth: RawDepth[];
  snapshot: { line: number; ts: number; lastUpdateId: number } | null;
  priceDecimals: number;
  amountDecimals: number;
  lines: number;
}

/** Significant decimals of a plain decimal string. */
function sigDecimals(s: string): number {
  const dot = s.indexOf(".");
  return dot < 0 ? 0 : s.slice(dot + 1).replace(/0+$/, "").length;
}

/** Number of decimals written in a plain decimal string. */
function fracLen(s: string): number {
  const dot = s.indexOf(".");
  return dot < 0 ? 0 : s.length - dot - 1;
}

/** `s` as an integer count of 10^-k (asserting it is exact). */
function scaled(s: string, k: number): number {
  const [int = "", frac = ""] = s.split(".");
  assert.ok(sigDecimals(s) <= k, `${s} has more than ${k} decimals`);
  const v = BigInt(int + frac.padEnd(k, "0").slice(0, k));
  assert.ok(v <= BigInt(Number.MAX_SAFE_INTEGER));
  return Number(v);
}

/** Test-local formatter: integer count of 10^-k → decimal string with at least `minDec` decimals. */
function formatScaledRef(v: number, k: number, minDec: number): string {
  let digits = BigInt(v).toString();
  if (k === 0) return minDec > 0 ? `${digits}.${"0".repeat(minDec)}` : digits;
  digits = digits.padStart(k + 1, "0");
  let frac = digits.slice(-k).replace(/0+$/, "");
  frac = frac.padEnd(minDec, "0");
  const int = digits.slice(0, -k);
  return frac.length > 0 ? `${int}.${frac}` : int;
}

function readRaw(): Raw {
  const text = gunzipSync(readFileSync(CAPTURE)).toString("utf8");
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  const raw: Raw = {
    trades: [],
    quotes: [],
    depth: [],
    snapshot: null,
    priceDecimals: 0,
    amountDecimals: 0,
    lines: lines.length,
  };
  const px = (s: unknown): void => {
    if (typeof s === "string") raw.priceDecimals = Math.max(raw.priceDecimals, sigDecimals(s));
  };
  const qty = (s: unknown): void => {
    if (typeof s === "string") raw.amountDecimals = Math.max(raw.amountDecimals, sigDecimals(s));
  };
  const levels = (ls: unknown): void => {
    for (const l of ls as [string, string][]) {
      px(l[0]);
      qty(l[1]);
    }
  };
  lines.forEach((l, i) => {
    const line = i + 1;
    const sp = l.indexOf(" ");
    const ts = Number(BigInt(l.slice(0, sp)) / 1000n); // 19-digit ns → µs, floored
    const msg = JSON.parse(l.slice(sp + 1)) as Record<string, unknown>;
    const stream = msg["stream"];
    const d = msg["data"] as Record<string, unknown> | undefined;
    if (typeof stream !== "string") {
      raw.snapshot = { line, ts, lastUpdateId: msg["lastUpdateId"] as number };
      levels(msg["bids"]);
      levels(msg["asks"]);
    } else if (stream.endsWith("@trade") && d !== undefined) {
      raw.trades.push({
        line,
        ts,
        tsExch: (d["T"] as number) * 1000,
        id: String(d["t"]),
        p: d["p"] as string,
        q: d["q"] as string,
        m: d["m"] as boolean,
      });
      px(d["p"]);
      qty(d["q"]);
    } else if (stream.endsWith("@bookTicker") && d !== undefined) {
      raw.quotes.push({ line, ts });
      px(d["b"]);
      px(d["a"]);
      qty(d["B"]);
      qty(d["A"]);
    } else if (stream.includes("@depth") && d !== undefined) {
      raw.depth.push({ line, ts, U: d["U"] as number, u: d["u"] as number, pu: d["pu"] as number });
      levels(d["b"]);
      levels(d["a"]);
    } else {
      throw new Error(`unexpected line ${line}: ${l.slice(0, 80)}`);
    }
  });
  return raw;
}

/**
 * Book rows by Binance's USDⓈ-M rules: diffs before the snapshot are buffered (no row); the snapshot
 * emits a row; then diffs with u < lastUpdateId are dropped, the first kept one must have
 * U ≤ lastUpdateId ≤ u, and each next one pu = previous u. Returns the row lines (or null on a gap).
 */
function refBookRowLines(raw: Raw): number[] | null {
  const snap = raw.snapshot;
  assert.ok(snap !== null);
  let last = snap.lastUpdateId;
  let first = true;
  const rows: number[] = [snap.line];
  for (const d of raw.depth) {
    if (first && d.u < last) continue;
    if (first ? !(d.U <= last && last <= d.u) : d.pu !== last) return null;
    first = false;
    last = d.u;
    if (d.line > snap.line) rows.push(d.line);
  }
  return rows;
}

/** ISO-8601 with µs for a time on 2024-08-08 (hand arithmetic from midnight). */
function isoOn0808(us: number): string {
  const rem = us - D0808;
  assert.ok(rem >= 0 && rem < 86_400_000_000);
  const p = (n: number, w: number): string => String(n).padStart(w, "0");
  const hh = Math.floor(rem / 3_600_000_000);
  const mi = Math.floor(rem / 60_000_000) % 60;
  const ss = Math.floor(rem / 1_000_000) % 60;
  return `2024-08-08T${p(hh, 2)}:${p(mi, 2)}:${p(ss, 2)}.${p(rem % 1_000_000, 6)}Z`;
}

const f64 = (c: unknown): Float64Array => {
  assert.ok(c instanceof Float64Array);
  return c;
};

describe("query on the 2024-08-08 BTCUSDT capture", () => {
  let lake: string;
  let cleanup: () => void;
  let raw: Raw;
  const req = (start: QueryRequest["start"], end: QueryRequest["end"]): QueryRequest => ({
    lake,
    exchange: EXCHANGE,
    symbol: SYMBOL,
    start,
    end,
  });

  before(async () => {
    raw = readRaw();
    ({ lake, cleanup } = await captureLake(["usdm2024"]));
  });
  after(() => cleanup());

  it("brute-force reference sanity (hand-checked from the raw text)", () => {
    assert.equal(raw.lines, 93954);
    assert.equal(raw.trades.length, 21313);
    assert.equal(raw.quotes.length, 66089);
    assert.equal(raw.depth.length, 6551);
    assert.equal(raw.snapshot?.line, 55);
    assert.equal(raw.priceDecimals, 1); // BTCUSDT perp tick 0.1 ("61800.30" etc.)
    assert.equal(raw.amountDecimals, 3); // lot 0.001 ("0.006")
    assert.equal(raw.trades[0]?.ts, 1723161255088176);
  });

  it("trades over a sub-range equal the brute-force reference ([start, end) boundaries)", async () => {
    const start = raw.trades[5000]!.ts;
    const end = raw.trades[9000]!.ts;
    const expected = raw.trades.filter((t) => t.ts >= start && t.ts < end);
    assert.ok(expected.length > 3000);
    const got = await query.trades(req(start, end));
    assert.equal(got.length, expected.length);
    const ts = f64(got.columns["ts_local_us"]);
    const line = f64(got.columns["file_line_number"]);
    const px = f64(got.columns["px_int"]);
    const qty = f64(got.columns["qty_int"]);
    const exch = f64(got.columns["ts_exch_us"]);
    const side = got.columns["side"];
    assert.ok(side instanceof Int8Array);
    const ids = got.columns["trade_id"] as (string | null)[];
    const k = raw.priceDecimals;
    const kq = raw.amountDecimals;
    for (let i = 0; i < expected.length; i++) {
      const e = expected[i]!;
      assert.equal(ts[i], e.ts, `row ${i} ts`);
      assert.equal(line[i], e.line, `row ${i} line`);
      assert.equal(ids[i], e.id, `row ${i} trade id`);
      assert.equal(px[i], scaled(e.p, k), `row ${i} px_int`);
      assert.equal(qty[i], scaled(e.q, kq), `row ${i} qty_int`);
      assert.equal(exch[i], e.tsExch, `row ${i} ts_exch_us`);
      assert.equal(side[i], e.m ? 1 : 0, `row ${i} side`);
      // Prices and sizes as decimal strings, with the raw text's trailing zeros restored.
      assert.equal(formatScaledRef(px[i]!, k, fracLen(e.p)), e.p);
      assert.equal(formatScaledRef(qty[i]!, kq, fracLen(e.q)), e.q);
    }
    // Boundaries: every trade at exactly `start` is included, none at exactly `end`.
    const atStart = raw.trades.filter((t) => t.ts === start).length;
    assert.ok(atStart >= 1);
    assert.equal([...ts].filter((t) => t === start).length, atStart);
    assert.equal([...ts].filter((t) => t === end).length, 0);
    assert.ok(
      raw.trades.some((t) => t.ts === end),
      "a trade exists exactly at end",
    );
  });

  it("gives identical results for µs, bigint, ISO-string and Date inputs", async () => {
    const start = raw.trades[12000]!.ts;
    const end = raw.trades[12500]!.ts;
    const a = await query.trades(req(start, end));
    const b = await query.trades(req(BigInt(start), BigInt(end)));
    const c = await query.trades(req(isoOn0808(start), isoOn0808(end)));
    assert.equal(a.length, raw.trades.filter((t) => t.ts >= start && t.ts < end).length);
    assert.deepEqual(b, a);
    assert.deepEqual(c, a);
    // Whole-millisecond range, so that a Date can express it exactly.
    const ms0 = Math.ceil(raw.trades[15000]!.ts / 1000);
    const ms1 = Math.ceil(raw.trades[15400]!.ts / 1000);
    const viaDate = await query.trades(req(new Date(ms0), new Date(ms1)));
    const viaUs = await query.trades(req(ms0 * 1000, ms1 * 1000));
    const viaIso = await query.trades(req(isoOn0808(ms0 * 1000), isoOn0808(ms1 * 1000)));
    assert.equal(viaUs.length, raw.trades.filter((t) => t.ts >= ms0 * 1000 && t.ts < ms1 * 1000).length);
    assert.deepEqual(viaDate, viaUs);
    assert.deepEqual(viaIso, viaUs);
  });

  it("returns rows in nondecreasing (ts_local_us, file_line_number) order", async () => {
    const got = await query.trades(req("2024-08-08", "2024-08-09"));
    assert.equal(got.length, raw.trades.length);
    const ts = f64(got.columns["ts_local_us"]);
    const line = f64(got.columns["file_line_number"]);
    for (let i = 1; i < got.length; i++) {
      assert.ok(
        ts[i - 1]! < ts[i]! || (ts[i - 1] === ts[i] && line[i - 1]! < line[i]!),
        `row ${i} out of order`,
      );
    }
    assert.deepEqual(
      [...line],
      raw.trades.map((t) => t.line),
    );
  });

  it("queryFrame returns a nodejs-polars DataFrame with the canonical columns and dtypes", async () => {
    const expectDtype = (d: DType): pl.DataType =>
      ({ i64: pl.Int64, f64: pl.Float64, i8: pl.Int8, str: pl.String, list_i64: pl.List(pl.Int64) })[d];
    for (const table of ["trades", "quotes", "book_snapshot_25"] as const) {
      const df = await queryFrame(table, req("2024-08-08T23:55:00Z", "2024-08-08T23:55:10Z"));
      // nodejs-polars frames are not `instanceof pl.DataFrame` (factory function); check the tag.
      assert.equal(Object.prototype.toString.call(df), "[object DataFrame]");
      assert.ok(df.height > 0, table);
      const spec = tableColumns(table);
      assert.deepEqual(
        df.columns,
        spec.map((c) => c.name),
      );
      for (const c of spec) {
        const dt = df.getColumn(c.name).dtype;
        assert.ok(dt.equals(expectDtype(c.dtype)), `${table}.${c.name}: ${String(dt)} vs ${c.dtype}`);
      }
    }
    const df = await queryFrame("trades", req(raw.trades[0]!.ts, raw.trades[10]!.ts));
    assert.equal(df.height, raw.trades.filter((t) => t.ts < raw.trades[10]!.ts).length);
    assert.deepEqual(
      [...df.getColumn("ts_local_us").cast(pl.Float64).toTypedArray()],
      raw.trades.filter((t) => t.ts < raw.trades[10]!.ts).map((t) => t.ts),
    );
  });

  it("bookSnapshot25 rows have ≤ 25 levels, bids strictly descending, asks strictly ascending", async () => {
    const got = await query.bookSnapshot25(req("2024-08-08", "2024-08-09"));
    const expectLines = refBookRowLines(raw);
    assert.ok(expectLines !== null, "the capture has no sequence gap");
    assert.equal(got.length, expectLines.length);
    assert.deepEqual([...f64(got.columns["file_line_number"])], expectLines);
    const bp = got.columns["bid_px_int"] as LevelColumn;
    const bq = got.columns["bid_qty_int"] as LevelColumn;
    const ap = got.columns["ask_px_int"] as LevelColumn;
    const aq = got.columns["ask_qty_int"] as LevelColumn;
    for (let i = 0; i < got.length; i++) {
      const nb = bp.lens[i]!;
      const na = ap.lens[i]!;
      assert.ok(nb <= BOOK_DEPTH && na <= BOOK_DEPTH);
      assert.ok(nb > 0 && na > 0, `row ${i} has an empty side`);
      assert.equal(bq.lens[i], nb);
      assert.equal(aq.lens[i], na);
      const o = i * BOOK_DEPTH;
      for (let k = 1; k < nb; k++) assert.ok(bp.values[o + k - 1]! > bp.values[o + k]!, `row ${i} bid ${k}`);
      for (let k = 1; k < na; k++) assert.ok(ap.values[o + k - 1]! < ap.values[o + k]!, `row ${i} ask ${k}`);
      for (let k = 0; k < nb; k++) assert.ok(bq.values[o + k]! > 0, `row ${i} bid qty ${k}`);
      for (let k = 0; k < na; k++) assert.ok(aq.values[o + k]! > 0, `row ${i} ask qty ${k}`);
    }
    // The snapshot row: first row, at the snapshot's arrival time.
    assert.equal(f64(got.columns["ts_local_us"])[0], raw.snapshot?.ts);
    assert.equal(bp.lens[0], BOOK_DEPTH);
  });

  it("an empty range returns 0 rows with the canonical columns", async () => {
    const names = tableColumns("trades").map((c) => c.name);
    const before2020 = await query.trades(req("2020-01-01", "2020-01-02"));
    assert.equal(before2020.length, 0);
    assert.deepEqual(Object.keys(before2020.columns), names);
    const df = await queryFrame("trades", req("2020-01-01", "2020-01-02"));
    assert.equal(df.height, 0);
    assert.deepEqual(df.columns, names);
    const full = await queryFrame("trades", req("2024-08-08", "2024-08-09"));
    assert.deepEqual(
      df.dtypes.map((d) => String(d)),
      full.dtypes.map((d) => String(d)),
      "empty and non-empty frames have the same dtypes",
    );
    // A gap between two consecutive trades, inside the stored data.
    const i = raw.trades.findIndex((t, j) => j > 0 && t.ts - raw.trades[j - 1]!.ts > 2);
    assert.ok(i > 0);
    const gap = await query.trades(req(raw.trades[i - 1]!.ts + 1, raw.trades[i]!.ts));
    assert.equal(gap.length, 0);
    assert.deepEqual(Object.keys(gap.columns), names);
    const other = await query.trades({ ...req("2024-08-08", "2024-08-09"), symbol: "ETHUSDT" });
    assert.equal(other.length, 0);
    // a table with book level lists: the empty frame has the list columns with the stored dtypes
    const emptyBook = await queryFrame("book_snapshot_25", req("2020-01-01", "2020-01-02"));
    const fullBook = await queryFrame("book_snapshot_25", req("2024-08-08T23:59:00Z", "2024-08-09"));
    assert.equal(emptyBook.height, 0);
    assert.ok(fullBook.height > 0);
    assert.deepEqual(
      emptyBook.dtypes.map((d) => String(d)),
      fullBook.dtypes.map((d) => String(d)),
    );
    const typedBook = await query.bookSnapshot25({ ...req("2020-01-01", "2020-01-02"), decoded: true });
    assert.equal(typedBook.length, 0);
  });

  it("decoded: px / qty are the vendor's decimal strings as numbers, per row, in typed and frame form", async () => {
    const start = raw.trades[5000]!.ts;
    const end = raw.trades[9000]!.ts;
    const expected = raw.trades.filter((t) => t.ts >= start && t.ts < end);
    const t = await query.trades({ ...req(start, end), decoded: true });
    assert.equal(t.length, expected.length);
    const px = f64(t.columns.px);
    const qty = f64(t.columns.qty);
    expected.forEach((e, i) => {
      // Number("61800.30") is the double nearest the decimal: the decoding is exact to that
      assert.equal(px[i], Number(e.p), `px[${i}] ${e.p}`);
      assert.equal(qty[i], Number(e.q), `qty[${i}] ${e.q}`);
    });
    assert.deepEqual(f64(t.columns.px_int), f64((await query.trades(req(start, end))).columns.px_int));
    const df = await queryFrame("trades", { ...req(start, end), decoded: true });
    assert.deepEqual(Float64Array.from(df.getColumn("px").toArray() as number[]), px);
    assert.equal(String(df.getColumn("qty").dtype), String(pl.Float64));
    // book levels: every decoded level equals its integer level × the increment (0.1 / 0.001) as the
    // decimal string a test-local formatter writes, parsed
    const b = await query.bookSnapshot25({ ...req(start, end), decoded: true });
    assert.ok(b.length > 0);
    const bi = b.columns.bid_px_int as LevelColumn;
    const bd = b.columns.bid_px as LevelColumn;
    const qi = b.columns.ask_qty_int as LevelColumn;
    const qd = b.columns.ask_qty as LevelColumn;
    assert.deepEqual(bd.lens, bi.lens);
    for (let i = 0; i < b.length; i++) {
      for (let k = 0; k < bi.lens[i]!; k++) {
        const o = i * BOOK_DEPTH + k;
        assert.equal(bd.values[o], Number(formatScaledRef(bi.values[o]!, 1, 0)), `bid_px ${i}/${k}`);
      }
      for (let k = 0; k < qi.lens[i]!; k++) {
        const o = i * BOOK_DEPTH + k;
        assert.equal(qd.values[o], Number(formatScaledRef(qi.values[o]!, 3, 0)), `ask_qty ${i}/${k}`);
      }
    }
    const bf = await queryFrame("book_snapshot_25", { ...req(start, end), decoded: true });
    const first = bf.getColumn("bid_px").toArray()[0] as unknown as number[];
    assert.deepEqual(first, Array.from(bd.values.subarray(0, bd.lens[0]!)));
    // an empty range has the decoded columns too
    const none = await queryFrame("trades", { ...req("2020-01-01", "2020-01-02"), decoded: true });
    assert.deepEqual(none.columns, [...tableColumns("trades").map((c) => c.name), "px", "qty"]);
  });

  it("end ≤ start throws ConfigError", async () => {
    const t = raw.trades[100]!.ts;
    await assert.rejects(query.trades(req(t, t)), ConfigError);
    await assert.rejects(query.trades(req(t, t - 1)), ConfigError);
    await assert.rejects(queryFrame("quotes", req("2024-08-09", "2024-08-08")), ConfigError);
    await assert.rejects(query.trades(req("not a time", t)), ConfigError);
  });

  it("dataCoverage has one row per table with brute-force counts and times", async () => {
    const cov = await dataCoverage(lake);
    const book = refBookRowLines(raw)!;
    const byTable = new Map(cov.map((r) => [r.table, r]));
    assert.deepEqual([...byTable.keys()].sort(), ["book_snapshot_25", "quotes", "trades"]);
    assert.equal(cov.length, 3);
    const check = (table: string, rows: number, first: number, last: number): void => {
      const r = byTable.get(table as never);
      assert.ok(r !== undefined, table);
      assert.equal(r.exchange, EXCHANGE);
      assert.equal(r.symbol, SYMBOL);
      assert.equal(r.rows, rows, `${table} rows`);
      assert.equal(r.first_ts_local_us, first, `${table} first`);
      assert.equal(r.last_ts_local_us, last, `${table} last`);
      assert.equal(r.partitions, 1);
      assert.equal(r.files, 1);
    };
    check("trades", raw.trades.length, raw.trades[0]!.ts, raw.trades.at(-1)!.ts);
    check("quotes", raw.quotes.length, raw.quotes[0]!.ts, raw.quotes.at(-1)!.ts);
    const lastBookLine = book.at(-1)!;
    const lastBookTs = raw.depth.find((d) => d.line === lastBookLine)?.ts ?? raw.snapshot!.ts;
    check("book_snapshot_25", book.length, raw.snapshot!.ts, lastBookTs);
  });

  it("listSymbols has the inferred registry entry with the documented symbol_id", async () => {
    const syms = await listSymbols(lake);
    assert.equal(syms.length, 1);
    const e = syms[0]!;
    const px = `0.${"0".repeat(raw.priceDecimals - 1)}1`;
    const qty = `0.${"0".repeat(raw.amountDecimals - 1)}1`;
    assert.equal(e.exchange, EXCHANGE);
    assert.equal(e.exchange_symbol, SYMBOL);
    assert.equal(e.price_increment, px);
    assert.equal(e.amount_increment, qty);
    assert.equal(e.increment_source, "inferred");
    assert.equal(e.valid_from_us, D0808);
    // Documented in src/lake/registry.ts: 48-bit prefix of sha256(exchange \0 symbol \0 valid_from_us).
    const hex = createHash("sha256").update(`${EXCHANGE}\u0000${SYMBOL}\u0000${D0808}`).digest("hex");
    assert.equal(e.symbol_id, Number.parseInt(hex.slice(0, 12), 16));
    const got = await query.trades(req(raw.trades[0]!.ts, raw.trades[1]!.ts + 1));
    assert.ok([...f64(got.columns["symbol_id"])].every((v) => v === e.symbol_id));
  });
});
