/**
 * Test helpers of the built-in aggregation tests: a naive reference of every built-in recomputed per bar
 * from scratch, a replay runner, a snapshot / restore check and a builder of engine operators through the
 * registry.
 *
 * Reference bars (`cut` / `low` per bar) come from test/helpers/reference-bars.ts; a row belongs to a
 * bar iff it is after the bar's `low` and before its `cut` in the total order. The windows are
 * recomputed per bar by linear scans of the raw rows (no incremental state).
 *
 * Reference numerics: Σ px·qty and the microprice numerator in BigInt (exact); std by two passes (over
 * values shifted by the first); medians
 * by sorting; distinct counts by Set; log returns as log1p(Δp/p) (the same real number as ln(p/p_ref)
 * without log(ratio)'s ~1e-16 absolute error); OFI by Pointline's piecewise form (bid up / equal / down,
 * ask down / equal / up), which is equivalent to the indicator form the engine implements.
 */
import assert from "node:assert/strict";
import type { Operator } from "../../src/engine/operator.js";
import { type FeatureBatch, Replay, type ReplaySummary } from "../../src/engine/replay.js";
import { parseSpineSpec, type SpineSpecInput } from "../../src/engine/spine-spec.js";
import { frameUnits, toFrameUnit } from "../../src/engine/units.js";
import { Lake } from "../../src/lake/lake.js";
import { type JoinStrategy, type OperatorRegistry, roleOfTable } from "../../src/pipeline/registry.js";
import type { LevelColumn, TypedRows } from "../../src/query/query.js";
import { BOOK_DEPTH, type TableName } from "../../src/schema/tables.js";
import { assertColumnClose, SnapshotProbe } from "../helpers/engine.js";
import { type Cut, f64, type RefBar } from "../helpers/reference-bars.js";

export const NAN = Number.NaN;

/** Raw rows of one instrument by table (a table without rows may be absent). */
export type RawTables = Partial<Record<TableName, TypedRows>>;

/** Rows of `rows` before `cut` (a prefix of the total order), counted by a full scan. */
function countBefore(rows: TypedRows, cut: Cut): number {
  const ts = f64(rows, "ts_local_us");
  let k = 0;
  for (let i = 0; i < rows.length; i++) {
    const before =
      rows.table === "trades" && cut.tradeIdx !== undefined
        ? i <= cut.tradeIdx
        : ts[i]! < cut.ts || (cut.inclusive && ts[i] === cut.ts);
    if (before) k++;
  }
  return k;
}

/** A bar's rows [lo, hi) of a table and the first row since the replay start. */
interface Windows {
  readonly lo: Int32Array;
  readonly hi: Int32Array;
  readonly start: number;
}

/** Everything a reference needs: raw rows, bars, replay start, increments. */
export class RefEnv {
  private readonly cache = new Map<TableName, Windows>();

  constructor(
    readonly raw: RawTables,
    readonly bars: readonly RefBar[],
    readonly replayStartUs: number,
    readonly priceIncrement: number,
    readonly amountIncrement: number,
  ) {}

  rows(table: TableName): TypedRows {
    const r = this.raw[table];
    assert.ok(r, `reference: no raw rows of ${table}`);
    return r;
  }

  windows(table: TableName): Windows {
    let w = this.cache.get(table);
    if (!w) {
      const rows = this.rows(table);
      const n = this.bars.length;
      const lo = new Int32Array(n);
      const hi = new Int32Array(n);
      this.bars.forEach((b, j) => {
        lo[j] = countBefore(rows, b.low);
        hi[j] = countBefore(rows, b.cut);
      });
      w = { lo, hi, start: countBefore(rows, { ts: this.replayStartUs, inclusive: false }) };
      this.cache.set(table, w);
    }
    return w;
  }

  /** Row indices of bar j in a non-trade table. */
  inBar(table: TableName, j: number): number[] {
    const w = this.windows(table);
    const out: number[] = [];
    for (let i = w.lo[j]!; i < w.hi[j]!; i++) out.push(i);
    return out;
  }

  /** Index of the last row at or before bar j's close since the replay start, −1 if none. */
  asOf(table: TableName, j: number): number {
    const w = this.windows(table);
    return w.hi[j]! - 1 >= w.start ? w.hi[j]! - 1 : -1;
  }
}

