/**
 * `interval_cross_asset`: cross-asset features of a multi-instrument interval frame (issue 14 item 4; the
 * ETF/options feature spec, seeds/etf-options-feature-spec.md §3.III). It reads, as row inputs, columns the
 * instruments' `interval_microstructure` operators wrote for the same row (it runs after them in the
 * frame's `GroupOperator`, engine/group.ts), so it sees exactly their knowledge set:
 *
 * | column | definition |
 * |---|---|
 * | `basis_<fut>_<etf>_<I>` | last_price(fut)/scale − vwap(etf) (the spec's `(MES_LastPrice / ScaleFactor) − SPY_VWAP`); null when the ETF has no trade in the interval |
 * | `lagged_corr_<a>_<b>_<lag>_<I>` | Pearson correlation over the last `windowRows` rows of (r_a(t), r_b(t − lag)), r the `interval_log_return`s; null until lag + windowRows rows of the UTC day, when any value in the window is null, or a variance is 0 (Polars `rolling_corr` nulls) |
 * | `ofi_spread_<a>_<b>_<I>` | ofi(a) − ofi(b) (the seed's L1 OFI) |
 * | `<name>_<I>` (hedge) | Σ wᵢ · last_price(aliasᵢ) (the spec's `vol_hedge_spread = SPY + 0.5·QQQ − VXX` with weights 1, 0.5, −1) |
 *
 * The IV–RV and gamma features wait for the options work. State (the lag windows) starts afresh at each
 * UTC midnight, as the instruments' state does. Warm-up: lag + windowRows − 1 rows for correlations.
 */
import { z } from "zod";
import type { JsonValue, Operator, OutputSpec, SourceRole, SpineRow } from "../../engine/operator.js";
import { numbersToJson, stateNumber, stateNumbers, stateObject } from "../../engine/operator.js";
import type { OutputMeta } from "../../engine/registry.js";
import { familyOperator } from "../family.js";
import { intervalLabel } from "./microstructure.js";

const alias = z.string().regex(/^[a-z][a-z0-9]*$/);
/** Settings of the cross-asset operator (without the interval, given by the run). */
export const CROSS_ASSET_SETTINGS = z
  .object({
    basis: z
      .array(z.object({ future: alias, etf: alias, scale: z.number().positive() }).strict())
      .default([]),
    laggedCorr: z
      .array(
        z
          .object({ a: alias, b: alias, lag: z.number().int().min(0), windowRows: z.number().int().min(3) })
          .strict(),
      )
      .default([]),
    ofiSpread: z.array(z.object({ a: alias, b: alias }).strict()).default([]),
    hedge: z
      .array(
        z
          .object({
            name: z.string().regex(/^[a-z][a-z0-9_]*$/),
            legs: z.array(z.object({ alias, weight: z.number() }).strict()).min(1),
          })
          .strict(),
      )
      .default([]),
  })
  .strict();
export const CROSS_ASSET_PARAMS = CROSS_ASSET_SETTINGS.extend({
  intervalMs: z.number().int().positive(),
}).strict();
export type CrossAssetConfig = z.output<typeof CROSS_ASSET_PARAMS>;

const US_PER_DAY = 86_400_000_000;

/** Output metadata under `c` (one column per configured feature). */
export function crossAssetOutputs(c: CrossAssetConfig): OutputMeta[] {
  const L = intervalLabel(c.intervalMs);
  const meta = (
    name: string,
    formula: string,
    unit: string,
    inputs: string[],
    warmupRows: number,
    window: string,
  ): OutputMeta => ({
    name,
    dtype: "f64",
    unit,
    warmupRows,
    formula,
    inputs,
    window,
    warmup: warmupRows > 0 ? `${warmupRows} rows of the UTC day` : "none",
    pitPolicy: "row inputs of the same row (the instruments' knowledge set); lags look back only",
    version: 1,
    source: "seeds/etf-options-feature-spec.md §3.III",
  });
  return [
    ...c.basis.map((b) =>
      meta(
        `basis_${b.future}_${b.etf}_${L}`,
        `last_price_${b.future}/${b.scale} − vwap_${b.etf}`,
        "quote currency",
        [`row.last_price_${L}_${b.future}`, `row.vwap_${L}_${b.etf}`],
        0,
        "current row",
      ),
    ),
    ...c.laggedCorr.map((k) =>
      meta(
        `lagged_corr_${k.a}_${k.b}_${k.lag}_${L}`,
        `Pearson corr of (r_${k.a}(t), r_${k.b}(t − ${k.lag})) over ${k.windowRows} rows`,
        "correlation [-1,1]",
        [`row.interval_log_return_${L}_${k.a}`, `row.interval_log_return_${L}_${k.b}`],
        k.lag + k.windowRows - 1,
        `${k.windowRows + k.lag} rows`,
      ),
    ),
    ...c.ofiSpread.map((o) =>
      meta(
        `ofi_spread_${o.a}_${o.b}_${L}`,
        `ofi_${o.a} − ofi_${o.b}`,
        "base units",
        [`row.ofi_${L}_${o.a}`, `row.ofi_${L}_${o.b}`],
        0,
        "current row",
      ),
    ),
    ...c.hedge.map((h) =>
      meta(
        `${h.name}_${L}`,
        h.legs.map((l) => `${l.weight}·last_price_${l.alias}`).join(" + "),
        "quote currency",
        h.legs.map((l) => `row.last_price_${L}_${l.alias}`),
        0,
        "current row",
      ),
    ),
  ];
}

