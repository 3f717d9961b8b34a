/**
 * `cv_` cross-venue family (Pointline `add_cross_venue_features`, pointline/research/features/families.py):
 * dislocation between the frame's instrument (the perpetual, role `book`) and a second instrument (the
 * spot market, role `spot_book`, `FeatureRunConfig.crossVenue`), from the as-of top of book of each.
 *
 * - perp_mid = (bid_px_int[0] + ask_px_int[0]) / 2 × perp price increment (quote currency, e.g. USDT), from
 *   the last perp `book_snapshot_25` row of the row's knowledge set;
 * - spot_mid = the same on the last spot `book_snapshot_25` row × the spot price increment;
 * - `cv_basis` = perp_mid − spot_mid (quote currency); `cv_basis_bps` = 1e4 · (perp_mid − spot_mid) / spot_mid
 *   (bps; null if spot_mid is 0). Both null until each book has a row with both sides since the replay start.
 *
 * Deviation from Pointline: Pointline subtracts the two mids in integer price increments. That is only a
 * price difference when both instruments share the increment; for Binance BTCUSDT the perp trades in
 * 0.1 USDT and spot in 0.01 USDT, so the integer difference is meaningless (off by a factor ~10 on one
 * leg). Here each mid is converted to a price with its own increment (`init(ctx)`: `ctx.primary` and
 * `ctx.crossVenue`, from the symbol registry at the range start) before subtracting. The quote currencies
 * must match (e.g. both USDT) for the basis to be a price difference; that is the caller's choice.
 *
 * Also here: `crossVenueMids` (the two as-of mids as columns `spot_mid_px`, `perp_mid_px`, Pointline's
 * pre-joined input columns); `buildCrossVenueMidFrame` (cross-venue-frame.ts) computes them on a clock
 * spine.
 *
 * Warm-up: 0 rows (as-of values). Both legs are fed in one replay in the total order (ts_local_us, table
 * rank, file_id, file_line_number), so each row sees exactly the events of both venues before its cut.
 */
import { ConfigError } from "../core/errors.js";
import { EMPTY_LEVELS, levels } from "../engine/inputs.js";
import type {
  EventCursor,
  JsonValue,
  Operator,
  OperatorContext,
  SourceRole,
  SpineRow,
} from "../engine/operator.js";
import { numberToJson, stateNumber, stateObject } from "../engine/operator.js";
import type { OutputMeta } from "../engine/registry.js";
import type { TypedRows } from "../query/query.js";
import { BOOK_DEPTH } from "../schema/tables.js";
import { POINTLINE_FAMILIES_SOURCE } from "./book-view.js";
import { defineFamily, type FamilyDef, familyOperator, outputBuilder } from "./family.js";

const SOURCE = `${POINTLINE_FAMILIES_SOURCE} (add_cross_venue_features); deviation: mids converted to prices with each instrument's price increment before differencing`;
const PIT_ASOF =
  "as-of backward on each venue: last book_snapshot_25 row of the perp and of the spot instrument in the row's knowledge set (ts_local_us < available_at for clock rows; up to the closing trade e* in the total order for event rows)";

/** The book_snapshot_25 columns read on each venue. */
const MID_READS = { bid_px_int: "levels", ask_px_int: "levels" } as const;

/**
 * Output fields shared by the `cv_` and `cvmid` outputs: as-of (warm-up 0 rows), PIT policy, and as
 * inputs the top-of-book prices of both venues and their price increments.
 */
const CV_SHARED = {
  warmupRows: 0,
  inputs: [
    "book_snapshot_25.bid_px_int (perp)",
    "book_snapshot_25.ask_px_int (perp)",
    "book_snapshot_25.bid_px_int (spot)",
    "book_snapshot_25.ask_px_int (spot)",
    "symbols.price_increment (perp, spot)",
  ],
  pitPolicy: PIT_ASOF,
};

