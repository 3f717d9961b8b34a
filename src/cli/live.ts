/**
 * `pointline live run`: a live runner fed by the lake replay feed (`--replay-lake`) or the Binance
 * WebSocket client (`--binance-ws`), for a feature config (`--spine`, `--families`, … as `features
 * build`) or a pipeline request's operators (`--request`), writing every emitted row to `--out` (CSV or
 * Parquet: what `features build` writes for the same run), flushed every `--flush-every-ms`, with
 * checkpoints in `--checkpoint DIR` (restart = the same command: it resumes from the checkpoint, and the
 * output ends up as an uninterrupted run's: live/checkpoint.ts) and a one-line status on stderr (TTY).
 *
 * Exit codes: 0 done (or stopped by SIGINT/SIGTERM after a final flush and checkpoint), 1 error.
 */
import { resolve } from "node:path";
import { type Command, Option } from "commander";
import { ConfigError } from "../core/errors.js";
import { usToIso } from "../core/time.js";
import type { JsonValue } from "../engine/operator.js";
import type { FrameColumn } from "../features/frame.js";
import { type BinanceMarket, BinanceWsClient, wallClockUs } from "../live/binance-ws.js";
import {
  Checkpointer,
  type FeedPosition,
  type LiveCheckpoint,
  readCheckpoint,
  replayPosition,
  runConfigHash,
} from "../live/checkpoint.js";
import { replayLake } from "../live/replay-feed.js";
import {
  type CheckpointWriter,
  openFileWriter,
  outputFormat,
  ParquetRowWriter,
  type RowWriter,
} from "../live/row-writer.js";
import { LiveRunner, OPEN_END_US } from "../live/runner.js";
import { planPipeline } from "../pipeline/plan.js";
import { builtinRegistry } from "../pipeline/registry.js";
import { validateRequest } from "../pipeline/request.js";
import { openOnlineStore } from "../store/open.js";
import { StoreRowWriter } from "../store/row-writer.js";
import { parseCount, parseTimeArg, requireInstrument, requireLake, type TimeArg } from "./args.js";
import { featureConfigFromCli } from "./features.js";
import type { CliIo } from "./main.js";
import { readRequestFile } from "./pipeline.js";
import { StatusLine } from "./status-line.js";

/** The options of `live run` as commander parses them. */
export interface LiveRunOptions {
  readonly replayLake?: string;
  readonly binanceWs?: string;
  readonly binanceRest?: string;
  readonly market?: string;
  readonly lake?: string;
  readonly exchange?: string;
  readonly symbol?: string;
  readonly start?: TimeArg;
  readonly end?: TimeArg;
  readonly spine?: string;
  readonly families?: string;
  readonly crossVenue?: string;
  readonly config?: string;
  readonly request?: string;
  readonly speed?: number;
  readonly checkpoint?: string;
  readonly checkpointEveryBars?: number;
  readonly checkpointEveryMs?: number;
  readonly record?: string;
  readonly out?: string;
  readonly flushEveryMs?: number;
  readonly json?: boolean;
  /** Online store: Redis URL (else the embedded store in `store`). */
  readonly redis?: string;
  /** Directory of the embedded online store (default ./store). */
  readonly store?: string;
  /** Write every row into this online feature set (registered from the run's columns). */
  readonly featureSet?: string;
}

/**
 * The online-store writer of `live run --feature-set NAME [--redis URL | --store DIR]`: opens the store
 * (a Redis that is down is a StoreError naming the URL, before the run starts), registers the feature set
 * from the run's columns (an existing identical set is reused; another schema under the same version is a
 * ConfigError) and writes every row for (exchange, symbol) through a `StoreRowWriter` (buffered, retried,
 * overflow counted). Closing it flushes, reports the writer's counters on stderr and closes the store.
 */
export function storeWriters(
  o: LiveRunOptions,
  stderr: LiveRunIo["stderr"],
): LiveRunIo["writers"] | undefined {
  const name = o.featureSet;
  if (name === undefined) {
    if (o.redis !== undefined || o.store !== undefined)
      throw new ConfigError("--redis / --store need --feature-set NAME (the online feature set to write)");
    return undefined;
  }
  return async (columns, entity) => {
    const store = await openOnlineStore(
      o.redis !== undefined ? { redis: o.redis } : { dir: o.store ?? "./store" },
    );
    try {
      const set = await store.registerFeatureSet({ name, columns, source: { writer: "pointline live run" } });
      const writer = StoreRowWriter.create({ store, set, entity, columns });
      return [
        {
          write: (row) => writer.write(row),
          flush: () => writer.flush(),
          close: async () => {
            const st = await writer.close();
            await store.close();
            stderr.write(
              `online store ${store.location}: feature set ${set.name} v${set.version}, ${st.stored.toLocaleString("en-US")} rows stored, ${st.dropped} dropped, ${st.rejected} rejected, ${st.failedAttempts} failed writes\n`,
            );
          },
        },
      ];
    } catch (e) {
      await store.close();
      throw e;
    }
  };
}

