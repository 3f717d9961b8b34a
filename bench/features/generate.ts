/**
 * Seeded generator of a large, realistic Pointline lake for the feature-engine benchmark:
 * binance-futures BTCUSDT trades, quotes (L1), book_snapshot_25 and derivative_ticker (the 1 s
 * `@markPrice` stream), with every parameter derived from the real capture (see calibrate.ts).
 *
 * Model (all rates per second, scaled by a common activity factor Z):
 * - Activity: Z_s = exp(σ·x_s − σ²/2), x an AR(1) over whole seconds with lag-1 correlation ρ, so that
 *   taker orders per second have the capture's index of dispersion (σ² = ln(1 + (D − 1)/m)) and
 *   lag-1 autocorrelation (ρ from corr = m²(e^{σ²ρ} − 1)/Var N).
 * - Taker orders arrive as a Poisson process at the capture's order rate × Z; an order has a side
 *   (Markov chain: same side as the previous order with the measured probability), a number of fills
 *   (measured pmf), fill sizes (empirical quantiles of the capture's fills, qty increments), fills
 *   µs apart (measured intra-order gaps, often 0 µs: same-timestamp trades exercise the tie-break),
 *   and walks one ladder level deeper per fill with the measured probability.
 * - Best bid: at price-changing quote updates (Poisson, rate chosen so the mid's 1 s variance equals
 *   the capture's) the bid moves by a step from the measured step pmf made symmetric (no drift: the
 *   6-minute capture trends, a multi-day path must not) and the spread is redrawn from the measured
 *   spread pmf (when it comes out unchanged the bid step is drawn from its non-zero part, so each such
 *   update changes the best price); other quote updates redraw one side's L1 size. Every quote update
 *   is a `quotes` row. Fills of one taker order share its exchange timestamp (Binance's trade time T)
 *   and walk the ladder (beyond level 24 with fresh level-24 gaps). Limitation: prices do not react to
 *   trades (no impact model); the price path is a calibrated jump process.
 * - book_snapshot_25 rows at the capture's rate: 25 levels per side anchored at the current best,
 *   level gaps and sizes from per-level empirical quantiles, each level's gap and size redrawn with its
 *   measured per-update change probability (the ladder persists between snapshots), level 0 size = the
 *   current L1 size.
 * - derivative_ticker once per exchange second (+ measured publication delay): mark = mid × (1 +
 *   premium), premium and the mark − index basis AR(1) processes in bps with the 2023 capture's mean,
 *   std and 1 s autocorrelation; funding rate from the capture, moving by ±1e-6 with probability ½ each
 *   minute (an assumption: the captures are too short to see it move); next funding time on the 8 h
 *   grid; last price, predicted funding and open interest null (the Binance stream has none of them).
 * - ts_exch_us = ts_local_us + the capture's median clock offset + measured jitter, in ms.
 *
 * Lake: one synthetic source file per UTC day (file_id = stable hash of generator version, seed, size
 * and date; line numbers in generation order, so the total order is well defined), one Parquet part per
 * table per hour (memory stays bounded by an hour of events), manifests under _meta/files, increments
 * 0.1 / 0.001 registered with SymbolRegistry.setSymbol. Lakes are cached under bench/.data keyed by
 * generator version, seed, size and a hash of the calibration; the directory is renamed into place
 * only when complete.
 *
 * Run alone: node --import tsx bench/features/generate.ts [--trades N] [--seed S] [--force]
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import pl from "nodejs-polars";
import { US_PER_DAY, US_PER_HOUR, utcDate } from "../../src/core/time.js";
import { newReport } from "../../src/ingest/report.js";
import { fileManifestPath, partFileName, partitionDir, stableId } from "../../src/lake/layout.js";
import type { FileManifest, PartInfo } from "../../src/lake/manifest.js";
import { SymbolRegistry } from "../../src/lake/registry.js";
import { BOOK_DEPTH, type TableName, tableColumns } from "../../src/schema/tables.js";
import {
  type Calibration,
  calibrate,
  formatCalibration,
  formatValidation,
  measureLake,
  type Pmf,
  type QuantileTable,
} from "./calibrate.js";

/** Bump when the model or the lake layout changes (invalidates cached lakes). */
export const GEN_VERSION = 3;
export const EXCHANGE = "binance-futures";
export const SYMBOL = "BTCUSDT";
/** First generated instant (a UTC midnight). */
export const START_US = Date.UTC(2024, 7, 1) * 1000;
export const DEFAULT_TRADES = 20_000_000;
export const DEFAULT_SEED = 20240808;
/** Default cache root. */
export const DATA_DIR = resolve(import.meta.dirname, "..", ".data");

