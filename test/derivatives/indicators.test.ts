/**
 * The derivatives preset's indicators against independent references:
 * - TA-Lib 1.1.6 (`talib` npm, C library) on the real XRP/USDT perp 5 m candles (freqtrade file, 1,999
 *   bars): RSI 14/50, MACD, EMA, ATR 14/50, ADX / ±DI, stochastic, Bollinger, ROC, MFI, OBV, AD, linear
 *   regression slope, correlation — the preset's `"window"`-seeded classes after their warm-up, ≤ 1e-9
 *   relative (TA-Lib seeds at the first bar; its seed has decayed by then);
 * - the StockCharts sheets in shared/data/bukosabino_ta/test/data (the same classes with the sheets'
 *   seeding: `"sma"` for RSI/ATR/ADX, `"first"` for MACD/Keltner EMA), at the sheets' ~6 digits.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { describe, it } from "node:test";
import { RollingMedian, RollingStats } from "../../src/engine/rolling.js";
import { Adx } from "../../src/features/derivatives/indicators/adx.js";
import { Atr } from "../../src/features/derivatives/indicators/atr.js";
import { DayAnchored } from "../../src/features/derivatives/indicators/cumulative.js";
import { Ema } from "../../src/features/derivatives/indicators/ema.js";
import { Cmf, Mfi } from "../../src/features/derivatives/indicators/flow.js";
import { Macd } from "../../src/features/derivatives/indicators/macd.js";
import { LinReg, RollingCorr } from "../../src/features/derivatives/indicators/regression.js";
import { Rsi } from "../../src/features/derivatives/indicators/rsi.js";
import { Stoch } from "../../src/features/derivatives/indicators/stoch.js";
import { DATA } from "../helpers/data.js";

interface TalibResult {
  begIndex: number;
  nbElement: number;
  result: Record<string, number[]>;
}
const talib = createRequire(import.meta.url)("talib") as { execute(o: Record<string, unknown>): TalibResult };

const candles = JSON.parse(
  readFileSync(join(DATA, "freqtrade/tests/testdata/futures/XRP_USDT_USDT-5m-futures.json"), "utf8"),
) as number[][];
const O = candles.map((c) => c[1]!);
const H = candles.map((c) => c[2]!);
const L = candles.map((c) => c[3]!);
const C = candles.map((c) => c[4]!);
const V = candles.map((c) => c[5]!);
const N = C.length;

function ta(name: string, opts: Record<string, unknown>, out = "outReal"): number[] {
  const r = talib.execute({ name, startIdx: 0, endIdx: N - 1, ...opts });
  const full = new Array<number>(N).fill(Number.NaN);
  r.result[out]!.forEach((v, k) => {
    full[r.begIndex + k] = v;
  });
  return full;
}

/** Compares ours with the reference from row `from` on: both defined and ≤ tol relative (absolute near 0). */
function close(ours: number[], ref: number[], from: number, what: string, tol = 1e-9, floor = 1e-6): void {
  let compared = 0;
  for (let i = from; i < ours.length; i++) {
    const a = ours[i]!;
    const b = ref[i]!;
    assert.ok(!Number.isNaN(a), `${what}[${i}] is null after warm-up`);
    if (Number.isNaN(b)) continue;
    const err = Math.abs(a - b) / Math.max(Math.abs(b), floor);
    assert.ok(err <= tol, `${what}[${i}]: ${a} vs ${b} (rel ${err})`);
    compared++;
  }
  assert.ok(compared > 100, `${what}: ${compared} rows compared`);
}

/** Runs `f` per row (row key = row index, as barIndex on a bars spine) and collects its value. */
function series(f: (i: number) => number): number[] {
  return Array.from({ length: N }, (_, i) => f(i));
}

