/**
 * Child process of the Driver restore tests: reads tasks, one JSON line each on stdin
 * (`{ id, task: { request, snapshot } }`: a feature-frame request and a Driver snapshot), continues each
 * run from its snapshot in this fresh process, one task after another as they arrive, and prints per task
 * one JSON line on stdout: `{ id, rows, sha256 }` (the number of rows and the sha256 of their bytes, see
 * `rowsDigest`) or `{ id, error }`. Exits when stdin ends.
 */
import { createInterface } from "node:readline";
import { buildFeatureFrameRowsDigest, type RestoreTask } from "./restore.js";

for await (const line of createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY })) {
  if (line.length === 0) continue;
  const { id, task } = JSON.parse(line) as { id: number; task: RestoreTask };
  let reply: object;
  try {
    reply = { id, ...(await buildFeatureFrameRowsDigest(task.request, task.snapshot)) };
  } catch (e) {
    reply = { id, error: e instanceof Error ? (e.stack ?? e.message) : String(e) };
  }
  process.stdout.write(`${JSON.stringify(reply)}\n`);
}
