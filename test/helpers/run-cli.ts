/**
 * Runs the `pointline` CLI as a child process (`node bin/pointline.js …`, as a user would) and returns
 * its exit code and output. Asynchronous, so that independent runs can go concurrently. With `tty`, the
 * command runs under a pseudo-terminal (util-linux `script`), so stderr/stdout are TTYs; the two streams
 * then arrive merged in `stdout`.
 */
import { execFile } from "node:child_process";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = resolve(fileURLToPath(import.meta.url), "..", "..", "..");

export interface CliResult {
  /** Exit code (-1 if the process was killed). */
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Runs `pointline <args>` from the repository root (120 s timeout). */
export function runCli(args: readonly string[], opts: { tty?: boolean } = {}): Promise<CliResult> {
  const cli = [process.execPath, join(REPO_ROOT, "bin", "pointline.js"), ...args];
  const [cmd, argv] = opts.tty
    ? ["script", ["-qefc", cli.map(shellQuote).join(" "), "/dev/null"]]
    : [cli[0]!, cli.slice(1)];
  return new Promise((done) => {
    execFile(
      cmd,
      argv,
      { cwd: REPO_ROOT, encoding: "utf8", timeout: 120_000, maxBuffer: 64 << 20 },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === "number" ? err.code : -1;
        done({ status: code, stdout, stderr });
      },
    );
  });
}
