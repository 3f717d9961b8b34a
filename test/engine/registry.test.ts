/**
 * The one operator registry (engine/registry.ts), families as groups of registered operators
 * (features/family.ts) and the GroupOperator that runs them (engine/group.ts).
 *
 * Independent checks: registration rules (names, partial request bindings, duplicates); the built-in
 * registry holds every family member as the very definition the family runs, and every registered
 * operator is reachable (request-bound or in a family); every output's metadata is complete and agrees
 * with the operator the definition builds; row inputs are resolved by name against earlier members only
 * and hand a member the values written for the same row (hand-checked with a toy group); the Driver
 * refuses an operator with row inputs outside a group.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigError } from "../../src/core/errors.js";
import { CollectSink, Driver } from "../../src/engine/driver.js";
import { GroupOperator } from "../../src/engine/group.js";
import type { JsonValue, Operator, SpineRow } from "../../src/engine/operator.js";
import { OperatorRegistry } from "../../src/engine/registry.js";
import { createSpine } from "../../src/engine/spine.js";
import { parseSpineSpec } from "../../src/engine/spine-spec.js";
import { parseFeatureRunConfig } from "../../src/features/config.js";
import { crossVenueMids } from "../../src/features/cross-venue.js";
import { PRESETS } from "../../src/features/derivatives/preset.js";
import { FAMILIES } from "../../src/features/families.js";
import { intervalCrossAssetDef } from "../../src/features/intervals/cross-asset.js";
import { intervalMicrostructureDef } from "../../src/features/intervals/microstructure.js";
import { builtinRegistry } from "../../src/features/registry.js";
import { TRADER_PRESET } from "../../src/features/trader/preset.js";
import { REPLAY_OPERATORS } from "../../src/features/trader/replay.js";
import {
  AggressiveRatioOperator,
  FlowImbalanceOperator,
  OhlcvOperator,
  RealizedVolOperator,
  TakerVolumeOperator,
  TradeCountOperator,
  TradeSizeOperator,
  TradeVwapOperator,
  VwapReversionOperator,
  VwReturnOperator,
} from "../../src/pipeline/aggregations/trades.js";
import type { TypedRows } from "../../src/query/query.js";

/** A toy operator: writes `value(row)` into one output, optionally reading row inputs. */
class Toy implements Operator {
  readonly inputs = [] as const;
  readonly reads = {};
  readonly outputs;
  seen: number[][] = [];
  constructor(
    readonly id: string,
    out: string,
    readonly rowInputs: readonly string[] = [],
    private readonly value: (row: SpineRow, inputs: number[]) => number = (row) => row.barIndex,
  ) {
    this.outputs = [{ name: out, dtype: "f64" as const, unit: "1", warmupRows: 0 }];
  }
  onEvent(): void {}
  emit(row: SpineRow, out: readonly Float64Array[], r: number, rowInputs?: readonly Float64Array[]): void {
    const ins = (rowInputs ?? []).map((c) => c[r]!);
    this.seen.push(ins);
    out[0]![r] = this.value(row, ins);
  }
  snapshot(): JsonValue {
    return { v: 1, seen: this.seen.length };
  }
  restore(): void {}
}

const row = (barIndex: number): SpineRow => ({ tsEventUs: 0, tsEndUs: 1, availableAtUs: 1, barIndex });

