/**
 * fr_ (funding), bm_ (basis momentum), tb_ (trade burst), cv_ (cross-venue) and rg_ (regime) families
 * against naive references recomputed from the raw lake rows, row by row:
 * - the spine rows are rebuilt independently (clock bars from the replay start; volume bars by summing
 *   qty_int from the UTC midnight; the trades spine = one row per trade) and checked against the frame;
 * - each row's knowledge set is "ts_local_us < available_at" (clock) or "every table row up to the
 *   closing trade e* in the total order" (event spines: book/ticker rows at e*'s microsecond sort before
 *   it, trades after e* in the file do not); the as-of row is found by scanning the raw rows;
 * - differences use the previous reference row, windows are recomputed from scratch (two-pass std).
 * fr/bm run on the 2023 capture with derivative_ticker (crosses UTC midnight), tb/rg/cv on the 2024 perp +
 * spot capture. Also: a synthetic fake-cursor test of fr_oi_delta (absent on Binance), snapshot/restore
 * probes, partition safety of the default warm-up, and buildCrossVenueMidFrame.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import pl from "nodejs-polars";
import { fixedToNumber } from "../../src/core/fixed.js";
import { toUs, US_PER_DAY, US_PER_MS } from "../../src/core/time.js";
import type { EventCursor, SourceRole, SpineRow } from "../../src/engine/operator.js";
import { basisMomentum } from "../../src/features/basis-momentum.js";
import { type FeatureRunInput, parseFeatureRunConfig } from "../../src/features/config.js";
import { crossVenue, crossVenueMids } from "../../src/features/cross-venue.js";
import { buildCrossVenueMidFrame } from "../../src/features/cross-venue-frame.js";
import type { FamilyDef } from "../../src/features/family.js";
import { buildFeatureFrameWithSummary } from "../../src/features/frame.js";
import { funding } from "../../src/features/funding.js";
import { regime } from "../../src/features/regime.js";
import { tradeBurst } from "../../src/features/trade-burst.js";
import { SymbolRegistry } from "../../src/lake/registry.js";
import type { LevelColumn, TypedRows } from "../../src/query/query.js";
import { assertColumnClose, assertFramesIdentical, columnValues, probedFamily } from "../helpers/engine.js";
import { captureLake, rawEvents, W2023, W2024 } from "../helpers/lake.js";

const PERP = { exchange: "binance-futures", symbol: "BTCUSDT" } as const;
const SPOT = { exchange: "binance", symbol: "BTCUSDT" } as const;
const STEP_US = 1000 * US_PER_MS;
const CLOCK = { type: "clock", stepMs: 1000 } as const;
/** 5 BTC volume bars. */
const VOLUME_BTC = 5;
const VOLUME = { type: "volume", volumeThreshold: VOLUME_BTC } as const;
const BOOK_SLOTS = 25; // slots per row of a LevelColumn (query.ts)

// ---------------------------------------------------------------------------------------------------
// naive reference machinery

/** One reference spine row: its bar start and its cut (the knowledge set). */
interface RefRow {
  readonly tsEventUs: number;
  /** Clock rows: available_at (events with ts < cut). Event rows: ts_local_us of the closing trade. */
  readonly cutUs: number;
  /** Event rows: index of the closing trade in the raw trades; -1 for clock rows. */
  readonly tradeIdx: number;
}

const f64 = (rows: TypedRows, name: string): Float64Array => rows.columns[name] as Float64Array;

/** Index of the last raw row of a table in the row's knowledge set, -1 if none (rows in the total order). */
function lastKnown(ts: Float64Array, row: RefRow, isTrades: boolean): number {
  let last = -1;
  for (let i = 0; i < ts.length; i++) {
    const t = ts[i]!;
    if (t > row.cutUs) break;
    // clock rows: strictly before the bar end. Event rows: trades up to e* in file order; other tables
    // up to e*'s microsecond inclusive (book rank 0, quotes 1, ticker 2 sort before trades 5)
    const known = row.tradeIdx < 0 ? t < row.cutUs : isTrades ? i <= row.tradeIdx : true;
    if (known) last = i;
  }
  return last;
}

/** Clock rows [t, t + step) from the replay start while t + step ≤ end. */
function clockRows(replayStartUs: number, endUs: number): RefRow[] {
  const rows: RefRow[] = [];
  for (let t = replayStartUs; t + STEP_US <= endUs; t += STEP_US)
    rows.push({ tsEventUs: t, cutUs: t + STEP_US, tradeIdx: -1 });
  return rows;
}

/** Volume bars: Σ qty_int from the bar's first trade ≥ threshold closes it; reset at UTC midnight (open bar dropped). */
function volumeRows(trades: TypedRows, thresholdInt: number): RefRow[] {
  const ts = f64(trades, "ts_local_us");
  const qty = f64(trades, "qty_int");
  const rows: RefRow[] = [];
  let open = -1;
  let acc = 0;
  for (let i = 0; i < ts.length; i++) {
    if (open >= 0 && Math.floor(ts[i]! / US_PER_DAY) !== Math.floor(ts[open]! / US_PER_DAY)) open = -1;
    if (open < 0) {
      open = i;
      acc = 0;
    }
    acc += qty[i]!;
    if (acc >= thresholdInt) {
      rows.push({ tsEventUs: ts[open]!, cutUs: ts[i]!, tradeIdx: i });
      open = -1;
    }
  }
  return rows;
}

