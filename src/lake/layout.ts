/**
 * Lake layout (DESIGN.md "Lake layout"):
 *
 *   <lake>/<table>/exchange=<exchange>/symbol=<symbol>/date=<YYYY-MM-DD>/part-<file_id>-<seq>.parquet
 *   <lake>/_meta/registry.json                symbol registry
 *   <lake>/_meta/files/<file_id>.json          ingest manifest of one source file (its parts, report)
 *   <lake>/_meta/book_state/<ex>/<sym>/<u>.json order book at the end of a capture file (continuation)
 *   <lake>/_quarantine/<file_id>.jsonl          rejected lines with file, line, field and reason
 *
 * The date is the UTC date of `ts_local_us`. Each source file owns its part files, so re-ingesting it
 * replaces exactly its own parts (idempotence) and never touches another file's rows. A file's id is
 * `idFromSha256` of the sha256 of its decoded content (lake/hash.ts `hashSource`; before that existed,
 * of its raw bytes), printed as 12 hex digits in these names (`fileIdHex`).
 */
import { createHash } from "node:crypto";
import { mkdir, rename, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { TableName } from "../schema/tables.js";

/** Directory of one partition: `<lake>/<table>/exchange=…/symbol=…/date=YYYY-MM-DD`. */
export function partitionDir(
  lake: string,
  table: TableName,
  exchange: string,
  symbol: string,
  date: string,
): string {
  return join(lake, table, `exchange=${exchange}`, `symbol=${symbol}`, `date=${date}`);
}

/** File ids are printed as 12 hex digits (48 bits). */
export function fileIdHex(fileId: number): string {
  return fileId.toString(16).padStart(12, "0");
}

/** `part-<12 hex file id>-<4-digit seq>.parquet`: a source file owns every part named with its id. */
export function partFileName(fileId: number, seq: number): string {
  return `part-${fileIdHex(fileId)}-${String(seq).padStart(4, "0")}.parquet`;
}

export const registryPath = (lake: string): string => join(lake, "_meta", "registry.json");
export const fileManifestDir = (lake: string): string => join(lake, "_meta", "files");
export const fileManifestPath = (lake: string, fileId: number): string =>
  join(lake, "_meta", "files", `${fileIdHex(fileId)}.json`);
export const bookStateDir = (lake: string, exchange: string, symbol: string): string =>
  join(lake, "_meta", "book_state", exchange, symbol);
export const quarantinePath = (lake: string, fileId: number): string =>
  join(lake, "_quarantine", `${fileIdHex(fileId)}.jsonl`);

/** 48-bit id from a sha256 hex digest (exact in a JS number). */
export function idFromSha256(hex: string): number {
  return Number.parseInt(hex.slice(0, 12), 16);
}

/** 48-bit stable id of a string key. */
export function stableId(key: string): number {
  return idFromSha256(createHash("sha256").update(key).digest("hex"));
}

/** Writes a file atomically: temp file in the same directory, then rename. */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.tmp-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`);
  await writeFile(tmp, data);
  await rename(tmp, path);
}
