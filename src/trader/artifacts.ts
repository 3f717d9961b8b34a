/**
 * Artifacts of a trader frame, in an output directory:
 *
 * - `replay/replay_1m.parquet`: the replay (trader/replay.ts columns);
 * - `feature/feature_frame.parquet`: the frame (trader/frame.ts columns);
 * - `feature/feature_order.json`: the selected features in column order;
 * - `feature/feature_schema.json`: per feature its name, dtype (float32), unit, window, warm-up (rows and
 *   words), formula, inputs, PIT policy and source, as the operator registry declares them;
 * - `feature/split_manifest.json`: the split manifest used;
 * - `feature/feature_frame.manifest.json`: row counts per flag, feature count, version,
 *   `feature_order_hash` and `feature_schema_hash` (sha256 of their canonical JSON), `data_hash_sha256`
 *   (canonical content hash of the frame, engine/hash.ts: independent of the Parquet encoding) and the
 *   input partitions (lake parts with their sha256) or the replay file's sha256. No timestamps: two runs
 *   over the same input write identical manifests;
 * - `feature/feature_quality_report.md` and `feature/feature_quality_report.html`.
 *
 * Files are written to a temp name and renamed (atomic per file).
 */
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { canonicalJsonSha256 } from "../core/canonical-json.js";
import { canonicalFrameHash } from "../engine/hash.js";
import { hashPartitions } from "../engine/source.js";
import { traderFeatureMeta } from "../features/trader/features.js";
import { sha256File } from "../lake/hash.js";
import type { TraderFrame } from "./frame.js";
import { qualityReportHtml } from "./html.js";
import { type QualityStats, qualityStats } from "./quality.js";
import { qualityReportMarkdown } from "./report.js";
import { splitManifestJson } from "./splits.js";

/** Paths of the written artifacts. */
export interface TraderArtifacts {
  readonly outDir: string;
  readonly replay: string;
  readonly frame: string;
  readonly featureOrder: string;
  readonly featureSchema: string;
  readonly splitManifest: string;
  readonly manifest: string;
  readonly reportMd: string;
  readonly reportHtml: string;
  /** The manifest's content. */
  readonly manifestJson: Record<string, unknown>;
  /** The reports' statistics (source coverage, leakage figures, …). */
  readonly quality: QualityStats;
}

function atomicWrite(path: string, data: string | Buffer): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

function writeParquet(df: import("nodejs-polars").DataFrame, path: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  df.writeParquet(tmp);
  renameSync(tmp, path);
}

/** The feature schema entries of the selected features. */
export function featureSchema(features: readonly string[]): Record<string, unknown>[] {
  const metas = traderFeatureMeta().filter((m) => features.includes(m.name));
  return metas.map((m) => ({
    name: m.name,
    dtype: "float32",
    unit: m.unit,
    window: m.window,
    warmup_rows: m.warmupRows,
    warmup: m.warmup,
    formula: m.formula,
    inputs: m.inputs,
    pit_policy: m.pitPolicy,
    version: m.version,
    source: m.source,
  }));
}

/**
 * Writes every artifact of `tf` under `outDir` (created). `lakeRoot` is needed to hash lake partitions.
 * @throws on IO errors (the message names the path).
 */
export async function writeTraderArtifacts(
  tf: TraderFrame,
  outDir: string,
  opts: { readonly lakeRoot?: string; readonly replayFile?: string } = {},
): Promise<TraderArtifacts> {
  const out = resolve(outDir);
  const replayDir = join(out, "replay");
  const featDir = join(out, "feature");
  mkdirSync(replayDir, { recursive: true });
  mkdirSync(featDir, { recursive: true });
  const p = {
    replay: join(replayDir, "replay_1m.parquet"),
    frame: join(featDir, "feature_frame.parquet"),
    featureOrder: join(featDir, "feature_order.json"),
    featureSchema: join(featDir, "feature_schema.json"),
    splitManifest: join(featDir, "split_manifest.json"),
    manifest: join(featDir, "feature_frame.manifest.json"),
    reportMd: join(featDir, "feature_quality_report.md"),
    reportHtml: join(featDir, "feature_quality_report.html"),
  };
  writeParquet(tf.replay, p.replay);
  writeParquet(tf.frame, p.frame);
  const order = [...tf.features];
  const schema = featureSchema(tf.features);
  atomicWrite(p.featureOrder, `${JSON.stringify(order, null, 2)}\n`);
  atomicWrite(p.featureSchema, `${JSON.stringify(schema, null, 2)}\n`);
  const splits = splitManifestJson(tf.splitManifest);
  atomicWrite(p.splitManifest, `${JSON.stringify(splits, null, 2)}\n`);
  const inputs =
    opts.lakeRoot !== undefined
      ? { lake_partitions: await hashPartitions(opts.lakeRoot, tf.partitions) }
      : opts.replayFile !== undefined
        ? { replay_file: { path: opts.replayFile, sha256: (await sha256File(opts.replayFile)).sha256 } }
        : { replay_frame: { data_hash_sha256: canonicalFrameHash(tf.replay) } };
  const manifestJson: Record<string, unknown> = {
    version: 1,
    feature_version: tf.featureVersion,
    feature_count: order.length,
    rows: tf.frame.height,
    rows_by_flag: tf.flagCounts,
    replay_rows: tf.filter.replayRows,
    rows_dropped_incomplete_days: tf.filter.droppedRows,
    incomplete_symbol_days: tf.filter.incompleteDays,
    symbols: [...tf.bySymbol.keys()],
    feature_order_hash: canonicalJsonSha256(order),
    feature_schema_hash: canonicalJsonSha256(schema),
    data_hash_sha256: canonicalFrameHash(tf.frame),
    replay_hash_sha256: canonicalFrameHash(tf.replay),
    split_manifest: splits,
    input: inputs,
  };
  atomicWrite(p.manifest, `${JSON.stringify(manifestJson, null, 2)}\n`);
  const q = await qualityStats(tf);
  atomicWrite(p.reportMd, qualityReportMarkdown(tf, q));
  atomicWrite(p.reportHtml, await qualityReportHtml(tf, q));
  return { outDir: out, ...p, manifestJson, quality: q };
}
