/**
 * Wall-clock times of an IANA time zone → UTC, through `luxon` (tzdb via Intl; DST handled by the
 * library, not by hand).
 *
 * Vendors such as QuantConnect Lean stamp rows with "milliseconds since midnight of the file's date" in
 * a zone (America/New_York for US equities). That is a **wall-clock** time: Lean builds it as
 * `date + TimeSpan.FromMilliseconds(ms)` in the zone, then converts to UTC. Rules on transition days:
 * - a wall time in a DST gap (e.g. 02:30 on 2013-03-10 in New York) does not exist; it maps forward by
 *   the gap (luxon's rule: 02:30 EST-that-does-not-exist → 03:30 EDT = 07:30 UTC);
 * - an ambiguous wall time (01:30 on 2013-11-03 occurs twice) takes the earlier instant (EDT, −4 h),
 *   as Lean's NodaTime lenient resolver does (luxon alone would take the later one).
 *
 * `DayClock` resolves one date once: on a day without a transition every row is `wall − offset` with a
 * constant offset (no library call per row); on a transition day each row goes through luxon.
 */
import { DateTime } from "luxon";

/** The zone of the US equity, option and index markets (Lean's exchange time zone for them). */
export const NEW_YORK = "America/New_York";
export const UTC = "UTC";

const MS_PER_DAY = 86_400_000;

/**
 * UTC ms of the wall-clock time `msOfDay` (ms after midnight, may exceed a day) of the calendar date
 * (y, mo 1-based, d) in `zone`. Gap times map forward, ambiguous times take the earlier instant.
 * @throws RangeError if `zone` is not a valid IANA zone.
 */
export function wallClockToUtcMs(zone: string, y: number, mo: number, d: number, msOfDay: number): number {
  if (zone === UTC) return Date.UTC(y, mo - 1, d) + msOfDay;
  const wall = new Date(Date.UTC(y, mo - 1, d) + msOfDay);
  const dt = DateTime.fromObject(
    {
      year: wall.getUTCFullYear(),
      month: wall.getUTCMonth() + 1,
      day: wall.getUTCDate(),
      hour: wall.getUTCHours(),
      minute: wall.getUTCMinutes(),
      second: wall.getUTCSeconds(),
      millisecond: wall.getUTCMilliseconds(),
    },
    { zone },
  );
  if (!dt.isValid) throw new RangeError(`invalid time zone '${zone}': ${dt.invalidExplanation ?? ""}`);
  const t = dt.toMillis();
  // luxon resolves an ambiguous wall time to the later (standard-time) instant; Lean (NodaTime's
  // lenient resolver) takes the earlier one: use it when one hour earlier shows the same wall time.
  const earlier = DateTime.fromMillis(t - 3_600_000, { zone });
  if (earlier.hour === dt.hour && earlier.minute === dt.minute && earlier.day === dt.day)
    return t - 3_600_000;
  return t;
}

/**
 * Converts ms-since-midnight of one calendar date in one zone to UTC ms. Constant-offset days cost one
 * subtraction per row; DST transition days call `wallClockToUtcMs` per row.
 */
export class DayClock {
  private readonly midnightWallUtc: number;
  /** Zone offset (ms, UTC − wall) valid for the whole day, or NaN on a transition day. */
  private readonly constantShift: number;
  constructor(
    readonly zone: string,
    readonly y: number,
    readonly mo: number,
    readonly d: number,
  ) {
    this.midnightWallUtc = Date.UTC(y, mo - 1, d);
    const a = wallClockToUtcMs(zone, y, mo, d, 0) - this.midnightWallUtc;
    const b = wallClockToUtcMs(zone, y, mo, d, MS_PER_DAY - 1) - (this.midnightWallUtc + MS_PER_DAY - 1);
    this.constantShift = a === b ? a : Number.NaN;
  }
  /** True when the zone changes its offset during this date. */
  get transitionDay(): boolean {
    return Number.isNaN(this.constantShift);
  }
  /** UTC ms of wall-clock `msOfDay` of this date. */
  utcMs(msOfDay: number): number {
    if (!Number.isNaN(this.constantShift)) return this.midnightWallUtc + msOfDay + this.constantShift;
    return wallClockToUtcMs(this.zone, this.y, this.mo, this.d, msOfDay);
  }
}
