/**
 * The lake replay: `LakeSource` + `Driver` + a collecting sink (DESIGN.md "Source → Driver → Sink").
 * `Replay` resolves the run's instruments in the symbol registry, plans its streams (every role an
 * operator reads, plus trades for event spines), reads the lake partitions of [replayStart, end) in
 * chunks and feeds them to a Driver, which owns the total-order merge (ts_local_us, table rank, file_id,
 * file_line_number), the spine, operator fan-out, warm-up discard and snapshot/restore. Feature rows come
 * out of `batches()` in columnar batches.
 *
 * Memory is bounded by `chunkUs` (events held per source) and `batchRows` (rows per yielded batch), not by
 * the range's length. Rows before `startUs` (warm-up) are computed and discarded; a row is output iff
 * ts_event_us ≥ start and available_at_us ≤ end.
 *
 * Checkpoints: `checkpointAtEvents` + `onCheckpoint` hand out Driver snapshots mid-run; a Replay of the
 * same config with `restore: snapshot` (in any process) continues from there and yields exactly the rows
 * the uninterrupted run yields after the snapshot point (`summary.rows` counts from the run's start).
 */
import { ConfigError } from "../core/errors.js";
import { US_PER_HOUR, utcDayStart } from "../core/time.js";
import { Lake, type LakeRef } from "../lake/lake.js";
import { CollectSink, Driver, type DriverSnapshot, type FeatureBatch, outputNames } from "./driver.js";
import { LakeSource, type LakeStream } from "./lake-source.js";
import {
  type InstrumentInfo,
  type Operator,
  type OperatorContext,
  roleAlias,
  roleTable,
  type SourceRole,
} from "./operator.js";
import type { PartCache } from "./part-cache.js";
import type { InputPartition } from "./source.js";
import { createSpine, type Spine, type SpineStats } from "./spine.js";
import type { SpineSpec } from "./spine-spec.js";

export {
  type FeatureBatch,
  MutableEventCursor,
  outputNames,
  SPINE_COLUMNS,
} from "./driver.js";

/** A validated replay: instrument(s), output range, spine, operators, warm-up and IO sizes. */
export interface ReplayConfig {
  /** Lake root or an open handle (opened once per replay when a path). */
  readonly lake: LakeRef;
  /** Primary instrument (spine and all roles except `spot_*`). */
  readonly exchange: string;
  readonly symbol: string;
  /** Second instrument for `spot_*` roles (cross-venue). */
  readonly crossVenue?: { readonly exchange: string; readonly symbol: string };
  /**
   * Named instruments of a multi-instrument run, by alias: roles `<base>@<alias>` (`trades@spy`) read the
   * instrument of that alias (operator.ts `SourceRole`). Every stream joins the one spine in the total order.
   */
  readonly instruments?: Readonly<Record<string, { readonly exchange: string; readonly symbol: string }>>;
  /** Output range [startUs, endUs) of ts_local_us, µs. */
  readonly startUs: number;
  readonly endUs: number;
  readonly spine: SpineSpec;
  readonly operators: readonly Operator[];
  /** Extra history replayed before start (µs); event spines additionally start at that UTC midnight. */
  readonly warmupUs: number;
  /** Events read per source at a time (µs of data); default 1 h. */
  readonly chunkUs?: number;
  /**
   * Read and convert the next chunk on a worker thread while the operators run over the current one
   * (default true; false loads on the calling thread). Output is identical either way.
   */
  readonly prefetch?: boolean;
  /** Decoded-partition cache shared by replays of the same parts (see part-cache.ts); default none. */
  readonly partCache?: PartCache;
  /** Rows per yielded batch; default 65,536. */
  readonly batchRows?: number;
  /**
   * Called after each chunk with the replay position (µs: position, replay start, end), and once more
   * with `doneUs = toUs` when the replay has finished.
   */
  readonly onProgress?: (doneUs: number, fromUs: number, toUs: number) => void;
  /** Driver snapshots after these event counts (1-based, ascending) go to `onCheckpoint`. */
  readonly checkpointAtEvents?: readonly number[];
  readonly onCheckpoint?: (snapshot: DriverSnapshot) => void;
  /** Continue a run of the same config from a Driver snapshot (yields only the rows after it). */
  readonly restore?: DriverSnapshot;
  /**
   * Partition hand-off: start from the end state of the previous partition of the same request (its
   * `onEndSnapshot`; its range ends at this run's start) instead of replaying the warm-up. Rows are
   * identical either way for a partition-safe request (tested).
   */
  readonly handoff?: DriverSnapshot;
  /** Receives the Driver's state after the last event of the range, before the run closes (for a hand-off). */
  readonly onEndSnapshot?: (snapshot: DriverSnapshot) => void;
}

