/**
 * Fixed-point scales never mix (issue "Data safety", item 1), on the real Tardis trades sample.
 *
 * The case: 10 trades of binance-futures BTCUSDT (prices with at most 2 decimals → increment 0.01), then
 * a second ingest of the next trade with its price changed to 9683.125 (3 decimals): inference opens a
 * second registry version at 0.001. Every reader must return one scale: the query's `_int` columns, the
 * feature frame's prices and returns, and the pipeline's bars — checked against the prices parsed from
 * the CSV text (an independent decimal reading, not our decoder). Unit checks of the scale plan: the
 * integer factor rule (fast-check against BigInt arithmetic), and the refusal of versions without an
 * exact common scale (0.5 and 0.2), naming both.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import pl from "nodejs-polars";
import { ConfigError } from "../../src/core/errors.js";
import { buildFeatureFrame } from "../../src/features/frame.js";
import { ingestFiles } from "../../src/ingest/ingest.js";
import { formatReport } from "../../src/ingest/report.js";
import { Lake } from "../../src/lake/lake.js";
import type { IngestReport } from "../../src/lake/manifest.js";
import type { SymbolEntry } from "../../src/lake/registry.js";
import { scaleOf } from "../../src/lake/scale.js";
import { runPipeline } from "../../src/pipeline/run.js";
import { query, queryFrame } from "../../src/query/query.js";
import { FAMILIES_OFF } from "../helpers/frames.js";

const TARDIS_TRADES = "../shared/data/nautilus_trader/tests/test_data/tardis/trades.csv";
const EX = "binance-futures";
const SYM = "BTCUSDT";
const START = "2020-02-22T00:00:00Z";
const END = "2020-02-22T00:01:00Z";

/** Price text → exact decimal (units of 10^-6, as BigInt) for comparisons free of float rounding. */
const micro = (s: string): bigint => {
  const [i, f = ""] = s.split(".");
  return BigInt(i!) * 1_000_000n + BigInt(`${f}000000`.slice(0, 6));
};

describe("fixed-point scales never mix across registry versions", () => {
  let dir = "";
  let lake = "";
  /** CSV prices of the 11 trades, as typed in the files (the 11th changed to 9683.125). */
  let prices: string[] = [];
  /** Ingest reports of a.csv and b.csv. */
  let reports: IngestReport[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "pointline-scale-"));
    lake = join(dir, "lake");
    const lines = readFileSync(TARDIS_TRADES, "utf8").split("\n");
    const header = lines[0]!;
    const first = lines.slice(1, 11);
    const cols = lines[11]!.split(",");
    cols[6] = "9683.125";
    const eleventh = cols.join(",");
    writeFileSync(join(dir, "a.csv"), `${[header, ...first].join("\n")}\n`);
    writeFileSync(join(dir, "b.csv"), `${header}\n${eleventh}\n`);
    prices = [...first, eleventh].map((l) => l.split(",")[6]!);
    const [a] = await ingestFiles("tardis", [join(dir, "a.csv")], { lake });
    const [b] = await ingestFiles("tardis", [join(dir, "b.csv")], { lake });
    reports = [a!.report, b!.report];
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("the second file opened a finer version, reported loudly with the line that forced it", async () => {
    assert.equal(reports[0]!.registry_changes, undefined);
    const l = await Lake.open(lake);
    const v = l.registry.versions(EX, SYM);
    const [change] = reports[1]!.registry_changes ?? [];
    assert.deepEqual(change, {
      exchange: EX,
      symbol: SYM,
      symbol_id: v[1]!.symbol_id,
      price_increment: "0.001",
      amount_increment: "0.001",
      valid_from_us: v[1]!.valid_from_us,
      previous: { symbol_id: v[0]!.symbol_id, price_increment: "0.01", amount_increment: "0.001" },
      forced_by: { line: 2, field: "price", value: "9683.125" },
    });
    assert.match(
      formatReport(reports[1]!),
      /NEW REGISTRY VERSION .*0\.01 → 0\.001 \(forced by line 2, field price = 9683\.125\)/,
    );
    assert.deepEqual(
      v.map((e) => e.price_increment),
      ["0.01", "0.001"],
    );
    const s = l.scale(EX, SYM);
    assert.equal(s.price.text, "0.001");
    assert.deepEqual(s.factors[v[0]!.symbol_id], { price: 10, amount: 1 });
  });

  it("query: one scale over both versions; decoded prices equal the CSV text; one version as stored", async () => {
    const rows = await query.trades({
      lake,
      exchange: EX,
      symbol: SYM,
      start: START,
      end: END,
      decoded: true,
    });
    assert.equal(rows.length, 11);
    const px = rows.columns.px_int as Float64Array;
    const dec = rows.columns.px as Float64Array;
    for (let i = 0; i < 11; i++) {
      // px_int in 0.001 increments: px_int · 1000 = price in 10^-6
      assert.equal(BigInt(px[i]!) * 1000n, micro(prices[i]!), `px_int[${i}]`);
      assert.equal(dec[i], Number(prices[i]!), `px[${i}]`);
    }
    // the 10 rows of the first file alone: as stored, 0.01 increments
    const df = await queryFrame("trades", {
      lake,
      exchange: EX,
      symbol: SYM,
      start: START,
      end: "2020-02-22T00:00:04.4572Z",
    });
    assert.equal(df.height, 10);
    const stored = df.getColumn("px_int").toArray() as (number | bigint)[];
    for (const [i, v] of stored.entries())
      assert.equal(BigInt(v) * 10_000n, micro(prices[i]!), `stored px_int[${i}]`);
  });

  it("feature frame (bar family, one bar per trade): close = CSV price, ret_1bar a small return", async () => {
    const df = await buildFeatureFrame({
      lake,
      exchange: EX,
      symbol: SYM,
      start: START,
      end: END,
      config: {
        spine: { type: "trades" },
        ...FAMILIES_OFF,
        includeBarAggregations: true,
      },
    });
    assert.equal(df.height, 11);
    const close = df.getColumn("close").toArray() as number[];
    const ret = df.getColumn("ret_1bar").toArray() as (number | null)[];
    for (const [i, c] of close.entries()) assert.equal(c, Number(prices[i]!), `close[${i}]`);
    // the last bar: (9683.125 − p10) / p10, exact decimals
    const p10 = Number(prices[9]!);
    const want = Number(micro("9683.125") - micro(prices[9]!)) / 1e6 / p10;
    assert.ok(Math.abs(ret[10]! - want) <= 1e-12 * Math.abs(want), `ret_1bar ${ret[10]} vs ${want}`);
    assert.ok(Math.abs(ret[10]!) < 1e-3, "no scale jump");
  });

  it("pipeline run: ohlcv per trade bar equals the CSV prices over both versions", async () => {
    const request = {
      schema_version: "2.0",
      request_id: "scale_mix",
      mode: "bar_then_feature",
      timeline: { start: START, end: END, ts_col: "ts_local_us" },
      sources: [{ name: "t", table: "trades", filters: { exchange: EX, symbol: SYM } }],
      spine: { type: "tick", config: { tick_threshold: 1 } },
      operators: [{ name: "ohlcv", stage: "aggregate", agg: "ohlcv", source: "t" }],
      labels: [],
      evaluation: { metrics: [{ type: "row_count" }] },
      constraints: { forbid_lookahead: true, require_pit_ordering: true },
      artifacts: { emit_lineage: true, output_dir: "scale_mix" },
    };
    const o = await runPipeline(request, { lake, outRoot: join(dir, "runs") });
    assert.deepEqual(o.problems, []);
    assert.equal(o.results.row_count, 11);
    const df = pl.readParquet(o.artifacts.paths[0]!);
    const close = df.getColumn("close_px").toArray() as number[];
    for (const [i, c] of close.entries()) assert.equal(c, Number(prices[i]!), `close_px[${i}]`);
  });
});

