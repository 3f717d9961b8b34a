/**
 * `pointline live run` output and checkpoints (issue 11, items 3 and 7), on the real 2024 USDⓈ-M capture:
 *
 * - an uninterrupted live run's CSV is byte for byte the CSV `features build` writes for the same run
 *   (the batch path: LakeSource, one Replay, Polars' writer), and its Parquet the same frame;
 * - a child process running `live run --replay-lake … --checkpoint DIR --out FILE.csv` is killed with
 *   SIGKILL after some checkpoints and after rows past the last checkpoint reached the file, then
 *   restarted with the same command: the final file is byte for byte the batch file (no row lost, none
 *   duplicated: the rows after the checkpoint were cut off and emitted again, once);
 * - a run stopped by a signal keeps its Parquet spool and resumes from its checkpoint to the same frame;
 * - a checkpoint of another config is refused with a clear error; one of a finished run is a no-op.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import pl from "nodejs-polars";
import { parseTimeArg } from "../../src/cli/args.js";
import { type LiveRunOptions, runLive, storeWriters } from "../../src/cli/live.js";
import { ConfigError } from "../../src/core/errors.js";
import { writeFeatureFrame } from "../../src/features/output.js";
import { checkpointPath } from "../../src/live/checkpoint.js";
import { runFeatures } from "../../src/pipeline/execute.js";
import { planPipeline } from "../../src/pipeline/plan.js";
import { builtinRegistry } from "../../src/pipeline/registry.js";
import { validateRequest } from "../../src/pipeline/request.js";
import { tempDir } from "../helpers/data.js";
import { captureLake, W2024 } from "../helpers/lake.js";
import { assertBitwise, frameColumns } from "../helpers/live.js";
import { runCli } from "../helpers/run-cli.js";

const ROOT = resolve(fileURLToPath(import.meta.url), "..", "..", "..");
const EX = "binance-futures";
const SYM = "BTCUSDT";
const SPINE = "volume:5";
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const quiet = { stderr: { isTTY: false, write: () => true } };

/** Lines of a file (0 when missing). */
function lineCount(path: string): number {
  return existsSync(path) ? readFileSync(path, "utf8").split("\n").length - 1 : 0;
}

/** The rows a checkpoint recorded, or -1 when there is none yet. */
function checkpointRows(dir: string): number {
  try {
    return (JSON.parse(readFileSync(checkpointPath(dir), "utf8")) as { rows: number }).rows;
  } catch {
    return -1;
  }
}

function exited(
  child: ChildProcess,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  return new Promise((r) => child.on("exit", (code, signal) => r({ code, signal, stdout, stderr })));
}