describe("operator registry", () => {
  it("refuses bad names, partial request bindings, empty modes and duplicates", () => {
    const base = builtinRegistry().getRequestOperator("trade_count")!;
    assert.throws(() => new OperatorRegistry().register({ ...base, name: "Bad-Name" }), /snake_case/);
    const { modeAllowlist: _m, ...partial } = base;
    assert.throws(() => new OperatorRegistry().register(partial), /missing modeAllowlist/);
    assert.throws(() => new OperatorRegistry().register({ ...base, modeAllowlist: [] }), /must not be empty/);
    const r = new OperatorRegistry().register(base);
    assert.throws(() => r.register(base), /already registered/);
    assert.equal(r.getRequestOperator("trade_count"), base);
  });

  it("built-ins: every family member is the registered definition, every operator is reachable", () => {
    const registry = builtinRegistry();
    const cfg = parseFeatureRunConfig({});
    const inFamily = new Set<string>();
    for (const f of FAMILIES) {
      for (const m of f.members(cfg)) {
        assert.equal(registry.get(m.def.name), m.def, `${f.id}: ${m.def.name} is the registered definition`);
        inFamily.add(m.def.name);
      }
    }
    const request = new Set(registry.requestOperators().map((d) => d.name));
    for (const m of crossVenueMids.members(cfg)) inFamily.add(m.def.name);
    // the trader presets (contract: test/trader/contract.test.ts)
    for (const d of [...REPLAY_OPERATORS, ...TRADER_PRESET.members]) {
      assert.equal(registry.get(d.name), d, `trader: ${d.name} is the registered definition`);
      inFamily.add(d.name);
    }
    for (const f of PRESETS) for (const m of f.members(cfg)) inFamily.add(m.def.name);
    // multi-instrument interval frames (contract: test/features/intervals.test.ts)
    for (const d of [intervalMicrostructureDef, intervalCrossAssetDef]) {
      assert.equal(registry.get(d.name), d);
      inFamily.add(d.name);
    }
    for (const name of registry.names())
      assert.ok(request.has(name) || inFamily.has(name), `${name} reachable`);
    // the bar family reuses the pipeline's aggregations: no formula is implemented twice
    const bar = FAMILIES.find((f) => f.id === "bar")!;
    const members = bar.members(cfg).map((m) => m.def.name);
    assert.deepEqual(members, [
      "ohlcv",
      "trade_vwap",
      "trade_count",
      "taker_volume",
      "signed_trade_imbalance",
      "avg_trade_size",
      "spread_bps",
      "book_imbalance_top5",
      "realized_volatility",
      "vwap_reversion",
      "bar_derived",
    ]);
    assert.ok(members.slice(0, -1).every((n) => request.has(n)));
  });

  it("every family's catalogue is complete and is exactly its operator's outputs", () => {
    const cfg = parseFeatureRunConfig({
      ...Object.fromEntries(FAMILIES.map((f) => [f.flag, true])),
      crossVenue: { exchange: "binance", symbol: "BTCUSDT" },
    });
    for (const f of FAMILIES) {
      const cat = f.catalog(cfg);
      const op = f.create(cfg);
      assert.deepEqual(
        cat.map((m) => [m.name, m.dtype, m.unit, m.warmupRows]),
        op.outputs.map((o) => [o.name, o.dtype, o.unit, o.warmupRows]),
        f.id,
      );
      for (const m of cat) {
        assert.equal(m.family, f.id);
        for (const k of ["formula", "window", "warmup", "pitPolicy", "source"] as const)
          assert.ok(m[k].length > 0, `${f.id} ${m.name}: ${k}`);
        assert.ok(m.inputs.length > 0 && m.version >= 1, `${f.id} ${m.name}: inputs, version`);
      }
    }
  });
});

