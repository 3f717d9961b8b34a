/**
 * The `pointline` command line, run as a child process (`node bin/pointline.js ...`) on a small
 * synthetic Binance capture. Expected values are hand-computed from the lines written here.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { tableColumns } from "../../src/schema/tables.js";
import { tempDir } from "../helpers/data.js";

const ROOT = resolve(fileURLToPath(import.meta.url), "..", "..", "..");
/** 2024-08-08T01:00:00Z in µs (1723075200 s + 3600 s). */
const T0 = 1_723_078_800_000_000;

interface RunResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

function run(args: readonly string[]): RunResult {
  try {
    const stdout = execFileSync(process.execPath, [join(ROOT, "bin", "pointline.js"), ...args], {
      cwd: ROOT,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 120_000,
    });
    return { status: 0, stdout, stderr: "" };
  } catch (e) {
    const err = e as { status?: number | null; stdout?: string; stderr?: string };
    return { status: err.status ?? -1, stdout: err.stdout ?? "", stderr: err.stderr ?? "" };
  }
}

function trade(ts: number, id: number, p: string, q: string, m: boolean): string {
  const ms = Math.floor(ts / 1000) + 3;
  return `${ts} {"stream":"btcusdt@trade","data":{"e":"trade","E":${ms},"T":${ms},"s":"BTCUSDT","t":${id},"p":"${p}","q":"${q}","X":"MARKET","m":${m}}}`;
}

function quote(ts: number, u: number, b: string, bq: string, a: string, aq: string): string {
  const ms = Math.floor(ts / 1000) + 3;
  return `${ts} {"stream":"btcusdt@bookTicker","data":{"e":"bookTicker","u":${u},"s":"BTCUSDT","b":"${b}","B":"${bq}","a":"${a}","A":"${aq}","T":${ms},"E":${ms}}}`;
}

const LINES = [
  trade(T0, 1, "100.5", "0.010", true),
  quote(T0 + 1000, 11, "100.5", "1.000", "100.6", "2.000"),
  trade(T0 + 2000, 2, "100.6", "0.020", false),
  trade(T0 + 3000, 3, "100.4", "1.5", true),
  quote(T0 + 4000, 12, "100.4", "0.500", "100.5", "0.250"),
];
// Increments by hand: prices have at most 1 significant decimal → 0.1; sizes at most 2 ("0.010",
// "0.020", "0.250") → 0.01.

