/**
 * `binance-vision` adapter: vendor bar and funding files that are not raw captures. A thin dispatcher:
 * it recognises which format a file is in and hands it to that format's module (one module per format,
 * each a `FileFormat`, see adapter.ts):
 *
 * 1. `kline` — Binance public-data kline CSV → `ohlcv_bars` (binance-vision/klines.ts; bars are stamped
 *    at their **end**, see the PIT rule there).
 * 2. `freqtrade-funding` — freqtrade funding-rate JSON → `funding_events` (freqtrade/funding.ts).
 * 3. `lean-funding` — QuantConnect Lean crypto-future `margin_interest` CSV → `funding_events`
 *    (lean/margin-interest.ts).
 * 4. `ohlcv-1m` — a generic 1-minute OHLCV CSV (`timestamp,open,high,low,close,volume`) → `ohlcv_bars`
 *    (generic/ohlcv-csv.ts; recognised from its first data line, needs `--exchange` and `--symbol`).
 * 5. `metrics` — Binance public-data futures metrics CSV → `open_interest` + `long_short_ratio`
 *    (binance-vision/metrics.ts).
 * 6. `binance-rest` — Binance futures REST statistics JSON (openInterestHist, long/short and taker ratios)
 *    → `open_interest` / `long_short_ratio` (binance/rest.ts).
 * 7. `freqtrade-candles` — freqtrade candle JSON → `ohlcv_bars` (trade candles) or
 *    `derivative_ticker.mark_px` (mark candles) (freqtrade/candles.ts).
 * 8. `lean` — QuantConnect Lean data zips (equity, future, crypto, cryptofuture; tick trades/quotes,
 *    second/minute trade and quote bars, futures open interest) → `trades`, `quotes`, `ohlcv_bars`,
 *    `quote_bars`, `open_interest` (lean/zip.ts).
 *
 * Recognition, in that order, by file name/path (`FileFormat.fromName`; the first format that claims
 * the name wins). A file whose name fits none is still accepted when `opts.symbol` is given, its name
 * does not end in `.zip`/`.json`, and its first data line (the first line of its first 64 KiB that is
 * neither blank nor a header) is a 12-field kline row (interval = `close_time - open_time + 1 unit` of
 * that row) or a Lean funding row (then `opts.exchange` is required too) (`FileFormat.fromFirstLine`).
 * `opts.exchange` / `opts.symbol` override the exchange and symbol derived from the name. Every format
 * records `binance-vision` as the manifest format. Units, encodings, line numbering and rejections are
 * documented per format module.
 *
 * To add a format: write a module exporting a `FileFormat` and add it to `VISION_FORMATS`.
 *
 * @throws IngestError (file, line 1, field `format`) for a file that matches none of the shapes (the
 *   message lists the accepted ones), plus what the format modules throw (e.g. field `json` for a
 *   funding JSON that does not parse or is not an array).
 */
import { open } from "node:fs/promises";
import { basename } from "node:path";
import { createGunzip } from "node:zlib";
import { IngestError } from "../../core/errors.js";
import type { AdapterOptions, FileFormat, SourceAdapter } from "../adapter.js";
import { binanceRestStats, type RestFile } from "../binance/rest.js";
import { binanceVisionKlines, type KlineFile } from "../binance-vision/klines.js";
import { binanceVisionMetrics, type MetricsFile } from "../binance-vision/metrics.js";
import { type FreqtradeCandleFile, freqtradeCandles } from "../freqtrade/candles.js";
import { type FreqtradeFundingFile, freqtradeFunding } from "../freqtrade/funding.js";
import { genericOhlcv1m, type Ohlcv1mFile } from "../generic/ohlcv-csv.js";
import { type LeanFundingFile, leanMarginInterest } from "../lean/margin-interest.js";
import { type LeanZipFile, leanZip } from "../lean/zip.js";
import type { DecimalScanner, FileIngest } from "../session.js";

export { KLINE_FIELDS } from "../binance-vision/klines.js";
export { LEAN_FUNDING_INTERVAL_US, leanFundingSymbol, parseLeanTimeUs } from "../lean/margin-interest.js";
export { type BarInterval, parseBarInterval } from "./shared.js";

/** What a file was recognised as, with the exchange/symbol its rows go to. */
export type VisionShape =
  | KlineFile
  | FreqtradeFundingFile
  | LeanFundingFile
  | Ohlcv1mFile
  | MetricsFile
  | RestFile
  | FreqtradeCandleFile
  | LeanZipFile;

