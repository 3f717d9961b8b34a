/**
 * Lean futures contracts: symbol naming and expiry rules (used by the Lean zip reader, zip.ts, which reads
 * futures trade/quote bars, ticks and open interest: one CSV per contract inside each zip, named
 * `<YYYYMMDD>_<root>_<resolution>_<trade|quote|openinterest>_<YYYYMM>.csv`, YYYYMM = the delivery month).
 *
 * Expiry rules (last trading instant; the zips only name the month):
 * - CME equity-index quarterlies (`ES`, `NQ`, `YM`, `RTY`, `EMD`, `MES`, `MNQ`, `MYM`): trading terminates
 *   at 09:30 America/New_York on the **third Friday** of the contract month (CME Rulebook ch. 358 §35802.G
 *   for E-mini S&P 500: "Trading in expiring futures terminates at 9:30 a.m. ET on the 3rd Friday of the
 *   contract month"; the final settlement is the Special Opening Quotation).
 * - other roots: unknown here (null; the registry keeps the contract month). Holidays are not applied
 *   (no exchange calendar): a third Friday that is an exchange holiday would be off by the calendar's rule.
 */
import { US_PER_MS } from "../../core/time.js";
import { NEW_YORK, wallClockToUtcMs } from "../../core/zone.js";

const MONTH_CODES = "FGHJKMNQUVXZ";

/** `ES`, 2013, 12 → `ESZ13` (CME month code, 2-digit year). */
export function futuresSymbol(root: string, year: number, month: number): string {
  return `${root.toUpperCase()}${MONTH_CODES[month - 1]}${String(year % 100).padStart(2, "0")}`;
}

const THIRD_FRIDAY_0930_ET = new Set(["ES", "NQ", "YM", "RTY", "EMD", "MES", "MNQ", "MYM"]);

/** Day of month (1-based) of the third Friday of (year, month 1-based). */
export function thirdFriday(year: number, month: number): number {
  const dow = new Date(Date.UTC(year, month - 1, 1)).getUTCDay(); // 0 Sunday … 5 Friday
  return 1 + ((5 - dow + 7) % 7) + 14;
}

/**
 * Last trading instant (µs UTC) of the contract of `root` delivering in (year, month), by the rules of
 * the module doc; null when the root's rule is not known here.
 */
export function contractExpiryUs(root: string, year: number, month: number): number | null {
  if (!THIRD_FRIDAY_0930_ET.has(root.toUpperCase())) return null;
  return wallClockToUtcMs(NEW_YORK, year, month, thirdFriday(year, month), 9.5 * 3_600_000) * US_PER_MS;
}
