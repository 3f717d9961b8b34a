/**
 * Artifacts of a pipeline v2 run, written into the run's own output directory (confined beforehand by
 * `resolveOutputDir`, paths.ts):
 *
 * | file                   | content                                                                  |
 * |------------------------|--------------------------------------------------------------------------|
 * | `features.parquet`     | the frame (spine + features + labels), zstd; always `paths[0]`           |
 * | `manifest.json`        | `PipelineRunManifest`: data file sha256/bytes, canonical content hash,   |
 * |                        | row count, feature order, labels, schema, request + hash, code version,  |
 * |                        | decision                                                                 |
 * | `feature_schema.json`  | `FeatureSchemaFile`: provenance of every feature and label column        |
 * | `lineage.json`         | `LineageFile` (only with `emitLineage`): input partitions with sha256    |
 * | `quality_report.md`    | the Markdown quality report (report.ts)                                  |
 * | `quality_report.html`  | the same report as one self-contained HTML page with charts (only when   |
 * |                        | `reportHtml` is given; report-html.ts)                                   |
 * | `pipeline_output.json` | the pipeline's output JSON; always last                                  |
 *
 * Atomicity: every file is first written into a staging directory inside the output directory
 * (`.artifacts.tmp-*`, same file system) and renamed into place only once all of them were written, in
 * the order above, so `pipeline_output.json` appearing means the run's artifacts are complete. On any
 * error the files already renamed by this call are removed, the staging directory is deleted, the output
 * directory is removed again if this call created it (parents created with it stay), and the error is
 * rethrown: no partial or temporary
 * file is left (the artifacts of an earlier run in the same directory that this call replaced are gone
 * too). A stale `lineage.json` (`quality_report.html`) of an earlier run is removed when this run emits none.
 */