/** One request operator under test: aggregation, source table, column, join, unique tag. */
export interface AggCase {
  readonly agg: string;
  readonly table: TableName;
  readonly column?: string;
  readonly join: JoinStrategy;
  readonly tag: string;
  /** The request operator's `config` (default none). */
  readonly config?: Readonly<Record<string, unknown>>;
}

/** Shorthand: a case tagged `${agg}@${table}[.column]/${join}`. */
export function aggCase(
  agg: string,
  table: TableName,
  join: JoinStrategy,
  column?: string,
  config?: Readonly<Record<string, unknown>>,
): AggCase {
  const cfg = config ? Object.entries(config).map(([k, v]) => `,${k}=${String(v)}`) : [];
  return {
    agg,
    table,
    join,
    ...(column ? { column } : {}),
    ...(config ? { config } : {}),
    tag: `${agg}@${table}${column ? `.${column}` : ""}/${join}${cfg.join("")}`,
  };
}

/** Builds the engine operator of a case through the registry; outputs are named `${tag}:${default}`. */
export function buildCase(registry: OperatorRegistry, c: AggCase): { op: Operator; names: string[] } {
  const spec = registry.getRequestOperator(c.agg);
  assert.ok(spec, `no aggregation ${c.agg}`);
  const params = { sourceColumn: c.column, config: c.config ?? {}, joinStrategy: c.join };
  const names = spec.outputs(params).map((o) => `${c.tag}:${o.name}`);
  const role = roleOfTable(c.table);
  assert.ok(role, c.table);
  const op = spec.impl({ ...params, operatorName: c.tag, role, table: c.table, outputNames: names });
  return { op, names };
}

/** A replay's rows: spine columns and every output column by name. */
export interface RunResult {
  readonly n: number;
  readonly tsEvent: Float64Array;
  readonly tsEnd: Float64Array;
  readonly cols: Map<string, Float64Array>;
  readonly summary: ReplaySummary;
}

/**
 * Runs a replay (warm-up 0), concatenates its batches and applies the pipeline sink's units rule. Chunks
 * load on the calling thread (as the pipeline does for a span under 2 h): a prefetch worker costs more
 * than it saves here; prefetched rows = synchronous rows for every operator: test/engine/contract.test.ts.
 */
export async function runReplay(
  lake: string,
  spine: SpineSpecInput,
  start: string,
  end: string,
  operators: readonly Operator[],
): Promise<RunResult> {
  const replay = new Replay({
    lake,
    exchange: "binance-futures",
    symbol: "BTCUSDT",
    startUs: Date.parse(start) * 1000,
    endUs: Date.parse(end) * 1000,
    spine: parseSpineSpec(spine),
    operators,
    warmupUs: 0,
    prefetch: false,
  });
  const batches: FeatureBatch[] = [];
  for await (const b of replay.batches()) batches.push(b);
  const n = batches.reduce((a, b) => a + b.length, 0);
  const cat = (pick: (b: FeatureBatch) => Float64Array) => {
    const out = new Float64Array(n);
    let o = 0;
    for (const b of batches) {
      out.set(pick(b).subarray(0, b.length), o);
      o += b.length;
    }
    return out;
  };
  // the pipeline's sink: operator outputs in increments become quote currency / base units
  const inc = (await Lake.open(lake)).instrument(
    "binance-futures",
    "BTCUSDT",
    Date.parse(start) * 1000,
  ).increments;
  const units = frameUnits(
    operators.flatMap((o) => o.outputs),
    inc,
  );
  const cols = new Map<string, Float64Array>();
  replay.columnNames.forEach((name, k) => {
    cols.set(
      name,
      toFrameUnit(
        cat((b) => b.columns[k]!),
        units[k]!,
      ),
    );
  });
  return {
    n,
    tsEvent: cat((b) => b.tsEventUs),
    tsEnd: cat((b) => b.tsEndUs),
    cols,
    summary: replay.summary,
  };
}

/**
 * Runs the operators of `cases` over [start, end) twice — plainly, and each wrapped in a `SnapshotProbe`
 * that swaps in a freshly restored copy after emits 1, 2, 3, 17, 60, 211 and every 997 events — and
 * asserts that every probe swapped at least 6 times and that every output column of the probed run is
 * bitwise identical (`Object.is`) to the plain run. Failure messages start with `label` (e.g. "volume ").
 * Returns both runs for further checks.
 * @throws AssertionError on a probe that swapped less or a differing value (column, row, both values)
 */
