/**
 * The Binance WebSocket client (issue 11, item 2b) against a local replay server (binance-server.ts) of
 * the real captures: the server streams the capture's messages over a loopback WebSocket and serves the
 * depth snapshot over HTTP from its own naive book (the capture's REST snapshot + every diff passed), with
 * a dropped depth diff (forces a resync), a server-side disconnect (forces a reconnect) and malformed
 * frames (quarantined).
 *
 * References, all independent of the client:
 * - record → ingest → batch == live: the rows the runner emitted, fed by the client, equal bitwise the
 *   rows `buildFeatureFrame` computes on a lake ingested (capture adapter) from the client's recording;
 * - nothing lost or duplicated that the protocol lets one recover: the trades and quotes of the recording
 *   are those of the capture (ingested from the original file), one for one, across the reconnect; every
 *   book row of the recording equals the original capture's book row of the same update id (so the
 *   resynced book is the exchange's book), and the only update ids missing are those between the dropped
 *   diff and the resync snapshot (and before the first sync);
 * - the malformed frames are counted under the keys the ingest counts the recorded lines under.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { gunzipSync } from "node:zlib";
import { US_PER_SECOND } from "../../src/core/time.js";
import type { FeatureRunInput } from "../../src/features/config.js";
import { FAMILIES } from "../../src/features/families.js";
import { buildFeatureFrame } from "../../src/features/frame.js";
import { ingestFiles } from "../../src/ingest/ingest.js";
import { BinanceWsClient, withSymbol } from "../../src/live/binance-ws.js";
import { LiveRunner } from "../../src/live/runner.js";
import { query, type TypedRows } from "../../src/query/query.js";
import { BOOK_DEPTH } from "../../src/schema/tables.js";
import { CAPTURES, captureLake } from "../helpers/lake.js";
import { assertBitwise, collect, frameColumns, liveColumns } from "../helpers/live.js";
import { ReplayServer } from "./binance-server.js";

const EX = "binance-futures";
const SYM = "BTCUSDT";

/** Every family but cross-venue, plus the bar aggregations. */
const ALL: FeatureRunInput = {
  ...Object.fromEntries(FAMILIES.map((f) => [f.flag, f.flag !== "includeCrossVenue"])),
};

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function captureLines(path: string): string[] {
  return gunzipSync(readFileSync(path))
    .toString("utf8")
    .split("\n")
    .filter((l) => l.length > 0);
}

/** Book rows by update id: the 4 level lists as one array (lens first), from a typed read. */
function bookById(rows: TypedRows): Map<number, number[][]> {
  const m = new Map<number, number[][]>();
  const ids = rows.columns.update_id as Float64Array;
  const names = ["bid_px_int", "bid_qty_int", "ask_px_int", "ask_qty_int"];
  for (let i = 0; i < rows.length; i++) {
    const v = names.map((n) => {
      const c = rows.columns[n] as { values: Float64Array; lens: Uint8Array };
      return Array.from(c.values.subarray(i * BOOK_DEPTH, i * BOOK_DEPTH + c.lens[i]!));
    });
    const prev = m.get(ids[i]!);
    if (prev !== undefined) assert.deepEqual(v, prev, `two book rows of update id ${ids[i]} differ`);
    m.set(ids[i]!, v);
  }
  return m;
}

