/**
 * The one decoder of Binance WebSocket messages, shared by the capture adapter (ingest/binance/
 * capture.ts: `<ts> <json>` lines read from a file) and the live WebSocket client (live/binance-ws.ts:
 * frames as they arrive, stamped with the local clock). Both hand it a message and its local receive
 * time; it classifies the message, decodes every decimal to fixed-point integers at the instrument's
 * increments, keeps each symbol's order book with Binance's sequence rules, and tells its `DecodeTarget`
 * what each message yields: one row (trade, quote, book top 25, ticker), a rejection (counted and
 * quarantined by the target) or no row (with a reason). Nothing is dropped silently.
 *
 * Mapping (ts_local_us = local receive time; ts_exch_us as noted):
 * - `@trade` → trades: `m` (buyer is maker) → side 1 (taker sell), else 0 (taker buy); ts_exch = `T`.
 *   Futures prints with `X` other than MARKET (INSURANCE_FUND, ADL) are liquidation-driven and go to
 *   `liquidations` instead, so `trades` holds only regular market trades.
 * - `@bookTicker` → quotes (update_id = `u`; ts_exch = `E` when present — spot has none).
 * - `@depth*` diffs + REST snapshot → an order book maintained with Binance's rules ("How to manage a
 *   local order book correctly"), emitted as a book_snapshot_25 row after every applied diff (and one at
 *   each snapshot that syncs the book): futures (USDⓈ-M, COIN-M): drop u < lastUpdateId; the first diff
 *   must have U ≤ lastUpdateId ≤ u; each next diff's `pu` must equal the previous `u`. Spot: drop
 *   u ≤ lastUpdateId; the first diff must have U ≤ lastUpdateId+1 ≤ u; each next diff's U must be the
 *   previous u + 1. A violation is a sequence gap: the target is told (`sequenceGap`: the ingest report
 *   lists it, the live client requests a new REST snapshot), the book is discarded, and it resyncs at the
 *   next snapshot; diffs in between are buffered (no row: `depth_awaiting_snapshot`) and replayed when
 *   the snapshot arrives — their effect appears in the snapshot's row, at the snapshot's arrival time
 *   (the earliest time the book was knowable).
 * - `@forceOrder` (and `!forceOrder@arr`) → liquidations: the liquidation order `o` (Binance USDⓈ-M /
 *   COIN-M "Liquidation Order Streams": `{"e":"forceOrder","E":…,"o":{"s","S","o","f","q","p","ap","X",
 *   "l","z","T"}}`): side `S` BUY → 0 (a short was liquidated), SELL → 1 (a long was liquidated); price =
 *   the average fill price `ap` (the order price `p` when `ap` is 0); size = the filled quantity `z`
 *   (the original quantity `q` when `z` is 0); ts_exch = `T` (order trade time); no vendor id (rows are
 *   deduplicated as whole rows). Symbol from `o.s`.
 * - `@markPrice@1s` → derivative_ticker (mark `p`, index `i`, est. settle `P`, funding rate `r`,
 *   next funding time `T`); ts_exch = `E`.
 * - a REST depth snapshot (no `stream` key: `lastUpdateId, bids, asks`, futures add `E, T`; `symbol`
 *   when the recorder added it) → loads the book (above).
 * - a subscription reply (`result`, `id`) → no row; anything else → rejected (unknown stream).
 *
 * Exchange ids (Tardis naming) are inferred per message: spot → `binance`; futures → `binance-delivery`
 * when the symbol has a `_` (COIN-M: BTCUSD_PERP), else `binance-futures` (USDⓈ-M). `exchange`
 * overrides.
 *
 * Sources: Binance USDⓈ-M / COIN-M / Spot WebSocket docs, "How to manage a local order book correctly";
 * capture format of hftbacktest (nkaz001/hftbacktest, examples/).
 */
import { FixedDecoder, type Increment } from "../../core/fixed.js";
import { parseEpochToUs } from "../../core/time.js";
import { SIDE_BUY, SIDE_SELL, type TableName } from "../../schema/tables.js";
import { OrderBook } from "./orderbook.js";