/** The trades spine: one row per trade. */
function tradeRows(trades: TypedRows): RefRow[] {
  const ts = f64(trades, "ts_local_us");
  return Array.from(ts, (t, i) => ({ tsEventUs: t, cutUs: t, tradeIdx: i }));
}

/** Indices of the reference rows the frame outputs: ts_event ≥ start and available_at ≤ end. */
function outputIndices(rows: readonly RefRow[], startUs: number, endUs: number): number[] {
  const out: number[] = [];
  rows.forEach((r, k) => {
    if (r.tsEventUs >= startUs && r.cutUs <= endUs) out.push(k);
  });
  return out;
}

/** mean over rows r−n+1…r from scratch; NaN if fewer than n rows or any NaN (Polars min_periods = n). */
function windowOf(vals: Float64Array, r: number, n: number): number[] | null {
  if (r + 1 < n) return null;
  const w: number[] = [];
  for (let k = r - n + 1; k <= r; k++) {
    if (Number.isNaN(vals[k]!)) return null;
    w.push(vals[k]!);
  }
  return w;
}
function naiveMean(vals: Float64Array, r: number, n: number): number {
  const w = windowOf(vals, r, n);
  return w === null ? Number.NaN : w.reduce((a, b) => a + b, 0) / n;
}
function naiveStd(vals: Float64Array, r: number, n: number): number {
  const w = windowOf(vals, r, n);
  if (w === null) return Number.NaN;
  const m = w.reduce((a, b) => a + b, 0) / n;
  return Math.sqrt(w.reduce((a, b) => a + (b - m) * (b - m), 0) / (n - 1));
}
/** x_r − x_{r−1} (NaN on the first row). */
function naiveDiff(vals: Float64Array, r: number): number {
  return r === 0 ? Number.NaN : vals[r]! - vals[r - 1]!;
}

/** Best bid/ask mid of a raw book row in price increments (NaN if a side is empty). */
function rawMidInt(book: TypedRows, i: number): number {
  const bid = book.columns.bid_px_int as LevelColumn;
  const ask = book.columns.ask_px_int as LevelColumn;
  if (bid.lens[i] === 0 || ask.lens[i] === 0) return Number.NaN;
  return (bid.values[i * BOOK_SLOTS]! + ask.values[i * BOOK_SLOTS]!) / 2;
}

function fractionFinite(a: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) if (Number.isFinite(a[i]!)) n++;
  return a.length === 0 ? 0 : n / a.length;
}

/**
 * Reference columns by name. A key `name#tol` holds a per-row absolute tolerance for column `name` (the
 * rolling statistics, see `rollingTolerances`); other columns are compared within 1e-12 relative.
 */
type Ref = Record<string, Float64Array>;

/**
 * Floating-point allowance of `RollingStats` (engine/rolling.ts: running sums of values shifted by a pivot,
 * the pivot being a value of one of the last 2w rows, rebuilt every w rows). With S = max |x| over the last
 * 2w rows, the shifted values are ≤ 2S and the sums carry O(w·ε·S) error on the mean and O(w·ε·S²) on the
 * variance, whatever the window's own spread — so the absolute tolerances are 8·w·ε·S for the mean and
 * 64·w·ε·S² for the variance (the std tolerance follows from the variance's). This is far below any real
 * defect (wrong window, ddof, as-of row), which moves the statistics by a fraction of the std itself.
 */
function rollingTolerances(x: Float64Array, w: number): { mean: Float64Array; variance: Float64Array } {
  const mean = new Float64Array(x.length);
  const variance = new Float64Array(x.length);
  for (let r = 0; r < x.length; r++) {
    let s = 0;
    for (let k = Math.max(0, r - 2 * w + 1); k <= r; k++)
      if (!Number.isNaN(x[k]!)) s = Math.max(s, Math.abs(x[k]!));
    mean[r] = 8 * w * Number.EPSILON * s;
    variance[r] = 64 * w * Number.EPSILON * s * s;
  }
  return { mean, variance };
}
/** Tolerance of a std e whose variance is known within ±vt. */
function stdTolerance(e: number, vt: number): number {
  if (Number.isNaN(e)) return 0;
  return Math.max(e - Math.sqrt(Math.max(0, e * e - vt)), Math.sqrt(e * e + vt) - e);
}

