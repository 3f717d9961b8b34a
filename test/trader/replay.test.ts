/**
 * `buildReplay1m` from lakes built from real data, against naive references computed from the raw rows
 * (query API, plain loops): the 2023-04-04/05 BTCUSDT USD-M captures (trades, quotes, book, mark price
 * with funding, one liquidation; across midnight), the ADABTC Binance klines (vendor-bar fallback), and a
 * generated Tardis trades + liquidations capture (liquidation notionals and availability). Also: the
 * replay's rows for a shorter range equal the full run's, and a Driver snapshot mid-run restores bitwise.
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import pl from "nodejs-polars";
import { toUs } from "../../src/core/time.js";
import { CollectSink, Driver, type DriverSnapshot } from "../../src/engine/driver.js";
import { LakeSource } from "../../src/engine/lake-source.js";
import { Replay, setupRun } from "../../src/engine/replay.js";
import { parseSpineSpec } from "../../src/engine/spine-spec.js";
import { REPLAY_VALUE_COLUMNS } from "../../src/features/trader/preset.js";
import { ingestFiles } from "../../src/ingest/ingest.js";
import { Lake } from "../../src/lake/lake.js";
import { query, type TypedRows } from "../../src/query/query.js";
import { buildReplay1m, createReplayGroup, replaySources } from "../../src/trader/replay.js";
import { data, tempDir } from "../helpers/data.js";
import { captureLake, W2023 } from "../helpers/lake.js";
import { ADABTC_1M, rng } from "./data.js";

const MIN = 60_000_000;
const DAY = 86_400_000_000;
const NaN_ = Number.NaN;
const col = (rows: TypedRows, name: string) => rows.columns[name] as Float64Array;

function near(name: string, got: number | null, want: number): void {
  const g = got === null ? NaN_ : got;
  if (Number.isNaN(want) || Number.isNaN(g)) {
    assert.ok(Number.isNaN(want) && Number.isNaN(g), `${name}: got ${got}, want ${want}`);
    return;
  }
  assert.ok(Math.abs(g - want) <= 1e-12 * Math.max(1, Math.abs(want)), `${name}: got ${g}, want ${want}`);
}

/** Frame column values as numbers (Datetime → µs). */
function frameColumn(df: pl.DataFrame, name: string): (number | null)[] {
  const s = df.getColumn(name);
  const v = String(s.dtype).includes("Datetime") ? s.cast(pl.Int64) : s;
  return (v.toArray() as (number | bigint | null)[]).map((x) => (x === null ? null : Number(x)));
}