describe("derivatives indicators vs TA-Lib on XRP/USDT 5 m candles", () => {
  it("EMA, RSI, MACD (window seeding)", () => {
    const e12 = new Ema(12);
    close(
      series((i) => {
        e12.push(C[i]!, i);
        return e12.value();
      }),
      ta("EMA", { inReal: C, optInTimePeriod: 12 }),
      400,
      "ema_12",
    );
    for (const n of [14, 50]) {
      const r = new Rsi(n);
      const ours = series((i) => {
        r.push(C[i]!, i);
        return r.value();
      });
      assert.ok(
        Number.isNaN(ours[r.warmupRows - 1]!) && !Number.isNaN(ours[r.warmupRows]!),
        `rsi_${n} warm-up`,
      );
      close(ours, ta("RSI", { inReal: C, optInTimePeriod: n }), r.warmupRows + 100, `rsi_${n}`);
    }
    const m = new Macd();
    const macd: number[] = [];
    const sig: number[] = [];
    for (let i = 0; i < N; i++) {
      m.push(C[i]!, i);
      macd.push(m.macd);
      sig.push(m.sig);
    }
    const opts = { inReal: C, optInFastPeriod: 12, optInSlowPeriod: 26, optInSignalPeriod: 9 };
    // the MACD line crosses 0: relative to the price scale (≈ 1 USDT), ≤ 1e-9
    close(macd, ta("MACD", opts, "outMACD"), m.warmupRows + 50, "macd", 1e-9, 1);
    close(sig, ta("MACD", opts, "outMACDSignal"), m.warmupRows + 50, "macd_signal", 1e-9, 1);
  });

  it("ATR, ADX, ±DI, stochastic", () => {
    for (const n of [14, 50]) {
      const a = new Atr(n);
      close(
        series((i) => {
          a.push(H[i]!, L[i]!, C[i]!, i);
          return a.value();
        }),
        ta("ATR", { high: H, low: L, close: C, optInTimePeriod: n }),
        a.warmupRows + 10,
        `atr_${n}`,
      );
    }
    const adx = new Adx(14);
    const v: number[] = [];
    const p: number[] = [];
    const mi: number[] = [];
    for (let i = 0; i < N; i++) {
      adx.push(H[i]!, L[i]!, C[i]!, i);
      v.push(adx.value());
      p.push(adx.plusDi);
      mi.push(adx.minusDi);
    }
    const hlc = { high: H, low: L, close: C, optInTimePeriod: 14 };
    close(v, ta("ADX", hlc), adx.warmupRows + 10, "adx_14", 1e-8);
    close(p, ta("PLUS_DI", hlc), adx.warmupRows, "plus_di_14");
    close(mi, ta("MINUS_DI", hlc), adx.warmupRows, "minus_di_14");
    const st = new Stoch(14, 3, 3);
    const k: number[] = [];
    const d: number[] = [];
    for (let i = 0; i < N; i++) {
      st.push(H[i]!, L[i]!, C[i]!, i);
      k.push(st.k);
      d.push(st.d);
    }
    const so = {
      high: H,
      low: L,
      close: C,
      optInFastK_Period: 14,
      optInSlowK_Period: 3,
      optInSlowK_MAType: 0,
      optInSlowD_Period: 3,
      optInSlowD_MAType: 0,
    };
    close(k, ta("STOCH", so, "outSlowK"), 20, "stoch_k");
    close(d, ta("STOCH", so, "outSlowD"), 20, "stoch_d");
  });

  it("Bollinger, ROC, MFI, CMF, OBV, AD, linear regression, correlation", () => {
    const s = new RollingStats(20);
    const up: number[] = [];
    for (let i = 0; i < N; i++) {
      s.push(C[i]!, i);
      up.push(s.mean() + 2 * s.popStd());
    }
    close(
      up,
      ta(
        "BBANDS",
        { inReal: C, optInTimePeriod: 20, optInNbDevUp: 2, optInNbDevDn: 2, optInMAType: 0 },
        "outRealUpperBand",
      ),
      19,
      "bb_upper",
    );
    close(
      series((i) => (i >= 10 ? (100 * (C[i]! - C[i - 10]!)) / C[i - 10]! : Number.NaN)),
      ta("ROC", { inReal: C, optInTimePeriod: 10 }),
      10,
      "roc_10",
    );
    const mfi = new Mfi(14);
    close(
      series((i) => {
        mfi.push(H[i]!, L[i]!, C[i]!, V[i]!, i);
        return mfi.value();
      }),
      ta("MFI", { high: H, low: L, close: C, volume: V, optInTimePeriod: 14 }),
      14,
      "mfi",
      1e-8,
    );
    // OBV and AD cumulative from the first bar: one UTC "day" for the whole series (timestamps of day 0)
    const day = new DayAnchored();
    const obv: number[] = [];
    const ad: number[] = [];
    for (let i = 0; i < N; i++) {
      day.push(i, H[i]!, L[i]!, C[i]!, V[i]!, 0);
      obv.push(day.obv);
      ad.push(day.ad);
    }
    // TA-Lib's OBV starts at +V₀; ours at 0 (no previous close): compare the changes
    const tObv = ta("OBV", { inReal: C, volume: V });
    close(
      obv.map((x) => x + V[0]!),
      tObv,
      1,
      "obv",
    );
    close(ad, ta("AD", { high: H, low: L, close: C, volume: V }), 1, "ad_line", 1e-8);
    const lr = new LinReg(20);
    close(
      series((i) => {
        lr.push(C[i]!, i);
        return lr.slope();
      }),
      ta("LINEARREG_SLOPE", { inReal: C, optInTimePeriod: 20 }),
      19,
      "slope_20",
      1e-7,
    );
    const corr = new RollingCorr(20);
    close(
      series((i) => {
        corr.push(C[i]!, V[i]!, i);
        return corr.value();
      }),
      ta("CORREL", { inReal0: C, inReal1: V, optInTimePeriod: 20 }),
      19,
      "price_volume_corr",
      1e-7,
    );
    // CMF = Σ MFV/Σ V over 20 rows: from TA-Lib's AD differences
    const cmf = new Cmf(20);
    const tAd = ta("AD", { high: H, low: L, close: C, volume: V });
    const ref = series((i) => {
      if (i < 20) return Number.NaN;
      let v = 0;
      for (let j = i - 19; j <= i; j++) v += V[j]!;
      return (tAd[i]! - tAd[i - 20]!) / v;
    });
    close(
      series((i) => {
        cmf.push(H[i]!, L[i]!, C[i]!, V[i]!, i);
        return cmf.value();
      }),
      ref,
      20,
      "cmf",
      1e-6,
    );
    void O;
  });

  it("percentile rank equals pandas rank(pct=True) (average ties), max/min of the window", () => {
    const w = 10;
    const m = new RollingMedian(w);
    const xs = C.map((c) => Math.round(c * 100) / 100); // ties
    for (let i = 0; i < N; i++) {
      m.push(xs[i]!);
      if (i < w - 1) continue;
      const win = xs.slice(i - w + 1, i + 1);
      const x = xs[i]!;
      const less = win.filter((y) => y < x).length;
      const eq = win.filter((y) => y === x).length;
      assert.equal(m.rankPct(x), (less + (eq + 1) / 2) / w);
      assert.equal(m.max(), Math.max(...win));
      assert.equal(m.min(), Math.min(...win));
    }
  });
});