/** Reference values of every family on every reference row (warm-up rows included). */
const REFERENCES = {
  fr(ev: Events, rows: readonly RefRow[]): Ref {
    const n = rows.length;
    const tk = ev.ticker;
    const [mark, index, fund, oi] = ["mark_px", "index_px", "funding_rate", "open_interest"].map((c) =>
      f64(tk, c),
    ) as [Float64Array, Float64Array, Float64Array, Float64Array];
    const asOfFund = new Float64Array(n);
    const asOfOi = new Float64Array(n);
    const r: Ref = {
      fr_basis: new Float64Array(n),
      fr_basis_bps: new Float64Array(n),
      fr_funding_delta: new Float64Array(n),
      fr_oi_delta: new Float64Array(n),
    };
    rows.forEach((row, k) => {
      const j = lastKnown(f64(tk, "ts_local_us"), row, false);
      const m = j < 0 ? Number.NaN : mark[j]!;
      const x = j < 0 ? Number.NaN : index[j]!;
      asOfFund[k] = j < 0 ? Number.NaN : fund[j]!;
      asOfOi[k] = j < 0 ? Number.NaN : oi[j]!;
      r.fr_basis![k] = m - x;
      r.fr_basis_bps![k] = Number.isNaN(x) || x === 0 ? Number.NaN : (10_000 * (m - x)) / x;
      r.fr_funding_delta![k] = naiveDiff(asOfFund, k);
      r.fr_oi_delta![k] = naiveDiff(asOfOi, k);
    });
    return r;
  },
  bm(ev: Events, rows: readonly RefRow[], w: number): Ref {
    const n = rows.length;
    const tk = ev.ticker;
    const basis = new Float64Array(n);
    rows.forEach((row, k) => {
      const j = lastKnown(f64(tk, "ts_local_us"), row, false);
      basis[k] = j < 0 ? Number.NaN : f64(tk, "mark_px")[j]! - f64(tk, "index_px")[j]!;
    });
    const mean = basis.map((_, k) => naiveMean(basis, k, w));
    const std = basis.map((_, k) => naiveStd(basis, k, w));
    const z = basis.map((b, k) => (std[k]! > 0 ? (b - mean[k]!) / std[k]! : Number.NaN));
    const t = rollingTolerances(basis, w);
    const stdTol = std.map((e, k) => stdTolerance(e, t.variance[k]!));
    return {
      bm_basis: basis,
      [`bm_basis_mean_${w}`]: mean,
      [`bm_basis_mean_${w}#tol`]: t.mean,
      [`bm_basis_std_${w}`]: std,
      [`bm_basis_std_${w}#tol`]: stdTol,
      [`bm_basis_z_${w}`]: z,
      // first order: δz ≤ (δmean + |z|·δstd) / std
      [`bm_basis_z_${w}#tol`]: z.map((v, k) =>
        Number.isNaN(v) ? 0 : (t.mean[k]! + Math.abs(v) * stdTol[k]!) / std[k]!,
      ),
      bm_basis_mom: basis.map((_, k) => naiveDiff(basis, k)),
    };
  },
  tb(ev: Events, rows: readonly RefRow[], w: number): Ref {
    const ts = f64(ev.trades, "ts_local_us");
    const dt = new Float64Array(rows.length);
    rows.forEach((row, k) => {
      const j = lastKnown(ts, row, true);
      dt[k] = j < 1 ? Number.NaN : ts[j]! - ts[j - 1]!;
    });
    const mean = dt.map((_, k) => naiveMean(dt, k, w));
    const std = dt.map((_, k) => naiveStd(dt, k, w));
    const burst = dt.map((d, k) => (mean[k]! > 0 ? d / mean[k]! : Number.NaN));
    const t = rollingTolerances(dt, w);
    return {
      tb_dt_us: dt,
      [`tb_dt_mean_${w}`]: mean,
      [`tb_dt_mean_${w}#tol`]: t.mean,
      [`tb_dt_std_${w}`]: std,
      [`tb_dt_std_${w}#tol`]: std.map((e, k) => stdTolerance(e, t.variance[k]!)),
      [`tb_burst_score_${w}`]: burst,
      // δ(dt/mean) ≤ |dt/mean| · δmean / mean
      [`tb_burst_score_${w}#tol`]: burst.map((b, k) =>
        Number.isNaN(b) ? 0 : (Math.abs(b) * t.mean[k]!) / mean[k]!,
      ),
    };
  },
  rg(ev: Events, rows: readonly RefRow[], w: number): Ref {
    const ts = f64(ev.book, "ts_local_us");
    const mid = new Float64Array(rows.length);
    rows.forEach((row, k) => {
      const j = lastKnown(ts, row, false);
      mid[k] = j < 0 ? Number.NaN : rawMidInt(ev.book, j);
    });
    const ret = mid.map((m, k) => {
      const p = k === 0 ? Number.NaN : mid[k - 1]!;
      return Number.isNaN(m) || Number.isNaN(p) || p === 0 ? Number.NaN : m / p - 1;
    });
    const vol = ret.map((_, k) => naiveStd(ret, k, w));
    const t = rollingTolerances(ret, w);
    return {
      rg_ret_1: ret,
      [`rg_vol_${w}`]: vol,
      [`rg_vol_${w}#tol`]: vol.map((e, k) => stdTolerance(e, t.variance[k]!)),
    };
  },
  /** Perp and spot mids in prices (each with its own increment) and the cv_ features. */
  cv(ev: Events, spotBook: TypedRows, rows: readonly RefRow[], inc: { perp: number; spot: number }): Ref {
    const perp = new Float64Array(rows.length);
    const spot = new Float64Array(rows.length);
    rows.forEach((row, k) => {
      const jp = lastKnown(f64(ev.book, "ts_local_us"), row, false);
      const js = lastKnown(f64(spotBook, "ts_local_us"), row, false);
      perp[k] = jp < 0 ? Number.NaN : rawMidInt(ev.book, jp) * inc.perp;
      spot[k] = js < 0 ? Number.NaN : rawMidInt(spotBook, js) * inc.spot;
    });
    return {
      perp_mid_px: perp,
      spot_mid_px: spot,
      cv_basis: perp.map((p, k) => p - spot[k]!),
      cv_basis_bps: perp.map((p, k) => (spot[k] === 0 ? Number.NaN : (10_000 * (p - spot[k]!)) / spot[k]!)),
    };
  },
};

