/**
 * Tardis.dev downloadable CSV files (plain or gzip), one data type per file.
 *
 * Source: Tardis docs, "Downloadable CSV files": https://docs.tardis.dev/downloadable-csv-files
 *
 * The header line decides the data type; every data line carries its own `exchange` and `symbol`
 * (the registry entry is resolved per (exchange, symbol) via `fi.sink`). Tardis timestamps are
 * integer µs since the Unix epoch (16 digits): `timestamp` (exchange time, Tardis falls back to
 * `local_timestamp` when the exchange gives none) → `ts_exch_us`, `local_timestamp` (arrival time at
 * Tardis' collector) → `ts_local_us`. Neither is ever rewritten.
 *
 * | Tardis type                        | header (after exchange,symbol,timestamp,local_timestamp)           | table             |
 * |------------------------------------|--------------------------------------------------------------------|-------------------|
 * | trades                             | id,side,price,amount                                               | trades            |
 * | liquidations                       | id,side,price,amount (same header: file name contains              | liquidations      |
 * |                                    | "liquidations", or `opts.table === "liquidations"`)                |                   |
 * | quotes                             | ask_amount,ask_price,bid_price,bid_amount                          | quotes            |
 * | book_snapshot_25 / book_snapshot_5 | asks[k].price,asks[k].amount,bids[k].price,bids[k].amount, k=0..N-1 | book_snapshot_25  |
 * | derivative_ticker                  | funding_timestamp,funding_rate,predicted_funding_rate,             | derivative_ticker |
 * |                                    | open_interest,last_price,index_price,mark_price                    |                   |
 *
 * Any other header (incremental_book_L2, options_chain, …) aborts the file with an IngestError.
 *
 * Units: `px_int` / `*_px_int` count the symbol's `price_increment`, `qty_int` / `*_qty_int` count its
 * `amount_increment` (exact fixed-point decode of the decimal string, no float round trip). Quote
 * sides and book levels that are empty in the file are null (NaN in memory) / absent levels.
 * Derivative-ticker values are float64 (`Number()` of the field; empty → null).
 *
 * Parsing: lines are split on ','. Tardis CSVs are never quoted (no field contains a comma or a
 * quote), so a plain split is correct and much faster than a CSV parser; a line that contains a quote
 * character is rejected rather than mis-split.
 */
import { basename } from "node:path";
import { IngestError } from "../../core/errors.js";
import { FixedDecoder, type Increment } from "../../core/fixed.js";
import { parseEpochToUs } from "../../core/time.js";
import type { I8Column, ListColumn, NumColumn, StrColumn, TableBuffer } from "../../lake/buffer.js";
import { SIDE_BUY, SIDE_SELL, SIDE_UNKNOWN, type TableName } from "../../schema/tables.js";
import type { AdapterOptions, SourceAdapter } from "../adapter.js";
import { readLines } from "../lines.js";
import type { DecimalScanner, FileIngest, SymbolSink } from "../session.js";

/** Tardis data types this adapter reads. */
export type TardisDataType = "trades" | "liquidations" | "quotes" | "book_snapshot" | "derivative_ticker";

const COMMON = ["exchange", "symbol", "timestamp", "local_timestamp"] as const;
const TRADE_COLUMNS = [...COMMON, "id", "side", "price", "amount"] as const;
const QUOTE_COLUMNS = [...COMMON, "ask_amount", "ask_price", "bid_price", "bid_amount"] as const;
const TICKER_COLUMNS = [
  ...COMMON,
  "funding_timestamp",
  "funding_rate",
  "predicted_funding_rate",
  "open_interest",
  "last_price",
  "index_price",
  "mark_price",
] as const;

/** Maximum book levels per side (book_snapshot_25). */
const MAX_LEVELS = 25;
/** Call `fi.flush()` (a no-op until the session's chunk is full) every this many lines. */
const FLUSH_EVERY_LINES = 10_000;

/** The parsed header: data type, target table and column positions. */
export interface TardisLayout {
  readonly type: TardisDataType;
  readonly table: TableName;
  /** The header line as read (a repeated header inside the file is skipped, not rejected). */
  readonly header: string;
  readonly names: readonly string[];
  /** Fields per line. */
  readonly fields: number;
  /** Position of a column by name (−1 if absent). */
  readonly at: (name: string) => number;
  /** Book levels per side in the file (5 or 25 for Tardis snapshots; 0 for other types). */
  readonly levels: number;
  /** Positions of fields decoded as fixed-point prices / sizes (for pass 1). */
  readonly priceFields: readonly number[];
  readonly amountFields: readonly number[];
}

