/**
 * Tiny generated lakes for scale-out tests and `bench/scale`: seeded random trades for several
 * binance-futures symbols over whole UTC days, written as one Tardis trades CSV per symbol per day and
 * ingested through the real adapter (`ingestFiles("tardis", …)`), so the lake is what a user's ingest
 * would produce. Deterministic in (symbols, days, tradesPerDay, seed).
 */
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ingestFiles } from "../../src/ingest/ingest.js";

/** First generated UTC day (midnight, µs). */
export const GEN_START_US = Date.UTC(2024, 0, 1) * 1000;
export const US_PER_DAY_GEN = 86_400_000_000;

export interface GenLakeOptions {
  /** Exchange symbols, e.g. ["S01USDT", "S02USDT"] (binance-futures). */
  readonly symbols: readonly string[];
  readonly days: number;
  /** Trades per symbol per day. */
  readonly tradesPerDay: number;
  readonly seed?: number;
}

/** splitmix32: a small deterministic uniform generator in [0, 1). */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return ((z ^ (z >>> 16)) >>> 0) / 4294967296;
  };
}

/** Path of the generated CSV of one symbol and day under `dir`. */
export function genCsvPath(dir: string, symbol: string, day: number): string {
  return join(dir, `binance-futures_trades_${symbol}_d${day}.csv`);
}

/** Writes the CSVs (one per symbol × day) into `dir`; returns their paths in (symbol, day) order. */
export function writeGenCsvs(dir: string, o: GenLakeOptions): string[] {
  mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  o.symbols.forEach((symbol, k) => {
    const r = rng((o.seed ?? 7) * 1000 + k);
    let px = 100 * (k + 1) * 100; // cents
    let id = 1;
    for (let d = 0; d < o.days; d++) {
      const lines = ["exchange,symbol,timestamp,local_timestamp,id,side,price,amount"];
      const day0 = GEN_START_US + d * US_PER_DAY_GEN;
      const step = US_PER_DAY_GEN / o.tradesPerDay;
      for (let i = 0; i < o.tradesPerDay; i++) {
        const tLocal = Math.floor(day0 + i * step + r() * step * 0.9);
        const tExch = tLocal - 1000 - Math.floor(r() * 3000);
        px = Math.max(100, px + Math.round((r() - 0.5) * 20));
        const qty = 1 + Math.floor(r() * 2000); // thousandths
        const side = r() < 0.5 ? "buy" : "sell";
        lines.push(
          `binance-futures,${symbol},${tExch},${tLocal},${id++},${side},${(px / 100).toFixed(2)},${(qty / 1000).toFixed(3)}`,
        );
      }
      const f = genCsvPath(dir, symbol, d);
      writeFileSync(f, `${lines.join("\n")}\n`);
      files.push(f);
    }
  });
  return files;
}

/** Generates the CSVs under `dir/csv` and ingests them into `dir/lake`; returns the lake path. */
export async function generateLake(dir: string, o: GenLakeOptions): Promise<string> {
  const files = writeGenCsvs(join(dir, "csv"), o);
  const lake = join(dir, "lake");
  await ingestFiles("tardis", files, { lake });
  return lake;
}

/**
 * FeatureRunConfig flags for a trades-only lake: the families that read books, quotes or the ticker off
 * (`of`, `flow`, `tb` stay on; add a spine).
 */
export const TRADES_ONLY_FAMILIES = {
  includeMicrostructure: false,
  includeFunding: false,
  includeBookShape: false,
  includeExecutionCost: false,
  includeSpreadDynamics: false,
  includeLiquidityShock: false,
  includeBasisMomentum: false,
  includeRegime: false,
} as const;

/**
 * Overwrites the first trades Parquet part of (symbol, date) in a generated lake with `junk` (a corrupt
 * input for failure tests); returns the part's file name.
 */
export function corruptTradesPart(lake: string, symbol: string, date: string, junk = "not parquet"): string {
  const dir = join(lake, "trades", "exchange=binance-futures", `symbol=${symbol}`, `date=${date}`);
  const part = readdirSync(dir).find((f) => f.endsWith(".parquet"));
  if (part === undefined) throw new Error(`no trades part in ${dir}`);
  writeFileSync(join(dir, part), junk);
  return part;
}