type Events = Awaited<ReturnType<typeof rawEvents>>;

// ---------------------------------------------------------------------------------------------------

/**
 * Chunks load on the calling thread: a prefetch worker (its own module graph, ~1 s to start) costs more
 * than it saves on these few chunks. Prefetched rows = synchronously loaded rows, bitwise, for every
 * registered operator on these captures: test/engine/contract.test.ts.
 */
const SYNC = { prefetch: false } as const;

/** Raw events per lake, venue and range, read once: several cases replay the same range (read only). */
const rawRead = new Map<string, ReturnType<typeof rawEvents>>();
function rawOnce(lake: string, exchange: string, symbol: string, startUs: number, endUs: number) {
  const key = [lake, exchange, symbol, startUs, endUs].join("|");
  let r = rawRead.get(key);
  if (r === undefined) {
    r = rawEvents(lake, exchange, symbol, startUs, endUs);
    rawRead.set(key, r);
  }
  return r;
}

let lake23: { lake: string; cleanup: () => void };
let lake24: { lake: string; cleanup: () => void };
const inc = { perpPx: Number.NaN, perpQty: Number.NaN, spotPx: Number.NaN };

before(async () => {
  lake23 = await captureLake(["usdm2023a", "usdm2023b"]);
  lake24 = await captureLake(["usdm2024", "spot2024"]);
  const reg = await SymbolRegistry.open(lake24.lake);
  const at = toUs(W2024.start);
  const p = reg.lookup(PERP.exchange, PERP.symbol, at)!;
  const s = reg.lookup(SPOT.exchange, SPOT.symbol, at)!;
  inc.perpPx = fixedToNumber(1, p.priceIncrement);
  inc.perpQty = fixedToNumber(1, p.amountIncrement);
  inc.spotPx = fixedToNumber(1, s.priceIncrement);
  // the registry holds Binance's real tick sizes: the cv_ deviation from Pointline rests on them differing
  assert.equal(inc.perpPx, 0.1);
  assert.equal(inc.spotPx, 0.01);
  assert.equal(inc.perpQty, 0.001);
});

after(() => {
  lake23?.cleanup();
  lake24?.cleanup();
});

interface Case {
  readonly lake: () => string;
  readonly start: string | number;
  readonly end: string | number;
  readonly spine: "clock" | "volume" | "trades";
  /** Explicit warm-up so the reference can rebuild the replay start on its own. */
  readonly warmupMs: number;
  readonly config: FeatureRunInput;
  readonly family: FamilyDef;
}

/**
 * Runs one family, rebuilds the spine rows and the raw events from the independently computed replay
 * start, checks the frame's spine columns against the reference rows, and returns both.
 */
async function runCase(c: Case) {
  const startUs = toUs(c.start);
  const endUs = toUs(c.end);
  const spine = c.spine === "clock" ? CLOCK : c.spine === "volume" ? VOLUME : { type: "trades" as const };
  const { frame, summary } = await buildFeatureFrameWithSummary({
    lake: c.lake(),
    ...PERP,
    ...SYNC,
    start: c.start,
    end: c.end,
    config: { ...c.config, spine, warmupMs: c.warmupMs },
    families: [c.family],
  });
  const from = startUs - c.warmupMs * US_PER_MS;
  const replayStartUs =
    c.spine === "clock" ? Math.floor(from / STEP_US) * STEP_US : Math.floor(from / US_PER_DAY) * US_PER_DAY;
  assert.equal(summary.replayStartUs, replayStartUs, "replay start");
  const ev = await rawOnce(c.lake(), PERP.exchange, PERP.symbol, replayStartUs, endUs);
  const rows =
    c.spine === "clock"
      ? clockRows(replayStartUs, endUs)
      : c.spine === "volume"
        ? volumeRows(ev.trades, Math.round(VOLUME_BTC / inc.perpQty))
        : tradeRows(ev.trades);
  const out = outputIndices(rows, startUs, endUs);
  assert.ok(out.length > 50, `${out.length} output rows`);
  assert.equal(frame.height, out.length, "rows");
  assertColumnClose(
    "ts_event_us",
    columnValues(frame, "ts_event_us"),
    out.map((k) => rows[k]!.tsEventUs),
  );
  assertColumnClose(
    "available_at_us",
    columnValues(frame, "available_at_us"),
    out.map((k) => rows[k]!.cutUs),
  );
  return { frame, ev, rows, out, replayStartUs, endUs };
}