describe("live run: output = batch, checkpoints survive SIGKILL", () => {
  let lake: { lake: string; cleanup: () => void };
  let tmp: { dir: string; cleanup: () => void };
  let batchCsv: string;
  let batchFrame: pl.DataFrame;
  before(async () => {
    lake = await captureLake(["usdm2024"]);
    tmp = tempDir("pointline-live-cp-");
    batchCsv = join(tmp.dir, "batch.csv");
    const req = { lake: lake.lake, exchange: EX, symbol: SYM, start: W2024.start, end: W2024.end };
    const config = { spine: { type: "volume" as const, volumeThreshold: 5 } };
    await writeFeatureFrame({ ...req, config }, batchCsv);
    await writeFeatureFrame({ ...req, config }, join(tmp.dir, "batch.parquet"));
    batchFrame = pl.readParquet(join(tmp.dir, "batch.parquet"));
  });
  after(() => {
    lake?.cleanup();
    tmp?.cleanup();
  });

  const base = (): LiveRunOptions => ({
    replayLake: lake.lake,
    exchange: EX,
    symbol: SYM,
    start: parseTimeArg(W2024.start),
    end: parseTimeArg(W2024.end),
    spine: SPINE,
    families: "default",
  });

  it("--feature-set writes every row into the online store; store diff against the batch frame finds 0 differences", async () => {
    const st = join(tmp.dir, "store");
    const lines: string[] = [];
    const stderr = {
      isTTY: false,
      write: (t: string) => {
        lines.push(t);
        return true;
      },
    };
    const opts: LiveRunOptions = { ...base(), featureSet: "btc_vol5", store: st };
    const writers = storeWriters(opts, stderr);
    assert.ok(writers);
    const s = await runLive(opts, { stderr, writers });
    assert.equal(s.rowsEmitted, 404);
    assert.match(lines.join(""), /feature set btc_vol5 v1, 404 rows stored, 0 dropped, 0 rejected/);
    // the CLI's consistency check (an independent path: the batch Parquet vs what the live run stored)
    const d = await runCli([
      "store",
      "diff",
      join(tmp.dir, "batch.parquet"),
      "--set",
      "btc_vol5",
      "--store",
      st,
      "--exchange",
      EX,
      "--symbol",
      SYM,
      "--json",
    ]);
    assert.equal(d.status, 0, d.stderr + d.stdout);
    const r = JSON.parse(d.stdout) as {
      rowsCompared: number;
      rowsDiffering: number;
      valuesDiffering: number;
    };
    assert.equal(r.rowsCompared, 404);
    assert.equal(r.rowsDiffering, 0);
    assert.equal(r.valuesDiffering, 0);
    assert.throws(() => storeWriters({ ...base(), store: st }, stderr), /need --feature-set/);
  });

  it("an uninterrupted run writes the batch CSV byte for byte, and the batch frame as Parquet", async () => {
    const csv = join(tmp.dir, "live.csv");
    // a second writer plugged in beside the file (the online store's place): every row, flushed, closed
    const seen: Float64Array[] = [];
    let closed = 0;
    const s = await runLive(
      { ...base(), out: csv },
      {
        ...quiet,
        writers: async () => [
          {
            write: (row) => {
              seen.push(row.values.slice());
            },
            flush: async () => {},
            close: async () => {
              closed++;
            },
          },
        ],
      },
    );
    assert.equal(s.finished, true);
    assert.equal(s.rowsEmitted, 404);
    assert.equal(seen.length, 404);
    assert.equal(closed, 1);
    const micro = batchFrame.columns.indexOf("ms_microprice");
    assert.ok(micro > 0);
    assert.deepEqual(
      seen.map((r) => r[micro]),
      (batchFrame.getColumn("ms_microprice").toArray() as (number | null)[]).map((v) => v ?? Number.NaN),
    );
    assert.ok(readFileSync(csv).equals(readFileSync(batchCsv)), "live CSV = batch CSV");
    const pq = join(tmp.dir, "live.parquet");
    await runLive({ ...base(), out: pq }, quiet);
    assert.ok(!existsSync(`${pq}.spool`), "spool removed");
    const live = pl.readParquet(pq);
    assert.deepEqual(live.dtypes.map(String), batchFrame.dtypes.map(String));
    assertBitwise("parquet", frameColumns(batchFrame), frameColumns(live));
  });

  it("SIGKILL mid-run, restart from the checkpoint: the final CSV is the batch CSV byte for byte", async () => {
    const out = join(tmp.dir, "killed.csv");
    const cp = join(tmp.dir, "cp-kill");
    const args = [
      join(ROOT, "bin", "pointline.js"),
      "live",
      "run",
      "--replay-lake",
      lake.lake,
      "--exchange",
      EX,
      "--symbol",
      SYM,
      "--start",
      W2024.start,
      "--end",
      W2024.end,
      "--spine",
      SPINE,
      "--families",
      "default",
      "--speed",
      "100",
      "--checkpoint",
      cp,
      "--checkpoint-every-bars",
      "100",
      "--checkpoint-every-ms",
      "0",
      "--flush-every-ms",
      "20",
      "--out",
      out,
      "--json",
    ];
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    const done = exited(child);
    // after a checkpoint, once 10–70 rows past it are in the file (the next checkpoint is 100 rows on:
    // it cannot be written between this check and the kill)
    const t0 = Date.now();
    let killedAt = -1;
    while (Date.now() - t0 < 60_000) {
      const rows = checkpointRows(cp);
      const inFile = lineCount(out) - 1;
      if (rows >= 100 && inFile >= rows + 10 && inFile <= rows + 70) {
        killedAt = rows;
        child.kill("SIGKILL");
        break;
      }
      await sleep(5);
    }
    const r1 = await done;
    assert.ok(killedAt >= 100, `killed after a checkpoint (stderr: ${r1.stderr})`);
    assert.equal(r1.signal, "SIGKILL");
    const cpRows = checkpointRows(cp);
    assert.ok(cpRows < 404, "killed before the end");
    assert.ok(lineCount(out) - 1 > cpRows, "the file holds rows past the checkpoint (cut back on restart)");

    // the same command, as fast as possible (the speed does not change the rows: not in the config hash)
    const again = args.filter((a, i) => a !== "--speed" && args[i - 1] !== "--speed");
    const r2 = await exited(spawn(process.execPath, again, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] }));
    assert.equal(r2.code, 0, r2.stderr);
    const summary = JSON.parse(r2.stdout) as {
      resumedFrom: { rows: number };
      rowsEmitted: number;
      finished: boolean;
    };
    assert.equal(summary.resumedFrom.rows, cpRows);
    assert.equal(summary.rowsEmitted, 404 - cpRows);
    assert.equal(summary.finished, true);
    assert.ok(readFileSync(out).equals(readFileSync(batchCsv)), "restarted CSV = batch CSV");
    // and = the uninterrupted live run's file (first test)
    assert.ok(
      readFileSync(out).equals(readFileSync(join(tmp.dir, "live.csv"))),
      "restarted CSV = uninterrupted CSV",
    );

    // restarting a finished run does nothing
    const s = await runLive(
      {
        ...base(),
        checkpoint: cp,
        checkpointEveryBars: 100,
        checkpointEveryMs: 0,
        flushEveryMs: 20,
        out,
      },
      quiet,
    );
    assert.equal(s.rowsEmitted, 0);
    assert.ok(readFileSync(out).equals(readFileSync(batchCsv)));
  });

  it("a run stopped by a signal keeps its Parquet spool and resumes to the batch frame", async () => {
    const out = join(tmp.dir, "stopped.parquet");
    const cp = join(tmp.dir, "cp-stop");
    const opts: LiveRunOptions = {
      ...base(),
      speed: 200,
      checkpoint: cp,
      checkpointEveryBars: 30,
      checkpointEveryMs: 0,
      out,
    };
    const ac = new AbortController();
    const poll = setInterval(() => {
      if (checkpointRows(cp) >= 60) ac.abort();
    }, 5);
    const s1 = await runLive(opts, { ...quiet, signal: ac.signal });
    clearInterval(poll);
    assert.equal(s1.stoppedBySignal, true);
    assert.equal(s1.finished, false);
    assert.ok(s1.rowsTotal < 404 && s1.rowsTotal >= 60, `${s1.rowsTotal} rows before the stop`);
    assert.ok(existsSync(`${out}.spool`), "spool kept for the restart");
    const s2 = await runLive({ ...opts, speed: undefined }, quiet);
    assert.equal(s2.finished, true);
    assert.equal(s2.resumedFrom?.rows, s1.rowsTotal);
    assertBitwise("resumed parquet", frameColumns(batchFrame), frameColumns(pl.readParquet(out)));
  });

  it("refuses a checkpoint of another config", async () => {
    const cp = join(tmp.dir, "cp-stop");
    await assert.rejects(
      runLive({ ...base(), spine: "volume:2", checkpoint: cp, out: join(tmp.dir, "other.csv") }, quiet),
      (e: unknown) => e instanceof ConfigError && /belongs to a run of another config/.test(e.message),
    );
  });

  it("--request: the pipeline request's operators, rows = runFeatures (Parquet output)", async () => {
    const file = join(ROOT, "examples", "requests", "btc_mft_volbar_5btc.json");
    const registry = builtinRegistry();
    const v = validateRequest(JSON.parse(readFileSync(file, "utf8")), registry);
    assert.ok(v.ok);
    const plan = await planPipeline(v.request, registry, lake.lake);
    const batch = await runFeatures(plan, lake.lake);
    const out = join(tmp.dir, "request.parquet");
    const s = await runLive(
      { replayLake: lake.lake, request: file, out }, // the range: the request's timeline
      quiet,
    );
    assert.equal(s.finished, true);
    assertBitwise("live run --request", batch.values, frameColumns(pl.readParquet(out)));
    await assert.rejects(
      runLive(
        {
          replayLake: lake.lake,
          request: file,
          spine: "clock:1000",
          start: parseTimeArg(W2024.start),
          end: parseTimeArg(W2024.end),
        },
        quiet,
      ),
      /--request gives the spine and operators/,
    );
  });

  it("shows one live status line on a TTY (events/s, bars, data time, last bar)", async () => {
    let text = "";
    const tty = {
      isTTY: true,
      write: (t: string) => {
        text += t;
        return true;
      },
    };
    await runLive({ ...base(), end: parseTimeArg("2024-08-08T23:58:00Z"), speed: 100 }, { stderr: tty });
    const frames = text.split("\r\u001b[2K").filter((f) => f !== "");
    assert.ok(frames.length >= 1, JSON.stringify(text));
    assert.match(
      frames[0]!,
      /^live binance-futures BTCUSDT: \d+ events\/s, \d+ bars, at 2024-08-08T23:5\d:\d\d\.\d+Z, last bar (-|2024-08-08T23:5\d:\d\d\.\d+Z)/,
    );
    assert.ok(text.endsWith("\r\u001b[2K"), "the line is erased at the end");
  });
});
