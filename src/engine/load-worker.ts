/**
 * Prefetch worker (worker_threads): reads and converts the lake chunks of a replay's sources in parallel
 * with the main thread's operator loop. Protocol: `init` with the lake and each source's parts, then one
 * `load` per chunk answered by the chunk's typed rows, their ArrayBuffers transferred (zero copy).
 */
import { parentPort } from "node:worker_threads";
import type { PartInfo } from "../lake/manifest.js";
import type { ScaleFactors } from "../lake/scale.js";
import type { TypedRows } from "../query/query.js";
import { type EngineSource, SourceReader } from "./source.js";

/** Messages to the prefetch worker. */
export type WorkerRequest =
  | {
      readonly type: "init";
      readonly lake: string;
      readonly sources: readonly {
        source: EngineSource;
        parts: PartInfo[];
        factors: Readonly<Record<number, ScaleFactors>>;
      }[];
    }
  | { readonly type: "load"; readonly id: number; readonly fromUs: number; readonly toUs: number };

/** Messages from the prefetch worker. */
export type WorkerResponse =
  | { readonly type: "rows"; readonly id: number; readonly rows: TypedRows[] }
  | { readonly type: "error"; readonly id: number; readonly message: string };

/** Every ArrayBuffer under a chunk's columns (to transfer rather than copy). */
export function buffersOf(rows: readonly TypedRows[]): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>();
  for (const r of rows) {
    for (const c of Object.values(r.columns)) {
      if (ArrayBuffer.isView(c)) out.add(c.buffer as ArrayBuffer);
      else if (!Array.isArray(c)) {
        const lc = c as { values: Float64Array; lens: Uint8Array };
        out.add(lc.values.buffer as ArrayBuffer);
        out.add(lc.lens.buffer as ArrayBuffer);
      }
    }
  }
  return [...out];
}

const port = parentPort;
if (port) {
  let readers: SourceReader[] = [];
  port.on("message", (m: WorkerRequest) => {
    if (m.type === "init") {
      readers = m.sources.map((s) => new SourceReader(m.lake, s.source, s.parts, s.factors));
      return;
    }
    // every source of the chunk decodes concurrently on Polars' thread pool
    Promise.all(readers.map((r) => r.loadAsync(m.fromUs, m.toUs))).then(
      (rows) => port.postMessage({ type: "rows", id: m.id, rows } satisfies WorkerResponse, buffersOf(rows)),
      (e: unknown) =>
        port.postMessage({
          type: "error",
          id: m.id,
          message: e instanceof Error ? e.message : String(e),
        } satisfies WorkerResponse),
    );
  });
}
