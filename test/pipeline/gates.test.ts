/**
 * Quality gates on the real captures: each gate passes on honest user aggregations and fails on a
 * deliberately broken one (registered through the public `register`, as a researcher would):
 *
 * - peek: at emit, reads the trade 50 rows ahead in its current batch (a lookahead bug) → fails
 *   pit_ordering_check (read of a row not yet fed) and lookahead_check (values change under truncation);
 * - peek_next: reads only the next trade → fails pit_ordering_check;
 * - nondeterministic: outputs a counter shared by all instances → fails reproducibility_check;
 * - since_start: a trade count since the replay started, never reset (depends on where the computation
 *   started) → fails partition_safety_check on the capture crossing midnight and on a one-day range, and
 *   passes reproducibility_check (it is deterministic);
 * - a spine threshold so large that every trade stays unassigned → fails max_unassigned_ratio.
 * Reference counts (the honest aggregation's trade counts per 1 s bar) are recomputed from the raw trades.
 */

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { z } from "zod";
import type { OperatorReads } from "../../src/engine/inputs.js";
import type { EventCursor, JsonValue, Operator, SpineRow } from "../../src/engine/operator.js";
import { stateNumber, stateObject } from "../../src/engine/operator.js";
import { runFeatures } from "../../src/pipeline/execute.js";
import { type GateInput, partitionCuts, runGates } from "../../src/pipeline/gates.js";
import { planPipeline } from "../../src/pipeline/plan.js";
import {
  type AggregationContext,
  type AggregationSpec,
  OperatorRegistry,
} from "../../src/pipeline/registry.js";
import { validateRequest } from "../../src/pipeline/request.js";
import { runPipeline } from "../../src/pipeline/run.js";
import { captureLake, rawEvents, W2023, W2024 } from "../helpers/lake.js";

type Kind = "honest" | "peek" | "peek_next" | "nondeterministic" | "since_start";

/** Shared across instances on purpose (the nondeterministic aggregation's bug). */
const SHARED = { counter: 0 };

class CountOp implements Operator {
  readonly inputs = ["trades"] as const;
  readonly reads: OperatorReads = { trades: { qty_int: "f64" } };
  readonly outputs;
  private n = 0;
  private total = 0;
  private rows: EventCursor["rows"] | null = null;
  private i = 0;

  constructor(
    readonly id: string,
    name: string,
    private readonly kind: Kind,
  ) {
    this.outputs = [{ name, dtype: "f64" as const, unit: "1", warmupRows: 0 }];
  }

  onEvent(ev: EventCursor): void {
    if (ev.continuation) return;
    this.n++;
    this.total++;
    this.rows = ev.rows;
    this.i = ev.i;
  }

  emit(_row: SpineRow, out: readonly Float64Array[], r: number): void {
    let v = this.n;
    if (this.kind === "peek" || this.kind === "peek_next") {
      const ahead = this.kind === "peek" ? 50 : 1;
      const rows = this.rows;
      if (rows && this.i + ahead < rows.length)
        v += (rows.columns.qty_int as Float64Array)[this.i + ahead]! * 1e-9;
    } else if (this.kind === "nondeterministic") v = ++SHARED.counter;
    else if (this.kind === "since_start") v = this.total;
    out[0]![r] = v;
    this.n = 0;
  }

  discardBar(): void {
    this.n = 0;
  }

  snapshot(): JsonValue {
    return { n: this.n, total: this.total };
  }

  restore(state: JsonValue): void {
    const s = stateObject(state, this.id);
    this.n = stateNumber(s, "n");
    this.total = stateNumber(s, "total");
  }
}

function countAgg(name: string, kind: Kind): AggregationSpec {
  return {
    name,
    description: `trades in the bar (${kind})`,
    requiredColumns: ["qty_int"],
    modeAllowlist: ["bar_then_feature", "tick_then_bar", "event_joined"],
    stage: "aggregate_then_feature",
    semanticType: "event_id",
    pitPolicy: { featureDirection: "backward_only", window: "trades in the bar" },
    determinism: { requiredSort: ["ts_local_us"] },
    version: "1",
    joinStrategies: ["in_bar"],
    params: z.object({}).strict(),
    outputs: () => [{ name, dtype: "f64", unit: "1", warmupRows: 0 }],
    impl: (ctx: AggregationContext) => new CountOp(ctx.operatorName, ctx.outputNames[0]!, kind),
  };
}