/** The streaming operator (see the module doc). */
export class CrossAssetOperator implements Operator {
  readonly id: string;
  readonly inputs: readonly SourceRole[] = [];
  readonly reads = {};
  readonly outputs: readonly OutputSpec[];
  readonly rowInputs: readonly string[];
  /** Per output: indexes into rowInputs. */
  private readonly plan: readonly (readonly number[])[];
  /** Per lagged correlation: ring of (a, b) of the last lag + windowRows rows. */
  private readonly rings: { a: Float64Array; b: Float64Array }[];
  private rows = 0;
  private day = Number.NaN;

  constructor(readonly config: CrossAssetConfig) {
    const L = intervalLabel(config.intervalMs);
    this.id = `interval_cross_asset_${L}`;
    const metas = crossAssetOutputs(config);
    this.outputs = metas.map(({ name, dtype, unit, warmupRows }) => ({ name, dtype, unit, warmupRows }));
    const names: string[] = [];
    const idx = (n: string) => {
      const col = n.slice("row.".length);
      let k = names.indexOf(col);
      if (k < 0) k = names.push(col) - 1;
      return k;
    };
    this.plan = metas.map((m) => m.inputs.map(idx));
    this.rowInputs = names;
    this.rings = config.laggedCorr.map((k) => ({
      a: new Float64Array(k.lag + k.windowRows),
      b: new Float64Array(k.lag + k.windowRows),
    }));
  }

  onEvent(): void {}

  emit(row: SpineRow, out: readonly Float64Array[], r: number, rowInputs?: readonly Float64Array[]): void {
    const day = Math.floor(row.tsEventUs / US_PER_DAY);
    if (day !== this.day) {
      this.day = day;
      this.rows = 0;
    }
    const v = (o: number, j: number) => rowInputs![this.plan[o]![j]!]![r]!;
    const c = this.config;
    let o = 0;
    for (const b of c.basis) {
      out[o]![r] = v(o, 0) / b.scale - v(o, 1);
      o++;
    }
    c.laggedCorr.forEach((k, q) => {
      const ring = this.rings[q]!;
      const n = ring.a.length;
      const at = this.rows % n;
      ring.a[at] = v(o, 0);
      ring.b[at] = v(o, 1);
      out[o]![r] = this.rows + 1 >= n ? corr(ring.a, ring.b, at, n, k.lag, k.windowRows) : Number.NaN;
      o++;
    });
    for (const _ of c.ofiSpread) {
      out[o]![r] = v(o, 0) - v(o, 1);
      o++;
    }
    for (const h of c.hedge) {
      let s = 0;
      h.legs.forEach((l, j) => {
        s += l.weight * v(o, j);
      });
      out[o]![r] = s;
      o++;
    }
    this.rows++;
  }

  snapshot(): JsonValue {
    return {
      v: 1,
      rows: this.rows,
      day: Number.isNaN(this.day) ? null : this.day,
      rings: this.rings.map((g) => ({ a: numbersToJson(g.a), b: numbersToJson(g.b) })),
    };
  }

  restore(state: JsonValue): void {
    const s = stateObject(state, this.id);
    if (stateNumber(s, "v") !== 1) throw new TypeError(`${this.id}: state version`);
    this.rows = stateNumber(s, "rows");
    this.day = stateNumber(s, "day");
    const rings = s.rings;
    if (!Array.isArray(rings) || rings.length !== this.rings.length)
      throw new TypeError(`${this.id}: state field rings must have ${this.rings.length} entries`);
    rings.forEach((g, q) => {
      const o = stateObject(g as JsonValue, this.id);
      this.rings[q]!.a.set(stateNumbers(o, "a"));
      this.rings[q]!.b.set(stateNumbers(o, "b"));
    });
  }
}

/**
 * Pearson correlation of x(t − j) = a[at − j] and y = b[at − j − lag], j = 0 … w − 1, in a ring of n
 * slots (two-pass); NaN when a value is missing or a variance is 0.
 */
function corr(a: Float64Array, b: Float64Array, at: number, n: number, lag: number, w: number): number {
  let mx = 0;
  let my = 0;
  for (let j = 0; j < w; j++) {
    const x = a[(at - j + n) % n]!;
    const y = b[(at - j - lag + 2 * n) % n]!;
    if (Number.isNaN(x) || Number.isNaN(y)) return Number.NaN;
    mx += x;
    my += y;
  }
  mx /= w;
  my /= w;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let j = 0; j < w; j++) {
    const dx = a[(at - j + n) % n]! - mx;
    const dy = b[(at - j - lag + 2 * n) % n]! - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  return sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : Number.NaN;
}

/** The registered definition (one instance per frame interval). */
export const intervalCrossAssetDef = familyOperator<CrossAssetConfig>({
  name: "interval_cross_asset",
  description:
    "Cross-asset features of a multi-instrument interval frame from the instruments' row outputs: futures–ETF basis, lagged return correlation, OFI spread, weighted hedge spread",
  source: "seeds/etf-options-feature-spec.md §3.III",
  params: CROSS_ASSET_PARAMS as unknown as z.ZodType<CrossAssetConfig>,
  outputs: crossAssetOutputs,
  create: (c) => new CrossAssetOperator(c),
});