/** Compares every reference column on the output rows; returns the compared reference columns. */
function compare(frame: pl.DataFrame, ref: Ref, out: readonly number[]): Ref {
  const picked: Ref = {};
  for (const [name, all] of Object.entries(ref)) {
    if (name.endsWith("#tol")) continue;
    const exp = Float64Array.from(out, (k) => all[k]!);
    const actual = columnValues(frame, name);
    const tol = ref[`${name}#tol`];
    if (tol === undefined) assertColumnClose(name, actual, exp);
    else
      assertWithin(
        name,
        actual,
        exp,
        Float64Array.from(out, (k) => tol[k]!),
      );
    picked[name] = exp;
  }
  return picked;
}

/** NaN must match NaN; otherwise |actual − expected| ≤ tol + 1e-12·|expected|. */
function assertWithin(name: string, actual: Float64Array, expected: Float64Array, tol: Float64Array): void {
  assert.equal(actual.length, expected.length, `${name}: length`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (Number.isNaN(a) || Number.isNaN(e)) {
      if (!(Number.isNaN(a) && Number.isNaN(e))) assert.fail(`${name}[${i}]: engine ${a}, reference ${e}`);
      continue;
    }
    if (!(Math.abs(a - e) <= tol[i]! + 1e-12 * Math.abs(e)))
      assert.fail(`${name}[${i}]: engine ${a}, reference ${e} (tolerance ${tol[i]! + 1e-12 * Math.abs(e)})`);
  }
}

// ---------------------------------------------------------------------------------------------------

describe("fr_ funding/basis", () => {
  const lake = () => lake23.lake;
  for (const spine of ["clock", "volume"] as const) {
    test(`naive as-of reference on the ${spine} spine (2023 capture across UTC midnight)`, async () => {
      // output from 23:59:00 with 30 s warm-up: the clock replay starts at 23:58:30, 9 s after the first
      // ticker row (23:58:21), so the first rows' as-of state comes from the warm-up and earlier rows are
      // outside the knowledge set (the reference reads raw rows from the replay start only)
      const start = toUs(W2023.start) + 60 * 1_000_000;
      const c = await runCase({
        lake,
        start,
        end: W2023.end,
        spine,
        warmupMs: 30_000,
        config: { includeFunding: true },
        family: funding,
      });
      assert.deepEqual(c.frame.columns.slice(5), [
        "fr_basis",
        "fr_basis_bps",
        "fr_funding_delta",
        "fr_oi_delta",
      ]);
      const ref = compare(c.frame, REFERENCES.fr(c.ev, c.rows), c.out);
      assert.ok(fractionFinite(ref.fr_basis!) > 0.95, "basis mostly known");
      assert.ok(fractionFinite(ref.fr_basis_bps!) > 0.95, "bps mostly known");
      // the basis is a real spread (BTC perp traded ~12 USDT under its index in this capture)
      assert.ok(ref.fr_basis!.some((b) => Math.abs(b) > 1));
      const fd = ref.fr_funding_delta!;
      assert.ok(fractionFinite(fd) > 0.9, "funding delta mostly known");
      assert.ok(
        fd.some((x) => Number.isFinite(x) && x !== 0),
        "the funding rate changes inside the window",
      );
      // Binance @markPrice carries no open interest: the whole column is null (formula tested below)
      assert.equal(fractionFinite(ref.fr_oi_delta!), 0);
      // rows cross midnight
      const ts = columnValues(c.frame, "ts_event_us");
      assert.ok(ts[0]! < toUs("2023-04-05T00:00:00Z") && ts[ts.length - 1]! > toUs("2023-04-05T00:00:00Z"));
    });
  }

  test("fr_oi_delta and the null rules on synthetic ticker rows through a fake EventCursor", () => {
    const op = funding.create(parseFeatureRunConfig({}));
    assert.deepEqual(op.inputs, ["ticker"]);
    // ticker rows: mark, index, funding, open interest (NaN = absent)
    const rows: TypedRows = {
      table: "derivative_ticker",
      length: 5,
      columns: {
        ts_local_us: Float64Array.of(10, 20, 30, 40, 50),
        mark_px: Float64Array.of(100.5, 5, 101, 102, 103),
        index_px: Float64Array.of(100, 0, 100, Number.NaN, 100),
        funding_rate: Float64Array.of(1e-4, 1e-4, 3e-4, 3e-4, 2e-4),
        open_interest: Float64Array.of(1000, Number.NaN, 1010.5, 1004, 1001),
      },
    };
    const cursor = {
      role: "ticker" as SourceRole,
      rows,
      i: 0,
      tsLocalUs: 0,
      qtyInt: Number.NaN,
      continuation: false,
    };
    const feed = (i: number) => {
      cursor.i = i;
      cursor.tsLocalUs = f64(rows, "ts_local_us")[i]!;
      op.onEvent(cursor as EventCursor);
    };
    const out = [0, 1, 2, 3].map(() => new Float64Array(8).fill(-999));
    const row: SpineRow = { tsEventUs: 0, tsEndUs: 0, availableAtUs: 0, barIndex: 0 };
    let r = 0;
    const emit = () => op.emit(row, out, r++);
    emit(); // row 0: nothing known
    feed(0);
    emit(); // row 1: basis 0.5, 50 bps; no previous values
    emit(); // row 2: unchanged → deltas 0
    feed(1);
    emit(); // row 3: index 0 → bps null; OI absent → OI delta null
    // snapshot/restore through JSON mid-stream: the copy continues identically
    const copy = funding.create(parseFeatureRunConfig({}));
    copy.restore(JSON.parse(JSON.stringify(op.snapshot())));
    feed(2);
    feed(3);
    emit(); // row 4: last row (3) has index null; previous OI absent → null
    feed(4);
    emit(); // row 5: OI 1004 → 1001; funding 3e-4 → 2e-4
    const N = Number.NaN;
    assertColumnClose("fr_basis", out[0]!.subarray(0, 6), [N, 0.5, 0.5, 5, N, 3]);
    assertColumnClose("fr_basis_bps", out[1]!.subarray(0, 6), [N, 50, 50, N, N, 300]);
    assertColumnClose("fr_funding_delta", out[2]!.subarray(0, 6), [N, N, 0, 0, 3e-4 - 1e-4, 2e-4 - 3e-4]);
    assertColumnClose("fr_oi_delta", out[3]!.subarray(0, 6), [N, N, 0, N, N, 1001 - 1004]);
    // the restored copy, fed the same events, writes the same rows 4 and 5
    const out2 = [0, 1, 2, 3].map(() => new Float64Array(2));
    for (const i of [2, 3]) {
      cursor.i = i;
      copy.onEvent(cursor as EventCursor);
    }
    copy.emit(row, out2, 0);
    cursor.i = 4;
    copy.onEvent(cursor as EventCursor);
    copy.emit(row, out2, 1);
    for (let k = 0; k < 4; k++) assert.deepEqual([...out2[k]!], [out[k]![4]!, out[k]![5]!]);
  });
});