/**
 * Output columns of the `cv_` operator (mode "basis"), in order, each declared once with its catalogue
 * metadata (the operator's `outputs` and the family catalogue are this list).
 */
export const CV_OUTPUTS: readonly OutputMeta[] = (() => {
  const mids =
    "perp_mid = (bid_px_int[0] + ask_px_int[0]) / 2 × perp price_increment; spot_mid = same on the spot book × spot price_increment";
  const col = outputBuilder({
    ...CV_SHARED,
    window: "as-of (last book row of each venue)",
    warmup: "0 rows (null until both venues have a book row)",
    source: SOURCE,
  });
  return [
    col("cv_basis", "f64", `perp_mid − spot_mid; ${mids}`, { unit: "quote currency (price units)" }),
    col("cv_basis_bps", "f64", `1e4 · (perp_mid − spot_mid) / spot_mid, null if spot_mid = 0; ${mids}`, {
      unit: "bps",
    }),
  ];
})();

/** Source of the `cvmid` outputs: the inputs of Pointline's cross-venue features. */
const MIDS_SOURCE = `${POINTLINE_FAMILIES_SOURCE} (add_cross_venue_features inputs)`;

/**
 * Output columns of the mids operator (mode "mids"), in order, each declared once with its catalogue
 * metadata (the operator's `outputs` and the `cvmid` catalogue are this list).
 */
export const CVMID_OUTPUTS: readonly OutputMeta[] = (() => {
  const col = outputBuilder({
    ...CV_SHARED,
    unit: "quote currency (price units)",
    window: "as-of (last book row of the venue)",
    warmup: "0 rows (null until the venue has a book row)",
    source: MIDS_SOURCE,
  });
  return [
    col("spot_mid_px", "f64", "(bid_px_int[0] + ask_px_int[0]) / 2 × spot price_increment"),
    col("perp_mid_px", "f64", "(bid_px_int[0] + ask_px_int[0]) / 2 × perp price_increment"),
  ];
})();

/** Best bid/ask level columns of one role's current batch (resolved once per batch). */
class MidReader {
  private rows: TypedRows | null = null;
  private bid = EMPTY_LEVELS;
  private ask = EMPTY_LEVELS;

  /**
   * Mid of the book row under the cursor in price increments; NaN if a side is empty.
   * @throws ConfigError if the batch lacks a level column of `MID_READS`.
   */
  midInt(ev: EventCursor): number {
    if (ev.rows !== this.rows) {
      this.rows = ev.rows;
      this.bid = levels(ev.rows, "bid_px_int");
      this.ask = levels(ev.rows, "ask_px_int");
    }
    const bid = this.bid;
    const ask = this.ask;
    const i = ev.i;
    return bid.lens[i]! > 0 && ask.lens[i]! > 0
      ? (bid.values[i * BOOK_DEPTH]! + ask.values[i * BOOK_DEPTH]!) / 2
      : Number.NaN;
  }
}

/**
 * As-of perp and spot mids. `mode` "basis" writes `cv_basis`, `cv_basis_bps`; "mids" writes
 * `spot_mid_px`, `perp_mid_px`. O(1) per event and per row, no allocation.
 */
class CrossVenueOperator implements Operator {
  readonly id: string;
  readonly inputs: readonly SourceRole[] = ["book", "spot_book"];
  readonly reads = { book: MID_READS, spot_book: MID_READS } as const;
  readonly outputs: readonly OutputMeta[];
  /** Price increments (quote currency per increment) from `init`; NaN until then. */
  private perpInc = Number.NaN;
  private spotInc = Number.NaN;
  /** As-of mids in each instrument's price increments (NaN = none yet or an empty side). */
  private perpMidInt = Number.NaN;
  private spotMidInt = Number.NaN;
  /** Column readers of each venue's batches (not state). */
  private readonly perpMid = new MidReader();
  private readonly spotMid = new MidReader();

