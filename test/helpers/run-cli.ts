/**
 * Runs the `pointline` CLI and returns its exit code and output, two ways:
 * - `runCli`: in this process (`runCli` of src/cli/main.ts with captured stdout/stderr and exit code —
 *   the code path of the binary after its launcher, without the ~1 s start-up of a fresh `node` + tsx);
 * - `runCliProcess`: as a child process (`node bin/pointline.js …`, as a user would), for what needs a
 *   real process: the launcher, the process exit code, signals, a terminal. With `tty`, the command runs
 *   under a pseudo-terminal (util-linux `script`), so stderr/stdout are TTYs; the two streams then
 *   arrive merged in `stdout`.
 * Both are asynchronous, so that independent runs can go concurrently.
 */
import { execFile } from "node:child_process";
import { join, resolve } from "node:path";
import { Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import { type CliIo, runCli as runCliMain } from "../../src/cli/main.js";

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

/** A non-TTY stream collecting what is written to it as text. */
class Capture extends Writable {
  text = "";
  override _write(chunk: Buffer, _enc: BufferEncoding, done: (e?: Error | null) => void): void {
    this.text += chunk.toString("utf8");
    done();
  }
}

/**
 * Runs `pointline <args>` in this process, as the binary does after its launcher (relative paths
 * resolve against the current directory, as for the binary run from it; stdout and stderr are not TTYs).
 */
export async function runCli(args: readonly string[]): Promise<CliResult> {
  const stdout = new Capture();
  const stderr = new Capture();
  let status = 0;
  const io: CliIo = {
    stdout,
    stderr,
    setExitCode: (code) => {
      status = code;
    },
  };
  await runCliMain(args, io);
  return { status, stdout: stdout.text, stderr: stderr.text };
}

/** Runs `node bin/pointline.js <args>` from the repository root (120 s timeout). */
export function runCliProcess(args: readonly string[], opts: { tty?: boolean } = {}): Promise<CliResult> {
  const cli = [process.execPath, join(REPO_ROOT, "bin", "pointline.js"), ...args];
  const [cmd, argv] = opts.tty
    ? ["script", ["-qefc", cli.map(shellQuote).join(" "), "/dev/null"]]
    : [cli[0]!, cli.slice(1)];
  return new Promise((done) => {
    execFile(
      cmd,
      argv,
      { cwd: REPO_ROOT, encoding: "utf8", timeout: 120_000, maxBuffer: 256 << 20 },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === "number" ? err.code : -1;
        done({ status: code, stdout, stderr });
      },
    );
  });
}
