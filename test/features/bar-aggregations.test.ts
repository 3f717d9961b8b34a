/**
 * Bar aggregations (volume-bar MFT guide) against a naive reference recomputed from the raw events.
 *
 * The reference builds its own bars from the raw trades (volume bars of 5 BTC = 5000 qty increments:
 * accumulate qty, close on the trade reaching the threshold including it whole, reset to 0, bars start at
 * the first trade of each UTC day and the bar still open at the day's end / the range end is not emitted;
 * exact-volume bars with split trades; 1 s clock bars = trades with ts_local_us in [t, t + 1 s)), then
 * recomputes every aggregation from that bar's trades, the as-of quote / book snapshot by scanning all raw
 * rows for the last one in the row's knowledge set (event bars: ts_local_us ≤ the closing trade's — quotes
 * and books rank before trades at equal ts; clock bars: ts_local_us < bar end), and every derived column
 * from the reference bars with Polars semantics (shift(k) null for the first k rows, rolling windows null
 * until full or while a value in them is null), recomputing each window from scratch.
 *
 * Numerics of the reference: sums of px·qty in BigInt (exact); log returns as log1p(Δp / p) (the same
 * real number as ln(p_i / p_{i−1}), computed without the ~1e-16 absolute error of log(ratio)); std by two
 * passes; median by sorting the window. Every column is compared with assertColumnClose (integers exact,
 * floats ≤ 1e-12 relative) except spread_deviation (see SCALED).
 *
 * Scenarios: usdm2024 volume bars (from the range start and from 23:57 with warm-up bars), split-trade
 * volume bars, 1 s clock bars (from before the first event and from 23:57), snapshot/restore probes, a
 * synthetic event stream driving the operator directly (empty bars, no quote/book yet, books with fewer
 * than 5 levels, 30 bars at one price → realized_vol 0 and std 0 → vol_zscore null, a continuation piece,
 * a discardBar), and usdm2023 across a UTC midnight (the dropped partial bar must not leak; an operator
 * without discardBar is shown to fail the same comparison).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type pl from "nodejs-polars";
import { US_PER_SECOND } from "../../src/core/time.js";
import type { Operator } from "../../src/engine/operator.js";
import { MutableEventCursor } from "../../src/engine/replay.js";
import { barAggregations } from "../../src/features/bar-aggregations.js";
import type { FeatureRunConfig, FeatureRunInput } from "../../src/features/config.js";
import type { FamilyDef } from "../../src/features/family.js";
import { buildFeatureFrameWithSummary } from "../../src/features/frame.js";
import type { LevelColumn, TypedRows } from "../../src/query/query.js";
import { BOOK_DEPTH } from "../../src/schema/tables.js";
import {
  assertColumnClose,
  assertFramesIdentical,
  columnValues,
  type NaturalIncrements,
  naturalIncrements,
  nonNullRatio,
  probedFamily,
  refInFrameUnits,
} from "../helpers/engine.js";
import { captureLake, rawEvents, W2023, W2024 } from "../helpers/lake.js";
import {
  f64,
  type RefBar,
  type RefPiece,
  referenceClockBars,
  referenceVolumeBars,
} from "../helpers/reference-bars.js";

const EX = "binance-futures";
const SYM = "BTCUSDT";
/** 5 BTC in qty increments (amount increment 0.001 BTC on binance-futures BTCUSDT). */
const THRESHOLD_QTY = 5000;
const VOLUME_SPINE = { type: "volume", volumeThreshold: 5 } as const;

type Raw = Awaited<ReturnType<typeof rawEvents>>;

/** The family's columns, in order (its catalogue; the family takes no settings). */
const BAR_COLUMNS = barAggregations.catalog({} as FeatureRunConfig);
/** A fresh operator of the family (a group of the registered aggregations and `bar_derived`). */
const newBarOperator = (): Operator => barAggregations.create({} as FeatureRunConfig);

/** Index of the last row of `rows` in the knowledge set of `bar` (full scan), −1 if none. */
function lastKnown(rows: TypedRows, bar: RefBar): number {
  const ts = f64(rows, "ts_local_us");
  let last = -1;
  for (let k = 0; k < rows.length; k++) {
    if (ts[k]! < bar.cut.ts || (bar.cut.inclusive && ts[k] === bar.cut.ts)) last = k;
  }
  return last;
}

