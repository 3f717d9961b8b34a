/**
 * `pointline select` and `pointline splits` (issue 13, items 4–6) on a labelled frame (Parquet with
 * `available_at_us` and target columns, e.g. from `features derivatives-samples` or `labels`):
 *
 * - `select --in FRAME --target COL [--threshold 0.95] [--top N] [--horizon-minutes M] [--exclude A,B]
 *   [--trees N] [--repeats N] [--rounds N] [--seed S] --out DIR` writes ranking.csv, ranking.json,
 *   selected.txt and selection.html (selection/report.ts).
 * - `splits --in FRAME [--scheme chrono|walk-forward|purged-kfold] [--target COL | --horizon-minutes M]
 *   [--ratios 0.6,0.2,0.2] [--folds K] [--embargo-minutes M] --out FILE` writes a split manifest in the
 *   trader format (trader/splits.ts) from the frame's `available_at_us`.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import type { Command } from "commander";
import pl from "nodejs-polars";
import { ConfigError } from "../core/errors.js";
import { US_PER_MINUTE, usToIso } from "../core/time.js";
import { writeSelectionArtifacts } from "../selection/report.js";
import { selectFeatures, targetHorizonMs } from "../selection/select.js";
import {
  chronoManifest,
  chronoSplit,
  type LabelWindows,
  purgedKFold,
  purgedKFoldManifest,
  walkForwardFolds,
} from "../selection/splits.js";
import { splitManifestJson } from "../trader/splits.js";
import { parseCount } from "./args.js";
import type { CliIo } from "./main.js";

function readFrame(file: string): pl.DataFrame {
  try {
    return pl.readParquet(file);
  } catch (e) {
    throw new ConfigError(`--in ${file}: cannot read Parquet: ${(e as Error).message}`);
  }
}

function ratiosArg(text: string): [number, number, number] {
  const r = text.split(",").map((s) => Number(s.trim()));
  if (r.length !== 3 || r.some((x) => !Number.isFinite(x)))
    throw new ConfigError(`--ratios: expected three numbers, got '${text}'`);
  return r as [number, number, number];
}

function numberArg(text: string, flag: string, lo: number, hi: number): number {
  const v = Number(text);
  if (!(Number.isFinite(v) && v >= lo && v <= hi))
    throw new ConfigError(`${flag}: expected a number in [${lo}, ${hi}], got '${text}'`);
  return v;
}

function horizonMs(o: { target?: string; horizonMinutes?: string }): number {
  if (o.horizonMinutes !== undefined) return parseCount(o.horizonMinutes) * 60_000;
  if (o.target !== undefined) return targetHorizonMs(o.target);
  throw new ConfigError("splits: give --target (its horizon is taken from its name) or --horizon-minutes");
}

/** Registers `select` and `splits`. */
export function registerSelectCommands(program: Command, io: CliIo): void {
  program
    .command("select")
    .description(
      "rank a labelled frame's features out of sample (correlation filter, RF impurity, permutation, TreeSHAP) and write the selected list and an HTML report",
    )
    .requiredOption("--in <file>", "labelled frame (Parquet with available_at_us and the target)")
    .requiredOption("--target <column>", "target column (regression; e.g. target_return_4h)")
    .option(
      "--threshold <rho>",
      "correlation filter: drop the later feature of a pair with |ρ| above",
      "0.95",
    )
    .option("--top <n>", "length of the selected list", "20")
    .option("--horizon-minutes <m>", "label horizon for purging (default: from the target's name)")
    .option("--exclude <list>", "comma-separated columns never used as features")
    .option("--trees <n>", "random-forest trees", "100")
    .option("--repeats <n>", "permutations per feature", "5")
    .option("--rounds <n>", "XGBoost boosting rounds", "200")
    .option("--seed <n>", "seed of the forest, permutations and XGBoost", "0")
    .requiredOption("--out <dir>", "output directory")
    .action(
      async (o: {
        in: string;
        target: string;
        threshold: string;
        top: string;
        horizonMinutes?: string;
        exclude?: string;
        trees: string;
        repeats: string;
        rounds: string;
        seed: string;
        out: string;
      }) => {
        const t0 = performance.now();
        const frame = readFrame(o.in);
        const r = selectFeatures(frame, {
          target: o.target,
          threshold: numberArg(o.threshold, "--threshold", 0, 1),
          top: parseCount(o.top),
          ...(o.horizonMinutes !== undefined ? { horizonMs: parseCount(o.horizonMinutes) * 60_000 } : {}),
          exclude: o.exclude ? o.exclude.split(",").map((s) => s.trim()) : [],
          trees: parseCount(o.trees),
          repeats: parseCount(o.repeats),
          xgbRounds: parseCount(o.rounds),
          seed: numberArg(o.seed, "--seed", 0, 2 ** 31 - 1),
        });
        const p = await writeSelectionArtifacts(r, o.out, resolve(o.in));
        const scored = r.ranking.filter((f) => f.rank !== null).length;
        const byStatus = (s: string) => r.ranking.filter((f) => f.status === s).length;
        io.stdout.write(
          `${r.ranking.length} candidates: ${scored} scored, ${byStatus("correlated")} correlated, ${byStatus("null")} mostly null, ${byStatus("constant")} constant\n` +
            `rows: ${r.rows.frame} = ${r.rows.nullTarget} without target + ${r.rows.purged} purged + ${r.rows.droppedNullFeatures} with a null feature + ${r.rows.train} train + ${r.rows.validation} validation + ${r.rows.test} test (unused)\n` +
            `validation MSE: forest ${r.validationMse.forest.toPrecision(4)}, xgboost ${r.validationMse.xgboost.toPrecision(4)}, training mean ${r.validationMse.trainMean.toPrecision(4)}\n` +
            `top ${r.selected.length}: ${r.selected.join(", ")}\n` +
            `${((performance.now() - t0) / 1000).toFixed(1)} s; ${p.csv}, ${p.json}, ${p.selected}, ${p.html}\n`,
        );
      },
    );

  program
    .command("splits")
    .description(
      "write a leak-free split manifest for a labelled frame: chronological train/validation/test, walk-forward or purged k-fold with embargo",
    )
    .requiredOption("--in <file>", "frame (Parquet with available_at_us)")
    .option("--scheme <scheme>", "chrono | walk-forward | purged-kfold", "chrono")
    .option("--target <column>", "target whose horizon sets the purge (e.g. target_return_24h)")
    .option("--horizon-minutes <m>", "label horizon in minutes (instead of --target)")
    .option("--ratios <list>", "chrono: train,validation,test shares", "0.6,0.2,0.2")
    .option("--folds <k>", "walk-forward / purged k-fold folds", "5")
    .option("--embargo-minutes <m>", "purged k-fold: embargo after each test block's last label end", "0")
    .requiredOption("--out <file>", "manifest file to write")
    .action(
      (o: {
        in: string;
        scheme: string;
        target?: string;
        horizonMinutes?: string;
        ratios: string;
        folds: string;
        embargoMinutes: string;
        out: string;
      }) => {
        const frame = readFrame(o.in);
        if (!frame.columns.includes("available_at_us"))
          throw new ConfigError(`--in ${o.in}: the frame has no column available_at_us`);
        const times = Float64Array.from(
          frame.getColumn("available_at_us").cast(pl.Float64).toArray() as number[],
        );
        const w: LabelWindows = { timesUs: times, horizonUs: horizonMs(o) * 1000 };
        const folds = parseCount(o.folds);
        const embargoUs = (o.embargoMinutes === "0" ? 0 : parseCount(o.embargoMinutes)) * US_PER_MINUTE;
        let m: ReturnType<typeof chronoManifest>;
        let summary: string;
        if (o.scheme === "chrono") {
          const s = chronoSplit(w, ratiosArg(o.ratios));
          m = chronoManifest(w, s);
          summary = `train ${s.train.length}, validation ${s.validation.length}, test ${s.test.length}, purged ${s.purged.length} rows`;
        } else if (o.scheme === "walk-forward") {
          const f = walkForwardFolds(w, folds);
          m = chronoManifest(w, chronoSplit(w, ratiosArg(o.ratios)), f);
          summary = f
            .map(
              (x) =>
                `fold ${x.fold}: train ${x.train.length}, test ${x.test.length}, purged ${x.purged.length}`,
            )
            .join("\n");
        } else if (o.scheme === "purged-kfold") {
          const f = purgedKFold(w, folds, embargoUs);
          m = purgedKFoldManifest(w, f, embargoUs);
          summary = f
            .map(
              (x) =>
                `fold ${x.fold}: train ${x.train.length}, test ${x.test.length}, purged ${x.purged.length}, embargoed ${x.embargoed.length}`,
            )
            .join("\n");
        } else
          throw new ConfigError(`--scheme: expected chrono, walk-forward or purged-kfold, got '${o.scheme}'`);
        mkdirSync(dirname(resolve(o.out)), { recursive: true });
        writeFileSync(o.out, `${JSON.stringify(splitManifestJson(m), null, 2)}\n`);
        io.stdout.write(
          `${frame.height} rows ${usToIso(times[0] ?? 0)} → ${usToIso(times[times.length - 1] ?? 0)}, horizon ${w.horizonUs / US_PER_MINUTE} min (${o.scheme})\n${summary}\nmanifest: ${resolve(o.out)}\n`,
        );
      },
    );
}
