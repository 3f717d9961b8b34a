/**
 * Prefix-truncation check of the PIT invariant (DESIGN.md "Time semantics"), tested on the data rather
 * than declared: for each cut time c, recompute on the input truncated to events with ts_local_us < c (a
 * run whose range ends at c reads nothing at or after c) and require every row with available_at_us < c
 * to be identical, value for value (bitwise, nulls included), to the full run.
 */
import pl from "nodejs-polars";

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
 * The check on DataFrames: every column of `full` is compared (converted to float64, null → NaN — exact
 * for the engine's Int64 columns, which stay below 2^53) by `checkPrefixTruncationColumns`.
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
  return checkPrefixTruncationColumns(
    frameRows(full),
    async (cut) => frameRows(await run(cut)),
    cutsUs,
    full.columns,
    maxViolations,
  );
}

function frameRows(df: pl.DataFrame): ColumnRows {
  const values = new Map<string, Float64Array>();
  for (const name of df.columns) {
    const col = df.select(pl.col(name).cast(pl.Float64).fillNull(pl.lit(Number.NaN))).getColumn(name);
    // cast: nodejs-polars types toTypedArray() as any typed array; the column was just cast to Float64
    values.set(name, Float64Array.from(col.toTypedArray() as Float64Array));
  }
  return { n: df.height, values };
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