const NAN = Number.NaN;

function mean(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

/** Two-pass sample std (ddof 1). */
function std(xs: readonly number[]): number {
  const m = mean(xs);
  let s = 0;
  for (const x of xs) s += (x - m) * (x - m);
  return Math.sqrt(s / (xs.length - 1));
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 === 1 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
}

/** The window of `w` values ending at row j, or null if not full or any value is null (NaN). */
function window(col: Float64Array, j: number, w: number): number[] | null {
  if (j + 1 < w) return null;
  const xs = Array.from(col.subarray(j - w + 1, j + 1));
  return xs.some(Number.isNaN) ? null : xs;
}

/** Every column of the family for each reference bar, computed from scratch. */
function referenceColumns(raw: Raw, bars: readonly RefBar[]): Record<string, Float64Array> {
  const n = bars.length;
  const col = () => new Float64Array(n).fill(NAN);
  const c: Record<string, Float64Array> = {};
  for (const spec of BAR_COLUMNS) c[spec.name] = col();
  const C = (name: string): Float64Array => c[name]!;
  const px = f64(raw.trades, "px_int");
  const side = raw.trades.columns.side as Int8Array;
  const qBid = f64(raw.quotes, "bid_px_int");
  const qAsk = f64(raw.quotes, "ask_px_int");
  const bBid = raw.book.columns.bid_qty_int as LevelColumn;
  const bAsk = raw.book.columns.ask_qty_int as LevelColumn;

  bars.forEach((bar, j) => {
    const ps = bar.pieces;
    let volume = 0;
    let pxQty = 0n;
    let buy = 0;
    let sell = 0;
    let count = 0;
    for (const p of ps) {
      volume += p.qty;
      pxQty += BigInt(px[p.i]!) * BigInt(p.qty);
      if (side[p.i] === 0) buy += p.qty;
      if (side[p.i] === 1) sell += p.qty;
      if (!p.continuation) count++;
    }
    C("volume")[j] = volume;
    C("trade_count")[j] = count;
    C("buy_volume")[j] = buy;
    C("sell_volume")[j] = sell;
    C("flow_imbalance")[j] = buy + sell > 0 ? (buy - sell) / (buy + sell) : NAN;
    C("avg_trade_size")[j] = count > 0 ? volume / count : NAN;
    if (ps.length > 0) {
      const prices = ps.map((p) => px[p.i]!);
      const open = prices[0]!;
      const close = prices[prices.length - 1]!;
      const high = Math.max(...prices);
      const low = Math.min(...prices);
      C("open")[j] = open;
      C("high")[j] = high;
      C("low")[j] = low;
      C("close")[j] = close;
      if (volume > 0) {
        const vwap = Number(pxQty) / volume;
        C("vwap")[j] = vwap;
        // close − vwap with an exact numerator: (close·V − Σ px·q) / V
        C("vwap_reversion")[j] = Number(BigInt(close) * BigInt(volume) - pxQty) / volume / vwap;
        C("hl_range_pct")[j] = (high - low) / vwap;
      }
      const rets: number[] = [];
      for (let k = 1; k < prices.length; k++)
        rets.push(Math.log1p((prices[k]! - prices[k - 1]!) / prices[k - 1]!));
      C("realized_vol")[j] = rets.length >= 2 ? std(rets) : NAN;
    }
    const q = lastKnown(raw.quotes, bar);
    if (q >= 0) C("spread_bps")[j] = (1e4 * (qAsk[q]! - qBid[q]!)) / ((qAsk[q]! + qBid[q]!) / 2);
    const b = lastKnown(raw.book, bar);
    if (b >= 0) {
      let sb = 0;
      let sa = 0;
      for (let k = 0; k < Math.min(5, bBid.lens[b]!); k++) sb += bBid.values[b * BOOK_DEPTH + k]!;
      for (let k = 0; k < Math.min(5, bAsk.lens[b]!); k++) sa += bAsk.values[b * BOOK_DEPTH + k]!;
      C("book_imbalance_top5")[j] = sb + sa > 0 ? (sb - sa) / (sb + sa) : NAN;
    }
    C("hour")[j] = new Date(bar.tsEvent / 1000).getUTCHours();
    C("bar_duration_seconds")[j] = (bar.tsEnd - bar.tsEvent) / US_PER_SECOND;
  });

  // derived columns over the reference rows (Polars shift / rolling semantics)
  const shift = (x: Float64Array, j: number, k: number) => (j >= k ? x[j - k]! : NAN);
  const close = C("close");
  const tc = C("trade_count");
  const flow = C("flow_imbalance");
  const spread = C("spread_bps");
  const rv = C("realized_vol");
  const size = C("avg_trade_size");
  for (let j = 0; j < n; j++) {
    const c1 = shift(close, j, 1);
    const c5 = shift(close, j, 5);
    C("ret_1bar")[j] = (close[j]! - c1) / c1;
    C("ret_5bar")[j] = (close[j]! - c5) / c5;
    const t1 = shift(tc, j, 1);
    C("trade_count_accel")[j] = t1 > 0 ? (tc[j]! - t1) / t1 : NAN;
    const sw = window(spread, j, 10);
    C("spread_deviation")[j] = sw ? spread[j]! - mean(sw) : NAN;
    C("flow_persistence")[j] = flow[j]! * shift(flow, j, 1);
    C("book_flow_divergence")[j] = C("book_imbalance_top5")[j]! - flow[j]!;
    const vw = window(rv, j, 20);
    if (vw) {
      const s = std(vw);
      C("vol_zscore")[j] = s > 0 ? (rv[j]! - mean(vw)) / s : NAN;
    }
    const zw = window(size, j, 50);
    C("size_ratio")[j] = zw ? size[j]! / median(zw) : NAN;
  }
  return c;
}

/**
 * spread_deviation = spread_bps − its 10-row mean: a difference of two nearly equal floats (the spread is
 * one tick most of the time, so the deviation is ~1e-4 of the spread). The rolling mean of RollingStats and
 * the reference's from-scratch sum differ by a few ε of the spread, so it is compared with an absolute
 * tolerance of 1e-12 · |spread_bps| (a relative tolerance on a result near 0 would test rounding noise).
 */
const SCALED: Readonly<Record<string, (ref: Record<string, Float64Array>, j: number) => number>> = {
  spread_deviation: (ref, j) => Math.abs(ref.spread_bps![j]!),
};

function assertScaledClose(
  name: string,
  actual: Float64Array,
  expected: Float64Array,
  scale: (j: number) => number,
  tol = 1e-12,
): void {
  assert.equal(actual.length, expected.length, `${name}: length`);
  for (let j = 0; j < expected.length; j++) {
    const a = actual[j]!;
    const e = expected[j]!;
    if (Number.isNaN(a) || Number.isNaN(e)) {
      if (!(Number.isNaN(a) && Number.isNaN(e))) assert.fail(`${name}[${j}]: engine ${a}, reference ${e}`);
      continue;
    }
    if (Math.abs(a - e) > tol * scale(j))
      assert.fail(`${name}[${j}]: engine ${a}, reference ${e} (|Δ| ${Math.abs(a - e)}, scale ${scale(j)})`);
  }
}

/**
 * Chunks load on the calling thread: a prefetch worker (its own module graph, ~1 s to start) costs more
 * than it saves on these few chunks. Prefetched rows = synchronously loaded rows, bitwise, for every
 * registered operator on these captures: test/engine/contract.test.ts.
 */
const run = (lake: string, config: FeatureRunInput, start: string, end: string, family = barAggregations) =>
  buildFeatureFrameWithSummary({
    lake,
    exchange: EX,
    symbol: SYM,
    prefetch: false,
    start,
    end,
    config: { includeBarAggregations: true, ...config },
    families: [family],
  });

/**
 * Aligns the frame with the reference bars (rows with ts_event ≥ start and available_at ≤ end, same
 * ts_event / ts_end) and compares every column. Returns the reference rows compared.
 */
function compareWithReference(
  inc: NaturalIncrements,
  df: pl.DataFrame,
  raw: Raw,
  bars: readonly RefBar[],
  startUs: number,
  endUs: number,
  label: string,
): { ref: Record<string, Float64Array>; rows: number[] } {
  const all = referenceColumns(raw, bars);
  const rows: number[] = [];
  bars.forEach((b, j) => {
    if (b.tsEvent >= startUs && b.tsEnd <= endUs) rows.push(j);
  });
  assert.equal(df.height, rows.length, `${label}: row count`);
  assert.ok(rows.length > 0, `${label}: no rows`);
  const tsEvent = columnValues(df, "ts_event_us");
  const tsEnd = columnValues(df, "ts_end_us");
  rows.forEach((j, r) => {
    assert.equal(tsEvent[r], bars[j]!.tsEvent, `${label}: ts_event_us[${r}]`);
    assert.equal(tsEnd[r], bars[j]!.tsEnd, `${label}: ts_end_us[${r}]`);
  });
  const ref: Record<string, Float64Array> = {};
  for (const [name, v] of Object.entries(all)) ref[name] = Float64Array.from(rows, (j) => v[j]!);
  for (const spec of BAR_COLUMNS) {
    const actual = columnValues(df, spec.name);
    // reference in increments, the frame in natural units (the units rule)
    const expected = refInFrameUnits(spec.name, spec.unit, ref[spec.name]!, inc);
    const scaled = SCALED[spec.name];
    if (scaled) {
      const scaleAll = (j: number) => scaled(all, rows[j]!);
      assertScaledClose(`${label} ${spec.name}`, actual, expected, scaleAll);
    } else assertColumnClose(`${label} ${spec.name}`, actual, expected);
  }
  return { ref, rows };
}

/** The reference is not trivially empty: every column has at least `min` non-null values (ratio). */
function assertPopulated(
  ref: Record<string, Float64Array>,
  min: Readonly<Record<string, number>>,
  dflt: number,
) {
  for (const spec of BAR_COLUMNS) {
    const want = min[spec.name] ?? dflt;
    const got = nonNullRatio(ref[spec.name]!);
    assert.ok(got >= want, `reference ${spec.name}: non-null ratio ${got.toFixed(3)} < ${want}`);
  }
}

const us = (iso: string) => Date.parse(iso) * 1000;

describe("bar aggregations (volume-bar MFT guide)", () => {
  let lake = "";
  let inc: NaturalIncrements;
  let cleanup = () => {};
  let raw: Raw;

  before(async () => {
    ({ lake, cleanup } = await captureLake(["usdm2024"]));
    inc = naturalIncrements(lake, EX, SYM, us(W2024.start));
    raw = await rawEvents(lake, EX, SYM, "2024-08-08T00:00:00Z", W2024.end);
    assert.ok(raw.trades.length > 10_000 && raw.quotes.length > 10_000 && raw.book.length > 1000, "raw");
  });
  after(() => cleanup());

  it("catalogue: one entry per output, same names / units, documented source", () => {
    const cfg = {} as FeatureRunConfig;
    const op = barAggregations.create(cfg);
    const cat = barAggregations.catalog(cfg);
    assert.deepEqual(
      cat.map((m) => m.name),
      op.outputs.map((o) => o.name),
    );
    assert.equal(new Set(cat.map((m) => m.name)).size, cat.length);
    cat.forEach((m, k) => {
      assert.equal(m.unit, op.outputs[k]!.unit);
      assert.equal(m.family, "bar");
      assert.equal(m.version, 1);
      assert.match(m.source, /Pointline .*(volume-bar-features-crypto-mft|crypto_mft|trade_flow)/);
      assert.ok(m.formula.length > 0 && m.inputs.length > 0 && m.pitPolicy.length > 0, m.name);
    });
    assert.deepEqual(
      op.outputs.filter((o) => o.dtype === "i64").map((o) => o.name),
      // prices and sizes are f64 operator outputs in increments (the sink converts them to natural units)
      ["trade_count", "hour"],
    );
    assert.deepEqual([...op.inputs].sort(), ["book", "quotes", "trades"]);
  });

  it("volume bars (5 BTC): every column equals the reference recomputed from raw trades / quotes / book", async () => {
    const { frame, summary } = await run(lake, { spine: VOLUME_SPINE }, W2024.start, W2024.end);
    const bars = referenceVolumeBars(raw.trades, THRESHOLD_QTY, false);
    const { ref } = compareWithReference(inc, frame, raw, bars, us(W2024.start), us(W2024.end), "volume");
    assert.ok(frame.height > 400, `rows ${frame.height}`);
    // every bar reaches the threshold with its last trade whole
    for (const v of ref.volume!) assert.ok(v >= THRESHOLD_QTY, `bar volume ${v}`);
    assertPopulated(ref, { vol_zscore: 0.75, size_ratio: 0.8 }, 0.95);
    // the only unassigned quantity is the open bar at the range end
    const total = f64(raw.trades, "qty_int").reduce((a, b) => a + b, 0);
    const assigned = ref.volume!.reduce((a, b) => a + b, 0);
    assert.equal(summary.spine.unassignedQtyInt, total - assigned);
    assert.ok(total - assigned < THRESHOLD_QTY, `unassigned ${total - assigned}`);
  });

  it("volume bars from a later start: warm-up bars feed shift / rolling state (rows equal a run from the day's start)", async () => {
    const start = "2024-08-08T23:57:00Z";
    const { frame } = await run(lake, { spine: VOLUME_SPINE }, start, W2024.end);
    const bars = referenceVolumeBars(raw.trades, THRESHOLD_QTY, false);
    const { ref } = compareWithReference(inc, frame, raw, bars, us(start), us(W2024.end), "volume@23:57");
    // first output row already has its 50-row median / 20-row z-score (history from warm-up bars)
    assert.ok(!Number.isNaN(ref.size_ratio![0]!) && !Number.isNaN(ref.vol_zscore![0]!), "first row warm");
  });

  it("split-trade volume bars: volume exactly 5000 each, Σ volume = total − remainder; every column matches", async () => {
    const spine = { ...VOLUME_SPINE, splitTrades: true };
    const { frame, summary } = await run(lake, { spine }, W2024.start, W2024.end);
    const bars = referenceVolumeBars(raw.trades, THRESHOLD_QTY, true);
    const { ref } = compareWithReference(inc, frame, raw, bars, us(W2024.start), us(W2024.end), "split");
    // volume in base units: exactly 5 BTC per bar; the exact integer sums are checked in increments
    // (round(v / increment) recovers the integer: every value is far below 2^53 increments)
    const volume = columnValues(frame, "volume").map((v) => Math.round(v / inc.amount));
    for (const v of columnValues(frame, "volume")) assert.equal(v, 5);
    for (const v of volume) assert.equal(v, THRESHOLD_QTY);
    const total = f64(raw.trades, "qty_int").reduce((a, b) => a + b, 0);
    assert.equal(frame.height, Math.floor(total / THRESHOLD_QTY));
    assert.equal(
      volume.reduce((a, b) => a + b, 0),
      total - (total % THRESHOLD_QTY),
    );
    assert.equal(summary.spine.unassignedQtyInt, total % THRESHOLD_QTY);
    // large trades fill several bars: some bars hold only a continuation piece (trade_count 0)
    const tc = columnValues(frame, "trade_count");
    assert.ok(
      tc.some((x) => x === 0),
      "expected a bar made of one continuation piece",
    );
    assert.ok(Number.isNaN(ref.avg_trade_size![tc.indexOf(0)]!), "avg_trade_size null without trades");
    // bars made only of a continuation piece have no trade_count → avg_trade_size null, which keeps the
    // 50-row median window mostly incomplete (Polars min_periods semantics)
    assertPopulated(ref, { vol_zscore: 0.3, size_ratio: 0.05 }, 0.9);
  });

  it("1 s clock bars: trades with ts in [t, t + 1 s), as-of quote / book before the bar end", async () => {
    const spine = { type: "clock", stepMs: 1000 } as const;
    const ts = f64(raw.trades, "ts_local_us");
    const qty = f64(raw.trades, "qty_int");
    // reference from well before the first event (empty bars) to the end
    const bars = referenceClockBars(raw.trades, us("2024-08-08T23:50:00Z"), us(W2024.end), US_PER_SECOND);
    // from the range start (empty bars before the capture's first event at 23:54:15), and from 23:57
    // (warm-up rows with data feed the shift / rolling state)
    for (const start of [W2024.start, "2024-08-08T23:57:00Z"]) {
      const { frame } = await run(lake, { spine }, start, W2024.end);
      const { ref } = compareWithReference(inc, frame, raw, bars, us(start), us(W2024.end), `clock@${start}`);
      assert.equal(frame.height, (us(W2024.end) - us(start)) / US_PER_SECOND);
      // Σ volume = every trade of the range (clock bars assign each trade to exactly one row)
      let total = 0;
      for (let i = 0; i < raw.trades.length; i++) if (ts[i]! >= us(start)) total += qty[i]!;
      assert.equal(
        columnValues(frame, "volume")
          .map((v) => Math.round(v / inc.amount))
          .reduce((a, b) => a + b, 0),
        total,
      );
      if (start === W2024.start) {
        // the capture starts at 23:54:15: 15 bars without trades (OHLC / vwap null, volume 0, count 0)
        for (let j = 0; j < 15; j++) {
          assert.ok(Number.isNaN(ref.open![j]!) && Number.isNaN(ref.vwap![j]!), `empty bar ${j}`);
          assert.ok(ref.volume![j] === 0 && ref.trade_count![j] === 0, `empty bar ${j}`);
        }
        assert.ok(!Number.isNaN(ref.open![16]!), "bar 23:54:16 has trades");
        assertPopulated(ref, { vol_zscore: 0.7, size_ratio: 0.7 }, 0.8);
      } else {
        assert.ok(!Number.isNaN(ref.size_ratio![0]!) && !Number.isNaN(ref.ret_5bar![0]!), "first row warm");
        assertPopulated(ref, { vol_zscore: 0.8 }, 0.95);
      }
    }
  });

  it("snapshot / restore mid-run (several rows and every 997 events) gives identical frames", async () => {
    for (const spine of [
      VOLUME_SPINE,
      { ...VOLUME_SPINE, splitTrades: true },
      { type: "clock", stepMs: 1000 } as const,
    ]) {
      const plain = await run(lake, { spine }, W2024.start, W2024.end);
      const probed = probedFamily(barAggregations, [1, 2, 3, 17, 60, 211], 997);
      const again = await run(lake, { spine }, W2024.start, W2024.end, probed);
      assert.ok(probed.probes[0]!.swaps > 30, `swaps ${probed.probes[0]!.swaps}`);
      assertFramesIdentical(again.frame, plain.frame, spine.type);
    }
  });

  it("operator state round-trips through JSON (NaN as null) and rejects foreign state", () => {
    const op = newBarOperator();
    const state = JSON.parse(JSON.stringify(op.snapshot()));
    const fresh = newBarOperator();
    fresh.restore(state);
    assert.deepEqual(fresh.snapshot(), op.snapshot());
    assert.throws(() => fresh.restore({ v: 2 }), TypeError);
    assert.throws(() => fresh.restore([]), TypeError);
  });
});

/** Deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("bar aggregations on synthetic events (edge cases, operator driven directly)", () => {
  it("empty bars, no quote / book yet, thin book, constant prices, continuation pieces, discarded bar", () => {
    const rand = rng(7);
    const stepUs = US_PER_SECOND;
    const t0 = us("2024-01-01T05:59:00Z");
    const nBars = 120;
    const tr = { ts: [] as number[], px: [] as number[], qty: [] as number[], side: [] as number[] };
    const qu = { ts: [] as number[], bid: [] as number[], ask: [] as number[] };
    const bk = { ts: [] as number[], lens: [] as number[], bid: [] as number[][], ask: [] as number[][] };
    /** Per trade: fed as a continuation piece; dropped by a discardBar before the bar's emit. */
    const cont: boolean[] = [];
    const discarded = new Set<number>();
    let px = 600_000;
    for (let k = 0; k < nBars; k++) {
      const t = t0 + k * stepUs;
      if (k >= 5) {
        const bid = 600_000 + (k % 7);
        qu.ts.push(t + 100);
        qu.bid.push(bid);
        qu.ask.push(bid + 1 + (k % 3));
      }
      if (k >= 8 && k % 2 === 0) {
        const lens = k < 40 ? 3 : 25; // fewer than 5 levels at first
        bk.ts.push(t + 200);
        bk.lens.push(lens);
        bk.bid.push(Array.from({ length: lens }, () => 1 + Math.floor(rand() * 900)));
        bk.ask.push(Array.from({ length: lens }, () => 1 + Math.floor(rand() * 900)));
      }
      let n: number;
      if (k < 3 || k === 41 || k === 115)
        n = 0; // empty bars
      else if (k >= 10 && k < 40)
        n = 3; // constant price: realized_vol 0 for 30 bars → std 0
      else if (k === 45 || k === 100)
        n = 1; // one trade: no return, realized_vol null
      else if (k === 60) n = 7;
      else n = 3 + Math.floor(rand() * 5);
      for (let m = 0; m < n; m++) {
        if (!(k >= 10 && k < 40)) px += Math.floor(rand() * 5) - 2;
        tr.ts.push(t + 300 + m * 1000);
        tr.px.push(k >= 10 && k < 40 ? 600_100 : px);
        tr.qty.push(1 + Math.floor(rand() * 100));
        tr.side.push([0, 1, -1][Math.floor(rand() * 3)]!);
        cont.push(k === 70 && m === 0); // first piece of bar 70: the rest of a trade split earlier
        if (k === 60 && m < 2) discarded.add(tr.ts.length - 1);
      }
    }
    const trades: TypedRows = {
      table: "trades",
      length: tr.ts.length,
      columns: {
        ts_local_us: Float64Array.from(tr.ts),
        px_int: Float64Array.from(tr.px),
        qty_int: Float64Array.from(tr.qty),
        side: Int8Array.from(tr.side),
      },
    };
    const quotes: TypedRows = {
      table: "quotes",
      length: qu.ts.length,
      columns: {
        ts_local_us: Float64Array.from(qu.ts),
        bid_px_int: Float64Array.from(qu.bid),
        ask_px_int: Float64Array.from(qu.ask),
        // sizes are not used by the family; present because a quotes batch always has them
        bid_qty_int: new Float64Array(qu.ts.length).fill(1),
        ask_qty_int: new Float64Array(qu.ts.length).fill(1),
      },
    };
    const levels = (lists: number[][]): LevelColumn => {
      const values = new Float64Array(lists.length * BOOK_DEPTH).fill(NAN);
      lists.forEach((l, i) => {
        l.forEach((v, k) => {
          values[i * BOOK_DEPTH + k] = v;
        });
      });
      return { values, lens: Uint8Array.from(lists, (l) => l.length) };
    };
    const book: TypedRows = {
      table: "book_snapshot_25",
      length: bk.ts.length,
      columns: {
        ts_local_us: Float64Array.from(bk.ts),
        bid_qty_int: levels(bk.bid),
        ask_qty_int: levels(bk.ask),
      },
    };
    const raw: Raw = { trades, quotes, book, ticker: { table: "derivative_ticker", length: 0, columns: {} } };
    assert.ok(cont.some((c) => c) && discarded.size === 2, "scenario has a continuation and a discard");

    // drive the operator: per bar, events in ts order, discardBar after the first two trades of bar 60
    const op = newBarOperator();
    const out = op.outputs.map(() => new Float64Array(nBars));
    const cur = new MutableEventCursor();
    const feed = (role: "trades" | "quotes" | "book", rows: TypedRows, i: number, q: number, c: boolean) => {
      cur.role = role;
      cur.rows = rows;
      cur.i = i;
      cur.tsLocalUs = (rows.columns.ts_local_us as Float64Array)[i]!;
      cur.qtyInt = q;
      cur.continuation = c;
      op.onEvent(cur);
    };
    let iq = 0;
    let ib = 0;
    let it = 0;
    for (let k = 0; k < nBars; k++) {
      const end = t0 + (k + 1) * stepUs;
      for (;;) {
        const tq = iq < quotes.length ? qu.ts[iq]! : Infinity;
        const tb = ib < book.length ? bk.ts[ib]! : Infinity;
        const tt = it < trades.length ? tr.ts[it]! : Infinity;
        const next = Math.min(tq, tb, tt);
        if (next >= end) break;
        if (tb === next) feed("book", book, ib++, NAN, false);
        else if (tq === next) feed("quotes", quotes, iq++, NAN, false);
        else {
          feed("trades", trades, it, tr.qty[it]!, cont[it]!);
          if (discarded.has(it) && !discarded.has(it + 1)) op.discardBar?.();
          it++;
        }
      }
      op.emit({ tsEventUs: end - stepUs, tsEndUs: end, availableAtUs: end, barIndex: k }, out, k);
    }

    const bars: RefBar[] = [];
    for (let k = 0; k < nBars; k++) {
      const t = t0 + k * stepUs;
      const pieces: RefPiece[] = [];
      for (let i = 0; i < trades.length; i++) {
        if (tr.ts[i]! >= t && tr.ts[i]! < t + stepUs && !discarded.has(i))
          pieces.push({ i, qty: tr.qty[i]!, continuation: cont[i]! });
      }
      bars.push({
        tsEvent: t,
        tsEnd: t + stepUs,
        pieces,
        cut: { ts: t + stepUs, inclusive: false },
        low: { ts: t, inclusive: false },
      });
    }
    const ref = referenceColumns(raw, bars);
    BAR_COLUMNS.forEach((spec, k) => {
      const scaled = SCALED[spec.name];
      if (scaled) assertScaledClose(spec.name, out[k]!, ref[spec.name]!, (j) => scaled(ref, j));
      else assertColumnClose(spec.name, out[k]!, ref[spec.name]!);
    });

    // the edge cases are present in the reference (so the comparison covers them)
    assert.ok(Number.isNaN(ref.open![0]!) && ref.volume![0] === 0, "bar 0 empty");
    assert.ok(
      Number.isNaN(ref.spread_bps![4]!) && !Number.isNaN(ref.spread_bps![5]!),
      "first quote in bar 5",
    );
    assert.ok(
      Number.isNaN(ref.book_imbalance_top5![7]!) && !Number.isNaN(ref.book_imbalance_top5![8]!),
      "book",
    );
    assert.equal(ref.realized_vol![20], 0);
    assert.ok(Number.isNaN(ref.vol_zscore![38]!), "20 equal realized_vol values: std 0 → null");
    assert.ok(!Number.isNaN(ref.vol_zscore![90]!), "vol_zscore populated later");
    assert.equal(ref.trade_count![70], bars[70]!.pieces.length - 1, "continuation piece not counted");
    assert.equal(
      ref.volume![60],
      bars[60]!.pieces.reduce((a, p) => a + p.qty, 0),
      "bar 60 after discard",
    );
    assert.deepEqual([ref.hour![0], ref.hour![119]], [5, 6]);
    assert.ok(nonNullRatio(ref.vol_zscore!) > 0.2, "vol_zscore populated");
    assert.ok(nonNullRatio(ref.size_ratio!) > 0.1, "size_ratio populated");
  });
});

