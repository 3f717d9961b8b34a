/**
 * Batches (issue 10, item 3) on slices of the real hftbacktest captures (../shared/data), written to a
 * temp dir:
 * - a multi-file ingest with one truncated .gz among good files: the good files are committed, the
 *   summary lists which file did what, the exit code is 1 (CLI);
 * - a file that breaks between pass 1 and pass 2 fails alone, in its write stage, leaving nothing
 *   staged and no registry version behind (API);
 * - an empty file and a file of random bytes given to `binance-capture` exit 1 with the reason and
 *   write no manifest (CLI).
 * Expected counts come from the slices' text (messages per stream); lake counts from `query`.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { gunzipSync, gzipSync } from "node:zlib";
import { IngestError } from "../../src/core/errors.js";
import { ingestBatch } from "../../src/ingest/ingest.js";
import { loadManifests } from "../../src/lake/catalog.js";
import { listSymbols } from "../../src/lake/symbols.js";
import { query } from "../../src/query/query.js";
import { HFT, tempDir } from "../helpers/data.js";
import { runCli } from "../helpers/run-cli.js";

const ALL_TIME = { start: 0, end: "2100-01-01T00:00:00Z" };

function capture(path: string, lines: number): string[] {
  return gunzipSync(readFileSync(path)).toString("utf8").split("\n").slice(0, lines);
}

function counts(lines: readonly string[]): { trades: number; quotes: number } {
  let trades = 0;
  let quotes = 0;
  for (const l of lines) {
    if (l.includes('@trade"')) trades++;
    else if (l.includes('@bookTicker"')) quotes++;
  }
  return { trades, quotes };
}

async function lakeRows(lake: string, exchange: string): Promise<{ trades: number; quotes: number }> {
  const req = { lake, exchange, symbol: "BTCUSDT", ...ALL_TIME };
  return { trades: (await query.trades(req)).length, quotes: (await query.quotes(req)).length };
}

/** Every file under `dir` (relative), [] if it does not exist. */
function filesUnder(dir: string): string[] {
  return existsSync(dir) ? (readdirSync(dir, { recursive: true }) as string[]) : [];
}

