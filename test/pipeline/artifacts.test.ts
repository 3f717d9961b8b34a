/**
 * Artifact writer (artifacts.ts) on a real frame (usdm2024 capture, clock 1 s spine, default families,
 * plus a forward-return label computed here) written into a temp dir:
 * - every file exists, in order, `features.parquet` first and `pipeline_output.json` last;
 * - the data sha256 equals an independent `crypto.createHash("sha256")` of the written bytes;
 * - reading the Parquet back gives the same frame (Polars `frameEqual` and `canonicalFrameHash`) and
 *   column order; manifest/schema fields against the inputs (frame order, not `columns` order);
 * - lineage sha256 / file_ids against the lake's part files hashed and listed independently here;
 * - no `*.tmp*` left; injected failures (output dir is a file, Parquet write that fails half-way, an
 *   unserialisable output, a rename blocked by a directory, a wrong column description) throw and leave
 *   no partial file. The tmp/hash checks are shown to catch a planted tmp file and a changed value.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join, relative } from "node:path";
import { after, before, describe, it } from "node:test";
import pl from "nodejs-polars";
import { ConfigError } from "../../src/core/errors.js";
import { codeVersion } from "../../src/core/version.js";
import { canonicalFrameHash } from "../../src/engine/hash.js";
import type { InputPartition } from "../../src/engine/source.js";
import { buildFeatureFrameWithSummary } from "../../src/features/frame.js";
import { type ArtifactsInput, writeArtifacts } from "../../src/pipeline/artifacts.js";
import type { PipelineColumn } from "../../src/pipeline/gate-types.js";
import { tempDir } from "../helpers/data.js";
import { captureLake, W2024 } from "../helpers/lake.js";

const SPINE = ["ts_event_us", "ts_end_us", "available_at_us", "bar_index", "bar_duration_us"];
const NAMES = [
  "features.parquet",
  "manifest.json",
  "feature_schema.json",
  "lineage.json",
  "quality_report.md",
  "pipeline_output.json",
];

let lake = "";
let cleanupLake = () => {};
let out = "";
let cleanupOut = () => {};
let frame: pl.DataFrame;
let columns: PipelineColumn[] = [];
let partitions: InputPartition[] = [];

/** Every file under `dir` (relative paths, dot files included). */
function walk(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

/** Files or directories whose name contains ".tmp" under `dir`. */
function tmpLeftovers(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true }).filter((p) => String(p).includes(".tmp")) as string[];
}

const sha256 = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");

function baseInput(outputDir: string, over: Partial<ArtifactsInput> = {}): ArtifactsInput {
  return {
    outputDir,
    lake,
    frame,
    // deliberately not in frame order: the writer must follow the frame
    columns: [...columns].reverse(),
    request: { request_id: "req-7", mode: "bar_then_feature", artifacts: { output_dir: "run" } },
    requestHash: "ab".repeat(32),
    partitions,
    codeVersion: codeVersion(),
    gates: [{ name: "rows", passed: true, critical: true, skipped: false, reason: "ok", details: { n: 1 } }],
    decision: { status: "accept", reasons: [] },
    metrics: [{ name: "ic", value: 0.01 }],
    emitLineage: true,
    report: "# Quality report\n\n| a | b |\n|---|---|\n| 1 | 2 |\n",
    output: { status: "ok", nested: { x: [1, 2] } },
    ...over,
  };
}

