/**
 * `buildFeatureFrame` / `streamFeatureFrame`: Pointline's research entry points. One replay of the lake
 * (see engine/replay.ts) computes every enabled family on the configured spine; rows are bars with
 * ts_event_us in [start, end) and available_at_us ≤ end.
 *
 * Frame columns: `ts_event_us`, `ts_end_us`, `available_at_us`, `bar_index`, `bar_duration_us` (Int64,
 * µs), then each family's outputs (Int64 or Float64; null where the value is undefined or in warm-up).
 */
import pl from "nodejs-polars";
import { ConfigError } from "../core/errors.js";
import { type TimeInput, toUs, US_PER_MS } from "../core/time.js";
import type { DriverSnapshot } from "../engine/driver.js";
import type { Operator, OutputSpec } from "../engine/operator.js";
import { type FeatureBatch, Replay, type ReplaySummary, SPINE_COLUMNS } from "../engine/replay.js";
import { type FrameUnit, frameUnits, toFrameUnit } from "../engine/units.js";
import { Lake, type LakeRef } from "../lake/lake.js";
import { type FeatureRunConfig, type FeatureRunInput, parseFeatureRunConfig } from "./config.js";
import { PRESETS } from "./derivatives/preset.js";
import { FAMILIES } from "./families.js";
import type { FamilyDef, FeatureMeta } from "./family.js";

/** A feature-frame request: lake, instrument, output range [start, end), config and IO options. */
export interface FeatureFrameRequest {
  /** Lake root or an open handle (`Lake.open`): a path is opened once per request. */
  readonly lake: LakeRef;
  readonly exchange: string;
  /** Exchange symbol (e.g. BTCUSDT); or give `symbolId` from the registry. */
  readonly symbol?: string;
  readonly symbolId?: number;
  /** Inclusive start / exclusive end of the output range (ISO string, Date or µs). */
  readonly start: TimeInput;
  readonly end: TimeInput;
  readonly config?: FeatureRunInput;
  /** Rows per streamed batch (default 65,536). */
  readonly batchRows?: number;
  /** Events read per source at a time, ms of data (default 1 h; chunks end on multiples of it). */
  readonly chunkMs?: number;
  /** Read the next chunk on a worker thread while computing the current one (default true). */
  readonly prefetch?: boolean;
  readonly onProgress?: (doneUs: number, fromUs: number, toUs: number) => void;
  /** Families to choose from (default: every family, `FAMILIES`, and the presets, `PRESETS`); each is still gated by its flag. */
  readonly families?: readonly FamilyDef[];
  /** Driver snapshots after these event counts (1-based, ascending) go to `onCheckpoint`. */
  readonly checkpointAtEvents?: readonly number[];
  readonly onCheckpoint?: (snapshot: DriverSnapshot) => void;
  /**
   * Continue a run of the same request from a Driver snapshot (any process): the frame then holds only
   * the rows after the snapshot point, bitwise equal to those of the uninterrupted run.
   */
  readonly restore?: DriverSnapshot;
  /** Partition hand-off: the previous partition's end state (see engine/replay.ts `handoff`). */
  readonly handoff?: DriverSnapshot;
  /** Receives the Driver's end state (the next partition's `handoff`). */
  readonly onEndSnapshot?: (snapshot: DriverSnapshot) => void;
}

/** Column description for manifests and docs. */
export interface FrameColumn {
  readonly name: string;
  readonly dtype: "Int64" | "Float64";
  readonly unit: string;
}

/** A planned run: validated config, operators and output columns, before any data is read. */
export interface FeaturePlan {
  readonly config: FeatureRunConfig;
  readonly exchange: string;
  readonly symbol: string;
  readonly startUs: number;
  readonly endUs: number;
  readonly warmupUs: number;
  readonly families: readonly FamilyDef[];
  readonly operators: readonly Operator[];
  /** Spine columns, then every operator output in frame units (see engine/units.ts). */
  readonly columns: readonly FrameColumn[];
  /** Per operator output (aligned with the outputs after the spine columns): its frame unit. */
  readonly frameUnits: readonly FrameUnit[];
  readonly catalog: readonly FeatureMeta[];
}

const SPINE_UNITS: Record<(typeof SPINE_COLUMNS)[number], string> = {
  ts_event_us: "µs since epoch (bar start)",
  ts_end_us: "µs since epoch (bar end)",
  available_at_us: "µs since epoch (earliest knowable)",
  bar_index: "bars since anchor",
  bar_duration_us: "µs",
};

