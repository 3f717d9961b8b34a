/**
 * Book and trade feature families (ms_, of_, of_…_N, bs_, ex_, sd_, ls_) on the real Binance USDⓈ-M
 * captures, against naive references recomputed from the raw lake rows (query.*):
 *
 * - The reference spine is rebuilt independently: clock bars [t, t + 1 s) from the replay start; event
 *   bars (trades, volume, split volume) by accumulating raw trades with a reset at every UTC midnight (the
 *   open bar is dropped there). For each row it records, by a full scan of the raw rows, the last book row
 *   and the last trade in the row's knowledge set (clock: ts_local_us < available_at; event rows: book rows
 *   with ts_local_us ≤ the closing trade's, since book_snapshot_25 ranks before trades at equal time, and
 *   trades up to the closing trade itself) and the trade pieces that belong to the bar.
 * - Every formula is then evaluated from scratch from those raw rows (Pointline's families.py formulas);
 *   windows are recomputed from scratch over the previous N rows' reference values (O(n·N)), warm-up rows
 *   included; std two-pass with ddof 1.
 * - Integer outputs must match exactly, floats within 1e-12 relative (the z-score: within the rounding of
 *   its mean, see `assertZClose`). Each compared column must be mostly non-null and not constant, so the
 *   comparisons can fail.
 * - Flow rolling on the `trades` spine equals Pointline's definition computed naively (sums of the last N
 *   trades); on split volume bars |flow| over N bars is exactly N × threshold.
 * - Snapshot/restore: every operator swapped for a JSON-restored copy at several rows and every 997 events
 *   gives a bitwise-identical frame (clock spine, and volume bars across a UTC midnight with a dropped bar).
 * - Synthetic books and trades pin the null rules (no book, empty side, zero sizes, short books) and the
 *   split-trade rules (continuation pieces) that the captures never exercise.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type pl from "nodejs-polars";
import { toUs, US_PER_DAY } from "../../src/core/time.js";
import type { EventCursor, Operator, SourceRole, SpineRow } from "../../src/engine/operator.js";
import { bookShape } from "../../src/features/book-shape.js";
import { type FeatureRunInput, parseFeatureRunConfig } from "../../src/features/config.js";
import { executionCost } from "../../src/features/execution-cost.js";
import type { FamilyDef } from "../../src/features/family.js";
import { flowRolling } from "../../src/features/flow-rolling.js";
import { buildFeatureFrameWithSummary } from "../../src/features/frame.js";
import { liquidityShock } from "../../src/features/liquidity-shock.js";
import { microstructure } from "../../src/features/microstructure.js";
import { spreadDynamics } from "../../src/features/spread-dynamics.js";
import { tradeFlow } from "../../src/features/trade-flow.js";
import { SymbolRegistry } from "../../src/lake/registry.js";
import type { LevelColumn, TypedRows } from "../../src/query/query.js";
import {
  assertColumnClose,
  assertFramesIdentical,
  catalogUnitOf,
  columnValues,
  type NaturalIncrements,
  naturalIncrements,
  probedFamily,
  refInFrameUnits,
} from "../helpers/engine.js";
import { captureLake, rawEvents, W2023, W2024 } from "../helpers/lake.js";

const EX = "binance-futures";
const SYM = "BTCUSDT";
const FAMILIES: readonly FamilyDef[] = [
  microstructure,
  tradeFlow,
  flowRolling,
  bookShape,
  executionCost,
  spreadDynamics,
  liquidityShock,
];
const L = 25; // slots per row in LevelColumn

// ---------------------------------------------------------------------------------------------------
// raw rows

interface RawBook {
  readonly n: number;
  readonly ts: Float64Array;
  readonly bidPx: LevelColumn;
  readonly bidQty: LevelColumn;
  readonly askPx: LevelColumn;
  readonly askQty: LevelColumn;
}
interface RawTrades {
  readonly n: number;
  readonly ts: Float64Array;
  readonly px: Float64Array;
  readonly qty: Float64Array;
  readonly side: Int8Array;
}
interface Raw {
  readonly book: RawBook;
  readonly trades: RawTrades;
}

function rawOf(e: { trades: TypedRows; book: TypedRows }): Raw {
  const b = e.book.columns;
  const t = e.trades.columns;
  return {
    book: {
      n: e.book.length,
      ts: b.ts_local_us as Float64Array,
      bidPx: b.bid_px_int as LevelColumn,
      bidQty: b.bid_qty_int as LevelColumn,
      askPx: b.ask_px_int as LevelColumn,
      askQty: b.ask_qty_int as LevelColumn,
    },
    trades: {
      n: e.trades.length,
      ts: t.ts_local_us as Float64Array,
      px: t.px_int as Float64Array,
      qty: t.qty_int as Float64Array,
      side: t.side as Int8Array,
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// reference spines

/** A piece of trade `i` (qty increments) that belongs to a bar; `first` = the trade's first piece. */
interface Piece {
  readonly i: number;
  readonly q: number;
  readonly first: boolean;
}
interface RefRow {
  readonly tsEvent: number;
  readonly availableAt: number;
  /** Last book row in the knowledge set (−1: none). */
  readonly bookCut: number;
  /** Last trade in the knowledge set (−1: none). */
  readonly tradeCut: number;
  /** Trade pieces of the bar (fed since the previous row). */
  readonly pieces: readonly Piece[];
}
interface RefSpine {
  /** Every row from the replay start, warm-up rows included. */
  readonly rows: readonly RefRow[];
  /** Partial bars dropped at a UTC midnight or the range end. */
  readonly dropped: number;
}