/** Binance market family, as the sequence rules distinguish them. */
export type Market = "futures" | "spot";
type Levels = [string, string][];

/** A depth diff (`@depth*` data). */
export interface DepthMsg {
  U: number;
  u: number;
  pu?: number;
  E?: number;
  b: Levels;
  a: Levels;
}

/** A REST depth snapshot. */
export interface SnapshotMsg {
  lastUpdateId: number;
  E?: number;
  symbol?: string;
  bids: Levels;
  asks: Levels;
}

/** A saved book (continuation across capture files): levels as [px_int, qty_int] pairs. */
export interface SavedBook {
  readonly lastUpdateId: number;
  readonly bids: readonly (readonly [number, number])[];
  readonly asks: readonly (readonly [number, number])[];
}

/** A synced book with its place in the sequence rules (a live client's checkpoint; JSON-safe). */
export interface DecoderBook extends SavedBook {
  readonly exchange: string;
  readonly symbol: string;
  readonly market: Market;
  /** True right after a snapshot: the next diff must straddle lastUpdateId (else: pu / U continuity). */
  readonly expectFirst: boolean;
}

/** Buffered diffs per symbol while the book awaits a snapshot (the oldest are dropped beyond it). */
export const MAX_BUFFERED_DIFFS = 20_000;

/** The exchange id of a message (see the module doc). */
export function exchangeOf(market: Market, symbol: string, exchange?: string): string {
  if (exchange !== undefined) return exchange;
  if (market === "spot") return "binance";
  return symbol.includes("_") ? "binance-delivery" : "binance-futures";
}

/** A `<ts> <json>` line split and parsed: the JSON object and ts (µs), or a failure field and reason. */
export interface ParsedLine {
  ts: number;
  msg: Record<string, unknown> | null;
  failField: string;
  failReason: string;
}

/** Parses the JSON text of one message into `out` (msg null, failField/failReason set on failure). */
export function parseMessage(text: string, out: ParsedLine): void {
  out.msg = null;
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v !== "object" || v === null || Array.isArray(v)) {
      out.failField = "json";
      out.failReason = "JSON message is not an object";
      return;
    }
    out.msg = v as Record<string, unknown>;
  } catch (e) {
    out.failField = "json";
    out.failReason = `malformed JSON: ${(e as Error).message}`;
  }
}

/** Splits a capture line `<ts> <json>` (ts in s/ms/µs/ns, floored to µs) into `out`. */
export function parseLine(text: string, out: ParsedLine): void {
  out.msg = null;
  const sp = text.indexOf(" ");
  if (sp <= 0) {
    out.failField = "line";
    out.failReason = "malformed line: expected '<local timestamp> <json>'";
    return;
  }
  out.ts = parseEpochToUs(text, 0, sp);
  if (Number.isNaN(out.ts)) {
    out.failField = "timestamp";
    out.failReason = `local timestamp '${text.slice(0, Math.min(sp, 40))}' is not an epoch integer (s/ms/µs/ns)`;
    return;
  }
  parseMessage(text.slice(sp + 1), out);
}

/** What a message is. */
export type Kind =
  | "trade"
  | "bookTicker"
  | "depth"
  | "markPrice"
  | "forceOrder"
  | "snapshot"
  | "reply"
  | "unknown";

/** Classifies a message (combined-stream envelope, REST snapshot or subscription reply). */
export function classify(msg: Record<string, unknown>): {
  kind: Kind;
  stream: string;
  data: Record<string, unknown>;
} {
  const stream = msg["stream"];
  if (typeof stream !== "string") {
    if ("lastUpdateId" in msg && Array.isArray(msg["bids"]) && Array.isArray(msg["asks"])) {
      return { kind: "snapshot", stream: "", data: msg };
    }
    if ("result" in msg && "id" in msg) return { kind: "reply", stream: "", data: msg };
    return { kind: "unknown", stream: "<no stream key>", data: msg };
  }
  const data = msg["data"];
  if (typeof data !== "object" || data === null) return { kind: "unknown", stream, data: msg };
  const at = stream.indexOf("@");
  const k = at < 0 ? "" : stream.slice(at + 1);
  const d = data as Record<string, unknown>;
  if (k === "trade") return { kind: "trade", stream, data: d };
  if (k === "bookTicker") return { kind: "bookTicker", stream, data: d };
  if (k.startsWith("depth")) return { kind: "depth", stream, data: d };
  if (k.startsWith("markPrice")) return { kind: "markPrice", stream, data: d };
  if (k.startsWith("forceOrder")) return { kind: "forceOrder", stream, data: d };
  return { kind: "unknown", stream, data: d };
}

