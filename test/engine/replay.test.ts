/**
 * The replay engine on the real capture: total-order merge, knowledge sets (no event at or after a
 * row's close is fed before its emit), the PIT prefix-truncation check (passes on honest operators, fails
 * on a deliberately leaky one), determinism (canonical hash), bar invariants on real trades, unassigned
 * accounting, and maxRows.
 */

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { toUs } from "../../src/core/time.js";
import { canonicalFrameHash } from "../../src/engine/hash.js";
import type { OperatorReads } from "../../src/engine/inputs.js";
import type { EventCursor, Operator, SourceRole, SpineRow } from "../../src/engine/operator.js";
import { checkPrefixTruncation } from "../../src/engine/pit.js";
import type { FeatureRunInput } from "../../src/features/config.js";
import type { FamilyDef } from "../../src/features/family.js";
import { buildFeatureFrame, buildFeatureFrameWithSummary } from "../../src/features/frame.js";
import { TABLES } from "../../src/schema/tables.js";
import { columnValues } from "../helpers/engine.js";
import { captureLake, rawEvents, W2024 } from "../helpers/lake.js";

/** Records, per row, what it was fed: counts, volume, last trade price, and the latest event key seen. */
class Recorder implements Operator {
  readonly id = "recorder";
  readonly inputs: readonly SourceRole[] = ["trades", "book", "quotes"];
  readonly reads: OperatorReads = {
    trades: { px_int: "f64", file_id: "f64", file_line_number: "f64" },
    book: { file_id: "f64", file_line_number: "f64" },
    quotes: { file_id: "f64", file_line_number: "f64" },
  };
  readonly outputs = [
    { name: "t_trades", dtype: "i64", unit: "1", warmupRows: 0 },
    { name: "t_qty_int", dtype: "i64", unit: "qty increments", warmupRows: 0 },
    { name: "t_events", dtype: "i64", unit: "1", warmupRows: 0 },
    { name: "t_last_px_int", dtype: "i64", unit: "price increments", warmupRows: 0 },
    { name: "t_max_ts", dtype: "i64", unit: "µs", warmupRows: 0 },
    { name: "t_order_ok", dtype: "i64", unit: "1", warmupRows: 0 },
  ] as const;
  private trades = 0;
  private qty = 0;
  private events = 0;
  private lastPx = Number.NaN;
  private maxTs = Number.NaN;
  private prev = [Number.NEGATIVE_INFINITY, 0, 0, 0];
  private orderOk = 1;
  onEvent(ev: EventCursor): void {
    if (ev.role === "trades") {
      if (!ev.continuation) this.trades++;
      this.qty += ev.qtyInt;
      this.lastPx = (ev.rows.columns.px_int as Float64Array)[ev.i]!;
    }
    if (ev.continuation) return;
    this.events++;
    const key = [
      ev.tsLocalUs,
      TABLES[ev.rows.table].rank,
      (ev.rows.columns.file_id as Float64Array)[ev.i]!,
      (ev.rows.columns.file_line_number as Float64Array)[ev.i]!,
    ];
    for (let k = 0; k < 4; k++) {
      if (key[k]! > this.prev[k]!) break;
      if (key[k]! < this.prev[k]! || k === 3) this.orderOk = 0; // equal keys cannot happen either
    }
    this.prev = key;
    this.maxTs = Number.isNaN(this.maxTs) ? ev.tsLocalUs : Math.max(this.maxTs, ev.tsLocalUs);
  }
  emit(_row: SpineRow, out: readonly Float64Array[], r: number): void {
    out[0]![r] = this.trades;
    out[1]![r] = this.qty;
    out[2]![r] = this.events;
    out[3]![r] = this.lastPx;
    out[4]![r] = this.maxTs;
    out[5]![r] = this.orderOk;
    this.trades = 0;
    this.qty = 0;
    this.events = 0;
  }
  discardBar(): void {
    this.trades = 0;
    this.qty = 0;
    this.events = 0;
  }
  snapshot() {
    return null;
  }
  restore(): void {}
}

/** Deliberately leaky: writes the price of the trade 200 trades ahead, peeking past the cursor in the batch. */
class Leaky implements Operator {
  readonly id = "leaky";
  readonly inputs: readonly SourceRole[] = ["trades"];
  readonly reads: OperatorReads = { trades: { px_int: "f64" } };
  readonly outputs = [
    { name: "leak_next_px_int", dtype: "i64", unit: "price increments", warmupRows: 0 },
  ] as const;
  private next = Number.NaN;
  onEvent(ev: EventCursor): void {
    const px = ev.rows.columns.px_int as Float64Array;
    this.next = ev.i + 200 < ev.rows.length ? px[ev.i + 200]! : Number.NaN;
  }
  emit(_row: SpineRow, out: readonly Float64Array[], r: number): void {
    out[0]![r] = this.next;
  }
  snapshot() {
    return null;
  }
  restore(): void {}
}