describe("bm_ basis momentum", () => {
  const lake = () => lake23.lake;
  for (const [spine, w] of [
    ["clock", 20],
    ["clock", 100],
    ["volume", 10],
  ] as const) {
    test(`naive reference on the ${spine} spine, window ${w} rows`, async () => {
      const c = await runCase({
        lake,
        start: toUs(W2023.start) + 60 * 1_000_000,
        end: W2023.end,
        spine,
        warmupMs: 30_000,
        config: { basisWindowRows: w },
        family: basisMomentum,
      });
      assert.deepEqual(c.frame.columns.slice(5), [
        "bm_basis",
        `bm_basis_mean_${w}`,
        `bm_basis_std_${w}`,
        `bm_basis_z_${w}`,
        "bm_basis_mom",
      ]);
      const ref = compare(c.frame, REFERENCES.bm(c.ev, c.rows, w), c.out);
      assert.ok(fractionFinite(ref[`bm_basis_z_${w}`]!) > 0.5, "z-score mostly known");
      assert.ok(
        ref.bm_basis_mom!.some((x) => Number.isFinite(x) && x !== 0),
        "basis moves",
      );
    });
  }
});

describe("tb_ trade burst", () => {
  const lake = () => lake24.lake;
  for (const [spine, w] of [
    ["clock", 20],
    ["clock", 100],
    ["volume", 10],
    ["trades", 50],
  ] as const) {
    test(`naive as-of inter-arrival reference on the ${spine} spine, window ${w} rows`, async () => {
      const c = await runCase({
        lake,
        start: toUs(W2024.start) + 60 * 1_000_000,
        end: W2024.end,
        spine,
        warmupMs: 30_000,
        config: { tradeBurstWindowRows: w },
        family: tradeBurst,
      });
      assert.deepEqual(c.frame.columns.slice(5), [
        "tb_dt_us",
        `tb_dt_mean_${w}`,
        `tb_dt_std_${w}`,
        `tb_burst_score_${w}`,
      ]);
      const ref = compare(c.frame, REFERENCES.tb(c.ev, c.rows, w), c.out);
      assert.match(String(c.frame.getColumn("tb_dt_us").dtype), /Int64/);
      assert.ok(fractionFinite(ref[`tb_burst_score_${w}`]!) > 0.5, "burst score mostly known");
      assert.ok(ref.tb_dt_us!.some((x) => x > 0));
      if (spine === "trades") {
        // Pointline's definition on the trades spine: ts_local_us.diff() over the spine rows — both over
        // the raw trades and over the frame's own rows (available_at = the trade's ts_local_us)
        const ts = f64(c.ev.trades, "ts_local_us");
        const pointline = Float64Array.from(c.out, (k) => (k === 0 ? Number.NaN : ts[k]! - ts[k - 1]!));
        assertColumnClose(
          "tb_dt_us (Pointline diff of raw trades)",
          columnValues(c.frame, "tb_dt_us"),
          pointline,
        );
        const avail = columnValues(c.frame, "available_at_us");
        const dt = columnValues(c.frame, "tb_dt_us");
        for (let r = 1; r < avail.length; r++) assert.equal(dt[r], avail[r]! - avail[r - 1]!);
        assert.ok(
          dt.some((x) => x === 0),
          "same-microsecond trades give 0",
        );
      }
    });
  }
});

