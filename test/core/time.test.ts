/**
 * Time parsing and formatting (src/core/time.ts). Expected values come from BigInt arithmetic on the
 * digit strings, a hand-written days→civil-date conversion, and hand-checked epoch constants:
 * 2024-08-08T00:00:00Z = 1723075200 s (the hftbacktest capture starts at 1723161255 s =
 * 2024-08-08T23:54:15Z, and 23·3600 + 54·60 + 15 = 86055 s earlier is midnight).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { ConfigError } from "../../src/core/errors.js";
import { parseEpochToUs, toUs, US_PER_DAY, usToIso, utcDate, utcDayStart } from "../../src/core/time.js";

const SEED = 1723161255;
const MIDNIGHT_20240808_US = 1_723_075_200_000_000;
const US_2000 = 946_684_800_000_000; // 2000-01-01T00:00:00Z = 10957 days × 86400 s
const US_2100 = 4_102_444_800_000_000; // 2100-01-01T00:00:00Z = 47482 days × 86400 s
const US_1900 = -2_208_988_800_000_000; // 1900-01-01T00:00:00Z = -25567 days × 86400 s

/** Days since 1970-01-01 → [year, month (1–12), day] (H. Hinnant's civil_from_days). */
function civilFromDays(z0: number): [number, number, number] {
  const z = z0 + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return [yoe + era * 400 + (m <= 2 ? 1 : 0), m, d];
}

const pad = (n: number | bigint, w: number): string => String(n).padStart(w, "0");

/** Reference ISO-8601 with microseconds, from BigInt floor division. */
function refIso(us: number): string {
  const u = BigInt(us);
  const day = 86_400_000_000n;
  let days = u / day;
  let rem = u % day;
  if (rem < 0n) {
    rem += day;
    days -= 1n;
  }
  const [y, m, d] = civilFromDays(Number(days));
  const hh = rem / 3_600_000_000n;
  const mi = (rem / 60_000_000n) % 60n;
  const ss = (rem / 1_000_000n) % 60n;
  const frac = rem % 1_000_000n;
  return `${pad(y, 4)}-${pad(m, 2)}-${pad(d, 2)}T${pad(hh, 2)}:${pad(mi, 2)}:${pad(ss, 2)}.${pad(frac, 6)}Z`;
}

describe("reference helpers (sanity)", () => {
  it("civilFromDays agrees with hand-checked dates", () => {
    assert.deepEqual(civilFromDays(0), [1970, 1, 1]);
    assert.deepEqual(civilFromDays(MIDNIGHT_20240808_US / US_PER_DAY), [2024, 8, 8]);
    assert.deepEqual(civilFromDays(10957), [2000, 1, 1]);
    assert.deepEqual(civilFromDays(-1), [1969, 12, 31]);
    assert.equal(refIso(1723161255030314), "2024-08-08T23:54:15.030314Z");
  });
});

