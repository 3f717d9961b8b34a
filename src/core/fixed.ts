/**
 * Fixed-point decimals.
 *
 * Prices and sizes are stored as integers counting increments: `px_int = px / price_increment`.
 * Decoding goes straight from the vendor's decimal string to the integer using integer arithmetic
 * only (no `parseFloat` round trip), so `formatFixed(decode(s))` reproduces `s` exactly (up to
 * trailing zeros, which `formatFixed(..., { decimals })` can restore).
 *
 * Exactness rule: integers are held in JS doubles, exact up to 2^53 - 1 (`Number.MAX_SAFE_INTEGER`,
 * about 9.007e15). The decoder rejects any value whose scaled integer would exceed that bound instead of
 * rounding. Callers that form products (notional = px_int * qty_int) or long cumulative sums must check
 * against `MAX_EXACT_INT` or switch to BigInt; see `exactProduct`.
 */

/** Largest integer that a JS number holds exactly (2^53 - 1). */
export const MAX_EXACT_INT = Number.MAX_SAFE_INTEGER;

/** An increment `mantissa × 10^-scale` (e.g. "0.5" → {mantissa 5, scale 1}). */
export interface Increment {
  /** The increment as the canonical decimal string ("0.01"). */
  readonly text: string;
  /** Positive integer mantissa. */
  readonly mantissa: number;
  /** Number of decimal places (≥ 0). */
  readonly scale: number;
}

const POW10: readonly number[] = Array.from({ length: 23 }, (_, i) => 10 ** i);

/**
 * Parses an increment such as "0.01", "0.5", "1", "1e-8".
 * @throws RangeError if the text is not a positive decimal.
 */
export function parseIncrement(text: string): Increment {
  const d = new DecimalParser();
  if (!d.parse(text) || d.negative || d.mantissa === 0) {
    throw new RangeError(`invalid increment '${text}': expected a positive decimal such as 0.01`);
  }
  return { text: formatScaled(d.mantissa, d.decimals), mantissa: d.mantissa, scale: d.decimals };
}

/** The increment 10^-decimals ("0.001" for 3). */
export function incrementFromDecimals(decimals: number): Increment {
  if (!Number.isInteger(decimals) || decimals < 0 || decimals > 18) {
    throw new RangeError(`decimals must be an integer in [0, 18], got ${decimals}`);
  }
  return { text: formatScaled(1, decimals), mantissa: 1, scale: decimals };
}

/** Why a decode failed; `none` after a success. */
export type DecodeFailure =
  | "none"
  | "empty"
  | "not_a_number"
  | "negative"
  | "too_many_decimals"
  | "not_a_multiple"
  | "out_of_exact_range";

/** Human-readable text for a decode failure (used in quarantine reasons). */
export function describeFailure(f: DecodeFailure, text: string, inc?: Increment): string {
  switch (f) {
    case "none":
      return "ok";
    case "empty":
      return "empty value";
    case "not_a_number":
      return `'${text}' is not a decimal number`;
    case "negative":
      return `'${text}' is negative`;
    case "too_many_decimals":
      return `'${text}' has more decimals than the increment ${inc?.text ?? "?"} allows`;
    case "not_a_multiple":
      return `'${text}' is not a multiple of the increment ${inc?.text ?? "?"}`;
    case "out_of_exact_range":
      return `'${text}' exceeds the exact integer range (2^53) at increment ${inc?.text ?? "?"}`;
  }
}

/**
 * Allocation-free decimal parser. `parse(s)` reads an optionally signed decimal with optional
 * exponent and leaves the value as `mantissa × 10^-decimals` with trailing fractional zeros removed
 * (so `decimals` is the number of *significant* decimal places). Reuse one instance per stream.
 */
export class DecimalParser {
  mantissa = 0;
  decimals = 0;
  negative = false;
  failure: DecodeFailure = "none";

  /** Parses `s[start, end)`; returns false (and sets `failure`) on malformed or too-long input. */
  parse(s: string, start = 0, end = s.length): boolean {
    this.mantissa = 0;
    this.decimals = 0;
    this.negative = false;
    let i = start;
    if (i >= end) return this.fail("empty");
    let c = s.charCodeAt(i);
    if (c === 45 /* - */ || c === 43 /* + */) {
      this.negative = c === 45;
      i++;
    }
    let mant = 0;
    let digits = 0;
    let decimals = 0;
    let pendingZeros = 0; // fractional zeros not yet multiplied in (trailing-zero stripping)
    let inFrac = false;
    for (; i < end; i++) {
      c = s.charCodeAt(i);
      if (c >= 48 && c <= 57) {
        digits++;
        const digit = c - 48;
        if (inFrac) {
          if (digit === 0) {
            pendingZeros++;
            continue;
          }
          mant = mant * POW10[pendingZeros + 1]! + digit;
          decimals += pendingZeros + 1;
          pendingZeros = 0;
        } else {
          mant = mant * 10 + digit;
        }
        if (mant > MAX_EXACT_INT) return this.fail("out_of_exact_range");
      } else if (c === 46 /* . */ && !inFrac) {
        inFrac = true;
      } else if (c === 101 || c === 69 /* e E */) {
        break;
      } else {
        return this.fail("not_a_number");
      }
    }
    if (digits === 0) return this.fail("not_a_number");
    if (i < end) {
      // exponent
      i++;
      let expNeg = false;
      if (i < end && (s.charCodeAt(i) === 45 || s.charCodeAt(i) === 43)) {
        expNeg = s.charCodeAt(i) === 45;
        i++;
      }
      let exp = 0;
      let expDigits = 0;
      for (; i < end; i++) {
        c = s.charCodeAt(i);
        if (c < 48 || c > 57) return this.fail("not_a_number");
        exp = exp * 10 + (c - 48);
        expDigits++;
        if (exp > 300) return this.fail("out_of_exact_range");
      }
      if (expDigits === 0) return this.fail("not_a_number");
      decimals += expNeg ? exp : -exp;
      if (decimals < 0) {
        if (mant !== 0) {
          const k = -decimals;
          if (k >= POW10.length) return this.fail("out_of_exact_range");
          mant *= POW10[k]!;
          if (mant > MAX_EXACT_INT) return this.fail("out_of_exact_range");
        }
        decimals = 0;
      }
    }
    if (mant === 0) {
      decimals = 0;
      this.negative = false;
    } else {
      while (decimals > 0 && mant % 10 === 0) {
        mant /= 10;
        decimals--;
      }
    }
    this.mantissa = mant;
    this.decimals = decimals;
    this.failure = "none";
    return true;
  }

