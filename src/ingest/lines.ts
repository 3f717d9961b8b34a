/**
 * Streaming line reader for plain or gzip text files (gzip detected by its magic bytes, not by the
 * file name). Memory is bounded by the longest line. A truncated or corrupt gzip stream raises an
 * IngestError naming the file and the last complete line, never a silent short read.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import { IngestError } from "../core/errors.js";

import { isGzip } from "../lake/hash.js";

/** True if the file starts with the gzip magic bytes 1f 8b (lake/hash.ts). */
export { isGzip };

export interface ReadLinesResult {
  /** Number of lines read (a trailing newline does not add an empty line). */
  readonly lines: number;
  /** sha256 of the raw (compressed, if gzip) file bytes, when `hash` was requested. */
  readonly sha256: string | null;
  readonly bytes: number;
}

/**
 * Calls `onLine(text, lineNumber)` for every line (1-based), in order. If `onLine` returns `true`,
 * reading stops early (the stream is closed; `lines` counts the lines read so far).
 * @throws IngestError if the gzip stream is truncated/corrupt or the file cannot be read.
 */
export async function readLines(
  path: string,
  onLine: (text: string, line: number) => unknown,
  opts: { hash?: boolean } = {},
): Promise<ReadLinesResult> {
  const gz = await isGzip(path);
  const raw = createReadStream(path, { highWaterMark: 1 << 20 });
  const hasher = opts.hash ? createHash("sha256") : null;
  let bytes = 0;
  raw.on("data", (chunk: Buffer | string) => {
    const b = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    bytes += b.length;
    hasher?.update(b);
  });
  let text: Readable = raw;
  if (gz) {
    const gunzip = createGunzip();
    raw.on("error", (e) => gunzip.destroy(e));
    text = raw.pipe(gunzip);
  }
  const rl = createInterface({ input: text, crlfDelay: Number.POSITIVE_INFINITY });
  let line = 0;
  let inCallback = false;
  try {
    for await (const l of rl) {
      line++;
      inCallback = true;
      const stop = onLine(l, line);
      inCallback = false;
      if (stop === true) {
        // Early stop: close every stream of the chain; a later gunzip error has nobody to tell.
        text.on("error", () => {});
        rl.close();
        raw.destroy();
        if (text !== raw) text.destroy();
        break;
      }
    }
  } catch (e) {
    // Errors thrown by the callback are the caller's (adapter bugs, IngestErrors): pass them through.
    if (inCallback || e instanceof IngestError) throw e;
    const msg = e instanceof Error ? e.message : String(e);
    const what =
      gz && /unexpected end|incorrect header|invalid|checksum/i.test(msg)
        ? "truncated or corrupt gzip"
        : "read error";
    throw new IngestError({ file: path, line: line + 1 }, `${what} after ${line} complete lines: ${msg}`);
  }
  return { lines: line, sha256: hasher === null ? null : hasher.digest("hex"), bytes };
}
