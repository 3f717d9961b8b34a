/**
 * The Binance combined-stream WebSocket client (issue 11, item 2b): USDⓈ-M, COIN-M and spot trades,
 * bookTicker, depth diffs and markPrice, fed into a `LiveRunner` as they arrive.
 *
 * **One parser.** Every frame goes through the capture adapter's decoder (ingest/binance/decoder.ts):
 * the same message classification, decimal decoding and order-book sequence rules, so a recorded session
 * ingested with `pointline ingest binance-capture` yields exactly the events the runner was fed, and
 * `buildFeatureFrame` on that lake gives the rows the runner emitted (tested: record → ingest → batch ==
 * live).
 *
 * **Time.** Each frame is stamped ts_local_us = `clockUs()` on arrival (µs since the epoch; injectable,
 * forced non-decreasing), its events pushed into the runner's push source, then the watermark moves to
 * the clock's now (docs/live.md, the watermark rule: any later frame is stamped later); a timer calls
 * `advanceTo(now)` every `tickMs` so clock bars close at their end time without events. Events at one
 * µs are ordered by arrival: file_id is the client's `fileId`, file_line_number the frame's line in the
 * recording (1-based; counted whether or not recording is on).
 *
 * **Order book.** A REST depth snapshot (`/fapi/v1/depth`, `/dapi/v1/depth`, `/api/v3/depth`) is
 * requested when a connection opens and whenever a symbol's book is not synced after a depth frame (a
 * sequence gap, an undecodable diff, a snapshot the buffered diffs do not continue). Meanwhile diffs are
 * buffered; the snapshot is decoded as one more message at its arrival time and the decoder applies
 * Binance's procedure: drop buffered diffs older than lastUpdateId, the first applied must straddle it
 * (futures U ≤ L ≤ u, spot U ≤ L+1 ≤ u), then pu (futures) / U = u+1 (spot) continuity. The snapshot
 * body gets a `"symbol"` key when it has none (Binance's has none), so a recording names its symbol.
 *
 * **Reconnect.** A connection closed by the server or the network is reopened after a bounded
 * exponential backoff: min(maxMs, baseMs · 2^attempt), passed through `jitter` (default: uniform in
 * [½, 1] of it), attempt reset once a connection opens. The book is not reset on reconnect: pu/U
 * continuity tells whether a diff was missed (then the gap rule resyncs), as in one connection.
 *
 * **Bad frames.** A frame the decoder rejects (malformed JSON, unknown stream, a decimal that does not
 * decode, …) is counted by reason with the ingest's keys (`rejectionKey`) and quarantined: the first
 * `maxQuarantine` as records `{file, line, table, field, reason, raw}` in `quarantined` and, with
 * `quarantinePath`, one JSON line each in that file (the ingest's quarantine record). Events the run has
 * no stream for (e.g. liquidations without a liquidation operator) are counted in `unrouted`, and
 * events at or after a bounded runner's end in `afterEnd`.
 *
 * **Recording.** With `recordPath`, every received message (frames and snapshot bodies, bad ones too) is
 * written as a capture line `<ts_local_ns> <json>` (gzip when the path ends in `.gz`), a frame's line
 * breaks replaced by spaces: `pointline ingest binance-capture` reads it like an hftbacktest capture.
 * The file is appended to (a restarted session continues it; a `.gz` then holds several gzip members,
 * which gunzip reads as one stream).
 *
 * Sources: Binance USDⓈ-M / COIN-M / Spot "WebSocket Market Streams" (combined streams
 * `/stream?streams=a/b`), "How to manage a local order book correctly"; `ws` 8 (websockets/ws).
 */
