/**
 * No double counting (issue 10, item 2), through the CLI on slices of the real 2023-04-04 USDⓈ-M
 * capture (../shared/data, hftbacktest), written to a temp dir:
 * - the same capture as raw text and as .gz is one file (its identity is the decoded content): the
 *   second ingest replaces the first, rows are not doubled;
 * - two different files of one stream whose lines overlap: the overlap is deduplicated by the vendor's
 *   identity (trade id `t`, bookTicker update id `u`; mark-price lines, which have none, by the whole
 *   row), counted in the report, and the lake holds each row once;
 * - the same trade id with another price is refused (rejected and quarantined), never both in the lake;
 * - a lake written with the former identity (sha256 of the raw gzip bytes) is not doubled by a
 *   re-ingest of the same file: the old manifest is superseded and removed.
 * Expected counts come from the slices' text (messages per stream); lake counts from `query`.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { gunzipSync, gzipSync } from "node:zlib";
import { binanceCaptureAdapter } from "../../src/ingest/binance/capture.js";
import { ingestFiles } from "../../src/ingest/ingest.js";
import { totals } from "../../src/ingest/report.js";
import { DecimalScanner, FileIngest } from "../../src/ingest/session.js";
import { loadManifests } from "../../src/lake/catalog.js";
import { sha256File } from "../../src/lake/hash.js";
import { fileIdHex, fileManifestPath, idFromSha256 } from "../../src/lake/layout.js";
import type { FileManifest } from "../../src/lake/manifest.js";
import { SymbolRegistry } from "../../src/lake/registry.js";
import { query } from "../../src/query/query.js";
import { HFT, tempDir } from "../helpers/data.js";
import { runCli } from "../helpers/run-cli.js";

const CAPTURE = join(HFT, "usdm", "btcusdt_20230404.dat.gz");
const LINES = gunzipSync(readFileSync(CAPTURE)).toString("utf8").split("\n").slice(0, 3000);
const WHERE = { exchange: "binance-futures", symbol: "BTCUSDT", start: 0, end: "2100-01-01T00:00:00Z" };

/** Lines [from, to] (1-based, inclusive) of the capture, as a file's text. */
const slice = (from: number, to: number): string => `${LINES.slice(from - 1, to).join("\n")}\n`;

/** Messages per stream kind in lines [from, to] (1-based, inclusive). */
function streamCounts(from: number, to: number): { trades: number; quotes: number; ticker: number } {
  const c = { trades: 0, quotes: 0, ticker: 0 };
  for (const l of LINES.slice(from - 1, to)) {
    if (l.includes('@trade"')) c.trades++;
    else if (l.includes('@bookTicker"')) c.quotes++;
    else if (l.includes('@markPrice@1s"')) c.ticker++;
  }
  return c;
}

/**
 * Rows of the lake per table (through `query`, over all time). Book rows are counted only in a lake
 * whose manifests list book parts: `query` cannot build an empty book_snapshot_25 frame (nodejs-polars
 * rejects an empty List(Int64) series), a bug outside ingest.
 */
async function lakeRows(
  lake: string,
): Promise<{ trades: number; quotes: number; ticker: number; book: number }> {
  const req = { lake, ...WHERE };
  const hasBook = (await loadManifests(lake)).some((m) =>
    m.parts.some((p) => p.table === "book_snapshot_25"),
  );
  return {
    trades: (await query.trades(req)).length,
    quotes: (await query.quotes(req)).length,
    ticker: (await query.derivativeTicker(req)).length,
    book: hasBook ? (await query.bookSnapshot25(req)).length : 0,
  };
}

function manifestFiles(lake: string): string[] {
  try {
    return readdirSync(join(lake, "_meta", "files")).sort();
  } catch {
    return [];
  }
}

/** The accounting identity of a report, recomputed: lines = written + rejected + deduplicated + without row. */
function assertBalanced(m: FileManifest): void {
  const t = totals(m.report);
  assert.equal(m.report.lines_read, t.written + t.rejected + t.deduplicated + t.withoutRow, m.source);
}