const family = (id: string, make: () => Operator): FamilyDef => ({
  id,
  prefix: "t_",
  title: id,
  flag: "includeMicrostructure",
  members: () => [],
  catalog: () => [],
  create: make,
});
const ONLY = (spine: FeatureRunInput["spine"]): FeatureRunInput => ({ spine, warmupMs: 0 });

let lake = "";
let cleanup = () => {};
const EX = "binance-futures";
const SYM = "BTCUSDT";

describe("replay engine on binance-futures BTCUSDT 2024-08-08", () => {
  before(async () => {
    ({ lake, cleanup } = await captureLake(["usdm2024"]));
  });
  after(() => cleanup());

  const frame = (spine: FeatureRunInput["spine"], fams: FamilyDef[], end: string | number = W2024.end) =>
    buildFeatureFrameWithSummary({
      lake,
      exchange: EX,
      symbol: SYM,
      start: W2024.start,
      end,
      config: ONLY(spine),
      families: fams,
    });
  /**
   * The Recorder's whole-window run on `spine`, built once and shared by the tests that read it (a run is
   * deterministic: "is deterministic" below still compares two separate runs).
   */
  const recorded = new Map<string, ReturnType<typeof frame>>();
  const recorderFrame = (spine: FeatureRunInput["spine"]): ReturnType<typeof frame> => {
    const key = JSON.stringify(spine);
    let f = recorded.get(key);
    if (f === undefined) {
      f = frame(spine, [family("rec", () => new Recorder())]);
      recorded.set(key, f);
    }
    return f;
  };
  /** The raw events of the window (read once; the references only read them). */
  let raw: ReturnType<typeof rawEvents> | undefined;
  const rawWindow = (): ReturnType<typeof rawEvents> => {
    raw ??= rawEvents(lake, EX, SYM, W2024.start, W2024.end);
    return raw;
  };

  it("feeds events in the total order and never past a row's close", async () => {
    for (const spine of [
      { type: "clock", stepMs: 1000 },
      { type: "volume", volumeThreshold: 5 },
      { type: "trades" },
    ] as const) {
      const { frame: df } = await recorderFrame(spine);
      assert.ok(df.height > 300, `${spine.type}: ${df.height} rows`);
      const ok = columnValues(df, "t_order_ok");
      assert.ok(
        ok.every((v) => v === 1),
        `${spine.type}: events out of total order`,
      );
      const maxTs = columnValues(df, "t_max_ts");
      const avail = columnValues(df, "available_at_us");
      for (let i = 0; i < df.height; i++) {
        if (Number.isNaN(maxTs[i]!)) continue;
        if (spine.type === "clock")
          assert.ok(maxTs[i]! < avail[i]!, `clock row ${i} saw an event at its close`);
        else assert.ok(maxTs[i]! <= avail[i]!, `${spine.type} row ${i} saw a later event`);
      }
    }
  });

  it("clock rows hold exactly the raw trades in [t, t + 1 s) and count every trade once", async () => {
    const { frame: df, summary } = await recorderFrame({ type: "clock", stepMs: 1000 });
    const raw = (await rawWindow()).trades;
    const ts = raw.columns.ts_local_us as Float64Array;
    const qty = raw.columns.qty_int as Float64Array;
    const tsEvent = columnValues(df, "ts_event_us");
    const nTrades = columnValues(df, "t_trades");
    const q = columnValues(df, "t_qty_int");
    assert.equal(df.height, 360);
    let j = 0;
    for (let r = 0; r < df.height; r++) {
      let n = 0;
      let s = 0;
      while (j < raw.length && ts[j]! < tsEvent[r]! + 1_000_000) {
        assert.ok(ts[j]! >= tsEvent[r]!);
        n++;
        s += qty[j]!;
        j++;
      }
      assert.equal(nTrades[r], n, `row ${r} trades`);
      assert.equal(q[r], s, `row ${r} qty`);
    }
    assert.equal(j, raw.length);
    assert.equal(summary.spine.tradesInRange, raw.length);
    assert.equal(summary.spine.unassignedTrades, 0);
  });

  it("volume bars on real trades: every trade once, Σ volume = total, each bar reaches the threshold", async () => {
    const raw = (await rawWindow()).trades;
    const total = (raw.columns.qty_int as Float64Array).reduce((s, x) => s + x, 0);
    for (const splitTrades of [false, true]) {
      const { frame: df, summary } = await frame(
        { type: "volume", volumeThreshold: 5, splitTrades, includePartialLastBar: true },
        [family("rec", () => new Recorder())],
      );
      const q = columnValues(df, "t_qty_int");
      const n = columnValues(df, "t_trades");
      assert.equal(
        q.reduce((s, x) => s + x, 0),
        total,
        "Σ bar volume = total volume",
      );
      assert.equal(
        n.reduce((s, x) => s + x, 0),
        raw.length,
        "every trade in exactly one bar",
      );
      for (let i = 0; i < df.height - 1; i++) {
        if (splitTrades) assert.equal(q[i], 5000);
        else assert.ok(q[i]! >= 5000);
      }
      assert.ok(q[df.height - 1]! <= (splitTrades ? 5000 : Number.POSITIVE_INFINITY));
      assert.equal(summary.spine.unassignedTrades, 0);
      const start = columnValues(df, "ts_event_us");
      const end = columnValues(df, "ts_end_us");
      for (let i = 1; i < df.height; i++) assert.ok(start[i]! >= end[i - 1]!, "bars overlap");
    }
    // without the partial last bar, its trades are reported as unassigned
    const { summary } = await frame({ type: "volume", volumeThreshold: 7 }, [
      family("rec", () => new Recorder()),
    ]);
    assert.equal(summary.spine.tradesInRange, raw.length);
    assert.ok(summary.spine.unassignedTrades > 0 && summary.spine.unassignedTrades < 200);
  });

  it("PIT prefix truncation: honest operators pass, a leaky one fails", async () => {
    const cuts = fc.sample(fc.integer({ min: toUs(W2024.start) + 20_000_000, max: toUs(W2024.end) - 1 }), {
      seed: 7,
      numRuns: 8,
    });
    for (const spine of [
      { type: "clock", stepMs: 1000 },
      { type: "volume", volumeThreshold: 5 },
    ] as const) {
      const fams = [family("rec", () => new Recorder())];
      const { frame: full } = await recorderFrame(spine);
      const honest = await checkPrefixTruncation(
        full,
        async (c) => (await frame(spine, fams, c)).frame,
        cuts,
      );
      assert.ok(honest.passed, `${spine.type}: ${JSON.stringify(honest.violations.slice(0, 3))}`);
      assert.ok(honest.rowsCompared > 500);
      const leakyFams = [family("leaky", () => new Leaky())];
      const { frame: leakyFull } = await frame(spine, leakyFams);
      const leaky = await checkPrefixTruncation(
        leakyFull,
        async (c) => (await frame(spine, leakyFams, c)).frame,
        cuts,
      );
      assert.equal(leaky.passed, false, `${spine.type}: the leaky operator passed the PIT check`);
      assert.ok(leaky.violations.every((v) => v.column === "leak_next_px_int"));
    }
  });

  it("is deterministic: two runs hash equal; different data hashes differently", async () => {
    const fams = [family("rec", () => new Recorder())];
    const clock = (stepMs: number) =>
      buildFeatureFrame({
        lake,
        exchange: EX,
        symbol: SYM,
        ...W2024,
        config: ONLY({ type: "clock", stepMs }),
        families: fams,
      });
    const a = (await recorderFrame({ type: "clock", stepMs: 1000 })).frame;
    const b = await clock(1000);
    const c = await clock(500);
    assert.equal(canonicalFrameHash(a), canonicalFrameHash(b));
    assert.notEqual(canonicalFrameHash(a), canonicalFrameHash(c));
  });

  it("streams in batches equal to the whole frame, with chunked reads", async () => {
    const fams = [family("rec", () => new Recorder())];
    const req = {
      lake,
      exchange: EX,
      symbol: SYM,
      ...W2024,
      config: ONLY({ type: "trades" }),
      families: fams,
    };
    const whole = (await recorderFrame({ type: "trades" })).frame;
    const small = await buildFeatureFrame({ ...req, batchRows: 1000, chunkMs: 7_000 });
    assert.equal(canonicalFrameHash(whole), canonicalFrameHash(small));
    // 52 chunks: read on the prefetch worker thread, or synchronously — identical rows
    const sync = await buildFeatureFrame({ ...req, batchRows: 1000, chunkMs: 7_000, prefetch: false });
    assert.equal(canonicalFrameHash(sync), canonicalFrameHash(small));
    assert.equal(whole.height, (await rawWindow()).trades.length);
  });

  it("rejects bad requests clearly", async () => {
    await assert.rejects(
      buildFeatureFrame({ lake, exchange: EX, symbol: "NOPE", ...W2024 }),
      /no symbol binance-futures\/NOPE/,
    );
    await assert.rejects(
      buildFeatureFrame({ lake, exchange: EX, symbol: SYM, start: W2024.end, end: W2024.start }),
      /must be after start/,
    );
    await assert.rejects(
      buildFeatureFrame({ lake, exchange: EX, symbol: SYM, ...W2024, config: { flowWindowRows: 1 } }),
      /flowWindowRows/,
    );
    await assert.rejects(
      buildFeatureFrame({
        lake,
        exchange: EX,
        symbol: SYM,
        ...W2024,
        config: { spine: { type: "trades", maxRows: 100 } },
      }),
      /maxRows=100/,
    );
  });
});
