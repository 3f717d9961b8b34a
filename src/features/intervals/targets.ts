/**
 * Targets of a multi-instrument interval frame (issue 14 item 5; the ETF/options feature spec §5). They
 * are labels: each row's value looks one interval **forward** (from `available_at_us` = t + I to t + 2I),
 * so they are added after the frame's PIT gates and are null on the last row of a date (and wherever the
 * next row's input is null). Columns (I the interval label):
 *
 * | column | definition |
 * |---|---|
 * | `target_next_window_return_<I>` | r_primary(t + 1) − costBps/10⁴, r the `interval_log_return` (the spec: "log return over the next interval, adjusted for a transaction cost estimate") |
 * | `target_next_rv_change_regr_<I>` | rv(t + 1) − rv(t), rv the primary's `realized_vol` |
 * | `target_next_rv_change_class_<I>` | −1 / 0 / +1: sign of that change, 0 when \|Δ\| ≤ `rvTolerance` |
 * | `target_next_<a>_<b>_spread_change_regr_<I>` | s(t + 1) − s(t), s = ln(last_price_a) − ln(last_price_b) |
 * | `target_next_<a>_<b>_spread_change_class_<I>` | −1 / 0 / +1 with `spreadTolerance` |
 *
 * | `resp_mid_<h>s_<alias>_<I>` | ln(mid(t + h)/mid(t)), mid = exp(`log_mid_price`) of the rows h/I rows apart (responders; for a 1 s frame, `--intervals 1`) |
 * | `resp_vwap_<h>s_<alias>_<I>` | ln(vwap(t + h)/vwap(t)) of the rows h/I apart; null when either row has no trade |
 *
 * Responder horizons that are not a whole number of intervals are skipped for that interval (a 5 s
 * responder exists on the 1 s and 5 s frames, not on the 30 s one).
 */
import { z } from "zod";

const alias = z.string().regex(/^[a-z][a-z0-9]*$/);
export const INTERVAL_TARGETS = z
  .object({
    primary: alias,
    /** Round-trip cost deducted from the next return, basis points. */
    costBps: z.number().min(0).default(0),
    rvTolerance: z.number().min(0).default(0),
    pairs: z.array(z.tuple([alias, alias])).default([]),
    spreadTolerance: z.number().min(0).default(0),
    /** Responders (e.g. on a 1 s frame): instruments and horizons in seconds. */
    responders: z
      .object({ aliases: z.array(alias).min(1), horizonsS: z.array(z.number().int().positive()).min(1) })
      .strict()
      .optional(),
  })
  .strict();
export type IntervalTargets = z.output<typeof INTERVAL_TARGETS>;

/** Names and formulas of the target columns under `t` for interval label `L`. */
export function targetColumns(
  t: IntervalTargets,
  L: string,
): { name: string; formula: string; unit: string }[] {
  const intervalS = Number(L.replace(/s$/, ""));
  return [
    {
      name: `target_next_window_return_${L}`,
      formula: `interval_log_return_${L}_${t.primary}(t+1) − ${t.costBps} bps`,
      unit: "log return",
    },
    {
      name: `target_next_rv_change_regr_${L}`,
      formula: `realized_vol_${L}_${t.primary}(t+1) − (t)`,
      unit: "annualised vol",
    },
    {
      name: `target_next_rv_change_class_${L}`,
      formula: `sign of the rv change, 0 within ±${t.rvTolerance}`,
      unit: "class {-1,0,1}",
    },
    ...t.pairs.flatMap(([a, b]) => [
      {
        name: `target_next_${a}_${b}_spread_change_regr_${L}`,
        formula: `Δ(ln last_price_${a} − ln last_price_${b}) over the next interval`,
        unit: "log ratio",
      },
      {
        name: `target_next_${a}_${b}_spread_change_class_${L}`,
        formula: `sign of the spread change, 0 within ±${t.spreadTolerance}`,
        unit: "class {-1,0,1}",
      },
    ]),
    ...responders(t, intervalS).flatMap(({ a, h }) => [
      { name: `resp_mid_${h}s_${a}_${L}`, formula: `ln(mid_${a}(t+${h}s)/mid_${a}(t))`, unit: "log return" },
      {
        name: `resp_vwap_${h}s_${a}_${L}`,
        formula: `ln(vwap_${a}(t+${h}s)/vwap_${a}(t))`,
        unit: "log return",
      },
    ]),
  ];
}

/** (alias, horizon s) pairs of the responders that fit interval `intervalS` (whole rows ahead). */
function responders(t: IntervalTargets, intervalS: number): { a: string; h: number }[] {
  const r = t.responders;
  if (r === undefined) return [];
  return r.aliases.flatMap((a) => r.horizonsS.filter((h) => h % intervalS === 0).map((h) => ({ a, h })));
}

const cls = (d: number, tol: number) =>
  Number.isNaN(d) ? Number.NaN : Math.abs(d) <= tol ? 0 : Math.sign(d);

/**
 * The target columns (aligned with `targetColumns`) from a frame's feature columns (`values`, n rows of
 * one date, in row order). @throws RangeError when an input column is missing.
 */
export function computeTargets(
  t: IntervalTargets,
  L: string,
  values: ReadonlyMap<string, Float64Array>,
  n: number,
): Float64Array[] {
  const col = (name: string) => {
    const v = values.get(name);
    if (v === undefined) throw new RangeError(`targets: no column ${name}`);
    return v;
  };
  const ret = col(`interval_log_return_${L}_${t.primary}`);
  const rv = col(`realized_vol_${L}_${t.primary}`);
  const next = (f: (i: number) => number) => {
    const out = new Float64Array(n).fill(Number.NaN);
    for (let i = 0; i + 1 < n; i++) out[i] = f(i);
    return out;
  };
  const out = [next((i) => ret[i + 1]! - t.costBps / 1e4)];
  const drv = next((i) => rv[i + 1]! - rv[i]!);
  out.push(
    drv,
    drv.map((d) => cls(d, t.rvTolerance)),
  );
  for (const [a, b] of t.pairs) {
    const pa = col(`last_price_${L}_${a}`);
    const pb = col(`last_price_${L}_${b}`);
    const s = (i: number) => Math.log(pa[i]!) - Math.log(pb[i]!);
    const d = next((i) => s(i + 1) - s(i));
    out.push(
      d,
      d.map((x) => cls(x, t.spreadTolerance)),
    );
  }
  const intervalS = Number(L.replace(/s$/, ""));
  for (const { a, h } of responders(t, intervalS)) {
    const k = h / intervalS;
    const lm = col(`log_mid_price_${L}_${a}`);
    const vw = col(`vwap_${L}_${a}`);
    const ahead = (f: (i: number) => number) => {
      const o = new Float64Array(n).fill(Number.NaN);
      for (let i = 0; i + k < n; i++) o[i] = f(i);
      return o;
    };
    out.push(
      ahead((i) => lm[i + k]! - lm[i]!),
      ahead((i) => Math.log(vw[i + k]! / vw[i]!)),
    );
  }
  return out;
}
