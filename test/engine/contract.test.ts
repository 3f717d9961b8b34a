/**
 * Contract tests over the registries, not over hand-picked lists: for every registered operator
 * (test/helpers/contract.ts), on the real binance-futures BTCUSDT 2023-04-04/05 capture (crosses a UTC
 * midnight; trades, L1, L2 and the mark-price ticker), on a 1 s clock and on 5 BTC volume bars:
 *
 * - outputs match the registry's declaration (names, units, and Int64 outputs hold integers);
 * - a Driver snapshot at seeded random events, restored into fresh operator instances, continues
 *   bitwise identically;
 * - prefix truncation at seeded cuts finds no lookahead;
 * - determinism: a second run (other IO: prefetch worker, small chunks and batches) is bitwise equal;
 * - warm-up invariance: a run started 4 minutes later, with the declared warm-up, reproduces the rows.
 *
 * Every operator runs in one Driver per run; a failure names the operator and column.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { toUs, US_PER_MS } from "../../src/core/time.js";
import type { DriverSnapshot } from "../../src/engine/driver.js";
import type { Operator } from "../../src/engine/operator.js";
import { PartCache } from "../../src/engine/part-cache.js";
import { type ColumnRows, checkPrefixTruncationColumns } from "../../src/engine/pit.js";
import { type FeatureBatch, Replay } from "../../src/engine/replay.js";
import { parseSpineSpec, type SpineSpecInput } from "../../src/engine/spine-spec.js";
import { clockWarmupUs } from "../../src/features/frame.js";
import { queryFrame } from "../../src/query/query.js";
import type { TableName } from "../../src/schema/tables.js";
import {
  type ContractOperator,
  crossVenueOperator,
  presetOperators,
  registeredOperators,
} from "../helpers/contract.js";
import { captureLake, W2023, W2024 } from "../helpers/lake.js";
import { concatBatches } from "../helpers/restore.js";

/** A capture window to run the contract on (the 2023 capture crosses a UTC midnight). */
interface Window {
  readonly startUs: number;
  readonly endUs: number;
  readonly crossVenue?: { readonly exchange: string; readonly symbol: string };
}
const W_2023: Window = { startUs: toUs(W2023.start), endUs: toUs(W2023.end) };
const SPOT = { exchange: "binance", symbol: "BTCUSDT" };
const SPINE_NAMES = ["ts_event_us", "ts_end_us", "available_at_us", "bar_index", "bar_duration_us"];

interface Run {
  readonly rows: ColumnRows;
  readonly names: readonly string[];
  readonly events: number;
  readonly snapshots: DriverSnapshot[];
}

const SPINES: readonly [string, SpineSpecInput][] = [
  ["1 s clock", { type: "clock", stepMs: 1000 }],
  ["5 BTC volume bars", { type: "volume", volumeThreshold: 5 }],
];

describe("operator contract over every registered operator", () => {
  let lake: { lake: string; cleanup: () => void };
  before(async () => {
    lake = await captureLake(["usdm2023a", "usdm2023b"]);
  });
  after(() => lake?.cleanup());

  for (const [label, spine] of SPINES) {
    it(`holds on the ${label}`, async () => {
      assert.ok(registeredOperators(parseSpineSpec(spine)).length >= 50);
      await checkContract(lake.lake, spine, registeredOperators(parseSpineSpec(spine)));
    });
  }

  // The derivatives preset is built for bar spines (1 m / 5 m bars) and declares warm-ups of up to 7 days
  // (cumulative_funding_7d): on a 1 s clock that is 604,800 warm-up rows per run, so its clock case runs
  // on a 5 s clock (the same contract checks, > 100 rows in the window; the spine step is a parameter of
  // the operators).
  const PRESET_SPINES: readonly [string, SpineSpecInput][] = [
    ["5 s clock", { type: "clock", stepMs: 5_000 }],
    ["5 BTC volume bars", { type: "volume", volumeThreshold: 5 }],
  ];
  for (const [label, spine] of PRESET_SPINES) {
    it(`holds for the presets (derivatives) on the ${label}`, async () => {
      await checkContract(lake.lake, spine, presetOperators(parseSpineSpec(spine)));
    });
  }

  it("fails an operator whose state does not round-trip, naming it", async () => {
    const spine = SPINES[1]![1];
    const honest = registeredOperators(parseSpineSpec(spine)).find((o) =>
      o.label.startsWith("aggregation trade_count"),
    )!;
    const forgetful: ContractOperator = {
      ...honest,
      label: "aggregation forgetful_count",
      make: () => {
        const op = honest.make();
        op.restore = () => {}; // state silently dropped on restore
        return op;
      },
    };
    await assert.rejects(checkContract(lake.lake, spine, [forgetful]), /restored at event .*forgetful_count/);
  });

  it("holds for the cross-venue family (binance-futures vs binance spot BTCUSDT, 2024-08-08, 1 s clock)", async () => {
    const pair = await captureLake(["usdm2024", "spot2024"]);
    try {
      const spine = SPINES[0]![1];
      await checkContract(pair.lake, spine, [crossVenueOperator(parseSpineSpec(spine), SPOT)], {
        startUs: toUs(W2024.start),
        endUs: toUs(W2024.end),
        crossVenue: SPOT,
      });
    } finally {
      pair.cleanup();
    }
  });
});

