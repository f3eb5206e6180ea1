// Background syncs across process lifecycles (issue 4), with real server
// processes: a server killed mid-task (SIGKILL), one stopped gracefully
// mid-task (SIGTERM), and two instances sharing a Postgres database and Redis.
//
// To stop a server while a task is surely in progress: on Postgres the test
// holds the site's row, which the worker needs for its next batch, once some
// batches have committed; on SQLite a trigger slows each batch down so the
// task takes seconds (see taskStuckMidway).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createClient } from "redis";
import { payload as benchPayload, type Payload } from "../support/payload";
import { redisKeyPrefix } from "../../src/app";
import type { PostgresStore } from "../../src/store/postgres/store";
import type { SqliteStore } from "../../src/store/sqlite/store";
import type { Store } from "../../src/store/types";
import { postgresAvailable, redisAvailable, TEST_REDIS_URL } from "../support/env";
import type { SeededSite } from "../support/harness";
import { createTestDatabase, describeEachDialect, type Dialect, type TestDatabase } from "../support/stores";
import {
  allSiteModules, cleanupProcesses, exitWithin, expectedTuples, getStatus, seedWorld, sql, startServer, storedTuples, until, waitFinished,
  waitHealthy, type SeededWorld, type Server,
} from "./support";

afterAll(() => cleanupProcesses());

const TASK_ENV = { SYNC_BACKGROUND_THRESHOLD: "500", SYNC_BATCH_SIZE: "100", TASK_LEASE_SECONDS: "2" };
const MODULES = 20_000;

interface TaskRow { status: string; current: number; total: number; attempts: number; lease_owner: string | null }

async function taskRow(store: Store, taskId: string): Promise<TaskRow> {
  const [row] = await sql<TaskRow>(store, `SELECT status, current, total, attempts, lease_owner FROM tasks WHERE id = '${taskId}'`);
  return { ...row!, current: Number(row!.current), total: Number(row!.total), attempts: Number(row!.attempts) };
}

/** Holds what a worker needs to apply the site's next batch; the returned function lets go. */
async function holdSite(store: Store, siteId: number): Promise<() => Promise<void>> {
  if (store.dialect === "sqlite") {
    const raw = (store as SqliteStore).raw;
    raw.exec("BEGIN IMMEDIATE");
    return async () => void raw.exec("ROLLBACK");
  }
  const reserved = await (store as PostgresStore).sql.reserve();
  await reserved`BEGIN`;
  await reserved`SELECT id FROM sites WHERE id = ${siteId} FOR UPDATE`;
  return async () => {
    await reserved`ROLLBACK`;
    reserved.release();
  };
}

