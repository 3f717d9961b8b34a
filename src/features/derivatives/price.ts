/**
 * `deriv_price`: the guide's price-action features (≥ 30) from the `deriv_bar` row values (open, high, low,
 * close in price increments; the frame shows prices in quote currency). Windows count spine rows.
 *
 * Conventions: returns are fractions (x − x₋ₖ)/x₋ₖ, log returns log1p of them; `realized_vol_20` is the
 * population std (ddof 0, the guide's `np.std`) of the last 20 one-row log returns × √(bars per year) with a
 * 365-day year (√(365 d / bar size): √105120 on 5 m bars; on event spines the bar size is unknown and the
 * value is per bar); SMAs are means; EMAs, RSI, MACD, ATR, ADX use indicators/ema.ts `"window"` seeding
 * (span α = 2/(n+1), Wilder α = 1/n); stochastic = TA-Lib STOCH(14, 3 SMA, 3 SMA); ROC in percent (TA-Lib
 * ROC); NATR = atr_14 / close (a fraction, the guide's; TA-Lib's NATR is × 100); Bollinger bands on the
 * population std (TA-Lib BBANDS, StockCharts); Keltner = ema_20 ± 2·atr_14 (the guide's); market structure
 * is the guide's `detect_market_structure(high, low, 50)` as written (hh: high > max of the previous 49
 * highs, hl: low > max of the previous 49 lows, lh: high < min of the previous 49 highs, ll: low < min of the
 * previous 49 lows; +1 if hh and hl, −1 if lh and ll, else 0).
 */
import type { JsonValue, Operator, SourceRole, SpineRow } from "../../engine/operator.js";
import { stateObject } from "../../engine/operator.js";
import type { OutputMeta } from "../../engine/registry.js";
import { RollingMedian, RollingStats } from "../../engine/rolling.js";
import { familyOperator } from "../family.js";
import {
  catalogBuilder,
  DERIV_SETTINGS_PARAMS,
  type DerivSettings,
  GUIDE,
  RowCursor,
  rel,
  sign,
  US_PER_DAY,
} from "./common.js";
import { Adx } from "./indicators/adx.js";
import { Atr } from "./indicators/atr.js";
import { Ema } from "./indicators/ema.js";
import { Macd } from "./indicators/macd.js";
import { Rsi } from "./indicators/rsi.js";
import { Ring, sub } from "./indicators/state.js";
import { Stoch } from "./indicators/stoch.js";

const PIT = "emitted rows up to and including the current one (each bar complete at its available_at)";
const C = ["row.close"];
const HLC = ["row.high", "row.low", "row.close"];
const PX = "price increments";
const RETURNS = [1, 5, 10, 20, 50, 100] as const;
const SEED = "EMA seeding: exact window of the last K rows (indicators/ema.ts, (1−α)^K ≤ 1e-12)";

/** √(bars per 365-day year), or 1 on event spines. */
export function annualisation(s: DerivSettings): number {
  return s.barUs > 0 ? Math.sqrt((365 * US_PER_DAY) / s.barUs) : 1;
}

