/**
 * Decode floor of the feature benchmark (issue #3's speed target): wall time to only decode, with
 * nodejs-polars, the Parquet parts a 1 s clock run of the default families reads (trades,
 * book_snapshot_25, derivative_ticker; the engine's columns), `--concurrency` parts at a time on Polars'
 * thread pool (`collect()`), with no conversion to typed arrays and no feature computation. Any engine
 * reading this lake pays at least this; compare it with a third of the Polars peer's wall time.
 *
 * Run after `npm run bench:features` has generated its lake:
 *   node --import tsx bench/features/decode-floor.ts [--lake DIR] [--concurrency 4] [--repeat 3]
 */
import { readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import pl from "nodejs-polars";
import { loadManifests } from "../../src/lake/catalog.js";
import { type TableName, tableColumns } from "../../src/schema/tables.js";

const arg = (name: string, def: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : def;
};
const dataDir = resolve(import.meta.dirname, "..", ".data");
const lake = resolve(
  arg("lake", join(dataDir, readdirSync(dataDir).find((d) => d.startsWith("lake-")) ?? "missing-lake")),
);
const concurrency = Number(arg("concurrency", "4"));
const repeat = Number(arg("repeat", "3"));
const TABLES: TableName[] = ["trades", "book_snapshot_25", "derivative_ticker"];

const manifests = await loadManifests(lake);
const jobs: { path: string; columns: string[] }[] = [];
for (const m of manifests)
  for (const p of m.parts) {
    if (!TABLES.includes(p.table as TableName)) continue;
    const columns = tableColumns(p.table as TableName)
      .filter((c) => c.dtype !== "str" && c.name !== "symbol_id" && c.name !== "ts_exch_us")
      .map((c) => c.name);
    jobs.push({ path: resolve(lake, p.path), columns });
  }

let best = Number.POSITIVE_INFINITY;
let rows = 0;
for (let r = 0; r < repeat; r++) {
  const t = performance.now();
  rows = 0;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const j = jobs[next++]!;
      const df = await pl
        .scanParquet(j.path)
        .select(...j.columns)
        .collect();
      rows += df.height;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  best = Math.min(best, (performance.now() - t) / 1000);
}
process.stdout.write(
  `decode floor: ${jobs.length} parts (${TABLES.join(", ")}), ${rows.toLocaleString("en-US")} rows, ${concurrency} concurrent collect(): best of ${repeat} ${best.toFixed(2)} s wall (lake ${lake})\n`,
);
