/**
 * Units of user-facing frames (DESIGN.md "Units"): a column whose name ends in `_int` is in fixed-point
 * increments of the instrument (the lake's storage unit, exact integers); every other price or quantity
 * column is in natural units — prices in quote currency, sizes in base units — so `vwap`, `open`,
 * `ms_mid_px` read like prices. Operators compute in increments (exact integer arithmetic where
 * possible) and declare the unit of each output; the conversion happens once, at the sink that builds a
 * user-facing frame (DataFrame, Parquet, CSV, pipeline columns), by `frameUnits`.
 *
 * Operator units converted (all others — bps, ratios, µs, counts, rates, quote currency — are kept):
 *
 * | operator unit | frame unit | value |
 * |---|---|---|
 * | `price increments` | `quote currency` | v × price_increment |
 * | `qty increments` | `base units` | v × amount_increment |
 * | `qty increments per trade` | `base units per trade` | v × amount_increment |
 * | `price increments per qty increment` | `quote currency per base unit` | v × price_increment / amount_increment |
 *
 * Rounding: an increment is a decimal m·10^−s (registry text, e.g. "0.1" = 1·10^−1). A value v becomes
 * (v·m) / 10^s: for an integer v with |v·m| < 2^53 both operands are exact and IEEE division rounds once,
 * so the result is the double nearest to the exact decimal price (e.g. 612345 × "0.1" → 61234.5, the same
 * double as `Number("61234.5")`), not the product with the inexact double 0.1. A non-integer v (a mean,
 * a mid of x.5 increments) takes one more rounding in v·m when m > 1 (never when m = 1, the usual case).
 * The per-qty ratio is (v · pm · 10^qs) / (am · 10^ps): at most three roundings. NaN (null) stays NaN.
 */
import type { Increment } from "../core/fixed.js";
import type { OutputSpec } from "./operator.js";

/** Increments of the instrument a frame's values are counted in. */
export interface FrameIncrements {
  readonly price: Increment;
  readonly amount: Increment;
}

/** How one output column appears in a frame: its frame unit and the conversion of its values. */
export interface FrameUnit {
  /** Unit in the frame (and its manifest). */
  readonly unit: string;
  /** Multiplier numerator and divisor: frame value = (v · mul) / div; null = kept as computed. */
  readonly scale: { readonly mul: number; readonly div: number } | null;
}

const POW10 = (k: number): number => 10 ** k;

/** Operator unit → frame unit, for the units that have a natural form (see the module doc). */
const NATURAL: Readonly<Record<string, string>> = {
  "price increments": "quote currency",
  "qty increments": "base units",
  "qty increments per trade": "base units per trade",
  "price increments per qty increment": "quote currency per base unit",
};

/** The unit a frame shows for `output` (no increments needed): natural, unless `_int` or unitless. */
export function frameUnitName(output: Pick<OutputSpec, "name" | "unit">): string {
  if (output.name.endsWith("_int")) return output.unit;
  return NATURAL[output.unit] ?? output.unit;
}

/**
 * The frame unit of `output` (see the module doc): `_int` columns and units without a natural form are
 * kept; price/qty increment units are converted with the instrument's increments.
 */
export function frameUnit(output: Pick<OutputSpec, "name" | "unit">, inc: FrameIncrements): FrameUnit {
  const unit = frameUnitName(output);
  if (unit === output.unit) return { unit, scale: null };
  const p = inc.price;
  const a = inc.amount;
  switch (output.unit) {
    case "price increments":
      return { unit, scale: { mul: p.mantissa, div: POW10(p.scale) } };
    case "qty increments":
    case "qty increments per trade":
      return { unit, scale: { mul: a.mantissa, div: POW10(a.scale) } };
    default:
      // price increments per qty increment
      return { unit, scale: { mul: p.mantissa * POW10(a.scale), div: a.mantissa * POW10(p.scale) } };
  }
}
/** Frame units of `outputs`, in order. */
export function frameUnits(
  outputs: readonly Pick<OutputSpec, "name" | "unit">[],
  inc: FrameIncrements,
): FrameUnit[] {
  return outputs.map((o) => frameUnit(o, inc));
}

/**
 * One value in frame units: (v · mul) / div, or `v` itself when the unit is kept (NaN stays NaN). The
 * single conversion every sink uses: `toFrameUnit` (columns of batch frames and pipeline runs) applies it
 * to each element, live sinks to each row, so a live row's value is bitwise the batch frame's.
 */
export function toFrameValue(v: number, u: FrameUnit): number {
  const s = u.scale;
  if (s === null) return v;
  return s.mul === 1 ? v / s.div : (v * s.mul) / s.div;
}

/**
 * `values` in frame units (`toFrameValue` of each): a new array, or `values` itself when the unit is
 * kept. Never mutates its input (batches handed to sinks are immutable).
 */
export function toFrameUnit(values: Float64Array, u: FrameUnit): Float64Array {
  if (u.scale === null) return values;
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = toFrameValue(values[i]!, u);
  return out;
}
