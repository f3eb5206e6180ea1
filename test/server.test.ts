// The server as deployed: `bun src/index.ts` in a child process, configured
// only through its environment.
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { postgresAvailable } from "./support/env";
import { scratchPostgres } from "./support/migrations";
import { cleanupProcesses, exitWithin, logLines, ROOT, startedServer, startServer, tempDir, type Server } from "./support/server-process";

afterAll(cleanupProcesses);

describe("server process", () => {
  test("creates the SQLite folder, answers /health and /ready, and exits 0 on SIGTERM", async () => {
    const dbPath = join(tempDir(), "nested", "dir", "modsync.db");
    const server = await startedServer({ DATABASE_URL: `sqlite:${dbPath}`, LOG_LEVEL: "info" });
    try {
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
    ["METRICS_TOKEN", { METRICS_TOKEN: "short" }],
  ];
  for (const [variable, env] of badConfig) {
    test.concurrent(`refuses to start with ${Object.entries(env).map(([k, v]) => `${k}=${v}`).join(" ")}: exit 78 (EX_CONFIG) naming ${variable}`, async () => {
      const server = await startServer(env);
      try {
        expect(await exitWithin(server.proc, 5_000)).toBe(78);
        // One line, naming the variable; nothing was started, so nothing was logged.
        expect((await server.stderr).trim().split("\n")).toEqual([expect.stringContaining(variable)]);
        expect(await server.stdout).toBe("");
      } finally {
        server.proc.kill("SIGKILL");
      }
    }, 15_000);
  }
});

describe("a SQLite folder the server's user cannot write (a bind-mounted /data of another uid)", () => {
  // As root every folder is writable: the server then runs as nobody, as the image runs as its own user.
  const NOBODY = 65534;
  const asRoot = process.getuid?.() === 0;
  const runAs = asRoot ? ["setpriv", `--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups"] : [];
  const uid = asRoot ? NOBODY : process.getuid!();

  /** A folder (mode `mode`, owned by this test's user) the server's user can reach but not write. */
  function folder(mode: number): string {
    const parent = tempDir();
    chmodSync(parent, 0o755);
    const data = join(parent, "data");
    mkdirSync(data);
    chmodSync(data, mode);
    return data;
  }

  async function refusal(dbPath: string): Promise<string> {
    const server = await startServer({ DATABASE_URL: `sqlite:${dbPath}` }, { runAs });
    try {
      expect(await exitWithin(server.proc, 10_000)).toBe(1);
      // Errors are logged on stderr: one JSON line.
      const lines = (await server.stderr).trim().split("\n").map((line) => JSON.parse(line));
      expect(lines.map((l) => l.msg)).toEqual(["cannot open the database"]);
      return String(lines[0].error);
    } finally {
      server.proc.kill("SIGKILL");
    }
  }

  test("a read-only folder: exit 1, the log names the folder, the uid and what to do", async () => {
    const data = folder(0o555);
    const error = await refusal(join(data, "modsync.db"));
    expect(error).toStartWith(`cannot write in the SQLite database folder ${data}: permission denied (EACCES) for uid ${uid}`);
    expect(error).toContain(`make it writable by uid ${uid}`);
    expect(error).toContain("DATABASE_URL");
  }, 20_000);

  test("a database file the server's user may not write, in a writable folder: exit 1 naming the file", async () => {
    const data = folder(0o777);
    const dbPath = join(data, "modsync.db");
    writeFileSync(dbPath, "");
    chmodSync(dbPath, 0o400);
    expect(await refusal(dbPath)).toStartWith(`cannot write the SQLite database file ${dbPath}: permission denied (EACCES) for uid ${uid}`);
  }, 20_000);
});

describe.skipIf(!postgresAvailable())("server processes on Postgres", () => {
  test("two servers started together on one empty database both become ready, and migrate it exactly once", async () => {
    // Closed last made first, whatever step fails: the database made for the test is always dropped.
    const closers: (() => unknown)[] = [];
    const servers: Server[] = [];
    try {
      const { url, sql: db } = await scratchPostgres("t_srv", closers);
      // Started together; each is waited for until it logs that it listens, on its own port.
      const starting = [startedServer({ DATABASE_URL: url }), startedServer({ DATABASE_URL: url })];
      for (const started of await Promise.allSettled(starting)) if (started.status === "fulfilled") servers.push(started.value);
      await Promise.all(starting);
      expect(new Set(servers.map((s) => s.port)).size).toBe(2);
      for (const s of servers) {
        const ready = await fetch(`${s.base}/ready`);
        expect({ port: s.port, status: ready.status, body: await ready.json() }).toEqual({ port: s.port, status: 200, body: { status: "ready", checks: { database: "ok" } } });
        expect(logLines(s, "modsync listening")).toEqual([expect.objectContaining({ port: s.port, database: "postgres" })]);
      }

      const journal = JSON.parse(readFileSync(join(ROOT, "drizzle/postgres/meta/_journal.json"), "utf8")) as { entries: unknown[] };
      const rows = await db`SELECT hash FROM drizzle.__drizzle_migrations`;
      expect(rows.length).toBe(journal.entries.length);
      expect(new Set(rows.map((r) => r.hash)).size).toBe(rows.length);
      const [tables] = await db`SELECT count(*)::int AS count FROM information_schema.tables WHERE table_schema = 'public' AND table_name = 'sites'`;
      expect(tables?.count).toBe(1);

      for (const s of servers) s.proc.kill("SIGTERM");
      expect(await Promise.all(servers.map((s) => exitWithin(s.proc, 10_000)))).toEqual([0, 0]);
    } finally {
      for (const s of servers) s.proc.kill("SIGKILL");
      await Promise.all(servers.map((s) => s.proc.exited));
      for (const close of closers.reverse()) await close();
    }
  }, 60_000);
});
