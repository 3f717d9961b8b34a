/**
 * `buildTraderFeatureFrame`: the trader 1-minute feature frame (issue #12) from the lake (via
 * `buildReplay1m`) or from a replay the user brings. Per symbol, the 33 features are computed by the
 * trader preset's operators run by the Driver over the replay rows (features/trader/run.ts), then:
 *
 * - **complete days**: only symbol-days (UTC) with 1,440 replay rows are kept, unless `allowIncompleteDays`
 *   (features are computed over every replay row first, so a kept day's values do not depend on the filter);
 * - `sample_id` = `symbol:open_time_ms`;
 * - `split_id` / `walk_forward_fold` from the split manifest (trader/splits.ts; default: generated for the
 *   frame's range with ratios 0.7 / 0.15 / 0.15 and no purge, embargo or folds);
 * - `feature_version`;
 * - `data_quality_flag`: `WARMUP` where any selected feature is null, else `PARTIAL_OPTIONAL` where a
 *   selected feature reads liquidations and `liquidation_available` ≠ 1, else `OK`;
 * - features written as Float32 (`Math.fround` of the float64 value; the float64 values are what the
 *   tests compare with the naive reference, the frame's are those rounded once).
 *
 * Frame columns, in order: `sample_id`, `symbol`, `event_time` (Datetime µs UTC), `open_time_ms`,
 * `available_at_us`, the replay's value columns (Float64, natural units; `next_funding_time` Datetime),
 * the selected features (Float32, `feature_order`), `feature_version`, `data_quality_flag`, `split_id`,
 * `walk_forward_fold`. Rows sorted by (symbol, event_time).
 */
import pl from "nodejs-polars";
import { ConfigError } from "../core/errors.js";
import { type TimeInput, US_PER_DAY, US_PER_MINUTE } from "../core/time.js";
import type { InputPartition } from "../engine/source.js";
import {
  LIQUIDATION_FEATURES,
  TRADER_FEATURE_VERSION,
  TRADER_FEATURES,
} from "../features/trader/features.js";
import { REPLAY_VALUE_COLUMNS, type ReplayRows } from "../features/trader/preset.js";
import { runTraderFeatures } from "../features/trader/run.js";
import type { LakeRef } from "../lake/lake.js";
import { buildReplay1m, type Replay1mSymbolSummary, replayRowsToFrame } from "./replay.js";
import { readReplayFile, replayFrameRows } from "./replay-io.js";
import { assignSplits, generateSplitManifest, type SplitManifest } from "./splits.js";

/** Data quality flags, in the order of their precedence. */
export const FLAGS = ["WARMUP", "PARTIAL_OPTIONAL", "OK"] as const;
export type DataQualityFlag = (typeof FLAGS)[number];

/** Minutes of a complete UTC day. */
export const MINUTES_PER_DAY = 1440;

/** Where the replay comes from. */
export type TraderFrameSource =
  | {
      readonly kind: "lake";
      readonly lake: LakeRef;
      readonly exchange: string;
      readonly symbols: readonly string[];
      readonly start: TimeInput;
      readonly end: TimeInput;
      readonly prefetch?: boolean;
    }
  | {
      readonly kind: "replay";
      /** A replay frame, or the path of a Parquet / CSV file (trader/replay-io.ts). */
      readonly replay: pl.DataFrame | string;
    };

/** A `buildTraderFeatureFrame` request. */
export interface TraderFrameRequest {
  readonly source: TraderFrameSource;
  /** Subset of the 33 features (default all, in the reference's order); flags consider only these. */
  readonly features?: readonly string[];
  readonly allowIncompleteDays?: boolean;
  /** Default: `generateSplitManifest` over the replay's range. */
  readonly splitManifest?: SplitManifest;
  /** Default `TRADER_FEATURE_VERSION`. */
  readonly featureVersion?: string;
}