describe("scale plan", () => {
  const entry = (id: number, price: string, amount: string, from: number): SymbolEntry => ({
    symbol_id: id,
    exchange: "x",
    exchange_symbol: "Y",
    base: null,
    quote: null,
    asset_type: "spot",
    price_increment: price,
    amount_increment: amount,
    contract_multiplier: null,
    valid_from_us: from,
    valid_until_us: null,
    increment_source: "inferred",
  });

  it("versions without an exact common scale are refused, naming both", () => {
    assert.throws(
      () => scaleOf([entry(1, "0.5", "1", 0), entry(2, "0.2", "1", 1_000_000)]),
      (e: unknown) =>
        e instanceof ConfigError &&
        /symbol_id 1 \(price 0\.5/.test(e.message) &&
        /symbol_id 2 \(price 0\.2/.test(e.message) &&
        /1970-01-01T00:00:01/.test(e.message),
    );
  });

  it("target = finest increments; factor = increment / target, an integer exactly when divisible (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 0, max: 8 }),
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 0, max: 8 }),
        (m1, s1, m2, s2) => {
          const text = (m: number, s: number) => (s === 0 ? `${m}` : (m / 10 ** s).toFixed(s));
          const a = entry(1, text(m1, s1), "1", 0);
          const b = entry(2, text(m2, s2), "1", 10);
          // exact values in units of 10^-16
          const va = BigInt(m1) * 10n ** BigInt(16 - s1);
          const vb = BigInt(m2) * 10n ** BigInt(16 - s2);
          const [fine, coarse] = va <= vb ? [va, vb] : [vb, va];
          let plan: ReturnType<typeof scaleOf> | null = null;
          try {
            plan = scaleOf([a, b]);
          } catch (e) {
            assert.ok(e instanceof ConfigError);
          }
          assert.equal(plan !== null, coarse % fine === 0n);
          if (plan) {
            const target = BigInt(plan.price.mantissa) * 10n ** BigInt(16 - plan.price.scale);
            assert.equal(target, fine);
            for (const [e, v] of [
              [a, va],
              [b, vb],
            ] as const) {
              const f: number = plan.factors[e.symbol_id]?.price ?? 1;
              assert.equal(BigInt(f) * fine, v);
            }
          }
        },
      ),
      { seed: 20261202, numRuns: 300 },
    );
  });
});