describe("pointline CLI", () => {
  let dir: string;
  let cleanup: () => void;
  let lake: string;
  let capture: string;
  let ingest: RunResult;

  before(() => {
    ({ dir, cleanup } = tempDir("pointline-cli-"));
    lake = join(dir, "lake");
    capture = join(dir, "capture.txt");
    writeFileSync(capture, `${LINES.join("\n")}\n`);
    ingest = run(["ingest", "binance-capture", capture, "--lake", lake, "--json"]);
  });
  after(() => cleanup());

  it("ingest --json prints a JSON array of balanced reports", () => {
    assert.equal(ingest.status, 0, ingest.stderr);
    const reports = JSON.parse(ingest.stdout) as {
      file: string;
      lines_read: number;
      tables: Record<string, { rows_written: number; rows_rejected: number }>;
      lines_without_row: Record<string, number>;
      unrouted_rejected: number;
    }[];
    assert.ok(Array.isArray(reports));
    assert.equal(reports.length, 1);
    const r = reports[0]!;
    assert.equal(r.file, capture);
    assert.equal(r.lines_read, 5);
    let sum = r.unrouted_rejected;
    for (const c of Object.values(r.tables)) sum += c.rows_written + c.rows_rejected;
    for (const v of Object.values(r.lines_without_row)) sum += v;
    assert.equal(sum, r.lines_read, "lines_read = written + rejected + without_row");
    assert.deepEqual(r.tables["trades"], { rows_written: 3, rows_rejected: 0 });
    assert.deepEqual(r.tables["quotes"], { rows_written: 2, rows_rejected: 0 });
  });

  it("coverage --json lists one row per table with hand-counted rows", () => {
    const res = run(["coverage", "--lake", lake, "--json"]);
    assert.equal(res.status, 0, res.stderr);
    const rows = JSON.parse(res.stdout) as {
      exchange: string;
      symbol: string;
      table: string;
      rows: number;
      first_ts_local_us: number;
      last_ts_local_us: number;
      partitions: number;
    }[];
    assert.deepEqual(
      rows.map((r) => [
        r.exchange,
        r.symbol,
        r.table,
        r.rows,
        r.first_ts_local_us,
        r.last_ts_local_us,
        r.partitions,
      ]),
      [
        ["binance-futures", "BTCUSDT", "quotes", 2, T0 + 1000, T0 + 4000, 1],
        ["binance-futures", "BTCUSDT", "trades", 3, T0, T0 + 3000, 1],
      ],
    );
  });

  it("symbols --json lists the inferred registry entry", () => {
    const res = run(["symbols", "--lake", lake, "--json"]);
    assert.equal(res.status, 0, res.stderr);
    const rows = JSON.parse(res.stdout) as {
      exchange: string;
      exchange_symbol: string;
      price_increment: string;
      amount_increment: string;
      asset_type: string;
    }[];
    assert.equal(rows.length, 1);
    const e = rows[0]!;
    assert.equal(e.exchange, "binance-futures");
    assert.equal(e.exchange_symbol, "BTCUSDT");
    assert.equal(e.asset_type, "perpetual");
    assert.equal(e.price_increment, "0.1");
    assert.equal(e.amount_increment, "0.01");
  });

  it("query trades --format csv prints a header and the rows of [start, end)", () => {
    const res = run([
      "query",
      "trades",
      "--lake",
      lake,
      "--exchange",
      "binance-futures",
      "--symbol",
      "BTCUSDT",
      "--start",
      "2024-08-08T01:00:00Z",
      "--end",
      String(T0 + 3000), // the trade at exactly T0 + 3000 µs is excluded
      "--format",
      "csv",
    ]);
    assert.equal(res.status, 0, res.stderr);
    const lines = res.stdout.trim().split("\n");
    const header = lines[0]!.split(",");
    assert.deepEqual(
      header,
      tableColumns("trades").map((c) => c.name),
    );
    const rows = lines.slice(1).map((l) => {
      const cells = l.split(",");
      return Object.fromEntries(header.map((h, i) => [h, cells[i]]));
    });
    assert.equal(rows.length, 2);
    assert.deepEqual(
      rows.map((r) => [
        r["exchange"],
        r["ts_local_us"],
        r["file_line_number"],
        r["trade_id"],
        r["side"],
        r["px_int"],
        r["qty_int"],
      ]),
      [
        ["binance-futures", String(T0), "1", "1", "1", "1005", "1"],
        ["binance-futures", String(T0 + 2000), "3", "2", "0", "1006", "2"],
      ],
    );
  });

  it("an unknown ingest kind exits with code 1 and names the kind", () => {
    const res = run(["ingest", "no-such-vendor", capture, "--lake", join(dir, "lake-unknown")]);
    assert.equal(res.status, 1);
    assert.match(res.stderr, /no-such-vendor/);
  });

  it("ingest --strict exits 2 when a line is rejected (0 without --strict)", () => {
    const bad = join(dir, "bad.txt");
    writeFileSync(bad, `${[LINES[0], "this is not a capture line", LINES[2]].join("\n")}\n`);
    const strict = run([
      "ingest",
      "binance-capture",
      bad,
      "--lake",
      join(dir, "lake-strict"),
      "--strict",
      "--json",
    ]);
    assert.equal(strict.status, 2, strict.stderr);
    const [r] = JSON.parse(strict.stdout) as {
      lines_read: number;
      unrouted_rejected: number;
      tables: object;
    }[];
    assert.equal(r?.lines_read, 3);
    assert.equal(r?.unrouted_rejected, 1);
    assert.deepEqual(r?.tables, { trades: { rows_written: 2, rows_rejected: 0 } });
    const lax = run(["ingest", "binance-capture", bad, "--lake", join(dir, "lake-lax"), "--json"]);
    assert.equal(lax.status, 0, lax.stderr);
  });
});
