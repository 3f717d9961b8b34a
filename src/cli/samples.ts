/**
 * The sample data set of `../shared/data` that the README's main job ingests: every real file that a
 * Pointline adapter reads, grouped by ingest kind (see shared/data/PROVENANCE.md).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { ConfigError } from "../core/errors.js";
import type { IngestKind } from "../ingest/ingest.js";

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
