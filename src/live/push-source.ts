/**
 * `PushSource`: the live Source of the Driver (DESIGN.md "Source → Driver → Sink"; engine/driver.ts). A
 * feed pushes events into it one at a time — per stream, the values of that table's engine columns
 * (`engineColumns`, the columns a lake replay delivers), a row of a typed batch, or a small batch — and
 * cuts `EventChunk`s for the Driver at watermarks. It does no merge and has no spine: events accumulate
 * per stream in arrival order, and the Driver's one total-order merge and spine run over the chunks, as
 * in a lake replay.
 *
 * **Watermark rule.** `cut(W)` hands out every pending event with ts_local_us < W, as one chunk
 * [previous W, W). That is safe — the chunk satisfies the Driver's chunk contract, so rows are bitwise
 * those of a batch run — when every stream has delivered every event before W. Live feeds are ordered
 * per stream (arrival order = ts_local_us order; a push out of order is an `EventOrderError`), so a
 * feed picks W by what it knows:
 * - a feed that stamps ts_local_us itself on arrival (the live WebSocket client): W = its clock now — any
 *   later message is stamped later. After each message W = now (> the message's stamp once a µs has
 *   passed), and a timer calls the runner's `advanceTo(now)` so clock bars close at their end time;
 * - a feed that plays stored events in the total order (the lake replay feed, replay-feed.ts): W = the
 *   next event's ts_local_us;
 * - independent per-stream feeds: W = `minLastTsUs()`, the least last timestamp over the streams (a
 *   silent stream holds it back: combine with the clock of the stamping process).
 * A cut W never moves back, and an event pushed with ts_local_us < W afterwards is late
 * (`EventOrderError`): with the rules above that cannot happen.
 *
 * **Ties and latency.** Events at one ts_local_us are ordered by table rank (book, quotes, ticker,
 * liquidations before trades; schema/tables.ts) whatever their arrival order, and an event bar closing
 * on a trade at t includes the other tables' events at t. So a multi-stream chunk never ends inside a
 * timestamp: a trade at t is processed once W > t (the clock has passed t, or a later event arrived),
 * not when it arrives. A **one-stream** source (a trades-only run: the volume-bar tracker) has no such
 * tie, and `cutThrough(t)` hands out every pending event up to and including t at once; later events
 * at t continue the timestamp in the next chunk (the Driver accepts that for one-stream runs).
 *
 * **Memory, no per-event allocation.** Each stream appends into a segment: typed columns of
 * `segmentRows` rows (a `TypedRows` whose `length` grows as rows are appended) that chunks hand out as
 * row ranges (`EventChunk.starts/ends`); rows handed out are never written again (operators may keep
 * `(rows, i)` for a lazy as-of read, engine/operator.ts). A full segment is replaced by a fresh one that
 * starts with the pending rows and the handed-out rows of the last timestamp (the Driver counts those at
 * its merge position). Allocation: one segment per `segmentRows` events per stream; the chunk object
 * returned by `cut` is reused.
 */
import { ConfigError, PointlineError } from "../core/errors.js";
import type { EventChunk, StreamSpec } from "../engine/driver.js";
import { roleTable } from "../engine/operator.js";
import { engineColumns } from "../engine/source.js";
import type { LevelColumn, TypedColumn, TypedRows } from "../query/query.js";
import { BOOK_DEPTH, type ColumnSpec, TABLES, type TableName } from "../schema/tables.js";

/**
 * One event as column values of its table's engine columns (`engineColumns(table)`): numbers for i64
 * (exact below 2^53), f64 and i8 columns — fixed-point columns in increments (`px_int`, `qty_int`),
 * ts_local_us in µs — and up to `BOOK_DEPTH` numbers per book level list (`bid_px_int`, …). A nullable
 * column may be omitted or NaN (null); other names are ignored. E.g. a trade:
 * `{ ts_local_us, file_id, file_line_number, side: 0, px_int: 612345, qty_int: 12 }`.
 */
export type EngineRow = { readonly [column: string]: number | ArrayLike<number> | undefined };

