/**
 * `ingest` output (issue 10, item 6, ingest part): per-file progress on a TTY without `--json`, none
 * when piped, and `--quiet` (neither reports nor progress; the summary stays). The CLI runs under a
 * pseudo-terminal (util-linux `script`) on a slice of the real 2023-04-04 USDⓈ-M capture, and in this
 * process with a stderr that is not a TTY; the status line itself is checked on a fake terminal stream.
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { gunzipSync } from "node:zlib";
import { StatusLine } from "../../src/cli/status-line.js";
import { query } from "../../src/query/query.js";
import { HFT, tempDir } from "../helpers/data.js";
import { runCli, runCliProcess } from "../helpers/run-cli.js";

const ERASE = "\r\u001b[2K";

describe("StatusLine", () => {
  it("rewrites one line in place with the elapsed seconds on a TTY, and erases it", () => {
    const out: string[] = [];
    let now = 0;
    const s = new StatusLine({ isTTY: true, write: (t) => out.push(t) > 0 }, () => now);
    s.set("ingest [1/2] a.gz: hashing");
    now = 2500;
    s.set("ingest [1/2] a.gz: pass 1/2");
    s.clear();
    s.clear(); // nothing shown: no second erase
    s.stop();
    assert.deepEqual(out, [
      `${ERASE}ingest [1/2] a.gz: hashing`,
      `${ERASE}ingest [1/2] a.gz: pass 1/2`,
      ERASE,
    ]);
  });

  it("writes nothing when the stream is not a TTY", () => {
    const out: string[] = [];
    const s = new StatusLine({ isTTY: false, write: (t) => out.push(t) > 0 });
    s.set("x");
    s.clear();
    s.stop();
    assert.deepEqual(out, []);
    assert.equal(s.active, false);
  });
});

describe("ingest progress and --quiet (CLI)", () => {
  let dir: string;
  let cleanup: () => void;
  let file: string;
  let trades: number;
  before(() => {
    ({ dir, cleanup } = tempDir("pointline-progress-"));
    const lines = gunzipSync(readFileSync(join(HFT, "usdm", "btcusdt_20230404.dat.gz")))
      .toString("utf8")
      .split("\n")
      .slice(0, 400);
    trades = lines.filter((l) => l.includes('@trade"')).length;
    file = join(dir, "usdm_head.txt");
    writeFileSync(file, `${lines.join("\n")}\n`);
  });
  after(() => cleanup());

  it("on a TTY: a status line per file and stage, then the report and the summary; piped: no escapes", async () => {
    const lakeTty = join(dir, "lake-tty");
    const lakePipe = join(dir, "lake-pipe");
    const [tty, pipe] = await Promise.all([
      runCliProcess(["ingest", "binance-capture", file, "--lake", lakeTty], { tty: true }),
      runCli(["ingest", "binance-capture", file, "--lake", lakePipe]), // in process: stderr not a TTY
    ]);
    assert.equal(tty.status, 0, tty.stdout);
    for (const stage of [
      "hashing (file identity)",
      "pass 1/2, scanning",
      "pass 2/2, writing rows",
      "committing",
    ])
      assert.ok(tty.stdout.includes(`${ERASE}ingest binance-capture [1/1] usdm_head.txt: ${stage}`), stage);
    assert.ok(tty.stdout.includes(`${file} (binance-capture, file_id `), tty.stdout);
    assert.match(tty.stdout, /ingest binance-capture: 1 of 1 file committed/);

    assert.equal(pipe.status, 0, pipe.stderr);
    assert.ok(
      !pipe.stderr.includes("\r") && !pipe.stderr.includes("\u001b"),
      "no terminal control when piped",
    );
    assert.ok(pipe.stderr.includes(`${file} (binance-capture, file_id `));
    for (const lake of [lakeTty, lakePipe]) {
      const rows = await query.trades({
        lake,
        exchange: "binance-futures",
        symbol: "BTCUSDT",
        start: 0,
        end: 4e15,
      });
      assert.equal(rows.length, trades);
    }
  });

  it("--quiet on a TTY: no status line, no per-file report; the summary and exit 0", async () => {
    const lake = join(dir, "lake-quiet");
    const res = await runCliProcess(["ingest", "binance-capture", file, "--lake", lake, "--quiet"], {
      tty: true,
    });
    assert.equal(res.status, 0, res.stdout);
    assert.ok(!res.stdout.includes(ERASE), res.stdout);
    assert.ok(!res.stdout.includes("lines read"), res.stdout);
    assert.match(res.stdout, /ingest binance-capture: 1 of 1 file committed — rows written \d+/);
    assert.ok(res.stdout.includes(`committed  ${file}`));
  });
});
