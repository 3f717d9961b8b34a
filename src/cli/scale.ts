/**
 * Scale-out commands: `features build-many` (one request over many symbols on a worker-thread pool).
 * Exit codes: 0 every symbol ok, 3 partial (some symbols failed, the others are written), 1 error or
 * every symbol failed.
 */
import { SingleBar } from "cli-progress";
import { type Command, Option } from "commander";
import { ConfigError } from "../core/errors.js";
import { FAMILIES } from "../features/families.js";
import { formatMultiSymbol, multiStatusExitCode, runMultiSymbol } from "../scale/multi.js";
import {
  parseInstrumentList,
  type SymbolQuery,
  type SymbolSelection,
  symbolQuerySchema,
} from "../scale/symbols.js";
import { checkTimeRange, parseCount, parseTimeArg, requireLake, type TimeArg } from "./args.js";
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

/** Registers `features build-many` under the `features` command. */
export function registerScaleCommands(program: Command, io: CliIo): void {
  const features = program.commands.find((c) => c.name() === "features");
  if (!features) throw new Error("registerScaleCommands: the features command must be registered first");
  addSelectionOptions(
    features
      .command("build-many")
      .description(
        "build one feature frame per symbol on a worker-thread pool, plus a combined frame (exit 3 if some symbols failed)",
      )
      .option("--lake <dir>", "lake root directory", "./lake"),
  )
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
    .requiredOption(
      "--out-dir <dir>",
      "output directory: <exchange>/<symbol>.parquet, combined.parquet, run.json",
    )
    .addOption(
      new Option("--workers <n>", "worker threads (0: one symbol after another on the main thread)")
        .argParser((v) => (v === "0" ? 0 : parseCount(v)))
        .default(2),
    )
    .option("--json", "print the run manifest as JSON on stdout")
    .action(
      async (
        o: SelectionFlags & {
          lake: string;
          start: TimeArg;
          end: TimeArg;
          spine?: string;
          families?: string;
          config?: string;
          outDir: string;
          workers: number;
          json?: boolean;
        },
      ) => {
        const lake = requireLake(o.lake);
        checkTimeRange(o.start, o.end);
        const selection = selectionFromFlags(o);
        const config = await featureConfigFromCli({
          ...(o.spine !== undefined ? { spine: o.spine } : {}),
          ...(o.families !== undefined ? { families: o.families } : {}),
          ...(o.config !== undefined ? { config: o.config } : {}),
        });
        const bar = io.stderr.isTTY
          ? new SingleBar({ format: "symbols [{bar}] {value}/{total} | {last}", stream: io.stderr })
          : null;
        let started = false;
        const m = await runMultiSymbol({
          lake,
          selection,
          start: o.start.us,
          end: o.end.us,
          config,
          outDir: o.outDir,
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
        for (const r of m.symbols)
          if (!r.ok) io.stderr.write(`FAILED ${r.exchange}:${r.symbol}: ${r.error}\n`);
        io.setExitCode(multiStatusExitCode(m.status));
      },
    );
}
