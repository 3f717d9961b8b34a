/**
 * Reference bars rebuilt from raw trade rows for the naive references of the bar-aggregation tests
 * (test/features/bar-aggregations.test.ts) and the pipeline aggregation tests (aggregations-helpers.ts).
 *
 * Volume bars (threshold in qty increments): accumulate trades, close on the trade that reaches the
 * threshold (whole, or split with `split`), reset at each UTC day, drop the bar still open at a day end
 * (its trades are lost: a "discard" at midnight) or at the range end. Clock bars [t, t + step). Each bar
 * has a `cut` (its close) and a `low` (the previous boundary: the previous bar's close, a discard at
 * midnight, or the replay start); a non-trade row belongs to the bar iff it is after `low` and before
 * `cut` in the total order — non-trade tables rank before trades, so at an event bar's closing ts every
 * non-trade row is before the cut; for trades the cut is the closing trade's index.
 */
import { US_PER_DAY } from "../../src/core/time.js";
import type { TypedRows } from "../../src/query/query.js";

/** A position in the total order: rows before it are in the knowledge set. */
export interface Cut {
  readonly ts: number;
  /** Non-trade rows at exactly `ts` are before the cut. */
  readonly inclusive: boolean;
  /** For trades: rows with index ≤ tradeIdx are before (event-bar closes); else by ts. */
  readonly tradeIdx?: number;
}

/** A trade (or a piece of a split trade) in a reference bar; `qty` in qty increments. */
export interface RefPiece {
  /** Index of the trade in the raw trades. */
  readonly i: number;
  readonly qty: number;
  readonly continuation: boolean;
}

/** A reference bar: `tsEvent` / `tsEnd` (µs) as the engine's spine, pieces, close, previous boundary. */
export interface RefBar {
  readonly tsEvent: number;
  readonly tsEnd: number;
  readonly pieces: readonly RefPiece[];
  readonly cut: Cut;
  readonly low: Cut;
}

/** A column of raw rows as Float64Array (the caller knows it is a float column). */
export const f64 = (rows: TypedRows, name: string): Float64Array => rows.columns[name] as Float64Array;

/**
 * Volume bars per UTC day (engine rule), optionally with trades split to fill bars exactly.
 * `threshold` is in qty increments (`qty_int`); `trades` are raw trade rows in the total order (ts in µs).
 * The first bar's `low` is the replay start `replayStartUs` (µs; default −∞: no earlier boundary).
 */
export function referenceVolumeBars(
  trades: TypedRows,
  threshold: number,
  split: boolean,
  replayStartUs = Number.NEGATIVE_INFINITY,
): RefBar[] {
  const ts = f64(trades, "ts_local_us");
  const qty = f64(trades, "qty_int");
  const bars: RefBar[] = [];
  let cur: RefPiece[] = [];
  let acc = 0;
  let day = Number.NaN;
  let low: Cut = { ts: replayStartUs, inclusive: false };
  const close = (i: number) => {
    const cut: Cut = { ts: ts[i]!, inclusive: true, tradeIdx: i };
    bars.push({ tsEvent: ts[cur[0]!.i]!, tsEnd: ts[i]!, pieces: cur, cut, low });
    low = cut;
    cur = [];
    acc = 0;
  };
  for (let i = 0; i < trades.length; i++) {
    const d = Math.floor(ts[i]! / US_PER_DAY);
    if (d !== day) {
      if (cur.length > 0) low = { ts: d * US_PER_DAY, inclusive: false }; // partial bar dropped at midnight
      cur = [];
      acc = 0;
      day = d;
    }
    if (!split) {
      cur.push({ i, qty: qty[i]!, continuation: false });
      acc += qty[i]!;
      if (acc >= threshold) close(i);
      continue;
    }
    let remaining = qty[i]!;
    let continuation = false;
    while (remaining > 0) {
      const piece = Math.min(remaining, threshold - acc);
      cur.push({ i, qty: piece, continuation });
      acc += piece;
      remaining -= piece;
      continuation = true;
      if (acc === threshold) close(i);
    }
  }
  return bars;
}

/** Clock bars [t, t + step) for t = t0, t0 + step, … with t + step ≤ t1 (all µs); trades as above. */
export function referenceClockBars(trades: TypedRows, t0: number, t1: number, stepUs: number): RefBar[] {
  const ts = f64(trades, "ts_local_us");
  const qty = f64(trades, "qty_int");
  const bars: RefBar[] = [];
  for (let t = t0; t + stepUs <= t1; t += stepUs) {
    const pieces: RefPiece[] = [];
    for (let i = 0; i < trades.length; i++) {
      if (ts[i]! >= t && ts[i]! < t + stepUs) pieces.push({ i, qty: qty[i]!, continuation: false });
    }
    bars.push({
      tsEvent: t,
      tsEnd: t + stepUs,
      pieces,
      cut: { ts: t + stepUs, inclusive: false },
      low: { ts: t, inclusive: false },
    });
  }
  return bars;
}
