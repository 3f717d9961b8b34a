/**
 * Live-runner test helpers: batch frames and live rows as float64 columns (frame units, NaN = null) and
 * their bitwise comparison (`Object.is` per value: every bit of a non-null value, −0 ≠ +0, nulls at the
 * same rows).
 */
import assert from "node:assert/strict";
import pl from "nodejs-polars";
import type { LiveRunner } from "../../src/live/runner.js";

/** Every column of a frame as float64 (Int64 cast exactly; null → NaN), by name. */
export function frameColumns(df: pl.DataFrame): Map<string, Float64Array> {
  const conv = df.select(...df.columns.map((c) => pl.col(c).cast(pl.Float64).fillNull(pl.lit(Number.NaN))));
  return new Map(df.columns.map((c) => [c, conv.getColumn(c).toTypedArray() as Float64Array]));
}

/** Rows a runner emits (copies), and the runner's watermark when each was emitted. */
export interface Collected {
  readonly rows: Float64Array[];
  readonly emittedAtWatermark: number[];
}

/** Collects every row `runner` emits from now on. */
export function collect(runner: LiveRunner): Collected {
  const c: Collected = { rows: [], emittedAtWatermark: [] };
  runner.onRow((r) => {
    c.rows.push(r.values.slice());
    c.emittedAtWatermark.push(runner.watermarkUs);
  });
  return c;
}

/** The collected rows as columns by name (the runner's column order). */
export function liveColumns(runner: LiveRunner, rows: readonly Float64Array[]): Map<string, Float64Array> {
  return new Map(
    runner.columns.map((c, k) => {
      const a = new Float64Array(rows.length);
      rows.forEach((r, i) => {
        a[i] = r[k]!;
      });
      return [c.name, a];
    }),
  );
}

/**
 * Asserts that `live` equals `batch` bitwise: same column names in the same order, same row count, and
 * `Object.is` on every value. Returns the number of values compared.
 */
export function assertBitwise(
  label: string,
  batch: ReadonlyMap<string, Float64Array>,
  live: ReadonlyMap<string, Float64Array>,
): number {
  assert.deepEqual([...live.keys()], [...batch.keys()], `${label}: columns`);
  let n = 0;
  for (const [name, b] of batch) {
    const l = live.get(name)!;
    assert.equal(l.length, b.length, `${label}: rows`);
    for (let i = 0; i < b.length; i++) {
      if (!Object.is(l[i], b[i])) assert.fail(`${label}: ${name} row ${i}: live ${l[i]} ≠ batch ${b[i]}`);
    }
    n += b.length;
  }
  return n;
}