describe("rg_ regime", () => {
  const lake = () => lake24.lake;
  for (const [spine, w] of [
    ["clock", 30],
    ["volume", 10],
    ["trades", 30],
  ] as const) {
    test(`naive as-of mid return/volatility reference on the ${spine} spine, window ${w} rows`, async () => {
      const c = await runCase({
        lake,
        start: toUs(W2024.start) + 60 * 1_000_000,
        end: W2024.end,
        spine,
        warmupMs: 30_000,
        config: { regimeWindowRows: w },
        family: regime,
      });
      assert.deepEqual(c.frame.columns.slice(5), ["rg_ret_1", `rg_vol_${w}`]);
      const ref = compare(c.frame, REFERENCES.rg(c.ev, c.rows, w), c.out);
      assert.ok(fractionFinite(ref[`rg_vol_${w}`]!) > 0.8, "volatility mostly known");
      assert.ok(
        ref.rg_ret_1!.some((x) => Number.isFinite(x) && x !== 0),
        "the mid moves",
      );
      assert.ok(ref[`rg_vol_${w}`]!.some((x) => x > 0));
    });
  }
});

describe("cv_ cross-venue", () => {
  const lake = () => lake24.lake;
  const config: FeatureRunInput = { includeCrossVenue: true, crossVenue: { ...SPOT } };
  for (const spine of ["clock", "volume"] as const) {
    test(`naive two-venue as-of reference on the ${spine} spine (perp 0.1 vs spot 0.01 increments)`, async () => {
      const c = await runCase({
        lake,
        start: toUs(W2024.start) + 60 * 1_000_000,
        end: W2024.end,
        spine,
        warmupMs: 30_000,
        config,
        family: crossVenue,
      });
      assert.deepEqual(c.frame.columns.slice(5), ["cv_basis", "cv_basis_bps"]);
      const spot = await rawOnce(lake(), SPOT.exchange, SPOT.symbol, c.replayStartUs, c.endUs);
      const all = REFERENCES.cv(c.ev, spot.book, c.rows, { perp: inc.perpPx, spot: inc.spotPx });
      const ref = compare(c.frame, { cv_basis: all.cv_basis!, cv_basis_bps: all.cv_basis_bps! }, c.out);
      assert.ok(fractionFinite(ref.cv_basis!) > 0.95);
      // a price difference, not a difference of integer increments: perp and spot BTC are within 100 USDT
      // (Pointline's integer mids would differ by ~556,000 increments here)
      for (const b of ref.cv_basis!) if (Number.isFinite(b)) assert.ok(Math.abs(b) < 100, `cv_basis ${b}`);
      for (const b of ref.cv_basis_bps!)
        if (Number.isFinite(b)) assert.ok(Math.abs(b) < 20, `cv_basis_bps ${b}`);
    });
  }

  test("buildCrossVenueMidFrame matches a naive as-of reference of both mids", async () => {
    const startUs = toUs(W2024.start) + 30 * 1_000_000;
    const endUs = toUs(W2024.end);
    const df = await buildCrossVenueMidFrame({
      lake: lake(),
      perp: PERP,
      spot: SPOT,
      start: startUs,
      end: endUs,
      warmupMs: 10_000,
    });
    assert.deepEqual(df.columns, [
      "ts_event_us",
      "ts_end_us",
      "available_at_us",
      "bar_index",
      "bar_duration_us",
      "spot_mid_px",
      "perp_mid_px",
    ]);
    const replayStartUs = startUs - 10_000 * US_PER_MS;
    const perp = await rawOnce(lake(), PERP.exchange, PERP.symbol, replayStartUs, endUs);
    const spot = await rawOnce(lake(), SPOT.exchange, SPOT.symbol, replayStartUs, endUs);
    const rows = clockRows(replayStartUs, endUs);
    const out = outputIndices(rows, startUs, endUs);
    assert.equal(df.height, out.length);
    assert.equal(df.height, 330);
    assertColumnClose(
      "ts_event_us",
      columnValues(df, "ts_event_us"),
      out.map((k) => rows[k]!.tsEventUs),
    );
    const ref = REFERENCES.cv(perp, spot.book, rows, { perp: inc.perpPx, spot: inc.spotPx });
    const picked = compare(df, { spot_mid_px: ref.spot_mid_px!, perp_mid_px: ref.perp_mid_px! }, out);
    assert.equal(fractionFinite(picked.spot_mid_px!), 1);
    assert.equal(fractionFinite(picked.perp_mid_px!), 1);
    // prices in USDT: BTC traded ~61,800 on 2024-08-08
    for (const k of ["spot_mid_px", "perp_mid_px"]) {
      for (const v of picked[k]!) assert.ok(v > 55_000 && v < 70_000, `${k} ${v}`);
    }
    // and the 1 s default step is the clock step
    assert.ok(columnValues(df, "bar_duration_us").every((d) => d === STEP_US));
  });

  test("without a spot instrument the operator refuses to start", () => {
    const op = crossVenue.create(parseFeatureRunConfig({}));
    assert.throws(
      () =>
        op.init?.({
          primary: {
            exchange: PERP.exchange,
            symbol: PERP.symbol,
            priceIncrement: 0.1,
            amountIncrement: 0.001,
          },
        }),
      /crossVenue/,
    );
  });
});

