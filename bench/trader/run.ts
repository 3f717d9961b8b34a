/**
 * Benchmark of the trader features (issue #12): `--days` (default 365) of 1-minute rows × `--symbols`
 * (default 10), generated with every input present (seeded), computed by
 *
 * - `engine`: the trader preset's operators run by the Driver, one run per symbol (runTraderFeatures);
 * - `polars`: the nodejs-polars peer (bench/trader/peer.ts; 31 of the 33 features: Polars has no rolling rank),
 *
 * each in its own child process of the same run, so each reports its own peak RSS (`maxRSS` of
 * `process.resourceUsage()`, after the computation; data generation included in the peak, excluded from
 * the time). Prints rows/s, seconds, peak RSS and a cross-check (per feature: mean over the non-null
 * values and null count, engine vs polars), and writes bench/out/trader.json.
 *
 *   npm run bench:trader [-- --days 365 --symbols 10]
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import pl from "nodejs-polars";
import { TRADER_FEATURES } from "../../src/features/trader/features.js";
import { REPLAY_VALUE_COLUMNS, type ReplayRows } from "../../src/features/trader/preset.js";
import { runTraderFeatures } from "../../src/features/trader/run.js";
import { PEER_FEATURES, polarsTraderFeatures } from "./peer.js";

const HERE = dirname(fileURLToPath(import.meta.url));
const MIN = 60_000_000;

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

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

/** One symbol's year of minutes with every input present (seeded by the symbol index). */
function generate(sym: number, days: number): ReplayRows {
  const r = rng(1000 + sym);
  const n = days * 1440;
  const start = Date.UTC(2023, 0, 1) * 1000;
  const cols = REPLAY_VALUE_COLUMNS.map(() => new Float64Array(n));
  const at = (name: (typeof REPLAY_VALUE_COLUMNS)[number]) => cols[REPLAY_VALUE_COLUMNS.indexOf(name)]!;
  const [o, h, l, cl, v, tb, ts, fu, mk, ix, nf, oi, sp, ofi, lb, ls, la] = REPLAY_VALUE_COLUMNS.map(at);
  const eventUs = new Float64Array(n);
  let close = 100 * (1 + sym);
  let openInterest = 1e5;
  for (let i = 0; i < n; i++) {
    const t = start + i * MIN;
    eventUs[i] = t;
    const open = close;
    close = Math.round(open * Math.exp((r() - 0.5) * 0.004) * 100) / 100;
    o![i] = open;
    cl![i] = close;
    h![i] = Math.max(open, close) + Math.round(r() * 20) / 100;
    l![i] = Math.min(open, close) - Math.round(r() * 20) / 100;
    const vol = Math.round(Math.exp(r() * 4) * 1000) / 1000;
    v![i] = vol;
    tb![i] = Math.round(vol * r() * 1000) / 1000;
    ts![i] = vol - tb![i]!;
    fu![i] = 1;
    ix![i] = close * (1 + (r() - 0.5) * 1e-4);
    mk![i] = close * (1 + (r() - 0.5) * 2e-4);
    nf![i] = (Math.floor(t / (8 * 3600e6)) + 1) * 8 * 3600e6;
    openInterest *= 1 + (r() - 0.5) * 0.001;
    oi![i] = openInterest;
    sp![i] = 0.5 + r() * 3;
    ofi![i] = r() - 0.5;
    const burst = r() < 0.05;
    lb![i] = burst ? Math.round(r() * 1e6) / 100 : 0;
    ls![i] = burst && r() < 0.7 ? Math.round(r() * 1e6) / 100 : 0;
    la![i] = 1;
  }
  return { eventUs, columns: cols };
}

interface ImplResult {
  impl: string;
  rows: number;
  seconds: number;
  rowsPerSecond: number;
  peakRssMiB: number;
  features: number;
  summary: Record<string, { mean: number; nulls: number }>;
}

function summarize(
  get: (f: string) => ArrayLike<number | null>,
  names: readonly string[],
): ImplResult["summary"] {
  const out: ImplResult["summary"] = {};
  for (const f of names) {
    const v = get(f);
    let s = 0;
    let n = 0;
    let nulls = 0;
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      if (x === null || x === undefined || Number.isNaN(x)) nulls++;
      else {
        s += x;
        n++;
      }
    }
    out[f] = { mean: n ? s / n : Number.NaN, nulls };
  }
  return out;
}

/** Differences explained (and checked by hand on the first differing row). */
const EXPLAINED: Readonly<Record<string, string>> = {
  liquidation_imbalance_15m:
    "Polars' rolling_sum keeps the rounding residue of values that left the window: a 15-row window of zeros sums to ±1e-12 and the ratio of two residues is ±1; the engine sums the 15 rows exactly (0 / 0 → 0 by the fill rule)",
};

