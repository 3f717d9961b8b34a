/**
 * `interval_microstructure`: the core microstructure set of one instrument of a multi-instrument interval
 * frame (issue 14 item 3; definitions of the ETF/options feature spec, seeds/etf-options-feature-spec.md,
 * §3.I). It reads the roles `trades@<alias>` and `quotes@<alias>` (tick data) or `bars@<alias>` (vendor
 * OHLCV bars: close as the price, volume as the size, the seed's rule for futures) and writes, per clock
 * interval [t, t + I) (the spine row; knowledge: every event with ts_local_us < t + I), the columns
 * `<feature>_<interval>_<alias>` (`realized_vol_30s_spy`):
 *
 * | feature | definition (natural units) |
 * |---|---|
 * | `log_mid_price` | ln((bid + ask)/2) of the as-of quote at the interval end; bars: ln(close) of the last bar |
 * | `micro_price` | (bid·ask_qty + ask·bid_qty)/(bid_qty + ask_qty); the mid when a size is missing or both are 0; bars: close |
 * | `spread_pct` | (ask − bid)/mid (a fraction, the seed's formula); bars: tick_size/close |
 * | `depth_ratio` | bid_qty/(bid_qty + ask_qty) at the best level; bars: null (no depth) |
 * | `volume` | Σ size of the interval's trades (shares, contracts, base units) |
 * | `trade_count` | trades in the interval; bars: null (a bar is not a trade) |
 * | `signed_volume` | Σ s·size, s by Lee–Ready (1991): +1 above the as-of mid, −1 below (quote rule, no delay: quotes at the trade's µs rank before it); at the mid or without a two-sided quote the tick test (+1 uptick, −1 downtick, a zero tick repeats the last non-zero direction, 0 before any); bars: the tick test on closes |
 * | `ofi` | the seed's L1 formula Σ (Δbid_qty − Δask_qty) over the interval's quote updates = the change of (bid_qty − ask_qty) from the previous interval's close (null before the first quote; 0 without updates); bars: null |
 * | `ofi_cks` | Cont, Kukanov & Stoikov (2014) eq. (10): Σ eₙ, eₙ = 1{Pᵇₙ ≥ Pᵇₙ₋₁}qᵇₙ − 1{Pᵇₙ ≤ Pᵇₙ₋₁}qᵇₙ₋₁ − 1{Pᵃₙ ≤ Pᵃₙ₋₁}qᵃₙ + 1{Pᵃₙ ≥ Pᵃₙ₋₁}qᵃₙ₋₁ over consecutive two-sided quotes (sizes in natural units) |
 * | `vwap_deviation` | (VWAP − mid)/mid, VWAP of the interval's trades, mid at the interval end (bars: close) |
 * | `realized_vol` | √(A · Σ rᵢ²), rᵢ = ln(pᵢ/pᵢ₋₁) the tick log returns whose later trade is in the interval (the first uses the last price before it); A = intervals per year |
 * | `bipower_var` | A · μ₁⁻² Σ |rᵢ||rᵢ₋₁| over consecutive returns both in the interval, μ₁ = √(2/π) (Barndorff-Nielsen & Shephard 2004) |
 * | `interval_log_return` | Σ rᵢ = ln(last price / last price before the interval); 0 without trades, null before the first trade |
 * | `last_price` | the last trade price (bars: close) of the day so far (as-of) |
 * | `vwap` | Σ p·q / Σ q of the interval's trades (bars: of the closes); null without trades |
 * | `vpin` | Easley, López de Prado & O'Hara (2012): equal-volume buckets of `vpinBucketVolume` (trades split exactly across buckets; buckets never span a UTC midnight), bulk-volume classification V_B = V·Φ(ΔP/σ_ΔP) with ΔP the change of the last price from the previous bucket and σ_ΔP the sample std of ΔP over the last `vpinBuckets` buckets (those of the day), VPIN = Σ|2V_B − V|/(n·V) over the last n = `vpinBuckets` buckets; known from each bucket's completing trade on and carried forward onto the grid (null until n buckets of the day) |
 *
 * Annualisation (`A` = periods per year / 1 interval): trading seconds per year / interval seconds, with
 * 252 × 6.5 h for equities (regular session), 252 × 23 h for CME futures (Globex), 365 × 24 h for crypto.
 * Realised vol and bipower variation include the interval's whole session (pre/post market for
 * equities when the data have it); the factor is a convention stated here, not a session filter.
 *
 * **Day anchoring.** All state (as-of quote, last price, tick direction, VPIN buckets) starts afresh at
 * each UTC midnight, as event bars do (docs/engine.md): a day's rows are a function of that day's events,
 * so per-date frames are partition-safe by construction (for US equities UTC midnight is 20:00 ET, after
 * the session; for futures the first rows after midnight wait for the first bar of the day).
 *
 * Warm-up: 1 interval for `ofi`, `interval_log_return` (previous close); VPIN: n buckets of the day.
 * Memory: O(vpinBuckets). No allocation per event.
 */
