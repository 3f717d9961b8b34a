/**
 * Child process of the Driver restore tests: reads tasks (a feature-frame request and a Driver snapshot,
 * as JSON on stdin), continues each run from its snapshot in this fresh process, and prints per task the
 * number of rows and the sha256 of their bytes (see `batchDigest`) as JSON on stdout.
 */
import { buildFeatureFrameRowsDigest, type RestoreTask } from "./restore.js";

const chunks: Buffer[] = [];
for await (const c of process.stdin) chunks.push(c as Buffer);
const tasks = JSON.parse(Buffer.concat(chunks).toString("utf8")) as RestoreTask[];
const out: { rows: number; sha256: string }[] = [];
for (const t of tasks) out.push(await buildFeatureFrameRowsDigest(t.request, t.snapshot));
process.stdout.write(JSON.stringify(out));
