/**
 * Quality statistics of a trader feature frame, shared by the Markdown and HTML reports (the reference's
 * sections): split coverage, source coverage, leakage check (prefix truncation, run for real), extreme
 * values, high correlation, drift and distribution.
 *
 * Definitions:
 * - quantiles: linear interpolation between order statistics over the non-null values (pandas'
 *   default `quantile`), of the frame's Float32 values;
 * - correlation: Pearson's ρ (pipeline/stats.ts) over the rows where both features are finite, on up to
 *   5,000 rows drawn without replacement by a seeded generator (seed 42; all rows when fewer); pairs with
 *   |ρ| ≥ 0.95 reported;
 * - leakage: for seeded cut times c (just after a random row's `available_at_us`), the features are
 *   recomputed from the replay rows knowable before c (`available_at_us < c`) and every feature of every
 *   row with `available_at_us < c` must be bitwise the full run's (engine/pit.ts
 *   `checkPrefixTruncationColumns`, the pipeline's lookahead gate logic).
 */
import pl from "nodejs-polars";
import { US_PER_MINUTE } from "../core/time.js";
import { type ColumnRows, checkPrefixTruncationColumns, type PitViolation } from "../engine/pit.js";
import { TRADER_FEATURES } from "../features/trader/features.js";
import { REPLAY_VALUE_COLUMNS } from "../features/trader/preset.js";
import { runTraderFeatures } from "../features/trader/run.js";
import { pearson, quantileSorted } from "../pipeline/stats.js";
import { FLAGS, type TraderFrame } from "./frame.js";
import { SPLIT_NAMES } from "./splits.js";

/** Per-feature distribution figures. */
export interface Distribution {
  readonly feature: string;
  readonly nulls: number;
  readonly nan: number;
  readonly posInf: number;
  readonly negInf: number;
  readonly finite: number;
  readonly min: number | null;
  readonly p01: number | null;
  readonly p50: number | null;
  readonly p99: number | null;
  readonly max: number | null;
}

/** The leakage check's figures. */
export interface LeakageCheck {
  readonly cuts: number;
  readonly cutsUs: readonly number[];
  readonly rowsCompared: number;
  readonly valuesCompared: number;
  readonly violations: readonly (PitViolation & { readonly symbol: string })[];
  readonly seed: number;
}

/** Everything the reports show. */
export interface QualityStats {
  readonly rows: number;
  readonly features: readonly string[];
  readonly flagCounts: Readonly<Record<string, number>>;
  readonly splitCounts: readonly {
    readonly split: string;
    readonly rows: number;
    readonly from: string | null;
    readonly to: string | null;
  }[];
  readonly foldCounts: readonly { readonly fold: string; readonly rows: number }[];
  readonly sourceCoverage: readonly {
    readonly column: string;
    readonly present: number;
    readonly share: number;
  }[];
  readonly leakage: LeakageCheck;
  readonly distribution: readonly Distribution[];
  readonly correlation: {
    readonly sampled: number;
    readonly pairs: readonly { a: string; b: string; rho: number }[];
    readonly matrix: readonly (readonly (number | null)[])[];
  };
  readonly drift: readonly {
    readonly feature: string;
    readonly bySplit: Readonly<Record<string, { p50: number | null; p99: number | null }>>;
  }[];
  /** Flag counts per UTC day (for the HTML chart). */
  readonly flagsPerDay: readonly { readonly day: string; readonly flag: string; readonly rows: number }[];
  /** Null share of the selected features per UTC day (for the HTML timeline). */
  readonly nullsPerDay: readonly {
    readonly day: string;
    readonly nullShare: number;
    readonly warmupRows: number;
  }[];
}

/** Deterministic PRNG (mulberry32). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Quantile of sorted finite values (pipeline/stats.ts, linear interpolation); null when empty. */
export function quantileOrNull(s: ArrayLike<number>, q: number): number | null {
  return s.length === 0 ? null : quantileSorted(s, q);
}

/** A frame column as float64 with null → NaN (and its null mask). */
export function columnValues(df: pl.DataFrame, name: string): { values: Float64Array; isNull: Uint8Array } {
  const isNull = df.select(pl.col(name).isNull().cast(pl.UInt8)).getColumn(name).toTypedArray() as Uint8Array;
  const v = df
    .select(pl.col(name).cast(pl.Float64).fillNull(pl.lit(Number.NaN)))
    .getColumn(name)
    .toTypedArray() as Float64Array;
  return { values: Float64Array.from(v), isNull: Uint8Array.from(isNull) };
}