import { appendFileSync, createWriteStream, type WriteStream } from "node:fs";
import { createGzip, type Gzip } from "node:zlib";
import WebSocket from "ws";
import { ConfigError } from "../core/errors.js";
import { describeFailure, type FixedDecoder, type Increment } from "../core/fixed.js";
import { US_PER_MS } from "../core/time.js";
import { roleTable } from "../engine/operator.js";
import {
  BinanceDecoder,
  type DecodeInstrument,
  type DecoderBook,
  type DecodeTarget,
  type TickerValues,
} from "../ingest/binance/decoder.js";
import type { OrderBook } from "../ingest/binance/orderbook.js";
import { rejectionKey } from "../ingest/session.js";
import type { LevelColumn, TypedRows } from "../query/query.js";
import { BOOK_DEPTH, type TableName } from "../schema/tables.js";
import { type LiveRunner, OPEN_END_US } from "./runner.js";

/** Binance market of a client. */
export type BinanceMarket = "usdm" | "coinm" | "spot";

/** Public endpoints per market (base URLs; override with `wsUrl` / `restUrl`). */
export const BINANCE_ENDPOINTS: Readonly<
  Record<BinanceMarket, { readonly ws: string; readonly rest: string; readonly depthPath: string }>
> = {
  usdm: { ws: "wss://fstream.binance.com", rest: "https://fapi.binance.com", depthPath: "/fapi/v1/depth" },
  coinm: { ws: "wss://dstream.binance.com", rest: "https://dapi.binance.com", depthPath: "/dapi/v1/depth" },
  spot: { ws: "wss://stream.binance.com:9443", rest: "https://api.binance.com", depthPath: "/api/v3/depth" },
};

/** Stream kinds a client subscribes to (`<symbol>@trade`, `@bookTicker`, `@depth@<speed>`, `@markPrice@1s`). */
export type BinanceStreamKind = "trade" | "bookTicker" | "depth" | "markPrice";

/** The reconnect backoff (see the module doc). */
export interface BackoffOptions {
  /** First delay, ms (default 250). */
  readonly baseMs?: number;
  /** Largest delay, ms (default 30,000). */
  readonly maxMs?: number;
  /** Maps a delay (ms) to the delay used (default: uniform in [½, 1] of it). */
  readonly jitter?: (delayMs: number) => number;
}

/** Options of a `BinanceWsClient`. */
export interface BinanceWsOptions {
  readonly market: BinanceMarket;
  /** Exchange symbols, e.g. ["BTCUSDT"] (stream names are their lower case). */
  readonly symbols: readonly string[];
  /** WebSocket base URL (default `BINANCE_ENDPOINTS[market].ws`); the client opens `<ws>/stream?streams=…`. */
  readonly wsUrl?: string;
  /** REST base URL of the depth snapshot (default `BINANCE_ENDPOINTS[market].rest`). */
  readonly restUrl?: string;
  /** Streams (default: trade, bookTicker, depth, and markPrice on futures). */
  readonly streams?: readonly BinanceStreamKind[];
  /** Depth diff update speed (default "100ms"): the stream `<symbol>@depth@<speed>`. */
  readonly depthSpeed?: string;
  /** Levels of the REST snapshot (default 1000). */
  readonly depthLimit?: number;
  /** µs clock stamping ts_local_us (default: the wall clock, µs since the epoch). */
  readonly clockUs?: () => number;
  /** Watermark timer period, ms (default 100). */
  readonly tickMs?: number;
  readonly backoff?: BackoffOptions;
  /** Records every received message to this capture file (`.gz`: gzip). */
  readonly recordPath?: string;
  /** Appends quarantine records (JSON lines) to this file. */
  readonly quarantinePath?: string;
  /** Quarantine records kept (default 1,000; all are counted). */
  readonly maxQuarantine?: number;
  /** file_id of the events (default 0): ties at one µs order by (file_id, line). */
  readonly fileId?: number;
  /** Called after each frame is processed (status lines, checkpoints). */
  readonly onFrame?: () => void;
  /**
   * A restarted session: the books of the checkpoint (`bookStates()`) — the first diffs continue them or
   * are a gap (resync) — and the messages received before (the line numbers continue from it).
   */
  readonly resume?: { readonly books: readonly DecoderBook[]; readonly line: number };
}

