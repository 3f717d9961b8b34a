/**
 * Multi-instrument interval frames (issue 14): `buildIntervalFrames` runs, per UTC date and interval, ONE
 * `Replay` (LakeSource → Driver → sink) on a clock spine of the interval (rows [t, t + I), `ts_event_us` =
 * t, knowledge: events with ts_local_us < t + I), whose streams are every instrument's sources as roles
 * `<base>@<alias>` (engine/operator.ts), all merged in the one total order; each instrument contributes the
 * registered operator `interval_microstructure` (microstructure.ts) built through the operator registry,
 * writing `<feature>_<interval>_<alias>` columns.
 *
 * Config (JSON, `IntervalConfigSchema`):
 * ```json
 * { "instruments": [
 *   { "alias": "spy", "exchange": "usa", "symbol": "SPY", "source": "ticks", "quotes": false,
 *     "assetClass": "equity", "vpinBucketVolume": 50000 },
 *   { "alias": "es", "exchange": "cme", "root": "ES", "roll": { "rule": "days_before_expiry", "days": 8 },
 *     "source": "bars", "barIntervalMs": 60000, "tickSize": 0.25, "assetClass": "future", "vpinBucketVolume": 500 } ] }
 * ```
 * **Front month** (`root` instead of `symbol`): per date, the contract of that root (registry
 * `contract_month`/`expiry_us`, from the Lean ingest) with the earliest expiry such that
 * expiry − `days` days is after the date's start (UTC midnight): the roll happens `days` calendar days
 * before expiry (CME equity-index volume moves to the next quarterly about 8 days before expiry, on the
 * Thursday before the second Friday's week... the rule here is the stated calendar one, not volume).
 *
 * **Per date.** A frame of date D covers [max(start, D), min(end, D + 1 day)); the operators' state starts
 * afresh at UTC midnight (microstructure.ts), so a date's frame is a function of its own events.
 *
 * **Gates** (names and `GateResult` shape of the pipeline's gates, pipeline/gates.ts): `lookahead_check`
 * (prefix truncation at seeded cuts: engine/pit.ts), `reproducibility_check` (canonical hash of two runs:
 * `hashColumns`), `partition_safety_check` (the date's rows of a run started one day earlier equal the
 * date's own run), `max_null_ratio` (informational: null ratio per column, not critical). The ordering of
 * events is the Driver's own (checked per chunk).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type pl from "nodejs-polars";
import { z } from "zod";
import { ConfigError } from "../../core/errors.js";
import { US_PER_DAY, US_PER_MS } from "../../core/time.js";
import { type FeatureBatch, SPINE_COLUMNS } from "../../engine/driver.js";
import { GroupOperator } from "../../engine/group.js";
import type { Operator } from "../../engine/operator.js";
import { type ColumnRows, checkPrefixTruncationColumns } from "../../engine/pit.js";
import type { OperatorRegistry } from "../../engine/registry.js";
import { Replay } from "../../engine/replay.js";
import { parseSpineSpec } from "../../engine/spine-spec.js";
import { Lake, type LakeRef } from "../../lake/lake.js";
import type { SymbolEntry } from "../../lake/registry.js";
import type { GateResult } from "../../pipeline/gate-types.js";
import { hashColumns, mulberry32 } from "../../pipeline/gates.js";
import { typedColumnsToFrame } from "../frame.js";
import { builtinRegistry } from "../registry.js";
import {
  CROSS_ASSET_PARAMS,
  CROSS_ASSET_SETTINGS,
  type CrossAssetConfig,
  crossAssetOutputs,
} from "./cross-asset.js";
import { INTERVAL_MICRO_PARAMS, type IntervalMicroConfig, intervalMicroOutputs } from "./microstructure.js";
import { computeTargets, INTERVAL_TARGETS, targetColumns } from "./targets.js";

/** One instrument: where it is (exchange, symbol or front-month root) and its operator's settings. */
const instrumentSchema = INTERVAL_MICRO_PARAMS.omit({ intervalMs: true })
  .extend({
    exchange: z.string().min(1),
    /** The symbol; or `root` + `roll` for a front-month future. */
    symbol: z.string().min(1).optional(),
    root: z.string().min(1).optional(),
    roll: z
      .object({ rule: z.literal("days_before_expiry"), days: z.number().int().min(0) })
      .strict()
      .default({ rule: "days_before_expiry", days: 8 }),
  })
  .strict()
  .refine((i) => (i.symbol === undefined) !== (i.root === undefined), {
    message: "give exactly one of symbol or root (front month)",
  });