/** A built frame with what its artifacts and reports need. */
export interface TraderFrame {
  readonly frame: pl.DataFrame;
  readonly replay: pl.DataFrame;
  /** Selected features, in frame order. */
  readonly features: readonly string[];
  readonly featureVersion: string;
  readonly splitManifest: SplitManifest;
  readonly flagCounts: Readonly<Record<DataQualityFlag, number>>;
  /** Replay rows, rows dropped by the complete-days filter, and incomplete symbol-days. */
  readonly filter: {
    readonly replayRows: number;
    readonly droppedRows: number;
    readonly incompleteDays: number;
  };
  /** Per-symbol replay rows and feature values (float64, aligned with the replay rows), for checks. */
  readonly bySymbol: ReadonlyMap<
    string,
    { readonly rows: ReplayRows; readonly features: readonly Float64Array[] }
  >;
  readonly replaySummary?: readonly Replay1mSymbolSummary[];
  readonly partitions: readonly InputPartition[];
  /** Where the replay came from (a path, or "lake exchange [start, end)"). */
  readonly sourceLabel: string;
}

/** The selected features in the reference's order. @throws ConfigError naming an unknown one. */
export function selectFeatures(names?: readonly string[]): string[] {
  if (names === undefined || names.length === 0) return [...TRADER_FEATURES];
  for (const n of names)
    if (!TRADER_FEATURES.includes(n))
      throw new ConfigError(`unknown trader feature ${n} (features: ${TRADER_FEATURES.join(", ")})`);
  return TRADER_FEATURES.filter((f) => names.includes(f));
}

/** Flag of one row from its selected feature values and liquidation availability. */
export function flagOf(
  values: readonly number[],
  readsLiquidations: boolean,
  liqAvailable: number,
): DataQualityFlag {
  if (values.some((v) => Number.isNaN(v))) return "WARMUP";
  if (readsLiquidations && liqAvailable !== 1) return "PARTIAL_OPTIONAL";
  return "OK";
}

