/**
 * Multi-instrument interval frames (src/features/intervals/): the `interval_microstructure` operator on
 * hand-checked examples (Lee–Ready, OFI L1 and Cont–Kukanov–Stoikov, realised vol, bipower variation,
 * VPIN with jStat's normal CDF), then `buildIntervalFrames` on the real Lean IBM ticks and quotes and ES
 * minute bars of 2013-10-08: every IBM column against a naive per-interval recomputation from the lake's
 * raw rows, volume against Lean's own IBM minute bars, the front-month rule, and the PIT gates (prefix
 * truncation, reproducibility, partition safety) on the two-instrument frame.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import jStat from "jstat";
import pl from "nodejs-polars";
import type { DriverSnapshot, FeatureBatch } from "../../src/engine/driver.js";
import type { OperatorContext, SpineRow } from "../../src/engine/operator.js";
import { Replay } from "../../src/engine/replay.js";
import { parseSpineSpec } from "../../src/engine/spine-spec.js";
import {
  buildIntervalFrames,
  frontMonth,
  type IntervalFrame,
  intervalOperators,
  parseIntervalConfig,
} from "../../src/features/intervals/frames.js";
import {
  INTERVAL_MICRO_PARAMS,
  IntervalMicroOperator,
  SECONDS_PER_YEAR,
} from "../../src/features/intervals/microstructure.js";
import { normalCdf } from "../../src/features/intervals/normal.js";
import { builtinRegistry } from "../../src/features/registry.js";
import { listSymbols } from "../../src/lake/symbols.js";
import { queryFrame } from "../../src/query/query.js";
import { captureLake } from "../helpers/lake.js";
import { runCli } from "../helpers/run-cli.js";

const DAY = Date.UTC(2013, 9, 8) * 1000;
const close = (a: number, b: number, tol = 1e-9) =>
  (Number.isNaN(a) && Number.isNaN(b)) || Math.abs(a - b) <= tol * Math.max(1, Math.abs(b));

/** An operator on unit increments (price and size 1), rows of 60 s from t = 0. */
function unitOperator(extra: Record<string, unknown> = {}) {
  const op = new IntervalMicroOperator(
    INTERVAL_MICRO_PARAMS.parse({
      alias: "x",
      intervalMs: 60_000,
      source: "ticks",
      assetClass: "equity",
      vpinBucketVolume: 10,
      vpinBuckets: 2,
      ...extra,
    }),
  );
  const inst = { exchange: "t", symbol: "X", priceIncrement: 1, amountIncrement: 1 };
  const ctx: OperatorContext = { primary: inst, instruments: { x: inst } };
  op.init(ctx);
  const cols = op.outputs.map(() => new Float64Array(4));
  let r = 0;
  const row = (k: number): SpineRow => ({
    tsEventUs: k * 60e6,
    tsEndUs: (k + 1) * 60e6,
    availableAtUs: (k + 1) * 60e6,
    barIndex: k,
  });
  // anchors the operator's UTC day (state starts afresh at a new day) before the first event
  op.emit(
    row(0),
    op.outputs.map(() => new Float64Array(1)),
    0,
  );
  const emit = () => {
    op.emit(row(r), cols, r);
    r++;
  };
  const get = (f: string, at: number) => cols[op.outputs.findIndex((o) => o.name === `${f}_60s_x`)]![at]!;
  return { op, emit, get };
}

