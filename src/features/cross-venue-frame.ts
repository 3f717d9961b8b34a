/**
 * `buildCrossVenueMidFrame`: the cross-venue as-of mids (`crossVenueMids`, cross-venue.ts) of two
 * instruments on a clock spine. Kept apart from the family module so that the family list
 * (families.ts → cross-venue.ts) does not depend on the frame builder (frame.ts → families.ts).
 */

import type pl from "nodejs-polars";
import type { TimeInput } from "../core/time.js";
import type { LakeRef } from "../lake/lake.js";
import { crossVenueMids } from "./cross-venue.js";
import { buildFeatureFrame } from "./frame.js";

/** One instrument of `buildCrossVenueMidFrame`. */
export interface VenueInstrument {
  readonly exchange: string;
  /** Exchange symbol as stored, e.g. BTCUSDT. */
  readonly symbol: string;
}

/** Request of `buildCrossVenueMidFrame`. */
export interface CrossVenueMidFrameRequest {
  /** Lake root. */
  readonly lake: LakeRef;
  /** The perpetual (or any first leg): its book gives `perp_mid_px`. */
  readonly perp: VenueInstrument;
  /** The spot (second leg): its book gives `spot_mid_px`. */
  readonly spot: VenueInstrument;
  /** Inclusive start / exclusive end of the output range (ISO string, Date or µs). */
  readonly start: TimeInput;
  readonly end: TimeInput;
  /** Clock step, ms (default 1000). */
  readonly stepMs?: number;
  /** History replayed before `start`, ms (default: the clock default of `FeatureRunConfig.warmupMs`). */
  readonly warmupMs?: number;
}

/**
 * As-of spot and perp mid prices on a clock spine: a DataFrame with `ts_event_us`, `ts_end_us`,
 * `available_at_us`, `bar_index`, `bar_duration_us` (Int64, µs) and `spot_mid_px`, `perp_mid_px` (Float64,
 * quote currency; null before the venue's first book row since the replay start). Row k covers
 * [t_k, t_k + step) and holds the last book row of each venue with ts_local_us < t_k + step.
 * @throws ConfigError if an instrument is not in the lake's registry or the range is empty.
 */
export async function buildCrossVenueMidFrame(req: CrossVenueMidFrameRequest): Promise<pl.DataFrame> {
  return buildFeatureFrame({
    lake: req.lake,
    exchange: req.perp.exchange,
    symbol: req.perp.symbol,
    start: req.start,
    end: req.end,
    config: {
      spine: { type: "clock", stepMs: req.stepMs ?? 1000 },
      includeCrossVenue: true,
      crossVenue: { exchange: req.spot.exchange, symbol: req.spot.symbol },
      ...(req.warmupMs !== undefined ? { warmupMs: req.warmupMs } : {}),
    },
    families: [crossVenueMids],
  });
}