/** Builds the frame (see the module doc). @throws ConfigError on bad input (named). */
export async function buildTraderFeatureFrame(req: TraderFrameRequest): Promise<TraderFrame> {
  const features = selectFeatures(req.features);
  const featureVersion = req.featureVersion ?? TRADER_FEATURE_VERSION;
  let replay: pl.DataFrame;
  let rowsBySymbol: Map<string, ReplayRows>;
  let replaySummary: readonly Replay1mSymbolSummary[] | undefined;
  let partitions: readonly InputPartition[] = [];
  let sourceLabel: string;
  const src = req.source;
  if (src.kind === "lake") {
    const r = await buildReplay1m({
      lake: src.lake,
      exchange: src.exchange,
      symbols: src.symbols,
      start: src.start,
      end: src.end,
      ...(src.prefetch !== undefined ? { prefetch: src.prefetch } : {}),
    });
    replay = r.frame;
    rowsBySymbol = new Map(r.bySymbol);
    replaySummary = r.summary;
    partitions = r.partitions;
    sourceLabel = `lake ${src.exchange} ${src.symbols.join(",")} [${String(src.start)}, ${String(src.end)})`;
  } else {
    const where = typeof src.replay === "string" ? `replay ${src.replay}` : "replay frame";
    const df = typeof src.replay === "string" ? readReplayFile(src.replay) : src.replay;
    rowsBySymbol = replayFrameRows(df, where);
    replay = pl.concat(
      [...rowsBySymbol].map(([s, rows]) => replayRowsToFrame(s, rows)),
      { how: "vertical" },
    );
    sourceLabel = typeof src.replay === "string" ? src.replay : "replay frame";
  }

  // features per symbol (one Driver run each)
  const bySymbol = new Map<string, { rows: ReplayRows; features: Float64Array[] }>();
  for (const [sym, rows] of rowsBySymbol) {
    const f = runTraderFeatures(sym, rows);
    bySymbol.set(sym, { rows, features: [...f.columns] });
  }

  // the range for the default split manifest
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const { rows } of bySymbol.values()) {
    if (rows.eventUs.length === 0) continue;
    lo = Math.min(lo, rows.eventUs[0]!);
    hi = Math.max(hi, rows.eventUs[rows.eventUs.length - 1]! + US_PER_MINUTE);
  }
  const splitManifest =
    req.splitManifest ??
    (hi > lo
      ? generateSplitManifest({ start: lo, end: hi })
      : generateSplitManifest({ start: 0, end: US_PER_MINUTE }));

  const fIdx = features.map((f) => TRADER_FEATURES.indexOf(f));
  const readsLiq = features.some((f) => LIQUIDATION_FEATURES.includes(f));
  const liqCol = REPLAY_VALUE_COLUMNS.indexOf("liquidation_available");
  const parts: pl.DataFrame[] = [];
  const flagCounts: Record<DataQualityFlag, number> = { WARMUP: 0, PARTIAL_OPTIONAL: 0, OK: 0 };
  let replayRows = 0;
  let droppedRows = 0;
  let incompleteDays = 0;
  for (const [sym, { rows, features: fcols }] of bySymbol) {
    const n = rows.eventUs.length;
    replayRows += n;
    // complete days: 1,440 replay rows on the UTC day
    const perDay = new Map<number, number>();
    for (let i = 0; i < n; i++) {
      const d = Math.floor(rows.eventUs[i]! / US_PER_DAY);
      perDay.set(d, (perDay.get(d) ?? 0) + 1);
    }
    for (const c of perDay.values()) if (c !== MINUTES_PER_DAY) incompleteDays++;
    const keep: number[] = [];
    for (let i = 0; i < n; i++) {
      if (
        req.allowIncompleteDays ||
        perDay.get(Math.floor(rows.eventUs[i]! / US_PER_DAY)) === MINUTES_PER_DAY
      )
        keep.push(i);
    }
    droppedRows += n - keep.length;
    const t = Float64Array.from(keep, (i) => rows.eventUs[i]!);
    const { splitId, fold } = assignSplits(splitManifest, t);
    const flags: string[] = [];
    const vals = new Array<number>(fIdx.length);
    for (const i of keep) {
      for (let k = 0; k < fIdx.length; k++) vals[k] = fcols[fIdx[k]!]![i]!;
      const f = flagOf(vals, readsLiq, rows.columns[liqCol]![i]!);
      flagCounts[f]++;
      flags.push(f);
    }
    const base = replayRowsToFrame(sym, {
      eventUs: t,
      columns: rows.columns.map((c) => Float64Array.from(keep, (i) => c[i]!)),
    });
    const series: pl.Series[] = features.map((name, k) =>
      pl.Series(
        name,
        Float32Array.from(keep, (i) => fcols[fIdx[k]!]![i]!),
        pl.Float32,
      ),
    );
    const featureFrame = pl.DataFrame(series).select(...features.map((f) => pl.col(f).fillNan(null)));
    const sampleIds = Array.from(t, (x) => `${sym}:${x / 1000}`);
    parts.push(
      pl.concat(
        [
          pl.DataFrame([pl.Series("sample_id", sampleIds, pl.Utf8)]),
          base,
          featureFrame,
          pl.DataFrame([
            pl.Series("feature_version", new Array<string>(keep.length).fill(featureVersion), pl.Utf8),
            pl.Series("data_quality_flag", flags, pl.Utf8),
            pl.Series("split_id", splitId, pl.Utf8),
            pl.Series("walk_forward_fold", fold, pl.Utf8),
          ]),
        ],
        { how: "horizontal" },
      ),
    );
  }
  if (parts.length === 0) throw new ConfigError(`${sourceLabel}: the replay has no rows`);
  const frame = parts.length === 1 ? parts[0]! : pl.concat(parts, { how: "vertical" });
  return {
    frame,
    replay,
    features,
    featureVersion,
    splitManifest,
    flagCounts,
    filter: { replayRows, droppedRows, incompleteDays },
    bySymbol,
    ...(replaySummary ? { replaySummary } : {}),
    partitions,
    sourceLabel,
  };
}
