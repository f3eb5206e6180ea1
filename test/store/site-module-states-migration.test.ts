// Migration 0012 (SQLite) splits site_modules into site_module_states (what a
// sync compares and writes, WITHOUT ROWID) and site_module_details (the text),
// and keeps the name as a view of both: every row stored before reads the
// same afterwards, and SQL that wrote the old table still writes through it.
import { Database } from "bun:sqlite";
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { drizzle } from "drizzle-orm/bun-sqlite";
import { migrate } from "drizzle-orm/bun-sqlite/migrator";
import { hashOfRow } from "../../src/store/backfill";
import { SqliteStore } from "../../src/store/sqlite/store";
import { migrationsBefore } from "../support/migrations";

const dirs: string[] = [];
afterAll(() => { for (const dir of dirs) rmSync(dir, { recursive: true, force: true }); });

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

/** A copy of SQLite's migrations that ends before the split. */
function migrationsBeforeSplit(): string {
  const dir = migrationsBefore("sqlite", "0012_site_module_states");
  dirs.push(dir);
  return dir;
}

// Two sites' rows as the one table held them; the last without details_hash (a row older than the hash).
const LEGACY_ROWS = `
  INSERT INTO organizations (name) VALUES ('o');
  INSERT INTO sites (organization_id, url, normalized_url, name, token_hash) VALUES
    (1, 'https://a.example', 'https://a.example', 'a', 'h1'), (1, 'https://b.example', 'https://b.example', 'b', 'h2');
  INSERT INTO modules (machine_name) VALUES ('node'), ('views'), ('webform');
  INSERT INTO module_versions (module_id, version) VALUES (1, '10.3.8'), (2, '10.3.8'), (3, '6.2.7');
  INSERT INTO site_modules (site_id, module_id, version_id, enabled, display_name, module_type, extension_type, description, project, details_hash, first_seen_at, updated_at) VALUES
    (1, 1, 1, 1, 'Node', 'core', 'module', 'Allows content to be submitted.', NULL, 11, 1000, 2000),
    (1, 3, 3, 0, 'Webform', 'contrib', 'module', NULL, 'webform', 33, 1001, 2001),
    (2, 2, 2, 1, 'Views', 'core', 'theme', 'Lists.', 'drupal', NULL, 1002, 2002);
  INSERT INTO site_update_marks (site_id, synced_at, computed_at) VALUES (1, 5000, 5000);
  UPDATE sites SET modules_stamp = 5;`;

const ALL_ROWS = "SELECT * FROM site_modules ORDER BY site_id, module_id";