export async function assertSnapshotRestoreIdentical(
  registry: OperatorRegistry,
  lake: string,
  spine: SpineSpecInput,
  start: string,
  end: string,
  cases: readonly AggCase[],
  label = "",
): Promise<{ plain: RunResult; probed: RunResult }> {
  const plain = await runReplay(
    lake,
    spine,
    start,
    end,
    cases.map((c) => buildCase(registry, c).op),
  );
  const probes = cases.map(
    (c) => new SnapshotProbe(() => buildCase(registry, c).op, [1, 2, 3, 17, 60, 211], 997),
  );
  const probed = await runReplay(lake, spine, start, end, probes);
  assert.ok(
    probes.every((p) => p.swaps >= 6),
    "every probe swapped",
  );
  for (const [name, v] of plain.cols) {
    const w = probed.cols.get(name)!;
    for (let r = 0; r < v.length; r++)
      if (!Object.is(v[r], w[r])) assert.fail(`${label}${name}[${r}]: ${v[r]} vs ${w[r]} after restore`);
  }
  return { plain, probed };
}

/** Reference bars that are output rows (ts_event ≥ start, ts_end ≤ end); checks the frame's spine. */
export function alignRows(res: RunResult, bars: readonly RefBar[], startUs: number, endUs: number): number[] {
  const rows: number[] = [];
  bars.forEach((b, j) => {
    if (b.tsEvent >= startUs && b.tsEnd <= endUs) rows.push(j);
  });
  assert.equal(res.n, rows.length, "row count");
  rows.forEach((j, r) => {
    assert.equal(res.tsEvent[r], bars[j]!.tsEvent, `ts_event_us[${r}]`);
    assert.equal(res.tsEnd[r], bars[j]!.tsEnd, `ts_end_us[${r}]`);
  });
  return rows;
}

/**
 * Compares every output of every case with the reference on the aligned rows (integers exact, floats
 * ≤ 1e-12 relative). Returns the reference columns by output name for further checks.
 */
export function compareCases(
  res: RunResult,
  cases: readonly { c: AggCase; names: readonly string[] }[],
  env: RefEnv,
  rows: readonly number[],
  label: string,
): Map<string, Float64Array> {
  const refs = new Map<string, Float64Array>();
  for (const { c, names } of cases) {
    const all = reference(c, env);
    assert.equal(all.length, names.length, `${c.tag}: outputs`);
    names.forEach((name, k) => {
      const expected = Float64Array.from(rows, (j) => all[k]![j]!);
      const actual = res.cols.get(name);
      assert.ok(actual, `${label}: no column ${name}`);
      assertColumnClose(`${label} ${name}`, actual, expected);
      refs.set(name, expected);
    });
  }
  return refs;
}

// ---------------------------------------------------------------------------------------------------
// naive references

function sum(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s;
}

/**
 * Two-pass sample std (ddof 1) of the values shifted by the first one (the variance is shift-invariant;
 * without the shift the reference's own rounding of the mean gives ~1e-17 instead of an exact 0 for
 * constant inputs such as a one-tick spread at a constant mid); NaN below 2 values.
 */
export function std2(xs: readonly number[]): number {
  if (xs.length < 2) return NAN;
  const d = xs.map((x) => x - xs[0]!);
  const m = sum(d) / d.length;
  let s = 0;
  for (const x of d) s += (x - m) * (x - m);
  return Math.sqrt(s / (d.length - 1));
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 === 1 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
}

function minOf(xs: readonly number[]): number {
  let m = Number.POSITIVE_INFINITY;
  for (const x of xs) if (x < m) m = x;
  return xs.length ? m : NAN;
}

function maxOf(xs: readonly number[]): number {
  let m = Number.NEGATIVE_INFINITY;
  for (const x of xs) if (x > m) m = x;
  return xs.length ? m : NAN;
}

function column(rows: TypedRows, name: string): ArrayLike<number> {
  const c = rows.columns[name];
  assert.ok(c instanceof Float64Array || c instanceof Int8Array, `${rows.table}.${name} numeric`);
  return c;
}

