/**
 * Distributed backfill on BullMQ with a private redis-server: 3 worker processes, one SIGKILLed as soon
 * as it takes its first job (the job is retried through BullMQ's stalled-job handling); the merged
 * content hash equals the single-process run (`backfill run --local`) and, per symbol, an independent
 * one-pass `buildFeatureFrame` over the whole range. A plan with a corrupt lake part: that job fails with
 * an error naming the file, every other job completes, `backfill run` lists it and exits 3.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { cpSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Queue, QueueEvents } from "bullmq";
import { canonicalFrameHash } from "../../src/engine/hash.js";
import { buildFeatureFrame } from "../../src/features/frame.js";
import type { BackfillMerged, BackfillPlan } from "../../src/scale/backfill.js";
import { bullConnection } from "../../src/scale/queue.js";
import { tempDir } from "../helpers/data.js";
import {
  corruptTradesPart,
  GEN_START_US,
  generateLake,
  TRADES_ONLY_FAMILIES,
  US_PER_DAY_GEN,
} from "../helpers/gen-lake.js";
import { startRedis, type TestRedis } from "../helpers/redis.js";
import { REPO_ROOT, runCli, runCliProcess } from "../helpers/run-cli.js";

const SYMBOLS = ["S01USDT", "S02USDT", "S03USDT"];
const START = String(GEN_START_US);
const END = String(GEN_START_US + 2 * US_PER_DAY_GEN);
const QUEUE = "pl-test-backfill";
const SPEC = ["--spine", "clock:60000", "--families", "of,flow,tb"];

describe("BullMQ backfill", () => {
  const tmp = tempDir("pointline-backfill-");
  let redis: TestRedis;
  let lake = "";
  const workers: ChildProcess[] = [];
  const startWorker = (): ChildProcess => {
    const w = spawn(
      process.execPath,
      [
        join(REPO_ROOT, "bin", "pointline.js"),
        "worker",
        "--redis",
        redis.url,
        "--queue",
        QUEUE,
        "--lock-duration-ms",
        "1500",
        "--stalled-interval-ms",
        "500",
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    w.stderr?.on("data", () => {});
    workers.push(w);
    return w;
  };
  const plan = async (lakeDir: string, outDir: string): Promise<string> => {
    const r = await runCli([
      "backfill",
      "plan",
      "--lake",
      lakeDir,
      "--exchange",
      "binance-futures",
      "--start",
      START,
      "--end",
      END,
      ...SPEC,
      "--out-dir",
      outDir,
    ]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /6 partition jobs \(3 symbols × 2 UTC days\)/);
    return join(outDir, "plan.json");
  };

  const runBackfill = (planFile: string, ...flags: string[]) =>
    runCli(["backfill", "run", "--plan", planFile, "--redis", redis.url, "--queue", QUEUE, ...flags]);

  before(async () => {
    redis = await startRedis();
    lake = await generateLake(tmp.dir, { symbols: SYMBOLS, days: 2, tradesPerDay: 2000 });
  });
  after(async () => {
    for (const w of workers) if (w.exitCode === null && w.signalCode === null) w.kill("SIGTERM");
    await Promise.all(
      workers.map((w) =>
        w.exitCode === null && w.signalCode === null ? new Promise((r) => w.once("exit", r)) : null,
      ),
    );
    await redis.stop();
    tmp.cleanup();
  });

  it("3 workers, one SIGKILLed mid-job: merged hash equals the single-process run and one-pass frames", async () => {
    const local = await runCli([
      "backfill",
      "run",
      "--plan",
      await plan(lake, join(tmp.dir, "local")),
      "--local",
      "--json",
    ]);
    assert.equal(local.status, 0, local.stderr);
    const ref = JSON.parse(local.stdout) as BackfillMerged;
    assert.ok(ref.complete && ref.content_sha256);
    // independent of partitioning: each symbol's one-pass frame over the two days
    for (const [k, symbol] of SYMBOLS.entries()) {
      const df = await buildFeatureFrame({
        lake,
        exchange: "binance-futures",
        symbol,
        start: Number(START),
        end: Number(END),
        config: {
          spine: { type: "clock", stepMs: 60_000 },
          ...TRADES_ONLY_FAMILIES,
        },
      });
      assert.equal(ref.instruments[k]!.content_sha256, canonicalFrameHash(df), symbol);
      assert.equal(ref.instruments[k]!.rows, 2 * 1440);
    }

    const planFile = await plan(lake, join(tmp.dir, "dist"));
    const connections = [bullConnection(redis.url), bullConnection(redis.url)];
    const events = new QueueEvents(QUEUE, { connection: connections[0]! });
    const queue = new Queue(QUEUE, { connection: connections[1]! });
    await events.waitUntilReady();
    const pids = new Set([startWorker(), startWorker(), startWorker()].map((w) => w.pid));
    let killed: { key: string; pid: number } | null = null;
    events.on("active", ({ jobId }) => {
      if (killed) return;
      killed = { key: jobId, pid: -1 };
      void queue.getJob(jobId).then((job) => {
        const pid = Number(/pointline-worker-(\d+)/.exec(job?.processedBy ?? "")?.[1]);
        assert.ok(pids.has(pid), `job ${jobId} taken by ${job?.processedBy}`);
        process.kill(pid, "SIGKILL");
        killed = { key: jobId, pid };
      });
    });
    const run = await runBackfill(planFile, "--json");
    assert.equal(run.status, 0, run.stderr + run.stdout);
    const merged = JSON.parse(run.stdout) as BackfillMerged & { failed_jobs: unknown[] };
    assert.deepEqual(merged.failed_jobs, []);
    assert.equal(merged.content_sha256, ref.content_sha256);
    assert.deepEqual(merged.instruments, ref.instruments);
    // the killed worker's job was taken again by another worker after it stalled
    const k = killed as { key: string; pid: number } | null;
    assert.ok(k && k.pid > 0, "a worker was killed mid-job");
    const job = await queue.getJob(k.key);
    assert.equal(await job!.getState(), "completed");
    assert.ok(job!.attemptsStarted >= 2 || job!.stalledCounter >= 1, `attempts ${job!.attemptsStarted}`);
    assert.notEqual(job!.processedBy, `pointline-worker-${k.pid}`);
    assert.equal(workers.filter((w) => w.signalCode === "SIGKILL").length, 1);
    // a completed partition whose output was deleted is redone when the plan is run again
    const gone = JSON.parse(readFileSync(planFile, "utf8")) as BackfillPlan;
    rmSync(gone.partitions[4]!.out);
    const again = await runBackfill(planFile, "--json");
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stderr, /enqueued 0 jobs .*\(6 already there, 1 of them retried/);
    assert.equal((JSON.parse(again.stdout) as BackfillMerged).content_sha256, ref.content_sha256);
    await events.close();
    await queue.close();
    for (const c of connections) c.disconnect();
  });

  it("shows a progress bar over all jobs on a terminal", async () => {
    const r = await runCliProcess(
      ["backfill", "run", "--plan", join(tmp.dir, "local", "plan.json"), "--local"],
      {
        tty: true,
      },
    );
    assert.equal(r.status, 0, r.stdout);
    assert.match(r.stdout, /backfill \[[^\]]+\] 6\/6 jobs \| 0 failed/);
    assert.match(r.stdout, /complete: 6 partitions/);
  });

  it("a corrupt partition input fails with the file named, the others complete, exit 3", async () => {
    const bad = join(tmp.dir, "bad-lake");
    cpSync(lake, bad, { recursive: true });
    const part = corruptTradesPart(bad, "S02USDT", "2024-01-02", "PAR1 garbage");
    const planFile = await plan(bad, join(tmp.dir, "bad-out"));
    const run = await runBackfill(planFile, "--attempts", "2");
    assert.equal(run.status, 3, run.stderr + run.stdout);
    assert.match(run.stdout, /INCOMPLETE: 5\/6 partitions present/);
    assert.match(
      run.stdout,
      new RegExp(`FAILED job \\w+__binance-futures__S02USDT__2024-01-02 after 2 attempts: .*${part}`),
    );
    assert.match(run.stdout, /missing \w+__binance-futures__S02USDT__2024-01-02/);
    assert.match(run.stderr, /FAILED \w+__binance-futures__S02USDT__2024-01-02: cannot read lake part/);
  });
});
