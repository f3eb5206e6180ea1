// Real server processes for tests: `bun src/index.ts` in a child process,
// configured only through its environment, and everything they leave behind.
import type { Subprocess } from "bun";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CONFIG_VARIABLES } from "../../src/config";
import { freePort } from "./redis-server";

export const ROOT = join(import.meta.dir, "..", "..");

export interface Server {
  proc: Subprocess<"ignore", "pipe", "pipe">;
  base: string;
  port: number;
  stdout: Promise<string>;
  stderr: Promise<string>;
}

const running = new Set<Subprocess>();
const dirs: string[] = [];

export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "modsync-server-"));
  dirs.push(dir);
  return dir;
}

/** Kills every server still running and removes temp dirs: for afterAll. */
export async function cleanupProcesses(): Promise<void> {
  const procs = [...running];
  for (const proc of procs) proc.kill("SIGKILL");
  await Promise.all(procs.map((p) => p.exited));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}


/**
 * Starts a server on a free port (unless env names one), a fresh SQLite file
 * (unless env names a database), quiet logs and a rate limit out of the way.
 */
export async function startServer(env: Record<string, string | undefined> = {}): Promise<Server> {
  const port = env.PORT ?? String(await freePort());
  const clean: Record<string, string | undefined> = { ...process.env };
  // modsync's own settings are dropped from the inherited environment: a test says what it runs with.
  for (const name of Object.keys(CONFIG_VARIABLES)) delete clean[name];
  const proc = Bun.spawn([process.execPath, "src/index.ts"], {
    cwd: ROOT,
    env: {
      ...clean, PORT: port, HOST: "127.0.0.1", DATABASE_URL: `sqlite:${tempDir()}/modsync.db`,
      LOG_LEVEL: "warn", RATE_LIMIT_PER_HOUR: "100000", FAILED_ATTEMPTS_PER_HOUR: "100000", SYNC_WORKERS: "1", ...env,
    } as Record<string, string>,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  running.add(proc);
  void proc.exited.then(() => running.delete(proc));
  return {
    proc,
    port: Number(port),
    base: `http://127.0.0.1:${port}`,
    stdout: new Response(proc.stdout).text(),
    stderr: new Response(proc.stderr).text(),
  };
}

/** Polls /health until it answers, failing if the process exits or `ms` pass first. */
export async function waitHealthy(server: Server, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (server.proc.exitCode !== null) throw new Error(`server exited with ${server.proc.exitCode}: ${await server.stderr}`);
    try {
      if ((await fetch(`${server.base}/health`)).ok) return;
    } catch {
      // not listening yet
    }
    await Bun.sleep(50);
  }
  throw new Error(`server not healthy after ${ms} ms`);
}

/** The exit code, or null if the process is still running after `ms`. */
export async function exitWithin(proc: Subprocess, ms: number): Promise<number | null> {
  let timer: Timer | undefined;
  const timeout = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), ms)));
  const code = await Promise.race([proc.exited, timeout]);
  clearTimeout(timer);
  return code;
}
