/**
 * Declared input columns (engine/inputs.ts): a misdeclared operator is rejected by name — operator id,
 * role, table and column — by `checkOperatorInputs` and by the Driver constructor; every registered family
 * and every built-in aggregation (on every engine table and source column its `impl` accepts) declares
 * reads that match the schema, and reads nothing else (a PIT-guarded replay shows each operator only its
 * declared columns); the typed accessors return the column or name table and column.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ConfigError } from "../../src/core/errors.js";
import { CollectSink, Driver } from "../../src/engine/driver.js";
import {
  checkOperatorInputs,
  f64,
  i8,
  levels,
  mergeReads,
  numeric,
  type OperatorReads,
  readsOf,
  strs,
} from "../../src/engine/inputs.js";
import type { EventCursor, Operator, SourceRole, SpineRow } from "../../src/engine/operator.js";
import { Replay } from "../../src/engine/replay.js";
import { createSpine } from "../../src/engine/spine.js";
import { parseSpineSpec } from "../../src/engine/spine-spec.js";
import { parseFeatureRunConfig } from "../../src/features/config.js";
import { FAMILIES } from "../../src/features/families.js";
import { PitGuard } from "../../src/pipeline/execute.js";
import { builtinRegistry, roleOfTable } from "../../src/pipeline/registry.js";
import type { TypedRows } from "../../src/query/query.js";
import { type TableName, tableColumns } from "../../src/schema/tables.js";
import { registeredOperators } from "../helpers/contract.js";
import { captureLake, W2023 } from "../helpers/lake.js";

class Declared implements Operator {
  readonly id = "misdeclared_op";
  readonly outputs = [{ name: "x", dtype: "f64", unit: "1", warmupRows: 0 }] as const;
  constructor(
    readonly inputs: readonly SourceRole[],
    readonly reads: OperatorReads | undefined,
  ) {}
  onEvent(_ev: EventCursor): void {}
  emit(_row: SpineRow, out: readonly Float64Array[], r: number): void {
    out[0]![r] = Number.NaN;
  }
  snapshot() {
    return null;
  }
  restore(): void {}
}

function rejects(op: Operator, ...parts: RegExp[]): void {
  assert.throws(
    () => checkOperatorInputs(op),
    (e: unknown) => {
      assert.ok(e instanceof ConfigError, `ConfigError expected, got ${String(e)}`);
      for (const p of parts) assert.match(e.message, p);
      return true;
    },
  );
}

describe("checkOperatorInputs", () => {
  it("accepts a declaration that matches the schema", () => {
    checkOperatorInputs(
      new Declared(["trades", "book"], {
        trades: { px_int: "f64", side: "i8", trade_id: "str" },
        book: { bid_px_int: "levels", update_id: "f64" },
      }),
      { requireReads: true },
    );
  });

  it("rejects an unknown column, naming operator, role, table and column", () => {
    rejects(
      new Declared(["ticker"], { ticker: { mark_price: "f64" } }),
      /misdeclared_op/,
      /role ticker/,
      /derivative_ticker\.mark_price/,
    );
  });

  it("rejects a column declared with the wrong storage", () => {
    rejects(new Declared(["trades"], { trades: { side: "f64" } }), /misdeclared_op/, /trades\.side/, /i8/);
    rejects(
      new Declared(["quotes"], { quotes: { bid_px_int: "levels" } }),
      /misdeclared_op/,
      /quotes\.bid_px_int/,
    );
    rejects(
      new Declared(["book"], { book: { bid_px_int: "f64" } }),
      /misdeclared_op/,
      /book_snapshot_25\.bid_px_int/,
      /list_i64/,
    );
  });

  it("rejects an input role without declared columns", () => {
    rejects(
      new Declared(["trades", "quotes"], { trades: { px_int: "f64" } }),
      /misdeclared_op/,
      /role quotes/,
      /table quotes/,
    );
  });

  it("rejects a declared role the operator does not subscribe to", () => {
    rejects(
      new Declared(["trades"], { trades: { px_int: "f64" }, spot_book: { ask_px_int: "levels" } }),
      /misdeclared_op/,
      /spot_book/,
      /book_snapshot_25/,
      /ask_px_int/,
    );
  });

  it("accepts an undeclared operator unless reads are required", () => {
    const op = new Declared(["trades"], undefined);
    checkOperatorInputs(op);
    assert.throws(() => checkOperatorInputs(op, { requireReads: true }), /misdeclared_op.*declares no input/);
  });

  it("is called by the Driver constructor", () => {
    const spine = createSpine(parseSpineSpec({ type: "clock", stepMs: 1000 }), {
      startUs: 0,
      priceIncrement: 0.1,
      amountIncrement: 0.001,
    });
    assert.throws(
      () =>
        new Driver({
          streams: [{ role: "trades", label: "x/Y" }],
          spine,
          operators: [new Declared(["trades"], { trades: { qty: "f64" } })],
          startUs: 0,
          endUs: 1_000_000,
          sink: new CollectSink(),
        }),
      (e: unknown) => e instanceof ConfigError && /misdeclared_op.*trades\.qty/.test(e.message),
    );
  });

  it("readsOf and mergeReads take storage from the schema and union per role", () => {
    assert.deepEqual(readsOf("book", ["bid_qty_int", "ts_local_us"]), {
      bid_qty_int: "levels",
      ts_local_us: "f64",
    });
    assert.throws(() => readsOf("trades", ["nope"]), /trades.*nope/);
    assert.deepEqual(mergeReads({ trades: { px_int: "f64" } }, { trades: { side: "i8" }, quotes: {} }), {
      trades: { px_int: "f64", side: "i8" },
      quotes: {},
    });
  });
});

const ENGINE_TABLES: readonly TableName[] = ["trades", "quotes", "book_snapshot_25", "derivative_ticker"];

describe("every registered operator declares its reads", () => {
  it("every family (cross-venue included) under the default config, with and without bar aggregations", () => {
    for (const includeBarAggregations of [false, true]) {
      const cfg = parseFeatureRunConfig({
        includeBarAggregations,
        includeCrossVenue: true,
        crossVenue: { exchange: "binance", symbol: "BTCUSDT" },
      });
      for (const f of FAMILIES) {
        const op = f.create(cfg);
        assert.doesNotThrow(() => checkOperatorInputs(op, { requireReads: true }), `family ${f.id}`);
      }
    }
  });

  it("every operator under contract (test/helpers/contract.ts)", () => {
    for (const c of registeredOperators(parseSpineSpec({ type: "clock", stepMs: 1000 })))
      assert.doesNotThrow(() => checkOperatorInputs(c.make(), { requireReads: true }), c.label);
  });

  it("every built-in aggregation on every engine table and source column it accepts", () => {
    let built = 0;
    for (const spec of builtinRegistry().requestOperators()) {
      for (const table of ENGINE_TABLES) {
        const role = roleOfTable(table)!;
        const columns: (string | undefined)[] = spec.needsSourceColumn
          ? tableColumns(table).map((c) => c.name)
          : [undefined, ...spec.requiredColumns];
        for (const sourceColumn of columns) {
          for (const joinStrategy of spec.joinStrategies) {
            const params = { ...(sourceColumn ? { sourceColumn } : {}), config: {}, joinStrategy };
            let op: Operator;
            try {
              op = spec.impl({
                ...params,
                operatorName: spec.name,
                role,
                table,
                outputNames: spec.outputs(params).map((o) => `${spec.name}:${o.name}`),
              });
            } catch (e) {
              if (e instanceof ConfigError) continue;
              throw e;
            }
            const label = `${spec.name}@${table}${sourceColumn ? `.${sourceColumn}` : ""} ${joinStrategy}`;
            assert.doesNotThrow(() => checkOperatorInputs(op, { requireReads: true }), label);
            const own = op.reads?.[role] ?? {};
            for (const c of [...spec.requiredColumns, ...(sourceColumn ? [sourceColumn] : [])])
              assert.ok(c in own, `${label}: reads lacks ${table}.${c}`);
            built++;
          }
        }
      }
    }
    assert.ok(built > 50, `only ${built} aggregation instances built`);
  });
});

describe("typed accessors", () => {
  const rows: TypedRows = {
    table: "trades",
    length: 2,
    columns: {
      px_int: new Float64Array([1, 2]),
      side: new Int8Array([0, 1]),
      trade_id: ["a", null],
    },
  };
  const book: TypedRows = {
    table: "book_snapshot_25",
    length: 1,
    columns: { bid_px_int: { values: new Float64Array(25), lens: new Uint8Array([3]) } },
  };

  it("return the column with its storage", () => {
    assert.equal(f64(rows, "px_int"), rows.columns.px_int);
    assert.equal(i8(rows, "side"), rows.columns.side);
    assert.equal(numeric(rows, "side"), rows.columns.side);
    assert.equal(numeric(rows, "px_int"), rows.columns.px_int);
    assert.equal(strs(rows, "trade_id"), rows.columns.trade_id);
    assert.equal(levels(book, "bid_px_int"), book.columns.bid_px_int);
  });

  it("accept the PIT guard's proxies of typed arrays", () => {
    const proxied: TypedRows = {
      ...rows,
      columns: { ...rows.columns, px_int: new Proxy(rows.columns.px_int as Float64Array, {}) },
    };
    assert.equal(f64(proxied, "px_int")[1], 2);
  });

  it("throw a ConfigError naming table and column", () => {
    const named = (re: RegExp) => (e: unknown) => e instanceof ConfigError && re.test(e.message);
    assert.throws(() => f64(rows, "side"), named(/trades\.side is Int8Array/));
    assert.throws(() => i8(rows, "px_int"), named(/trades\.px_int is Float64Array/));
    assert.throws(() => f64(rows, "qty_int"), named(/trades\.qty_int is missing/));
    assert.throws(() => levels(rows, "px_int"), named(/trades\.px_int/));
    assert.throws(() => strs(rows, "px_int"), named(/trades\.px_int/));
    assert.throws(() => numeric(rows, "trade_id"), named(/trades\.trade_id is a string array/));
    assert.throws(() => f64(book, "bid_px_int"), named(/book_snapshot_25\.bid_px_int is a level column/));
  });
});

describe("declared reads cover what operators read (PIT guard views)", () => {
  let lake: Awaited<ReturnType<typeof captureLake>> | undefined;
  before(async () => {
    lake = await captureLake(["usdm2023a", "usdm2023b"]);
  });
  after(() => lake?.cleanup());

  it("a guard view holds only the declared columns; an undeclared read names table and column", () => {
    const guard = new PitGuard();
    const rows: TypedRows = {
      table: "trades",
      length: 1,
      columns: { px_int: new Float64Array([5]), side: new Int8Array([1]) },
    };
    guard.markFed(rows, 0);
    const v = guard.view(rows, "op", { px_int: "f64" });
    assert.equal(f64(v, "px_int")[0], 5);
    assert.throws(
      () => i8(v, "side"),
      (e: unknown) => e instanceof ConfigError && /trades\.side is missing/.test(e.message),
    );
    assert.deepEqual(Object.keys(guard.view(rows, "all").columns), ["px_int", "side"]);
  });

  it("every operator under contract runs on the 2023 capture seeing only its declared columns", async () => {
    for (const spine of [
      parseSpineSpec({ type: "clock", stepMs: 1000 }),
      parseSpineSpec({ type: "volume", volumeThreshold: 5, splitTrades: true }),
    ]) {
      const guard = new PitGuard();
      const replay = new Replay({
        lake: lake!.lake,
        exchange: "binance-futures",
        symbol: "BTCUSDT",
        startUs: Date.parse(W2023.start) * 1000 + 60_000_000,
        endUs: Date.parse(W2023.start) * 1000 + 240_000_000,
        spine,
        operators: registeredOperators(spine).map((c) => guard.wrap(c.make())),
        warmupUs: 0,
        prefetch: false,
      });
      let rows = 0;
      for await (const b of replay.batches()) rows += b.length;
      assert.ok(rows > 0, `${spine.type}: no rows`);
      assert.equal(guard.violationCount, 0, guard.violations.map((x) => x.message).join("; "));
      assert.ok(guard.readsChecked > 0);
    }
  });
});
