/**
 * The replay engine: one streaming pass that reads the lake partitions of every source for
 * [replayStart, end), merges them in the total order (ts_local_us, table rank, file_id, file_line_number),
 * drives the spine and the operators, and yields feature rows in columnar batches.
 *
 * Memory is bounded by `chunkUs` (events held per source) and `batchRows` (rows per yielded batch), not by
 * the range's length. Rows before `startUs` (warm-up) are computed and discarded; a row is output iff
 * ts_event_us ≥ start and available_at_us ≤ end.
 *
 * Knowledge set of a row: every event before the row's close in the total order. For a clock bar (and a
 * hybrid time close) that is every event with ts_local_us < available_at_us; for an event-driven bar it is
 * every event up to and including the completing trade e* (events at the same ts_local_us that sort after
 * e* — same-microsecond trades later in the file — are not in it).
 */
import { resolve } from "node:path";
import { ConfigError } from "../core/errors.js";
import { fixedToNumber } from "../core/fixed.js";
import { US_PER_HOUR } from "../core/time.js";
import { loadManifests } from "../lake/catalog.js";
import { SymbolRegistry } from "../lake/registry.js";
import type { TypedRows } from "../query/query.js";
import { TABLES } from "../schema/tables.js";
import { loadChunks, planChunks } from "./chunks.js";
import type {
  EventCursor,
  InstrumentInfo,
  Operator,
  OperatorContext,
  SourceRole,
  SpineRow,
} from "./operator.js";
import { ROLE_TABLE } from "./operator.js";
import { type EngineSource, type InputPartition, SourceReader } from "./source.js";
import { createSpine, type Spine, type SpineSink, type SpineStats, type SpineTrade } from "./spine.js";
import type { SpineSpec } from "./spine-spec.js";

/** A validated replay: instrument(s), output range, spine, operators, warm-up and IO sizes. */
export interface ReplayConfig {
  /** Lake root. */
  readonly lake: string;
  /** Primary instrument (spine and all roles except `spot_*`). */
  readonly exchange: string;
  readonly symbol: string;
  /** Second instrument for `spot_*` roles (cross-venue). */
  readonly crossVenue?: { readonly exchange: string; readonly symbol: string };
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
  /** Rows per yielded batch; default 65,536. */
  readonly batchRows?: number;
  /** Called after each chunk with the replay position. */
  readonly onProgress?: (doneUs: number, fromUs: number, toUs: number) => void;
}

/** Columnar rows of a feature frame: spine columns plus one column per operator output. */
export interface FeatureBatch {
  readonly length: number;
  readonly tsEventUs: Float64Array;
  readonly tsEndUs: Float64Array;
  readonly availableAtUs: Float64Array;
  readonly barIndex: Float64Array;
  readonly barDurationUs: Float64Array;
  /** Aligned with `outputNames(operators)`. NaN = null. */
  readonly columns: readonly Float64Array[];
}

/** Run statistics, complete when `batches()` ends: rows, replay start, events per role, spine accounting, input parts. */
export interface ReplaySummary {
  rows: number;
  replayStartUs: number;
  events: Partial<Record<SourceRole, number>>;
  spine: SpineStats;
  partitions: InputPartition[];
}

/** Spine columns of every frame, in order. */
export const SPINE_COLUMNS = [
  "ts_event_us",
  "ts_end_us",
  "available_at_us",
  "bar_index",
  "bar_duration_us",
] as const;

/** Output columns of `operators`, in order. @throws ConfigError on duplicate names. */
export function outputNames(operators: readonly Operator[]): string[] {
  const names: string[] = [];
  const seen = new Set<string>(SPINE_COLUMNS);
  for (const op of operators) {
    for (const o of op.outputs) {
      if (seen.has(o.name)) throw new ConfigError(`duplicate output column ${o.name} (operator ${op.id})`);
      seen.add(o.name);
      names.push(o.name);
    }
  }
  return names;
}

/**
 * A writable `EventCursor`: the engine fills one instance per replay and reuses it for every event (no
 * per-event allocation); wrappers that re-feed an event to an inner operator (e.g. the pipeline's PIT
 * guard, which swaps `rows` for a read-checked view) fill their own. Fields as `EventCursor`: `rows` is
 * unset until the first event, `i` a row index of `rows`, `tsLocalUs` in µs, `qtyInt` in qty increments
 * (NaN for non-trade tables), `continuation` true for later pieces of a split trade.
 */
export class MutableEventCursor implements EventCursor {
  role: SourceRole = "trades";
  rows!: TypedRows;
  i = 0;
  tsLocalUs = 0;
  qtyInt = Number.NaN;
  continuation = false;
}

interface Stream {
  readonly reader: SourceReader;
  readonly role: SourceRole;
  readonly rank: number;
  readonly subscribers: Operator[];
  rows: TypedRows | null;
  ts: Float64Array;
  file: Float64Array;
  line: Float64Array;
  pos: number;
  count: number;
}