describe("file identity and deduplication (real capture slices, CLI)", () => {
  let dir: string;
  let cleanup: () => void;
  before(() => {
    ({ dir, cleanup } = tempDir("pointline-identity-"));
  });
  after(() => cleanup());

  it("the same capture as raw text and as .gz is one file: re-ingest replaces, rows are not doubled", async () => {
    const lake = join(dir, "lake-gz");
    const raw = join(dir, "btcusdt_20230404_head.txt");
    const gz = join(dir, "btcusdt_20230404_head.txt.gz");
    writeFileSync(raw, slice(1, 2000));
    writeFileSync(gz, gzipSync(readFileSync(raw)));
    const expected = streamCounts(1, 2000);

    const first = await runCli(["ingest", "binance-capture", raw, "--lake", lake]);
    assert.equal(first.status, 0, first.stderr);
    const before = await lakeRows(lake);
    assert.deepEqual(
      { trades: before.trades, quotes: before.quotes, ticker: before.ticker },
      expected,
      "rows after the raw file = its messages",
    );
    assert.ok(before.book > 0);

    const second = await runCli(["ingest", "binance-capture", gz, "--lake", lake]);
    assert.equal(second.status, 0, second.stderr);
    assert.ok(second.stderr.includes(gz), second.stderr);
    assert.ok(second.stderr.includes(`same content as ${raw}`), second.stderr);
    assert.match(second.stderr, /its rows were replaced, not added/);
    assert.deepEqual(await lakeRows(lake), before, "rows after the .gz copy = rows before (not doubled)");

    const [m] = await loadManifests(lake);
    assert.equal(manifestFiles(lake).length, 1);
    assert.ok(m);
    assert.equal(m.source, gz);
    const content = (await sha256File(raw)).sha256;
    assert.equal(m.content_sha256, content, "identity = sha256 of the decoded content");
    assert.equal(m.file_id, idFromSha256(content));
    assert.equal(m.sha256, (await sha256File(gz)).sha256, "raw bytes hash kept as well");
    assert.equal(m.report.replaced_previous, true);
    assert.deepEqual(
      m.report.replaced?.map((r) => [r.file_id, r.source]),
      [[m.file_id, raw]],
    );
    assertBalanced(m);
  });

  it("two files of one stream with overlapping lines: the overlap is deduplicated, counted, and in the lake once", async () => {
    const lake = join(dir, "lake-overlap");
    const a = join(dir, "part_a.txt"); // lines 1..2000 (with the depth snapshot, line 17)
    const b = join(dir, "part_b.txt"); // lines 1001..3000: 1000 lines overlap a
    writeFileSync(a, slice(1, 2000));
    writeFileSync(b, slice(1001, 3000));
    assert.deepEqual(await lakeRows(lake), { trades: 0, quotes: 0, ticker: 0, book: 0 });

    const res = await runCli(["ingest", "binance-capture", a, b, "--lake", lake]);
    assert.equal(res.status, 0, res.stderr);
    assert.ok(res.stderr.includes(b), res.stderr);
    assert.match(res.stderr, /deduplicated: \d+ rows already in the lake from .*part_a\.txt/);
    assert.match(res.stderr, /2 of 2 files committed/);

    const union = streamCounts(1, 3000);
    const overlap = streamCounts(1001, 2000);
    const rows = await lakeRows(lake);
    assert.deepEqual({ trades: rows.trades, quotes: rows.quotes, ticker: rows.ticker }, union);
    const trades = await query.trades({ lake, ...WHERE });
    const ids = trades.columns.trade_id as (string | null)[];
    assert.equal(new Set(ids).size, ids.length, "every trade id once");

    const ms = await loadManifests(lake);
    const mb = ms.find((m) => m.source === b);
    assert.ok(mb);
    assert.equal(mb.report.tables.trades?.rows_deduplicated, overlap.trades);
    assert.equal(mb.report.tables.quotes?.rows_deduplicated, overlap.quotes);
    assert.equal(mb.report.tables.derivative_ticker?.rows_deduplicated, overlap.ticker);
    const ma = ms.find((m) => m.source === a)!;
    assert.deepEqual(mb.report.deduplicated_against, [
      { file_id: ma.file_id, source: a, rows: overlap.trades + overlap.quotes + overlap.ticker },
    ]);
    assert.equal(totals(mb.report).rejected, 0);
    for (const m of ms) assertBalanced(m);

    // Idempotent: ingesting b again changes nothing.
    const again = await runCli(["ingest", "binance-capture", b, "--lake", lake, "--quiet"]);
    assert.equal(again.status, 0, again.stderr);
    assert.deepEqual(await lakeRows(lake), rows);
  });

  it("the same trade id with another price is refused (quarantined with both files named), never both", async () => {
    const lake = join(dir, "lake-conflict");
    const a = join(dir, "conflict_a.txt");
    const c = join(dir, "conflict_c.txt"); // lines 1501..2500, one trade of the overlap altered
    writeFileSync(a, slice(1, 2000));
    await ingestFiles("binance-capture", [a], { lake });
    const before = await lakeRows(lake);

    const cLines = LINES.slice(1500, 2500);
    const k = cLines.findIndex((l) => l.includes('@trade"'));
    const original = cLines[k]!;
    const price = /"p":"([0-9.]+)"/.exec(original)![1]!;
    const altered = `${(Number(price) + 0.3).toFixed(2)}`;
    cLines[k] = original.replace(`"p":"${price}"`, `"p":"${altered}"`);
    const tradeId = /"t":(\d+)/.exec(original)![1]!;
    writeFileSync(c, `${cLines.join("\n")}\n`);
    const line = k + 1;

    const res = await runCli(["ingest", "binance-capture", c, "--lake", lake, "--strict"]);
    assert.equal(res.status, 2, res.stderr);
    assert.ok(res.stderr.includes(c), res.stderr);
    // The summary gives the first rejected line in full (no masked values) and the quarantine file.
    assert.ok(
      res.stderr.includes(`first rejected: line ${line}, field 'px_int' (trades): trade_id ${tradeId}`),
      res.stderr,
    );
    assert.ok(
      res.stderr.includes(`this line has ${altered.replace(/0+$/, "").replace(/\.$/, "")}`),
      res.stderr,
    );
    const ms = await loadManifests(lake);
    const mc = ms.find((m) => m.source === c)!;
    const qFile = mc.report.quarantine_file!;
    assert.ok(res.stderr.includes(`quarantine: ${qFile}`), res.stderr);
    const [rec] = readFileSync(qFile, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { file: string; line: number; field: string; reason: string });
    assert.equal(rec?.file, c);
    assert.equal(rec?.line, line);
    assert.ok(rec?.reason.includes(a), rec?.reason);

    const after = await lakeRows(lake);
    const added = streamCounts(2001, 2500);
    assert.equal(after.trades, before.trades + added.trades, "the conflicting trade is not added");
    assert.equal(after.quotes, before.quotes + added.quotes);
    assert.equal(mc.report.tables.trades?.rows_rejected, 1);
    assert.equal(mc.report.tables.trades?.rows_deduplicated, streamCounts(1501, 2000).trades - 1);
    assertBalanced(mc);
    const trades = await query.trades({ lake, ...WHERE });
    const ids = trades.columns.trade_id as (string | null)[];
    const at = ids.indexOf(tradeId);
    assert.equal(ids.lastIndexOf(tradeId), at, "the trade once");
    assert.equal(
      (trades.columns.px_int as Float64Array)[at],
      Math.round(Number(price) * 10),
      "the lake's price is kept (increment 0.1)",
    );
  });

  it("a lake written with the raw-bytes identity: re-ingesting the same .gz supersedes the old manifest, not doubled", async () => {
    const lake = join(dir, "lake-legacy");
    const gz = join(dir, "legacy_head.txt.gz");
    writeFileSync(gz, gzipSync(Buffer.from(slice(1, 1500))));
    // An ingest as the former code did it: file_id from the sha256 of the raw (gzip) bytes, and a
    // manifest without content_sha256.
    const { sha256, bytes } = await sha256File(gz);
    const legacyId = idFromSha256(sha256);
    const registry = await SymbolRegistry.open(lake);
    const scanner = new DecimalScanner();
    await binanceCaptureAdapter.scan(gz, scanner, {});
    const fi = new FileIngest(lake, gz, legacyId, sha256, bytes, "binance-capture", registry, scanner);
    await binanceCaptureAdapter.ingest(gz, fi, {});
    await fi.commit();
    const path = fileManifestPath(lake, legacyId);
    const legacy = JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown> & {
      report: Record<string, unknown>;
    };
    delete legacy["content_sha256"];
    delete legacy["content_bytes"];
    delete legacy.report["content_sha256"];
    writeFileSync(path, JSON.stringify(legacy));
    const before = await lakeRows(lake);
    assert.deepEqual(
      { trades: before.trades, quotes: before.quotes, ticker: before.ticker },
      streamCounts(1, 1500),
    );

    const res = await runCli(["ingest", "binance-capture", gz, "--lake", lake]);
    assert.equal(res.status, 0, res.stderr);
    assert.ok(res.stderr.includes(gz), res.stderr);
    assert.match(res.stderr, new RegExp(`the earlier ingest of this file \\(file_id ${fileIdHex(legacyId)}`));
    assert.deepEqual(await lakeRows(lake), before, "not doubled");
    const ms = await loadManifests(lake);
    assert.equal(ms.length, 1);
    assert.notEqual(ms[0]!.file_id, legacyId);
    assert.deepEqual(manifestFiles(lake), [`${ms[0]!.file_id.toString(16).padStart(12, "0")}.json`]);
    const parts = readdirSync(join(lake, "trades"), { recursive: true }) as string[];
    assert.ok(!parts.some((p) => p.includes(legacyId.toString(16).padStart(12, "0"))), "old parts deleted");
  });
});
