/**
 * Raw Binance WebSocket captures → trades, quotes, book_snapshot_25, derivative_ticker, liquidations.
 *
 * Input: text (plain or gzip), one message per line: `<local receive timestamp> <JSON>`. The local
 * timestamp is µs (2023 hftbacktest `.dat.gz`) or ns (2024 files, and the live client's recordings); the
 * unit is detected per line from its digit count and ns are floored to µs (see `parseEpochToUs`). The
 * JSON is Binance's combined-stream envelope `{"stream": "<sym>@<kind>", "data": {...}}`, or a REST depth
 * snapshot (no `stream` key: `lastUpdateId, bids, asks`, futures add `E, T`).
 *
 * Pass 2 hands every line to the one Binance message decoder (ingest/binance/decoder.ts: mapping to
 * tables, decimals, order-book sequence rules), which the live WebSocket client (live/binance-ws.ts) uses
 * too, so a recorded live session ingests to exactly the events the live runner was fed. This module
 * adds what is specific to files: pass 1 (increment inference), the rows going into the ingest session's
 * buffers, and book continuation across files: at the end of a file the synced book is saved in the
 * lake; a later file of the same symbol whose first diff continues that update id resumes from it
 * (PIT-safe: the state only contains events that arrived earlier).
 *
 * Sources: Binance USDⓈ-M / COIN-M / Spot WebSocket docs, "How to manage a local order book correctly";
 * capture format of hftbacktest (nkaz001/hftbacktest, examples/).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { IngestError } from "../../core/errors.js";
import type { FixedDecoder, Increment } from "../../core/fixed.js";
import { parseEpochToUs } from "../../core/time.js";
import type { I8Column, ListColumn, NumColumn, StrColumn } from "../../lake/buffer.js";
import { bookStateDir, writeFileAtomic } from "../../lake/layout.js";
import { BOOK_DEPTH, type TableName } from "../../schema/tables.js";
import type { AdapterOptions, SourceAdapter } from "../adapter.js";
import { readLines } from "../lines.js";
import type { DecimalScanner, FileIngest, SymbolObservation, SymbolSink } from "../session.js";
import {
  BinanceDecoder,
  type BookTrack,
  type DecodeTarget,
  type DepthMsg,
  exchangeOf as exchangeOfMarket,
  type Market,
  type SavedBook,
  type TickerValues,
} from "./decoder.js";
import type { OrderBook } from "./orderbook.js";

function exchangeOf(market: Market, symbol: string, opts: AdapterOptions): string {
  return exchangeOfMarket(market, symbol, opts.exchange);
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

interface TradeCols {
  readonly px: NumColumn;
  readonly qty: NumColumn;
  readonly side: I8Column;
  readonly id: StrColumn;
}

interface BookCols {
  readonly bidPx: ListColumn;
  readonly bidQty: ListColumn;
  readonly askPx: ListColumn;
  readonly askQty: ListColumn;
  readonly updateId: NumColumn;
}

/** One symbol of a capture file: its ingest sink and column references, looked up once. */
class SymbolCols {
  private q?: { u: NumColumn; bp: NumColumn; bq: NumColumn; ap: NumColumn; aq: NumColumn };
  private b?: BookCols;
  private readonly t = new Map<"trades" | "liquidations", TradeCols>();
  constructor(readonly sink: SymbolSink) {}
  get exchange(): string {
    return this.sink.exchange;
  }
  get symbol(): string {
    return this.sink.symbol;
  }
  get px(): Increment {
    return this.sink.px;
  }
  get qty(): Increment {
    return this.sink.qty;
  }
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
  book(): BookCols {
    if (this.b === undefined) {
      const buf = this.sink.buffer("book_snapshot_25");
      this.b = {
        bidPx: buf.list("bid_px_int"),
        bidQty: buf.list("bid_qty_int"),
        askPx: buf.list("ask_px_int"),
        askQty: buf.list("ask_qty_int"),
        updateId: buf.num("update_id"),
      };
    }
    return this.b;
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

/** The decoder's target in an ingest: rows into the session's buffers, rejections into its quarantine. */
class CaptureTarget implements DecodeTarget<SymbolCols> {
  private readonly cols = new Map<string, SymbolCols>();
  constructor(
    private readonly fi: FileIngest,
    private readonly opts: AdapterOptions,
  ) {}
  instrument(exchange: string, symbol: string): SymbolCols {
    const key = `${exchange}\u0000${symbol}`;
    let c = this.cols.get(key);
    if (c === undefined) {
      c = new SymbolCols(this.fi.sink(exchange, symbol));
      this.cols.set(key, c);
    }
    return c;
  }
  noRow(reason: string): void {
    this.fi.noRow(reason);
  }
  reject(table: TableName, line: number, field: string, reason: string, raw: string): void {
    this.fi.reject(table, line, field, reason, raw);
  }
  rejectLine(line: number, field: string, reason: string, raw: string): void {
    this.fi.rejectLine(line, field, reason, raw);
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
    return this.fi.decodeOrReject(dec, table, line, field, s, inc, raw);
  }
  checkTime(table: TableName, ts: number, line: number, raw: string): boolean {
    return this.fi.checkTime(table, ts, line, raw);
  }
  sequenceGap(inst: SymbolCols, line: number, ts: number, expected: string, got: string): void {
    this.fi.report.sequence_gaps.push({
      exchange: inst.exchange,
      symbol: inst.symbol,
      line,
      ts_local_us: ts,
      expected,
      got,
    });
  }
  trade(
    c: SymbolCols,
    table: "trades" | "liquidations",
    ts: number,
    tsExch: number,
    line: number,
    px: number,
    qty: number,
    side: number,
    id: string | null,
  ): void {
    const i = c.sink.row(table, ts, tsExch, line);
    const tc = c.trades(table);
    tc.px.data[i] = px;
    tc.qty.data[i] = qty;
    tc.side.data[i] = side;
    tc.id.data[i] = id;
  }
  quote(
    c: SymbolCols,
    ts: number,
    tsExch: number,
    line: number,
    u: number,
    bp: number,
    bq: number,
    ap: number,
    aq: number,
  ): void {
    const i = c.sink.row("quotes", ts, tsExch, line);
    const q = c.quotes();
    q.u.data[i] = u;
    q.bp.data[i] = bp;
    q.bq.data[i] = bq;
    q.ap.data[i] = ap;
    q.aq.data[i] = aq;
  }
  book(c: SymbolCols, ts: number, tsExch: number, line: number, book: OrderBook): void {
    const b = c.book();
    const i = c.sink.row("book_snapshot_25", ts, tsExch, line);
    const off = i * BOOK_DEPTH;
    b.bidPx.lens[i] = book.bids.copyTop(BOOK_DEPTH, b.bidPx.values, b.bidQty.values, off);
    b.bidQty.lens[i] = b.bidPx.lens[i]!;
    b.askPx.lens[i] = book.asks.copyTop(BOOK_DEPTH, b.askPx.values, b.askQty.values, off);
    b.askQty.lens[i] = b.askPx.lens[i]!;
    b.updateId.data[i] = book.lastUpdateId;
  }
  ticker(c: SymbolCols, ts: number, tsExch: number, line: number, t: TickerValues): void {
    const sink = c.sink;
    const i = sink.row("derivative_ticker", ts, tsExch, line);
    const b = sink.buffer("derivative_ticker");
    b.num("mark_px").data[i] = t.markPx;
    b.num("index_px").data[i] = t.indexPx;
    b.num("last_px").data[i] = Number.NaN;
    b.num("est_settle_px").data[i] = t.estSettlePx;
    b.num("funding_rate").data[i] = t.fundingRate;
    b.num("predicted_funding_rate").data[i] = Number.NaN;
    b.num("next_funding_time_us").data[i] = t.nextFundingTimeUs;
    b.num("open_interest").data[i] = Number.NaN;
  }
  snapshotSymbol(): string | undefined {
    if (this.opts.symbol !== undefined) return this.opts.symbol;
    const syms = new Set(this.fi.observations().map((o) => o.symbol));
    return syms.size === 1 ? [...syms][0] : undefined;
  }
  /** A saved book in the lake that diff `d` continues (same increments, saved before `ts`), or null. */
  continuation(c: SymbolCols, market: Market, d: DepthMsg, ts: number): SavedBook | null {
    const prevU = market === "futures" ? d.pu : d.U - 1;
    if (prevU === undefined || !Number.isFinite(prevU)) return null;
    let st: BookState;
    try {
      st = JSON.parse(
        readFileSync(join(bookStateDir(this.fi.lake, c.exchange, c.symbol), `${prevU}.json`), "utf8"),
      );
    } catch {
      return null;
    }
    if (st.price_increment !== c.px.text || st.amount_increment !== c.qty.text || st.ts_local_us > ts)
      return null;
    return { lastUpdateId: st.last_update_id, bids: st.bids, asks: st.asks };
  }
}

function toState(tr: BookTrack<SymbolCols>): BookState {
  return {
    exchange: tr.inst.exchange,
    symbol: tr.inst.symbol,
    last_update_id: tr.book.lastUpdateId,
    ts_local_us: tr.lastEmitTs,
    price_increment: tr.inst.px.text,
    amount_increment: tr.inst.qty.text,
    bids: tr.book.bids.toPairs(),
    asks: tr.book.asks.toPairs(),
  };
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
  const decoder = new BinanceDecoder(
    new CaptureTarget(fi, opts),
    opts.exchange !== undefined ? { exchange: opts.exchange } : {},
  );
  let lines = 0;
  await readLines(path, (text, line) => {
    lines = line;
    if (line % 50_000 === 0) fi.flush();
    decoder.line(text, line);
  });
  fi.report.lines_read = lines;
  // Persist synced books for continuation by the next file of the same capture.
  for (const tr of decoder.books()) {
    if (!tr.book.synced) continue;
    const st = toState(tr);
    const dir = bookStateDir(fi.lake, st.exchange, st.symbol);
    await writeFileAtomic(join(dir, `${st.last_update_id}.json`), JSON.stringify(st));
  }
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