import { z } from "zod";
import { ConfigError } from "../../core/errors.js";
import { EMPTY_F64, f64 } from "../../engine/inputs.js";
import type {
  EventCursor,
  InstrumentInfo,
  JsonValue,
  Operator,
  OperatorContext,
  OutputSpec,
  SourceRole,
  SpineRow,
} from "../../engine/operator.js";
import {
  instrumentRole,
  numbersToJson,
  stateNumber,
  stateNumbers,
  stateObject,
} from "../../engine/operator.js";
import type { OutputMeta } from "../../engine/registry.js";
import type { TypedRows } from "../../query/query.js";
import { familyOperator } from "../family.js";
import { normalCdf } from "./normal.js";

/** Trading seconds per year by asset class (annualisation, see the module doc). */
export const SECONDS_PER_YEAR: Readonly<Record<AssetClass, number>> = {
  equity: 252 * 6.5 * 3600,
  future: 252 * 23 * 3600,
  crypto: 365 * 24 * 3600,
};
export type AssetClass = "equity" | "future" | "crypto";

/** Settings of one instrument's operator. */
export const INTERVAL_MICRO_PARAMS = z
  .object({
    /** Instrument alias (column suffix, role `<base>@<alias>`), e.g. `spy`. */
    alias: z.string().regex(/^[a-z][a-z0-9]*$/),
    /** Interval length, ms (the spine step): 30,000 → `30s` in names. */
    intervalMs: z.number().int().positive(),
    /** `ticks`: trades (+ quotes); `bars`: vendor OHLCV bars of `barIntervalMs`. */
    source: z.enum(["ticks", "bars"]),
    /** Ticks: read `quotes@alias` too (false: quote features are null). */
    quotes: z.boolean().default(true),
    /** Bars: the vendor bar length read, ms. */
    barIntervalMs: z.number().int().positive().default(60_000),
    /** Bars: tick size (price units) for the spread proxy; null: spread null. */
    tickSize: z.number().positive().nullable().default(null),
    assetClass: z.enum(["equity", "future", "crypto"]),
    /** VPIN bucket volume, natural units (shares, contracts, base units). */
    vpinBucketVolume: z.number().positive(),
    /** VPIN window, buckets. */
    vpinBuckets: z.number().int().min(2).default(50),
  })
  .strict();
export type IntervalMicroConfig = z.output<typeof INTERVAL_MICRO_PARAMS>;

/** `30000` → `30s`, `60000` → `60s`, `1500` → `1500ms`. */
export function intervalLabel(intervalMs: number): string {
  return intervalMs % 1000 === 0 ? `${intervalMs / 1000}s` : `${intervalMs}ms`;
}

