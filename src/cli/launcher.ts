/**
 * Stopping together with the npm launcher.
 *
 * `npx pointline …` and `npm run pointline -- …` run this CLI as npm → `sh -c "pointline …"` → node.
 * On SIGTERM (or a SIGINT sent to npm alone, not to the terminal's process group) npm forwards the
 * signal to its child, the shell; `sh` (dash) dies of it without passing it on, and this node process,
 * orphaned, would carry on — e.g. ingest the next file and commit it seconds after the user stopped the
 * command. (Ctrl-C on a terminal is not affected: it signals the whole foreground process group.)
 *
 * `stopWithLauncher` closes that gap: in a process started by npm (`npm_lifecycle_event` set), it
 * polls the parent pid, and when the parent has gone (the orphan was re-parented to init or a
 * subreaper) it sends SIGTERM to itself, so the command ends as if the signal had reached it: at once,
 * with the default action, leaving the lake as committed before (an ingest commits a file atomically:
 * parts renamed, manifest written last; readers see manifests only). Outside npm nothing is watched, so
 * `nohup node bin/pointline.js … &` keeps running after its shell exits.
 */

/** Whether this process was started by npm or npx (npm sets `npm_lifecycle_event` for scripts and bins). */
export function startedByNpm(env: NodeJS.ProcessEnv = process.env): boolean {
  return env["npm_lifecycle_event"] !== undefined;
}

/**
 * Ends this process with SIGTERM when its parent process goes away (see the module doc). Enabled only
 * when `startedByNpm(env)`; the poll timer (every `intervalMs` ms, default 100) does not keep the
 * process alive. Returns a function that stops watching.
 */
export function stopWithLauncher(intervalMs = 100, env: NodeJS.ProcessEnv = process.env): () => void {
  if (!startedByNpm(env)) return () => {};
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    process.stderr.write(`pointline: the launching process (pid ${parent}) has gone; stopping\n`);
    process.kill(process.pid, "SIGTERM");
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
