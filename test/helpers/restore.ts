/**
 * Driver snapshot/restore helpers: digests of feature rows (bitwise: the sha256 of every spine and output
 * column's float64 bytes, row range [from, to)), and a runner that continues runs from snapshots in a
 * fresh child process.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { fileURLToPath } from "node:url";
import type { DriverSnapshot, FeatureBatch } from "../../src/engine/driver.js";
import type { FeatureFrameRequest } from "../../src/features/frame.js";
import { planFeatureFrame, replayOf } from "../../src/features/frame.js";

/** A serialisable feature-frame request (no callbacks) and the snapshot to continue from. */
export interface RestoreTask {
  readonly request: FeatureFrameRequest;
  readonly snapshot: DriverSnapshot;
}

/** The rows of a run as one float64 column per spine/output column, concatenated over batches. */
export function concatBatches(batches: readonly FeatureBatch[]): Float64Array[] {
  const n = batches.reduce((a, b) => a + b.length, 0);
  const nCols = 5 + (batches[0]?.columns.length ?? 0);
  const cols = Array.from({ length: nCols }, () => new Float64Array(n));
  let o = 0;
  for (const b of batches) {
    const src = [b.tsEventUs, b.tsEndUs, b.availableAtUs, b.barIndex, b.barDurationUs, ...b.columns];
    src.forEach((c, k) => {
      cols[k]!.set(c.subarray(0, b.length), o);
    });
    o += b.length;
  }
  return cols;
}

/** sha256 of rows [from, to) of `cols`, column by column (raw float64 bytes: NaN payloads included). */
export function rowsDigest(cols: readonly Float64Array[], from: number, to: number): string {
  const h = createHash("sha256");
  for (const c of cols) {
    const s = c.subarray(from, to);
    h.update(new Uint8Array(s.buffer, s.byteOffset, s.byteLength));
  }
  return h.digest("hex");
}

/** Runs `request` (from `snapshot` when given) and digests every row it outputs. */
export async function buildFeatureFrameRowsDigest(
  request: FeatureFrameRequest,
  snapshot?: DriverSnapshot,
): Promise<{ rows: number; sha256: string }> {
  const plan = await planFeatureFrame(request);
  const replay = replayOf(plan, { ...request, ...(snapshot ? { restore: snapshot } : {}) });
  const batches: FeatureBatch[] = [];
  for await (const b of replay.batches()) batches.push(b);
  const cols = concatBatches(batches);
  const rows = cols[0]?.length ?? 0;
  return { rows, sha256: rowsDigest(cols, 0, rows) };
}

/** Continues every task in one fresh `node` process (tsx loader) and returns its digests. */
export function restoreInChildProcess(
  tasks: readonly RestoreTask[],
): Promise<{ rows: number; sha256: string }[]> {
  const child = fileURLToPath(new URL("./restore-child.ts", import.meta.url));
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ["--import", "tsx", child], { stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    let err = "";
    p.stdout.on("data", (d: Buffer) => {
      out += d.toString("utf8");
    });
    p.stderr.on("data", (d: Buffer) => {
      err += d.toString("utf8");
    });
    p.on("error", reject);
    p.on("close", (code) => {
      if (code !== 0) reject(new Error(`restore child exited ${code}: ${err}`));
      else resolve(JSON.parse(out) as { rows: number; sha256: string }[]);
    });
    p.stdin.end(JSON.stringify(tasks));
  });
}
