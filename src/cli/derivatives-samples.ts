/**
 * The main job's derivatives part (issue 13): the `derivatives` preset on the real sample data —
 * binance-futures XRPUSDT 5 m perp candles with their 8 h funding and mark (freqtrade files), and the CME
 * ES Dec-2013 future (ESZ13) 1 m bars with their open interest (Lean) — written to `outDir` with the targets,
 * summarised as column counts and null ratios per preset group.
 */
import { join, resolve } from "node:path";
import type pl from "nodejs-polars";
import { parseFeatureRunConfig } from "../features/config.js";
import { DERIVATIVES_WARMUP_MS, derivativesGroups } from "../features/derivatives/preset.js";
import { addTargets, derivativesTargets } from "../features/derivatives/targets.js";
import { FAMILIES } from "../features/families.js";
import { buildFeatureFrameWithSummary } from "../features/frame.js";

/** The sample runs: instrument, range, spine. */
export const DERIVATIVES_SAMPLES = [
  {
    name: "XRPUSDT perp, 5 m bars (freqtrade candles, funding, mark)",
    file: "xrpusdt_5m_derivatives.parquet",
    exchange: "binance-futures",
    symbol: "XRPUSDT",
    start: "2021-11-15T00:00:00Z",
    end: "2021-11-22T00:00:00Z",
    spine: { type: "bars", intervalMs: 300_000 },
  },
  {
    name: "ES Dec-2013 future (ESZ13), 1 m bars with open interest (Lean)",
    file: "esz13_1m_derivatives.parquet",
    exchange: "cme",
    symbol: "ESZ13",
    start: "2013-10-07T00:00:00Z",
    end: "2013-10-12T06:00:00Z",
    spine: { type: "bars", intervalMs: 60_000 },
  },
] as const;

/** Per group of one frame: columns and the share of null cells. */
export interface GroupNulls {
  readonly group: string;
  readonly columns: number;
  readonly nullRatio: number;
}

function groupNulls(df: pl.DataFrame, groups: Map<string, string>): GroupNulls[] {
  const nulls = df.nullCount().toRecords()[0] as Record<string, number>;
  const by = new Map<string, { columns: number; nulls: number }>();
  for (const c of df.columns) {
    const g = groups.get(c) ?? (c.startsWith("target_") ? "targets" : null);
    if (g === null) continue;
    const e = by.get(g) ?? { columns: 0, nulls: 0 };
    e.columns++;
    e.nulls += Number(nulls[c] ?? 0);
    by.set(g, e);
  }
  return [...by].map(([group, e]) => ({
    group,
    columns: e.columns,
    nullRatio: df.height === 0 ? 1 : e.nulls / (e.columns * df.height),
  }));
}

/** Builds and writes the sample frames; returns rows, elapsed ms and per-group nulls of each. */
export async function buildDerivativesSamples(lake: string, outDir: string) {
  const out: { name: string; path: string; rows: number; ms: number; groups: GroupNulls[] }[] = [];
  const off = Object.fromEntries(FAMILIES.map((f) => [f.flag, false]));
  for (const s of DERIVATIVES_SAMPLES) {
    const t0 = performance.now();
    const config = parseFeatureRunConfig({
      ...off,
      includeDerivatives: true,
      spine: s.spine,
      warmupMs: DERIVATIVES_WARMUP_MS,
    });
    const { frame } = await buildFeatureFrameWithSummary({
      lake,
      exchange: s.exchange,
      symbol: s.symbol,
      start: s.start,
      end: s.end,
      config,
      chunkMs: 86_400_000,
    });
    const labelled = addTargets(frame, derivativesTargets());
    const path = resolve(join(outDir, s.file));
    labelled.writeParquet(path);
    out.push({
      name: s.name,
      path,
      rows: labelled.height,
      ms: performance.now() - t0,
      groups: groupNulls(labelled, derivativesGroups(config)),
    });
  }
  return out;
}

/** The summary table printed by the main job. */
export function formatDerivativesSamples(r: Awaited<ReturnType<typeof buildDerivativesSamples>>): string {
  const lines: string[] = [];
  for (const f of r) {
    const cols = f.groups.reduce((a, g) => a + g.columns, 0);
    lines.push(
      `${f.name}: ${f.rows.toLocaleString("en-US")} rows × ${cols} feature/label columns, ${f.ms.toFixed(0)} ms → ${f.path}`,
    );
    for (const g of f.groups)
      lines.push(
        `  ${g.group.padEnd(14)} ${String(g.columns).padStart(3)} columns  null ${(100 * g.nullRatio).toFixed(1).padStart(5)} %`,
      );
  }
  return lines.join("\n");
}
