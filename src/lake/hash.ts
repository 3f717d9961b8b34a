/**
 * File content hashing for lineage and output manifests (source files, lake parts, feature and pipeline
 * artifacts), and the identity of an ingested source file.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { IngestError } from "../core/errors.js";

/**
 * sha256 of a file's raw bytes (streamed, 1 MiB chunks; a gzip file is hashed compressed).
 * @returns the lowercase hex digest and the byte count.
 * @throws the file system error (e.g. ENOENT) if the file cannot be read.
 */
export async function sha256File(path: string): Promise<{ sha256: string; bytes: number }> {
  const h = createHash("sha256");
  let bytes = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    const b = chunk as Buffer;
    bytes += b.length;
    h.update(b);
  }
  return { sha256: h.digest("hex"), bytes };
}

/** The two hashes of a source file: of its bytes as stored, and of its decoded (gunzipped) content. */
export interface SourceHashes {
  /** sha256 (lowercase hex) of the raw bytes as stored (compressed, for a gzip file). */
  readonly sha256: string;
  /** Raw byte count. */
  readonly bytes: number;
  /**
   * sha256 of the decoded content: the gunzipped bytes of a gzip file (detected by its magic bytes
   * 1f 8b, not by its name; every member of a multi-member gzip), the raw bytes of any other file.
   * `x.csv` and `x.csv.gz` of the same capture have the same `content_sha256`; it is what a lake's
   * `file_id` is made from (see lake/layout.ts `idFromSha256`).
   */
  readonly content_sha256: string;
  /** Decoded byte count. */
  readonly content_bytes: number;
  /** Whether the file is gzip. */
  readonly gzip: boolean;
}

/**
 * Hashes a source file's raw bytes and its decoded content in one streamed read (1 MiB chunks).
 * @throws IngestError naming the file and the line after the last complete one when a gzip stream is
 *   truncated or corrupt (a short file must never pass for a complete one); the file system error
 *   (e.g. ENOENT) if the file cannot be read.
 */
export async function hashSource(path: string): Promise<SourceHashes> {
  const gzip = await isGzip(path);
  const raw = createHash("sha256");
  const content = createHash("sha256");
  let bytes = 0;
  let contentBytes = 0;
  let newlines = 0;
  const src = createReadStream(path, { highWaterMark: 1 << 20 });
  src.on("data", (chunk: Buffer | string) => {
    const b = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    bytes += b.length;
    raw.update(b);
  });
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      contentBytes += chunk.length;
      content.update(chunk);
      for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) newlines++;
      done();
    },
  });
  if (!gzip) {
    await pipeline(src, sink);
  } else {
    try {
      await pipeline(src, createGunzip(), sink);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code?.startsWith("Z_") !== true && !/unexpected end/i.test(String(e)))
        throw e;
      const msg = e instanceof Error ? e.message : String(e);
      throw new IngestError(
        { file: path, line: newlines + 1 },
        `truncated or corrupt gzip after ${newlines} complete lines: ${msg}`,
      );
    }
  }
  return {
    sha256: raw.digest("hex"),
    bytes,
    content_sha256: content.digest("hex"),
    content_bytes: contentBytes,
    gzip,
  };
}

/**
 * True if the file starts with the gzip magic bytes 1f 8b (the name is not consulted).
 * @throws the file system error.
 */
export async function isGzip(path: string): Promise<boolean> {
  const fh = await open(path, "r");
  try {
    const buf = Buffer.alloc(2);
    const { bytesRead } = await fh.read(buf, 0, 2, 0);
    return bytesRead === 2 && buf[0] === 0x1f && buf[1] === 0x8b;
  } finally {
    await fh.close();
  }
}
