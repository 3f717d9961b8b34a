/**
 * The offline store and point-in-time retrieval on real frames (2023-04-04/05 BTCUSDT: 5 BTC volume bars
 * with split trades, whose bars share available_at_us values, and 1 s clock bars):
 * - `getHistoricalFeatures` against a naive loop over every feature row (the greatest key with
 *   available_at_us ≤ t, never by ts_event_us), at the real trades' times, at every available_at_us ± 1 µs
 *   and at random times (fast-check, fixed seed), with and without a max staleness;
 * - prefix truncation: registering only the rows with available_at_us ≤ t changes no value at t;
 * - registration: versions, idempotence, immutability, atomic layout, sha256 check on load; errors.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import pl from "nodejs-polars";
import { buildFeatureFrame } from "../../src/features/frame.js";
import { asOfIndices } from "../../src/store/asof.js";
import { OFFLINE_DIR, OfflineStore } from "../../src/store/offline.js";
import { tempDir } from "../helpers/data.js";
import { captureLake, rawEvents, W2023 } from "../helpers/lake.js";
import { frameColumns } from "../helpers/live.js";

const EX = "binance-futures";
const SYM = "BTCUSDT";

let lake: { lake: string; cleanup: () => void };
let vol: pl.DataFrame;
let clock: pl.DataFrame;
let tradeTimes: number[];
let off: OfflineStore;

before(async () => {
  lake = await captureLake(["usdm2023a", "usdm2023b"]);
  const base = { lake: lake.lake, exchange: EX, symbol: SYM, ...W2023, prefetch: false };
  [vol, clock] = await Promise.all([
    buildFeatureFrame({
      ...base,
      config: {
        spine: { type: "volume", volumeThreshold: 5, splitTrades: true },
        includeBarAggregations: true,
      },
    }),
    buildFeatureFrame({
      ...base,
      config: { spine: { type: "clock", stepMs: 1000 }, includeMicrostructure: true },
    }),
  ]);
  const raw = await rawEvents(lake.lake, EX, SYM, W2023.start, W2023.end);
  const ts = raw.trades.columns.ts_local_us as Float64Array;
  // every 50th trade time: event times a model would be queried at
  tradeTimes = Array.from({ length: Math.ceil(ts.length / 50) }, (_, k) => ts[k * 50]!);
  off = new OfflineStore(lake.lake);
  await off.register({ name: "vol", frame: vol, entity: { exchange: EX, symbol: SYM } });
  await off.register({ name: "clk", frame: clock, entity: { exchange: EX, symbol: SYM } });
});
after(() => lake?.cleanup());

/** Naive PIT lookup: scan every row; keep the greatest (available_at, ts_event, bar_index) ≤ t. */
type Cols = Map<string, Float64Array>;

function naive(cols: Cols, t: number, maxStale = Number.POSITIVE_INFINITY): Map<string, number> | null {
  const a = cols.get("available_at_us")!;
  const e = cols.get("ts_event_us")!;
  const b = cols.get("bar_index")!;
  let best = -1;
  for (let i = 0; i < a.length; i++) {
    if (!(a[i]! <= t)) continue;
    if (
      best < 0 ||
      a[i]! > a[best]! ||
      (a[i] === a[best] && (e[i]! > e[best]! || (e[i] === e[best] && b[i]! > b[best]!)))
    )
      best = i;
  }
  if (best < 0 || t - a[best]! > maxStale) return null;
  return new Map([...cols].map(([k, v]) => [k, v[best]!]));
}

const entityRows = (times: readonly number[]) =>
  pl.DataFrame({
    exchange: times.map(() => EX),
    symbol: times.map(() => SYM),
    event_time_us: pl.Series("event_time_us", times, pl.Int64),
    row_id: times.map((_, i) => i),
  });

/** Checks every output value against the naive lookup at each row's time. */
function checkAgainstNaive(
  out: pl.DataFrame,
  sets: Record<string, Cols>,
  times: readonly number[],
  maxStale?: number,
) {
  const got = frameColumns(out);
  for (const [name, frame] of Object.entries(sets)) {
    const cols = [...frame.keys()];
    times.forEach((t, i) => {
      const want = naive(frame, t, maxStale);
      for (const c of cols) {
        const g = got.get(`${name}__${c}`)![i]!;
        const w = want === null ? Number.NaN : want.get(c)!;
        if (!Object.is(g, w) && !(Number.isNaN(g) && Number.isNaN(w)))
          assert.fail(`${name}__${c} at t=${t} (row ${i}): got ${g}, naive ${w}`);
      }
    });
  }
}

let volSub: Cols | undefined;
const volSmall = () => vol.select("ts_event_us", "ts_end_us", "available_at_us", "bar_index", "vwap");