/** A quarantined message (the ingest's quarantine record). */
export interface QuarantineRecord {
  readonly file: string;
  readonly line: number;
  readonly table: string;
  readonly field: string;
  readonly reason: string;
  readonly raw: string;
}

/** What a client did so far. */
export interface BinanceWsStats {
  /** Messages received (frames and snapshot bodies) = lines recorded. */
  messages: number;
  /** Events pushed into the runner. */
  events: number;
  /** Messages rejected (counted by reason in `rejectedByReason`). */
  rejected: number;
  rejectedByReason: Record<string, number>;
  /** Messages without a row, by reason (diffs awaiting a snapshot, subscription replies, …). */
  withoutRow: Record<string, number>;
  /** Events of tables or instruments the run has no stream for, by table. */
  unrouted: Record<string, number>;
  /** Events at or after the runner's end (not pushed). */
  afterEnd: number;
  /** Depth sequence gaps detected. */
  gaps: number;
  /** REST snapshots received, and requested after the book had been synced once (resyncs). */
  snapshots: number;
  resyncs: number;
  /** Failed snapshot requests (retried with the backoff), and the last failure (URL: reason). */
  snapshotErrors: number;
  lastSnapshotError: string | null;
  /** Connections opened after the first. */
  reconnects: number;
  /** ts_local_us of the last message, µs (NaN before the first). */
  lastTsUs: number;
  /** Last trade id and last applied depth update id, per symbol (the feed position of checkpoints). */
  lastTradeId: Record<string, string>;
  lastUpdateId: Record<string, number>;
}

/** One-row typed batches per table, reused for every event (pushRow copies). */
class RowBuffers {
  readonly rows: Partial<Record<TableName, TypedRows>> = {};
  f64(table: TableName, name: string): Float64Array {
    return this.get(table).columns[name] as Float64Array;
  }
  get(table: TableName): TypedRows {
    let r = this.rows[table];
    if (r === undefined) {
      r = makeRow(table);
      this.rows[table] = r;
    }
    return r;
  }
}

function makeRow(table: TableName): TypedRows {
  const f = (): Float64Array => new Float64Array(1);
  const lv = (): LevelColumn => ({ values: new Float64Array(BOOK_DEPTH), lens: new Uint8Array(1) });
  const common = { ts_local_us: f(), file_id: f(), file_line_number: f() };
  switch (table) {
    case "trades":
    case "liquidations":
      return { table, length: 1, columns: { ...common, side: new Int8Array(1), px_int: f(), qty_int: f() } };
    case "quotes":
      return {
        table,
        length: 1,
        columns: {
          ...common,
          update_id: f(),
          bid_px_int: f(),
          bid_qty_int: f(),
          ask_px_int: f(),
          ask_qty_int: f(),
        },
      };
    case "book_snapshot_25":
      return {
        table,
        length: 1,
        columns: {
          ...common,
          update_id: f(),
          bid_px_int: lv(),
          bid_qty_int: lv(),
          ask_px_int: lv(),
          ask_qty_int: lv(),
        },
      };
    case "derivative_ticker":
      return {
        table,
        length: 1,
        columns: {
          ...common,
          mark_px: f(),
          index_px: f(),
          last_px: f(),
          est_settle_px: f(),
          funding_rate: f(),
          predicted_funding_rate: f(),
          next_funding_time_us: f(),
          open_interest: f(),
        },
      };
    default:
      throw new ConfigError(`the Binance client produces no ${table} rows`);
  }
}

/** An instrument of the run: increments of the lake's common scale, and the runner stream per table. */
interface ClientInstrument extends DecodeInstrument {
  readonly streams: Partial<Record<TableName, number>>;
}

/** The wall clock in µs since the epoch. */
export function wallClockUs(): number {
  return Math.floor((performance.timeOrigin + performance.now()) * US_PER_MS);
}

/**
 * Adds `"symbol":"<SYM>"` to a REST depth snapshot body that has no symbol key (Binance's has none), so
 * the message names its symbol in a recording with several symbols.
 */