/** Clock bars [t, t + step) from the replay start; full scans of the raw rows for every row. */
function clockSpine(raw: Raw, replayStartUs: number, endUs: number, stepUs: number): RefSpine {
  const rows: RefRow[] = [];
  for (let t = replayStartUs; t + stepUs <= endUs; t += stepUs) {
    const cut = t + stepUs;
    let bookCut = -1;
    for (let i = 0; i < raw.book.n; i++) {
      const ts = raw.book.ts[i]!;
      if (ts >= replayStartUs && ts < cut) bookCut = i;
    }
    let tradeCut = -1;
    const pieces: Piece[] = [];
    for (let i = 0; i < raw.trades.n; i++) {
      const ts = raw.trades.ts[i]!;
      if (ts >= replayStartUs && ts < cut) tradeCut = i;
      if (ts >= t && ts < cut) pieces.push({ i, q: raw.trades.qty[i]!, first: true });
    }
    rows.push({ tsEvent: t, availableAt: cut, bookCut, tradeCut, pieces });
  }
  return { rows, dropped: 0 };
}

/**
 * Event bars: `threshold` null = one row per trade (`trades` spine); otherwise volume bars closing on the
 * trade that brings Σ qty to ≥ threshold (qty increments), or with `split` on the piece that fills it
 * exactly. Bars reset at every UTC midnight (the open bar is dropped) and the bar open at the end is
 * dropped. Knowledge set of a row closed by trade j: book rows with ts ≤ ts_j (rank 0 < trades' 5) and
 * trades 0…j.
 */
function eventSpine(
  raw: Raw,
  replayStartUs: number,
  endUs: number,
  threshold: number | null,
  split = false,
): RefSpine {
  const rows: RefRow[] = [];
  let dropped = 0;
  let open = false;
  let openTs = 0;
  let acc = 0;
  let dayEnd = 0;
  let pieces: Piece[] = [];
  for (let j = 0; j < raw.trades.n; j++) {
    const ts = raw.trades.ts[j]!;
    if (ts < replayStartUs || ts >= endUs) continue;
    if (open && ts >= dayEnd) {
      open = false;
      dropped++;
    }
    let remaining = raw.trades.qty[j]!;
    let first = true;
    while (first || remaining > 0) {
      if (!open) {
        open = true;
        openTs = ts;
        acc = 0;
        pieces = [];
        dayEnd = (Math.floor(ts / US_PER_DAY) + 1) * US_PER_DAY;
      }
      const q = split && threshold !== null ? Math.min(remaining, threshold - acc) : remaining;
      pieces.push({ i: j, q, first });
      acc += q;
      remaining -= q;
      first = false;
      if (threshold === null || acc >= threshold) {
        let bookCut = -1;
        for (let i = 0; i < raw.book.n; i++) {
          const bts = raw.book.ts[i]!;
          if (bts >= replayStartUs && bts <= ts) bookCut = i;
        }
        rows.push({ tsEvent: openTs, availableAt: ts, bookCut, tradeCut: j, pieces });
        open = false;
      }
    }
  }
  if (open) dropped++;
  return { rows, dropped };
}

// ---------------------------------------------------------------------------------------------------
// reference features (formulas of Pointline's families.py, evaluated from the raw rows)

type Ref = Map<string, Float64Array>;

const lvl = (c: LevelColumn, b: number, k: number): number => c.values[b * L + k]!;
/** Σ of levels 0…min(k, len)−1 of row b. */
function levelSum(c: LevelColumn, b: number, k: number): number {
  let s = 0;
  for (let j = 0; j < Math.min(k, c.lens[b]!); j++) s += lvl(c, b, j);
  return s;
}
function levelDot(px: LevelColumn, qty: LevelColumn, b: number, k: number): number {
  let s = 0;
  for (let j = 0; j < Math.min(k, px.lens[b]!); j++) s += lvl(px, b, j) * lvl(qty, b, j);
  return s;
}
/** Level 0 of row b, NaN if no book row or an empty side. */
function top(c: LevelColumn, b: number): number {
  return b >= 0 && c.lens[b]! > 0 ? lvl(c, b, 0) : Number.NaN;
}

function column(ref: Ref, name: string, n: number): Float64Array {
  let a = ref.get(name);
  if (!a) {
    a = new Float64Array(n).fill(Number.NaN);
    ref.set(name, a);
  }
  return a;
}

/** Rolling sum over the last w values, from scratch; NaN before w values or with a NaN in the window. */
function rollingSum(x: Float64Array, w: number): Float64Array {
  const out = new Float64Array(x.length).fill(Number.NaN);
  for (let r = w - 1; r < x.length; r++) {
    let s = 0;
    for (let k = r - w + 1; k <= r; k++) s += x[k]!;
    out[r] = s;
  }
  return out;
}

interface Windows {
  readonly flow: number;
  readonly depth: number;
  readonly liquidity: number;
}

function windowsOf(cfg: FeatureRunInput): Windows {
  const c = parseFeatureRunConfig(cfg);
  return { flow: c.flowWindowRows, depth: c.bookShapeDepth, liquidity: c.liquidityWindowRows };
}

