/**
 * `buildReplay1m`: the trader replay from the lake — for symbols × [start, end), one row per symbol per
 * UTC minute that has a price (see features/trader/replay.ts for the columns, operators and time rule).
 * One Driver run per symbol (the engine reads one primary instrument) on a 60 s clock spine; rows are
 * concatenated and sorted by (symbol, event_time).
 *
 * Frame columns: `symbol` (Utf8), `event_time` (Datetime µs UTC, minute open), `open_time_ms` (Int64, ms),
 * `available_at_us` (Int64, µs: open + 60 s), then `REPLAY_VALUE_COLUMNS` (Float64, natural units;
 * `next_funding_time` Datetime µs UTC). Inputs the lake lacks are null, never zero-filled.
 */
import pl from "nodejs-polars";
import { ConfigError } from "../core/errors.js";
import { type TimeInput, toUs, US_PER_DAY, US_PER_HOUR, US_PER_MINUTE } from "../core/time.js";
import { GroupOperator } from "../engine/group.js";
import { type Operator, roleOfTable, type SourceRole } from "../engine/operator.js";
import { completeOutputs } from "../engine/registry.js";
import { Replay } from "../engine/replay.js";
import type { InputPartition } from "../engine/source.js";
import { parseSpineSpec } from "../engine/spine-spec.js";
import { frameUnits, toFrameUnit } from "../engine/units.js";
import { REPLAY_VALUE_COLUMNS, type ReplayRows } from "../features/trader/preset.js";
import { type CoverageInterval, type ReplaySources, replayMembers } from "../features/trader/replay.js";
import { Lake, type LakeRef } from "../lake/lake.js";

/** A `buildReplay1m` request. */
export interface Replay1mRequest {
  readonly lake: LakeRef;
  readonly exchange: string;
  readonly symbols: readonly string[];
  /** Output range [start, end) of minute opens (ISO string, Date or µs); both must be minute-aligned. */
  readonly start: TimeInput;
  readonly end: TimeInput;
  /** Read the next chunk on a worker thread (default true). */
  readonly prefetch?: boolean;
}

/** Per-symbol accounting of a replay build. */
export interface Replay1mSymbolSummary {
  readonly symbol: string;
  /** Minutes in [start, end). */
  readonly minutes: number;
  /** Rows written (minutes with a price). */
  readonly rows: number;
  readonly fromTrades: number;
  readonly fromVendorBars: number;
  /** Minutes without trades or a vendor bar (no row). */
  readonly withoutPrice: number;
  /** Which L1 table served spread and OFI (null: none). */
  readonly l1Table: string | null;
  readonly liquidationCoverage: readonly CoverageInterval[];
  readonly events: Partial<Record<SourceRole, number>>;
}

/** A built replay: the frame, its rows per symbol (for the feature run) and lineage. */
export interface Replay1m {
  readonly frame: pl.DataFrame;
  readonly bySymbol: ReadonlyMap<string, ReplayRows>;
  readonly summary: readonly Replay1mSymbolSummary[];
  readonly partitions: readonly InputPartition[];
}

/** A fresh group operator of the replay members (ids = their output names, so `last` ×3 stay distinct). */
export function createReplayGroup(src: ReplaySources): GroupOperator {
  const ops: Operator[] = replayMembers(src).map((m) => {
    const params = {
      config: m.config ?? {},
      joinStrategy: m.joinStrategy ?? m.def.joinStrategies?.[0] ?? "asof_backward",
      ...(m.sourceColumn !== undefined ? { sourceColumn: m.sourceColumn } : {}),
    };
    const outs = completeOutputs(m.def, params);
    const names = m.outputNames ?? outs.map((o) => o.name);
    const role = m.table === undefined ? undefined : roleOfTable(m.table);
    return m.def.impl({
      ...params,
      operatorName: m.outputNames?.[0] ?? m.def.name,
      outputNames: names,
      ...(m.table !== undefined ? { table: m.table } : {}),
      ...(role !== undefined ? { role } : {}),
    });
  });
  return new GroupOperator("replay_1m_preset", ops);
}

/** What the lake holds for one instrument in [fromUs, toUs): L1 table and liquidation coverage. */
export function replaySources(
  lake: Lake,
  exchange: string,
  symbol: string,
  fromUs: number,
  toUs: number,
): ReplaySources {
  const has = (t: "quotes" | "book_snapshot_25") => lake.parts(t, exchange, symbol, fromUs, toUs).length > 0;
  const l1Table = has("quotes") ? "quotes" : has("book_snapshot_25") ? "book_snapshot_25" : null;
  // a source file that wrote liquidation rows for the instrument covers its whole time range
  const coverage: CoverageInterval[] = [];
  for (const m of lake.manifests) {
    const parts = m.parts.filter((p) => p.exchange === exchange && p.symbol === symbol);
    if (!parts.some((p) => p.table === "liquidations")) continue;
    coverage.push({
      fromUs: Math.min(...parts.map((p) => p.first_ts_local_us)),
      toUs: Math.max(...parts.map((p) => p.last_ts_local_us)),
    });
  }
  return { l1Table, liquidationCoverage: coverage };
}

const TIME_COLUMNS = ["next_funding_time"] as const;

/** Extra history replayed when the lake holds funding events (8 h: the longest usual funding interval), µs. */
export const FUNDING_WARMUP_US = 8 * US_PER_HOUR;

/**
 * Builds the replay (see the module doc).
 * @throws ConfigError on an empty symbol list, an unaligned or empty range, or a symbol the lake's
 *   registry does not know at `start`.
 */
