// Background syncs across process lifecycles (issue 4), with real server
// processes: a server killed mid-task (SIGKILL), one stopped gracefully
// mid-task (SIGTERM), and two instances sharing a Postgres database and Redis.
//
// To stop a server while its worker has a batch in hand: on Postgres the test
// holds the site's row, once some batches have committed, until the worker
// waits on it (surely in hand); on SQLite a trigger slows each batch down so
// the task takes seconds, and the test acts while a write transaction is open
// that began after the progress it read (see taskStuckMidway): usually the
// worker's batch, though another thread of the server may hold it.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createClient } from "redis";
import { redisKeyPrefix } from "../../src/app";
import type { PostgresStore } from "../../src/store/postgres/store";
import type { SqliteStore } from "../../src/store/sqlite/store";
import type { Store } from "../../src/store/types";
import { batchesPerCommit } from "../../src/tasks/commit-size";
import { postgresAvailable, redisAvailable, TEST_REDIS_URL } from "../support/env";
import type { SeededSite } from "../support/harness";
import { postSync } from "../support/http";
import { payload as benchPayload, type Payload } from "../support/payload";
import { deleteKeys } from "../support/redis";
import { createTestDatabase, describeEachDialect, type Dialect, type TestDatabase } from "../support/stores";
import {
  allSiteModules, cleanupProcesses, exitWithin, expectedTuples, getStatus, logLines, seedWorld, startedServer, storedTuples, until,
  waitFinished, type SeededWorld, type Server,
} from "./support";
import { sql } from "../support/sql";

afterAll(() => cleanupProcesses());

const BATCH_SIZE = 100;
const TASK_ENV = { SYNC_BACKGROUND_THRESHOLD: "500", SYNC_BATCH_SIZE: String(BATCH_SIZE), TASK_LEASE_SECONDS: "2" };
const MODULES = 20_000;
/** What one of the worker's transactions applies: its batch in hand. */
const STEP = batchesPerCommit(BATCH_SIZE) * BATCH_SIZE;

interface TaskRow { status: string; current: number; total: number; attempts: number; lease_owner: string | null }

async function taskRow(store: Store, taskId: string): Promise<TaskRow> {
  const [row] = await sql<TaskRow>(store, `SELECT status, current, total, attempts, lease_owner FROM tasks WHERE id = '${taskId}'`);
  return { ...row!, current: Number(row!.current), total: Number(row!.total), attempts: Number(row!.attempts) };
}

const midway = (row: TaskRow) => row.status === "in_progress" && row.current > 0 && row.current + STEP < row.total;
const finished = (row: TaskRow) => row.status === "completed" || row.status === "failed";

/** Holds the site's row (what a worker needs to apply the site's next batch) on a connection of its own. */
async function holdSite(store: PostgresStore, siteId: number): Promise<{ pid: number; release: () => Promise<void> }> {
  const reserved = await store.sql.reserve();
  await reserved`BEGIN`;
  await reserved`SELECT id FROM sites WHERE id = ${siteId} FOR NO KEY UPDATE`;
  const [row] = await reserved<{ pid: number }[]>`SELECT pg_backend_pid() AS pid`;
  const pid = row!.pid;
  return {
    pid,
    async release() {
      await reserved`ROLLBACK`;
      reserved.release();
    },
  };
}

/** Whether another connection holds SQLite's write lock (a write transaction is open), tried without waiting. */
function writeLockTaken(store: SqliteStore): boolean {
  const raw = store.raw;
  const { timeout } = raw.query("PRAGMA busy_timeout").get() as { timeout: number };
  raw.exec("PRAGMA busy_timeout = 0");
  try {
    raw.exec("BEGIN IMMEDIATE");
    raw.exec("ROLLBACK");
    return false;
  } catch (err) {
    if (/locked|busy/i.test(String(err))) return true;
    throw err;
  } finally {
    raw.exec(`PRAGMA busy_timeout = ${timeout}`);
  }
}

/**
 * Posts a large sync and returns its progress at a moment some of its
 * batches have committed, others not, and the worker has its next batch in
 * hand: on Postgres, once the worker waits on the site's row, which this
 * holds until `release`; on SQLite, while a write transaction is open that
 * began after the progress read (read again after, unchanged), most often
 * the worker's (the update statuses and checkpoint threads write too, so the
 * callers' SQLite checks allow the worker to have been between batches). A worker
 * chaining SQLite write transactions would starve a lock request of the
 * test's, so on SQLite nothing is held and the caller acts at once.
 */