function headerError(path: string, reason: string): IngestError {
  return new IngestError({ file: path, line: 1, field: "header" }, reason);
}

/** Best guess of an unsupported Tardis type from its header, for error messages. */
function guessType(names: ReadonlySet<string>): string {
  if (names.has("is_snapshot")) return "incremental_book_L2";
  if (names.has("strike_price") || names.has("underlying_index")) return "options_chain";
  return "unknown";
}

function sameColumns(names: readonly string[], expected: readonly string[]): boolean {
  if (names.length !== expected.length) return false;
  const set = new Set(names);
  return set.size === names.length && expected.every((n) => set.has(n));
}

/**
 * Identifies a Tardis CSV from its header line.
 * @param path file path (for errors and the trades/liquidations distinction by file name)
 * @throws IngestError at (path, line 1, field "header") for an empty or unsupported header, or when
 *   `opts.table` names a table that this data type cannot be written to.
 */
export function parseTardisHeader(path: string, headerLine: string, opts: AdapterOptions = {}): TardisLayout {
  const header = headerLine.charCodeAt(0) === 0xfeff ? headerLine.slice(1) : headerLine;
  const names = header.split(",");
  const pos = new Map<string, number>();
  names.forEach((n, i) => {
    if (!pos.has(n)) pos.set(n, i);
  });
  const at = (name: string): number => pos.get(name) ?? -1;
  const supported =
    "supported: trades, liquidations, quotes, book_snapshot_25, book_snapshot_5, derivative_ticker";
  const unsupported = (): IngestError =>
    headerError(
      path,
      `unsupported Tardis data type '${guessType(new Set(names))}' (header: ${header.slice(0, 300)}); ${supported}`,
    );
  if (header.trim() === "") throw headerError(path, `empty header line: not a Tardis CSV (${supported})`);
  if (!COMMON.every((c) => pos.has(c))) throw unsupported();

  let type: TardisDataType;
  let levels = 0;
  const priceFields: number[] = [];
  const amountFields: number[] = [];
  if (sameColumns(names, TRADE_COLUMNS)) {
    const byName = basename(path).toLowerCase().includes("liquidations");
    type = opts.table === "liquidations" || (opts.table !== "trades" && byName) ? "liquidations" : "trades";
    priceFields.push(at("price"));
    amountFields.push(at("amount"));
  } else if (sameColumns(names, QUOTE_COLUMNS)) {
    type = "quotes";
    priceFields.push(at("ask_price"), at("bid_price"));
    amountFields.push(at("ask_amount"), at("bid_amount"));
  } else if (sameColumns(names, TICKER_COLUMNS)) {
    type = "derivative_ticker";
  } else if (pos.has("asks[0].price")) {
    while (levels < MAX_LEVELS && pos.has(`asks[${levels}].price`)) levels++;
    const expected: string[] = [...COMMON];
    for (let k = 0; k < levels; k++) {
      expected.push(`asks[${k}].price`, `asks[${k}].amount`, `bids[${k}].price`, `bids[${k}].amount`);
    }
    if (!sameColumns(names, expected)) {
      throw headerError(
        path,
        `malformed Tardis book snapshot header: expected ${expected.length} columns ` +
          `(${levels} levels per side, at most ${MAX_LEVELS}), got ${names.length} (header: ${header.slice(0, 300)})`,
      );
    }
    type = "book_snapshot";
    for (let k = 0; k < levels; k++) {
      priceFields.push(at(`asks[${k}].price`), at(`bids[${k}].price`));
      amountFields.push(at(`asks[${k}].amount`), at(`bids[${k}].amount`));
    }
  } else {
    throw unsupported();
  }
  const table: TableName = type === "book_snapshot" ? "book_snapshot_25" : type;
  const allowed: readonly string[] =
    type === "trades" || type === "liquidations" ? ["trades", "liquidations"] : [table];
  if (opts.table !== undefined && !allowed.includes(opts.table)) {
    throw headerError(
      path,
      `table '${opts.table}' was requested but the header is a Tardis ${type} file (table ${table})`,
    );
  }
  return { type, table, header, names, fields: names.length, at, levels, priceFields, amountFields };
}

