/**
 * Cross-sectional features on a clock grid: BTC and ETH on USDⓈ-M, COIN-M and spot (real captures,
 * 2024-08-08 23:54–24:00), each on its own volume bars. Values against a naive reference (a full scan
 * per grid point for the as-of row, rank by counting, z-score by two passes), the strict as-of rule on
 * hand-made frames, and the PIT invariant by prefix truncation of the lake input.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import pl from "nodejs-polars";
import { toUs } from "../../src/core/time.js";
import { canonicalFrameHash } from "../../src/engine/hash.js";
import { checkPrefixTruncation } from "../../src/engine/pit.js";
import {
  buildCrossSection,
  type CrossSectionInput,
  type CrossSectionInstrument,
  type CrossSectionManifest,
  crossSection,
  guideSpreads,
} from "../../src/scale/cross-section.js";
import { columnValues } from "../helpers/engine.js";
import { FAMILIES_OFF } from "../helpers/frames.js";
import { captureLake, W2024 } from "../helpers/lake.js";
import { REPO_ROOT, runCli } from "../helpers/run-cli.js";

const INSTRUMENTS: CrossSectionInstrument[] = [
  {
    key: "btc",
    exchange: "binance-futures",
    symbol: "BTCUSDT",
    config: { spine: { type: "volume", volumeThreshold: 10 } },
  },
  {
    key: "eth",
    exchange: "binance-futures",
    symbol: "ETHUSDT",
    config: { spine: { type: "volume", volumeThreshold: 50 } },
  },
  {
    key: "btc_spot",
    exchange: "binance",
    symbol: "BTCUSDT",
    config: { spine: { type: "volume", volumeThreshold: 1 } },
  },
  {
    key: "eth_spot",
    exchange: "binance",
    symbol: "ETHUSDT",
    config: { spine: { type: "volume", volumeThreshold: 10 } },
  },
  // COIN-M sizes are contracts (100 USD per BTC contract, 10 USD per ETH contract)
  {
    key: "btc_coinm",
    exchange: "binance-delivery",
    symbol: "BTCUSD_PERP",
    config: { spine: { type: "volume", volumeThreshold: 500 } },
  },
  {
    key: "eth_coinm",
    exchange: "binance-delivery",
    symbol: "ETHUSD_PERP",
    config: { spine: { type: "volume", volumeThreshold: 1500 } },
  },
];
const FEATURES = ["flow_imbalance", "ret_5bar"];
const SPREADS = [
  ...guideSpreads("btc", "eth"),
  ...guideSpreads("btc_spot", "eth_spot"),
  ...guideSpreads("btc_coinm", "eth_coinm"),
];
const GRID_MS = 5_000;

describe("cross-sectional features (real captures)", () => {
  let lake = "";
  let cleanup = (): void => {};
  let frame: pl.DataFrame;
  let inputs: CrossSectionInput[];
  const request = (end: number | string) => ({
    lake,
    instruments: INSTRUMENTS,
    config: { ...FAMILIES_OFF, includeBarAggregations: true },
    start: W2024.start,
    end,
    gridMs: GRID_MS,
    features: FEATURES,
    spreads: SPREADS,
  });
  before(async () => {
    ({ lake, cleanup } = await captureLake([
      "usdm2024",
      "ethUsdm2024",
      "spot2024",
      "ethSpot2024",
      "btcCoinm2024",
      "ethCoinm2024",
    ]));
    ({ frame, inputs } = await buildCrossSection(request(W2024.end)));
  });
  after(() => cleanup());

  it("has the guide's columns: _eth suffixes and btc_eth spreads", () => {
    assert.equal(frame.height, 72); // 6 minutes of 5 s grid rows
    for (const c of [
      "flow_imbalance",
      "flow_imbalance_eth",
      "ret_5bar_eth",
      "btc_eth_flow_spread",
      "btc_eth_momentum_spread",
      "flow_imbalance_xs_rank_eth_coinm",
      "ret_5bar_xs_z_btc_spot",
      "btc_coinm_eth_coinm_momentum_spread",
    ])
      assert.ok(frame.columns.includes(c), c);
    for (const x of inputs) assert.ok(x.frame.height > 100, `${x.key}: ${x.frame.height} bars`);
  });

  it("equals a naive reference: full-scan as-of, rank by counting, two-pass z-score, spreads", () => {
    const t0 = toUs(W2024.start);
    const step = GRID_MS * 1000;
    const rows = inputs.map((x) => ({
      avail: columnValues(x.frame, "available_at_us"),
      f: FEATURES.map((f) => columnValues(x.frame, f)),
    }));
    const sfx = (i: number): string => (i === 0 ? "" : `_${INSTRUMENTS[i]!.key}`);
    const got = (name: string): Float64Array => columnValues(frame, name);
    let nonNull = 0;
    for (let k = 0; k < frame.height; k++) {
      const g = t0 + (k + 1) * step;
      assert.equal(got("available_at_us")[k], g);
      const asof = rows.map((r) => {
        let best = -1;
        for (let j = 0; j < r.avail.length; j++)
          if (r.avail[j]! < g && (best < 0 || r.avail[j]! >= r.avail[best]!)) best = j;
        return best;
      });
      FEATURES.forEach((f, fi) => {
        const v = asof.map((j, i) => (j < 0 ? Number.NaN : rows[i]!.f[fi]![j]!));
        const ok = v.filter((x) => !Number.isNaN(x));
        const mean = ok.reduce((a, b) => a + b, 0) / ok.length;
        const sd = Math.sqrt(ok.reduce((a, b) => a + (b - mean) ** 2, 0) / ok.length);
        v.forEach((x, i) => {
          assert.ok(Object.is(got(`${f}${sfx(i)}`)[k], x), `${f}${sfx(i)}[${k}]`);
          if (Number.isNaN(x)) {
            assert.ok(Number.isNaN(got(`${f}_xs_rank${sfx(i)}`)[k]!));
            return;
          }
          nonNull++;
          const rank = ok.filter((y) => y < x).length + (ok.filter((y) => y === x).length + 1) / 2;
          assert.equal(got(`${f}_xs_rank${sfx(i)}`)[k], rank, `${f}_xs_rank${sfx(i)}[${k}]`);
          const z = got(`${f}_xs_z${sfx(i)}`)[k]!;
          if (ok.length < 2 || sd === 0) assert.ok(Number.isNaN(z));
          else assert.ok(Math.abs(z - (x - mean) / sd) < 1e-12, `${f}_xs_z${sfx(i)}[${k}]`);
        });
      });
      for (const s of SPREADS) {
        const fi = FEATURES.indexOf(s.feature);
        const a = INSTRUMENTS.findIndex((x) => x.key === s.a);
        const b = INSTRUMENTS.findIndex((x) => x.key === s.b);
        const want =
          (asof[a]! < 0 ? Number.NaN : rows[a]!.f[fi]![asof[a]!]!) -
          (asof[b]! < 0 ? Number.NaN : rows[b]!.f[fi]![asof[b]!]!);
        assert.ok(Object.is(got(`${s.a}_${s.b}_${s.name}_spread`)[k], want), `${s.name} spread [${k}]`);
      }
    }
    assert.ok(nonNull > 600, `non-null values compared: ${nonNull}`);
  });

  it("the CLI on the example request writes the same frame, with a manifest", async () => {
    const out = join(lake, "..", "xs.parquet");
    const r = await runCli([
      "features",
      "cross-section",
      join(REPO_ROOT, "examples", "cross_section", "btc_eth_venues.json"),
      "--lake",
      lake,
      "--out",
      out,
      "--json",
    ]);
    assert.equal(r.status, 0, r.stderr);
    const m = JSON.parse(r.stdout) as CrossSectionManifest;
    assert.equal(m.content_sha256, canonicalFrameHash(frame));
    assert.equal(canonicalFrameHash(pl.readParquet(out)), canonicalFrameHash(frame));
    assert.deepEqual(
      m.instruments.map((i) => [i.key, i.rows]),
      inputs.map((x) => [x.key, x.frame.height]),
    );
    const bad = await runCli([
      "features",
      "cross-section",
      join(REPO_ROOT, "package.json"),
      "--lake",
      lake,
      "--out",
      out,
    ]);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /invalid cross-section request: .*gridMs/);
  });

  it("is PIT: rows knowable before a cut are unchanged when the input ends at the cut", async () => {
    const cuts = [toUs("2024-08-08T23:55:17.500001Z"), toUs("2024-08-08T23:58:02Z")];
    const r = await checkPrefixTruncation(
      frame,
      async (cut) => (await buildCrossSection(request(cut))).frame,
      cuts,
    );
    assert.deepEqual(r.violations, []);
    assert.ok(r.rowsCompared > 30);
  });
});

describe("cross-section as-of rule and statistics (hand-made frames)", () => {
  const f = (avail: number[], x: (number | null)[]): pl.DataFrame =>
    pl.DataFrame([pl.Series("available_at_us", avail, pl.Int64), pl.Series("x", x, pl.Float64)]);

  it("a row available exactly at the grid point is not used; ties rank on average; sd 0 → null z", () => {
    const a = f([1_000_000, 2_000_000], [1, 5]);
    const b = f([500_000, 1_999_999], [1, 1]);
    const c = f([3_000_000], [2]);
    const out = crossSection(
      [
        { key: "a", frame: a },
        { key: "b", frame: b },
        { key: "c", frame: c },
      ],
      {
        start: 0,
        end: 3_000_000,
        gridMs: 1000,
        features: ["x"],
        spreads: [{ name: "x", feature: "x", a: "a", b: "b" }],
      },
    );
    const col = (n: string) => out.getColumn(n).toArray();
    assert.deepEqual(col("ts_event_us").map(Number), [0, 1_000_000, 2_000_000]);
    // grid end 1 s: a's row available at exactly 1 s is not yet knowable, b's at 0.5 s is; c's row at 3 s never is
    assert.deepEqual(col("x"), [null, 1, 5]);
    assert.deepEqual(col("x_b"), [1, 1, 1]);
    assert.deepEqual(col("x_c"), [null, null, null]);
    assert.deepEqual(col("x_xs_rank"), [null, 1.5, 2]);
    assert.deepEqual(col("x_xs_rank_b"), [1, 1.5, 1]);
    // one value at row 0, sd 0 at row 1; row 2: mean 3, population sd 2
    assert.deepEqual(col("x_xs_z"), [null, null, 1]);
    assert.deepEqual(col("x_xs_z_b"), [null, null, -1]);
    assert.deepEqual(col("a_b_x_spread"), [null, 0, 4]);
    assert.deepEqual(
      col("asof_available_at_us_b").map((v) => (v === null ? null : Number(v))),
      [500_000, 1_999_999, 1_999_999],
    );
  });

  it("refuses a bad key, an unknown spread instrument and a single instrument", () => {
    const a = f([1], [1]);
    const opts = { start: 0, end: 3_000_000, gridMs: 1000, features: ["x"] };
    assert.throws(
      () =>
        crossSection(
          [
            { key: "A", frame: a },
            { key: "b", frame: a },
          ],
          opts,
        ),
      /key 'A'/,
    );
    assert.throws(() => crossSection([{ key: "a", frame: a }], opts), /at least 2/);
    assert.throws(
      () =>
        crossSection(
          [
            { key: "a", frame: a },
            { key: "b", frame: a },
          ],
          { ...opts, spreads: guideSpreads("a", "z") },
        ),
      /instrument z/,
    );
  });
});
