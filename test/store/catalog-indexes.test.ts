// The version catalog keeps one index besides its key: every read of a
// version by its text names its module too (a sync's id look-ups, the
// module questions), so (module_id, version) serves them all. An index on the
// text alone served no read and cost each new version a page (0009 drops it).
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Store } from "../../src/store/types";
import { createHarness, mod, payload, type Harness } from "../support/harness";
import { sql } from "../support/sql";
import { createTestDatabase, describeEachDialect, type TestDatabase } from "../support/stores";

describeEachDialect("the version catalog's indexes", (dialect) => {
  let db: TestDatabase;
  let store: Store;
  beforeAll(async () => {
    db = createTestDatabase(dialect);
    store = await db.open();
  });
  afterAll(() => db.destroy());

  test("after every migration: the key and (module_id, version) only", async () => {
    const names = dialect === "sqlite"
      ? (await sql<{ name: string }>(store, "SELECT name FROM pragma_index_list('module_versions')")).map((r) => r.name)
      : (await sql<{ indexname: string }>(store, "SELECT indexname FROM pg_indexes WHERE tablename = 'module_versions'")).map((r) => r.indexname);
    expect(names.sort()).toEqual(dialect === "sqlite" ? ["module_versions_module_version_uq"] : ["module_versions_module_version_uq", "module_versions_pkey"]);
  });

  // SQLite's plan is fixed by its schema; Postgres's would depend on the (empty) table's statistics: the list above guards it.
  if (dialect === "sqlite") {
    test("a sync's look-up of versions by module and text goes through that index", async () => {
      const plan = (await sql<{ detail: string }>(store, "EXPLAIN QUERY PLAN SELECT id FROM module_versions WHERE (module_id, version) IN (VALUES (1, 'a'), (2, 'b'))"))
        .map((r) => r.detail).join("\n");
      expect(plan).toContain("module_versions_module_version_uq");
    });
  }
});

// Neither dialect keeps a foreign key from a site's modules to the versions
// (Postgres's migration 0011: its row locks made release syncs 3-4 times
// dearer; SQLite's 0012: its check cost every updated row a look-up), nor on
// Postgres to the modules, or from the versions to the modules (0016: a
// check per inserted row), so an id pointing nowhere would be stored
// silently. None must: not even after a sync that inserted new modules and
// versions was rolled back, when the next sync naming them has to insert
// them again under other ids. (On SQLite a rolled-back rowid is handed out
// again, so there a stale id would still point to a row: the test tells most
// on Postgres, whose sequences move on.)
describeEachDialect("the versions a site's modules point to", (dialect) => {
  let h: Harness;
  beforeAll(async () => { h = await createHarness(dialect); });
  afterAll(() => h.close());

  test("all exist, after a sync that inserted new versions failed and another inserted them again", async () => {
    const failing = await h.freshSite("unchecked");
    const other = await h.freshSite("unchecked");
    const modules = [mod("unchecked_a", { version: "9.9.1" }), mod("unchecked_b", { version: "9.9.2" })];
    // A database error on the site row's update, after the sync's version inserts and module writes.
    const explode = dialect === "sqlite"
      ? [`CREATE TRIGGER explode_versions BEFORE UPDATE ON sites WHEN NEW.id = ${failing.id} BEGIN SELECT RAISE(ABORT, 'boom'); END`]
      : [`CREATE FUNCTION explode_versions() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'boom'; END $$`,
        `CREATE TRIGGER explode_versions BEFORE UPDATE ON sites FOR EACH ROW WHEN (NEW.id = ${failing.id}) EXECUTE FUNCTION explode_versions()`];
    for (const statement of explode) await sql(h.store, statement);
    try {
      expect((await h.sync(payload(failing, modules), failing.id)).status).toBe(500);
    } finally {
      await sql(h.store, dialect === "sqlite" ? "DROP TRIGGER explode_versions" : "DROP TRIGGER explode_versions ON sites");
      if (dialect === "postgres") await sql(h.store, "DROP FUNCTION explode_versions()");
    }
    expect((await h.sync(payload(other, modules), other.id)).status).toBe(200);
    expect((await h.sync(payload(failing, modules), failing.id)).status).toBe(200);
    // What both sites' rows point to in a catalog table (its `text` column), both sites alike.
    const pointedTo = async (join: string, text: string, expected: string[]) => {
      const rows = await sql<{ site_id: number; text: string | null }>(h.store, `
        SELECT sm.site_id, ${text} AS text FROM site_modules sm ${join}
        WHERE sm.site_id IN (${failing.id}, ${other.id}) ORDER BY sm.site_id, ${text}`);
      const sites = [failing.id, other.id].sort((a, b) => a - b);
      expect(rows.map((r) => [Number(r.site_id), r.text])).toEqual(sites.flatMap((id) => expected.map((t) => [id, t])));
    };
    await pointedTo("LEFT JOIN module_versions v ON v.id = sm.version_id", "v.version", ["9.9.1", "9.9.2"]);
    const [dangling] = await sql<{ n: number | string }>(h.store, `
      SELECT COUNT(*) AS n FROM site_modules sm WHERE sm.version_id IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM module_versions v WHERE v.id = sm.version_id)`);
    expect(Number(dangling!.n)).toBe(0);
    // The modules too: the failed sync inserted both, then rolled back.
    await pointedTo("LEFT JOIN modules m ON m.id = sm.module_id", "m.machine_name", ["unchecked_a", "unchecked_b"]);
    const [versionsOfNothing] = await sql<{ n: number | string }>(h.store, `
      SELECT COUNT(*) AS n FROM module_versions v WHERE NOT EXISTS (SELECT 1 FROM modules m WHERE m.id = v.module_id)`);
    expect(Number(versionsOfNothing!.n)).toBe(0);
  });
});
