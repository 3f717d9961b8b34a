/**
 * Built-in aggregations of pipeline v2 (trades, quotes / book and generic column aggregations) against
 * naive references recomputed per bar from the raw rows of the real usdm2024 capture
 * (test/pipeline/aggregations-helpers.ts): 5 BTC volume bars (whole and split trades) and 1 s clock bars
 * (15 empty bars before the capture's first event), both join strategies of every snapshot aggregation
 * and of first / last, L1 aggregations on quotes and on book_snapshot_25. Also: registry-level facts, the
 * `impl` validation, snapshot / restore mid-run (bitwise identical) and one deliberately broken operator
 * per family, shown to fail the same comparison. Hand-checked examples of the edge cases real data lacks
 * (unknown taker sides, missing book sides, first OFI update) drive operators directly.
 *
 * The derivative-ticker aggregations are tested in aggregations-ticker.test.ts (usdm2023, across midnight).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ConfigError } from "../../src/core/errors.js";
import { fixedToNumber } from "../../src/core/fixed.js";
import type { JsonValue, Operator } from "../../src/engine/operator.js";
import { MutableEventCursor } from "../../src/engine/replay.js";
import { SymbolRegistry } from "../../src/lake/registry.js";
import { OfiContOperator } from "../../src/pipeline/aggregations/book.js";
import { ColumnAggOperator } from "../../src/pipeline/aggregations/column.js";
import { BUILTIN_AGGREGATIONS } from "../../src/pipeline/aggregations/index.js";
import type { L1 } from "../../src/pipeline/aggregations/shared.js";
import { FlowImbalanceOperator } from "../../src/pipeline/aggregations/trades.js";
import {
  type AggregationContext,
  type AggregationSpec,
  builtinRegistry,
  OperatorRegistry,
  roleOfTable,
} from "../../src/pipeline/registry.js";
import type { LevelColumn, TypedRows } from "../../src/query/query.js";
import { BOOK_DEPTH, type TableName } from "../../src/schema/tables.js";
import { naturalIncrements, nonNullRatio } from "../helpers/engine.js";
import { captureLake, rawEvents, W2024 } from "../helpers/lake.js";
import { type RefBar, referenceClockBars, referenceVolumeBars } from "../helpers/reference-bars.js";
import {
  type AggCase,
  aggCase,
  alignRows,
  assertSnapshotRestoreIdentical,
  buildCase,
  compareCases,
  NAN,
  RefEnv,
  runReplay,
} from "./aggregations-helpers.js";

const us = (iso: string) => Date.parse(iso) * 1000;
const EX = "binance-futures";
const SYM = "BTCUSDT";
/** 5 BTC in qty increments (0.001 BTC). */
const THRESHOLD_QTY = 5000;
const VOLUME = { type: "volume", volumeThreshold: 5 } as const;
const CLOCK = { type: "clock", stepMs: 1000 } as const;
const DAY_START = "2024-08-08T00:00:00Z";

/** Catalogue order of the brief (names are the API). */
const CATALOGUE = [
  "sum",
  "mean",
  "std",
  "min",
  "max",
  "first",
  "last",
  "count",
  "nunique",
  "trade_vwap",
  "ohlcv",
  "flow_imbalance",
  "trade_count",
  "taker_volume",
  "avg_trade_size",
  "median_trade_size",
  "max_trade_size",
  "aggressive_ratio",
  "vw_return",
  "signed_trade_imbalance",
  "realized_volatility",
  "vwap_reversion",
  "spread_bps",
  "book_imbalance_top5",
  "microprice_close",
  "spread_distribution",
  "ofi_cont",
  "funding_rate_mean",
  "funding_close",
  "funding_step",
  "funding_carry_8h_per_hour",
  "funding_surprise",
  "funding_pressure",
  "oi_change",
  "oi_last",
  "oi_open",
  "oi_high",
  "oi_low",
  "oi_range",
  "oi_pct_change",
  "oi_pressure",
];

const GENERIC = ["sum", "mean", "std", "min", "max", "first", "last", "count", "nunique"];
const TRADE_AGGS = CATALOGUE.slice(9, 22);