function child(impl: "engine" | "polars", days: number, symbols: number): ImplResult {
  const data = Array.from({ length: symbols }, (_, k) => generate(k, days));
  const rows = data.reduce((a, d) => a + d.eventUs.length, 0);
  if (impl === "engine") {
    const t0 = performance.now();
    const res = data.map((d, k) => runTraderFeatures(`S${k}`, d));
    const seconds = (performance.now() - t0) / 1000;
    const summary = summarize((f) => {
      const k = TRADER_FEATURES.indexOf(f);
      const all: number[] = [];
      for (const r of res) for (const x of r.columns[k]!) all.push(x);
      return all;
    }, TRADER_FEATURES);
    return {
      impl,
      rows,
      seconds,
      rowsPerSecond: rows / seconds,
      peakRssMiB: process.resourceUsage().maxRSS / 1024,
      features: 33,
      summary,
    };
  }
  // the replay frame the peer reads (building it is not timed)
  const frames = data.map((d, k) =>
    pl.DataFrame([
      pl.Series("symbol", new Array<string>(d.eventUs.length).fill(`S${k}`), pl.Utf8),
      pl.Series("event_us", Array.from(d.eventUs), pl.Int64),
      ...REPLAY_VALUE_COLUMNS.map((c, j) =>
        pl.Series(c === "next_funding_time" ? "next_funding_us" : c, d.columns[j]!, pl.Float64),
      ),
    ]),
  );
  const df = pl.concat(frames, { how: "vertical" }).withColumns(pl.col("next_funding_us").cast(pl.Int64));
  const t0 = performance.now();
  const out = polarsTraderFeatures(df);
  const seconds = (performance.now() - t0) / 1000;
  const summary = summarize((f) => out.getColumn(f).toArray() as (number | null)[], PEER_FEATURES);
  return {
    impl,
    rows,
    seconds,
    rowsPerSecond: rows / seconds,
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
    features: PEER_FEATURES.length,
    summary,
  };
}

const days = arg("days", 365);
const symbols = arg("symbols", 10);
const implArg = process.argv.indexOf("--impl");
if (implArg >= 0) {
  const r = child(process.argv[implArg + 1] as "engine" | "polars", days, symbols);
  process.stdout.write(JSON.stringify(r));
} else {
  const results: ImplResult[] = [];
  for (const impl of ["engine", "polars"] as const) {
    const outText = execFileSync(
      process.execPath,
      [
        "--import",
        "tsx",
        join(HERE, "run.ts"),
        "--impl",
        impl,
        "--days",
        String(days),
        "--symbols",
        String(symbols),
      ],
      {
        encoding: "utf8",
        maxBuffer: 64 << 20,
      },
    );
    results.push(JSON.parse(outText) as ImplResult);
  }
  const [e, p] = results as [ImplResult, ImplResult];
  let worst = 0;
  const diffs: string[] = [];
  for (const f of PEER_FEATURES) {
    const a = e.summary[f]!;
    const b = p.summary[f]!;
    const rel = Math.abs(a.mean - b.mean) / Math.max(1, Math.abs(b.mean));
    worst = Math.max(worst, Number.isFinite(rel) ? rel : 0);
    if (a.nulls !== b.nulls || rel > 1e-6)
      diffs.push(
        `${f}: mean ${a.mean} vs ${b.mean}, nulls ${a.nulls} vs ${b.nulls}${EXPLAINED[f] ? ` — expected: ${EXPLAINED[f]}` : ""}`,
      );
  }
  const lines = [
    `trader features: ${days} days × ${symbols} symbols of 1m rows = ${e.rows.toLocaleString("en-US")} rows`,
    "impl     features  seconds  rows/s      peak RSS",
    ...results.map(
      (r) =>
        `${r.impl.padEnd(8)} ${String(r.features).padStart(8)}  ${r.seconds.toFixed(1).padStart(7)}  ${Math.round(r.rowsPerSecond).toLocaleString("en-US").padStart(10)}  ${r.peakRssMiB.toFixed(0)} MiB`,
    ),
    `cross-check (31 common features, per-feature mean and null count): ${diffs.length === 0 ? `equal (max relative mean difference ${worst.toExponential(1)})` : `DIFFERENT:\n  ${diffs.join("\n  ")}`}`,
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
  const out = resolve(HERE, "..", "out", "trader.json");
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(
    out,
    `${JSON.stringify({ days, symbols, results: results.map(({ summary: _s, ...r }) => r), crossCheck: { worstRelativeMeanDiff: worst, differences: diffs } }, null, 2)}\n`,
  );
}
