/**
 * Feature frames built from the real captures, shared by tests that need the same frame as input.
 */
import type pl from "nodejs-polars";
import { buildFeatureFrame } from "../../src/features/frame.js";
import { W2024 } from "./lake.js";

/** Every feature family switch except the bar aggregations, all off. */
export const FAMILIES_OFF = Object.fromEntries(
  [
    "includeMicrostructure",
    "includeTradeFlow",
    "includeFlowRolling",
    "includeFunding",
    "includeBookShape",
    "includeExecutionCost",
    "includeSpreadDynamics",
    "includeLiquidityShock",
    "includeBasisMomentum",
    "includeTradeBurst",
    "includeRegime",
  ].map((k) => [k, false]),
);

/**
 * The binance-futures BTCUSDT frame of the W2024 window on volume bars of 5 BTC with only the bar
 * aggregations on (spine columns in µs, then open/close/vwap/volume/… per bar; nulls as Polars nulls).
 * `lake` must hold the usdm2024 capture (`captureLake(["usdm2024"])`).
 * @throws whatever `buildFeatureFrame` throws (e.g. ConfigError when the lake lacks the capture)
 */
export function volumeBarAggregationFrame(lake: string): Promise<pl.DataFrame> {
  return buildFeatureFrame({
    lake,
    exchange: "binance-futures",
    symbol: "BTCUSDT",
    start: W2024.start,
    end: W2024.end,
    config: { spine: { type: "volume", volumeThreshold: 5 }, includeBarAggregations: true, ...FAMILIES_OFF },
  });
}
