/**
 * The units rule of user-facing frames (engine/units.ts): `_int` columns stay in increments; price and
 * quantity columns become quote currency / base units at the sink, exactly: an integer count of
 * increments becomes the double nearest to its decimal value — checked against JavaScript's own parse
 * of the decimal string a test-local formatter writes (seeded property over increments of the shapes
 * vendors use), and on a real frame against the operators' raw outputs.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { parseIncrement } from "../../src/core/fixed.js";
import type { FeatureBatch } from "../../src/engine/driver.js";
import { frameUnit, frameUnitName, toFrameUnit } from "../../src/engine/units.js";
import { buildFeatureFrame, planFeatureFrame, replayOf } from "../../src/features/frame.js";
import { columnValues, naturalIncrements } from "../helpers/engine.js";
import { captureLake, W2024 } from "../helpers/lake.js";
import { concatBatches } from "../helpers/restore.js";

/** Decimal text of v · m · 10^−s, written digit by digit with BigInt (independent of the code under test). */
function decimalText(v: number, m: number, s: number): string {
  const neg = v < 0;
  const digits = (BigInt(Math.abs(v)) * BigInt(m)).toString().padStart(s + 1, "0");
  const text = s === 0 ? digits : `${digits.slice(0, digits.length - s)}.${digits.slice(digits.length - s)}`;
  return neg ? `-${text}` : text;
}

describe("units rule", () => {
  it("an integer count of increments converts to the double nearest its decimal value (seeded property)", () => {
    const incs = ["0.1", "0.01", "0.001", "0.00001", "1e-8", "0.5", "0.25", "5", "1", "0.0025"];
    fc.assert(
      fc.property(
        fc.constantFrom(...incs),
        fc.constantFrom(...incs),
        fc.integer({ min: -1e12, max: 1e12 }),
        (pText, aText, v) => {
          const price = parseIncrement(pText);
          const amount = parseIncrement(aText);
          const inc = { price, amount };
          const px = toFrameUnit(
            Float64Array.of(v),
            frameUnit({ name: "vwap", unit: "price increments" }, inc),
          );
          const qty = toFrameUnit(
            Float64Array.of(v),
            frameUnit({ name: "volume", unit: "qty increments" }, inc),
          );
          return (
            px[0] === Number(decimalText(v, price.mantissa, price.scale)) &&
            qty[0] === Number(decimalText(v, amount.mantissa, amount.scale))
          );
        },
      ),
      { seed: 120226, numRuns: 2000 },
    );
  });

  it("keeps _int columns and units without a natural form; converts per-trade and per-qty units; NaN stays null", () => {
    const inc = { price: parseIncrement("0.1"), amount: parseIncrement("0.001") };
    const v = Float64Array.of(618003, Number.NaN, 0.5);
    assert.equal(toFrameUnit(v, frameUnit({ name: "ms_bid_px_int", unit: "price increments" }, inc)), v);
    assert.equal(toFrameUnit(v, frameUnit({ name: "ms_spread_bps", unit: "bps" }, inc)), v);
    assert.equal(frameUnitName({ name: "ms_spread_int", unit: "price increments" }), "price increments");
    assert.equal(frameUnitName({ name: "ms_mid_px", unit: "price increments" }), "quote currency");
    const per = toFrameUnit(v, frameUnit({ name: "avg_trade_size", unit: "qty increments per trade" }, inc));
    assert.deepEqual([...per], [618.003, Number.NaN, 0.0005]);
    const slope = frameUnit({ name: "bs_slope_10", unit: "price increments per qty increment" }, inc);
    assert.equal(slope.unit, "quote currency per base unit");
    // 3 price increments per qty increment = 0.3 USDT per 0.001 BTC = 300 USDT per BTC
    assert.equal(toFrameUnit(Float64Array.of(3), slope)[0], 300);
  });

  describe("on a real frame (binance-futures BTCUSDT 2024-08-08, every family, 5 BTC volume bars)", () => {
    let lake: { lake: string; cleanup: () => void };
    before(async () => {
      lake = await captureLake(["usdm2024"]);
    });
    after(() => lake?.cleanup());

    it("frame = operator output in increments converted exactly; dtypes and manifest units follow", async () => {
      const req = {
        lake: lake.lake,
        exchange: "binance-futures",
        symbol: "BTCUSDT",
        ...W2024,
        config: { spine: { type: "volume", volumeThreshold: 5 }, includeBarAggregations: true } as const,
      };
      const plan = await planFeatureFrame(req);
      const replay = replayOf(plan, req);
      const batches: FeatureBatch[] = [];
      for await (const b of replay.batches()) batches.push(b);
      const rawCols = concatBatches(batches).slice(5); // operator outputs, in increments
      const frame = await buildFeatureFrame(req);
      const inc = naturalIncrements(lake.lake, "binance-futures", "BTCUSDT", Date.parse(W2024.start) * 1000);
      assert.deepEqual(inc, { price: 0.1, amount: 0.001 });
      const outputs = plan.operators.flatMap((o) => o.outputs);
      let converted = 0;
      outputs.forEach((o, k) => {
        const col = plan.columns[5 + k]!;
        const got = columnValues(frame, o.name);
        const raw = rawCols[k]!;
        const scale =
          o.name.endsWith("_int") || !o.unit.includes("increment")
            ? null
            : o.unit === "price increments"
              ? [1, 1]
              : [1, 3];
        if (scale === null) {
          assert.equal(col.unit, o.unit, `${o.name} keeps its unit`);
          for (let i = 0; i < raw.length; i++)
            assert.ok(Object.is(got[i], raw[i]), `${o.name}[${i}] unchanged`);
          return;
        }
        if (o.unit === "price increments per qty increment") return; // checked by the unit test above
        converted++;
        assert.equal(col.dtype, "Float64", `${o.name} is a float in natural units`);
        assert.equal(col.unit, o.unit === "price increments" ? "quote currency" : frameUnitName(o), o.name);
        for (let i = 0; i < raw.length; i++) {
          const r = raw[i]!;
          if (Number.isNaN(r)) assert.ok(Number.isNaN(got[i]!), `${o.name}[${i}] null`);
          else if (Number.isInteger(r))
            assert.equal(got[i], Number(decimalText(r, 1, scale[1]!)), `${o.name}[${i}] = ${r} increments`);
          else assert.equal(got[i], r / 10 ** scale[1]!, `${o.name}[${i}] = ${r} increments`);
        }
      });
      assert.ok(converted >= 20, `${converted} converted columns`);
      // the frame reads like prices: the bars' open is a BTC price in USDT
      const open = columnValues(frame, "open").filter((x) => !Number.isNaN(x));
      assert.ok(open.every((x) => x > 50_000 && x < 70_000));
    });
  });
});
