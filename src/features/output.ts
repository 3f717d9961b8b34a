/**
 * Writing a feature frame to `.parquet` or `.csv` (chosen by extension) with a manifest beside it
 * (`<out>.manifest.json`): row count, columns with dtype and unit, the validated config and its hash,
 * input partitions with content hashes, the output file's sha256, the canonical content hash of the
 * values (encoding-independent, see engine/hash.ts), run statistics and the code version.
 *
 * CSV is written batch by batch (memory bounded by the batch size); Parquet collects the frame first
 * (the frame, not the input, must fit in memory).
 */
import { appendFile, mkdir, rename, rm, writeFile } from "node:fs/promises";
import { dirname, extname, resolve } from "node:path";
import pl from "nodejs-polars";
import { canonicalJsonSha256 } from "../core/canonical-json.js";
import { ConfigError } from "../core/errors.js";
import { usToIso } from "../core/time.js";
import { type CodeVersion, codeVersion } from "../core/version.js";
import { CanonicalHasher } from "../engine/hash.js";
import type { ReplaySummary } from "../engine/replay.js";
import { hashPartitions, type InputPartition } from "../engine/source.js";
import { sha256File } from "../lake/hash.js";
import { Lake } from "../lake/lake.js";
import {
  batchToFrame,
  type FeatureFrameRequest,
  type FeaturePlan,
  type FrameColumn,
  planFeatureFrame,
  replayOf,
} from "./frame.js";

/** An output range in manifests: ISO-8601 and µs, [start, end). */
export interface ManifestRange {
  readonly start: string;
  readonly end: string;
  readonly start_us: number;
  readonly end_us: number;
}

/** The manifest written beside a feature frame (`<out>.manifest.json`; see the module doc). */
export interface FeatureManifest {
  readonly kind: "pointline.feature_frame";
  readonly version: 1;
  readonly output: {
    readonly path: string;
    readonly format: "parquet" | "csv";
    readonly sha256: string;
    readonly bytes: number;
  };
  readonly content_sha256: string;
  readonly row_count: number;
  readonly columns: readonly FrameColumn[];
  readonly instrument: { readonly exchange: string; readonly symbol: string };
  readonly range: ManifestRange;
  readonly config: unknown;
  readonly config_hash: string;
  readonly families: readonly string[];
  readonly warmup_us: number;
  readonly replay_start_us: number;
  readonly events: ReplaySummary["events"];
  readonly trades_in_range: number;
  readonly unassigned_trades: number;
  readonly input_partitions: readonly InputPartition[];
  readonly code_version: CodeVersion;
  readonly elapsed_ms: number;
}

/** sha256 of the canonical JSON (sorted keys) of the run's definition: instrument, range, config. */
export function configHash(plan: FeaturePlan): string {
  const def = {
    exchange: plan.exchange,
    symbol: plan.symbol,
    start_us: plan.startUs,
    end_us: plan.endUs,
    config: plan.config,
  };
  return canonicalJsonSha256(def);
}

/**
 * Computes the frame of `req` and writes it to `out` (.parquet or .csv) plus `<out>.manifest.json`.
 * The data file is written to a temp name and renamed, so a failed run leaves no partial output.
 * @throws ConfigError for an unsupported extension or an invalid request.
 */
export async function writeFeatureFrame(request: FeatureFrameRequest, out: string): Promise<FeatureManifest> {
  const started = performance.now();
  const req = { ...request, lake: await Lake.from(request.lake) };
  const format =
    extname(out).toLowerCase() === ".parquet"
      ? "parquet"
      : extname(out).toLowerCase() === ".csv"
        ? "csv"
        : null;
  if (format === null) throw new ConfigError(`--out ${out}: extension must be .parquet or .csv`);
  const plan = await planFeatureFrame(req);
  const replay = replayOf(plan, req);
  const path = resolve(out);
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  const hasher = new CanonicalHasher();
  try {
    if (format === "csv") {
      let first = true;
      await writeFile(tmp, "");
      for await (const b of replay.batches()) {
        const df = batchToFrame(plan, b);
        hasher.add(df);
        await appendFile(tmp, df.writeCSV({ includeHeader: first }).toString());
        first = false;
      }
      if (first) {
        hasher.add(emptyFrame(plan));
        await writeFile(tmp, `${plan.columns.map((c) => c.name).join(",")}\n`);
      }
    } else {
      const parts: pl.DataFrame[] = [];
      for await (const b of replay.batches()) {
        const df = batchToFrame(plan, b);
        hasher.add(df);
        parts.push(df);
      }
      const frame =
        parts.length === 0
          ? emptyFrame(plan)
          : parts.length === 1
            ? parts[0]!
            : pl.concat(parts, { how: "vertical" });
      if (parts.length === 0) hasher.add(frame);
      frame.writeParquet(tmp, { compression: "zstd" });
    }
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  const { sha256, bytes } = await sha256File(path);
  const s = replay.summary;
  const manifest: FeatureManifest = {
    kind: "pointline.feature_frame",
    version: 1,
    output: { path, format, sha256, bytes },
    content_sha256: hasher.digest(),
    row_count: s.rows,
    columns: plan.columns,
    instrument: { exchange: plan.exchange, symbol: plan.symbol },
    range: {
      start: usToIso(plan.startUs),
      end: usToIso(plan.endUs),
      start_us: plan.startUs,
      end_us: plan.endUs,
    },
    config: plan.config,
    config_hash: configHash(plan),
    families: plan.families.map((f) => f.id),
    warmup_us: plan.warmupUs,
    replay_start_us: s.replayStartUs,
    events: s.events,
    trades_in_range: s.spine.tradesInRange,
    unassigned_trades: s.spine.unassignedTrades,
    input_partitions: await hashPartitions(Lake.rootOf(req.lake), s.partitions),
    code_version: codeVersion(),
    elapsed_ms: Math.round(performance.now() - started),
  };
  await writeFile(`${path}.manifest.json`, `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

function emptyFrame(plan: FeaturePlan): pl.DataFrame {
  return pl.DataFrame(
    plan.columns.map((c) => pl.Series(c.name, [], c.dtype === "Int64" ? pl.Int64 : pl.Float64)),
  );
}