describe("getHistoricalFeatures (offline store, point in time)", () => {
  it("equals the naive loop at real trade times and at every available_at_us ± 1 µs, for two sets at once", async (t) => {
    const avail = frameColumns(vol).get("available_at_us")!;
    const ties = avail.filter((a, i) => i > 0 && a === avail[i - 1]).length;
    assert.ok(ties > 0, "rows share available_at_us (split trades)");
    const times = [...tradeTimes, ...[...avail].flatMap((a) => [a - 1, a, a + 1])];
    times.push(Number(vol.getColumn("ts_event_us").toArray()[0]) - 5_000_000);
    const out = await off.getHistoricalFeatures(entityRows(times), ["vol", "clk@1"]);
    assert.equal(out.height, times.length);
    assert.deepEqual(out.columns.slice(0, 4), ["exchange", "symbol", "event_time_us", "row_id"]);
    assert.deepEqual(
      out.getColumn("row_id").toArray(),
      times.map((_, i) => i),
      "entity rows kept in order",
    );
    assert.equal(out.getColumn("vol__vwap").dtype.toString(), vol.getColumn("vwap").dtype.toString());
    assert.equal(String(out.getColumn("vol__bar_index").dtype), "DataType(Int64)");
    checkAgainstNaive(out, { vol: frameColumns(vol), clk: frameColumns(clock) }, times);
    // never by ts_event_us: at a bar's start its own values are not known yet
    const withStart = frameColumns(out);
    let later = 0;
    for (let i = 0; i < times.length; i++) {
      const got = withStart.get("vol__available_at_us")![i]!;
      if (!Number.isNaN(got)) assert.ok(got <= times[i]!, "a value is never from the future");
      if (withStart.get("vol__ts_event_us")![i]! < times[i]!) later++;
    }
    assert.ok(later > 0);
    t.diagnostic(
      `${times.length} entity rows × ${out.columns.length} columns checked (${ties} available_at ties)`,
    );
  });

  it("random times (fast-check, fixed seed), unsorted, with and without max staleness", async () => {
    const a = frameColumns(vol).get("available_at_us")!;
    const lo = a[0]! - 2_000_000;
    const hi = a[a.length - 1]! + 2_000_000;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: lo, max: hi }), { minLength: 1, maxLength: 30 }),
        fc.option(fc.integer({ min: 0, max: 5_000_000 }), { nil: undefined }),
        async (times, maxStale) => {
          volSub ??= frameColumns(vol.select("available_at_us", "vwap", "bar_index", "ts_event_us"));
          const out = await off.getHistoricalFeatures(
            entityRows(times),
            [{ name: "vol", columns: ["available_at_us", "vwap", "bar_index", "ts_event_us"] }],
            {
              ...(maxStale !== undefined ? { maxStalenessUs: maxStale } : {}),
            },
          );

          checkAgainstNaive(out, { vol: volSub }, times, maxStale);
        },
      ),
      { seed: 20261207, numRuns: 20 },
    );
  });

  it("prefix truncation: removing the rows with available_at_us > t changes no value at t", async () => {
    const cols = ["ts_event_us", "available_at_us", "bar_index", "vwap", "volume", "trade_count"];
    const sub = vol.select(...cols.filter((c) => vol.columns.includes(c)));
    assert.ok(sub.width >= 4);
    const avail = [...frameColumns(vol).get("available_at_us")!];
    const probe = [0.3, 0.7].map((f) => avail[Math.floor(f * avail.length)]!);
    // t on a row's availability, 1 µs before it, and at a trade time between rows
    const times = probe.flatMap((p) => [p, p - 1, tradeTimes.find((x) => x > p) ?? p]);
    const full = frameColumns(
      await off.getHistoricalFeatures(entityRows(times), [{ name: "vol", version: 1, columns: sub.columns }]),
    );
    for (const [k, t] of times.entries()) {
      const truncated = sub.filter(pl.col("available_at_us").lessThanEquals(t));
      assert.ok(truncated.height < sub.height);
      const m = await off.register({
        name: `trunc${k}`,
        frame: truncated,
        entity: { exchange: EX, symbol: SYM },
      });
      assert.equal(m.rows, truncated.height);
      const cut = frameColumns(await off.getHistoricalFeatures(entityRows([t]), [`trunc${k}`]));
      for (const c of sub.columns) {
        const x = full.get(`vol__${c}`)![k]!;
        const y = cut.get(`trunc${k}__${c}`)![0]!;
        assert.ok(
          Object.is(x, y) || (Number.isNaN(x) && Number.isNaN(y)),
          `${c} at ${t}: ${x} vs truncated ${y}`,
        );
      }
    }
  });

  it("asOfIndices: sorted (merge) and unsorted (binary search) times agree with a scan", () => {
    const a = Float64Array.from([1, 3, 3, 3, 7, 10]);
    const ts = Float64Array.from([0, 1, 2, 3, 4, 7, 9, 10, 11, Number.NaN]);
    const scan = (t: number) => {
      let r = -1;
      for (let i = 0; i < a.length; i++) if (a[i]! <= t) r = i;
      return r;
    };
    const want = Int32Array.from(ts, scan);
    assert.deepEqual(asOfIndices(a, ts), want);
    assert.deepEqual(asOfIndices(a, ts.slice().reverse()), want.slice().reverse());
    assert.deepEqual([...asOfIndices(a, Float64Array.from([3, 4, 12]), 1)], [3, 3, -1]);
    assert.throws(() => asOfIndices(Float64Array.from([2, 1]), ts), /not sorted at row 1/);
  });

  it("errors: unknown set, version, entity or column; missing columns; null times", async () => {
    await assert.rejects(off.getHistoricalFeatures(entityRows([1]), ["nope"]), /no offline feature set nope/);
    await assert.rejects(off.getHistoricalFeatures(entityRows([1]), ["vol@9"]), /vol has no version 9/);
    await assert.rejects(
      off.getHistoricalFeatures(entityRows([1]), [{ name: "vol", columns: ["zzz"] }]),
      /vol v1 has no column zzz/,
    );
    const eth = pl.DataFrame({
      exchange: [EX],
      symbol: ["ETHUSDT"],
      event_time_us: pl.Series("t", [1], pl.Int64),
    });
    await assert.rejects(
      off.getHistoricalFeatures(eth, ["vol"]),
      /vol v1 has no rows for binance-futures\/ETHUSDT \(entities: binance-futures\/BTCUSDT\)/,
    );
    await assert.rejects(
      off.getHistoricalFeatures(eth.drop("symbol"), ["vol"]),
      /entity rows: no column symbol/,
    );
    const nul = pl.DataFrame({
      exchange: [EX, EX],
      symbol: [SYM, SYM],
      event_time_us: pl.Series("t", [1, null], pl.Int64),
    });
    await assert.rejects(
      off.getHistoricalFeatures(nul, ["vol"]),
      /row 1 has exchange=binance-futures, symbol=BTCUSDT, event_time_us=NaN/,
    );
    await assert.rejects(
      off.getHistoricalFeatures(entityRows([1]), ["vol", "vol"]),
      /output column vol__ts_event_us appears twice/,
    );
  });
});