describe("replay_1m from the lake", () => {
  let cap: { lake: string; cleanup: () => void };
  const tmp = tempDir("pointline-trader-replay-");
  before(async () => {
    cap = await captureLake(["usdm2023a", "usdm2023b"]);
  });
  after(() => {
    cap?.cleanup();
    tmp.cleanup();
  });

  it("USD-M captures: every column equals a naive per-minute recomputation from the raw rows", async () => {
    const startUs = toUs(W2023.start);
    const endUs = toUs(W2023.end);
    const r = await buildReplay1m({
      lake: cap.lake,
      exchange: "binance-futures",
      symbols: ["BTCUSDT"],
      start: startUs,
      end: endUs,
      prefetch: false,
    });
    const lake = await Lake.open(cap.lake);
    const inst = lake.instrument("binance-futures", "BTCUSDT", startUs);
    const req = {
      lake: cap.lake,
      exchange: "binance-futures",
      symbol: "BTCUSDT",
      start: startUs,
      end: endUs + MIN,
    };
    const trades = await query.trades(req);
    const quotes = await query.quotes(req);
    const ticker = await query.derivativeTicker(req);
    const liq = await query.liquidations(req);
    const df = r.frame;
    assert.equal(df.height, (endUs - startUs) / MIN);
    assert.deepEqual(df.columns.slice(0, 4), ["symbol", "event_time", "open_time_ms", "available_at_us"]);
    const t = frameColumn(df, "event_time");
    const avail = frameColumn(df, "available_at_us");
    const get = Object.fromEntries(REPLAY_VALUE_COLUMNS.map((c) => [c, frameColumn(df, c)]));
    const px = inst.priceIncrement;
    const qty = inst.amountIncrement;
    // liquidation coverage: the time range of the rows of the file that holds the liquidation
    assert.equal(liq.length, 1, "the 2023 capture holds one liquidation");
    const liqFile = col(liq, "file_id")[0]!;
    let covFrom = Number.POSITIVE_INFINITY;
    let covTo = Number.NEGATIVE_INFINITY;
    for (const rows of [trades, quotes, ticker, liq])
      for (let i = 0; i < rows.length; i++)
        if (col(rows, "file_id")[i] === liqFile) {
          covFrom = Math.min(covFrom, col(rows, "ts_local_us")[i]!);
          covTo = Math.max(covTo, col(rows, "ts_local_us")[i]!);
        }
    // OFI state carried over quotes since the replay start
    let prev: number[] | null = null;
    let qi = 0;
    let covered = 0;
    let liqSeen = 0;
    for (let m = 0; m < df.height; m++) {
      const open = startUs + m * MIN;
      const close = open + MIN;
      assert.equal(t[m], open);
      assert.equal(avail[m], close);
      const name = (c: string) => `${new Date(open / 1000).toISOString()} ${c}`;
      let o = NaN_;
      let h = NaN_;
      let l = NaN_;
      let c = NaN_;
      let v = 0;
      let b = 0;
      let s = 0;
      for (let i = 0; i < trades.length; i++) {
        const ts = col(trades, "ts_local_us")[i]!;
        if (ts < open || ts >= close) continue;
        const p = col(trades, "px_int")[i]!;
        const q = col(trades, "qty_int")[i]!;
        if (Number.isNaN(o)) o = p;
        h = Number.isNaN(h) ? p : Math.max(h, p);
        l = Number.isNaN(l) ? p : Math.min(l, p);
        c = p;
        v += q;
        const side = (trades.columns.side as Int8Array)[i]!;
        if (side === 0) b += q;
        if (side === 1) s += q;
      }
      near(name("open"), get.open![m]!, o * px);
      near(name("high"), get.high![m]!, h * px);
      near(name("low"), get.low![m]!, l * px);
      near(name("close"), get.close![m]!, c * px);
      near(name("volume"), get.volume![m]!, v * qty);
      near(name("taker_buy_volume"), get.taker_buy_volume![m]!, b * qty);
      near(name("taker_sell_volume"), get.taker_sell_volume![m]!, s * qty);
      // as-of ticker values: the last non-null at ts < close
      const asof = (column: string) => {
        let x = NaN_;
        for (let i = 0; i < ticker.length; i++) {
          if (col(ticker, "ts_local_us")[i]! >= close) break;
          const y = col(ticker, column)[i]!;
          if (!Number.isNaN(y)) x = y;
        }
        return x;
      };
      near(name("funding_bps"), get.funding_bps![m]!, asof("funding_rate") * 1e4);
      near(name("mark_price"), get.mark_price![m]!, asof("mark_px"));
      near(name("index_price"), get.index_price![m]!, asof("index_px"));
      near(name("next_funding_time"), get.next_funding_time![m]!, asof("next_funding_time_us"));
      near(name("open_interest"), get.open_interest![m]!, asof("open_interest"));
      // spread of the last quote before the close; OFI over the minute's quotes
      let bid = NaN_;
      let ask = NaN_;
      let ofi = prev === null ? NaN_ : 0;
      while (qi < quotes.length && col(quotes, "ts_local_us")[qi]! < close) {
        const cur = ["bid_px_int", "bid_qty_int", "ask_px_int", "ask_qty_int"].map(
          (k) => col(quotes, k)[qi]!,
        );
        if (prev !== null) {
          const [pb, qb, pa, qa] = cur as [number, number, number, number];
          const [pb0, qb0, pa0, qa0] = prev as [number, number, number, number];
          ofi =
            (Number.isNaN(ofi) ? 0 : ofi) +
            (pb >= pb0 ? qb : 0) -
            (pb <= pb0 ? qb0 : 0) -
            (pa <= pa0 ? qa : 0) +
            (pa >= pa0 ? qa0 : 0);
        } else ofi = 0;
        prev = cur;
        qi++;
      }
      for (let i = 0; i < quotes.length && col(quotes, "ts_local_us")[i]! < close; i++) {
        bid = col(quotes, "bid_px_int")[i]!;
        ask = col(quotes, "ask_px_int")[i]!;
      }
      near(name("spread_bps"), get.spread_bps![m]!, (1e4 * (ask - bid)) / ((ask + bid) / 2));
      near(name("level1_ofi_1m"), get.level1_ofi_1m![m]!, ofi * qty);
      const available = open >= covFrom && close - 1 <= covTo;
      let lb = 0;
      let ls = 0;
      for (let i = 0; i < liq.length; i++) {
        const ts = col(liq, "ts_local_us")[i]!;
        if (ts < open || ts >= close) continue;
        const n = col(liq, "px_int")[i]! * col(liq, "qty_int")[i]! * px * qty;
        if ((liq.columns.side as Int8Array)[i] === 0) lb += n;
        else ls += n;
        liqSeen++;
      }
      near(name("liquidation_available"), get.liquidation_available![m]!, available ? 1 : 0);
      near(name("liquidation_buy_notional_1m"), get.liquidation_buy_notional_1m![m]!, available ? lb : NaN_);
      near(
        name("liquidation_sell_notional_1m"),
        get.liquidation_sell_notional_1m![m]!,
        available ? ls : NaN_,
      );
      if (available) covered++;
    }
    assert.ok(covered > 0 && covered < df.height, "availability differs across the two capture files");
    assert.equal(liqSeen, 1);
    assert.ok(get.mark_price!.some((x) => x !== null) && get.funding_bps!.some((x) => x !== null));
    assert.equal(r.summary[0]!.fromTrades, df.height);
  });

  it("a shorter range gives the same rows (the replay of a minute does not depend on the range end)", async () => {
    const startUs = toUs(W2023.start);
    const endUs = toUs(W2023.end);
    const full = await buildReplay1m({
      lake: cap.lake,
      exchange: "binance-futures",
      symbols: ["BTCUSDT"],
      start: startUs,
      end: endUs,
      prefetch: false,
    });
    const part = await buildReplay1m({
      lake: cap.lake,
      exchange: "binance-futures",
      symbols: ["BTCUSDT"],
      start: startUs,
      end: endUs - 3 * MIN,
      prefetch: false,
    });
    assert.equal(part.frame.height, full.frame.height - 3);
    for (const c of full.frame.columns) {
      const a = frameColumn(full.frame, c === "symbol" ? "open_time_ms" : c).slice(0, part.frame.height);
      const b = frameColumn(part.frame, c === "symbol" ? "open_time_ms" : c);
      assert.deepEqual(b, a, c);
    }
  });

  it("snapshot/restore of the replay group mid-run continues bitwise", async () => {
    const startUs = toUs(W2023.start) + MIN;
    const endUs = toUs(W2023.end) + MIN;
    const lake = await Lake.open(cap.lake);
    const src = replaySources(lake, "binance-futures", "BTCUSDT", startUs - MIN, endUs);
    const run = async (o: { checkpointAtEvents?: number[]; restore?: DriverSnapshot } = {}) => {
      const snaps: DriverSnapshot[] = [];
      const replay = new Replay({
        lake,
        exchange: "binance-futures",
        symbol: "BTCUSDT",
        startUs,
        endUs,
        spine: parseSpineSpec({ type: "clock", stepMs: 60_000 }),
        operators: [createReplayGroup(src)],
        warmupUs: MIN,
        prefetch: false,
        ...(o.checkpointAtEvents
          ? {
              checkpointAtEvents: o.checkpointAtEvents,
              onCheckpoint: (s) => snaps.push(JSON.parse(JSON.stringify(s))),
            }
          : {}),
        ...(o.restore ? { restore: o.restore } : {}),
      });
      const rows: number[][] = [];
      for await (const b of replay.batches())
        for (let r = 0; r < b.length; r++) rows.push(b.columns.map((c) => c[r]!));
      return { rows, snaps };
    };
    const full = await run({ checkpointAtEvents: [20_000] });
    assert.equal(full.snaps.length, 1);
    const resumed = await run({ restore: full.snaps[0]! });
    assert.ok(resumed.rows.length > 0 && resumed.rows.length < full.rows.length);
    const tail = full.rows.slice(full.rows.length - resumed.rows.length);
    for (let i = 0; i < tail.length; i++)
      for (let k = 0; k < tail[i]!.length; k++)
        assert.ok(Object.is(tail[i]![k], resumed.rows[i]![k]), `row ${i} col ${k}`);
  });

  it("PIT: a run reading only the events before a cut reproduces every row knowable before it (prefix truncation)", async () => {
    const startUs = toUs(W2023.start) + MIN;
    const endUs = toUs(W2023.end) + MIN;
    const lake = await Lake.open(cap.lake);
    const src = replaySources(lake, "binance-futures", "BTCUSDT", startUs - MIN, endUs);
    // events before `cutUs` only (LakeSource), rows up to the end (the Driver closes the clock bars)
    const run = async (cutUs: number) => {
      const group = createReplayGroup(src);
      const shape = {
        exchange: "binance-futures",
        symbol: "BTCUSDT",
        startUs,
        spine: parseSpineSpec({ type: "clock", stepMs: 60_000 }),
        operators: [group],
        warmupUs: MIN,
      };
      const { spine, replayStartUs, streams } = setupRun(shape, lake);
      const source = new LakeSource({
        lake,
        streams,
        fromUs: replayStartUs,
        endUs: cutUs,
        chunkUs: 3_600_000_000,
        prefetch: false,
      });
      const sink = new CollectSink();
      const driver = new Driver({ streams: source.streams, spine, operators: [group], startUs, endUs, sink });
      for await (const chunk of source) driver.push(chunk);
      driver.finish();
      // the replay_1m operator's columns (the minute's values), not the members' raw per-bar columns
      const names = group.outputs.map((o) => o.name);
      const idx = [...REPLAY_VALUE_COLUMNS, "price_source"].map((c) => names.lastIndexOf(c));
      const rows = new Map<number, number[]>();
      for (const b of sink.batches)
        for (let r = 0; r < b.length; r++)
          rows.set(
            b.tsEventUs[r]!,
            idx.map((k) => b.columns[k]![r]!),
          );
      return rows;
    };
    const full = await run(endUs);
    const r0 = rng(17);
    let compared = 0;
    for (let k = 0; k < 3; k++) {
      // a cut anywhere (µs) inside the window: the truncated run reads only events before it
      const cut = startUs + 2 * MIN + Math.floor(r0() * (endUs - startUs - 3 * MIN));
      const part = await run(cut);
      assert.ok(part.size > 0);
      for (const [t, row] of part) {
        // the spine row at t writes minute t − 60 s, knowable at t (see features/trader/replay.ts):
        // rows knowable before the cut must not change
        if (!(t < cut)) continue;
        const want = full.get(t)!;
        for (const [j, v] of row.entries())
          assert.ok(Object.is(v, want[j]), `cut ${cut}: row ${t} column ${j}: ${v} vs ${want[j]}`);
        compared++;
      }
    }
    assert.ok(compared >= 6, `${compared} rows compared`);
  });

  it("ADABTC klines: the vendor-bar fallback reproduces the kline files (taker sell = volume − taker buy)", async () => {
    const lake = join(tmp.dir, "ada");
    await ingestFiles("binance-vision", ADABTC_1M, { lake });
    const r = await buildReplay1m({
      lake,
      exchange: "binance",
      symbols: ["ADABTC"],
      start: "2021-11-27T00:00:00Z",
      end: "2021-11-29T00:00:00Z",
      prefetch: false,
    });
    assert.equal(r.frame.height, 2880);
    assert.equal(r.summary[0]!.fromVendorBars, 2880);
    const lines = ADABTC_1M.flatMap((p) => readFileSync(p, "utf8").trim().split("\n"));
    const get = (c: string) => frameColumn(r.frame, c);
    const [t, o, h, l, c, v, tb, ts, sp] = [
      "open_time_ms",
      "open",
      "high",
      "low",
      "close",
      "volume",
      "taker_buy_volume",
      "taker_sell_volume",
      "spread_bps",
    ].map(get);
    lines.forEach((line, i) => {
      const f = line.split(",");
      assert.equal(t![i], Number(f[0]));
      near(`open ${i}`, o![i]!, Number(f[1]));
      near(`high ${i}`, h![i]!, Number(f[2]));
      near(`low ${i}`, l![i]!, Number(f[3]));
      near(`close ${i}`, c![i]!, Number(f[4]));
      near(`volume ${i}`, v![i]!, Number(f[5]));
      near(`taker buy ${i}`, tb![i]!, Number(f[9]));
      assert.ok(Math.abs(ts![i]! - (Number(f[5]) - Number(f[9]))) < 1e-9, `taker sell ${i}`);
      assert.equal(sp![i], null, "no L1 in the lake: spread is null, not 0");
    });
  });

  it("realized funding events (freqtrade XRP/USDT 8 h file) give funding_bps and next_funding_time without a ticker", async () => {
    const fundingJson = data(
      "freqtrade",
      "tests",
      "testdata",
      "futures",
      "XRP_USDT_USDT-8h-funding_rate.json",
    );
    const day = Date.UTC(2021, 10, 20) * 1000;
    const klines = join(tmp.dir, "XRPUSDT-1m-2021-11-20.csv");
    const r0 = rng(5);
    const lines: string[] = [];
    let px = 1.1;
    for (let m = 0; m < 1440; m++) {
      const open = day / 1000 + m * 60_000;
      const o = px;
      px = Math.max(0.5, Math.round((px + (r0() - 0.5) * 0.002) * 1e4) / 1e4);
      const h = Math.max(o, px) + 0.0001;
      const l = Math.min(o, px) - 0.0001;
      lines.push(
        [
          open,
          o.toFixed(4),
          h.toFixed(4),
          l.toFixed(4),
          px.toFixed(4),
          "1000.0",
          open + 59_999,
          "1100.0",
          "10",
          "400.0",
          "440.0",
          "0",
        ].join(","),
      );
    }
    writeFileSync(klines, `${lines.join("\n")}\n`);
    const lake = join(tmp.dir, "xrp");
    await ingestFiles("binance-vision", [fundingJson, klines], { lake, exchange: "binance-futures" });
    const r = await buildReplay1m({
      lake,
      exchange: "binance-futures",
      symbols: ["XRPUSDT"],
      start: day,
      end: day + DAY,
      prefetch: false,
    });
    assert.equal(r.frame.height, 1440);
    // independent reference from the JSON file: the last event before the minute's close
    const events = (JSON.parse(readFileSync(fundingJson, "utf8")) as number[][]).map((e) => ({
      t: e[0]! * 1000,
      rate: e[1]!,
    }));
    const fb = frameColumn(r.frame, "funding_bps");
    const nf = frameColumn(r.frame, "next_funding_time");
    const EIGHT_H = 8 * 3_600_000_000;
    let changes = 0;
    for (let m = 0; m < 1440; m++) {
      const close = day + (m + 1) * MIN;
      let last: { t: number; rate: number } | undefined;
      for (const e of events) if (e.t < close) last = e;
      assert.ok(last, `an event before minute ${m}`);
      near(`funding_bps ${m}`, fb[m]!, last!.rate * 1e4);
      near(
        `next_funding_time ${m}`,
        nf[m]!,
        last!.t + EIGHT_H * (Math.floor((close - last!.t) / EIGHT_H) + 1),
      );
      if (m > 0 && fb[m] !== fb[m - 1]) changes++;
    }
    assert.ok(changes >= 1, "the rate changes during the day");
  });

  it("generated Tardis trades and liquidations: notionals by side, availability, two symbols sorted", async () => {
    const r0 = rng(99);
    const start = Date.UTC(2024, 2, 1) * 1000;
    const lines = ["exchange,symbol,timestamp,local_timestamp,id,side,price,amount"];
    const liqLines = [...lines];
    const want = new Map<string, { buy: number; sell: number }>();
    for (const sym of ["AAAUSDT", "BBBUSDT"]) {
      for (let k = 0; k < 400; k++) {
        const ts = start + Math.floor(k * 1.5e6 + r0() * 1e6);
        const side = r0() < 0.5 ? "buy" : "sell";
        const price = (100 + Math.floor(r0() * 100) / 10).toFixed(1);
        lines.push(
          `binance-futures,${sym},${ts},${ts},${k},${side},${price},${(1 + Math.floor(r0() * 9)).toFixed(3)}`,
        );
        if (r0() < 0.1) {
          const lts = ts + 1;
          const amount = (Math.floor(r0() * 50) + 1).toFixed(3);
          liqLines.push(`binance-futures,${sym},${lts},${lts},L${k},${side},${price},${amount}`);
          const key = `${sym}:${Math.floor(lts / MIN) * MIN}`;
          const e = want.get(key) ?? { buy: 0, sell: 0 };
          e[side as "buy" | "sell"] += Number(price) * Number(amount);
          want.set(key, e);
        }
      }
    }
    const tradesCsv = join(tmp.dir, "binance-futures_trades_2024-03-01.csv");
    const liqCsv = join(tmp.dir, "binance-futures_liquidations_2024-03-01.csv");
    writeFileSync(tradesCsv, `${lines.join("\n")}\n`);
    writeFileSync(liqCsv, `${liqLines.join("\n")}\n`);
    const lake = join(tmp.dir, "gen");
    await ingestFiles("tardis", [tradesCsv, liqCsv], { lake });
    const r = await buildReplay1m({
      lake,
      exchange: "binance-futures",
      symbols: ["BBBUSDT", "AAAUSDT"],
      start,
      end: start + 10 * MIN,
      prefetch: false,
    });
    const sym = r.frame.getColumn("symbol").toArray() as string[];
    assert.deepEqual([...new Set(sym)], ["AAAUSDT", "BBBUSDT"], "sorted by (symbol, event_time)");
    const t = frameColumn(r.frame, "event_time");
    const lb = frameColumn(r.frame, "liquidation_buy_notional_1m");
    const ls = frameColumn(r.frame, "liquidation_sell_notional_1m");
    const la = frameColumn(r.frame, "liquidation_available");
    let nonZero = 0;
    for (let i = 0; i < r.frame.height; i++) {
      const w = want.get(`${sym[i]}:${t[i]}`) ?? { buy: 0, sell: 0 };
      // the liquidation file covers [its first, its last row]: minutes fully inside are available
      if (la[i] === 1) {
        near(`${sym[i]} ${t[i]} buy`, lb[i]!, w.buy);
        near(`${sym[i]} ${t[i]} sell`, ls[i]!, w.sell);
        if (w.buy + w.sell > 0) nonZero++;
      } else {
        assert.equal(lb[i], null);
        assert.equal(ls[i], null);
      }
    }
    assert.ok(nonZero >= 4, `${nonZero} minutes with liquidations compared`);
    const availableMinutes = la.filter((x) => x === 1).length;
    assert.ok(availableMinutes >= 6 && availableMinutes < la.length, `${availableMinutes} minutes available`);
  });
});
