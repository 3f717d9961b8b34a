/**
 * The `derivatives` preset (issue 13; `--preset derivatives`, flag `includeDerivatives`, family id
 * `deriv`): the OI ML feature-engineering guide's 100+ features as one family of registered operators run
 * by the one Driver as a `GroupOperator`, in this order (later members read earlier members' row values):
 *
 * | group | operator | reads |
 * |---|---|---|
 * | bar | `deriv_bar` | the bar's trades (clock and event spines) or its vendor bar (`bars:<interval>`) |
 * | open interest | `deriv_open_interest` | `open_interest` as-of, row `close` |
 * | price | `deriv_price` | row OHLC |
 * | volume | `deriv_volume` | row OHLC, volume, taker-buy volume |
 * | funding | `deriv_funding` | `funding_events` |
 * | liquidations | `deriv_liquidations` | `liquidations` |
 * | long/short | `deriv_long_short` | `long_short_ratio` |
 * | time | `deriv_time` | spine times, `funding_events` |
 * | interactions | `deriv_interactions` | row values of the groups above |
 *
 * Every operator is streaming (O(1) or O(log w) per row, typed state, `snapshot`/`restore`), warm-up values
 * are null (never backfilled; `warmup_flag` marks the rows), cumulative sums are anchored at the UTC day
 * and EMA-type averages use an exact K-row window (indicators/ema.ts), so a run started anywhere gives the
 * same values after warm-up. Wall-clock windows (1 h, 4 h, 24 h, 7 d) count rows on clock and `bars:`
 * spines; on event spines give `warmupMs` covering them (the preset entry points do:
 * `DERIVATIVES_WARMUP_MS`).
 */
import type { FeatureRunConfig } from "../config.js";
import { defineFamily, type FamilyDef, type FamilyMember } from "../family.js";
import { derivBarOperator } from "./bar.js";
import { derivSettings } from "./common.js";
import {
  derivFundingOperator,
  derivInteractionOperator,
  derivLiquidationOperator,
  derivLongShortOperator,
  derivTimeOperator,
} from "./events.js";
import { derivOpenInterestOperator } from "./open-interest.js";
import { derivPriceOperator } from "./price.js";
import { derivVolumeOperator } from "./volume.js";

/** The preset's operators after `deriv_bar`, in column order, with their group names. */
export const DERIVATIVES_GROUPS = [
  { group: "open interest", def: derivOpenInterestOperator },
  { group: "price", def: derivPriceOperator },
  { group: "volume", def: derivVolumeOperator },
  { group: "funding", def: derivFundingOperator },
  { group: "liquidations", def: derivLiquidationOperator },
  { group: "long/short", def: derivLongShortOperator },
  { group: "time", def: derivTimeOperator },
  { group: "interactions", def: derivInteractionOperator },
] as const;

/**
 * Default history replayed before the range by the preset's entry points (CLI, main job): 34 days —
 * the 100 funding events (33⅓ days at 8 h) of the funding statistics, which covers every other window
 * (7 d, 24 h, and the row windows on 5 m or 1 m bars).
 */
export const DERIVATIVES_WARMUP_MS = 34 * 86_400_000;

/** The members under a config: `deriv_bar` on the spine's source, then the groups. */
function members(cfg: FeatureRunConfig): FamilyMember[] {
  const s = derivSettings(cfg);
  const bars = cfg.spine.type === "bars";
  return [
    {
      def: derivBarOperator,
      config: { source: bars ? "bars" : "trades", intervalUs: bars ? s.barUs : 0 },
    },
    ...DERIVATIVES_GROUPS.map((g) => ({ def: g.def, config: s })),
  ];
}

/** The `derivatives` preset family (see the module doc). */
export const derivatives: FamilyDef = defineFamily({
  id: "deriv",
  prefix: "",
  title: "Derivatives preset (OI, price, volume, funding, liquidations, long/short, time, interactions)",
  flag: "includeDerivatives",
  members,
});

/** Feature presets: families with their own entry points, not part of Pointline's `--families` set. */
export const PRESETS: readonly FamilyDef[] = [derivatives];

/** The preset group of each output column of `derivatives` under `cfg` (bar columns: "bar"). */
export function derivativesGroups(cfg: FeatureRunConfig): Map<string, string> {
  const out = new Map<string, string>();
  const s = derivSettings(cfg);
  for (const o of derivBarOperator.outputs({
    config: { source: cfg.spine.type === "bars" ? "bars" : "trades", intervalUs: 0 },
    joinStrategy: "asof_backward",
  }))
    out.set(o.name, "bar");
  for (const g of DERIVATIVES_GROUPS)
    for (const o of g.def.outputs({ config: s, joinStrategy: "asof_backward" })) out.set(o.name, g.group);
  return out;
}