function reference(raw: Raw, spine: RefSpine, w: Windows): Ref {
  const rows = spine.rows;
  const n = rows.length;
  const ref: Ref = new Map();
  const col = (name: string) => column(ref, name, n);
  const B = raw.book;
  const T = raw.trades;
  const sgn = (side: number) => (side === 0 ? 1 : side === 1 ? -1 : 0);
  for (let r = 0; r < n; r++) {
    const row = rows[r]!;
    const b = row.bookCut;
    // microstructure
    const bidPx = top(B.bidPx, b);
    const askPx = top(B.askPx, b);
    const bidSz = top(B.bidQty, b);
    const askSz = top(B.askQty, b);
    col("ms_bid_px_int")[r] = bidPx;
    col("ms_ask_px_int")[r] = askPx;
    col("ms_bid_sz_int")[r] = bidSz;
    col("ms_ask_sz_int")[r] = askSz;
    col("ms_spread_int")[r] = askPx - bidPx;
    col("ms_mid_px")[r] = (askPx + bidPx) / 2;
    col("ms_microprice")[r] =
      bidSz + askSz > 0 ? (askPx * bidSz + bidPx * askSz) / (bidSz + askSz) : Number.NaN;
    for (const k of [1, 5, 10, 25]) {
      const bs = b >= 0 ? levelSum(B.bidQty, b, k) : Number.NaN;
      const as = b >= 0 ? levelSum(B.askQty, b, k) : Number.NaN;
      col(`ms_imbalance_${k}`)[r] = bs + as > 0 ? (bs - as) / (bs + as) : Number.NaN;
    }
    // trade flow (as-of last trade)
    const t = row.tradeCut;
    const sign = t >= 0 ? sgn(T.side[t]!) : Number.NaN;
    col("of_signed_qty_int")[r] = t >= 0 ? sign * T.qty[t]! : Number.NaN;
    col("of_trade_sign")[r] = sign;
    col("of_last_qty_int")[r] = t >= 0 ? T.qty[t]! : Number.NaN;
    col("of_last_px_int")[r] = t >= 0 ? T.px[t]! : Number.NaN;
    // per-bar flow (rolled below)
    let signed = 0;
    let abs = 0;
    let count = 0;
    for (const p of row.pieces) {
      signed += sgn(T.side[p.i]!) * p.q;
      abs += p.q;
      if (p.first) count++;
    }
    col("bar_signed")[r] = signed;
    col("bar_abs")[r] = abs;
    col("bar_count")[r] = count;
    // book shape
    const d = w.depth;
    const bd = b >= 0 ? levelSum(B.bidQty, b, d) : Number.NaN;
    const ad = b >= 0 ? levelSum(B.askQty, b, d) : Number.NaN;
    const bv = bd > 0 ? levelDot(B.bidPx, B.bidQty, b, d) / bd : Number.NaN;
    const av = ad > 0 ? levelDot(B.askPx, B.askQty, b, d) / ad : Number.NaN;
    col(`bs_bid_depth_${d}`)[r] = bd;
    col(`bs_ask_depth_${d}`)[r] = ad;
    col(`bs_bid_vwap_${d}`)[r] = bv;
    col(`bs_ask_vwap_${d}`)[r] = av;
    col(`bs_slope_${d}`)[r] = bd + ad > 0 ? (av - bv) / (bd + ad) : Number.NaN;
    // execution cost
    col("ex_spread_int")[r] = askPx - bidPx;
    col("ex_half_spread_int")[r] = (askPx - bidPx) / 2;
    col("ex_depth_pressure")[r] = bidSz + askSz > 0 ? bidSz / (bidSz + askSz) : Number.NaN;
    // spread dynamics: current and previous row's as-of values
    col("sd_mid_px")[r] = (askPx + bidPx) / 2;
    col("sd_spread_int")[r] = askPx - bidPx;
    if (r > 0) {
      const pb = rows[r - 1]!.bookCut;
      const pMid = (top(B.askPx, pb) + top(B.bidPx, pb)) / 2;
      const pSpread = top(B.askPx, pb) - top(B.bidPx, pb);
      col("sd_mid_chg")[r] = (askPx + bidPx) / 2 - pMid;
      col("sd_spread_chg")[r] = askPx - bidPx - pSpread;
      col("sd_mid_abs_chg")[r] = Math.abs((askPx + bidPx) / 2 - pMid);
      col("sd_spread_abs_chg")[r] = Math.abs(askPx - bidPx - pSpread);
    } else {
      for (const c of ["sd_mid_chg", "sd_spread_chg", "sd_mid_abs_chg", "sd_spread_abs_chg"]) col(c)[r] = NaN;
    }
    col("ls_top_depth")[r] = bidSz + askSz;
  }
  // rolling flow over the last N rows
  const N = w.flow;
  const ss = rollingSum(col("bar_signed"), N);
  const as = rollingSum(col("bar_abs"), N);
  ref.set(`of_signed_qty_sum_${N}`, ss);
  ref.set(`of_abs_qty_sum_${N}`, as);
  ref.set(`of_trade_count_${N}`, rollingSum(col("bar_count"), N));
  ref.set(
    `of_flow_imbalance_${N}`,
    ss.map((s, r) => (as[r]! > 0 ? s / as[r]! : Number.NaN)),
  );
  // liquidity shock: two-pass mean/std (ddof 1) over the last M rows, NaN if any value is NaN
  const M = w.liquidity;
  const x = col("ls_top_depth");
  const mean = col(`ls_depth_mean_${M}`);
  const std = col(`ls_depth_std_${M}`);
  const z = col(`ls_depth_z_${M}`);
  for (let r = M - 1; r < n; r++) {
    let s = 0;
    for (let k = r - M + 1; k <= r; k++) s += x[k]!;
    if (Number.isNaN(s)) continue;
    const m = s / M;
    let v = 0;
    for (let k = r - M + 1; k <= r; k++) v += (x[k]! - m) ** 2;
    const sd = Math.sqrt(v / (M - 1));
    mean[r] = m;
    std[r] = sd;
    z[r] = sd > 0 ? (x[r]! - m) / sd : Number.NaN;
  }
  // range of the last 2M − 1 values: bounds |x − pivot| of RollingStats (its pivot is a value of the
  // window at its last rebuild, ≤ M − 1 rows ago), used by the std tolerance
  const range = col(`ls_range_${M}`);
  for (let r = 0; r < n; r++) {
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (let k = Math.max(0, r - 2 * M + 2); k <= r; k++) {
      if (Number.isNaN(x[k]!)) continue;
      lo = Math.min(lo, x[k]!);
      hi = Math.max(hi, x[k]!);
    }
    range[r] = hi - lo;
  }
  return ref;
}

// ---------------------------------------------------------------------------------------------------
// comparisons

/** Output columns of the 7 families under `cfg`, from their catalogues. */
function outputNames(cfg: FeatureRunInput): string[] {
  const c = parseFeatureRunConfig(cfg);
  return FAMILIES.flatMap((f) => f.catalog(c).map((m) => m.name));
}

/** Columns that may legitimately be constant on these captures (BTCUSDT's spread is almost always 1 tick). */
const MAY_BE_CONSTANT = new Set(["ms_spread_int", "ex_spread_int", "ex_half_spread_int", "sd_spread_int"]);

const EPS = 2 ** -52;

/**
 * Tolerance of the engine's rolling std. RollingStats computes var = (S2 − S1²/N)/(N − 1) from sums of
 * x − pivot (exact for these integer depths); the one rounding of S1²/N (≤ ε·S1²/N ≤ ε·N·D², D = |mean −
 * pivot| ≤ `range`) is amplified by the cancellation when D ≫ std. So |Δstd| ≤ ε·N·D²/((N − 1)·2·std)
 * plus a few ulps; the reference is two-pass.
 */