/** What a `live run` did. */
export interface LiveRunSummary {
  readonly feed: "replay-lake" | "binance-ws";
  /** Rows emitted by this process, and in the output in all (with those before a restart). */
  readonly rowsEmitted: number;
  readonly rowsTotal: number;
  readonly events: number;
  readonly checkpoints: number;
  /** The checkpoint resumed from, or null. */
  readonly resumedFrom: { readonly rows: number; readonly writtenAt: string } | null;
  readonly finished: boolean;
  readonly stoppedBySignal: boolean;
  readonly out: string | null;
  readonly wallMs: number;
  /** WebSocket feeds: the client's counters. */
  readonly ws?: JsonValue;
}

/** Environment of a run (tests pass their own). */
export interface LiveRunIo {
  readonly stderr: { readonly isTTY?: boolean; write(text: string): boolean };
  /** Stops the run as SIGINT would (default: SIGINT and SIGTERM of this process). */
  readonly signal?: AbortSignal;
  /**
   * More outputs beside `--out` (e.g. an online store's writer): created once the run's columns are
   * known; every row goes to each, they are flushed with the file and closed at the end. They are not
   * cut back on a restart: rows after the last checkpoint reach them again (at least once; see
   * live/checkpoint.ts).
   */
  readonly writers?: (
    columns: readonly FrameColumn[],
    entity: { readonly exchange: string; readonly symbol: string },
  ) => Promise<readonly RowWriter[]>;
}

/** Events the runner has processed, all streams. */
function eventsOf(runner: LiveRunner): number {
  let n = 0;
  for (const v of Object.values(runner.counters.events)) n += v ?? 0;
  return n;
}

function positiveNumber(text: string): number {
  const v = Number(text);
  if (!(v > 0) || !Number.isFinite(v)) throw new ConfigError(`expected a positive number, got '${text}'`);
  return v;
}

