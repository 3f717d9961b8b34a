/**
 * Inputs of the trader tests: the real 1m bar files of ../shared/data parsed naively (no project code),
 * and a seeded generated replay with every input present, several symbols, gaps and incomplete days.
 */
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { REPLAY_VALUE_COLUMNS, type ReplayRows } from "../../src/features/trader/preset.js";
import { data } from "../helpers/data.js";
import type { RefRow } from "./reference.js";

export const BTC_PERP_1M = data(
  "nautilus_trader",
  "tests",
  "test_data",
  "btc-perp-20211231-20220201_1m.csv.gz",
);
export const ADABTC_1M = [27, 28].map((d) =>
  data("nautilus_trader", "tests", "test_kit", "data", `ADABTC-1m-2021-11-${d}.csv`),
);

const NaN_ = Number.NaN;

function blank(t: number): RefRow {
  return {
    t,
    open: NaN_,
    high: NaN_,
    low: NaN_,
    close: NaN_,
    volume: NaN_,
    takerBuy: NaN_,
    takerSell: NaN_,
    mark: NaN_,
    index: NaN_,
    nextFunding: NaN_,
    oi: NaN_,
    spread: NaN_,
    liqBuy: NaN_,
    liqSell: NaN_,
  };
}

/** The 31-day BTC perp file (`timestamp,open,high,low,close,volume`, timestamp = minute open, UTC). */
export function btcPerpRows(): RefRow[] {
  const text = gunzipSync(readFileSync(BTC_PERP_1M)).toString("utf8");
  const out: RefRow[] = [];
  for (const line of text.split("\n").slice(1)) {
    if (line.trim() === "") continue;
    const f = line.split(",");
    const t = Date.parse(`${f[0]!.slice(0, 10)}T${f[0]!.slice(11, 19)}Z`) * 1000;
    out.push({ ...blank(t), open: +f[1]!, high: +f[2]!, low: +f[3]!, close: +f[4]!, volume: +f[5]! });
  }
  return out;
}

/** The two ADABTC Binance kline days (taker sell = volume − taker buy). */
export function adaBtcRows(): RefRow[] {
  const out: RefRow[] = [];
  for (const p of ADABTC_1M) {
    for (const line of readFileSync(p, "utf8").split("\n")) {
      if (line.trim() === "") continue;
      const f = line.split(",");
      const v = +f[5]!;
      const tb = +f[9]!;
      out.push({
        ...blank(+f[0]! * 1000),
        open: +f[1]!,
        high: +f[2]!,
        low: +f[3]!,
        close: +f[4]!,
        volume: v,
        takerBuy: tb,
        takerSell: v - tb,
      });
    }
  }
  return out;
}

/** Seeded PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const DAY_US = 86_400_000_000;
export const MIN_US = 60_000_000;

/**
 * A generated replay of one symbol: `days` UTC days from `startDayUs` with every input present, except:
 * day 1 loses 30 scattered minutes and one whole hour (an incomplete day), the last day ends 90 minutes
 * early (incomplete), liquidation data is unavailable (null) on day 0's first 6 hours, and the spread is
 * null for 10 minutes of day 2 (when days > 2). Liquidations are mostly 0 with occasional bursts.
 */
export function generatedRows(seed: number, startDayUs: number, days: number, px0: number): RefRow[] {
  const r = rng(seed);
  const out: RefRow[] = [];
  let close = px0;
  let oi = 1e5 * (1 + r());
  const drop = new Set<number>();
  for (let k = 0; k < 30; k++) drop.add(1440 + Math.floor(r() * 1440));
  for (let k = 0; k < 60; k++) drop.add(1440 + 600 + k);
  const total = days * 1440 - 90;
  for (let m = 0; m < total; m++) {
    const t = startDayUs + m * MIN_US;
    const open = close;
    close = Math.round(open * Math.exp((r() - 0.5) * 0.004) * 100) / 100;
    if (r() < 0.05) close = open; // flat minutes (sign 0, equal highs)
    const high = Math.max(open, close) + (Math.round(r() * 5) / 100) * (r() < 0.3 ? 20 : 1);
    const low = Math.min(open, close) - (Math.round(r() * 5) / 100) * (r() < 0.3 ? 20 : 1);
    const volume = r() < 0.02 ? 0 : Math.round(Math.exp(r() * 4) * 1000) / 1000;
    const takerBuy = Math.round(volume * r() * 1000) / 1000;
    oi = oi * (1 + (r() - 0.5) * 0.001);
    const index = close * (1 + (r() - 0.5) * 1e-4);
    const mark = close * (1 + (r() - 0.5) * 2e-4);
    const nextFunding = (Math.floor(t / (8 * 3600e6)) + 1) * 8 * 3600e6;
    const day = Math.floor(m / 1440);
    const liqOff = day === 0 && m < 360;
    const burst = r() < 0.05;
    const liqBuy = liqOff ? NaN_ : burst ? Math.round(r() * 1e6) / 100 : 0;
    const liqSell = liqOff ? NaN_ : burst && r() < 0.7 ? Math.round(r() * 1e6) / 100 : 0;
    const spread =
      day === 2 && m % 1440 >= 700 && m % 1440 < 710 ? NaN_ : Math.round((0.5 + r() * 3) * 1e4) / 1e4;
    if (drop.has(m)) continue;
    out.push({
      t,
      open,
      high,
      low,
      close,
      volume,
      takerBuy,
      takerSell: Math.round((volume - takerBuy) * 1000) / 1000,
      mark,
      index,
      nextFunding,
      oi,
      spread,
      liqBuy,
      liqSell,
    });
  }
  return out;
}

/** ReplayRows of reference rows (liquidation_available = 1 where the notionals are present). */
export function toReplayRows(rows: readonly RefRow[]): ReplayRows {
  const pick: Record<string, (r: RefRow) => number> = {
    open: (r) => r.open,
    high: (r) => r.high,
    low: (r) => r.low,
    close: (r) => r.close,
    volume: (r) => r.volume,
    taker_buy_volume: (r) => r.takerBuy,
    taker_sell_volume: (r) => r.takerSell,
    funding_bps: () => Number.NaN,
    mark_price: (r) => r.mark,
    index_price: (r) => r.index,
    next_funding_time: (r) => r.nextFunding,
    open_interest: (r) => r.oi,
    spread_bps: (r) => r.spread,
    level1_ofi_1m: () => Number.NaN,
    liquidation_buy_notional_1m: (r) => r.liqBuy,
    liquidation_sell_notional_1m: (r) => r.liqSell,
    liquidation_available: (r) => (Number.isNaN(r.liqBuy) ? 0 : 1),
  };
  return {
    eventUs: Float64Array.from(rows, (r) => r.t),
    columns: REPLAY_VALUE_COLUMNS.map((c) => Float64Array.from(rows, pick[c]!)),
  };
}