/** Run statistics, complete when `batches()` ends: rows, replay start, events per role, spine accounting, input parts. */
export interface ReplaySummary {
  rows: number;
  replayStartUs: number;
  events: Partial<Record<SourceRole, number>>;
  spine: SpineStats;
  partitions: InputPartition[];
}

/** What a run is, independent of where its events come from (a `ReplayConfig` or a live runner's config). */
export type RunShape = Pick<
  ReplayConfig,
  "exchange" | "symbol" | "crossVenue" | "instruments" | "startUs" | "spine" | "operators" | "warmupUs"
>;

/** A run set up before its first event (see `setupRun`). */
export interface RunSetup {
  /** The instruments given to every operator's `init` (increments from the registry at `startUs`). */
  readonly ctx: OperatorContext;
  /** The run's spine, `replayStartUs` already called. */
  readonly spine: Spine;
  /** Where the events must start for rows to equal a run from the beginning of time, µs. */
  readonly replayStartUs: number;
  /** The run's input streams: every role an operator reads, plus trades for event spines. */
  readonly streams: readonly LakeStream[];
}

/**
 * Sets a run up the one way batch replays and live runners share: resolves the instruments in the
 * lake's symbol registry (increments at `startUs`), calls every operator's `init`, builds the spine and its
 * replay start (clock: the step at or before start − warm-up; event spines: that UTC midnight; bars: the
 * interval at or before it), and lists the streams (every role an operator reads, plus trades for event
 * spines, plus the vendor bars for a `bars` spine).
 * @throws ConfigError if an instrument is unknown, a threshold is not representable in its increments,
 *   or operators read `spot_*` roles without a `crossVenue` instrument.
 */
export function setupRun(cfg: RunShape, lake: Lake): RunSetup {
  const info = (exchange: string, symbol: string): InstrumentInfo => {
    const r = lake.instrument(exchange, symbol, cfg.startUs);
    return { exchange, symbol, priceIncrement: r.priceIncrement, amountIncrement: r.amountIncrement };
  };
  const named = cfg.instruments ?? {};
  // streams: every role an operator reads, plus trades for event spines
  const roles = new Set<SourceRole>();
  for (const op of cfg.operators) for (const r of op.inputs) roles.add(r);
  if (cfg.spine.type === "bars") roles.add("bars");
  else if (cfg.spine.type !== "clock") roles.add("trades");
  const streams: LakeStream[] = [];
  const dataFromUs: Partial<Record<SourceRole, number>> = {};
  for (const role of roles) {
    const alias = roleAlias(role);
    if (alias !== null && named[alias] === undefined)
      throw new ConfigError(
        `operators read ${role} but the run names no instrument '${alias}' (instruments: ${Object.keys(named).join(", ") || "none"})`,
      );
    const inst =
      alias !== null
        ? named[alias]
        : role.startsWith("spot_")
          ? cfg.crossVenue
          : { exchange: cfg.exchange, symbol: cfg.symbol };
    if (!inst) throw new ConfigError(`operators read ${role} but no crossVenue instrument was given`);
    streams.push({ role, exchange: inst.exchange, symbol: inst.symbol });
    const first = lake.parts(
      roleTable(role),
      inst.exchange,
      inst.symbol,
      Number.NEGATIVE_INFINITY,
      Number.POSITIVE_INFINITY,
    )[0];
    dataFromUs[role] = first ? utcDayStart(first.first_ts_local_us) : Number.POSITIVE_INFINITY;
  }
  const ctx: OperatorContext = {
    primary: info(cfg.exchange, cfg.symbol),
    ...(cfg.crossVenue ? { crossVenue: info(cfg.crossVenue.exchange, cfg.crossVenue.symbol) } : {}),
    dataFromUs,
    ...(cfg.instruments
      ? {
          instruments: Object.fromEntries(
            Object.entries(named).map(([alias, i]) => [alias, info(i.exchange, i.symbol)]),
          ),
        }
      : {}),
  };
  for (const op of cfg.operators) op.init?.(ctx);
  const spine = createSpine(cfg.spine, {
    startUs: cfg.startUs,
    priceIncrement: ctx.primary.priceIncrement,
    amountIncrement: ctx.primary.amountIncrement,
  });
  const replayStartUs = spine.replayStartUs(cfg.startUs, cfg.warmupUs);
  return { ctx, spine, replayStartUs, streams };
}