export async function buildReplay1m(req: Replay1mRequest): Promise<Replay1m> {
  const startUs = toUs(req.start);
  const endUs = toUs(req.end);
  if (req.symbols.length === 0) throw new ConfigError("replay_1m: no symbols given");
  if (!(endUs > startUs)) throw new ConfigError(`replay_1m: end (${endUs}) must be after start (${startUs})`);
  if (startUs % US_PER_MINUTE !== 0 || endUs % US_PER_MINUTE !== 0)
    throw new ConfigError("replay_1m: start and end must be on whole UTC minutes");
  const lake = await Lake.from(req.lake);
  const symbols = [...new Set(req.symbols)].sort();
  const bySymbol = new Map<string, ReplayRows>();
  const summary: Replay1mSymbolSummary[] = [];
  const partitions: InputPartition[] = [];
  const frames: pl.DataFrame[] = [];
  for (const symbol of symbols) {
    const src = replaySources(lake, req.exchange, symbol, startUs, endUs + US_PER_MINUTE);
    const group = createReplayGroup(src);
    // event-heavy tables are read an hour at a time; a lake of vendor bars and tickers only, a day at a time
    const hasFunding =
      lake.parts("funding_events", req.exchange, symbol, startUs - FUNDING_WARMUP_US, endUs + US_PER_MINUTE)
        .length > 0;
    const heavy = (["trades", "quotes", "book_snapshot_25"] as const).some(
      (t) => lake.parts(t, req.exchange, symbol, startUs, endUs + US_PER_MINUTE).length > 0,
    );
    const replay = new Replay({
      lake,
      exchange: req.exchange,
      symbol,
      // minute m is written at the spine row of m + 1 (features/trader/replay.ts)
      startUs: startUs + US_PER_MINUTE,
      endUs: endUs + US_PER_MINUTE,
      spine: parseSpineSpec({ type: "clock", stepMs: 60_000, maxRows: 1e9 }),
      operators: [group],
      // realized funding events are hours apart: replay 8 h more so the last one before start is seen
      warmupUs: hasFunding ? FUNDING_WARMUP_US + US_PER_MINUTE : US_PER_MINUTE,
      chunkUs: heavy ? US_PER_HOUR : US_PER_DAY,
      ...(req.prefetch !== undefined ? { prefetch: req.prefetch } : {}),
    });
    const inst = lake.instrument(req.exchange, symbol, startUs);
    const names = replay.columnNames;
    const units = frameUnits(group.outputs, { price: inst.increments.price, amount: inst.increments.amount });
    const colIdx = REPLAY_VALUE_COLUMNS.map((c) => names.lastIndexOf(c));
    const t: number[] = [];
    const cols: number[][] = REPLAY_VALUE_COLUMNS.map(() => []);
    let fromTrades = 0;
    let fromVendorBars = 0;
    const sourceIdx = names.indexOf("price_source");
    for await (const b of replay.batches()) {
      const conv = colIdx.map((k) => toFrameUnit(b.columns[k]!, units[k]!));
      const source = b.columns[sourceIdx]!;
      for (let r = 0; r < b.length; r++) {
        const close = conv[3]![r]!;
        if (Number.isNaN(close)) continue;
        if (source[r] === 1) fromTrades++;
        else fromVendorBars++;
        t.push(b.tsEventUs[r]! - US_PER_MINUTE);
        for (let k = 0; k < conv.length; k++) cols[k]!.push(conv[k]![r]!);
      }
    }
    const rows: ReplayRows = {
      eventUs: Float64Array.from(t),
      columns: cols.map((c) => Float64Array.from(c)),
    };
    bySymbol.set(symbol, rows);
    const minutes = (endUs - startUs) / US_PER_MINUTE;
    summary.push({
      symbol,
      minutes,
      rows: t.length,
      fromTrades,
      fromVendorBars,
      withoutPrice: minutes - t.length,
      l1Table: src.l1Table,
      liquidationCoverage: src.liquidationCoverage,
      events: { ...replay.summary.events },
    });
    partitions.push(...replay.summary.partitions);
    frames.push(replayRowsToFrame(symbol, rows));
  }
  const frame = frames.length === 1 ? frames[0]! : pl.concat(frames, { how: "vertical" });
  return { frame, bySymbol, summary, partitions };
}

/** The replay frame of one symbol's rows (columns of the module doc). */
export function replayRowsToFrame(symbol: string, rows: ReplayRows): pl.DataFrame {
  const n = rows.eventUs.length;
  const series: pl.Series[] = [
    pl.Series("symbol", new Array<string>(n).fill(symbol), pl.Utf8),
    pl.Series("event_time", Array.from(rows.eventUs), pl.Int64).cast(pl.Datetime("us", "UTC")),
    pl.Series(
      "open_time_ms",
      Array.from(rows.eventUs, (x) => x / 1000),
      pl.Int64,
    ),
    pl.Series(
      "available_at_us",
      Array.from(rows.eventUs, (x) => x + US_PER_MINUTE),
      pl.Int64,
    ),
  ];
  const exprs: pl.Expr[] = series.map((s) => pl.col(s.name));
  REPLAY_VALUE_COLUMNS.forEach((c, k) => {
    series.push(pl.Series(c, rows.columns[k]!, pl.Float64));
    const e = pl.col(c).fillNan(null);
    exprs.push(
      (TIME_COLUMNS as readonly string[]).includes(c) ? e.cast(pl.Int64).cast(pl.Datetime("us", "UTC")) : e,
    );
  });
  return pl.DataFrame(series).select(...exprs);
}