/** The spine columns every frame starts with (Int64, with units), in `SPINE_COLUMNS` order. */
export const SPINE_FRAME_COLUMNS: readonly FrameColumn[] = SPINE_COLUMNS.map((name) => ({
  name,
  dtype: "Int64" as const,
  unit: SPINE_UNITS[name],
}));

/**
 * Default warm-up of a clock spine, µs: 2w + 2 rows of `stepMs` for the longest window w (rows) — the
 * window fills (w) and passes one rolling-sum rebuild point (< w more rows, see engine/rolling.ts), after
 * which rows are bitwise identical to a run started earlier.
 */
export function clockWarmupUs(maxWarmupRows: number, stepMs: number): number {
  return (2 * maxWarmupRows + 2) * stepMs * US_PER_MS;
}

/**
 * A DataFrame from typed columns: `data[k]` (float64, NaN = null) becomes column `columns[k]`, cast to
 * Int64 (values must be integers exact in float64) or kept Float64 with NaN → null.
 */
export function typedColumnsToFrame(
  columns: readonly { readonly name: string; readonly dtype: "Int64" | "Float64" }[],
  data: readonly Float64Array[],
): pl.DataFrame {
  const series = columns.map((c, k) => pl.Series(c.name, data[k]!, pl.Float64));
  return pl.DataFrame(series).select(...frameExprs(columns));
}

/**
 * The cast expressions of a column list, built once per list object (building an expression costs about
 * a millisecond in nodejs-polars; a streamed run converts every batch with the same plan columns).
 * Expressions are immutable, so sharing them is safe.
 */
const FRAME_EXPRS = new WeakMap<readonly FrameColumnType[], pl.Expr[]>();
type FrameColumnType = { readonly name: string; readonly dtype: "Int64" | "Float64" };

function frameExprs(columns: readonly FrameColumnType[]): pl.Expr[] {
  let exprs = FRAME_EXPRS.get(columns);
  if (exprs === undefined) {
    exprs = columns.map((c) =>
      c.dtype === "Int64" ? pl.col(c.name).cast(pl.Int64) : pl.col(c.name).fillNan(null),
    );
    FRAME_EXPRS.set(columns, exprs);
  }
  return exprs;
}

/** Resolves the instrument, validates the config and builds the operators. @throws ConfigError. */
export async function planFeatureFrame(
  req: FeatureFrameRequest,
  extraOperators: readonly Operator[] = [],
): Promise<FeaturePlan> {
  const config = parseFeatureRunConfig(req.config ?? {});
  const startUs = toUs(req.start);
  const endUs = toUs(req.end);
  if (!(endUs > startUs)) throw new ConfigError(`end (${endUs}) must be after start (${startUs})`);
  const lake = await Lake.from(req.lake);
  let symbol = req.symbol;
  if (symbol === undefined) {
    if (req.symbolId === undefined) throw new ConfigError("give symbol or symbolId");
    const entry = lake.registry.byId(req.symbolId);
    if (!entry) throw new ConfigError(`symbol_id ${req.symbolId} is not in the lake's registry`);
    if (entry.exchange !== req.exchange) {
      throw new ConfigError(`symbol_id ${req.symbolId} belongs to ${entry.exchange}, not ${req.exchange}`);
    }
    symbol = entry.exchange_symbol;
  }
  const families = (req.families ?? [...FAMILIES, ...PRESETS]).filter((f) => config[f.flag]);
  const operators = [...families.map((f) => f.create(config)), ...extraOperators];
  const outputs: OutputSpec[] = operators.flatMap((op) => op.outputs);
  const inst = lake.instrument(req.exchange, symbol, startUs);
  const units = frameUnits(outputs, inst.increments);
  const columns: FrameColumn[] = [
    ...SPINE_FRAME_COLUMNS,
    ...outputs.map((o, k) => ({
      name: o.name,
      // a value converted to natural units is a float even when the increments were integers
      dtype: o.dtype === "i64" && units[k]!.scale === null ? ("Int64" as const) : ("Float64" as const),
      unit: units[k]!.unit,
    })),
  ];
  let warmupUs: number;
  if (config.warmupMs !== undefined) warmupUs = config.warmupMs * US_PER_MS;
  else if (config.spine.type === "clock" || config.spine.type === "bars") {
    const rows = outputs.reduce((m, o) => Math.max(m, o.warmupRows), 0);
    warmupUs = clockWarmupUs(
      rows,
      config.spine.type === "clock" ? config.spine.stepMs : config.spine.intervalMs,
    );
  } else warmupUs = 0;
  return {
    config,
    exchange: req.exchange,
    symbol,
    startUs,
    endUs,
    warmupUs,
    families,
    operators,
    columns,
    frameUnits: units,
    catalog: families.flatMap((f) => f.catalog(config)),
  };
}

