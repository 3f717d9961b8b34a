/**
 * The sample data set of `../shared/data` that the README's main job ingests: every real file that a
 * Pointline adapter reads, grouped by ingest kind (see shared/data/PROVENANCE.md).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { ConfigError } from "../core/errors.js";
import type { IngestKind } from "../ingest/ingest.js";

/** Days of the Lean ES futures minute bars and open interest in ../shared/data (2013-10-06 Sunday open → 10-11). */
export const LEAN_ES_DAYS = ["20131006", "20131007", "20131008", "20131009", "20131010", "20131011"] as const;

export interface SampleGroup {
  readonly kind: IngestKind;
  readonly files: readonly string[];
}

/**
 * The sample files under `dataDir` (../shared/data), per ingest kind, in ingest order.
 * @throws ConfigError naming `--data` and the first missing file (../shared not beside the repository).
 */
export function sampleGroups(dataDir: string): SampleGroup[] {
  const hft = join(dataDir, "hftbacktest", "examples");
  const tardis = join(dataDir, "nautilus_trader", "tests", "test_data", "tardis");
  const groups: SampleGroup[] = [
    {
      kind: "binance-capture",
      files: [
        "usdm/btcusdt_20230404.dat.gz",
        "usdm/btcusdt_20230405.dat.gz",
        "spot/btcusdt_20230405.dat.gz",
        "usdm/btcusdt_20240808.gz",
        "usdm/ethusdt_20240808.gz",
        "cm/btcusd_perp_20240808.gz",
        "cm/ethusd_perp_20240808.gz",
        "spot/btcusdt_20240808.gz",
        "spot/ethusdt_20240808.gz",
      ].map((f) => join(hft, f)),
    },
    {
      kind: "tardis",
      files: [
        "trades.csv",
        "quotes.csv",
        "binance-futures_book_snapshot_25_BTCUSDT.csv",
        "binance-futures_book_snapshot_5_BTCUSDT.csv",
        "bitmex_trades_XBTUSD.csv",
        "huobi-dm-swap_quotes_BTC-USD.csv",
      ].map((f) => join(tardis, f)),
    },
    {
      kind: "binance-vision",
      files: [
        join(dataDir, "nautilus_trader", "tests", "test_kit", "data", "ADABTC-1m-2021-11-27.csv"),
        join(dataDir, "nautilus_trader", "tests", "test_kit", "data", "ADABTC-1m-2021-11-28.csv"),
        join(dataDir, "freqtrade", "tests", "testdata", "futures", "XRP_USDT_USDT-8h-funding_rate.json"),
        join(dataDir, "lean", "cryptofuture", "binance", "margin_interest", "btcusd.csv"),
        join(dataDir, "lean", "cryptofuture", "binance", "margin_interest", "adausdt.csv"),
        join(dataDir, "lean", "cryptofuture", "bybit", "margin_interest", "btcusd.csv"),
        join(dataDir, "lean", "cryptofuture", "bybit", "margin_interest", "btcusdt.csv"),
        // derivatives inputs (issue 13): freqtrade perp/spot candles and mark candles, Lean ES futures
        // minute bars and open interest
        ...[
          "futures/XRP_USDT_USDT-5m-futures.json",
          "futures/XRP_USDT_USDT-1h-futures.json",
          "futures/XRP_USDT_USDT-8h-mark.json",
          "futures/XRP_USDT_USDT-1h-mark.json",
          "XRP_ETH-1m.json",
          "XRP_ETH-5m.json",
        ].map((f) => join(dataDir, "freqtrade", "tests", "testdata", f)),
        ...LEAN_ES_DAYS.flatMap((d) =>
          ["trade", "openinterest"].map((k) =>
            join(dataDir, "lean", "future", "cme", "minute", "es", `${d}_${k}.zip`),
          ),
        ),
      ],
    },
  ];
  for (const g of groups) {
    for (const f of g.files) {
      if (!existsSync(f))
        throw new ConfigError(
          `--data ${dataDir}: sample file missing: ${f} (give the shared data directory, e.g. --data ../shared/data)`,
        );
    }
  }
  return groups;
}
