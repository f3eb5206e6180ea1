// Migration 0021 (Postgres) rewrites site_module_states with version_id as an
// integer, filled to 60%, and makes the view site_modules again over it: every
// row stored before reads the same afterwards (its version id now a number),
// writes through the view still reach both tables and reset the site's stamp,
// and module_versions makes no id that the column could not hold.
import { afterAll, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { drizzle } from "drizzle-orm/postgres-js";
import { migrate } from "drizzle-orm/postgres-js/migrator";
import { PostgresStore } from "../../src/store/postgres/store";
import { migrationsBefore, scratchPostgres } from "../support/migrations";

const dirs: string[] = [];
afterAll(() => { for (const dir of dirs) rmSync(dir, { recursive: true, force: true }); });

const ROWS_BEFORE = `
  INSERT INTO organizations (name) VALUES ('o');
  INSERT INTO sites (organization_id, url, normalized_url, name, token_hash) VALUES (1, 'https://a.example', 'https://a.example', 'a', 'h1');
  INSERT INTO modules (machine_name) VALUES ('node'), ('views');
  INSERT INTO module_versions (module_id, version) VALUES (1, '10.3.8'), (2, '10.3.8');
  INSERT INTO site_modules (site_id, module_id, version_id, enabled, display_name, module_type, extension_type, description, project, details_hash, first_seen_at, updated_at) VALUES
    (1, 1, 1, true, 'Node', 'core', 'module', 'Allows content to be submitted.', 'drupal', 11, '2026-11-01T10:00:00Z', '2026-11-01T10:00:01Z'),
    (1, 2, NULL, false, 'Views', 'core', 'module', NULL, 'drupal', 22, '2026-11-01T10:00:02Z', '2026-11-01T10:00:03Z');
  UPDATE sites SET modules_stamp = 5;`;

const ALL_ROWS = "SELECT * FROM site_modules ORDER BY site_id, module_id";

test("Postgres: 0021 keeps every state row, its version id an integer, on pages filled to 60%; the view and its triggers work as before", async () => {
  // Closed last made first, whatever step fails: the database made for the test is always dropped.
  const closers: (() => unknown)[] = [];
  try {
    const { url, sql } = await scratchPostgres("t_narrow", closers);
    const rows = async (query: string): Promise<Record<string, unknown>[]> => [...await sql.unsafe(query)];
    const before = migrationsBefore("postgres", "0021_site_module_states_narrower");
    dirs.push(before);
    await migrate(drizzle({ client: sql }), { migrationsFolder: before });
    await sql.unsafe(ROWS_BEFORE);
    const stored = await rows(ALL_ROWS);
    expect(stored.map((r) => r.version_id)).toEqual(["1", null]);

    const store = await PostgresStore.connect(url, { maxConnections: 2 });
    closers.push(() => store.close());

    expect(await rows(ALL_ROWS)).toEqual(stored.map((r) => ({ ...r, version_id: r.version_id === null ? null : Number(r.version_id) })));
    const [layout] = await sql<{ type: string; reloptions: string[] | null; seqmax: string }[]>`
      SELECT format_type(a.atttypid, a.atttypmod) AS type, c.reloptions,
        (SELECT seqmax FROM pg_sequence WHERE seqrelid = pg_get_serial_sequence('module_versions', 'id')::regclass) AS seqmax
      FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'version_id'
      WHERE c.oid = 'site_module_states'::regclass`;
    expect(layout).toEqual({ type: "integer", reloptions: ["fillfactor=60"], seqmax: "2147483647" });
    // The stamps as they were: the rewrite changes no row.
    expect(Number((await sql<{ s: string }[]>`SELECT modules_stamp AS s FROM sites WHERE id = 1`)[0]!.s)).toBe(5);

    // The view made again: its INSTEAD OF trigger writes both tables, and the tables' triggers reset the stamp.
    await sql.unsafe("UPDATE site_modules SET version_id = 2, description = 'changed' WHERE site_id = 1 AND module_id = 2");
    expect(await rows("SELECT version_id, description FROM site_modules WHERE site_id = 1 AND module_id = 2"))
      .toEqual([{ version_id: 2, description: "changed" }]);
    expect(Number((await sql<{ s: string }[]>`SELECT modules_stamp AS s FROM sites WHERE id = 1`)[0]!.s)).toBe(0);
    await expect(sql.unsafe("UPDATE site_modules SET module_id = 3 WHERE site_id = 1 AND module_id = 2")).rejects.toThrow(/cannot be changed/);
    await sql.unsafe("DELETE FROM site_modules WHERE site_id = 1 AND module_id = 1");
    expect(await rows("SELECT module_id FROM site_module_details ORDER BY module_id")).toEqual([{ module_id: 2 }]);
    // A version id past what the column holds is refused where ids are made, not in a site's row.
    await sql.unsafe("SELECT setval(pg_get_serial_sequence('module_versions', 'id'), 2147483647)");
    await expect(sql.unsafe("INSERT INTO module_versions (module_id, version) VALUES (1, '11.0.0')")).rejects.toThrow(/maximum value/);
  } finally {
    for (const close of closers.reverse()) await close();
  }
});
