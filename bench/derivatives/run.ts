/**
 * `npm run bench:derivatives`: the derivatives preset on one year of generated 5 m bars (105,120 bars,
 * seeded random walk) with open interest and long/short ratios every 5 min, 8 h funding and ~10 liquidations
 * a day, ingested through the real adapters (freqtrade candle / funding JSON, metrics CSV, @forceOrder
 * capture lines), then built on a `bars:5m` spine. Beside it, a nodejs-polars implementation of the
 * preset's row-window features (returns, log returns, SMAs, sample/population stds, EMAs as ewm, Bollinger,
 * ROC, volume and open-interest rolling features, as-of open interest and funding): rows/s and peak RSS of
 * each, each in its own child process (same data, same run of this script).
 *
 * `BENCH_DERIV_DIR=<dir>` keeps the generated lake in <dir> (reused when present) for profiling:
 * `node --cpu-prof --import tsx bench/derivatives/run.ts engine <dir>/lake`.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import pl from "nodejs-polars";

const BAR_MS = 300_000;
const BARS = 365 * 288;
const START_MS = Date.UTC(2023, 0, 1);
const here = fileURLToPath(import.meta.url);

/** Mulberry32: a seeded PRNG. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function generate(dir: string): string[] {
  const r = rng(42);
  const candles: number[][] = [];
  let px = 30_000;
  let oi = 80_000;
  const metrics = [
    "create_time,symbol,sum_open_interest,sum_open_interest_value,count_toptrader_long_short_ratio,sum_toptrader_long_short_ratio,count_long_short_ratio,sum_taker_long_short_vol_ratio",
  ];
  const liq: string[] = [];
  for (let i = 0; i < BARS; i++) {
    const t = START_MS + i * BAR_MS;
    const o = px;
    const c = Math.max(1000, Math.round(px * (1 + (r() - 0.5) * 0.004) * 10) / 10);
    const h = Math.round(Math.max(o, c) * (1 + r() * 0.001) * 10) / 10;
    const l = Math.round(Math.min(o, c) * (1 - r() * 0.001) * 10) / 10;
    candles.push([t, o, h, l, c, Math.round(r() * 500_000) / 1000]);
    px = c;
    oi = Math.max(1000, oi + (r() - 0.5) * 200);
    const d = new Date(t + BAR_MS).toISOString().replace("T", " ").slice(0, 19);
    metrics.push(
      `${d},BTCUSDT,${oi.toFixed(3)},${(oi * c).toFixed(2)},${(1 + r()).toFixed(4)},${(1 + r()).toFixed(4)},${(1 + r()).toFixed(4)},${(0.5 + r()).toFixed(4)}`,
    );
    if (r() < 10 / 288) {
      const ts = t + Math.floor(r() * BAR_MS);
      const side = r() < 0.5 ? "BUY" : "SELL";
      liq.push(
        `${ts * 1000} ${JSON.stringify({ stream: "btcusdt@forceOrder", data: { e: "forceOrder", E: ts, o: { s: "BTCUSDT", S: side, q: "0.5", p: c.toFixed(1), ap: c.toFixed(1), X: "FILLED", l: "0.5", z: "0.5", T: ts } } })}`,
      );
    }
  }
  const funding: number[][] = [];
  for (let t = START_MS; t < START_MS + BARS * BAR_MS; t += 8 * 3_600_000)
    funding.push([t, (r() - 0.3) * 0.0005, 0, 0, 0, 0]);
  const files = [
    join(dir, "BTC_USDT_USDT-5m-futures.json"),
    join(dir, "BTC_USDT_USDT-8h-funding_rate.json"),
    join(dir, "BTCUSDT-metrics-2023-01-01.csv"),
    join(dir, "liquidations.txt"),
  ];
  writeFileSync(files[0]!, JSON.stringify(candles));
  writeFileSync(files[1]!, JSON.stringify(funding));
  writeFileSync(files[2]!, metrics.join("\n"));
  writeFileSync(files[3]!, liq.join("\n"));
  return files;
}

async function engine(lake: string): Promise<void> {
  const { buildFeatureFrame } = await import("../../src/features/frame.js");
  const { FAMILIES } = await import("../../src/features/families.js");
  const off = Object.fromEntries(FAMILIES.map((f) => [f.flag, false]));
  const t0 = performance.now();
  const df = await buildFeatureFrame({
    lake,
    exchange: "binance-futures",
    symbol: "BTCUSDT",
    start: START_MS * 1000,
    end: (START_MS + BARS * BAR_MS + BAR_MS) * 1000,
    chunkMs: 7 * 86_400_000,
    config: { ...off, includeDerivatives: true, spine: { type: "bars", intervalMs: BAR_MS }, warmupMs: 0 },
  });
  const s = (performance.now() - t0) / 1000;
  process.stdout.write(
    JSON.stringify({
      rows: df.height,
      columns: df.width,
      seconds: s,
      maxRssMb: process.resourceUsage().maxRSS / 1024,
    }),
  );
}

async function polars(lake: string): Promise<void> {
  const t0 = performance.now();
  const bars = pl
    .scanParquet(join(lake, "ohlcv_bars", "exchange=binance-futures", "symbol=BTCUSDT", "*", "*.parquet"))
    .collectSync()
    .sort("ts_local_us");
  const oi = pl
    .scanParquet(join(lake, "open_interest", "exchange=binance-futures", "symbol=BTCUSDT", "*", "*.parquet"))
    .collectSync()
    .sort("ts_local_us")
    .select("ts_local_us", "open_interest");
  const fr = pl
    .scanParquet(join(lake, "funding_events", "exchange=binance-futures", "symbol=BTCUSDT", "*", "*.parquet"))
    .collectSync()
    .sort("ts_local_us")
    .select("ts_local_us", "funding_rate");
  const c = pl.col("close");
  const v = pl.col("volume");
  const o = pl.col("open_interest");
  const ret = (k: number) => c.sub(c.shift(k)).div(c.shift(k));
  let df = bars
    .select(
      pl.col("ts_local_us"),
      pl.col("open_px_int").cast(pl.Float64).alias("open"),
      pl.col("high_px_int").cast(pl.Float64).alias("high"),
      pl.col("low_px_int").cast(pl.Float64).alias("low"),
      pl.col("close_px_int").cast(pl.Float64).alias("close"),
      pl.col("volume_qty_int").cast(pl.Float64).alias("volume"),
    )
    .joinAsof(oi, { on: "ts_local_us", strategy: "backward" })
    .joinAsof(fr, { on: "ts_local_us", strategy: "backward" });
  df = df.withColumns(
    ...[1, 5, 10, 20, 50, 100].map((k) => ret(k).alias(`return_${k}`)),
    c.div(c.shift(1)).log().alias("log_return_1"),
    c.div(c.shift(5)).log().alias("log_return_5"),
    ...[20, 50, 200].map((n) => c.rollingMean(n).alias(`sma_${n}`)),
    ...[12, 20, 26].map((n) => c.ewmMean({ alpha: 2 / (n + 1), adjust: false }).alias(`ema_${n}`)),
    c.rollingStd({ windowSize: 20, ddof: 0 }).alias("bb_sd"),
    c.sub(c.shift(10)).div(c.shift(10)).mul(100).alias("roc_10"),
    c.sub(c.shift(30)).div(c.shift(30)).mul(100).alias("roc_30"),
    v.sub(v.shift(1)).div(v.shift(1)).alias("volume_change"),
    v.rollingMean(20).alias("volume_sma_20"),
    v.rollingStd(20).alias("volume_std_20"),
    o.sub(o.shift(1)).alias("oi_abs_change"),
    o.sub(o.shift(1)).div(o.shift(1)).mul(100).alias("oi_pct_change"),
    ...[20, 50].map((n) => o.rollingMean(n).alias(`oi_sma_${n}`)),
    ...[20, 50].map((n) => o.rollingStd(n).alias(`oi_std_${n}`)),
    ...[12, 26].map((n) => o.ewmMean({ alpha: 2 / (n + 1), adjust: false }).alias(`oi_ema_${n}`)),
    o.rollingMax(100).alias("oi_high_100"),
    o.rollingMin(100).alias("oi_low_100"),
    pl.col("funding_rate").sub(pl.col("funding_rate").shift(1)).alias("funding_delta_rows"),
  );
  df = df.withColumns(
    pl.col("sma_20").add(pl.col("bb_sd").mul(2)).alias("bb_upper"),
    pl.col("sma_20").sub(pl.col("bb_sd").mul(2)).alias("bb_lower"),
    c.sub(pl.col("sma_20")).div(pl.col("sma_20")).alias("price_vs_sma20"),
    v.div(pl.col("volume_sma_20")).alias("volume_ratio"),
    o.sub(pl.col("oi_sma_50")).div(pl.col("oi_std_50")).alias("oi_zscore"),
    pl.col("ema_12").sub(pl.col("ema_26")).alias("macd"),
  );
  const s = (performance.now() - t0) / 1000;
  process.stdout.write(
    JSON.stringify({
      rows: df.height,
      columns: df.width,
      seconds: s,
      maxRssMb: process.resourceUsage().maxRSS / 1024,
    }),
  );
}

async function main(): Promise<void> {
  const [mode, lake] = process.argv.slice(2);
  if (mode === "engine") return engine(lake!);
  if (mode === "polars") return polars(lake!);
  const keep = process.env.BENCH_DERIV_DIR;
  const dir = keep ?? mkdtempSync(join(tmpdir(), "pointline-bench-deriv-"));
  try {
    const lakeDir = join(dir, "lake");
    const t0 = performance.now();
    const cli = join(here, "..", "..", "..", "bin", "pointline.js");
    const reuse = keep !== undefined && existsSync(lakeDir);
    const files = reuse ? [] : generate(dir);
    if (!reuse)
      execFileSync(
        process.execPath,
        [cli, "ingest", "binance-vision", files[0]!, files[1]!, files[2]!, "--lake", lakeDir, "--quiet"],
        { stdio: "inherit" },
      );
    if (!reuse)
      execFileSync(
        process.execPath,
        [cli, "ingest", "binance-capture", files[3]!, "--lake", lakeDir, "--quiet"],
        { stdio: "inherit" },
      );
    process.stdout.write(
      `${reuse ? "reused" : "generated and ingested"} 1 year of 5 m bars (${BARS} bars) + OI/LS, funding, liquidations in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`,
    );
    for (const m of ["engine", "polars"]) {
      const r = spawnSync(process.execPath, ["--import", "tsx", here, m, lakeDir], { encoding: "utf8" });
      if (r.status !== 0) throw new Error(`${m}: ${r.stderr}`);
      const x = JSON.parse(r.stdout) as { rows: number; columns: number; seconds: number; maxRssMb: number };
      process.stdout.write(
        `${m.padEnd(7)} ${x.rows} rows × ${x.columns} columns in ${x.seconds.toFixed(2)} s = ${Math.round(x.rows / x.seconds).toLocaleString("en-US")} rows/s, peak RSS ${x.maxRssMb.toFixed(0)} MB\n`,
      );
    }
  } finally {
    if (keep === undefined) rmSync(dir, { recursive: true, force: true });
  }
}

await main();
