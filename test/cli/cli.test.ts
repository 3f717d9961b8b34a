/**
 * The `pointline` command line on a small synthetic Binance capture (expected values hand-computed from
 * the lines written here) and on the real captures. Commands run in this process (`runCli` of
 * src/cli/main.ts with captured output, the code the binary runs after its launcher); what needs a real
 * process runs `node bin/pointline.js …` as a child: the launcher and the process exit codes (0, 1 from
 * a command's error and from a usage error, 2 from `--strict`), the progress bar on a terminal, and
 * SIGTERM through `npx`.
 */
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { packageVersion } from "../../src/core/version.js";
import { buildFeatureFrame } from "../../src/features/frame.js";
import { dataCoverage } from "../../src/lake/catalog.js";
import { TABLES, tableColumns } from "../../src/schema/tables.js";
import { tempDir } from "../helpers/data.js";
import { CAPTURES, captureLake, W2024 } from "../helpers/lake.js";
import { type CliResult, runCli, runCliProcess } from "../helpers/run-cli.js";

const ROOT = resolve(fileURLToPath(import.meta.url), "..", "..", "..");
/** 2024-08-08T01:00:00Z in µs (1723075200 s + 3600 s). */
const T0 = 1_723_078_800_000_000;

const BIN = join(ROOT, "bin", "pointline.js");

/** Runs `jobs` at most `width` at a time (a child process costs ~1 s of CPU to start; 2 cores). */
async function pooled<T>(jobs: readonly (() => Promise<T>)[], width = 2): Promise<T[]> {
  const out: T[] = new Array(jobs.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const k = next++;
      out[k] = await jobs[k]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, jobs.length) }, worker));
  return out;
}