/** The market family of a message, from the keys only futures (or only spot) messages carry. */
export function marketOf(kind: Kind, d: Record<string, unknown>): Market {
  switch (kind) {
    case "depth":
      return "pu" in d ? "futures" : "spot";
    case "trade":
      return "M" in d ? "spot" : "futures";
    case "bookTicker":
      return "E" in d || "e" in d ? "futures" : "spot";
    case "snapshot":
      return "E" in d || "T" in d ? "futures" : "spot";
    default:
      return "futures";
  }
}

/** The symbol of a message: the liquidation order's `o.s`, else `s`, else the stream prefix, upper-cased. */
export function symbolOf(d: Record<string, unknown>, stream: string): string {
  const o = d["o"];
  if (typeof o === "object" && o !== null && typeof (o as Record<string, unknown>)["s"] === "string")
    return ((o as Record<string, unknown>)["s"] as string).toUpperCase(); // forceOrder: the order's symbol
  const s = d["s"];
  if (typeof s === "string") return s.toUpperCase();
  const at = stream.indexOf("@");
  return (at < 0 ? stream : stream.slice(0, at)).toUpperCase();
}

const str = (v: unknown): string | null => (typeof v === "string" ? v : null);
const num = (v: unknown): number => (typeof v === "number" ? v : Number.NaN);

/** An instrument as the decoder sees it: ids and the increments decimals are decoded at. */
export interface DecodeInstrument {
  readonly exchange: string;
  readonly symbol: string;
  /** Price increment (quote currency) of `px_int` values. */
  readonly px: Increment;
  /** Amount increment (base units) of `qty_int` values. */
  readonly qty: Increment;
}

/**
 * What a decoder reports to, per message: exactly one of a row call (`trade`, `quote`, `book`,
 * `ticker`), a rejection (`reject`, `rejectLine`, a failed `decodeOrReject` or `checkTime`) or `noRow`.
 * The capture adapter implements it with the ingest session (FileIngest: rows into table buffers, the
 * quarantine file, the report); the live client with the runner's push source and its own quarantine.
 */