const FEATURES = [
  "log_mid_price",
  "micro_price",
  "spread_pct",
  "depth_ratio",
  "volume",
  "trade_count",
  "signed_volume",
  "ofi",
  "ofi_cks",
  "vwap_deviation",
  "realized_vol",
  "bipower_var",
  "interval_log_return",
  "vpin",
  "last_price",
  "vwap",
] as const;
type Feature = (typeof FEATURES)[number];
const F = Object.fromEntries(FEATURES.map((f, k) => [f, k])) as Record<Feature, number>;

/** Scalar state of one instrument's operator, in snapshot order. */
const STATE_KEYS = [
  "bp",
  "bq",
  "ap",
  "aq",
  "prevImb",
  "ofiCks",
  "lastPx",
  "lastDir",
  "prevClosePx",
  "vol",
  "count",
  "signed",
  "notional",
  "sumR2",
  "sumBp",
  "prevAbsR",
  "bucketFill",
  "day",
  "lastBucketPx",
  "nBuckets",
  "vpin",
] as const;
type ScalarState = Record<(typeof STATE_KEYS)[number], number>;

/** A fresh state: no quote, no price, empty sums (NaN = none). */
function newState(): ScalarState {
  const s = Object.fromEntries(STATE_KEYS.map((k) => [k, Number.NaN])) as ScalarState;
  for (const k of [
    "ofiCks",
    "lastDir",
    "vol",
    "count",
    "signed",
    "notional",
    "sumR2",
    "sumBp",
    "bucketFill",
    "nBuckets",
  ] as const)
    s[k] = 0;
  return s;
}

const MU1_SQ = 2 / Math.PI; // μ₁² = E|Z|² = 2/π
const US_PER_DAY = 86_400_000_000;

/** Output metadata of one instrument's operator under `c`. */
export function intervalMicroOutputs(c: IntervalMicroConfig): OutputMeta[] {
  const L = intervalLabel(c.intervalMs);
  const bars = c.source === "bars";
  const t = bars
    ? [`ohlcv_bars.close_px_int`, `ohlcv_bars.volume_qty_int`]
    : ["trades.px_int", "trades.qty_int"];
  const q = ["quotes.bid_px_int", "quotes.bid_qty_int", "quotes.ask_px_int", "quotes.ask_qty_int"];
  const meta: Record<Feature, [string, string, string[], number]> = {
    log_mid_price: [
      "ln((bid + ask)/2) as of the interval end (bars: ln close)",
      "log price",
      bars ? t : q,
      0,
    ],
    micro_price: [
      "(bid·ask_qty + ask·bid_qty)/(bid_qty + ask_qty), mid without depth",
      "quote currency",
      bars ? t : q,
      0,
    ],
    spread_pct: ["(ask − bid)/mid (bars: tick_size/close)", "fraction", bars ? t : q, 0],
    depth_ratio: ["bid_qty/(bid_qty + ask_qty)", "fraction [0,1]", q, 0],
    volume: ["Σ trade size in the interval", "base units", t, 0],
    trade_count: ["number of trades in the interval", "count", t, 0],
    signed_volume: [
      "Σ Lee–Ready sign · size (bars: tick test on closes)",
      "base units",
      [...t, ...(bars ? [] : q)],
      0,
    ],
    ofi: ["Σ (Δbid_qty − Δask_qty) over the interval's quote updates", "base units", q, 1],
    ofi_cks: ["Σ eₙ of Cont–Kukanov–Stoikov (2014)", "base units", q, 1],
    vwap_deviation: ["(VWAP − mid)/mid", "fraction", [...t, ...(bars ? [] : q)], 0],
    realized_vol: ["√(A·Σ r²), r tick log returns", "annualised vol", t, 0],
    bipower_var: ["A·(π/2)·Σ|rᵢ||rᵢ₋₁|", "annualised variance", t, 0],
    interval_log_return: ["Σ r = ln(p_last/p_prev_close)", "log return", t, 1],
    vpin: [`VPIN over ${c.vpinBuckets} buckets of ${c.vpinBucketVolume} (BVC)`, "probability [0,1]", t, 0],
    last_price: ["price of the last trade (bars: close) of the day so far", "quote currency", t, 0],
    vwap: ["Σ price·size / Σ size of the interval's trades (bars: closes)", "quote currency", t, 0],
  };
  return FEATURES.map((f) => {
    const [formula, unit, inputs, warmupRows] = meta[f];
    return {
      name: `${f}_${L}_${c.alias}`,
      dtype: f === "trade_count" ? "i64" : "f64",
      unit,
      warmupRows,
      formula,
      inputs,
      window: f === "vpin" ? `${c.vpinBuckets} volume buckets of the UTC day` : `interval [t, t + ${L})`,
      warmup: f === "vpin" ? `${c.vpinBuckets} buckets of the day` : warmupRows > 0 ? "1 interval" : "none",
      pitPolicy: "events with ts_local_us < interval end; as-of quote backward",
      version: 1,
      source:
        f === "signed_volume"
          ? "Lee & Ready (1991), J. Finance 46(2)"
          : f === "ofi_cks"
            ? "Cont, Kukanov & Stoikov (2014), J. Financial Econometrics 12(1), eq. (10)"
            : f === "bipower_var"
              ? "Barndorff-Nielsen & Shephard (2004), J. Financial Econometrics 2(1)"
              : f === "vpin"
                ? "Easley, López de Prado & O'Hara (2012), Rev. Financial Studies 25(5)"
                : "seeds/etf-options-feature-spec.md §3.I",
    } satisfies OutputMeta;
  });
}