import { mkdir, mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import pl from "nodejs-polars";
import { ConfigError } from "../core/errors.js";
import type { CodeVersion } from "../core/version.js";
import { canonicalFrameHash } from "../engine/hash.js";
import type { PartCache } from "../engine/part-cache.js";
import { hashPartitions, type InputPartition } from "../engine/source.js";
import { sha256File } from "../lake/hash.js";
import type { Decision, GateResult, PipelineColumn } from "./gate-types.js";

/** File names of the artifacts, in write (and `paths`) order. */
export const ARTIFACT_FILES = {
  data: "features.parquet",
  manifest: "manifest.json",
  schema: "feature_schema.json",
  lineage: "lineage.json",
  report: "quality_report.md",
  reportHtml: "quality_report.html",
  output: "pipeline_output.json",
} as const;

/** What `writeArtifacts` reports back (also passed to an `output` callback, see `ArtifactsInput`). */
export interface ArtifactsResult {
  /** Absolute paths of the written files in write order; `paths[0]` is `features.parquet`. */
  readonly paths: string[];
  /** Hex sha256 of the written Parquet file's bytes. */
  readonly dataSha256: string;
  /** `canonicalFrameHash(frame)` (engine/hash.ts): encoding-independent hash of the values. */
  readonly contentHash: string;
}

/** Input of `writeArtifacts`. */
export interface ArtifactsInput {
  /** Output directory, already confined by `resolveOutputDir`; created recursively. */
  readonly outputDir: string;
  /** Lake root the input partitions' paths are relative to. */
  readonly lake: string;
  /** The run's frame: spine, features and labels, each described in `columns`. */
  readonly frame: pl.DataFrame;
  /** One entry per frame column (any order; the frame's order is the one written). */
  readonly columns: readonly PipelineColumn[];
  /** The validated request JSON, stored as given (its string `request_id` becomes the manifest's). */
  readonly request: unknown;
  readonly requestHash: string;
  /** Input partitions read by the run (their sha256 is filled here with `hashPartitions`). */
  readonly partitions: readonly InputPartition[];
  /** The run's decoded-partition cache: the partitions' content hashes it computed are reused. */
  readonly partCache?: PartCache;
  readonly codeVersion: CodeVersion;
  readonly gates: readonly GateResult[];
  readonly decision: Decision;
  readonly metrics: readonly unknown[];
  /** Write `lineage.json`. */
  readonly emitLineage: boolean;
  /** The Markdown quality report (`qualityReportMarkdown`). */
  readonly report: string;
  /** The HTML quality report (`pipelineReportHtml`), written as `quality_report.html` when given. */
  readonly reportHtml?: string;
  /**
   * The full pipeline output JSON, written as `pipeline_output.json`. A function is called with the
   * paths and hashes first (so the output can quote them) and its return value is written.
   */
  readonly output: unknown;
  /**
   * The frame's canonical content hash when the caller already has it (e.g. `canonicalColumnsHash` of the
   * typed columns, engine/hash.ts — the same digest); computed from `frame` otherwise.
   */
  readonly contentHash?: string;
}

/** `manifest.json` of a pipeline run. */
export interface PipelineRunManifest {
  readonly kind: "pointline.pipeline_run";
  readonly version: 1;
  /** The request's `request_id` (null when it has none). */
  readonly request_id: string | null;
  /** The data file, `path` relative to the manifest's directory. */
  readonly data: { readonly path: string; readonly sha256: string; readonly bytes: number };
  readonly content_hash: string;
  readonly row_count: number;
  /** Feature column names in frame order. */
  readonly feature_order: readonly string[];
  /** Label column names in frame order. */
  readonly label_columns: readonly string[];
  /** Every column in frame order. */
  readonly schema: readonly {
    readonly name: string;
    readonly role: PipelineColumn["role"];
    readonly dtype: PipelineColumn["dtype"];
    readonly unit: string;
  }[];
  readonly request: unknown;
  readonly request_hash: string;
  readonly code_version: CodeVersion;
  readonly decision: Decision;
}

/** `feature_schema.json`: provenance of each feature and label column, in frame order (null: unknown). */
export interface FeatureSchemaFile {
  readonly kind: "pointline.feature_schema";
  readonly version: 1;
  readonly columns: readonly {
    readonly name: string;
    readonly role: "feature" | "label";
    readonly dtype: PipelineColumn["dtype"];
    readonly unit: string;
    readonly operator: string | null;
    readonly aggregation: string | null;
    readonly aggregation_version: string | null;
    readonly source_table: string | null;
    readonly description: string | null;
  }[];
}

/** `lineage.json`: the lake partitions a run read, with content hashes. */
export interface LineageFile {
  readonly kind: "pointline.pipeline_lineage";
  readonly version: 1;
  /** Absolute lake root; partition paths are relative to it. */
  readonly lake: string;
  readonly input_partitions: readonly InputPartition[];
  /** Distinct non-empty `file_id`s of the partitions, sorted. */
  readonly file_ids: readonly string[];
  readonly request_hash: string;
  readonly code_version: CodeVersion;
}

/** The absolute artifact paths `writeArtifacts` will return for `outputDir`, in order. */
export function artifactPaths(outputDir: string, emitLineage: boolean, emitHtml = false): string[] {
  const dir = resolve(outputDir);
  return Object.entries(ARTIFACT_FILES)
    .filter(([k]) => (emitLineage || k !== "lineage") && (emitHtml || k !== "reportHtml"))
    .map(([, f]) => join(dir, f));
}

/**
 * Writes the artifacts of a run into `outputDir` (see the module doc for the files and the atomicity
 * guarantees) and returns their paths, the Parquet file's sha256 and the frame's canonical content hash.
 * Reads every input partition once to hash it when `emitLineage`.
 * @throws ConfigError when `columns` does not describe the frame's columns exactly (missing, extra or
 *   duplicate names, or a dtype different from the frame's) — checked before anything is written;
 *   otherwise rethrows the file-system / serialisation error after cleaning up
 */
export async function writeArtifacts(input: ArtifactsInput): Promise<ArtifactsResult> {
  const ordered = frameColumns(input.frame, input.columns);
  const dir = resolve(input.outputDir);
  const paths = artifactPaths(dir, input.emitLineage, input.reportHtml !== undefined);
  const contentHash = input.contentHash ?? canonicalFrameHash(input.frame);

  const created = await mkdir(dir, { recursive: true });
  const committed: string[] = [];
  let staging: string | null = null;
  try {
    staging = await mkdtemp(join(dir, ".artifacts.tmp-"));
    const stage = (name: string) => join(staging!, name);

    input.frame.writeParquet(stage(ARTIFACT_FILES.data), { compression: "zstd" });
    const { sha256: dataSha256, bytes } = await sha256File(stage(ARTIFACT_FILES.data));
    const result: ArtifactsResult = { paths, dataSha256, contentHash };

    const manifest: PipelineRunManifest = {
      kind: "pointline.pipeline_run",
      version: 1,
      request_id: requestIdOf(input.request),
      data: { path: ARTIFACT_FILES.data, sha256: dataSha256, bytes },
      content_hash: contentHash,
      row_count: input.frame.height,
      feature_order: ordered.filter((c) => c.role === "feature").map((c) => c.name),
      label_columns: ordered.filter((c) => c.role === "label").map((c) => c.name),
      schema: ordered.map((c) => ({ name: c.name, role: c.role, dtype: c.dtype, unit: c.unit })),
      request: input.request,
      request_hash: input.requestHash,
      code_version: input.codeVersion,
      decision: input.decision,
    };
    await writeFile(stage(ARTIFACT_FILES.manifest), json(manifest));

    const schema: FeatureSchemaFile = {
      kind: "pointline.feature_schema",
      version: 1,
      columns: ordered.flatMap((c) =>
        c.role === "spine"
          ? []
          : [
              {
                name: c.name,
                role: c.role,
                dtype: c.dtype,
                unit: c.unit,
                operator: c.operator ?? null,
                aggregation: c.aggregation ?? null,
                aggregation_version: c.aggregationVersion ?? null,
                source_table: c.source ?? null,
                description: c.description ?? null,
              },
            ],
      ),
    };
    await writeFile(stage(ARTIFACT_FILES.schema), json(schema));

    if (input.emitLineage) {
      const lake = resolve(input.lake);
      const parts = await hashPartitions(lake, input.partitions, input.partCache);
      const lineage: LineageFile = {
        kind: "pointline.pipeline_lineage",
        version: 1,
        lake,
        input_partitions: parts,
        file_ids: [...new Set(parts.map((p) => p.file_id).filter((f) => f !== ""))].sort(),
        request_hash: input.requestHash,
        code_version: input.codeVersion,
      };
      await writeFile(stage(ARTIFACT_FILES.lineage), json(lineage));
    }

    await writeFile(stage(ARTIFACT_FILES.report), input.report);
    if (input.reportHtml !== undefined) await writeFile(stage(ARTIFACT_FILES.reportHtml), input.reportHtml);
    const output =
      typeof input.output === "function"
        ? (input.output as (r: ArtifactsResult) => unknown)(result)
        : input.output;
    await writeFile(stage(ARTIFACT_FILES.output), json(output));

    // commit in order, pipeline_output.json last
    if (!input.emitLineage) await rm(join(dir, ARTIFACT_FILES.lineage), { force: true });
    if (input.reportHtml === undefined) await rm(join(dir, ARTIFACT_FILES.reportHtml), { force: true });
    for (const p of paths) {
      await rename(stage(basename(p)), p);
      committed.push(p);
    }
    return result;
  } catch (e) {
    for (const p of committed) await rm(p, { force: true });
    if (staging !== null) await rm(staging, { recursive: true, force: true });
    staging = null;
    // only the output directory itself, never parents created with it (another run may share them)
    if (created !== undefined) await rm(dir, { recursive: true, force: true });
    throw e;
  } finally {
    if (staging !== null) await rm(staging, { recursive: true, force: true });
  }
}

/** The `columns` entries in frame order, checked against the frame (see `writeArtifacts`). */
function frameColumns(frame: pl.DataFrame, columns: readonly PipelineColumn[]): PipelineColumn[] {
  const byName = new Map<string, PipelineColumn>();
  for (const c of columns) {
    if (byName.has(c.name)) throw new ConfigError(`artifacts: column ${c.name} is described twice`);
    byName.set(c.name, c);
  }
  const out = frame.columns.map((name) => {
    const c = byName.get(name);
    if (c === undefined) throw new ConfigError(`artifacts: frame column ${name} has no column description`);
    const dtype = frame.getColumn(name).dtype;
    if (!dtype.equals(c.dtype === "Int64" ? pl.Int64 : pl.Float64)) {
      throw new ConfigError(`artifacts: frame column ${name} is ${String(dtype)}, described as ${c.dtype}`);
    }
    return c;
  });
  if (out.length !== byName.size) {
    const inFrame = new Set(frame.columns);
    const missing = [...byName.keys()].filter((n) => !inFrame.has(n));
    throw new ConfigError(`artifacts: described columns missing from the frame: ${missing.join(", ")}`);
  }
  return out;
}

/** The request's string `request_id`, or null. */
function requestIdOf(request: unknown): string | null {
  if (request === null || typeof request !== "object") return null;
  const id = (request as { request_id?: unknown }).request_id;
  return typeof id === "string" ? id : null;
}

/** Pretty JSON with a final newline; bigint as decimal string. @throws TypeError on cycles. */
function json(v: unknown): string {
  const s = JSON.stringify(v, (_k, x: unknown) => (typeof x === "bigint" ? x.toString() : x), 2);
  return `${s ?? "null"}\n`;
}