export function withSymbol(body: string, symbol: string): string {
  const t = body.trimStart();
  if (!t.startsWith("{") || t.includes('"symbol"')) return body;
  const rest = t.slice(1).trimStart();
  return `{"symbol":${JSON.stringify(symbol)}${rest.startsWith("}") ? "" : ","}${rest}`;
}

/** The client (see the module doc). `start()` connects; `stop()` closes and flushes the recording. */
export class BinanceWsClient implements DecodeTarget<ClientInstrument> {
  readonly stats: BinanceWsStats = {
    messages: 0,
    events: 0,
    rejected: 0,
    rejectedByReason: {},
    withoutRow: {},
    unrouted: {},
    afterEnd: 0,
    gaps: 0,
    snapshots: 0,
    resyncs: 0,
    snapshotErrors: 0,
    lastSnapshotError: null,
    reconnects: 0,
    lastTsUs: Number.NaN,
    lastTradeId: {},
    lastUpdateId: {},
  };
  /** The first `maxQuarantine` rejected messages. */
  readonly quarantined: QuarantineRecord[] = [];
  private readonly decoder: BinanceDecoder<ClientInstrument>;
  private readonly instruments = new Map<string, ClientInstrument>();
  private readonly buf = new RowBuffers();
  private readonly clock: () => number;
  private readonly wsBase: string;
  private readonly restBase: string;
  private readonly depthPath: string;
  private readonly streamKinds: readonly BinanceStreamKind[];
  private readonly fileId: number;
  private readonly label: string;
  private ws: WebSocket | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private attempt = 0;
  private connections = 0;
  private stopped = false;
  private lastClock = Number.NEGATIVE_INFINITY;
  private line = 0;
  private recorder: { gz: Gzip | null; out: WriteStream } | null = null;
  /** Symbols with a snapshot request in flight, and those whose book has been synced once. */
  private readonly fetching = new Set<string>();
  private readonly everSynced = new Set<string>();
  private snapshotTimers = new Set<ReturnType<typeof setTimeout>>();
  private snapshotAttempt = new Map<string, number>();
  private opened: Promise<void> | null = null;
  private ended = false;
  private readonly endWaiters: (() => void)[] = [];

  /**
   * @param runner the run to feed: its instruments' increments (the lake's common scale at its start)
   *   decode the decimals; its streams (role → table, exchange, symbol) receive the events
   * @throws ConfigError for an empty symbol list, a bad option, or a symbol the lake has no increments for
   */
  constructor(
    private readonly runner: LiveRunner,
    private readonly opts: BinanceWsOptions,
  ) {
    if (opts.symbols.length === 0) throw new ConfigError("Binance client: no symbol given");
    const ep = BINANCE_ENDPOINTS[opts.market];
    if (ep === undefined) throw new ConfigError(`Binance client: unknown market ${String(opts.market)}`);
    this.wsBase = (opts.wsUrl ?? ep.ws).replace(/\/+$/, "");
    this.restBase = (opts.restUrl ?? ep.rest).replace(/\/+$/, "");
    this.depthPath = ep.depthPath;
    this.streamKinds =
      opts.streams ??
      (opts.market === "spot"
        ? ["trade", "bookTicker", "depth"]
        : ["trade", "bookTicker", "depth", "markPrice"]);
    this.clock = opts.clockUs ?? wallClockUs;
    this.fileId = opts.fileId ?? 0;
    this.label = opts.recordPath ?? `${this.wsBase} (live)`;
    const exchange =
      opts.market === "spot" ? "binance" : opts.market === "coinm" ? "binance-delivery" : "binance-futures";
    for (const s of opts.symbols) {
      const symbol = s.toUpperCase();
      const streams: Partial<Record<TableName, number>> = {};
      runner.lakeStreams.forEach((ls, k) => {
        if (ls.exchange === exchange && ls.symbol === symbol) streams[roleTable(ls.role)] = k;
      });
      const inc = runner.increments(exchange, symbol);
      this.instruments.set(`${exchange}\u0000${symbol}`, {
        exchange,
        symbol,
        px: inc.price,
        qty: inc.amount,
        streams,
      });
    }
    this.decoder = new BinanceDecoder(this, { exchange });
    if (opts.resume) {
      this.decoder.restoreBooks(opts.resume.books);
      this.line = opts.resume.line;
      for (const b of opts.resume.books) this.everSynced.add(b.symbol);
    }
  }