describe("ingest batches (real capture slices)", () => {
  let dir: string;
  let cleanup: () => void;
  const USDM = capture(join(HFT, "usdm", "btcusdt_20230404.dat.gz"), 2000);
  const SPOT = capture(join(HFT, "spot", "btcusdt_20230405.dat.gz"), 2000);
  let goodUsdm: string;
  let goodSpot: string;
  let truncated: string;

  before(() => {
    ({ dir, cleanup } = tempDir("pointline-batch-"));
    goodUsdm = join(dir, "usdm_btcusdt_20230404_head.txt");
    goodSpot = join(dir, "spot_btcusdt_20230405_head.txt.gz");
    truncated = join(dir, "usdm_btcusdt_20230405_cut.dat.gz");
    writeFileSync(goodUsdm, `${USDM.join("\n")}\n`);
    writeFileSync(goodSpot, gzipSync(`${SPOT.join("\n")}\n`));
    const full = readFileSync(join(HFT, "usdm", "btcusdt_20230405.dat.gz"));
    writeFileSync(truncated, full.subarray(0, Math.floor(full.length / 2))); // a gz cut in half
  });
  after(() => cleanup());

  it("one truncated .gz among good files: the good files commit, the summary lists each, exit 1", async () => {
    const lake = join(dir, "lake-batch");
    assert.deepEqual(await lakeRows(lake, "binance-futures"), { trades: 0, quotes: 0 });
    const res = await runCli(["ingest", "binance-capture", goodUsdm, truncated, goodSpot, "--lake", lake]);
    assert.equal(res.status, 1, res.stderr);
    assert.match(res.stderr, /ingest binance-capture: 2 of 3 files committed, 1 FAILED/);
    const line = (file: string): string => res.stderr.split("\n").find((l) => l.includes(`  ${file}`)) ?? "";
    assert.match(line(goodUsdm), /^ {2}committed {2}/);
    assert.match(line(goodSpot), /^ {2}committed {2}/);
    assert.match(
      line(truncated),
      /^ {2}FAILED {5}.*\(at hash\): .*truncated or corrupt gzip after \d+ complete lines/,
    );

    // The good files' rows are in the lake; nothing of the truncated one (same exchange and symbol as
    // goodUsdm, a day later).
    assert.deepEqual(await lakeRows(lake, "binance-futures"), counts(USDM));
    assert.deepEqual(await lakeRows(lake, "binance"), counts(SPOT));
    const sources = (await loadManifests(lake)).map((m) => m.source).sort();
    assert.deepEqual(sources, [goodSpot, goodUsdm].sort());
    assert.deepEqual(
      filesUnder(lake).filter((f) => f.includes(".tmp-")),
      [],
    );

    // --json: one entry per file with its status.
    const json = await runCli(["ingest", "binance-capture", truncated, goodUsdm, "--lake", lake, "--json"]);
    assert.equal(json.status, 1, json.stderr);
    const entries = JSON.parse(json.stdout) as { status: string; file: string; error?: string }[];
    assert.deepEqual(
      entries.map((e) => [e.status, e.file]),
      [
        ["committed", goodUsdm],
        ["failed", truncated],
      ],
    );
    assert.ok(entries[1]!.error?.includes(truncated));
    assert.deepEqual(await lakeRows(lake, "binance-futures"), counts(USDM), "re-ingest: not doubled");
  });

  it("a file that breaks between pass 1 and pass 2 fails alone, at its write stage", async () => {
    const lake = join(dir, "lake-write-stage");
    const victim = join(dir, "victim_spot_head.txt.gz");
    writeFileSync(victim, readFileSync(goodSpot));
    const r = await ingestBatch("binance-capture", [goodUsdm, victim], {
      lake,
      onProgress: (p) => {
        if (p.file === victim && p.stage === "write") {
          const gz = readFileSync(victim);
          writeFileSync(victim, gz.subarray(0, Math.floor(gz.length / 2)));
        }
      },
    });
    assert.deepEqual(
      r.committed.map((m) => m.source),
      [goodUsdm],
    );
    assert.equal(r.failed.length, 1);
    assert.equal(r.failed[0]!.file, victim);
    assert.equal(r.failed[0]!.stage, "write");
    assert.ok(r.failed[0]!.error instanceof IngestError);
    assert.ok(r.failed[0]!.error.message.includes(victim));
    assert.deepEqual(await lakeRows(lake, "binance-futures"), counts(USDM));
    assert.deepEqual(await lakeRows(lake, "binance"), { trades: 0, quotes: 0 });
    assert.deepEqual(
      (await listSymbols(lake)).map((s) => s.exchange),
      ["binance-futures"],
      "no registry version from the failed file",
    );
    assert.deepEqual(
      filesUnder(lake).filter((f) => f.includes(".tmp-") || f.includes("exchange=binance/")),
      [],
    );
  });

  it("an empty file and a file of random bytes to binance-capture: exit 1 with the reason, no manifest", async () => {
    const empty = join(dir, "empty_capture.txt");
    const noise = join(dir, "random_capture.bin");
    writeFileSync(empty, "");
    writeFileSync(noise, randomBytes(4096));
    const lakeE = join(dir, "lake-empty");
    const lakeR = join(dir, "lake-random");
    const [e, r] = await Promise.all([
      runCli(["ingest", "binance-capture", empty, "--lake", lakeE]),
      runCli(["ingest", "binance-capture", noise, "--lake", lakeR]),
    ]);
    assert.equal(e.status, 1, e.stderr);
    assert.ok(
      e.stderr.includes(`${empty}:1 field 'format': empty file: expected a Binance capture`),
      e.stderr,
    );
    assert.equal(r.status, 1, r.stderr);
    assert.ok(r.stderr.includes(noise), r.stderr);
    assert.match(r.stderr, /not a Binance capture: none of its \d+ lines is '<local timestamp/);
    for (const lake of [lakeE, lakeR]) {
      assert.deepEqual(await loadManifests(lake), []);
      assert.deepEqual(filesUnder(join(lake, "_meta", "files")), []);
      assert.deepEqual(await lakeRows(lake, "binance-futures"), { trades: 0, quotes: 0 });
    }
  });
});