/** Generic aggregations over numeric columns of trades (piece qty, Int8 side), quotes and book. */
function genericCases(): AggCase[] {
  const cols: [TableName, string][] = [
    ["trades", "px_int"],
    ["trades", "qty_int"],
    ["trades", "side"],
    ["quotes", "ask_qty_int"],
    ["book_snapshot_25", "update_id"],
  ];
  const cases: AggCase[] = [];
  for (const [t, col] of cols) for (const g of GENERIC) cases.push(aggCase(g, t, "in_bar", col));
  for (const g of ["first", "last"]) {
    cases.push(aggCase(g, "quotes", "asof_backward", "bid_px_int"));
    cases.push(aggCase(g, "book_snapshot_25", "asof_backward", "update_id"));
    cases.push(aggCase(g, "trades", "asof_backward", "px_int"));
  }
  return cases;
}

function tradeCases(): AggCase[] {
  return [
    ...TRADE_AGGS.map((a) => aggCase(a, "trades", "in_bar")),
    aggCase("avg_trade_size", "trades", "in_bar", undefined, { per: "trade" }),
  ];
}

function bookCases(): AggCase[] {
  const cases: AggCase[] = [];
  for (const join of ["asof_backward", "in_bar"] as const) {
    cases.push(aggCase("spread_bps", "quotes", join));
    cases.push(aggCase("spread_bps", "book_snapshot_25", join));
    cases.push(aggCase("book_imbalance_top5", "book_snapshot_25", join));
    cases.push(aggCase("microprice_close", "book_snapshot_25", join));
    cases.push(aggCase("microprice_close", "quotes", join));
  }
  for (const t of ["quotes", "book_snapshot_25"] as const) {
    cases.push(aggCase("spread_distribution", t, "in_bar"));
    cases.push(aggCase("ofi_cont", t, "in_bar"));
  }
  return cases;
}