/** The interval-frame config (see the module doc). */
export const IntervalConfigSchema = z
  .object({
    instruments: z.array(instrumentSchema).min(1),
    /** Cross-asset features (cross-asset.ts): basis, lagged correlations, OFI spreads, hedge spreads. */
    cross: CROSS_ASSET_SETTINGS.optional(),
    /** Targets (labels, forward-looking: targets.ts), added after the gates. */
    targets: INTERVAL_TARGETS.optional(),
  })
  .strict()
  .refine((c) => new Set(c.instruments.map((i) => i.alias)).size === c.instruments.length, {
    message: "instrument aliases must be unique",
  })
  .refine(
    (c) => {
      const known = new Set(c.instruments.map((i) => i.alias));
      const x = c.cross;
      const used = [
        ...(x?.basis ?? []).flatMap((b) => [b.future, b.etf]),
        ...(x?.laggedCorr ?? []).flatMap((k) => [k.a, k.b]),
        ...(x?.ofiSpread ?? []).flatMap((o) => [o.a, o.b]),
        ...(x?.hedge ?? []).flatMap((h) => h.legs.map((l) => l.alias)),
        ...(c.targets
          ? [c.targets.primary, ...c.targets.pairs.flat(), ...(c.targets.responders?.aliases ?? [])]
          : []),
      ];
      return used.every((a) => known.has(a));
    },
    { message: "cross-asset features and targets may only name configured instrument aliases" },
  );
export type IntervalConfig = z.output<typeof IntervalConfigSchema>;
export type IntervalInstrument = IntervalConfig["instruments"][number];

/** Validates a config object. @throws ConfigError naming the field. */
export function parseIntervalConfig(input: unknown): IntervalConfig {
  const r = IntervalConfigSchema.safeParse(input);
  if (!r.success)
    throw new ConfigError(
      `interval config: ${r.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ")}`,
    );
  return r.data;
}

/**
 * The front-month contract of `root` on `exchange` at `atUs`: the registry entry with the earliest
 * `expiry_us` such that expiry − `rollDays` days > atUs. @throws ConfigError when none qualifies.
 */
export function frontMonth(
  entries: readonly SymbolEntry[],
  exchange: string,
  root: string,
  atUs: number,
  rollDays: number,
): string {
  let best: SymbolEntry | null = null;
  for (const e of entries) {
    if (e.exchange !== exchange || e.base !== root.toUpperCase() || e.asset_type !== "future") continue;
    const x = e.expiry_us;
    if (x === null || x === undefined || !(x - rollDays * US_PER_DAY > atUs)) continue;
    if (best === null || x < best.expiry_us!) best = e;
  }
  if (best === null)
    throw new ConfigError(
      `no ${exchange} ${root} contract with a known expiry more than ${rollDays} days after ${new Date(atUs / 1000).toISOString()}`,
    );
  return best.exchange_symbol;
}

/** One date × interval frame as typed columns (spine columns first). */
export interface IntervalFrame {
  /** UTC date `YYYYMMDD`. */
  readonly date: string;
  readonly intervalS: number;
  readonly columns: readonly { readonly name: string; readonly dtype: "Int64" | "Float64" }[];
  readonly rows: ColumnRows;
  /** Instrument alias → symbol used that date (front month resolved). */
  readonly symbols: Readonly<Record<string, string>>;
  readonly gates: readonly GateResult[];
}

/** Options of `buildIntervalFrames`. */
export interface IntervalBuildRequest {
  readonly lake: LakeRef;
  readonly config: IntervalConfig;
  /** Interval lengths, seconds (e.g. [30, 60]). */
  readonly intervalsS: readonly number[];
  readonly startUs: number;
  readonly endUs: number;
  /** Run the gates (default true; each costs extra runs). */
  readonly gates?: boolean;
  /** Prefix-truncation cuts per frame (default 3). */
  readonly lookaheadCuts?: number;
  /** Operator registry (default `builtinRegistry()`). */
  readonly registry?: OperatorRegistry;
  /** Worker-thread prefetch of the replay (default true). */
  readonly prefetch?: boolean;
  /**
   * Events read per source at a time, ms. Default one day: lake parts are per UTC day and every chunk
   * re-scans its part with a row filter, so 24 one-hour chunks decode the day's part 24 times (measured on
   * SPY + IBM 2013-10-08, 60 s frame: 1.5 s with 1 h chunks, 0.2 s with one chunk). Memory is then one day
   * of each instrument's events (SPY's 450k trades: ~15 MB of typed columns).
   */
  readonly chunkMs?: number;
}

