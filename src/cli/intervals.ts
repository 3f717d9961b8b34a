/**
 * `pointline intervals build`: multi-instrument interval frames (issue 14; src/features/intervals/frames.ts).
 * Writes `features_<DATE>_<INTERVAL>s.parquet` + `.manifest.json` per UTC date and interval and prints, per
 * frame, the rows, the symbols (front month resolved), the columns per instrument with their null ratio, and
 * the gates. Output goes through the CLI's `io`.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { type Command, InvalidArgumentError } from "commander";
import { SPINE_COLUMNS } from "../engine/driver.js";
import {
  buildIntervalFrames,
  type IntervalFrame,
  parseIntervalConfig,
  writeIntervalFrames,
} from "../features/intervals/frames.js";
import { checkTimeRange, parseJsonText, parseTimeArg, requireLake, type TimeArg } from "./args.js";
import type { CliIo } from "./main.js";

const SPINE: ReadonlySet<string> = new Set(SPINE_COLUMNS);

/** `30,60` → [30, 60]. @throws InvalidArgumentError. */
function parseIntervals(text: string): number[] {
  const out = text.split(",").map((s) => Number(s.trim()));
  if (out.length === 0 || out.some((x) => !Number.isInteger(x) || x <= 0))
    throw new InvalidArgumentError("expected comma-separated positive integer seconds, e.g. 30,60");
  return out;
}

/** The printed summary of one frame: columns per instrument with null ratios, then the gates. */
export function formatIntervalFrame(f: IntervalFrame, path: string): string {
  const lines = [
    `${path}: ${f.rows.n} rows × ${f.columns.length} columns; ${Object.entries(f.symbols)
      .map(([a, s]) => `${a}=${s}`)
      .join(", ")}`,
  ];
  const byAlias = new Map<string, string[]>();
  for (const c of f.columns) {
    const m = /_(\d+s)_([a-z][a-z0-9]*)$/.exec(c.name);
    if (m === null) continue;
    const v = f.rows.values.get(c.name)!;
    let nul = 0;
    for (let i = 0; i < f.rows.n; i++) if (Number.isNaN(v[i]!)) nul++;
    const list = byAlias.get(m[2]!) ?? [];
    list.push(`${c.name} ${f.rows.n === 0 ? "-" : `${((100 * nul) / f.rows.n).toFixed(1)}%`}`);
    byAlias.set(m[2]!, list);
  }
  for (const [alias, cols] of byAlias)
    lines.push(`  ${alias}: ${cols.length} columns (null %): ${cols.join(", ")}`);
  const other = f.columns
    .filter((c) => !/_(\d+s)_([a-z][a-z0-9]*)$/.test(c.name) && !SPINE.has(c.name))
    .map((c) => {
      const v = f.rows.values.get(c.name)!;
      let nul = 0;
      for (let i = 0; i < f.rows.n; i++) if (Number.isNaN(v[i]!)) nul++;
      return `${c.name} ${f.rows.n === 0 ? "-" : `${((100 * nul) / f.rows.n).toFixed(1)}%`}`;
    });
  if (other.length > 0) lines.push(`  cross-asset and targets (null %): ${other.join(", ")}`);
  for (const g of f.gates) lines.push(`  gate ${g.name}: ${g.passed ? "PASS" : "FAIL"} — ${g.reason}`);
  return `${lines.join("\n")}\n`;
}

export function registerIntervalCommands(program: Command, io: CliIo): void {
  const intervals = program
    .command("intervals")
    .description("multi-instrument interval frames [feature]_[interval]_[instrument] (issue #14)");
  intervals
    .command("build")
    .description(
      "build features_<DATE>_<INTERVAL>s.parquet per UTC date and interval, with manifests and PIT gates",
    )
    .requiredOption("--lake <dir>", "lake root")
    .requiredOption(
      "--config <file>",
      "JSON config: instruments (alias, exchange, symbol or root, source, …)",
    )
    .requiredOption("--intervals <list>", "interval lengths in seconds, e.g. 30,60", parseIntervals)
    .requiredOption("--start <time>", "range start (ISO-8601 or µs)", parseTimeArg)
    .requiredOption("--end <time>", "range end, exclusive", parseTimeArg)
    .requiredOption("--out <dir>", "output directory")
    .option("--no-gates", "skip the PIT gates (lookahead, reproducibility, partition safety)")
    .action(
      async (o: {
        lake: string;
        config: string;
        intervals: number[];
        start: TimeArg;
        end: TimeArg;
        out: string;
        gates: boolean;
      }) => {
        checkTimeRange(o.start, o.end);
        const file = resolve(o.config);
        const config = parseIntervalConfig(parseJsonText(readFileSync(file, "utf8"), file));
        const frames = await buildIntervalFrames({
          lake: requireLake(o.lake),
          config,
          intervalsS: o.intervals,
          startUs: o.start.us,
          endUs: o.end.us,
          gates: o.gates,
        });
        const paths = writeIntervalFrames(frames, config, resolve(o.out));
        frames.forEach((f, k) => {
          io.stdout.write(formatIntervalFrame(f, paths[k]!));
        });
        if (frames.some((f) => f.gates.some((g) => g.critical && !g.passed))) io.setExitCode(1);
      },
    );
}
