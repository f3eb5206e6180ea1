// The version catalog keeps one index besides its key: every read of a
// version by its text names its module too (a sync's id look-ups, the
// module questions), so (module_id, version) serves them all. An index on the
// text alone served no read and cost each new version a page (0009 drops it).
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Store } from "../../src/store/types";
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