describe("built-in aggregations: registry", () => {
  const registry = builtinRegistry();

  it("every built-in is registered once, under exactly the catalogue names, in catalogue order", () => {
    assert.deepEqual(
      registry.requestOperators().map((s) => s.name),
      CATALOGUE,
    );
    assert.equal(BUILTIN_AGGREGATIONS.length, CATALOGUE.length);
    assert.equal(new Set(BUILTIN_AGGREGATIONS.map((s) => s.name)).size, CATALOGUE.length);
    // each spec passes register on its own, and a second registration is refused
    for (const s of BUILTIN_AGGREGATIONS) {
      const r = new OperatorRegistry().register(s);
      assert.throws(() => r.register(s), ConfigError);
    }
  });

  it("spec fields: modes, stage, joins, required sort, version, params, default outputs, documentation", () => {
    const modes = (s: AggregationSpec) => [...s.modeAllowlist].join(",");
    for (const s of registry.requestOperators()) {
      const n = s.name;
      assert.deepEqual(s.determinism.requiredSort, [
        "ts_local_us",
        "table rank",
        "file_id",
        "file_line_number",
      ]);
      assert.equal(s.version, "1", n);
      assert.equal(s.pitPolicy.featureDirection, "backward_only");
      assert.ok(s.pitPolicy.window.length > 20, n);
      assert.ok(s.description.length > 20 && (s.source ?? "").length > 10, `${n} documented`);
      assert.ok(s.params, `${n} params schema`);
      assert.ok(s.params.safeParse({}).success, n);
      assert.equal(s.params.safeParse({ window: 5 }).success, false, `${n} rejects unknown config keys`);
      if (GENERIC.includes(n)) {
        assert.equal(modes(s), "bar_then_feature,tick_then_bar,event_joined", n);
        assert.equal(s.needsSourceColumn, true, n);
        assert.deepEqual(s.requiredColumns, [], n);
        const o = s.outputs({ sourceColumn: "px_int", config: {}, joinStrategy: "in_bar" });
        assert.deepEqual(
          o.map((x) => x.name),
          [`px_${n}`],
        );
        // computed in increments, declared so: the sink converts them (count / nunique are counts)
        assert.equal(o[0]!.unit, n === "count" || n === "nunique" ? "count" : "price increments", n);
        assert.equal(o[0]!.dtype, n === "count" || n === "nunique" ? "i64" : "f64");
        assert.deepEqual(
          s.joinStrategies,
          n === "first" || n === "last" ? ["in_bar", "asof_backward"] : ["in_bar"],
        );
      } else if (["spread_bps", "book_imbalance_top5", "microprice_close"].includes(n)) {
        assert.equal(modes(s), "bar_then_feature,event_joined", n);
        assert.deepEqual(s.joinStrategies, ["asof_backward", "in_bar"], n);
      } else if (["spread_distribution", "ofi_cont"].includes(n)) {
        assert.equal(modes(s), "tick_then_bar,bar_then_feature", n);
        assert.equal(s.stage, "feature_then_aggregate", n);
        assert.deepEqual(s.joinStrategies, ["in_bar"], n);
      } else {
        assert.equal(modes(s), "bar_then_feature,tick_then_bar", n);
        assert.equal(s.stage, "aggregate_then_feature", n);
        const asof = n === "funding_close" || n === "oi_last";
        assert.deepEqual(s.joinStrategies, asof ? ["in_bar", "asof_backward"] : ["in_bar"], n);
      }
      if (!GENERIC.includes(n)) assert.ok(!s.needsSourceColumn, n);
    }
    const names = (a: string) =>
      registry
        .get(a)!
        .outputs({ config: {}, joinStrategy: "in_bar" })
        .map((o) => o.name);
    assert.deepEqual(names("trade_vwap"), ["vwap_px"]);
    assert.deepEqual(names("ohlcv"), ["open_px", "high_px", "low_px", "close_px", "volume"]);
    assert.deepEqual(names("realized_volatility"), ["realized_vol"]);
    assert.deepEqual(names("spread_distribution"), [
      "spread_bps_mean",
      "spread_bps_std",
      "spread_bps_min",
      "spread_bps_max",
    ]);
    assert.deepEqual(names("taker_volume"), ["buy_volume", "sell_volume"]);
    for (const a of CATALOGUE.slice(27)) assert.deepEqual(names(a), [a]);
    for (const a of [
      "flow_imbalance",
      "trade_count",
      "avg_trade_size",
      "median_trade_size",
      "max_trade_size",
      "aggressive_ratio",
      "vw_return",
      "signed_trade_imbalance",
      "vwap_reversion",
      "spread_bps",
      "book_imbalance_top5",
      "microprice_close",
      "ofi_cont",
    ])
      assert.deepEqual(names(a), [a]);
    assert.deepEqual(registry.getRequestOperator("aggressive_ratio")!.extraTables, ["quotes"]);
    assert.equal(
      registry.getRequestOperator("trade_count")!.outputs({ config: {}, joinStrategy: "in_bar" })[0]!.dtype,
      "i64",
    );
    // generic outputs need the column
    assert.throws(
      () => registry.getRequestOperator("sum")!.outputs({ config: {}, joinStrategy: "in_bar" }),
      ConfigError,
    );
  });

  it("impl validates the request operator before reading data (ConfigError)", () => {
    const ctx = (
      agg: string,
      table: TableName,
      over: Partial<AggregationContext> = {},
    ): AggregationContext => {
      const base = { sourceColumn: undefined, config: {}, joinStrategy: "in_bar" as const, ...over };
      return {
        operatorName: "op",
        role: roleOfTable(table)!,
        table,
        outputNames: registry
          .get(agg)!
          .outputs(base)
          .map((o) => o.name),
        ...base,
      };
    };
    const impl = (agg: string, c: AggregationContext) => registry.getRequestOperator(agg)!.impl(c);
    // valid requests build an operator reading the right roles, with the requested output names
    const op = impl("ohlcv", { ...ctx("ohlcv", "trades"), outputNames: ["o", "h", "l", "c", "v"] });
    assert.deepEqual(
      op.outputs.map((o) => o.name),
      ["o", "h", "l", "c", "v"],
    );
    assert.deepEqual(impl("aggressive_ratio", ctx("aggressive_ratio", "trades")).inputs, [
      "trades",
      "quotes",
    ]);
    assert.deepEqual(impl("ofi_cont", ctx("ofi_cont", "book_snapshot_25")).inputs, ["book"]);
    assert.equal(
      impl("sum", ctx("sum", "liquidations", { sourceColumn: "qty_int" })).inputs[0],
      "liquidations",
    );
    // a Pointline-style source_column naming a column the aggregation reads is accepted
    impl(
      "funding_rate_mean",
      ctx("funding_rate_mean", "derivative_ticker", { sourceColumn: "funding_rate" }),
    );
    const bad: [string, AggregationContext, RegExp][] = [
      ["trade_vwap", ctx("trade_vwap", "quotes"), /source table must be trades/],
      ["book_imbalance_top5", ctx("book_imbalance_top5", "quotes"), /book_snapshot_25/],
      ["funding_close", ctx("funding_close", "trades"), /derivative_ticker/],
      [
        "sum",
        ctx("sum", "trades", { joinStrategy: "asof_backward", sourceColumn: "px_int" }),
        /join_strategy/,
      ],
      ["trade_count", ctx("trade_count", "trades", { joinStrategy: "asof_backward" }), /join_strategy/],
      ["ofi_cont", ctx("ofi_cont", "quotes", { config: { levels: 5 } }), /config takes no keys/],
      [
        "sum",
        { ...ctx("sum", "trades", { sourceColumn: "px_int" }), sourceColumn: undefined },
        /source_column is required/,
      ],
      [
        "funding_step",
        ctx("funding_step", "derivative_ticker", { sourceColumn: "mark_px" }),
        /fixed columns/,
      ],
      ["mean", ctx("mean", "trades", { sourceColumn: "trade_id" }), /not numeric/],
      ["mean", ctx("mean", "book_snapshot_25", { sourceColumn: "bid_px_int" }), /not numeric/],
      ["mean", ctx("mean", "quotes", { sourceColumn: "ts_exch_us" }), /not loaded/],
      ["mean", ctx("mean", "quotes", { sourceColumn: "px_int" }), /has no column/],
      ["spread_bps", { ...ctx("spread_bps", "quotes"), outputNames: ["a", "b"] }, /output names/],
      ["spread_bps", { ...ctx("spread_bps", "book_snapshot_25"), role: "spot_book" }, /primary instrument/],
      ["spread_bps", { ...ctx("spread_bps", "quotes"), role: "book" }, /does not read/],
    ];
    for (const [agg, c, re] of bad) {
      assert.throws(
        () => impl(agg, c),
        (e: unknown) => e instanceof ConfigError && re.test(e.message),
        `${agg} ${c.table} ${c.joinStrategy}`,
      );
    }
  });
});

