/**
 * The 33 trader features (src/features/trader) against the naive O(n·w) recomputation of
 * test/trader/reference.ts, on the 31-day BTC perp 1m file, the ADABTC klines and a seeded generated
 * replay with every input present (two symbols, gaps, incomplete days, null spreads and unavailable
 * liquidations); plus snapshot/restore of the preset's Driver run.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { completeOutputs } from "../../src/engine/registry.js";
import { builtinRegistry } from "../../src/features/registry.js";
import { TRADER_FEATURES, traderFeatureMeta } from "../../src/features/trader/features.js";
import { TRADER_PRESET } from "../../src/features/trader/preset.js";
import { REPLAY_OPERATORS } from "../../src/features/trader/replay.js";
import { runTraderFeatures } from "../../src/features/trader/run.js";
import { adaBtcRows, btcPerpRows, DAY_US, generatedRows, toReplayRows } from "./data.js";
import { type RefRow, referenceFeatures } from "./reference.js";

/** |a − b| ≤ 1e-9 · max(1, |b|), or both null. */
export function assertClose(name: string, got: ArrayLike<number>, want: readonly number[], tol = 1e-9): void {
  assert.equal(got.length, want.length, `${name}: length`);
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!;
    const w = want[i]!;
    if (Number.isNaN(w) || Number.isNaN(g)) {
      assert.ok(Number.isNaN(w) && Number.isNaN(g), `${name} row ${i}: got ${g}, want ${w}`);
      continue;
    }
    assert.ok(Math.abs(g - w) <= tol * Math.max(1, Math.abs(w)), `${name} row ${i}: got ${g}, want ${w}`);
  }
}

function checkAll(rows: readonly RefRow[], label: string): Record<string, number> {
  const got = runTraderFeatures(label, toReplayRows(rows));
  const want = referenceFeatures(rows);
  const nonNull: Record<string, number> = {};
  TRADER_FEATURES.forEach((f, k) => {
    assertClose(`${label} ${f}`, got.columns[k]!, want[f]!);
    nonNull[f] = want[f]!.filter((x) => !Number.isNaN(x) && x !== 0).length;
  });
  return nonNull;
}