/** A StockCharts sheet: its rows as string maps. */
function sheet(name: string): Record<string, string>[] {
  const [head, ...rows] = readFileSync(join(DATA, "bukosabino_ta/test/data", name), "utf8")
    .trim()
    .split(/\r?\n/);
  const cols = head!.split(",");
  return rows.map((r) => Object.fromEntries(r.split(",").map((v, k) => [cols[k]!, v])));
}
const num = (s: string | undefined) => (s === undefined || s.trim() === "" ? Number.NaN : Number(s));

function matchSheet(
  ours: number[],
  ref: number[],
  what: string,
  tol = 1e-4,
  from = 0,
  to = ref.length,
): void {
  let n = 0;
  for (let i = from; i < to; i++) {
    if (Number.isNaN(ref[i]!) || ref[i] === 0) continue;
    const err = Math.abs(ours[i]! - ref[i]!) / Math.max(1, Math.abs(ref[i]!));
    assert.ok(err <= tol, `${what} row ${i}: ${ours[i]} vs StockCharts ${ref[i]}`);
    n++;
  }
  assert.ok(n >= 5, `${what}: ${n} rows compared`);
}

describe("derivatives indicators vs the StockCharts sheets", () => {
  it("RSI 14 (the sheet's Wilder averages start at 0 on the first row: seed first with a zero change)", () => {
    const s = sheet("cs-rsi.csv");
    const r = new Rsi(14, "first");
    r.push(num(s[0]!.Close)); // the first row's change is 0
    matchSheet(
      s.map((x) => {
        r.push(num(x.Close));
        return r.value();
      }),
      s.map((x) => num(x.RSI)),
      "rsi",
      1e-4,
      14,
    );
  });
  it("MACD 12/26/9 (first-value seed)", () => {
    const s = sheet("cs-macd.csv");
    const m = new Macd(12, 26, 9, "first");
    const line: number[] = [];
    const sig: number[] = [];
    for (const x of s) {
      m.push(num(x.Close));
      line.push(m.macd);
      sig.push(m.sig);
    }
    matchSheet(
      line,
      s.map((x) => num(x.MACD_line)),
      "macd",
    );
    // the sheet's signal line starts from another seed: compare once both seeds have decayed (0.8^k)
    matchSheet(
      sig,
      s.map((x) => num(x.MACD_signal)),
      "macd_signal",
      1e-3,
      60,
    );
  });
  it("ATR 14, ADX 14, stochastic 14/3, Bollinger 20/2", () => {
    const a = sheet("cs-atr.csv");
    const atr = new Atr(14, "sma");
    matchSheet(
      a.map((x) => {
        atr.push(num(x.High), num(x.Low), num(x.Close));
        return atr.value();
      }),
      a.map((x) => num(x.ATR)),
      "atr",
    );
    const d = sheet("cs-adx.csv");
    const adx = new Adx(14, "sma");
    const dx: number[] = [];
    const p: number[] = [];
    for (const x of d) {
      adx.push(num(x.High), num(x.Low), num(x.Close));
      dx.push(adx.value());
      p.push(adx.plusDi);
    }
    matchSheet(
      p,
      d.map((x) => num(x["+DI14"])),
      "+DI14",
      1e-3,
    );
    matchSheet(
      dx,
      d.map((x) => num(x.ADX)),
      "adx",
      1e-3,
    );
    const so = sheet("cs-soo.csv");
    const st = new Stoch(14, 1, 3);
    const k: number[] = [];
    const sg: number[] = [];
    for (const x of so) {
      st.push(num(x.High), num(x.Low), num(x.Close));
      k.push(st.k);
      sg.push(st.d);
    }
    matchSheet(
      k,
      so.map((x) => num(x.SO)),
      "%K",
    );
    matchSheet(
      sg,
      so.map((x) => num(x.SO_SIG)),
      "%D",
    );
    const b = sheet("cs-bbands.csv");
    const rs = new RollingStats(20);
    matchSheet(
      b.map((x) => {
        rs.push(num(x.Close));
        return rs.mean() + 2 * rs.popStd();
      }),
      b.map((x) => num(x.HighBand)),
      "bb upper",
    );
  });
  it("OBV, MFI 14, A/D line, ROC 12, VWAP, Keltner (EMA 20 + 2·ATR 10)", () => {
    const o = sheet("cs-obv.csv");
    const day = new DayAnchored();
    matchSheet(
      o.map((x) => {
        day.push(0, 0, 0, num(x.Close), Number.isNaN(num(x.Volume)) ? 0 : num(x.Volume), 0);
        return day.obv;
      }),
      o.map((x) => num(x.OBV)),
      "obv",
    );
    const m = sheet("cs-mfi.csv");
    const mfi = new Mfi(14);
    matchSheet(
      m.map((x) => {
        mfi.push(num(x.High), num(x.Low), num(x.Close), num(x.Volume));
        return mfi.value();
      }),
      m.map((x) => num(x.MFI)),
      "mfi",
      1e-3,
    );
    const a = sheet("cs-accum.csv");
    const ad = new DayAnchored();
    matchSheet(
      a.map((x) => {
        ad.push(0, num(x.High), num(x.Low), num(x.Close), num(x.Volume), 0);
        return ad.ad;
      }),
      a.map((x) => num(x.ADLine)),
      "ad",
      1e-3,
    );
    const r = sheet("cs-roc.csv");
    const cs = r.map((x) => num(x.Close));
    matchSheet(
      cs.map((c, i) => (i >= 12 ? (100 * (c - cs[i - 12]!)) / cs[i - 12]! : Number.NaN)),
      r.map((x) => num(x.ROC)),
      "roc",
    );
    const v = sheet("cs-vwap.csv");
    const vw = new DayAnchored();
    // the sheet's VWAP is a 14-row rolling one: cumulative and rolling agree on its first 14 rows
    matchSheet(
      v.map((x) => {
        vw.push(0, num(x.High), num(x.Low), num(x.Close), num(x.Volume), 0);
        return vw.vwap;
      }),
      v.map((x) => num(x.vwap)),
      "vwap",
      1e-6,
      0,
      14,
    );
    const kc = sheet("cs-kc.csv");
    const e = new Ema(20, { seed: "first" });
    const atr = new Atr(10, "sma");
    const upper = kc.map((x) => {
      e.push(num(x.Close));
      atr.push(num(x.High), num(x.Low), num(x.Close));
      return e.value() + 2 * atr.value();
    });
    matchSheet(
      upper,
      kc.map((x) => num(x.upper_band)),
      "kc upper",
      1e-3,
    );
  });
});