describe("built-in aggregations on the usdm2024 capture (naive reference)", () => {
  const registry = builtinRegistry();
  let lake = "";
  let cleanup = () => {};
  let raw: Partial<Record<TableName, TypedRows>> = {};
  let pInc = NAN;
  let aInc = NAN;

  before(async () => {
    ({ lake, cleanup } = await captureLake(["usdm2024"]));
    const r = await rawEvents(lake, EX, SYM, DAY_START, W2024.end);
    raw = { trades: r.trades, quotes: r.quotes, book_snapshot_25: r.book };
    assert.ok(r.trades.length > 10_000 && r.quotes.length > 10_000 && r.book.length > 1000, "raw rows");
    const sym = (await SymbolRegistry.open(lake)).lookup(EX, SYM, us(W2024.start))!;
    pInc = fixedToNumber(1, sym.priceIncrement);
    aInc = fixedToNumber(1, sym.amountIncrement);
    assert.deepEqual([pInc, aInc], [0.1, 0.001]);
  });
  after(() => cleanup());

  const build = (cases: readonly AggCase[]) => cases.map((c) => ({ c, ...buildCase(registry, c) }));

  async function check(
    spine: typeof VOLUME | typeof CLOCK | { type: "volume"; volumeThreshold: 5; splitTrades: true },
    bars: RefBar[],
    replayStartUs: number,
    cases: readonly AggCase[],
    label: string,
  ) {
    const built = build(cases);
    const res = await runReplay(
      lake,
      spine,
      W2024.start,
      W2024.end,
      built.map((b) => b.op),
    );
    const rows = alignRows(res, bars, us(W2024.start), us(W2024.end));
    const env = new RefEnv(raw, bars, replayStartUs, pInc, aInc);
    const refs = compareCases(res, built, env, rows, label);
    return { res, rows, refs, env };
  }

  it("5 BTC volume bars: every trade, quote / book and generic aggregation equals the reference", async () => {
    const bars = referenceVolumeBars(raw.trades!, THRESHOLD_QTY, false, us(DAY_START));
    const cases = [...tradeCases(), ...bookCases(), ...genericCases()];
    const { res, refs } = await check(VOLUME, bars, us(DAY_START), cases, "volume");
    assert.ok(res.n > 400, `rows ${res.n}`);
    // the references are populated (the comparison is not vacuous); a third of the 5 BTC bars close
    // within ~2 ms of the previous one and hold no quote / book row: in_bar snapshots are null there
    for (const [name, v] of refs) {
      const sparse = /@(quotes|book_snapshot_25).*\/in_bar/.test(name) && !/_count$/.test(name);
      const min = sparse ? 0.3 : /std|realized_vol/.test(name) ? 0.9 : 0.99;
      assert.ok(nonNullRatio(v) >= min, `${name}: non-null ratio ${nonNullRatio(v)}`);
    }
    const c = (name: string) => refs.get(name)!;
    // bars without a quote / book row: in_bar null, as-of carried; first = last as-of (the carried
    // state); OFI 0 (state exists, no update)
    for (const [table, col] of [
      ["quotes", "bid_px_int"],
      ["book_snapshot_25", "update_id"],
    ] as const) {
      const gaps = [
        ...c(
          `count@${table === "quotes" ? "quotes.ask_qty_int" : "book_snapshot_25.update_id"}/in_bar:${table === "quotes" ? "ask_qty" : "update_id"}_count`,
        ).entries(),
      ]
        .filter(([, k]) => k === 0)
        .map(([j]) => j);
      assert.ok(gaps.length > 50, `${table}: bars without rows ${gaps.length}`);
      for (const j of gaps) {
        assert.ok(
          Number.isNaN(c(`spread_bps@${table}/in_bar:spread_bps`)[j]!),
          `${table} in_bar null at ${j}`,
        );
        assert.ok(
          !Number.isNaN(c(`spread_bps@${table}/asof_backward:spread_bps`)[j]!),
          `${table} as-of at ${j}`,
        );
        assert.equal(c(`ofi_cont@${table}/in_bar:ofi_cont`)[j], 0, `${table} ofi 0 at ${j}`);
        assert.equal(
          c(`first@${table}.${col}/asof_backward:${col.replace(/_int$/, "")}_first`)[j],
          c(`last@${table}.${col}/asof_backward:${col.replace(/_int$/, "")}_last`)[j],
          `${table} empty bar opens at the carried state (${j})`,
        );
      }
    }
    // aggressive_ratio is a real measure (not Pointline's constant 1.0)
    const ar = c("aggressive_ratio@trades/in_bar:aggressive_ratio");
    const mean = ar.reduce((a, b) => a + b, 0) / ar.length;
    assert.ok(mean > 0.2 && mean < 1 && ar.some((x) => x < 1), `aggressive_ratio mean ${mean}`);
    // OFI is signed and non-trivial
    const ofi = c("ofi_cont@quotes/in_bar:ofi_cont");
    assert.ok(ofi.some((x) => x > 1) && ofi.some((x) => x < -1), "ofi takes both signs");
  });

  it("split-trade volume bars: trade pieces (qty_int = piece), trade_count counts trades once", async () => {
    const spine = { ...VOLUME, splitTrades: true } as const;
    const bars = referenceVolumeBars(raw.trades!, THRESHOLD_QTY, true, us(DAY_START));
    const cases = [
      ...tradeCases(),
      ...GENERIC.map((g) => aggCase(g, "trades", "in_bar", "qty_int")),
      aggCase("count", "trades", "in_bar", "px_int"),
      aggCase("spread_distribution", "quotes", "in_bar"),
    ];
    const { refs } = await check(spine, bars, us(DAY_START), cases, "split");
    // qty_sum is in base units after the sink: back to exact integer increments for the accounting
    const amount = naturalIncrements(lake, "binance-futures", "BTCUSDT", us(W2024.start)).amount;
    const vol = refs.get("sum@trades.qty_int/in_bar:qty_sum")!.map((v) => Math.round(v / amount));
    for (const v of vol) assert.equal(v, THRESHOLD_QTY, "exact-volume bars");
    const tc = refs.get("trade_count@trades/in_bar:trade_count")!;
    const pieces = refs.get("count@trades.px_int/in_bar:px_count")!;
    assert.ok(
      tc.some((x, j) => x < pieces[j]!),
      "a bar holds a continuation piece (trade_count < pieces)",
    );
  });

  it("1 s clock bars: empty bars, both joins, as-of state carried across empty bars", async () => {
    const bars = referenceClockBars(raw.trades!, us(W2024.start), us(W2024.end), 1_000_000);
    const cases = [...tradeCases(), ...bookCases(), ...genericCases()];
    const { refs, res } = await check(CLOCK, bars, us(W2024.start), cases, "clock");
    assert.equal(res.n, 360);
    // the capture starts at 23:54:15: the first 15 bars are empty
    const c = (name: string) => refs.get(name)!;
    for (let j = 0; j < 15; j++) {
      assert.ok(Number.isNaN(c("trade_vwap@trades/in_bar:vwap_px")[j]!), `empty bar ${j}`);
      assert.equal(c("ohlcv@trades/in_bar:volume")[j], 0);
      assert.equal(c("trade_count@trades/in_bar:trade_count")[j], 0);
      assert.equal(c("count@quotes.ask_qty_int/in_bar:ask_qty_count")[j], 0);
      assert.ok(Number.isNaN(c("spread_bps@quotes/asof_backward:spread_bps")[j]!), "no quote yet");
      assert.ok(Number.isNaN(c("ofi_cont@quotes/in_bar:ofi_cont")[j]!), "no OFI state yet");
    }
    // Σ volume of the rows = every trade of the range (clock bars assign each trade to one row)
    const tq = raw.trades!.columns.qty_int as Float64Array;
    const total = tq.reduce((a, b) => a + b, 0);
    const amount = naturalIncrements(lake, "binance-futures", "BTCUSDT", us(W2024.start)).amount;
    const vol = c("sum@trades.qty_int/in_bar:qty_sum").reduce(
      (a, b) => a + (Number.isNaN(b) ? 0 : Math.round(b / amount)),
      0,
    );
    assert.equal(vol, total);
  });

  it("snapshot / restore mid-run (rows 1, 2, 3, 17, 60, 211 and every 997 events) is bitwise identical", async () => {
    const cases = [...tradeCases(), ...bookCases(), ...genericCases()];
    for (const spine of [VOLUME, CLOCK] as const) {
      const { plain, probed } = await assertSnapshotRestoreIdentical(
        registry,
        lake,
        spine,
        W2024.start,
        W2024.end,
        cases,
        `${spine.type} `,
      );
      assert.equal(probed.n, plain.n);
    }
    // foreign or malformed state is refused
    const op = buildCase(registry, aggCase("ofi_cont", "quotes", "in_bar")).op;
    assert.throws(() => op.restore({ v: 2 }), TypeError);
    assert.throws(() => op.restore([] as JsonValue), TypeError);
  });

  it("a deliberately broken operator of each family fails the comparison", async () => {
    const bars = referenceVolumeBars(raw.trades!, THRESHOLD_QTY, false, us(DAY_START));
    const env = new RefEnv(raw, bars, us(DAY_START), pInc, aInc);
    const ctxOf = (c: AggCase): AggregationContext => {
      const spec = registry.getRequestOperator(c.agg)!;
      const p = { sourceColumn: c.column, config: {}, joinStrategy: c.join };
      return {
        ...p,
        operatorName: c.tag,
        role: roleOfTable(c.table)!,
        table: c.table,
        outputNames: spec.outputs(p).map((o) => `${c.tag}:${o.name}`),
      };
    };
    const outsOf = (c: AggCase) => buildCase(registry, c).op.outputs;

    // generic: std with ddof 0
    const stdCase = aggCase("std", "quotes", "in_bar", "ask_qty_int");
    class Ddof0 extends ColumnAggOperator {
      protected override write(outs: readonly Float64Array[], r: number): void {
        const n = this.moments.n;
        outs[0]![r] = this.moments.std() * Math.sqrt((n - 1) / n);
      }
    }
    // trades: taker sides swapped
    const flowCase = aggCase("flow_imbalance", "trades", "in_bar");
    class SidesSwapped extends FlowImbalanceOperator {
      override onTrade(px: number, qty: number, side: number, continuation: boolean): void {
        super.onTrade(px, qty, side === 0 ? 1 : side === 1 ? 0 : side, continuation);
      }
    }
    // book: OFI with strict inequalities (off-by-one at equal prices)
    const ofiCase = aggCase("ofi_cont", "quotes", "in_bar");
    class StrictOfi extends OfiContOperator {
      protected override increment(c: L1, p: L1): number {
        let e = 0;
        if (c.bidPx > p.bidPx) e += c.bidQty;
        if (c.bidPx < p.bidPx) e -= p.bidQty;
        if (c.askPx < p.askPx) e -= c.askQty;
        if (c.askPx > p.askPx) e += p.askQty;
        return e;
      }
    }
    const mutants: [AggCase, Operator][] = [
      [stdCase, new Ddof0("std", ctxOf(stdCase), outsOf(stdCase))],
      [flowCase, new SidesSwapped(false, flowCase.tag, outsOf(flowCase))],
      [ofiCase, new StrictOfi(ofiCase.tag, ["quotes"], outsOf(ofiCase))],
    ];
    const res = await runReplay(
      lake,
      VOLUME,
      W2024.start,
      W2024.end,
      mutants.map((m) => m[1]),
    );
    const rows = alignRows(res, bars, us(W2024.start), us(W2024.end));
    for (const [c, op] of mutants) {
      assert.throws(
        () => compareCases(res, [{ c, names: op.outputs.map((o) => o.name) }], env, rows, "mutant"),
        /mutant .*engine .* reference/,
        `mutant ${c.tag} must fail`,
      );
    }
  });
});