/**
 * µs since epoch from a Tardis timestamp field: exactly 16 digits (2001-09-09 … 2286-11-20), no unit
 * guessing (a 13-digit value would be milliseconds, which Tardis never writes). NaN if malformed.
 */
export function parseTardisUs(s: string): number {
  return s.length === 16 ? parseEpochToUs(s) : Number.NaN;
}

function timestampReason(s: string): string {
  return s === ""
    ? "empty timestamp"
    : `'${s.slice(0, 40)}' is not a µs epoch timestamp (Tardis timestamps are 16-digit integers)`;
}

/** float64 of a non-empty numeric field, NaN for an empty one, undefined if not a finite number. */
function parseFloatField(s: string): number | undefined {
  if (s === "") return Number.NaN;
  const v = Number(s);
  return Number.isFinite(v) ? v : undefined;
}

function sideOf(s: string): number {
  return s === "buy" ? SIDE_BUY : s === "sell" ? SIDE_SELL : SIDE_UNKNOWN;
}

/**
 * Per-file cache of the current symbol's sink and its column references, so that rows look up
 * neither the sink nor columns by name (files are nearly always one symbol).
 */
class SinkCache<C> {
  sink: SymbolSink | null = null;
  cols: C | null = null;
  private ex = "";
  private sym = "";
  private readonly bySink = new Map<SymbolSink, C>();
  constructor(
    private readonly fi: FileIngest,
    private readonly table: TableName,
    private readonly make: (buf: TableBuffer) => C,
  ) {}
  select(ex: string, sym: string): void {
    if (this.sink !== null && ex === this.ex && sym === this.sym) return;
    const sink = this.fi.sink(ex, sym);
    let cols = this.bySink.get(sink);
    if (cols === undefined) {
      cols = this.make(sink.buffer(this.table));
      this.bySink.set(sink, cols);
    }
    this.sink = sink;
    this.cols = cols;
    this.ex = ex;
    this.sym = sym;
  }
}

/** Handles one split data line whose common fields were validated. */
type RowHandler = (
  f: readonly string[],
  ex: string,
  sym: string,
  tsLocal: number,
  tsExch: number,
  line: number,
  raw: string,
) => void;

interface TradeCols {
  readonly id: StrColumn;
  readonly side: I8Column;
  readonly px: NumColumn;
  readonly qty: NumColumn;
}
interface QuoteCols {
  readonly update: NumColumn;
  readonly bidPx: NumColumn;
  readonly bidQty: NumColumn;
  readonly askPx: NumColumn;
  readonly askQty: NumColumn;
}
interface BookCols {
  readonly update: NumColumn;
  readonly bidPx: ListColumn;
  readonly bidQty: ListColumn;
  readonly askPx: ListColumn;
  readonly askQty: ListColumn;
}
interface TickerCols {
  readonly mark: NumColumn;
  readonly index: NumColumn;
  readonly last: NumColumn;
  readonly settle: NumColumn;
  readonly funding: NumColumn;
  readonly predicted: NumColumn;
  readonly nextFunding: NumColumn;
  readonly oi: NumColumn;
}

function tradeHandler(layout: TardisLayout, fi: FileIngest, dec: FixedDecoder): RowHandler {
  const table = layout.table;
  const idIdx = layout.at("id");
  const sideIdx = layout.at("side");
  const pxIdx = layout.at("price");
  const qtyIdx = layout.at("amount");
  const idCol = table === "liquidations" ? "liquidation_id" : "trade_id";
  const cache = new SinkCache<TradeCols>(fi, table, (b) => ({
    id: b.str(idCol),
    side: b.i8("side"),
    px: b.num("px_int"),
    qty: b.num("qty_int"),
  }));
  return (f, ex, sym, tsLocal, tsExch, line, raw) => {
    cache.select(ex, sym);
    const sink = cache.sink!;
    const px = fi.decodeOrReject(dec, table, line, "price", f[pxIdx]!, sink.px, raw);
    if (Number.isNaN(px)) return;
    const qty = fi.decodeOrReject(dec, table, line, "amount", f[qtyIdx]!, sink.qty, raw);
    if (Number.isNaN(qty)) return;
    if (!fi.checkTime(table, tsLocal, line, raw)) return;
    const i = sink.row(table, tsLocal, tsExch, line);
    const c = cache.cols!;
    const id = f[idIdx]!;
    c.id.data[i] = id === "" ? null : id;
    c.side.data[i] = sideOf(f[sideIdx]!);
    c.px.data[i] = px;
    c.qty.data[i] = qty;
  };
}