/** An event pushed out of order: before its stream's previous event, or before the cut watermark. */
export class EventOrderError extends PointlineError {
  override readonly name: string = "EventOrderError";
  constructor(
    /** Stream label and role, e.g. `binance-futures/BTCUSDT trades`. */
    readonly stream: string,
    /** The event's ts_local_us, µs. */
    readonly tsUs: number,
    message: string,
  ) {
    super(`${stream}: event at ${tsUs} µs ${message}`);
  }
}

/** Options of a `PushSource`. */
export interface PushSourceOptions {
  /** Rows per segment (per stream), default 4,096; a segment grows beyond it when more are pending. */
  readonly segmentRows?: number;
}

/** Columns of one table split by storage, in `engineColumns` order. */
interface Layout {
  readonly table: TableName;
  readonly f64: readonly string[];
  readonly f64Nullable: readonly boolean[];
  readonly i8: readonly string[];
  readonly levels: readonly string[];
}

function layoutOf(table: TableName): Layout {
  const cols: readonly ColumnSpec[] = engineColumns(table);
  const f64 = cols.filter((c) => c.dtype === "i64" || c.dtype === "f64");
  // pushRow reads the merge keys as the first three f64 columns (COMMON_COLUMNS order)
  if (
    f64
      .slice(0, 3)
      .map((c) => c.name)
      .join() !== "ts_local_us,file_id,file_line_number"
  )
    throw new Error(`engine columns of ${table} do not start with the merge keys`);
  return {
    table,
    f64: f64.map((c) => c.name),
    f64Nullable: f64.map((c) => c.nullable),
    i8: cols.filter((c) => c.dtype === "i8").map((c) => c.name),
    levels: cols.filter((c) => c.dtype === "list_i64").map((c) => c.name),
  };
}

/** A segment: typed columns of `capacity` rows, of which the first `length` are written. */
class Segment implements TypedRows {
  readonly columns: Readonly<Record<string, TypedColumn>>;
  readonly f64: Float64Array[];
  readonly i8: Int8Array[];
  readonly levels: LevelColumn[];
  readonly ts: Float64Array;
  readonly file: Float64Array;
  readonly line: Float64Array;
  n = 0;

  constructor(
    readonly table: TableName,
    layout: Layout,
    readonly capacity: number,
  ) {
    const columns: Record<string, TypedColumn> = {};
    this.f64 = layout.f64.map((name) => {
      const a = new Float64Array(capacity);
      columns[name] = a;
      return a;
    });
    this.i8 = layout.i8.map((name) => {
      const a = new Int8Array(capacity);
      columns[name] = a;
      return a;
    });
    this.levels = layout.levels.map((name) => {
      const l: LevelColumn = {
        values: new Float64Array(capacity * BOOK_DEPTH),
        lens: new Uint8Array(capacity),
      };
      columns[name] = l;
      return l;
    });
    this.columns = columns;
    this.ts = columns.ts_local_us as Float64Array;
    this.file = columns.file_id as Float64Array;
    this.line = columns.file_line_number as Float64Array;
  }

  /** Rows written so far (handed out or pending). */
  get length(): number {
    return this.n;
  }

  /** Copies rows [from, to) of `src` to the end of this segment. */
  copyFrom(src: Segment, from: number, to: number): void {
    const n = to - from;
    const o = this.n;
    for (let k = 0; k < this.f64.length; k++) this.f64[k]!.set(src.f64[k]!.subarray(from, to), o);
    for (let k = 0; k < this.i8.length; k++) this.i8[k]!.set(src.i8[k]!.subarray(from, to), o);
    for (let k = 0; k < this.levels.length; k++) {
      const d = this.levels[k]!;
      const s = src.levels[k]!;
      d.values.set(s.values.subarray(from * BOOK_DEPTH, to * BOOK_DEPTH), o * BOOK_DEPTH);
      d.lens.set(s.lens.subarray(from, to), o);
    }
    this.n += n;
  }
}

/** Per stream: its segment, what has been handed out, and the last event's key. */
interface PushStream {
  readonly spec: StreamSpec;
  readonly label: string;
  readonly layout: Layout;
  seg: Segment;
  /** First row of `seg` not yet handed out. */
  cut: number;
  lastTs: number;
  lastFile: number;
  lastLine: number;
  /** Columns of the last batch copied from (`pushRow`), aligned with the layout. */
  srcRows: TypedRows | null;
  srcF64: Float64Array[];
  srcI8: Int8Array[];
  srcLevels: LevelColumn[];
}