function registry(): OperatorRegistry {
  const r = new OperatorRegistry();
  for (const k of ["honest", "peek", "peek_next", "nondeterministic", "since_start"] as const)
    r.register(countAgg(`count_${k}`, k));
  return r;
}

function request(
  agg: string,
  window: { start: string; end: string },
  spine: Record<string, unknown> = { type: "clock", config: { step_ms: 1000 } },
  constraints: Record<string, unknown> = {},
) {
  return {
    schema_version: "2.0",
    request_id: `gate_${agg}`,
    mode: "bar_then_feature",
    timeline: window,
    sources: [{ name: "t", table: "trades", filters: { exchange: "binance-futures", symbol: "BTCUSDT" } }],
    spine,
    operators: [{ name: "c", agg, source: "t" }],
    labels: [],
    evaluation: { metrics: [{ type: "row_count" }] },
    constraints: { max_unassigned_ratio: 0.05, lookahead_cuts: 4, seed: 7, ...constraints },
    artifacts: { output_dir: "x" },
  };
}

async function gates(lake: string, req: unknown) {
  const reg = registry();
  const v = validateRequest(req, reg);
  assert.ok(v.ok, JSON.stringify(v.problems));
  const plan = await planPipeline(v.request, reg, lake);
  const full = await runFeatures(plan, lake);
  const cols = plan.columns;
  const { hashColumns } = await import("../../src/pipeline/gates.js");
  const g: GateInput = {
    plan,
    lake,
    full,
    outputHash: hashColumns(cols, full.values),
    hashOf: (run) => hashColumns(cols, run.values),
  };
  const results = await runGates(g);
  return { results, full, plan, byName: new Map(results.map((r) => [r.name, r])) };
}

