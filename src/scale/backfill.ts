/**
 * Distributed backfill, the part that needs no queue: the plan (symbols × UTC days → partition jobs,
 * each replaying its own warm-up), running one partition (atomic, idempotent: a retried partition
 * replaces the file, never duplicates it) and the final merge (manifests merged, every partition
 * checked present and intact, content hashes per symbol and overall). scale/queue.ts runs the plan's
 * jobs on BullMQ; `runBackfillLocal` runs them in this process (the single-process reference).
 *
 * Layout under the plan's `out_dir`: `plan.json`; per partition `<exchange>/<symbol>/<YYYY-MM-DD>.parquet`
 * with the `features build` manifest beside it and a done marker `<…>.parquet.done.json` (job key,
 * rows, content and file sha256), written atomically after the data file, so a partition is complete
 * iff its marker exists and matches the file; `backfill.json`, the merged manifest.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import pl from "nodejs-polars";
import { canonicalJsonSha256 } from "../core/canonical-json.js";
import { ConfigError } from "../core/errors.js";
import { toUs, US_PER_DAY, usToIso, utcDate } from "../core/time.js";
import type { DriverSnapshot } from "../engine/driver.js";
import { CanonicalHasher } from "../engine/hash.js";
import { type FeatureRunConfig, parseFeatureRunConfig } from "../features/config.js";
import { planFeatureFrame } from "../features/frame.js";
import { writeFeatureFrame } from "../features/output.js";
import { sha256File } from "../lake/hash.js";
import { writeFileAtomic } from "../lake/layout.js";
import { type ManySymbolsRequest, resolveSymbols } from "./symbols.js";

/** One partition job: one instrument over one UTC day (clipped to the range). */
export interface BackfillPartition {
  /** Job key: unique per plan and partition (the BullMQ job id). */
  readonly key: string;
  readonly exchange: string;
  readonly symbol: string;
  /** UTC date YYYY-MM-DD. */
  readonly date: string;
  /** Output range [start_us, end_us) of the partition, µs. */
  readonly start_us: number;
  readonly end_us: number;
  /** History replayed before start_us (the run's warm-up), µs. */
  readonly warmup_us: number;
  /** Output file (absolute). */
  readonly out: string;
}

/** The plan (`plan.json`). */
export interface BackfillPlan {
  readonly kind: "pointline.backfill_plan";
  readonly version: 1;
  /** sha256 of the canonical JSON of lake, range, config and partitions. */
  readonly plan_id: string;
  readonly lake: string;
  readonly out_dir: string;
  readonly range: {
    readonly start_us: number;
    readonly end_us: number;
    readonly start: string;
    readonly end: string;
  };
  readonly config: FeatureRunConfig;
  /** Partition hand-off on (see `BackfillPlanRequest.handoff`). */
  readonly handoff: boolean;
  readonly partitions: readonly BackfillPartition[];
}

/** Request of `planBackfill`. */
export interface BackfillPlanRequest extends ManySymbolsRequest {
  /**
   * Partition hand-off: each partition saves its Driver end state, and the next day's partition of the
   * same instrument starts from it when it exists (instead of replaying its warm-up). Default false.
   */
  readonly handoff?: boolean;
}

const PLAN_FILE = "plan.json";
const MERGED_FILE = "backfill.json";

/** Path of a plan's file under its out dir. */
export const planPath = (outDir: string): string => join(resolve(outDir), PLAN_FILE);

/** Job-key-safe text (BullMQ ids may not contain ':'). */
const safe = (s: string): string => s.replace(/[^A-Za-z0-9._-]/g, "_");

/**
 * Splits symbols × UTC days of [start, end) into partitions and writes `plan.json` (atomically).
 * @throws ConfigError for an invalid range, config or selection.
 */
export async function planBackfill(req: BackfillPlanRequest): Promise<BackfillPlan> {
  const startUs = toUs(req.start);
  const endUs = toUs(req.end);
  if (!(endUs > startUs)) throw new ConfigError(`end (${endUs}) must be after start (${startUs})`);
  const config = parseFeatureRunConfig(req.config ?? {});
  const lake = resolve(req.lake);
  const outDir = resolve(req.outDir);
  const refs = await resolveSymbols(lake, req.selection, startUs, endUs);
  const base: Omit<BackfillPartition, "key">[] = [];
  for (const r of refs) {
    for (let d = Math.floor(startUs / US_PER_DAY) * US_PER_DAY; d < endUs; d += US_PER_DAY) {
      const s = Math.max(d, startUs);
      const e = Math.min(d + US_PER_DAY, endUs);
      const plan = await planFeatureFrame({
        lake,
        exchange: r.exchange,
        symbol: r.symbol,
        start: s,
        end: e,
        config,
      });
      const date = utcDate(d);
      base.push({
        exchange: r.exchange,
        symbol: r.symbol,
        date,
        start_us: s,
        end_us: e,
        warmup_us: plan.warmupUs,
        out: join(outDir, r.exchange, r.symbol, `${date}.parquet`),
      });
    }
  }
  const planId = canonicalJsonSha256({ lake, start_us: startUs, end_us: endUs, config, partitions: base });
  const partitions = base.map((p) => ({
    ...p,
    key: `${planId.slice(0, 16)}__${safe(p.exchange)}__${safe(p.symbol)}__${p.date}`,
  }));
  const plan: BackfillPlan = {
    kind: "pointline.backfill_plan",
    version: 1,
    plan_id: planId,
    lake,
    out_dir: outDir,
    range: { start_us: startUs, end_us: endUs, start: usToIso(startUs), end: usToIso(endUs) },
    config,
    handoff: req.handoff ?? false,
    partitions,
  };
  await writeFileAtomic(planPath(outDir), `${JSON.stringify(plan, null, 2)}\n`);
  return plan;
}