  private fail(f: DecodeFailure): false {
    this.failure = f;
    return false;
  }
}

/**
 * Decodes decimal strings to fixed-point integers at a given increment, without allocation.
 * `decode` returns the integer, or NaN with `failure` set (no exceptions on the hot path).
 */
export class FixedDecoder {
  failure: DecodeFailure = "none";
  private readonly p = new DecimalParser();

  /**
   * Decodes `s[start,end)` to `value / inc`. Negative values fail unless `allowNegative`.
   * @returns the exact integer count of increments, or NaN (see `failure`).
   */
  decode(s: string, inc: Increment, allowNegative = false, start = 0, end = s.length): number {
    const p = this.p;
    if (!p.parse(s, start, end)) {
      this.failure = p.failure;
      return Number.NaN;
    }
    if (p.negative && !allowNegative) {
      this.failure = "negative";
      return Number.NaN;
    }
    if (p.decimals > inc.scale) {
      this.failure = "too_many_decimals";
      return Number.NaN;
    }
    const shift = inc.scale - p.decimals;
    if (shift >= POW10.length) {
      this.failure = "out_of_exact_range";
      return Number.NaN;
    }
    const scaled = p.mantissa * POW10[shift]!;
    if (scaled > MAX_EXACT_INT) {
      this.failure = "out_of_exact_range";
      return Number.NaN;
    }
    let v = scaled;
    if (inc.mantissa !== 1) {
      if (scaled % inc.mantissa !== 0) {
        this.failure = "not_a_multiple";
        return Number.NaN;
      }
      v = scaled / inc.mantissa;
    }
    this.failure = "none";
    return p.negative ? -v : v;
  }
}

/** Number of significant decimal places of a decimal string ("61837.63000000" → 2), or -1 if malformed. */
export function significantDecimals(s: string, parser: DecimalParser = new DecimalParser()): number {
  return parser.parse(s) ? parser.decimals : -1;
}

function formatScaled(mantissa: number, scale: number, minDecimals = 0): string {
  const neg = mantissa < 0;
  let digits = String(Math.abs(mantissa));
  let out: string;
  if (scale <= 0) {
    out = digits + "0".repeat(-scale);
    if (minDecimals > 0) out += `.${"0".repeat(minDecimals)}`;
  } else {
    if (digits.length <= scale) digits = "0".repeat(scale - digits.length + 1) + digits;
    const intPart = digits.slice(0, digits.length - scale);
    let frac = digits.slice(digits.length - scale);
    frac = frac.replace(/0+$/, "");
    if (frac.length < minDecimals) frac += "0".repeat(minDecimals - frac.length);
    out = frac.length > 0 ? `${intPart}.${frac}` : intPart;
  }
  return neg && mantissa !== 0 ? `-${out}` : out;
}

/**
 * Formats a fixed-point integer back to its decimal string: `formatFixed(6183763, inc("0.01"))`
 * → "61837.63". Trailing zeros are dropped unless `minDecimals` asks for them, so
 * `formatFixed(v, inc, { minDecimals: 8 })` → "61837.63000000" reproduces Binance spot strings.
 * @throws RangeError if `value` is not a safe integer.
 */
export function formatFixed(value: number, inc: Increment, opts: { minDecimals?: number } = {}): string {
  if (!Number.isSafeInteger(value)) throw new RangeError(`formatFixed: ${value} is not a safe integer`);
  const scaled = value * inc.mantissa;
  if (!Number.isSafeInteger(scaled))
    throw new RangeError(`formatFixed: ${value} × ${inc.text} is out of range`);
  return formatScaled(scaled, inc.scale, opts.minDecimals ?? 0);
}

/** The float value of a fixed-point integer (for features; not exact in general). */
export function fixedToNumber(value: number, inc: Increment): number {
  return (value * inc.mantissa) / POW10[inc.scale]!;
}

/**
 * Exact product of two fixed-point integers (e.g. notional = px_int × qty_int), as a number when it
 * is below 2^53, otherwise NaN. Callers that must never lose a notional use `exactProductBig`.
 */
export function exactProduct(a: number, b: number): number {
  const p = a * b;
  return Math.abs(p) <= MAX_EXACT_INT ? p : Number.NaN;
}

/** Exact product as a BigInt (never overflows). */
export function exactProductBig(a: number, b: number): bigint {
  return BigInt(a) * BigInt(b);
}
