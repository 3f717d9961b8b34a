/**
 * Quality gates of pipeline v2 (DESIGN.md "Guarantees the quality gates check"). Each gate tests the data —
 * it re-runs the computation and compares — instead of trusting a declared flag:
 *
 * - `pit_ordering_check`: a guarded re-run (execute.ts `PitGuard`): events reach operators in the total
 *   order, no row is emitted after an event later than its available_at_us was fed, and no operator reads
 *   a row of its input batches before the engine fed it.
 * - `lookahead_check`: prefix truncation (engine/pit.ts) at seeded random cut times c: the run over
 *   [start, c) must reproduce, bitwise, every feature of every row with available_at_us < c. Cuts are
 *   placed just after a random row's available_at_us so each cut compares rows.
 * - `reproducibility_check`: a second run with different IO settings (synchronous load, 10-minute chunks,
 *   small batches) must give the same sha256 of the canonical output (features and labels).
 * - `partition_safety_check`: the range split at UTC midnights (DESIGN: day partitions), or at its midpoint
 *   when it lies within one day, each partition run on its own with the plan's warm-up, must equal the
 *   one-pass rows bitwise. A row whose bar straddles a non-midnight cut (ts_event_us before the cut,
 *   available_at_us after it) belongs to neither partition's output range and is excluded and counted.
 * - `max_unassigned_ratio`: trades in the range that no emitted bar contains (the dropped partial bar at a
 *   day boundary or the range end) over trades in the range.
 * - `max_null_ratio` (when the request sets it): the null share of every feature column.
 *
 * Labels look forward by design and are excluded from the PIT gates (they are in the reproducibility hash).
 * Every gate is critical: one failure rejects the run.
 */

import { ConfigError } from "../core/errors.js";
import { US_PER_DAY, utcDayStart } from "../core/time.js";
import { canonicalColumnsHash } from "../engine/hash.js";
import type { PartCache } from "../engine/part-cache.js";
import { checkPrefixTruncationColumns } from "../engine/pit.js";
import { Lake, type LakeRef } from "../lake/lake.js";
import { type FeatureRun, PitGuard, type RunOptions, runFeatures } from "./execute.js";
import type { GateResult, PipelineProgress } from "./gate-types.js";
import type { PipelinePlan } from "./plan.js";

/** Gate names in evaluation order. */
export const GATE_NAMES = [
  "pit_ordering_check",
  "lookahead_check",
  "reproducibility_check",
  "partition_safety_check",
  "max_unassigned_ratio",
  "max_null_ratio",
] as const;

/** What the gates need from the main run. */
export interface GateInput {
  readonly plan: PipelinePlan;
  /** The lake (a path is opened once by `runGates` and shared by every gate's re-runs). */
  readonly lake: LakeRef;
  readonly full: FeatureRun;
  /** sha256 of the main run's canonical output (features and labels). */
  readonly outputHash: string;
  /** Recomputes the canonical output hash of another feature run (labels included). */
  readonly hashOf: (run: FeatureRun) => string;
  /**
   * Decoded-partition cache of the run (engine/part-cache.ts): the gates' re-runs read the parts the main
   * run decoded from it instead of decoding them again — except `reproducibility_check`, whose second run
   * reads the lake itself (synchronous decode, other chunks) so that it checks the IO path too.
   */
  readonly partCache?: PartCache;
  /** Test hook: operators to use instead of the plan's (fresh instances per call). */
  readonly operators?: () => RunOptions["operators"];
  /** Called when each gate starts and ends (`gate-start`, `gate-end` with the result). */
  readonly onProgress?: (event: PipelineProgress) => void;
}

function result(
  name: string,
  passed: boolean,
  reason: string,
  details: Record<string, unknown>,
  skipped = false,
): GateResult {
  return { name, passed, critical: true, skipped, reason, details };
}

function skip(name: string, reason: string): GateResult {
  return result(name, true, reason, {}, true);
}