  /** The synced books now (a checkpoint's feed position; see `resume`). */
  bookStates(): DecoderBook[] {
    return this.decoder.bookStates();
  }

  /** The combined-stream URL the client opens. */
  get url(): string {
    const names: string[] = [];
    for (const s of this.opts.symbols) {
      const sym = s.toLowerCase();
      for (const k of this.streamKinds) {
        if (k === "depth") names.push(`${sym}@depth@${this.opts.depthSpeed ?? "100ms"}`);
        else if (k === "markPrice") names.push(`${sym}@markPrice@1s`);
        else names.push(`${sym}@${k}`);
      }
    }
    return `${this.wsBase}/stream?streams=${names.join("/")}`;
  }

  /** Whether a connection is open. */
  get connected(): boolean {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN;
  }

  /**
   * Connects (and starts the watermark timer and the recording). Resolves when the first connection is
   * open. @throws if the first connection fails (later failures are retried with the backoff)
   */
  start(): Promise<void> {
    if (this.opened) return this.opened;
    if (this.opts.recordPath !== undefined) {
      // appended: a restarted session continues its recording (a .gz gets one more gzip member)
      const out = createWriteStream(this.opts.recordPath, { flags: "a" });
      if (this.opts.recordPath.endsWith(".gz")) {
        const gz = createGzip();
        gz.pipe(out);
        this.recorder = { gz, out };
      } else this.recorder = { gz: null, out };
    }
    const tickMs = this.opts.tickMs ?? 100;
    this.timer = setInterval(() => this.guard(() => this.advance()), tickMs);
    this.opened = new Promise<void>((resolve, reject) => this.connect(resolve, reject));
    return this.opened;
  }

  /**
   * Resolves when a bounded runner's end has been reached by the clock (the client then stops feeding);
   * rejects with the error that stopped the client (see `error`).
   */
  async untilEnd(): Promise<void> {
    if (!this.ended && this.failed === null) await new Promise<void>((r) => this.endWaiters.push(r));
    if (this.failed !== null) throw this.failed;
  }

  /**
   * Closes the connection, stops the timer and reconnects, moves the watermark to the clock's now (or
   * the runner's end), and closes the recording (flushed to disk when this resolves).
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer !== null) clearInterval(this.timer);
    if (this.reconnectTimer !== null) clearTimeout(this.reconnectTimer);
    for (const t of this.snapshotTimers) clearTimeout(t);
    this.snapshotTimers.clear();
    const ws = this.ws;
    this.ws = null;
    if (ws !== null && ws.readyState !== WebSocket.CLOSED) {
      await new Promise<void>((r) => {
        ws.once("close", () => r());
        ws.close();
        setTimeout(() => {
          ws.terminate();
          r();
        }, 1000).unref();
      });
    }
    this.advance();
    const rec = this.recorder;
    this.recorder = null;
    if (rec !== null) {
      await new Promise<void>((r, j) => {
        rec.out.once("finish", () => r());
        rec.out.once("error", j);
        (rec.gz ?? rec.out).end();
      });
    }
  }

  /** Moves the runner's watermark to the clock's now (never past a bounded runner's end). */
  advance(): void {
    if (this.ended || this.failed !== null) return;
    const now = this.now();
    const end = this.runner.endUs;
    const W = end !== OPEN_END_US && now >= end ? end : now;
    if (W > this.runner.watermarkUs) this.runner.advanceTo(W);
    if (end !== OPEN_END_US && W >= end && !this.ended) {
      this.ended = true;
      for (const w of this.endWaiters.splice(0)) w();
    }
  }

  private now(): number {
    const t = this.clock();
    if (t > this.lastClock) this.lastClock = t;
    return this.lastClock;
  }

