/**
 * Driver snapshot/restore helpers: digests of feature rows (bitwise: the sha256 of every spine and output
 * column's float64 bytes, row range [from, to)), and a child process that continues runs from snapshots.
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
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

/** What the child reports per task: the rows it output and their digest, or the error it threw. */
export type RestoreResult = { rows: number; sha256: string } | { error: string };

/**
 * One fresh `node` process (tsx loader, test/helpers/restore-child.ts) that continues runs from
 * snapshots: each task crosses the process boundary as JSON text (a line on the child's stdin) and comes
 * back as its row count and digest (a line on its stdout). The child starts at construction, so its
 * start-up overlaps the caller's work; tasks sent with `restore` run one after another in the child
 * while the caller goes on (e.g. computes the next snapshots). `close` ends the child's input; it then
 * exits.
 */
export class RestoreChild {
  private readonly proc: ChildProcessWithoutNullStreams;
  private readonly pending = new Map<number, (r: RestoreResult) => void>();
  private nextId = 0;
  private out = "";
  private err = "";
  private failure: Error | null = null;

  constructor() {
    const child = fileURLToPath(new URL("./restore-child.ts", import.meta.url));
    this.proc = spawn(process.execPath, ["--import", "tsx", child], { stdio: ["pipe", "pipe", "pipe"] });
    this.proc.stdout.on("data", (d: Buffer) => {
      this.out += d.toString("utf8");
      let nl = this.out.indexOf("\n");
      while (nl >= 0) {
        const { id, ...r } = JSON.parse(this.out.slice(0, nl)) as RestoreResult & { id: number };
        this.out = this.out.slice(nl + 1);
        this.pending.get(id)?.(r);
        this.pending.delete(id);
        nl = this.out.indexOf("\n");
      }
    });
    this.proc.stderr.on("data", (d: Buffer) => {
      this.err += d.toString("utf8");
    });
    const fail = (e: Error): void => {
      this.failure ??= e;
      for (const done of this.pending.values()) done({ error: e.message });
      this.pending.clear();
    };
    this.proc.on("error", fail);
    this.proc.on("close", (code) => fail(new Error(`restore child exited ${code}: ${this.err}`)));
  }

  /** Continues each task in the child; resolves with its digests (in task order) once all are done. */
  async restore(tasks: readonly RestoreTask[]): Promise<{ rows: number; sha256: string }[]> {
    const results = await Promise.all(
      tasks.map((t) => {
        if (this.failure) return Promise.resolve<RestoreResult>({ error: this.failure.message });
        const id = this.nextId++;
        const p = new Promise<RestoreResult>((done) => this.pending.set(id, done));
        this.proc.stdin.write(`${JSON.stringify({ id, task: t })}\n`);
        return p;
      }),
    );
    return results.map((r) => {
      if ("error" in r) throw new Error(`restore in the child process failed: ${r.error}`);
      return r;
    });
  }

  /** Ends the child's input (it exits once its tasks are done). */
  close(): void {
    this.proc.stdin.end();
  }
}