/** Deterministic PRNG (mulberry32) for cut placement: same seed, same cuts. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function opts(g: GateInput, extra: RunOptions = {}, cached = true): RunOptions {
  const ops = g.operators?.();
  const o = cached && g.partCache ? { ...extra, partCache: g.partCache } : extra;
  return ops ? { ...o, operators: ops } : o;
}

/** Spine + feature columns of the plan (the PIT-checked part of the output). */
function featureColumns(plan: PipelinePlan) {
  return plan.columns.filter((c) => c.role !== "label");
}

/** `pit_ordering_check`. */
export async function pitOrderingGate(g: GateInput): Promise<GateResult> {
  const guard = new PitGuard();
  const run = await runFeatures(g.plan, g.lake, opts(g, { guard }));
  const passed = guard.violationCount === 0;
  return result(
    "pit_ordering_check",
    passed,
    passed
      ? `${guard.eventsChecked} events in total order, ${guard.rowsChecked} rows emitted with no later event fed, ${guard.readsChecked} operator reads of fed rows only`
      : `${guard.violationCount} violation(s); first: ${guard.violations[0]?.message ?? ""}`,
    {
      events_checked: guard.eventsChecked,
      rows_checked: guard.rowsChecked,
      reads_checked: guard.readsChecked,
      rows: run.n,
      violations: guard.violationCount,
      examples: guard.violations.map((v) => ({ kind: v.kind, operator: v.operator, message: v.message })),
    },
  );
}

/** `lookahead_check` with `cuts` seeded cut times. */
export async function lookaheadGate(g: GateInput, cuts: number, seed: number): Promise<GateResult> {
  const { plan, full } = g;
  const avail = full.values.get("available_at_us")!;
  const candidates: number[] = [];
  for (let i = 0; i < full.n; i++) {
    const c = avail[i]! + 1;
    if (c > plan.startUs && c < plan.endUs) candidates.push(c);
  }
  if (candidates.length === 0)
    return skip("lookahead_check", "no row is knowable before the range end: nothing to cut");
  const rnd = mulberry32(seed);
  const cutsUs = [
    ...new Set(Array.from({ length: cuts }, () => candidates[Math.floor(rnd() * candidates.length)]!)),
  ].sort((a, b) => a - b);
  const names = featureColumns(plan).map((c) => c.name);
  const check = await checkPrefixTruncationColumns(
    full,
    (cut) => runFeatures(plan, g.lake, opts(g, { endUs: cut })),
    cutsUs,
    names,
  );
  const v = check.violations[0];
  return result(
    "lookahead_check",
    check.passed,
    check.passed
      ? `${check.rowsCompared} row comparisons over ${check.cuts} prefix-truncation cuts: identical`
      : `feature ${v?.column} of row ts_event_us ${v?.tsEventUs} changed when input was truncated at ${v?.cutUs} µs (full ${v?.full}, truncated ${v?.truncated}): it used data from after the row was knowable`,
    {
      cuts_us: cutsUs,
      seed,
      rows_compared: check.rowsCompared,
      violations: check.violations.slice(0, 10),
    },
  );
}

/** `reproducibility_check`: a second run with different IO settings must hash equal. */
export async function reproducibilityGate(g: GateInput): Promise<GateResult> {
  const second = await runFeatures(
    g.plan,
    g.lake,
    opts(g, { prefetch: false, chunkMs: 600_000, batchRows: 997 }, false),
  );
  const h2 = g.hashOf(second);
  const passed = h2 === g.outputHash;
  return result(
    "reproducibility_check",
    passed,
    passed ? `two runs, equal sha256 ${g.outputHash}` : `run 1 sha256 ${g.outputHash} ≠ run 2 sha256 ${h2}`,
    { sha256_run1: g.outputHash, sha256_run2: h2, rows_run1: g.full.n, rows_run2: second.n },
  );
}

