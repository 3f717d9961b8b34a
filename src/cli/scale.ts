/**
 * Scale-out commands: `features build-many` (one request over many symbols on a worker-thread pool;
 * exit 0 every symbol ok, 3 partial — some symbols failed, the others are written —, 1 error or every
 * symbol failed) and the BullMQ backfill: `backfill plan|run|merge` (exit 3: jobs failed or partitions
 * missing) and `worker`. See docs/scale.md.
 */
import { SingleBar } from "cli-progress";
import { type Command, Option } from "commander";
import { ConfigError } from "../core/errors.js";
import { FAMILIES } from "../features/families.js";
import {
  type BackfillMerged,
  mergeBackfill,
  planBackfill,
  planPath,
  readBackfillPlan,
  runBackfillLocal,
} from "../scale/backfill.js";
import { parseCrossSectionFile, writeCrossSection } from "../scale/cross-section.js";
import { formatMultiSymbol, multiStatusExitCode, runMultiSymbol } from "../scale/multi.js";
import {
  checkRedis,
  DEFAULT_QUEUE,
  enqueueBackfill,
  startBackfillWorker,
  waitForBackfill,
} from "../scale/queue.js";
import {
  parseInstrumentList,
  type SymbolQuery,
  type SymbolSelection,
  symbolQuerySchema,
} from "../scale/symbols.js";
import { checkTimeRange, parseCount, parseTimeArg, readJsonFile, requireLake, type TimeArg } from "./args.js";
import { featureConfigFromCli } from "./features.js";
import type { CliIo } from "./main.js";

const ASSET_TYPES = symbolQuerySchema.shape.assetType.unwrap().options;

function timeOption(flags: string, description: string): Option {
  return new Option(flags, description).argParser(parseTimeArg).makeOptionMandatory();
}

/** Flags that select instruments: `--symbols` or a registry query. */
export interface SelectionFlags {
  readonly symbols?: string;
  readonly exchange?: string;
  readonly base?: string;
  readonly quote?: string;
  readonly assetType?: string;
}

/** The selection of `--symbols` or of the query flags. @throws ConfigError when both or neither are given. */
export function selectionFromFlags(o: SelectionFlags): SymbolSelection {
  const query: SymbolQuery = {
    ...(o.exchange !== undefined ? { exchange: o.exchange } : {}),
    ...(o.base !== undefined ? { base: o.base } : {}),
    ...(o.quote !== undefined ? { quote: o.quote } : {}),
    ...(o.assetType !== undefined ? { assetType: o.assetType as SymbolQuery["assetType"] } : {}),
  };
  const hasQuery = Object.keys(query).length > 0;
  if (o.symbols !== undefined && hasQuery)
    throw new ConfigError(
      "--symbols and a registry query (--exchange/--base/--quote/--asset-type) exclude each other: give one",
    );
  if (o.symbols !== undefined) return { symbols: parseInstrumentList(o.symbols) };
  if (!hasQuery)
    throw new ConfigError(
      "give --symbols exchange:symbol,… or a registry query (--exchange, --base, --quote, --asset-type)",
    );
  return { query };
}

/** Adds the instrument selection options to a command. */
export function addSelectionOptions(cmd: Command): Command {
  return cmd
    .option("--symbols <list>", "instruments, exchange:symbol[,exchange:symbol…]")
    .option("--exchange <id>", "registry query: exchange")
    .option("--base <asset>", "registry query: base asset, e.g. BTC")
    .option("--quote <asset>", "registry query: quote asset, e.g. USDT")
    .addOption(new Option("--asset-type <type>", "registry query: asset type").choices(ASSET_TYPES));
}

/** Flags shared by `features build-many` and `backfill plan`: lake, selection, range, feature config. */
interface ManyFlags extends SelectionFlags {
  readonly lake: string;
  readonly start: TimeArg;
  readonly end: TimeArg;
  readonly spine?: string;
  readonly families?: string;
  readonly config?: string;
  readonly outDir: string;
  readonly json?: boolean;
}

