// A sync whose every catalog id is known and whose site this process kept
// (store/site-states.ts) assumes the site still holds those modules: on
// Postgres its lock, a check of that, its writes and COMMIT go out together
// (lockSiteModulesAssuming, migration 0018). Whenever the assumption is wrong
// (another writer, a busy site, a deleted one) nothing of it is written and
// the sync is made again the long way: counts, rows and errors are exactly
// those of a sync that read the site first.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { KnownIds, SiteModuleState } from "../../src/inventory";
import { readChanges } from "../../src/store/change-sets";
import { knowsEveryId } from "../../src/store/resolve";
import { NotFoundError, SiteBusyError, type Store } from "../../src/store/types";
import { count, sql } from "../support/sql";
import { describeEachDialect } from "../support/stores";
import { fullSync, moduleAt, openTwoProcesses, storedVersions, type TwoProcesses } from "../support/two-processes";

const entry = moduleAt;

test("a sync reads no catalog id only when every module's id and every version's is known", () => {
  const entries = [entry("a", "1.0.0"), entry("b", null)];
  const known = (modules: number[], versions: number[]): KnownIds => ({ moduleIds: Float64Array.from(modules), versionIds: Float64Array.from(versions) });
  expect(knowsEveryId(entries, known([1, 2], [5, 0]))).toBe(true);
  expect(knowsEveryId(entries, known([1, 0], [5, 0]))).toBe(false);
  expect(knowsEveryId(entries, known([1, 2], [0, 0]))).toBe(false);
  expect(knowsEveryId(entries, undefined)).toBe(false);
});

