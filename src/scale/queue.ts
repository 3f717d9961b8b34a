/**
 * Backfill jobs on BullMQ (Redis ≥ 6.2): `enqueueBackfill` adds one job per partition with the
 * partition's key as job id (adding a plan again adds nothing; its failed jobs are retried),
 * `startBackfillWorker` processes jobs (any number of processes on any number of machines sharing the
 * lake path, the output directory and Redis), `waitForBackfill` follows a plan's jobs to the end.
 *
 * A worker that dies mid-job (SIGKILL, machine loss) stops renewing its job lock; after
 * `lockDurationMs` the job is stalled and another worker's stalled-job check (every `stalledIntervalMs`)
 * moves it back to the wait list, up to `maxStalledCount` times — BullMQ's stalled-job handling. As a
 * partition write is atomic and idempotent (scale/backfill.ts), the retried job replaces whatever the
 * dead one left. A job that throws (e.g. corrupt input) is retried up to `attempts` times, then failed
 * with its error; other jobs go on.
 */
import { type Job, Queue, QueueEvents, Worker } from "bullmq";
import { Redis } from "ioredis";
import { ConfigError } from "../core/errors.js";
import {
  type BackfillPlan,
  type PartitionDone,
  type PartitionJob,
  partitionDone,
  partitionJobs,
  runPartition,
} from "./backfill.js";

/** Default queue name (BullMQ queue names may not contain ':'). */
export const DEFAULT_QUEUE = "pointline-backfill";

/** Connection and queue of the backfill jobs. */
export interface QueueConfig {
  /** `redis://host:port[/db]`. */
  readonly redisUrl: string;
  readonly queue?: string;
}

/** A BullMQ connection (`maxRetriesPerRequest: null`, as BullMQ's blocking commands need). */
export function bullConnection(url: string): Redis {
  const c = new Redis(url, { maxRetriesPerRequest: null, lazyConnect: false });
  c.on("error", () => {}); // reported by the commands that fail
  return c;
}

/** Checks that Redis answers and is ≥ 6.2. @throws ConfigError naming the URL. */
export async function checkRedis(url: string): Promise<void> {
  const c = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    connectTimeout: 2000,
    retryStrategy: () => null,
  });
  c.on("error", () => {});
  try {
    await c.connect();
    const info = await c.info("server");
    const v = /redis_version:(\d+)\.(\d+)/.exec(info);
    if (v && (Number(v[1]) < 6 || (Number(v[1]) === 6 && Number(v[2]) < 2)))
      throw new ConfigError(`--redis ${url}: Redis ${v[1]}.${v[2]} is too old for BullMQ (needs ≥ 6.2)`);
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    throw new ConfigError(
      `--redis ${url}: cannot connect to Redis: ${e instanceof Error ? e.message : String(e)}`,
    );
  } finally {
    c.disconnect();
  }
}

/** Options of the enqueued jobs. */
export interface EnqueueOptions extends QueueConfig {
  /** Attempts per job (default 3). */
  readonly attempts?: number;
  /** Delay between attempts, ms (default 1000). */
  readonly backoffMs?: number;
}

/**
 * Adds the plan's jobs (idempotent: job id = partition key) and retries those of them that had failed
 * or completed without a done marker left on disk (output deleted since).
 * @returns how many jobs were new, already there, and retried.
 */
export async function enqueueBackfill(
  plan: BackfillPlan,
  o: EnqueueOptions,
): Promise<{ added: number; existing: number; retried: number }> {
  const connection = bullConnection(o.redisUrl);
  const queue = new Queue<PartitionJob, PartitionDone>(o.queue ?? DEFAULT_QUEUE, { connection });
  try {
    let added = 0;
    let existing = 0;
    let retried = 0;
    const jobs = partitionJobs(plan);
    for (const data of jobs) {
      const prev = await queue.getJob(data.partition.key);
      if (prev) {
        existing++;
        const state = await prev.getState();
        // a failed job is retried; so is a completed one whose partition has gone (deleted output)
        if (state === "failed" || (state === "completed" && !partitionDone(data.partition))) {
          await prev.retry(state, { resetAttemptsMade: true, resetAttemptsStarted: true });
          retried++;
        }
        continue;
      }
      await queue.add(data.partition.key, data, {
        jobId: data.partition.key,
        attempts: o.attempts ?? 3,
        backoff: { type: "fixed", delay: o.backoffMs ?? 1000 },
        removeOnComplete: false,
        removeOnFail: false,
      });
      added++;
    }
    return { added, existing, retried };
  } finally {
    await queue.close();
    connection.disconnect();
  }
}

/** Options of a backfill worker. */
export interface WorkerOptions extends QueueConfig {
  /** Jobs processed at once by this worker (default 1). */
  readonly concurrency?: number;
  /** Job lock, ms (default BullMQ's 30,000): a dead worker's job stalls after this. */
  readonly lockDurationMs?: number;
  /** Stalled-job check period, ms (default BullMQ's 30,000). */
  readonly stalledIntervalMs?: number;
  /** Times a job may stall and be retried before it fails (default 2). */
  readonly maxStalledCount?: number;
  /** Worker name stored on each job it takes (`processedBy`; default `pointline-worker-<pid>`). */
  readonly name?: string;
  readonly onJob?: (e: { key: string; status: "active" | "completed" | "failed"; error?: string }) => void;
}