  private connect(resolve?: () => void, reject?: (e: Error) => void): void {
    if (this.stopped) return;
    const ws = new WebSocket(this.url);
    this.ws = ws;
    let open = false;
    ws.on("open", () => {
      open = true;
      this.attempt = 0;
      if (this.connections++ > 0) this.stats.reconnects++;
      // a snapshot for every depth symbol whose book is not synced (at start: all of them)
      if (this.streamKinds.includes("depth")) {
        const synced = new Set<string>();
        for (const tr of this.decoder.books()) if (tr.book.synced) synced.add(tr.inst.symbol);
        for (const inst of this.instruments.values())
          if (!synced.has(inst.symbol)) this.requestSnapshot(inst);
      }
      resolve?.();
    });
    ws.on("message", (data: WebSocket.RawData, isBinary: boolean) => {
      const text = isBinary || typeof data !== "string" ? rawText(data) : data;
      this.guard(() => this.receive(text));
    });
    ws.on("error", (e: Error) => {
      if (!open && this.connections === 0 && reject) {
        reject(new ConfigError(`Binance client: cannot connect to ${this.url}: ${e.message}`));
        reject = undefined;
        resolve = undefined;
        void this.stop(); // timers, and the recording closed
      }
    });
    ws.on("close", () => {
      if (this.ws === ws) this.ws = null;
      if (this.stopped) return;
      const b = this.opts.backoff ?? {};
      const delay = Math.min(b.maxMs ?? 30_000, (b.baseMs ?? 250) * 2 ** this.attempt);
      const jitter = b.jitter ?? ((ms: number) => ms * (0.5 + Math.random() / 2));
      this.attempt++;
      this.reconnectTimer = setTimeout(
        () => {
          this.reconnectTimer = null;
          this.connect();
        },
        Math.max(0, jitter(delay)),
      );
    });
  }

  /** One received message (frame or snapshot body): stamped, recorded, decoded, watermark moved. */
  private receive(text: string): void {
    const ts = this.now();
    this.line++;
    this.stats.messages++;
    this.stats.lastTsUs = ts;
    const rec = this.recorder;
    if (rec !== null) {
      const clean = text.includes("\n") || text.includes("\r") ? text.replace(/[\r\n]/g, " ") : text;
      (rec.gz ?? rec.out).write(`${ts * 1000} ${clean}\n`);
    }
    this.decoder.text(ts, text, this.line, text);
    // a depth symbol whose book is not synced needs a snapshot
    if (this.streamKinds.includes("depth"))
      for (const tr of this.decoder.books())
        if (!tr.book.synced && !this.fetching.has(tr.inst.symbol)) this.requestSnapshot(tr.inst);
    this.advance();
    this.opts.onFrame?.();
  }

  /** Requests the REST snapshot of inst (`retry`: again after a failed request, not a new resync). */
  private requestSnapshot(inst: ClientInstrument, retry = false): void {
    if (this.stopped || this.fetching.has(inst.symbol)) return;
    this.fetching.add(inst.symbol);
    if (!retry && this.everSynced.has(inst.symbol)) this.stats.resyncs++;
    void this.fetchSnapshot(inst);
  }

  private async fetchSnapshot(inst: ClientInstrument): Promise<void> {
    const url = `${this.restBase}${this.depthPath}?symbol=${inst.symbol}&limit=${this.opts.depthLimit ?? 1000}`;
    let body: string;
    try {
      const res = await fetch(url);
      body = await res.text();
      if (!res.ok) throw new Error(`HTTP ${res.status}: ${body.slice(0, 200)}`);
    } catch (e) {
      this.stats.snapshotErrors++;
      this.stats.lastSnapshotError = `${url}: ${e instanceof Error ? e.message : String(e)}`;
      if (this.stopped) return;
      const n = this.snapshotAttempt.get(inst.symbol) ?? 0;
      this.snapshotAttempt.set(inst.symbol, n + 1);
      const b = this.opts.backoff ?? {};
      const delay = Math.min(b.maxMs ?? 30_000, (b.baseMs ?? 250) * 2 ** n);
      const t = setTimeout(() => {
        this.snapshotTimers.delete(t);
        this.fetching.delete(inst.symbol);
        this.requestSnapshot(inst, true);
      }, delay);
      this.snapshotTimers.add(t);
      return;
    }
    this.fetching.delete(inst.symbol);
    if (this.stopped) return;
    this.snapshotAttempt.delete(inst.symbol);
    this.stats.snapshots++;
    this.guard(() => this.receive(withSymbol(body, inst.symbol)));
  }