async function taskStuckMidway(server: Server, store: Store, world: SeededWorld, site: SeededSite, body: Payload) {
  const posted = await postSync(server.base, site.id, { token: world.token, body });
  expect(posted.status).toBe(202);
  const taskId: string = (await posted.json()).task_id;
  const found = await until(async () => {
    if (store.dialect === "postgres") {
      const hold = await holdSite(store as PostgresStore, site.id);
      const row = await taskRow(store, taskId);
      if (midway(row)) return { row, hold };
      await hold.release();
      return finished(row) && { row, hold: null };
    }
    const row = await taskRow(store, taskId);
    if (finished(row)) return { row, hold: null };
    if (!midway(row) || !writeLockTaken(store as SqliteStore)) return false;
    return (await taskRow(store, taskId)).current === row.current && { row, hold: null };
  }, 60_000, `task ${taskId} to be midway`, 2);
  if (finished(found.row)) throw new Error(`task finished before it could be interrupted: ${JSON.stringify(found.row)}`);
  const release = found.hold?.release ?? (async () => {});
  if (found.hold) {
    const { pid } = found.hold;
    // Its next batch in hand: the worker's transaction waits on the site's row.
    await until(async () => (await sql<{ n: number }>(store, `SELECT count(*)::int AS n FROM pg_stat_activity WHERE ${pid} = ANY(pg_blocking_pids(pid))`))[0]!.n === 1,
      10_000, "the worker to wait on the site's row", 5).catch(async (err) => {
      await release();
      throw err;
    });
  }
  return { taskId, release, current: found.row.current };
}

/** Each new module row of a site (its state row: SQLite's site_modules is a view) costs the SQLite worker ~0.1 ms more: 20,000 take seconds, not a quarter of one. */
const SLOW_SQLITE = "CREATE TRIGGER test_slow_site_modules AFTER INSERT ON site_module_states BEGIN SELECT length(replace(hex(zeroblob(5000)), '0', 'ab')); END";

const exactResult = (site: SeededSite) => ({
  site_id: site.id, modules_processed: MODULES, modules_created: MODULES, modules_updated: 0, modules_unchanged: 0, modules_removed: 0,
  errors: [], errors_total: 0, message: `Successfully synced ${MODULES} modules`, completed_at: expect.any(Number),
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
    const second = await startedServer(serverEnv());
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
    const first = await startedServer(serverEnv());
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
    // On Postgres its batch in hand was waiting on the site's row, uncommitted; on SQLite it may have committed before the kill landed.
    if (dialect === "postgres") expect(killed.current).toBe(current);
    else expect([current, current + STEP]).toContain(killed.current);

    await restartCompletes(taskId, site, body);
  }, 120_000);

  test("SIGTERM mid-task: the batch in hand commits, the task is handed back, the process exits 0 within 10 s; a restart completes it exactly", async () => {
    const site = world.sites[1]!;
    const body = benchPayload(MODULES, { url: site.url, token: site.token });
    // Debug logs: the worker says when it takes the stop.
    const first = await startedServer({ ...serverEnv(), LOG_LEVEL: "debug" });
    const { taskId, release, current } = await taskStuckMidway(first, store, world, site, body);
    const signalled = Date.now();
    try {
      first.proc.kill("SIGTERM");
      // New requests are refused while stopping.
      await until(() => fetch(`${first.base}/health`).then(() => false, () => true), 5000, "the listener to close");
      // On Postgres the batch in hand still waits on the site's row: it goes on only once the worker knows to stop after it.
      await until(() => logLines(first, "background runner stopping: the batch in hand commits, then its task is handed back").length === 1,
        5000, "the worker to take the stop");
    } finally {
      await release();
    }
    expect(await exitWithin(first.proc, 10_000 - (Date.now() - signalled))).toBe(0);

    // The batch in hand committed, and no other: the task is handed back, pending, to continue where it stopped.
    const after = await taskRow(store, taskId);
    expect(after).toMatchObject({ status: "pending", lease_owner: null, attempts: 1, total: MODULES });
    if (dialect === "postgres") expect(after.current).toBe(current + STEP);
    else {
      // On SQLite the stop is taken between two of the worker's transactions, each a whole batch in
      // hand. The write lock the test saw open may have been another writer's (the update statuses or
      // checkpoint thread: under load it once was, and the worker had no batch in hand), so the
      // task stops where it was or whole batches later, never in between; the restart below then
      // finds exactly the rest to do.
      expect(after.current).toBeGreaterThanOrEqual(current);
      expect((after.current - current) % STEP).toBe(0);
      expect(after.current).toBeLessThan(MODULES);
    }

    await restartCompletes(taskId, site, body);
  }, 120_000);
});