async function postSync(base: string, token: string, site: SeededSite, body: Payload): Promise<{ code: number; json: any }> {
  const res = await fetch(`${base}/api/v1/sites/${site.id}/modules`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { code: res.status, json: await res.json() };
}

/**
 * Posts a large sync and returns once some of its batches have committed and
 * others not. On Postgres the site's row is then held, so the worker waits
 * with its batch in hand until `release`: held from the start, and let go for
 * a moment at a time until some progress is committed. On SQLite a worker
 * chaining write transactions would starve the test's lock requests, so its
 * batches are slowed down instead (a trigger, see below) and the caller acts
 * at once.
 */
async function taskStuckMidway(server: Server, store: Store, world: SeededWorld, site: SeededSite, body: Payload) {
  const posted = await postSync(server.base, world.token, site, body);
  expect(posted.code).toBe(202);
  const taskId: string = posted.json.task_id;
  const deadline = Date.now() + 60_000;
  let release = async () => {};
  let current: number;
  for (;;) {
    if (store.dialect === "postgres") release = await holdSite(store, site.id);
    const row = await taskRow(store, taskId);
    if (row.status === "in_progress" && row.current > 0 && row.current < row.total) {
      current = row.current;
      break;
    }
    await release();
    if (row.status === "completed" || row.status === "failed") throw new Error(`task finished before it could be interrupted: ${JSON.stringify(row)}`);
    if (Date.now() > deadline) throw new Error(`task made no progress: ${JSON.stringify(row)}`);
    await Bun.sleep(store.dialect === "sqlite" ? 2 : row.status === "in_progress" ? 5 : 20);
  }
  return { taskId, release, current };
}

/** Each new module row of a site costs the SQLite worker ~0.1 ms more: 20,000 take seconds, not a quarter of one. */
const SLOW_SQLITE = "CREATE TRIGGER test_slow_site_modules AFTER INSERT ON site_modules BEGIN SELECT length(replace(hex(zeroblob(5000)), '0', 'ab')); END";

const exactResult = (site: SeededSite) => ({
  site_id: site.id, modules_processed: MODULES, modules_created: MODULES, modules_updated: 0, modules_unchanged: 0, modules_removed: 0,
  errors: [], message: `Successfully synced ${MODULES} modules`, completed_at: expect.any(Number),
});

describeEachDialect("a large background sync across server restarts", (dialect: Dialect) => {
  let db: TestDatabase;
  let store: Store;
  let world: SeededWorld;

  beforeAll(async () => {
    db = createTestDatabase(dialect);
    store = await db.open();
    world = await seedWorld(store, 2);
    if (dialect === "sqlite") await sql(store, SLOW_SQLITE);
  });
  afterAll(async () => {
    await cleanupProcesses();
    await db.destroy();
  });

  const serverEnv = () => ({ ...TASK_ENV, DATABASE_URL: db.url });

  /**
   * A second server finishes the interrupted task: the counts of an
   * uninterrupted run, exactly the payload's modules, and the task claimed
   * once by each server (the second took it over). Then it stops cleanly.
   */
  async function restartCompletes(taskId: string, site: SeededSite, body: Payload): Promise<void> {
    const second = await startServer(serverEnv());
    await waitHealthy(second);
    const done = await waitFinished(second.base, world.token, taskId, 60_000);
    expect(done).toEqual({ status: "completed", result: exactResult(site) });
    expect(await taskRow(store, taskId)).toMatchObject({ status: "completed", current: MODULES, attempts: 2, lease_owner: null });
    expect(storedTuples(await allSiteModules(store, site.id))).toEqual(expectedTuples(body.modules));
    second.proc.kill("SIGTERM");
    expect(await exitWithin(second.proc, 10_000)).toBe(0);
  }

  test("SIGKILL mid-task: after a restart the task completes with the counts of an uninterrupted run and exactly the payload's modules", async () => {
    const site = world.sites[0]!;
    const body = benchPayload(MODULES, { url: site.url, token: site.token, fullSync: true });
    const first = await startServer(serverEnv());
    await waitHealthy(first);
    const { taskId, release, current } = await taskStuckMidway(first, store, world, site, body);
    try {
      first.proc.kill("SIGKILL");
      await first.proc.exited;
    } finally {
      await release();
    }
    // The dead worker still holds the (lapsing) lease; nothing after its last commit was kept.
    const killed = await taskRow(store, taskId);
    expect(killed).toMatchObject({ status: "in_progress", total: MODULES, attempts: 1, lease_owner: expect.any(String) });
    if (dialect === "postgres") expect(killed.current).toBe(current); // its batch in hand was waiting, uncommitted
    expect(killed.current).toBeGreaterThanOrEqual(current);
    expect(killed.current).toBeLessThan(MODULES);

    await restartCompletes(taskId, site, body);
  }, 120_000);

  test("SIGTERM mid-task: the batch in hand commits, the task is handed back, the process exits 0 within 10 s; a restart completes it exactly", async () => {
    const site = world.sites[1]!;
    const body = benchPayload(MODULES, { url: site.url, token: site.token });
    const first = await startServer(serverEnv());
    await waitHealthy(first);
    const { taskId, release, current } = await taskStuckMidway(first, store, world, site, body);
    const signalled = Date.now();
    let code: number | null;
    try {
      first.proc.kill("SIGTERM");
      // New requests are refused while stopping.
      await until(() => fetch(`${first.base}/health`).then(() => false, () => true), 5000, "the listener to close");
    } finally {
      await release();
    }
    code = await exitWithin(first.proc, 10_000 - (Date.now() - signalled));
    expect(code).toBe(0);

    const after = await taskRow(store, taskId);
    expect({ status: after.status, lease_owner: after.lease_owner }).toEqual({ status: expect.stringMatching(/^(pending|in_progress)$/), lease_owner: null });
    expect(after.current).toBeLessThan(MODULES);
    // The worker's batch in hand committed before the task was handed back (on Postgres it was surely waiting on the lock).
    if (dialect === "postgres") expect(after.current).toBeGreaterThan(current);
    else expect(after.current).toBeGreaterThanOrEqual(current);

    await restartCompletes(taskId, site, body);
  }, 120_000);
});

describe.skipIf(!postgresAvailable() || !redisAvailable())("two instances on one Postgres database and Redis", () => {
  let db: TestDatabase;
  let store: Store;
  let world: SeededWorld;
  let prefix: string;

  beforeAll(async () => {
    db = createTestDatabase("postgres");
    store = await db.open();
    world = await seedWorld(store, 4);
    prefix = await redisKeyPrefix(store);
  });
  afterAll(async () => {
    await cleanupProcesses();
    // Leave nothing of this database in the shared Redis.
    const redis = createClient({ url: TEST_REDIS_URL });
    redis.on("error", () => {});
    await redis.connect();
    try {
      const keys: string[] = [];
      for await (const batch of redis.scanIterator({ MATCH: `${prefix}*`, COUNT: 1000 })) keys.push(...batch);
      if (keys.length > 0) await redis.del(keys);
      let left = 0;
      for await (const batch of redis.scanIterator({ MATCH: `${prefix}*`, COUNT: 1000 })) left += batch.length;
      expect(left).toBe(0);
    } finally {
      await redis.close();
    }
    await db.destroy();
  });

  test("tasks posted to alternating instances each complete exactly once, and either instance shows their status", async () => {
    expect(prefix).toMatch(/^modsync:[^:]+:$/);
    const env = { SYNC_BACKGROUND_THRESHOLD: "500", SYNC_BATCH_SIZE: "100", DATABASE_URL: db.url, REDIS_URL: TEST_REDIS_URL };
    const servers = [await startServer(env), await startServer(env)];
    await Promise.all(servers.map((s) => waitHealthy(s)));

    const bodies = world.sites.map((site, i) => benchPayload(3000, { url: site.url, token: site.token, seed: i + 1, fullSync: true }));
    const posted = await Promise.all(world.sites.map((site, i) => postSync(servers[i % 2]!.base, world.token, site, bodies[i]!)));
    for (const p of posted) {
      expect(p.code).toBe(202);
      expect(p.json.message).toBe("Sync of 3000 modules queued for processing");
    }
    const ids: string[] = posted.map((p) => p.json.task_id);
    // A second sync of the first site, sent to the other instance: applied after the first, never alongside.
    const site0 = world.sites[0]!;
    const second = benchPayload(2500, { url: site0.url, token: site0.token, seed: 1, fullSync: true, versionBump: 1 });
    const secondPosted = await postSync(servers[1]!.base, world.token, site0, second);
    expect(secondPosted.code).toBe(202);
    const secondId: string = secondPosted.json.task_id;

    let turn = 0;
    const results = [];
    for (const id of ids) results.push(await waitFinished(() => servers[turn++ % 2]!.base, world.token, id, 60_000));
    for (const [i, done] of results.entries()) {
      expect(done).toEqual({
        status: "completed",
        result: {
          site_id: world.sites[i]!.id, modules_processed: 3000, modules_created: 3000, modules_updated: 0, modules_unchanged: 0,
          modules_removed: 0, errors: [], message: "Successfully synced 3000 modules", completed_at: expect.any(Number),
        },
      });
      // The same answer from both instances.
      for (const server of servers) expect(await getStatus(server.base, world.token, ids[i]!)).toEqual({ code: 200, body: done });
      if (i > 0) expect(storedTuples(await allSiteModules(store, world.sites[i]!.id))).toEqual(expectedTuples(bodies[i]!.modules));
    }
    const secondDone = await waitFinished(servers[0]!.base, world.token, secondId, 60_000);
    expect(secondDone.result).toMatchObject({ modules_processed: 2500, modules_created: 0, modules_updated: 2424, modules_unchanged: 76, modules_removed: 500 });
    expect(secondDone.result.completed_at).toBeGreaterThanOrEqual(results[0].result.completed_at);
    expect(storedTuples(await allSiteModules(store, site0.id))).toEqual(expectedTuples(second.modules));
    ids.push(secondId);

    // Give the reapers (every 2 s) a few rounds to offer a task again: none is applied twice.
    await Bun.sleep(4500);
    for (const id of ids) expect(await taskRow(store, id)).toMatchObject({ status: "completed", attempts: 1, lease_owner: null });

    for (const s of servers) s.proc.kill("SIGTERM");
    expect(await Promise.all(servers.map((s) => exitWithin(s.proc, 10_000)))).toEqual([0, 0]);
  }, 120_000);
});
