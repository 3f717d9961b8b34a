/**
 * A private `redis-server` for one test file: started on a free loopback port with a temp dir, no RDB
 * snapshots and (unless asked) no AOF; `stop()` in `after`. `kill()` SIGKILLs it and `restart()` starts
 * it again on the same port and dir (with `persistent: true` an always-fsynced AOF keeps the data across
 * the kill, as a production Redis with persistence would).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A free TCP port on 127.0.0.1 (the OS picks it; released before it is returned). */
export async function freePort(): Promise<number> {
  const srv = createServer();
  srv.listen(0, "127.0.0.1");
  await once(srv, "listening");
  const addr = srv.address();
  const port = typeof addr === "object" && addr !== null ? addr.port : 0;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const t0 = Date.now();
  for (;;) {
    const ok = await new Promise<boolean>((r) => {
      const s = createConnection({ port, host: "127.0.0.1" });
      s.once("connect", () => {
        s.destroy();
        r(true);
      });
      s.once("error", () => r(false));
    });
    if (ok) return;
    if (Date.now() - t0 > timeoutMs) throw new Error(`redis-server did not listen on ${port}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface TestRedis {
  readonly port: number;
  readonly url: string;
  /** SIGKILLs the server and waits for its exit. */
  kill(): Promise<void>;
  /** Starts the server again on the same port and dir. */
  restart(): Promise<void>;
  /** Stops the server and removes its dir. */
  stop(): Promise<void>;
}

/** Starts a private redis-server (see the module doc). */
export async function startRedis(opts: { persistent?: boolean } = {}): Promise<TestRedis> {
  const dir = mkdtempSync(join(tmpdir(), "pointline-redis-"));
  const port = await freePort();
  let proc: ChildProcess | null = null;
  const start = async (): Promise<void> => {
    const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--dir", dir];
    args.push("--appendonly", opts.persistent ? "yes" : "no");
    if (opts.persistent) args.push("--appendfsync", "always");
    proc = spawn("redis-server", args, { stdio: "ignore" });
    const p = proc;
    const failed = once(p, "exit").then(() => {
      throw new Error(`redis-server on port ${port} exited at start`);
    });
    failed.catch(() => {});
    await Promise.race([waitForPort(port, 10_000), failed]);
  };
  const kill = async (): Promise<void> => {
    const p = proc;
    proc = null;
    if (p === null || p.exitCode !== null) return;
    const exited = once(p, "exit");
    p.kill("SIGKILL");
    await exited;
  };
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    kill,
    restart: start,
    stop: async () => {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
