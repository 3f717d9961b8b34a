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
] as const;
type Feature = (typeof FEATURES)[number];
const F = Object.fromEntries(FEATURES.map((f, k) => [f, k])) as Record<Feature, number>;

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
  // ---- state (snapshot) ----
  /** as-of quote (increments) */
  private bp = Number.NaN;
  private bq = Number.NaN;
  private ap = Number.NaN;
  private aq = Number.NaN;
  /** (bid_qty − ask_qty) at the previous interval's close */
  private prevImb = Number.NaN;
  private ofiCks = 0;
  /** last trade price (increments) and the last non-zero tick direction */
  private lastPx = Number.NaN;
  private lastDir = 0;
  /** last price at the previous interval's close */
  private prevClosePx = Number.NaN;
  // per interval
  private vol = 0;
  private count = 0;
  private signed = 0;
  private notional = 0;
  private sumR2 = 0;
  private sumBp = 0;
  /** previous return inside this interval (NaN: none yet) */
  private prevAbsR = Number.NaN;
  // VPIN
  private bucketVolInt = Number.NaN;
  private bucketFill = 0;
  /** UTC day (days since the epoch) the state belongs to. */
  private day = Number.NaN;
  private lastBucketPx = Number.NaN;
  private readonly dps: Float64Array;
  private readonly ois: Float64Array;
  private nBuckets = 0;
  private vpin = Number.NaN;
  private bucketVolNatural = 0;

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
    this.bucketVolNatural = this.bucketVolInt * inst.amountIncrement;
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
      this.onTrade(this.tPx[ev.i]!, this.tQty[ev.i]!);
    } else {
      if (ev.rows !== this.qRows) {
        this.qRows = ev.rows;
        this.qBp = f64(ev.rows, "bid_px_int");
        this.qBq = f64(ev.rows, "bid_qty_int");
        this.qAp = f64(ev.rows, "ask_px_int");
        this.qAq = f64(ev.rows, "ask_qty_int");
      }
      this.onQuote(this.qBp[ev.i]!, this.qBq[ev.i]!, this.qAp[ev.i]!, this.qAq[ev.i]!);
    }
  }

  /** One quote update (increments; NaN = side absent). */
  onQuote(bp: number, bq: number, ap: number, aq: number): void {
    // CKS eₙ between consecutive two-sided quotes
    if (bp === bp && ap === ap && this.bp === this.bp && this.ap === this.ap) {
      let e = 0;
      if (bp >= this.bp) e += bq;
      if (bp <= this.bp) e -= this.bq;
      if (ap <= this.ap) e -= aq;
      if (ap >= this.ap) e += this.aq;
      this.ofiCks += e;
    }
    this.bp = bp;
    this.bq = bq;
    this.ap = ap;
    this.aq = aq;
  }

  /** One trade (or vendor bar: close, volume), increments. */
  onTrade(px: number, qty: number): void {
    const bars = this.config.source === "bars";
    // Lee–Ready: quote rule against the as-of mid, else the tick test
    let s = 0;
    const mid2 = this.bp + this.ap; // 2·mid (NaN without a two-sided quote)
    if (!bars && mid2 === mid2 && 2 * px !== mid2) s = 2 * px > mid2 ? 1 : -1;
    const prev = this.lastPx;
    if (prev === prev && px !== prev) this.lastDir = px > prev ? 1 : -1;
    if (s === 0) s = this.lastDir;
    this.vol += qty;
    this.count++;
    this.signed += s * qty;
    this.notional += px * qty;
    if (prev === prev && prev > 0 && px > 0) {
      const r = Math.log(px / prev);
      this.sumR2 += r * r;
      const a = Math.abs(r);
      if (this.prevAbsR === this.prevAbsR) this.sumBp += a * this.prevAbsR;
      this.prevAbsR = a;
    }
    this.lastPx = px;
    this.vpinTrade(px, qty);
  }

  private vpinTrade(px: number, qty: number): void {
    let left = qty;
    const V = this.bucketVolInt;
    while (left > 0) {
      const take = Math.min(left, V - this.bucketFill);
      this.bucketFill += take;
      left -= take;
      if (this.bucketFill < V) break;
      this.completeBucket(px);
      this.bucketFill = 0;
    }
  }

  private completeBucket(px: number): void {
    const n = this.config.vpinBuckets;
    const first = this.lastBucketPx !== this.lastBucketPx;
    const dp = first ? 0 : px - this.lastBucketPx;
    this.lastBucketPx = px;
    const k = this.nBuckets % n;
    this.dps[k] = dp;
    this.nBuckets++;
    // σ of ΔP over the last min(n, buckets of the day) buckets (sample std, two-pass)
    const m = Math.min(this.nBuckets, n);
    let mean = 0;
    for (let j = 0; j < m; j++) mean += this.dps[j]!;
    mean /= m;
    let ss = 0;
    for (let j = 0; j < m; j++) ss += (this.dps[j]! - mean) ** 2;
    const sd = m > 1 ? Math.sqrt(ss / (m - 1)) : 0;
    const z = sd > 0 ? dp / sd : 0;
    this.ois[k] = Math.abs(2 * normalCdf(z) - 1); // |V_B − V_S| / V
    if (this.nBuckets >= n) {
      let sum = 0;
      for (let j = 0; j < n; j++) sum += this.ois[j]!;
      this.vpin = sum / n;
    }
  }

  /** Starts the day of `tsUs` afresh when it is not the state's day (see the module doc). */
  private dayOf(tsUs: number): void {
    const day = Math.floor(tsUs / US_PER_DAY);
    if (day === this.day) return;
    this.day = day;
    this.bp = this.bq = this.ap = this.aq = Number.NaN;
    this.prevImb = Number.NaN;
    this.ofiCks = 0;
    this.lastPx = Number.NaN;
    this.lastDir = 0;
    this.prevClosePx = Number.NaN;
    this.prevAbsR = Number.NaN;
    this.bucketFill = 0;
    this.nBuckets = 0;
    this.lastBucketPx = Number.NaN;
    this.vpin = Number.NaN;
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
      mid = this.lastPx * pi;
      micro = mid;
      spread = this.config.tickSize === null ? Number.NaN : this.config.tickSize / mid;
    } else {
      const two = this.bp === this.bp && this.ap === this.ap;
      mid = two ? ((this.bp + this.ap) / 2) * pi : Number.NaN;
      spread = two ? ((this.ap - this.bp) * pi) / mid : Number.NaN;
      const tot = this.bq + this.aq;
      micro = two && tot > 0 ? ((this.bp * this.aq + this.ap * this.bq) / tot) * pi : mid;
      depth = two && tot > 0 ? this.bq / tot : Number.NaN;
    }
    out[F.log_mid_price]![r] = mid > 0 ? Math.log(mid) : Number.NaN;
    out[F.micro_price]![r] = micro;
    out[F.spread_pct]![r] = spread;
    out[F.depth_ratio]![r] = depth;
    out[F.volume]![r] = this.vol * qi;
    out[F.trade_count]![r] = bars ? Number.NaN : this.count;
    out[F.signed_volume]![r] = this.signed * qi;
    const imb = this.imbalance();
    out[F.ofi]![r] = bars ? Number.NaN : imb - this.prevImb;
    out[F.ofi_cks]![r] = bars || !(this.bp === this.bp) ? Number.NaN : this.ofiCks * qi;
    out[F.vwap_deviation]![r] =
      this.vol > 0 && mid > 0 ? ((this.notional / this.vol) * pi - mid) / mid : Number.NaN;
    const seen = this.lastPx === this.lastPx;
    out[F.realized_vol]![r] = seen ? Math.sqrt(this.periodsPerYear * this.sumR2) : Number.NaN;
    out[F.bipower_var]![r] = seen ? (this.periodsPerYear * this.sumBp) / MU1_SQ : Number.NaN;
    out[F.interval_log_return]![r] =
      seen && this.prevClosePx === this.prevClosePx ? Math.log(this.lastPx / this.prevClosePx) : Number.NaN;
    out[F.vpin]![r] = this.vpin;
    // next interval
    this.prevImb = imb;
    this.prevClosePx = this.lastPx;
    this.vol = 0;
    this.count = 0;
    this.signed = 0;
    this.notional = 0;
    this.sumR2 = 0;
    this.sumBp = 0;
    this.prevAbsR = Number.NaN;
    this.ofiCks = 0;
  }

  /** bid_qty − ask_qty of the as-of quote (an absent side counts 0); NaN before the first quote. */
  private imbalance(): number {
    if (!(this.bp === this.bp || this.ap === this.ap)) return Number.NaN;
    return (this.bq === this.bq ? this.bq : 0) - (this.aq === this.aq ? this.aq : 0);
  }

  snapshot(): JsonValue {
    return {
      v: 1,
      num: numbersToJson([
        this.bp,
        this.bq,
        this.ap,
        this.aq,
        this.prevImb,
        this.ofiCks,
        this.lastPx,
        this.lastDir,
        this.prevClosePx,
        this.vol,
        this.count,
        this.signed,
        this.notional,
        this.sumR2,
        this.sumBp,
        this.prevAbsR,
        this.bucketFill,
        this.day,
        this.lastBucketPx,
        this.nBuckets,
        this.vpin,
      ]),
      dps: numbersToJson(this.dps),
      ois: numbersToJson(this.ois),
    };
  }

  restore(state: JsonValue): void {
    const s = stateObject(state, this.id);
    if (stateNumber(s, "v") !== 1) throw new TypeError(`${this.id}: state version`);
    const v = stateNumbers(s, "num");
    if (v.length !== 21) throw new TypeError(`${this.id}: state field num must have 21 numbers`);
    [
      this.bp,
      this.bq,
      this.ap,
      this.aq,
      this.prevImb,
      this.ofiCks,
      this.lastPx,
      this.lastDir,
      this.prevClosePx,
      this.vol,
      this.count,
      this.signed,
      this.notional,
      this.sumR2,
      this.sumBp,
      this.prevAbsR,
      this.bucketFill,
      this.day,
      this.lastBucketPx,
      this.nBuckets,
      this.vpin,
    ] = v as [
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    this.dps.set(stateNumbers(s, "dps"));
    this.ois.set(stateNumbers(s, "ois"));
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
