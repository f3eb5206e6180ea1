// The sites the update statuses pass looks at come from site_statuses_due,
// whose rows triggers write (migration sqlite 0013, postgres 0017): every
// writer of what makes a site due is seen, this version's or not, and a pass
// deletes a site's row only with the stamp it read with the site. On both
// dialects, and the migration's first rows from a database of the version before.
import { Database } from "bun:sqlite";
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { drizzle as drizzleSqlite } from "drizzle-orm/bun-sqlite";
import { migrate as migrateSqlite } from "drizzle-orm/bun-sqlite/migrator";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import { migrate as migratePostgres } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import { PostgresStore } from "../../src/store/postgres/store";
import type { ReleaseStore } from "../../src/store/releases/types";
import { SqliteStore } from "../../src/store/sqlite/store";
import type { Store } from "../../src/store/types";
import { UpdateStatuses } from "../../src/updates/statuses";
import { TEST_POSTGRES_URL } from "../support/env";
import { createHarness, mod, payload, type Harness, type SeededSite } from "../support/harness";
import { migrationsBefore } from "../support/migrations";
import { sql } from "../support/sql";
import { describeEachDialect } from "../support/stores";
import { nextMillisecond } from "../support/until";

const dirs: string[] = [];
afterAll(() => { for (const dir of dirs) rmSync(dir, { recursive: true, force: true }); });

describeEachDialect("sites due for their update statuses, by their own rows", (dialect) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(dialect);
  });
  afterAll(() => h.close());

  const due = async (siteId: number) => (await h.store.releases.sitesToCompute(siteId - 1, 10)).includes(siteId);
  /** A time in SQL, `ms` from now (later than anything the test wrote before). */
  const at = (ms: number) => (dialect === "postgres" ? `now() + interval '${ms} milliseconds'` : String(Date.now() + ms));

  async function syncedAndJudged(label: string, version = "8.x-1.10"): Promise<SeededSite> {
    const site = await h.freshSite(label);
    await resync(site, version);
    expect(await due(site.id)).toBe(true);
    await new UpdateStatuses(h.store.releases).computePending();
    expect(await due(site.id)).toBe(false);
    return site;
  }

  async function resync(site: SeededSite, version: string): Promise<void> {
    await nextMillisecond();
    const body = payload(site, [mod("node", { module_type: "core", version: "10.3.8" }), mod("token", { version })],
      { drupal_info: { core_version: "10.3.8", php_version: "8.3.2", ip_address: "192.0.2.1" } });
    expect((await h.sync(body, site.id)).status).toBe(200);
  }

  test("SQL written by hand (or by an earlier version) makes a site due as a sync would", async () => {
    const site = await syncedAndJudged("by-hand");
    const statuses = new UpdateStatuses(h.store.releases);
    const writes = [
      // A change set, as a sync that changed a module writes it.
      `INSERT INTO site_change_sets (organization_id, site_id, changed_at, changes) SELECT organization_id, id, ${at(60_000)}, '[]' FROM sites WHERE id = ${site.id}`,
      // Module details changed, which make no change set.
      `UPDATE sites SET details_changed_at = ${at(120_000)} WHERE id = ${site.id}`,
      // Release data saved for the site's projects.
      `UPDATE site_update_marks SET synced_at = NULL WHERE site_id = ${site.id}`,
    ];
    for (const write of writes) {
      await sql(h.store, write);
      expect({ write, due: await due(site.id) }).toEqual({ write, due: true });
      await statuses.computePending();
      expect({ write, due: await due(site.id) }).toEqual({ write, due: false });
    }
    // What changes nothing the statuses depend on leaves it as it was.
    await sql(h.store, `UPDATE sites SET name = 'renamed', last_synced_at = ${at(180_000)} WHERE id = ${site.id}`);
    expect(await due(site.id)).toBe(false);
  });

  test("a site that has never synced is not due; its first sync makes it due, whatever it holds", async () => {
    const site = await h.freshSite("first");
    expect(await due(site.id)).toBe(false);
    const body = payload(site, [], { drupal_info: { core_version: "10.3.8", php_version: "8.3.2", ip_address: "192.0.2.1" } });
    expect((await h.sync(body, site.id)).status).toBe(200);
    expect(await due(site.id)).toBe(true);
    await new UpdateStatuses(h.store.releases).computePending();
    expect(await due(site.id)).toBe(false);
  });

  test("a sync committed after the pass read the site keeps it due; the next pass judges it", async () => {
    const site = await syncedAndJudged("later-sync");
    await resync(site, "8.x-1.11");
    // The pass reads the site, then a sync lands (8.x-1.12) before the pass writes.
    const racing: ReleaseStore = Object.create(h.store.releases);
    racing.changedInventories = async (siteIds) => {
      const read = await h.store.releases.changedInventories(siteIds);
      await resync(site, "8.x-1.12");
      return read;
    };
    await new UpdateStatuses(racing).computePending();
    const installed = async () => (await h.store.releases.siteUpdates(site.id)).projects.find((p) => p.project === "token")?.installedVersion;
    expect(await installed()).toBe("8.x-1.11"); // judged on what it read
    expect(await due(site.id)).toBe(true);
    await new UpdateStatuses(h.store.releases).computePending();
    expect(await installed()).toBe("8.x-1.12");
    expect(await due(site.id)).toBe(false);
  });

  test("a stamp read before the site's row was written again (another instance's pass) deletes nothing", async () => {
    const site = await syncedAndJudged("stale-stamp");
    await resync(site, "8.x-1.11");
    const [before] = await h.store.releases.inventories([site.id]);
    await resync(site, "8.x-1.12");
    const [after] = await h.store.releases.inventories([site.id]);
    expect(before!.dueStamp).not.toBeNull();
    expect(after!.dueStamp).not.toBe(before!.dueStamp);
    await h.store.releases.replaceSiteUpdates([{ siteId: site.id, syncedAt: before!.syncedAt, projects: [], dueStamp: before!.dueStamp }], new Date());
    expect(await due(site.id)).toBe(true);
    await h.store.releases.replaceSiteUpdates([{ siteId: site.id, syncedAt: after!.syncedAt, projects: [], dueStamp: after!.dueStamp }], new Date());
    expect(await due(site.id)).toBe(false);
  });
});