/** Outputs of `deriv_price`. */
export function priceOutputs(s: DerivSettings): OutputMeta[] {
  const col = catalogBuilder(PIT, `${GUIDE}, §2 Price Action Features`);
  const rows = (n: number) => `${n} spine rows`;
  const e = (n: number, wilder = false) => new Ema(n, { wilder });
  const out: OutputMeta[] = [];
  for (const k of RETURNS)
    out.push(
      col(`return_${k}`, `(close − close₋${k})/close₋${k}`, {
        unit: "fraction",
        warmupRows: k,
        inputs: C,
        window: rows(k + 1),
      }),
    );
  for (const k of [1, 5])
    out.push(
      col(`log_return_${k}`, `ln(close/close₋${k}) (as log1p of return_${k})`, {
        unit: "log return",
        warmupRows: k,
        inputs: C,
        window: rows(k + 1),
      }),
    );
  out.push(
    col(
      "realized_vol_20",
      `population std (ddof 0) of the last 20 log_return_1 × √(365 d / bar) = × ${annualisation(s).toPrecision(6)}`,
      {
        unit: s.barUs > 0 ? "annualised (365-day year)" : "per bar (event spine)",
        warmupRows: 20,
        inputs: C,
        window: rows(21),
      },
    ),
  );
  for (const n of [20, 50, 200])
    out.push(
      col(`sma_${n}`, `mean of close over ${n} rows`, {
        unit: PX,
        warmupRows: n - 1,
        inputs: C,
        window: rows(n),
      }),
    );
  for (const n of [12, 20, 26])
    out.push(
      col(`ema_${n}`, `EMA(close, span ${n}); ${SEED}`, {
        unit: PX,
        warmupRows: e(n).warmupRows,
        inputs: C,
        window: rows(e(n).windowRows),
      }),
    );
  out.push(
    col("price_vs_sma20", "(close − sma_20)/sma_20", {
      unit: "fraction",
      warmupRows: 19,
      inputs: C,
      window: rows(20),
    }),
  );
  out.push(
    col("price_vs_sma50", "(close − sma_50)/sma_50", {
      unit: "fraction",
      warmupRows: 49,
      inputs: C,
      window: rows(50),
    }),
  );
  out.push(
    col("ma_cross", "sign(sma_20 − sma_50)", {
      unit: "class {-1,0,1}",
      warmupRows: 49,
      inputs: C,
      window: rows(50),
    }),
  );
  for (const n of [14, 50]) {
    const w = e(n, true).warmupRows + 1;
    out.push(
      col(`rsi_${n}`, `Wilder RSI(${n}) = 100·G/(G+L) (indicators/rsi.ts); ${SEED}`, {
        unit: "0–100",
        warmupRows: w,
        inputs: C,
        window: rows(w + 1),
      }),
    );
  }
  const macd = new Macd();
  out.push(
    col("macd", `ema_12 − ema_26; ${SEED}`, {
      unit: PX,
      warmupRows: macd.slow.warmupRows,
      inputs: C,
      window: rows(macd.slow.windowRows),
    }),
  );
  out.push(
    col("macd_signal", `EMA(macd, span 9); ${SEED}`, {
      unit: PX,
      warmupRows: macd.warmupRows,
      inputs: C,
      window: rows(macd.warmupRows + 1),
    }),
  );
  out.push(
    col("macd_histogram", "macd − macd_signal", {
      unit: PX,
      warmupRows: macd.warmupRows,
      inputs: C,
      window: rows(macd.warmupRows + 1),
    }),
  );
  out.push(
    col("stoch_k", "SMA_3 of fast %K = 100·(close − LL₁₄)/(HH₁₄ − LL₁₄) (TA-Lib STOCH 14, 3, 3)", {
      unit: "0–100",
      warmupRows: 15,
      inputs: HLC,
      window: rows(16),
    }),
  );
  out.push(
    col("stoch_d", "SMA_3 of stoch_k", { unit: "0–100", warmupRows: 17, inputs: HLC, window: rows(18) }),
  );
  for (const n of [10, 30])
    out.push(
      col(`roc_${n}`, `100·(close − close₋${n})/close₋${n} (TA-Lib ROC)`, {
        unit: "%",
        warmupRows: n,
        inputs: C,
        window: rows(n + 1),
      }),
    );
  for (const n of [14, 50])
    out.push(
      col(`atr_${n}`, `Wilder average of the true range over ${n} (TA-Lib ATR); ${SEED}`, {
        unit: PX,
        warmupRows: e(n, true).warmupRows,
        inputs: HLC,
        window: rows(e(n, true).windowRows),
      }),
    );
  out.push(
    col("natr", "atr_14 / close (fraction; TA-Lib NATR is × 100)", {
      unit: "fraction",
      warmupRows: e(14, true).warmupRows,
      inputs: HLC,
      window: rows(e(14, true).windowRows),
    }),
  );
  const bb = (name: string, f: string, unit: string) =>
    col(name, f, { unit, warmupRows: 19, inputs: C, window: rows(20) });
  out.push(bb("bb_upper", "sma_20 + 2·σ₂₀ (population std, TA-Lib BBANDS)", PX));
  out.push(bb("bb_middle", "sma_20", PX));
  out.push(bb("bb_lower", "sma_20 − 2·σ₂₀", PX));
  out.push(bb("bb_width", "(bb_upper − bb_lower)/bb_middle", "ratio"));
  out.push(bb("bb_position", "(close − bb_lower)/(bb_upper − bb_lower); null when σ = 0", "ratio"));
  const kcw = Math.max(e(20).warmupRows, e(14, true).warmupRows);
  out.push(
    col("kc_upper", "ema_20 + 2·atr_14 (the guide's Keltner)", {
      unit: PX,
      warmupRows: kcw,
      inputs: HLC,
      window: rows(kcw + 1),
    }),
  );
  out.push(
    col("kc_lower", "ema_20 − 2·atr_14", { unit: PX, warmupRows: kcw, inputs: HLC, window: rows(kcw + 1) }),
  );
  out.push(
    col("kc_width", "(kc_upper − kc_lower)/ema_20", {
      unit: "ratio",
      warmupRows: kcw,
      inputs: HLC,
      window: rows(kcw + 1),
    }),
  );
  out.push(
    col(
      "market_structure",
      "the guide's detect_market_structure(high, low, 50) (module doc): +1 uptrend, −1 downtrend, 0 range",
      {
        unit: "class {-1,0,1}",
        warmupRows: 49,
        inputs: ["row.high", "row.low"],
        window: rows(50),
      },
    ),
  );
  const adx = new Adx(14);
  out.push(
    col("adx_14", `Wilder ADX(14) (TA-Lib ADX); ${SEED}`, {
      unit: "0–100",
      warmupRows: adx.warmupRows,
      inputs: HLC,
      window: rows(adx.warmupRows + 1),
    }),
  );
  out.push(
    col("plus_di_14", "+DI(14) (TA-Lib PLUS_DI)", {
      unit: "0–100",
      warmupRows: 1 + e(14, true).warmupRows,
      inputs: HLC,
      window: rows(e(14, true).windowRows + 1),
    }),
  );
  out.push(
    col("minus_di_14", "−DI(14) (TA-Lib MINUS_DI)", {
      unit: "0–100",
      warmupRows: 1 + e(14, true).warmupRows,
      inputs: HLC,
      window: rows(e(14, true).windowRows + 1),
    }),
  );
  return out;
}

