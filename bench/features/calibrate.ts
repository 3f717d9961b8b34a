/**
 * Calibration of the benchmark generator on real captures (DESIGN.md "Real data"): ingests
 * hftbacktest's Binance USDT-M BTCUSDT capture of 2024-08-08 23:54–24:00 (trades, bookTicker quotes,
 * depth → book_snapshot_25) into a temporary lake with the project's own ingest, and measures what the
 * generator needs: event rates per table, taker-order clustering and its over-dispersion, fill sizes,
 * side mix and persistence, spread and best-price dynamics, the 25-level ladder (gaps and sizes per
 * level, how often each level changes), 1 s mid volatility and the exchange/local clock offset.
 *
 * The 2024 capture has no `@markPrice` stream, so the mark/index/funding parameters come from the
 * 2023-04-04/05 captures of the same market (mark premium over mid and mark − index basis in bps with
 * their 1 s autocorrelation, the funding rate, the publication delay after each exchange second).
 *
 * Everything here is deterministic: the same capture files give the same calibration.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { ingestFiles } from "../../src/ingest/ingest.js";
import { type LevelColumn, query, type TypedRows } from "../../src/query/query.js";
import { BOOK_DEPTH } from "../../src/schema/tables.js";

const HFT = resolve(
  import.meta.dirname,
  "..",
  "..",
  "..",
  "shared",
  "data",
  "hftbacktest",
  "examples",
  "usdm",
);
/** The capture the generator is calibrated on (rates, sizes, book, prices). */
export const CAPTURE_2024 = join(HFT, "btcusdt_20240808.gz");
/** The captures with a mark-price stream (derivative_ticker parameters). */
export const CAPTURES_2023 = [join(HFT, "btcusdt_20230404.dat.gz"), join(HFT, "btcusdt_20230405.dat.gz")];

/** Discrete distribution over integers: `values[k]` with probability `probs[k]`. */
export interface Pmf {
  readonly values: number[];
  readonly probs: number[];
}

/**
 * Empirical distribution as `points.length` quantiles at probabilities (i + 0.5)/n; sampling picks
 * one point uniformly (a discrete approximation of the empirical law that keeps its tails).
 */
export interface QuantileTable {
  readonly points: number[];
}

/** What the generator is derived from; every field is measured (see `calibrate`). */
export interface Calibration {
  readonly source: string;
  readonly tickerSource: string;
  /** Capture span used for rates, seconds. */
  readonly durationS: number;
  readonly rows: { trades: number; quotes: number; book: number; ticker2023: number };
  /** Events per second of each table. */
  readonly ratePerS: { trades: number; quotes: number; book: number; ticker: number };
  readonly priceIncrement: number;
  readonly amountIncrement: number;
  /** First mid of the capture, price increments. */
  readonly startMidInt: number;
  /** Taker orders: consecutive fills with the same exchange time and side. */
  readonly orders: {
    readonly ratePerS: number;
    /** Fills per taker order. */
    readonly fillsPmf: Pmf;
    readonly meanFills: number;
    /** Index of dispersion of taker orders per 1 s (var/mean); 1 for a Poisson process. */
    readonly dispersion1s: number;
    /** Lag-1 autocorrelation of taker orders per 1 s (persistence of activity). */
    readonly countAr1: number;
    /** Mean taker orders per 1 s. */
    readonly meanPer1s: number;
    readonly buyFraction: number;
    /** P(order has the side of the previous order). */
    readonly sameSideProb: number;
    /** P(a fill is one level deeper than the previous fill of the same order). */
    readonly walkProb: number;
    /** µs between consecutive fills of one order, at the receiver. */
    readonly intraGapUs: QuantileTable;
  };
  /** Fill size, qty increments. */
  readonly fillQty: QuantileTable;
  readonly fillQtyStats: { mean: number; median: number; p99: number; max: number };
  /** Best bid/ask dynamics from the quotes (bookTicker). */
  readonly quotes: {
    /** Spread in ticks. */
    readonly spreadPmf: Pmf;
    /** Quote updates that change the best bid or ask, per second. */
    readonly priceChangeRatePerS: number;
    /** Change of the best bid at a price-changing update, ticks. */
    readonly bidStepPmf: Pmf;
    /** L1 size, qty increments (bid and ask pooled). */
    readonly l1Qty: QuantileTable;
    /** Variance of the 1 s change of the mid, ticks². */
    readonly midVar1sTicks2: number;
  };
  /** book_snapshot_25 ladder. */
  readonly book: {
    readonly levels: number;
    /** Per level k ≥ 1: gap to level k−1 in ticks (sides pooled). Index 0 unused. */
    readonly gapTicks: QuantileTable[];
    /** Per level k: size, qty increments (sides pooled). */
    readonly qty: QuantileTable[];
    /** Per level k ≥ 1: P(gap to level k−1 differs from the previous snapshot). */
    readonly gapChangeProb: number[];
    /** Per level k ≥ 1: P(size differs from the previous snapshot). */
    readonly qtyChangeProb: number[];
  };
  /** ts_exch_us − ts_local_us, µs: median (the receiver clock's offset) and spread around it. */
  readonly clock: { readonly exchMinusLocalMedianUs: number; readonly jitterUs: QuantileTable };
  /** Mark price stream (2023 captures). */
  readonly ticker: {
    readonly intervalS: number;
    /** Exchange-time delay after the whole second, ms. */
    readonly delayMs: QuantileTable;
    /** (mark − mid)/mid in bps: mean, std, lag-1 (1 s) autocorrelation. */
    readonly premiumBps: { mean: number; std: number; ar1: number };
    /** (mark − index)/index in bps. */
    readonly basisBps: { mean: number; std: number; ar1: number };
    /** (est_settle − index)/index in bps, mean. */
    readonly settleBpsMean: number;
    readonly fundingRate: number;
    readonly fundingIntervalH: number;
  };
}