/** Runs `live run` (see the module doc). @throws ConfigError for bad flags, lakes, checkpoints */
export async function runLive(o: LiveRunOptions, io: LiveRunIo): Promise<LiveRunSummary> {
  const started = performance.now();
  if ((o.replayLake === undefined) === (o.binanceWs === undefined))
    throw new ConfigError("live run: give exactly one feed, --replay-lake DIR or --binance-ws URL");
  const ws = o.binanceWs !== undefined;
  if (ws && o.market === undefined) throw new ConfigError("--binance-ws needs --market usdm|coinm|spot");
  if (!ws && (o.binanceRest !== undefined || o.market !== undefined || o.record !== undefined))
    throw new ConfigError("--binance-rest, --market and --record belong to --binance-ws");
  if (ws && o.speed !== undefined) throw new ConfigError("--speed belongs to --replay-lake");
  const lake = ws ? requireLake(o.lake ?? "./lake") : requireLake(o.replayLake!, "--replay-lake");
  if (!ws && o.request === undefined && (o.start === undefined || o.end === undefined))
    throw new ConfigError(
      "--replay-lake needs --start and --end (the range replayed; with --request: its timeline)",
    );
  if (ws && o.checkpoint !== undefined && o.start === undefined)
    throw new ConfigError(
      "--binance-ws with --checkpoint needs --start: a restart must continue the same run (same range)",
    );
  if (o.request !== undefined && (o.spine ?? o.families ?? o.crossVenue ?? o.config) !== undefined)
    throw new ConfigError(
      "--request gives the spine and operators: drop --spine/--families/--cross-venue/--config",
    );
  // the range: the flags; else (--request on a replay) the request's timeline; else (live) from the
  // current second on, open-ended
  let startUs = o.start?.us ?? Math.floor(wallClockUs() / 1_000_000) * 1_000_000;
  let endUs = o.end?.us ?? OPEN_END_US;
  const checkRange = (): void => {
    if (!(endUs > startUs))
      throw new ConfigError(
        `the range [${usToIso(startUs)}, ${usToIso(endUs)}) is empty: --end must be after --start`,
      );
  };

  // the runner, and what decides its rows (hashed for checkpoints)
  let runner: LiveRunner;
  let run: JsonValue;
  let exchange: string;
  let symbol: string;
  if (o.request !== undefined) {
    const r = await readRequestFile(o.request);
    if ("problem" in r) throw new ConfigError(`--request ${o.request}: ${r.problem.message}`);
    const registry = builtinRegistry();
    const v = validateRequest(r.value, registry);
    if (!v.ok)
      throw new ConfigError(
        `--request ${o.request}: invalid request:\n${v.problems.map((p) => `  ${p.path}: ${p.message}`).join("\n")}`,
      );
    const plan = await planPipeline(v.request, registry, lake);
    if (o.exchange !== undefined && o.exchange !== plan.exchange)
      throw new ConfigError(`--exchange ${o.exchange} differs from the request's ${plan.exchange}`);
    if (o.symbol !== undefined && o.symbol !== plan.symbol)
      throw new ConfigError(`--symbol ${o.symbol} differs from the request's ${plan.symbol}`);
    exchange = plan.exchange;
    symbol = plan.symbol;
    if (!ws) {
      startUs = o.start?.us ?? plan.startUs;
      endUs = o.end?.us ?? plan.endUs;
    }
    checkRange();
    runner = await LiveRunner.forPipeline(plan, lake, { startUs, endUs });
    run = { request: r.value as JsonValue };
  } else {
    if (o.exchange === undefined || o.symbol === undefined)
      throw new ConfigError("live run needs --exchange and --symbol (or --request)");
    exchange = o.exchange;
    symbol = o.symbol;
    checkRange();
    const config = await featureConfigFromCli(o);
    await requireInstrument(lake, exchange, symbol, { at: { text: usToIso(startUs), us: startUs } });
    runner = await LiveRunner.forFeatures({ lake, exchange, symbol, start: startUs, end: endUs, config });
    run = { config: JSON.parse(JSON.stringify(config)) as JsonValue };
  }
  const out = o.out !== undefined ? resolve(o.out) : null;
  if (out !== null) outputFormat(out);
  const configHash = runConfigHash({
    feed: ws
      ? { kind: "binance-ws", market: o.market ?? null, url: o.binanceWs ?? null }
      : { kind: "replay-lake", lake },
    exchange,
    symbol,
    startUs,
    endUs,
    run,
    out,
  });

  // restart from a checkpoint
  let cp: LiveCheckpoint | null = null;
  if (o.checkpoint !== undefined) cp = readCheckpoint(o.checkpoint, configHash);
  if (cp?.finished) {
    io.stderr.write(
      `live run: the checkpoint in ${o.checkpoint} is of a finished run (${cp.rows} rows${out ? ` in ${out}` : ""}): nothing to do\n`,
    );
    return {
      feed: ws ? "binance-ws" : "replay-lake",
      rowsEmitted: 0,
      rowsTotal: cp.rows,
      events: 0,
      checkpoints: 0,
      resumedFrom: { rows: cp.rows, writtenAt: cp.writtenAt },
      finished: true,
      stoppedBySignal: false,
      out,
      wallMs: performance.now() - started,
    };
  }
  if (cp) runner.restore(cp.driver);
  const writer: CheckpointWriter | null =
    out !== null ? await openFileWriter(out, runner.columns, cp?.output ?? undefined) : null;
  const extra = io.writers ? await io.writers(runner.columns, { exchange, symbol }) : [];
  const rows0 = runner.counters.rows;
  const events0 = eventsOf(runner);
  let lastBarUs = Number.NaN;
  runner.onRow((row) => {
    writer?.write(row);
    for (const w of extra) w.write(row);
    lastBarUs = row.tsEventUs;
  });

  let client: BinanceWsClient | null = null;
  const feedPosition = (d: Parameters<typeof replayPosition>[0]): FeedPosition =>
    client === null
      ? replayPosition(d)
      : {
          kind: "binance-ws",
          lastTsUs: client.stats.lastTsUs,
          line: client.stats.messages,
          lastTradeId: { ...client.stats.lastTradeId },
          lastUpdateId: { ...client.stats.lastUpdateId },
          books: client.bookStates(),
        };
  const checkpointer =
    o.checkpoint !== undefined
      ? new Checkpointer({
          dir: o.checkpoint,
          configHash,
          runner,
          writer,
          feedPosition,
          ...(o.checkpointEveryBars !== undefined ? { everyBars: o.checkpointEveryBars } : {}),
          ...(o.checkpointEveryMs !== undefined ? { everyMs: o.checkpointEveryMs } : {}),
        })
      : null;

  // stop on SIGINT / SIGTERM (or the caller's signal)
  const ac = new AbortController();
  const onSignal = (): void => ac.abort();
  if (io.signal) io.signal.addEventListener("abort", onSignal, { once: true });
  else {
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
  }

  // periodic flush and status
  const status = new StatusLine(io.stderr);
  let lastEvents = events0;
  let lastTick = performance.now();
  // flushes when due: between events (a busy feed may starve timers) and from a timer (a quiet feed)
  const flushEveryMs = o.flushEveryMs ?? 1000;
  let lastFlush = performance.now();
  const maybeFlush = (): void => {
    const now = performance.now();
    if (now - lastFlush < flushEveryMs) return;
    lastFlush = now;
    void writer?.flush();
    for (const w of extra) void w.flush();
  };
  const flushTimer = setInterval(maybeFlush, Math.max(1, flushEveryMs));
  const statusTimer = setInterval(() => {
    const now = performance.now();
    const ev = eventsOf(runner);
    const rate = ((ev - lastEvents) * 1000) / Math.max(1, now - lastTick);
    lastEvents = ev;
    lastTick = now;
    const lag = ws
      ? `lag ${((wallClockUs() - runner.watermarkUs) / 1000).toFixed(0)} ms`
      : `at ${usToIso(runner.watermarkUs)}`;
    status.set(
      `live ${exchange} ${symbol}: ${Math.round(rate)} events/s, ${runner.counters.rows} bars, ${lag}, last bar ${Number.isNaN(lastBarUs) ? "-" : usToIso(lastBarUs)}`,
    );
  }, 1000);

  let finished = false;
  let checkpointError: Error | null = null;
  try {
    if (!ws) {
      const stats = await replayLake(runner, {
        lake,
        // resume at the checkpoint's merge position (the Driver skips the events it had consumed)
        ...(cp?.feed.kind === "replay-lake" ? { fromUs: Math.max(cp.feed.tsUs, runner.replayStartUs) } : {}),
        ...(o.speed !== undefined ? { speed: o.speed } : {}),
        signal: ac.signal,
        between: () => {
          maybeFlush();
          return checkpointer?.maybe();
        },
      });
      finished = !stats.aborted;
    } else {
      client = new BinanceWsClient(runner, {
        market: o.market as BinanceMarket,
        symbols: [symbol],
        wsUrl: o.binanceWs!,
        ...(o.binanceRest !== undefined ? { restUrl: o.binanceRest } : {}),
        ...(o.record !== undefined ? { recordPath: o.record } : {}),
        ...(cp?.feed.kind === "binance-ws" ? { resume: { books: cp.feed.books, line: cp.feed.line } } : {}),
        onFrame: () => {
          maybeFlush();
          checkpointer?.maybe()?.catch((e: unknown) => {
            // a checkpoint that cannot be written stops the run (it ends with that error)
            checkpointError ??= e instanceof Error ? e : new Error(String(e));
            ac.abort();
          });
        },
      });
      await client.start();
      const aborted = new Promise<void>((r) =>
        ac.signal.addEventListener("abort", () => r(), { once: true }),
      );
      await Promise.race([client.untilEnd(), aborted]);
      await client.stop();
      if (client.error) throw client.error;
      if (checkpointError) throw checkpointError;
      if (!ac.signal.aborted && endUs !== OPEN_END_US) {
        runner.finish();
        finished = true;
      } else runner.stop();
    }
    if (checkpointer) await checkpointer.now(finished);
    if (writer instanceof ParquetRowWriter && !finished && checkpointer) writer.keepSpool = true;
    await writer?.close();
    for (const w of extra) await w.close();
  } finally {
    clearInterval(flushTimer);
    clearInterval(statusTimer);
    status.stop();
    if (!io.signal) {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    }
  }
  const summary: LiveRunSummary = {
    feed: ws ? "binance-ws" : "replay-lake",
    rowsEmitted: runner.counters.rows - rows0,
    rowsTotal: runner.counters.rows,
    events: eventsOf(runner) - events0,
    checkpoints: checkpointer?.written ?? 0,
    resumedFrom: cp ? { rows: cp.rows, writtenAt: cp.writtenAt } : null,
    finished,
    stoppedBySignal: ac.signal.aborted,
    out,
    wallMs: performance.now() - started,
    ...(client !== null
      ? { ws: JSON.parse(JSON.stringify((client as BinanceWsClient).stats)) as JsonValue }
      : {}),
  };
  return summary;
}

