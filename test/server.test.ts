// The server as deployed: `bun src/index.ts` in a child process, configured
// only through its environment.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import postgres from "postgres";
import { postgresAvailable, TEST_POSTGRES_URL } from "./support/env";

const ROOT = join(import.meta.dir, "..");
const dirs: string[] = [];
const running = new Set<Subprocess<"ignore", "pipe", "pipe">>();

afterAll(() => {
  for (const proc of running) proc.kill("SIGKILL");
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "modsync-server-"));
  dirs.push(dir);
  return dir;
}

/** A TCP port nobody listens on right now. */
function freePort(): number {
  const probe = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
  const port = probe.port!;
  probe.stop(true);
  return port;
}

interface Server {
  proc: Subprocess<"ignore", "pipe", "pipe">;
  base: string;
  stdout: Promise<string>;
  stderr: Promise<string>;
}

function startServer(env: Record<string, string | undefined>): Server {
  const port = env.PORT ?? String(freePort());
  const clean = { ...process.env };
  for (const name of ["PORT", "HOST", "DATABASE_URL", "REDIS_URL", "MAX_BODY_MB", "LOG_LEVEL"]) delete clean[name];
  const proc = Bun.spawn([process.execPath, "src/index.ts"], {
    cwd: ROOT,
    env: { ...clean, PORT: port, HOST: "127.0.0.1", DATABASE_URL: `sqlite:${tempDir()}/modsync.db`, ...env } as Record<string, string>,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  running.add(proc);
  void proc.exited.then(() => running.delete(proc));
  return {
    proc,
    base: `http://127.0.0.1:${port}`,
    stdout: new Response(proc.stdout).text(),
    stderr: new Response(proc.stderr).text(),
  };
}

/** The exit code, or null if the process is still running after `ms`. */
async function exitWithin(proc: Subprocess, ms: number): Promise<number | null> {
  let timer: Timer | undefined;
  const timeout = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), ms)));
  const code = await Promise.race([proc.exited, timeout]);
  clearTimeout(timer);
  return code;
}

/** Polls /health until it answers, failing if the process exits or `ms` pass first. */
async function waitHealthy(server: Server, ms = 10_000): Promise<void> {
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

describe("server process", () => {
  test("creates the SQLite folder, answers /health and /ready, and exits 0 on SIGTERM", async () => {
    const dbPath = join(tempDir(), "nested", "dir", "modsync.db");
    const server = startServer({ DATABASE_URL: `sqlite:${dbPath}`, LOG_LEVEL: "info" });
    try {
      await waitHealthy(server);
      expect(existsSync(dbPath)).toBe(true);

      const health = await fetch(`${server.base}/health`);
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ status: "ok" });
      expect(health.headers.get("x-request-id")).toBeTruthy();

      const ready = await fetch(`${server.base}/ready`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({ status: "ready", checks: { database: "ok" } });

      server.proc.kill("SIGTERM");
      expect(await exitWithin(server.proc, 10_000)).toBe(0);
      await expect(fetch(`${server.base}/health`)).rejects.toThrow();
      const logs = (await server.stdout).trim().split("\n").map((line) => JSON.parse(line));
      expect(logs.map((l) => l.msg)).toEqual(expect.arrayContaining(["modsync listening", "shutting down"]));
    } finally {
      server.proc.kill("SIGKILL");
    }
  }, 30_000);

  const badConfig: [string, Record<string, string>][] = [
    ["PORT", { PORT: "abc" }],
    ["PORT", { PORT: "70000" }],
    ["PORT", { PORT: "0" }],
    ["DATABASE_URL", { DATABASE_URL: "mysql://x" }],
    ["REDIS_URL", { REDIS_URL: "http://x" }],
    ["LOG_LEVEL", { LOG_LEVEL: "loud" }],
    ["MAX_BODY_MB", { MAX_BODY_MB: "0" }],
    ["MAX_BODY_MB", { MAX_BODY_MB: "lots" }],
  ];
  for (const [variable, env] of badConfig) {
    test.concurrent(`refuses to start with ${Object.entries(env).map(([k, v]) => `${k}=${v}`).join(" ")}, naming ${variable}`, async () => {
      const server = startServer(env);
      try {
        const code = await exitWithin(server.proc, 5_000);
        expect(code).not.toBeNull();
        expect(code).not.toBe(0);
        expect(await server.stderr).toContain(variable);
      } finally {
        server.proc.kill("SIGKILL");
      }
    }, 15_000);
  }
});

describe.skipIf(!postgresAvailable())("server processes on Postgres", () => {
  test("two servers started together on one empty database both become ready, and migrate it exactly once", async () => {
    const name = `t_srv_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
    const url = new URL(TEST_POSTGRES_URL);
    url.pathname = `/${name}`;
    const admin = postgres(TEST_POSTGRES_URL, { max: 1, onnotice: () => {} });
    await admin`CREATE DATABASE ${admin(name)}`;
    const servers: Server[] = [];
    try {
      servers.push(startServer({ DATABASE_URL: url.toString() }), startServer({ DATABASE_URL: url.toString() }));
      await Promise.all(servers.map((s) => waitHealthy(s, 15_000)));
      for (const s of servers) {
        const ready = await fetch(`${s.base}/ready`);
        expect(ready.status).toBe(200);
      }

      const journal = JSON.parse(readFileSync(join(ROOT, "drizzle/postgres/meta/_journal.json"), "utf8")) as { entries: unknown[] };
      const db = postgres(url.toString(), { max: 1, onnotice: () => {} });
      try {
        const rows = await db`SELECT hash FROM drizzle.__drizzle_migrations`;
        expect(rows.length).toBe(journal.entries.length);
        expect(new Set(rows.map((r) => r.hash)).size).toBe(rows.length);
        const [tables] = await db`SELECT count(*)::int AS count FROM information_schema.tables WHERE table_schema = 'public' AND table_name = 'sites'`;
        expect(tables?.count).toBe(1);
      } finally {
        await db.end();
      }

      for (const s of servers) s.proc.kill("SIGTERM");
      expect(await Promise.all(servers.map((s) => exitWithin(s.proc, 10_000)))).toEqual([0, 0]);
    } finally {
      for (const s of servers) s.proc.kill("SIGKILL");
      await Promise.all(servers.map((s) => s.proc.exited));
      await admin`DROP DATABASE IF EXISTS ${admin(name)} WITH (FORCE)`;
      await admin.end();
    }
  }, 60_000);
});
