/**
 * One symbol's share of a multi-symbol run: `features build` of one instrument into its own file, as a
 * structured-clone-safe task (plain JSON in, plain JSON out) so that it runs the same on a `piscina`
 * worker thread (scale/pool-worker.ts) or inline. Errors never escape: a failing symbol returns its
 * error message, so one bad instrument cannot sink the others.
 */

import type { FeatureRunInput } from "../features/config.js";
import { writeFeatureFrame } from "../features/output.js";

/** Input of one symbol task. */
export interface SymbolTask {
  readonly lake: string;
  readonly exchange: string;
  readonly symbol: string;
  /** Output range [startUs, endUs), µs. */
  readonly startUs: number;
  readonly endUs: number;
  /** Validated FeatureRunConfig (JSON). */
  readonly config: FeatureRunInput;
  /** Output file (.parquet or .csv); its manifest goes beside it. */
  readonly out: string;
  /** Chunk length of the lake replay, ms (default the engine's 1 h). */
  readonly chunkMs?: number;
}

/** Outcome of one symbol task. */
export type SymbolTaskResult =
  | {
      readonly ok: true;
      readonly exchange: string;
      readonly symbol: string;
      readonly out: string;
      readonly rows: number;
      readonly contentSha256: string;
      readonly elapsedMs: number;
    }
  | { readonly ok: false; readonly exchange: string; readonly symbol: string; readonly error: string };

/**
 * Runs one symbol task. Inside a pool worker the replay reads on the calling thread (`prefetch: false`:
 * the pool already keeps every core busy; rows are identical either way, see docs/engine.md).
 */
export async function runSymbolTask(
  t: SymbolTask,
  opts: { prefetch?: boolean } = {},
): Promise<SymbolTaskResult> {
  const started = performance.now();
  try {
    const m = await writeFeatureFrame(
      {
        lake: t.lake,
        exchange: t.exchange,
        symbol: t.symbol,
        start: t.startUs,
        end: t.endUs,
        config: t.config,
        prefetch: opts.prefetch ?? false,
        ...(t.chunkMs !== undefined ? { chunkMs: t.chunkMs } : {}),
      },
      t.out,
    );
    return {
      ok: true,
      exchange: t.exchange,
      symbol: t.symbol,
      out: m.output.path,
      rows: m.row_count,
      contentSha256: m.content_sha256,
      elapsedMs: Math.round(performance.now() - started),
    };
  } catch (e) {
    return {
      ok: false,
      exchange: t.exchange,
      symbol: t.symbol,
      error: e instanceof Error ? e.message : String(e),
    };
  }
}