describe("interval_microstructure: hand-checked examples", () => {
  it("Lee–Ready: quote rule, tick test at the mid, zero tick repeats; micro-price, spread, depth, VWAP", () => {
    const { op, emit, get } = unitOperator();
    op.addQuote(100, 5, 102, 7); // mid 101
    op.addTrade(102, 10); // above the mid: buy
    op.addTrade(100, 4); // below: sell
    op.addTrade(101, 3); // at the mid: tick test, 100 → 101 uptick: buy
    op.addTrade(101, 2); // at the mid, zero tick: the last non-zero direction (buy)
    emit();
    assert.equal(get("signed_volume", 0), 10 - 4 + 3 + 2);
    assert.equal(get("volume", 0), 19);
    assert.equal(get("trade_count", 0), 4);
    assert.equal(get("micro_price", 0), (100 * 7 + 102 * 5) / 12);
    assert.equal(get("depth_ratio", 0), 5 / 12);
    assert.equal(get("spread_pct", 0), 2 / 101);
    assert.equal(get("log_mid_price", 0), Math.log(101));
    assert.ok(close(get("vwap_deviation", 0), (1925 / 19 - 101) / 101, 1e-14));
    const A = SECONDS_PER_YEAR.equity / 60; // 98,280 one-minute periods per year
    assert.equal(A, 98_280);
    const r1 = Math.log(100 / 102);
    const r2 = Math.log(101 / 100);
    assert.ok(close(get("realized_vol", 0), Math.sqrt(A * (r1 * r1 + r2 * r2)), 1e-14));
    // |r1||r2| + |r2||0| + … , μ1⁻² = π/2
    assert.ok(close(get("bipower_var", 0), A * (Math.PI / 2) * Math.abs(r1) * Math.abs(r2), 1e-14));
    assert.ok(Number.isNaN(get("interval_log_return", 0))); // no previous interval close
    emit(); // no trades
    assert.equal(get("interval_log_return", 1), 0);
    assert.equal(get("volume", 1), 0);
    assert.equal(get("realized_vol", 1), 0);
  });

  it("OFI: the seed's L1 Δbid_qty − Δask_qty and Cont–Kukanov–Stoikov eₙ", () => {
    const { op, emit, get } = unitOperator();
    op.addQuote(100, 5, 104, 7);
    emit();
    assert.ok(Number.isNaN(get("ofi", 0))); // no previous interval close
    assert.equal(get("ofi_cks", 0), 0); // one quote: no pair
    op.addQuote(100, 8, 104, 7); // bid size +3 at the same prices: e = 8 − 5 = 3
    op.addQuote(101, 2, 104, 4); // bid up: +2; ask same: −4 + 7 = 3 → e = 5
    op.addQuote(101, 2, 103, 6); // bid same: 2 − 2 = 0; ask down: −6 → e = −6
    emit();
    assert.equal(get("ofi_cks", 1), 3 + 5 - 6);
    assert.equal(get("ofi", 1), 2 - 6 - (5 - 7)); // imbalance now − at the previous close
  });

  it("VPIN: equal-volume buckets, bulk classification, rolling mean over n buckets", () => {
    const { op, emit, get } = unitOperator({ vpinBucketVolume: 10, vpinBuckets: 2 });
    emit(); // row 0: nothing yet
    op.addTrade(100, 10); // bucket 1 at 100: ΔP = 0, OI 0
    emit();
    assert.ok(Number.isNaN(get("vpin", 1))); // fewer than n buckets
    op.addTrade(102, 15); // bucket 2 at 102 (ΔP 2), 5 left in bucket 3
    emit();
    const sd2 = jStat.stdev([0, 2], true);
    const oi2 = Math.abs(2 * jStat.normal.cdf(2 / sd2, 0, 1) - 1);
    assert.ok(close(get("vpin", 2), (0 + oi2) / 2, 1e-6));
    op.addTrade(101, 5); // bucket 3 at 101 (ΔP −1); σ over the last 2: {2, −1}
    emit();
    const sd3 = jStat.stdev([2, -1], true);
    const oi3 = Math.abs(2 * jStat.normal.cdf(-1 / sd3, 0, 1) - 1);
    assert.ok(close(get("vpin", 3), (oi2 + oi3) / 2, 1e-6));
    assert.ok(close(get("vpin", 3), 0.6026, 1e-3)); // by hand: (0.8427 + 0.3626)/2
  });

  it("Φ against jStat over [−8, 8]", () => {
    for (let z = -8; z <= 8; z += 0.01)
      assert.ok(Math.abs(normalCdf(z) - jStat.normal.cdf(z, 0, 1)) < 2e-7, `z ${z}`);
  });

  it("snapshot/restore continues identically", () => {
    const a = unitOperator();
    a.op.addQuote(100, 5, 104, 7);
    a.op.addTrade(102, 7);
    a.emit();
    a.op.addTrade(103, 4);
    const b = unitOperator();
    b.op.restore(JSON.parse(JSON.stringify(a.op.snapshot())));
    b.emit(); // b's row 0 = a's row 1
    a.emit();
    for (const f of ["signed_volume", "realized_vol", "interval_log_return", "ofi", "micro_price"])
      assert.ok(Object.is(a.get(f, 1), b.get(f, 0)), f);
  });

  it("is registered, with one column per feature × instrument", () => {
    const def = builtinRegistry().get("interval_microstructure")!;
    const outs = def.outputs({
      config: {
        alias: "spy",
        intervalMs: 30_000,
        source: "ticks",
        assetClass: "equity",
        vpinBucketVolume: 1,
      },
      joinStrategy: "asof_backward",
    });
    assert.ok(outs.some((o) => o.name === "realized_vol_30s_spy"));
    assert.equal(outs.length, 16);
  });

  it("config validation", () => {
    assert.throws(
      () =>
        parseIntervalConfig({
          instruments: [
            {
              alias: "a",
              exchange: "x",
              symbol: "A",
              root: "A",
              source: "ticks",
              assetClass: "equity",
              vpinBucketVolume: 1,
            },
          ],
        }),
      /exactly one of symbol or root/,
    );
    const one = {
      alias: "a",
      exchange: "x",
      symbol: "A",
      source: "ticks",
      assetClass: "equity",
      vpinBucketVolume: 1,
    };
    assert.throws(() => parseIntervalConfig({ instruments: [one, one] }), /aliases must be unique/);
  });
});

