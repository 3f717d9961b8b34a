/** Paths to the real sample data under ../shared/data (used in place, never copied) and temp lakes. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
/** Absolute path of ../shared/data relative to the repository root. */
export const DATA = resolve(here, "..", "..", "..", "shared", "data");
export const HFT = join(DATA, "hftbacktest", "examples");
export const TARDIS = join(DATA, "nautilus_trader", "tests", "test_data", "tardis");

export function data(...parts: string[]): string {
  return join(DATA, ...parts);
}

/** A fresh temporary directory; call the returned cleanup in `after`. */
export function tempDir(prefix = "pointline-test-"): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