interface MutableChunk extends EventChunk {
  fromUs: number;
  toUs: number;
  readonly rows: Segment[];
  readonly starts: number[];
  readonly ends: number[];
}

/** The push Source of a live run (see the module doc). */
export class PushSource {
  readonly streams: readonly StreamSpec[];
  private readonly s: PushStream[];
  private readonly segmentRows: number;
  /** Start of the next chunk: the last cut watermark, or the timestamp a `cutThrough` may continue. */
  private chunkFromUs = Number.NEGATIVE_INFINITY;
  /** Events before it are late. */
  private lateUs = Number.NEGATIVE_INFINITY;
  private readonly chunk: MutableChunk;
  private pendingCount = 0;

  /**
   * @param streams the Driver's streams, in its order (a role's table fixes the columns of its events)
   * @throws ConfigError when `segmentRows` is not a positive integer
   */
  constructor(streams: readonly StreamSpec[], opts: PushSourceOptions = {}) {
    const segmentRows = opts.segmentRows ?? 4096;
    if (!(Number.isInteger(segmentRows) && segmentRows > 0))
      throw new ConfigError(`segmentRows must be a positive integer, got ${segmentRows}`);
    this.segmentRows = segmentRows;
    this.streams = streams;
    this.s = streams.map((spec) => {
      const layout = layoutOf(roleTable(spec.role));
      return {
        spec,
        label: `${spec.label} ${spec.role}`,
        layout,
        seg: new Segment(layout.table, layout, segmentRows),
        cut: 0,
        lastTs: Number.NEGATIVE_INFINITY,
        lastFile: Number.NEGATIVE_INFINITY,
        lastLine: Number.NEGATIVE_INFINITY,
        srcRows: null,
        srcF64: [],
        srcI8: [],
        srcLevels: [],
      };
    });
    this.chunk = {
      fromUs: 0,
      toUs: 0,
      rows: this.s.map((x) => x.seg),
      starts: this.s.map(() => 0),
      ends: this.s.map(() => 0),
    };
  }

  /** The last cut watermark, µs: every event before it has been handed out (−∞ before the first cut). */
  get watermarkUs(): number {
    return this.lateUs;
  }

  /** Events pushed and not yet handed out. */
  get pending(): number {
    return this.pendingCount;
  }

  /** ts_local_us of stream k's last pushed event, µs (−∞ before its first). */
  lastTsUs(k: number): number {
    return this.stream(k).lastTs;
  }

  /**
   * The least last pushed timestamp over the streams, µs: for feeds ordered per stream only, every
   * stream has delivered its events before it (−∞ until every stream has pushed one).
   */
  minLastTsUs(): number {
    let m = Number.POSITIVE_INFINITY;
    for (const s of this.s) if (s.lastTs < m) m = s.lastTs;
    return m;
  }

  /**
   * Pushes one event of stream k given as column values (see `EngineRow`).
   * @throws ConfigError naming the column if a non-nullable column is missing or not a number;
   *   EventOrderError if the event is not after its stream's previous one in (ts_local_us, file_id,
   *   file_line_number) or is before the watermark
   */
  push(k: number, row: EngineRow): void {
    const s = this.stream(k);
    const ts = num(row, "ts_local_us", s);
    this.checkOrder(s, ts, num(row, "file_id", s), num(row, "file_line_number", s));
    const seg = this.room(s);
    const r = seg.n;
    const L = s.layout;
    for (let c = 0; c < L.f64.length; c++) {
      const v = row[L.f64[c]!];
      if (v === undefined || (typeof v === "number" && Number.isNaN(v))) {
        if (!L.f64Nullable[c]) throw new ConfigError(`${s.label}: column ${L.f64[c]} is missing`);
        seg.f64[c]![r] = Number.NaN;
      } else if (typeof v === "number") seg.f64[c]![r] = v;
      else throw new ConfigError(`${s.label}: column ${L.f64[c]} must be a number`);
    }
    for (let c = 0; c < L.i8.length; c++) seg.i8[c]![r] = num(row, L.i8[c]!, s);
    for (let c = 0; c < L.levels.length; c++) {
      const v = row[L.levels[c]!];
      if (v === undefined || typeof v === "number")
        throw new ConfigError(
          `${s.label}: column ${L.levels[c]} must be a list of up to ${BOOK_DEPTH} numbers`,
        );
      const lv = seg.levels[c]!;
      const n = Math.min(v.length, BOOK_DEPTH);
      const o = r * BOOK_DEPTH;
      for (let j = 0; j < BOOK_DEPTH; j++) lv.values[o + j] = j < n ? v[j]! : 0;
      lv.lens[r] = n;
    }
    this.commit(s, ts);
  }