/** Adds the `ManyFlags` options (`outDir` described by `outDirText`). */
function addManyOptions(cmd: Command, outDirText: string): Command {
  return addSelectionOptions(cmd.option("--lake <dir>", "lake root directory", "./lake"))
    .addOption(timeOption("--start <time>", "inclusive start of the output range (ISO or µs)"))
    .addOption(timeOption("--end <time>", "exclusive end of the output range (ISO or µs)"))
    .option(
      "--spine <spec>",
      "spine shorthand, as for features build (default: the --config spine, else clock:1000)",
    )
    .option(
      "--families <ids>",
      `comma-separated family ids (${FAMILIES.map((f) => f.id).join(",")}), "default" or "all"`,
    )
    .option("--config <file>", "JSON FeatureRunConfig, as for features build")
    .requiredOption("--out-dir <dir>", outDirText);
}

/** The validated lake, selection, range and config of `ManyFlags`. @throws ConfigError naming the flag. */
async function parseManyFlags(o: ManyFlags) {
  const lake = requireLake(o.lake);
  checkTimeRange(o.start, o.end);
  const selection = selectionFromFlags(o);
  const config = await featureConfigFromCli({
    ...(o.spine !== undefined ? { spine: o.spine } : {}),
    ...(o.families !== undefined ? { families: o.families } : {}),
    ...(o.config !== undefined ? { config: o.config } : {}),
  });
  return { lake, selection, start: o.start.us, end: o.end.us, config, outDir: o.outDir };
}

/** Registers `features build-many` under the `features` command. */
export function registerScaleCommands(program: Command, io: CliIo): void {
  const features = program.commands.find((c) => c.name() === "features");
  if (!features) throw new Error("registerScaleCommands: the features command must be registered first");
  features
    .command("cross-section")
    .description(
      "cross-sectional features: each instrument's frame as of a clock grid, rank, z-score and spreads across instruments",
    )
    .argument(
      "<request>",
      "cross-section request JSON (start, end, gridMs, config, instruments, features, spreads)",
    )
    .option("--lake <dir>", "lake root directory", "./lake")
    .requiredOption("--out <file>", "output .parquet (a .manifest.json is written beside it)")
    .option("--json", "print the manifest as JSON")
    .action(async (file: string, o: { lake: string; out: string; json?: boolean }) => {
      const lake = requireLake(o.lake);
      const req = parseCrossSectionFile(await readJsonFile(file, "request"), lake, file);
      const m = await writeCrossSection(req, o.out);
      if (o.json) io.stdout.write(`${JSON.stringify(m, null, 2)}\n`);
      else
        io.stdout.write(
          `wrote ${m.path} (${m.rows.toLocaleString("en-US")} grid rows × ${m.columns} columns, content ${m.content_sha256.slice(0, 16)}…)\n${m.instruments
            .map((i) => `  ${i.key}: ${i.exchange}:${i.symbol} ${i.rows.toLocaleString("en-US")} rows`)
            .join("\n")}\n`,
        );
    });
  addManyOptions(
    features
      .command("build-many")
      .description(
        "build one feature frame per symbol on a worker-thread pool, plus a combined frame (exit 3 if some symbols failed)",
      ),
    "output directory: <exchange>/<symbol>.parquet, combined.parquet, run.json",
  )
    .addOption(
      new Option("--workers <n>", "worker threads (0: one symbol after another on the main thread)")
        .argParser((v) => (v === "0" ? 0 : parseCount(v)))
        .default(2),
    )
    .option("--json", "print the run manifest as JSON on stdout")
    .action(async (o: ManyFlags & { workers: number }) => {
      const req = await parseManyFlags(o);
      const bar = io.stderr.isTTY
        ? new SingleBar({ format: "symbols [{bar}] {value}/{total} | {last}", stream: io.stderr })
        : null;
      let started = false;
      const m = await runMultiSymbol({
        ...req,
        workers: o.workers,
        onSymbolDone: (r, done, total) => {
          if (!bar) return;
          if (!started) {
            bar.start(total, 0, { last: "" });
            started = true;
          }
          bar.update(done, { last: `${r.exchange}:${r.symbol} ${r.ok ? "ok" : "FAILED"}` });
        },
      });
      bar?.stop();
      if (o.json) io.stdout.write(`${JSON.stringify(m, null, 2)}\n`);
      else io.stdout.write(`${formatMultiSymbol(m)}\n`);
      for (const r of m.symbols) if (!r.ok) io.stderr.write(`FAILED ${r.exchange}:${r.symbol}: ${r.error}\n`);
      io.setExitCode(multiStatusExitCode(m.status));
    });
}