/** Reads a plan file. @throws ConfigError naming the file when it is missing or not a plan. */
export async function readBackfillPlan(path: string): Promise<BackfillPlan> {
  let v: unknown;
  try {
    v = JSON.parse(await readFile(path, "utf8"));
  } catch (e) {
    throw new ConfigError(
      `--plan ${path}: cannot read the plan: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
  const p = v as Partial<BackfillPlan>;
  if (p.kind !== "pointline.backfill_plan" || p.version !== 1 || !Array.isArray(p.partitions))
    throw new ConfigError(`--plan ${path}: not a backfill plan (kind pointline.backfill_plan, version 1)`);
  return v as BackfillPlan;
}

/** What a partition job needs (the BullMQ job data): self-contained, plain JSON. */
export interface PartitionJob {
  readonly plan_id: string;
  readonly lake: string;
  readonly config: FeatureRunConfig;
  readonly partition: BackfillPartition;
  /** Hand-off plan: save the Driver end state beside the output (`<out>.state.json`). */
  readonly save_state: boolean;
  /** With hand-off: the previous partition of the instrument, when contiguous (its end = this start). */
  readonly previous?: { readonly key: string; readonly out: string };
}

/** The jobs of a plan, in plan order. */
export function partitionJobs(plan: BackfillPlan): PartitionJob[] {
  return plan.partitions.map((partition, i) => {
    const prev = i > 0 ? plan.partitions[i - 1]! : null;
    const contiguous =
      prev !== null &&
      prev.exchange === partition.exchange &&
      prev.symbol === partition.symbol &&
      prev.end_us === partition.start_us;
    return {
      plan_id: plan.plan_id,
      lake: plan.lake,
      config: plan.config,
      partition,
      save_state: plan.handoff,
      ...(plan.handoff && contiguous ? { previous: { key: prev.key, out: prev.out } } : {}),
    };
  });
}

/** The done marker of a partition (`<out>.done.json`). */
export interface PartitionDone {
  readonly key: string;
  readonly plan_id: string;
  readonly rows: number;
  readonly content_sha256: string;
  /** sha256 of the data file's bytes. */
  readonly sha256: string;
  /** The partition whose end state this run started from (hand-off), or null (warm-up replayed). */
  readonly handoff_from: string | null;
}

const donePath = (p: BackfillPartition): string => `${p.out}.done.json`;

/** Whether a partition's output and done marker are on disk (not checked against each other: see `mergeBackfill`). */
export function partitionDone(p: BackfillPartition): boolean {
  return existsSync(donePath(p)) && existsSync(p.out);
}
const statePath = (out: string): string => `${out}.state.json`;

/** A partition's saved Driver end state (`<out>.state.json`, hand-off plans only). */
interface PartitionState {
  readonly plan_id: string;
  readonly key: string;
  readonly snapshot: DriverSnapshot;
}

/** The previous partition's end state when it exists and belongs to this plan, else null. */
async function handoffState(job: PartitionJob): Promise<PartitionState | null> {
  if (!job.previous) return null;
  const path = statePath(job.previous.out);
  if (!existsSync(path)) return null;
  const st = JSON.parse(await readFile(path, "utf8")) as PartitionState;
  return st.plan_id === job.plan_id && st.key === job.previous.key ? st : null;
}

/**
 * Computes one partition and writes it: the frame (temp file + rename: a retry replaces it), its
 * manifest, then the done marker (atomic). Idempotent: running a partition again gives the same file.
 * @throws whatever the run throws (e.g. a corrupt lake part, named in the message).
 */
export async function runPartition(job: PartitionJob): Promise<PartitionDone> {
  const p = job.partition;
  const from = await handoffState(job);
  let end: DriverSnapshot | null = null;
  const m = await writeFeatureFrame(
    {
      lake: job.lake,
      exchange: p.exchange,
      symbol: p.symbol,
      start: p.start_us,
      end: p.end_us,
      config: job.config,
      prefetch: false,
      ...(from ? { handoff: from.snapshot } : {}),
      ...(job.save_state
        ? {
            onEndSnapshot: (s: DriverSnapshot) => {
              end = s;
            },
          }
        : {}),
    },
    p.out,
  );
  if (end !== null) {
    const st: PartitionState = { plan_id: job.plan_id, key: p.key, snapshot: end };
    await writeFileAtomic(statePath(p.out), JSON.stringify(st));
  }
  const done: PartitionDone = {
    key: p.key,
    plan_id: job.plan_id,
    rows: m.row_count,
    content_sha256: m.content_sha256,
    sha256: m.output.sha256,
    handoff_from: from ? from.key : null,
  };
  await writeFileAtomic(donePath(p), `${JSON.stringify(done, null, 2)}\n`);
  return done;
}

/** Runs every partition of the plan in this process, in plan order (the single-process reference). */
export async function runBackfillLocal(
  plan: BackfillPlan,
  onDone?: (p: BackfillPartition, done: number) => void,
): Promise<void> {
  let n = 0;
  for (const job of partitionJobs(plan)) {
    await runPartition(job);
    onDone?.(job.partition, ++n);
  }
}

/** The merged manifest (`backfill.json`). */
export interface BackfillMerged {
  readonly kind: "pointline.backfill";
  readonly version: 1;
  readonly plan_id: string;
  /** True iff every partition is present and intact. */
  readonly complete: boolean;
  readonly partitions: number;
  readonly rows: number;
  /** Partitions without a valid done marker, or whose file does not match it, with the reason. */
  readonly missing: readonly { readonly key: string; readonly reason: string }[];
  /** Per instrument: rows and the content hash of its partitions concatenated in day order. */
  readonly instruments: readonly {
    readonly exchange: string;
    readonly symbol: string;
    readonly rows: number;
    readonly content_sha256: string;
  }[];
  /** Content hash of every partition concatenated in plan order (null if incomplete). */
  readonly content_sha256: string | null;
  readonly done: readonly PartitionDone[];
}

/**
 * The final step: checks every partition (done marker present, of this plan, file sha256 equal to the
 * marker's), merges the markers and hashes the content per instrument and overall; writes
 * `backfill.json`. Hashes are computed only when complete.
 */
export async function mergeBackfill(plan: BackfillPlan): Promise<BackfillMerged> {
  const missing: { key: string; reason: string }[] = [];
  const done: PartitionDone[] = [];
  for (const p of plan.partitions) {
    const mp = donePath(p);
    if (!existsSync(mp) || !existsSync(p.out)) {
      missing.push({ key: p.key, reason: `no output (${p.out})` });
      continue;
    }
    const d = JSON.parse(await readFile(mp, "utf8")) as PartitionDone;
    if (d.plan_id !== plan.plan_id || d.key !== p.key) {
      missing.push({ key: p.key, reason: `done marker ${mp} belongs to another plan or partition` });
      continue;
    }
    const { sha256 } = await sha256File(p.out);
    if (sha256 !== d.sha256) {
      missing.push({ key: p.key, reason: `${p.out} does not match its done marker (sha256 ${sha256})` });
      continue;
    }
    done.push(d);
  }
  const complete = missing.length === 0;
  const instruments: BackfillMerged["instruments"][number][] = [];
  let contentSha: string | null = null;
  if (complete) {
    const all = new CanonicalHasher();
    let cur: { exchange: string; symbol: string; rows: number; h: CanonicalHasher } | null = null;
    const close = (): void => {
      if (cur)
        instruments.push({
          exchange: cur.exchange,
          symbol: cur.symbol,
          rows: cur.rows,
          content_sha256: cur.h.digest(),
        });
    };
    for (const p of plan.partitions) {
      if (!cur || cur.exchange !== p.exchange || cur.symbol !== p.symbol) {
        close();
        cur = { exchange: p.exchange, symbol: p.symbol, rows: 0, h: new CanonicalHasher() };
      }
      const df = pl.readParquet(p.out);
      cur.h.add(df);
      cur.rows += df.height;
      all.add(df);
    }
    close();
    contentSha = all.digest();
  }
  const merged: BackfillMerged = {
    kind: "pointline.backfill",
    version: 1,
    plan_id: plan.plan_id,
    complete,
    partitions: plan.partitions.length,
    rows: done.reduce((a, d) => a + d.rows, 0),
    missing,
    instruments,
    content_sha256: contentSha,
    done,
  };
  await writeFileAtomic(join(plan.out_dir, MERGED_FILE), `${JSON.stringify(merged, null, 2)}\n`);
  return merged;
}