describe("quality gates on the 2024 capture (1 s clock)", () => {
  let lake = "";
  let cleanup = (): void => {};
  before(async () => {
    ({ lake, cleanup } = await captureLake(["usdm2024"]));
  });
  after(() => cleanup());

  it("honest aggregation: every gate passes, counts equal a raw recount", async () => {
    const { byName, full } = await gates(
      lake,
      request("count_honest", W2024, undefined, { warmup_ms: 60_000 }),
    );
    for (const [name, r] of byName) assert.ok(r.passed && !r.skipped, `${name}: ${r.reason}`);
    // independent reference: trades per half-open 1 s bar from the raw rows
    const raw = await rawEvents(lake, "binance-futures", "BTCUSDT", W2024.start, W2024.end);
    const ts = raw.trades.columns.ts_local_us as Float64Array;
    const ev = full.values.get("ts_event_us")!;
    const c = full.values.get("count_honest")!;
    assert.ok(full.n > 300);
    for (let r = 0; r < full.n; r++) {
      let k = 0;
      for (let i = 0; i < ts.length; i++) if (ts[i]! >= ev[r]! && ts[i]! < ev[r]! + 1_000_000) k++;
      assert.equal(c[r], k, `bar ${ev[r]}`);
    }
    const pit = byName.get("pit_ordering_check")!;
    assert.ok((pit.details.events_checked as number) >= ts.length);
    assert.ok((pit.details.reads_checked as number) === 0); // the honest op reads no batch column
    assert.ok((byName.get("lookahead_check")!.details.rows_compared as number) > 0);
    assert.ok((byName.get("partition_safety_check")!.details.rows_compared as number) === full.n);
  });

  it("peeking 50 trades ahead fails pit_ordering_check and lookahead_check", async () => {
    const { byName } = await gates(lake, request("count_peek", W2024));
    const pit = byName.get("pit_ordering_check")!;
    assert.equal(pit.passed, false);
    assert.match(pit.reason, /read trades\.qty_int of row \d+ .* before the engine fed it/);
    const la = byName.get("lookahead_check")!;
    assert.equal(la.passed, false, la.reason);
    assert.match(la.reason, /changed when input was truncated/);
  });

  it("peeking one trade ahead fails pit_ordering_check", async () => {
    const { byName } = await gates(lake, request("count_peek_next", W2024));
    assert.equal(byName.get("pit_ordering_check")!.passed, false);
  });

  it("a counter shared across runs fails reproducibility_check", async () => {
    const { byName } = await gates(lake, request("count_nondeterministic", W2024));
    const r = byName.get("reproducibility_check")!;
    assert.equal(r.passed, false);
    assert.notEqual(r.details.sha256_run1, r.details.sha256_run2);
  });

  it("a count since the replay start fails partition_safety_check (midpoint split) but is reproducible", async () => {
    // warm-up 60 s: the second partition's replay must start after the capture's first event (23:54:14),
    // or both runs see the same events and a since-start count cannot differ
    const { byName, plan } = await gates(
      lake,
      request("count_since_start", W2024, undefined, { warmup_ms: 60_000 }),
    );
    assert.deepEqual(partitionCuts(plan), [Date.parse("2024-08-08T23:57:00Z") * 1000]);
    assert.equal(byName.get("partition_safety_check")!.passed, false);
    assert.equal(byName.get("reproducibility_check")!.passed, true);
    assert.equal(byName.get("lookahead_check")!.passed, true);
  });

  it("a volume threshold no bar reaches fails max_unassigned_ratio; ratio = unassigned / trades in range", async () => {
    const spine = { type: "volume", config: { volume_threshold: 1e7 } };
    const { byName, full } = await gates(lake, request("count_honest", W2024, spine));
    const g = byName.get("max_unassigned_ratio")!;
    assert.equal(full.n, 0);
    assert.equal(g.passed, false);
    const raw = await rawEvents(lake, "binance-futures", "BTCUSDT", W2024.start, W2024.end);
    assert.equal(g.details.trades_in_range, raw.trades.length);
    assert.equal(g.details.ratio, 1);
  });

  it("disabled gates are reported as skipped, not passed silently", async () => {
    const req = request("count_peek", W2024, undefined, {
      forbid_lookahead: false,
      require_pit_ordering: false,
      skip_reproducibility_check: true,
      check_partition_safety: false,
    });
    const { results } = await gates(lake, req);
    const skipped = results.filter((r) => r.skipped).map((r) => r.name);
    assert.deepEqual(skipped, [
      "pit_ordering_check",
      "lookahead_check",
      "reproducibility_check",
      "partition_safety_check",
    ]);
  });

  it("runPipeline rejects the leaky request with the failed gates as reasons (no artifacts)", async () => {
    const out = await runPipeline(request("count_peek", W2024), {
      lake,
      registry: registry(),
      writeArtifacts: false,
    });
    assert.equal(out.decision.status, "reject");
    // peeking also depends on where batches start, so partition safety fails as well
    assert.deepEqual(out.quality_gates.failed_gates, [
      "pit_ordering_check",
      "lookahead_check",
      "partition_safety_check",
    ]);
    assert.equal(out.decision.reasons.length, 3);
    assert.ok(out.decision.reasons.every((r, i) => r.startsWith(`${out.quality_gates.failed_gates[i]}: `)));
    const ok = await runPipeline(request("count_honest", W2024), {
      lake,
      registry: registry(),
      writeArtifacts: false,
    });
    assert.equal(ok.decision.status, "accept", ok.decision.reasons.join("; "));
  });
});

describe("partition safety across a UTC midnight (2023 capture)", () => {
  let lake = "";
  let cleanup = (): void => {};
  before(async () => {
    ({ lake, cleanup } = await captureLake(["usdm2023a", "usdm2023b"]));
  });
  after(() => cleanup());

  it("day partitions with warm-up equal one pass (volume and clock spines); a since-start count does not", async () => {
    const spine = { type: "volume", config: { volume_threshold: 5 } };
    const honest = await gates(lake, request("count_honest", W2023, spine));
    assert.deepEqual(partitionCuts(honest.plan), [Date.parse("2023-04-05T00:00:00Z") * 1000]);
    const ps = honest.byName.get("partition_safety_check")!;
    assert.ok(ps.passed, ps.reason);
    assert.equal(ps.details.straddling_rows_excluded, 0); // event bars reset at midnight
    assert.equal(ps.details.rows_compared, honest.full.n);
    const clock = await gates(lake, request("count_honest", W2023));
    assert.ok(clock.byName.get("partition_safety_check")!.passed);
    // an event spine replays from the UTC midnight before start − warm-up in every partition, so a
    // since-start count only differs on the clock spine, whose replay starts at start − warm-up exactly
    const bad = await gates(lake, request("count_since_start", W2023, undefined, { warmup_ms: 60_000 }));
    assert.equal(bad.byName.get("partition_safety_check")!.passed, false);
  });
});