describe("trader features vs naive per-row recomputation", () => {
  let btc: RefRow[];
  let ada: RefRow[];
  before(() => {
    btc = btcPerpRows();
    ada = adaBtcRows();
  });

  it("catalogue: 33 features with complete metadata, in the reference's order", () => {
    const metas = traderFeatureMeta();
    assert.equal(metas.length, 33);
    assert.deepEqual(
      metas.map((m) => m.name),
      TRADER_FEATURES,
    );
    for (const m of metas)
      for (const k of ["formula", "unit", "window", "warmup", "pitPolicy", "source"] as const)
        assert.ok(String(m[k]).length > 0, `${m.name}.${k}`);
    assert.equal(new Set(TRADER_FEATURES).size, 33);
  });

  it("contract: every trader operator in the registry builds outputs exactly as declared, with complete metadata", () => {
    const registry = builtinRegistry();
    const defs = [...REPLAY_OPERATORS, ...TRADER_PRESET.members];
    for (const d of defs) {
      assert.equal(registry.get(d.name), d, d.name);
      const config =
        d.name === "replay_rows"
          ? { rows: { eventUs: new Float64Array(0), columns: [] } }
          : d.name === "null_column"
            ? { name: "x", unit: "bps" }
            : {};
      const params = { config, joinStrategy: "asof_backward" as const };
      const metas = completeOutputs(d, params);
      const op = d.impl({ ...params, operatorName: d.name, outputNames: metas.map((m) => m.name) });
      assert.deepEqual(
        op.outputs.map((o) => [o.name, o.dtype, o.unit, o.warmupRows]),
        metas.map((m) => [m.name, m.dtype, m.unit, m.warmupRows]),
        d.name,
      );
      for (const m of metas)
        for (const k of ["formula", "window", "warmup", "pitPolicy", "source"] as const)
          assert.ok(m[k].length > 0, `${d.name} ${m.name} ${k}`);
      // state round-trips through JSON before any row
      const again = d.impl({ ...params, operatorName: d.name, outputNames: metas.map((m) => m.name) });
      again.restore(JSON.parse(JSON.stringify(op.snapshot())));
      assert.deepEqual(again.snapshot(), op.snapshot());
    }
  });

  it("31-day BTC perp 1m file (OHLCV only): every feature", () => {
    assert.ok(btc.length > 44_000);
    const nonNull = checkAll(btc, "BTC-PERP");
    // the file's inputs support the price/volume features: they take non-zero values
    for (const f of [
      "ret_240m_bps",
      "realized_vol_60m_bps",
      "compression_score_4h_pct",
      "volume_zscore_60m",
      "sweep_up_15m_bps",
      "upper_failed_break_reclaim_15m_bps",
    ])
      assert.ok(nonNull[f]! > 100, `${f} has values`);
    assert.equal(nonNull.spread_rank_24h_pct, 0);
  });

  it("ADABTC klines (taker volumes): every feature", () => {
    const nonNull = checkAll(ada, "ADABTC");
    assert.ok(nonNull.taker_imbalance_15m! > 1000);
  });

  it("generated replay with every input, gaps and incomplete days: every feature, two symbols", () => {
    const a = generatedRows(7, Date.UTC(2024, 0, 1) * 1000, 3, 40_000);
    const b = generatedRows(11, Date.UTC(2024, 0, 1) * 1000 + DAY_US, 3, 2_500);
    for (const [rows, label] of [
      [a, "A"],
      [b, "B"],
    ] as const) {
      const nonNull = checkAll(rows, label);
      for (const f of TRADER_FEATURES) {
        if (f === "minute_of_day_cos" || f === "minute_of_day_sin") continue;
        assert.ok(nonNull[f]! > 0, `${label}: ${f} takes non-zero values on the generated replay`);
      }
    }
  });

  it("snapshot/restore mid-run continues bitwise", () => {
    const rows = generatedRows(3, Date.UTC(2024, 0, 1) * 1000, 2, 100);
    const replay = toReplayRows(rows);
    const whole = runTraderFeatures("S", replay);
    let snap:
      | Parameters<NonNullable<Parameters<typeof runTraderFeatures>[2]>["onCheckpoint"] & object>[0]
      | undefined;
    runTraderFeatures("S", replay, {
      checkpointAtRows: 1500,
      onCheckpoint: (s) => (snap = JSON.parse(JSON.stringify(s))),
    });
    assert.ok(snap);
    const resumed = runTraderFeatures("S", replay, { restore: snap });
    // rows before the checkpoint are not re-emitted; every later row is bitwise equal
    const cut = rows.findIndex((r) => r.t >= rows[0]!.t + 1500 * 60_000_000);
    assert.ok(cut > 1000);
    TRADER_FEATURES.forEach((f, k) => {
      for (let i = cut; i < rows.length; i++)
        assert.ok(Object.is(resumed.columns[k]![i], whole.columns[k]![i]), `${f} row ${i}`);
    });
  });

  it("rejects a replay whose minutes are not aligned or repeat", () => {
    const rows = generatedRows(5, Date.UTC(2024, 0, 1) * 1000, 1, 100).slice(0, 10);
    const dup = toReplayRows([...rows.slice(0, 5), rows[4]!, ...rows.slice(5)]);
    assert.throws(() => runTraderFeatures("X", dup), /row 5: event_time .* duplicate minute/);
    const off = toReplayRows(rows.map((r, i) => (i === 3 ? { ...r, t: r.t + 1 } : r)));
    assert.throws(() => runTraderFeatures("X", off), /row 3: event_time .* not the open of a UTC minute/);
  });
});