  /** The error that stopped the client (the runner refused an event or a watermark), or null. */
  get error(): Error | null {
    return this.failed;
  }
  private failed: Error | null = null;

  /** Runs f; an error stops the client and rejects `untilEnd()` (a runner error is not recoverable). */
  private guard(f: () => void): void {
    if (this.failed !== null) return;
    try {
      f();
    } catch (e) {
      this.failed = e instanceof Error ? e : new Error(String(e));
      for (const w of this.endWaiters.splice(0)) w();
      void this.stop();
    }
  }

  // ---- DecodeTarget ----

  instrument(exchange: string, symbol: string): ClientInstrument | null {
    return this.instruments.get(`${exchange}\u0000${symbol}`) ?? null;
  }

  noRow(reason: string): void {
    this.stats.withoutRow[reason] = (this.stats.withoutRow[reason] ?? 0) + 1;
  }

  reject(table: TableName, line: number, field: string, reason: string, raw: string): void {
    this.quarantine(table, line, field, reason, raw);
  }

  rejectLine(line: number, field: string, reason: string, raw: string): void {
    this.quarantine("line", line, field, reason, raw);
  }

  decodeOrReject(
    dec: FixedDecoder,
    table: TableName,
    line: number,
    field: string,
    s: string,
    inc: Increment,
    raw: string,
  ): number {
    const v = dec.decode(s, inc, false);
    if (Number.isNaN(v)) this.reject(table, line, field, describeFailure(dec.failure, s, inc), raw);
    return v;
  }

  checkTime(table: TableName, ts: number, line: number, raw: string): boolean {
    if (ts < this.lastCheckedTs) {
      this.reject(table, line, "ts_local_us", `timestamp went backwards: ${ts} < ${this.lastCheckedTs}`, raw);
      return false;
    }
    this.lastCheckedTs = ts;
    return true;
  }
  private lastCheckedTs = Number.NEGATIVE_INFINITY;

  sequenceGap(): void {
    this.stats.gaps++;
  }

  snapshotSymbol(): string | undefined {
    return this.opts.symbols.length === 1 ? this.opts.symbols[0]!.toUpperCase() : undefined;
  }

  trade(
    inst: ClientInstrument,
    table: "trades" | "liquidations",
    ts: number,
    _tsExch: number,
    line: number,
    px: number,
    qty: number,
    side: number,
    id: string | null,
  ): void {
    if (id !== null) this.stats.lastTradeId[inst.symbol] = id;
    const k = this.route(inst, table, ts);
    if (k < 0) return;
    const r = this.buf.get(table);
    this.head(r, ts, line);
    (r.columns.side as Int8Array)[0] = side;
    (r.columns.px_int as Float64Array)[0] = px;
    (r.columns.qty_int as Float64Array)[0] = qty;
    this.push(k, r);
  }

  quote(
    inst: ClientInstrument,
    ts: number,
    _tsExch: number,
    line: number,
    u: number,
    bp: number,
    bq: number,
    ap: number,
    aq: number,
  ): void {
    const k = this.route(inst, "quotes", ts);
    if (k < 0) return;
    const r = this.buf.get("quotes");
    this.head(r, ts, line);
    const c = r.columns;
    (c.update_id as Float64Array)[0] = u;
    (c.bid_px_int as Float64Array)[0] = bp;
    (c.bid_qty_int as Float64Array)[0] = bq;
    (c.ask_px_int as Float64Array)[0] = ap;
    (c.ask_qty_int as Float64Array)[0] = aq;
    this.push(k, r);
  }