function quoteHandler(layout: TardisLayout, fi: FileIngest, dec: FixedDecoder): RowHandler {
  const table = layout.table;
  const idx = [
    layout.at("bid_price"),
    layout.at("bid_amount"),
    layout.at("ask_price"),
    layout.at("ask_amount"),
  ];
  const fieldNames = ["bid_price", "bid_amount", "ask_price", "ask_amount"];
  const vals = new Float64Array(4);
  const cache = new SinkCache<QuoteCols>(fi, table, (b) => ({
    update: b.num("update_id"),
    bidPx: b.num("bid_px_int"),
    bidQty: b.num("bid_qty_int"),
    askPx: b.num("ask_px_int"),
    askQty: b.num("ask_qty_int"),
  }));
  return (f, ex, sym, tsLocal, tsExch, line, raw) => {
    cache.select(ex, sym);
    const sink = cache.sink!;
    for (let k = 0; k < 4; k++) {
      const s = f[idx[k]!]!;
      if (s === "") {
        vals[k] = Number.NaN; // side absent in the source: null
        continue;
      }
      const inc: Increment = (k & 1) === 0 ? sink.px : sink.qty;
      const v = fi.decodeOrReject(dec, table, line, fieldNames[k]!, s, inc, raw);
      if (Number.isNaN(v)) return;
      vals[k] = v;
    }
    if (!fi.checkTime(table, tsLocal, line, raw)) return;
    const i = sink.row(table, tsLocal, tsExch, line);
    const c = cache.cols!;
    c.update.data[i] = Number.NaN;
    c.bidPx.data[i] = vals[0]!;
    c.bidQty.data[i] = vals[1]!;
    c.askPx.data[i] = vals[2]!;
    c.askQty.data[i] = vals[3]!;
  };
}

function bookHandler(layout: TardisLayout, fi: FileIngest, dec: FixedDecoder): RowHandler {
  const table = layout.table;
  const n = layout.levels;
  // Field positions per level: [askPx, askQty, bidPx, bidQty] × n.
  const idx = new Int32Array(4 * n);
  const names: string[] = [];
  for (let k = 0; k < n; k++) {
    const cols = [`asks[${k}].price`, `asks[${k}].amount`, `bids[${k}].price`, `bids[${k}].amount`];
    for (let j = 0; j < 4; j++) {
      idx[4 * k + j] = layout.at(cols[j]!);
      names.push(cols[j]!);
    }
  }
  // Decoded levels, same layout as idx; count of levels per side.
  const vals = new Float64Array(4 * n);
  const cache = new SinkCache<BookCols>(fi, table, (b) => ({
    update: b.num("update_id"),
    bidPx: b.list("bid_px_int"),
    bidQty: b.list("bid_qty_int"),
    askPx: b.list("ask_px_int"),
    askQty: b.list("ask_qty_int"),
  }));
  /** Decodes one side (offset 0 = asks, 2 = bids); returns its level count, or −1 after a reject. */
  const side = (f: readonly string[], sink: SymbolSink, off: number, line: number, raw: string): number => {
    for (let k = 0; k < n; k++) {
      const pj = 4 * k + off;
      const pxStr = f[idx[pj]!]!;
      const qtyStr = f[idx[pj + 1]!]!;
      if (pxStr === "" && qtyStr === "") return k; // the book is shallower than the header: stop here
      if (pxStr === "" || qtyStr === "") {
        const field = pxStr === "" ? names[pj]! : names[pj + 1]!;
        fi.reject(
          table,
          line,
          field,
          `level ${k} has a ${pxStr === "" ? "size" : "price"} but no ${pxStr === "" ? "price" : "size"}`,
          raw,
        );
        return -1;
      }
      const px = fi.decodeOrReject(dec, table, line, names[pj]!, pxStr, sink.px, raw);
      if (Number.isNaN(px)) return -1;
      const qty = fi.decodeOrReject(dec, table, line, names[pj + 1]!, qtyStr, sink.qty, raw);
      if (Number.isNaN(qty)) return -1;
      vals[pj] = px;
      vals[pj + 1] = qty;
    }
    return n;
  };
  return (f, ex, sym, tsLocal, tsExch, line, raw) => {
    cache.select(ex, sym);
    const sink = cache.sink!;
    const nAsk = side(f, sink, 0, line, raw);
    if (nAsk < 0) return;
    const nBid = side(f, sink, 2, line, raw);
    if (nBid < 0) return;
    if (!fi.checkTime(table, tsLocal, line, raw)) return;
    const i = sink.row(table, tsLocal, tsExch, line);
    const c = cache.cols!;
    c.update.data[i] = Number.NaN;
    const w = c.askPx.width;
    const base = i * w;
    const askPx = c.askPx.values;
    const askQty = c.askQty.values;
    const bidPx = c.bidPx.values;
    const bidQty = c.bidQty.values;
    for (let k = 0; k < nAsk; k++) {
      askPx[base + k] = vals[4 * k]!;
      askQty[base + k] = vals[4 * k + 1]!;
    }
    for (let k = 0; k < nBid; k++) {
      bidPx[base + k] = vals[4 * k + 2]!;
      bidQty[base + k] = vals[4 * k + 3]!;
    }
    c.askPx.lens[i] = nAsk;
    c.askQty.lens[i] = nAsk;
    c.bidPx.lens[i] = nBid;
    c.bidQty.lens[i] = nBid;
  };
}