/** L1 of a quotes row or book level 0 (NaN for a missing side). */
function l1(rows: TypedRows, i: number): [number, number, number, number] {
  if (rows.table === "book_snapshot_25") {
    const g = (name: string) => {
      const c = rows.columns[name] as LevelColumn;
      return c.lens[i]! > 0 ? c.values[i * BOOK_DEPTH]! : NAN;
    };
    return [g("bid_px_int"), g("bid_qty_int"), g("ask_px_int"), g("ask_qty_int")];
  }
  return [
    f64(rows, "bid_px_int")[i]!,
    f64(rows, "bid_qty_int")[i]!,
    f64(rows, "ask_px_int")[i]!,
    f64(rows, "ask_qty_int")[i]!,
  ];
}

/**
 * Spread in bps, (ask − bid)/mid·1e4, as the exact rational value rounded once: 2e4·(ask − bid) and
 * ask + bid are exact integers (below 2^53), so one division is the correctly rounded spread. Each value
 * must be the correctly rounded one: spread_bps_std is a std of values equal to ~1e-5 relative (one-tick
 * spreads, moving mid), so a 1-ulp difference in each spread (another association order) moves the std by
 * ~1e-11 relative — input conditioning, not the std algorithm under test (mean / min / max check the values).
 */
const spread = (bid: number, ask: number) => (2e4 * (ask - bid)) / (ask + bid);

/** Reference output columns of one case over every reference bar (see the module doc). */
export function reference(c: AggCase, env: RefEnv): Float64Array[] {
  const n = env.bars.length;
  const per = (k: number, f: (j: number) => number[]): Float64Array[] => {
    const outs = Array.from({ length: k }, () => new Float64Array(n));
    for (let j = 0; j < n; j++) {
      const v = f(j);
      for (let q = 0; q < k; q++) outs[q]![j] = v[q]!;
    }
    return outs;
  };
  const generic = ["sum", "mean", "std", "min", "max", "first", "last", "count", "nunique"];
  if (generic.includes(c.agg)) {
    // fixed-point source columns come out of the sink in natural units (counts stay counts)
    const counted = c.agg === "count" || c.agg === "nunique";
    const scale = counted
      ? 1
      : c.column!.endsWith("px_int")
        ? env.priceIncrement
        : c.column!.endsWith("qty_int")
          ? env.amountIncrement
          : 1;
    return per(1, (j) => [genericRef(c, env, j) * scale]);
  }
  if (c.table === "trades") return per(tradeOutputs(c.agg), (j) => tradeRef(c.agg, env, j, c.config));
  if (c.table === "derivative_ticker") return per(1, (j) => [tickerRef(c, env, j)]);
  return per(c.agg === "spread_distribution" ? 4 : 1, (j) => bookRef(c, env, j));
}

function genericRef(c: AggCase, env: RefEnv, j: number): number {
  const rows = env.rows(c.table);
  const name = c.column!;
  const bar = env.bars[j]!;
  let v: number[];
  if (c.table === "trades") {
    const col = column(rows, name);
    v = bar.pieces.map((p) => (name === "qty_int" ? p.qty : col[p.i]!));
  } else {
    const col = column(rows, name);
    v = env.inBar(c.table, j).map((i) => col[i]!);
  }
  v = v.filter((x) => !Number.isNaN(x));
  const asofLast = () => {
    const col = column(rows, name);
    const w = env.windows(c.table);
    for (let i = w.hi[j]! - 1; i >= w.start; i--) if (!Number.isNaN(col[i]!)) return col[i]!;
    return NAN;
  };
  const k = v.length;
  switch (c.agg) {
    case "sum":
      return k ? sum(v) : NAN;
    case "mean":
      return k ? sum(v) / k : NAN;
    case "std":
      return std2(v);
    case "min":
      return minOf(v);
    case "max":
      return maxOf(v);
    case "first":
      return k ? v[0]! : c.join === "asof_backward" ? asofLast() : NAN;
    case "last":
      return c.join === "asof_backward" ? asofLast() : k ? v[k - 1]! : NAN;
    case "count":
      return k;
    case "nunique":
      return k ? new Set(v).size : NAN;
  }
  throw new Error(c.agg);
}

function tradeOutputs(agg: string): number {
  return agg === "ohlcv" ? 5 : agg === "taker_volume" ? 2 : 1;
}