  book(inst: ClientInstrument, ts: number, _tsExch: number, line: number, book: OrderBook): void {
    this.stats.lastUpdateId[inst.symbol] = book.lastUpdateId;
    this.everSynced.add(inst.symbol);
    const k = this.route(inst, "book_snapshot_25", ts);
    if (k < 0) return;
    const r = this.buf.get("book_snapshot_25");
    this.head(r, ts, line);
    const c = r.columns;
    (c.update_id as Float64Array)[0] = book.lastUpdateId;
    const bp = c.bid_px_int as LevelColumn;
    const bq = c.bid_qty_int as LevelColumn;
    const ap = c.ask_px_int as LevelColumn;
    const aq = c.ask_qty_int as LevelColumn;
    bp.values.fill(0);
    bq.values.fill(0);
    ap.values.fill(0);
    aq.values.fill(0);
    bp.lens[0] = book.bids.copyTop(BOOK_DEPTH, bp.values, bq.values, 0);
    bq.lens[0] = bp.lens[0]!;
    ap.lens[0] = book.asks.copyTop(BOOK_DEPTH, ap.values, aq.values, 0);
    aq.lens[0] = ap.lens[0]!;
    this.push(k, r);
  }

  ticker(inst: ClientInstrument, ts: number, _tsExch: number, line: number, t: TickerValues): void {
    const k = this.route(inst, "derivative_ticker", ts);
    if (k < 0) return;
    const r = this.buf.get("derivative_ticker");
    this.head(r, ts, line);
    const c = r.columns;
    (c.mark_px as Float64Array)[0] = t.markPx;
    (c.index_px as Float64Array)[0] = t.indexPx;
    (c.last_px as Float64Array)[0] = Number.NaN;
    (c.est_settle_px as Float64Array)[0] = t.estSettlePx;
    (c.funding_rate as Float64Array)[0] = t.fundingRate;
    (c.predicted_funding_rate as Float64Array)[0] = Number.NaN;
    (c.next_funding_time_us as Float64Array)[0] = t.nextFundingTimeUs;
    (c.open_interest as Float64Array)[0] = Number.NaN;
    this.push(k, r);
  }

  /** The runner stream of an event, or -1 (counted: unrouted, or at/after the runner's end). */
  private route(inst: ClientInstrument, table: TableName, ts: number): number {
    const k = inst.streams[table];
    if (k === undefined) {
      this.stats.unrouted[table] = (this.stats.unrouted[table] ?? 0) + 1;
      return -1;
    }
    if (this.ended || ts >= this.runner.endUs) {
      this.stats.afterEnd++;
      return -1;
    }
    return k;
  }

  private head(r: TypedRows, ts: number, line: number): void {
    const c = r.columns;
    (c.ts_local_us as Float64Array)[0] = ts;
    (c.file_id as Float64Array)[0] = this.fileId;
    (c.file_line_number as Float64Array)[0] = line;
  }

  private push(k: number, r: TypedRows): void {
    this.runner.pushRow(k, r, 0);
    this.stats.events++;
  }

  private quarantine(table: string, line: number, field: string, reason: string, raw: string): void {
    const s = this.stats;
    s.rejected++;
    const key = rejectionKey(table, field, reason);
    s.rejectedByReason[key] = (s.rejectedByReason[key] ?? 0) + 1;
    if (this.quarantined.length >= (this.opts.maxQuarantine ?? 1000)) return;
    const rec: QuarantineRecord = { file: this.label, line, table, field, reason, raw: raw.slice(0, 500) };
    this.quarantined.push(rec);
    if (this.opts.quarantinePath !== undefined)
      appendFileSync(this.opts.quarantinePath, `${JSON.stringify(rec)}\n`);
  }
}

function rawText(data: WebSocket.RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString("utf8");
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString("utf8");
  return data.toString("utf8");
}