function tickerHandler(layout: TardisLayout, fi: FileIngest): RowHandler {
  const table = layout.table;
  const fundTsIdx = layout.at("funding_timestamp");
  // Float fields in the order of `vals`.
  const floatNames = [
    "funding_rate",
    "predicted_funding_rate",
    "open_interest",
    "last_price",
    "index_price",
    "mark_price",
  ];
  const floatIdx = floatNames.map((n) => layout.at(n));
  const vals = new Float64Array(floatNames.length);
  const cache = new SinkCache<TickerCols>(fi, table, (b) => ({
    mark: b.num("mark_px"),
    index: b.num("index_px"),
    last: b.num("last_px"),
    settle: b.num("est_settle_px"),
    funding: b.num("funding_rate"),
    predicted: b.num("predicted_funding_rate"),
    nextFunding: b.num("next_funding_time_us"),
    oi: b.num("open_interest"),
  }));
  return (f, ex, sym, tsLocal, tsExch, line, raw) => {
    for (let k = 0; k < floatIdx.length; k++) {
      const s = f[floatIdx[k]!]!;
      const v = parseFloatField(s);
      if (v === undefined)
        return fi.reject(table, line, floatNames[k]!, `'${s.slice(0, 40)}' is not a number`, raw);
      vals[k] = v;
    }
    const fundStr = f[fundTsIdx]!;
    const nextFunding = fundStr === "" ? Number.NaN : parseTardisUs(fundStr);
    if (fundStr !== "" && Number.isNaN(nextFunding)) {
      return fi.reject(table, line, "funding_timestamp", timestampReason(fundStr), raw);
    }
    cache.select(ex, sym);
    if (!fi.checkTime(table, tsLocal, line, raw)) return;
    const i = cache.sink!.row(table, tsLocal, tsExch, line);
    const c = cache.cols!;
    c.funding.data[i] = vals[0]!;
    c.predicted.data[i] = vals[1]!;
    c.oi.data[i] = vals[2]!;
    c.last.data[i] = vals[3]!;
    c.index.data[i] = vals[4]!;
    c.mark.data[i] = vals[5]!;
    c.settle.data[i] = Number.NaN; // Tardis has no estimated settle price
    c.nextFunding.data[i] = nextFunding;
  };
}

function handlerFor(layout: TardisLayout, fi: FileIngest): RowHandler {
  const dec = new FixedDecoder(); // one decoder per file
  switch (layout.type) {
    case "trades":
    case "liquidations":
      return tradeHandler(layout, fi, dec);
    case "quotes":
      return quoteHandler(layout, fi, dec);
    case "book_snapshot":
      return bookHandler(layout, fi, dec);
    case "derivative_ticker":
      return tickerHandler(layout, fi);
  }
}

function emptyFileError(path: string): IngestError {
  return headerError(path, "empty file: expected a Tardis CSV header line");
}