export interface DecodeTarget<I extends DecodeInstrument> {
  /** The instrument of exchange/symbol, or null when it cannot be decoded here (the line is rejected). */
  instrument(exchange: string, symbol: string): I | null;
  /** A message that carries no row, with a reason (subscription reply, diff awaiting a snapshot, …). */
  noRow(reason: string): void;
  /** Rejects a message destined for `table` (counted and quarantined with its raw text). */
  reject(table: TableName, line: number, field: string, reason: string, raw: string): void;
  /** Rejects a message that cannot be routed to a table (malformed JSON, unknown stream). */
  rejectLine(line: number, field: string, reason: string, raw: string): void;
  /** Decodes decimal `s` at `inc` with `dec`; NaN after rejecting the message otherwise. */
  decodeOrReject(
    dec: FixedDecoder,
    table: TableName,
    line: number,
    field: string,
    s: string,
    inc: Increment,
    raw: string,
  ): number;
  /** Whether `ts` keeps ts_local_us non-decreasing; false after rejecting the message otherwise. */
  checkTime(table: TableName, ts: number, line: number, raw: string): boolean;
  /** A depth sequence gap on `inst` (the book was discarded; it resyncs at the next REST snapshot). */
  sequenceGap(inst: I, line: number, ts: number, expected: string, got: string): void;
  /** A regular trade (`trades`) or a liquidation print (`liquidations`): px/qty in increments. */
  trade(
    inst: I,
    table: "trades" | "liquidations",
    ts: number,
    tsExchUs: number,
    line: number,
    pxInt: number,
    qtyInt: number,
    side: number,
    id: string | null,
  ): void;
  /** An L1 quote (bookTicker): prices and sizes in increments. */
  quote(
    inst: I,
    ts: number,
    tsExchUs: number,
    line: number,
    updateId: number,
    bidPxInt: number,
    bidQtyInt: number,
    askPxInt: number,
    askQtyInt: number,
  ): void;
  /** The book after an applied diff or a syncing snapshot (read its top 25 levels during the call). */
  book(inst: I, ts: number, tsExchUs: number, line: number, book: OrderBook): void;
  /** A mark price update (natural units; funding rate as a fraction; next funding time in µs). */
  ticker(inst: I, ts: number, tsExchUs: number, line: number, t: TickerValues): void;
  /**
   * The symbol of a REST snapshot that names none, or undefined (the snapshot is then rejected): the
   * capture adapter's `--symbol`, else the one symbol the capture holds.
   */
  snapshotSymbol(): string | undefined;
  /**
   * Optional: a saved book that diff `d` (the first diff of a symbol, before any snapshot) continues,
   * or null (the capture adapter's continuation across files).
   */
  continuation?(inst: I, market: Market, d: DepthMsg, ts: number): SavedBook | null;
}

/** Values of a mark price message (NaN = absent). */
export interface TickerValues {
  markPx: number;
  indexPx: number;
  estSettlePx: number;
  fundingRate: number;
  nextFundingTimeUs: number;
}

/** Per-symbol book reconstruction state. */
export class BookTrack<I extends DecodeInstrument> {
  readonly book = new OrderBook();
  expectFirst = false;
  continuationTried = false;
  pending: { ts: number; line: number; d: DepthMsg }[] = [];
  /** ts_local_us of the last emitted book row, µs (0 before the first). */
  lastEmitTs = 0;
  private scratchPx = new Float64Array(4096);
  private scratchQty = new Float64Array(4096);

  constructor(
    readonly inst: I,
    readonly market: Market,
    private readonly target: DecodeTarget<I>,
    private readonly dec: FixedDecoder,
  ) {}

  /** Decodes all levels of a message into scratch arrays; returns their count, or -1 after rejecting. */
  private decodeLevels(levels: Levels, side: "b" | "a", line: number, raw: string): number {
    const n = levels.length;
    if (this.scratchPx.length < n) {
      this.scratchPx = new Float64Array(n * 2);
      this.scratchQty = new Float64Array(n * 2);
    }
    for (let i = 0; i < n; i++) {
      const lvl = levels[i];
      const ps = lvl?.[0];
      const qs = lvl?.[1];
      if (typeof ps !== "string" || typeof qs !== "string") {
        this.target.reject(
          "book_snapshot_25",
          line,
          `${side}[${i}]`,
          "level is not a [price, size] pair of strings",
          raw,
        );
        return -1;
      }
      const px = this.target.decodeOrReject(
        this.dec,
        "book_snapshot_25",
        line,
        `${side}[${i}][0]`,
        ps,
        this.inst.px,
        raw,
      );
      if (Number.isNaN(px)) return -1;
      const qty = this.target.decodeOrReject(
        this.dec,
        "book_snapshot_25",
        line,
        `${side}[${i}][1]`,
        qs,
        this.inst.qty,
        raw,
      );
      if (Number.isNaN(qty)) return -1;
      this.scratchPx[i] = px;
      this.scratchQty[i] = qty;
    }
    return n;
  }

  private applyLevels(bids: Levels, asks: Levels, line: number, raw: string): boolean {
    const nb = this.decodeLevels(bids, "b", line, raw);
    if (nb < 0) return false;
    for (let i = 0; i < nb; i++) this.book.bids.set(this.scratchPx[i]!, this.scratchQty[i]!);
    const na = this.decodeLevels(asks, "a", line, raw);
    if (na < 0) return false;
    for (let i = 0; i < na; i++) this.book.asks.set(this.scratchPx[i]!, this.scratchQty[i]!);
    return true;
  }