/** Rows of a CSV file with a header line. */
function csvRows(path: string): number {
  return readFileSync(path, "utf8").trim().split("\n").length - 1;
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
  let ingest: CliResult;

  before(async () => {
    ({ dir, cleanup } = tempDir("pointline-cli-"));
    lake = join(dir, "lake");
    capture = join(dir, "capture.txt");
    writeFileSync(capture, `${LINES.join("\n")}\n`);
    ingest = await runCli(["ingest", "binance-capture", capture, "--lake", lake, "--json"]);
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

  it("coverage --json lists one row per table with hand-counted rows", async () => {
    const res = await runCli(["coverage", "--lake", lake, "--json"]);
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

  it("symbols --json lists the inferred registry entry", async () => {
    const res = await runCli(["symbols", "--lake", lake, "--json"]);
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

  it("query trades --format csv prints a header and the rows of [start, end)", async () => {
    const res = await runCli([
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

  it("an unknown ingest kind exits with code 1 and names the kind", async () => {
    const res = await runCli(["ingest", "no-such-vendor", capture, "--lake", join(dir, "lake-unknown")]);
    assert.equal(res.status, 1);
    assert.match(res.stderr, /no-such-vendor/);
  });

  it("ingest --strict exits 2 when a line is rejected (0 without --strict)", async () => {
    const bad = join(dir, "bad.txt");
    writeFileSync(bad, `${[LINES[0], "this is not a capture line", LINES[2]].join("\n")}\n`);
    const strict = await runCli([
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
    const lax = await runCli(["ingest", "binance-capture", bad, "--lake", join(dir, "lake-lax"), "--json"]);
    assert.equal(lax.status, 0, lax.stderr);
  });

  // (the launcher and exit code 0 of the binary: the progress-bar test below)
  it("the binary (node bin/pointline.js, a child process): a command's error and a usage error exit 1; --strict exits 2", async () => {
    const bad = join(dir, "bad-binary.txt");
    writeFileSync(bad, `${[LINES[0], "this is not a capture line", LINES[2]].join("\n")}\n`);
    const [unknown, usage, strict] = await pooled([
      () => runCliProcess(["ingest", "no-such-vendor", capture, "--lake", join(dir, "lake-binary-unknown")]),
      () =>
        runCliProcess([
          "query",
          "trades",
          "--lake",
          lake,
          "--exchange",
          "binance-futures",
          "--symbol",
          "BTCUSDT",
          "--start",
          "0",
          "--end",
          "1",
          "--limit",
          "abc",
        ]),
      () =>
        runCliProcess([
          "ingest",
          "binance-capture",
          bad,
          "--lake",
          join(dir, "lake-binary-strict"),
          "--strict",
        ]),
    ]);
    assert.equal(unknown!.status, 1);
    assert.match(unknown!.stderr, /^pointline: unknown ingest kind 'no-such-vendor'/m);
    assert.equal(usage!.status, 1);
    assert.ok(usage!.stderr.includes("--limit") && usage!.stderr.includes("'abc'"), usage!.stderr);
    assert.equal(strict!.status, 2, strict!.stderr);
    assert.match(
      strict!.stderr,
      /ingest binance-capture: 1 of 1 file committed — rows written 2, rejected 1/,
    );
  });
});

describe("pointline CLI on the real captures (binance-futures + binance BTCUSDT 2024-08-08)", () => {
  let dir: string;
  let cleanupDir: () => void;
  let lake: string;
  let cleanupLake: () => void;
  const INST = ["--exchange", "binance-futures", "--symbol", "BTCUSDT"] as const;
  const WIN = ["--start", W2024.start, "--end", W2024.end] as const;
  const EXAMPLE = join(ROOT, "examples", "requests", "btc_mft_volbar_5btc.json");

  before(async () => {
    ({ dir, cleanup: cleanupDir } = tempDir("pointline-cli-real-"));
    ({ lake, cleanup: cleanupLake } = await captureLake(["usdm2024", "spot2024"]));
  });
  after(() => {
    cleanupLake();
    cleanupDir();
  });

  it("every error names the flag or field and shows the value as typed (exit 1 / 2, nothing written)", async () => {
    const never = join(dir, "never.csv");
    const build = (...extra: string[]): string[] => [
      "features",
      "build",
      "--lake",
      lake,
      ...INST,
      ...WIN,
      "--out",
      never,
      ...extra,
    ];
    const empty = join(dir, "empty-dir");
    mkdirSync(empty);
    const missing = join(dir, "no-such-lake");
    // a mutated copy of the example request: one value unquoted on line 4 → JSON syntax error there
    const text = readFileSync(EXAMPLE, "utf8");
    const broken = join(dir, "broken.json");
    writeFileSync(broken, text.replace('"mode": "bar_then_feature"', '"mode": bar_then_feature'));
    const badLine = text.split("\n").findIndex((l) => l.includes('"mode"')) + 1;
    const badCol = text.split("\n")[badLine - 1]!.indexOf('"bar_then_feature"') + 1;
    // output_dir escaping the --out-root: `run` rejects it, and so must `validate`
    const escaping = join(dir, "escaping.json");
    writeFileSync(
      escaping,
      text.replace('"output_dir": "btc_mft_volbar_5btc"', '"output_dir": "../outside"'),
    );
    const outRoot = join(dir, "runs");

    const cases: { args: string[]; status: number; says: string[]; not?: string[] }[] = [
      { args: build("--spine", "volume:-5"), status: 1, says: ["--spine volume:-5", "volumeThreshold"] },
      { args: build("--spine", "clock:0"), status: 1, says: ["--spine clock:0", "stepMs"] },
      {
        args: [
          "features",
          "build",
          "--lake",
          lake,
          ...INST,
          "--start",
          "yesterday",
          "--end",
          W2024.end,
          "--out",
          never,
        ],
        status: 1,
        says: ["--start", "'yesterday'"],
      },
      {
        args: [
          "features",
          "build",
          "--lake",
          lake,
          ...INST,
          "--start",
          "2024-08-09T00:00:00Z",
          "--end",
          "1723161240000000",
          "--out",
          never,
        ],
        status: 1,
        // ISO times, the µs one typed as µs shown with its ISO form; no bare µs of the ISO input
        says: [
          "--start 2024-08-09T00:00:00Z is not before --end 1723161240000000 (2024-08-08T23:54:00.000000Z)",
        ],
        not: ["1723161600000000"],
      },
      {
        args: build("--families", "cv"),
        status: 1,
        says: ["--families cv", "add --cross-venue <exchange:symbol>"],
      },
      {
        args: build("--cross-venue", "binance:ETHUSDT"),
        status: 1,
        says: ["--cross-venue binance:ETHUSDT: no such symbol on binance", "BTCUSDT"],
      },
      {
        // the registry versions start at the capture's UTC day: a frame cannot start before it
        args: [
          "features",
          "build",
          "--lake",
          lake,
          ...INST,
          "--start",
          "2024-08-07",
          "--end",
          W2024.end,
          "--out",
          never,
        ],
        status: 1,
        says: [
          "--start 2024-08-07: binance-futures BTCUSDT has no symbol registry version valid then",
          "2024-08-08T00:00:00.000000Z",
        ],
      },
      {
        args: ["query", "trades", "--lake", lake, ...INST, ...WIN, "--limit", "abc"],
        status: 1,
        says: ["--limit", "'abc'"],
      },
      {
        args: ["query", "trade", "--lake", lake, ...INST, ...WIN],
        status: 1,
        says: ["'trade'", ...Object.keys(TABLES)],
      },
      {
        args: ["query", "trades", "--lake", missing, ...INST, ...WIN],
        status: 1,
        says: [`--lake ${missing}: no such directory`],
      },
      { args: ["coverage", "--lake", empty], status: 1, says: [`--lake ${empty}: not a Pointline lake`] },
      {
        args: [
          "query",
          "trades",
          "--lake",
          lake,
          "--exchange",
          "binance-futures",
          "--symbol",
          "BTCUSD",
          ...WIN,
        ],
        status: 1,
        says: ["--symbol BTCUSD", "BTCUSDT"],
      },
      {
        args: [
          "symbols",
          "set",
          "--lake",
          missing,
          ...INST,
          "--price-increment",
          "abc",
          "--amount-increment",
          "0.001",
        ],
        status: 1,
        says: ["--price-increment", "'abc'"],
      },
      {
        args: ["pipeline", "validate", broken],
        status: 2,
        says: [`${broken}:${badLine}:${badCol}`, `line ${badLine}, column ${badCol}`, "'bar_then_feature'"],
      },
      {
        args: ["pipeline", "validate", escaping, "--out-root", outRoot],
        status: 2,
        says: ["$.artifacts.output_dir", '"../outside"', outRoot, "--out-root"],
      },
      {
        args: ["pipeline", "validate", EXAMPLE, "--out-root", outRoot],
        status: 0,
        says: ["valid request v2"],
      },
    ];
    const results = await pooled(cases.map((c) => () => runCli(c.args)));
    cases.forEach((c, k) => {
      const r = results[k]!;
      const label = c.args.join(" ");
      assert.equal(r.status, c.status, `${label}\n${r.stderr}`);
      for (const s of c.says)
        assert.ok(r.stderr.includes(s), `${label}: stderr should say ${s}:\n${r.stderr}`);
      for (const s of c.not ?? []) assert.ok(!r.stderr.includes(s), `${label}: stderr should not say ${s}`);
    });
    assert.equal(existsSync(never), false, "a failed build writes no output");
    assert.equal(existsSync(missing), false, "a failed symbols set creates no lake");
    assert.equal(existsSync(outRoot), false, "validate writes nothing");
  });

  it("--help marks the required options, --version prints the package version, file_id prints as in the lake's file names", async () => {
    const [help, version, csv] = await pooled([
      () => runCli(["query", "--help"]),
      () => runCli(["--version"]),
      () =>
        runCli([
          "query",
          "trades",
          "--lake",
          lake,
          ...INST,
          "--start",
          W2024.start,
          "--end",
          "2024-08-08T23:54:30Z",
          "--limit",
          "1000000",
          "--format",
          "csv",
        ]),
    ]);
    assert.equal(help!.status, 0);
    for (const flag of ["--lake", "--exchange", "--symbol", "--start", "--end"])
      assert.match(help!.stdout, new RegExp(`${flag} <[a-z]+>[^\\n]*\\(required\\)`), flag);
    assert.doesNotMatch(help!.stdout, /--limit <n>[^\n]*\(required\)/);
    assert.equal(version!.status, 0);
    assert.equal(version!.stdout.trim(), packageVersion().version);

    assert.equal(csv!.status, 0, csv!.stderr);
    const lines = csv!.stdout.trim().split("\n");
    const col = lines[0]!.split(",").indexOf("file_id");
    const ids = new Set(lines.slice(1).map((l) => l.split(",")[col]));
    // the ingest manifests are named `_meta/files/<file_id>.json` (one formatter: lake/layout fileIdHex)
    const manifests = readdirSync(join(lake, "_meta", "files")).map((n) => n.replace(/\.json$/, ""));
    assert.ok(lines.length > 1);
    for (const id of ids) {
      assert.match(id ?? "", /^[0-9a-f]{12}$/);
      assert.ok(manifests.includes(id!), `${id} is one of ${manifests.join(", ")}`);
    }
  });

  it("features build --config: the config's volume spine is built when --spine is not given; a flag sets only what it names; a conflict names both", async () => {
    const cfgPath = join(dir, "F.json");
    writeFileSync(
      cfgPath,
      JSON.stringify({ spine: { type: "volume", volumeThreshold: 5, splitTrades: true } }),
    );
    const out = join(dir, "config-volume.csv");
    const merged = join(dir, "config-merged.csv");
    const clash = join(dir, "config-clash.csv");
    const base = [
      "features",
      "build",
      "--lake",
      lake,
      ...INST,
      ...WIN,
      "--families",
      "of",
      "--config",
      cfgPath,
    ];
    const [plain, withFlag, conflict] = await pooled([
      () => runCli([...base, "--out", out, "--json"]),
      () => runCli([...base, "--spine", "volume:5,includePartialLastBar=true", "--out", merged, "--json"]),
      () => runCli([...base, "--spine", "volume:10", "--out", clash]),
    ]);
    const spine = {
      type: "volume",
      volumeThreshold: 5,
      splitTrades: true,
      useAbsoluteVolume: true,
      maxRows: 5_000_000,
    };

    assert.equal(plain!.status, 0, plain!.stderr);
    const m = JSON.parse(plain!.stdout) as { row_count: number; config: { spine: unknown } };
    assert.deepEqual(m.config.spine, { ...spine, includePartialLastBar: false });
    // reference: the library on the same config
    const ref = await buildFeatureFrame({
      lake,
      exchange: "binance-futures",
      symbol: "BTCUSDT",
      ...W2024,
      config: {
        spine: { type: "volume", volumeThreshold: 5, splitTrades: true },
        ...Object.fromEntries(
          [
            "includeMicrostructure",
            "includeFlowRolling",
            "includeFunding",
            "includeBookShape",
            "includeExecutionCost",
            "includeSpreadDynamics",
            "includeLiquidityShock",
            "includeBasisMomentum",
            "includeTradeBurst",
            "includeRegime",
          ].map((k) => [k, false]),
        ),
      },
    });
    assert.ok(ref.height > 404, "split 5 BTC bars outnumber the 404 unsplit ones");
    assert.equal(m.row_count, ref.height);
    assert.equal(csvRows(out), ref.height);

    assert.equal(withFlag!.status, 0, withFlag!.stderr);
    const m2 = JSON.parse(withFlag!.stdout) as { row_count: number; config: { spine: unknown } };
    assert.deepEqual(m2.config.spine, { ...spine, includePartialLastBar: true });
    assert.equal(csvRows(merged), m2.row_count);

    assert.equal(conflict!.status, 1);
    assert.ok(conflict!.stderr.includes("--spine volume:10"), conflict!.stderr);
    assert.ok(conflict!.stderr.includes(`--config ${cfgPath}`), conflict!.stderr);
    assert.ok(conflict!.stderr.includes("spine.volumeThreshold"), conflict!.stderr);
    assert.equal(existsSync(clash), false);
  });

  it("pipeline run shows its stages and gates on stderr as they run; --json stdout stays one JSON document", async () => {
    // a mutated copy of the example request: 2 minutes, 2 lookahead cuts, the two re-run gates skipped
    const req = JSON.parse(readFileSync(EXAMPLE, "utf8")) as Record<string, unknown> & {
      timeline: Record<string, unknown>;
      constraints: Record<string, unknown>;
    };
    req.timeline.start = "2024-08-08T23:58:00Z";
    req.constraints = {
      ...req.constraints,
      lookahead_cuts: 2,
      skip_reproducibility_check: true,
      check_partition_safety: false,
    };
    const file = join(dir, "short.json");
    writeFileSync(file, JSON.stringify(req));
    const outRoot = join(dir, "pipeline");
    const r = await runCli(["pipeline", "run", file, "--lake", lake, "--out-root", outRoot, "--json"]);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { results: { row_count: number }; decision: { status: string } };
    assert.equal(out.decision.status, "accept");
    const progress = r.stderr.split("\n").filter((l) => l.startsWith("pipeline: "));
    assert.deepEqual(
      progress.map((l) => l.replace(/ [\d.]+ ms$/, "")),
      [
        "pipeline: plan",
        "pipeline: features",
        "pipeline: labels",
        "pipeline: gate pit_ordering_check pass",
        "pipeline: gate lookahead_check pass",
        "pipeline: gate reproducibility_check skip",
        "pipeline: gate partition_safety_check skip",
        "pipeline: gate max_unassigned_ratio pass",
        "pipeline: gate max_null_ratio pass",
        "pipeline: gates",
        "pipeline: evaluation",
        "pipeline: artifacts",
      ],
    );
    // progress comes before the summary (as the stages run, not after)
    assert.ok(r.stderr.indexOf("pipeline: artifacts") < r.stderr.indexOf("ACCEPT"));
    const rows = readFileSync(join(outRoot, "btc_mft_volbar_5btc", "pipeline_output.json"), "utf8");
    assert.equal(
      (JSON.parse(rows) as { results: { row_count: number } }).results.row_count,
      out.results.row_count,
    );
    assert.ok(out.results.row_count > 0);
  });
});

describe("pointline CLI progress on a 2-day range (binance-futures BTCUSDT 2023-04-04/05)", () => {
  let dir: string;
  let cleanupDir: () => void;
  let lake: string;
  let cleanupLake: () => void;
  before(async () => {
    ({ dir, cleanup: cleanupDir } = tempDir("pointline-cli-progress-"));
    ({ lake, cleanup: cleanupLake } = await captureLake(["usdm2023a", "usdm2023b"]));
  });
  after(() => {
    cleanupLake();
    cleanupDir();
  });

  it("features build on a terminal reaches 100 % (the data ends long before the range does)", async () => {
    const out = join(dir, "two-days.csv");
    const cmd = [
      process.execPath,
      BIN,
      "features",
      "build",
      "--lake",
      lake,
      "--exchange",
      "binance-futures",
      "--symbol",
      "BTCUSDT",
      "--start",
      "2023-04-04T00:00:00Z",
      "--end",
      "2023-04-06T00:00:00Z",
      "--spine",
      "volume:5",
      "--families",
      "of",
      "--out",
      out,
    ]
      .map((a) => `'${a}'`)
      .join(" ");
    // util-linux `script` gives the CLI a pseudo-terminal, so it draws its progress bar; -e: its exit code
    let status = 0;
    let screen = "";
    try {
      ({ stdout: screen } = await promisify(execFile)("script", ["-qec", cmd, "/dev/null"], {
        encoding: "utf8",
        timeout: 120_000,
      }));
    } catch (e) {
      const err = e as { code?: number; stdout?: string };
      status = err.code ?? -1;
      screen = err.stdout ?? "";
    }
    assert.equal(status, 0, screen);
    const percents = [...screen.matchAll(/features \[[=-]+\] (\d+)%/g)].map((m) => Number(m[1]));
    assert.ok(percents.length >= 2, screen);
    assert.equal(percents.at(-1), 100, `last progress ${percents.at(-1)} %`);
    const manifest = JSON.parse(readFileSync(`${out}.manifest.json`, "utf8")) as { row_count: number };
    assert.ok(manifest.row_count > 0);
    assert.equal(csvRows(out), manifest.row_count);
  });
});

/** Pids of the live descendants of `root` (from /proc; Linux). */
function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, "utf8");
    } catch {
      continue; // exited meanwhile
    }
    // "pid (comm) state ppid …": comm may hold spaces and parentheses, so split after the last ')'
    const [state, ppid] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (state === "Z") continue;
    const list = children.get(Number(ppid)) ?? [];
    list.push(Number(name));
    children.set(Number(ppid), list);
  }
  const out: number[] = [];
  const todo = [root];
  while (todo.length > 0) {
    for (const c of children.get(todo.pop()!) ?? []) {
      out.push(c);
      todo.push(c);
    }
  }
  return out;
}

/** Whether `pid` is a live (not zombie) process. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(what: string, cond: () => boolean, timeoutMs: number): Promise<number> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(25);
  }
  return Date.now() - t0;
}

describe("npx pointline: SIGTERM stops the whole command", () => {
  it("SIGTERM to `npx pointline ingest` ends its node grandchild at once; the lake keeps exactly the file committed before", async () => {
    const { dir, cleanup } = tempDir("pointline-cli-signal-");
    try {
      const lake = join(dir, "lake");
      const files = join(lake, "_meta", "files");
      // committed manifests (a manifest is written as a `.tmp-…` file in the same directory, then renamed)
      const manifests = (): string[] =>
        existsSync(files)
          ? readdirSync(files)
              .filter((n) => n.endsWith(".json"))
              .sort()
          : [];
      // ingested in time order: the small 2023 capture commits first, then the large 2024 one
      // (several seconds of work) is under way when the signal comes
      const npx = spawn(
        "npx",
        ["pointline", "ingest", "binance-capture", CAPTURES.usdm2024, CAPTURES.usdm2023a, "--lake", lake],
        { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] },
      );
      let stderr = "";
      npx.stderr.on("data", (b: Buffer) => {
        stderr += b.toString();
      });
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
        npx.on("exit", (code, signal) => r({ code, signal })),
      );
      await until("the first file's manifest", () => manifests().length > 0, 120_000);
      const before = manifests();
      const rowsBefore = (await dataCoverage(lake)).reduce((n, r) => n + r.rows, 0);
      // the node process that runs the CLI: npm → sh → node (its grandchild)
      const cli = descendants(npx.pid!).filter((p) => {
        try {
          return readFileSync(`/proc/${p}/cmdline`, "utf8").includes("binance-capture");
        } catch {
          return false;
        }
      });
      const node = cli.find((p) => readFileSync(`/proc/${p}/cmdline`, "utf8").startsWith("node"));
      assert.ok(node !== undefined, `no node process under npx: ${cli.join(", ")}`);
      assert.notEqual(node, npx.pid);

      npx.kill("SIGTERM");
      const { code, signal } = await exited;
      // npm ends itself with the signal it got (a shell shows exit status 143)
      assert.deepEqual({ code, signal }, { code: null, signal: "SIGTERM" }, stderr);
      const stoppedMs = await until(`node pid ${node} to stop`, () => !alive(node!), 5_000);
      assert.ok(stoppedMs < 2_000, `the CLI took ${stoppedMs} ms to stop`);
      await sleep(1_500); // a grandchild still running would commit the second file within seconds
      assert.deepEqual(manifests(), before);
      assert.equal(before.length, 1);
      const manifest = JSON.parse(readFileSync(join(files, before[0]!), "utf8")) as {
        source: string;
        report: { tables: Record<string, { rows_written: number }> };
      };
      assert.equal(manifest.source, CAPTURES.usdm2023a);
      const written = Object.values(manifest.report.tables).reduce((n, t) => n + t.rows_written, 0);
      const rowsAfter = (await dataCoverage(lake)).reduce((n, r) => n + r.rows, 0);
      assert.equal(rowsBefore, written);
      assert.equal(rowsAfter, written);
      assert.match(stderr, /the launching process \(pid \d+\) has gone; stopping/);
    } finally {
      cleanup();
    }
  });
});
