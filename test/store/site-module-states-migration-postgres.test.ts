// Migration 0020 (Postgres) splits site_modules into site_module_states (what a
// sync compares and writes) and site_module_details (the text), as SQLite's
// 0012 did, and keeps the name as a view of both: every row stored before
// reads the same afterwards, SQL that wrote the old table still writes through
// it and resets the site's stamp, and the store's reads of states alone leave
// the text's table out.
import { afterAll, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { drizzle } from "drizzle-orm/postgres-js";
import { migrate } from "drizzle-orm/postgres-js/migrator";
import { hashOfRow } from "../../src/store/backfill";
import { PostgresStore } from "../../src/store/postgres/store";
import { migrationsBefore, scratchPostgres } from "../support/migrations";

const dirs: string[] = [];
afterAll(() => { for (const dir of dirs) rmSync(dir, { recursive: true, force: true }); });

// Two sites' rows as the one table held them; the last without details_hash (a row older than the hash).
const LEGACY_ROWS = `
  INSERT INTO organizations (name) VALUES ('o');
  INSERT INTO sites (organization_id, url, normalized_url, name, token_hash) VALUES
    (1, 'https://a.example', 'https://a.example', 'a', 'h1'), (1, 'https://b.example', 'https://b.example', 'b', 'h2');
  INSERT INTO modules (machine_name) VALUES ('node'), ('views'), ('webform');
  INSERT INTO module_versions (module_id, version) VALUES (1, '10.3.8'), (2, '10.3.8'), (3, '6.2.7');
  INSERT INTO site_modules (site_id, module_id, version_id, enabled, display_name, module_type, extension_type, description, project, details_hash, first_seen_at, updated_at) VALUES
    (1, 1, 1, true, 'Node', 'core', 'module', 'Allows content to be submitted.', NULL, 11, '2026-11-01T10:00:00Z', '2026-11-01T10:00:01Z'),
    (1, 3, 3, false, 'Webform', 'contrib', 'module', NULL, 'webform', 33, '2026-11-01T10:00:02Z', '2026-11-01T10:00:03Z'),
    (2, 2, 2, true, 'Views', 'core', 'theme', 'Lists.', 'drupal', NULL, '2026-11-01T10:00:04Z', '2026-11-01T10:00:05Z');
  UPDATE sites SET modules_stamp = 5;`;

const ALL_ROWS = "SELECT * FROM site_modules ORDER BY site_id, module_id";

test("Postgres: rows stored in the one table read the same through the view, in two tables; writes to the view reach them and reset the stamp", async () => {
  // Closed last made first, whatever step fails: the database made for the test is always dropped.
  const closers: (() => unknown)[] = [];
  try {
    const { url, sql } = await scratchPostgres("t_split", closers);
    const rows = async (query: string): Promise<Record<string, unknown>[]> => [...await sql.unsafe(query)];
    const before = migrationsBefore("postgres", "0020_site_module_states");
    dirs.push(before);
    await migrate(drizzle({ client: sql }), { migrationsFolder: before });
    await sql.unsafe(LEGACY_ROWS);
    const legacy = await rows(ALL_ROWS);
    expect(legacy).toHaveLength(3);

    const store = await PostgresStore.connect(url, { maxConnections: 2 });
    closers.push(() => store.close());

    // The row without a hash got the one a sync would have written (start-up's backfill, through the new table).
    const missing = legacy[2]!;
    const expected = legacy.map((r) => (r === missing ? { ...r, details_hash: String(hashOfRow(missing as never)) } : r));
    expect(await rows(ALL_ROWS)).toEqual(expected);
    const count = async (from: string) => Number((await sql.unsafe<{ n: string }[]>(`SELECT count(*) AS n FROM ${from}`))[0]!.n);
    expect(await count("site_module_states")).toBe(3);
    expect(await count("site_module_details")).toBe(3);
    const [kind] = await sql<{ relkind: string; reloptions: string[] | null }[]>`
      SELECT relkind, (SELECT reloptions FROM pg_class WHERE relname = 'site_module_states') AS reloptions FROM pg_class WHERE relname = 'site_modules'`;
    // 75% from 0020, 60% since 0021.
    expect(kind).toEqual({ relkind: "v", reloptions: ["fillfactor=60"] });
    const stamps = async () => (await sql<{ id: number; modules_stamp: string }[]>`SELECT id, modules_stamp FROM sites ORDER BY id`).map((r) => [r.id, Number(r.modules_stamp)]);
    // The migration leaves the stamps as they were (the backfill's write set site 2's to 0, as before the split).
    expect(await stamps()).toEqual([[1, 5], [2, 0]]);

    // A read of states alone through the view does not join the text.
    const plan = (await sql.unsafe<{ "QUERY PLAN": string }[]>("EXPLAIN SELECT module_id, version_id, enabled, details_hash FROM site_modules WHERE site_id = 1"))
      .map((r) => r["QUERY PLAN"]).join("\n");
    expect(plan).toContain("site_module_states");
    expect(plan).not.toContain("site_module_details");

    // Ad-hoc SQL written for the one table still works on the view.
    await sql.unsafe("UPDATE site_modules SET version_id = 2, enabled = true, description = 'changed' WHERE site_id = 1 AND module_id = 3");
    expect(await rows("SELECT version_id, enabled, description FROM site_modules WHERE site_id = 1 AND module_id = 3"))
      .toEqual([{ version_id: "2", enabled: true, description: "changed" }]);
    await expect(sql.unsafe("UPDATE site_modules SET module_id = 2 WHERE site_id = 1 AND module_id = 3")).rejects.toThrow(/cannot be changed/);
    await sql.unsafe(`INSERT INTO site_modules (site_id, module_id, version_id, enabled, display_name, module_type, description, project, details_hash, first_seen_at, updated_at)
      VALUES (2, 3, 3, true, 'Webform', 'contrib', NULL, 'webform', 33, '2026-11-02T00:00:00Z', '2026-11-02T00:00:00Z')`);
    expect(await rows("SELECT extension_type, first_seen_at = '2026-11-02T00:00:00Z' AS first_seen FROM site_modules WHERE site_id = 2 AND module_id = 3"))
      .toEqual([{ extension_type: "module", first_seen: true }]);
    await sql.unsafe("DELETE FROM site_modules WHERE site_id = 1 AND module_id = 1");
    expect(await rows("SELECT module_id FROM site_module_details WHERE site_id = 1")).toEqual([{ module_id: 3 }]);
    // In the table's column order, positionally.
    await sql.unsafe("INSERT INTO site_modules VALUES (1, 1, 1, true, 'Node', 'core', 'Back.', NULL, '2026-11-03T00:00:00Z', '2026-11-03T00:00:01Z', 11, 'theme')");
    expect(await rows(`SELECT *, first_seen_at = '2026-11-03T00:00:00Z' AS first_seen, updated_at = '2026-11-03T00:00:01Z' AS updated
      FROM site_modules WHERE site_id = 1 AND module_id = 1`)).toEqual([expect.objectContaining({
      site_id: 1, module_id: 1, version_id: "1", enabled: true, display_name: "Node", module_type: "core", description: "Back.", project: null,
      first_seen: true, updated: true, details_hash: "11", extension_type: "theme",
    })]);

    // Every kind of write sets its site's stamp to 0: through the view, and to either table beneath
    // (an instance of an earlier version, or SQL by hand, writes no stamp of its own).
    const stampAfter = async (write: string) => {
      await sql`UPDATE sites SET modules_stamp = 7 WHERE id = 1`;
      await sql.unsafe(write);
      return Number((await sql<{ s: string }[]>`SELECT modules_stamp AS s FROM sites WHERE id = 1`)[0]!.s);
    };
    expect(await stampAfter("UPDATE site_modules SET enabled = true WHERE site_id = 1")).toBe(0);
    expect(await stampAfter("UPDATE site_modules SET description = 'again' WHERE site_id = 1 AND module_id = 1")).toBe(0);
    expect(await stampAfter("INSERT INTO site_modules VALUES (1, 2, 2, true, 'Views', 'core', NULL, NULL, now(), now(), 22, 'module')")).toBe(0);
    expect(await stampAfter("DELETE FROM site_modules WHERE site_id = 1 AND module_id = 2")).toBe(0);
    expect(await stampAfter("UPDATE site_module_states SET enabled = false WHERE site_id = 1")).toBe(0);
    expect(await stampAfter("UPDATE site_module_details SET project = 'p' WHERE site_id = 1")).toBe(0);
    // A transaction that writes its own stamp (a sync) is left to write it.
    expect(await stampAfter("BEGIN; SELECT set_config('modsync.writes_stamps', 'on', true); UPDATE site_module_states SET enabled = true WHERE site_id = 1; COMMIT")).toBe(7);

    // A removed state row takes its text along; a deleted site takes both.
    await sql.unsafe("DELETE FROM site_module_states WHERE site_id = 1");
    expect(await count("site_module_details WHERE site_id = 1")).toBe(0);
    await sql.unsafe("DELETE FROM sites WHERE id = 2");
    expect(await count("site_module_details")).toBe(0);
    expect(await count("site_module_states")).toBe(0);
  } finally {
    for (const close of closers.reverse()) await close();
  }
});