  /** Hands the book to the target as a row at ts. */
  emit(ts: number, tsExch: number, line: number): void {
    this.lastEmitTs = ts;
    this.target.book(this.inst, ts, tsExch, line, this.book);
  }

  private gap(ts: number, line: number, expected: string, got: string): void {
    this.target.sequenceGap(this.inst, line, ts, expected, got);
    this.book.reset();
    this.expectFirst = false;
    this.pending.length = 0;
  }

  /**
   * Applies one diff to a synced book following Binance's sequence rules.
   * Returns "applied", "stale" (dropped, older than the snapshot), "gap" (book discarded) or "rejected".
   */
  applyDiff(d: DepthMsg, ts: number, line: number, raw: string): "applied" | "stale" | "gap" | "rejected" {
    const L = this.book.lastUpdateId;
    const fut = this.market === "futures";
    if (this.expectFirst) {
      if (fut ? d.u < L : d.u <= L) return "stale";
      const ok = fut ? d.U <= L && L <= d.u : d.U <= L + 1 && L + 1 <= d.u;
      if (!ok) {
        this.gap(
          ts,
          line,
          fut ? `first diff with U ≤ ${L} ≤ u` : `first diff with U ≤ ${L + 1} ≤ u`,
          `U=${d.U} u=${d.u}`,
        );
        return "gap";
      }
    } else if (fut ? d.pu !== L : d.U !== L + 1) {
      this.gap(ts, line, fut ? `pu = ${L}` : `U = ${L + 1}`, fut ? `pu=${d.pu}` : `U=${d.U}`);
      return "gap";
    }
    if (!this.applyLevels(d.b, d.a, line, raw)) {
      // A diff we cannot decode leaves the book unknown: discard it and wait for a snapshot.
      this.book.reset();
      this.expectFirst = false;
      this.pending.length = 0;
      return "rejected";
    }
    this.book.lastUpdateId = d.u;
    this.expectFirst = false;
    return "applied";
  }

  /** Loads a REST snapshot and replays buffered diffs that continue it. */
  loadSnapshot(s: SnapshotMsg, line: number, raw: string): "synced" | "gap" | "rejected" {
    this.book.reset();
    if (!this.applyLevels(s.bids, s.asks, line, raw)) {
      this.book.reset();
      return "rejected";
    }
    this.book.lastUpdateId = s.lastUpdateId;
    this.expectFirst = true;
    const pending = this.pending;
    this.pending = [];
    for (const p of pending) {
      if (!this.book.synced) break;
      // Buffered diffs were already counted (depth_awaiting_snapshot); they only change the state here.
      this.applyDiff(p.d, p.ts, p.line, "");
    }
    return this.book.synced ? "synced" : "gap";
  }

  buffer(d: DepthMsg, ts: number, line: number): void {
    if (this.pending.length >= MAX_BUFFERED_DIFFS) this.pending.shift();
    this.pending.push({ ts, line, d });
  }

  /** Resumes from a saved book ending right before the next diff. */
  resume(saved: SavedBook): void {
    this.book.reset();
    for (const [p, q] of saved.bids) this.book.bids.set(p, q);
    for (const [p, q] of saved.asks) this.book.asks.set(p, q);
    this.book.lastUpdateId = saved.lastUpdateId;
    this.expectFirst = false;
  }
}

/** Options of a decoder. */
export interface DecoderOptions {
  /** Exchange id of every message (default: inferred per message, see the module doc). */
  readonly exchange?: string;
}