function operatorConfig(i: IntervalInstrument, intervalMs: number): IntervalMicroConfig {
  const { exchange: _e, symbol: _s, root: _r, roll: _roll, ...settings } = i;
  return INTERVAL_MICRO_PARAMS.parse({ ...settings, intervalMs });
}

/**
 * The operators of one run (one `interval_microstructure` per instrument), built through the registry
 * (fresh instances). @throws ConfigError if the registry lacks the definition.
 */
export function intervalOperators(
  reg: OperatorRegistry,
  cfg: IntervalConfig,
  intervalMs: number,
): Operator[] {
  const def = reg.get("interval_microstructure");
  if (def === undefined) throw new ConfigError("the registry has no interval_microstructure operator");
  const ops = cfg.instruments.map((i) => {
    const config = operatorConfig(i, intervalMs);
    return def.impl({
      operatorName: def.name,
      config,
      joinStrategy: "asof_backward",
      outputNames: intervalMicroOutputs(config).map((o) => o.name),
    });
  });
  if (cfg.cross === undefined) return ops;
  // the cross-asset operator reads the instruments' row outputs: one group, members in order
  const cross = reg.get("interval_cross_asset");
  if (cross === undefined) throw new ConfigError("the registry has no interval_cross_asset operator");
  const config = crossConfig(cfg, intervalMs)!;
  const op = cross.impl({
    operatorName: cross.name,
    config,
    joinStrategy: "asof_backward",
    outputNames: crossAssetOutputs(config).map((o) => o.name),
  });
  return [new GroupOperator(`interval_frame_${intervalMs}ms`, [...ops, op])];
}

function crossConfig(cfg: IntervalConfig, intervalMs: number): CrossAssetConfig | null {
  return cfg.cross === undefined ? null : CROSS_ASSET_PARAMS.parse({ ...cfg.cross, intervalMs });
}

/** Frame columns (spine + outputs) of one interval. */
function frameColumns(cfg: IntervalConfig, intervalMs: number) {
  return [
    ...SPINE_COLUMNS.map((name) => ({ name, dtype: "Int64" as const })),
    ...cfg.instruments.flatMap((i) =>
      intervalMicroOutputs(operatorConfig(i, intervalMs)).map((o) => ({
        name: o.name,
        dtype: o.dtype === "i64" ? ("Int64" as const) : ("Float64" as const),
      })),
    ),
    ...(cfg.cross === undefined ? [] : crossAssetOutputs(crossConfig(cfg, intervalMs)!)).map((o) => ({
      name: o.name,
      dtype: "Float64" as const,
    })),
  ];
}

/** Runs one replay of [fromUs, toUs) (output rows from `outFromUs`) and returns its typed columns. */
async function runOnce(
  lake: Lake,
  reg: OperatorRegistry,
  cfg: IntervalConfig,
  symbols: Readonly<Record<string, string>>,
  intervalMs: number,
  replayFromUs: number,
  outFromUs: number,
  toUs: number,
  io: { readonly prefetch: boolean; readonly chunkUs: number },
): Promise<ColumnRows> {
  const first = cfg.instruments[0]!;
  const instruments = Object.fromEntries(
    cfg.instruments.map((i) => [i.alias, { exchange: i.exchange, symbol: symbols[i.alias]! }]),
  );
  const replay = new Replay({
    lake,
    exchange: first.exchange,
    symbol: symbols[first.alias]!,
    instruments,
    startUs: outFromUs,
    endUs: toUs,
    spine: parseSpineSpec({ type: "clock", stepMs: intervalMs }),
    operators: intervalOperators(reg, cfg, intervalMs),
    warmupUs: outFromUs - replayFromUs,
    prefetch: io.prefetch,
    chunkUs: io.chunkUs,
  });
  const batches: FeatureBatch[] = [];
  for await (const b of replay.batches()) batches.push(b);
  const names = [...SPINE_COLUMNS, ...replay.columnNames];
  const n = batches.reduce((a, b) => a + b.length, 0);
  const cols = names.map(() => new Float64Array(n));
  let at = 0;
  for (const b of batches) {
    const src = [b.tsEventUs, b.tsEndUs, b.availableAtUs, b.barIndex, b.barDurationUs, ...b.columns];
    src.forEach((c, k) => {
      cols[k]!.set(c.subarray(0, b.length), at);
    });
    at += b.length;
  }
  return { n, values: new Map(names.map((name, k) => [name, cols[k]!])) };
}

function gate(
  name: string,
  passed: boolean,
  reason: string,
  details: Record<string, unknown>,
  critical = true,
) {
  return { name, passed, critical, skipped: false, reason, details } satisfies GateResult;
}