function tradeRef(
  agg: string,
  env: RefEnv,
  j: number,
  config: Readonly<Record<string, unknown>> = {},
): number[] {
  const trades = env.rows("trades");
  const px = f64(trades, "px_int");
  const side = trades.columns.side as Int8Array;
  const ps = env.bars[j]!.pieces;
  const pInc = env.priceIncrement;
  const aInc = env.amountIncrement;
  const vol = sum(ps.map((p) => p.qty));
  let buy = 0;
  let sell = 0;
  for (const p of ps) {
    if (side[p.i] === 0) buy += p.qty;
    else if (side[p.i] === 1) sell += p.qty;
  }
  const prices = ps.map((p) => px[p.i]!);
  const sizes = ps.map((p) => p.qty * aInc);
  switch (agg) {
    case "trade_vwap": {
      let num = 0n;
      for (const p of ps) num += BigInt(px[p.i]!) * BigInt(p.qty);
      return [vol > 0 ? (Number(num) / vol) * pInc : NAN];
    }
    case "ohlcv":
      return ps.length
        ? [prices[0]! * pInc, maxOf(prices) * pInc, minOf(prices) * pInc, prices.at(-1)! * pInc, vol * aInc]
        : [NAN, NAN, NAN, NAN, 0];
    case "flow_imbalance":
      return [ps.length === 0 ? NAN : buy + sell > 0 ? (buy - sell) / (buy + sell) : 0];
    case "signed_trade_imbalance":
      return [buy + sell > 0 ? (buy - sell) / (buy + sell) : NAN];
    case "trade_count":
      return [ps.filter((p) => !p.continuation).length];
    case "taker_volume":
      return [buy * aInc, sell * aInc];
    case "vwap_reversion": {
      if (vol === 0) return [NAN];
      // (close − vwap)/vwap = (close·V − Σ px·qty) / Σ px·qty, both sums exact in BigInt
      let num = 0n;
      for (const p of ps) num += BigInt(px[p.i]!) * BigInt(p.qty);
      return [Number(BigInt(prices.at(-1)!) * BigInt(vol) - num) / Number(num)];
    }
    case "avg_trade_size": {
      if (!ps.length) return [NAN];
      if (config.per !== "trade") return [sum(sizes) / ps.length];
      // the guide's volume / trade_count: trades whose first piece is in the bar
      const trades = ps.filter((p) => !p.continuation).length;
      return [trades ? (vol / trades) * aInc : NAN];
    }
    case "median_trade_size":
      return [ps.length ? median(sizes) : NAN];
    case "max_trade_size":
      return [maxOf(sizes)];
    case "aggressive_ratio": {
      const quotes = env.rows("quotes");
      const qts = f64(quotes, "ts_local_us");
      const bid = f64(quotes, "bid_px_int");
      const ask = f64(quotes, "ask_px_int");
      const tts = f64(trades, "ts_local_us");
      const start = env.windows("quotes").start;
      let aggressive = 0;
      for (const p of ps) {
        // latest quote with ts ≤ the trade's (quotes rank before trades), by binary search
        let lo = 0;
        let hi = quotes.length;
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          if (qts[mid]! <= tts[p.i]!) lo = mid + 1;
          else hi = mid;
        }
        const q = lo - 1;
        if (q < start) continue;
        const s = side[p.i];
        if ((s === 0 && px[p.i]! >= ask[q]!) || (s === 1 && px[p.i]! <= bid[q]!)) aggressive += p.qty;
      }
      return [vol > 0 ? aggressive / vol : NAN];
    }
    case "vw_return": {
      if (vol === 0) return [NAN];
      const p0 = prices[0]!;
      let num = 0;
      ps.forEach((p, k) => {
        num += p.qty * Math.log1p((prices[k]! - p0) / p0);
      });
      return [num / vol];
    }
    case "realized_volatility": {
      const rets: number[] = [];
      for (let k = 1; k < prices.length; k++)
        rets.push(Math.log1p((prices[k]! - prices[k - 1]!) / prices[k - 1]!));
      return [std2(rets)];
    }
  }
  throw new Error(agg);
}

/** Pointline's piecewise OFI increment of update i after update i − 1 (qty increments). */
function ofiPiecewise(cur: number[], prev: number[]): number {
  const [bp, bq, ap, aq] = cur as [number, number, number, number];
  const [pbp, pbq, pap, paq] = prev as [number, number, number, number];
  let bid = 0;
  if (![bp, bq, pbp, pbq].some(Number.isNaN)) {
    if (bp > pbp) bid = bq;
    else if (bp === pbp) bid = bq - pbq;
    else bid = -pbq;
  }
  let ask = 0;
  if (![ap, aq, pap, paq].some(Number.isNaN)) {
    if (ap < pap) ask = -aq;
    else if (ap === pap) ask = paq - aq;
    else ask = paq;
  }
  return bid + ask;
}

