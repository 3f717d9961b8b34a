/**
 * Derivative-ticker aggregations (and every other family across a UTC midnight) against naive
 * references recomputed per bar from raw rows (test/pipeline/aggregations-helpers.ts), on the real
 * usdm2023a+b capture (2023-04-04 23:58 – 04-05 00:07, derivative_ticker ≈ 1 row/s with funding_rate and
 * mark_px; open_interest and predicted_funding_rate are always null on Binance) with 5 BTC and 20 BTC
 * volume bars (the bar open at midnight is dropped: its rows must not leak into the next bar; at 20 BTC
 * it holds 3 ticker rows) and 1 s clock bars (ticker-less bars: in_bar null, as-of carried). Because the capture has no open interest, the
 * open-interest formulas are checked on a synthetic ticker stream (nulls, oi_first = 0, flat mark)
 * driven through the operators directly, against the same reference and hand-checked values.
 * Also: snapshot / restore across midnight, and a ticker operator ignoring `discardBar` failing the
 * comparison.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Operator } from "../../src/engine/operator.js";
import { MutableEventCursor } from "../../src/engine/replay.js";
import { TICKER_KINDS, TickerAggOperator } from "../../src/pipeline/aggregations/derivatives.js";
import { type AggregationContext, builtinRegistry, roleOfTable } from "../../src/pipeline/registry.js";
import type { TypedRows } from "../../src/query/query.js";
import type { TableName } from "../../src/schema/tables.js";
import { assertColumnClose, nonNullRatio } from "../helpers/engine.js";
import { captureLake, rawEvents, W2023 } from "../helpers/lake.js";
import { referenceClockBars, referenceVolumeBars } from "../helpers/reference-bars.js";
import {
  type AggCase,
  aggCase,
  alignRows,
  assertSnapshotRestoreIdentical,
  buildCase,
  compareCases,
  NAN,
  RefEnv,
  reference,
  runReplay,
} from "./aggregations-helpers.js";

const us = (iso: string) => Date.parse(iso) * 1000;
const EX = "binance-futures";
const SYM = "BTCUSDT";
const DAY_START = "2023-04-04T00:00:00Z";
const MIDNIGHT = us("2023-04-05T00:00:00Z");
const VOLUME = { type: "volume", volumeThreshold: 5 } as const;
const CLOCK = { type: "clock", stepMs: 1000 } as const;
const ASOF_TICKER = ["funding_close", "oi_last"];

/** Every ticker aggregation (in_bar, plus asof_backward where allowed). */
function tickerCases(): AggCase[] {
  const cases = TICKER_KINDS.map((k) => aggCase(k, "derivative_ticker", "in_bar"));
  for (const k of ASOF_TICKER) cases.push(aggCase(k, "derivative_ticker", "asof_backward"));
  return cases;
}

/** Generic aggregations over the ticker's float columns (last_px is always null on Binance). */
function genericTickerCases(): AggCase[] {
  const cases: AggCase[] = [];
  for (const col of ["mark_px", "funding_rate", "last_px", "next_funding_time_us"])
    for (const g of ["sum", "mean", "std", "min", "max", "first", "last", "count", "nunique"])
      cases.push(aggCase(g, "derivative_ticker", "in_bar", col));
  for (const g of ["first", "last"]) cases.push(aggCase(g, "derivative_ticker", "asof_backward", "index_px"));
  return cases;
}

/** The other families across midnight (their discardBar handling). */
function otherCases(): AggCase[] {
  const trades = [
    "trade_vwap",
    "ohlcv",
    "flow_imbalance",
    "trade_count",
    "median_trade_size",
    "aggressive_ratio",
    "vw_return",
    "realized_volatility",
  ].map((a) => aggCase(a, "trades", "in_bar"));
  return [
    ...trades,
    aggCase("spread_bps", "quotes", "in_bar"),
    aggCase("spread_bps", "quotes", "asof_backward"),
    aggCase("book_imbalance_top5", "book_snapshot_25", "in_bar"),
    aggCase("microprice_close", "book_snapshot_25", "asof_backward"),
    aggCase("spread_distribution", "quotes", "in_bar"),
    aggCase("ofi_cont", "quotes", "in_bar"),
    aggCase("ofi_cont", "book_snapshot_25", "in_bar"),
    aggCase("sum", "quotes", "in_bar", "bid_qty_int"),
    aggCase("nunique", "trades", "in_bar", "px_int"),
  ];
}

