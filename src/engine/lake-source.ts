/**
 * `LakeSource`: the batch Source of the Driver. It reads the lake partitions of each stream (one
 * `SourceReader` per (role, exchange, symbol)) in time chunks that end on the epoch-aligned grid of
 * `chunkUs` (UTC hours by default, where lake parts end), skipping time no stream has data in, and yields
 * `EventChunk`s that satisfy the Driver's chunk contract: every event with ts_local_us in [fromUs, toUs)
 * per stream, sorted in the total order. With `prefetch`, a worker thread reads and converts the next
 * chunks while the Driver runs over the current one (see chunks.ts); output is identical either way.
 *
 * Memory is bounded by the chunk length (events held per stream), not by the range's length.
 */
import type { Lake } from "../lake/lake.js";
import { loadChunks, planChunks } from "./chunks.js";
import type { EventChunk, StreamSpec } from "./driver.js";
import type { PartCache } from "./part-cache.js";
import { type EngineSource, type InputPartition, SourceReader } from "./source.js";

/** One stream of a lake replay: role and instrument. */
export type LakeStream = EngineSource;

/** The Driver's spec of a lake stream: its role, labelled `exchange/symbol` (snapshots check it). */
export function streamSpecOf(s: LakeStream): StreamSpec {
  return { role: s.role, label: `${s.exchange}/${s.symbol}` };
}

/** What a `LakeSource` reads. */
export interface LakeSourceConfig {
  /** The open lake (readers only see parts listed in its manifests). */
  readonly lake: Lake;
  readonly streams: readonly LakeStream[];
  /** Range [fromUs, endUs) of ts_local_us whose partitions the run reads (lineage), µs. */
  readonly fromUs: number;
  readonly endUs: number;
  /** Where reading starts (≥ fromUs; a restored run starts at its merge position). Default fromUs. */
  readonly readFromUs?: number;
  /** Chunk length, µs (default 1 h). */
  readonly chunkUs: number;
  /** Read ahead on a worker thread (default true). */
  readonly prefetch?: boolean;
  /**
   * Decoded-partition cache (part-cache.ts): parts are decoded whole once and chunks are slices of them,
   * loaded on the calling thread (`prefetch` is then ignored). Same events either way.
   */
  readonly partCache?: PartCache;
}

/** The lake as an async iterable of event chunks (iterate once). */
export class LakeSource implements AsyncIterable<EventChunk> {
  readonly readers: readonly SourceReader[];

  constructor(private readonly cfg: LakeSourceConfig) {
    this.readers = cfg.streams.map((s) => SourceReader.forRange(cfg.lake, s, cfg.fromUs, cfg.endUs));
  }

  /** The Driver's stream specs, aligned with the chunks' rows. */
  get streams(): StreamSpec[] {
    return this.cfg.streams.map(streamSpecOf);
  }

  /** Partitions this source reads (sha256 filled by `hashPartitions`, for manifests only). */
  partitions(): InputPartition[] {
    return this.readers.flatMap((r) => r.partitions());
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<EventChunk> {
    const cfg = this.cfg;
    const from = Math.max(cfg.fromUs, cfg.readFromUs ?? cfg.fromUs);
    const chunks = planChunks(this.readers, from, cfg.endUs, cfg.chunkUs);
    for await (const { chunk, rows } of loadChunks(
      cfg.lake.root,
      this.readers,
      chunks,
      cfg.prefetch ?? true,
      cfg.partCache,
    )) {
      yield { fromUs: chunk.fromUs, toUs: chunk.toUs, rows };
      // one macrotask turn per chunk: nodejs-polars frees native frames in finalizers that only run on
      // a later event-loop turn (pola-rs/nodejs-polars#458); without it RSS grows with the range
      await new Promise<void>((r) => setImmediate(r));
    }
  }
}