/** A running worker; `close()` finishes the current jobs and stops. */
export interface BackfillWorker {
  close(): Promise<void>;
}

/** Starts a worker processing backfill jobs (see the module doc). */
export async function startBackfillWorker(o: WorkerOptions): Promise<BackfillWorker> {
  await checkRedis(o.redisUrl);
  const connection = bullConnection(o.redisUrl);
  const worker = new Worker<PartitionJob, PartitionDone>(
    o.queue ?? DEFAULT_QUEUE,
    async (job: Job<PartitionJob, PartitionDone>) => {
      o.onJob?.({ key: job.data.partition.key, status: "active" });
      return runPartition(job.data);
    },
    {
      connection,
      concurrency: o.concurrency ?? 1,
      name: o.name ?? `pointline-worker-${process.pid}`,
      maxStalledCount: o.maxStalledCount ?? 2,
      ...(o.lockDurationMs !== undefined ? { lockDuration: o.lockDurationMs } : {}),
      ...(o.stalledIntervalMs !== undefined ? { stalledInterval: o.stalledIntervalMs } : {}),
    },
  );
  worker.on("completed", (job) => o.onJob?.({ key: job.id ?? "", status: "completed" }));
  worker.on("failed", (job, err) => o.onJob?.({ key: job?.id ?? "", status: "failed", error: err.message }));
  worker.on("error", () => {}); // connection errors: BullMQ reconnects
  await worker.waitUntilReady();
  return {
    close: async () => {
      await worker.close();
      connection.disconnect();
    },
  };
}

/** End state of a plan's jobs. */
export interface BackfillProgress {
  readonly total: number;
  readonly completed: number;
  readonly failed: readonly { readonly key: string; readonly error: string; readonly attempts: number }[];
}

/**
 * Follows the plan's jobs until each is completed or failed for good (retries exhausted): the state of
 * a job is read when a queue event names it, and every job still pending is re-read every `pollMs`
 * (default 2,000; catches events missed while connecting). `onProgress` after each change. The cost
 * is one Redis round trip per event plus one per pending job per poll, so following does not compete
 * with the workers for CPU.
 */
export async function waitForBackfill(
  plan: BackfillPlan,
  o: QueueConfig & { pollMs?: number; onProgress?: (p: BackfillProgress) => void },
): Promise<BackfillProgress> {
  const name = o.queue ?? DEFAULT_QUEUE;
  const connection = bullConnection(o.redisUrl);
  const queue = new Queue<PartitionJob, PartitionDone>(name, { connection });
  const eventsConnection = bullConnection(o.redisUrl);
  const events = new QueueEvents(name, { connection: eventsConnection });
  try {
    const pending = new Set(plan.partitions.map((p) => p.key));
    const named = new Set<string>();
    let completed = 0;
    const failed: { key: string; error: string; attempts: number }[] = [];
    let wake: (() => void) | null = null;
    const onEvent = ({ jobId }: { jobId: string }): void => {
      if (!pending.has(jobId)) return;
      named.add(jobId);
      wake?.();
    };
    events.on("completed", onEvent);
    events.on("failed", onEvent);
    await events.waitUntilReady();
    const check = async (key: string): Promise<void> => {
      const state = await queue.getJobState(key);
      if (state === "unknown")
        throw new ConfigError(`job ${key} is not in queue ${name}: run \`backfill run\` first`);
      if (state === "completed") {
        pending.delete(key);
        completed++;
      } else if (state === "failed") {
        const job = await queue.getJob(key);
        pending.delete(key);
        failed.push({ key, error: job?.failedReason ?? "", attempts: job?.attemptsMade ?? 0 });
      }
    };
    let last = -1;
    let fullScan = true;
    while (pending.size > 0) {
      const keys = fullScan ? [...pending] : [...named].filter((k) => pending.has(k));
      named.clear();
      for (const key of keys) await check(key);
      const changed = completed + failed.length;
      if (changed !== last) {
        last = changed;
        o.onProgress?.({ total: plan.partitions.length, completed, failed });
      }
      if (pending.size === 0) break;
      fullScan = await new Promise<boolean>((r) => {
        if (named.size > 0) return r(false);
        const t = setTimeout(() => r(true), o.pollMs ?? 2000);
        wake = () => {
          clearTimeout(t);
          r(false);
        };
      });
      wake = null;
    }
    const order = new Map(plan.partitions.map((p, i) => [p.key, i]));
    failed.sort((a, b) => order.get(a.key)! - order.get(b.key)!);
    return { total: plan.partitions.length, completed, failed };
  } finally {
    await events.close();
    await queue.close();
    eventsConnection.disconnect();
    connection.disconnect();
  }
}