class PriceOperator implements Operator {
  readonly id = "deriv_price";
  readonly inputs: readonly SourceRole[] = [];
  readonly reads = {};
  readonly rowInputs = ["high", "low", "close"] as const;
  readonly outputs: readonly OutputMeta[];
  private readonly o = new RowCursor();
  private readonly factor: number;
  private readonly closes = new Ring(101);
  private readonly lr1 = new RollingStats(20);
  private readonly sma20 = new RollingStats(20);
  private readonly sma50 = new RollingStats(50);
  private readonly sma200 = new RollingStats(200);
  private readonly ema12 = new Ema(12);
  private readonly ema20 = new Ema(20);
  private readonly ema26 = new Ema(26);
  private readonly rsi14 = new Rsi(14);
  private readonly rsi50 = new Rsi(50);
  private readonly macd = new Macd();
  private readonly stoch = new Stoch(14, 3, 3);
  private readonly atr14 = new Atr(14);
  private readonly atr50 = new Atr(50);
  private readonly highs = new RollingMedian(49);
  private readonly lows = new RollingMedian(49);
  private readonly adx = new Adx(14);

  constructor(s: DerivSettings) {
    this.outputs = priceOutputs(s);
    this.factor = annualisation(s);
  }

  onEvent(): void {}

  emit(row: SpineRow, out: readonly Float64Array[], r: number, ins?: readonly Float64Array[]): void {
    const high = ins![0]![r]!;
    const low = ins![1]![r]!;
    const close = ins![2]![r]!;
    const key = row.barIndex;
    const o = this.o.start(out, r);
    const c1 = this.closes.lag(0);
    for (let j = 0; j < RETURNS.length; j++) o.w(rel(close, this.closes.lag(RETURNS[j]! - 1)));
    const lr = c1 !== 0 ? Math.log1p((close - c1) / c1) : Number.NaN;
    o.w(lr);
    const c5 = this.closes.lag(4);
    o.w(c5 !== 0 ? Math.log1p((close - c5) / c5) : Number.NaN);
    this.closes.push(close);
    this.lr1.push(lr, key);
    o.w(this.lr1.popStd() * this.factor);
    this.sma20.push(close, key);
    this.sma50.push(close, key);
    this.sma200.push(close, key);
    this.ema12.push(close, key);
    this.ema20.push(close, key);
    this.ema26.push(close, key);
    const m20 = this.sma20.mean();
    const m50 = this.sma50.mean();
    o.w(m20);
    o.w(m50);
    o.w(this.sma200.mean());
    o.w(this.ema12.value());
    o.w(this.ema20.value());
    o.w(this.ema26.value());
    o.w(rel(close, m20));
    o.w(rel(close, m50));
    o.w(sign(m20 - m50));
    this.rsi14.push(close, key);
    this.rsi50.push(close, key);
    o.w(this.rsi14.value());
    o.w(this.rsi50.value());
    this.macd.push(close, key);
    o.w(this.macd.macd);
    o.w(this.macd.sig);
    o.w(this.macd.histogram);
    this.stoch.push(high, low, close, key);
    o.w(this.stoch.k);
    o.w(this.stoch.d);
    o.w(100 * rel(close, this.closes.lag(10)));
    o.w(100 * rel(close, this.closes.lag(30)));
    this.atr14.push(high, low, close, key);
    this.atr50.push(high, low, close, key);
    const atr = this.atr14.value();
    o.w(atr);
    o.w(this.atr50.value());
    o.w(close !== 0 ? atr / close : Number.NaN);
    const sd = this.sma20.popStd();
    const up = m20 + 2 * sd;
    const lo = m20 - 2 * sd;
    o.w(up);
    o.w(m20);
    o.w(lo);
    o.w(m20 !== 0 ? (up - lo) / m20 : Number.NaN);
    o.w(up > lo ? (close - lo) / (up - lo) : Number.NaN);
    const e20 = this.ema20.value();
    o.w(e20 + 2 * atr);
    o.w(e20 - 2 * atr);
    o.w(e20 !== 0 ? (4 * atr) / e20 : Number.NaN);
    // market structure against the previous 49 bars, then this bar joins the windows
    o.w(marketStructure(high, low, this.highs, this.lows));
    this.highs.push(high);
    this.lows.push(low);
    this.adx.push(high, low, close, key);
    o.w(this.adx.value());
    o.w(this.adx.plusDi);
    o.w(this.adx.minusDi);
  }