const EMPTY = new Float64Array(0);

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
    const lake = resolve(cfg.lake);
    const registry = await SymbolRegistry.open(lake);
    const info = (exchange: string, symbol: string): InstrumentInfo => {
      const r = registry.lookup(exchange, symbol, cfg.startUs);
      if (!r) throw new ConfigError(`no symbol ${exchange}/${symbol} in the lake's registry at start`);
      return {
        exchange,
        symbol,
        priceIncrement: fixedToNumber(1, r.priceIncrement),
        amountIncrement: fixedToNumber(1, r.amountIncrement),
      };
    };
    const ctx: OperatorContext = {
      primary: info(cfg.exchange, cfg.symbol),
      ...(cfg.crossVenue ? { crossVenue: info(cfg.crossVenue.exchange, cfg.crossVenue.symbol) } : {}),
    };
    for (const op of cfg.operators) op.init?.(ctx);
    const spine: Spine = createSpine(cfg.spine, {
      startUs: cfg.startUs,
      priceIncrement: ctx.primary.priceIncrement,
      amountIncrement: ctx.primary.amountIncrement,
    });
    const replayStartUs = spine.replayStartUs(cfg.startUs, cfg.warmupUs);
    this.summary.replayStartUs = replayStartUs;

    // sources: every role an operator reads, plus trades for event spines
    const roles = new Set<SourceRole>();
    for (const op of cfg.operators) for (const r of op.inputs) roles.add(r);
    if (cfg.spine.type !== "clock") roles.add("trades");
    const manifests = await loadManifests(lake);
    const streams: Stream[] = [];
    for (const role of roles) {
      const spot = role.startsWith("spot_");
      const inst = spot ? cfg.crossVenue : { exchange: cfg.exchange, symbol: cfg.symbol };
      if (!inst) throw new ConfigError(`operators read ${role} but no crossVenue instrument was given`);
      const spec: EngineSource = { role, exchange: inst.exchange, symbol: inst.symbol };
      const reader = SourceReader.forRange(lake, manifests, spec, replayStartUs, cfg.endUs);
      streams.push({
        reader,
        role,
        rank: TABLES[ROLE_TABLE[role]].rank,
        subscribers: cfg.operators.filter((op) => op.inputs.includes(role)),
        rows: null,
        ts: EMPTY,
        file: EMPTY,
        line: EMPTY,
        pos: 0,
        count: 0,
      });
      this.summary.events[role] = 0;
    }
    for (const s of streams) this.summary.partitions.push(...s.reader.partitions());

    // output batches
    const batchRows = cfg.batchRows ?? 65_536;
    const ops = cfg.operators;
    const nOut = this.names.length;
    const ready: FeatureBatch[] = [];
    let batch = newBatch(batchRows, nOut);
    let opCols = sliceColumns(ops, batch.columns);
    const scratch = sliceColumns(
      ops,
      Array.from({ length: nOut }, () => new Float64Array(1)),
    );
    const startUs = cfg.startUs;
    const endUs = cfg.endUs;
    const summary = this.summary;

    const cursor = new MutableEventCursor();
    const tradeView: SpineTrade = { tsLocalUs: 0, pxInt: 0, qtyInt: 0, side: 0 };
    let tradeSubs: Operator[] = [];
    const sink: SpineSink = {
      feedTrade(qtyInt: number, continuation: boolean): void {
        cursor.qtyInt = qtyInt;
        cursor.continuation = continuation;
        for (let k = 0; k < tradeSubs.length; k++) tradeSubs[k]!.onEvent(cursor);
      },
      emit(row: SpineRow): void {
        if (row.tsEventUs >= startUs && row.availableAtUs <= endUs) {
          const r = batch.length;
          batch.tsEventUs[r] = row.tsEventUs;
          batch.tsEndUs[r] = row.tsEndUs;
          batch.availableAtUs[r] = row.availableAtUs;
          batch.barIndex[r] = row.barIndex;
          batch.barDurationUs[r] = row.tsEndUs - row.tsEventUs;
          for (let k = 0; k < ops.length; k++) ops[k]!.emit(row, opCols[k]!, r);
          batch.length++;
          summary.rows++;
          if (batch.length === batchRows) {
            ready.push(batch);
            batch = newBatch(batchRows, nOut);
            opCols = sliceColumns(ops, batch.columns);
          }
        } else {
          for (let k = 0; k < ops.length; k++) ops[k]!.emit(row, scratch[k]!, 0);
        }
      },
      discard(): void {
        for (let k = 0; k < ops.length; k++) ops[k]!.discardBar?.();
      },
    };

    const chunkUs = cfg.chunkUs ?? US_PER_HOUR;
    const readers = streams.map((s) => s.reader);
    const chunks = planChunks(readers, replayStartUs, endUs, chunkUs);
    for await (const { chunk, rows: loaded } of loadChunks(lake, readers, chunks, cfg.prefetch ?? true)) {
      for (let k = 0; k < streams.length; k++) {
        const s = streams[k]!;
        const rows = loaded[k]!;
        s.rows = rows;
        s.ts = rows.columns.ts_local_us as Float64Array;
        s.file = rows.columns.file_id as Float64Array;
        s.line = rows.columns.file_line_number as Float64Array;
        s.pos = 0;
        s.count = rows.length;
        summary.events[s.role] = (summary.events[s.role] ?? 0) + rows.length;
      }
      for (;;) {
        // pick the stream whose next event is first in the total order, and the earliest next
        // timestamp of the others: best's events strictly before it need no further comparison
        let best: Stream | null = null;
        let bTs = 0;
        let otherTs = Number.POSITIVE_INFINITY;
        for (let k = 0; k < streams.length; k++) {
          const s = streams[k]!;
          if (s.pos >= s.count) continue;
          const t = s.ts[s.pos]!;
          if (
            best === null ||
            t < bTs ||
            (t === bTs &&
              (s.rank < best.rank ||
                (s.rank === best.rank &&
                  (s.file[s.pos]! < best.file[best.pos]! ||
                    (s.file[s.pos]! === best.file[best.pos]! && s.line[s.pos]! < best.line[best.pos]!)))))
          ) {
            if (best !== null && bTs < otherTs) otherTs = bTs;
            best = s;
            bTs = t;
          } else if (t < otherTs) otherTs = t;
        }
        if (best === null) break;
        const rows = best.rows!;
        const ts = best.ts;
        cursor.role = best.role;
        cursor.rows = rows;
        if (best.role === "trades") {
          tradeSubs = best.subscribers;
          const px = rows.columns.px_int as Float64Array;
          const qty = rows.columns.qty_int as Float64Array;
          const side = rows.columns.side as Int8Array;
          do {
            const i = best.pos++;
            const t = ts[i]!;
            spine.advanceTo(t, sink);
            cursor.i = i;
            cursor.tsLocalUs = t;
            tradeView.tsLocalUs = t;
            tradeView.pxInt = px[i]!;
            tradeView.qtyInt = qty[i]!;
            tradeView.side = side[i]!;
            spine.onTrade(tradeView, sink);
          } while (best.pos < best.count && ts[best.pos]! < otherTs);
        } else {
          cursor.qtyInt = Number.NaN;
          cursor.continuation = false;
          const subs = best.subscribers;
          const nSubs = subs.length;
          do {
            const i = best.pos++;
            const t = ts[i]!;
            spine.advanceTo(t, sink);
            cursor.i = i;
            cursor.tsLocalUs = t;
            for (let k = 0; k < nSubs; k++) subs[k]!.onEvent(cursor);
          } while (best.pos < best.count && ts[best.pos]! < otherTs);
        }
        while (ready.length > 0) yield ready.shift()!;
      }
      cfg.onProgress?.(chunk.toUs, replayStartUs, endUs);
      // one macrotask turn per chunk: nodejs-polars frees native frames in finalizers that only run on
      // a later event-loop turn (pola-rs/nodejs-polars#458); without it RSS grows with the range
      await new Promise<void>((r) => setImmediate(r));
    }
    spine.finish(endUs, sink);
    Object.assign(summary.spine, spine.stats);
    while (ready.length > 0) yield ready.shift()!;
    if (batch.length > 0) yield trim(batch);
  }
}