test("rows stored in the one table read the same through the view, in two tables; writes to the view reach them", async () => {
  const path = join(tempDir("modsync-split-"), "modsync.db");
  const legacy = new Database(path);
  migrate(drizzle({ client: legacy }), { migrationsFolder: migrationsBeforeSplit() });
  legacy.exec(LEGACY_ROWS);
  const before = legacy.query(ALL_ROWS).all() as Record<string, unknown>[];
  legacy.close(true);
  expect(before).toHaveLength(3);

  const store = SqliteStore.connect(path);
  try {
    const raw = (store as unknown as { raw: Database }).raw;
    // The row without a hash got the one a sync would have written (start-up's backfill, through the new table).
    const missing = before[2]!;
    const expected = before.map((r) => (r === missing ? { ...r, details_hash: hashOfRow(missing as never) } : r));
    expect(raw.query(ALL_ROWS).all()).toEqual(expected);
    expect(raw.query("SELECT count(*) AS n FROM site_module_states").get()).toEqual({ n: 3 });
    expect(raw.query("SELECT count(*) AS n FROM site_module_details").get()).toEqual({ n: 3 });
    const ddl = (name: string) => (raw.query("SELECT sql FROM sqlite_master WHERE name = ?").get(name) as { sql: string }).sql;
    expect(ddl("site_module_states")).toContain("WITHOUT ROWID");
    expect(ddl("site_module_details")).toContain("WITHOUT ROWID");
    // The migration leaves the stamps as they were: the writes below are what resets them.
    expect(raw.query("SELECT id, modules_stamp FROM sites ORDER BY id").all()).toEqual([{ id: 1, modules_stamp: 5 }, { id: 2, modules_stamp: 5 }]);

    // Ad-hoc SQL written for the one table still works on the view.
    raw.exec("UPDATE site_modules SET version_id = 2, enabled = 1, description = 'changed' WHERE site_id = 1 AND module_id = 3");
    expect(raw.query("SELECT version_id, enabled, description FROM site_modules WHERE site_id = 1 AND module_id = 3").get())
      .toEqual({ version_id: 2, enabled: 1, description: "changed" });
    expect(() => raw.exec("UPDATE site_modules SET module_id = 2 WHERE site_id = 1 AND module_id = 3")).toThrow(/cannot be changed/);
    raw.exec(`INSERT INTO site_modules (site_id, module_id, version_id, enabled, display_name, module_type, description, project, details_hash, first_seen_at, updated_at)
      VALUES (2, 3, 3, 1, 'Webform', 'contrib', NULL, 'webform', 33, 3000, 3000)`);
    expect(raw.query("SELECT extension_type, first_seen_at FROM site_modules WHERE site_id = 2 AND module_id = 3").get())
      .toEqual({ extension_type: "module", first_seen_at: 3000 });
    raw.exec("DELETE FROM site_modules WHERE site_id = 1 AND module_id = 1");
    expect(raw.query("SELECT module_id FROM site_module_details WHERE site_id = 1").all()).toEqual([{ module_id: 3 }]);
    // In the table's column order, positionally; and with foreign keys off (the sqlite3 shell's default) a delete takes both rows.
    raw.exec("INSERT INTO site_modules VALUES (1, 1, 1, 1, 'Node', 'core', 'Back.', NULL, 4000, 4001, 11, 'theme')");
    expect(raw.query("SELECT * FROM site_modules WHERE site_id = 1 AND module_id = 1").get()).toEqual({
      site_id: 1, module_id: 1, version_id: 1, enabled: 1, display_name: "Node", module_type: "core", description: "Back.", project: null,
      first_seen_at: 4000, updated_at: 4001, details_hash: 11, extension_type: "theme",
    });
    raw.exec("PRAGMA foreign_keys = OFF");
    raw.exec("DELETE FROM site_modules WHERE site_id = 1 AND module_id = 1");
    raw.exec("PRAGMA foreign_keys = ON");
    expect(raw.query("SELECT count(*) AS n FROM site_module_details WHERE site_id = 1 AND module_id = 1").get()).toEqual({ n: 0 });
    // The writes through the view set their sites' stamps to 0 (an insert for site 2, the rest for
    // site 1): a server that kept their modules reads them again. Each kind of write, one at a time:
    expect(raw.query("SELECT id, modules_stamp FROM sites ORDER BY id").all()).toEqual([{ id: 1, modules_stamp: 0 }, { id: 2, modules_stamp: 0 }]);
    const stampAfter = (write: string) => {
      raw.exec("UPDATE sites SET modules_stamp = 7 WHERE id = 1");
      raw.exec(write);
      return (raw.query("SELECT modules_stamp FROM sites WHERE id = 1").get() as { modules_stamp: number }).modules_stamp;
    };
    expect(stampAfter("UPDATE site_modules SET enabled = 1 WHERE site_id = 1")).toBe(0);
    expect(stampAfter("INSERT INTO site_modules VALUES (1, 2, 2, 1, 'Views', 'core', NULL, NULL, 5000, 5000, 22, 'module')")).toBe(0);
    expect(stampAfter("DELETE FROM site_modules WHERE site_id = 1 AND module_id = 2")).toBe(0);
    expect(stampAfter("UPDATE site_module_states SET enabled = 0 WHERE site_id = 1")).toBe(7); // the table beneath: no trigger
    // The update statuses judge every site again, whole (marks cleared).
    expect(raw.query("SELECT site_id, synced_at FROM site_update_marks").all()).toEqual([{ site_id: 1, synced_at: null }]);

    // A removed state row takes its text along; a deleted site takes both.
    raw.exec("DELETE FROM site_module_states WHERE site_id = 1");
    expect(raw.query("SELECT count(*) AS n FROM site_module_details WHERE site_id = 1").get()).toEqual({ n: 0 });
    raw.exec("DELETE FROM sites WHERE id = 2");
    expect(raw.query("SELECT count(*) AS n FROM site_module_details").get()).toEqual({ n: 0 });
    expect(raw.query("SELECT count(*) AS n FROM site_module_states").get()).toEqual({ n: 0 });
  } finally {
    await store.close();
  }
});