describe("catalogue", () => {
  test("every output has a catalogue entry with the operator's name, unit and Pointline source", () => {
    const cfg = parseFeatureRunConfig({
      basisWindowRows: 7,
      tradeBurstWindowRows: 9,
      regimeWindowRows: 11,
      includeCrossVenue: true,
      crossVenue: { ...SPOT },
    });
    for (const f of [funding, basisMomentum, tradeBurst, regime, crossVenue, crossVenueMids]) {
      const op = f.create(cfg);
      const metas = f.catalog(cfg);
      assert.deepEqual(
        metas.map((m) => [m.name, m.unit]),
        op.outputs.map((o) => [o.name, o.unit]),
        f.id,
      );
      for (const m of metas) {
        assert.ok(m.name.startsWith(f.prefix), m.name);
        assert.equal(m.version, 1);
        assert.match(m.source, /pointline\/research\/features\/families\.py/);
        for (const k of ["formula", "window", "warmup", "pitPolicy"] as const) assert.ok(m[k].length > 0);
        assert.ok(m.inputs.length > 0);
      }
    }
    // window sizes from the config appear in the names
    assert.ok(basisMomentum.catalog(cfg).some((m) => m.name === "bm_basis_z_7"));
    assert.ok(tradeBurst.catalog(cfg).some((m) => m.name === "tb_burst_score_9"));
    assert.ok(regime.catalog(cfg).some((m) => m.name === "rg_vol_11"));
  });
});

describe("snapshot/restore and partition safety", () => {
  const cases: {
    name: string;
    lake: () => string;
    w: typeof W2023 | typeof W2024;
    family: FamilyDef;
    config: FeatureRunInput;
  }[] = [
    { name: "fr", lake: () => lake23.lake, w: W2023, family: funding, config: {} },
    { name: "bm", lake: () => lake23.lake, w: W2023, family: basisMomentum, config: { basisWindowRows: 20 } },
    {
      name: "tb",
      lake: () => lake24.lake,
      w: W2024,
      family: tradeBurst,
      config: { tradeBurstWindowRows: 20 },
    },
    { name: "rg", lake: () => lake24.lake, w: W2024, family: regime, config: {} },
    {
      name: "cv",
      lake: () => lake24.lake,
      w: W2024,
      family: crossVenue,
      config: { includeCrossVenue: true, crossVenue: { ...SPOT } },
    },
    {
      name: "cvmid",
      lake: () => lake24.lake,
      w: W2024,
      family: crossVenueMids,
      config: { includeCrossVenue: true, crossVenue: { ...SPOT } },
    },
  ];
  for (const c of cases) {
    for (const spine of ["clock", "volume"] as const) {
      test(`${c.name}: state restored from JSON mid-run (rows and every 997 events) gives identical output, ${spine} spine`, async () => {
        const config = { ...c.config, spine: spine === "clock" ? CLOCK : VOLUME };
        const req = { lake: c.lake(), ...PERP, ...SYNC, start: c.w.start, end: c.w.end, config };
        const plain = (await buildFeatureFrameWithSummary({ ...req, families: [c.family] })).frame;
        const probed = probedFamily(c.family, [1, 2, 3, 17, 64, 199, 250], 997);
        const swapped = (await buildFeatureFrameWithSummary({ ...req, families: [probed] })).frame;
        assert.equal(probed.probes.length, 1);
        assert.ok(probed.probes[0]!.swaps >= 5, `${probed.probes[0]!.swaps} swaps`);
        assert.ok(plain.height > 50);
        assertFramesIdentical(swapped, plain, c.name);
      });
    }
    test(`${c.name}: a run started 4 min later with the default warm-up equals the full run on its rows`, async () => {
      const config = { ...c.config, spine: CLOCK };
      const full = (
        await buildFeatureFrameWithSummary({
          lake: c.lake(),
          ...PERP,
          ...SYNC,
          start: c.w.start,
          end: c.w.end,
          config,
          families: [c.family],
        })
      ).frame;
      const lateStart = toUs(c.w.start) + 240 * 1_000_000;
      const late = (
        await buildFeatureFrameWithSummary({
          lake: c.lake(),
          ...PERP,
          ...SYNC,
          start: lateStart,
          end: c.w.end,
          config,
          families: [c.family],
        })
      ).frame;
      const tail = full.filter(pl.col("ts_event_us").gtEq(lateStart));
      assert.ok(late.height > 50);
      // the tail has non-null values, so the comparison can fail
      const first = late.columns[5]!;
      assert.ok(fractionFinite(columnValues(late, first)) > 0.5, `${first} mostly known`);
      assertFramesIdentical(late, tail, c.name);
    });
  }
});