/** One replay run. Iterate `batches()` once; `summary` is complete when it ends. */
export class Replay {
  readonly summary: ReplaySummary;
  private readonly names: string[];

  constructor(private readonly cfg: ReplayConfig) {
    if (!(cfg.endUs > cfg.startUs))
      throw new ConfigError(`end (${cfg.endUs}) must be after start (${cfg.startUs})`);
    this.names = outputNames(cfg.operators);
    this.summary = {
      rows: 0,
      replayStartUs: Number.NaN,
      events: {},
      spine: { tradesInRange: 0, unassignedTrades: 0, unassignedQtyInt: 0 },
      partitions: [],
    };
  }

  get columnNames(): readonly string[] {
    return this.names;
  }

  async *batches(): AsyncGenerator<FeatureBatch> {
    const cfg = this.cfg;
    const lake = await Lake.from(cfg.lake);
    const { spine, replayStartUs, streams } = setupRun(cfg, lake);
    this.summary.replayStartUs = replayStartUs;
    const source = new LakeSource({
      lake,
      streams,
      fromUs: replayStartUs,
      endUs: cfg.endUs,
      ...(cfg.restore || cfg.handoff ? { readFromUs: (cfg.restore ?? cfg.handoff)!.position.tsUs } : {}),
      chunkUs: cfg.chunkUs ?? US_PER_HOUR,
      ...(cfg.prefetch !== undefined ? { prefetch: cfg.prefetch } : {}),
      ...(cfg.partCache ? { partCache: cfg.partCache } : {}),
    });
    this.summary.partitions.push(...source.partitions());

    const sink = new CollectSink();
    const driver = new Driver({
      streams: source.streams,
      spine,
      operators: cfg.operators,
      startUs: cfg.startUs,
      endUs: cfg.endUs,
      sink,
      ...(cfg.batchRows !== undefined ? { batchRows: cfg.batchRows } : {}),
      ...(cfg.checkpointAtEvents ? { checkpointAtEvents: cfg.checkpointAtEvents } : {}),
      ...(cfg.onCheckpoint ? { onCheckpoint: cfg.onCheckpoint } : {}),
    });
    if (cfg.restore && cfg.handoff) throw new ConfigError("give restore or handoff, not both");
    if (cfg.restore) driver.restore(cfg.restore);
    if (cfg.handoff) driver.restore(cfg.handoff, { handoff: true });
    const sync = (): void => {
      this.summary.rows = driver.counters.rows;
      this.summary.events = { ...driver.counters.events };
    };
    for await (const chunk of source) {
      driver.push(chunk);
      sync();
      for (const b of sink.drain()) yield b;
      cfg.onProgress?.(chunk.toUs, replayStartUs, cfg.endUs);
    }
    cfg.onEndSnapshot?.(driver.snapshot());
    driver.finish();
    sync();
    Object.assign(this.summary.spine, driver.counters.spine);
    for (const b of sink.drain()) yield b;
    // the source stops after the last chunk with data, which may be long before `endUs`: the replay
    // is complete here, so report the whole range done
    cfg.onProgress?.(cfg.endUs, replayStartUs, cfg.endUs);
  }
}
