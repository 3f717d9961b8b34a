/**
 * Canonical JSON: object keys sorted, `undefined` members dropped, no whitespace — the same value always
 * serialises to the same text, whatever its key order. Used for config and request hashes.
 */
import { createHash } from "node:crypto";

/** Canonical JSON text of a JSON-compatible value (see module doc). */
export function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== "object") return JSON.stringify(v) ?? "null";
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(",")}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
    .join(",")}}`;
}

/** Hex sha256 of `canonicalJson(v)`. */
export function canonicalJsonSha256(v: unknown): string {
  return createHash("sha256").update(canonicalJson(v)).digest("hex");
}