interface MutableBatch extends FeatureBatch {
  length: number;
}

function newBatch(n: number, nOut: number): MutableBatch {
  return {
    length: 0,
    tsEventUs: new Float64Array(n),
    tsEndUs: new Float64Array(n),
    availableAtUs: new Float64Array(n),
    barIndex: new Float64Array(n),
    barDurationUs: new Float64Array(n),
    columns: Array.from({ length: nOut }, () => new Float64Array(n).fill(Number.NaN)),
  };
}

function trim(b: MutableBatch): FeatureBatch {
  const n = b.length;
  return {
    length: n,
    tsEventUs: b.tsEventUs.subarray(0, n),
    tsEndUs: b.tsEndUs.subarray(0, n),
    availableAtUs: b.availableAtUs.subarray(0, n),
    barIndex: b.barIndex.subarray(0, n),
    barDurationUs: b.barDurationUs.subarray(0, n),
    columns: b.columns.map((c) => c.subarray(0, n)),
  };
}

/** Per operator, its output columns within `columns` (outputs are laid out operator by operator). */
function sliceColumns(ops: readonly Operator[], columns: readonly Float64Array[]): Float64Array[][] {
  const out: Float64Array[][] = [];
  let k = 0;
  for (const op of ops) {
    out.push(columns.slice(k, k + op.outputs.length) as Float64Array[]);
    k += op.outputs.length;
  }
  return out;
}
