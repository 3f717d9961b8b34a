/**
 * The feature store serves the derivatives frame (issue 13, item 6): real XRPUSDT 5 m candles and 8 h
 * funding (freqtrade files) → `features build --preset derivatives --spine bars:5m` → `labels` →
 * `store materialize` into the embedded (SQLite) store. Checked against the frame itself: every feature
 * column registered with the manifest's unit, the label columns left out and named, the TTL given, the
 * latest and as-of rows equal to the frame's rows (bitwise, nulls as null), incremental re-run writes 0,
 * and `store diff` finds the online rows identical.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import pl from "nodejs-polars";
import { ingestFiles } from "../../src/ingest/ingest.js";
import { data, tempDir } from "../helpers/data.js";
import { frameColumns } from "../helpers/live.js";
import { runCli } from "../helpers/run-cli.js";

const FT = "freqtrade/tests/testdata/futures";
const EX = "binance-futures";
const SYM = "XRPUSDT";
let tmp: { dir: string; cleanup: () => void };
let frame = "";
let labelled = "";

before(async () => {
  tmp = tempDir("pointline-store-deriv-");
  const lake = join(tmp.dir, "lake");
  await ingestFiles(
    "binance-vision",
    [data(FT, "XRP_USDT_USDT-5m-futures.json"), data(FT, "XRP_USDT_USDT-8h-funding_rate.json")],
    { lake },
  );
  frame = join(tmp.dir, "xrp.parquet");
  labelled = join(tmp.dir, "xrp_labelled.parquet");
  const b = await runCli([
    "features",
    "build",
    "--lake",
    lake,
    "--exchange",
    EX,
    "--symbol",
    SYM,
    "--start",
    "2021-11-16T00:00:00Z",
    "--end",
    "2021-11-17T00:00:00Z",
    "--spine",
    "bars:5m",
    "--preset",
    "derivatives",
    "--out",
    frame,
  ]);
  assert.equal(b.status, 0, b.stderr);
  const l = await runCli(["labels", "--in", frame, "--out", labelled]);
  assert.equal(l.status, 0, l.stderr);
});
after(() => tmp?.cleanup());

describe("the derivatives frame in the online store (embedded)", () => {
  it("materializes every feature column with its unit and TTL, without the labels; get = the frame's rows", async () => {
    const st = join(tmp.dir, "store");
    const df = pl.readParquet(frame);
    const n = df.height;
    assert.ok(n >= 280 && df.width >= 150, `${n} rows × ${df.width} columns`);
    const labels = pl.readParquet(labelled).columns.filter((c) => c.startsWith("target_"));
    assert.equal(labels.length, 6);
    const m = await runCli([
      "store",
      "materialize",
      labelled,
      "--set",
      "deriv_xrp_5m",
      "--exchange",
      EX,
      "--symbol",
      SYM,
      "--ttl-seconds",
      "3600",
      "--store",
      st,
      "--json",
    ]);
    assert.equal(m.status, 0, m.stderr);
    const r = JSON.parse(m.stdout) as {
      rowsRead: number;
      rowsWritten: number;
      droppedLabels: string[];
      set: { ttlSeconds: number; columns: { name: string; unit: string }[] };
    };
    assert.deepEqual([r.rowsRead, r.rowsWritten], [n, n]);
    assert.deepEqual(r.droppedLabels, labels);
    assert.equal(r.set.ttlSeconds, 3600);
    assert.deepEqual(
      r.set.columns.map((c) => c.name),
      df.columns,
    );
    // the unlabelled frame (with its manifest) matches the registered set: incremental, 0 written
    const again = await runCli([
      "store",
      "materialize",
      frame,
      "--set",
      "deriv_xrp_5m",
      "--store",
      st,
      "--json",
    ]);
    assert.equal(again.status, 0, again.stderr);
    const r2 = JSON.parse(again.stdout) as {
      rowsWritten: number;
      rowsSkipped: number;
      droppedLabels: string[];
    };
    assert.deepEqual([r2.rowsWritten, r2.rowsSkipped, r2.droppedLabels.length], [0, n, 0]);
    const sets = await runCli(["store", "sets", "--store", st]);
    assert.match(sets.stdout, new RegExp(`deriv_xrp_5m@1: ${df.width} columns, ttl 3600 s`));

    const cols = frameColumns(df);
    const rowOf = (i: number) =>
      Object.fromEntries([...cols].map(([k, v]) => [k, Number.isNaN(v[i]!) ? null : v[i]!]));
    const get = (extra: string[]) =>
      runCli([
        "store",
        "get",
        "--set",
        "deriv_xrp_5m",
        "--exchange",
        EX,
        "--symbol",
        SYM,
        "--store",
        st,
        "--format",
        "json",
        ...extra,
      ]);
    const latest = await get([]);
    assert.equal(latest.status, 0, latest.stderr);
    assert.deepEqual(JSON.parse(latest.stdout), [rowOf(n - 1)]);
    const k = 150;
    const asOf = await get(["--at", String(cols.get("available_at_us")![k]!)]);
    assert.deepEqual(JSON.parse(asOf.stdout), [rowOf(k)]);
    const diff = await runCli([
      "store",
      "diff",
      labelled,
      "--set",
      "deriv_xrp_5m",
      "--exchange",
      EX,
      "--symbol",
      SYM,
      "--store",
      st,
    ]);
    assert.equal(diff.status, 0, diff.stdout + diff.stderr);
  });

  it("registers the units of the frame's manifest", async () => {
    const st = join(tmp.dir, "store-units");
    const m = await runCli(["store", "materialize", frame, "--set", "deriv_units", "--store", st, "--json"]);
    assert.equal(m.status, 0, m.stderr);
    const set = (JSON.parse(m.stdout) as { set: { columns: { name: string; unit: string }[] } }).set;
    const manifest = JSON.parse(readFileSync(`${frame}.manifest.json`, "utf8")) as {
      columns: { name: string; unit: string }[];
    };
    assert.deepEqual(
      set.columns.map((c) => [c.name, c.unit]),
      manifest.columns.map((c) => [c.name, c.unit]),
    );
  });
});
