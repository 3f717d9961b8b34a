/**
 * Code version recorded in manifests: the package version plus the git commit of the checkout when
 * available ("unknown" outside a git checkout), and whether the work tree had uncommitted changes.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Package name@version, git commit of the checkout ("unknown" outside git) and whether it had uncommitted changes (null: unknown). */
export interface CodeVersion {
  readonly package: string;
  readonly git_commit: string;
  readonly git_dirty: boolean | null;
}

let cached: CodeVersion | undefined;

/** The package's name and version from package.json (no git call; for `pointline --version`). */
export function packageVersion(): { readonly name: string; readonly version: string } {
  return JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { name: string; version: string };
}

/** The running code's version (cached after the first call; never throws: git errors give "unknown"). */
export function codeVersion(): CodeVersion {
  if (cached) return cached;
  const pkg = packageVersion();
  let commit = "unknown";
  let dirty: boolean | null = null;
  try {
    commit = execFileSync("git", ["rev-parse", "HEAD"], { cwd: root, stdio: ["ignore", "pipe", "ignore"] })
      .toString()
      .trim();
    dirty =
      execFileSync("git", ["status", "--porcelain", "--untracked-files=no"], {
        cwd: root,
        stdio: ["ignore", "pipe", "ignore"],
      })
        .toString()
        .trim().length > 0;
  } catch {
    // not a git checkout: keep "unknown"
  }
  cached = { package: `${pkg.name}@${pkg.version}`, git_commit: commit, git_dirty: dirty };
  return cached;
}