/** The decoder (see the module doc): one per capture file, or per live connection set. */
export class BinanceDecoder<I extends DecodeInstrument> {
  private readonly dec = new FixedDecoder();
  private readonly pl: ParsedLine = { ts: 0, msg: null, failField: "", failReason: "" };
  private readonly tracks = new Map<string, BookTrack<I>>();
  private readonly ticker: TickerValues = {
    markPx: Number.NaN,
    indexPx: Number.NaN,
    estSettlePx: Number.NaN,
    fundingRate: Number.NaN,
    nextFundingTimeUs: Number.NaN,
  };

  constructor(
    private readonly target: DecodeTarget<I>,
    private readonly opts: DecoderOptions = {},
  ) {}

  /** Book tracks by instrument (for persistence at a file's end and for resync decisions). */
  books(): IterableIterator<BookTrack<I>> {
    return this.tracks.values();
  }

  /** Decodes one capture line `<ts> <json>` (`line`: its 1-based number). */
  line(text: string, line: number): void {
    if (text.length === 0) {
      this.target.noRow("blank_line");
      return;
    }
    parseLine(text, this.pl);
    if (this.pl.msg === null) {
      this.target.rejectLine(line, this.pl.failField, this.pl.failReason, text);
      return;
    }
    this.message(this.pl.ts, this.pl.msg, line, text);
  }

  /**
   * Decodes the JSON text of one message received at ts (µs). `raw` is what is quarantined on
   * rejection (the recorded line, or the frame).
   */
  text(ts: number, json: string, line: number, raw: string = json): void {
    parseMessage(json, this.pl);
    if (this.pl.msg === null) {
      this.target.rejectLine(line, this.pl.failField, this.pl.failReason, raw);
      return;
    }
    this.message(ts, this.pl.msg, line, raw);
  }

  /** The synced books, levels as [px_int, qty_int] pairs (for a live client's checkpoint). */
  bookStates(): DecoderBook[] {
    const out: DecoderBook[] = [];
    for (const t of this.tracks.values()) {
      if (!t.book.synced) continue;
      out.push({
        exchange: t.inst.exchange,
        symbol: t.inst.symbol,
        market: t.market,
        expectFirst: t.expectFirst,
        lastUpdateId: t.book.lastUpdateId,
        bids: t.book.bids.toPairs(),
        asks: t.book.asks.toPairs(),
      });
    }
    return out;
  }

  /**
   * Resumes books saved by `bookStates` (a restarted live client): the next diffs continue them under the
   * sequence rules — a diff that does not is a gap, and the book resyncs — as a capture file continues
   * the book saved at the end of the previous one. Books of instruments the target lacks are skipped.
   */
  restoreBooks(books: readonly DecoderBook[]): void {
    for (const b of books) {
      const t = this.track(b.exchange, b.symbol, b.market);
      if (t === null) continue;
      t.resume(b);
      t.expectFirst = b.expectFirst;
      t.continuationTried = true;
    }
  }

  /** The track of exchange/symbol, created on first use; null when the target has no such instrument. */
  track(exchange: string, sym: string, market: Market): BookTrack<I> | null {
    const key = `${exchange}\u0000${sym}`;
    let t = this.tracks.get(key);
    if (t === undefined) {
      const inst = this.target.instrument(exchange, sym);
      if (inst === null) return null;
      t = new BookTrack(inst, market, this.target, this.dec);
      this.tracks.set(key, t);
    }
    return t;
  }