function distribution(feature: string, values: Float64Array, isNull: Uint8Array): Distribution {
  let nulls = 0;
  let nan = 0;
  let posInf = 0;
  let negInf = 0;
  const finite: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (isNull[i]) nulls++;
    else if (Number.isNaN(v)) nan++;
    else if (v === Number.POSITIVE_INFINITY) posInf++;
    else if (v === Number.NEGATIVE_INFINITY) negInf++;
    else finite.push(v);
  }
  const s = Float64Array.from(finite).sort();
  return {
    feature,
    nulls,
    nan,
    posInf,
    negInf,
    finite: s.length,
    min: s.length ? s[0]! : null,
    p01: quantileOrNull(s, 0.01),
    p50: quantileOrNull(s, 0.5),
    p99: quantileOrNull(s, 0.99),
    max: s.length ? s[s.length - 1]! : null,
  };
}

/** Rows sampled for the correlation (up to `max`, seeded, ascending). */
export function sampleRows(n: number, max: number, seed: number): number[] {
  if (n <= max) return Array.from({ length: n }, (_, i) => i);
  const rnd = mulberry32(seed);
  const idx = Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < max; i++) {
    const j = i + Math.floor(rnd() * (n - i));
    const t = idx[i]!;
    idx[i] = idx[j]!;
    idx[j] = t;
  }
  return idx.slice(0, max).sort((a, b) => a - b);
}

/**
 * The prefix-truncation leakage check on the frame (see the module doc): `cutsPerSymbol` seeded cuts per
 * symbol over all its replay rows.
 */
export async function leakageCheck(tf: TraderFrame, cutsPerSymbol = 3, seed = 7): Promise<LeakageCheck> {
  const rnd = mulberry32(seed);
  const names = TRADER_FEATURES.filter((f) => tf.features.includes(f));
  const fIdx = names.map((f) => TRADER_FEATURES.indexOf(f));
  const cutsAll: number[] = [];
  let rowsCompared = 0;
  let valuesCompared = 0;
  const violations: (PitViolation & { symbol: string })[] = [];
  for (const [sym, { rows, features }] of tf.bySymbol) {
    const n = rows.eventUs.length;
    if (n < 2) continue;
    const toRows = (eventUs: Float64Array, cols: readonly Float64Array[]): ColumnRows => {
      const values = new Map<string, Float64Array>();
      values.set("ts_event_us", eventUs);
      values.set(
        "available_at_us",
        Float64Array.from(eventUs, (x) => x + US_PER_MINUTE),
      );
      names.forEach((f, k) => {
        values.set(f, cols[fIdx[k]!]!);
      });
      return { n: eventUs.length, values };
    };
    const full = toRows(rows.eventUs, features);
    const cuts = [
      ...new Set(
        Array.from(
          { length: cutsPerSymbol },
          () => rows.eventUs[Math.floor(rnd() * (n - 1))]! + US_PER_MINUTE + 1,
        ),
      ),
    ].sort((a, b) => a - b);
    const check = await checkPrefixTruncationColumns(
      full,
      async (cut) => {
        let m = 0;
        while (m < n && rows.eventUs[m]! + US_PER_MINUTE < cut) m++;
        const truncated = {
          eventUs: rows.eventUs.slice(0, m),
          columns: rows.columns.map((c) => c.slice(0, m)),
        };
        return toRows(truncated.eventUs, runTraderFeatures(sym, truncated).columns);
      },
      cuts,
      names,
    );
    cutsAll.push(...cuts);
    rowsCompared += check.rowsCompared;
    valuesCompared += check.rowsCompared * names.length;
    for (const v of check.violations) violations.push({ ...v, symbol: sym });
  }
  return { cuts: cutsAll.length, cutsUs: cutsAll, rowsCompared, valuesCompared, violations, seed };
}

const isoDay = (us: number) => new Date(us / 1000).toISOString().slice(0, 10);