describe("offline registration", () => {
  it("versions are immutable; the same content is a no-op; parts are committed by their manifest", async () => {
    const { dir, cleanup } = tempDir();
    try {
      const s = new OfflineStore(dir);
      const entity = { exchange: EX, symbol: SYM };
      // a few columns keep the Parquet round trips cheap
      const vol = volSmall();
      const m1 = await s.register({ name: "bars", frame: vol, entity });
      assert.equal(m1.set_version, 1);
      assert.equal(m1.rows, vol.height);
      assert.deepEqual(await s.register({ name: "bars", frame: vol, entity }), m1, "same content: no-op");
      const m2 = await s.register({ name: "bars", frame: vol.head(10), entity });
      assert.equal(m2.set_version, 2, "other content for the entity: a new version");
      await assert.rejects(
        s.register({ name: "bars", version: 1, frame: vol.head(5), entity }),
        /bars v1 already holds other rows for binance-futures\/BTCUSDT \(versions are immutable\)/,
      );
      await assert.rejects(
        s.register({
          name: "bars",
          version: 2,
          frame: clock.select("ts_event_us", "available_at_us"),
          entity,
        }),
        /bars v2 has another schema than this frame/,
      );
      const m3 = await s.register({
        name: "bars",
        frame: vol.head(10),
        entity: { exchange: EX, symbol: "ETHUSDT" },
      });
      assert.equal(m3.set_version, 2, "a new entity joins the highest version of the same schema");
      assert.deepEqual(s.versions("bars"), [1, 2]);
      assert.equal(s.list().length, 3);
      const part = join(dir, OFFLINE_DIR, "bars", "v1", `exchange=${EX}`, `symbol=${SYM}`);
      assert.deepEqual(
        readdirSync(part)
          .filter((f) => !f.startsWith("."))
          .sort(),
        ["features.parquet", "manifest.json"],
      );
      // unsorted rows are stored in key order
      const shuffled = vol.sort("vwap");
      const m4 = await s.register({ name: "shuffled", frame: shuffled, entity });
      assert.equal(
        m4.content_sha256,
        m1.content_sha256,
        "stored in key order: the same content as the frame",
      );
      // a changed file is refused on load
      writeFileSync(join(part, "features.parquet"), "x");
      const fresh = new OfflineStore(dir);
      await assert.rejects(fresh.load("bars", 1, entity), /differs from its manifest's/);
      assert.ok(existsSync(join(part, "manifest.json")));
    } finally {
      cleanup();
    }
  });
});
