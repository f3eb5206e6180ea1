// Real server processes for tests: `bun src/index.ts` in a child process,
// configured only through its environment, and everything they leave behind.
import type { Subprocess } from "bun";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CONFIG_VARIABLES } from "../../src/config";
import { serverPort } from "./redis-server";
import { until } from "./until";

export const ROOT = join(import.meta.dir, "..", "..");

export interface Server {
  proc: Subprocess<"ignore", "pipe", "pipe">;
  base: string;
  port: number;
  /** All of stdout (one JSON log line each), once the process has exited. */
  stdout: Promise<string>;
  stderr: Promise<string>;
  /** What the process has written to stdout so far. */
  output(): string;
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

/** This process's environment without modsync's own settings: a test says what a child process runs with. */
export function inheritedEnv(): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { ...process.env };
  for (const name of Object.keys(CONFIG_VARIABLES)) delete env[name];
  return env;
}

/**
 * Starts a server on a port of its own (unless env names one), a fresh SQLite
 * file (unless env names a database), info logs and a rate limit out of the
 * way. Returns at once: see startedServer() for one that is up.
 */
export async function startServer(env: Record<string, string | undefined> = {}, { runAs = [] as string[] } = {}): Promise<Server> {
  const port = env.PORT ?? String(await serverPort());
  // runAs: a command that runs the rest as another user (setpriv …).
  const proc = Bun.spawn([...runAs, process.execPath, "src/index.ts"], {
    cwd: ROOT,
    env: {
      ...inheritedEnv(), PORT: port, HOST: "127.0.0.1", DATABASE_URL: `sqlite:${tempDir()}/modsync.db`,
      LOG_LEVEL: "info", RATE_LIMIT_PER_HOUR: "100000", FAILED_ATTEMPTS_PER_HOUR: "100000", SYNC_WORKERS: "1", ...env,
    } as Record<string, string>,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  running.add(proc);
  void proc.exited.then(() => running.delete(proc));
  let output = "";
  const stdout = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of proc.stdout) output += decoder.decode(chunk, { stream: true });
    return (output += decoder.decode());
  })();
  return {
    proc,
    port: Number(port),
    base: `http://127.0.0.1:${port}`,
    stdout,
    stderr: new Response(proc.stderr).text(),
    output: () => output,
  };
}

/** The JSON log lines a server has written so far with this `msg` (LOG_LEVEL info or lower). */
export function logLines(server: Server, msg: string): Record<string, unknown>[] {
  return server.output().split("\n").filter((line) => line.includes(`"msg":${JSON.stringify(msg)}`)).map((line) => JSON.parse(line));
}

/**
 * Waits until the process itself logs that it listens on its port (having
 * opened its database, started its workers and enqueued what was pending),
 * then checks that /health answers. Fails at once if the process exits.
 * Polling the port alone would take any process that happens to listen
 * there for this one.
 */
export async function waitHealthy(server: Server, ms = 15_000): Promise<void> {
  const state = await until(() => {
    if (server.proc.exitCode !== null) return "exited";
    return logLines(server, "modsync listening").some((line) => line.port === server.port) && "listening";
  }, ms, `the server on port ${server.port} to log that it listens`);
  if (state === "exited") throw new Error(`server exited with ${server.proc.exitCode}: ${await server.stderr}`);
  const health = await fetch(`${server.base}/health`);
  if (health.status !== 200) throw new Error(`server on port ${server.port} listens, but /health answered ${health.status}`);
}

/**
 * startServer() and waitHealthy(). A port taken by some other process
 * between the choice and the server's bind (the server exits with
 * EADDRINUSE) is replaced by another: that is the test kit's choice of port
 * failing, not the server. Nothing else is retried.
 */
export async function startedServer(env: Record<string, string | undefined> = {}, ms = 15_000): Promise<Server> {
  for (let attempt = 1; ; attempt++) {
    const server = await startServer(env);
    try {
      await waitHealthy(server, ms);
      return server;
    } catch (err) {
      const portTaken = server.proc.exitCode !== null && (await server.stderr).includes("EADDRINUSE");
      if (!portTaken || env.PORT !== undefined || attempt === 3) throw err;
    }
  }
}

/** The exit code, or null if the process is still running after `ms`. */
export async function exitWithin(proc: Subprocess, ms: number): Promise<number | null> {
  let timer: Timer | undefined;
  const timeout = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), ms)));
  const code = await Promise.race([proc.exited, timeout]);
  clearTimeout(timer);
  return code;
}