/** Waits until `cond` holds (polling), failing after `ms`. */
async function until(cond: () => boolean, what: string, ms = 60_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) assert.fail(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

describe("Binance WebSocket client vs a local replay server of the real captures", () => {
  let lake: { lake: string; cleanup: () => void };
  before(async () => {
    lake = await captureLake(["usdm2023a"]);
  });
  after(() => lake?.cleanup());

  it("withSymbol names the symbol of a REST snapshot body", () => {
    assert.equal(
      withSymbol('{"lastUpdateId":1,"bids":[],"asks":[]}', "BTCUSDT"),
      '{"symbol":"BTCUSDT","lastUpdateId":1,"bids":[],"asks":[]}',
    );
    assert.equal(withSymbol('{"symbol":"X","lastUpdateId":1}', "BTCUSDT"), '{"symbol":"X","lastUpdateId":1}');
    assert.equal(withSymbol("{}", "A"), '{"symbol":"A"}');
    assert.equal(withSymbol("not json", "A"), "not json");
  });

  it("USDⓈ-M 2023-04-04: record → ingest → batch == live; a dropped diff resyncs, a disconnect reconnects, bad frames are quarantined", async () => {
    const lines = captureLines(CAPTURES.usdm2023a);
    const badDecimal =
      '{"stream":"btcusdt@trade","data":{"e":"trade","E":1,"T":1,"s":"BTCUSDT","t":1,"p":"28145.1O","q":"0.002","X":"MARKET","m":true}}';
    const server = await ReplayServer.start({
      lines,
      dropDepth: [1500],
      disconnectAfter: [8000],
      inject: [
        { before: 3000, text: "{not json" },
        { before: 6000, text: badDecimal },
        { before: 7000, text: '{"stream":"btcusdt@aggTrade","data":{"e":"aggTrade"}}' },
      ],
    });
    const { dir } = { dir: join(lake.lake, "..") };
    const record = join(dir, "session.gz");
    // the run's range: from the wall clock's current second, 10 min (the session lasts seconds)
    const t0 = Math.floor(Date.now() / 1000) * US_PER_SECOND;
    const range = { start: t0, end: t0 + 600 * US_PER_SECOND };
    const config: FeatureRunInput = { ...ALL, spine: { type: "volume", volumeThreshold: 1 } };
    const runner = await LiveRunner.forFeatures({
      lake: lake.lake,
      exchange: EX,
      symbol: SYM,
      ...range,
      config,
    });
    const rows = collect(runner);
    const delays: number[] = [];
    const client = new BinanceWsClient(runner, {
      market: "usdm",
      symbols: [SYM],
      wsUrl: server.wsUrl,
      restUrl: server.restUrl,
      depthSpeed: "0ms",
      recordPath: record,
      tickMs: 20,
      backoff: {
        baseMs: 20,
        maxMs: 100,
        jitter: (ms) => {
          delays.push(ms);
          return ms;
        },
      },
    });
    try {
      await client.start();
      await until(
        () => server.done && client.stats.messages - client.stats.snapshots === server.sent,
        "every frame to arrive",
      );
      await until(() => client.stats.lastUpdateId[SYM] !== undefined, "a synced book");
    } finally {
      await client.stop();
      await server.close();
    }
    runner.finish();
    assert.equal(client.error, null);

    // the client asked for the right streams and the REST endpoint of the market
    assert.equal(
      server.wsRequests[0],
      "/stream?streams=btcusdt@trade/btcusdt@bookTicker/btcusdt@depth@0ms/btcusdt@markPrice@1s",
    );
    assert.ok(server.restRequests.every((u) => u === "/fapi/v1/depth?symbol=BTCUSDT&limit=1000"));
    // (a) the dropped diff: one gap, one resync; (b) the disconnect: one reconnect after base delay
    assert.equal(server.dropped, 1);
    assert.equal(client.stats.gaps, 1, "sequence gaps");
    assert.equal(client.stats.resyncs, 1, "resyncs");
    assert.equal(server.disconnects, 1);
    assert.equal(client.stats.reconnects, 1, "reconnects");
    assert.equal(server.wsRequests.length, 2);
    assert.deepEqual(delays, [20]);
    assert.equal(client.stats.snapshots, server.restRequests.length);
    // malformed frames: counted and quarantined with their line and raw text
    assert.equal(client.stats.rejected, 3);
    assert.deepEqual(
      client.quarantined.map((q) => [q.table, q.field]),
      [
        ["line", "json"],
        ["trades", "p"],
        ["line", "stream"],
      ],
    );
    assert.equal(client.quarantined[1]!.raw, badDecimal);

    // record → ingest → batch == live
    const [m] = await ingestFiles("binance-capture", [record], { lake: lake.lake });
    const rep = m!.report;
    assert.equal(rep.lines_read, client.stats.messages);
    assert.deepEqual(rep.rejected_by_reason, client.stats.rejectedByReason);
    assert.equal(rep.sequence_gaps.length, 1);
    assert.deepEqual(rep.lines_without_row, client.stats.withoutRow);
    const frame = await buildFeatureFrame({ lake: lake.lake, exchange: EX, symbol: SYM, ...range, config });
    assert.ok(frame.height > 100, `${frame.height} rows`);
    const n = assertBitwise("ws volume:1", frameColumns(frame), liveColumns(runner, rows.rows));
    assert.ok(n > 0);

    // nothing lost or duplicated: trades and quotes one for one with the original capture's
    const orig = {
      lake: lake.lake,
      exchange: EX,
      symbol: SYM,
      start: "2023-04-04T00:00:00Z",
      end: "2023-04-05T00:00:00Z",
    };
    const live = { lake: lake.lake, exchange: EX, symbol: SYM, start: range.start, end: range.end };
    for (const [table, cols] of [
      ["trades", ["px_int", "qty_int", "side"]],
      ["quotes", ["update_id", "bid_px_int", "bid_qty_int", "ask_px_int", "ask_qty_int"]],
    ] as const) {
      const a = table === "trades" ? await query.trades(orig) : await query.quotes(orig);
      const b = table === "trades" ? await query.trades(live) : await query.quotes(live);
      assert.equal(b.length, a.length, `${table} rows`);
      for (const c of cols)
        assert.deepEqual(
          Array.from(b.columns[c] as ArrayLike<number>),
          Array.from(a.columns[c] as ArrayLike<number>),
          `${table}.${c}`,
        );
    }
    // the book: every row is the exchange's book at its update id; only the resync window is missing
    const ob = bookById(await query.bookSnapshot25(orig));
    const lb = bookById(await query.bookSnapshot25(live));
    const liveIds = [...lb.keys()];
    for (const [u, levels] of lb) assert.deepEqual(levels, ob.get(u), `book at update id ${u}`);
    const dropped = server.droppedUpdateIds[0]!;
    const resynced = liveIds.find((u) => u > dropped)!;
    const missing = [...ob.keys()].filter((u) => !lb.has(u) && u >= liveIds[0]!);
    assert.ok(missing.includes(dropped), "the dropped diff's row is missing");
    for (const u of missing)
      assert.ok(u >= dropped && u < resynced, `update id ${u} missing outside the resync window`);
    assert.ok(lb.size > 4000, `${lb.size} book rows`);
  });
});
