/**
 * Multi-symbol runs: one feature request over many instruments, each instrument's replay on a
 * `piscina` worker-thread pool (or inline with `workers: 0`), per-symbol frames plus one combined frame.
 *
 * Output layout under `outDir`: `<exchange>/<symbol>.parquet` (+ `.manifest.json`, as `features build`
 * writes), `combined.parquet` — every successful symbol's rows with `exchange` and `symbol` columns
 * first, grouped by symbol in the run's symbol order, each symbol's rows in its frame order — and
 * `run.json` (the run manifest: per symbol status, rows, content hash or error; the combined frame's
 * content hash). Each symbol's computation is the very `writeFeatureFrame` of a single run, so content
 * hashes are equal to sequential runs (tested). A symbol that fails is reported with its error and the
 * others complete; `status` is "ok", "partial" or "failed".
 */
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import pl from "nodejs-polars";
import { Piscina } from "piscina";
import { ConfigError } from "../core/errors.js";
import { toUs, usToIso } from "../core/time.js";
import { CanonicalHasher } from "../engine/hash.js";
import { parseFeatureRunConfig } from "../features/config.js";
import type { ManifestRange } from "../features/output.js";
import { type InstrumentRef, type ManySymbolsRequest, resolveSymbols } from "./symbols.js";
import { runSymbolTask, type SymbolTask, type SymbolTaskResult } from "./task.js";

/** A multi-symbol request. */
export interface MultiSymbolRequest extends ManySymbolsRequest {
  /** Worker threads (default: 2); 0 runs the symbols one after another on the calling thread. */
  readonly workers?: number;
  /** Replay chunk length, ms. */
  readonly chunkMs?: number;
  /** Called as each symbol finishes (in completion order). */
  readonly onSymbolDone?: (r: SymbolTaskResult, done: number, total: number) => void;
}

/** The run manifest (`run.json`). */
export interface MultiSymbolManifest {
  readonly kind: "pointline.multi_symbol_run";
  readonly version: 1;
  readonly status: "ok" | "partial" | "failed";
  readonly range: ManifestRange;
  readonly config: unknown;
  readonly workers: number;
  readonly symbols: readonly SymbolTaskResult[];
  readonly combined: { readonly path: string; readonly rows: number; readonly content_sha256: string } | null;
  readonly elapsed_ms: number;
}

/** Process exit code of a run status: 0 ok, 3 partial (some symbols failed), 1 all failed. */
export function multiStatusExitCode(status: MultiSymbolManifest["status"]): number {
  return status === "ok" ? 0 : status === "partial" ? 3 : 1;
}

/** Output file of one instrument under `outDir`. */
export function symbolOutPath(outDir: string, i: InstrumentRef): string {
  return join(resolve(outDir), i.exchange, `${i.symbol}.parquet`);
}

/**
 * The combined frame of per-symbol frames: `exchange`, `symbol` (String) then the frame's columns,
 * frames concatenated in the given order.
 */
export function combineSymbolFrames(
  parts: readonly { ref: InstrumentRef; frame: pl.DataFrame }[],
): pl.DataFrame {
  const tagged = parts.map(({ ref, frame }) =>
    frame.select(
      pl.lit(ref.exchange).cast(pl.Utf8).alias("exchange"),
      pl.lit(ref.symbol).cast(pl.Utf8).alias("symbol"),
      ...frame.columns.map((c) => pl.col(c)),
    ),
  );
  if (tagged.length === 0) return pl.DataFrame({ exchange: [], symbol: [] });
  return tagged.length === 1 ? tagged[0]! : pl.concat(tagged, { how: "vertical" });
}

/**
 * Runs the request over every selected instrument (see the module doc).
 * @throws ConfigError for an invalid config, range or selection (before any work starts).
 */