describe("derivative-ticker aggregations on usdm2023 across midnight (naive reference)", () => {
  const registry = builtinRegistry();
  let lake = "";
  let cleanup = () => {};
  let raw: Partial<Record<TableName, TypedRows>> = {};

  before(async () => {
    ({ lake, cleanup } = await captureLake(["usdm2023a", "usdm2023b"]));
    const r = await rawEvents(lake, EX, SYM, DAY_START, W2023.end);
    raw = { trades: r.trades, quotes: r.quotes, book_snapshot_25: r.book, derivative_ticker: r.ticker };
    assert.ok(r.ticker.length > 400 && r.trades.length > 10_000, "raw rows");
  });
  after(() => cleanup());

  const build = (cases: readonly AggCase[]) => cases.map((c) => ({ c, ...buildCase(registry, c) }));

  it("5 BTC volume bars: every ticker, generic-ticker and other aggregation; the midnight partial bar is dropped", async () => {
    const bars = referenceVolumeBars(raw.trades!, 5000, false, us(DAY_START));
    const j0 = bars.findIndex((b) => b.tsEvent >= MIDNIGHT);
    assert.ok(j0 > 0 && bars[j0]!.low.ts === MIDNIGHT && !bars[j0]!.low.inclusive, "partial bar dropped");
    const built = build([...tickerCases(), ...genericTickerCases(), ...otherCases()]);
    const res = await runReplay(
      lake,
      VOLUME,
      W2023.start,
      W2023.end,
      built.map((b) => b.op),
    );
    const rows = alignRows(res, bars, us(W2023.start), us(W2023.end));
    assert.ok(rows.includes(j0) && rows.includes(j0 - 1), "rows on both days");
    const env = new RefEnv(raw, bars, us(DAY_START), 0.1, 0.001);
    const refs = compareCases(res, built, env, rows, "2023 volume");
    const c = (name: string) => refs.get(name)!;
    // populated where Binance has data, null where it has none
    for (const k of ["funding_rate_mean", "funding_close", "funding_step", "funding_carry_8h_per_hour"])
      assert.ok(nonNullRatio(c(`${k}@derivative_ticker/in_bar:${k}`)) > 0.3, k);
    for (const k of ["funding_surprise", "funding_pressure", "oi_change", "oi_pct_change", "oi_pressure"])
      assert.equal(nonNullRatio(c(`${k}@derivative_ticker/in_bar:${k}`)), 0, `${k} null without OI`);
    assert.ok(
      c("funding_step@derivative_ticker/in_bar:funding_step").some((x) => x !== 0 && !Number.isNaN(x)),
      "a funding step within a bar",
    );
    assert.ok(nonNullRatio(c("funding_close@derivative_ticker/asof_backward:funding_close")) > 0.99);
    const lastPx = c("count@derivative_ticker.last_px/in_bar:last_px_count");
    assert.ok(
      lastPx.every((x) => x === 0) &&
        nonNullRatio(c("sum@derivative_ticker.last_px/in_bar:last_px_sum")) === 0,
    );
    // next_funding_time_us steps at midnight (an i64 column read as float)
    const nft = c("last@derivative_ticker.next_funding_time_us/in_bar:next_funding_time_us_last");
    assert.ok(new Set([...nft].filter((x) => !Number.isNaN(x))).size === 2, "two funding times");
  });

  it("1 s clock bars: empty ticker bars (in_bar null, as-of carried), every aggregation matches", async () => {
    const bars = referenceClockBars(raw.trades!, us(W2023.start), us(W2023.end), 1_000_000);
    const built = build([...tickerCases(), ...genericTickerCases(), ...otherCases()]);
    const res = await runReplay(
      lake,
      CLOCK,
      W2023.start,
      W2023.end,
      built.map((b) => b.op),
    );
    const rows = alignRows(res, bars, us(W2023.start), us(W2023.end));
    const env = new RefEnv(raw, bars, us(W2023.start), 0.1, 0.001);
    const refs = compareCases(res, built, env, rows, "2023 clock");
    const inBar = refs.get("funding_close@derivative_ticker/in_bar:funding_close")!;
    const asof = refs.get("funding_close@derivative_ticker/asof_backward:funding_close")!;
    const gaps = [...inBar.keys()].filter((j) => j > 30 && Number.isNaN(inBar[j]!));
    assert.ok(gaps.length >= 3, `bars without a ticker row: ${gaps.length}`);
    for (const j of gaps) assert.ok(!Number.isNaN(asof[j]!), `as-of carried at ${j}`);
    assert.ok(Number.isNaN(asof[0]!), "no ticker row in the first second (capture starts 23:58:20)");
  });

  it("snapshot / restore across midnight (rows 1, 2, 3, 17, 60, 211 and every 997 events) is bitwise identical", async () => {
    const cases = [...tickerCases(), ...genericTickerCases(), ...otherCases()];
    await assertSnapshotRestoreIdentical(registry, lake, VOLUME, W2023.start, W2023.end, cases);
  });

  it("20 BTC volume bars (3 ticker rows in the dropped midnight bar): all match; a ticker operator ignoring discardBar fails", async () => {
    const bars = referenceVolumeBars(raw.trades!, 20_000, false, us(DAY_START));
    const j0 = bars.findIndex((b) => b.tsEvent >= MIDNIGHT);
    assert.ok(j0 > 0 && bars[j0]!.low.ts === MIDNIGHT, "partial bar dropped at midnight");
    const tts = raw.derivative_ticker!.columns.ts_local_us as Float64Array;
    const dropped = [...tts].filter((t) => t > bars[j0 - 1]!.tsEnd && t < MIDNIGHT).length;
    assert.ok(dropped > 0, `ticker rows in the dropped bar: ${dropped}`);

    class Leaky extends TickerAggOperator {
      /** Keeps the dropped partial bar's rows (the bug discardBar prevents). */
      override discardBar(): void {}
    }
    const mutants = (["funding_rate_mean", "funding_step"] as const).map((k) => {
      const c = { ...aggCase(k, "derivative_ticker", "in_bar"), tag: `leaky ${k}` };
      const ctx: AggregationContext = {
        operatorName: c.tag,
        role: roleOfTable(c.table)!,
        table: c.table,
        config: {},
        joinStrategy: "in_bar",
        outputNames: [`${c.tag}:${k}`],
      };
      const outputs = [{ ...buildCase(registry, c).op.outputs[0]!, name: `${c.tag}:${k}` }];
      return { c, op: new Leaky(k, ctx, outputs) };
    });
    const built = build([...tickerCases(), ...genericTickerCases(), ...otherCases()]);
    const res = await runReplay(lake, { type: "volume", volumeThreshold: 20 }, W2023.start, W2023.end, [
      ...built.map((b) => b.op),
      ...mutants.map((m) => m.op),
    ]);
    const rows = alignRows(res, bars, us(W2023.start), us(W2023.end));
    const env = new RefEnv(raw, bars, us(DAY_START), 0.1, 0.001);
    compareCases(res, built, env, rows, "2023 volume 20");
    for (const { c, op } of mutants) {
      assert.throws(
        () => compareCases(res, [{ c, names: op.outputs.map((o) => o.name) }], env, rows, "leaky"),
        /leaky .*engine .* reference/,
        `${c.tag} must fail`,
      );
    }
  });
});

