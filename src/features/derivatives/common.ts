/**
 * Shared pieces of the derivatives preset's operators: the preset settings a spine implies (bar length,
 * rows per wall-clock horizon), the catalogue entry builder, and the source text.
 */
import { z } from "zod";
import type { OutputDtype } from "../../engine/operator.js";
import type { OutputMeta } from "../../engine/registry.js";
import type { FeatureRunConfig } from "../config.js";

/** The reference guide (its feature names are the contract; its leaks are not reproduced). */
export const GUIDE =
  'OI ML feature-engineering guide ("Phase 2: ML Feature Engineering", shared/seeds/oi-ml-feature-engineering.md)';

export const US_PER_HOUR = 3_600_000_000;
export const US_PER_DAY = 86_400_000_000;

/** Settings every derivatives operator takes: the spine's bar length (µs), 0 for event spines. */
export interface DerivSettings extends Record<string, unknown> {
  /** Bar length of a clock or `bars:` spine, µs; 0 on event spines (bar count per hour unknown). */
  readonly barUs: number;
}

/** zod schema of `DerivSettings` (the `config` of every derivatives operator but `deriv_bar`). */
export const DERIV_SETTINGS_PARAMS = z
  .object({ barUs: z.number().int().min(0) })
  .strict() as z.ZodType<DerivSettings>;

/** The preset settings under a feature config. */
export function derivSettings(cfg: FeatureRunConfig): DerivSettings {
  const s = cfg.spine;
  return { barUs: s.type === "clock" ? s.stepMs * 1000 : s.type === "bars" ? s.intervalMs * 1000 : 0 };
}

/**
 * Warm-up rows of a wall-clock horizon: ⌈H / bar⌉ on clock and `bars:` spines, 0 on event spines (there
 * the warm-up is stated in time: replay at least H before the range, `warmupMs`).
 */
export function horizonRows(s: DerivSettings, horizonUs: number): number {
  return s.barUs > 0 ? Math.ceil(horizonUs / s.barUs) : 0;
}

/** `1h`, `4h`, `24h`, `7d` for the catalogue. */
export function horizonText(us: number): string {
  return us % US_PER_DAY === 0 && us >= 7 * US_PER_DAY ? `${us / US_PER_DAY}d` : `${us / US_PER_HOUR}h`;
}

/** The fields a derivatives output declares; `warmup` defaults to the row count in words. */
export interface Col {
  readonly unit: string;
  readonly warmupRows: number;
  readonly inputs: readonly string[];
  readonly window: string;
  readonly warmup?: string;
  readonly dtype?: OutputDtype;
}

/** A builder of `OutputMeta` with one PIT policy and source for an operator's outputs. */
export function catalogBuilder(pitPolicy: string, source: string) {
  return (name: string, formula: string, c: Col): OutputMeta => ({
    name,
    dtype: c.dtype ?? "f64",
    unit: c.unit,
    warmupRows: c.warmupRows,
    formula,
    inputs: c.inputs,
    window: c.window,
    warmup: c.warmup ?? (c.warmupRows === 0 ? "none" : `${c.warmupRows} rows (null until then)`),
    pitPolicy,
    version: 1,
    source,
  });
}

/** (a − b) / b, NaN when b is 0 or either is null (a fraction, not percent). */
export function rel(a: number, b: number): number {
  return b !== 0 ? (a - b) / b : Number.NaN;
}

/** np.sign with null propagation. */
export function sign(x: number): number {
  return x > 0 ? 1 : x < 0 ? -1 : Number.isNaN(x) ? Number.NaN : 0;
}

/**
 * Writes one row's outputs in column order without a per-row closure or array (the operators' `emit` hot
 * path): `const o = this.o.start(out, r); o.w(v); …` writes `out[0][r] = v`, then `out[1][r]`, ….
 */
export class RowCursor {
  private out: readonly Float64Array[] = [];
  private r = 0;
  private k = 0;
  /** Starts row `r` at output 0. */
  start(out: readonly Float64Array[], r: number): this {
    this.out = out;
    this.r = r;
    this.k = 0;
    return this;
  }
  /** Writes `v` to the next output. */
  w(v: number): void {
    this.out[this.k++]![this.r] = v;
  }
}
