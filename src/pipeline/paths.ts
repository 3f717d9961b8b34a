/**
 * Output-directory confinement of pipeline v2: a request's `artifacts.output_dir` must name a directory
 * strictly inside the configured output root (CLI `--out-root`, default `./pipeline_runs`), so a request
 * file can never make a run write over arbitrary files of the machine.
 *
 * The check is physical, not only lexical: both the root and the candidate directory are resolved through
 * their nearest existing ancestor with `realpath`, so a symlink inside the root that points elsewhere is
 * caught, while a root that is itself reached through a symlink still works. Not protected against: a
 * concurrent process replacing a directory by a symlink between this check and the write (TOCTOU).
 */
import { lstatSync, realpathSync } from "node:fs";
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { ConfigError } from "../core/errors.js";

/** Default output root of pipeline runs (relative to the working directory), as the CLI's `--out-root`. */
export const DEFAULT_OUT_ROOT = "./pipeline_runs";

/**
 * Resolves a request's `artifacts.output_dir` against the output `root` and checks it stays inside.
 *
 * - Relative `outputDir` resolves against `root`; an absolute one is allowed only when it lies inside root.
 * - `..` segments are normalised lexically first (`a/../b` is `b`); a result lexically outside root (as
 *   given, or as resolved by realpath) is rejected, even when a symlink would lead back inside.
 * - Symlinks: the nearest existing ancestor of the candidate (and of root, which need not exist yet) is
 *   resolved with `realpath` and the remaining segments appended; the resolved candidate must lie strictly
 *   below the resolved root. A dangling symlink on the way is rejected (its target cannot be checked).
 * - The root itself is rejected (a run needs its own directory), as are empty strings and NUL bytes.
 *
 * @param outputDir the request's `artifacts.output_dir` (relative or absolute path)
 * @param root the configured output root (relative paths resolve against the working directory)
 * @returns the absolute, lexically normalised output directory (`resolve(root, outputDir)`); it is not
 *   created here
 * @throws ConfigError naming output_dir and root when the directory is not strictly inside root
 */
export function resolveOutputDir(outputDir: string, root: string): string {
  if (typeof root !== "string" || root.trim() === "") {
    throw new ConfigError("output root (--out-root) must be a non-empty path");
  }
  if (root.includes("\0"))
    throw new ConfigError(`output root (--out-root) ${show(root)} contains a NUL byte`);
  const rootAbs = resolve(root);
  const fail = (why: string): never => {
    throw new ConfigError(
      `artifacts.output_dir ${show(outputDir)} ${why}; it must be a directory inside the output root ` +
        `${rootAbs} (--out-root)`,
    );
  };
  if (typeof outputDir !== "string" || outputDir.trim() === "") return fail("is empty");
  if (outputDir.includes("\0")) return fail("contains a NUL byte");

  const target = resolve(rootAbs, outputDir);
  if (target === rootAbs) return fail("is the output root itself (a run needs its own directory)");
  const rootReal = physical(rootAbs, (at, code) =>
    fail(`cannot be checked: the output root's path ${at} cannot be resolved (${code}, dangling symlink?)`),
  );
  const targetReal = physical(target, (at, code) =>
    fail(`cannot be resolved at ${at} (${code}, dangling symlink?)`),
  );
  if (targetReal === rootReal) return fail("is the output root itself (a run needs its own directory)");
  // lexically inside the root as given or as resolved (a root reached through a symlink may be named
  // by its real path); a `..` escape is rejected even when a symlink would lead back inside
  if (!strictlyInside(rootAbs, target) && !strictlyInside(rootReal, target)) {
    return fail(`resolves to ${target}, outside the root`);
  }
  if (!strictlyInside(rootReal, targetReal)) {
    return fail(
      targetReal === target
        ? `resolves to ${target}, outside the root`
        : `resolves to ${target}, which is ${targetReal} after following symlinks, outside the root`,
    );
  }
  return target;
}

/** True when `child` is strictly below `parent` (both absolute, normalised). */
function strictlyInside(parent: string, child: string): boolean {
  const rel = relative(parent, child);
  return rel !== "" && rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}

/**
 * The physical path of absolute `p`: realpath of its nearest existing ancestor (symlinks included, via
 * lstat) plus the not-yet-existing remainder. Calls `onDangling` (which throws) when that ancestor cannot
 * be resolved (a dangling or looping symlink, no permission).
 */
function physical(p: string, onDangling: (at: string, code: string) => never): string {
  const rest: string[] = [];
  let cur = p;
  for (;;) {
    let exists = true;
    try {
      lstatSync(cur);
    } catch {
      exists = false;
    }
    if (exists) {
      let real: string;
      try {
        real = realpathSync(cur);
      } catch (e) {
        return onDangling(cur, (e as NodeJS.ErrnoException).code ?? "error");
      }
      return rest.length === 0 ? real : join(real, ...rest.reverse());
    }
    const parent = dirname(cur);
    if (parent === cur) return p; // nothing exists, not even "/" (cannot happen on POSIX)
    rest.push(basename(cur));
    cur = parent;
  }
}

/** A path for error messages: JSON-quoted so control characters and NUL bytes are visible. */
function show(s: unknown): string {
  return typeof s === "string" ? JSON.stringify(s) : String(s);
}