describe("open-interest formulas on a synthetic ticker stream (operators driven directly)", () => {
  const registry = builtinRegistry();
  const STEP = 1_000_000;
  const T0 = 1_700_000_000_000_000;
  const N_BARS = 40;

  /** Ticker rows: several per bar, some bars empty, nulls in every column, oi_first = 0, flat mark. */
  function syntheticTicker(): TypedRows {
    let seed = 12345;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    const ts: number[] = [];
    const fr: number[] = [];
    const pf: number[] = [];
    const oi: number[] = [];
    const mark: number[] = [];
    let o = 1_000_000;
    let m = 30_000;
    for (let k = 0; k < N_BARS; k++) {
      const n = k % 7 === 3 ? 0 : 1 + Math.floor(rand() * 4);
      for (let q = 0; q < n; q++) {
        ts.push(T0 + k * STEP + 1000 + q * 100_000);
        fr.push(rand() < 0.15 ? NAN : 1e-4 + Math.floor(rand() * 10) * 1e-6);
        pf.push(rand() < 0.2 ? NAN : 1e-4 + Math.floor(rand() * 10) * 1e-6);
        o += Math.floor(rand() * 2001) - 1000;
        oi.push(k === 11 && q === 0 ? 0 : rand() < 0.15 ? NAN : o);
        if (k !== 20) m += Math.floor(rand() * 21) - 10; // bar 20: flat mark → sign 0
        mark.push(rand() < 0.1 && k !== 20 ? NAN : m);
      }
    }
    return {
      table: "derivative_ticker",
      length: ts.length,
      columns: {
        ts_local_us: Float64Array.from(ts),
        funding_rate: Float64Array.from(fr),
        predicted_funding_rate: Float64Array.from(pf),
        open_interest: Float64Array.from(oi),
        mark_px: Float64Array.from(mark),
      },
    };
  }

  /** Feeds the rows bar by bar (ts in [t, t + step)) and emits one row per bar. */
  function drive(op: Operator, rows: TypedRows): Float64Array[] {
    const outs = op.outputs.map(() => new Float64Array(N_BARS));
    const ts = rows.columns.ts_local_us as Float64Array;
    const cur = new MutableEventCursor();
    cur.role = "ticker";
    cur.rows = rows;
    let i = 0;
    for (let k = 0; k < N_BARS; k++) {
      const end = T0 + (k + 1) * STEP;
      while (i < rows.length && ts[i]! < end) {
        cur.i = i;
        cur.tsLocalUs = ts[i]!;
        op.onEvent(cur);
        i++;
      }
      op.emit({ tsEventUs: end - STEP, tsEndUs: end, availableAtUs: end, barIndex: k }, outs, k);
    }
    return outs;
  }

  it("every ticker aggregation equals the reference; hand-checked bars", () => {
    const rows = syntheticTicker();
    const emptyTrades: TypedRows = {
      table: "trades",
      length: 0,
      columns: { ts_local_us: new Float64Array(0), qty_int: new Float64Array(0) },
    };
    const bars = referenceClockBars(emptyTrades, T0, T0 + N_BARS * STEP, STEP);
    const env = new RefEnv({ derivative_ticker: rows }, bars, T0, 0.1, 0.001);
    const got = new Map<string, Float64Array>();
    for (const c of tickerCases()) {
      const op = buildCase(registry, c).op;
      const out = drive(op, rows)[0]!;
      const ref = reference(c, env)[0]!;
      assertColumnClose(c.tag, out, ref);
      got.set(c.tag, ref);
      if (!c.agg.startsWith("funding_close") && c.join === "in_bar" && c.agg !== "oi_pct_change")
        assert.ok(nonNullRatio(ref) > 0.4, `${c.tag} populated: ${nonNullRatio(ref)}`);
    }
    const g = (k: string, j: number) => got.get(`${k}@derivative_ticker/in_bar`)![j]!;
    // bar 3 has no rows: in_bar null, as-of carried from bar 2
    assert.ok(Number.isNaN(g("oi_last", 3)) && Number.isNaN(g("funding_rate_mean", 3)), "empty bar");
    assert.ok(!Number.isNaN(got.get("oi_last@derivative_ticker/asof_backward")![3]!), "as-of carried");
    // bar 11 opens with oi = 0: pct change (and pressure) null, change defined
    assert.equal(g("oi_open", 11), 0);
    assert.ok(Number.isNaN(g("oi_pct_change", 11)) && Number.isNaN(g("oi_pressure", 11)));
    assert.equal(g("oi_change", 11), g("oi_last", 11));
    // bar 20: flat mark → oi_pressure 0 (sign 0) where the pct change is defined
    assert.ok(!Number.isNaN(g("oi_pct_change", 20)), "bar 20 has an OI change");
    assert.ok(g("oi_pressure", 20) === 0, "sign 0 (±0)");
    // hand-checked: funding_pressure of a bar from its first / last values
    const ts = rows.columns.ts_local_us as Float64Array;
    const col = (name: string) => rows.columns[name] as Float64Array;
    const j = 5;
    const inBar = [...ts.keys()].filter((i) => ts[i]! >= T0 + j * STEP && ts[i]! < T0 + (j + 1) * STEP);
    const nn = (name: string) => inBar.map((i) => col(name)[i]!).filter((x) => !Number.isNaN(x));
    const f = nn("funding_rate");
    const o = nn("open_interest");
    const expected = ((f.at(-1)! - f[0]!) * (o.at(-1)! - o[0]!)) / Math.abs(o.at(-1)!);
    assert.ok(f.length > 0 && o.length > 0, "bar 5 has funding and OI");
    assert.ok(Math.abs(g("funding_pressure", j) - expected) <= 1e-15 * Math.abs(expected) + 1e-300);
    assert.equal(g("funding_carry_8h_per_hour", j), f.at(-1)! / 8);
  });
});
