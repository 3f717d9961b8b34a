/**
 * `TypedConverter`: the synchronous `convert` and the prefetch worker's `convertAsync` (lazy queries on
 * Polars' pool) against a brute-force reference built from the JS arrays the frame was made of — book
 * level lists of every shape (empty, null, shorter than, equal to and longer than BOOK_DEPTH, null
 * elements), nullable integer columns — and `transferable` columns that `postMessage` really detaches.
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MessageChannel } from "node:worker_threads";
import pl from "nodejs-polars";
import { type LevelColumn, TypedConverter, type TypedRows } from "../../src/query/query.js";
import { BOOK_DEPTH, type ColumnSpec } from "../../src/schema/tables.js";

const SPECS: ColumnSpec[] = [
  { name: "ts_local_us", dtype: "i64", unit: "µs", description: "", nullable: false },
  { name: "update_id", dtype: "i64", unit: "id", description: "", nullable: true },
  { name: "bid_px_int", dtype: "list_i64", unit: "px", description: "", nullable: false },
  { name: "bid_qty_int", dtype: "list_i64", unit: "qty", description: "", nullable: false },
  { name: "ask_px_int", dtype: "list_i64", unit: "px", description: "", nullable: false },
  { name: "ask_qty_int", dtype: "list_i64", unit: "qty", description: "", nullable: false },
];

type List = (number | null)[] | null;

function levels(n: number, base: number): number[] {
  return Array.from({ length: n }, (_, k) => base + k);
}

/** Rows of every list shape; ask lists differ in length from bid lists. */
function shapes(): { ts: number[]; upd: (number | null)[]; bid: List[]; ask: List[] } {
  const bid: List[] = [[], null, levels(3, 100), levels(25, 200), levels(30, 300), [7, null, 9]];
  const ask: List[] = [levels(25, 1000), levels(2, 1100), null, [], levels(26, 1300), levels(25, 1400)];
  return {
    ts: bid.map((_, i) => 1_700_000_000_000_000 + i),
    upd: bid.map((_, i) => (i % 2 ? null : 10 * i)),
    bid,
    ask,
  };
}

function frame(d: ReturnType<typeof shapes>): pl.DataFrame {
  const list = (name: string, v: List[]) => pl.Series(name, v, pl.List(pl.Int64));
  return pl.DataFrame([
    pl.Series("ts_local_us", d.ts, pl.Int64),
    pl.Series("update_id", d.upd, pl.Int64),
    list("bid_px_int", d.bid),
    list(
      "bid_qty_int",
      d.bid.map((l) => (l === null ? null : l.map((x) => (x === null ? null : x * 2)))),
    ),
    list("ask_px_int", d.ask),
    list(
      "ask_qty_int",
      d.ask.map((l) => (l === null ? null : l.map((x) => (x === null ? null : x * 2)))),
    ),
  ]);
}

/** The slot layout by hand: min(len, 25) levels per row, null element → NaN, unused slots 0. */
function expectedLevels(v: List[]): { values: number[]; lens: number[] } {
  const values = new Array<number>(v.length * BOOK_DEPTH).fill(0);
  const lens = v.map((l) => Math.min(l?.length ?? 0, BOOK_DEPTH));
  v.forEach((l, i) => {
    for (let k = 0; k < lens[i]!; k++) values[i * BOOK_DEPTH + k] = l![k] ?? Number.NaN;
  });
  return { values, lens };
}

function assertMatches(got: TypedRows, d: ReturnType<typeof shapes>, what: string): void {
  assert.equal(got.length, d.ts.length, what);
  assert.deepEqual([...(got.columns.ts_local_us as Float64Array)], d.ts, `${what}: ts`);
  assert.deepEqual(
    [...(got.columns.update_id as Float64Array)],
    d.upd.map((x) => x ?? Number.NaN),
    `${what}: nullable i64 → NaN`,
  );
  const twice = (v: List[]): List[] =>
    v.map((l) => (l === null ? null : l.map((x) => (x === null ? null : x * 2))));
  for (const [name, v] of [
    ["bid_px_int", d.bid],
    ["bid_qty_int", twice(d.bid)],
    ["ask_px_int", d.ask],
    ["ask_qty_int", twice(d.ask)],
  ] as const) {
    const c = got.columns[name] as LevelColumn;
    const e = expectedLevels(v);
    assert.deepEqual([...c.lens], e.lens, `${what}: ${name} lens`);
    assert.deepEqual([...c.values], e.values, `${what}: ${name} slots`);
  }
}

function detaches(rows: TypedRows): boolean {
  const ch = new MessageChannel();
  const bufs: ArrayBuffer[] = [];
  for (const c of Object.values(rows.columns)) {
    if (c instanceof Float64Array || c instanceof Int8Array) bufs.push(c.buffer as ArrayBuffer);
    else if (!Array.isArray(c)) bufs.push(c.values.buffer as ArrayBuffer, c.lens.buffer as ArrayBuffer);
  }
  ch.port1.postMessage(bufs, [...new Set(bufs)]);
  ch.port1.close();
  return bufs.every((b) => b.byteLength === 0);
}

describe("TypedConverter", () => {
  const conv = new TypedConverter("book_snapshot_25", SPECS);

  it("convert and convertAsync give the hand-built slot layout for every list shape", async () => {
    const d = shapes();
    const df = frame(d);
    assertMatches(conv.convert(df), d, "convert");
    assertMatches(await conv.convertAsync(df), d, "convertAsync");
    assertMatches(await conv.convertAsync(df, true), d, "convertAsync transferable");
  });

  it("full books take the exploded values as the layout; transferable columns really transfer", async () => {
    const d = {
      ts: [1, 2, 3],
      upd: [5, 6, 7],
      bid: [levels(25, 10), levels(25, 20), levels(25, 30)],
      ask: [levels(25, 40), levels(25, 50), levels(25, 60)],
    };
    const df = frame(d);
    assertMatches(conv.convert(df), d, "convert (full)");
    const t = await conv.convertAsync(df, true);
    assertMatches(t, d, "convertAsync (full)");
    assert.equal(detaches(t), true, "every transferable column is detached by postMessage");
  });

  it("zero rows: the empty layout", async () => {
    const df = frame(shapes()).head(0);
    const a = conv.convert(df);
    const b = await conv.convertAsync(df, true);
    assert.equal(a.length, 0);
    assert.equal(b.length, 0);
    assert.equal((b.columns.bid_px_int as LevelColumn).values.length, 0);
  });
});