/** The streaming operator (see the module doc). */
export class IntervalMicroOperator implements Operator {
  readonly id: string;
  readonly inputs: readonly SourceRole[];
  readonly reads: Readonly<Partial<Record<SourceRole, Readonly<Record<string, "f64">>>>>;
  readonly outputs: readonly OutputSpec[];
  private readonly tradeRole: SourceRole;
  private readonly quoteRole: SourceRole | null;
  private readonly periodsPerYear: number;
  private inst: InstrumentInfo | null = null;
  // batch columns (resolved once per batch)
  private tRows: TypedRows | null = null;
  private tPx: Float64Array = EMPTY_F64;
  private tQty: Float64Array = EMPTY_F64;
  private tIntv: Float64Array = EMPTY_F64;
  private qRows: TypedRows | null = null;
  private qBp: Float64Array = EMPTY_F64;
  private qBq: Float64Array = EMPTY_F64;
  private qAp: Float64Array = EMPTY_F64;
  private qAq: Float64Array = EMPTY_F64;
  /** Scalar state (snapshot): the as-of quote, last prices, per-interval sums, VPIN bucket state (see `STATE_KEYS`). */
  private readonly s: ScalarState = newState();
  private bucketVolInt = Number.NaN;
  private readonly dps: Float64Array;
  private readonly ois: Float64Array;

  constructor(readonly config: IntervalMicroConfig) {
    this.id = `interval_microstructure_${intervalLabel(config.intervalMs)}_${config.alias}`;
    const bars = config.source === "bars";
    this.tradeRole = instrumentRole(bars ? "bars" : "trades", config.alias);
    this.quoteRole = !bars && config.quotes ? instrumentRole("quotes", config.alias) : null;
    this.inputs = this.quoteRole ? [this.tradeRole, this.quoteRole] : [this.tradeRole];
    const reads: Record<string, Record<string, "f64">> = {
      [this.tradeRole]: bars
        ? { close_px_int: "f64", volume_qty_int: "f64", interval_us: "f64" }
        : { px_int: "f64", qty_int: "f64" },
    };
    if (this.quoteRole)
      reads[this.quoteRole] = {
        bid_px_int: "f64",
        bid_qty_int: "f64",
        ask_px_int: "f64",
        ask_qty_int: "f64",
      };
    this.reads = reads;
    this.outputs = intervalMicroOutputs(config).map(({ name, dtype, unit, warmupRows }) => ({
      name,
      dtype,
      unit,
      warmupRows,
    }));
    this.periodsPerYear = SECONDS_PER_YEAR[config.assetClass] / (config.intervalMs / 1000);
    this.dps = new Float64Array(config.vpinBuckets);
    this.ois = new Float64Array(config.vpinBuckets);
  }

