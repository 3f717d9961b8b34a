/**
 * Prefix-truncation check of the PIT invariant (DESIGN.md "Time semantics"), tested on the data rather
 * than declared: for each cut time c, recompute on the input truncated to events with ts_local_us < c (a
 * run whose range ends at c reads nothing at or after c) and require every row with available_at_us < c
 * to be identical, value for value (bitwise, nulls included), to the full run.
 */
import type pl from "nodejs-polars";

/** One value that changed when the input was truncated at `cutUs`. */
export interface PitViolation {
  readonly cutUs: number;
  readonly column: string;
  /** ts_event_us of the row. */
  readonly tsEventUs: number;
  readonly full: number | null;
  readonly truncated: number | null;
}

/** Outcome of `checkPrefixTruncation`: passed iff no violation. */
export interface PitCheckResult {
  readonly passed: boolean;
  readonly cuts: number;
  /** Rows compared over all cuts. */
  readonly rowsCompared: number;
  readonly violations: readonly PitViolation[];
}

/**
 * @param full the frame over [start, end)
 * @param run computes the frame over [start, cutUs) — the same request with end = cut
 * @param cutsUs cut times strictly inside (start, end)
 * @param maxViolations stop collecting after this many (default 20)
 */
export async function checkPrefixTruncation(
  full: pl.DataFrame,
  run: (cutUs: number) => Promise<pl.DataFrame>,
  cutsUs: readonly number[],
  maxViolations = 20,
): Promise<PitCheckResult> {
  const violations: PitViolation[] = [];
  let compared = 0;
  const avail = full.getColumn("available_at_us").toArray() as (number | bigint)[];
  const tsEvent = full.getColumn("ts_event_us").toArray() as (number | bigint)[];
  const cols = full.columns;
  const fullCols = cols.map((c) => full.getColumn(c).toArray() as unknown[]);
  for (const cut of cutsUs) {
    const t = await run(cut);
    const tAvail = t.getColumn("available_at_us").toArray() as (number | bigint)[];
    const tEvent = t.getColumn("ts_event_us").toArray() as (number | bigint)[];
    const tCols = cols.map((c) => (t.columns.includes(c) ? (t.getColumn(c).toArray() as unknown[]) : []));
    // rows of the full run knowable before the cut, matched to the truncated run by position
    let n = 0;
    while (n < avail.length && Number(avail[n]) < cut) n++;
    for (let i = 0; i < n; i++) {
      compared++;
      if (i >= tAvail.length || Number(tEvent[i]) !== Number(tsEvent[i])) {
        violations.push({
          cutUs: cut,
          column: "(row missing)",
          tsEventUs: Number(tsEvent[i]),
          full: null,
          truncated: null,
        });
        break;
      }
      for (let k = 0; k < cols.length; k++) {
        const a = fullCols[k]![i];
        const b = tCols[k]![i];
        if (!Object.is(a, b) && !(typeof a === "bigint" && typeof b === "bigint" && a === b)) {
          if (violations.length < maxViolations) {
            violations.push({
              cutUs: cut,
              column: cols[k]!,
              tsEventUs: Number(tsEvent[i]),
              full: a === null || a === undefined ? null : Number(a),
              truncated: b === null || b === undefined ? null : Number(b),
            });
          }
        }
      }
    }
  }
  return { passed: violations.length === 0, cuts: cutsUs.length, rowsCompared: compared, violations };
}

/** Typed-column form of a frame for `checkPrefixTruncationColumns`: n rows, NaN = null. */
export interface ColumnRows {
  readonly n: number;
  readonly values: ReadonlyMap<string, Float64Array>;
}

/**
 * `checkPrefixTruncation` on typed columns (no DataFrame round trip): same rule — every row of `full`
 * with available_at_us < cut must be reproduced by `run(cut)` in every column of `names`, value for value
 * (`Object.is`: NaN equals NaN, 0 and −0 differ).
 */
export async function checkPrefixTruncationColumns(
  full: ColumnRows,
  run: (cutUs: number) => Promise<ColumnRows>,
  cutsUs: readonly number[],
  names: readonly string[],
  maxViolations = 20,
): Promise<PitCheckResult> {
  const violations: PitViolation[] = [];
  let compared = 0;
  const avail = full.values.get("available_at_us");
  const tsEvent = full.values.get("ts_event_us");
  if (!avail || !tsEvent) throw new RangeError("full run lacks available_at_us / ts_event_us");
  const nul = (x: number | undefined): number | null => (x === undefined || Number.isNaN(x) ? null : x);
  for (const cut of cutsUs) {
    const t = await run(cut);
    const tEvent = t.values.get("ts_event_us");
    let n = 0;
    while (n < full.n && avail[n]! < cut) n++;
    for (let i = 0; i < n; i++) {
      compared++;
      if (i >= t.n || !tEvent || tEvent[i] !== tsEvent[i]) {
        violations.push({
          cutUs: cut,
          column: "(row missing)",
          tsEventUs: tsEvent[i]!,
          full: null,
          truncated: null,
        });
        break;
      }
      for (const name of names) {
        const a = full.values.get(name)?.[i];
        const b = t.values.get(name)?.[i];
        if (!Object.is(a, b) && violations.length < maxViolations) {
          violations.push({
            cutUs: cut,
            column: name,
            tsEventUs: tsEvent[i]!,
            full: nul(a),
            truncated: nul(b),
          });
        }
      }
    }
  }
  return { passed: violations.length === 0, cuts: cutsUs.length, rowsCompared: compared, violations };
}