describe("parseEpochToUs", () => {
  const usArb = fc.integer({ min: US_2000, max: US_2100 - 1 });

  it("detects s / ms / µs / ns from the digit count (property)", () => {
    fc.assert(
      fc.property(usArb, fc.integer({ min: 0, max: 999 }), (us, subUs) => {
        const big = BigInt(us);
        // seconds: only exact for whole seconds
        const sec = big / 1_000_000n;
        assert.equal(parseEpochToUs(sec.toString()), Number(sec * 1_000_000n));
        // milliseconds: floor to ms
        const ms = big / 1_000n;
        assert.equal(parseEpochToUs(ms.toString()), Number(ms * 1_000n));
        // microseconds
        assert.equal(parseEpochToUs(big.toString()), us);
        // nanoseconds with random sub-µs digits, floored
        const ns = big * 1_000n + BigInt(subUs);
        assert.equal(parseEpochToUs(ns.toString()), us);
      }),
      { seed: SEED, numRuns: 3000 },
    );
  });

  it("uses 10 / 13 / 16 / 19 digits for dates after 2001-09-09", () => {
    const us = 1723161255030314;
    assert.equal(parseEpochToUs("1723161255"), 1723161255000000);
    assert.equal(parseEpochToUs("1723161255030"), 1723161255030000);
    assert.equal(parseEpochToUs("1723161255030314"), us);
    assert.equal(parseEpochToUs("1723161255030314667"), us);
    assert.equal(parseEpochToUs("1723161255030314999"), us);
    // 2^53 < ns values: no double round trip
    assert.ok(1723161255030314999n > 2n ** 53n);
  });

  it("parses a sub-range of a capture line", () => {
    const line = `1723161255088176367 {"stream":"btcusdt@trade"}`;
    assert.equal(parseEpochToUs(line, 0, line.indexOf(" ")), 1723161255088176);
    const padded = `xx${line}`;
    assert.equal(parseEpochToUs(padded, 2, 2 + 19), 1723161255088176);
  });

  it("rejects non-digits and wrong lengths", () => {
    for (const bad of [
      "",
      "17231612", // 8 digits
      "172316125503031466712", // 21 digits
      "-1723161255",
      "1723161255.5",
      "17231612550303146a7",
      " 1723161255",
      "1723161255 ",
      "1e15000000",
      "+1723161255",
    ]) {
      assert.ok(Number.isNaN(parseEpochToUs(bad)), `'${bad}' should be NaN`);
    }
  });
});