  init(ctx: OperatorContext): void {
    const inst = ctx.instruments?.[this.config.alias];
    if (inst === undefined)
      throw new ConfigError(`${this.id}: the run names no instrument '${this.config.alias}'`);
    this.inst = inst;
    // bucket volume in qty increments (rounded up: a bucket never holds less than requested)
    this.bucketVolInt = Math.ceil(this.config.vpinBucketVolume / inst.amountIncrement - 1e-9);
  }

  onEvent(ev: EventCursor): void {
    this.dayOf(ev.tsLocalUs);
    if (ev.role === this.tradeRole) {
      if (ev.rows !== this.tRows) {
        this.tRows = ev.rows;
        if (this.config.source === "bars") {
          this.tPx = f64(ev.rows, "close_px_int");
          this.tQty = f64(ev.rows, "volume_qty_int");
          this.tIntv = f64(ev.rows, "interval_us");
        } else {
          this.tPx = f64(ev.rows, "px_int");
          this.tQty = f64(ev.rows, "qty_int");
        }
      }
      if (this.config.source === "bars" && this.tIntv[ev.i] !== this.config.barIntervalMs * 1000) return;
      this.addTrade(this.tPx[ev.i]!, this.tQty[ev.i]!);
    } else {
      if (ev.rows !== this.qRows) {
        this.qRows = ev.rows;
        this.qBp = f64(ev.rows, "bid_px_int");
        this.qBq = f64(ev.rows, "bid_qty_int");
        this.qAp = f64(ev.rows, "ask_px_int");
        this.qAq = f64(ev.rows, "ask_qty_int");
      }
      this.addQuote(this.qBp[ev.i]!, this.qBq[ev.i]!, this.qAp[ev.i]!, this.qAq[ev.i]!);
    }
  }

  /** One quote update (increments; NaN = side absent). */
  addQuote(bp: number, bq: number, ap: number, aq: number): void {
    // CKS eₙ between consecutive two-sided quotes
    if (!Number.isNaN(bp) && !Number.isNaN(ap) && !Number.isNaN(this.s.bp) && !Number.isNaN(this.s.ap)) {
      let e = 0;
      if (bp >= this.s.bp) e += bq;
      if (bp <= this.s.bp) e -= this.s.bq;
      if (ap <= this.s.ap) e -= aq;
      if (ap >= this.s.ap) e += this.s.aq;
      this.s.ofiCks += e;
    }
    this.s.bp = bp;
    this.s.bq = bq;
    this.s.ap = ap;
    this.s.aq = aq;
  }

  /** One trade (or vendor bar: close, volume), increments. */
  addTrade(px: number, qty: number): void {
    const bars = this.config.source === "bars";
    // Lee–Ready: quote rule against the as-of mid, else the tick test
    let s = 0;
    const mid2 = this.s.bp + this.s.ap; // 2·mid (NaN without a two-sided quote)
    if (!bars && !Number.isNaN(mid2) && 2 * px !== mid2) s = 2 * px > mid2 ? 1 : -1;
    const prev = this.s.lastPx;
    if (!Number.isNaN(prev) && px !== prev) this.s.lastDir = px > prev ? 1 : -1;
    if (s === 0) s = this.s.lastDir;
    this.s.vol += qty;
    this.s.count++;
    this.s.signed += s * qty;
    this.s.notional += px * qty;
    if (!Number.isNaN(prev) && prev > 0 && px > 0) {
      const r = Math.log(px / prev);
      this.s.sumR2 += r * r;
      const a = Math.abs(r);
      if (!Number.isNaN(this.s.prevAbsR)) this.s.sumBp += a * this.s.prevAbsR;
      this.s.prevAbsR = a;
    }
    this.s.lastPx = px;
    this.vpinTrade(px, qty);
  }

