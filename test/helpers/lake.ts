/**
 * Temporary lakes built from the real captures (ingested in place from ../shared/data) for engine and
 * feature tests, plus a naive event reader for references.
 */
import { join } from "node:path";
import { ingestFiles } from "../../src/ingest/ingest.js";
import { query, type TypedRows } from "../../src/query/query.js";
import { HFT, tempDir } from "./data.js";

/** Real capture files by short name. */
export const CAPTURES = {
  /** binance-futures BTCUSDT 2024-08-08 23:54–24:00: trades, quotes, book_snapshot_25 (no mark price). */
  usdm2024: join(HFT, "usdm", "btcusdt_20240808.gz"),
  /** binance BTCUSDT spot, same window. */
  spot2024: join(HFT, "spot", "btcusdt_20240808.gz"),
  /** binance-futures BTCUSDT 2023-04-04/05 around midnight, with @markPrice (derivative_ticker). */
  usdm2023a: join(HFT, "usdm", "btcusdt_20230404.dat.gz"),
  usdm2023b: join(HFT, "usdm", "btcusdt_20230405.dat.gz"),
} as const;

export type CaptureName = keyof typeof CAPTURES;

/** Ingests the named captures (in order) into a fresh temp lake. */
export async function captureLake(
  names: readonly CaptureName[],
): Promise<{ lake: string; cleanup: () => void }> {
  const { dir, cleanup } = tempDir("pointline-lake-");
  const lake = join(dir, "lake");
  await ingestFiles(
    "binance-capture",
    names.map((n) => CAPTURES[n]),
    { lake },
  );
  return { lake, cleanup };
}

/** The 2024-08-08 window of the usdm/spot captures. */
export const W2024 = { start: "2024-08-08T23:54:00Z", end: "2024-08-09T00:00:00Z" } as const;
/** The 2023-04-04/05 window of the usdm captures (crosses midnight, has derivative_ticker). */
export const W2023 = { start: "2023-04-04T23:58:00Z", end: "2023-04-05T00:07:00Z" } as const;

/** All raw rows of the tables features read, for naive references. */
export async function rawEvents(
  lake: string,
  exchange: string,
  symbol: string,
  start: string | number,
  end: string | number,
): Promise<{ trades: TypedRows; book: TypedRows; ticker: TypedRows; quotes: TypedRows }> {
  const req = { lake, exchange, symbol, start, end };
  return {
    trades: await query.trades(req),
    book: await query.bookSnapshot25(req),
    ticker: await query.derivativeTicker(req),
    quotes: await query.quotes(req),
  };
}
