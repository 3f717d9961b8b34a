/**
 * The built-in operator registry: every pipeline aggregation (pipeline/aggregations/) and every feature
 * family's operators (features/families.ts), registered once in one `OperatorRegistry`
 * (engine/registry.ts). Families are groups of these registered operators; pipeline requests address
 * them by name. An application that adds operators builds its own instance:
 *
 * ```ts
 * const registry = builtinRegistry().register(myOperatorDef);
 * await runPipeline(request, { lake, registry });
 * ```
 */
import { OperatorRegistry } from "../engine/registry.js";
import { BUILTIN_AGGREGATIONS } from "../pipeline/aggregations/index.js";
import { parseFeatureRunConfig } from "./config.js";
import { crossVenueMids } from "./cross-venue.js";
import { PRESETS } from "./derivatives/preset.js";
import { FAMILIES } from "./families.js";
import { intervalCrossAssetDef } from "./intervals/cross-asset.js";
import { intervalMicrostructureDef } from "./intervals/microstructure.js";
import { TRADER_PRESET } from "./trader/preset.js";
import { REPLAY_OPERATORS } from "./trader/replay.js";

/**
 * A fresh registry of the built-ins: the aggregations in catalogue order, then the family operators
 * not among them, in family order (and `cross_venue_mid` of `buildCrossVenueMidFrame`), then the trader
 * presets' operators (features/trader: `kline_1m`, `liquidation_notional_1m`, `null_column`,
 * `replay_1m`, `replay_rows`, `trader_*`), then the derivatives preset's operators
 * (features/derivatives/preset.ts). @throws ConfigError if two different definitions share a name.
 */
export function builtinRegistry(): OperatorRegistry {
  const r = new OperatorRegistry();
  // members do not depend on flags; the defaults' settings list them
  const cfg = parseFeatureRunConfig({});
  for (const s of BUILTIN_AGGREGATIONS) r.register(s);
  // FAMILIES, then the cross-venue mids family that buildCrossVenueMidFrame runs (not a frame family)
  for (const f of [...FAMILIES, crossVenueMids, ...PRESETS]) {
    for (const m of f.members(cfg)) if (r.get(m.def.name) !== m.def) r.register(m.def);
  }
  // the trader presets (issue #12): replay_1m's own operators (its other members are aggregations), then
  // replay_rows and the 33 features' operators
  for (const def of [...REPLAY_OPERATORS, ...TRADER_PRESET.members]) r.register(def);
  // multi-instrument interval frames (issue 14): one instance per instrument and interval
  r.register(intervalMicrostructureDef);
  r.register(intervalCrossAssetDef);
  return r;
}