describe("GroupOperator", () => {
  it("a member reads the values earlier members wrote for the same row, by name", () => {
    const a = new Toy("a", "x", [], (r) => 10 * r.barIndex);
    const b = new Toy("b", "y", [], (r) => r.barIndex + 1);
    const c = new Toy("c", "z", ["y", "x"], (_r, [y, x]) => y! * 100 + x!);
    const g = new GroupOperator("g", [a, b, c]);
    assert.deepEqual(
      g.outputs.map((o) => o.name),
      ["x", "y", "z"],
    );
    const out = [new Float64Array(3), new Float64Array(3), new Float64Array(3)];
    for (let r = 0; r < 3; r++) g.emit(row(r + 4), out, r);
    assert.deepEqual([...out[2]!], [5 * 100 + 40, 6 * 100 + 50, 7 * 100 + 60]);
    // a second batch (new arrays) rebinds the slices
    const out2 = [new Float64Array(1), new Float64Array(1), new Float64Array(1)];
    g.emit(row(9), out2, 0);
    assert.equal(out2[2]![0], 10 * 100 + 90);
    assert.deepEqual(c.seen.at(-1), [10, 90]);
  });

  it("refuses a row input that no earlier member writes, duplicate outputs, and foreign state", () => {
    assert.throws(
      () => new GroupOperator("g", [new Toy("c", "z", ["x"]), new Toy("a", "x")]),
      /reads row output x, which no earlier member writes/,
    );
    assert.throws(() => new GroupOperator("g", [new Toy("a", "x"), new Toy("b", "x")]), /duplicate output x/);
    const g = new GroupOperator("g", [new Toy("a", "x"), new Toy("b", "y")]);
    const snap = g.snapshot();
    assert.deepEqual(snap, {
      v: 1,
      members: [
        { id: "a", state: { v: 1, seen: 0 } },
        { id: "b", state: { v: 1, seen: 0 } },
      ],
    });
    const other = new GroupOperator("g", [new Toy("b", "y"), new Toy("a", "x")]);
    assert.throws(() => other.restore(snap), /state member a is not b/);
  });

  it("members sharing one trade accumulator emit bitwise what each computes alone, across snapshot/restore", () => {
    const o = (...names: string[]) =>
      names.map((name) => ({ name, dtype: "f64" as const, unit: "1", warmupRows: 0 }));
    // every shareable trade aggregation, plus one trade subscriber that cannot share (it also reads quotes)
    const build = (): Operator[] => [
      new OhlcvOperator("ohlcv", ["trades"], o("open", "high", "low", "close", "volume")),
      new TradeVwapOperator("vwap", ["trades"], o("vwap")),
      new VwapReversionOperator("rev", ["trades"], o("rev")),
      new TakerVolumeOperator("taker", ["trades"], o("buy", "sell")),
      new FlowImbalanceOperator(false, "flow", o("flow")),
      new FlowImbalanceOperator(true, "sti", o("sti")),
      new TradeCountOperator("count", ["trades"], o("count")),
      new TradeSizeOperator("avg", "avg", o("avg"), "trade"),
      new TradeSizeOperator("median", "median", o("median")),
      new TradeSizeOperator("max", "max", o("max")),
      new VwReturnOperator("vwret", ["trades"], o("vwret")),
      new RealizedVolOperator("rv", ["trades"], o("rv")),
      new AggressiveRatioOperator("aggr", ["trades", "quotes"], o("aggr")),
    ];
    // a seeded stream: trades (some split into continuation pieces) and quotes; bars end every few events,
    // some bars are discarded
    let seed = 20240808;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const n = 4000;
    const qtyInt = Float64Array.from({ length: n }, () => 1 + Math.floor(rand() * 2000));
    const trades: TypedRows = {
      table: "trades",
      length: n,
      columns: {
        px_int: Float64Array.from({ length: n }, () => 618_000 + Math.floor(rand() * 40)),
        qty_int: qtyInt,
        side: Int8Array.from({ length: n }, () => Math.floor(rand() * 3) - 1),
      },
    };
    const quotes: TypedRows = {
      table: "quotes",
      length: n,
      columns: {
        bid_px_int: Float64Array.from({ length: n }, () => 618_000 + Math.floor(rand() * 40)),
        ask_px_int: Float64Array.from({ length: n }, () => 618_010 + Math.floor(rand() * 40)),
      },
    };
    type Step =
      | { kind: "trade" | "quote"; i: number; qty: number; cont: boolean }
      | { kind: "emit" | "discard" };
    const steps: Step[] = [];
    for (let i = 0; i < n; i++) {
      steps.push({ kind: "quote", i, qty: Number.NaN, cont: false });
      const q = qtyInt[i]!;
      if (rand() < 0.2) {
        const first = Math.max(1, Math.floor(q / 3));
        steps.push({ kind: "trade", i, qty: first, cont: false }, { kind: "emit" });
        if (q > first) steps.push({ kind: "trade", i, qty: q - first, cont: true });
      } else steps.push({ kind: "trade", i, qty: q, cont: false });
      const u = rand();
      if (u < 0.1) steps.push({ kind: "emit" });
      else if (u < 0.11) steps.push({ kind: "discard" });
      if (u > 0.97) steps.push({ kind: "emit" }); // empty bars too
    }
    const rowsOut = steps.filter((st) => st.kind === "emit").length;
    const run = (ops: readonly Operator[], restoreAt: number | null, fresh: () => readonly Operator[]) => {
      let live = ops;
      const outs = live.map((op) => op.outputs.map(() => new Float64Array(rowsOut)));
      let r = 0;
      steps.forEach((st, k) => {
        if (k === restoreAt) {
          const states = live.map((op) => JSON.parse(JSON.stringify(op.snapshot())) as JsonValue);
          live = fresh();
          live.forEach((op, j) => {
            op.restore(states[j]!);
          });
        }
        if (st.kind === "emit") {
          live.forEach((op, j) => {
            op.emit(row(r), outs[j]!, r);
          });
          r++;
        } else if (st.kind === "discard") for (const op of live) op.discardBar?.();
        else if (st.kind === "trade" || st.kind === "quote") {
          const ev = {
            role: st.kind === "trade" ? ("trades" as const) : ("quotes" as const),
            rows: st.kind === "trade" ? trades : quotes,
            i: st.i,
            tsLocalUs: st.i,
            qtyInt: st.qty,
            continuation: st.cont,
          };
          for (const op of live) if (op.inputs.includes(ev.role)) op.onEvent(ev);
        }
      });
      return outs.flat();
    };
    const alone = run(build(), null, build);
    const group = new GroupOperator("g", build());
    assert.ok(
      "trades" in (group.snapshot() as { trades?: JsonValue }),
      "the group holds one shared accumulator",
    );
    const grouped = run([group], null, () => [new GroupOperator("g", build())]);
    const restored = run([new GroupOperator("g", build())], Math.floor(steps.length / 2) + 1, () => [
      new GroupOperator("g", build()),
    ]);
    assert.equal(grouped.length, alone.length);
    let nonNull = 0;
    alone.forEach((col, j) => {
      for (let i = 0; i < rowsOut; i++) {
        assert.ok(
          Object.is(grouped[j]![i], col[i]),
          `column ${j} row ${i}: grouped ${grouped[j]![i]} alone ${col[i]}`,
        );
        assert.ok(Object.is(restored[j]![i], col[i]), `column ${j} row ${i}: restored`);
        if (!Number.isNaN(col[i]!)) nonNull++;
      }
    });
    assert.ok(nonNull > rowsOut * 10, "most values are non-null");
    // a state of another parts set or without the shared accumulator is refused
    const { trades: _t, ...noShared } = group.snapshot() as { [k: string]: JsonValue };
    assert.throws(() => new GroupOperator("g", build()).restore(noShared), /no shared trade accumulator/);
  });

  it("the Driver refuses an operator with row inputs outside a group", () => {
    const spec = parseSpineSpec({ type: "clock", stepMs: 1000 });
    assert.throws(
      () =>
        new Driver({
          streams: [],
          operators: [new Toy("a", "x"), new Toy("c", "z", ["x"])],
          spine: createSpine(spec, { startUs: 0, priceIncrement: 0.1, amountIncrement: 0.001 }),
          sink: new CollectSink(),
          startUs: 0,
          endUs: 1_000_000,
        }),
      (e: unknown) => e instanceof ConfigError && /run it in a GroupOperator/.test(e.message),
    );
  });
});
