// A server loads the driver of the database it uses, and the Redis client
// only when REDIS_URL is set: each unused one would cost every thread that
// loads it ~10-20 MiB (bench/README, round 26).
import { afterAll, expect, test } from "bun:test";
import { join } from "node:path";
import { serverPort } from "../support/redis-server";
import { cleanupProcesses, inheritedEnv, ROOT, tempDir } from "../support/server-process";
import { TEST_REDIS_URL } from "../support/env";

afterAll(cleanupProcesses);

async function loadedPackages(what: string, env: Record<string, string> = {}): Promise<string[]> {
  const proc = Bun.spawn([process.execPath, join(ROOT, "test/support/loaded-packages.ts"), what], {
    cwd: ROOT,
    env: { ...inheritedEnv(), HOST: "127.0.0.1", PORT: String(await serverPort()), DATABASE_URL: `sqlite:${tempDir()}/modsync.db`, LOG_LEVEL: "error", SYNC_WORKERS: "1", ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`exit ${code}: ${err}`);
  return JSON.parse(out.trim().split("\n").at(-1)!) as string[];
}

// (drizzle-orm/pg-core is not among them: drizzle-orm's own sql module loads part of it.)
const POSTGRES = ["postgres", "drizzle-orm/postgres-js"];
const REDIS = ["redis", "@redis/client"];

test("a server on SQLite without REDIS_URL loads neither the Postgres driver nor the Redis client", async () => {
  const loaded = await loadedPackages("server");
  expect(loaded).toContain("drizzle-orm/bun-sqlite");
  for (const name of [...POSTGRES, ...REDIS]) expect(loaded).not.toContain(name);
});

test("what the check looks for is what those drivers load", async () => {
  expect(await loadedPackages("postgres-store")).toEqual(expect.arrayContaining(POSTGRES));
  expect(await loadedPackages("server", { REDIS_URL: TEST_REDIS_URL })).toEqual(expect.arrayContaining(REDIS));
});