describe("interval frames on Lean IBM ticks + ES minute bars (2013-10-08)", () => {
  let lake: { lake: string; cleanup: () => void };
  let frame: IntervalFrame;
  const config = parseIntervalConfig({
    instruments: [
      {
        alias: "ibm",
        exchange: "usa",
        symbol: "IBM",
        source: "ticks",
        assetClass: "equity",
        vpinBucketVolume: 20_000,
      },
      {
        alias: "es",
        exchange: "cme",
        root: "ES",
        source: "bars",
        tickSize: 0.25,
        assetClass: "future",
        vpinBucketVolume: 5_000,
      },
    ],
    cross: {
      basis: [{ future: "es", etf: "ibm", scale: 10 }],
      laggedCorr: [{ a: "ibm", b: "es", lag: 1, windowRows: 20 }],
      ofiSpread: [{ a: "ibm", b: "es" }],
      hedge: [
        {
          name: "hedge_spread",
          legs: [
            { alias: "ibm", weight: 1 },
            { alias: "es", weight: -0.1 },
          ],
        },
      ],
    },
    targets: {
      primary: "ibm",
      costBps: 1,
      rvTolerance: 0.01,
      pairs: [["ibm", "es"]],
      spreadTolerance: 1e-4,
      responders: { aliases: ["ibm"], horizonsS: [5, 60, 120] },
    },
  });
  before(async () => {
    lake = await captureLake(["leanIbmTrades", "leanIbmQuotes", "leanIbmMinute", "leanEsMinute"]);
    [frame] = (await buildIntervalFrames({
      lake: lake.lake,
      config,
      intervalsS: [60],
      startUs: DAY,
      endUs: DAY + 86_400e6,
    })) as [IntervalFrame];
  });
  after(() => lake?.cleanup());

  it("front month: ESZ13 on 2013-10-08; ESH14 from 8 days before the December expiry", async () => {
    assert.deepEqual(frame.symbols, { ibm: "IBM", es: "ESZ13" });
    const entries = await listSymbols(lake.lake);
    assert.equal(frontMonth(entries, "cme", "ES", Date.UTC(2013, 11, 11) * 1000, 8), "ESZ13");
    assert.equal(frontMonth(entries, "cme", "ES", Date.UTC(2013, 11, 12, 15) * 1000, 8), "ESH14");
  });

  it("PIT gates pass on the two-instrument frame (lookahead, reproducibility, partition safety)", () => {
    const byName = Object.fromEntries(frame.gates.map((g) => [g.name, g]));
    for (const g of ["lookahead_check", "reproducibility_check", "partition_safety_check"])
      assert.ok(byName[g]?.passed, `${g}: ${byName[g]?.reason}`);
    assert.ok((byName.lookahead_check!.details.rows_compared as number) > 100);
    assert.equal(frame.rows.n, 1440);
  });

  it("every IBM column equals a naive per-interval recomputation from the lake's raw rows", async () => {
    const inc = Number(
      (await listSymbols(lake.lake)).find((e) => e.exchange_symbol === "IBM")!.price_increment,
    );
    const q = (t: "trades" | "quotes") =>
      queryFrame(t, { lake: lake.lake, exchange: "usa", symbol: "IBM", start: DAY, end: DAY + 86_400e6 });
    const tr = (await q("trades"))
      .toRecords()
      .map((r) => [Number(r.ts_local_us), Number(r.px_int), Number(r.qty_int)]);
    const qu = (await q("quotes"))
      .toRecords()
      .map((r) =>
        [r.ts_local_us, r.bid_px_int, r.bid_qty_int, r.ask_px_int, r.ask_qty_int].map((x) =>
          x === null ? Number.NaN : Number(x),
        ),
      );
    // Lee–Ready per trade: the last quote at or before it (quotes rank before trades at one µs)
    const sign: number[] = [];
    let qi = -1;
    let dir = 0;
    for (let j = 0; j < tr.length; j++) {
      while (qi + 1 < qu.length && qu[qi + 1]![0]! <= tr[j]![0]!) qi++;
      const px = tr[j]![1]!;
      if (j > 0 && px !== tr[j - 1]![1]!) dir = px > tr[j - 1]![1]! ? 1 : -1;
      const qq = qi >= 0 ? qu[qi]! : null;
      const mid2 = qq ? qq[1]! + qq[3]! : Number.NaN;
      sign.push(!Number.isNaN(mid2) && 2 * px !== mid2 ? (2 * px > mid2 ? 1 : -1) : dir);
    }
    // VPIN buckets (jStat σ and Φ): completion time and value
    const V = 20_000 / 1; // shares (amount increment 1)
    const done: [number, number][] = [];
    const dps: number[] = [];
    const ois: number[] = [];
    let fill = 0;
    let lastPx = Number.NaN;
    for (const [ts, px, qty] of tr) {
      let left = qty!;
      while (left > 0) {
        const take = Math.min(left, V - fill);
        fill += take;
        left -= take;
        if (fill < V) break;
        fill = 0;
        const dp = Number.isNaN(lastPx) ? 0 : px! - lastPx;
        lastPx = px!;
        dps.push(dp);
        const w = dps.slice(-50);
        const sd = w.length > 1 ? jStat.stdev(w, true) : 0;
        ois.push(Math.abs(2 * jStat.normal.cdf(sd > 0 ? dp / sd : 0, 0, 1) - 1));
        if (ois.length >= 50) done.push([ts!, ois.slice(-50).reduce((a, b) => a + b, 0) / 50]);
      }
    }
    const A = SECONDS_PER_YEAR.equity / 60;
    const col = (f: string) => frame.rows.values.get(`${f}_60s_ibm`)!;
    const imbAt = (k: number) => {
      if (k < 0) return Number.NaN;
      const x = qu[k]!;
      return (Number.isNaN(x[2]!) ? 0 : x[2]!) - (Number.isNaN(x[4]!) ? 0 : x[4]!);
    };
    let ti = 0;
    let qk = -1;
    let prevQk = -1;
    let checked = 0;
    for (let r = 0; r < 1440; r++) {
      const t0 = DAY + r * 60e6;
      const t1 = t0 + 60e6;
      const from = ti;
      while (ti < tr.length && tr[ti]![0]! < t1) ti++;
      const qStart = qk;
      while (qk + 1 < qu.length && qu[qk + 1]![0]! < t1) qk++;
      const x = qk >= 0 ? qu[qk]! : null;
      const two = x !== null && !Number.isNaN(x[1]!) && !Number.isNaN(x[3]!);
      const mid = two ? ((x[1]! + x[3]!) / 2) * inc : Number.NaN;
      let vol = 0;
      let sv = 0;
      let notional = 0;
      let s2 = 0;
      let bpv = 0;
      let prevAbs = Number.NaN;
      for (let j = from; j < ti; j++) {
        vol += tr[j]![2]!;
        sv += sign[j]! * tr[j]![2]!;
        notional += tr[j]![1]! * tr[j]![2]!;
        if (j > 0) {
          const rr = Math.log(tr[j]![1]! / tr[j - 1]![1]!);
          s2 += rr * rr;
          if (!Number.isNaN(prevAbs)) bpv += Math.abs(rr) * prevAbs;
          prevAbs = Math.abs(rr);
        }
      }
      let cks = 0;
      for (let k = Math.max(qStart + 1, 1); k <= qk; k++) {
        const [, b1, bq1, a1, aq1] = qu[k]!;
        const [, b0, bq0, a0, aq0] = qu[k - 1]!;
        if ([b1, a1, b0, a0].some((v) => Number.isNaN(v!))) continue;
        cks +=
          (b1! >= b0! ? bq1! : 0) -
          (b1! <= b0! ? bq0! : 0) -
          (a1! <= a0! ? aq1! : 0) +
          (a1! >= a0! ? aq0! : 0);
      }
      const seen = ti > 0;
      const expect: Record<string, number> = {
        volume: vol,
        trade_count: ti - from,
        signed_volume: sv,
        log_mid_price: Math.log(mid),
        spread_pct: two ? ((x![3]! - x![1]!) * inc) / mid : Number.NaN,
        depth_ratio: two && x![2]! + x![4]! > 0 ? x![2]! / (x![2]! + x![4]!) : Number.NaN,
        micro_price:
          two && x![2]! + x![4]! > 0 ? ((x![1]! * x![4]! + x![3]! * x![2]!) / (x![2]! + x![4]!)) * inc : mid,
        ofi: imbAt(qk) - imbAt(prevQk),
        ofi_cks: qk >= 0 && two ? cks : Number.NaN,
        vwap_deviation: vol > 0 && two ? ((notional / vol) * inc - mid) / mid : Number.NaN,
        realized_vol: seen ? Math.sqrt(A * s2) : Number.NaN,
        bipower_var: seen ? (A * bpv * Math.PI) / 2 : Number.NaN,
        interval_log_return: seen && from > 0 ? Math.log(tr[ti - 1]![1]! / tr[from - 1]![1]!) : Number.NaN,
        vpin: done.filter(([ts]) => ts < t1).pop()?.[1] ?? Number.NaN,
        last_price: seen ? tr[ti - 1]![1]! * inc : Number.NaN,
        vwap: vol > 0 ? (notional / vol) * inc : Number.NaN,
      };
      prevQk = qk;
      for (const [f, v] of Object.entries(expect)) {
        const got = col(f)[r]!;
        const tol = f === "vpin" ? 1e-6 : 1e-9;
        assert.ok(close(got, v, tol), `${f} row ${r} (${new Date(t0 / 1000).toISOString()}): ${got} vs ${v}`);
        checked++;
      }
    }
    assert.ok(checked >= 16 * 1440);
    // the comparison is not vacuous: every column has hundreds of non-null, non-zero minutes
    for (const f of [
      "signed_volume",
      "ofi",
      "ofi_cks",
      "realized_vol",
      "bipower_var",
      "vpin",
      "vwap_deviation",
    ]) {
      const nonTrivial = col(f).filter((v) => !Number.isNaN(v) && v !== 0).length;
      assert.ok(nonTrivial > 300, `${f}: ${nonTrivial} non-null non-zero minutes`);
    }
  });

  it("volume per minute from the ticks vs Lean's own IBM minute bars: agreement", async () => {
    const bars = (
      await queryFrame("ohlcv_bars", {
        lake: lake.lake,
        exchange: "usa",
        symbol: "IBM",
        start: DAY,
        end: DAY + 86_400e6,
      })
    ).toRecords();
    const vol = frame.rows.values.get("volume_60s_ibm")!;
    let same = 0;
    for (const b of bars) {
      const r = (Number(b.bar_start_us) - DAY) / 60e6;
      if (vol[r] === Number(b.volume_qty_int)) same++;
    }
    // measured 2013-10-08: 420 of 424 minutes equal (docs/intervals.md)
    assert.ok(same / bars.length > 0.98, `${same}/${bars.length}`);
  });

  it("ES from minute bars: close as price, tick-size spread, no depth; lagged one bar by PIT stamping", () => {
    const spread = frame.rows.values.get("spread_pct_60s_es")!;
    const logMid = frame.rows.values.get("log_mid_price_60s_es")!;
    const depth = frame.rows.values.get("depth_ratio_60s_es")!;
    const r = 14 * 60 + 30;
    assert.ok(close(spread[r]!, 0.25 / Math.exp(logMid[r]!), 1e-12));
    assert.ok(depth.every((v) => Number.isNaN(v)));
    // the bar [00:00, 00:01) is stamped at 00:01 (its end): not knowable in row 0
    assert.ok(Number.isNaN(logMid[0]!));
    assert.ok(!Number.isNaN(logMid[1]!));
  });

  it("CLI intervals build: one Parquet + manifest per date and interval, equal to the day's frame", async () => {
    const cfgFile = join(lake.lake, "..", "intervals.json");
    writeFileSync(cfgFile, JSON.stringify(config));
    const out = join(lake.lake, "..", "out");
    const r = await runCli([
      "intervals",
      "build",
      "--lake",
      lake.lake,
      "--config",
      cfgFile,
      "--intervals",
      "30,60",
      "--start",
      "2013-10-08T14:00:00Z",
      "--end",
      "2013-10-08T15:00:00Z",
      "--out",
      out,
      "--no-gates",
    ]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /ibm: 16 columns \(null %\): log_mid_price_30s_ibm/);
    assert.match(r.stdout, /es=ESZ13/);
    for (const [s, rows] of [
      [30, 120],
      [60, 60],
    ] as const) {
      const base = join(out, `features_20131008_${s}s`);
      assert.ok(existsSync(`${base}.parquet`));
      const df = pl.readParquet(`${base}.parquet`);
      assert.equal(df.height, rows);
      assert.ok(df.columns.includes(`vpin_${s}s_es`));
      const m = JSON.parse(readFileSync(`${base}.manifest.json`, "utf8"));
      assert.equal(m.rows, rows);
      const rv = m.schema.find((c: { name: string }) => c.name === `realized_vol_${s}s_ibm`);
      assert.equal(rv.instrument, "ibm");
      assert.equal(rv.unit, "annualised vol");
    }
    // the hour's 60 s rows equal rows 840… of the day's frame (replayed from the UTC midnight)
    const df = pl.readParquet(join(out, "features_20131008_60s.parquet"));
    for (const name of ["signed_volume_60s_ibm", "vpin_60s_ibm", "realized_vol_60s_es"]) {
      const got = df.getColumn(name).toArray() as (number | null)[];
      const day = frame.rows.values.get(name)!;
      got.forEach((v, i) => {
        assert.ok(Object.is(v ?? Number.NaN, day[840 + i]), `${name} row ${i}`);
      });
    }
  });

  it("contract: a Driver snapshot mid-run, JSON round trip, restored in a fresh run continues bitwise", async () => {
    const reg = builtinRegistry();
    const run = (extra: {
      checkpointAtEvents?: number[];
      onCheckpoint?: (s: DriverSnapshot) => void;
      restore?: DriverSnapshot;
    }) =>
      new Replay({
        lake: lake.lake,
        exchange: "usa",
        symbol: "IBM",
        instruments: { ibm: { exchange: "usa", symbol: "IBM" }, es: { exchange: "cme", symbol: "ESZ13" } },
        startUs: DAY,
        endUs: DAY + 86_400e6,
        spine: parseSpineSpec({ type: "clock", stepMs: 30_000 }),
        operators: intervalOperators(reg, config, 30_000),
        warmupUs: 0,
        prefetch: false,
        ...extra,
      });
    const rows = async (r: Replay) => {
      const out: FeatureBatch[] = [];
      for await (const b of r.batches()) out.push(b);
      return out;
    };
    const snaps: DriverSnapshot[] = [];
    const full = await rows(
      run({ checkpointAtEvents: [40_000, 90_000], onCheckpoint: (s) => snaps.push(s) }),
    );
    assert.equal(snaps.length, 2);
    const flat = (bs: FeatureBatch[]) => {
      const n = bs.reduce((a, b) => a + b.length, 0);
      const ts = new Float64Array(n);
      const cols = bs[0]!.columns.map(() => new Float64Array(n));
      let at = 0;
      for (const b of bs) {
        ts.set(b.tsEventUs.subarray(0, b.length), at);
        b.columns.forEach((c, k) => {
          cols[k]!.set(c.subarray(0, b.length), at);
        });
        at += b.length;
      }
      return { n, ts, cols };
    };
    const a = flat(full);
    for (const snap of snaps) {
      const b = flat(await rows(run({ restore: JSON.parse(JSON.stringify(snap)) as DriverSnapshot })));
      assert.ok(b.n > 100);
      const off = a.n - b.n;
      for (let i = 0; i < b.n; i++) {
        assert.equal(b.ts[i], a.ts[off + i]);
        for (let k = 0; k < a.cols.length; k++)
          assert.ok(Object.is(a.cols[k]![off + i], b.cols[k]![i]), `column ${k} row ${off + i}`);
      }
    }
  });

  it("cross-asset columns against references computed from the instruments' columns (jStat correlation)", () => {
    const v = (n: string) => frame.rows.values.get(n)!;
    const [lpEs, vwIbm, rIbm, rEs, ofiIbm, ofiEs, lpIbm] = [
      "last_price_60s_es",
      "vwap_60s_ibm",
      "interval_log_return_60s_ibm",
      "interval_log_return_60s_es",
      "ofi_60s_ibm",
      "ofi_60s_es",
      "last_price_60s_ibm",
    ].map(v) as Float64Array[];
    const basis = v("basis_es_ibm_60s");
    const corr = v("lagged_corr_ibm_es_1_60s");
    const ofi = v("ofi_spread_ibm_es_60s");
    const hedge = v("hedge_spread_60s");
    let corrs = 0;
    for (let r = 0; r < frame.rows.n; r++) {
      assert.ok(close(basis[r]!, lpEs![r]! / 10 - vwIbm![r]!, 1e-12), `basis row ${r}`);
      assert.ok(close(ofi[r]!, ofiIbm![r]! - ofiEs![r]!, 1e-12));
      assert.ok(close(hedge[r]!, lpIbm![r]! - 0.1 * lpEs![r]!, 1e-12));
      let want = Number.NaN;
      if (r >= 20) {
        const x = Array.from(rIbm!.subarray(r - 19, r + 1));
        const y = Array.from(rEs!.subarray(r - 20, r));
        if (!x.some(Number.isNaN) && !y.some(Number.isNaN) && jStat.stdev(x) > 0 && jStat.stdev(y) > 0)
          want = jStat.corrcoeff(x, y);
      }
      assert.ok(close(corr[r]!, want, 1e-9), `lagged_corr row ${r}: ${corr[r]} vs ${want}`);
      if (!Number.isNaN(want)) corrs++;
    }
    assert.ok(corrs > 300, `${corrs} correlations`);
    assert.ok(frame.gates.find((g) => g.name === "lookahead_check")!.passed); // the cross columns included
  });

  it("targets: the next row's values net of cost, classes with tolerance, null on the last row", () => {
    const v = (n: string) => frame.rows.values.get(n)!;
    const r = v("interval_log_return_60s_ibm");
    const rv = v("realized_vol_60s_ibm");
    const t = v("target_next_window_return_60s");
    const dr = v("target_next_rv_change_regr_60s");
    const dc = v("target_next_rv_change_class_60s");
    const sp = v("target_next_ibm_es_spread_change_regr_60s");
    const n = frame.rows.n;
    for (let i = 0; i + 1 < n; i++) {
      assert.ok(close(t[i]!, r[i + 1]! - 1e-4, 1e-15));
      assert.ok(close(dr[i]!, rv[i + 1]! - rv[i]!, 1e-15));
      const d = rv[i + 1]! - rv[i]!;
      assert.ok(Object.is(dc[i], Number.isNaN(d) ? Number.NaN : Math.abs(d) <= 0.01 ? 0 : Math.sign(d)));
    }
    for (const c of [t, dr, dc, sp]) assert.ok(Number.isNaN(c[n - 1]!), "null on the last row");
    // responders: 60 s and 120 s ahead on the 60 s grid (5 s is not a whole number of rows: no column)
    const lm = v("log_mid_price_60s_ibm");
    const vw = v("vwap_60s_ibm");
    const rm = v("resp_mid_60s_ibm_60s");
    const rw = v("resp_vwap_120s_ibm_60s");
    assert.equal(frame.rows.values.has("resp_mid_5s_ibm_60s"), false);
    for (let i = 0; i < n; i++) {
      assert.ok(Object.is(rm[i], i + 1 < n ? lm[i + 1]! - lm[i]! : Number.NaN), `resp_mid row ${i}`);
      assert.ok(
        Object.is(rw[i], i + 2 < n ? Math.log(vw[i + 2]! / vw[i]!) : Number.NaN),
        `resp_vwap row ${i}`,
      );
    }
    assert.ok(rm.filter((x) => !Number.isNaN(x)).length > 300);
    assert.ok(t.filter((x) => !Number.isNaN(x)).length > 300);
    assert.ok(sp.filter((x) => !Number.isNaN(x)).length > 300);
  });
});