describeEachDialect("a sync assuming its kept modules", (dialect) => {
  let world: TwoProcesses;
  let store: Store;
  let other: Store;
  beforeAll(async () => {
    world = await openTwoProcesses(dialect, "Assumed");
    ({ store, other } = world);
    if (dialect === "postgres") {
      // Each run of migration 0018's check, counted: it is renamed and called by a wrapper that
      // counts in sequences (which a failed check's rollback does not undo).
      await sql(store, "CREATE SEQUENCE kept_checks_passed");
      await sql(store, "CREATE SEQUENCE kept_checks_failed");
      await sql(store, "ALTER FUNCTION modsync_check_kept_site(integer, bigint) RENAME TO modsync_check_kept_site_migrated");
      await sql(store, `CREATE FUNCTION modsync_check_kept_site(site integer, kept_stamp bigint) RETURNS void LANGUAGE plpgsql AS $$
        BEGIN
          BEGIN
            PERFORM modsync_check_kept_site_migrated(site, kept_stamp);
          EXCEPTION WHEN SQLSTATE 'MS409' THEN
            PERFORM nextval('kept_checks_failed');
            RAISE;
          END;
          PERFORM nextval('kept_checks_passed');
        END $$`);
    }
  });
  afterAll(() => world.db.destroy());

  const command = fullSync;
  const freshSite = () => world.freshSite();

  /** The catalog's ids of `entries`, as the id cache would hand them to the store (every one known). */
  async function known(entries: SiteModuleState[]): Promise<KnownIds> {
    const ids: KnownIds = { moduleIds: new Float64Array(entries.length), versionIds: new Float64Array(entries.length) };
    for (const [i, e] of entries.entries()) {
      const [row] = await sql<{ m: number; v: number | null }>(store, `SELECT m.id AS m, (SELECT v.id FROM module_versions v WHERE v.module_id = m.id AND v.version = '${e.version}') AS v
        FROM modules m WHERE m.machine_name = '${e.machineName}'`);
      ids.moduleIds[i] = Number(row!.m);
      ids.versionIds[i] = e.version === null ? 0 : Number(row!.v);
    }
    expect(knowsEveryId(entries, ids)).toBe(true);
    return ids;
  }

  const versions = (siteId: number) => storedVersions(store, siteId);

  /** How many checks passed and failed so far (Postgres; the tests of a file run one after another). */
  async function checks(): Promise<{ passed: number; failed: number }> {
    if (dialect !== "postgres") return { passed: 0, failed: 0 };
    const value = async (name: string) => count(store, `SELECT CASE WHEN is_called THEN last_value ELSE 0 END AS n FROM ${name}`);
    return { passed: await value("kept_checks_passed"), failed: await value("kept_checks_failed") };
  }

  /** The checks run since `before`: on SQLite, which holds every site already, none. */
  async function checksSince(before: { passed: number; failed: number }): Promise<{ passed: number; failed: number }> {
    const now = await checks();
    return { passed: now.passed - before.passed, failed: now.failed - before.failed };
  }
  const pg = (passed: number, failed: number) => (dialect === "postgres" ? { passed, failed } : { passed: 0, failed: 0 });

  const v1 = [entry("alpha", "1.0.0"), entry("beta", "1.0.0")];
  const v2 = [entry("alpha", "2.0.0"), entry("beta", "1.0.0")];
  const v3 = [entry("alpha", "3.0.0"), entry("beta", "1.0.0")];

  /** A site synced twice to v1 by `store`: the second sync found the first's state current, so the state is confirmed. */
  async function confirmedSite(): Promise<number> {
    const siteId = await freshSite();
    await store.applySync(command(siteId, v1));
    const before = await checks();
    await store.applySync(command(siteId, v1), await known(v1));
    // The first state is kept unconfirmed: the second sync read it the long way, no check.
    expect(await checksSince(before)).toEqual(pg(0, 0));
    return siteId;
  }

  test("while the site holds them: the sync starts from them, checked once the lock is held", async () => {
    const siteId = await confirmedSite();
    await other.applySync(command(await freshSite(), v2)); // alpha@2.0.0 in the catalog
    const ids = await known(v2);
    const before = await checks();
    expect((await store.applySync(command(siteId, v2), ids)).counts).toMatchObject({ modulesUpdated: 1, modulesUnchanged: 1 });
    expect(await versions(siteId)).toEqual(["alpha@2.0.0", "beta@1.0.0"]);
    expect(await checksSince(before)).toEqual(pg(1, 0));
  });

  test("after another process's sync of the site: nothing is written on the assumption, the sync counts against what is stored, and the next one reads again", async () => {
    const siteId = await confirmedSite();
    await other.applySync(command(siteId, v3));
    const ids = await known(v2);
    const before = await checks();
    expect((await store.applySync(command(siteId, v2), ids)).counts).toMatchObject({ modulesUpdated: 1, modulesUnchanged: 1 });
    expect(await versions(siteId)).toEqual(["alpha@2.0.0", "beta@1.0.0"]);
    expect(await checksSince(before)).toEqual(pg(0, 1));
    // The state left by the sync made again is not confirmed: the next sync reads the long way, and
    // finding it current, confirms its own; the one after assumes it.
    const again = await checks();
    expect((await store.applySync(command(siteId, v1), await known(v1))).counts).toMatchObject({ modulesUpdated: 1, modulesUnchanged: 1 });
    expect((await store.applySync(command(siteId, v2), ids)).counts).toMatchObject({ modulesUpdated: 1, modulesUnchanged: 1 });
    expect(await checksSince(again)).toEqual(pg(1, 0));
    // One change set per sync that changed something: none from the attempt that failed.
    expect(await count(store, `SELECT count(*) AS n FROM site_change_sets WHERE site_id = ${siteId}`)).toBe(5);
  });

  test("two syncs of one site at once, both assuming the same state: the second finds it gone, and counts against the first", async () => {
    const siteId = await confirmedSite();
    await other.applySync(command(await freshSite(), v3)); // alpha@3.0.0 in the catalog
    const [ids2, ids3] = [await known(v2), await known(v3)];
    const before = await checks();
    const [first, second] = await Promise.all([store.applySync(command(siteId, v2), ids2), store.applySync(command(siteId, v3), ids3)]);
    // Whichever got the lock first, each changed alpha from what the other left or from 1.0.0.
    expect(first.counts).toMatchObject({ modulesUpdated: 1, modulesUnchanged: 1 });
    expect(second.counts).toMatchObject({ modulesUpdated: 1, modulesUnchanged: 1 });
    const [alpha, beta] = await versions(siteId);
    expect(["alpha@2.0.0", "alpha@3.0.0"]).toContain(alpha!);
    expect(beta).toBe("beta@1.0.0");
    // The last change set recorded moved alpha to the version the site holds.
    const [last] = await sql<{ changes: string }>(store, `SELECT ${dialect === "sqlite" ? "changes" : "changes::text"} AS changes FROM site_change_sets WHERE site_id = ${siteId} ORDER BY changed_at DESC, id DESC LIMIT 1`);
    const [stored] = await sql<{ v: number }>(store, `SELECT version_id AS v FROM site_modules sm JOIN modules m ON m.id = sm.module_id WHERE sm.site_id = ${siteId} AND m.machine_name = 'alpha'`);
    expect(readChanges(last!.changes).map((c) => c.t)).toContain(Number(stored!.v));
    expect(await checksSince(before)).toEqual(pg(1, 1));
  });

  test("a site with a background sync still to apply: busy, and nothing written", async () => {
    const siteId = await confirmedSite();
    const taskId = await other.tasks.beginUpload(siteId);
    await other.tasks.stageEntries(taskId, [{ index: 0, machineName: "alpha", entry: entry("alpha", "3.0.0") }]);
    await other.tasks.acceptUpload(taskId, { siteName: "Assumed", drupalInfo: { coreVersion: "10.3.8", phpVersion: "8.3.2", ipAddress: null }, fullSync: false, errorsTotal: 0 });
    await other.applySync(command(await freshSite(), v2)); // alpha@2.0.0 in the catalog
    const ids = await known(v2);
    const before = await checks();
    await expect(store.applySync(command(siteId, v2), ids)).rejects.toBeInstanceOf(SiteBusyError);
    expect(await versions(siteId)).toEqual(["alpha@1.0.0", "beta@1.0.0"]);
    expect(await checksSince(before)).toEqual(pg(0, 1));
  });

  test("a site deleted since: not found, and nothing written", async () => {
    const siteId = await confirmedSite();
    await other.applySync(command(await freshSite(), v2)); // alpha@2.0.0 in the catalog
    const ids = await known(v2);
    expect(await other.deleteSite(siteId)).toBe(true);
    const before = await checks();
    await expect(store.applySync(command(siteId, v2), ids)).rejects.toBeInstanceOf(NotFoundError);
    expect(await count(store, `SELECT count(*) AS n FROM site_modules WHERE site_id = ${siteId}`)).toBe(0);
    expect(await count(store, `SELECT count(*) AS n FROM site_change_sets WHERE site_id = ${siteId}`)).toBe(0);
    expect(await checksSince(before)).toEqual(pg(0, 1));
  });
});
