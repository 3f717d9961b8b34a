/**
 * Second half of the README's main job: feature frames on the ingested sample captures —
 * binance-futures BTCUSDT 2024-08-08 23:54–24:00 UTC as (1) a 1 s clock frame with every family
 * (cross-venue against binance spot BTCUSDT) and (2) a 5 BTC volume-bar frame (≈ $300k notional per bar,
 * ~400 bars in the window) with every family plus the volume-bar aggregations.
 */
import { join, resolve } from "node:path";
import pl from "nodejs-polars";
import { roleTable } from "../engine/operator.js";
import type { FeatureRunInput } from "../features/config.js";
import { FAMILIES } from "../features/families.js";
import { planFeatureFrame } from "../features/frame.js";
import { type FeatureManifest, writeFeatureFrame } from "../features/output.js";

/** Instrument, window and cross-venue spot of the main job's sample frames. */
export const SAMPLE_FRAME_WINDOW = {
  exchange: "binance-futures",
  symbol: "BTCUSDT",
  start: "2024-08-08T23:54:00Z",
  end: "2024-08-09T00:00:00Z",
  spot: { exchange: "binance", symbol: "BTCUSDT" },
} as const;

const ALL: FeatureRunInput = Object.fromEntries(FAMILIES.map((f) => [f.flag, true]));

/** The sample frames of the main job: name, output file, config. */
export const SAMPLE_FRAMES: readonly {
  readonly name: string;
  readonly file: string;
  readonly config: FeatureRunInput;
}[] = [
  {
    name: "1 s clock, all families",
    file: "btcusdt_20240808_clock1s.parquet",
    config: { ...ALL, spine: { type: "clock", stepMs: 1000 }, crossVenue: SAMPLE_FRAME_WINDOW.spot },
  },
  {
    name: "5 BTC volume bars, all families + bar aggregations",
    file: "btcusdt_20240808_volume5.parquet",
    config: { ...ALL, spine: { type: "volume", volumeThreshold: 5 }, crossVenue: SAMPLE_FRAME_WINDOW.spot },
  },
];

/** Null ratio of one family's columns in a frame (nulls / (rows × columns)). */
export interface FamilyNulls {
  readonly id: string;
  readonly title: string;
  readonly columns: number;
  readonly nullRatio: number;
  /** Why a family is all null, when an input table has no rows in the replayed range. */
  readonly note: string;
}

/** Builds and writes the sample frames into `outDir`; returns each manifest and its per-family null ratios. */
export async function buildSampleFrames(
  lake: string,
  outDir: string,
): Promise<{ name: string; manifest: FeatureManifest; nulls: FamilyNulls[] }[]> {
  const out: { name: string; manifest: FeatureManifest; nulls: FamilyNulls[] }[] = [];
  for (const f of SAMPLE_FRAMES) {
    const req = {
      lake,
      exchange: SAMPLE_FRAME_WINDOW.exchange,
      symbol: SAMPLE_FRAME_WINDOW.symbol,
      start: SAMPLE_FRAME_WINDOW.start,
      end: SAMPLE_FRAME_WINDOW.end,
      config: f.config,
    };
    const manifest = await writeFeatureFrame(req, join(resolve(outDir), f.file));
    const plan = await planFeatureFrame(req);
    const df = pl.readParquet(manifest.output.path);
    const nulls: FamilyNulls[] = plan.families.map((fam, k) => {
      const cols = plan.operators[k]!.outputs.map((o) => o.name);
      const counts = df.select(...cols.map((c) => pl.col(c).isNull().sum().alias(c))).row(0) as number[];
      const n = counts.reduce((s, x) => s + Number(x), 0);
      const empty = plan.operators[k]!.inputs.filter((r) => (manifest.events[r] ?? 0) === 0);
      return {
        id: fam.id,
        title: fam.title.replace(/[:(].*$/, "").trim(),
        columns: cols.length,
        nullRatio: df.height === 0 ? 1 : n / (df.height * cols.length),
        note: empty.length > 0 ? `no ${empty.map((r) => roleTable(r)).join(", ")} rows in the range` : "",
      };
    });
    out.push({ name: f.name, manifest, nulls });
  }
  return out;
}

/** Text summary: rows, columns, null ratio per family. */
export function formatSampleFrames(rs: Awaited<ReturnType<typeof buildSampleFrames>>): string {
  const parts: string[] = [];
  for (const r of rs) {
    const m = r.manifest;
    parts.push(
      `${r.name}: ${m.row_count} rows × ${m.columns.length} columns -> ${m.output.path} (${m.elapsed_ms} ms, unassigned trades ${m.unassigned_trades}/${m.trades_in_range})`,
    );
    for (const n of r.nulls) {
      parts.push(
        `  ${n.id.padEnd(5)} ${n.title.padEnd(24)} ${String(n.columns).padStart(3)} cols  null ${(100 * n.nullRatio).toFixed(1).padStart(5)}%  ${n.note}`.trimEnd(),
      );
    }
  }
  return parts.join("\n");
}