describe("pipeline artifacts on binance-futures BTCUSDT 2024-08-08 (clock 1 s)", () => {
  before(async () => {
    ({ lake, cleanup: cleanupLake } = await captureLake(["usdm2024"]));
    ({ dir: out, cleanup: cleanupOut } = tempDir("pointline-artifacts-"));
    const r = await buildFeatureFrameWithSummary({
      lake,
      exchange: "binance-futures",
      symbol: "BTCUSDT",
      ...W2024,
      config: { spine: { type: "clock", stepMs: 1000 } },
    });
    partitions = r.summary.partitions.map((p) => ({ ...p }));
    // label: 10 s forward log return of the mid price (null at the end)
    frame = r.frame.withColumns(
      pl.col("ms_mid_px").shift(-10).div(pl.col("ms_mid_px")).log().alias("fwd_ret_10s"),
    );
    columns = frame.columns.map((name) => ({
      name,
      role: SPINE.includes(name) ? "spine" : name === "fwd_ret_10s" ? "label" : "feature",
      dtype: frame.getColumn(name).dtype.equals(pl.Int64) ? "Int64" : "Float64",
      unit: name === "fwd_ret_10s" ? "log return" : "u",
      ...(SPINE.includes(name) ? {} : { operator: `op_${name}`, source: "trades", description: `d ${name}` }),
      ...(name === "fwd_ret_10s" ? { aggregation: "last", aggregationVersion: "1" } : {}),
    }));
  });
  after(() => {
    cleanupOut();
    cleanupLake();
  });

  it("writes every artifact; sha256, read-back frame, manifest, schema and lineage check out", async () => {
    const dir = join(out, "runs", "ok");
    const input = baseInput(dir);
    const res = await writeArtifacts(input);
    assert.deepEqual(
      res.paths,
      NAMES.map((n) => join(dir, n)),
    );
    assert.deepEqual(walk(dir), [...NAMES].sort());
    assert.deepEqual(tmpLeftovers(out), []);

    // data: independent sha256 of the bytes; read back equals the frame
    const data = res.paths[0]!;
    assert.equal(res.dataSha256, sha256(data));
    const back = pl.readParquet(data);
    assert.deepEqual(back.columns, frame.columns);
    assert.ok(back.frameEqual(frame, true), "Parquet read-back equals the frame");
    assert.equal(canonicalFrameHash(back), canonicalFrameHash(frame));
    assert.equal(res.contentHash, canonicalFrameHash(back));
    assert.ok(frame.getColumn("fwd_ret_10s").nullCount() >= 10, "label has nulls at the end");

    // manifest
    const m = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8"));
    const features = frame.columns.filter((c) => !SPINE.includes(c) && c !== "fwd_ret_10s");
    assert.equal(m.kind, "pointline.pipeline_run");
    assert.equal(m.version, 1);
    assert.equal(m.request_id, "req-7");
    assert.deepEqual(m.data, {
      path: "features.parquet",
      sha256: sha256(data),
      bytes: readFileSync(data).length,
    });
    assert.equal(m.content_hash, canonicalFrameHash(back));
    assert.equal(m.row_count, back.height);
    assert.deepEqual(m.feature_order, features);
    assert.deepEqual(m.label_columns, ["fwd_ret_10s"]);
    assert.deepEqual(
      m.schema.map((c: { name: string }) => c.name),
      frame.columns,
    );
    assert.deepEqual(m.schema[0], { name: "ts_event_us", role: "spine", dtype: "Int64", unit: "u" });
    assert.deepEqual(m.request, input.request);
    assert.equal(m.request_hash, input.requestHash);
    assert.deepEqual(m.code_version, codeVersion());
    assert.deepEqual(m.decision, input.decision);

    // feature schema: features and labels, in frame order, with provenance
    const s = JSON.parse(readFileSync(join(dir, "feature_schema.json"), "utf8"));
    assert.deepEqual(
      s.columns.map((c: { name: string }) => c.name),
      [...features, "fwd_ret_10s"],
    );
    assert.deepEqual(s.columns.at(-1), {
      name: "fwd_ret_10s",
      role: "label",
      dtype: "Float64",
      unit: "log return",
      operator: "op_fwd_ret_10s",
      aggregation: "last",
      aggregation_version: "1",
      source_table: "trades",
      description: "d fwd_ret_10s",
    });
    assert.equal(s.columns[0].aggregation, null);

    // lineage against the lake's part files, listed and hashed here
    const l = JSON.parse(readFileSync(join(dir, "lineage.json"), "utf8"));
    const tables = new Set<string>(partitions.map((p) => p.table));
    const lakeParts = walk(lake).filter((p) => tables.has(p.split("/")[0]!) && p.endsWith(".parquet"));
    assert.deepEqual(
      l.input_partitions.map((p: InputPartition) => p.path).sort(),
      lakeParts,
      "every part file of the tables read",
    );
    for (const p of l.input_partitions as InputPartition[]) {
      assert.equal(p.sha256, sha256(join(lake, p.path)), p.path);
      assert.equal(p.file_id, /^part-([0-9a-f]+)-\d+\.parquet$/.exec(basename(p.path))?.[1], p.path);
    }
    const ids = [...new Set(lakeParts.map((p) => /part-([0-9a-f]+)-/.exec(p)![1]!))].sort();
    assert.deepEqual(l.file_ids, ids);
    assert.ok(ids.every((id) => existsSync(join(lake, "_meta", "files", `${id}.json`))));
    assert.equal(l.request_hash, input.requestHash);
    assert.deepEqual(l.code_version, codeVersion());

    // report and output as given
    assert.equal(readFileSync(join(dir, "quality_report.md"), "utf8"), input.report);
    assert.deepEqual(JSON.parse(readFileSync(join(dir, "pipeline_output.json"), "utf8")), input.output);
  });

  it("the checks catch a changed value and a planted tmp file", () => {
    const mid = Float64Array.from(frame.getColumn("ms_mid_px").toArray() as number[]);
    const at = mid.findIndex(Number.isFinite);
    mid[at] = mid[at]! + 0.1;
    const changed = frame.withColumns(pl.Series("ms_mid_px", mid, pl.Float64));
    assert.notEqual(canonicalFrameHash(changed), canonicalFrameHash(frame));
    assert.ok(!changed.frameEqual(frame, true));
    const { dir: d, cleanup } = tempDir("pointline-planted-");
    mkdirSync(join(d, "run", ".artifacts.tmp-x"), { recursive: true });
    writeFileSync(join(d, "run", ".artifacts.tmp-x", "features.parquet"), "x");
    assert.ok(tmpLeftovers(d).length > 0);
    cleanup();
  });

  it("without lineage: 5 files, a stale lineage.json removed; an output callback sees paths and hashes", async () => {
    const dir = join(out, "nolineage");
    mkdirSync(dir);
    writeFileSync(join(dir, "lineage.json"), "{}");
    const res = await writeArtifacts(
      baseInput(dir, {
        emitLineage: false,
        output: (r: { paths: string[]; dataSha256: string }) => ({ paths: r.paths, sha: r.dataSha256 }),
      }),
    );
    assert.deepEqual(
      res.paths,
      NAMES.filter((n) => n !== "lineage.json").map((n) => join(dir, n)),
    );
    assert.deepEqual(walk(dir), NAMES.filter((n) => n !== "lineage.json").sort());
    const o = JSON.parse(readFileSync(join(dir, "pipeline_output.json"), "utf8"));
    assert.deepEqual(o, { paths: res.paths, sha: sha256(res.paths[0]!) });
  });

  it("injected failures throw and leave no partial or tmp file", async () => {
    // output dir is a file
    const file = join(out, "a-file");
    writeFileSync(file, "keep");
    await assert.rejects(writeArtifacts(baseInput(file)));
    assert.equal(readFileSync(file, "utf8"), "keep");

    // Parquet write fails half-way (partial bytes on disk, then an error)
    const failing: pl.DataFrame = Object.create(frame, {
      writeParquet: {
        value: (path: string) => {
          writeFileSync(path, "PAR1partial");
          throw new Error("disk full (injected)");
        },
      },
    });
    assert.deepEqual(failing.columns, frame.columns);
    const created = join(out, "fresh", "run");
    await assert.rejects(writeArtifacts(baseInput(created, { frame: failing })), /injected/);
    assert.ok(!existsSync(created), "an output dir created by the call is removed");
    const existing = join(out, "existing");
    mkdirSync(existing);
    await assert.rejects(writeArtifacts(baseInput(existing, { frame: failing })), /injected/);
    assert.deepEqual(walk(existing), []);
    assert.deepEqual(readdirSync(existing), []);

    // output JSON that cannot be serialised (after the Parquet file was written)
    const cyclic: Record<string, unknown> = {};
    cyclic["self"] = cyclic;
    await assert.rejects(writeArtifacts(baseInput(existing, { output: cyclic })), TypeError);
    assert.deepEqual(readdirSync(existing), []);

    // a rename blocked by a directory: files committed before it are removed again
    const blocked = join(out, "blocked");
    mkdirSync(join(blocked, "quality_report.md", "x"), { recursive: true });
    await assert.rejects(writeArtifacts(baseInput(blocked)));
    assert.deepEqual(readdirSync(blocked), ["quality_report.md"]);
    assert.deepEqual(walk(blocked), []);

    // a column description that does not match the frame: nothing is written
    const wrong = join(out, "wrong");
    const cols = columns.map((c) => (c.name === "bar_index" ? { ...c, dtype: "Float64" as const } : c));
    await assert.rejects(writeArtifacts(baseInput(wrong, { columns: cols })), ConfigError);
    await assert.rejects(writeArtifacts(baseInput(wrong, { columns: columns.slice(1) })), ConfigError);
    await assert.rejects(
      writeArtifacts(baseInput(wrong, { columns: [...columns, { ...columns[0]!, name: "extra" }] })),
      ConfigError,
    );
    assert.ok(!existsSync(wrong));
    assert.deepEqual(tmpLeftovers(out), []);
  });
});