function stdTol(std: number, range: number, n: number): number {
  return 1e-12 * std + (2 * EPS * n * range * range) / ((n - 1) * std);
}

function assertStdClose(name: string, a: Float64Array, e: Float64Array, range: Float64Array, n: number) {
  for (let i = 0; i < e.length; i++) {
    if (Number.isNaN(e[i]!) || Number.isNaN(a[i]!)) {
      if (!(Number.isNaN(e[i]!) && Number.isNaN(a[i]!)))
        assert.fail(`${name}[${i}]: engine ${a[i]}, ref ${e[i]}`);
      continue;
    }
    const tol = e[i] === 0 ? 0 : stdTol(e[i]!, range[i]!, n);
    if (Math.abs(a[i]! - e[i]!) > tol) assert.fail(`${name}[${i}]: engine ${a[i]}, ref ${e[i]} (tol ${tol})`);
  }
}

/**
 * z-score = (x − mean)/std: the engine's window mean (pivot + Σ(x − pivot)/N) and the reference's (Σx/N)
 * may differ by rounding (≈ 1 ulp of the mean), which x − mean amplifies when x is near the mean, and std
 * carries the error of `stdTol`: |Δz| ≤ 1e-12·(|z| + |mean|/std) + |z|·stdTol/std.
 */
function assertZClose(
  name: string,
  a: Float64Array,
  e: Float64Array,
  mean: Float64Array,
  std: Float64Array,
  range: Float64Array,
  n: number,
) {
  for (let i = 0; i < e.length; i++) {
    if (Number.isNaN(e[i]!) || Number.isNaN(a[i]!)) {
      if (!(Number.isNaN(e[i]!) && Number.isNaN(a[i]!)))
        assert.fail(`${name}[${i}]: engine ${a[i]}, ref ${e[i]}`);
      continue;
    }
    const z = Math.abs(e[i]!);
    const tol = 1e-12 * (z + Math.abs(mean[i]!) / std[i]!) + (z * stdTol(std[i]!, range[i]!, n)) / std[i]!;
    if (Math.abs(a[i]! - e[i]!) > tol) assert.fail(`${name}[${i}]: engine ${a[i]}, ref ${e[i]} (tol ${tol})`);
  }
}

/**
 * Checks the frame's rows against the reference spine's output rows and every family column against the
 * reference. `minNonNull`: the least fraction of non-null reference values per column.
 */
function compareFrame(
  label: string,
  INC: NaturalIncrements,
  frame: pl.DataFrame,
  spine: RefSpine,
  ref: Ref,
  names: readonly string[],
  startUs: number,
  endUs: number,
  minNonNull = 0.5,
  constant: readonly string[] = [],
): void {
  const keep: number[] = [];
  spine.rows.forEach((row, r) => {
    if (row.tsEvent >= startUs && row.availableAt <= endUs) keep.push(r);
  });
  assert.ok(keep.length > 50, `${label}: reference has only ${keep.length} rows`);
  assert.equal(frame.height, keep.length, `${label}: rows`);
  assertColumnClose(
    `${label} ts_event_us`,
    columnValues(frame, "ts_event_us"),
    keep.map((r) => spine.rows[r]!.tsEvent),
  );
  assertColumnClose(
    `${label} available_at_us`,
    columnValues(frame, "available_at_us"),
    keep.map((r) => spine.rows[r]!.availableAt),
  );
  const pick = (name: string): Float64Array => {
    const a = ref.get(name);
    assert.ok(a, `${label}: no reference for ${name}`);
    return Float64Array.from(keep, (r) => a[r]!);
  };
  const frameCols = new Set(frame.columns);
  for (const name of names) {
    assert.ok(frameCols.has(name), `${label}: frame lacks ${name}`);
    const unit = catalogUnitOf(name);
    const inFrame = (x: Float64Array) => refInFrameUnits(name, unit, x, INC);
    const e = inFrame(pick(name));
    const a = columnValues(frame, name);
    const nonNull = e.filter((v) => !Number.isNaN(v));
    assert.ok(
      nonNull.length >= minNonNull * e.length,
      `${label} ${name}: reference only ${nonNull.length}/${e.length} non-null`,
    );
    if (!MAY_BE_CONSTANT.has(name) && !constant.includes(name))
      assert.ok(new Set(nonNull).size >= 2, `${label} ${name}: reference is constant`);
    if (name.startsWith("ls_depth_z_") || name.startsWith("ls_depth_std_")) {
      const m = name.slice(name.lastIndexOf("_") + 1);
      const range = pick(`ls_range_${m}`);
      if (name.startsWith("ls_depth_std_"))
        assertStdClose(`${label} ${name}`, a, e, inFrame(range), Number(m));
      else {
        // z is unitless: its ε-bound is evaluated on the reference's own (increment) mean, std and range
        const mean = pick(`ls_depth_mean_${m}`);
        assertZClose(`${label} ${name}`, a, e, mean, pick(`ls_depth_std_${m}`), range, Number(m));
      }
    } else assertColumnClose(`${label} ${name}`, a, e);
  }
}

/**
 * Chunks load on the calling thread: a prefetch worker (its own module graph, ~1 s to start) costs more
 * than it saves on these few chunks. Prefetched rows = synchronously loaded rows, bitwise, for every
 * registered operator on these captures: test/engine/contract.test.ts.
 */
const SYNC = { prefetch: false } as const;

async function run(lake: string, w: { start: string; end: string }, config: FeatureRunInput) {
  return buildFeatureFrameWithSummary({
    lake,
    exchange: EX,
    symbol: SYM,
    ...SYNC,
    start: w.start,
    end: w.end,
    config,
    families: FAMILIES,
  });
}

// ---------------------------------------------------------------------------------------------------