/** Human summary of a run (stderr). */
export function formatLiveSummary(s: LiveRunSummary): string {
  const lines = [
    `live run (${s.feed}): ${s.finished ? "finished" : s.stoppedBySignal ? "stopped" : "ended"}, ${s.rowsEmitted.toLocaleString("en-US")} rows emitted (${s.rowsTotal.toLocaleString("en-US")} in all), ${s.events.toLocaleString("en-US")} events, ${(s.wallMs / 1000).toFixed(1)} s`,
  ];
  if (s.resumedFrom)
    lines.push(`  resumed from a checkpoint of ${s.resumedFrom.rows} rows (${s.resumedFrom.writtenAt})`);
  if (s.checkpoints > 0) lines.push(`  ${s.checkpoints} checkpoints written`);
  if (s.out) lines.push(`  output ${s.out}`);
  return `${lines.join("\n")}\n`;
}

/** Adds the `live` command group to the CLI. */
export function registerLiveCommands(program: Command, io: CliIo): void {
  const live = program.command("live").description("live runs: the batch operators on arriving events");
  live
    .command("run")
    .description(
      "run the live runner on a lake replay (--replay-lake) or the Binance WebSocket (--binance-ws), rows to --out",
    )
    .option("--replay-lake <dir>", "feed: replay this lake's events (paper trading, parity checks)")
    .option(
      "--binance-ws <url>",
      "feed: Binance combined-stream WebSocket base URL, e.g. wss://fstream.binance.com",
    )
    .option("--binance-rest <url>", "REST base URL of depth snapshots (default: the market's public one)")
    .addOption(
      new Option("--market <market>", "Binance market of --binance-ws").choices(["usdm", "coinm", "spot"]),
    )
    .option("--lake <dir>", "lake of the symbol registry (increments) with --binance-ws", "./lake")
    .option("--exchange <id>", "exchange, e.g. binance-futures (required unless --request)")
    .option("--symbol <symbol>", "exchange symbol, e.g. BTCUSDT (required unless --request)")
    .addOption(
      new Option("--start <time>", "inclusive start of the output range (ISO or µs)").argParser(parseTimeArg),
    )
    .addOption(
      new Option("--end <time>", "exclusive end (ISO or µs; --binance-ws: optional)").argParser(parseTimeArg),
    )
    .option("--spine <spec>", "as features build (default clock:1000)")
    .option("--families <ids>", "as features build (default: default)")
    .option("--cross-venue <exchange:symbol>", "spot instrument for the cross-venue family (cv)")
    .option("--config <file>", "JSON FeatureRunConfig, as features build")
    .option("--request <file>", "a pipeline request v2: its spine and operators (labels are not live values)")
    .addOption(
      new Option("--speed <x>", "--replay-lake: x × real time (default: as fast as possible)").argParser(
        positiveNumber,
      ),
    )
    .option(
      "--checkpoint <dir>",
      "write checkpoints here and resume from the one found (restart = same command)",
    )
    .addOption(
      new Option(
        "--checkpoint-every-bars <n>",
        "a checkpoint every n rows (default 100; 0: not by rows)",
      ).argParser(parseCount),
    )
    .addOption(
      new Option(
        "--checkpoint-every-ms <ms>",
        "a checkpoint every ms of wall time (default 5000; 0: not by time)",
      ).argParser(parseCount),
    )
    .option("--record <file>", "--binance-ws: record every message in the capture format (.gz: gzip)")
    .option("--out <file>", "rows to this file: .csv or .parquet (what features build writes for the run)")
    .addOption(
      new Option("--flush-every-ms <ms>", "flush the output every ms (default 1000)").argParser(parseCount),
    )
    .option("--json", "print the run summary as JSON on stdout")
    .option(
      "--feature-set <name>",
      "also write every row into this online feature set (entity = exchange, symbol)",
    )
    .option("--redis <url>", "online store: Redis at this URL (default: the embedded store in --store)")
    .option("--store <dir>", "online store: the embedded store's directory (default ./store)")
    .action(async (o: LiveRunOptions) => {
      const writers = storeWriters(o, io.stderr);
      const s = await runLive(o, { stderr: io.stderr, ...(writers ? { writers } : {}) });
      io.stderr.write(formatLiveSummary(s));
      if (o.json) io.stdout.write(`${JSON.stringify(s, null, 2)}\n`);
    });
}
