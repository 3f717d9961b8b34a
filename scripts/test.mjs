#!/usr/bin/env node
/**
 * Runs the test suite: every `test/<dir>/<name>.test.ts` under node:test (tsx loader, two files at a
 * time on this 2-core machine), the longest files first so both workers finish together (longest-
 * processing-time-first scheduling: a long file started last would leave one core idle at the end).
 * Durations come from `test/durations.json` (seconds per file, measured one file at a time); files not
 * listed there run first. Extra arguments are passed to `node --test` (e.g. `--test-name-pattern X`).
 *
 *   node scripts/test.mjs             # the suite (what `npm run test:unit` runs)
 *   node scripts/test.mjs --measure   # time every file alone and rewrite test/durations.json
 */
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";

const root = join(import.meta.dirname, "..");
const testDir = join(root, "test");
const durationsPath = join(testDir, "durations.json");

const files = readdirSync(testDir)
  .filter((d) => statSync(join(testDir, d)).isDirectory())
  .flatMap((d) =>
    readdirSync(join(testDir, d))
      .filter((f) => f.endsWith(".test.ts"))
      .map((f) => `test/${d}/${f}`),
  )
  .sort();

/** @returns {Record<string, number>} */
function durations() {
  try {
    return JSON.parse(readFileSync(durationsPath, "utf8"));
  } catch {
    return {};
  }
}

const nodeTest = ["--import", "tsx", "--test"];
const args = process.argv.slice(2);

if (args[0] === "--measure") {
  /** @type {Record<string, number>} */
  const out = {};
  for (const f of files) {
    const t = performance.now();
    const r = spawnSync(process.execPath, [...nodeTest, "--test-reporter=dot", f], {
      cwd: root,
      stdio: "ignore",
    });
    out[f] = Math.round((performance.now() - t) / 100) / 10;
    process.stderr.write(`${out[f].toFixed(1).padStart(6)} s ${f}${r.status === 0 ? "" : " (failed)"}\n`);
  }
  writeFileSync(durationsPath, `${JSON.stringify(out, null, 2)}\n`);
  process.stderr.write(`wrote ${relative(root, durationsPath)}\n`);
} else {
  const d = durations();
  const order = [...files].sort(
    (a, b) => (d[b] ?? Number.POSITIVE_INFINITY) - (d[a] ?? Number.POSITIVE_INFINITY) || a.localeCompare(b),
  );
  const r = spawnSync(
    process.execPath,
    [...nodeTest, "--test-reporter=spec", "--test-concurrency=2", ...args, ...order],
    { cwd: root, stdio: "inherit" },
  );
  process.exitCode = r.status ?? 1;
}
