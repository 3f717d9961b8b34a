/**
 * `PushSource` and the Driver changes it relies on, on small synthetic streams: chunks cut at watermarks
 * (events < W, as row ranges of segments), lateness and per-stream order checks, segments replaced
 * without touching rows already handed out, column-value pushes (book level lists, nullable columns),
 * `cutThrough` and the Driver's one-stream timestamp continuation (also across a restore), an empty
 * chunk leaving the snapshot position intact, and `advanceTo` as a watermark.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigError } from "../../src/core/errors.js";
import { CollectSink, Driver, type EventChunk, type FeatureBatch } from "../../src/engine/driver.js";
import type { OperatorReads } from "../../src/engine/inputs.js";
import {
  type EventCursor,
  type JsonValue,
  type Operator,
  type OutputSpec,
  type SourceRole,
  stateNumber,
  stateObject,
} from "../../src/engine/operator.js";
import { createSpine } from "../../src/engine/spine.js";
import { parseSpineSpec, type SpineSpecInput } from "../../src/engine/spine-spec.js";
import { EventOrderError, PushSource } from "../../src/live/push-source.js";
import type { LevelColumn, TypedRows } from "../../src/query/query.js";
import { BOOK_DEPTH } from "../../src/schema/tables.js";

/** Records the events it is fed; emits how many it has seen. */
class Recorder implements Operator {
  readonly id = "recorder";
  readonly outputs: readonly OutputSpec[] = [{ name: "n_events", dtype: "i64", unit: "1", warmupRows: 0 }];
  readonly reads: OperatorReads;
  readonly seen: string[] = [];
  n = 0;
  constructor(readonly inputs: readonly SourceRole[]) {
    this.reads = Object.fromEntries(inputs.map((r) => [r, { ts_local_us: "f64", file_line_number: "f64" }]));
  }
  onEvent(ev: EventCursor): void {
    const line = (ev.rows.columns.file_line_number as Float64Array)[ev.i];
    this.seen.push(`${ev.role}@${ev.tsLocalUs}#${line}`);
    this.n++;
  }
  emit(_row: unknown, out: readonly Float64Array[], r: number): void {
    out[0]![r] = this.n;
  }
  snapshot(): JsonValue {
    return { n: this.n };
  }
  restore(s: JsonValue): void {
    this.n = stateNumber(stateObject(s, "recorder"), "n");
  }
}

const trade = (ts: number, line: number, qty = 1) => ({
  ts_local_us: ts,
  file_id: 1,
  file_line_number: line,
  side: 0,
  px_int: 100,
  qty_int: qty,
});
const quote = (ts: number, line: number) => ({
  ts_local_us: ts,
  file_id: 1,
  file_line_number: line,
  bid_px_int: 99,
  bid_qty_int: 1,
  ask_px_int: 101,
  ask_qty_int: 1,
});

function driver(
  roles: readonly SourceRole[],
  spine: SpineSpecInput,
  rec: Recorder,
  sink = new CollectSink(),
) {
  return new Driver({
    streams: roles.map((role) => ({ role, label: "x/Y" })),
    spine: (() => {
      const s = createSpine(parseSpineSpec(spine), {
        startUs: 0,
        priceIncrement: 0.1,
        amountIncrement: 0.001,
      });
      s.replayStartUs(0, 0);
      return s;
    })(),
    operators: [rec],
    startUs: 0,
    endUs: 1_000_000,
    sink,
  });
}

/** Fresh typed trades (a lake-replay-like batch). */
function tradeRows(ts: readonly number[], lines: readonly number[]): TypedRows {
  const n = ts.length;
  return {
    table: "trades",
    length: n,
    columns: {
      ts_local_us: Float64Array.from(ts),
      file_id: new Float64Array(n).fill(1),
      file_line_number: Float64Array.from(lines),
      side: new Int8Array(n),
      px_int: new Float64Array(n).fill(100),
      qty_int: new Float64Array(n).fill(1),
    },
  };
}

