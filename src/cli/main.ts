/**
 * `pointline` command line. Human output goes to stdout (tables) and stderr (progress, reports);
 * `--json` prints machine-readable JSON on stdout. Exit codes: 0 ok, 1 error (for `ingest`: any file
 * failed — the others are committed), 2 ingest finished with rejected rows when `--strict` is given, or
 * a pipeline request was invalid / rejected (cli/pipeline.ts).
 */
import { existsSync, mkdirSync } from "node:fs";
import { basename, resolve } from "node:path";
import { SingleBar } from "cli-progress";
import { Argument, Command, CommanderError, InvalidArgumentError, Option } from "commander";
import pl from "nodejs-polars";
import { usToIso } from "../core/time.js";
import { packageVersion } from "../core/version.js";
import { catalogMarkdown, featureCatalog } from "../features/catalog.js";
import { addTargets, derivativesTargets } from "../features/derivatives/targets.js";
import { FAMILIES } from "../features/families.js";
import { writeFeatureFrame } from "../features/output.js";
import { INGEST_KINDS, type IngestBatchResult, type IngestStage, ingestBatch } from "../ingest/ingest.js";
import { formatBatchSummary, formatRegistryChange, formatReport, totals } from "../ingest/report.js";
import { type CoverageRow, dataCoverage } from "../lake/catalog.js";
import { fileIdHex, registryPath } from "../lake/layout.js";
import { SymbolRegistry } from "../lake/registry.js";
import { listSymbols } from "../lake/symbols.js";
import { queryFrame } from "../query/query.js";
import { TABLES, type TableName } from "../schema/tables.js";
import {
  checkTimeRange,
  optionDescriptionWithRequired,
  parseCount,
  parseIncrementArg,
  parseTimeArg,
  requireInstrument,
  requireLake,
  type TimeArg,
} from "./args.js";
import { buildDerivativesSamples, formatDerivativesSamples } from "./derivatives-samples.js";
import { featureConfigFromCli, formatManifest } from "./features.js";
import { registerIntervalCommands } from "./intervals.js";
import { stopWithLauncher } from "./launcher.js";
import { registerLiveCommands } from "./live.js";
import { registerPipelineCommands } from "./pipeline.js";
import { buildSampleFrames, formatSampleFrames } from "./sample-frames.js";
import { sampleGroups } from "./samples.js";
import { registerBackfillCommands, registerScaleCommands } from "./scale.js";
import { registerSelectCommands } from "./select.js";
import { StatusLine } from "./status-line.js";
import { registerStoreCommands } from "./store.js";
import { registerTraderCommands } from "./trader.js";