/**
 * The Tardis CSV adapter (format "tardis").
 *
 * Per data line exactly one of: a row in the header's table; a rejected row (quarantined with
 * file, line, field and reason) for a quote character, a wrong number of fields, an empty
 * exchange/symbol, a malformed timestamp (not 16 digits), a price/size that is not a non-negative
 * decimal representable at the symbol's increment, a non-numeric derivative-ticker value, a
 * half-empty book level, or a local timestamp that goes backwards; or no row (empty line, repeated
 * header line).
 *
 * @throws IngestError (file, line 1, field "header") for an empty file or an unsupported header;
 *   IngestError from `readLines` for a truncated/corrupt gzip stream.
 */
export const tardisAdapter: SourceAdapter = {
  format: "tardis",

  async scan(path: string, scanner: DecimalScanner, opts: AdapterOptions): Promise<void> {
    let layout: TardisLayout | null = null;
    let iEx = 0;
    let iSym = 0;
    let iLocal = 0;
    const { lines } = await readLines(path, (text, line) => {
      if (line === 1) {
        layout = parseTardisHeader(path, text, opts);
        iEx = layout.at("exchange");
        iSym = layout.at("symbol");
        iLocal = layout.at("local_timestamp");
        return;
      }
      const l = layout!;
      // Malformed lines are skipped here; pass 2 rejects them.
      if (text.length === 0 || text === l.header || text.indexOf('"') !== -1) return;
      const f = text.split(",");
      if (f.length !== l.fields) return;
      const ex = f[iEx]!;
      const sym = f[iSym]!;
      const ts = parseTardisUs(f[iLocal]!);
      if (ex === "" || sym === "" || Number.isNaN(ts)) return;
      const o = scanner.observe(ex, sym, ts);
      for (const j of l.priceFields) scanner.price(o, f[j]);
      for (const j of l.amountFields) scanner.amount(o, f[j]);
    });
    if (lines === 0) throw emptyFileError(path);
  },

  async ingest(path: string, fi: FileIngest, opts: AdapterOptions): Promise<void> {
    let layout: TardisLayout | null = null;
    let handle: RowHandler | null = null;
    let table: TableName = "trades";
    let iEx = 0;
    let iSym = 0;
    let iTs = 0;
    let iLocal = 0;
    const { lines } = await readLines(path, (text, line) => {
      if (line === 1) {
        layout = parseTardisHeader(path, text, opts);
        handle = handlerFor(layout, fi);
        table = layout.table;
        iEx = layout.at("exchange");
        iSym = layout.at("symbol");
        iTs = layout.at("timestamp");
        iLocal = layout.at("local_timestamp");
        fi.noRow("header");
        return;
      }
      if (line % FLUSH_EVERY_LINES === 0) fi.flush();
      const l = layout!;
      if (text.length === 0) return fi.noRow("empty_line");
      if (text === l.header) return fi.noRow("header"); // files concatenated with their headers
      const quoteAt = text.indexOf('"');
      if (quoteAt !== -1) {
        return fi.reject(
          table,
          line,
          "line",
          `quote character at position ${quoteAt + 1}: Tardis CSVs are never quoted, so this line cannot be split on ','`,
          text,
        );
      }
      // Plain split: Tardis CSVs are unquoted (see the module doc), so this is exact and fast.
      const f = text.split(",");
      if (f.length !== l.fields) {
        return fi.reject(
          table,
          line,
          "line",
          `expected ${l.fields} comma-separated fields (header), got ${f.length}`,
          text,
        );
      }
      const ex = f[iEx]!;
      if (ex === "") return fi.reject(table, line, "exchange", "empty exchange", text);
      const sym = f[iSym]!;
      if (sym === "") return fi.reject(table, line, "symbol", "empty symbol", text);
      const localStr = f[iLocal]!;
      const tsLocal = parseTardisUs(localStr);
      if (Number.isNaN(tsLocal)) {
        return fi.reject(table, line, "local_timestamp", timestampReason(localStr), text);
      }
      const exchStr = f[iTs]!;
      const tsExch = exchStr === "" ? Number.NaN : parseTardisUs(exchStr);
      if (exchStr !== "" && Number.isNaN(tsExch)) {
        return fi.reject(table, line, "timestamp", timestampReason(exchStr), text);
      }
      handle!(f, ex, sym, tsLocal, tsExch, line, text);
    });
    if (lines === 0) throw emptyFileError(path);
    fi.report.lines_read = lines;
  },
};
