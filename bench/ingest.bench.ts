/**
 * Ingest benchmark on the largest real capture (usdm/btcusdt_20240808.gz, 93,954 lines), beside its
 * peer: the same file read with Node's zlib + readline + JSON.parse only (the floor any JS ingest pays),
 * and a nodejs-polars NDJSON read of the same messages. Reports rows/s, ratio to the peers, peak RSS.
 *
 * Run: npm run bench:ingest   (numbers go into the closing note; this is not a test)
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { gunzipSync } from "node:zlib";
import pl from "nodejs-polars";
import { ingestFiles } from "../src/ingest/ingest.js";
import { readLines } from "../src/ingest/lines.js";
import { totals } from "../src/ingest/report.js";

const FILE = resolve(
  import.meta.dirname,
  "..",
  "..",
  "shared",
  "data",
  "hftbacktest",
  "examples",
  "usdm",
  "btcusdt_20240808.gz",
);
const REPEAT = 5;

let peakRss = 0;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 5);

async function time(
  label: string,
  fn: () => Promise<number>,
): Promise<{ label: string; best: number; rows: number }> {
  let best = Number.POSITIVE_INFINITY;
  let rows = 0;
  for (let i = 0; i < REPEAT; i++) {
    const t = performance.now();
    rows = await fn();
    best = Math.min(best, (performance.now() - t) / 1000);
  }
  return { label, best, rows };
}

const tmp = mkdtempSync(join(tmpdir(), "pointline-bench-"));
try {
  const pointline = await time("pointline ingest (2 passes, book, parquet commit)", async () => {
    const lake = join(tmp, `lake-${Math.random()}`);
    const [m] = await ingestFiles("binance-capture", [FILE], { lake });
    return m ? totals(m.report).written : 0;
  });
  const floor = await time("peer: zlib+readline+JSON.parse only", async () => {
    let n = 0;
    await readLines(FILE, (l) => {
      const sp = l.indexOf(" ");
      JSON.parse(l.slice(sp + 1));
      n++;
    });
    return n;
  });
  const ndjson = join(tmp, "msgs.ndjson");
  writeFileSync(
    ndjson,
    gunzipSync(await import("node:fs").then((f) => f.readFileSync(FILE)))
      .toString("utf8")
      .split("\n")
      .filter((l) => l.length > 0)
      .map((l) => l.slice(l.indexOf(" ") + 1))
      .join("\n"),
  );
  const polars = await time("peer: nodejs-polars scanJson (NDJSON, pre-decompressed)", async () => {
    return pl.scanJson(ndjson).collectSync().height;
  });
  clearInterval(sampler);
  const rate = (r: { best: number; rows: number }): number => r.rows / r.best;
  for (const r of [pointline, floor, polars]) {
    console.log(
      `${r.label.padEnd(58)} ${r.best.toFixed(3)} s  ${Math.round(rate(r)).toLocaleString("en-US")} rows/s`,
    );
  }
  console.log(`ratio pointline / parse-only floor: ${(rate(pointline) / rate(floor)).toFixed(2)}`);
  console.log(`ratio pointline / polars NDJSON read: ${(rate(pointline) / rate(polars)).toFixed(2)}`);
  console.log(`peak RSS: ${(peakRss / 1e6).toFixed(0)} MB`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
