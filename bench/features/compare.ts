/**
 * Agreement of two feature frames (engine vs peer): same rows (spine columns identical), and per feature
 * column the largest difference, as
 * - `maxRel` = max |a − b| / max(|a|, |b|) over rows where both are non-null (0 when both are 0), and
 * - `maxScaled` = max |a − b| / scale, scale = the column's root mean square over its non-null values
 *   (its typical magnitude; 1 if the column is all 0). A value that is a difference of nearly equal
 *   numbers (spread_bps − its rolling mean, close − vwap, a z-score near 0) legitimately carries an
 *   absolute error of ~ε·(operands) — e.g. Polars' running-window sums drift by ~ε·(largest value seen)
 *   — which is a large *relative* error on that row but tiny against the column's magnitude.
 * - `nullMismatch` = rows where exactly one side is null.
 * A column agrees when nullMismatch = 0 and every row has |a − b| ≤ tol·max(|a|, |b|) or ≤ tol·scale.
 */
import pl from "nodejs-polars";

export interface ColumnAgreement {
  readonly column: string;
  readonly nonNull: number;
  readonly nullMismatch: number;
  readonly maxRel: number;
  readonly maxScaled: number;
  readonly maxAbs: number;
  /** Row of the largest scaled difference (−1 if none). */
  readonly worstRow: number;
  readonly worstA: number;
  readonly worstB: number;
  readonly ok: boolean;
}

export interface FrameAgreement {
  readonly rowsA: number;
  readonly rowsB: number;
  readonly spineIdentical: boolean;
  /** First differing spine row (−1 if none). */
  readonly firstSpineDiff: number;
  readonly columns: ColumnAgreement[];
  readonly onlyInA: string[];
  readonly onlyInB: string[];
  readonly ok: boolean;
}

export const SPINE = ["ts_event_us", "ts_end_us", "available_at_us", "bar_index", "bar_duration_us"];

/** A column as float64 with null → NaN (Int64 values are exact below 2^53). */
export function values(df: pl.DataFrame, name: string): Float64Array {
  if (df.height === 0) return new Float64Array(0);
  return Float64Array.from(
    df
      .select(pl.col(name).cast(pl.Float64).fillNull(pl.lit(Number.NaN)))
      .getColumn(name)
      .toTypedArray() as Float64Array,
  );
}

export function compareFrames(a: pl.DataFrame, b: pl.DataFrame, tol = 1e-9): FrameAgreement {
  const colsA = a.columns;
  const colsB = new Set(b.columns);
  const onlyInA = colsA.filter((c) => !colsB.has(c));
  const onlyInB = b.columns.filter((c) => !colsA.includes(c));
  let spineIdentical = a.height === b.height;
  let firstSpineDiff = -1;
  if (spineIdentical) {
    for (const c of SPINE) {
      const x = values(a, c);
      const y = values(b, c);
      for (let i = 0; i < x.length; i++) {
        if (x[i] !== y[i]) {
          spineIdentical = false;
          firstSpineDiff = firstSpineDiff < 0 ? i : Math.min(firstSpineDiff, i);
          break;
        }
      }
    }
  }
  const columns: ColumnAgreement[] = [];
  if (spineIdentical) {
    for (const c of colsA) {
      if (SPINE.includes(c) || !colsB.has(c)) continue;
      const x = values(a, c);
      const y = values(b, c);
      let ss = 0;
      let nn = 0;
      for (let i = 0; i < x.length; i++) {
        if (!Number.isNaN(x[i]!)) {
          ss += x[i]! * x[i]!;
          nn++;
        }
      }
      const scale = nn > 0 && ss > 0 ? Math.sqrt(ss / nn) : 1;
      let nonNull = 0;
      let nullMismatch = 0;
      let maxRel = 0;
      let maxScaled = 0;
      let maxAbs = 0;
      let worstRow = -1;
      let bad = 0;
      for (let i = 0; i < x.length; i++) {
        const p = x[i]!;
        const q = y[i]!;
        const pn = Number.isNaN(p);
        const qn = Number.isNaN(q);
        if (pn || qn) {
          if (pn !== qn) nullMismatch++;
          continue;
        }
        nonNull++;
        const d = Math.abs(p - q);
        if (d === 0) continue;
        const rel = d / Math.max(Math.abs(p), Math.abs(q));
        const scaled = d / scale;
        if (rel > maxRel) maxRel = rel;
        if (d > maxAbs) maxAbs = d;
        if (scaled > maxScaled) {
          maxScaled = scaled;
          worstRow = i;
        }
        if (rel > tol && scaled > tol) bad++;
      }
      columns.push({
        column: c,
        nonNull,
        nullMismatch,
        maxRel,
        maxScaled,
        maxAbs,
        worstRow,
        worstA: worstRow >= 0 ? x[worstRow]! : Number.NaN,
        worstB: worstRow >= 0 ? y[worstRow]! : Number.NaN,
        ok: nullMismatch === 0 && bad === 0,
      });
    }
  }
  return {
    rowsA: a.height,
    rowsB: b.height,
    spineIdentical,
    firstSpineDiff,
    columns,
    onlyInA,
    onlyInB,
    ok: spineIdentical && columns.every((c) => c.ok),
  };
}

/**
 * The comparator can fail: perturbs copies of `b` (one float value by 1e-7 relative, one value to null,
 * one integer value by +1, one row dropped) and checks that each is reported as a disagreement with `a`.
 * Returns the cases that went undetected (empty = ok).
 */
export function comparatorSelfTest(a: pl.DataFrame, b: pl.DataFrame, tol = 1e-9): string[] {
  const idx = pl.intRange(0, b.height, 1, pl.Int64, false);
  const row = Math.floor(b.height / 2);
  const pick = (want: (dt: string) => boolean): string | undefined =>
    b.columns.find(
      (c) =>
        !SPINE.includes(c) && want(String(b.getColumn(c).dtype)) && b.getColumn(c).nullCount() < b.height / 2,
    );
  const fcol = pick((d) => d.includes("Float64"));
  const icol = pick((d) => d.includes("Int64"));
  const at = (c: string, e: pl.Expr): pl.DataFrame =>
    b.withColumns(pl.when(idx.eq(row)).then(e).otherwise(pl.col(c)).alias(c));
  const cases: [string, pl.DataFrame][] = [];
  if (fcol) cases.push([`${fcol} × (1 + 1e-7) on one row`, at(fcol, pl.col(fcol).mul(1 + 1e-7))]);
  if (fcol) cases.push([`${fcol} set to null on one row`, at(fcol, pl.lit(null).cast(pl.Float64))]);
  if (icol) cases.push([`${icol} + 1 on one row`, at(icol, pl.col(icol).add(1))]);
  cases.push(["one row dropped", b.slice(0, b.height - 1)]);
  return cases.filter(([, df]) => compareFrames(a, df, tol).ok).map(([name]) => name);
}
