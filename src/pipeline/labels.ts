/**
 * Labels of pipeline v2 (issue #4, deliverable 3): forward-looking research targets computed from one
 * column of a finished pipeline frame.
 *
 * A frame has n rows (spine bars in time order) with Float64Array columns (NaN = null) and
 * `available_at_us` (µs since epoch, non-decreasing). Labels are the only values that look forward: row i's
 * label uses rows i+1 … i+window (bars, not time), i.e. data knowable after row i's `available_at_us`.
 * Features never do; label columns must never be fed back as features.
 *
 * Common rules (every type):
 * - A label is null when its horizon passes the data end (i + window ≥ n): it is never computed on a
 *   truncated horizon, so appending rows after row i + window can never change a complete label.
 * - Prices that are null (NaN) or ±Infinity are treated as null.
 * - Simple returns are computed as (x[j] − x[i]) / x[i] (the same real number as x[j]/x[i] − 1, one
 *   rounding when the difference is exact, e.g. integer price increments); log returns as
 *   log1p((x[j] − x[i]) / x[i]) (= ln(x[j]/x[i]) without the cancellation of log near 1).
 * - Thresholds in bps are converted as θ = threshold_bps / 10 000 (correctly rounded), so a return that is
 *   exactly at the threshold (both round to the same double) is not "above" it.
 *
 * Request JSON keys are snake_case (Pointline "quant research input v2").
 *
 * Sources: fixed-horizon and thresholded labels — López de Prado, "Advances in Financial Machine
 * Learning" (2018), §3.2; triple-barrier method — ibid. §3.4 (`getEvents`/`getBins`, with the dynamic
 * barrier width σ·multiplier of §3.3); purging of training rows whose horizon overlaps the test split —
 * ibid. §7.4.1.
 */
import { z } from "zod";
import { ConfigError, issuesText } from "../core/errors.js";
import { meanStd } from "./stats.js";

const labelName = z.string().min(1);
const columnName = z.string().min(1);
const windowBars = z.number().int().min(1);
/** Horizon in wall-clock ms (instead of `window` bars): the as-of row at available_at + horizon. */
const horizonMs = z.number().int().min(1);

/**
 * zod schema of one label spec (discriminated on `type`, strict: unknown keys are errors):
 *
 * - `forward_return { name, column, window, return_type = "simple" | "log", normalization = "none" |
 *   "standardized" }` → r_i = x[i+w]/x[i] − 1 (log: ln(x[i+w]/x[i])); null when i+w ≥ n, x[i] or x[i+w]
 *   null, x[i] ≤ 0 (log also x[i+w] ≤ 0). "standardized" → (r − mean)/std fitted on purged training rows.
 * - `direction { name, column, window, threshold_bps = 0 }` → 1 if the simple return > θ else 0.
 * - `three_class { name, column, window, threshold_bps > 0 }` → 1 if r > θ, −1 if r < −θ, else 0.
 * - `triple_barrier { name, column, window, profit_take > 0, stop_loss > 0, vol_window ≥ 2 }` → −1/0/1 and
 *   `${name}_touch_us`.
 *
 * `forward_return`, `direction` and `three_class` take either `window` (bars) or `horizon_ms` (wall clock,
 * the derivatives targets: 1 h, 4 h, 24 h): with a horizon H the forward row of row i is the last row j with
 * available_at_us[j] ≤ available_at_us[i] + H (the value as known at t + H; j may equal i across a market
 * closure, giving a 0 return), and the label is null when the frame's last row is before available_at_us[i]
 * + H (the horizon runs past the data). `three_class` may set `class_values` (short, neutral, long).
 */
export const labelSpecSchema = z.discriminatedUnion("type", [
  z
    .object({
      name: labelName,
      type: z.literal("forward_return"),
      column: columnName,
      window: windowBars.optional(),
      horizon_ms: horizonMs.optional(),
      return_type: z.enum(["simple", "log"]).default("simple"),
      normalization: z.enum(["none", "standardized"]).default("none"),
    })
    .strict(),
  z
    .object({
      name: labelName,
      type: z.literal("direction"),
      column: columnName,
      window: windowBars.optional(),
      horizon_ms: horizonMs.optional(),
      threshold_bps: z.number().default(0),
    })
    .strict(),
  z
    .object({
      name: labelName,
      type: z.literal("three_class"),
      column: columnName,
      window: windowBars.optional(),
      horizon_ms: horizonMs.optional(),
      threshold_bps: z.number().positive(),
      /** Class values for (short, neutral, long): default −1, 0, 1; the OI guide's target_class is 0, 1, 2. */
      class_values: z.tuple([z.number(), z.number(), z.number()]).default([-1, 0, 1]),
    })
    .strict(),
  z
    .object({
      name: labelName,
      type: z.literal("triple_barrier"),
      column: columnName,
      window: windowBars,
      profit_take: z.number().positive(),
      stop_loss: z.number().positive(),
      vol_window: z.number().int().min(2),
    })
    .strict(),
]);