describe("bar aggregations across a UTC midnight (discardBar)", () => {
  let lake = "";
  let inc: NaturalIncrements;
  let cleanup = () => {};
  let raw: Raw;

  before(async () => {
    ({ lake, cleanup } = await captureLake(["usdm2023a", "usdm2023b"]));
    inc = naturalIncrements(lake, EX, SYM, us(W2023.start));
    raw = await rawEvents(lake, EX, SYM, "2023-04-04T00:00:00Z", W2023.end);
  });
  after(() => cleanup());

  it("the partial bar open at midnight is dropped and does not leak into the next day's first bar", async () => {
    const { frame } = await run(lake, { spine: VOLUME_SPINE }, W2023.start, W2023.end);
    const bars = referenceVolumeBars(raw.trades, THRESHOLD_QTY, false);
    const midnight = us("2023-04-05T00:00:00Z");
    assert.ok(bars.some((b) => b.tsEvent < midnight) && bars.some((b) => b.tsEvent >= midnight), "two days");
    compareWithReference(inc, frame, raw, bars, us(W2023.start), us(W2023.end), "2023");

    // the same comparison fails for an operator that ignores discardBar (the test can fail)
    const leaky: FamilyDef = {
      ...barAggregations,
      create: (c): Operator => {
        const op = barAggregations.create(c);
        // keeps the dropped partial bar's trades (the bug discardBar prevents)
        op.discardBar = () => {};
        return op;
      },
    };
    const bad = await run(lake, { spine: VOLUME_SPINE }, W2023.start, W2023.end, leaky);
    assert.throws(
      () => compareWithReference(inc, bad.frame, raw, bars, us(W2023.start), us(W2023.end), "leaky"),
      /leaky (open|volume|trade_count)/,
    );
  });
});