  constructor(private readonly mode: "basis" | "mids") {
    this.id = mode === "basis" ? "cross_venue" : "cross_venue_mids";
    this.outputs = mode === "basis" ? CV_OUTPUTS : CVMID_OUTPUTS;
  }

  /** @throws ConfigError if the run has no cross-venue (spot) instrument. */
  init(ctx: OperatorContext): void {
    if (!ctx.crossVenue) {
      throw new ConfigError("cross-venue features need a crossVenue { exchange, symbol } instrument");
    }
    this.perpInc = ctx.primary.priceIncrement;
    this.spotInc = ctx.crossVenue.priceIncrement;
  }

  onEvent(ev: EventCursor): void {
    if (ev.role === "spot_book") this.spotMidInt = this.spotMid.midInt(ev);
    else this.perpMidInt = this.perpMid.midInt(ev);
  }

  emit(_row: SpineRow, out: readonly Float64Array[], r: number): void {
    const perp = this.perpMidInt * this.perpInc;
    const spot = this.spotMidInt * this.spotInc;
    if (this.mode === "mids") {
      out[0]![r] = spot;
      out[1]![r] = perp;
      return;
    }
    out[0]![r] = perp - spot;
    out[1]![r] = spot !== 0 ? (1e4 * (perp - spot)) / spot : Number.NaN;
  }

  /** The as-of mids (increments come from `init`, which the engine calls before `restore`). */
  snapshot(): JsonValue {
    return { perpMidInt: numberToJson(this.perpMidInt), spotMidInt: numberToJson(this.spotMidInt) };
  }

  restore(state: JsonValue): void {
    const s = stateObject(state, this.id);
    this.perpMidInt = stateNumber(s, "perpMidInt");
    this.spotMidInt = stateNumber(s, "spotMidInt");
  }
}

/** Registered operator of the `cv_` family (features/registry.ts). */
export const crossVenueOperator = familyOperator({
  name: "cross_venue",
  description:
    "perp − spot basis (quote currency and bps) from the as-of top-of-book mids of the frame's instrument and of the cross-venue spot instrument, each converted with its own price increment",
  source: SOURCE,
  outputs: () => CV_OUTPUTS,
  create: () => new CrossVenueOperator("basis"),
});

/**
 * The `cv_` cross-venue family (flag `includeCrossVenue`, roles `book` (perp = the frame's instrument) and
 * `spot_book` (`cfg.crossVenue`)): `cv_basis` (quote currency) and `cv_basis_bps` (see the module doc,
 * including the deviation from Pointline's integer-mid difference).
 */
export const crossVenue: FamilyDef = defineFamily({
  id: "cv",
  prefix: "cv_",
  title: "Cross-venue (perpetual vs spot mid dislocation)",
  flag: "includeCrossVenue",
  members: () => [{ def: crossVenueOperator }],
});

/** Registered operator of the `cvmid` family (features/registry.ts). */
export const crossVenueMidsOperator = familyOperator({
  name: "cross_venue_mid",
  description:
    "as-of top-of-book mid prices (quote currency) of the cross-venue spot instrument and of the frame's instrument (perp)",
  source: MIDS_SOURCE,
  outputs: () => CVMID_OUTPUTS,
  create: () => new CrossVenueOperator("mids"),
});

/**
 * The two as-of mids as price columns `spot_mid_px`, `perp_mid_px` (quote currency): Pointline's
 * pre-joined inputs of `add_cross_venue_features`. Same flag and roles as `crossVenue`; not part of
 * `FAMILIES` (it duplicates information), used by `buildCrossVenueMidFrame`.
 */
export const crossVenueMids: FamilyDef = defineFamily({
  id: "cvmid",
  prefix: "",
  title: "Cross-venue mids (as-of spot and perp mid prices)",
  flag: "includeCrossVenue",
  members: () => [{ def: crossVenueMidsOperator }],
});
