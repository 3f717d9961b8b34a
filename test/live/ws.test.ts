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
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { gunzipSync, gzipSync } from "node:zlib";
import { parseTimeArg } from "../../src/cli/args.js";
import { type LiveRunOptions, type LiveRunSummary, runLive } from "../../src/cli/live.js";
import { US_PER_SECOND } from "../../src/core/time.js";
import type { FeatureRunInput } from "../../src/features/config.js";
import { FAMILIES } from "../../src/features/families.js";
import { buildFeatureFrame } from "../../src/features/frame.js";
import { writeFeatureFrame } from "../../src/features/output.js";
import { ingestFiles } from "../../src/ingest/ingest.js";
import { BinanceWsClient, withSymbol } from "../../src/live/binance-ws.js";
import { LiveRunner } from "../../src/live/runner.js";
import { query, type TypedRows } from "../../src/query/query.js";
import { BOOK_DEPTH } from "../../src/schema/tables.js";
import { HFT, tempDir } from "../helpers/data.js";
import { CAPTURES, captureLake, W2024 } from "../helpers/lake.js";
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
  let lake2024: { lake: string; cleanup: () => void };
  before(async () => {
    [lake, lake2024] = await Promise.all([captureLake(["usdm2023a"]), captureLake(["usdm2024", "spot2024"])]);
  });
  after(() => {
    lake?.cleanup();
    lake2024?.cleanup();
  });

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

  it("spot 2024-08-08 (spot sequence rules): a dropped diff resyncs; clock bars from the timer; record → ingest → batch == live", async () => {
    const lines = captureLines(CAPTURES.spot2024).slice(0, 12_000);
    const server = await ReplayServer.start({ lines, dropDepth: [400] });
    const record = join(lake2024.lake, "..", "spot-session.gz");
    const t0 = Math.floor(Date.now() / 1000) * US_PER_SECOND;
    const range = { start: t0, end: t0 + 600 * US_PER_SECOND };
    const config: FeatureRunInput = { ...ALL, spine: { type: "clock", stepMs: 100 } };
    const runner = await LiveRunner.forFeatures({
      lake: lake2024.lake,
      exchange: "binance",
      symbol: SYM,
      ...range,
      config,
    });
    const rows = collect(runner);
    const client = new BinanceWsClient(runner, {
      market: "spot",
      symbols: [SYM],
      wsUrl: server.wsUrl,
      restUrl: server.restUrl,
      recordPath: record,
      tickMs: 10,
    });
    try {
      await client.start();
      await until(
        () => server.done && client.stats.messages - client.stats.snapshots === server.sent,
        "every frame to arrive",
      );
      await sleep(300); // the timer closes the clock bars that ended meanwhile, without events
    } finally {
      await client.stop();
      await server.close();
    }
    // clock bars emitted before finish(): by arriving events and by the timer
    const beforeFinish = rows.rows.length;
    assert.ok(beforeFinish > 5, `${beforeFinish} clock rows before finish`);
    runner.finish();
    assert.equal(client.error, null);
    assert.equal(
      server.wsRequests[0],
      "/stream?streams=btcusdt@trade/btcusdt@bookTicker/btcusdt@depth@100ms",
    );
    assert.ok(server.restRequests.every((u) => u === "/api/v3/depth?symbol=BTCUSDT&limit=1000"));
    assert.equal(client.stats.gaps, 1);
    assert.equal(client.stats.resyncs, 1);
    assert.deepEqual(client.stats.unrouted, {});

    const [m] = await ingestFiles("binance-capture", [record], { lake: lake2024.lake });
    assert.equal(m!.report.sequence_gaps.length, 1);
    assert.deepEqual(m!.report.lines_without_row, client.stats.withoutRow);
    const frame = await buildFeatureFrame({
      lake: lake2024.lake,
      exchange: "binance",
      symbol: SYM,
      ...range,
      config,
    });
    assert.equal(frame.height, 6000);
    assertBitwise("ws spot clock:100", frameColumns(frame), liveColumns(runner, rows.rows));

    // the book: the exchange's book at every update id; missing only inside the resync window
    const orig = {
      lake: lake2024.lake,
      exchange: "binance",
      symbol: SYM,
      start: W2024.start,
      end: W2024.end,
    };
    const live = {
      lake: lake2024.lake,
      exchange: "binance",
      symbol: SYM,
      start: range.start,
      end: range.end,
    };
    const ob = bookById(await query.bookSnapshot25(orig));
    const lb = bookById(await query.bookSnapshot25(live));
    for (const [u, levels] of lb) assert.deepEqual(levels, ob.get(u), `book at update id ${u}`);
    const dropped = server.droppedUpdateIds[0]!;
    const liveIds = [...lb.keys()];
    const resynced = liveIds.find((u) => u > dropped)!;
    const lastLive = liveIds[liveIds.length - 1]!;
    const missing = [...ob.keys()].filter((u) => !lb.has(u) && u >= liveIds[0]! && u <= lastLive);
    assert.ok(missing.includes(dropped));
    for (const u of missing)
      assert.ok(u >= dropped && u < resynced, `update id ${u} missing outside the resync window`);
    const trades = await query.trades(live);
    assert.equal(trades.length, lines.filter((l) => l.includes("@trade")).length);
  });

  it("pointline live run --binance-ws: rows to --out and a --record that ingests to the same CSV (features build)", async () => {
    const lines = captureLines(CAPTURES.usdm2023a).slice(0, 6000);
    const server = await ReplayServer.start({ lines });
    // a fresh lake: no earlier session in the warm-up window (the live run starts without history)
    const own = await captureLake(["usdm2023a"]);
    const dir = join(own.lake, "..");
    const record = join(dir, "cli-session.gz");
    const out = join(dir, "cli-live.csv");
    const t0 = Math.floor(Date.now() / 1000) * US_PER_SECOND;
    const ac = new AbortController();
    const watcher = (async () => {
      await until(() => server.done, "the server to send every message");
      await sleep(300);
      ac.abort();
    })();
    const s = await runLive(
      {
        binanceWs: server.wsUrl,
        binanceRest: server.restUrl,
        market: "usdm",
        lake: own.lake,
        exchange: EX,
        symbol: SYM,
        start: parseTimeArg(String(t0)),
        spine: "volume:1",
        families: "default",
        record,
        out,
      },
      { stderr: { isTTY: false, write: () => true }, signal: ac.signal },
    );
    await watcher;
    await server.close();
    assert.equal(s.stoppedBySignal, true);
    assert.ok(s.rowsEmitted > 20, `${s.rowsEmitted} rows`);
    await ingestFiles("binance-capture", [record], { lake: own.lake });
    const batch = join(dir, "cli-batch.csv");
    await writeFeatureFrame(
      {
        lake: own.lake,
        exchange: EX,
        symbol: SYM,
        start: t0,
        end: t0 + 600 * US_PER_SECOND,
        config: { spine: { type: "volume", volumeThreshold: 1 } },
      },
      batch,
    );
    const same = readFileSync(out).equals(readFileSync(batch));
    own.cleanup();
    assert.ok(same, "live CSV = batch CSV of the recording");
  });

  it("injected clock: arrival stamps, clock bars closed by the timer without events, quarantine file, ties at one µs", async () => {
    const lines = captureLines(CAPTURES.usdm2023a).slice(0, 400);
    const bad =
      '{"stream":"btcusdt@bookTicker","data":{"u":1,"s":"BTCUSDT","b":"x","B":"1","a":"2","A":"1","E":1}}';
    const server = await ReplayServer.start({ lines, inject: [{ before: 100, text: bad }], failRest: 1 });
    const own = await captureLake(["usdm2023a"]);
    const dir = join(own.lake, "..");
    const record = join(dir, "clock-session.gz");
    const quarantine = join(dir, "quarantine.jsonl");
    const t0 = Math.floor(Date.now() / 1000) * US_PER_SECOND;
    let fake = t0 + 100;
    const range = { start: t0, end: t0 + 60 * US_PER_SECOND };
    const config: FeatureRunInput = { spine: { type: "clock", stepMs: 1000 } };
    const runner = await LiveRunner.forFeatures({
      lake: own.lake,
      exchange: EX,
      symbol: SYM,
      ...range,
      config,
    });
    const rows = collect(runner);
    const client = new BinanceWsClient(runner, {
      market: "usdm",
      symbols: [SYM],
      wsUrl: server.wsUrl,
      restUrl: server.restUrl,
      depthSpeed: "0ms",
      recordPath: record,
      quarantinePath: quarantine,
      clockUs: () => fake,
      tickMs: 5,
      backoff: { baseMs: 10 },
    });
    try {
      await client.start();
      await until(
        () =>
          server.done &&
          client.stats.messages - client.stats.snapshots === server.sent &&
          client.stats.snapshots > 0,
        "every frame and the snapshot",
      );
      // every event is stamped t0 + 100 µs: none is processed while the clock stays there
      assert.equal(client.stats.lastTsUs, t0 + 100);
      await sleep(30);
      assert.equal(rows.rows.length, 0);
      assert.ok(client.stats.events > 100);
      assert.equal(runner.pending, client.stats.events, "every pushed event pending at the clock's µs");
      // the clock reaches the first bar's end: the timer closes it, no event pushed
      const events = client.stats.events;
      fake = t0 + US_PER_SECOND;
      await until(() => rows.rows.length === 1, "the timer to close the first clock bar", 5000);
      assert.equal(rows.rows[0]![0], t0, "ts_event_us");
      assert.equal(rows.rows[0]![2], t0 + US_PER_SECOND, "available_at_us");
      fake = t0 + 3.5 * US_PER_SECOND;
      await until(() => rows.rows.length === 3, "two more bars", 5000);
      assert.equal(client.stats.events, events, "no event pushed meanwhile");
    } finally {
      await client.stop();
      await server.close();
    }
    runner.finish();
    assert.equal(rows.rows.length, 60);
    // the first snapshot request failed (503): counted, retried after the backoff, not a resync
    assert.equal(client.stats.snapshotErrors, 1);
    assert.match(
      client.stats.lastSnapshotError ?? "",
      /\/fapi\/v1\/depth\?symbol=BTCUSDT&limit=1000: HTTP 503/,
    );
    assert.equal(client.stats.snapshots, 1);
    assert.equal(client.stats.resyncs, 0);
    // the quarantine file: one record, the ingest's shape
    const q = readFileSync(quarantine, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(q.length, 1);
    assert.deepEqual([q[0]!["table"], q[0]!["field"], q[0]!["raw"]], ["quotes", "b", bad]);
    const qLine = q[0]!["line"] as number;
    assert.ok(qLine >= 101 && qLine <= 101 + client.stats.snapshots, `line ${qLine}`);
    // the recording: every line stamped with the injected clock (ns)
    const rec = gunzipSync(readFileSync(record)).toString("utf8").trim().split("\n");
    assert.equal(rec.length, client.stats.messages);
    assert.ok(rec.every((l) => l.startsWith(`${(t0 + 100) * 1000} `)));
    // ties: ~400 events of four tables at one µs, in arrival order live, in the total order in batch
    await ingestFiles("binance-capture", [record], { lake: own.lake });
    const frame = await buildFeatureFrame({ lake: own.lake, exchange: EX, symbol: SYM, ...range, config });
    const same = assertBitwise("injected clock", frameColumns(frame), liveColumns(runner, rows.rows));
    own.cleanup();
    assert.ok(same > 0);
  });

  it("COIN-M BTCUSD_PERP 2024-08-08: /dapi depth, binance-delivery, a dropped diff resyncs; record → ingest → batch == live", async () => {
    // a lake of the capture's first 6,000 lines (the registry of BTCUSD_PERP), then the session
    const lines = captureLines(join(HFT, "cm", "btcusd_perp_20240808.gz")).slice(0, 6000);
    const { dir, cleanup } = tempDir("pointline-ws-cm-");
    try {
      const head = join(dir, "cm-head.gz");
      writeFileSync(head, gzipSync(`${lines.join("\n")}\n`));
      const cmLake = join(dir, "lake");
      await ingestFiles("binance-capture", [head], { lake: cmLake });
      const server = await ReplayServer.start({ lines, dropDepth: [2000] });
      const record = join(dir, "cm-session.gz");
      const t0 = Math.floor(Date.now() / 1000) * US_PER_SECOND;
      const range = { start: t0, end: t0 + 600 * US_PER_SECOND };
      const ex = "binance-delivery";
      const sym = "BTCUSD_PERP";
      const config: FeatureRunInput = { ...ALL, spine: { type: "trades" } };
      const runner = await LiveRunner.forFeatures({
        lake: cmLake,
        exchange: ex,
        symbol: sym,
        ...range,
        config,
      });
      const rows = collect(runner);
      const client = new BinanceWsClient(runner, {
        market: "coinm",
        symbols: [sym],
        wsUrl: server.wsUrl,
        restUrl: server.restUrl,
        depthSpeed: "0ms",
        recordPath: record,
        tickMs: 10,
      });
      try {
        await client.start();
        await until(
          () => server.done && client.stats.messages - client.stats.snapshots === server.sent,
          "every frame to arrive",
        );
      } finally {
        await client.stop();
        await server.close();
      }
      runner.finish();
      assert.equal(client.error, null);
      assert.equal(
        server.wsRequests[0],
        "/stream?streams=btcusd_perp@trade/btcusd_perp@bookTicker/btcusd_perp@depth@0ms/btcusd_perp@markPrice@1s",
      );
      assert.ok(server.restRequests.every((u) => u === "/dapi/v1/depth?symbol=BTCUSD_PERP&limit=1000"));
      assert.equal(client.stats.gaps, 1);
      assert.equal(client.stats.resyncs, 1);
      await ingestFiles("binance-capture", [record], { lake: cmLake });
      const frame = await buildFeatureFrame({ lake: cmLake, exchange: ex, symbol: sym, ...range, config });
      assert.equal(frame.height, 178);
      assertBitwise("ws coinm trades", frameColumns(frame), liveColumns(runner, rows.rows));
      const orig = { lake: cmLake, exchange: ex, symbol: sym, start: W2024.start, end: W2024.end };
      const live = { lake: cmLake, exchange: ex, symbol: sym, start: range.start, end: range.end };
      const ob = bookById(await query.bookSnapshot25(orig));
      const lb = bookById(await query.bookSnapshot25(live));
      for (const [u, levels] of lb) assert.deepEqual(levels, ob.get(u), `book at update id ${u}`);
      assert.ok(lb.size > 3000, `${lb.size} book rows`);
    } finally {
      cleanup();
    }
  });

  it("live run --binance-ws --checkpoint: stopped, restarted (new connection, restored state): rows = batch of the whole recording", async () => {
    const lines = captureLines(CAPTURES.usdm2023a).slice(0, 6000);
    const server = await ReplayServer.start({ lines, pauseAfter: [2999] });
    const own = await captureLake(["usdm2023a"]);
    const dir = join(own.lake, "..");
    const record = join(dir, "cp-session.gz");
    const out = join(dir, "cp-live.csv");
    const cp = join(dir, "cp-ws");
    const t0 = Math.floor(Date.now() / 1000) * US_PER_SECOND;
    const opts: LiveRunOptions = {
      binanceWs: server.wsUrl,
      binanceRest: server.restUrl,
      market: "usdm",
      lake: own.lake,
      exchange: EX,
      symbol: SYM,
      start: parseTimeArg(String(t0)),
      spine: "volume:1",
      families: "default",
      record,
      out,
      checkpoint: cp,
    };
    /** One session: until the server pauses or ends, then SIGINT-like stop. */
    const session = async (): Promise<LiveRunSummary> => {
      server.paused = false;
      const ac = new AbortController();
      const watcher = (async () => {
        await until(() => server.paused || server.done, "the server to pause or end");
        await sleep(300);
        ac.abort();
      })();
      const s = await runLive(opts, { stderr: { isTTY: false, write: () => true }, signal: ac.signal });
      await watcher;
      return s;
    };
    try {
      const s1 = await session();
      assert.equal(s1.resumedFrom, null);
      assert.ok(s1.rowsEmitted > 10);
      const s2 = await session();
      assert.equal(s2.resumedFrom?.rows, s1.rowsTotal, "resumed at the first session's rows");
      assert.ok(s2.rowsEmitted > 10);
      assert.equal(server.wsRequests.length, 2);
      await ingestFiles("binance-capture", [record], { lake: own.lake });
      const batch = join(dir, "cp-batch.csv");
      await writeFeatureFrame(
        {
          lake: own.lake,
          exchange: EX,
          symbol: SYM,
          start: t0,
          end: t0 + 600 * US_PER_SECOND,
          config: { spine: { type: "volume", volumeThreshold: 1 } },
        },
        batch,
      );
      assert.ok(
        readFileSync(out).equals(readFileSync(batch)),
        "two sessions' CSV = batch CSV of the recording",
      );
    } finally {
      await server.close();
      own.cleanup();
    }
  });
});
