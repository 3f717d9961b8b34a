/**
 * Every feature family, in frame column order (Pointline's `build_feature_frame` order, then the
 * volume-bar aggregations). Add a family by appending its `FamilyDef` here.
 */
import { barAggregations } from "./bar-aggregations.js";
import { basisMomentum } from "./basis-momentum.js";
import { bookShape } from "./book-shape.js";
import { crossVenue } from "./cross-venue.js";
import { executionCost } from "./execution-cost.js";
import type { FamilyDef } from "./family.js";
import { flowRolling } from "./flow-rolling.js";
import { funding } from "./funding.js";
import { liquidityShock } from "./liquidity-shock.js";
import { microstructure } from "./microstructure.js";
import { regime } from "./regime.js";
import { spreadDynamics } from "./spread-dynamics.js";
import { tradeBurst } from "./trade-burst.js";
import { tradeFlow } from "./trade-flow.js";

export const FAMILIES: readonly FamilyDef[] = [
  microstructure,
  tradeFlow,
  flowRolling,
  funding,
  bookShape,
  executionCost,
  spreadDynamics,
  liquidityShock,
  basisMomentum,
  tradeBurst,
  crossVenue,
  regime,
  barAggregations,
];