export async function runMultiSymbol(req: MultiSymbolRequest): Promise<MultiSymbolManifest> {
  const started = performance.now();
  const startUs = toUs(req.start);
  const endUs = toUs(req.end);
  if (!(endUs > startUs)) throw new ConfigError(`end (${endUs}) must be after start (${startUs})`);
  const config = parseFeatureRunConfig(req.config ?? {});
  const workers = req.workers ?? 2;
  if (!Number.isInteger(workers) || workers < 0) throw new ConfigError(`workers ${workers}: a count ≥ 0`);
  const lake = resolve(req.lake);
  const refs = await resolveSymbols(lake, req.selection, startUs, endUs);
  const outDir = resolve(req.outDir);
  await mkdir(outDir, { recursive: true });
  const tasks: SymbolTask[] = refs.map((r) => ({
    lake,
    exchange: r.exchange,
    symbol: r.symbol,
    startUs,
    endUs,
    config,
    out: symbolOutPath(outDir, r),
    ...(req.chunkMs !== undefined ? { chunkMs: req.chunkMs } : {}),
  }));
  let done = 0;
  const finish = (r: SymbolTaskResult): SymbolTaskResult => {
    done++;
    req.onSymbolDone?.(r, done, tasks.length);
    return r;
  };
  let results: SymbolTaskResult[];
  if (workers === 0) {
    results = [];
    for (const t of tasks) results.push(finish(await runSymbolTask(t)));
  } else {
    const pool = new Piscina<SymbolTask, SymbolTaskResult>({
      filename: new URL("./pool-worker.mjs", import.meta.url).href,
      minThreads: Math.min(workers, tasks.length),
      maxThreads: Math.min(workers, tasks.length),
    });
    try {
      results = await Promise.all(
        tasks.map((t) =>
          pool.run(t).then(finish, (e: unknown) =>
            finish({
              ok: false,
              exchange: t.exchange,
              symbol: t.symbol,
              error: `worker: ${e instanceof Error ? e.message : String(e)}`,
            }),
          ),
        ),
      );
    } finally {
      await pool.destroy();
    }
  }
  const okParts = results.flatMap((r, k) => (r.ok ? [{ ref: refs[k]!, frame: pl.readParquet(r.out) }] : []));
  let combined: MultiSymbolManifest["combined"] = null;
  const combinedPath = join(outDir, "combined.parquet");
  await rm(combinedPath, { force: true });
  if (okParts.length > 0) {
    const frame = combineSymbolFrames(okParts);
    const tmp = `${combinedPath}.tmp-${process.pid}`;
    frame.writeParquet(tmp, { compression: "zstd" });
    await rename(tmp, combinedPath);
    const h = new CanonicalHasher();
    h.add(frame);
    combined = { path: combinedPath, rows: frame.height, content_sha256: h.digest() };
  }
  const failed = results.filter((r) => !r.ok).length;
  const manifest: MultiSymbolManifest = {
    kind: "pointline.multi_symbol_run",
    version: 1,
    status: failed === 0 ? "ok" : failed < results.length ? "partial" : "failed",
    range: { start: usToIso(startUs), end: usToIso(endUs), start_us: startUs, end_us: endUs },
    config,
    workers,
    symbols: results,
    combined,
    elapsed_ms: Math.round(performance.now() - started),
  };
  await writeFile(join(outDir, "run.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

/** Human summary of a multi-symbol run: one line per symbol, failures with their error. */
export function formatMultiSymbol(m: MultiSymbolManifest): string {
  const lines = m.symbols.map((r) =>
    r.ok
      ? `  ok     ${r.exchange}:${r.symbol}  ${r.rows.toLocaleString("en-US")} rows  content ${r.contentSha256.slice(0, 16)}…  ${r.elapsedMs} ms  ${r.out}`
      : `  FAILED ${r.exchange}:${r.symbol}  ${r.error}`,
  );
  const failed = m.symbols.filter((r) => !r.ok).length;
  lines.unshift(
    `${m.status}: ${m.symbols.length - failed}/${m.symbols.length} symbols on ${m.workers === 0 ? "the calling thread" : `${m.workers} worker threads`} in ${m.elapsed_ms} ms`,
  );
  if (m.combined)
    lines.push(
      `  combined ${m.combined.path} (${m.combined.rows.toLocaleString("en-US")} rows, content ${m.combined.content_sha256.slice(0, 16)}…)`,
    );
  return lines.join("\n");
}