const intOption = (flags: string, description: string): Option =>
  new Option(flags, description).argParser(parseCount);

/** Registers `backfill plan|run|merge` and `worker`. */
export function registerBackfillCommands(program: Command, io: CliIo): void {
  const backfill = program
    .command("backfill")
    .description("distributed backfills on BullMQ: plan (symbols × UTC days), run (enqueue + follow), merge");
  addManyOptions(
    backfill
      .command("plan")
      .description(
        "split symbols × UTC days into partition jobs (each with its warm-up); writes DIR/plan.json",
      ),
    "output directory (shared by every worker, as the lake): plan.json, partitions, backfill.json",
  )
    .option(
      "--handoff",
      "partition hand-off: each partition saves its Driver end state and the next day's partition starts from it when present (identical output, no warm-up replay)",
    )
    .option("--json", "print the plan as JSON")
    .action(async (o: ManyFlags & { handoff?: boolean }) => {
      const plan = await planBackfill({ ...(await parseManyFlags(o)), handoff: o.handoff === true });
      if (o.json) io.stdout.write(`${JSON.stringify(plan, null, 2)}\n`);
      else {
        const symbols = new Set(plan.partitions.map((p) => `${p.exchange}:${p.symbol}`));
        const days = new Set(plan.partitions.map((p) => p.date));
        io.stdout.write(
          `plan ${plan.plan_id.slice(0, 16)}: ${plan.partitions.length} partition jobs (${symbols.size} symbols × ${days.size} UTC days), warm-up ${(plan.partitions[0]?.warmup_us ?? 0) / 1e6} s per job\n  ${planPath(plan.out_dir)}\n`,
        );
      }
    });

  backfill
    .command("run")
    .description(
      "enqueue a plan's jobs on BullMQ (idempotent; failed jobs are retried), follow them with a progress bar, then merge (exit 3 if jobs failed)",
    )
    .requiredOption("--plan <file>", "plan.json of `backfill plan`")
    .option("--redis <url>", "Redis URL (BullMQ); omit with --local", undefined)
    .option("--queue <name>", "BullMQ queue name", DEFAULT_QUEUE)
    .option("--local", "run every partition in this process instead (no Redis; the single-process reference)")
    .addOption(intOption("--attempts <n>", "attempts per job").default(3))
    .option("--no-wait", "enqueue only; do not follow the jobs or merge")
    .option("--json", "print the merged manifest as JSON")
    .action(
      async (o: {
        plan: string;
        redis?: string;
        queue: string;
        local?: boolean;
        attempts: number;
        wait: boolean;
        json?: boolean;
      }) => {
        const plan = await readBackfillPlan(o.plan);
        const total = plan.partitions.length;
        const bar = io.stderr.isTTY
          ? new SingleBar({
              format: "backfill [{bar}] {value}/{total} jobs | {failed} failed | {eta_formatted} left",
              stream: io.stderr,
            })
          : null;
        bar?.start(total, 0, { failed: 0 });
        let failed: { key: string; error: string; attempts: number }[] = [];
        if (o.local) {
          if (o.redis !== undefined) throw new ConfigError("--local and --redis exclude each other");
          await runBackfillLocal(plan, (_p, n) => bar?.update(n));
        } else {
          if (o.redis === undefined) throw new ConfigError("give --redis <url> (or --local)");
          await checkRedis(o.redis);
          const e = await enqueueBackfill(plan, { redisUrl: o.redis, queue: o.queue, attempts: o.attempts });
          io.stderr.write(
            `${bar ? "\n" : ""}enqueued ${e.added} jobs on ${o.queue} (${e.existing} already there, ${e.retried} of them retried: failed, or output gone)\n`,
          );
          if (!o.wait) {
            bar?.stop();
            return;
          }
          const seen = new Set<string>();
          const r = await waitForBackfill(plan, {
            redisUrl: o.redis,
            queue: o.queue,
            onProgress: (p) => {
              bar?.update(p.completed + p.failed.length, { failed: p.failed.length });
              for (const f of p.failed)
                if (!seen.has(f.key)) {
                  seen.add(f.key);
                  if (!bar) io.stderr.write(`FAILED ${f.key}: ${f.error}\n`);
                }
            },
          });
          failed = [...r.failed];
        }
        bar?.stop();
        const merged = await mergeBackfill(plan);
        if (o.json) io.stdout.write(`${JSON.stringify({ ...merged, failed_jobs: failed }, null, 2)}\n`);
        else io.stdout.write(`${formatMerged(merged, failed)}\n`);
        io.setExitCode(merged.complete ? 0 : 3);
      },
    );

  backfill
    .command("merge")
    .description(
      "merge a plan's partition manifests and check that every partition is present (exit 3 if not)",
    )
    .requiredOption("--plan <file>", "plan.json of `backfill plan`")
    .option("--json", "print the merged manifest as JSON")
    .action(async (o: { plan: string; json?: boolean }) => {
      const merged = await mergeBackfill(await readBackfillPlan(o.plan));
      if (o.json) io.stdout.write(`${JSON.stringify(merged, null, 2)}\n`);
      else io.stdout.write(`${formatMerged(merged, [])}\n`);
      io.setExitCode(merged.complete ? 0 : 3);
    });

  program
    .command("worker")
    .description(
      "process backfill jobs from BullMQ until SIGTERM/SIGINT (any number, on any machine sharing lake, output dir and Redis)",
    )
    .requiredOption("--redis <url>", "Redis URL")
    .option("--queue <name>", "BullMQ queue name", DEFAULT_QUEUE)
    .addOption(intOption("--concurrency <n>", "jobs at once in this process").default(1))
    .addOption(
      intOption("--lock-duration-ms <ms>", "job lock: a dead worker's job is retried after this").default(
        30_000,
      ),
    )
    .addOption(intOption("--stalled-interval-ms <ms>", "stalled-job check period").default(30_000))
    .option("--quiet", "no line per job")
    .action(
      async (o: {
        redis: string;
        queue: string;
        concurrency: number;
        lockDurationMs: number;
        stalledIntervalMs: number;
        quiet?: boolean;
      }) => {
        const w = await startBackfillWorker({
          redisUrl: o.redis,
          queue: o.queue,
          concurrency: o.concurrency,
          lockDurationMs: o.lockDurationMs,
          stalledIntervalMs: o.stalledIntervalMs,
          onJob: (e) => {
            if (!o.quiet || e.status === "failed")
              io.stderr.write(
                `worker ${process.pid}: ${e.status} ${e.key}${e.error ? `: ${e.error}` : ""}\n`,
              );
          },
        });
        io.stderr.write(`worker ${process.pid}: ready on ${o.queue} at ${o.redis}\n`);
        await new Promise<void>((resolveStop) => {
          const stop = (): void => {
            process.off("SIGTERM", stop);
            process.off("SIGINT", stop);
            resolveStop();
          };
          process.on("SIGTERM", stop);
          process.on("SIGINT", stop);
        });
        await w.close();
        io.stderr.write(`worker ${process.pid}: stopped\n`);
      },
    );
}

function formatMerged(
  m: BackfillMerged,
  failed: readonly { key: string; error: string; attempts: number }[],
): string {
  const lines = [
    m.complete
      ? `complete: ${m.partitions} partitions, ${m.rows.toLocaleString("en-US")} rows, content ${m.content_sha256}`
      : `INCOMPLETE: ${m.partitions - m.missing.length}/${m.partitions} partitions present`,
  ];
  for (const i of m.instruments)
    lines.push(
      `  ${i.exchange}:${i.symbol}  ${i.rows.toLocaleString("en-US")} rows  content ${i.content_sha256.slice(0, 16)}…`,
    );
  for (const f of failed) lines.push(`  FAILED job ${f.key} after ${f.attempts} attempts: ${f.error}`);
  for (const x of m.missing) lines.push(`  missing ${x.key}: ${x.reason}`);
  return lines.join("\n");
}