// Sites as the version before left them, one per case; `{t}` times are minutes ago.
const EARLIER_ROWS = `
  INSERT INTO organizations (name) VALUES ('o');
  INSERT INTO sites (organization_id, url, normalized_url, name, token_hash, last_synced_at, details_changed_at) VALUES
    (1, 'https://never-synced.example', 'https://never-synced.example', 'never synced', 'h1', NULL, NULL),
    (1, 'https://never-judged.example', 'https://never-judged.example', 'never judged', 'h2', {t50}, NULL),
    (1, 'https://judged.example', 'https://judged.example', 'judged, nothing since', 'h3', {t30}, NULL),
    (1, 'https://changed.example', 'https://changed.example', 'a change set since', 'h4', {t10}, NULL),
    (1, 'https://cleared.example', 'https://cleared.example', 'mark cleared', 'h5', {t30}, NULL),
    (1, 'https://details.example', 'https://details.example', 'details changed since', 'h6', {t10}, {t10}),
    (1, 'https://resynced.example', 'https://resynced.example', 'synced since, nothing changed', 'h7', {t10}, NULL);
  INSERT INTO site_update_marks (site_id, synced_at, computed_at) VALUES
    (3, {t30}, {t30}), (4, {t30}, {t30}), (5, NULL, {t30}), (6, {t30}, {t30}), (7, {t30}, {t30});
  INSERT INTO site_change_sets (organization_id, site_id, changed_at, changes) VALUES
    (1, 2, {t50}, '[]'), (1, 3, {t30}, '[]'), (1, 4, {t30}, '[]'), (1, 4, {t10}, '[]'), (1, 7, {t30}, '[]');`;

describeEachDialect("migration to sites due by their own rows", (dialect) => {
  test("the sites the pass would have found by walking every site are due, and no other", async () => {
    const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000);
    const rows = (time: (d: Date) => string) => EARLIER_ROWS.replace(/\{t(\d+)\}/g, (_, m: string) => time(minutesAgo(Number(m))));
    // Closed last made first, whatever step fails: a database made for the test is always dropped.
    const closers: (() => unknown)[] = [];
    try {
      let store: Store;
      if (dialect === "sqlite") {
        const migrations = migrationsBefore("sqlite", "0013_site_statuses_due");
        const dir = mkdtempSync(join(tmpdir(), "modsync-due-"));
        dirs.push(migrations, dir);
        const path = join(dir, "modsync.db");
        const db = new Database(path);
        closers.push(() => db.close(true));
        migrateSqlite(drizzleSqlite({ client: db }), { migrationsFolder: migrations });
        db.exec(rows((d) => String(d.getTime())));
        const opened = store = SqliteStore.connect(path);
        closers.push(() => opened.close());
      } else {
        const migrations = migrationsBefore("postgres", "0017_site_statuses_due");
        dirs.push(migrations);
        const name = `t_due_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
        const admin = postgres(TEST_POSTGRES_URL, { max: 1, onnotice: () => {} });
        closers.push(() => admin.end());
        await admin`CREATE DATABASE ${admin(name)}`;
        closers.push(() => admin`DROP DATABASE IF EXISTS ${admin(name)} WITH (FORCE)`);
        const url = new URL(TEST_POSTGRES_URL);
        url.pathname = `/${name}`;
        const client = postgres(url.toString(), { max: 1, onnotice: () => {} });
        closers.push(() => client.end());
        await migratePostgres(drizzlePostgres({ client }), { migrationsFolder: migrations });
        await client.unsafe(rows((d) => `'${d.toISOString()}'`));
        const opened = store = await PostgresStore.connect(url.toString(), { maxConnections: 2 });
        closers.push(() => opened.close());
      }
      expect(await store.releases.sitesToCompute(0, 100)).toEqual([2, 4, 5, 6]);
    } finally {
      for (const close of closers.reverse()) await close();
    }
  }, 60_000);
});