describe("book and trade families on real captures (naive references)", () => {
  let lake24 = "";
  let lake23 = "";
  const cleanups: (() => void)[] = [];
  /** Raw rows from the UTC midnight before each window (covers every replay start). */
  let raw24: Raw;
  let raw23: Raw;
  /** Volume threshold of 5 BTC in qty increments. */
  let fiveBtc = 0;
  let inc24: NaturalIncrements;
  let inc23: NaturalIncrements;

  before(async () => {
    const a = await captureLake(["usdm2024"]);
    const b = await captureLake(["usdm2023a", "usdm2023b"]);
    lake24 = a.lake;
    lake23 = b.lake;
    cleanups.push(a.cleanup, b.cleanup);
    raw24 = rawOf(await rawEvents(lake24, EX, SYM, "2024-08-08T00:00:00Z", W2024.end));
    raw23 = rawOf(await rawEvents(lake23, EX, SYM, "2023-04-04T00:00:00Z", W2023.end));
    const inc = (await SymbolRegistry.open(lake24)).lookup(EX, SYM, toUs(W2024.start))!.amountIncrement;
    fiveBtc = (5 * 10 ** inc.scale) / inc.mantissa;
    inc24 = naturalIncrements(lake24, EX, SYM, toUs(W2024.start));
    inc23 = naturalIncrements(lake23, EX, SYM, toUs(W2023.start));
    assert.ok(Number.isInteger(fiveBtc), `5 BTC is ${fiveBtc} increments`);
  });
  after(() => {
    for (const c of cleanups) c();
  });

  it("1 s clock spine, default windows (N = 50, D = 10)", async () => {
    const cfg: FeatureRunInput = { spine: { type: "clock", stepMs: 1000 } };
    const { frame, summary } = await run(lake24, W2024, cfg);
    const endUs = toUs(W2024.end);
    const spine = clockSpine(raw24, summary.replayStartUs, endUs, 1_000_000);
    const ref = reference(raw24, spine, windowsOf(cfg));
    compareFrame("clock", inc24, frame, spine, ref, outputNames(cfg), toUs(W2024.start), endUs, 0.8);
    // the first output rows precede the first book row: book features must be null there
    assert.ok(Number.isNaN(columnValues(frame, "ms_mid_px")[0]!), "no book yet at 23:54:00");
  });

  it("volume spine (5 BTC), N = 20, D = 5, liquidity N = 30", async () => {
    const cfg: FeatureRunInput = {
      spine: { type: "volume", volumeThreshold: 5 },
      flowWindowRows: 20,
      bookShapeDepth: 5,
      liquidityWindowRows: 30,
    };
    const { frame, summary } = await run(lake24, W2024, cfg);
    const endUs = toUs(W2024.end);
    const spine = eventSpine(raw24, summary.replayStartUs, endUs, fiveBtc);
    const ref = reference(raw24, spine, windowsOf(cfg));
    compareFrame("volume", inc24, frame, spine, ref, outputNames(cfg), toUs(W2024.start), endUs, 0.8);
  });

  it("trades spine; rolling flow equals Pointline's sum of the last N trades", async () => {
    const cfg: FeatureRunInput = { spine: { type: "trades" } };
    const { frame, summary } = await run(lake24, W2024, cfg);
    const endUs = toUs(W2024.end);
    const spine = eventSpine(raw24, summary.replayStartUs, endUs, null);
    const ref = reference(raw24, spine, windowsOf(cfg));
    // every window holds exactly N trades; within bursts the book often stays unchanged for 50 trades
    // (std 0 → z null), hence the lower non-null bar
    compareFrame("trades", inc24, frame, spine, ref, outputNames(cfg), toUs(W2024.start), endUs, 0.6, [
      "of_trade_count_50",
    ]);

    // Pointline: of_signed_qty_int.rolling_sum(N), qty_int.abs().rolling_sum(N), count of rows with a
    // trade — over the trades spine, row j's as-of trade is trade j itself.
    const N = 50;
    const T = raw24.trades;
    assert.equal(frame.height, T.n, "one row per trade");
    const signed = new Float64Array(T.n).fill(Number.NaN);
    const abs = new Float64Array(T.n).fill(Number.NaN);
    const count = new Float64Array(T.n).fill(Number.NaN);
    const imb = new Float64Array(T.n).fill(Number.NaN);
    for (let j = N - 1; j < T.n; j++) {
      let s = 0;
      let a = 0;
      for (let i = j - N + 1; i <= j; i++) {
        s += T.side[i] === 0 ? T.qty[i]! : T.side[i] === 1 ? -T.qty[i]! : 0;
        a += Math.abs(T.qty[i]!);
      }
      signed[j] = s;
      abs[j] = a;
      count[j] = N;
      imb[j] = a > 0 ? s / a : Number.NaN;
    }
    // the sums are sizes: base units in the frame
    const base = (x: Float64Array) => refInFrameUnits("of_abs_qty_sum", "qty increments", x, inc24);
    assertColumnClose("pointline signed", columnValues(frame, `of_signed_qty_sum_${N}`), base(signed));
    assertColumnClose("pointline abs", columnValues(frame, `of_abs_qty_sum_${N}`), base(abs));
    assertColumnClose("pointline count", columnValues(frame, `of_trade_count_${N}`), count);
    assertColumnClose("pointline imbalance", columnValues(frame, `of_flow_imbalance_${N}`), imb);
    // and the as-of trade of every row is that row's trade
    assertColumnClose("of_last_px_int", columnValues(frame, "of_last_px_int"), T.px);
  });

  it("volume spine across a UTC midnight: the dropped partial bar's trades are in no row (discardBar)", async () => {
    const cfg: FeatureRunInput = {
      spine: { type: "volume", volumeThreshold: 5 },
      flowWindowRows: 10,
      liquidityWindowRows: 10,
    };
    const { frame, summary } = await run(lake23, W2023, cfg);
    const endUs = toUs(W2023.end);
    const spine = eventSpine(raw23, summary.replayStartUs, endUs, fiveBtc);
    const midnight = toUs("2023-04-05T00:00:00Z");
    assert.ok(spine.dropped >= 2, "a bar is dropped at midnight (and one at the end)");
    assert.ok(summary.spine.unassignedTrades > 0, "the engine drops trades too");
    const nextDay = spine.rows.filter((r) => r.tsEvent >= midnight).length;
    assert.ok(nextDay > 20, `${nextDay} bars after midnight`);
    // the first bar after midnight opens on the first trade of the day: the dropped trades are excluded
    const firstAfter = spine.rows.find((r) => r.tsEvent >= midnight)!;
    assert.ok(raw23.trades.ts[firstAfter.pieces[0]!.i - 1]! < midnight);
    const ref = reference(raw23, spine, windowsOf(cfg));
    compareFrame("midnight", inc23, frame, spine, ref, outputNames(cfg), toUs(W2023.start), endUs, 0.8);
  });

  it("split volume bars (2 BTC): pieces are summed in their own bars, |flow| over N bars = N × threshold", async () => {
    const cfg: FeatureRunInput = {
      spine: { type: "volume", volumeThreshold: 2, splitTrades: true },
      flowWindowRows: 10,
    };
    const { frame, summary } = await run(lake24, W2024, cfg);
    const endUs = toUs(W2024.end);
    const thr = (2 * fiveBtc) / 5;
    const spine = eventSpine(raw24, summary.replayStartUs, endUs, thr, true);
    assert.ok(
      spine.rows.some((r) => r.pieces.some((p) => !p.first)),
      "some trade is split across bars",
    );
    const ref = reference(raw24, spine, windowsOf(cfg));
    const names = ["of_signed_qty_sum_10", "of_abs_qty_sum_10", "of_trade_count_10", "of_flow_imbalance_10"];
    // exact bars: |flow| over N bars is N × threshold (checked below)
    compareFrame(
      "split",
      inc24,
      frame,
      spine,
      ref,
      [...names, "of_last_qty_int"],
      toUs(W2024.start),
      endUs,
      0.8,
      ["of_abs_qty_sum_10"],
    );
    // in base units: 10 bars of exactly 2 BTC (the conversion of an exact integer sum is correctly rounded)
    const abs = columnValues(frame, "of_abs_qty_sum_10");
    let full = 0;
    for (const v of abs) {
      if (Number.isNaN(v)) continue;
      assert.equal(v, 20);
      assert.equal(10 * thr, 20 / inc24.amount);
      full++;
    }
    assert.ok(full > 100);
  });

  it("snapshot/restore at several rows and every 997 events gives identical frames", async () => {
    const cases: { lake: string; w: { start: string; end: string }; cfg: FeatureRunInput }[] = [
      { lake: lake24, w: W2024, cfg: { spine: { type: "clock", stepMs: 1000 } } },
      {
        lake: lake23,
        w: W2023,
        cfg: { spine: { type: "volume", volumeThreshold: 5 }, flowWindowRows: 10, liquidityWindowRows: 10 },
      },
    ];
    for (const { lake, w, cfg } of cases) {
      const plain = await run(lake, w, cfg);
      const probed = FAMILIES.map((f) => probedFamily(f, [1, 2, 10, 11, 57, 150, 151, 233], 997));
      const p = await buildFeatureFrameWithSummary({
        lake,
        exchange: EX,
        symbol: SYM,
        ...SYNC,
        start: w.start,
        end: w.end,
        config: cfg,
        families: probed,
      });
      assertFramesIdentical(plain.frame, p.frame, JSON.stringify(cfg.spine));
      for (const f of probed) {
        const swaps = f.probes[0]!.swaps;
        assert.ok(swaps >= 8, `${f.id}: ${swaps} swaps`);
      }
    }
  });
});