/** `YYYYMMDD` of a UTC day start. */
export function utcDateLabel(dayUs: number): string {
  return new Date(dayUs / US_PER_MS).toISOString().slice(0, 10).replaceAll("-", "");
}

/**
 * Builds the frames of every UTC date in [startUs, endUs) and every interval (see the module doc).
 * @throws ConfigError on a bad config, an unknown instrument or no front-month contract.
 */
export async function buildIntervalFrames(req: IntervalBuildRequest): Promise<IntervalFrame[]> {
  if (!(req.endUs > req.startUs)) throw new ConfigError("end must be after start");
  const lake = await Lake.from(req.lake);
  const reg = req.registry ?? builtinRegistry();
  const cfg = req.config;
  const entries = lake.registry.list();
  const io = { prefetch: req.prefetch ?? true, chunkUs: (req.chunkMs ?? 86_400_000) * US_PER_MS };
  const out: IntervalFrame[] = [];
  for (let day = Math.floor(req.startUs / US_PER_DAY) * US_PER_DAY; day < req.endUs; day += US_PER_DAY) {
    const from = Math.max(req.startUs, day);
    const to = Math.min(req.endUs, day + US_PER_DAY);
    const symbols: Record<string, string> = {};
    for (const i of cfg.instruments)
      symbols[i.alias] = i.symbol ?? frontMonth(entries, i.exchange, i.root!, day, i.roll.days);
    for (const s of req.intervalsS) {
      const ms = s * 1000;
      if (!Number.isInteger(ms) || ms <= 0 || (US_PER_DAY / US_PER_MS) % ms !== 0)
        throw new ConfigError(`interval ${s} s must divide a day in whole milliseconds`);
      const columns = frameColumns(cfg, ms);
      const run = (replayFrom: number, outFrom: number, end: number) =>
        runOnce(lake, reg, cfg, symbols, ms, replayFrom, outFrom, end, io);
      const rows = await run(day, from, to);
      const gates: GateResult[] = [];
      if (req.gates ?? true)
        gates.push(...(await frameGates(rows, columns, run, day, from, to, req.lookaheadCuts ?? 3)));
      // targets look forward: added after the gates, which check the features only
      if (cfg.targets !== undefined) {
        const L = `${s}s`;
        const values = new Map(rows.values);
        const all = [...columns];
        const tcols = targetColumns(cfg.targets, L);
        computeTargets(cfg.targets, L, rows.values, rows.n).forEach((v, k) => {
          values.set(tcols[k]!.name, v);
          all.push({ name: tcols[k]!.name, dtype: "Float64" });
        });
        out.push({
          date: utcDateLabel(day),
          intervalS: s,
          columns: all,
          rows: { n: rows.n, values },
          symbols,
          gates,
        });
      } else out.push({ date: utcDateLabel(day), intervalS: s, columns, rows, symbols, gates });
    }
  }
  return out;
}

async function frameGates(
  rows: ColumnRows,
  columns: readonly { readonly name: string; readonly dtype: "Int64" | "Float64" }[],
  run: (replayFrom: number, outFrom: number, end: number) => Promise<ColumnRows>,
  day: number,
  from: number,
  to: number,
  cuts: number,
): Promise<GateResult[]> {
  const names = columns.map((c) => c.name);
  const out: GateResult[] = [];
  // lookahead: prefix truncation at seeded cuts inside the frame's knowable range
  const avail = rows.values.get("available_at_us")!;
  const rnd = mulberry32(14);
  const cand: number[] = [];
  for (let i = 0; i < rows.n; i++) if (avail[i]! + 1 < to) cand.push(avail[i]! + 1);
  const cutsUs = [
    ...new Set(
      Array.from({ length: Math.min(cuts, cand.length) }, () => cand[Math.floor(rnd() * cand.length)]!),
    ),
  ].sort((a, b) => a - b);
  const pit = await checkPrefixTruncationColumns(rows, (c) => run(day, from, c), cutsUs, names);
  out.push(
    gate(
      "lookahead_check",
      pit.passed,
      pit.passed
        ? `${pit.rowsCompared} rows identical under ${pit.cuts} prefix truncations`
        : `${pit.violations.length} violation(s); first: ${JSON.stringify(pit.violations[0])}`,
      { cuts_us: cutsUs, rows_compared: pit.rowsCompared, violations: pit.violations },
    ),
  );
  // reproducibility: canonical hash of two runs
  const h1 = hashColumns(columns, rows.values);
  const again = await run(day, from, to);
  const h2 = hashColumns(columns, again.values);
  out.push(
    gate("reproducibility_check", h1 === h2, h1 === h2 ? `sha256 ${h1} twice` : `${h1} ≠ ${h2}`, {
      sha256: h1,
    }),
  );
  // partition safety: the date's rows of a run started one day earlier
  const early = await run(day - US_PER_DAY, from, to);
  let diff = 0;
  let first = "";
  for (const name of names) {
    const a = rows.values.get(name)!;
    const b = early.values.get(name)!;
    for (let i = 0; i < rows.n; i++) {
      if (!Object.is(a[i], b[i])) {
        if (diff === 0) first = `${name} row ${i}: ${a[i]} vs ${b[i]}`;
        diff++;
      }
    }
  }
  const sameN = early.n === rows.n;
  out.push(
    gate(
      "partition_safety_check",
      sameN && diff === 0,
      sameN && diff === 0
        ? `${rows.n} rows identical to a run started one day earlier`
        : `${diff} value(s) differ (rows ${rows.n} vs ${early.n}); first: ${first}`,
      { rows: rows.n, differing_values: diff },
    ),
  );
  const ratios: Record<string, number> = {};
  for (const name of names) {
    const a = rows.values.get(name)!;
    let nul = 0;
    for (let i = 0; i < rows.n; i++) if (Number.isNaN(a[i]!)) nul++;
    ratios[name] = rows.n === 0 ? 1 : nul / rows.n;
  }
  out.push(
    gate("max_null_ratio", true, "null ratio per column (informational)", { null_ratio: ratios }, false),
  );
  return out;
}

