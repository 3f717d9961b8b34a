/**
 * Benchmark of the multi-instrument interval frames (issue 14): the SPY tick day 2013-10-08 (451,545
 * trades) + IBM ticks and quotes of the same day (Lean, ../shared/data/lean) to 30 s and 60 s frames, by
 *
 * - `engine`: `buildIntervalFrames` (one Replay per interval: LakeSource → Driver → the registered
 *   `interval_microstructure` operators of SPY and IBM), gates off;
 * - `polars`: a nodejs-polars implementation of the same day and intervals (bench/intervals/peer.ts) of the
 *   trade-side features: volume, trade count, VWAP, realised vol, interval log return, tick-test signed
 *   volume (SPY has no quotes), plus IBM's Lee–Ready signed volume through an as-of join of the quotes,
 *
 * each in its own child process of the same run (own peak RSS: `maxRSS` of `process.resourceUsage()`).
 * The lake is ingested once into bench/out/intervals-lake (reused). Prints seconds, events/s, peak RSS and a
 * cross-check (max relative difference per shared column), and writes bench/out/intervals.json.
 *
 *   npm run bench:intervals
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { buildIntervalFrames, parseIntervalConfig } from "../../src/features/intervals/frames.js";
import { ingestFiles } from "../../src/ingest/ingest.js";
import { polarsIntervals } from "./peer.js";

const HERE = dirname(fileURLToPath(import.meta.url));
const OUT = resolve(HERE, "..", "out");
const LAKE = join(OUT, "intervals-lake");
const LEAN = resolve(HERE, "..", "..", "..", "shared", "data", "lean", "equity", "usa", "tick");
const DAY = Date.UTC(2013, 9, 8) * 1000;
const INTERVALS = [30, 60];
const CONFIG = parseIntervalConfig({
  instruments: [
    {
      alias: "spy",
      exchange: "usa",
      symbol: "SPY",
      source: "ticks",
      quotes: false,
      assetClass: "equity",
      vpinBucketVolume: 200_000,
    },
    {
      alias: "ibm",
      exchange: "usa",
      symbol: "IBM",
      source: "ticks",
      assetClass: "equity",
      vpinBucketVolume: 20_000,
    },
  ],
});

/** Columns compared between the two implementations. */
const SHARED = ["volume", "trade_count", "realized_vol", "interval_log_return", "signed_volume"];

interface Result {
  readonly mode: string;
  readonly seconds: number;
  readonly rows: number;
  readonly maxRssMb: number;
  readonly columns: Record<string, number[]>;
}

async function child(mode: string): Promise<void> {
  const t0 = performance.now();
  const columns: Record<string, number[]> = {};
  let rows = 0;
  if (mode === "engine") {
    const frames = await buildIntervalFrames({
      lake: LAKE,
      config: CONFIG,
      intervalsS: INTERVALS,
      startUs: DAY,
      endUs: DAY + 86_400e6,
      gates: false,
    });
    for (const f of frames) {
      rows += f.rows.n;
      for (const a of ["spy", "ibm"])
        for (const c of SHARED)
          columns[`${c}_${f.intervalS}s_${a}`] = Array.from(f.rows.values.get(`${c}_${f.intervalS}s_${a}`)!);
    }
  } else {
    const r = await polarsIntervals(LAKE, DAY, INTERVALS);
    rows = r.rows;
    Object.assign(columns, r.columns);
  }
  const seconds = (performance.now() - t0) / 1000;
  const maxRssMb = process.resourceUsage().maxRSS / 1024;
  const out: Result = { mode, seconds, rows, maxRssMb, columns };
  process.stdout.write(JSON.stringify(out));
}

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  if (!existsSync(LAKE)) {
    await ingestFiles(
      "binance-vision",
      [
        join(LEAN, "spy", "20131008_trade.zip"),
        join(LEAN, "ibm", "20131008_trade.zip"),
        join(LEAN, "ibm", "20131008_quote.zip"),
      ],
      { lake: LAKE },
    );
  }
  const run = (mode: string): Result =>
    JSON.parse(
      execFileSync(process.execPath, ["--import", "tsx", fileURLToPath(import.meta.url), "--child", mode], {
        maxBuffer: 1 << 28,
        encoding: "utf8",
      }),
    ) as Result;
  const events = 451_545 + 33_381 + 125_749; // SPY trades, IBM trades, IBM quotes of 2013-10-08 (rows ingested)
  const results = [run("engine"), run("polars")];
  const [e, p] = results as [Result, Result];
  const lines = [
    `interval frames, SPY + IBM 2013-10-08, intervals ${INTERVALS.join(", ")} s (machine shared: noisy)`,
  ];
  for (const r of results)
    lines.push(
      `  ${r.mode.padEnd(7)} ${r.seconds.toFixed(2)} s  ${Math.round((events * INTERVALS.length) / r.seconds).toLocaleString("en-US")} events/s (events × intervals)  ${r.rows} rows  peak RSS ${r.maxRssMb.toFixed(0)} MB`,
    );
  lines.push(
    `  engine / polars time: ${(e.seconds / p.seconds).toFixed(2)}×, RSS: ${(e.maxRssMb / p.maxRssMb).toFixed(2)}×`,
  );
  const check: Record<string, number> = {};
  for (const [name, pv] of Object.entries(p.columns)) {
    const ev = e.columns[name];
    if (ev === undefined) continue;
    let worst = 0;
    for (let i = 0; i < pv.length; i++) {
      const a = ev[i]!;
      const b = pv[i]!;
      if (Number.isNaN(a) && Number.isNaN(b)) continue;
      const d =
        Number.isNaN(a) !== Number.isNaN(b)
          ? Number.POSITIVE_INFINITY
          : Math.abs(a - b) / Math.max(1e-12, Math.abs(b));
      if (d > worst) worst = d;
    }
    check[name] = worst;
  }
  lines.push(`  cross-check (max relative difference engine vs polars): ${JSON.stringify(check)}`);
  process.stdout.write(`${lines.join("\n")}\n`);
  writeFileSync(
    join(OUT, "intervals.json"),
    JSON.stringify({ events, results: results.map(({ columns: _c, ...r }) => r), check }, null, 2),
  );
}

const i = process.argv.indexOf("--child");
if (i >= 0) await child(process.argv[i + 1]!);
else await main();