  /**
   * Pushes row `i` of a typed batch of stream k's table (e.g. a lake read; extra columns are ignored).
   * No allocation: the batch's columns are resolved once per batch.
   * @throws ConfigError if the batch lacks an engine column; EventOrderError as `push`
   */
  pushRow(k: number, rows: TypedRows, i: number): void {
    const s = this.stream(k);
    if (rows !== s.srcRows) this.resolve(s, rows);
    const f = s.srcF64;
    // f64 columns start with ts_local_us, file_id, file_line_number (COMMON_COLUMNS order)
    const ts = f[0]![i]!;
    this.checkOrder(s, ts, f[1]![i]!, f[2]![i]!);
    const seg = this.room(s);
    const r = seg.n;
    for (let c = 0; c < f.length; c++) seg.f64[c]![r] = f[c]![i]!;
    for (let c = 0; c < s.srcI8.length; c++) seg.i8[c]![r] = s.srcI8[c]![i]!;
    for (let c = 0; c < s.srcLevels.length; c++) {
      const src = s.srcLevels[c]!;
      const dst = seg.levels[c]!;
      const o = i * BOOK_DEPTH;
      const d = r * BOOK_DEPTH;
      for (let j = 0; j < BOOK_DEPTH; j++) dst.values[d + j] = src.values[o + j]!;
      dst.lens[r] = src.lens[i]!;
    }
    this.commit(s, ts);
  }

  /** Pushes every row of a small typed batch of stream k, in order (see `pushRow`). */
  pushRows(k: number, rows: TypedRows): void {
    for (let i = 0; i < rows.length; i++) this.pushRow(k, rows, i);
  }

  /**
   * Hands out every pending event with ts_local_us < W as the chunk [previous watermark, W), or null
   * when there is none (the watermark still moves to W). The chunk object is reused: push it to the
   * Driver before the next cut. Safe only under the watermark rule of the module doc.
   * @throws ConfigError if W is before the current watermark
   */
  cut(W: number): EventChunk | null {
    if (W < this.lateUs)
      throw new ConfigError(`watermark ${W} µs is before the last one (${this.lateUs} µs)`);
    const chunk = this.take(W);
    this.lateUs = W;
    this.chunkFromUs = W;
    return chunk;
  }

  /**
   * One-stream sources only: hands out every pending event with ts_local_us ≤ t at once (a trade is
   * processed as it arrives). Later events at t are still accepted: they continue the timestamp in the
   * next chunk, which the Driver accepts for one-stream runs. Returns null when nothing is pending.
   * @throws ConfigError on a source of several streams (their events at t could still rank before
   *   these: see the module doc), or if t is before the watermark
   */
  cutThrough(t: number): EventChunk | null {
    if (this.s.length !== 1)
      throw new ConfigError(
        `cutThrough needs a one-stream source (this one has ${this.s.length}): events of other tables at the same timestamp rank before trades`,
      );
    if (t < this.lateUs) throw new ConfigError(`cutThrough(${t}) is before the watermark ${this.lateUs} µs`);
    const chunk = this.take(t + 1);
    this.lateUs = t;
    this.chunkFromUs = t;
    return chunk;
  }