// ---------------------------------------------------------------------------------------------------
// RNG: xoshiro128** seeded by splitmix32 (deterministic across platforms, 32-bit integer math)

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spare = Number.NaN;
  constructor(seed: number) {
    let s = seed >>> 0;
    const next = (): number => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
  }
  /** Uniform in [0, 1). */
  u(): number {
    const r = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return r / 4294967296;
  }
  /** Standard normal (Box–Muller, pairs cached). */
  normal(): number {
    if (!Number.isNaN(this.spare)) {
      const s = this.spare;
      this.spare = Number.NaN;
      return s;
    }
    const u1 = 1 - this.u();
    const u2 = this.u();
    const r = Math.sqrt(-2 * Math.log(u1));
    this.spare = r * Math.sin(2 * Math.PI * u2);
    return r * Math.cos(2 * Math.PI * u2);
  }
  /** Exponential with the given mean. */
  exp(mean: number): number {
    return -Math.log(1 - this.u()) * mean;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** Sampler of a quantile table (one point uniformly). */
class TableSampler {
  private readonly p: Float64Array;
  constructor(t: QuantileTable) {
    this.p = Float64Array.from(t.points);
  }
  sample(rng: Rng): number {
    return this.p[Math.floor(rng.u() * this.p.length)]!;
  }
}

/** Sampler of a pmf (binary search on the cumulative probabilities). */
class PmfSampler {
  private readonly v: Float64Array;
  private readonly cum: Float64Array;
  constructor(p: Pmf) {
    this.v = Float64Array.from(p.values);
    this.cum = new Float64Array(p.probs.length);
    let s = 0;
    for (let k = 0; k < p.probs.length; k++) {
      s += p.probs[k]!;
      this.cum[k] = s;
    }
    for (let k = 0; k < this.cum.length; k++) this.cum[k]! /= s;
  }
  sample(rng: Rng): number {
    const u = rng.u();
    let lo = 0;
    let hi = this.cum.length - 1;
    while (lo < hi) {
      const m = (lo + hi) >> 1;
      if (this.cum[m]! <= u) lo = m + 1;
      else hi = m;
    }
    return this.v[lo]!;
  }
}

// ---------------------------------------------------------------------------------------------------
// Parameters derived from the calibration

/** The generator's parameters (all derived from a Calibration; see the module doc). */
export interface GenParams {
  readonly orderRatePerS: number;
  readonly priceRatePerS: number;
  readonly quoteSizeRatePerS: number;
  readonly bookRatePerS: number;
  readonly activitySigma: number;
  readonly activityRho: number;
  readonly sameSideProb: number;
  readonly walkProb: number;
  /** E[Δmid²] per price event (ticks²) under the model, and the rate that gives the 1 s variance. */
  readonly midStepVarTicks2: number;
  readonly startMidInt: number;
  readonly clockOffsetUs: number;
}

/**
 * The pmf of ±X (X ~ p with a random sign): a best-price step law without the drift of the short
 * calibration window (the capture fell 140 USD in 6 minutes; extrapolated over days that drift would
 * dominate the price path).
 */
export function symmetrized(p: Pmf): Pmf {
  const m = new Map<number, number>();
  for (let k = 0; k < p.values.length; k++) {
    m.set(p.values[k]!, (m.get(p.values[k]!) ?? 0) + p.probs[k]! / 2);
    m.set(-p.values[k]!, (m.get(-p.values[k]!) ?? 0) + p.probs[k]! / 2);
  }
  const e = [...m.entries()].sort((a, b) => a[0] - b[0]);
  return { values: e.map((x) => x[0]), probs: e.map((x) => x[1]) };
}

function pmfMoments(p: Pmf): { mean: number; m2: number } {
  let mean = 0;
  let m2 = 0;
  let s = 0;
  for (let k = 0; k < p.values.length; k++) {
    mean += p.values[k]! * p.probs[k]!;
    m2 += p.values[k]! ** 2 * p.probs[k]!;
    s += p.probs[k]!;
  }
  return { mean: mean / s, m2: m2 / s };
}

export function deriveParams(c: Calibration): GenParams {
  // activity: dispersion D of orders per second → Var Z = (D − 1)/m; σ² = ln(1 + Var Z)
  const m = c.orders.meanPer1s;
  const varZ = Math.max(0, (c.orders.dispersion1s - 1) / m);
  const sigma2 = Math.log(1 + varZ);
  // lag-1 corr of counts = m² (e^{σ²ρ} − 1) / Var N  →  ρ
  const varN = c.orders.dispersion1s * m;
  const rho =
    sigma2 > 0
      ? Math.min(0.999, Math.max(0, Math.log(1 + (Math.max(0, c.orders.countAr1) * varN) / (m * m)) / sigma2))
      : 0;
  // price events: Δmid = Δbid + (s' − s)/2 with the spread s' redrawn iid from its pmf; when s' = s the
  // bid step is drawn from its non-zero part, so every price event changes the best bid or ask:
  // E[Δbid²] = E[step²]·((1 − q) + q/(1 − p0)), q = P(s' = s) = Σ p², p0 = P(step = 0); E[(s' − s)²] = 2 Var(s)
  const steps = symmetrized(c.quotes.bidStepPmf);
  const bid = pmfMoments(steps);
  const sp = pmfMoments(c.quotes.spreadPmf);
  const p0 = steps.probs[steps.values.indexOf(0)] ?? 0;
  const q = c.quotes.spreadPmf.probs.reduce((a, x) => a + x * x, 0);
  const varS = sp.m2 - sp.mean * sp.mean;
  const midStepVar = bid.m2 * (1 - q + q / (1 - p0)) + varS / 2;
  const priceRate = c.quotes.midVar1sTicks2 / midStepVar;
  return {
    orderRatePerS: c.orders.ratePerS,
    priceRatePerS: priceRate,
    quoteSizeRatePerS: Math.max(0, c.ratePerS.quotes - priceRate),
    bookRatePerS: c.ratePerS.book,
    activitySigma: Math.sqrt(sigma2),
    activityRho: rho,
    sameSideProb: c.orders.sameSideProb,
    walkProb: c.orders.walkProb,
    midStepVarTicks2: midStepVar,
    startMidInt: c.startMidInt,
    clockOffsetUs: c.clock.exchMinusLocalMedianUs,
  };
}

export function formatParams(p: GenParams, c: Calibration): string {
  return [
    `generator: taker orders ${p.orderRatePerS.toFixed(2)}/s × Z (σ ${p.activitySigma.toFixed(3)}, ρ ${p.activityRho.toFixed(3)} per s), ` +
      `price-changing quotes ${p.priceRatePerS.toFixed(2)}/s (capture: ${c.quotes.priceChangeRatePerS.toFixed(2)}/s; ` +
      `E[Δmid²] ${p.midStepVarTicks2.toFixed(1)} ticks² per change), size-only quotes ${p.quoteSizeRatePerS.toFixed(1)}/s, ` +
      `books ${p.bookRatePerS.toFixed(1)}/s, ticker 1/s`,
  ].join("\n");
}

// ---------------------------------------------------------------------------------------------------
// Column buffers for one hour of one table

class Buf {
  n = 0;
  cap = 1 << 16;
  readonly cols: Map<string, Float64Array> = new Map();
  constructor(
    readonly names: readonly string[],
    private readonly widths: Readonly<Record<string, number>> = {},
  ) {
    for (const nm of names) this.cols.set(nm, new Float64Array(this.cap * (widths[nm] ?? 1)));
  }
  /** Appends a row and returns its index. */
  add(): number {
    if (this.n === this.cap) {
      this.cap *= 2;
      for (const nm of this.names) {
        const a = new Float64Array(this.cap * (this.widths[nm] ?? 1));
        a.set(this.cols.get(nm)!);
        this.cols.set(nm, a);
      }
    }
    return this.n++;
  }
  c(name: string): Float64Array {
    return this.cols.get(name)!;
  }
}

const i64 = (name: string, v: Float64Array): pl.Series => pl.Series(name, v).cast(pl.Int64);

// ---------------------------------------------------------------------------------------------------
// The generator

interface DayFile {
  readonly date: string;
  readonly fileId: number;
  lines: number;
  readonly parts: PartInfo[];
  readonly rows: Partial<Record<TableName, number>>;
}

export interface GeneratedLake {
  readonly lake: string;
  readonly exchange: string;
  readonly symbol: string;
  /** First generated instant (UTC midnight) and the end of the data, rounded up to a whole second. */
  readonly startUs: number;
  readonly endUs: number;
  readonly rows: Record<"trades" | "quotes" | "book_snapshot_25" | "derivative_ticker", number>;
  readonly seed: number;
  readonly trades: number;
  readonly version: number;
  readonly generatedSeconds: number;
  readonly bytes: number;
}

interface Sink {
  trades: Buf;
  quotes: Buf;
  book: Buf;
  ticker: Buf;
}

function newSink(): Sink {
  const w = {
    bid_px_int: BOOK_DEPTH,
    bid_qty_int: BOOK_DEPTH,
    ask_px_int: BOOK_DEPTH,
    ask_qty_int: BOOK_DEPTH,
  };
  return {
    trades: new Buf(["ts", "ex", "line", "trade_id", "side", "px", "qty"]),
    quotes: new Buf([
      "ts",
      "ex",
      "line",
      "update_id",
      "bid_px_int",
      "bid_qty_int",
      "ask_px_int",
      "ask_qty_int",
    ]),
    book: new Buf(
      ["ts", "ex", "line", "update_id", "bid_px_int", "bid_qty_int", "ask_px_int", "ask_qty_int"],
      w,
    ),
    ticker: new Buf(["ts", "ex", "line", "mark", "index", "settle", "funding", "next_funding"]),
  };
}

/** Generates the lake into `dir` (which must not exist). */
async function generateInto(
  dir: string,
  cal: Calibration,
  p: GenParams,
  seed: number,
  nTrades: number,
  log: (s: string) => void,
): Promise<GeneratedLake> {
  const t0 = performance.now();
  const rng = new Rng(seed);
  const registry = await SymbolRegistry.open(dir);
  const entry = registry.setSymbol(EXCHANGE, SYMBOL, {
    priceIncrement: "0.1",
    amountIncrement: "0.001",
    validFromUs: START_US,
  });
  await registry.save();
  const symbolId = entry.symbol_id;

  const fills = new PmfSampler(cal.orders.fillsPmf);
  const intraGap = new TableSampler(cal.orders.intraGapUs);
  const fillQty = new TableSampler(cal.fillQty);
  const spread = new PmfSampler(cal.quotes.spreadPmf);
  const bidStep = new PmfSampler(symmetrized(cal.quotes.bidStepPmf));
  const l1Qty = new TableSampler(cal.quotes.l1Qty);
  const gapS = cal.book.gapTicks.map((t) => new TableSampler(t));
  const qtyS = cal.book.qty.map((t) => new TableSampler(t));
  const gapP = Float64Array.from(cal.book.gapChangeProb);
  const qtyP = Float64Array.from(cal.book.qtyChangeProb);
  const jitter = new TableSampler(cal.clock.jitterUs);
  const tickDelay = new TableSampler(cal.ticker.delayMs);
  const tk = cal.ticker;

  // market state
  let bid = p.startMidInt;
  let ask = bid + 1;
  let bidQ = l1Qty.sample(rng);
  let askQ = l1Qty.sample(rng);
  const bidGap = new Float64Array(BOOK_DEPTH);
  const askGap = new Float64Array(BOOK_DEPTH);
  const bidQty = new Float64Array(BOOK_DEPTH);
  const askQty = new Float64Array(BOOK_DEPTH);
  for (let k = 1; k < BOOK_DEPTH; k++) {
    bidGap[k] = Math.max(1, gapS[k]!.sample(rng));
    askGap[k] = Math.max(1, gapS[k]!.sample(rng));
    bidQty[k] = Math.max(1, qtyS[k]!.sample(rng));
    askQty[k] = Math.max(1, qtyS[k]!.sample(rng));
  }
  let premium = tk.premiumBps.mean;
  let basis = tk.basisBps.mean;
  let funding = tk.fundingRate;
  let lastSide = 0;
  let updateId = 1_000_000_000;
  let tradeId = 5_000_000_000;

  const rows = { trades: 0, quotes: 0, book_snapshot_25: 0, derivative_ticker: 0 };
  const days = new Map<number, DayFile>();
  const dayOf = (ts: number): DayFile => {
    const d = Math.floor(ts / US_PER_DAY);
    let f = days.get(d);
    if (f === undefined) {
      const date = utcDate(d * US_PER_DAY);
      f = {
        date,
        fileId: stableId(
          `pointline-bench-generator\u0000${GEN_VERSION}\u0000${seed}\u0000${nTrades}\u0000${date}`,
        ),
        lines: 0,
        parts: [],
        rows: {},
      };
      days.set(d, f);
    }
    return f;
  };
  let sink = newSink();
  let bytes = 0;

  const exchTs = (ts: number): number =>
    Math.floor((ts + p.clockOffsetUs + jitter.sample(rng)) / 1000) * 1000;
  const lineOf = (ts: number): number => ++dayOf(ts).lines;

  const emitQuote = (ts: number): void => {
    const b = sink.quotes;
    const i = b.add();
    b.c("ts")[i] = ts;
    b.c("ex")[i] = exchTs(ts);
    b.c("line")[i] = lineOf(ts);
    b.c("update_id")[i] = ++updateId;
    b.c("bid_px_int")[i] = bid;
    b.c("bid_qty_int")[i] = bidQ;
    b.c("ask_px_int")[i] = ask;
    b.c("ask_qty_int")[i] = askQ;
    rows.quotes++;
  };

  const emitBook = (ts: number): void => {
    for (let k = 1; k < BOOK_DEPTH; k++) {
      if (rng.u() < gapP[k]!) bidGap[k] = Math.max(1, gapS[k]!.sample(rng));
      if (rng.u() < gapP[k]!) askGap[k] = Math.max(1, gapS[k]!.sample(rng));
      if (rng.u() < qtyP[k]!) bidQty[k] = Math.max(1, qtyS[k]!.sample(rng));
      if (rng.u() < qtyP[k]!) askQty[k] = Math.max(1, qtyS[k]!.sample(rng));
    }
    const b = sink.book;
    const i = b.add();
    b.c("ts")[i] = ts;
    b.c("ex")[i] = exchTs(ts);
    b.c("line")[i] = lineOf(ts);
    b.c("update_id")[i] = ++updateId;
    const bp = b.c("bid_px_int");
    const bq = b.c("bid_qty_int");
    const ap = b.c("ask_px_int");
    const aq = b.c("ask_qty_int");
    const o = i * BOOK_DEPTH;
    let pb = bid;
    let pa = ask;
    for (let k = 0; k < BOOK_DEPTH; k++) {
      if (k > 0) {
        pb -= bidGap[k]!;
        pa += askGap[k]!;
      }
      bp[o + k] = pb;
      ap[o + k] = pa;
      bq[o + k] = k === 0 ? bidQ : bidQty[k]!;
      aq[o + k] = k === 0 ? askQ : askQty[k]!;
    }
    rows.book_snapshot_25++;
  };

  const emitTicker = (ts: number, exSecond: number, delayUs: number): void => {
    // AR(1) updates once per published second
    const pr = tk.premiumBps;
    premium = pr.mean + pr.ar1 * (premium - pr.mean) + pr.std * Math.sqrt(1 - pr.ar1 * pr.ar1) * rng.normal();
    const bs = tk.basisBps;
    basis = bs.mean + bs.ar1 * (basis - bs.mean) + bs.std * Math.sqrt(1 - bs.ar1 * bs.ar1) * rng.normal();
    if (exSecond % 60 === 0 && rng.u() < 0.5) funding += rng.u() < 0.5 ? 1e-6 : -1e-6;
    const mid = ((bid + ask) / 2) * cal.priceIncrement;
    const mark = Math.round(mid * (1 + premium / 1e4) * 1e8) / 1e8;
    const index = Math.round((mark / (1 + basis / 1e4)) * 1e8) / 1e8;
    const settle = Math.round(index * (1 + tk.settleBpsMean / 1e4) * 1e8) / 1e8;
    const interval = tk.fundingIntervalH * US_PER_HOUR;
    const exUs = exSecond * 1e6 + delayUs;
    const b = sink.ticker;
    const i = b.add();
    b.c("ts")[i] = ts;
    b.c("ex")[i] = exUs;
    b.c("line")[i] = lineOf(ts);
    b.c("mark")[i] = mark;
    b.c("index")[i] = index;
    b.c("settle")[i] = settle;
    b.c("funding")[i] = Math.round(funding * 1e8) / 1e8;
    b.c("next_funding")[i] = (Math.floor(exUs / interval) + 1) * interval;
    rows.derivative_ticker++;
  };

  // hour flush
  const flush = (hourStart: number): void => {
    const day = dayOf(hourStart);
    const write = (table: TableName, df: pl.DataFrame, ts: Float64Array, n: number): void => {
      if (n === 0) return;
      const pdir = partitionDir(dir, table, EXCHANGE, SYMBOL, day.date);
      mkdirSync(pdir, { recursive: true });
      const path = join(pdir, partFileName(day.fileId, day.parts.filter((x) => x.table === table).length));
      const names = tableColumns(table).map((c) => c.name);
      df.withColumns(
        pl.lit(EXCHANGE).alias("exchange"),
        pl.lit(symbolId).cast(pl.Int64).alias("symbol_id"),
        pl.lit(day.fileId).cast(pl.Int64).alias("file_id"),
      )
        .select(...names)
        .writeParquet(path, { compression: "zstd" });
      day.parts.push({
        path: relative(dir, path),
        table,
        exchange: EXCHANGE,
        symbol: SYMBOL,
        symbol_id: symbolId,
        date: day.date,
        rows: n,
        first_ts_local_us: ts[0]!,
        last_ts_local_us: ts[n - 1]!,
      });
      day.rows[table] = (day.rows[table] ?? 0) + n;
    };
    const common = (b: Buf): pl.Series[] => [
      i64("ts_local_us", b.c("ts").subarray(0, b.n)),
      i64("ts_exch_us", b.c("ex").subarray(0, b.n)),
      i64("file_line_number", b.c("line").subarray(0, b.n)),
    ];
    {
      const b = sink.trades;
      const n = b.n;
      const df = pl.DataFrame([
        ...common(b),
        i64("trade_id", b.c("trade_id").subarray(0, n)).cast(pl.Utf8),
        pl.Series("side", b.c("side").subarray(0, n)).cast(pl.Int8),
        i64("px_int", b.c("px").subarray(0, n)),
        i64("qty_int", b.c("qty").subarray(0, n)),
      ]);
      write("trades", df, b.c("ts"), n);
    }
    {
      const b = sink.quotes;
      const n = b.n;
      const df = pl.DataFrame([
        ...common(b),
        ...["update_id", "bid_px_int", "bid_qty_int", "ask_px_int", "ask_qty_int"].map((c) =>
          i64(c, b.c(c).subarray(0, n)),
        ),
      ]);
      write("quotes", df, b.c("ts"), n);
    }
    {
      const b = sink.book;
      const n = b.n;
      // level slots are row-major (row i, level k at i·25 + k): one flat column reshaped into lists
      const lists = ["bid_px_int", "bid_qty_int", "ask_px_int", "ask_qty_int"].map((c) =>
        pl
          .DataFrame([i64(c, b.c(c).subarray(0, n * BOOK_DEPTH))])
          .select(pl.col(c).reshape([n, BOOK_DEPTH]).cast(pl.List(pl.Int64)))
          .getColumn(c),
      );
      const df = pl.DataFrame([...common(b), i64("update_id", b.c("update_id").subarray(0, n)), ...lists]);
      write("book_snapshot_25", df, b.c("ts"), n);
    }
    {
      const b = sink.ticker;
      const n = b.n;
      const f64 = (name: string, c: string): pl.Series =>
        pl.Series(name, Float64Array.from(b.c(c).subarray(0, n)));
      const nulls = (name: string): pl.Expr => pl.lit(null).cast(pl.Float64).alias(name);
      const df = pl
        .DataFrame([
          ...common(b),
          f64("mark_px", "mark"),
          f64("index_px", "index"),
          f64("est_settle_px", "settle"),
          f64("funding_rate", "funding"),
          i64("next_funding_time_us", b.c("next_funding").subarray(0, n)),
        ])
        .withColumns(nulls("last_px"), nulls("predicted_funding_rate"), nulls("open_interest"));
      write("derivative_ticker", df, b.c("ts"), n);
    }
    sink = newSink();
  };

  // event loop, one second at a time (activity constant within a second)
  const baseRate = p.orderRatePerS + p.priceRatePerS + p.quoteSizeRatePerS + p.bookRatePerS;
  const pOrder = p.orderRatePerS / baseRate;
  const pPrice = (p.orderRatePerS + p.priceRatePerS) / baseRate;
  const pQuote = (p.orderRatePerS + p.priceRatePerS + p.quoteSizeRatePerS) / baseRate;
  let x = rng.normal();
  const sig = p.activitySigma;
  const rho = p.activityRho;
  let hourStart = START_US;
  let t = START_US;
  // ticker: exchange second k is published at local (k s + delay) − clock offset
  let tickSecond = Math.ceil((START_US + p.clockOffsetUs) / 1e6);
  let tickDelayUs = Math.round(tickDelay.sample(rng)) * 1000;
  let tickLocal = tickSecond * 1e6 + tickDelayUs - p.clockOffsetUs;
  let lastReport = performance.now();
  const emitTickersUpTo = (ts: number): void => {
    while (tickLocal <= ts) {
      emitTicker(tickLocal, tickSecond, tickDelayUs);
      tickSecond++;
      tickDelayUs = Math.round(tickDelay.sample(rng)) * 1000;
      tickLocal = Math.max(tickLocal, tickSecond * 1e6 + tickDelayUs - p.clockOffsetUs);
    }
  };

  while (rows.trades < nTrades) {
    const secStart = Math.floor(t / 1e6) * 1e6;
    const secEnd = secStart + 1e6;
    x = rho * x + Math.sqrt(1 - rho * rho) * rng.normal();
    const z = Math.exp(sig * x - (sig * sig) / 2);
    const meanGapUs = 1e6 / (baseRate * z);
    for (;;) {
      const next = Math.floor(t + rng.exp(meanGapUs));
      if (next >= secEnd) break;
      t = next;
      emitTickersUpTo(t);
      const u = rng.u();
      if (u < pOrder) {
        // taker order
        const side = rng.u() < p.sameSideProb ? lastSide : 1 - lastSide;
        lastSide = side;
        const n = fills.sample(rng);
        let level = 0;
        let px = side === 0 ? ask : bid;
        const b = sink.trades;
        const orderEx = exchTs(t); // one matching-engine time for every fill of the order (Binance T)
        for (let j = 0; j < n && rows.trades < nTrades; j++) {
          if (j > 0) {
            // fills stay inside the current second (so inside the hour and the day being written)
            t = Math.min(secEnd - 1, t + Math.max(0, Math.round(intraGap.sample(rng))));
            if (rng.u() < p.walkProb) {
              // one level deeper: the ladder's gap, beyond the 25 published levels a fresh level-24 gap
              level++;
              const gap =
                level < BOOK_DEPTH
                  ? side === 0
                    ? askGap[level]!
                    : bidGap[level]!
                  : Math.max(1, gapS[BOOK_DEPTH - 1]!.sample(rng));
              px += side === 0 ? gap : -gap;
            }
          }
          const i = b.add();
          b.c("ts")[i] = t;
          b.c("ex")[i] = orderEx;
          b.c("line")[i] = lineOf(t);
          b.c("trade_id")[i] = ++tradeId;
          b.c("side")[i] = side;
          b.c("px")[i] = px;
          b.c("qty")[i] = Math.max(1, fillQty.sample(rng));
          rows.trades++;
        }
      } else if (u < pPrice) {
        const s1 = spread.sample(rng);
        let step = bidStep.sample(rng);
        while (step === 0 && s1 === ask - bid) step = bidStep.sample(rng);
        bid += step;
        ask = bid + s1;
        bidQ = l1Qty.sample(rng);
        askQ = l1Qty.sample(rng);
        emitQuote(t);
      } else if (u < pQuote) {
        if (rng.u() < 0.5) bidQ = l1Qty.sample(rng);
        else askQ = l1Qty.sample(rng);
        emitQuote(t);
      } else {
        emitBook(t);
      }
    }
    emitTickersUpTo(secEnd - 1);
    t = secEnd;
    if (t >= hourStart + US_PER_HOUR || rows.trades >= nTrades) {
      flush(hourStart);
      hourStart = Math.floor(t / US_PER_HOUR) * US_PER_HOUR;
      if (performance.now() - lastReport > 5000) {
        lastReport = performance.now();
        log(
          `  generated ${(rows.trades / 1e6).toFixed(1)} M trades up to ${new Date(t / 1000).toISOString()} (${((performance.now() - t0) / 1000).toFixed(0)} s)`,
        );
      }
    }
  }

  // manifests, one per day file
  let lastTs = 0;
  for (const d of days.values()) {
    if (d.parts.length === 0) continue;
    for (const part of d.parts) lastTs = Math.max(lastTs, part.last_ts_local_us);
    const source = `pointline-bench-generator://v${GEN_VERSION}/seed=${seed}/trades=${nTrades}/${d.date}`;
    const sha = createHash("sha256").update(source).digest("hex");
    const report = newReport(source, d.fileId, sha, "pointline-bench-generator");
    report.lines_read = d.lines;
    for (const [table, n] of Object.entries(d.rows))
      report.tables[table as TableName] = { rows_written: n, rows_rejected: 0 };
    const manifest: FileManifest = {
      file_id: d.fileId,
      source,
      sha256: sha,
      bytes: 0,
      format: "pointline-bench-generator",
      ingested_at: new Date(0).toISOString(),
      parts: d.parts,
      report,
    };
    const mp = fileManifestPath(dir, d.fileId);
    mkdirSync(resolve(mp, ".."), { recursive: true });
    writeFileSync(mp, `${JSON.stringify(manifest, null, 1)}\n`);
    for (const part of d.parts) bytes += statSize(join(dir, part.path));
  }
  return {
    lake: dir,
    exchange: EXCHANGE,
    symbol: SYMBOL,
    startUs: START_US,
    endUs: Math.ceil((lastTs + 1) / 1e6) * 1e6,
    rows,
    seed,
    trades: nTrades,
    version: GEN_VERSION,
    generatedSeconds: (performance.now() - t0) / 1000,
    bytes,
  };
}

function statSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

export interface EnsureOptions {
  readonly trades?: number;
  readonly seed?: number;
  readonly dataDir?: string;
  /** Regenerate even if cached. */
  readonly force?: boolean;
  readonly log?: (s: string) => void;
}

/**
 * Calibrates (always: it is printed), then returns the cached lake for (version, seed, size,
 * calibration), generating it first if absent.
 */
export async function ensureLake(
  opts: EnsureOptions = {},
): Promise<{ gen: GeneratedLake; calibration: Calibration; params: GenParams; cached: boolean }> {
  const log = opts.log ?? ((s: string) => console.log(s));
  const trades = opts.trades ?? DEFAULT_TRADES;
  const seed = opts.seed ?? DEFAULT_SEED;
  const dataDir = opts.dataDir ?? DATA_DIR;
  const calibration = await calibrate();
  const params = deriveParams(calibration);
  log(formatCalibration(calibration));
  log(formatParams(params, calibration));
  const calHash = createHash("sha256").update(JSON.stringify(calibration)).digest("hex").slice(0, 8);
  const dir = join(dataDir, `lake-v${GEN_VERSION}-seed${seed}-trades${trades}-cal${calHash}`);
  const metaPath = join(dir, "_meta", "bench-generator.json");
  const validate = async (gen: GeneratedLake): Promise<void> => {
    // the same statistics on hour 6 of the generated data (a full hour: rates and dispersion need it)
    const from = Math.max(gen.startUs, Math.min(gen.startUs + 6 * US_PER_HOUR, gen.endUs - US_PER_HOUR));
    const to = Math.min(gen.endUs, from + US_PER_HOUR);
    const measured = await measureLake(dir, EXCHANGE, SYMBOL, from, to);
    log(`generated vs capture (hour ${new Date(from / 1000).toISOString().slice(0, 16)}Z of the lake):`);
    log(formatValidation(calibration, measured));
  };
  if (!opts.force && existsSync(metaPath)) {
    const gen = { ...(JSON.parse(readFileSync(metaPath, "utf8")) as GeneratedLake), lake: dir };
    await validate(gen);
    return { gen, calibration, params, cached: true };
  }
  rmSync(dir, { recursive: true, force: true });
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  log(
    `generating ${trades.toLocaleString("en-US")} trades (seed ${seed}) into ${relative(process.cwd(), dir)} …`,
  );
  const gen = await generateInto(tmp, calibration, params, seed, trades, log);
  writeFileSync(
    join(tmp, "_meta", "bench-generator.json"),
    `${JSON.stringify({ ...gen, params }, null, 1)}\n`,
  );
  renameSync(tmp, dir);
  const done = { ...gen, lake: dir };
  await validate(done);
  return { gen: done, calibration, params, cached: false };
}

/** Formats a generated lake's contents. */
export function formatLake(g: GeneratedLake): string {
  const d = (g.endUs - g.startUs) / US_PER_DAY;
  const r = g.rows;
  const total = r.trades + r.quotes + r.book_snapshot_25 + r.derivative_ticker;
  return (
    `lake ${g.lake}: ${new Date(g.startUs / 1000).toISOString()} → ${new Date(g.endUs / 1000).toISOString()} (${d.toFixed(2)} days), ` +
    `${(total / 1e6).toFixed(1)} M rows: trades ${r.trades.toLocaleString("en-US")}, quotes ${r.quotes.toLocaleString("en-US")}, ` +
    `book_snapshot_25 ${r.book_snapshot_25.toLocaleString("en-US")}, derivative_ticker ${r.derivative_ticker.toLocaleString("en-US")}; ` +
    `${(g.bytes / 1e9).toFixed(2)} GB Parquet; generated in ${g.generatedSeconds.toFixed(0)} s`
  );
}

/** Parses `--name value` flags. */
export function flag(args: readonly string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const trades = Number((flag(args, "trades") ?? String(DEFAULT_TRADES)).replace(/_/g, ""));
  const seed = Number(flag(args, "seed") ?? DEFAULT_SEED);
  const dataDir = flag(args, "data-dir");
  const { gen, cached } = await ensureLake({
    trades,
    seed,
    force: args.includes("--force"),
    ...(dataDir !== undefined ? { dataDir: resolve(dataDir) } : {}),
  });
  console.log(`${cached ? "cached " : ""}${formatLake(gen)}`);
}