/** Cut points of the partition-safety check (see the module doc). */
export function partitionCuts(plan: PipelinePlan): number[] {
  const cuts: number[] = [];
  for (let d = utcDayStart(plan.startUs) + US_PER_DAY; d < plan.endUs; d += US_PER_DAY) cuts.push(d);
  if (cuts.length > 0) return cuts;
  let mid = Math.floor((plan.startUs + plan.endUs) / 2);
  if (plan.spine.type === "clock") {
    const step = plan.spine.stepMs * 1000;
    mid = Math.floor(mid / step) * step;
  }
  return mid > plan.startUs && mid < plan.endUs ? [mid] : [];
}

/** `partition_safety_check`. */
export async function partitionSafetyGate(g: GateInput): Promise<GateResult> {
  const { plan, full } = g;
  const cuts = partitionCuts(plan);
  if (cuts.length === 0) return skip("partition_safety_check", "range too short to partition");
  const bounds = [plan.startUs, ...cuts, plan.endUs];
  const names = featureColumns(plan).map((c) => c.name);
  const ev = full.values.get("ts_event_us")!;
  const av = full.values.get("available_at_us")!;
  // expected: one-pass rows minus rows straddling a cut
  const expected: number[] = [];
  let straddling = 0;
  for (let i = 0; i < full.n; i++) {
    let k = 0;
    while (k + 1 < bounds.length - 1 && ev[i]! >= bounds[k + 1]!) k++;
    if (av[i]! > bounds[k + 1]!) straddling++;
    else expected.push(i);
  }
  const mismatches: Record<string, unknown>[] = [];
  let got = 0;
  let compared = 0;
  for (let k = 0; k + 1 < bounds.length; k++) {
    const part = await runFeatures(plan, g.lake, opts(g, { startUs: bounds[k]!, endUs: bounds[k + 1]! }));
    for (let r = 0; r < part.n; r++, got++) {
      const i = expected[got];
      if (i === undefined) {
        if (mismatches.length < 10)
          mismatches.push({ partition: k, row: r, problem: "row not in the one-pass output" });
        continue;
      }
      compared++;
      for (const name of names) {
        const a = full.values.get(name)![i]!;
        const b = part.values.get(name)![r]!;
        if (!Object.is(a, b)) {
          if (mismatches.length < 10)
            mismatches.push({
              partition: k,
              column: name,
              ts_event_us: ev[i],
              one_pass: Number.isNaN(a) ? null : a,
              partitioned: Number.isNaN(b) ? null : b,
            });
        }
      }
    }
  }
  if (got !== expected.length && mismatches.length < 10)
    mismatches.push({
      problem: `partitions produced ${got} rows, one pass ${expected.length} (excluding ${straddling} straddling)`,
    });
  const passed = mismatches.length === 0 && got === expected.length;
  const first = mismatches[0];
  return result(
    "partition_safety_check",
    passed,
    passed
      ? `${bounds.length - 1} partitions with warm-up reproduce ${compared} one-pass rows bitwise (${straddling} row(s) straddling a cut excluded)`
      : `partitioned run differs from one pass: ${JSON.stringify(first)}`,
    {
      cuts_us: cuts,
      partitions: bounds.length - 1,
      rows_compared: compared,
      straddling_rows_excluded: straddling,
      warmup_us: plan.warmupUs,
      mismatches,
    },
  );
}

/** `max_unassigned_ratio`: unassigned trades / trades in range ≤ max. */
export function unassignedGate(full: FeatureRun, max: number): GateResult {
  const { tradesInRange, unassignedTrades } = full.summary.spine;
  const ratio = tradesInRange > 0 ? unassignedTrades / tradesInRange : 0;
  const passed = ratio <= max;
  return result(
    "max_unassigned_ratio",
    passed,
    `${unassignedTrades} of ${tradesInRange} trades in range are in no emitted bar (ratio ${ratio.toPrecision(4)}, max ${max})`,
    { unassigned_trades: unassignedTrades, trades_in_range: tradesInRange, ratio, max },
  );
}