  /** Decodes one parsed message received at ts (µs). */
  message(ts: number, msg: Record<string, unknown>, line: number, raw: string): void {
    const fi = this.target;
    const { kind, stream, data } = classify(msg);
    if (kind === "reply") {
      fi.noRow("subscription_reply");
      return;
    }
    if (kind === "unknown") {
      fi.rejectLine(line, "stream", `unknown stream '${stream}'`, raw);
      return;
    }
    const market = marketOf(kind, data);
    if (kind === "snapshot") {
      const s = data as unknown as SnapshotMsg;
      const sym = typeof s.symbol === "string" ? s.symbol.toUpperCase() : fi.snapshotSymbol();
      if (sym === undefined) {
        fi.rejectLine(
          line,
          "symbol",
          "depth snapshot names no symbol and the capture holds several symbols",
          raw,
        );
        return;
      }
      const tr = this.track(exchangeOf(market, sym, this.opts.exchange), sym, market);
      if (tr === null) {
        fi.rejectLine(line, "symbol", `no instrument ${sym} to decode the depth snapshot with`, raw);
        return;
      }
      if (!fi.checkTime("book_snapshot_25", ts, line, raw)) return;
      if (typeof s.lastUpdateId !== "number") {
        fi.reject("book_snapshot_25", line, "lastUpdateId", "snapshot lastUpdateId is not a number", raw);
        return;
      }
      const r = tr.loadSnapshot(s, line, raw);
      if (r === "synced") tr.emit(ts, typeof s.E === "number" ? s.E * 1000 : Number.NaN, line);
      else if (r === "gap") fi.noRow("snapshot_gap_during_replay");
      // "rejected" was counted by reject()
      return;
    }
    const sym = symbolOf(data, stream);
    const exchange = exchangeOf(market, sym, this.opts.exchange);
    switch (kind) {
      case "trade": {
        const x = data["X"];
        const table = typeof x === "string" && x !== "MARKET" ? "liquidations" : "trades";
        if (!fi.checkTime(table, ts, line, raw)) return;
        const inst = fi.instrument(exchange, sym);
        if (inst === null) {
          fi.rejectLine(line, "symbol", `no instrument ${exchange}/${sym} to decode the trade with`, raw);
          return;
        }
        const px = this.decodeOr(table, data["p"], inst.px, "p", line, raw);
        if (Number.isNaN(px)) return;
        const qty = this.decodeOr(table, data["q"], inst.qty, "q", line, raw);
        if (Number.isNaN(qty)) return;
        const m = data["m"];
        if (typeof m !== "boolean") {
          fi.reject(table, line, "m", "buyer-is-maker flag 'm' is missing or not a boolean", raw);
          return;
        }
        const tsExch = num(data["T"]) * 1000;
        fi.trade(
          inst,
          table,
          ts,
          tsExch,
          line,
          px,
          qty,
          m ? SIDE_SELL : SIDE_BUY,
          data["t"] === undefined ? null : String(data["t"]),
        );
        return;
      }
      case "bookTicker": {
        if (!fi.checkTime("quotes", ts, line, raw)) return;
        const inst = fi.instrument(exchange, sym);
        if (inst === null) {
          fi.rejectLine(line, "symbol", `no instrument ${exchange}/${sym} to decode the quote with`, raw);
          return;
        }
        const bp = this.decodeOr("quotes", data["b"], inst.px, "b", line, raw);
        if (Number.isNaN(bp)) return;
        const bq = this.decodeOr("quotes", data["B"], inst.qty, "B", line, raw);
        if (Number.isNaN(bq)) return;
        const ap = this.decodeOr("quotes", data["a"], inst.px, "a", line, raw);
        if (Number.isNaN(ap)) return;
        const aq = this.decodeOr("quotes", data["A"], inst.qty, "A", line, raw);
        if (Number.isNaN(aq)) return;
        fi.quote(inst, ts, num(data["E"]) * 1000, line, num(data["u"]), bp, bq, ap, aq);
        return;
      }
      case "depth": {
        const d = data as unknown as DepthMsg;
        if (
          typeof d.U !== "number" ||
          typeof d.u !== "number" ||
          !Array.isArray(d.b) ||
          !Array.isArray(d.a)
        ) {
          fi.reject(
            "book_snapshot_25",
            line,
            "U/u/b/a",
            "depth diff lacks numeric U, u or level arrays",
            raw,
          );
          return;
        }
        if (!fi.checkTime("book_snapshot_25", ts, line, raw)) return;
        const tr = this.track(exchange, sym, market);
        if (tr === null) {
          fi.rejectLine(
            line,
            "symbol",
            `no instrument ${exchange}/${sym} to decode the depth diff with`,
            raw,
          );
          return;
        }
        if (!tr.book.synced && !tr.continuationTried && tr.pending.length === 0) {
          tr.continuationTried = true;
          const saved = fi.continuation?.(tr.inst, market, d, ts) ?? null;
          if (saved !== null) tr.resume(saved);
        }
        if (!tr.book.synced) {
          tr.buffer(d, ts, line);
          fi.noRow("depth_awaiting_snapshot");
          return;
        }
        const r = tr.applyDiff(d, ts, line, raw);
        if (r === "applied") tr.emit(ts, num(d.E) * 1000, line);
        else if (r === "stale") fi.noRow("depth_older_than_snapshot");
        else if (r === "gap") fi.noRow("depth_sequence_gap");
        // "rejected" was counted by reject()
        return;
      }
      case "forceOrder": {
        // liquidation order stream (see the module doc): side S, avg price ap (else p), filled z (else q)
        const table = "liquidations";
        const o = data["o"];
        if (typeof o !== "object" || o === null) {
          fi.reject(table, line, "o", "forceOrder message has no order object 'o'", raw);
          return;
        }
        const ord = o as Record<string, unknown>;
        const sideText = ord["S"];
        if (sideText !== "BUY" && sideText !== "SELL") {
          fi.reject(table, line, "o.S", `side ${JSON.stringify(sideText)} is not BUY or SELL`, raw);
          return;
        }
        if (!fi.checkTime(table, ts, line, raw)) return;
        const inst = fi.instrument(exchange, sym);
        if (inst === null) {
          fi.rejectLine(
            line,
            "symbol",
            `no instrument ${exchange}/${sym} to decode the liquidation with`,
            raw,
          );
          return;
        }
        const nonZero = (v: unknown): boolean => typeof v === "string" && Number(v) !== 0;
        const pxField = nonZero(ord["ap"]) ? "ap" : "p";
        const qtyField = nonZero(ord["z"]) ? "z" : "q";
        const px = this.decodeOr(table, ord[pxField], inst.px, `o.${pxField}`, line, raw);
        if (Number.isNaN(px)) return;
        const qty = this.decodeOr(table, ord[qtyField], inst.qty, `o.${qtyField}`, line, raw);
        if (Number.isNaN(qty)) return;
        fi.trade(
          inst,
          table,
          ts,
          num(ord["T"]) * 1000,
          line,
          px,
          qty,
          sideText === "BUY" ? SIDE_BUY : SIDE_SELL,
          null,
        );
        return;
      }
      case "markPrice": {
        if (!fi.checkTime("derivative_ticker", ts, line, raw)) return;
        const inst = fi.instrument(exchange, sym);
        if (inst === null) {
          fi.rejectLine(
            line,
            "symbol",
            `no instrument ${exchange}/${sym} to decode the mark price with`,
            raw,
          );
          return;
        }
        const mark = Number(str(data["p"]) ?? Number.NaN);
        if (Number.isNaN(mark)) {
          fi.reject(
            "derivative_ticker",
            line,
            "p",
            `mark price ${JSON.stringify(data["p"])} is not a decimal string`,
            raw,
          );
          return;
        }
        const t = this.ticker;
        t.markPx = mark;
        t.indexPx = Number(str(data["i"]) ?? Number.NaN);
        t.estSettlePx = Number(str(data["P"]) ?? Number.NaN);
        t.fundingRate = Number(str(data["r"]) ?? Number.NaN);
        const nft = num(data["T"]);
        t.nextFundingTimeUs = nft > 0 ? nft * 1000 : Number.NaN;
        fi.ticker(inst, ts, num(data["E"]) * 1000, line, t);
        return;
      }
    }
  }

  /** Decodes a JSON field that must be a decimal string; NaN after rejecting the message otherwise. */
  private decodeOr(
    table: "trades" | "quotes" | "liquidations",
    s: unknown,
    inc: Increment,
    field: string,
    line: number,
    raw: string,
  ): number {
    if (typeof s === "string") return this.target.decodeOrReject(this.dec, table, line, field, s, inc, raw);
    this.target.reject(table, line, field, `missing or non-string decimal (${JSON.stringify(s)})`, raw);
    return Number.NaN;
  }
}