// ---------------------------------------------------------------------------------------------------
// synthetic events: null rules and split-trade rules

/** One book row with the given levels ([px, qty] pairs, best first). */
function bookRows(bids: [number, number][], asks: [number, number][]): TypedRows {
  const col = (levels: [number, number][], k: 0 | 1): LevelColumn => {
    const values = new Float64Array(L);
    levels.forEach((l, j) => {
      values[j] = l[k];
    });
    return { values, lens: Uint8Array.of(levels.length) };
  };
  return {
    table: "book_snapshot_25",
    length: 1,
    columns: {
      bid_px_int: col(bids, 0),
      bid_qty_int: col(bids, 1),
      ask_px_int: col(asks, 0),
      ask_qty_int: col(asks, 1),
    },
  };
}

function tradeRows(px: number, qty: number, side: number): TypedRows {
  return {
    table: "trades",
    length: 1,
    columns: {
      px_int: Float64Array.of(px),
      qty_int: Float64Array.of(qty),
      side: Int8Array.of(side),
    },
  };
}

function cursor(role: SourceRole, rows: TypedRows, qtyInt = Number.NaN, continuation = false): EventCursor {
  return { role, rows, i: 0, tsLocalUs: 0, qtyInt, continuation };
}

const ROW: SpineRow = { tsEventUs: 0, tsEndUs: 1, availableAtUs: 1, barIndex: 0 };

/** Emits one row and returns the outputs by name. */
function emitOnce(op: Operator, barIndex = 0): Record<string, number> {
  const out = op.outputs.map(() => new Float64Array(1).fill(-12345));
  op.emit({ ...ROW, barIndex }, out, 0);
  return Object.fromEntries(op.outputs.map((o, k) => [o.name, out[k]![0]!]));
}

const cfg0 = parseFeatureRunConfig({ flowWindowRows: 2, liquidityWindowRows: 2, bookShapeDepth: 3 });
const make = (f: FamilyDef): Operator => f.create(cfg0);