/** Runs every check of the module doc over `ops` in one Driver per run. @throws AssertionError naming the operator. */
async function checkContract(
  lakeRoot: string,
  spine: SpineSpecInput,
  ops: readonly ContractOperator[],
  w: Window = W_2023,
): Promise<void> {
  const START = w.startUs;
  const END = w.endUs;
  const owner = new Map<string, string>();
  for (const o of ops) for (const d of o.declared) owner.set(d.name, o.label);
  const who = (col: string) => `${owner.get(col) ?? "spine"} column ${col}`;
  const maxWarmupRows = Math.max(...ops.flatMap((o) => o.make().outputs.map((x) => x.warmupRows)));
  const warmupUs =
    spine.type === "clock" ? clockWarmupUs(maxWarmupRows, spine.stepMs) : 5 * 60_000 * US_PER_MS;

  // one decoded-partition cache for the runs of this check (the same partitions, read ~8 times); the
  // determinism run below reads without it (prefetch worker, other chunks), so both IO paths are compared
  const cache = new PartCache();
  const run = async (
    o: {
      startUs?: number;
      endUs?: number;
      prefetch?: boolean;
      chunkUs?: number;
      batchRows?: number;
      checkpointAtEvents?: number[];
      restore?: DriverSnapshot;
    } = {},
  ): Promise<Run> => {
    const operators: Operator[] = ops.map((x) => x.make());
    const snapshots: DriverSnapshot[] = [];
    const replay = new Replay({
      lake: lakeRoot,
      exchange: "binance-futures",
      symbol: "BTCUSDT",
      ...(w.crossVenue ? { crossVenue: w.crossVenue } : {}),
      startUs: o.startUs ?? START,
      endUs: o.endUs ?? END,
      spine: parseSpineSpec(spine),
      operators,
      warmupUs,
      prefetch: o.prefetch ?? false,
      ...(o.prefetch ? {} : { partCache: cache }),
      ...(o.chunkUs ? { chunkUs: o.chunkUs } : {}),
      ...(o.batchRows ? { batchRows: o.batchRows } : {}),
      ...(o.checkpointAtEvents ? { checkpointAtEvents: o.checkpointAtEvents } : {}),
      onCheckpoint: (s) => snapshots.push(JSON.parse(JSON.stringify(s)) as DriverSnapshot),
      ...(o.restore ? { restore: o.restore } : {}),
    });
    const batches: FeatureBatch[] = [];
    for await (const b of replay.batches()) batches.push(b);
    const cols = concatBatches(batches);
    const names = [...SPINE_NAMES, ...replay.columnNames];
    const values = new Map<string, Float64Array>();
    names.forEach((n, k) => {
      values.set(n, cols[k] ?? new Float64Array(0));
    });
    const events = Object.values(replay.summary.events).reduce((a: number, b) => a + (b ?? 0), 0);
    return { rows: { n: cols[0]?.length ?? 0, values }, names, events, snapshots };
  };
  const assertSameRows = (a: ColumnRows, from: number, b: ColumnRows, what: string) => {
    assert.equal(b.n, a.n - from, `${what}: rows`);
    for (const [name, x] of a.values) {
      const y = b.values.get(name)!;
      for (let i = 0; i < b.n; i++)
        if (!Object.is(x[from + i], y[i]))
          assert.fail(`${what}: ${who(name)} row ${from + i}: ${x[from + i]} vs ${y[i]}`);
    }
  };

  const full = await run();
  assert.ok(full.rows.n > 100, `${full.rows.n} rows`);

  // outputs match the declaration
  for (const o of ops) {
    const op = o.make();
    assert.deepEqual(
      op.outputs.map((x) => [x.name, x.unit]),
      o.declared.map((d) => [d.name, d.unit]),
      `${o.label}: outputs as declared`,
    );
    for (const x of op.outputs) {
      assert.equal(x.dtype, o.declared.find((d) => d.name === x.name)?.dtype, `${o.label} ${x.name} dtype`);
      if (x.dtype !== "i64") continue;
      const v = full.rows.values.get(x.name)!;
      for (let i = 0; i < v.length; i++)
        if (!(Number.isNaN(v[i]!) || Number.isSafeInteger(v[i]!)))
          assert.fail(`${who(x.name)}[${i}] = ${v[i]}: not an integer`);
    }
  }
  // every operator produced something on the real data (a test that only sees nulls proves little),
  // unless one of its declared input columns is null throughout the capture (e.g. Binance's markPrice
  // stream has no open interest)
  for (const o of ops) {
    const live = o.declared.some((d) => full.rows.values.get(d.name)!.some((x) => !Number.isNaN(x)));
    if (live) continue;
    const absent = [];
    for (const input of o.inputs) {
      const [table, column] = input.split(".") as [TableName, string];
      const df = await queryFrame(table, {
        lake: lakeRoot,
        exchange: "binance-futures",
        symbol: "BTCUSDT",
        start: START,
        end: END,
      });
      if (df.height > 0 && df.getColumn(column).nullCount() === df.height) absent.push(input);
    }
    assert.ok(
      absent.length > 0,
      `${o.label}: every output is null on the capture, though its inputs are not`,
    );
  }

  // determinism (other IO) and read-only checkpoints
  const at = fc
    .sample(fc.integer({ min: 1, max: full.events - 1 }), { seed: 4242, numRuns: 3 })
    .sort((a, b) => a - b);
  const again = await run({ prefetch: true, chunkUs: 90_000_000, batchRows: 97, checkpointAtEvents: at });
  assertSameRows(full.rows, 0, again.rows, "second run");
  assert.equal(again.snapshots.length, at.length);

  // snapshot/restore into fresh operators
  for (const s of again.snapshots) {
    const from = (s.counters as { rows: number }).rows;
    const resumed = await run({ restore: s });
    assertSameRows(full.rows, from, resumed.rows, `restored at event ${s.events}`);
  }

  // prefix truncation
  const cuts = fc.sample(fc.integer({ min: START + 60_000_000, max: END - 1 }), { seed: 77, numRuns: 3 });
  const pit = await checkPrefixTruncationColumns(
    full.rows,
    async (cut) => (await run({ endUs: cut })).rows,
    cuts,
    full.names,
  );
  assert.ok(
    pit.passed,
    pit.violations
      .slice(0, 5)
      .map((v) => `${who(v.column)} at ${v.tsEventUs} (cut ${v.cutUs}): ${v.full} → ${v.truncated}`)
      .join("; "),
  );
  assert.ok(pit.rowsCompared > 100);

  // warm-up invariance
  const lateStart = START + 4 * 60_000_000;
  const late = await run({ startUs: lateStart });
  const tsEvent = full.rows.values.get("ts_event_us")!;
  let from = 0;
  while (from < full.rows.n && tsEvent[from]! < lateStart) from++;
  assertSameRows(full.rows, from, late.rows, "late start");
}