  private vpinTrade(px: number, qty: number): void {
    let left = qty;
    const V = this.bucketVolInt;
    while (left > 0) {
      const take = Math.min(left, V - this.s.bucketFill);
      this.s.bucketFill += take;
      left -= take;
      if (this.s.bucketFill < V) break;
      this.completeBucket(px);
      this.s.bucketFill = 0;
    }
  }

  private completeBucket(px: number): void {
    const n = this.config.vpinBuckets;
    const first = Number.isNaN(this.s.lastBucketPx);
    const dp = first ? 0 : px - this.s.lastBucketPx;
    this.s.lastBucketPx = px;
    const k = this.s.nBuckets % n;
    this.dps[k] = dp;
    this.s.nBuckets++;
    // σ of ΔP over the last min(n, buckets of the day) buckets (sample std, two-pass)
    const m = Math.min(this.s.nBuckets, n);
    let mean = 0;
    for (let j = 0; j < m; j++) mean += this.dps[j]!;
    mean /= m;
    let ss = 0;
    for (let j = 0; j < m; j++) ss += (this.dps[j]! - mean) ** 2;
    const sd = m > 1 ? Math.sqrt(ss / (m - 1)) : 0;
    const z = sd > 0 ? dp / sd : 0;
    this.ois[k] = Math.abs(2 * normalCdf(z) - 1); // |V_B − V_S| / V
    if (this.s.nBuckets >= n) {
      let sum = 0;
      for (let j = 0; j < n; j++) sum += this.ois[j]!;
      this.s.vpin = sum / n;
    }
  }

  /** Starts the day of `tsUs` afresh when it is not the state's day (see the module doc). */
  private dayOf(tsUs: number): void {
    const day = Math.floor(tsUs / US_PER_DAY);
    if (day === this.s.day) return;
    this.s.day = day;
    this.s.bp = this.s.bq = this.s.ap = this.s.aq = Number.NaN;
    this.s.prevImb = Number.NaN;
    this.s.ofiCks = 0;
    this.s.lastPx = Number.NaN;
    this.s.lastDir = 0;
    this.s.prevClosePx = Number.NaN;
    this.s.prevAbsR = Number.NaN;
    this.s.bucketFill = 0;
    this.s.nBuckets = 0;
    this.s.lastBucketPx = Number.NaN;
    this.s.vpin = Number.NaN;
  }