describe("hand-checked examples (operators driven directly)", () => {
  const registry = builtinRegistry();
  const make = (agg: string, table: TableName, join: "in_bar" | "asof_backward" = "in_bar") => {
    const op = buildCase(registry, aggCase(agg, table, join)).op;
    op.init?.({ primary: { exchange: EX, symbol: SYM, priceIncrement: 0.5, amountIncrement: 0.01 } });
    return op;
  };
  const emit = (op: Operator): number[] => {
    const outs = op.outputs.map(() => new Float64Array(1));
    op.emit({ tsEventUs: 0, tsEndUs: 1, availableAtUs: 1, barIndex: 0 }, outs, 0);
    return outs.map((o) => o[0]!);
  };

  it("flow_imbalance 0 vs signed_trade_imbalance null when only unknown sides traded", () => {
    const trades: TypedRows = {
      table: "trades",
      length: 3,
      columns: {
        ts_local_us: Float64Array.from([1, 2, 3]),
        px_int: Float64Array.from([100, 102, 101]),
        qty_int: Float64Array.from([5, 3, 2]),
        side: Int8Array.from([-1, -1, 0]),
      },
    };
    const flow = make("flow_imbalance", "trades");
    const signed = make("signed_trade_imbalance", "trades");
    const vwap = make("trade_vwap", "trades");
    const vwr = make("vw_return", "trades");
    const rv = make("realized_volatility", "trades");
    const cur = new MutableEventCursor();
    cur.rows = trades;
    const feed = (i: number) => {
      cur.i = i;
      cur.qtyInt = (trades.columns.qty_int as Float64Array)[i]!;
      for (const op of [flow, signed, vwap, vwr, rv]) op.onEvent(cur);
    };
    feed(0);
    feed(1);
    assert.deepEqual([emit(flow)[0], emit(signed)[0]], [0, NAN]);
    // vwap of (100 × 5 + 102 × 3) / 8 = 100.75 price increments (the operator's unit; the sink converts)
    assert.equal(emit(vwap)[0], 100.75);
    assert.equal(vwap.outputs[0]!.unit, "price increments");
    // vw_return = 3·ln(102/100) / 8; realized_vol null with one return
    assert.ok(Math.abs(emit(vwr)[0]! - (3 * Math.log(1.02)) / 8) < 1e-15);
    assert.ok(Number.isNaN(emit(rv)[0]!));
    feed(2); // one taker buy of 2 → (2 − 0) / 2
    assert.deepEqual([emit(flow)[0], emit(signed)[0]], [1, 1]);
    assert.deepEqual([emit(flow)[0], emit(signed)[0]], [NAN, NAN], "empty bar");
  });

  it("ofi_cont: first update 0, CKS e_n by hand, missing side contributes 0, carried across an empty bar", () => {
    // bid px, bid qty, ask px, ask qty per update
    const ups = [
      [100, 10, 101, 7],
      [100, 12, 101, 4], // bid same (+12 − 10), ask same (−4 + 7): e = 5
      [101, 3, 102, 9], // bid up (+3), ask up (+4): e = 7
      [100, 6, 101, 2], // bid down (−3), ask down (−2): e = −5
      [NAN, NAN, 101, 5], // bid side missing: 0; ask same (−5 + 2): e = −3
    ];
    const lists = (k: number) => ups.map((u) => (Number.isNaN(u[k]!) ? [] : [u[k]!]));
    const level = (ls: number[][]): LevelColumn => {
      const values = new Float64Array(ls.length * BOOK_DEPTH).fill(NAN);
      ls.forEach((l, i) => {
        values.set(l, i * BOOK_DEPTH);
      });
      return { values, lens: Uint8Array.from(ls, (l) => l.length) };
    };
    const book: TypedRows = {
      table: "book_snapshot_25",
      length: ups.length,
      columns: {
        ts_local_us: Float64Array.from(ups.keys()),
        bid_px_int: level(lists(0)),
        bid_qty_int: level(lists(1)),
        ask_px_int: level(lists(2)),
        ask_qty_int: level(lists(3)),
      },
    };
    const ofi = make("ofi_cont", "book_snapshot_25");
    const micro = make("microprice_close", "book_snapshot_25");
    const imb = make("book_imbalance_top5", "book_snapshot_25", "in_bar");
    assert.ok(Number.isNaN(emit(ofi)[0]!), "null before any update");
    const cur = new MutableEventCursor();
    cur.role = "book";
    cur.rows = book;
    const feed = (i: number) => {
      cur.i = i;
      for (const op of [ofi, micro, imb]) op.onEvent(cur);
    };
    feed(0);
    // microprice (100·7 + 101·10) / 17 price increments (as 100 + 1·10/17); imbalance (10 − 7) / 17
    assert.deepEqual([emit(ofi)[0], emit(micro)[0], emit(imb)[0]], [0, 100 + 10 / 17, 3 / 17]);
    assert.deepEqual([micro.outputs[0]!.unit, ofi.outputs[0]!.unit], ["price increments", "qty increments"]);
    assert.deepEqual([emit(ofi)[0], emit(imb)[0]], [0, NAN], "empty bar: ofi 0, in_bar imbalance null");
    feed(1);
    feed(2);
    assert.equal(emit(ofi)[0], 12, "5 + 7 qty increments");
    feed(3);
    feed(4);
    assert.equal(emit(ofi)[0], -8, "−5 − 3 qty increments");
    assert.ok(Number.isNaN(emit(micro)[0]!), "microprice null with a missing side");
  });

  it("generic: nulls skipped, count 0 / nunique null on an empty bar, first/last as-of across an empty bar", () => {
    const quotes: TypedRows = {
      table: "quotes",
      length: 4,
      columns: {
        ts_local_us: Float64Array.from([1, 2, 3, 4]),
        bid_qty_int: Float64Array.from([4, NAN, 4, 9]),
      },
    };
    const ops = Object.fromEntries(
      ["sum", "std", "count", "nunique", "first", "last"].map((g) => {
        const op = buildCase(registry, aggCase(g, "quotes", "in_bar", "bid_qty_int")).op;
        return [g, op];
      }),
    );
    const first = buildCase(registry, aggCase("first", "quotes", "asof_backward", "bid_qty_int")).op;
    const last = buildCase(registry, aggCase("last", "quotes", "asof_backward", "bid_qty_int")).op;
    const all = [...Object.values(ops), first, last];
    const cur = new MutableEventCursor();
    cur.role = "quotes";
    cur.rows = quotes;
    const row = () => all.map((op) => emit(op)[0]);
    for (const i of [0, 1, 2]) {
      cur.i = i;
      for (const op of all) op.onEvent(cur);
    }
    // values 4, null, 4: sum 8, std 0, count 2, nunique 1, first 4, last 4; as-of first 4, last 4
    assert.deepEqual(row(), [8, 0, 2, 1, 4, 4, 4, 4]);
    // empty bar: count 0, others null; as-of first = last = carried 4
    assert.deepEqual(row(), [NAN, NAN, 0, NAN, NAN, NAN, 4, 4]);
    cur.i = 3;
    for (const op of all) op.onEvent(cur);
    assert.deepEqual(row(), [9, NAN, 1, 1, 9, 9, 9, 9]);
  });
});
