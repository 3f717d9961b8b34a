/**
 * The Lean zip reader (src/ingest/lean/zip.ts) on the real files of ../shared/data/lean: IBM tick trades
 * and quotes, SPY second/minute trade and quote bars, ES minute quote bars, Coinbase/Binance crypto
 * minute bars, GOOG minute bars of a winter (EST) date. Every row is checked against the raw CSV lines
 * parsed here independently (fflate unzip, split, a fixed −4 h / −5 h New York offset for the known
 * season, Date.UTC for UTC), plus the accounting identity, quarantine, idempotency and the registry's
 * contract expiry. Interval bars aggregated from the ingested ticks are compared with Lean's own minute
 * bars of the same instrument and day (the vendor's aggregation: agreement reported, thresholds below).
 */
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { strToU8, unzipSync, zipSync } from "fflate";
import { DayClock, NEW_YORK, wallClockToUtcMs } from "../../src/core/zone.js";
import { ingestFiles } from "../../src/ingest/ingest.js";
import { contractExpiryUs, thirdFriday } from "../../src/ingest/lean/futures.js";
import { scaledDecimal } from "../../src/ingest/lean/zip.js";
import { totals } from "../../src/ingest/report.js";
import { listSymbols } from "../../src/lake/symbols.js";
import { queryFrame } from "../../src/query/query.js";
import type { TableName } from "../../src/schema/tables.js";
import { data, tempDir } from "../helpers/data.js";
import { runCli } from "../helpers/run-cli.js";

const LEAN = data("lean");
const H = 3_600_000;
/** Raw CSV lines of a Lean zip (every entry, name order), split on commas. */
function raw(path: string): string[][] {
  const files = unzipSync(new Uint8Array(readFileSync(path)));
  return Object.keys(files)
    .sort()
    .flatMap((n) =>
      new TextDecoder()
        .decode(files[n]!)
        .split(/\r?\n/)
        .filter((l) => l !== "")
        .map((l) => l.split(",")),
    );
}
const rec = async (lake: string, table: TableName, exchange: string, symbol: string) =>
  (await queryFrame(table, { lake, exchange, symbol, start: 0, end: 4e15 })).toRecords() as Record<
    string,
    unknown
  >[];
const n = (v: unknown) => (v === null || v === undefined ? Number.NaN : Number(v));

let dir = "";
let cleanup = () => {};
let lake = "";
const files = {
  ibmTrade: join(LEAN, "equity/usa/tick/ibm/20131007_trade.zip"),
  ibmQuote: join(LEAN, "equity/usa/tick/ibm/20131007_quote.zip"),
  ibmMinute: join(LEAN, "equity/usa/minute/ibm/20131007_trade.zip"),
  spySecQuote: join(LEAN, "equity/usa/second/spy/20131008_quote.zip"),
  esQuote: join(LEAN, "future/cme/minute/es/20131008_quote.zip"),
  esSunday: join(LEAN, "future/cme/minute/es/20131006_trade.zip"),
  cbTrade: join(LEAN, "crypto/coinbase/minute/btcusd/20180404_trade.zip"),
  bnPerpQuote: join(LEAN, "cryptofuture/binance/minute/btcusd/20221213_quote.zip"),
  googWinter: join(LEAN, "equity/usa/minute/goog/20151223_trade.zip"),
};
let manifests: Awaited<ReturnType<typeof ingestFiles>> = [];