describe.skipIf(!postgresAvailable() || !redisAvailable())("two instances on one Postgres database and Redis", () => {
  let db: TestDatabase;
  let store: Store;
  let world: SeededWorld;
  let prefix: string;
  /** The test's own view of the shared Redis. */
  const redis = createClient({ url: TEST_REDIS_URL });

  beforeAll(async () => {
    db = createTestDatabase("postgres");
    store = await db.open();
    world = await seedWorld(store, 4);
    prefix = await redisKeyPrefix(store);
    await redis.connect();
  });
  afterAll(async () => {
    await cleanupProcesses();
    // Leave nothing of this database in the shared Redis.
    await deleteKeys(redis, prefix);
    await redis.close();
    await db.destroy();
  });

  /** Every id the job lists of this database hold: pending, and in each consumer's processing list. */
  async function queuedIds(): Promise<string[]> {
    const ids = await redis.lRange(`${prefix}jobs:pending`, 0, -1);
    for await (const keys of redis.scanIterator({ MATCH: `${prefix}jobs:processing:*`, COUNT: 100 })) {
      for (const key of keys) ids.push(...await redis.lRange(key, 0, -1));
    }
    return ids;
  }

  test("tasks posted to alternating instances each complete exactly once, and either instance shows their status", async () => {
    expect(prefix).toMatch(/^modsync:[^:]+:$/);
    const env = { SYNC_BACKGROUND_THRESHOLD: "500", SYNC_BATCH_SIZE: "100", DATABASE_URL: db.url, REDIS_URL: TEST_REDIS_URL };
    const servers = [await startedServer(env), await startedServer(env)];

    const bodies = world.sites.map((site, i) => benchPayload(3000, { url: site.url, token: site.token, seed: i + 1, fullSync: true }));
    const posted = await Promise.all(world.sites.map(async (site, i) => {
      const res = await postSync(servers[i % 2]!.base, site.id, { token: world.token, body: bodies[i]! });
      return { code: res.status, json: await res.json() };
    }));
    for (const p of posted) {
      expect(p.code).toBe(202);
      expect(p.json.message).toBe("Sync of 3000 modules queued for processing");
    }
    const ids: string[] = posted.map((p) => p.json.task_id);
    // A second sync of the first site, sent to the other instance: applied after the first, never alongside.
    const site0 = world.sites[0]!;
    const second = benchPayload(2500, { url: site0.url, token: site0.token, seed: 1, fullSync: true, versionBump: 1 });
    const secondPosted = await postSync(servers[1]!.base, site0.id, { token: world.token, body: second });
    expect(secondPosted.status).toBe(202);
    const secondId: string = (await secondPosted.json()).task_id;

    let turn = 0;
    const results = [];
    for (const id of ids) results.push(await waitFinished(() => servers[turn++ % 2]!.base, world.token, id, 60_000));
    for (const [i, done] of results.entries()) {
      expect(done).toEqual({
        status: "completed",
        result: {
          site_id: world.sites[i]!.id, modules_processed: 3000, modules_created: 3000, modules_updated: 0, modules_unchanged: 0,
          modules_removed: 0, errors: [], errors_total: 0, message: "Successfully synced 3000 modules", completed_at: expect.any(Number),
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

    // Each was claimed once; once its worker is done, no job list offers it again (finished tasks are never runnable).
    for (const id of ids) expect(await taskRow(store, id)).toMatchObject({ status: "completed", attempts: 1, lease_owner: null });
    await until(async () => (await queuedIds()).length === 0, 10_000, "the job lists to let go of the finished tasks");

    for (const s of servers) s.proc.kill("SIGTERM");
    expect(await Promise.all(servers.map((s) => exitWithin(s.proc, 10_000)))).toEqual([0, 0]);
  }, 120_000);
});
