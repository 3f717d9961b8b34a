/**
 * File content hashing for lineage and output manifests (source files, lake parts, feature and pipeline
 * artifacts).
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";

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