describe("Lean zips → lake", () => {
  before(async () => {
    ({ dir, cleanup } = tempDir("pointline-lean-"));
    lake = join(dir, "lake");
    manifests = await ingestFiles("binance-vision", Object.values(files), { lake });
  });
  after(() => cleanup());

  it("time zones: New York wall clock through luxon, DST gap and overlap, constant-offset days", () => {
    // October 2013 is EDT (UTC−4), December 2015 EST (UTC−5)
    assert.equal(wallClockToUtcMs(NEW_YORK, 2013, 10, 7, 14430270), Date.UTC(2013, 9, 7, 4) + 14430270);
    assert.equal(wallClockToUtcMs(NEW_YORK, 2015, 12, 23, 9.5 * H), Date.UTC(2015, 11, 23, 14, 30));
    // 2013-03-10 02:30 does not exist in New York: forward by the gap (03:30 EDT = 07:30 UTC)
    assert.equal(wallClockToUtcMs(NEW_YORK, 2013, 3, 10, 2.5 * H), Date.UTC(2013, 2, 10, 7, 30));
    // 2013-11-03 01:30 happens twice: the earlier (EDT) instant, as Lean/NodaTime's lenient resolver
    assert.equal(wallClockToUtcMs(NEW_YORK, 2013, 11, 3, 1.5 * H), Date.UTC(2013, 10, 3, 5, 30));
    const fall = new DayClock(NEW_YORK, 2013, 11, 3);
    assert.equal(fall.transitionDay, true);
    assert.equal(fall.utcMs(12 * H), Date.UTC(2013, 10, 3, 17)); // noon EST after the change
    const plain = new DayClock(NEW_YORK, 2013, 10, 8);
    assert.equal(plain.transitionDay, false);
    assert.equal(plain.utcMs(9.5 * H), Date.UTC(2013, 9, 8, 13, 30));
  });

  it("deci-cents and contract expiry rules", () => {
    assert.equal(scaledDecimal("1815200", 4), "181.5200");
    assert.equal(scaledDecimal("5", 4), "0.0005");
    assert.equal(scaledDecimal("18.5", 4), null);
    assert.equal(thirdFriday(2013, 12), 20);
    assert.equal(thirdFriday(2014, 3), 21);
    assert.equal(thirdFriday(2014, 8), 15); // August 2014 starts on a Friday
    assert.equal(contractExpiryUs("ES", 2013, 12), Date.UTC(2013, 11, 20, 14, 30) * 1000); // 09:30 EST
    assert.equal(contractExpiryUs("ES", 2014, 6), Date.UTC(2014, 5, 20, 13, 30) * 1000); // 09:30 EDT
    assert.equal(contractExpiryUs("GC", 2013, 12), null);
  });

  it("accounting identity on every file; nothing rejected in the vendor's files", () => {
    for (const m of manifests) {
      const t = totals(m.report);
      assert.equal(m.report.lines_read, t.written + t.rejected + t.deduplicated + t.withoutRow, m.source);
      assert.equal(t.rejected, 0, m.source);
    }
  });

  it("IBM tick trades: every row = its CSV line (deci-cents, New York time, suspicious ticks counted)", async () => {
    const src = raw(files.ibmTrade);
    const kept = src.filter((f) => f[5] !== "1");
    const rows = await rec(lake, "trades", "usa", "IBM");
    assert.equal(rows.length, kept.length);
    const m = manifests.find((x) => x.source.endsWith("ibm/20131007_trade.zip"))!;
    assert.equal(m.report.lines_read, src.length);
    assert.equal(m.report.lines_without_row.suspicious ?? 0, src.length - kept.length);
    const edt = Date.UTC(2013, 9, 7, 4);
    for (let i = 0; i < kept.length; i++) {
      const f = kept[i]!;
      const r = rows[i]!;
      assert.equal(n(r.ts_local_us), (edt + Number(f[0])) * 1000, `ts row ${i}`);
      assert.equal(n(r.ts_exch_us), n(r.ts_local_us));
      assert.equal(n(r.side), -1);
      // increment 0.01 (largest significant decimals of the day's prices): px_int = deci-cents / 100
      assert.equal(n(r.px_int), Number(f[1]) / 100, `px row ${i}`);
      assert.equal(n(r.qty_int), Number(f[2]), `qty row ${i}`);
    }
    assert.equal(new Date(n(rows[0]!.ts_local_us) / 1000).toISOString(), "2013-10-07T08:00:30.270Z");
  });

  it("IBM tick quotes: one side per tick, the other side carried (full L1 state per row)", async () => {
    const src = raw(files.ibmQuote).filter((f) => f[7] !== "1");
    const rows = await rec(lake, "quotes", "usa", "IBM");
    assert.equal(rows.length, src.length);
    let bid = [Number.NaN, Number.NaN];
    let ask = [Number.NaN, Number.NaN];
    for (let i = 0; i < src.length; i++) {
      const f = src[i]!.map(Number);
      if (f[1] !== 0) bid = [f[1]! / 100, f[2]!];
      if (f[3] !== 0) ask = [f[3]! / 100, f[4]!];
      const r = rows[i]!;
      assert.deepEqual(
        [n(r.bid_px_int), n(r.bid_qty_int), n(r.ask_px_int), n(r.ask_qty_int)],
        [...bid, ...ask],
        `row ${i}`,
      );
    }
    // the first quote is ask-only: 14400054,0,0,1836300,100 → bid null, ask 183.63
    assert.ok(Number.isNaN(n(rows[0]!.bid_px_int)));
    assert.equal(n(rows[0]!.ask_px_int), 18363);
  });

  it("SPY second quote bars → quote_bars stamped at their end", async () => {
    const src = raw(files.spySecQuote);
    const rows = await rec(lake, "quote_bars", "usa", "SPY");
    assert.equal(rows.length, src.length);
    const edt = Date.UTC(2013, 9, 8, 4);
    for (let i = 0; i < src.length; i += 97) {
      const f = src[i]!;
      const r = rows[i]!;
      assert.equal(n(r.bar_start_us), (edt + Number(f[0])) * 1000);
      assert.equal(n(r.ts_local_us), n(r.bar_start_us) + 1_000_000);
      assert.equal(n(r.interval_us), 1_000_000);
      const cols = ["open", "high", "low", "close"];
      for (let k = 0; k < 4; k++) {
        assert.equal(n(r[`bid_${cols[k]}_px_int`]), Number(f[1 + k]) / 100);
        assert.equal(n(r[`ask_${cols[k]}_px_int`]), Number(f[6 + k]) / 100);
      }
      assert.equal(n(r.bid_qty_int), Number(f[5]));
      assert.equal(n(r.ask_qty_int), Number(f[10]));
    }
  });

  it("ES minute quote bars: one symbol per contract, empty sides null, UTC; expiry in the registry", async () => {
    const z = unzipSync(new Uint8Array(readFileSync(files.esQuote)));
    const dec = raw(files.esQuote);
    assert.equal(Object.keys(z).length, 5);
    const dec12 = new TextDecoder()
      .decode(z["20131008_es_minute_quote_201312.csv"]!)
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => l.split(","));
    const rows = await rec(lake, "quote_bars", "cme", "ESZ13");
    assert.equal(rows.length, dec12.length);
    let emptyBid = 0;
    for (let i = 0; i < dec12.length; i++) {
      const f = dec12[i]!;
      const r = rows[i]!;
      assert.equal(n(r.bar_start_us), (Date.UTC(2013, 9, 8) + Number(f[0])) * 1000);
      if (f[1] === "") {
        emptyBid++;
        assert.ok(Number.isNaN(n(r.bid_close_px_int)) && Number.isNaN(n(r.bid_qty_int)));
      } else assert.equal(n(r.bid_close_px_int), Math.round(Number(f[4]) * 100));
      if (f[6] !== "") assert.equal(n(r.ask_close_px_int), Math.round(Number(f[9]) * 100));
    }
    assert.ok(emptyBid > 0, "the file has bid-less minutes");
    let total = 0;
    for (const s of ["ESZ13", "ESH14", "ESM14", "ESU14", "ESZ14"])
      total += (await rec(lake, "quote_bars", "cme", s)).length;
    assert.equal(total, dec.length);
    const reg = (await listSymbols(lake)).find((e) => e.exchange === "cme" && e.exchange_symbol === "ESZ13")!;
    assert.equal(reg.asset_type, "future");
    assert.equal(reg.contract_month, "201312");
    assert.equal(reg.expiry_us, Date.UTC(2013, 11, 20, 14, 30) * 1000);
    assert.equal(reg.price_increment, "0.01"); // inferred from the decimals (quarter points: 2 decimals)
    const spy = (await listSymbols(lake)).find((e) => e.exchange === "usa" && e.exchange_symbol === "SPY")!;
    assert.equal(spy.asset_type, "equity");
    // `pointline symbols` prints them (contract month and expiry columns appear with futures)
    const cli = await runCli(["symbols", "--lake", lake]);
    assert.equal(cli.status, 0, cli.stderr);
    const head = cli.stdout.split("\n")[0]!.trim().split(/\s+/);
    assert.deepEqual(head.slice(-2), ["contract_month", "expiry"]);
    const es = cli.stdout.split("\n").find((l) => /^cme\s+ESZ13\s/.test(l))!;
    assert.match(es, /\s201312\s+2013-12-20T14:30:00(\.0+)?Z\s*$/);
    const spyLine = cli.stdout.split("\n").find((l) => /^usa\s+SPY\s/.test(l))!;
    assert.match(spyLine, /\s-\s+-\s*$/);
  });

  it("ES futures data are UTC: the Sunday Globex open (18:00 EDT) is at 22:00 UTC", async () => {
    const bars = await rec(lake, "ohlcv_bars", "cme", "ESZ13");
    const first = bars.find((r) => n(r.bar_start_us) < Date.UTC(2013, 9, 7) * 1000)!;
    assert.equal(new Date(n(first.bar_start_us) / 1000).toISOString(), "2013-10-06T22:00:00.000Z");
  });

  it("crypto spot and perpetual minute bars (UTC, plain decimals)", async () => {
    const src = raw(files.cbTrade);
    const rows = await rec(lake, "ohlcv_bars", "coinbase", "BTCUSD");
    assert.equal(rows.length, src.length);
    assert.equal(n(rows[1]!.bar_start_us), (Date.UTC(2018, 3, 4) + Number(src[1]![0])) * 1000);
    const q = await rec(lake, "quote_bars", "binance-delivery", "BTCUSD_PERP");
    assert.equal(q.length, raw(files.bnPerpQuote).length);
    const reg = (await listSymbols(lake)).find((e) => e.exchange === "binance-delivery")!;
    assert.equal(reg.asset_type, "perpetual");
  });

  it("a winter date (EST, UTC−5): GOOG 2015-12-23 minute bars", async () => {
    const src = raw(files.googWinter);
    const rows = await rec(lake, "ohlcv_bars", "usa", "GOOG");
    assert.equal(rows.length, src.length);
    assert.equal(n(rows[0]!.bar_start_us), (Date.UTC(2015, 11, 23, 5) + Number(src[0]![0])) * 1000);
    assert.equal(new Date(n(rows[0]!.bar_start_us) / 1000).toISOString(), "2015-12-23T09:59:00.000Z");
  });

  it("bars from the ingested ticks vs Lean's own minute bars (IBM 2013-10-07): agreement", async () => {
    const trades = await rec(lake, "trades", "usa", "IBM");
    const lean = await rec(lake, "ohlcv_bars", "usa", "IBM");
    const mine = new Map<number, number[]>();
    for (const t of trades) {
      const k = Math.floor(n(t.ts_local_us) / 60e6) * 60e6;
      const px = n(t.px_int);
      const b = mine.get(k);
      if (b === undefined) mine.set(k, [px, px, px, px, n(t.qty_int)]);
      else {
        b[1] = Math.max(b[1]!, px);
        b[2] = Math.min(b[2]!, px);
        b[3] = px;
        b[4]! += n(t.qty_int);
      }
    }
    let same = 0;
    let vol = 0;
    let close = 0;
    for (const r of lean) {
      const b = mine.get(n(r.bar_start_us));
      assert.ok(b !== undefined, "every Lean minute has ticks");
      const v = [r.open_px_int, r.high_px_int, r.low_px_int, r.close_px_int, r.volume_qty_int].map(n);
      if (v.every((x, k) => x === b[k])) same++;
      if (v[4] === b[4]) vol++;
      if (v[3] === b[3]) close++;
    }
    assert.equal(mine.size, lean.length); // the same 453 minutes
    // measured: volume 449/453 equal, close 378/453, all five fields 241/453 (Lean filters ticks by
    // sale condition for prices, not for volume; docs/intervals.md)
    assert.ok(vol / lean.length > 0.98, `volume agreement ${vol}/${lean.length}`);
    assert.ok(close / lean.length > 0.8, `close agreement ${close}/${lean.length}`);
    assert.ok(same / lean.length > 0.5, `OHLCV agreement ${same}/${lean.length}`);
  });

  it("idempotent re-ingest; bad lines quarantined with line and field", async () => {
    const again = await ingestFiles("binance-vision", [files.ibmMinute], { lake });
    assert.equal(totals(again[0]!.report).rejected, 0);
    assert.equal((await rec(lake, "ohlcv_bars", "usa", "IBM")).length, raw(files.ibmMinute).length);
    const d = join(dir, "bad", "equity", "usa", "tick", "xyz");
    mkdirSync(d, { recursive: true });
    const csv = [
      "34200000,1000000,100,P,0,0", // ok
      "34200001,1000000,100,P,0", // 5 fields
      "99999999,1000000,100,P,0,0", // time beyond the day
      "34200002,1000000.5,100,P,0,0", // not deci-cents
      "34200003,1000100,100,P,0,1", // suspicious: no row
      "", // blank: no row
      "34200004,0,100,P,0,0", // price 0
    ].join("\n");
    const f = join(d, "20131007_trade.zip");
    writeFileSync(f, zipSync({ "20131007_xyz_Trade_Tick.csv": strToU8(csv) }));
    const [m] = await ingestFiles("binance-vision", [f], { lake: join(dir, "badlake") });
    const t = totals(m!.report);
    assert.equal(m!.report.lines_read, 7);
    assert.deepEqual([t.written, t.rejected, t.withoutRow], [1, 4, 2]);
    assert.equal(m!.report.first_rejected?.line, 2);
    assert.equal(m!.report.first_rejected?.field, "fields");
    assert.ok(Object.keys(m!.report.rejected_by_reason).some((k) => k.startsWith("trades.price: ")));
  });
});
