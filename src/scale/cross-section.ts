/**
 * Cross-sectional features on a synchronised clock grid (volume-bar MFT guide, "Cross-Sectional
 * Features (Multi-Asset)"): each instrument's feature frame — computed by the one Driver on its own
 * spine, e.g. volume bars — is sampled as of each grid point, then per grid point across instruments:
 * rank, z-score and the guide's spreads.
 *
 * Grid: the clock rows of the output range, bar k covering [t_k, t_k + step) with t_k a multiple of
 * `gridMs` since the epoch, t_k ≥ start and t_k + step ≤ end; `ts_event_us` = t_k, `ts_end_us` =
 * `available_at_us` = t_k + step. As-of rule: a grid row holds, per instrument, its last frame row with
 * `available_at_us` < t_k + step (a volume bar counts from its `available_at_us`, never from its start;
 * strictly before the grid point, as a clock bar excludes the event at its end: the store's
 * `asOfIndices` at t − 1 µs). So a grid row depends only on events with ts_local_us < its
 * `available_at_us` — the PIT invariant, checked by prefix truncation in the tests.
 *
 * Columns (the guide's join convention: the first instrument unsuffixed, every other one suffixed
 * `_<key>`, e.g. `flow_imbalance_eth`): per instrument and feature f, `f` (the as-of value), `f_xs_rank`
 * (rank among the instruments with a value at that grid point, 1 = smallest, ties get their average
 * rank; null where the value is null) and `f_xs_z` ((x − mean) / sd over those instruments, sd the
 * population standard deviation; null if fewer than 2 values or sd = 0); per instrument
 * `asof_available_at_us` (the sampled row's `available_at_us`, null before its first row); then each
 * spread `a_b_<name>_spread` = f[a] − f[b] (the guide's `btc_eth_flow_spread` = flow_imbalance −
 * flow_imbalance_eth, `btc_eth_momentum_spread` = ret_5bar − ret_5bar_eth).
 */