function table(rows: readonly (readonly string[])[], header: readonly string[]): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? "").length)));
  const fmt = (r: readonly string[]): string =>
    r
      .map((c, i) => (i >= 3 && /^[\d,]+$/.test(c) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join("  ");
  return [fmt(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(fmt)].join("\n");
}

/** Coverage rows as an aligned text table (times ISO-8601 with µs). */
export function formatCoverage(rows: readonly CoverageRow[]): string {
  return table(
    rows.map((r) => [
      r.exchange,
      r.symbol,
      r.table,
      r.rows.toLocaleString("en-US"),
      usToIso(r.first_ts_local_us),
      usToIso(r.last_ts_local_us),
      String(r.partitions),
      String(r.files),
    ]),
    ["exchange", "symbol", "table", "rows", "first ts_local", "last ts_local", "partitions", "files"],
  );
}

/** What the status line says a file is doing, per ingest stage. */
const INGEST_STAGE_TEXT: Readonly<Record<IngestStage, string>> = {
  hash: "hashing (file identity)",
  scan: "pass 1/2, scanning",
  write: "pass 2/2, writing rows",
  commit: "committing",
};

/**
 * Runs one ingest batch for the CLI. On a TTY (stderr) and unless `quiet`, a status line shows the file
 * being ingested (n/N, name, stage, seconds); per-file reports go to stderr unless `json` or `quiet`; a
 * failed file is printed as it fails unless `json` (failures are never quiet) and the batch goes on.
 */
async function runIngest(
  io: CliIo,
  kind: string,
  files: string[],
  o: { lake: string; exchange?: string; symbol?: string; table?: string; json?: boolean; quiet?: boolean },
): Promise<IngestBatchResult> {
  const status = new StatusLine(io.stderr);
  const say = (text: string): void => {
    status.clear();
    io.stderr.write(`${text}\n`);
  };
  try {
    return await ingestBatch(kind, files, {
      lake: o.lake,
      exchange: o.exchange,
      symbol: o.symbol,
      table: o.table,
      onProgress: (p) => {
        if (!o.quiet)
          status.set(
            `ingest ${kind} [${p.index + 1}/${p.total}] ${basename(p.file)}: ${INGEST_STAGE_TEXT[p.stage]}`,
          );
      },
      onFile: (m) => {
        if (!o.json && !o.quiet) say(formatReport(m.report));
        // a new fixed-point scale is never quiet: stderr in every mode (the report has it too)
        else
          for (const c of m.report.registry_changes ?? [])
            say(`${m.report.file}: ${formatRegistryChange(c)}`);
      },
      onFailed: (f) => {
        if (!o.json) say(`FAILED ${f.file} (at ${f.stage}): ${f.error.message}`);
      },
    });
  } finally {
    status.stop();
  }
}

/** A mandatory time option: ISO-8601 or µs, parsed to a `TimeArg` (errors name the flag and the text). */
function timeOption(flags: string, description: string): Option {
  return new Option(flags, description).argParser(parseTimeArg).makeOptionMandatory();
}

/** Replay position as a percentage of [from, to), clamped to 0–100. */
function progressPercent(doneUs: number, fromUs: number, toUs: number): number {
  return Math.min(100, Math.max(0, Math.round((100 * (doneUs - fromUs)) / Math.max(1, toUs - fromUs))));
}

/** The `file_id` column printed as `fileIdHex` does everywhere (12 hex digits, as in reports and file names). */
function withFileIdHex(df: pl.DataFrame): pl.DataFrame {
  if (!df.columns.includes("file_id")) return df;
  const ids = df.getColumn("file_id").toArray() as (number | bigint | null)[];
  return df.withColumn(
    pl.Series(
      "file_id",
      ids.map((x) => (x === null ? null : fileIdHex(Number(x)))),
      pl.Utf8,
    ),
  );
}

/** A stream the CLI writes to: `process.stdout` / `process.stderr`, or a test's capture. */
export type CliStream = NodeJS.WritableStream & { readonly isTTY?: boolean; readonly columns?: number };

/**
 * Where a CLI run writes and where its exit code goes (0 unless set): the process's streams and
 * `process.exitCode` for the `pointline` binary; tests pass their own to run commands in process.
 */
export interface CliIo {
  readonly stdout: CliStream;
  readonly stderr: CliStream;
  setExitCode(code: number): void;
}

/** The process's stdout, stderr and `process.exitCode`. */
export const PROCESS_IO: CliIo = {
  get stdout() {
    return process.stdout;
  },
  get stderr() {
    return process.stderr;
  },
  setExitCode: (code) => {
    process.exitCode = code;
  },
};

/**
 * The commander program of the `pointline` CLI writing to `io` (exported for tests and embedding).
 * Commander's own exits (usage errors, `--help`, `--version`) throw a `CommanderError` carrying the
 * exit code instead of ending the process; `runCli` turns them into the exit code.
 */
export function buildCli(io: CliIo = PROCESS_IO): Command {
  const program = new Command("pointline")
    // set before the commands are added: subcommands copy both
    .configureOutput({
      writeOut: (text) => void io.stdout.write(text),
      writeErr: (text) => void io.stderr.write(text),
      // help wraps at the terminal's width, else at commander's default (80)
      getOutHelpWidth: () => (io.stdout.isTTY ? io.stdout.columns : undefined) ?? 80,
      getErrHelpWidth: () => (io.stderr.isTTY ? io.stderr.columns : undefined) ?? 80,
    })
    .exitOverride()
    .description("Point-in-time-correct feature engineering for market data")
    .version(packageVersion().version, "-V, --version", "print the version")
    // set before the commands are added: subcommands copy it (mandatory options say "(required)")
    .configureHelp({ optionDescription: optionDescriptionWithRequired })
    .showHelpAfterError("(add --help for usage)");

  program
    .command("ingest")
    .description("ingest vendor files into the Parquet lake (idempotent per file)")
    .argument("<kind>", `adapter: ${INGEST_KINDS.join(" | ")}`)
    .argument("<files...>", "source files (plain or .gz)")
    .requiredOption("--lake <dir>", "lake root directory")
    .option("--exchange <id>", "exchange id for files that do not name it (Tardis ids)")
    .option("--symbol <symbol>", "symbol for files that do not name it")
    .addOption(
      new Option("--table <table>", "table for ambiguous Tardis files").choices(["trades", "liquidations"]),
    )
    .option("--json", "print the ingest reports as JSON on stdout (one entry per file, with its status)")
    .option("--quiet", "print neither per-file reports nor progress, only the summary and failures")
    .option("--strict", "exit with code 2 if any row was rejected")
    .action(async (kind: string, files: string[], o) => {
      const r = await runIngest(io, kind, files, o);
      if (o.json) {
        const entries = [
          ...r.committed.map((m) => ({ status: "committed", ...m.report })),
          ...r.failed.map((f) => ({
            status: "failed",
            file: f.file,
            stage: f.stage,
            error: f.error.message,
          })),
        ];
        io.stdout.write(`${JSON.stringify(entries, null, 2)}\n`);
      } else {
        io.stderr.write(
          `${formatBatchSummary(
            kind,
            r.committed.map((m) => m.report),
            r.failed,
          )}\n`,
        );
      }
      if (r.failed.length > 0) io.setExitCode(1);
      else if (o.strict && r.committed.some((m) => totals(m.report).rejected > 0)) io.setExitCode(2);
    });

  program
    .command("coverage")
    .description("rows, time range and partitions per exchange / symbol / table")
    .requiredOption("--lake <dir>", "lake root directory")
    .option("--json", "JSON output")
    .action(async (o: { lake: string; json?: boolean }) => {
      const rows = await dataCoverage(requireLake(o.lake));
      io.stdout.write(o.json ? `${JSON.stringify(rows, null, 2)}\n` : `${formatCoverage(rows)}\n`);
    });

  const symbols = program.command("symbols").description("symbol registry: list or set increments");
  symbols
    .command("list", { isDefault: true })
    .description("list registry entries")
    .requiredOption("--lake <dir>", "lake root directory")
    .option("--json", "JSON output")
    .action(async (o: { lake: string; json?: boolean }) => {
      const rows = await listSymbols(requireLake(o.lake));
      if (o.json) {
        io.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        return;
      }
      // futures contracts (Lean): their delivery month and expiry, when the registry has any
      const contracts = rows.some((r) => r.contract_month !== undefined || r.expiry_us != null);
      io.stdout.write(
        `${table(
          rows.map((r) => [
            r.exchange,
            r.exchange_symbol,
            r.asset_type,
            String(r.symbol_id),
            r.price_increment,
            r.amount_increment,
            usToIso(r.valid_from_us),
            r.valid_until_us === null ? "-" : usToIso(r.valid_until_us),
            r.increment_source,
            ...(contracts ? [r.contract_month ?? "-", r.expiry_us == null ? "-" : usToIso(r.expiry_us)] : []),
          ]),
          [
            "exchange",
            "symbol",
            "asset_type",
            "symbol_id",
            "price_inc",
            "amount_inc",
            "valid_from",
            "valid_until",
            "source",
            ...(contracts ? ["contract_month", "expiry"] : []),
          ],
        )}\n`,
      );
    });
  symbols
    .command("set")
    .description("override increments for a symbol from a time on (re-ingest to apply to existing data)")
    .requiredOption("--lake <dir>", "lake root directory")
    .requiredOption("--exchange <id>", "exchange id")
    .requiredOption("--symbol <symbol>", "exchange symbol")
    .addOption(
      new Option("--price-increment <decimal>", "price increment (quote currency), e.g. 0.1")
        .argParser(parseIncrementArg)
        .makeOptionMandatory(),
    )
    .addOption(
      new Option("--amount-increment <decimal>", "amount increment (base units), e.g. 0.001")
        .argParser(parseIncrementArg)
        .makeOptionMandatory(),
    )
    .addOption(
      new Option("--valid-from <time>", "ISO time or µs (default: the beginning of time)").argParser(
        parseTimeArg,
      ),
    )
    .action(
      async (o: {
        lake: string;
        exchange: string;
        symbol: string;
        priceIncrement: string;
        amountIncrement: string;
        validFrom?: TimeArg;
      }) => {
        // a registry may be set up before the first ingest: a missing lake is created (and said so)
        const root = resolve(o.lake);
        const created = !existsSync(registryPath(root));
        const reg = await SymbolRegistry.open(root);
        const e = reg.setSymbol(o.exchange, o.symbol, {
          priceIncrement: o.priceIncrement,
          amountIncrement: o.amountIncrement,
          validFromUs: o.validFrom?.us,
        });
        await reg.save();
        if (created) io.stderr.write(`created the symbol registry ${registryPath(root)}\n`);
        io.stdout.write(`${JSON.stringify(e)}\n`);
      },
    );

  program
    .command("query")
    .description("print rows of one table in the total order")
    .addArgument(new Argument("<table>", "canonical table name").choices(Object.keys(TABLES)))
    .requiredOption("--lake <dir>", "lake root directory")
    .requiredOption("--exchange <id>", "exchange id")
    .requiredOption("--symbol <symbol>", "exchange symbol")
    .addOption(timeOption("--start <time>", "inclusive start of ts_local_us (ISO or µs)"))
    .addOption(timeOption("--end <time>", "exclusive end of ts_local_us (ISO or µs)"))
    .addOption(new Option("--limit <n>", "rows to print").argParser(parseCount).default(20))
    .addOption(
      new Option("--format <fmt>", "output format").choices(["table", "csv", "json"]).default("table"),
    )
    .action(
      async (
        t: TableName,
        o: {
          lake: string;
          exchange: string;
          symbol: string;
          start: TimeArg;
          end: TimeArg;
          limit: number;
          format: string;
        },
      ) => {
        const lake = requireLake(o.lake);
        checkTimeRange(o.start, o.end);
        await requireInstrument(lake, o.exchange, o.symbol);
        const df = await queryFrame(t, {
          lake,
          exchange: o.exchange,
          symbol: o.symbol,
          start: o.start.us,
          end: o.end.us,
        });
        const head = withFileIdHex(df.head(o.limit));
        if (o.format === "csv") io.stdout.write(head.writeCSV().toString());
        else if (o.format === "json")
          io.stdout.write(
            `${JSON.stringify(head.toRecords(), (_k, v) => (typeof v === "bigint" ? Number(v) : v))}\n`,
          );
        else io.stdout.write(`${head.toString()}\n(${df.height} rows in range)\n`);
      },
    );

  const features = program.command("features").description("feature frames: build, catalogue");
  features
    .command("build")
    .description("compute a feature frame over [start, end) and write it (.parquet or .csv) with a manifest")
    .option("--lake <dir>", "lake root directory", "./lake")
    .requiredOption("--exchange <id>", "exchange, e.g. binance-futures")
    .requiredOption("--symbol <symbol>", "exchange symbol, e.g. BTCUSDT")
    .addOption(timeOption("--start <time>", "inclusive start of the output range (ISO or µs)"))
    .addOption(timeOption("--end <time>", "exclusive end of the output range (ISO or µs)"))
    .option(
      "--spine <spec>",
      "clock:<ms> | trades | volume:<base qty> | dollar:<notional> | tick:<n> | hybrid:<qty>:<ms>, then [,option=value…] (splitTrades, useAbsoluteVolume, includePartialLastBar, maxRows); sets only the fields it names in the --config spine (default: the --config spine, else clock:1000)",
    )
    .option(
      "--families <ids>",
      `comma-separated family ids (${FAMILIES.map((f) => f.id).join(",")}), "default" (Pointline's defaults) or "all" (default: the --config include* flags, else "default")`,
    )
    .option("--cross-venue <exchange:symbol>", "spot instrument for the cross-venue family (cv)")
    .option(
      "--preset <name>",
      "feature preset: derivatives (the OI/price/volume/funding/liquidation/long-short/time set; use with --spine bars:5m or a clock/event spine)",
    )
    .option(
      "--config <file>",
      "JSON FeatureRunConfig (spine, window sizes, warmupMs, …); a flag that contradicts it is an error",
    )
    .requiredOption("--out <file>", "output file: .parquet or .csv (a .manifest.json is written beside it)")
    .option("--json", "print the manifest as JSON on stdout")
    .action(
      async (o: {
        lake: string;
        exchange: string;
        symbol: string;
        start: TimeArg;
        end: TimeArg;
        spine?: string;
        families?: string;
        crossVenue?: string;
        config?: string;
        preset?: string;
        out: string;
        json?: boolean;
      }) => {
        const lake = requireLake(o.lake);
        checkTimeRange(o.start, o.end);
        // a flag not typed names nothing: the config (or the built-in default) decides
        const config = await featureConfigFromCli(o);
        await requireInstrument(lake, o.exchange, o.symbol, { at: o.start });
        if (config.includeCrossVenue && config.crossVenue)
          await requireInstrument(lake, config.crossVenue.exchange, config.crossVenue.symbol, {
            at: o.start,
            flag: o.crossVenue !== undefined ? "--cross-venue" : `--config ${o.config} crossVenue`,
          });
        const bar = io.stderr.isTTY
          ? new SingleBar({
              format: "features [{bar}] {percentage}% | {eta_formatted} left",
              stream: io.stderr,
            })
          : null;
        bar?.start(100, 0);
        const manifest = await writeFeatureFrame(
          {
            lake,
            exchange: o.exchange,
            symbol: o.symbol,
            start: o.start.us,
            end: o.end.us,
            config,
            // long presets read sparse event tables: day chunks instead of hour chunks
            ...(o.preset !== undefined ? { chunkMs: 86_400_000 } : {}),
            onProgress: (done, from, to) => bar?.update(progressPercent(done, from, to)),
          },
          o.out,
        );
        bar?.update(100);
        bar?.stop();
        if (o.json) io.stdout.write(`${JSON.stringify(manifest, null, 2)}\n`);
        else io.stdout.write(`${formatManifest(manifest)}\n`);
      },
    );
  features
    .command("catalog")
    .description("list every feature with its family, unit, window and warm-up (default config)")
    .option("--json", "JSON output")
    .option("--markdown", "the Markdown catalogue (docs/features.md)")
    .action((o: { json?: boolean; markdown?: boolean }) => {
      const metas = featureCatalog();
      if (o.markdown) io.stdout.write(catalogMarkdown());
      else if (o.json) io.stdout.write(`${JSON.stringify(metas, null, 2)}\n`);
      else {
        io.stdout.write(
          `${table(
            metas.map((m) => [m.name, m.family, m.unit, m.window, m.warmup]),
            ["feature", "family", "unit", "window", "warm-up"],
          )}\n`,
        );
      }
    });

  features
    .command("samples")
    .description(
      "main job, part 2: build the sample feature frames (1 s clock, 5 BTC volume bars) and summarise them",
    )
    .option("--lake <dir>", "lake root directory", "./lake")
    .option("--out <dir>", "output directory", "./out")
    .action(async (o: { lake: string; out: string }) => {
      const lake = requireLake(o.lake);
      io.stdout.write(`\n${formatSampleFrames(await buildSampleFrames(lake, o.out))}\n`);
    });

  features
    .command("derivatives-samples")
    .description(
      "main job, part 3: the derivatives preset on XRPUSDT 5 m (freqtrade) and ESZ13 1 m with open interest (Lean), with targets; column counts and null ratios per group",
    )
    .option("--lake <dir>", "lake root directory", "./lake")
    .option("--out <dir>", "output directory", "./out")
    .action(async (o: { lake: string; out: string }) => {
      const lake = requireLake(o.lake);
      mkdirSync(o.out, { recursive: true });
      io.stdout.write(`\n${formatDerivativesSamples(await buildDerivativesSamples(lake, o.out))}\n`);
    });

  program
    .command("ingest-samples")
    .description(
      "main job: ingest every sample file of ../shared/data into a lake and print the coverage table",
    )
    .option("--data <dir>", "shared data directory", "../shared/data")
    .option("--lake <dir>", "lake root directory", "./lake")
    .option("--quiet", "do not print per-file ingest reports")
    .action(async (o: { data: string; lake: string; quiet?: boolean }) => {
      const started = performance.now();
      let rows = 0;
      let rejected = 0;
      let files = 0;
      for (const g of sampleGroups(o.data)) {
        const r = await runIngest(io, g.kind, [...g.files], { lake: o.lake, quiet: o.quiet });
        if (r.failed.length > 0) io.setExitCode(1);
        for (const m of r.committed) {
          const t = totals(m.report);
          rows += t.written;
          rejected += t.rejected;
          files++;
        }
      }
      const secs = (performance.now() - started) / 1000;
      io.stdout.write(`${formatCoverage(await dataCoverage(resolve(o.lake)))}\n`);
      io.stdout.write(
        `\ningested ${files} files: ${rows.toLocaleString("en-US")} rows written, ${rejected} rejected, in ${secs.toFixed(1)} s (lake: ${resolve(o.lake)})\n`,
      );
    });

  program
    .command("labels")
    .description(
      "append the derivatives targets (forward returns 1h/4h/24h, target_class, target_binary, target_oi_change_4h) to a feature frame",
    )
    .requiredOption(
      "--in <file>",
      "feature frame (.parquet or .csv) with available_at_us, close and open_interest",
    )
    .requiredOption("--out <file>", "output file (.parquet or .csv): the frame with the label columns")
    .addOption(new Option("--preset <name>", "label preset").choices(["derivatives"]).default("derivatives"))
    .addOption(
      new Option("--threshold-bps <bps>", "class threshold θ in bps (default 50 = 0.5 %)")
        .argParser((v) => {
          const x = Number(v);
          if (!(x > 0)) throw new InvalidArgumentError("a positive number of bps");
          return x;
        })
        .default(50),
    )
    .action(async (o: { in: string; out: string; thresholdBps: number }) => {
      const frame = o.in.endsWith(".csv") ? pl.readCSV(o.in) : pl.readParquet(o.in);
      const out = addTargets(frame, derivativesTargets(o.thresholdBps));
      if (o.out.endsWith(".csv")) out.writeCSV(o.out);
      else out.writeParquet(o.out);
      const names = out.columns.filter((c) => c.startsWith("target_"));
      io.stdout.write(
        `wrote ${o.out}: ${out.height.toLocaleString("en-US")} rows, labels ${names
          .map((n) => `${n} (${out.getColumn(n).nullCount()} null)`)
          .join(", ")}\n`,
      );
    });

  registerPipelineCommands(program, io);
  registerStoreCommands(program, io);
  registerLiveCommands(program, io);
  registerTraderCommands(program, io);
  registerScaleCommands(program, io);
  registerBackfillCommands(program, io);
  registerSelectCommands(program, io);
  registerIntervalCommands(program, io);
  return program;
}

/**
 * Runs `pointline <args>` writing to `io`: an error thrown by a command is printed on stderr as
 * `pointline: <message>` with exit code 1; a usage error (already printed by commander), `--help` and
 * `--version` set commander's exit code. Resolves when the command has finished.
 */
export async function runCli(args: readonly string[], io: CliIo = PROCESS_IO): Promise<void> {
  try {
    await buildCli(io).parseAsync(args, { from: "user" });
  } catch (e) {
    if (e instanceof CommanderError) {
      io.setExitCode(e.exitCode);
      return;
    }
    io.stderr.write(`pointline: ${e instanceof Error ? e.message : String(e)}\n`);
    io.setExitCode(1);
  }
}

const isMain = process.argv[1] !== undefined && /(?:main\.ts|pointline(?:\.js)?)$/.test(process.argv[1]);
if (isMain) {
  stopWithLauncher();
  void runCli(process.argv.slice(2));
}
