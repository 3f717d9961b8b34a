/**
 * Raw Binance WebSocket captures → trades, quotes, book_snapshot_25, derivative_ticker, liquidations.
 *
 * Input: text (plain or gzip), one message per line: `<local receive timestamp> <JSON>`. The local
 * timestamp is µs (2023 hftbacktest `.dat.gz`) or ns (2024 files); the unit is detected per line from
 * its digit count and ns are floored to µs (see `parseEpochToUs`). The JSON is Binance's combined-stream
 * envelope `{"stream": "<sym>@<kind>", "data": {...}}`, or a REST depth snapshot (no `stream` key:
 * `lastUpdateId, bids, asks`, futures add `E, T`).
 *
 * Mapping (ts_local_us = capture timestamp; ts_exch_us as noted):
 * - `@trade` → trades: `m` (buyer is maker) → side 1 (taker sell), else 0 (taker buy); ts_exch = `T`.
 *   Futures prints with `X` other than MARKET (INSURANCE_FUND, ADL) are liquidation-driven and go to
 *   `liquidations` instead, so `trades` holds only regular market trades.
 * - `@bookTicker` → quotes (update_id = `u`; ts_exch = `E` when present — spot has none).
 * - `@depth*` diffs + REST snapshot → an order book maintained with Binance's rules, emitted as a
 *   book_snapshot_25 row after every applied diff (and one at each snapshot that syncs the book):
 *   futures (USDⓈ-M, COIN-M): drop u < lastUpdateId; first diff must have U ≤ lastUpdateId ≤ u; each
 *   next diff's `pu` must equal the previous `u`. Spot: drop u ≤ lastUpdateId; first diff must have
 *   U ≤ lastUpdateId+1 ≤ u; each next diff's U must be previous u + 1. A violation is a sequence gap:
 *   it is reported (`report.sequence_gaps`), the book is discarded, and it resyncs at the next snapshot;
 *   lines in between carry no row (`depth_awaiting_snapshot`). Diffs that arrive before the snapshot are
 *   buffered and replayed when it arrives; their effect appears in the snapshot's row, at the snapshot's
 *   arrival time (the earliest time the book was knowable).
 *   Continuation: at the end of a file the synced book is saved in the lake; a later file of the same
 *   symbol whose first diff continues that update id resumes from it (PIT-safe: the state only contains
 *   events that arrived earlier).
 * - `@markPrice@1s` → derivative_ticker (mark `p`, index `i`, est. settle `P`, funding rate `r`,
 *   next funding time `T`); ts_exch = `E`.
 * - `@forceOrder` (and `!forceOrder@arr`) → liquidations: the liquidation order `o` (Binance USDⓈ-M /
 *   COIN-M "Liquidation Order Streams": `{"e":"forceOrder","E":…,"o":{"s","S","o","f","q","p","ap","X",
 *   "l","z","T"}}`): side `S` BUY → 0 (a short was liquidated), SELL → 1 (a long was liquidated); price =
 *   the average fill price `ap` (the order price `p` when `ap` is 0); size = the filled quantity `z`
 *   (the original quantity `q` when `z` is 0); ts_exch = `T` (order trade time); no vendor id (rows are
 *   deduplicated as whole rows). Symbol from `o.s`.
 *
 * Exchange ids (Tardis naming) are inferred per message: spot → `binance`; futures → `binance-delivery`
 * when the symbol has a `_` (COIN-M: BTCUSD_PERP), else `binance-futures` (USDⓈ-M). `opts.exchange`
 * overrides.
 *
 * Sources: Binance USDⓈ-M / COIN-M / Spot WebSocket docs, "How to manage a local order book correctly";
 * capture format of hftbacktest (nkaz001/hftbacktest, examples/).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { IngestError } from "../../core/errors.js";
import { FixedDecoder, type Increment } from "../../core/fixed.js";
import { parseEpochToUs } from "../../core/time.js";
import type { I8Column, ListColumn, NumColumn, StrColumn } from "../../lake/buffer.js";
import { bookStateDir, writeFileAtomic } from "../../lake/layout.js";
import { BOOK_DEPTH, SIDE_BUY, SIDE_SELL } from "../../schema/tables.js";
import type { AdapterOptions, SourceAdapter } from "../adapter.js";
import { readLines } from "../lines.js";
import type { DecimalScanner, FileIngest, SymbolObservation, SymbolSink } from "../session.js";
import { OrderBook } from "./orderbook.js";

type Market = "futures" | "spot";
type Levels = [string, string][];

interface DepthMsg {
  U: number;
  u: number;
  pu?: number;
  E?: number;
  b: Levels;
  a: Levels;
}

interface SnapshotMsg {
  lastUpdateId: number;
  E?: number;
  symbol?: string;
  bids: Levels;
  asks: Levels;
}

/** Saved book at the end of a file (continuation across files). */
interface BookState {
  readonly exchange: string;
  readonly symbol: string;
  readonly last_update_id: number;
  readonly ts_local_us: number;
  readonly price_increment: string;
  readonly amount_increment: string;
  readonly bids: [number, number][];
  readonly asks: [number, number][];
}

