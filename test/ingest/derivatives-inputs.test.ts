/**
 * The derivatives inputs' adapters: Binance metrics CSV and REST JSON (fixtures written from the documented
 * formats: binance-public-data metrics header; USDⓈ-M REST openInterestHist / topLongShortAccountRatio /
 * takerlongshortRatio responses), `@forceOrder` capture lines (Binance "Liquidation Order Streams"), and
 * the real freqtrade candle files and Lean ES zips. Each checks rows against the source values, PIT stamps,
 * the accounting identity and quarantined rejections with line and field.
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { toUs } from "../../src/core/time.js";
import { ingestFiles } from "../../src/ingest/ingest.js";
import { futuresSymbol } from "../../src/ingest/lean/futures.js";
import { totals } from "../../src/ingest/report.js";
import { queryFrame } from "../../src/query/query.js";
import { data, tempDir } from "../helpers/data.js";

let dir = "";
let cleanup = () => {};
const lakeOf = (name: string) => join(dir, name);
const rows = async (
  lake: string,
  table: Parameters<typeof queryFrame>[0],
  exchange: string,
  symbol: string,
) =>
  (await queryFrame(table, { lake, exchange, symbol, start: 0, end: 4e15 })).toRecords() as Record<
    string,
    unknown
  >[];

describe("derivatives input adapters", () => {
  before(() => {
    ({ dir, cleanup } = tempDir("pointline-deriv-in-"));
  });
  after(() => cleanup());

  it("metrics CSV → open_interest + long_short_ratio (two records per line, bad ratio rejected alone)", async () => {
    const f = join(dir, "BTCUSDT-metrics-2024-01-01.csv");
    writeFileSync(
      f,
      [
        "create_time,symbol,sum_open_interest,sum_open_interest_value,count_toptrader_long_short_ratio,sum_toptrader_long_short_ratio,count_long_short_ratio,sum_taker_long_short_vol_ratio",
        "2024-01-01 00:05:00,BTCUSDT,71208.123,3012345678.9,1.2345,1.1111,1.3333,0.9876",
        "2024-01-01 00:10:00,BTCUSDT,71210.5,3012400000,1.25,1.12,abc,0.99",
        "2024-01-01 00:15:00,BTCUSDT,bad,1,1,1,1,1",
      ].join("\n"),
    );
    const [m] = await ingestFiles("binance-vision", [f], { lake: lakeOf("m") });
    const t = totals(m!.report);
    assert.equal(m!.report.lines_read, 7); // header + 3 lines × 2 records
    assert.equal(t.written, 4); // line 2: both; line 3: open interest only; line 4: long/short only
    assert.equal(t.rejected, 2);
    assert.equal(m!.report.first_rejected?.line, 3);
    const oi = await rows(lakeOf("m"), "open_interest", "binance-futures", "BTCUSDT");
    assert.deepEqual(
      oi.map((r) => [Number(r.ts_local_us), r.open_interest, r.open_interest_value]),
      [
        [toUs("2024-01-01T00:05:00Z"), 71208.123, 3012345678.9],
        [toUs("2024-01-01T00:10:00Z"), 71210.5, 3012400000],
      ],
    );
    const ls = await rows(lakeOf("m"), "long_short_ratio", "binance-futures", "BTCUSDT");
    assert.deepEqual(
      ls.map((r) => [
        r.top_account_ratio,
        r.top_position_ratio,
        r.global_account_ratio,
        r.taker_buy_sell_ratio,
      ]),
      [
        [1.2345, 1.1111, 1.3333, 0.9876],
        [1, 1, 1, 1],
      ],
    );
  });

  it("REST JSON → one column per endpoint, timestamps as numbers or strings", async () => {
    const a = join(dir, "BTCUSDT-openInterestHist-5m.json");
    writeFileSync(
      a,
      JSON.stringify([
        {
          symbol: "BTCUSDT",
          sumOpenInterest: "20403.63700000",
          sumOpenInterestValue: "150570784.07809979",
          timestamp: 1583127900000,
        },
        {
          symbol: "BTCUSDT",
          sumOpenInterest: "20401.36700000",
          sumOpenInterestValue: "149940752.14464448",
          timestamp: "1583128200000",
        },
      ]),
    );
    const b = join(dir, "BTCUSDT-topLongShortAccountRatio-5m.json");
    writeFileSync(
      b,
      JSON.stringify([
        {
          symbol: "BTCUSDT",
          longShortRatio: "1.8105",
          longAccount: "0.6442",
          shortAccount: "0.3558",
          timestamp: 1583127900000,
        },
        { symbol: "ETHUSDT", longShortRatio: "1", timestamp: 1583128200000 },
      ]),
    );
    const c = join(dir, "BTCUSDT-takerlongshortRatio-5m.json");
    writeFileSync(
      c,
      JSON.stringify([
        { buySellRatio: "1.5586", buyVol: "387.3300", sellVol: "248.5030", timestamp: 1585614900000 },
      ]),
    );
    const ms = await ingestFiles("binance-vision", [a, b, c], { lake: lakeOf("r") });
    assert.deepEqual(
      ms.map((m) => [totals(m.report).written, totals(m.report).rejected]),
      [
        [2, 0],
        [1, 1],
        [1, 0],
      ],
    );
    const oi = await rows(lakeOf("r"), "open_interest", "binance-futures", "BTCUSDT");
    assert.deepEqual(
      oi.map((r) => [Number(r.ts_local_us), r.open_interest]),
      [
        [1583127900000000, 20403.637],
        [1583128200000000, 20401.367],
      ],
    );
    const ls = await rows(lakeOf("r"), "long_short_ratio", "binance-futures", "BTCUSDT");
    assert.deepEqual(
      ls.map((r) => [r.top_account_ratio, r.taker_buy_sell_ratio]),
      [
        [1.8105, null],
        [null, 1.5586],
      ],
    );
  });

  it("@forceOrder capture lines → liquidations (side, average price, filled qty)", async () => {
    const f = join(dir, "btcusdt_liq.txt");
    const msg = (side: string, ap: string, z: string, t: number) =>
      `${t * 1000} ${JSON.stringify({ stream: "btcusdt@forceOrder", data: { e: "forceOrder", E: t, o: { s: "BTCUSDT", S: side, o: "LIMIT", f: "IOC", q: "0.014", p: "9910", ap, X: "FILLED", l: z, z, T: t } } })}`;
    writeFileSync(
      f,
      [
        msg("SELL", "9910.5", "0.014", 1568014460893),
        msg("BUY", "0", "0", 1568014461893),
        msg("HOLD", "1", "1", 1568014462893),
      ].join("\n"),
    );
    const [m] = await ingestFiles("binance-capture", [f], { lake: lakeOf("l") });
    assert.deepEqual([totals(m!.report).written, totals(m!.report).rejected], [2, 1]);
    const liq = await rows(lakeOf("l"), "liquidations", "binance-futures", "BTCUSDT");
    // price increment 0.1 (9910.5), amount 0.001: SELL at ap 9910.5 × z 0.014; BUY falls back to p 9910 × q 0.014
    assert.deepEqual(
      liq.map((r) => [r.side, Number(r.px_int), Number(r.qty_int), Number(r.ts_exch_us)]),
      [
        [1, 99105, 14, 1568014460893000],
        [0, 99100, 14, 1568014461893000],
      ],
    );
  });

  it("freqtrade candles: 5 m perp bars stamped at their end, mark candles as derivative_ticker.mark_px", async () => {
    const ft = data("freqtrade/tests/testdata/futures");
    const ms = await ingestFiles(
      "binance-vision",
      [join(ft, "XRP_USDT_USDT-5m-futures.json"), join(ft, "XRP_USDT_USDT-8h-mark.json")],
      { lake: lakeOf("f") },
    );
    for (const m of ms)
      assert.equal(totals(m.report).written + totals(m.report).rejected, m.report.lines_read);
    const src = JSON.parse(readFileSync(join(ft, "XRP_USDT_USDT-5m-futures.json"), "utf8")) as number[][];
    const bars = await queryFrame("ohlcv_bars", {
      lake: lakeOf("f"),
      exchange: "binance-futures",
      symbol: "XRPUSDT",
      start: 0,
      end: 4e15,
      decoded: true,
    });
    assert.equal(bars.height, src.length);
    const r = bars.toRecords()[0] as Record<string, unknown>;
    assert.deepEqual(
      [Number(r.bar_start_us), Number(r.ts_local_us), r.open_px, r.close_px, r.volume_qty],
      [src[0]![0]! * 1000, (src[0]![0]! + 300_000) * 1000, src[0]![1], src[0]![4], src[0]![5]],
    );
    const mark = JSON.parse(readFileSync(join(ft, "XRP_USDT_USDT-8h-mark.json"), "utf8")) as number[][];
    const tk = (await rows(lakeOf("f"), "derivative_ticker", "binance-futures", "XRPUSDT")).map((x) => [
      Number(x.ts_local_us),
      x.mark_px,
    ]);
    assert.deepEqual(
      tk,
      mark.map((c) => [(c[0]! + 8 * 3_600_000) * 1000, c[4]]),
    );
  });

  it("Lean ES zips: minute bars per contract (Lean futures data time zone: UTC) and open interest", async () => {
    assert.equal(futuresSymbol("es", 2013, 12), "ESZ13");
    // Lean futures data are in UTC (market-hours database dataTimeZone; the Sunday open of 2013-10-06 is
    // at 79,200,000 ms = 22:00 UTC = 18:00 EDT, the Globex open: test/ingest/lean.test.ts)
    const es = data("lean/future/cme/minute/es");
    const ms = await ingestFiles(
      "binance-vision",
      [join(es, "20131007_trade.zip"), join(es, "20131007_openinterest.zip")],
      { lake: lakeOf("e") },
    );
    assert.deepEqual(
      ms.map((m) => totals(m.report).rejected),
      [0, 0],
    );
    const bars = await rows(lakeOf("e"), "ohlcv_bars", "cme", "ESZ13");
    // first line of 20131007_es_minute_trade_201312.csv: 0,1676.5,1676.5,1676.5,1676.5,9 (00:00 UTC)
    assert.equal(Number(bars[0]!.bar_start_us), toUs("2013-10-07T00:00:00Z"));
    assert.equal(Number(bars[0]!.ts_local_us), toUs("2013-10-07T00:01:00Z"));
    assert.equal(Number(bars[0]!.volume_qty_int), 9);
    const oi = await rows(lakeOf("e"), "open_interest", "cme", "ESZ13");
    assert.deepEqual(
      oi.map((r) => [Number(r.ts_local_us), r.open_interest]),
      [
        [toUs("2013-10-07T06:06:00Z"), 2691941],
        [toUs("2013-10-07T11:51:00Z"), 2691941],
        [toUs("2013-10-07T13:42:00Z"), 2674467],
      ],
    );
  });
});
