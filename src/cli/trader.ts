/**
 * `pointline trader replay|features|splits` (issue #12):
 *
 * - `trader replay --lake DIR --exchange E --symbols A,B --start T --end T --out DIR` writes
 *   `DIR/replay/replay_1m.parquet` (trader/replay.ts) and prints per-symbol row counts;
 * - `trader features (--lake DIR --exchange E --symbols A,B --start T --end T | --replay FILE)
 *   [--features A,B,…] [--split-manifest F] [--allow-incomplete-days] [--feature-version V] --out DIR`
 *   builds the frame and writes every artifact (trader/artifacts.ts), then prints the flag counts and the
 *   report paths (`--json`: the manifest);
 * - `trader splits --start T --end T [--ratios 0.7,0.15,0.15] [--purge-minutes N] [--embargo-minutes N]
 *   [--folds K] --out FILE` writes a split manifest.
 *
 * Errors (a missing column, an unknown feature, a bad manifest) exit 1 with a message naming the input.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import type { Command } from "commander";
import { ConfigError } from "../core/errors.js";
import { usToIso } from "../core/time.js";
import { TRADER_FEATURES } from "../features/trader/features.js";
import { writeTraderArtifacts } from "../trader/artifacts.js";
import { buildTraderFeatureFrame, type TraderFrameSource } from "../trader/frame.js";
import { buildReplay1m } from "../trader/replay.js";
import { generateSplitManifest, parseSplitManifest, splitManifestJson } from "../trader/splits.js";
import { parseCount, parseJsonText, parseTimeArg, requireLake } from "./args.js";
import type { CliIo } from "./main.js";

const list = (s: string): string[] =>
  s
    .split(",")
    .map((x) => x.trim())
    .filter((x) => x !== "");

function time(text: string, flag: string): number {
  try {
    return parseTimeArg(text).us;
  } catch (e) {
    throw new ConfigError(`${flag}: ${(e as Error).message}`);
  }
}

interface LakeOpts {
  lake?: string;
  exchange?: string;
  symbols?: string;
  start?: string;
  end?: string;
}

function lakeSource(o: LakeOpts): Extract<TraderFrameSource, { kind: "lake" }> {
  const missing = (["lake", "exchange", "symbols", "start", "end"] as const).filter(
    (k) => o[k] === undefined,
  );
  if (missing.length > 0)
    throw new ConfigError(`give --replay FILE, or --lake with ${missing.map((m) => `--${m}`).join(", ")}`);
  return {
    kind: "lake",
    lake: requireLake(o.lake!),
    exchange: o.exchange!,
    symbols: list(o.symbols!),
    start: time(o.start!, "--start"),
    end: time(o.end!, "--end"),
  };
}

/** Registers the `trader` command group on `program`. */
export function registerTraderCommands(program: Command, io: CliIo): void {
  const trader = program
    .command("trader")
    .description("trader 1-minute replay, feature frame and splits (issue #12)");

  trader
    .command("replay")
    .description("build replay_1m from the lake: one row per symbol per UTC minute")
    .requiredOption("--lake <dir>", "lake root")
    .requiredOption("--exchange <id>", "exchange id (e.g. binance-futures)")
    .requiredOption("--symbols <list>", "comma-separated symbols")
    .requiredOption("--start <time>", "first minute (ISO-8601 or µs)")
    .requiredOption("--end <time>", "end minute, exclusive")
    .requiredOption("--out <dir>", "output directory (writes replay/replay_1m.parquet)")
    .action(async (o: Required<LakeOpts> & { out: string }) => {
      const src = lakeSource(o);
      const r = await buildReplay1m(src);
      const path = resolve(o.out, "replay", "replay_1m.parquet");
      mkdirSync(dirname(path), { recursive: true });
      r.frame.writeParquet(path);
      for (const s of r.summary)
        io.stdout.write(
          `${s.symbol}: ${s.rows} rows of ${s.minutes} minutes (${s.fromTrades} from trades, ${s.fromVendorBars} from vendor 1m bars, ${s.withoutPrice} without a price); L1: ${s.l1Table ?? "none"}\n`,
        );
      io.stdout.write(`replay: ${path}\n`);
    });

  trader
    .command("features")
    .description("build the trader feature frame (33 features, flags, splits) and its artifacts and reports")
    .option("--lake <dir>", "lake root (with --exchange, --symbols, --start, --end)")
    .option("--exchange <id>", "exchange id")
    .option("--symbols <list>", "comma-separated symbols")
    .option("--start <time>", "first minute")
    .option("--end <time>", "end minute, exclusive")
    .option(
      "--replay <file>",
      "a replay (.parquet or .csv) with the columns of `trader replay` instead of the lake",
    )
    .option(
      "--features <list>",
      `subset of the 33 features (default all): ${TRADER_FEATURES.slice(0, 3).join(",")},…`,
    )
    .option("--split-manifest <file>", "split manifest JSON (default: generated for the frame's range)")
    .option("--allow-incomplete-days", "keep symbol-days with fewer than 1,440 rows", false)
    .option("--feature-version <v>", "feature_version written to every row")
    .option("--json", "print the manifest as JSON", false)
    .requiredOption("--out <dir>", "output directory")
    .action(
      async (
        o: LakeOpts & {
          replay?: string;
          features?: string;
          splitManifest?: string;
          allowIncompleteDays: boolean;
          featureVersion?: string;
          json: boolean;
          out: string;
        },
      ) => {
        if (o.replay !== undefined && o.lake !== undefined)
          throw new ConfigError("give either --replay or --lake, not both");
        const source: TraderFrameSource =
          o.replay !== undefined ? { kind: "replay", replay: resolve(o.replay) } : lakeSource(o);
        const splitManifest =
          o.splitManifest === undefined
            ? undefined
            : parseSplitManifest(
                parseJsonText(readFileSync(o.splitManifest, "utf8"), o.splitManifest),
                `split manifest ${o.splitManifest}`,
              );
        const tf = await buildTraderFeatureFrame({
          source,
          ...(o.features !== undefined ? { features: list(o.features) } : {}),
          ...(splitManifest ? { splitManifest } : {}),
          allowIncompleteDays: o.allowIncompleteDays,
          ...(o.featureVersion !== undefined ? { featureVersion: o.featureVersion } : {}),
        });
        const a = await writeTraderArtifacts(tf, o.out, {
          ...(source.kind === "lake"
            ? { lakeRoot: String(source.lake) }
            : { replayFile: String(source.replay) }),
        });
        if (o.json) {
          io.stdout.write(`${JSON.stringify(a.manifestJson, null, 2)}\n`);
          return;
        }
        const flags = Object.entries(tf.flagCounts)
          .map(([f, n]) => `${f} ${n}`)
          .join(", ");
        io.stdout.write(
          [
            `trader frame: ${tf.frame.height} rows × ${tf.features.length} features (${tf.filter.droppedRows} rows of ${tf.filter.incompleteDays} incomplete symbol-days dropped)`,
            `flags: ${flags}`,
            `inputs absent from the source (source coverage 0 %): ${
              a.quality.sourceCoverage
                .filter((c) => c.present === 0)
                .map((c) => c.column)
                .join(", ") || "none"
            }`,
            `leakage check: ${a.quality.leakage.cuts} prefix-truncation cuts, ${a.quality.leakage.valuesCompared} values compared, ${a.quality.leakage.violations.length} changed`,
            `frame:    ${a.frame}`,
            `manifest: ${a.manifest}`,
            `report:   ${a.reportMd}`,
            `html:     ${a.reportHtml}`,
            "",
          ].join("\n"),
        );
      },
    );

  trader
    .command("splits")
    .description(
      "write a split manifest for a date range (fit / tune / validation_locked, purge, embargo, walk-forward folds)",
    )
    .requiredOption("--start <time>", "range start")
    .requiredOption("--end <time>", "range end, exclusive")
    .option("--ratios <list>", "fit,tune,validation_locked shares", "0.7,0.15,0.15")
    .option("--purge-minutes <n>", "purge gap before each later split", "0")
    .option("--embargo-minutes <n>", "embargo after each split boundary", "0")
    .option("--folds <k>", "walk-forward folds over fit and tune", "0")
    .requiredOption("--out <file>", "manifest file to write")
    .action(
      (o: {
        start: string;
        end: string;
        ratios: string;
        purgeMinutes: string;
        embargoMinutes: string;
        folds: string;
        out: string;
      }) => {
        const ratios = list(o.ratios).map(Number);
        if (ratios.length !== 3 || ratios.some((x) => !Number.isFinite(x)))
          throw new ConfigError(`--ratios: expected three numbers, got '${o.ratios}'`);
        const m = generateSplitManifest({
          start: time(o.start, "--start"),
          end: time(o.end, "--end"),
          ratios: ratios as [number, number, number],
          purgeMinutes: o.purgeMinutes === "0" ? 0 : parseCount(o.purgeMinutes),
          embargoMinutes: o.embargoMinutes === "0" ? 0 : parseCount(o.embargoMinutes),
          folds: o.folds === "0" ? 0 : parseCount(o.folds),
        });
        mkdirSync(dirname(resolve(o.out)), { recursive: true });
        writeFileSync(o.out, `${JSON.stringify(splitManifestJson(m), null, 2)}\n`);
        const fmt = (x?: readonly [number, number]) => (x ? `${usToIso(x[0])} → ${usToIso(x[1])}` : "—");
        io.stdout.write(
          `fit ${fmt(m.splits.fit)}\ntune ${fmt(m.splits.tune)}\nvalidation_locked ${fmt(m.splits.validation_locked)}\n${m.walkForward.length} folds; manifest: ${resolve(o.out)}\n`,
        );
      },
    );
}
