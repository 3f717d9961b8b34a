/**
 * Time handling. All Pointline timestamps are integer microseconds since the Unix epoch, UTC
 * (`*_us` columns). They fit exactly in a JS number until the year 2255 (2^53 µs).
 */
import { ConfigError } from "./errors.js";

/** A time accepted by the public API: ISO-8601 string, Date, or integer µs since epoch (number/bigint). */
export type TimeInput = string | Date | number | bigint;

export const US_PER_MS = 1_000;
export const US_PER_SECOND = 1_000_000;
export const US_PER_MINUTE = 60_000_000;
export const US_PER_HOUR = 3_600_000_000;
export const US_PER_DAY = 86_400_000_000;

const ISO_RE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?(Z|[+-]\d{2}:?\d{2})?$/;

/**
 * UTC calendar fields (month 1–12) → ms since the epoch, or NaN when a field is out of range: calendar-
 * invalid fields are rejected instead of rolled over as `Date.UTC` would (Feb 30, 23:59:75).
 */
export function utcCalendarMs(y: number, mo: number, d: number, hh: number, mi: number, ss: number): number {
  const ms = Date.UTC(y, mo - 1, d, hh, mi, ss);
  const back = new Date(ms);
  return !Number.isNaN(ms) &&
    back.getUTCFullYear() === y &&
    back.getUTCMonth() === mo - 1 &&
    back.getUTCDate() === d &&
    back.getUTCHours() === hh &&
    back.getUTCMinutes() === mi &&
    back.getUTCSeconds() === ss
    ? ms
    : Number.NaN;
}

/**
 * Converts a TimeInput to µs since epoch.
 * - ISO strings keep sub-millisecond digits ("2024-08-08T23:54:00.123456Z"); a string without zone is UTC;
 *   a date alone ("2024-08-08") is its UTC midnight; "24:00" is accepted as the next midnight.
 * - numbers/bigints are taken as µs and must be integers.
 * @throws ConfigError on anything else.
 */
export function toUs(t: TimeInput): number {
  if (typeof t === "number") {
    if (!Number.isSafeInteger(t)) throw new ConfigError(`time ${t} is not an integer number of µs`);
    return t;
  }
  if (typeof t === "bigint") {
    const n = Number(t);
    if (!Number.isSafeInteger(n)) throw new ConfigError(`time ${t} µs is out of range`);
    return n;
  }
  if (t instanceof Date) {
    const ms = t.getTime();
    if (Number.isNaN(ms)) throw new ConfigError("invalid Date");
    return ms * US_PER_MS;
  }
  const m = ISO_RE.exec(t.trim());
  if (m === null) {
    if (/^-?\d+$/.test(t.trim())) return toUs(Number(t.trim()));
    throw new ConfigError(`cannot parse time '${t}': expected ISO-8601 (e.g. 2024-08-08T23:54:00Z) or µs`);
  }
  const [, y, mo, d, hh = "0", mi = "0", ss = "0", frac = "", zone = "Z"] = m;
  const [Y, M, D, H, MI, S] = [y, mo, d, hh, mi, ss].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  // hour 24 is accepted only as 24:00:00 (the next midnight)
  const day = utcCalendarMs(Y, M, D, H === 24 ? 0 : H, MI, S);
  const valid = !Number.isNaN(day) && (H !== 24 || (MI === 0 && S === 0 && /^0*$/.test(frac)));
  if (!valid) throw new ConfigError(`invalid time '${t}': a field is out of range`);
  const ms = H === 24 ? day + 24 * 3_600_000 : day;
  let us = ms * US_PER_MS + Number(frac.padEnd(6, "0").slice(0, 6));
  if (zone !== "Z") {
    const sign = zone[0] === "-" ? -1 : 1;
    const z = zone.slice(1).replace(":", "");
    us -= sign * (Number(z.slice(0, 2)) * 60 + Number(z.slice(2, 4))) * 60 * US_PER_SECOND;
  }
  return us;
}

/** µs → ISO-8601 with microseconds ("2024-08-08T23:54:15.030314Z"). */
export function usToIso(us: number): string {
  const ms = Math.floor(us / US_PER_MS);
  const rem = us - ms * US_PER_MS;
  const base = new Date(ms).toISOString(); // ...sss Z
  return `${base.slice(0, 23)}${String(rem).padStart(3, "0")}Z`;
}

/** UTC date (YYYY-MM-DD) of a µs timestamp: the lake's partition key. */
export function utcDate(us: number): string {
  return new Date(Math.floor(us / US_PER_MS)).toISOString().slice(0, 10);
}

/** Start (µs) of the UTC day containing `us`. */
export function utcDayStart(us: number): number {
  return Math.floor(us / US_PER_DAY) * US_PER_DAY;
}

/**
 * Parses an unsigned integer epoch timestamp from `s[start,end)` and converts it to µs, detecting
 * the unit from the digit count: 10 → s, 13 → ms, 16 → µs, 19 → ns (any 9–11/12–14/15–17/18–20 digits
 * likewise). Nanoseconds are floored to µs by dropping the last three digits of the string, so values
 * above 2^53 never pass through a double. Returns NaN if malformed.
 */
export function parseEpochToUs(s: string, start = 0, end = s.length): number {
  const n = end - start;
  if (n < 9 || n > 20) return Number.NaN;
  let digitsToRead = n;
  let mul = 1;
  if (n >= 18)
    digitsToRead = n - 3; // ns → µs (floor)
  else if (n >= 15) mul = 1;
  else if (n >= 12) mul = 1_000;
  else mul = 1_000_000;
  let v = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return Number.NaN;
    if (i - start < digitsToRead) v = v * 10 + (c - 48);
  }
  return v * mul;
}