function bookRef(c: AggCase, env: RefEnv, j: number): number[] {
  const rows = env.rows(c.table);
  const inBar = env.inBar(c.table, j);
  // the row the snapshot aggregations read: as-of, or the bar's last
  const snap = c.join === "asof_backward" ? env.asOf(c.table, j) : inBar.length ? inBar.at(-1)! : -1;
  switch (c.agg) {
    case "spread_bps": {
      if (snap < 0) return [NAN];
      const [bp, , ap] = l1(rows, snap);
      return [spread(bp, ap)];
    }
    case "book_imbalance_top5": {
      if (snap < 0) return [NAN];
      const side = (name: string) => {
        const col = rows.columns[name] as LevelColumn;
        let s = 0;
        for (let k = 0; k < Math.min(5, col.lens[snap]!); k++) s += col.values[snap * BOOK_DEPTH + k]!;
        return s;
      };
      const b = side("bid_qty_int");
      const a = side("ask_qty_int");
      return [b + a > 0 ? (b - a) / (b + a) : NAN];
    }
    case "microprice_close": {
      if (snap < 0) return [NAN];
      const [bp, bq, ap, aq] = l1(rows, snap);
      if ([bp, bq, ap, aq].some(Number.isNaN) || bq + aq <= 0) return [NAN];
      const num = BigInt(bp) * BigInt(aq) + BigInt(ap) * BigInt(bq);
      return [(Number(num) / (bq + aq)) * env.priceIncrement];
    }
    case "spread_distribution": {
      const s = inBar
        .map((i) => {
          const [bp, , ap] = l1(rows, i);
          return spread(bp, ap);
        })
        .filter((x) => !Number.isNaN(x));
      return s.length ? [sum(s) / s.length, std2(s), minOf(s), maxOf(s)] : [NAN, NAN, NAN, NAN];
    }
    case "ofi_cont": {
      const w = env.windows(c.table);
      if (w.hi[j]! <= w.start) return [NAN]; // no update since the replay start yet
      let e = 0;
      for (const i of inBar) if (i > w.start) e += ofiPiecewise(l1(rows, i), l1(rows, i - 1));
      return [e * env.amountIncrement];
    }
  }
  throw new Error(c.agg);
}

function tickerRef(c: AggCase, env: RefEnv, j: number): number {
  const rows = env.rows("derivative_ticker");
  const inBar = env.inBar("derivative_ticker", j);
  const vals = (name: string) => inBar.map((i) => f64(rows, name)[i]!).filter((x) => !Number.isNaN(x));
  const first = (xs: number[]) => (xs.length ? xs[0]! : NAN);
  const last = (xs: number[]) => (xs.length ? xs.at(-1)! : NAN);
  const asofLast = (name: string) => {
    const w = env.windows("derivative_ticker");
    const col = f64(rows, name);
    for (let i = w.hi[j]! - 1; i >= w.start; i--) if (!Number.isNaN(col[i]!)) return col[i]!;
    return NAN;
  };
  const f = vals("funding_rate");
  const pf = vals("predicted_funding_rate");
  const oi = vals("open_interest");
  const m = vals("mark_px");
  const pct = first(oi) === 0 ? NAN : (last(oi) - first(oi)) / Math.abs(first(oi));
  switch (c.agg) {
    case "funding_rate_mean":
      return f.length ? sum(f) / f.length : NAN;
    case "funding_close":
      return c.join === "asof_backward" ? asofLast("funding_rate") : last(f);
    case "funding_step":
      return last(f) - first(f);
    case "funding_carry_8h_per_hour":
      return last(f) / 8;
    case "funding_surprise":
      return last(f) - last(pf);
    case "funding_pressure":
      return ((last(f) - first(f)) * (last(oi) - first(oi))) / Math.max(Math.abs(last(oi)), 1e-12);
    case "oi_change":
      return last(oi) - first(oi);
    case "oi_last":
      return c.join === "asof_backward" ? asofLast("open_interest") : last(oi);
    case "oi_open":
      return first(oi);
    case "oi_high":
      return maxOf(oi);
    case "oi_low":
      return minOf(oi);
    case "oi_range":
      return maxOf(oi) - minOf(oi);
    case "oi_pct_change":
      return pct;
    case "oi_pressure":
      return pct * Math.sign(last(m) - first(m));
  }
  throw new Error(c.agg);
}
