/**
 * The live runner writing into the online store (`StoreRowWriter`), checked by the consistency check
 * (`storeDiff`) against the batch frame of the same request (`buildFeatureFrame`): 0 differing rows on
 * both backends, and a deliberately altered stored value (one ulp) is found — exactly it. Redis killed
 * mid-run (SIGKILL) and restarted on the same port: with a buffer large enough every row ends up in
 * the store; with a small one the rows missing from the store are exactly the counted overflow.
 *
 * Data: 2024-08-08 binance-futures BTCUSDT (+ spot lake), 5 BTC volume bars, the default families and
 * the bar aggregations (404 rows), events fed one at a time in arrival order by the lake replay feed.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type pl from "nodejs-polars";
import { buildFeatureFrame, type FeatureFrameRequest } from "../../src/features/frame.js";
import { replayLake } from "../../src/live/replay-feed.js";
import { LiveRunner } from "../../src/live/runner.js";
import { storeDiff } from "../../src/store/diff.js";
import { StoreRowWriter, type WriterStats } from "../../src/store/row-writer.js";
import type { Entity, OnlineStore } from "../../src/store/types.js";
import { captureLake, W2024 } from "../helpers/lake.js";
import { type Backend, embeddedBackend, redisBackend } from "../helpers/store.js";

const E: Entity = { exchange: "binance-futures", symbol: "BTCUSDT" };

let lake: { lake: string; cleanup: () => void };
let req: FeatureFrameRequest;
let batch: pl.DataFrame;

before(async () => {
  lake = await captureLake(["usdm2024", "spot2024"]);
  req = {
    lake: lake.lake,
    ...E,
    ...W2024,
    prefetch: false,
    config: { spine: { type: "volume", volumeThreshold: 5 }, includeBarAggregations: true },
  };
  batch = await buildFeatureFrame(req);
});
after(() => lake?.cleanup());

/** Runs the live runner over the window, every row into `store` through a writer; returns its stats. */
async function liveIntoStore(
  store: OnlineStore,
  setName: string,
  opts: {
    bufferRows?: number;
    batchRows?: number;
    onRow?: (n: number) => void;
    beforeClose?: () => Promise<void>;
  } = {},
): Promise<{ stats: WriterStats; rows: number; runner: LiveRunner }> {
  const runner = await LiveRunner.forFeatures(req);
  const set = await store.registerFeatureSet({ name: setName, columns: runner.columns });
  const writer = StoreRowWriter.create({
    store,
    set,
    entity: E,
    columns: runner.columns,
    retryBaseMs: 10,
    retryMaxMs: 200,
    maxRetries: 100,
    ...(opts.bufferRows !== undefined ? { bufferRows: opts.bufferRows } : {}),
    ...(opts.batchRows !== undefined ? { batchRows: opts.batchRows } : {}),
  });
  let rows = 0;
  runner.onRow((row) => {
    writer.write(row);
    rows++;
    opts.onRow?.(rows);
  });
  await replayLake(runner, { lake: req.lake, order: "arrival" });
  await opts.beforeClose?.();
  const stats = await writer.close();
  return { stats, rows, runner };
}