import { mkdir, rename, writeFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import pl from "nodejs-polars";
import { z } from "zod";
import { ConfigError, issuesText } from "../core/errors.js";
import { type TimeInput, toUs, US_PER_MS } from "../core/time.js";
import { canonicalFrameHash } from "../engine/hash.js";
import type { FeatureRunInput } from "../features/config.js";
import { buildFeatureFrame, typedColumnsToFrame } from "../features/frame.js";
import type { LakeRef } from "../lake/lake.js";
import { asOfIndices } from "../store/asof.js";

/** One instrument's frame in a cross-section. */
export interface CrossSectionInput {
  /** Suffix key, e.g. "btc", "eth" (lowercase letters, digits, underscores). */
  readonly key: string;
  /** A feature frame (`available_at_us` non-decreasing, as every engine frame). */
  readonly frame: pl.DataFrame;
}

/** A spread f[a] − f[b] between two instruments' as-of values of one feature. */
export interface SpreadSpec {
  /** Output name part: the column is `<a>_<b>_<name>_spread`. */
  readonly name: string;
  readonly feature: string;
  readonly a: string;
  readonly b: string;
}

/** The guide's spreads: flow (`flow_imbalance`) and momentum (`ret_5bar`), instrument a minus b. */
export function guideSpreads(a: string, b: string): SpreadSpec[] {
  return [
    { name: "flow", feature: "flow_imbalance", a, b },
    { name: "momentum", feature: "ret_5bar", a, b },
  ];
}

/** Options of `crossSection`. */
export interface CrossSectionOptions {
  readonly start: TimeInput;
  readonly end: TimeInput;
  /** Grid step, ms. */
  readonly gridMs: number;
  /** Features (frame columns) to sample, rank and z-score. */
  readonly features: readonly string[];
  readonly spreads?: readonly SpreadSpec[];
  /** A row older than this at the grid point is not used (null), ms (default: no limit). */
  readonly maxStalenessMs?: number;
}

const KEY = /^[a-z][a-z0-9_]*$/;

/** The column-name suffix of the instrument at position `i` (the first is unsuffixed). */
export function suffixOf(inputs: readonly { key: string }[], i: number): string {
  return i === 0 ? "" : `_${inputs[i]!.key}`;
}

/** Clock grid of [startUs, endUs) (see the module doc): the t_k. */
export function gridStarts(startUs: number, endUs: number, stepUs: number): Float64Array {
  const first = Math.ceil(startUs / stepUs) * stepUs;
  const n = Math.max(0, Math.floor((endUs - first) / stepUs));
  const out = new Float64Array(n);
  for (let k = 0; k < n; k++) out[k] = first + k * stepUs;
  return out;
}

function column(df: pl.DataFrame, name: string): Float64Array {
  if (!df.columns.includes(name)) throw new ConfigError(`cross-section: frame has no column ${name}`);
  const s = df.select(pl.col(name).cast(pl.Float64).fillNull(pl.lit(Number.NaN))).getColumn(name);
  // cast: the column was cast to Float64 just above
  return Float64Array.from(s.toTypedArray() as Float64Array);
}

/**
 * The cross-sectional frame of `inputs` (see the module doc).
 * @throws ConfigError for a bad key, an unknown feature column or spread instrument, or an empty grid.
 */
export function crossSection(inputs: readonly CrossSectionInput[], o: CrossSectionOptions): pl.DataFrame {
  const startUs = toUs(o.start);
  const endUs = toUs(o.end);
  const stepUs = o.gridMs * US_PER_MS;
  if (!(stepUs > 0) || !Number.isInteger(stepUs))
    throw new ConfigError(`gridMs ${o.gridMs}: a positive integer`);
  if (inputs.length < 2) throw new ConfigError("a cross-section needs at least 2 instruments");
  const keys = new Set<string>();
  for (const x of inputs) {
    if (!KEY.test(x.key)) throw new ConfigError(`instrument key '${x.key}': lowercase letters, digits, _`);
    if (keys.has(x.key)) throw new ConfigError(`instrument key '${x.key}' given twice`);
    keys.add(x.key);
  }
  const grid = gridStarts(startUs, endUs, stepUs);
  const m = grid.length;
  const queries = new Float64Array(m);
  for (let k = 0; k < m; k++) queries[k] = grid[k]! + stepUs - 1;
  const staleUs = o.maxStalenessMs === undefined ? Number.POSITIVE_INFINITY : o.maxStalenessMs * US_PER_MS;
  const n = inputs.length;
  // sampled[i][f][k]: as-of value of feature f of instrument i at grid row k (NaN = null)
  const sampled: Float64Array[][] = [];
  const asofAvail: Float64Array[] = [];
  for (const x of inputs) {
    const avail = column(x.frame, "available_at_us");
    const idx = asOfIndices(avail, queries, staleUs);
    const at = new Float64Array(m);
    for (let k = 0; k < m; k++) at[k] = idx[k]! < 0 ? Number.NaN : avail[idx[k]!]!;
    asofAvail.push(at);
    sampled.push(
      o.features.map((f) => {
        const v = column(x.frame, f);
        const out = new Float64Array(m);
        for (let k = 0; k < m; k++) out[k] = idx[k]! < 0 ? Number.NaN : v[idx[k]!]!;
        return out;
      }),
    );
  }
  const cols: { name: string; dtype: "Int64" | "Float64" }[] = [
    { name: "ts_event_us", dtype: "Int64" },
    { name: "ts_end_us", dtype: "Int64" },
    { name: "available_at_us", dtype: "Int64" },
  ];
  const ends = grid.map((t) => t + stepUs);
  const data: Float64Array[] = [grid, ends, ends.slice()];
  const ranks = o.features.map(() => inputs.map(() => new Float64Array(m)));
  const zs = o.features.map(() => inputs.map(() => new Float64Array(m)));
  const vals = new Float64Array(n);
  o.features.forEach((_, f) => {
    for (let k = 0; k < m; k++) {
      let cnt = 0;
      let sum = 0;
      for (let i = 0; i < n; i++) {
        const v = sampled[i]![f]![k]!;
        vals[i] = v;
        if (!Number.isNaN(v)) {
          cnt++;
          sum += v;
        }
      }
      const mean = sum / cnt;
      let ss = 0;
      for (let i = 0; i < n; i++) if (!Number.isNaN(vals[i]!)) ss += (vals[i]! - mean) ** 2;
      const sd = Math.sqrt(ss / cnt);
      for (let i = 0; i < n; i++) {
        const v = vals[i]!;
        if (Number.isNaN(v)) {
          ranks[f]![i]![k] = Number.NaN;
          zs[f]![i]![k] = Number.NaN;
          continue;
        }
        let less = 0;
        let equal = 0;
        for (let j = 0; j < n; j++) {
          const w = vals[j]!;
          if (Number.isNaN(w)) continue;
          if (w < v) less++;
          else if (w === v) equal++;
        }
        ranks[f]![i]![k] = less + (equal + 1) / 2;
        zs[f]![i]![k] = cnt >= 2 && sd > 0 ? (v - mean) / sd : Number.NaN;
      }
    }
  });
  inputs.forEach((_, i) => {
    const sfx = suffixOf(inputs, i);
    o.features.forEach((f, fi) => {
      cols.push({ name: `${f}${sfx}`, dtype: "Float64" });
      data.push(sampled[i]![fi]!);
      cols.push({ name: `${f}_xs_rank${sfx}`, dtype: "Float64" });
      data.push(ranks[fi]![i]!);
      cols.push({ name: `${f}_xs_z${sfx}`, dtype: "Float64" });
      data.push(zs[fi]![i]!);
    });
    cols.push({ name: `asof_available_at_us${sfx}`, dtype: "Int64" });
    data.push(asofAvail[i]!);
  });
  const pos = new Map(inputs.map((x, i) => [x.key, i]));
  for (const s of o.spreads ?? []) {
    const a = pos.get(s.a);
    const b = pos.get(s.b);
    const fi = o.features.indexOf(s.feature);
    if (a === undefined || b === undefined)
      throw new ConfigError(
        `spread ${s.name}: instrument ${a === undefined ? s.a : s.b} is not in the cross-section`,
      );
    if (fi < 0) throw new ConfigError(`spread ${s.name}: feature ${s.feature} is not among the features`);
    const out = new Float64Array(m);
    for (let k = 0; k < m; k++) out[k] = sampled[a]![fi]![k]! - sampled[b]![fi]![k]!;
    cols.push({ name: `${s.a}_${s.b}_${s.name}_spread`, dtype: "Float64" });
    data.push(out);
  }
  return typedColumnsToFrame(cols, data);
}

/** One instrument of `buildCrossSection`: where its frame comes from and its own config overrides. */
export interface CrossSectionInstrument {
  readonly key: string;
  readonly exchange: string;
  readonly symbol: string;
  /** Merged over the request's `config` (e.g. a per-asset `spine.volumeThreshold`). */
  readonly config?: FeatureRunInput;
}

/** Request of `buildCrossSection`. */
export interface CrossSectionRequest extends CrossSectionOptions {
  readonly lake: LakeRef;
  readonly instruments: readonly CrossSectionInstrument[];
  readonly config?: FeatureRunInput;
}

/** Shallow-merges two configs, the spine field by field. */
export function mergeConfig(
  base: FeatureRunInput | undefined,
  own: FeatureRunInput | undefined,
): FeatureRunInput {
  const b = (base ?? {}) as Record<string, unknown>;
  const o = (own ?? {}) as Record<string, unknown>;
  const spine =
    b["spine"] !== undefined || o["spine"] !== undefined
      ? { ...(b["spine"] as object | undefined), ...(o["spine"] as object | undefined) }
      : undefined;
  return { ...b, ...o, ...(spine ? { spine } : {}) } as FeatureRunInput;
}

/**
 * Builds each instrument's feature frame over [start, end) from the lake (`buildFeatureFrame`, the one
 * Driver), then `crossSection`. Returns the cross-sectional frame and the per-instrument frames.
 */
export async function buildCrossSection(
  req: CrossSectionRequest,
): Promise<{ frame: pl.DataFrame; inputs: CrossSectionInput[] }> {
  const inputs: CrossSectionInput[] = [];
  for (const x of req.instruments) {
    const frame = await buildFeatureFrame({
      lake: req.lake,
      exchange: x.exchange,
      symbol: x.symbol,
      start: req.start,
      end: req.end,
      config: mergeConfig(req.config, x.config),
    });
    inputs.push({ key: x.key, frame });
  }
  return { frame: crossSection(inputs, req), inputs };
}

const configInput = z.record(z.string(), z.unknown());

/**
 * A cross-section request file (`features cross-section REQUEST.json`): everything of
 * `CrossSectionRequest` but the lake; `spreads: "guide"` gives `guideSpreads` of the first two
 * instruments.
 */
export const crossSectionFileSchema = z
  .object({
    start: z.union([z.string(), z.number()]),
    end: z.union([z.string(), z.number()]),
    gridMs: z.number().int().positive(),
    config: configInput.optional(),
    instruments: z
      .array(
        z
          .object({
            key: z.string().regex(KEY, "lowercase letters, digits, _"),
            exchange: z.string().min(1),
            symbol: z.string().min(1),
            config: configInput.optional(),
          })
          .strict(),
      )
      .min(2),
    features: z.array(z.string().min(1)).min(1),
    spreads: z
      .union([
        z.literal("guide"),
        z.array(
          z.object({ name: z.string().min(1), feature: z.string(), a: z.string(), b: z.string() }).strict(),
        ),
      ])
      .optional(),
    maxStalenessMs: z.number().positive().optional(),
  })
  .strict();

/** A validated cross-section request for `lake`. @throws ConfigError listing every problem with its path. */
export function parseCrossSectionFile(v: unknown, lake: LakeRef, source: string): CrossSectionRequest {
  const r = crossSectionFileSchema.safeParse(v);
  if (!r.success)
    throw new ConfigError(`${source}: invalid cross-section request: ${issuesText(r.error.issues)}`);
  const d = r.data;
  const spreads =
    d.spreads === "guide" ? guideSpreads(d.instruments[0]!.key, d.instruments[1]!.key) : (d.spreads ?? []);
  return {
    lake,
    start: d.start,
    end: d.end,
    gridMs: d.gridMs,
    features: d.features,
    spreads,
    instruments: d.instruments.map((x) => ({
      key: x.key,
      exchange: x.exchange,
      symbol: x.symbol,
      ...(x.config ? { config: x.config as FeatureRunInput } : {}),
    })),
    ...(d.config ? { config: d.config as FeatureRunInput } : {}),
    ...(d.maxStalenessMs !== undefined ? { maxStalenessMs: d.maxStalenessMs } : {}),
  };
}

/** The manifest written beside a cross-sectional frame (`<out>.manifest.json`). */
export interface CrossSectionManifest {
  readonly kind: "pointline.cross_section";
  readonly version: 1;
  readonly path: string;
  readonly rows: number;
  readonly columns: number;
  /** Canonical content hash of the frame (engine/hash.ts). */
  readonly content_sha256: string;
  readonly grid_ms: number;
  readonly range: { readonly start_us: number; readonly end_us: number };
  readonly features: readonly string[];
  readonly spreads: readonly SpreadSpec[];
  /** Per instrument: its frame's rows and content hash. */
  readonly instruments: readonly {
    readonly key: string;
    readonly exchange: string;
    readonly symbol: string;
    readonly rows: number;
    readonly content_sha256: string;
  }[];
}

/** Builds the cross-section and writes it to `out` (.parquet, temp file + rename) with its manifest. */
export async function writeCrossSection(
  req: CrossSectionRequest,
  out: string,
): Promise<CrossSectionManifest> {
  if (!out.toLowerCase().endsWith(".parquet"))
    throw new ConfigError(`--out ${out}: extension must be .parquet`);
  const { frame, inputs } = await buildCrossSection(req);
  const path = resolve(out);
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  frame.writeParquet(tmp, { compression: "zstd" });
  await rename(tmp, path);
  const m: CrossSectionManifest = {
    kind: "pointline.cross_section",
    version: 1,
    path,
    rows: frame.height,
    columns: frame.width,
    content_sha256: canonicalFrameHash(frame),
    grid_ms: req.gridMs,
    range: { start_us: toUs(req.start), end_us: toUs(req.end) },
    features: req.features,
    spreads: req.spreads ?? [],
    instruments: inputs.map((x, i) => ({
      key: x.key,
      exchange: req.instruments[i]!.exchange,
      symbol: req.instruments[i]!.symbol,
      rows: x.frame.height,
      content_sha256: canonicalFrameHash(x.frame),
    })),
  };
  await writeFile(`${path}.manifest.json`, `${JSON.stringify(m, null, 2)}\n`);
  return m;
}