  snapshot(): JsonValue {
    return {
      closes: this.closes.snapshot(),
      lr1: this.lr1.snapshot(),
      sma20: this.sma20.snapshot(),
      sma50: this.sma50.snapshot(),
      sma200: this.sma200.snapshot(),
      ema12: this.ema12.snapshot(),
      ema20: this.ema20.snapshot(),
      ema26: this.ema26.snapshot(),
      rsi14: this.rsi14.snapshot(),
      rsi50: this.rsi50.snapshot(),
      macd: this.macd.snapshot(),
      stoch: this.stoch.snapshot(),
      atr14: this.atr14.snapshot(),
      atr50: this.atr50.snapshot(),
      highs: this.highs.snapshot(),
      lows: this.lows.snapshot(),
      adx: this.adx.snapshot(),
    };
  }

  restore(state: JsonValue): void {
    const s = stateObject(state, this.id);
    const g = (k: string) => sub(s, k, this.id);
    this.closes.restore(g("closes"));
    this.lr1.restore(g("lr1"));
    this.sma20.restore(g("sma20"));
    this.sma50.restore(g("sma50"));
    this.sma200.restore(g("sma200"));
    this.ema12.restore(g("ema12"));
    this.ema20.restore(g("ema20"));
    this.ema26.restore(g("ema26"));
    this.rsi14.restore(g("rsi14"));
    this.rsi50.restore(g("rsi50"));
    this.macd.restore(g("macd"));
    this.stoch.restore(g("stoch"));
    this.atr14.restore(g("atr14"));
    this.atr50.restore(g("atr50"));
    this.highs.restore(g("highs"));
    this.lows.restore(g("lows"));
    this.adx.restore(g("adx"));
  }
}

/** The guide's market structure of this bar against windows of the previous highs and lows (module doc). */
export function marketStructure(
  high: number,
  low: number,
  prevHighs: RollingMedian,
  prevLows: RollingMedian,
): number {
  const hMax = prevHighs.max();
  const hMin = prevHighs.min();
  const lMax = prevLows.max();
  const lMin = prevLows.min();
  if (Number.isNaN(hMax + hMin + lMax + lMin + high + low)) return Number.NaN;
  const hh = high > hMax;
  const hl = low > lMax;
  const lh = high < hMin;
  const ll = low < lMin;
  return hh && hl ? 1 : lh && ll ? -1 : 0;
}

/** Registered operator `deriv_price`. */
export const derivPriceOperator = familyOperator<DerivSettings>({
  name: "deriv_price",
  description:
    "the guide's price-action features (returns, MAs, RSI, MACD, stochastic, ROC, ATR, Bollinger, Keltner, structure, ADX) from the bar's OHLC rows",
  source: `${GUIDE}, §2; TA-Lib / StockCharts definitions per output`,
  params: DERIV_SETTINGS_PARAMS,
  outputs: priceOutputs,
  create: (s) => new PriceOperator(s),
});