/** A validated label spec (defaults filled). */
export type LabelSpec = z.output<typeof labelSpecSchema>;
/** A label spec as written in a request (defaults optional). */
export type LabelSpecInput = z.input<typeof labelSpecSchema>;

/** Fitted standardization of one `normalization: "standardized"` label. */
export interface LabelFit {
  /** Label name. */
  readonly label: string;
  /** Mean of the raw returns on the fit rows. */
  readonly mean: number;
  /** Sample standard deviation (ddof 1) of the raw returns on the fit rows. */
  readonly std: number;
  /** Rows used: i < trainRows, i + window < trainRows (purged), raw return non-null. */
  readonly fitRows: number;
}

/** Frame columns the labels read. */
export interface LabelInput {
  /** Number of rows. */
  readonly n: number;
  /** Columns by name, each of length n (NaN = null). */
  readonly columns: ReadonlyMap<string, Float64Array>;
  /** available_at_us of each row (µs since epoch, non-decreasing), length n. */
  readonly availableAtUs: Float64Array;
}

/** Train/test split of the frame: rows [0, trainRows) are the training split. */
export interface LabelSplit {
  readonly trainRows: number;
}

/** Label columns (in spec order, see `labelOutputNames`) and the standardization fits. */
export interface LabelResult {
  readonly columns: Map<string, Float64Array>;
  readonly fits: LabelFit[];
}

/**
 * Validates one label spec (request JSON). @throws ConfigError listing every invalid field with its path.
 */
export function parseLabelSpec(input: unknown): LabelSpec {
  const r = labelSpecSchema.safeParse(input);
  const name =
    typeof input === "object" && input !== null && "name" in input ? String(input.name) : "(unnamed)";
  if (!r.success) throw new ConfigError(`invalid label spec '${name}': ${issuesText(r.error.issues)}`);
  const d = r.data as { window?: number; horizon_ms?: number };
  if ((d.window === undefined) === (d.horizon_ms === undefined))
    throw new ConfigError(`invalid label spec '${name}': give exactly one of window (bars) and horizon_ms`);
  return r.data;
}

/**
 * Output column names of a label spec: `[name]`, plus `${name}_touch_us` (µs since epoch, the
 * `available_at_us` of the row that touched a barrier) for `triple_barrier`.
 */
export function labelOutputNames(spec: LabelSpec): string[] {
  return labelOutputColumns(spec).map((c) => c.name);
}

/** One output column of a label: name, frame dtype and unit. */
export interface LabelOutputColumn {
  readonly name: string;
  readonly dtype: "Int64" | "Float64";
  readonly unit: string;
}

/**
 * Output columns of a label spec, in frame order: the label itself, plus `<name>_touch_us` (Int64, µs)
 * for `triple_barrier`.
 */
export function labelOutputColumns(spec: LabelSpec): LabelOutputColumn[] {
  switch (spec.type) {
    case "forward_return":
      return [
        {
          name: spec.name,
          dtype: "Float64",
          unit: spec.normalization === "standardized" ? "z-score (train-split fit)" : "return (ratio)",
        },
      ];
    case "direction":
      return [{ name: spec.name, dtype: "Float64", unit: "class {0,1}" }];
    case "three_class":
      return [{ name: spec.name, dtype: "Float64", unit: "class {-1,0,1}" }];
    case "triple_barrier":
      return [
        { name: spec.name, dtype: "Float64", unit: "class {-1,0,1}" },
        {
          name: `${spec.name}_touch_us`,
          dtype: "Int64",
          unit: "µs since epoch (available_at_us of the touching row)",
        },
      ];
  }
}

