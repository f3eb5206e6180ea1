// Migration 0007 turns the history's one-row-per-change table (site_changes)
// into change sets, one row per sync: the history recorded before it reads
// the same afterwards, in the same order, with the same names.
import { Database } from "bun:sqlite";
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { drizzle as drizzleSqlite } from "drizzle-orm/bun-sqlite";
import { migrate as migrateSqlite } from "drizzle-orm/bun-sqlite/migrator";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import { migrate as migratePostgres } from "drizzle-orm/postgres-js/migrator";
import { PostgresStore } from "../../src/store/postgres/store";
import { SqliteStore } from "../../src/store/sqlite/store";
import type { Store } from "../../src/store/types";
import { migrationsBefore, scratchPostgres } from "../support/migrations";
import { describeEachDialect } from "../support/stores";

const dirs: string[] = [];
afterAll(() => { for (const dir of dirs) rmSync(dir, { recursive: true, force: true }); });

/** A copy of the dialect's migrations that ends before change sets. */
function migrationsBeforeChangeSets(dialect: "sqlite" | "postgres"): string {
  const dir = migrationsBefore(dialect, "0007_change_sets");
  dirs.push(dir);
  return dir;
}

// Two syncs of one site as the old table recorded them: a first sync, then
// one that changed a module's version, removed another and moved core.
const LEGACY_ROWS = `
  INSERT INTO organizations (name) VALUES ('o');
  INSERT INTO sites (organization_id, url, normalized_url, name, token_hash) VALUES (1, 'https://a.example', 'https://a.example', 'a', 'h');
  INSERT INTO site_changes (organization_id, site_id, changed_at, task_id, kind, machine_name, from_value, to_value, module_count) VALUES
    (1, 1, {t1}, NULL, 'initial_inventory', NULL, NULL, NULL, 150),
    (1, 1, {t2}, 'task-1', 'version_changed', 'webform', '6.2.0', '6.2.7', NULL),
    (1, 1, {t2}, 'task-1', 'module_removed', 'pathauto', '1.12.0', NULL, NULL),
    (1, 1, {t2}, 'task-1', 'core_version_changed', NULL, '10.3.8', '10.4.0', NULL);`;

describeEachDialect("migration to change sets", (dialect) => {
  test("changes recorded one row each read the same as change sets, one set per sync", async () => {
    const t1 = new Date("2026-11-01T10:00:00.000Z");
    const t2 = new Date("2026-11-02T11:30:00.250Z");
    // Closed last made first, whatever step fails: a database made for the test is always dropped.
    const closers: (() => unknown)[] = [];
    try {
      let store: Store;
      if (dialect === "sqlite") {
        const dir = mkdtempSync(join(tmpdir(), "modsync-legacy-"));
        dirs.push(dir);
        const path = join(dir, "modsync.db");
        const db = new Database(path);
        // close(true): the migrator's statements would keep the file open until collected.
        closers.push(() => db.close(true));
        migrateSqlite(drizzleSqlite({ client: db }), { migrationsFolder: migrationsBeforeChangeSets("sqlite") });
        db.exec(LEGACY_ROWS.replace("{t1}", String(t1.getTime())).replaceAll("{t2}", String(t2.getTime())));
        const opened = store = SqliteStore.connect(path);
        closers.push(() => opened.close());
      } else {
        const { url, sql } = await scratchPostgres("t_legacy", closers);
        await migratePostgres(drizzlePostgres({ client: sql }), { migrationsFolder: migrationsBeforeChangeSets("postgres") });
        await sql.unsafe(LEGACY_ROWS.replace("{t1}", `'${t1.toISOString()}'`).replaceAll("{t2}", `'${t2.toISOString()}'`));
        const opened = store = await PostgresStore.connect(url, { maxConnections: 2 });
        closers.push(() => opened.close());
      }
      const changes = await store.queries.changes({ siteId: 1, limit: 10 });
      expect(changes.map((c) => [c.setId, c.index, c.changedAt.toISOString(), c.taskId, c.kind, c.machineName, c.fromValue, c.toValue, c.moduleCount])).toEqual([
        [1, 0, t1.toISOString(), null, "initial_inventory", null, null, null, 150],
        [2, 0, t2.toISOString(), "task-1", "version_changed", "webform", "6.2.0", "6.2.7", null],
        [2, 1, t2.toISOString(), "task-1", "module_removed", "pathauto", "1.12.0", null, null],
        [2, 2, t2.toISOString(), "task-1", "core_version_changed", null, "10.3.8", "10.4.0", null],
      ]);
      expect(changes.every((c) => c.organizationId === 1 && c.siteId === 1)).toBe(true);
    } finally {
      for (const close of closers.reverse()) await close();
    }
  });
});