/** The formats of the `binance-vision` adapter, in recognition order. */
const VISION_FORMATS: readonly FileFormat<VisionShape>[] = [
  binanceVisionKlines,
  freqtradeFunding,
  leanMarginInterest,
  genericOhlcv1m,
  binanceVisionMetrics,
  binanceRestStats,
  freqtradeCandles,
  leanZip,
];

const ACCEPTED_SHAPES =
  `expected one of: ${VISION_FORMATS.map((f, i) => `(${i + 1}) ${f.accepted}`).join(", ")}; ` +
  "other names only with --symbol (and --exchange for funding) " +
  "when the first line is a 12-field kline row or a Lean funding row";

/** True if some format says `line` is its header line. */
function isHeader(line: string): boolean {
  return VISION_FORMATS.some((f) => f.isHeader?.(line) === true);
}

/**
 * First line of the file's first 64 KiB that is neither blank nor a header, or null. Reads only that
 * head (gunzipping what it can of a gzip file), so sniffing a large file costs nothing.
 */
async function firstDataLine(path: string): Promise<string | null> {
  const HEAD = 1 << 16;
  const fh = await open(path, "r");
  let head: Buffer;
  let whole: boolean;
  try {
    const buf = Buffer.alloc(HEAD);
    const { bytesRead } = await fh.read(buf, 0, HEAD, 0);
    head = buf.subarray(0, bytesRead);
    whole = bytesRead < HEAD;
  } finally {
    await fh.close();
  }
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) {
    const gz = head;
    head = await new Promise<Buffer>((done) => {
      const chunks: Buffer[] = [];
      const g = createGunzip();
      g.on("data", (c: Buffer) => chunks.push(c));
      g.on("error", () => done(Buffer.concat(chunks)));
      g.on("end", () => done(Buffer.concat(chunks)));
      g.end(gz);
    });
    whole = false;
  }
  const lines = head.toString("utf8").split(/\r?\n/);
  if (!whole) lines.pop(); // possibly cut in the middle
  for (const l of lines) {
    const t = l.replace(/^\uFEFF/, "").trim();
    if (t !== "" && !isHeader(t)) return t;
  }
  return null;
}

/** A recognised file and the format module that reads it. */
interface Recognised {
  readonly format: FileFormat<VisionShape>;
  readonly file: VisionShape;
}

/**
 * Recognises a file (see the module doc). Reads at most the first data line (content fallback).
 * @throws IngestError (line 1, field `format`) if the file fits none of the shapes.
 */
async function recognise(path: string, opts: AdapterOptions): Promise<Recognised> {
  for (const format of VISION_FORMATS) {
    const file = format.fromName(path, opts);
    if (file !== null) return { format, file };
  }
  // Content fallback: only with an explicit symbol (the name tells us nothing).
  const name = basename(path);
  const symbol = opts.symbol;
  if (symbol !== undefined && !/\.(zip|json)$/i.test(name)) {
    const row = await firstDataLine(path);
    if (row !== null) {
      for (const format of VISION_FORMATS) {
        const file = format.fromFirstLine?.(path, row, { ...opts, symbol }) ?? null;
        if (file !== null) return { format, file };
      }
    }
  }
  throw new IngestError(
    { file: path, line: 1, field: "format" },
    `unrecognised binance-vision input: ${ACCEPTED_SHAPES}`,
  );
}

/**
 * Recognises a file (see the module doc). Reads at most the first data line (content fallback).
 * @throws IngestError (line 1, field `format`) if the file fits none of the shapes.
 */
export async function detectVisionShape(path: string, opts: AdapterOptions = {}): Promise<VisionShape> {
  return (await recognise(path, opts)).file;
}

/**
 * The `binance-vision` source adapter (data.binance.vision klines, freqtrade funding JSON, Lean
 * crypto-future funding CSV): recognises the file, then scans/ingests it with its format module.
 */
export const binanceVisionAdapter: SourceAdapter = {
  format: "binance-vision",

  async scan(path: string, scanner: DecimalScanner, opts: AdapterOptions): Promise<void> {
    const { format, file } = await recognise(path, opts);
    await format.scan(path, file, scanner);
  },

  async ingest(path: string, fi: FileIngest, opts: AdapterOptions): Promise<void> {
    const { format, file } = await recognise(path, opts);
    await format.ingest(path, file, fi);
  },
};