describe("PushSource", () => {
  it("cuts the events before W as row ranges; null when none; watermarks never move back", () => {
    const src = new PushSource([
      { role: "quotes", label: "x/Y" },
      { role: "trades", label: "x/Y" },
    ]);
    src.push(0, quote(10, 1));
    src.push(1, trade(15, 2));
    src.push(0, quote(20, 3));
    src.push(1, trade(20, 4));
    assert.equal(src.pending, 4);
    assert.equal(src.minLastTsUs(), 20);
    const c = src.cut(20)!;
    assert.deepEqual([c.starts, c.ends, c.toUs], [[0, 0], [1, 1], 20]);
    assert.equal((c.rows[1]!.columns.ts_local_us as Float64Array)[0], 15);
    assert.equal(src.pending, 2);
    assert.equal(src.cut(20), null);
    assert.throws(() => src.cut(19), ConfigError);
    assert.throws(() => src.push(1, trade(19, 5)), EventOrderError, "late");
    assert.throws(() => src.push(1, trade(20, 4)), EventOrderError, "same key as the previous event");
    const d = src.cut(21)!;
    assert.deepEqual([d.fromUs, d.starts, d.ends], [20, [1, 1], [2, 2]]);
  });

  it("replaces a full segment without touching rows handed out, keeping the last timestamp's rows", () => {
    const src = new PushSource([{ role: "trades", label: "x/Y" }], { segmentRows: 2 });
    src.push(0, trade(1, 1));
    src.push(0, trade(2, 2));
    const first = src.cut(2)!;
    const seg1 = first.rows[0]!;
    assert.deepEqual([first.starts?.[0], first.ends?.[0]], [0, 1]);
    src.push(0, trade(2, 3)); // segment full: a new one holds the handed-out row at ts 1 and the pending ones
    src.push(0, trade(3, 4));
    const next = src.cut(4)!;
    const seg2 = next.rows[0]!;
    assert.notEqual(seg2, seg1);
    assert.deepEqual([next.starts?.[0], next.ends?.[0]], [1, 4]);
    assert.deepEqual(Array.from((seg2.columns.ts_local_us as Float64Array).subarray(0, 4)), [1, 2, 2, 3]);
    assert.deepEqual(Array.from(seg1.columns.ts_local_us as Float64Array), [1, 2]);
    assert.equal(seg1.length, 2);
  });

  it("takes column values: level lists, nullable columns omitted, required ones checked", () => {
    const src = new PushSource([{ role: "book", label: "x/Y" }]);
    const levels = (n: number, base: number) => Array.from({ length: n }, (_, k) => base + k);
    src.push(0, {
      ts_local_us: 5,
      file_id: 1,
      file_line_number: 1,
      bid_px_int: levels(3, 100),
      bid_qty_int: levels(3, 1),
      ask_px_int: levels(30, 200),
      ask_qty_int: levels(30, 1),
    });
    const rows = src.cut(6)!.rows[0]!;
    const bid = rows.columns.bid_px_int as LevelColumn;
    const ask = rows.columns.ask_px_int as LevelColumn;
    assert.deepEqual(Array.from(bid.values.subarray(0, 5)), [100, 101, 102, 0, 0]);
    assert.equal(bid.lens[0], 3);
    assert.equal(ask.lens[0], BOOK_DEPTH);
    assert.ok(Number.isNaN((rows.columns.update_id as Float64Array)[0]!));
    assert.throws(
      () => src.push(0, { ts_local_us: 7, file_id: 1, file_line_number: 2, bid_px_int: [1] }),
      /bid_qty_int/,
    );
    const trades = new PushSource([{ role: "trades", label: "x/Y" }]);
    assert.throws(() => trades.push(0, { ...trade(1, 1), px_int: [1] }), /px_int must be a number/);
    assert.throws(() => trades.push(0, { ...trade(1, 1), side: undefined }), /side must be a number/);
  });

  it("cutThrough: one-stream runs process a trade at once and continue its µs in the next chunk", () => {
    const two = new PushSource([
      { role: "quotes", label: "x/Y" },
      { role: "trades", label: "x/Y" },
    ]);
    assert.throws(() => two.cutThrough(5), /one-stream/);

    const rec = new Recorder(["trades"]);
    const sink = new CollectSink();
    const d = driver(["trades"], { type: "tick", tickThreshold: 2 }, rec, sink);
    const src = new PushSource([{ role: "trades", label: "x/Y" }]);
    src.push(0, trade(5, 1));
    d.push(src.cutThrough(5)!);
    src.push(0, trade(5, 2)); // same µs, after the cut: the bar closes on it
    d.push(src.cutThrough(5)!);
    const snap = JSON.parse(JSON.stringify(d.snapshot()));
    assert.deepEqual(snap.position, { tsUs: 5, atTs: [2] });
    src.push(0, trade(5, 3));
    src.push(0, trade(6, 4));
    d.push(src.cut(7)!);
    d.finish();
    assert.deepEqual(rec.seen, ["trades@5#1", "trades@5#2", "trades@5#3", "trades@6#4"]);
    assert.equal(
      sink.batches.reduce((n: number, b: FeatureBatch) => n + b.length, 0),
      2,
    );

    // restored at (5, [2]): the consumed events at 5 are skipped even when they come in two chunks
    const rec2 = new Recorder(["trades"]);
    const d2 = driver(["trades"], { type: "tick", tickThreshold: 2 }, rec2);
    d2.restore(snap);
    const rows = tradeRows([5, 5, 5, 6], [1, 2, 3, 4]);
    const part = (from: number, to: number, fromUs: number, toUs: number): EventChunk => ({
      fromUs,
      toUs,
      rows: [rows],
      starts: [from],
      ends: [to],
    });
    d2.push(part(0, 1, 5, 6));
    d2.push(part(1, 4, 5, 7));
    assert.deepEqual(rec2.seen, ["trades@5#3", "trades@6#4"]);
  });

  it("Driver: an empty chunk leaves the snapshot position; advanceTo is a watermark", () => {
    const rec = new Recorder(["quotes", "trades"]);
    const d = driver(["quotes", "trades"], { type: "clock", stepMs: 1 }, rec);
    const empty = tradeRows([], []);
    const quotes0: TypedRows = { ...tradeRows([], []), table: "quotes" };
    d.push({ fromUs: 0, toUs: 11, rows: [quotes0, tradeRows([10, 10], [1, 2])] });
    const a = d.snapshot();
    d.push({ fromUs: 11, toUs: 20, rows: [quotes0, empty] });
    assert.deepEqual(d.snapshot().position, a.position);
    assert.deepEqual(a.position, { tsUs: 10, atTs: [0, 2] });
    d.advanceTo(100);
    assert.equal(d.watermarkUs, 100);
    assert.throws(
      () => d.push({ fromUs: 50, toUs: 120, rows: [quotes0, tradeRows([60], [3])] }),
      /starts before/,
    );
    // several streams never continue a timestamp
    assert.throws(() => d.push({ fromUs: 20, toUs: 120, rows: [quotes0, empty] }), /starts before/);
  });
});