  emit(row: SpineRow, out: readonly Float64Array[], r: number): void {
    this.dayOf(row.tsEventUs);
    const inst = this.inst!;
    const pi = inst.priceIncrement;
    const qi = inst.amountIncrement;
    const bars = this.config.source === "bars";
    let mid: number;
    let micro: number;
    let spread: number;
    let depth = Number.NaN;
    if (bars) {
      mid = this.s.lastPx * pi;
      micro = mid;
      spread = this.config.tickSize === null ? Number.NaN : this.config.tickSize / mid;
    } else {
      const two = !Number.isNaN(this.s.bp) && !Number.isNaN(this.s.ap);
      mid = two ? ((this.s.bp + this.s.ap) / 2) * pi : Number.NaN;
      spread = two ? ((this.s.ap - this.s.bp) * pi) / mid : Number.NaN;
      const tot = this.s.bq + this.s.aq;
      micro = two && tot > 0 ? ((this.s.bp * this.s.aq + this.s.ap * this.s.bq) / tot) * pi : mid;
      depth = two && tot > 0 ? this.s.bq / tot : Number.NaN;
    }
    out[F.log_mid_price]![r] = mid > 0 ? Math.log(mid) : Number.NaN;
    out[F.micro_price]![r] = micro;
    out[F.spread_pct]![r] = spread;
    out[F.depth_ratio]![r] = depth;
    out[F.volume]![r] = this.s.vol * qi;
    out[F.trade_count]![r] = bars ? Number.NaN : this.s.count;
    out[F.signed_volume]![r] = this.s.signed * qi;
    const imb = this.imbalance();
    out[F.ofi]![r] = bars ? Number.NaN : imb - this.s.prevImb;
    out[F.ofi_cks]![r] = bars || Number.isNaN(this.s.bp) ? Number.NaN : this.s.ofiCks * qi;
    out[F.vwap_deviation]![r] =
      this.s.vol > 0 && mid > 0 ? ((this.s.notional / this.s.vol) * pi - mid) / mid : Number.NaN;
    const seen = !Number.isNaN(this.s.lastPx);
    out[F.realized_vol]![r] = seen ? Math.sqrt(this.periodsPerYear * this.s.sumR2) : Number.NaN;
    out[F.bipower_var]![r] = seen ? (this.periodsPerYear * this.s.sumBp) / MU1_SQ : Number.NaN;
    out[F.interval_log_return]![r] =
      seen && !Number.isNaN(this.s.prevClosePx) ? Math.log(this.s.lastPx / this.s.prevClosePx) : Number.NaN;
    out[F.vpin]![r] = this.s.vpin;
    out[F.last_price]![r] = this.s.lastPx * pi;
    out[F.vwap]![r] = this.s.vol > 0 ? (this.s.notional / this.s.vol) * pi : Number.NaN;
    // next interval
    this.s.prevImb = imb;
    this.s.prevClosePx = this.s.lastPx;
    this.s.vol = 0;
    this.s.count = 0;
    this.s.signed = 0;
    this.s.notional = 0;
    this.s.sumR2 = 0;
    this.s.sumBp = 0;
    this.s.prevAbsR = Number.NaN;
    this.s.ofiCks = 0;
  }

  /** bid_qty − ask_qty of the as-of quote (an absent side counts 0); NaN before the first quote. */
  private imbalance(): number {
    if (!(!Number.isNaN(this.s.bp) || !Number.isNaN(this.s.ap))) return Number.NaN;
    return (!Number.isNaN(this.s.bq) ? this.s.bq : 0) - (!Number.isNaN(this.s.aq) ? this.s.aq : 0);
  }

  snapshot(): JsonValue {
    return {
      v: 1,
      num: numbersToJson(STATE_KEYS.map((k) => this.s[k])),
      dps: numbersToJson(this.dps),
      ois: numbersToJson(this.ois),
    };
  }

  restore(state: JsonValue): void {
    const st = stateObject(state, this.id);
    if (stateNumber(st, "v") !== 1) throw new TypeError(`${this.id}: state version`);
    const v = stateNumbers(st, "num");
    if (v.length !== STATE_KEYS.length)
      throw new TypeError(`${this.id}: state field num must have ${STATE_KEYS.length} numbers`);
    STATE_KEYS.forEach((k, j) => {
      this.s[k] = v[j]!;
    });
    this.dps.set(stateNumbers(st, "dps"));
    this.ois.set(stateNumbers(st, "ois"));
  }
}

/** The registered definition (one instance per instrument and interval). */
export const intervalMicrostructureDef = familyOperator<IntervalMicroConfig>({
  name: "interval_microstructure",
  description:
    "The core microstructure set of one instrument on a clock interval grid: log mid, micro-price, spread, depth ratio, volume, trade count, Lee–Ready signed volume, OFI (L1 and Cont–Kukanov–Stoikov), VWAP deviation, realised vol, bipower variation, interval log return, VPIN; columns <feature>_<interval>_<alias>",
  source:
    "seeds/etf-options-feature-spec.md §3.I; Lee & Ready (1991); Cont, Kukanov & Stoikov (2014); Barndorff-Nielsen & Shephard (2004); Easley, López de Prado & O'Hara (2012)",
  params: INTERVAL_MICRO_PARAMS as unknown as z.ZodType<IntervalMicroConfig>,
  outputs: intervalMicroOutputs,
  create: (c) => new IntervalMicroOperator(c),
});