const MAX_BUFFERED_DIFFS = 20_000;

function exchangeOf(market: Market, symbol: string, opts: AdapterOptions): string {
  if (opts.exchange !== undefined) return opts.exchange;
  if (market === "spot") return "binance";
  return symbol.includes("_") ? "binance-delivery" : "binance-futures";
}

/** Splits `<ts> <json>`; returns the parsed JSON and ts, or a failure reason. */
interface ParsedLine {
  ts: number;
  msg: Record<string, unknown> | null;
  failField: string;
  failReason: string;
}

function parseLine(text: string, out: ParsedLine): void {
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
  try {
    const v: unknown = JSON.parse(text.slice(sp + 1));
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

type Kind = "trade" | "bookTicker" | "depth" | "markPrice" | "forceOrder" | "snapshot" | "reply" | "unknown";

function classify(msg: Record<string, unknown>): {
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

function marketOf(kind: Kind, d: Record<string, unknown>): Market {
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

function symbolOf(d: Record<string, unknown>, stream: string): string {
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

/** Per-symbol book reconstruction state within one file. */
class BookTrack {
  readonly book = new OrderBook();
  expectFirst = false;
  continuationTried = false;
  pending: { ts: number; line: number; d: DepthMsg }[] = [];
  private scratchPx = new Float64Array(4096);
  private scratchQty = new Float64Array(4096);
  private readonly bidPx: ListColumn;
  private readonly bidQty: ListColumn;
  private readonly askPx: ListColumn;
  private readonly askQty: ListColumn;
  private readonly updateId: NumColumn;

  constructor(
    readonly sink: SymbolSink,
    readonly market: Market,
    private readonly fi: FileIngest,
    private readonly dec: FixedDecoder,
  ) {
    const buf = sink.buffer("book_snapshot_25");
    this.bidPx = buf.list("bid_px_int");
    this.bidQty = buf.list("bid_qty_int");
    this.askPx = buf.list("ask_px_int");
    this.askQty = buf.list("ask_qty_int");
    this.updateId = buf.num("update_id");
  }

  /** Decodes all levels of a message into scratch arrays; returns false (after rejecting) on a bad value. */
  private decodeLevels(levels: Levels, side: "b" | "a" | "bids" | "asks", line: number, raw: string): number {
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
        this.fi.reject(
          "book_snapshot_25",
          line,
          `${side}[${i}]`,
          "level is not a [price, size] pair of strings",
          raw,
        );
        return -1;
      }
      const px = this.fi.decodeOrReject(
        this.dec,
        "book_snapshot_25",
        line,
        `${side}[${i}][0]`,
        ps,
        this.sink.px,
        raw,
      );
      if (Number.isNaN(px)) return -1;
      const qty = this.fi.decodeOrReject(
        this.dec,
        "book_snapshot_25",
        line,
        `${side}[${i}][1]`,
        qs,
        this.sink.qty,
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

  /** Emits the current top 25 levels as a book_snapshot_25 row. */
  emit(ts: number, tsExch: number, line: number): void {
    const i = this.sink.row("book_snapshot_25", ts, tsExch, line);
    const off = i * BOOK_DEPTH;
    this.bidPx.lens[i] = this.book.bids.copyTop(BOOK_DEPTH, this.bidPx.values, this.bidQty.values, off);
    this.bidQty.lens[i] = this.bidPx.lens[i]!;
    this.askPx.lens[i] = this.book.asks.copyTop(BOOK_DEPTH, this.askPx.values, this.askQty.values, off);
    this.askQty.lens[i] = this.askPx.lens[i]!;
    this.updateId.data[i] = this.book.lastUpdateId;
  }

  private gap(ts: number, line: number, expected: string, got: string): void {
    this.fi.report.sequence_gaps.push({
      exchange: this.sink.exchange,
      symbol: this.sink.symbol,
      line,
      ts_local_us: ts,
      expected,
      got,
    });
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

  toState(ts: number): BookState {
    return {
      exchange: this.sink.exchange,
      symbol: this.sink.symbol,
      last_update_id: this.book.lastUpdateId,
      ts_local_us: ts,
      price_increment: this.sink.px.text,
      amount_increment: this.sink.qty.text,
      bids: this.book.bids.toPairs(),
      asks: this.book.asks.toPairs(),
    };
  }

  /** Tries to resume from a saved state ending right before diff `d`. */
  tryContinuation(lake: string, d: DepthMsg, ts: number): boolean {
    this.continuationTried = true;
    const prevU = this.market === "futures" ? d.pu : d.U - 1;
    if (prevU === undefined || !Number.isFinite(prevU)) return false;
    let st: BookState;
    try {
      st = JSON.parse(
        readFileSync(join(bookStateDir(lake, this.sink.exchange, this.sink.symbol), `${prevU}.json`), "utf8"),
      );
    } catch {
      return false;
    }
    if (
      st.price_increment !== this.sink.px.text ||
      st.amount_increment !== this.sink.qty.text ||
      st.ts_local_us > ts
    ) {
      return false;
    }
    this.book.reset();
    for (const [p, q] of st.bids) this.book.bids.set(p, q);
    for (const [p, q] of st.asks) this.book.asks.set(p, q);
    this.book.lastUpdateId = st.last_update_id;
    this.expectFirst = false;
    return true;
  }
}

interface TradeCols {
  readonly px: NumColumn;
  readonly qty: NumColumn;
  readonly side: I8Column;
  readonly id: StrColumn;
}

/** Column references of one symbol's per-message tables, looked up once. */
class SymbolCols {
  private q?: { u: NumColumn; bp: NumColumn; bq: NumColumn; ap: NumColumn; aq: NumColumn };
  private readonly t = new Map<"trades" | "liquidations", TradeCols>();
  constructor(readonly sink: SymbolSink) {}
  quotes(): { u: NumColumn; bp: NumColumn; bq: NumColumn; ap: NumColumn; aq: NumColumn } {
    if (this.q === undefined) {
      const b = this.sink.buffer("quotes");
      this.q = {
        u: b.num("update_id"),
        bp: b.num("bid_px_int"),
        bq: b.num("bid_qty_int"),
        ap: b.num("ask_px_int"),
        aq: b.num("ask_qty_int"),
      };
    }
    return this.q;
  }
  trades(table: "trades" | "liquidations"): TradeCols {
    let c = this.t.get(table);
    if (c === undefined) {
      const b = this.sink.buffer(table);
      c = {
        px: b.num("px_int"),
        qty: b.num("qty_int"),
        side: b.i8("side"),
        id: b.str(table === "trades" ? "trade_id" : "liquidation_id"),
      };
      this.t.set(table, c);
    }
    return c;
  }
}

function trackKey(exchange: string, symbol: string): string {
  return `${exchange}\u0000${symbol}`;
}

/**
 * Pass 1 without JSON.parse: pass 1 only needs, per symbol, the time range and the decimals of price
 * and size strings, so it reads them straight out of the line text. Binance messages are flat JSON
 * whose decimals are quoted strings under fixed keys (`p`/`q` for trades, `b`/`B`/`a`/`A` for
 * bookTicker) or `["price","size"]` level pairs (depth diffs, REST snapshots). Lines pass 2 would
 * reject (malformed, unknown stream) are skipped here. Symbol, market and exchange are derived with the
 * same rules as pass 2 (`s` field, else `symbol`, else the stream prefix; `marketOf` keys), which
 * test/ingest/binance-capture.test.ts checks against a JSON-parsing reference on every sample capture.
 *
 * @throws IngestError (field `format`) for a file of which no line has the capture shape
 *   `<epoch timestamp> {…}` (empty file, blank lines only, random bytes): see `notACapture`.
 */
async function scan(path: string, scanner: DecimalScanner, opts: AdapterOptions): Promise<void> {
  const span = { start: 0, end: 0 };
  const deferred: { ts: number; text: string; futures: boolean }[] = [];
  let lastSymbol: string | null = null;
  let captureLines = 0;
  let firstNonBlank = 0;
  const { lines } = await readLines(path, (text, line) => {
    if (firstNonBlank === 0 && text.trim() !== "") firstNonBlank = line;
    const sp = text.indexOf(" ");
    if (sp <= 0) return;
    const ts = parseEpochToUs(text, 0, sp);
    if (Number.isNaN(ts)) return;
    if (text.charCodeAt(sp + 1) === 123 /* { */) captureLines++;
    const si = text.indexOf(STREAM_KEY, sp);
    if (si < 0) {
      if (text.indexOf('"lastUpdateId"', sp) < 0) return;
      const futures = text.indexOf('"E":', sp) >= 0 || text.indexOf('"T":', sp) >= 0;
      const sym = stringField(text, '"symbol":"', sp, span)
        ? text.slice(span.start, span.end).toUpperCase()
        : (opts.symbol ?? lastSymbol);
      if (sym === null) deferred.push({ ts, text, futures });
      else
        scanLevelPairs(
          text,
          sp,
          scanner.observe(exchangeOf(futures ? "futures" : "spot", sym, opts), sym, ts),
          scanner,
        );
      return;
    }
    const ss = si + STREAM_KEY.length;
    const se = text.indexOf('"', ss);
    const at = text.indexOf("@", ss);
    if (se < 0 || at < 0 || at > se) return;
    const kind = text.slice(at + 1, se);
    const isTrade = kind === "trade";
    const isTicker = kind === "bookTicker";
    const isDepth = kind.startsWith("depth");
    const isForce = kind.startsWith("forceOrder");
    if (!isTrade && !isTicker && !isDepth && !isForce && !kind.startsWith("markPrice")) return;
    const di = text.indexOf('"data":', se);
    if (di < 0) return;
    const sym = stringField(text, '"s":"', di, span)
      ? text.slice(span.start, span.end).toUpperCase()
      : text.slice(ss, at).toUpperCase();
    if (isForce) {
      // a liquidation order: prices p/ap, sizes q/z (pass 2 decodes one of each)
      const o = scanner.observe(exchangeOf("futures", sym, opts), sym, ts);
      for (const k of ['"p":"', '"ap":"'])
        if (stringField(text, k, di, span)) scanner.price(o, text, span.start, span.end);
      for (const k of ['"q":"', '"z":"'])
        if (stringField(text, k, di, span)) scanner.amount(o, text, span.start, span.end);
      lastSymbol = sym;
      return;
    }
    lastSymbol = sym;
    const futures = isDepth
      ? text.indexOf('"pu":', di) >= 0
      : isTrade
        ? text.indexOf('"M":', di) < 0
        : isTicker
          ? text.indexOf('"E":', di) >= 0 || text.indexOf('"e":', di) >= 0
          : true;
    const o = scanner.observe(exchangeOf(futures ? "futures" : "spot", sym, opts), sym, ts);
    if (isTrade) {
      if (stringField(text, '"p":"', di, span)) scanner.price(o, text, span.start, span.end);
      if (stringField(text, '"q":"', di, span)) scanner.amount(o, text, span.start, span.end);
    } else if (isTicker) {
      if (stringField(text, '"b":"', di, span)) scanner.price(o, text, span.start, span.end);
      if (stringField(text, '"a":"', di, span)) scanner.price(o, text, span.start, span.end);
      if (stringField(text, '"B":"', di, span)) scanner.amount(o, text, span.start, span.end);
      if (stringField(text, '"A":"', di, span)) scanner.amount(o, text, span.start, span.end);
    } else if (isDepth) {
      scanLevelPairs(text, di, o, scanner);
    }
  });
  if (captureLines === 0) throw notACapture(path, lines, firstNonBlank);
  if (lastSymbol !== null) {
    const sym: string = lastSymbol;
    for (const d of deferred) {
      scanLevelPairs(
        d.text,
        0,
        scanner.observe(exchangeOf(d.futures ? "futures" : "spot", sym, opts), sym, d.ts),
        scanner,
      );
    }
  }
}

const STREAM_KEY = '"stream":"';

/**
 * The error for a file with no line of the capture shape `<epoch timestamp> {json…}`: an empty file, a
 * file of blank lines, or something else (random bytes, another vendor's format). Such a file is not a
 * capture with bad lines but not a capture at all, so it fails instead of committing an empty manifest.
 */
function notACapture(path: string, lines: number, firstNonBlank: number): IngestError {
  if (firstNonBlank === 0) {
    return new IngestError(
      { file: path, line: 1, field: "format" },
      lines === 0
        ? "empty file: expected a Binance capture, one '<local timestamp> <JSON message>' per line"
        : `no data: ${lines} blank lines, expected a Binance capture, one '<local timestamp> <JSON message>' per line`,
    );
  }
  return new IngestError(
    { file: path, line: firstNonBlank, field: "format" },
    `not a Binance capture: none of its ${lines} lines is '<local timestamp (epoch s/ms/µs/ns)> <JSON message>'`,
  );
}

/** Finds `key` (e.g. `"p":"`) from `from` and sets `span` to its string value; false if absent. */
function stringField(text: string, key: string, from: number, span: { start: number; end: number }): boolean {
  const k = text.indexOf(key, from);
  if (k < 0) return false;
  span.start = k + key.length;
  span.end = text.indexOf('"', span.start);
  return span.end > span.start;
}

/** Feeds every `["price", "size"]` pair after `from` to the scanner (depth diffs and snapshots). */
function scanLevelPairs(text: string, from: number, o: SymbolObservation, scanner: DecimalScanner): void {
  let i = text.indexOf('["', from);
  while (i >= 0) {
    const ps = i + 2;
    const pe = text.indexOf('"', ps);
    if (pe < 0) return;
    let q = pe + 1;
    if (text.charCodeAt(q) !== 44 /* , */) {
      i = text.indexOf('["', q);
      continue;
    }
    q++;
    while (text.charCodeAt(q) === 32) q++;
    if (text.charCodeAt(q) !== 34 /* " */) {
      i = text.indexOf('["', q);
      continue;
    }
    const qs = q + 1;
    const qe = text.indexOf('"', qs);
    if (qe < 0) return;
    scanner.price(o, text, ps, pe);
    scanner.amount(o, text, qs, qe);
    i = text.indexOf('["', qe);
  }
}

async function ingest(path: string, fi: FileIngest, opts: AdapterOptions): Promise<void> {
  const dec = new FixedDecoder();
  const pl: ParsedLine = { ts: 0, msg: null, failField: "", failReason: "" };
  const tracks = new Map<string, BookTrack>();
  const cols = new Map<string, SymbolCols>();
  const observed = fi.observations();

  const colsOf = (exchange: string, sym: string): SymbolCols => {
    const key = trackKey(exchange, sym);
    let c = cols.get(key);
    if (c === undefined) {
      c = new SymbolCols(fi.sink(exchange, sym));
      cols.set(key, c);
    }
    return c;
  };
  const trackOf = (exchange: string, sym: string, market: Market): BookTrack => {
    const key = trackKey(exchange, sym);
    let t = tracks.get(key);
    if (t === undefined) {
      t = new BookTrack(fi.sink(exchange, sym), market, fi, dec);
      tracks.set(key, t);
    }
    return t;
  };
  /** Decodes a JSON field that must be a decimal string; NaN after rejecting the line otherwise. */
  const decodeOr = (
    table: "trades" | "quotes" | "liquidations",
    s: unknown,
    inc: Increment,
    field: string,
    line: number,
    raw: string,
  ): number => {
    if (typeof s === "string") return fi.decodeOrReject(dec, table, line, field, s, inc, raw);
    fi.reject(table, line, field, `missing or non-string decimal (${JSON.stringify(s)})`, raw);
    return Number.NaN;
  };

  let lines = 0;
  await readLines(path, (text, line) => {
    lines = line;
    if (line % 50_000 === 0) fi.flush();
    if (text.length === 0) {
      fi.noRow("blank_line");
      return;
    }
    parseLine(text, pl);
    if (pl.msg === null) {
      fi.rejectLine(line, pl.failField, pl.failReason, text);
      return;
    }
    const ts = pl.ts;
    const { kind, stream, data } = classify(pl.msg);
    if (kind === "reply") {
      fi.noRow("subscription_reply");
      return;
    }
    if (kind === "unknown") {
      fi.rejectLine(line, "stream", `unknown stream '${stream}'`, text);
      return;
    }
    const market = marketOf(kind, data);
    if (kind === "snapshot") {
      const s = data as unknown as SnapshotMsg;
      let sym = typeof s.symbol === "string" ? s.symbol.toUpperCase() : opts.symbol;
      if (sym === undefined) {
        const syms = new Set(observed.map((o) => o.symbol));
        if (syms.size === 1) sym = [...syms][0];
      }
      if (sym === undefined) {
        fi.rejectLine(
          line,
          "symbol",
          "depth snapshot names no symbol and the capture holds several symbols",
          text,
        );
        return;
      }
      const tr = trackOf(exchangeOf(market, sym, opts), sym, market);
      if (!fi.checkTime("book_snapshot_25", ts, line, text)) return;
      if (typeof s.lastUpdateId !== "number") {
        fi.reject("book_snapshot_25", line, "lastUpdateId", "snapshot lastUpdateId is not a number", text);
        return;
      }
      const r = tr.loadSnapshot(s, line, text);
      if (r === "synced") tr.emit(ts, typeof s.E === "number" ? s.E * 1000 : Number.NaN, line);
      else if (r === "gap") fi.noRow("snapshot_gap_during_replay");
      // "rejected" was counted by reject()
      return;
    }
    const sym = symbolOf(data, stream);
    const exchange = exchangeOf(market, sym, opts);
    switch (kind) {
      case "trade": {
        const x = data["X"];
        const table = typeof x === "string" && x !== "MARKET" ? "liquidations" : "trades";
        if (!fi.checkTime(table, ts, line, text)) return;
        const c = colsOf(exchange, sym);
        const px = decodeOr(table, data["p"], c.sink.px, "p", line, text);
        if (Number.isNaN(px)) return;
        const qty = decodeOr(table, data["q"], c.sink.qty, "q", line, text);
        if (Number.isNaN(qty)) return;
        const m = data["m"];
        if (typeof m !== "boolean") {
          fi.reject(table, line, "m", "buyer-is-maker flag 'm' is missing or not a boolean", text);
          return;
        }
        const tsExch = num(data["T"]) * 1000;
        const i = c.sink.row(table, ts, tsExch, line);
        const tc = c.trades(table);
        tc.px.data[i] = px;
        tc.qty.data[i] = qty;
        tc.side.data[i] = m ? SIDE_SELL : SIDE_BUY;
        tc.id.data[i] = data["t"] === undefined ? null : String(data["t"]);
        return;
      }
      case "bookTicker": {
        if (!fi.checkTime("quotes", ts, line, text)) return;
        const c = colsOf(exchange, sym);
        const bp = decodeOr("quotes", data["b"], c.sink.px, "b", line, text);
        if (Number.isNaN(bp)) return;
        const bq = decodeOr("quotes", data["B"], c.sink.qty, "B", line, text);
        if (Number.isNaN(bq)) return;
        const ap = decodeOr("quotes", data["a"], c.sink.px, "a", line, text);
        if (Number.isNaN(ap)) return;
        const aq = decodeOr("quotes", data["A"], c.sink.qty, "A", line, text);
        if (Number.isNaN(aq)) return;
        const e = num(data["E"]);
        const i = c.sink.row("quotes", ts, e * 1000, line);
        const q = c.quotes();
        q.u.data[i] = num(data["u"]);
        q.bp.data[i] = bp;
        q.bq.data[i] = bq;
        q.ap.data[i] = ap;
        q.aq.data[i] = aq;
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
            text,
          );
          return;
        }
        if (!fi.checkTime("book_snapshot_25", ts, line, text)) return;
        const tr = trackOf(exchange, sym, market);
        if (!tr.book.synced && !tr.continuationTried && tr.pending.length === 0) {
          tr.tryContinuation(fi.lake, d, ts);
        }
        if (!tr.book.synced) {
          tr.buffer(d, ts, line);
          fi.noRow("depth_awaiting_snapshot");
          return;
        }
        const r = tr.applyDiff(d, ts, line, text);
        if (r === "applied") tr.emit(ts, num(d.E) * 1000, line);
        else if (r === "stale") fi.noRow("depth_older_than_snapshot");
        else if (r === "gap") fi.noRow("depth_sequence_gap");
        // "rejected" was counted by reject()
        return;
      }
      case "forceOrder": {
        const table = "liquidations";
        const o = data["o"];
        if (typeof o !== "object" || o === null) {
          fi.reject(table, line, "o", "forceOrder message has no order object 'o'", text);
          return;
        }
        const ord = o as Record<string, unknown>;
        const sideText = ord["S"];
        if (sideText !== "BUY" && sideText !== "SELL") {
          fi.reject(table, line, "o.S", `side ${JSON.stringify(sideText)} is not BUY or SELL`, text);
          return;
        }
        if (!fi.checkTime(table, ts, line, text)) return;
        const c = colsOf(exchange, sym);
        const nonZero = (v: unknown): boolean => typeof v === "string" && Number(v) !== 0;
        const pxField = nonZero(ord["ap"]) ? "ap" : "p";
        const qtyField = nonZero(ord["z"]) ? "z" : "q";
        const px = decodeOr(table, ord[pxField], c.sink.px, `o.${pxField}`, line, text);
        if (Number.isNaN(px)) return;
        const qty = decodeOr(table, ord[qtyField], c.sink.qty, `o.${qtyField}`, line, text);
        if (Number.isNaN(qty)) return;
        const i = c.sink.row(table, ts, num(ord["T"]) * 1000, line);
        const tc = c.trades(table);
        tc.px.data[i] = px;
        tc.qty.data[i] = qty;
        tc.side.data[i] = sideText === "BUY" ? SIDE_BUY : SIDE_SELL;
        tc.id.data[i] = null;
        return;
      }
      case "markPrice": {
        if (!fi.checkTime("derivative_ticker", ts, line, text)) return;
        const sink = fi.sink(exchange, sym);
        const mark = Number(str(data["p"]) ?? Number.NaN);
        const index = Number(str(data["i"]) ?? Number.NaN);
        const rate = Number(str(data["r"]) ?? Number.NaN);
        if (Number.isNaN(mark)) {
          fi.reject(
            "derivative_ticker",
            line,
            "p",
            `mark price ${JSON.stringify(data["p"])} is not a decimal string`,
            text,
          );
          return;
        }
        const i = sink.row("derivative_ticker", ts, num(data["E"]) * 1000, line);
        const b = sink.buffer("derivative_ticker");
        b.num("mark_px").data[i] = mark;
        b.num("index_px").data[i] = index;
        b.num("last_px").data[i] = Number.NaN;
        b.num("est_settle_px").data[i] = Number(str(data["P"]) ?? Number.NaN);
        b.num("funding_rate").data[i] = rate;
        b.num("predicted_funding_rate").data[i] = Number.NaN;
        const nft = num(data["T"]);
        b.num("next_funding_time_us").data[i] = nft > 0 ? nft * 1000 : Number.NaN;
        b.num("open_interest").data[i] = Number.NaN;
        return;
      }
    }
  });
  fi.report.lines_read = lines;
  // Persist synced books for continuation by the next file of the same capture.
  for (const tr of tracks.values()) {
    if (!tr.book.synced) continue;
    const st = tr.toState(lastBookTs(tr));
    const dir = bookStateDir(fi.lake, tr.sink.exchange, tr.sink.symbol);
    await writeFileAtomic(join(dir, `${st.last_update_id}.json`), JSON.stringify(st));
  }
}

function lastBookTs(tr: BookTrack): number {
  const buf = tr.sink.buffer("book_snapshot_25");
  return buf.length > 0 ? buf.tsLocal.data[buf.length - 1]! : 0;
}

async function firstTimestampUs(path: string): Promise<number> {
  let first = Number.POSITIVE_INFINITY;
  try {
    await readLines(path, (text) => {
      const sp = text.indexOf(" ");
      const t = sp > 0 ? parseEpochToUs(text, 0, sp) : Number.NaN;
      if (Number.isNaN(t)) return false;
      first = t;
      return true; // stop reading
    });
  } catch (e) {
    if (e instanceof IngestError) return first;
    throw e;
  }
  return first;
}

export const binanceCaptureAdapter: SourceAdapter = {
  format: "binance-capture",
  scan,
  ingest,
  firstTimestampUs,
};