/**
 * Computes every label of `specs` on the frame.
 *
 * Returns one Float64Array of length n per output column (NaN = null), keyed by `labelOutputNames`, and a
 * `LabelFit` per standardized label. Each spec is re-validated with `labelSpecSchema`.
 *
 * Standardization (`forward_return` with `normalization: "standardized"`): z_i = (r_i − mean)/std, with mean
 * and sample std (ddof 1, two passes) fitted on the training rows only, purged: rows i < trainRows with
 * i + window < trainRows (the whole horizon inside the training split; López de Prado 2018 §7.4.1) and r_i
 * non-null. The fit is then applied to every row, so test-split values never influence it.
 *
 * `triple_barrier`: σ_i = sample std (ddof 1) of the vol_window one-bar log returns ln(x[j]/x[j−1]) for
 * j = i−vol_window+1 … i (backward only; null until vol_window returns exist, and while any of them is null
 * — Polars `rolling_std` semantics); for j = i+1 … i+window with x[j] non-null, R = x[j]/x[i] − 1: the first j
 * with R ≥ profit_take·σ_i → +1, with R ≤ −stop_loss·σ_i → −1 (both at the same j, possible only when
 * σ_i = 0 and R = 0 → −1, conservative); no touch → 0 at the vertical barrier j = i + window. The
 * `_touch_us` column holds available_at_us[j] of the touching (or vertical-barrier) row. Both null when
 * i + window ≥ n, σ_i null or x[i] null. Cost O(n·(vol_window + window)).
 *
 * @throws ConfigError for an invalid spec, a `column` missing from `columns` (naming the label and column),
 *   duplicate output names or output names that collide with an input column, trainRows not an integer
 *   in [0, n], or a standardized label with fewer than 2 fit rows or std 0 / non-finite.
 * @throws RangeError when a column or availableAtUs does not have n rows.
 */
export function computeLabels(
  input: LabelInput,
  specs: readonly LabelSpec[],
  split: LabelSplit,
): LabelResult {
  const { n, columns, availableAtUs } = input;
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`n must be a non-negative integer, got ${n}`);
  if (availableAtUs.length !== n) {
    throw new RangeError(`availableAtUs has ${availableAtUs.length} rows, expected ${n}`);
  }
  const { trainRows } = split;
  if (!Number.isInteger(trainRows) || trainRows < 0 || trainRows > n) {
    throw new ConfigError(`trainRows must be an integer in [0, ${n}], got ${trainRows}`);
  }
  const parsed = specs.map(parseLabelSpec);
  const seen = new Set<string>();
  for (const spec of parsed) {
    for (const out of labelOutputNames(spec)) {
      if (seen.has(out)) throw new ConfigError(`label output '${out}' is produced twice`);
      if (columns.has(out)) throw new ConfigError(`label output '${out}' collides with an existing column`);
      seen.add(out);
    }
    const x = columns.get(spec.column);
    if (x === undefined) {
      throw new ConfigError(`label '${spec.name}': column '${spec.column}' is not in the frame`);
    }
    if (x.length !== n) throw new RangeError(`column '${spec.column}' has ${x.length} rows, expected ${n}`);
  }

  const out = new Map<string, Float64Array>();
  const fits: LabelFit[] = [];
  for (const spec of parsed) {
    const x = columns.get(spec.column)!;
    const fwd =
      spec.type === "triple_barrier" ? null : forwardIndex(availableAtUs, spec.window, spec.horizon_ms);
    switch (spec.type) {
      case "forward_return": {
        const r = forwardReturns(x, fwd!, spec.return_type === "log");
        if (spec.normalization === "standardized") {
          const fit = fitStandardization(spec.name, r, fwd!, trainRows);
          for (let i = 0; i < n; i++) r[i] = (r[i]! - fit.mean) / fit.std;
          fits.push(fit);
        }
        out.set(spec.name, r);
        break;
      }
      case "direction": {
        const r = forwardReturns(x, fwd!, false);
        const theta = spec.threshold_bps / 10_000;
        for (let i = 0; i < n; i++) {
          const v = r[i]!;
          if (!Number.isNaN(v)) r[i] = v > theta ? 1 : 0;
        }
        out.set(spec.name, r);
        break;
      }
      case "three_class": {
        const r = forwardReturns(x, fwd!, false);
        const theta = spec.threshold_bps / 10_000;
        const [short, neutral, long] = spec.class_values;
        for (let i = 0; i < n; i++) {
          const v = r[i]!;
          if (!Number.isNaN(v)) r[i] = v > theta ? long : v < -theta ? short : neutral;
        }
        out.set(spec.name, r);
        break;
      }
      case "triple_barrier": {
        const [label, touch] = tripleBarrier(
          x,
          availableAtUs,
          spec.window,
          spec.profit_take,
          spec.stop_loss,
          spec.vol_window,
        );
        out.set(spec.name, label);
        out.set(`${spec.name}_touch_us`, touch);
        break;
      }
    }
  }
  return { columns: out, fits };
}

/**
 * Per row, the index of its forward row (−1 where the label is null): i + window (bars), or with a horizon
 * the last j with availableAtUs[j] ≤ availableAtUs[i] + H, −1 when the last row is before that time.
 * O(n) (two pointers; available_at is non-decreasing).
 */