describe("book and trade families on synthetic events (null rules)", () => {
  it("before any event every output is null, and every output is written", () => {
    for (const f of FAMILIES) {
      const v = emitOnce(make(f));
      for (const [name, x] of Object.entries(v)) {
        assert.ok(Number.isNaN(x), `${name} = ${x} before any event`);
      }
    }
  });

  it("microstructure: short books sum the levels present; formulas on a hand-computed book", () => {
    const op = make(microstructure);
    // bids 100×3, 99×5 ; asks 102×1 (one level)
    op.onEvent(
      cursor(
        "book",
        bookRows(
          [
            [100, 3],
            [99, 5],
          ],
          [[102, 1]],
        ),
      ),
    );
    const v = emitOnce(op);
    assert.equal(v.ms_bid_px_int, 100);
    assert.equal(v.ms_ask_px_int, 102);
    assert.equal(v.ms_bid_sz_int, 3);
    assert.equal(v.ms_ask_sz_int, 1);
    assert.equal(v.ms_spread_int, 2);
    assert.equal(v.ms_mid_px, 101);
    assert.equal(v.ms_microprice, (102 * 3 + 100 * 1) / 4); // 101.5: leans to the thin ask
    assert.equal(v.ms_imbalance_1, (3 - 1) / 4);
    assert.equal(v.ms_imbalance_5, (8 - 1) / 9);
    assert.equal(v.ms_imbalance_25, (8 - 1) / 9);
  });

  it("empty side: level-0 values null, imbalance over what is present (Polars list.sum of [] = 0)", () => {
    const op = make(microstructure);
    op.onEvent(cursor("book", bookRows([[100, 3]], [])));
    const v = emitOnce(op);
    assert.equal(v.ms_bid_px_int, 100);
    for (const n of ["ms_ask_px_int", "ms_ask_sz_int", "ms_spread_int", "ms_mid_px", "ms_microprice"])
      assert.ok(Number.isNaN(v[n]!), n);
    assert.equal(v.ms_imbalance_1, 1);
    const ex = make(executionCost);
    ex.onEvent(cursor("book", bookRows([[100, 3]], [])));
    const e = emitOnce(ex);
    assert.ok(Number.isNaN(e.ex_spread_int!) && Number.isNaN(e.ex_depth_pressure!));
    const bs = make(bookShape);
    bs.onEvent(cursor("book", bookRows([[100, 3]], [])));
    const s = emitOnce(bs);
    assert.equal(s.bs_bid_depth_3, 3);
    assert.equal(s.bs_ask_depth_3, 0);
    assert.equal(s.bs_bid_vwap_3, 100);
    assert.ok(Number.isNaN(s.bs_ask_vwap_3!) && Number.isNaN(s.bs_slope_3!));
    const ls = make(liquidityShock);
    ls.onEvent(cursor("book", bookRows([[100, 3]], [])));
    assert.ok(Number.isNaN(emitOnce(ls).ls_top_depth!));
  });

  it("zero sizes: microprice, imbalance and depth pressure null (0/0), book shape vwaps null", () => {
    const rows = bookRows([[100, 0]], [[101, 0]]);
    const ms = make(microstructure);
    ms.onEvent(cursor("book", rows));
    const v = emitOnce(ms);
    assert.equal(v.ms_mid_px, 100.5);
    assert.ok(Number.isNaN(v.ms_microprice!) && Number.isNaN(v.ms_imbalance_1!));
    const ex = make(executionCost);
    ex.onEvent(cursor("book", rows));
    const e = emitOnce(ex);
    assert.equal(e.ex_spread_int, 1);
    assert.equal(e.ex_half_spread_int, 0.5);
    assert.ok(Number.isNaN(e.ex_depth_pressure!));
    const bs = make(bookShape);
    bs.onEvent(cursor("book", rows));
    const s = emitOnce(bs);
    assert.equal(s.bs_bid_depth_3, 0);
    assert.ok(Number.isNaN(s.bs_bid_vwap_3!) && Number.isNaN(s.bs_slope_3!));
  });

  it("book shape on a hand-computed book (depth 3 of 4 levels)", () => {
    const op = make(bookShape);
    op.onEvent(
      cursor(
        "book",
        bookRows(
          [
            [100, 1],
            [99, 2],
            [98, 3],
            [97, 100],
          ],
          [
            [101, 4],
            [103, 4],
          ],
        ),
      ),
    );
    const v = emitOnce(op);
    const bidVwap = (100 + 198 + 294) / 6;
    assert.equal(v.bs_bid_depth_3, 6);
    assert.equal(v.bs_ask_depth_3, 8);
    assert.equal(v.bs_bid_vwap_3, bidVwap);
    assert.equal(v.bs_ask_vwap_3, 102);
    assert.equal(v.bs_slope_3, (102 - bidVwap) / 14);
  });

  it("spread dynamics: null change on the first row and after a null value; changes between rows", () => {
    const op = make(spreadDynamics);
    op.onEvent(cursor("book", bookRows([[100, 1]], [[102, 1]])));
    const a = emitOnce(op);
    assert.equal(a.sd_mid_px, 101);
    assert.ok(Number.isNaN(a.sd_mid_chg!) && Number.isNaN(a.sd_spread_abs_chg!));
    op.onEvent(cursor("book", bookRows([[99, 1]], [[100, 1]])));
    const b = emitOnce(op);
    assert.equal(b.sd_mid_chg, -1.5);
    assert.equal(b.sd_mid_abs_chg, 1.5);
    assert.equal(b.sd_spread_chg, -1);
    assert.equal(b.sd_spread_abs_chg, 1);
    op.onEvent(cursor("book", bookRows([], [[100, 1]])));
    assert.ok(Number.isNaN(emitOnce(op).sd_mid_chg!));
    op.onEvent(cursor("book", bookRows([[99, 1]], [[100, 1]])));
    assert.ok(Number.isNaN(emitOnce(op).sd_mid_chg!), "previous row's mid was null");
  });

  it("liquidity shock: window of 2, std 0 → z null, null in the window → null", () => {
    const op = make(liquidityShock);
    op.onEvent(cursor("book", bookRows([[100, 1]], [[101, 2]])));
    const a = emitOnce(op, 0);
    assert.equal(a.ls_top_depth, 3);
    assert.ok(Number.isNaN(a.ls_depth_mean_2!), "warm-up");
    const b = emitOnce(op, 1);
    assert.equal(b.ls_depth_mean_2, 3);
    assert.equal(b.ls_depth_std_2, 0);
    assert.ok(Number.isNaN(b.ls_depth_z_2!), "std 0");
    op.onEvent(cursor("book", bookRows([[100, 5]], [[101, 2]])));
    const c = emitOnce(op, 2);
    assert.equal(c.ls_depth_mean_2, 5);
    assert.equal(c.ls_depth_std_2, Math.SQRT2 * 2); // sample std of {3, 7}
    assert.equal(c.ls_depth_z_2, 2 / (Math.SQRT2 * 2));
  });

  it("trade flow: sides, unknown side, and split pieces (continuation ignored, raw qty kept)", () => {
    const op = make(tradeFlow);
    op.onEvent(cursor("trades", tradeRows(600_000, 7, 1), 7));
    let v = emitOnce(op);
    assert.deepEqual([v.of_signed_qty_int, v.of_trade_sign, v.of_last_qty_int], [-7, -1, 7]);
    op.onEvent(cursor("trades", tradeRows(600_001, 9, -1), 9));
    v = emitOnce(op);
    assert.deepEqual([v.of_signed_qty_int, v.of_trade_sign, v.of_last_px_int], [0, 0, 600_001]);
    // a trade of 10 fed as 4 + 6: the first piece records the whole trade
    op.onEvent(cursor("trades", tradeRows(600_002, 10, 0), 4));
    op.onEvent(cursor("trades", tradeRows(600_002, 10, 0), 6, true));
    v = emitOnce(op);
    assert.deepEqual([v.of_signed_qty_int, v.of_trade_sign, v.of_last_qty_int], [10, 1, 10]);
  });

  it("rolling flow: pieces summed per bar, each trade counted once, discardBar drops the open bar", () => {
    const op = make(flowRolling); // N = 2
    op.onEvent(cursor("trades", tradeRows(1, 10, 0), 4)); // buy 10 = 4 | 6
    let v = emitOnce(op, 0);
    assert.ok(Number.isNaN(v.of_signed_qty_sum_2!), "warm-up: 1 of 2 rows");
    op.onEvent(cursor("trades", tradeRows(1, 10, 0), 6, true));
    op.onEvent(cursor("trades", tradeRows(1, 3, 1), 3)); // sell 3
    v = emitOnce(op, 1);
    assert.equal(v.of_signed_qty_sum_2, 4 + 6 - 3);
    assert.equal(v.of_abs_qty_sum_2, 13);
    assert.equal(v.of_trade_count_2, 2);
    assert.equal(v.of_flow_imbalance_2, 7 / 13);
    op.onEvent(cursor("trades", tradeRows(1, 50, 1), 50)); // in a bar that gets dropped
    op.discardBar?.();
    op.onEvent(cursor("trades", tradeRows(1, 2, -1), 2)); // unknown side
    v = emitOnce(op, 2);
    assert.equal(v.of_signed_qty_sum_2, 6 - 3 + 0);
    assert.equal(v.of_abs_qty_sum_2, 11);
    assert.equal(v.of_trade_count_2, 2);
    v = emitOnce(op, 3); // two bars: {unknown 2}, {} → abs 2, signed 0
    assert.equal(v.of_abs_qty_sum_2, 2);
    assert.equal(v.of_flow_imbalance_2, 0);
    v = emitOnce(op, 4); // two empty bars → imbalance 0/0 = null, sums 0
    assert.equal(v.of_abs_qty_sum_2, 0);
    assert.ok(Number.isNaN(v.of_flow_imbalance_2!));
  });

  it("snapshot mid-bar: a restored operator continues identically (JSON round trip)", () => {
    const a = make(flowRolling);
    a.onEvent(cursor("trades", tradeRows(1, 5, 0), 5));
    emitOnce(a, 0);
    a.onEvent(cursor("trades", tradeRows(1, 8, 1), 8));
    const b = make(flowRolling);
    b.restore(JSON.parse(JSON.stringify(a.snapshot())));
    assert.deepEqual(emitOnce(b, 1), emitOnce(a, 1));
    const bad = make(flowRolling);
    assert.throws(() => bad.restore({ w: 3 }), RangeError);
  });
});

