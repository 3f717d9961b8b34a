/**
 * Scale-out benchmark (issue 15, "Benchmark"): 8 generated symbols × 2 UTC days (seeded Tardis trades CSVs
 * ingested through the real adapter, test/helpers/gen-lake.ts), one backfill plan of 16 partition jobs
 * (clock 1 min spine, families of, flow, tb — with their warm-up replayed per job).
 *
 * Measured, each configuration once after an untimed warm-up run:
 * 1. BullMQ backfill (private redis-server): wall time of `backfill run` (enqueue → all jobs done → merge)
 *    with 1 and with 2 local `pointline worker` processes (started and ready before the clock starts);
 *    scaling efficiency = T1 / (2 · T2).
 * 2. Worker-thread pool (`features build-many`, piscina): 8 symbol tasks over the 2 days with 1 and 2
 *    threads.
 * Every run's content hash is checked equal to the single-process reference.
 *
 * Then a PAPER ESTIMATE (not measured): the per-job cost scaled to N machines.
 *
 * Run: `npm run bench:scale [-- --trades-per-day N]` (default 100,000 per symbol and day); results in
 * bench/out/scale.json. The machine has 2 cores shared with other work: numbers are noisy.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { mergeBackfill, planBackfill, runBackfillLocal } from "../../src/scale/backfill.js";
import { runMultiSymbol } from "../../src/scale/multi.js";
import { enqueueBackfill, waitForBackfill } from "../../src/scale/queue.js";
import {
  GEN_START_US,
  generateLake,
  TRADES_ONLY_FAMILIES,
  US_PER_DAY_GEN,
} from "../../test/helpers/gen-lake.js";
import { startRedis } from "../../test/helpers/redis.js";

const REPO = resolve(import.meta.dirname, "..", "..");
const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const TRADES_PER_DAY = arg("--trades-per-day", 100_000);
const SYMBOLS = Array.from({ length: 8 }, (_, k) => `S${String(k + 1).padStart(2, "0")}USDT`);
const CONFIG = {
  spine: { type: "clock" as const, stepMs: 60_000 },
  ...TRADES_ONLY_FAMILIES,
};
const START = GEN_START_US;
const END = GEN_START_US + 2 * US_PER_DAY_GEN;

const now = (): number => performance.now();
const s = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

async function startWorkers(n: number, url: string, queue: string): Promise<ChildProcess[]> {
  const ws: ChildProcess[] = [];
  await Promise.all(
    Array.from({ length: n }, () => {
      const w = spawn(
        process.execPath,
        [join(REPO, "bin", "pointline.js"), "worker", "--redis", url, "--queue", queue, "--quiet"],
        {
          stdio: ["ignore", "ignore", "pipe"],
        },
      );
      ws.push(w);
      return new Promise<void>((ready, fail) => {
        let text = "";
        w.stderr?.on("data", (b: Buffer) => {
          text += b.toString();
          if (text.includes("ready")) ready();
        });
        w.once("exit", (c) => fail(new Error(`worker exited ${c}: ${text}`)));
      });
    }),
  );
  return ws;
}

async function stopWorkers(ws: ChildProcess[]): Promise<void> {
  await Promise.all(
    ws.map(
      (w) =>
        new Promise<void>((r) => {
          w.removeAllListeners("exit");
          w.once("exit", () => r());
          w.kill("SIGTERM");
        }),
    ),
  );
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "pointline-bench-scale-"));
  const redis = await startRedis();
  try {
    let t = now();
    const lake = await generateLake(dir, { symbols: SYMBOLS, days: 2, tradesPerDay: TRADES_PER_DAY });
    const genMs = now() - t;
    console.log(
      `lake: ${SYMBOLS.length} symbols × 2 days × ${TRADES_PER_DAY.toLocaleString("en-US")} trades, generated + ingested in ${s(genMs)}`,
    );
    const selection = { query: { exchange: "binance-futures" } };

    // single-process reference (also the warm-up run)
    const refPlan = await planBackfill({
      lake,
      selection,
      start: START,
      end: END,
      config: CONFIG,
      outDir: join(dir, "ref"),
    });
    t = now();
    await runBackfillLocal(refPlan);
    const ref = await mergeBackfill(refPlan);
    const localMs = now() - t;
    const jobs = refPlan.partitions.length;
    console.log(
      `plan: ${jobs} jobs; single process (backfill run --local, partitions + merge): ${s(localMs)}, ${s(localMs / jobs)} per job`,
    );

    const backfill: Record<number, number> = {};
    for (const n of [1, 2]) {
      const queue = `bench-${n}`;
      const plan = await planBackfill({
        lake,
        selection,
        start: START,
        end: END,
        config: CONFIG,
        outDir: join(dir, `q${n}`),
      });
      const ws = await startWorkers(n, redis.url, queue);
      try {
        t = now();
        await enqueueBackfill(plan, { redisUrl: redis.url, queue });
        const r = await waitForBackfill(plan, { redisUrl: redis.url, queue });
        const m = await mergeBackfill(plan);
        backfill[n] = now() - t;
        if (r.failed.length > 0 || m.content_sha256 !== ref.content_sha256)
          throw new Error(
            `${n} workers: failed ${r.failed.length}, hash ${m.content_sha256} vs ${ref.content_sha256}`,
          );
      } finally {
        await stopWorkers(ws);
      }
      console.log(
        `BullMQ backfill, ${n} worker process${n > 1 ? "es" : ""}: ${s(backfill[n]!)} (hash equal to the single-process run)`,
      );
    }

    const pool: Record<number, number> = {};
    let poolHash: string | null = null;
    for (const n of [1, 2]) {
      t = now();
      const m = await runMultiSymbol({
        lake,
        selection,
        start: START,
        end: END,
        config: CONFIG,
        outDir: join(dir, `pool${n}`),
        workers: n,
      });
      pool[n] = now() - t;
      if (m.status !== "ok" || (poolHash !== null && m.combined?.content_sha256 !== poolHash))
        throw new Error(`pool ${n}: ${m.status}`);
      poolHash = m.combined?.content_sha256 ?? null;
      console.log(
        `piscina pool (features build-many, 8 symbol tasks), ${n} thread${n > 1 ? "s" : ""}: ${s(pool[n]!)}`,
      );
    }

    const eff = (t1: number, t2: number): number => t1 / (2 * t2);
    console.log(
      `scaling efficiency on 2 cores (T1 / (2·T2)): BullMQ ${(100 * eff(backfill[1]!, backfill[2]!)).toFixed(0)} %, pool ${(100 * eff(pool[1]!, pool[2]!)).toFixed(0)} %`,
    );

    // PAPER ESTIMATE, not measured
    const perJobMs = backfill[1]! / jobs;
    const perTradeUs = (1000 * localMs) / (SYMBOLS.length * 2 * TRADES_PER_DAY);
    const year = { symbols: 50, days: 365, tradesPerDay: 1_000_000 };
    const yearJobs = year.symbols * year.days;
    const yearJobMs =
      (perTradeUs * year.tradesPerDay) / 1000 + (localMs / jobs - (perTradeUs * TRADES_PER_DAY) / 1000);
    const lines = [1, 4, 16, 64].map((machines) => {
      const slots = machines * 2 * eff(backfill[1]!, backfill[2]!);
      const hours = (Math.ceil(yearJobs / slots) * yearJobMs) / 3_600_000;
      return { machines, hours };
    });
    console.log(
      `PAPER ESTIMATE (extrapolated, not measured): this plan's per-job cost ${s(perJobMs)} (${perTradeUs.toFixed(2)} µs per trade incl. warm-up replay); a year of ${year.symbols} pairs at ${year.tradesPerDay.toLocaleString("en-US")} trades/day = ${yearJobs.toLocaleString("en-US")} jobs of ≈ ${s(yearJobMs)}:`,
    );
    for (const l of lines)
      console.log(
        `  ${String(l.machines).padStart(3)} machines × 2 cores (measured efficiency): ≈ ${l.hours.toFixed(1)} h`,
      );

    mkdirSync(join(REPO, "bench", "out"), { recursive: true });
    writeFileSync(
      join(REPO, "bench", "out", "scale.json"),
      `${JSON.stringify(
        {
          symbols: SYMBOLS.length,
          days: 2,
          tradesPerDay: TRADES_PER_DAY,
          jobs,
          localMs,
          backfillMs: backfill,
          poolMs: pool,
          efficiency: { backfill: eff(backfill[1]!, backfill[2]!), pool: eff(pool[1]!, pool[2]!) },
          paperEstimate: { perTradeUs, yearJobs, yearJobMs, machines: lines },
        },
        null,
        2,
      )}\n`,
    );
  } finally {
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