/**
 * What a run of `plan` computes, shared by batch replays (`replayOf`) and live runners
 * (live/runner.ts): instrument(s), output range [startUs, endUs) in µs, spine, operators and warm-up (µs).
 */
export function runSpecOf(plan: FeaturePlan) {
  const cv = plan.config.includeCrossVenue ? plan.config.crossVenue : undefined;
  return {
    exchange: plan.exchange,
    symbol: plan.symbol,
    ...(cv ? { crossVenue: cv } : {}),
    startUs: plan.startUs,
    endUs: plan.endUs,
    spine: plan.config.spine,
    operators: plan.operators,
    warmupUs: plan.warmupUs,
  };
}

/** A replay of a plan (iterate `batches()` once; `summary` is complete afterwards). */
export function replayOf(plan: FeaturePlan, req: FeatureFrameRequest): Replay {
  return new Replay({
    lake: req.lake,
    ...runSpecOf(plan),
    ...(req.chunkMs !== undefined ? { chunkUs: req.chunkMs * US_PER_MS } : {}),
    ...(req.batchRows !== undefined ? { batchRows: req.batchRows } : {}),
    ...(req.prefetch !== undefined ? { prefetch: req.prefetch } : {}),
    ...(req.onProgress ? { onProgress: req.onProgress } : {}),
    ...(req.checkpointAtEvents ? { checkpointAtEvents: req.checkpointAtEvents } : {}),
    ...(req.onCheckpoint ? { onCheckpoint: req.onCheckpoint } : {}),
    ...(req.restore ? { restore: req.restore } : {}),
    ...(req.handoff ? { handoff: req.handoff } : {}),
    ...(req.onEndSnapshot ? { onEndSnapshot: req.onEndSnapshot } : {}),
  });
}

/**
 * Converts one batch to a DataFrame with the plan's columns (NaN → null): the frame sink, where
 * operator outputs in increments become natural units (engine/units.ts; `_int` columns stay integers).
 */
export function batchToFrame(plan: FeaturePlan, b: FeatureBatch): pl.DataFrame {
  return typedColumnsToFrame(plan.columns, [
    b.tsEventUs,
    b.tsEndUs,
    b.availableAtUs,
    b.barIndex,
    b.barDurationUs,
    ...b.columns.map((c, k) => toFrameUnit(c, plan.frameUnits[k]!)),
  ]);
}

/** Streams the feature frame as DataFrame batches of up to `batchRows` rows, in row order. */
export async function* streamFeatureFrame(
  request: FeatureFrameRequest,
): AsyncGenerator<pl.DataFrame, ReplaySummary> {
  const req = { ...request, lake: await Lake.from(request.lake) };
  const plan = await planFeatureFrame(req);
  const replay = replayOf(plan, req);
  for await (const b of replay.batches()) yield batchToFrame(plan, b);
  return replay.summary;
}

/** The whole feature frame as one DataFrame. */
export async function buildFeatureFrame(req: FeatureFrameRequest): Promise<pl.DataFrame> {
  return (await buildFeatureFrameWithSummary(req)).frame;
}

/** The frame plus the run's plan and summary (rows, events per source, unassigned trades, partitions). */
export async function buildFeatureFrameWithSummary(
  request: FeatureFrameRequest,
): Promise<{ frame: pl.DataFrame; plan: FeaturePlan; summary: ReplaySummary }> {
  const req = { ...request, lake: await Lake.from(request.lake) };
  const plan = await planFeatureFrame(req);
  const replay = replayOf(plan, req);
  const parts: pl.DataFrame[] = [];
  for await (const b of replay.batches()) parts.push(batchToFrame(plan, b));
  const frame =
    parts.length === 0
      ? batchToFrame(plan, emptyBatch(plan.columns.length - SPINE_COLUMNS.length))
      : parts.length === 1
        ? parts[0]!
        : pl.concat(parts, { how: "vertical" });
  return { frame, plan, summary: replay.summary };
}

function emptyBatch(nOut: number): FeatureBatch {
  const e = new Float64Array(0);
  return {
    length: 0,
    tsEventUs: e,
    tsEndUs: e,
    availableAtUs: e,
    barIndex: e,
    barDurationUs: e,
    columns: Array.from({ length: nOut }, () => e),
  };
}