export function forwardIndex(availableAtUs: Float64Array, window?: number, horizonMs?: number): Int32Array {
  const n = availableAtUs.length;
  const out = new Int32Array(n).fill(-1);
  if (window !== undefined) {
    for (let i = 0; i + window < n; i++) out[i] = i + window;
    return out;
  }
  const h = horizonMs! * 1000;
  const last = n > 0 ? availableAtUs[n - 1]! : Number.NEGATIVE_INFINITY;
  let j = 0;
  for (let i = 0; i < n; i++) {
    const t = availableAtUs[i]! + h;
    if (last < t) continue;
    if (j < i) j = i;
    while (j + 1 < n && availableAtUs[j + 1]! <= t) j++;
    out[i] = j;
  }
  return out;
}

/** Forward simple (or log) returns to each row's forward row; NaN where the label is null (see the module doc). */
function forwardReturns(x: Float64Array, fwd: Int32Array, log: boolean): Float64Array {
  const n = x.length;
  const r = new Float64Array(n).fill(Number.NaN);
  for (let i = 0; i < n; i++) {
    if (fwd[i]! < 0) continue;
    const a = x[i]!;
    const b = x[fwd[i]!]!;
    if (!Number.isFinite(a) || !Number.isFinite(b) || !(a > 0)) continue;
    const simple = (b - a) / a;
    if (log) {
      if (b > 0) r[i] = Math.log1p(simple);
    } else r[i] = simple;
  }
  return r;
}

/** Mean/std of the raw returns on the purged training rows; @throws ConfigError when not fittable. */
function fitStandardization(name: string, r: Float64Array, fwd: Int32Array, trainRows: number): LabelFit {
  // purged: rows whose forward row is inside the training split (i + w < trainRows for bar windows)
  const kept = new Float64Array(r.length).fill(Number.NaN);
  let end = 0;
  for (let i = 0; i < trainRows; i++) {
    if (fwd[i]! >= 0 && fwd[i]! < trainRows) {
      kept[end++] = r[i]!;
    }
  }
  const { mean, std, count } = meanStd(kept, 0, end);
  if (count < 2) {
    throw new ConfigError(
      `label '${name}': standardization needs ≥ 2 purged training rows (forward row < trainRows = ${trainRows} with a non-null return), got ${count}`,
    );
  }
  if (!(std > 0) || !Number.isFinite(std)) {
    throw new ConfigError(`label '${name}': standardization std is ${std} on ${count} training rows`);
  }
  return { label: name, mean, std, fitRows: count };
}

/** Triple-barrier labels and touch times (see `computeLabels`). */
function tripleBarrier(
  x: Float64Array,
  availableAtUs: Float64Array,
  window: number,
  profitTake: number,
  stopLoss: number,
  volWindow: number,
): [Float64Array, Float64Array] {
  const n = x.length;
  const label = new Float64Array(n).fill(Number.NaN);
  const touch = new Float64Array(n).fill(Number.NaN);
  // one-bar log returns, lr[j] = ln(x[j]/x[j−1]) (NaN for j = 0 or a null / non-positive price)
  const lr = new Float64Array(n).fill(Number.NaN);
  for (let j = 1; j < n; j++) {
    const a = x[j - 1]!;
    const b = x[j]!;
    if (Number.isFinite(a) && Number.isFinite(b) && a > 0 && b > 0) lr[j] = Math.log1p((b - a) / a);
  }
  for (let i = volWindow; i + window < n; i++) {
    const xi = x[i]!;
    if (!Number.isFinite(xi)) continue;
    // σ_i over lr[i − volWindow + 1 … i], two passes; null if any return in the window is null
    let s = 0;
    let ok = true;
    for (let j = i - volWindow + 1; j <= i; j++) {
      const v = lr[j]!;
      if (Number.isNaN(v)) {
        ok = false;
        break;
      }
      s += v;
    }
    if (!ok) continue;
    const m = s / volWindow;
    let ss = 0;
    for (let j = i - volWindow + 1; j <= i; j++) {
      const d = lr[j]! - m;
      ss += d * d;
    }
    const sigma = Math.sqrt(ss / (volWindow - 1));
    const up = profitTake * sigma;
    const down = -stopLoss * sigma;
    let lab = 0;
    let at = i + window;
    for (let j = i + 1; j <= i + window; j++) {
      const xj = x[j]!;
      if (!Number.isFinite(xj)) continue;
      const ret = (xj - xi) / xi;
      if (ret <= down) {
        lab = -1;
        at = j;
        break;
      }
      if (ret >= up) {
        lab = 1;
        at = j;
        break;
      }
    }
    label[i] = lab;
    touch[i] = availableAtUs[at]!;
  }
  return [label, touch];
}