function col(rows: TypedRows, name: string): Float64Array {
  return rows.columns[name] as Float64Array;
}

/** Quantile table with `n` points of the (finite) values. */
export function quantileTable(values: ArrayLike<number>, n = 201): QuantileTable {
  const v = Float64Array.from(Array.from(values).filter((x) => Number.isFinite(x))).sort();
  if (v.length === 0) return { points: [0] };
  const points: number[] = [];
  for (let i = 0; i < n; i++) points.push(v[Math.min(v.length - 1, Math.floor(((i + 0.5) / n) * v.length))]!);
  return { points };
}

/** Empirical pmf of integer values (every observed value kept, so the tails are too). */
function pmf(values: ArrayLike<number>): Pmf {
  const counts = new Map<number, number>();
  for (let i = 0; i < values.length; i++) counts.set(values[i]!, (counts.get(values[i]!) ?? 0) + 1);
  const sorted = [...counts.entries()].sort((a, b) => a[0] - b[0]);
  const total = sorted.reduce((s, e) => s + e[1], 0);
  return { values: sorted.map((e) => e[0]), probs: sorted.map((e) => e[1] / total) };
}

function meanStd(x: ArrayLike<number>): { mean: number; std: number } {
  let s = 0;
  let n = 0;
  for (let i = 0; i < x.length; i++) {
    if (Number.isFinite(x[i]!)) {
      s += x[i]!;
      n++;
    }
  }
  const mean = s / n;
  let ss = 0;
  for (let i = 0; i < x.length; i++) if (Number.isFinite(x[i]!)) ss += (x[i]! - mean) ** 2;
  return { mean, std: Math.sqrt(ss / (n - 1)) };
}

function ar1(x: ArrayLike<number>): number {
  const { mean } = meanStd(x);
  let num = 0;
  let den = 0;
  for (let i = 1; i < x.length; i++) {
    num += (x[i]! - mean) * (x[i - 1]! - mean);
    den += (x[i - 1]! - mean) ** 2;
  }
  return num / den;
}

