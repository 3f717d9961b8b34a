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
import { FAMILIES } from "../../src/features/families.js";
import { builtinRegistry } from "../../src/features/registry.js";

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
