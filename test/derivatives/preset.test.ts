/**
 * The derivatives preset on the real bars spines (XRPUSDT 5 m freqtrade candles with funding; ESZ13 1 m Lean
 * bars with open interest): PIT prefix truncation at seeded cuts, partition safety (a run started a day
 * later, without extra history, equals the full run on every column once that column's declared warm-up
 * has passed in the later run: 2w + 2 rows), naive per-row references for as-of and windowed columns,
 * and the targets against a naive forward lookup.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import type pl from "nodejs-polars";
import { toUs } from "../../src/core/time.js";
import { checkPrefixTruncation } from "../../src/engine/pit.js";
import type { FeatureRunInput } from "../../src/features/config.js";
import { addTargets, derivativesTargets } from "../../src/features/derivatives/targets.js";
import { FAMILIES } from "../../src/features/families.js";
import { buildFeatureFrame, planFeatureFrame } from "../../src/features/frame.js";
import { ingestFiles } from "../../src/ingest/ingest.js";
import { data, tempDir } from "../helpers/data.js";

const OFF = Object.fromEntries(FAMILIES.map((f) => [f.flag, false]));
const FT = "freqtrade/tests/testdata/futures";
let lake = "";
let cleanup = () => {};

const xrp = (start: string, end: string, extra: FeatureRunInput = {}) => ({
  lake,
  exchange: "binance-futures",
  symbol: "XRPUSDT",
  start,
  end,
  chunkMs: 86_400_000,
  config: {
    ...OFF,
    includeDerivatives: true,
    spine: { type: "bars", intervalMs: 300_000 },
    warmupMs: 0,
    ...extra,
  } as FeatureRunInput,
});

const col = (df: pl.DataFrame, c: string) => df.getColumn(c).toArray() as (number | null)[];

describe("derivatives preset on bars spines (real XRPUSDT and ESZ13 data)", () => {
  before(async () => {
    ({ dir: lake, cleanup } = tempDir("pointline-deriv-"));
    await ingestFiles(
      "binance-vision",
      [
        data(FT, "XRP_USDT_USDT-5m-futures.json"),
        data(FT, "XRP_USDT_USDT-8h-funding_rate.json"),
        data("lean/future/cme/minute/es/20131007_trade.zip"),
        data("lean/future/cme/minute/es/20131008_trade.zip"),
        data("lean/future/cme/minute/es/20131007_openinterest.zip"),
        data("lean/future/cme/minute/es/20131008_openinterest.zip"),
      ],
      { lake },
    );
  });
  after(() => cleanup());

  it("has ≥ 100 feature columns in the guide's groups and the OHLCV of the vendor bars", async () => {
    const df = await buildFeatureFrame(xrp("2021-11-15T00:00:00Z", "2021-11-16T00:00:00Z"));
    assert.ok(df.width - 5 >= 140, `${df.width} columns`);
    assert.ok(df.height >= 280 && df.height <= 288, `${df.height} rows`);
    // the first 5 m candle of the file: open time 2021-11-15 00:00, [1.1893, 1.1954, 1.1891, 1.1941, 9289043.5]
    assert.deepEqual(
      [
        col(df, "ts_event_us")[0],
        col(df, "available_at_us")[0],
        col(df, "open")[0],
        col(df, "high")[0],
        col(df, "low")[0],
        col(df, "close")[0],
        col(df, "volume")[0],
      ],
      [toUs("2021-11-15T00:00:00Z"), toUs("2021-11-15T00:05:00Z"), 1.1893, 1.1954, 1.1891, 1.1941, 9289043.5],
    );
    // naive references: return_1, sma_20 (mean of the last 20 closes), ma_cross
    const c = col(df, "close") as number[];
    const r1 = col(df, "return_1");
    const sma = col(df, "sma_20");
    for (let i = 0; i < df.height; i++) {
      // the operator computes in price increments (0.0001 USDT): the same exact integers here
      const p = (k: number) => Math.round(c[k]! * 1e4);
      assert.equal(r1[i], i === 0 ? null : (p(i) - p(i - 1)) / p(i - 1));
      if (i < 19) assert.equal(sma[i], null);
      else {
        const m = c.slice(i - 19, i + 1).reduce((a, b) => a + b, 0) / 20;
        assert.ok(Math.abs(sma[i]! - m) <= 1e-12 * m, `sma_20[${i}]`);
      }
    }
  });

  it("funding: the as-of rate of the last funding event and minutes to the next one", async () => {
    const df = await buildFeatureFrame(xrp("2021-11-18T00:00:00Z", "2021-11-19T00:00:00Z"));
    const t = col(df, "available_at_us") as number[];
    const rate = col(df, "funding_rate");
    const mins = col(df, "minutes_to_funding");
    // freqtrade funding times: 2021-11-18 00:00:00.017, 08:00:00.007, 16:00:00.011 (rates 0.0001)
    const ev = [
      toUs("2021-11-18T00:00:00.017Z"),
      toUs("2021-11-18T08:00:00.007Z"),
      toUs("2021-11-18T16:00:00.011Z"),
    ];
    for (let i = 0; i < df.height; i++) {
      const last = ev.filter((e) => e <= t[i]!).pop();
      if (last === undefined) {
        assert.equal(rate[i], null, `row ${i} before the first funding event`);
        continue;
      }
      assert.equal(rate[i], 0.0001);
      assert.equal(mins[i], (last + 8 * 3_600_000_000 - t[i]!) / 60_000_000);
    }
  });

  it("passes prefix truncation at seeded cuts and is partition-safe (a run started a day later)", async () => {
    const start = "2021-11-15T00:00:00Z";
    const end = "2021-11-18T12:00:00Z";
    const full = await buildFeatureFrame(xrp(start, end));
    const cuts = fc.sample(fc.integer({ min: toUs("2021-11-16T00:00:00Z"), max: toUs(end) - 1 }), {
      seed: 13,
      numRuns: 2,
    });
    const pit = await checkPrefixTruncation(
      full,
      async (cut) => buildFeatureFrame(xrp(start, new Date(cut / 1000).toISOString())),
      cuts,
    );
    assert.ok(pit.passed, JSON.stringify(pit.violations.slice(0, 3)));
    assert.ok(pit.rowsCompared > 500);

    const lateStart = "2021-11-16T00:00:00Z";
    const late = await buildFeatureFrame(xrp(lateStart, end));
    const plan = await planFeatureFrame(xrp(lateStart, end));
    const from = full.height - late.height;
    let compared = 0;
    for (const o of plan.operators.flatMap((op) => op.outputs)) {
      const a = col(full, o.name);
      const b = col(late, o.name);
      for (let i = 2 * o.warmupRows + 2; i < late.height; i++) {
        assert.ok(
          Object.is(a[from + i], b[i]),
          `${o.name} row ${i} of the late run: ${a[from + i]} vs ${b[i]}`,
        );
        compared++;
      }
    }
    assert.ok(compared > 20_000, `${compared} values compared`);
  });

  it("open interest on ESZ13 1 m bars: as-of value and oi_sma_20 against a naive recomputation", async () => {
    const df = await buildFeatureFrame({
      lake,
      exchange: "cme",
      symbol: "ESZ13",
      start: "2013-10-07T00:00:00Z",
      end: "2013-10-09T00:00:00Z",
      chunkMs: 86_400_000,
      config: { ...OFF, includeDerivatives: true, spine: { type: "bars", intervalMs: 60_000 }, warmupMs: 0 },
    });
    const t = col(df, "available_at_us") as number[];
    const oi = col(df, "open_interest");
    const sma = col(df, "oi_sma_20");
    // Lean ESZ13 open interest: 2013-10-07 at 06:06, 11:51, 13:42 (Lean futures data are in UTC):
    // 2,691,941, 2,691,941, 2,674,467
    const ev: [number, number][] = [
      [toUs("2013-10-07T06:06:00Z"), 2691941],
      [toUs("2013-10-07T11:51:00Z"), 2691941],
      [toUs("2013-10-07T13:42:00Z"), 2674467],
    ];
    const asof = (x: number) => ev.filter(([e]) => e <= x).pop()?.[1] ?? null;
    let checked = 0;
    for (let i = 0; i < df.height && t[i]! < toUs("2013-10-08T00:00:00Z"); i++) {
      assert.equal(oi[i], asof(t[i]!), `open_interest row ${i}`);
      if (i >= 19 && oi[i - 19] !== null) {
        const m = (oi.slice(i - 19, i + 1) as number[]).reduce((a, b) => a + b, 0) / 20;
        assert.ok(Math.abs(sma[i]! - m) <= 1e-9 * m, `oi_sma_20 row ${i}`);
        checked++;
      }
    }
    assert.ok(checked > 100);
  });

  it("targets look forward from available_at (naive lookup), null past the data", async () => {
    const df = addTargets(
      await buildFeatureFrame(xrp("2021-11-15T00:00:00Z", "2021-11-17T00:00:00Z")),
      derivativesTargets(50),
    );
    const t = col(df, "available_at_us") as number[];
    const c = col(df, "close") as number[];
    const r4 = col(df, "target_return_4h");
    const cls = col(df, "target_class");
    const bin = col(df, "target_binary");
    for (let i = 0; i < df.height; i++) {
      const j = t.findLastIndex((x) => x <= t[i]! + 4 * 3_600_000_000);
      if (t[df.height - 1]! < t[i]! + 4 * 3_600_000_000) {
        assert.equal(r4[i], null);
        continue;
      }
      const r = (c[j]! - c[i]!) / c[i]!;
      assert.equal(r4[i], r);
      assert.equal(cls[i], r > 0.005 ? 2 : r < -0.005 ? 0 : 1);
      assert.equal(bin[i], r > 0.005 ? 1 : 0);
    }
    assert.equal(col(df, "target_return_4h").filter((x) => x === null).length, 48);
  });
});