/** `max_null_ratio`: every feature column's null share ≤ max. */
export function nullRatioGate(plan: PipelinePlan, full: FeatureRun, max: number): GateResult {
  const over: { column: string; null_ratio: number }[] = [];
  for (const name of plan.featureNames) {
    const v = full.values.get(name)!;
    let nulls = 0;
    for (let i = 0; i < full.n; i++) if (Number.isNaN(v[i]!)) nulls++;
    const r = full.n > 0 ? nulls / full.n : 0;
    if (r > max) over.push({ column: name, null_ratio: r });
  }
  return result(
    "max_null_ratio",
    over.length === 0,
    over.length === 0
      ? `every feature has null ratio ≤ ${max}`
      : `${over.length} feature(s) above ${max}: ${over.map((o) => `${o.column} ${o.null_ratio.toFixed(4)}`).join(", ")}`,
    { max, over },
  );
}

/** Runs every gate the request's constraints enable, in `GATE_NAMES` order; each reports its `elapsed_ms`. */
export async function runGates(input: GateInput): Promise<GateResult[]> {
  const g: GateInput = { ...input, lake: await Lake.from(input.lake) };
  const c = g.plan.request.constraints;
  const out: GateResult[] = [];
  const timed = async (gate: string, run: () => GateResult | Promise<GateResult>): Promise<void> => {
    g.onProgress?.({ kind: "gate-start", gate });
    const t = performance.now();
    const r = await run();
    const done = {
      ...r,
      details: { ...r.details, elapsed_ms: Math.round((performance.now() - t) * 10) / 10 },
    };
    out.push(done);
    g.onProgress?.({ kind: "gate-end", result: done });
  };
  await timed("pit_ordering_check", () =>
    c.require_pit_ordering === false
      ? skip("pit_ordering_check", "disabled by constraints.require_pit_ordering = false")
      : pitOrderingGate(g),
  );
  await timed("lookahead_check", () =>
    c.forbid_lookahead === false
      ? skip("lookahead_check", "disabled by constraints.forbid_lookahead = false")
      : lookaheadGate(g, c.lookahead_cuts ?? 5, c.seed ?? 42),
  );
  const repro = c.skip_reproducibility_check !== true && c.check_reproducibility !== false;
  await timed("reproducibility_check", () =>
    repro
      ? reproducibilityGate(g)
      : skip("reproducibility_check", "skipped by constraints (skip_reproducibility_check)"),
  );
  await timed("partition_safety_check", () =>
    c.check_partition_safety === false
      ? skip("partition_safety_check", "disabled by constraints.check_partition_safety = false")
      : partitionSafetyGate(g),
  );
  await timed("max_unassigned_ratio", () => {
    if (c.max_unassigned_ratio !== undefined) return unassignedGate(g.full, c.max_unassigned_ratio);
    const r = unassignedGate(g.full, 1);
    return { ...r, passed: true, skipped: true, reason: `no max_unassigned_ratio constraint; ${r.reason}` };
  });
  if (c.max_null_ratio !== undefined) {
    const max = c.max_null_ratio;
    await timed("max_null_ratio", () => nullRatioGate(g.plan, g.full, max));
  }
  return out;
}

/**
 * Canonical sha256 (engine/hash.ts) of the frame of `columns`, from the typed values: equal to
 * `canonicalFrameHash(frameOf(columns, values))`. @throws ConfigError when a column is missing.
 */
export function hashColumns(
  columns: readonly { readonly name: string; readonly dtype: "Int64" | "Float64" }[],
  values: ReadonlyMap<string, Float64Array>,
): string {
  let n = -1;
  for (const c of columns) {
    const v = values.get(c.name);
    if (!v) throw new ConfigError(`no column ${c.name}`);
    n = n < 0 ? v.length : n;
  }
  return canonicalColumnsHash(columns, values, Math.max(n, 0));
}