/** Computes every statistic of the reports. */
export async function qualityStats(tf: TraderFrame): Promise<QualityStats> {
  const df = tf.frame;
  const rows = df.height;
  const eventUs = columnValues(df, "open_time_ms").values.map((x) => x * 1000);
  const splitId = df.getColumn("split_id").toArray() as string[];
  const foldId = df.getColumn("walk_forward_fold").toArray() as string[];
  const flags = df.getColumn("data_quality_flag").toArray() as string[];

  const splitNames = [...SPLIT_NAMES, "PURGED", "EMBARGO", "UNASSIGNED"];
  const splitCounts = splitNames.map((s) => {
    let k = 0;
    let from = Number.POSITIVE_INFINITY;
    let to = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < rows; i++)
      if (splitId[i] === s) {
        k++;
        from = Math.min(from, eventUs[i]!);
        to = Math.max(to, eventUs[i]!);
      }
    return {
      split: s,
      rows: k,
      from: k ? new Date(from / 1000).toISOString() : null,
      to: k ? new Date(to / 1000).toISOString() : null,
    };
  });
  const folds = [...new Set(foldId)].sort();
  const foldCounts = folds.map((f) => ({ fold: f, rows: foldId.filter((x) => x === f).length }));

  const sourceCoverage = REPLAY_VALUE_COLUMNS.map((c) => {
    const { isNull, values } = columnValues(df, c);
    let present = 0;
    for (let i = 0; i < rows; i++) if (!isNull[i] && !Number.isNaN(values[i]!)) present++;
    if (c === "liquidation_available") {
      present = 0;
      for (let i = 0; i < rows; i++) if (values[i] === 1) present++;
    }
    return { column: c, present, share: rows ? present / rows : 0 };
  });

  const cols = tf.features.map((f) => columnValues(df, f));
  const distributionRows = tf.features.map((f, k) => distribution(f, cols[k]!.values, cols[k]!.isNull));

  const sample = sampleRows(rows, 5000, 42);
  const mask = new Uint8Array(rows);
  for (const i of sample) mask[i] = 1;
  const matrix: (number | null)[][] = [];
  const pairs: { a: string; b: string; rho: number }[] = [];
  for (let a = 0; a < tf.features.length; a++) {
    const row: (number | null)[] = [];
    for (let b = 0; b < tf.features.length; b++) {
      const c = a === b ? 1 : b < a ? matrix[b]![a]! : pearson(cols[a]!.values, cols[b]!.values, mask).r;
      const r = c === null || Number.isNaN(c) ? null : c;
      row.push(r);
      if (b > a && r !== null && Math.abs(r) >= 0.95)
        pairs.push({ a: tf.features[a]!, b: tf.features[b]!, rho: r });
    }
    matrix.push(row);
  }

  const drift = tf.features.map((f, k) => {
    const bySplit: Record<string, { p50: number | null; p99: number | null }> = {};
    for (const s of SPLIT_NAMES) {
      const v: number[] = [];
      for (let i = 0; i < rows; i++)
        if (splitId[i] === s && Number.isFinite(cols[k]!.values[i]!)) v.push(cols[k]!.values[i]!);
      const sorted = Float64Array.from(v).sort();
      bySplit[s] = { p50: quantileOrNull(sorted, 0.5), p99: quantileOrNull(sorted, 0.99) };
    }
    return { feature: f, bySplit };
  });

  const perDay = new Map<string, { flags: Record<string, number>; nulls: number; cells: number }>();
  for (let i = 0; i < rows; i++) {
    const d = isoDay(eventUs[i]!);
    let e = perDay.get(d);
    if (!e) {
      e = { flags: {}, nulls: 0, cells: 0 };
      perDay.set(d, e);
    }
    e.flags[flags[i]!] = (e.flags[flags[i]!] ?? 0) + 1;
    for (const c of cols) {
      e.cells++;
      if (c.isNull[i]) e.nulls++;
    }
  }
  const days = [...perDay.keys()].sort();
  const flagsPerDay = days.flatMap((d) =>
    FLAGS.map((f) => ({ day: d, flag: f, rows: perDay.get(d)!.flags[f] ?? 0 })),
  );
  const nullsPerDay = days.map((d) => {
    const e = perDay.get(d)!;
    return { day: d, nullShare: e.cells ? e.nulls / e.cells : 0, warmupRows: e.flags.WARMUP ?? 0 };
  });

  return {
    rows,
    features: tf.features,
    flagCounts: tf.flagCounts,
    splitCounts,
    foldCounts,
    sourceCoverage,
    leakage: await leakageCheck(tf),
    distribution: distributionRows,
    correlation: { sampled: sample.length, pairs, matrix },
    drift,
    flagsPerDay,
    nullsPerDay,
  };
}