for (const make of [() => redisBackend(), async () => embeddedBackend()]) {
  describe("live runner → StoreRowWriter → store, checked by storeDiff", () => {
    let b: Backend;
    let store: OnlineStore;
    before(async () => {
      b = await make();
      store = await b.open();
    });
    after(async () => {
      await store?.close();
      await b?.cleanup();
    });

    it("every live row is in the store, bitwise the batch frame's; one altered value is found, exactly", async (t) => {
      const { stats, rows } = await liveIntoStore(store, "live5");
      assert.equal(rows, batch.height);
      assert.ok(rows >= 300);
      assert.deepEqual(
        [stats.accepted, stats.stored, stats.dropped, stats.rejected, stats.pending, stats.inFlight],
        [rows, rows, 0, 0, 0, 0],
      );
      const set = (await store.getMetadata("live5"))!;
      const d = await storeDiff(store, set, E, batch);
      assert.deepEqual(
        [d.rowsCompared, d.rowsOnlyOnline, d.rowsOnlyBatch, d.rowsDiffering, d.valuesDiffering],
        [batch.height, 0, 0, 0, 0],
      );
      // alter one stored value by one ulp, behind the store's back
      const r = 200;
      const col = set.columns.findIndex((c) => c.name === "vwap");
      assert.ok(col > 0);
      const rowsOnline = await store.getRange(set, E, d.startUs, d.endUs);
      const target = rowsOnline[r]!;
      const key = { availableAtUs: target[2]!, tsEventUs: target[0]!, barIndex: target[3]! };
      const before = target[col]!;
      const altered = before * (1 + 2 ** -52);
      assert.notEqual(altered, before);
      await b.corrupt(store, set, E, key, col, altered);
      const d2 = await storeDiff(store, set, E, batch);
      assert.deepEqual(
        [d2.rowsCompared, d2.rowsOnlyOnline, d2.rowsOnlyBatch, d2.rowsDiffering, d2.valuesDiffering],
        [batch.height, 0, 0, 1, 1],
      );
      assert.deepEqual(d2.differences, [{ key, column: "vwap", online: altered, batch: before }]);
      t.diagnostic(`${b.name}: ${rows} rows × ${set.columns.length} columns, ${stats.batches} write calls`);
    });
  });
}

describe("Redis killed mid-run and restarted on the same port", () => {
  let b: Backend;
  let store: OnlineStore;
  before(async () => {
    b = await redisBackend({ persistent: true });
    store = await b.open();
  });
  after(async () => {
    await store?.close();
    await b?.cleanup();
  });

  const outage = (killAtRow: number) => {
    let killed: Promise<void> | null = null;
    return {
      onRow: (n: number) => {
        if (n === killAtRow) killed = b.redis!.kill();
      },
      beforeClose: async () => {
        assert.ok(killed, "the server was killed during the run");
        await killed;
        await b.redis!.restart();
      },
    };
  };

  it("buffer large enough: every row ends up in the store, none twice", async () => {
    const { stats, rows } = await liveIntoStore(store, "outage", outage(100));
    assert.ok(stats.failedAttempts > 0, "writes failed while the server was down");
    assert.deepEqual([stats.accepted, stats.stored, stats.dropped, stats.pending], [rows, rows, 0, 0]);
    const set = (await store.getMetadata("outage"))!;
    const d = await storeDiff(store, set, E, batch);
    assert.deepEqual(
      [d.rowsCompared, d.rowsOnlyOnline, d.rowsOnlyBatch, d.rowsDiffering],
      [batch.height, 0, 0, 0],
    );
  });

  it("small buffer: the overflow is counted exactly — the store lacks exactly the dropped rows", async (t) => {
    const { stats, rows } = await liveIntoStore(store, "overflow", {
      ...outage(100),
      bufferRows: 20,
      batchRows: 8,
    });
    assert.ok(stats.dropped > 0, "the buffer overflowed");
    assert.equal(stats.accepted, rows);
    assert.equal(stats.stored + stats.dropped, rows);
    const set = (await store.getMetadata("overflow"))!;
    const d = await storeDiff(store, set, E, batch, { maxDifferences: 1000 });
    assert.deepEqual([d.rowsOnlyOnline, d.rowsDiffering], [0, 0]);
    assert.equal(d.rowsCompared, stats.stored);
    assert.equal(d.rowsOnlyBatch, stats.dropped);
    // the freshest rows were kept: the last 20 rows are all in the store
    const online = await store.getRange(set, E, d.startUs, d.endUs);
    const last = batch.tail(20).getColumn("available_at_us").toArray().map(Number);
    assert.deepEqual(
      online.slice(-20).map((r) => r[2]),
      last,
    );
    t.diagnostic(
      `${rows} rows: ${stats.stored} stored, ${stats.dropped} dropped, ${stats.failedAttempts} failed attempts`,
    );
  });
});
