/**
 * The chunk plan of a replay and its loader. Chunks end on the epoch-aligned grid of `chunkUs` (UTC hours
 * by default, where lake parts end) and skip time no source has data in. With `prefetch`, a worker thread
 * reads and converts the next PREFETCH_DEPTH chunks while the caller runs the operators over chunk k,
 * decoding every source of a chunk concurrently on Polars' thread pool; without it chunks load
 * synchronously on the calling thread. Both give identical rows.
 */
import { Worker } from "node:worker_threads";
import type { TypedRows } from "../query/query.js";
import type { WorkerRequest, WorkerResponse } from "./load-worker.js";
import type { PartCache } from "./part-cache.js";
import type { SourceReader } from "./source.js";

/** A replay chunk: ts_local_us in [fromUs, toUs). */
export interface Chunk {
  readonly fromUs: number;
  readonly toUs: number;
}

/** Chunks covering [fromUs, endUs) where any reader may have rows. */
export function planChunks(
  readers: readonly SourceReader[],
  fromUs: number,
  endUs: number,
  chunkUs: number,
): Chunk[] {
  const out: Chunk[] = [];
  let c0 = fromUs;
  while (c0 < endUs) {
    let next = Number.POSITIVE_INFINITY;
    for (const r of readers) next = Math.min(next, r.nextDataUs(c0));
    if (next === Number.POSITIVE_INFINITY) break;
    if (next > c0) c0 = Math.max(c0, Math.floor(next / chunkUs) * chunkUs);
    if (c0 >= endUs) break;
    const c1 = Math.min(endUs, (Math.floor(c0 / chunkUs) + 1) * chunkUs);
    out.push({ fromUs: c0, toUs: c1 });
    c0 = c1;
  }
  return out;
}

/** Chunks requested ahead of the one being consumed (memory: at most 1 + this many chunks). */
const PREFETCH_DEPTH = 2;

/**
 * Yields each chunk's rows per reader, in order. Terminates its worker when iteration ends. With a
 * `cache`, chunks load on the calling thread through it (part-cache.ts) and `prefetch` is ignored.
 */
export async function* loadChunks(
  lake: string,
  readers: readonly SourceReader[],
  chunks: readonly Chunk[],
  prefetch: boolean,
  cache?: PartCache,
): AsyncGenerator<{ chunk: Chunk; rows: TypedRows[] }> {
  if (cache) {
    for (const chunk of chunks)
      yield { chunk, rows: readers.map((r) => r.loadCached(chunk.fromUs, chunk.toUs, cache)) };
    return;
  }
  if (!prefetch || chunks.length < 2) {
    for (const chunk of chunks) yield { chunk, rows: readers.map((r) => r.load(chunk.fromUs, chunk.toUs)) };
    return;
  }
  const worker = new Worker(new URL("./load-worker.mjs", import.meta.url));
  const pending = new Map<number, { resolve: (rows: TypedRows[]) => void; reject: (e: Error) => void }>();
  let failed: Error | null = null;
  worker.on("message", (m: WorkerResponse) => {
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    if (m.type === "rows") p.resolve(m.rows);
    else p.reject(new Error(`chunk loader: ${m.message}`));
  });
  worker.on("error", (e) => {
    failed = e;
    for (const p of pending.values()) p.reject(e);
    pending.clear();
  });
  const request = (id: number): Promise<TypedRows[]> => {
    if (failed) return Promise.reject(failed);
    const chunk = chunks[id]!;
    const p = new Promise<TypedRows[]>((resolve, reject) => pending.set(id, { resolve, reject }));
    worker.postMessage({ type: "load", id, fromUs: chunk.fromUs, toUs: chunk.toUs } satisfies WorkerRequest);
    return p;
  };
  try {
    worker.postMessage({
      type: "init",
      lake,
      sources: readers.map((r) => ({ source: r.source, parts: [...r.parts], factors: r.factors })),
    } satisfies WorkerRequest);
    // keep PREFETCH_DEPTH chunks in flight ahead of the one being consumed
    const inFlight: Promise<TypedRows[]>[] = [];
    let requested = 0;
    for (let k = 0; k < chunks.length; k++) {
      while (requested < chunks.length && requested <= k + PREFETCH_DEPTH)
        inFlight.push(request(requested++));
      const rows = await inFlight.shift()!;
      yield { chunk: chunks[k]!, rows };
    }
  } finally {
    await worker.terminate();
  }
}