describe("toUs", () => {
  const T = 1723161240123456; // 2024-08-08T23:54:00.123456Z = (1723075200 + 86040) s + 123456 µs

  it("keeps microseconds of ISO strings with Z", () => {
    assert.equal(T, (1723075200 + 23 * 3600 + 54 * 60) * 1_000_000 + 123456);
    assert.equal(toUs("2024-08-08T23:54:00.123456Z"), T);
    assert.equal(toUs("2024-08-08T23:54:00.123456789Z"), T); // ns truncated
    assert.equal(toUs("2024-08-08T23:54:00.123Z"), T - 456);
    assert.equal(toUs("2024-08-08T23:54:00.1Z"), T - 23456);
    assert.equal(toUs("2024-08-08T23:54:00Z"), T - 123456);
    assert.equal(toUs("2024-08-08T23:54Z"), T - 123456);
  });

  it("applies zone offsets", () => {
    assert.equal(toUs("2024-08-09T01:54:00.123456+02:00"), T);
    assert.equal(toUs("2024-08-09T01:54:00.123456+0200"), T);
    assert.equal(toUs("2024-08-08T18:54:00.123456-05:00"), T);
    assert.equal(toUs("2024-08-09T05:24:00.123456+05:30"), T);
    assert.equal(toUs("2024-08-08T23:54:00.123456+00:00"), T);
  });

  it("treats zone-less strings as UTC and accepts a space separator", () => {
    assert.equal(toUs("2024-08-08T23:54:00.123456"), T);
    assert.equal(toUs("2024-08-08 23:54:00.123456"), T);
  });

  it("reads a date alone as its UTC midnight and 24:00 as the next midnight", () => {
    assert.equal(toUs("2024-08-08"), MIDNIGHT_20240808_US);
    assert.equal(toUs("2024-08-08T00:00:00Z"), MIDNIGHT_20240808_US);
    assert.equal(toUs("2024-08-08T24:00:00Z"), MIDNIGHT_20240808_US + 86_400_000_000);
    assert.equal(toUs("2024-08-08T24:00"), toUs("2024-08-09"));
    assert.equal(toUs("2024-12-31T24:00:00Z"), toUs("2025-01-01"));
  });

  it("accepts Date, number, bigint and digit strings as µs", () => {
    assert.equal(toUs(new Date(1723161240123)), 1723161240123000);
    assert.equal(toUs(1723161255030314), 1723161255030314);
    assert.equal(toUs(1723161255030314n), 1723161255030314);
    assert.equal(toUs("1723161255030314"), 1723161255030314);
    assert.equal(toUs(0), 0);
  });

  it("throws ConfigError on garbage", () => {
    const bad: unknown[] = [
      "yesterday",
      "",
      "2024-08-08T",
      "2024/08/08",
      "2024-13-01",
      "2024-08-32",
      "2024-08-08T25:00:00Z",
      "2024-08-08T23:60:00Z",
      "2024-08-08T23:54:00+2:00",
      1.5,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      2 ** 60,
      2n ** 60n,
      new Date(Number.NaN),
    ];
    for (const b of bad) {
      assert.throws(() => toUs(b as string), ConfigError, `toUs(${String(b)}) should throw ConfigError`);
    }
  });

  it("rejects calendar-invalid fields instead of rolling them over", () => {
    // Date.UTC silently normalises these (Feb 30 → Mar 1, month 0 → previous December, second 75 →
    // next minute, 24:30 → next day 00:30); a time parser must refuse them.
    for (const b of [
      "2024-02-30",
      "2023-02-29",
      "2024-00-10",
      "2024-08-00",
      "2024-08-08T23:59:75Z",
      "2024-08-08T24:30:00Z",
    ]) {
      assert.throws(() => toUs(b), ConfigError, `toUs('${b}') should throw ConfigError`);
    }
  });

  it("matches the reference on random ISO strings with random offsets (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: US_2000, max: US_2100 - 1 }),
        fc.integer({ min: -12 * 60, max: 14 * 60 }).map((m) => m - (m % 15)),
        fc.integer({ min: 0, max: 3 }),
        (us, offMin, fracForm) => {
          // Local wall-clock time at the offset, written with 0, 3, 6 or 9 fractional digits.
          const local = refIso(us + offMin * 60_000_000);
          const base = local.slice(0, 19);
          const frac6 = local.slice(20, 26);
          const frac = ["", `.${frac6.slice(0, 3)}`, `.${frac6}`, `.${frac6}789`][fracForm]!;
          const sign = offMin < 0 ? "-" : "+";
          const a = Math.abs(offMin);
          const zone = offMin === 0 ? "Z" : `${sign}${pad(Math.floor(a / 60), 2)}:${pad(a % 60, 2)}`;
          const keep = [0, 3, 6, 6][fracForm]!;
          const expected = us - (Number(frac6) % 10 ** (6 - keep));
          assert.equal(toUs(`${base}${frac}${zone}`), expected, `${base}${frac}${zone}`);
        },
      ),
      { seed: SEED, numRuns: 3000 },
    );
  });
});

describe("usToIso / utcDate / utcDayStart", () => {
  it("usToIso equals the reference and round-trips through toUs (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: US_1900, max: US_2100 - 1 }), (us) => {
        const iso = usToIso(us);
        assert.equal(iso, refIso(us));
        assert.equal(toUs(iso), us);
        assert.equal(utcDate(us), refIso(us).slice(0, 10));
        const start = utcDayStart(us);
        assert.equal(refIso(start), `${refIso(us).slice(0, 10)}T00:00:00.000000Z`);
        assert.ok(start <= us && us < start + US_PER_DAY);
      }),
      { seed: SEED, numRuns: 5000 },
    );
  });

  it("hand-checked values", () => {
    assert.equal(usToIso(1723161255030314), "2024-08-08T23:54:15.030314Z");
    assert.equal(usToIso(0), "1970-01-01T00:00:00.000000Z");
    assert.equal(usToIso(-1), "1969-12-31T23:59:59.999999Z");
    assert.equal(utcDate(MIDNIGHT_20240808_US - 1), "2024-08-07");
    assert.equal(utcDate(MIDNIGHT_20240808_US), "2024-08-08");
    assert.equal(utcDayStart(1723161255030314), MIDNIGHT_20240808_US);
  });
});