describe("book and trade family catalogues", () => {
  it("one entry per output, window sizes in names, warm-up rows 0 / 1 / N − 1", () => {
    const cfg = parseFeatureRunConfig({ flowWindowRows: 7, bookShapeDepth: 4, liquidityWindowRows: 9 });
    const warmup: Record<string, number> = {
      of_signed_qty_sum_7: 6,
      of_abs_qty_sum_7: 6,
      of_trade_count_7: 6,
      of_flow_imbalance_7: 6,
      ls_depth_mean_9: 8,
      ls_depth_std_9: 8,
      ls_depth_z_9: 8,
      sd_mid_chg: 1,
      sd_spread_chg: 1,
      sd_mid_abs_chg: 1,
      sd_spread_abs_chg: 1,
    };
    const all: string[] = [];
    for (const f of FAMILIES) {
      const op = f.create(cfg);
      const cat = f.catalog(cfg);
      assert.deepEqual(
        cat.map((m) => m.name),
        op.outputs.map((o) => o.name),
        f.id,
      );
      for (const m of cat) {
        assert.ok(m.name.startsWith(f.prefix), m.name);
        assert.equal(m.version, 1);
        for (const k of ["family", "formula", "unit", "window", "warmup", "pitPolicy", "source"] as const)
          assert.ok(m[k].length > 0, `${m.name}.${k}`);
        assert.ok(m.inputs.length > 0 && m.source.includes("families.py"), m.name);
      }
      for (const o of op.outputs) {
        assert.equal(o.warmupRows, warmup[o.name] ?? 0, o.name);
        all.push(o.name);
      }
    }
    assert.ok(
      all.includes("bs_slope_4") && all.includes("of_flow_imbalance_7") && all.includes("ms_imbalance_25"),
    );
    assert.equal(new Set(all).size, all.length, "no duplicate names");
    assert.deepEqual(
      FAMILIES.map((f) => [f.id, f.flag]),
      [
        ["ms", "includeMicrostructure"],
        ["of", "includeTradeFlow"],
        ["flow", "includeFlowRolling"],
        ["bs", "includeBookShape"],
        ["ex", "includeExecutionCost"],
        ["sd", "includeSpreadDynamics"],
        ["ls", "includeLiquidityShock"],
      ],
    );
  });
});