/** Index of the last row with ts ≤ t (rows sorted by ts), or −1. */
function asOf(ts: Float64Array, t: number): number {
  let lo = 0;
  let hi = ts.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ts[mid]! <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

/** Ingests the captures into a temporary lake and measures the generator's parameters. */
export async function calibrate(): Promise<Calibration> {
  const tmp = mkdtempSync(join(tmpdir(), "pointline-calib-"));
  try {
    const lake24 = join(tmp, "lake24");
    const lake23 = join(tmp, "lake23");
    await ingestFiles("binance-capture", [CAPTURE_2024], { lake: lake24 });
    await ingestFiles("binance-capture", CAPTURES_2023, { lake: lake23 });
    const req = { lake: lake24, exchange: "binance-futures", symbol: "BTCUSDT", start: 0, end: 4e15 };
    const trades = await query.trades(req);
    const quotes = await query.quotes(req);
    const book = await query.bookSnapshot25(req);
    const req23 = { ...req, lake: lake23 };
    const ticker = await query.derivativeTicker(req23);
    const quotes23 = await query.quotes(req23);
    return measure(trades, quotes, book, ticker, quotes23);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * The same statistics measured on a window of a lake (e.g. a generated one), to check the generator
 * reproduces the capture. The window needs derivative_ticker rows for the ticker statistics.
 */
export async function measureLake(
  lake: string,
  exchange: string,
  symbol: string,
  startUs: number,
  endUs: number,
): Promise<Calibration> {
  const req = { lake, exchange, symbol, start: startUs, end: endUs };
  const quotes = await query.quotes(req);
  const c = measure(
    await query.trades(req),
    quotes,
    await query.bookSnapshot25(req),
    await query.derivativeTicker(req),
    quotes,
  );
  return {
    ...c,
    source: `${lake} [${new Date(startUs / 1000).toISOString()}, ${new Date(endUs / 1000).toISOString()})`,
  };
}

/** Side-by-side table of the statistics the generator is calibrated on: capture vs generated. */
export function formatValidation(capture: Calibration, generated: Calibration): string {
  const q = (t: QuantileTable, p: number): number =>
    t.points[Math.min(t.points.length - 1, Math.floor(p * t.points.length))]!;
  const pmfAt = (p: Pmf, v: number): number => {
    const k = p.values.indexOf(v);
    return k < 0 ? 0 : p.probs[k]!;
  };
  const rows: [string, (c: Calibration) => number, number][] = [
    ["trades/s", (c) => c.ratePerS.trades, 1],
    ["quotes/s", (c) => c.ratePerS.quotes, 1],
    ["book_snapshot_25/s", (c) => c.ratePerS.book, 1],
    ["derivative_ticker/s", (c) => c.ratePerS.ticker, 2],
    ["taker orders/s", (c) => c.orders.ratePerS, 2],
    ["fills per order", (c) => c.orders.meanFills, 2],
    ["orders per 1 s: dispersion (var/mean)", (c) => c.orders.dispersion1s, 1],
    ["orders per 1 s: lag-1 autocorrelation", (c) => c.orders.countAr1, 2],
    ["buy share of orders", (c) => c.orders.buyFraction, 3],
    ["P(order side = previous)", (c) => c.orders.sameSideProb, 3],
    ["P(fill walks a level)", (c) => c.orders.walkProb, 3],
    ["fill size mean (qty incr.)", (c) => c.fillQtyStats.mean, 1],
    ["fill size median", (c) => c.fillQtyStats.median, 0],
    ["fill size p99", (c) => c.fillQtyStats.p99, 0],
    ["P(spread = 1 tick)", (c) => pmfAt(c.quotes.spreadPmf, 1), 3],
    ["best-price changes/s", (c) => c.quotes.priceChangeRatePerS, 2],
    ["1 s mid change std (bps)", (c) => (Math.sqrt(c.quotes.midVar1sTicks2) / c.startMidInt) * 1e4, 3],
    ["book gap L1 median (ticks)", (c) => q(c.book.gapTicks[1]!, 0.5), 0],
    ["book size L0 median", (c) => q(c.book.qty[0]!, 0.5), 0],
    ["book size L10 median", (c) => q(c.book.qty[10]!, 0.5), 0],
    ["P(level-10 size changes per snapshot)", (c) => c.book.qtyChangeProb[10]!, 3],
    ["mark premium over mid (bps)", (c) => c.ticker.premiumBps.mean, 2],
    ["mark − index basis (bps)", (c) => c.ticker.basisBps.mean, 2],
    ["basis std (bps)", (c) => c.ticker.basisBps.std, 2],
  ];
  const lines = ["| statistic | capture | generated |", "|---|---:|---:|"];
  for (const [name, fn, d] of rows)
    lines.push(`| ${name} | ${fn(capture).toFixed(d)} | ${fn(generated).toFixed(d)} |`);
  return lines.join("\n");
}

function measure(
  trades: TypedRows,
  quotes: TypedRows,
  book: TypedRows,
  ticker: TypedRows,
  quotes23: TypedRows,
): Calibration {
  const tTs = col(trades, "ts_local_us");
  const tEx = col(trades, "ts_exch_us");
  const tPx = col(trades, "px_int");
  const tQty = col(trades, "qty_int");
  const tSide = trades.columns.side as Int8Array;
  const qTs = col(quotes, "ts_local_us");
  const qBid = col(quotes, "bid_px_int");
  const qAsk = col(quotes, "ask_px_int");
  const bTs = col(book, "ts_local_us");
  const first = Math.min(tTs[0]!, qTs[0]!, bTs[0]!);
  const last = Math.max(tTs[tTs.length - 1]!, qTs[qTs.length - 1]!, bTs[bTs.length - 1]!);
  const durationS = (last - first) / 1e6;

  // taker orders: runs of fills with the same exchange time and side
  const fills: number[] = [];
  const intraGap: number[] = [];
  const orderStartTs: number[] = [];
  const orderSide: number[] = [];
  let walks = 0;
  let steps = 0;
  for (let i = 0; i < trades.length; i++) {
    const cont = i > 0 && tEx[i] === tEx[i - 1] && tSide[i] === tSide[i - 1];
    if (cont) {
      fills[fills.length - 1]!++;
      intraGap.push(tTs[i]! - tTs[i - 1]!);
      steps++;
      if (tPx[i] !== tPx[i - 1]) walks++;
    } else {
      fills.push(1);
      orderStartTs.push(tTs[i]!);
      orderSide.push(tSide[i]!);
    }
  }
  const perSecond = new Map<number, number>();
  for (const t of orderStartTs) {
    const s = Math.floor((t - first) / 1e6);
    perSecond.set(s, (perSecond.get(s) ?? 0) + 1);
  }
  const secs = Math.floor(durationS);
  const counts: number[] = [];
  for (let s = 0; s < secs; s++) counts.push(perSecond.get(s) ?? 0);
  const cs = meanStd(counts);
  let buys = 0;
  let same = 0;
  for (let k = 0; k < orderSide.length; k++) {
    if (orderSide[k] === 0) buys++;
    if (k > 0 && orderSide[k] === orderSide[k - 1]) same++;
  }
  const sortedQty = Float64Array.from(tQty).sort();

  // quotes: spread, price-changing updates, bid steps, 1 s mid variance
  const spreads: number[] = [];
  const bidSteps: number[] = [];
  const l1: number[] = [];
  const qBidQty = col(quotes, "bid_qty_int");
  const qAskQty = col(quotes, "ask_qty_int");
  for (let i = 0; i < quotes.length; i++) {
    spreads.push(qAsk[i]! - qBid[i]!);
    l1.push(qBidQty[i]!, qAskQty[i]!);
    if (i > 0 && (qBid[i] !== qBid[i - 1] || qAsk[i] !== qAsk[i - 1])) bidSteps.push(qBid[i]! - qBid[i - 1]!);
  }
  const mid1s: number[] = [];
  for (let t = Math.ceil(qTs[0]! / 1e6) * 1e6; t <= qTs[qTs.length - 1]!; t += 1e6) {
    const j = asOf(qTs, t - 1);
    if (j >= 0) mid1s.push((qBid[j]! + qAsk[j]!) / 2);
  }
  const dMid: number[] = [];
  for (let k = 1; k < mid1s.length; k++) dMid.push(mid1s[k]! - mid1s[k - 1]!);

  // book ladder
  const levels = BOOK_DEPTH;
  const gaps: number[][] = Array.from({ length: levels }, () => []);
  const sizes: number[][] = Array.from({ length: levels }, () => []);
  const gapChanges = new Float64Array(levels);
  const qtyChanges = new Float64Array(levels);
  let comparisons = 0;
  const sides: [LevelColumn, LevelColumn][] = [
    [book.columns.bid_px_int as LevelColumn, book.columns.bid_qty_int as LevelColumn],
    [book.columns.ask_px_int as LevelColumn, book.columns.ask_qty_int as LevelColumn],
  ];
  for (let i = 0; i < book.length; i++) {
    for (const [px, qty] of sides) {
      const n = px.lens[i]!;
      for (let k = 0; k < n; k++) {
        sizes[k]!.push(qty.values[i * levels + k]!);
        if (k > 0) gaps[k]!.push(Math.abs(px.values[i * levels + k]! - px.values[i * levels + k - 1]!));
      }
      if (i > 0 && px.lens[i - 1] === n) {
        if (px === sides[0]![0]) comparisons++;
        for (let k = 1; k < n; k++) {
          const g = px.values[i * levels + k]! - px.values[i * levels + k - 1]!;
          const g0 = px.values[(i - 1) * levels + k]! - px.values[(i - 1) * levels + k - 1]!;
          if (g !== g0) gapChanges[k]!++;
          if (qty.values[i * levels + k] !== qty.values[(i - 1) * levels + k]) qtyChanges[k]!++;
        }
      }
    }
  }

  // clock offset
  const offs: number[] = [];
  for (let i = 0; i < trades.length; i++) offs.push(tEx[i]! - tTs[i]!);
  const offSorted = Float64Array.from(offs).sort();
  const offMedian = offSorted[offSorted.length >> 1]!;

  // ticker (2023): premium over the as-of quote mid, basis, delay after the second
  const kTs = col(ticker, "ts_local_us");
  const kEx = col(ticker, "ts_exch_us");
  const mark = col(ticker, "mark_px");
  const index = col(ticker, "index_px");
  const settle = col(ticker, "est_settle_px");
  const funding = col(ticker, "funding_rate");
  const q23Ts = col(quotes23, "ts_local_us");
  const q23Bid = col(quotes23, "bid_px_int");
  const q23Ask = col(quotes23, "ask_px_int");
  const premium: number[] = [];
  const basis: number[] = [];
  const settleBps: number[] = [];
  const delay: number[] = [];
  const intervals: number[] = [];
  for (let i = 0; i < ticker.length; i++) {
    const j = asOf(q23Ts, kTs[i]!);
    if (j >= 0) {
      const mid = ((q23Bid[j]! + q23Ask[j]!) / 2) * 0.1;
      premium.push((1e4 * (mark[i]! - mid)) / mid);
    }
    basis.push((1e4 * (mark[i]! - index[i]!)) / index[i]!);
    settleBps.push((1e4 * (settle[i]! - index[i]!)) / index[i]!);
    delay.push((kEx[i]! % 1e6) / 1e3);
    if (i > 0) intervals.push((kEx[i]! - kEx[i - 1]!) / 1e6);
  }
  const prem = meanStd(premium);
  const bas = meanStd(basis);
  const intervalsSorted = Float64Array.from(intervals).sort();

  const orderCount = fills.length;
  return {
    source: CAPTURE_2024,
    tickerSource: CAPTURES_2023.join(", "),
    durationS,
    rows: { trades: trades.length, quotes: quotes.length, book: book.length, ticker2023: ticker.length },
    ratePerS: {
      trades: trades.length / durationS,
      quotes: quotes.length / durationS,
      book: book.length / durationS,
      ticker: 1 / intervalsSorted[intervalsSorted.length >> 1]!,
    },
    priceIncrement: 0.1,
    amountIncrement: 0.001,
    startMidInt: Math.round((qBid[0]! + qAsk[0]!) / 2),
    orders: {
      ratePerS: orderCount / durationS,
      fillsPmf: pmf(fills),
      meanFills: trades.length / orderCount,
      dispersion1s: (cs.std * cs.std) / cs.mean,
      countAr1: ar1(counts),
      meanPer1s: cs.mean,
      buyFraction: buys / orderCount,
      sameSideProb: same / (orderCount - 1),
      walkProb: walks / steps,
      intraGapUs: quantileTable(intraGap, 101),
    },
    fillQty: quantileTable(tQty, 1001),
    fillQtyStats: {
      mean: meanStd(tQty).mean,
      median: sortedQty[sortedQty.length >> 1]!,
      p99: sortedQty[Math.floor(sortedQty.length * 0.99)]!,
      max: sortedQty[sortedQty.length - 1]!,
    },
    quotes: {
      spreadPmf: pmf(spreads),
      priceChangeRatePerS: bidSteps.length / durationS,
      bidStepPmf: pmf(bidSteps),
      l1Qty: quantileTable(l1, 401),
      midVar1sTicks2: meanStd(dMid).std ** 2,
    },
    book: {
      levels,
      gapTicks: gaps.map((g, k) => (k === 0 ? { points: [0] } : quantileTable(g, 101))),
      qty: sizes.map((s) => quantileTable(s, 201)),
      gapChangeProb: Array.from(gapChanges, (c, k) => (k === 0 ? 0 : c / (2 * comparisons))),
      qtyChangeProb: Array.from(qtyChanges, (c, k) => (k === 0 ? 0 : c / (2 * comparisons))),
    },
    clock: {
      exchMinusLocalMedianUs: offMedian,
      jitterUs: quantileTable(
        offs.map((o) => o - offMedian),
        101,
      ),
    },
    ticker: {
      intervalS: intervalsSorted[intervalsSorted.length >> 1]!,
      delayMs: quantileTable(delay, 51),
      premiumBps: { ...prem, ar1: ar1(premium) },
      basisBps: { ...bas, ar1: ar1(basis) },
      settleBpsMean: meanStd(settleBps).mean,
      fundingRate: funding[funding.length - 1]!,
      fundingIntervalH: 8,
    },
  };
}

const f = (x: number, d = 3): string => (Number.isFinite(x) ? x.toFixed(d) : String(x));

/** Human-readable summary of a calibration (printed by the benchmark). */
export function formatCalibration(c: Calibration): string {
  const q = (t: QuantileTable, p: number): number =>
    t.points[Math.min(t.points.length - 1, Math.floor(p * t.points.length))]!;
  const top = (p: Pmf, n = 4): string =>
    p.values
      .map((v, k) => [v, p.probs[k]!] as const)
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([v, pr]) => `${v}:${(100 * pr).toFixed(1)}%`)
      .join(" ");
  const lines = [
    `calibration source: ${c.source} (${f(c.durationS, 1)} s); ticker: 2023 captures (${c.rows.ticker2023} rows)`,
    `rates/s: trades ${f(c.ratePerS.trades, 1)}, quotes ${f(c.ratePerS.quotes, 1)}, book_snapshot_25 ${f(c.ratePerS.book, 1)}, derivative_ticker ${f(c.ratePerS.ticker, 2)}`,
    `taker orders/s ${f(c.orders.ratePerS, 2)}, fills/order ${f(c.orders.meanFills, 2)} (${top(c.orders.fillsPmf)}), dispersion of orders per 1 s ${f(c.orders.dispersion1s, 2)}`,
    `side: buy ${f(100 * c.orders.buyFraction, 1)}% of orders, P(same side as previous order) ${f(c.orders.sameSideProb, 3)}, P(fill walks a level) ${f(c.orders.walkProb, 3)}, intra-order gap median ${q(c.orders.intraGapUs, 0.5)} µs`,
    `fill size (qty increments of 0.001 BTC): mean ${f(c.fillQtyStats.mean, 1)}, median ${c.fillQtyStats.median}, p99 ${c.fillQtyStats.p99}, max ${c.fillQtyStats.max}`,
    `spread ticks: ${top(c.quotes.spreadPmf)}; best-price changes/s ${f(c.quotes.priceChangeRatePerS, 2)}, bid step ticks ${top(c.quotes.bidStepPmf, 5)}`,
    `1 s mid change std ${f(Math.sqrt(c.quotes.midVar1sTicks2), 2)} ticks (${f((Math.sqrt(c.quotes.midVar1sTicks2) / c.startMidInt) * 1e4, 3)} bps); start mid ${f(c.startMidInt * c.priceIncrement, 1)}`,
    `book: ${c.book.levels} levels; median gap ticks L1 ${q(c.book.gapTicks[1]!, 0.5)}, L5 ${q(c.book.gapTicks[5]!, 0.5)}, L24 ${q(c.book.gapTicks[24]!, 0.5)}; median size L0 ${q(c.book.qty[0]!, 0.5)}, L5 ${q(c.book.qty[5]!, 0.5)}, L24 ${q(c.book.qty[24]!, 0.5)}; P(size change) L1 ${f(c.book.qtyChangeProb[1]!)}, L24 ${f(c.book.qtyChangeProb[24]!)}; P(gap change) L1 ${f(c.book.gapChangeProb[1]!)}`,
    `clock: ts_exch − ts_local median ${f(c.clock.exchMinusLocalMedianUs / 1e3, 1)} ms`,
    `mark stream: every ${f(c.ticker.intervalS, 3)} s, premium over mid ${f(c.ticker.premiumBps.mean, 2)}±${f(c.ticker.premiumBps.std, 2)} bps (ar1 ${f(c.ticker.premiumBps.ar1, 3)}), basis mark−index ${f(c.ticker.basisBps.mean, 2)}±${f(c.ticker.basisBps.std, 2)} bps (ar1 ${f(c.ticker.basisBps.ar1, 3)}), funding ${c.ticker.fundingRate}`,
  ];
  return lines.join("\n");
}