/** A frame as a Polars DataFrame (NaN → null, Int64 spine columns). */
export function intervalFrameToDataFrame(f: IntervalFrame): pl.DataFrame {
  return typedColumnsToFrame(
    f.columns,
    f.columns.map((c) => f.rows.values.get(c.name)!),
  );
}

/** Schema entry of one output column (manifest). */
export interface IntervalColumnSchema {
  readonly name: string;
  readonly instrument: string | null;
  readonly unit: string;
  readonly formula: string;
  readonly source: string;
}

/** Column schema of an interval (spine columns, then every instrument's outputs). */
export function intervalSchema(cfg: IntervalConfig, intervalS: number): IntervalColumnSchema[] {
  const spine = SPINE_COLUMNS.map((name) => ({
    name,
    instrument: null,
    unit: "µs",
    formula: name === "bar_index" ? "t / interval" : "clock interval [t, t + interval)",
    source: "engine clock spine (docs/engine.md)",
  }));
  return [
    ...spine,
    ...cfg.instruments.flatMap((i) =>
      intervalMicroOutputs(operatorConfig(i, intervalS * 1000)).map((o) => ({
        name: o.name,
        instrument: i.alias,
        unit: o.unit,
        formula: o.formula,
        source: o.source,
      })),
    ),
    ...(cfg.cross === undefined ? [] : crossAssetOutputs(crossConfig(cfg, intervalS * 1000)!)).map((o) => ({
      name: o.name,
      instrument: null,
      unit: o.unit,
      formula: o.formula,
      source: o.source,
    })),
    ...(cfg.targets === undefined ? [] : targetColumns(cfg.targets, `${intervalS}s`)).map((t) => ({
      name: t.name,
      instrument: cfg.targets!.primary,
      unit: t.unit,
      formula: t.formula,
      source: "seeds/etf-options-feature-spec.md §5 (label: looks one interval forward)",
    })),
  ];
}

/**
 * Writes each frame to `<outDir>/features_<DATE>_<INTERVAL>s.parquet` with a manifest
 * `features_<DATE>_<INTERVAL>s.manifest.json` (config, symbols, rows, schema, gates).
 * @returns the written Parquet paths.
 */
export function writeIntervalFrames(
  frames: readonly IntervalFrame[],
  cfg: IntervalConfig,
  outDir: string,
): string[] {
  mkdirSync(outDir, { recursive: true });
  const paths: string[] = [];
  for (const f of frames) {
    const base = join(outDir, `features_${f.date}_${f.intervalS}s`);
    intervalFrameToDataFrame(f).writeParquet(`${base}.parquet`);
    const manifest = {
      kind: "pointline.interval_frame",
      version: 1,
      date: f.date,
      interval_s: f.intervalS,
      rows: f.rows.n,
      symbols: f.symbols,
      config: cfg,
      schema: intervalSchema(cfg, f.intervalS),
      gates: f.gates,
      decision: f.gates.every((g) => g.passed || !g.critical) ? "accept" : "reject",
    };
    writeFileSync(`${base}.manifest.json`, `${JSON.stringify(manifest, null, 2)}\n`);
    paths.push(`${base}.parquet`);
  }
  return paths;
}
