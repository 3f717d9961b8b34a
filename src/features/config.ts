/**
 * `FeatureRunConfig`: which feature families to compute on which spine, with the window sizes of
 * Pointline's research API (`FeatureRunConfig` in pointline/research/features/runner.py): flow 50 rows,
 * book-shape depth 10 levels, liquidity 50 rows, basis 100 rows, trade burst 100 rows, regime 30 rows.
 * Windows are in spine rows (`…WindowRows`), depths in book levels.
 */
import { z } from "zod";
import { ConfigError, issuesText } from "../core/errors.js";
import { spineSpecSchema } from "../engine/spine-spec.js";

const windowRows = (d: number) => z.number().int().min(2).default(d);

/** zod schema of `FeatureRunConfig` (strict: unknown keys are errors). */
export const featureRunConfigSchema = z
  .object({
    spine: spineSpecSchema.default({
      type: "clock",
      stepMs: 1000,
      includePartialLastBar: false,
      maxRows: 5_000_000,
    }),
    includeMicrostructure: z.boolean().default(true),
    includeTradeFlow: z.boolean().default(true),
    includeFlowRolling: z.boolean().default(true),
    includeFunding: z.boolean().default(true),
    includeBookShape: z.boolean().default(true),
    includeExecutionCost: z.boolean().default(true),
    includeSpreadDynamics: z.boolean().default(true),
    includeLiquidityShock: z.boolean().default(true),
    includeBasisMomentum: z.boolean().default(true),
    includeTradeBurst: z.boolean().default(true),
    includeCrossVenue: z.boolean().default(false),
    includeRegime: z.boolean().default(true),
    /** Volume-bar aggregations of the volume-bar MFT guide (open…bar_duration_seconds); not in Pointline's set. */
    includeBarAggregations: z.boolean().default(false),
    /** The derivatives preset (issue 13, features/derivatives/preset.ts); not in Pointline's set. */
    includeDerivatives: z.boolean().default(false),
    flowWindowRows: windowRows(50),
    bookShapeDepth: z.number().int().min(2).max(25).default(10),
    liquidityWindowRows: windowRows(50),
    basisWindowRows: windowRows(100),
    tradeBurstWindowRows: windowRows(100),
    regimeWindowRows: windowRows(30),
    /** Spot instrument of the cross-venue family (perp = the frame's instrument). */
    crossVenue: z.object({ exchange: z.string().min(1), symbol: z.string().min(1) }).optional(),
    /**
     * History replayed before `start`, ms. Default: for clock and bars spines (2 × largest warm-up in rows + 2) × step (interval);
     * for event spines 0 (they always replay from the UTC midnight at or before start − warmupMs).
     */
    warmupMs: z.number().int().min(0).optional(),
  })
  .strict()
  .refine((c) => !c.includeCrossVenue || c.crossVenue !== undefined, {
    message: "includeCrossVenue needs crossVenue { exchange, symbol }",
    path: ["crossVenue"],
  });

/** Config as accepted from users (everything optional). */
export type FeatureRunInput = z.input<typeof featureRunConfigSchema>;
/** Validated config with defaults. */
export type FeatureRunConfig = z.output<typeof featureRunConfigSchema>;

/** Validates and fills defaults. @throws ConfigError listing every invalid field with its path. */
export function parseFeatureRunConfig(input: unknown = {}): FeatureRunConfig {
  const r = featureRunConfigSchema.safeParse(input);
  if (!r.success) {
    throw new ConfigError(`invalid feature config: ${issuesText(r.error.issues)}`);
  }
  return r.data;
}