  /** The chunk of pending events before W, [chunkFromUs, W); null when there is none. */
  private take(W: number): EventChunk | null {
    const c = this.chunk;
    let any = false;
    for (let k = 0; k < this.s.length; k++) {
      const s = this.s[k]!;
      const seg = s.seg;
      let e = s.cut;
      while (e < seg.n && seg.ts[e]! < W) e++;
      c.rows[k] = seg;
      c.starts[k] = s.cut;
      c.ends[k] = e;
      if (e > s.cut) any = true;
      this.pendingCount -= e - s.cut;
      s.cut = e;
    }
    if (!any) return null;
    c.fromUs = this.chunkFromUs;
    c.toUs = W;
    return c;
  }

  private stream(k: number): PushStream {
    const s = this.s[k];
    if (s === undefined) throw new ConfigError(`no stream ${k} (the source has ${this.s.length})`);
    return s;
  }

  private checkOrder(s: PushStream, ts: number, file: number, line: number): void {
    if (!Number.isFinite(ts)) throw new EventOrderError(s.label, ts, "has no finite ts_local_us");
    if (ts < this.lateUs)
      throw new EventOrderError(s.label, ts, `is late: every event before ${this.lateUs} µs was handed out`);
    if (
      !(
        ts > s.lastTs ||
        (ts === s.lastTs && (file > s.lastFile || (file === s.lastFile && line > s.lastLine)))
      )
    )
      throw new EventOrderError(
        s.label,
        ts,
        `(file ${file} line ${line}) is not after the stream's previous event (${s.lastTs} µs, file ${s.lastFile} line ${s.lastLine})`,
      );
  }

  private commit(s: PushStream, ts: number): void {
    const seg = s.seg;
    s.lastTs = ts;
    s.lastFile = seg.file[seg.n]!;
    s.lastLine = seg.line[seg.n]!;
    seg.n++;
    this.pendingCount++;
  }

  /** The segment to write the next row of s into: a fresh one when full (see the module doc). */
  private room(s: PushStream): Segment {
    const seg = s.seg;
    if (seg.n < seg.capacity) return seg;
    // keep the handed-out rows of the last handed-out timestamp: the Driver counts them at its position
    let g = s.cut;
    if (g > 0) {
      const t = seg.ts[g - 1]!;
      while (g > 0 && seg.ts[g - 1] === t) g--;
    }
    const keep = seg.n - g;
    const next = new Segment(s.layout.table, s.layout, Math.max(this.segmentRows, 2 * keep + 1));
    next.copyFrom(seg, g, seg.n);
    s.cut -= g;
    s.seg = next;
    return next;
  }

  /** Resolves the columns of a batch pushed with `pushRow`. */
  private resolve(s: PushStream, rows: TypedRows): void {
    const L = s.layout;
    if (rows.table !== L.table)
      throw new ConfigError(`${s.label}: rows of table ${rows.table} pushed into a ${L.table} stream`);
    const col = (name: string): TypedColumn => {
      const c = rows.columns[name];
      if (c === undefined) throw new ConfigError(`${s.label}: the batch has no column ${name}`);
      return c;
    };
    s.srcF64 = L.f64.map((name) => {
      const c = col(name);
      if (!(c instanceof Float64Array))
        throw new ConfigError(`${s.label}: column ${name} is not a Float64Array`);
      return c;
    });
    s.srcI8 = L.i8.map((name) => {
      const c = col(name);
      if (!(c instanceof Int8Array)) throw new ConfigError(`${s.label}: column ${name} is not an Int8Array`);
      return c;
    });
    s.srcLevels = L.levels.map((name) => {
      const c = col(name);
      if (c instanceof Float64Array || c instanceof Int8Array || Array.isArray(c))
        throw new ConfigError(`${s.label}: column ${name} is not a level column`);
      return c;
    });
    s.srcRows = rows;
  }
}

function num(row: EngineRow, name: string, s: PushStream): number {
  const v = row[name];
  if (typeof v !== "number" || Number.isNaN(v))
    throw new ConfigError(`${s.label}: column ${name} must be a number`);
  return v;
}

/** The table rank of a stream's role (events at one timestamp merge in rank order). */
export function streamRank(spec: StreamSpec): number {
  return TABLES[roleTable(spec.role)].rank;
}
