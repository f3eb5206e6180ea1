// The plans of the update statuses' reads on a grown database, on both
// dialects: each batch of sites is read through an index, never by reading a
// whole table of every site's rows (site_modules, site_project_updates, sites).
// On Postgres the planner chooses by size, so the tables hold 1,000 sites of
// 150 modules each, analyzed, and the batch names a few dozen of them (a
// `site_id IN (subquery)` of those was a hash join over all of site_modules).
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { SqlExec } from "../../src/store/releases/exec";
import type { ProjectUpdateRow } from "../../src/store/releases/types";
import type { Store } from "../../src/store/types";
import { createTestDatabase, describeEachDialect, type Dialect, type TestDatabase } from "../support/stores";
import { sql } from "../support/sql";

const SITES = 1000;
const MODULES = 150;
/** A batch of sites spread over the table, as the statuses thread reads them. */
const BATCH = Array.from({ length: 60 }, (_, i) => 7 + i * 16);

/**
 * `staleStatistics` (Postgres): site_modules' tables analyzed when they held 3 sites'
 * rows, then grown to all of them with autovacuum off, as a database that
 * grew faster than its statistics were refreshed; site_change_sets never
 * analyzed at all.
 */
async function seed(store: Store, dialect: Dialect, staleStatistics = false): Promise<void> {
  const series = (n: number, as: string) => (dialect === "postgres"
    ? `generate_series(1, ${n}) AS ${as}(i)`
    : `(WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${n}) SELECT i FROM n) AS ${as}`);
  const now = dialect === "postgres" ? "now()" : "1764547200000";
  const siteModules = (sites: string) => `
    INSERT INTO site_modules (site_id, module_id, version_id, enabled, display_name, module_type, description, project, details_hash, first_seen_at, updated_at)
    SELECT s.id, m.id, v.id, ${dialect === "postgres" ? "true" : "1"}, 'Module ' || m.id, CASE m.id % 5 WHEN 0 THEN 'custom' WHEN 1 THEN 'core' ELSE 'contrib' END,
      'What module ' || m.id || ' does, in a sentence or two as modules describe themselves', 'project_' || m.id, m.id, ${now}, ${now}
    FROM sites s CROSS JOIN modules m JOIN module_versions v ON v.module_id = m.id WHERE ${sites} ORDER BY s.id, m.id`;
  for (const statement of [
    "INSERT INTO organizations (name) VALUES ('Plans')",
    `INSERT INTO modules (machine_name) SELECT 'module_' || m.i FROM ${series(MODULES, "m")}`,
    "INSERT INTO module_versions (module_id, version) SELECT id, '1.0.0' FROM modules",
    `INSERT INTO sites (organization_id, url, normalized_url, name, token_hash, core_version, last_synced_at)
       SELECT 1, 'https://s' || s.i || '.example', 'https://s' || s.i || '.example', 'site ' || s.i, 'h' || s.i, '10.3.8', ${now} FROM ${series(SITES, "s")}`,
    ...(staleStatistics
      ? [siteModules("s.id <= 3"), ...["site_module_states", "site_module_details"].flatMap((table) => [`ALTER TABLE ${table} SET (autovacuum_enabled = false)`, `ANALYZE ${table}`]),
         siteModules("s.id > 3")]
      : [siteModules("true")]),
    `INSERT INTO site_project_updates (site_id, project, installed_version, status, reason, security_updates, also_available, links, values_hash)
       SELECT sm.site_id, sm.project, '1.0.0', 'current', NULL, '[]', '[]', '{}', 1 FROM site_modules sm WHERE sm.module_type <> 'custom'`,
    `INSERT INTO site_update_marks (site_id, synced_at, computed_at) SELECT id, ${now}, ${now} FROM sites`,
    // Never analyzed, as in a database whose autovacuum is off (every sync adds a set: the table only grows).
    ...(staleStatistics ? ["ALTER TABLE site_change_sets SET (autovacuum_enabled = false)"] : []),
    // Each site's history: syncs before its mark, and one after it that set module 2's version (a drift),
    // a year ahead: later than any mark a test here writes (at the time it runs).
    `INSERT INTO site_change_sets (organization_id, site_id, changed_at, changes)
       SELECT 1, s.id, ${dialect === "postgres" ? "now() - n.i * interval '1 minute'" : `${now} - n.i * 60000`}, '[{"k":"version_changed","m":3,"f":3,"t":3}]'
       FROM sites s CROSS JOIN ${series(20, "n")}`,
    `INSERT INTO site_change_sets (organization_id, site_id, changed_at, changes)
       SELECT 1, id, ${dialect === "postgres" ? "now() + interval '1 year'" : `${Date.now() + 365 * 86_400_000}`}, '[{"k":"version_changed","m":2,"f":2,"t":2}]' FROM sites`,
    staleStatistics ? "ANALYZE sites, modules, module_versions, site_project_updates, site_update_marks" : "ANALYZE",
  ]) await sql(store, statement);
}

function plansSuite(dialect: Dialect, staleStatistics: boolean): void {
  let db: TestDatabase;
  let store: Store;
  let exec: SqlExec;
  const read: { sql: string; params: unknown[] }[] = [];
  const written: { sql: string; params: unknown[] }[] = [];

  beforeAll(async () => {
    db = createTestDatabase(dialect);
    store = await db.open();
    await seed(store, dialect, staleStatistics);
    exec = (store.releases as unknown as { db: SqlExec }).db;
    for (const name of ["all", "values"] as const) {
      const original = (exec[name] as (text: string, params?: unknown[]) => Promise<unknown[]>).bind(exec);
      exec[name] = ((text: string, params?: unknown[]) => {
        read.push({ sql: text, params: params ?? [] });
        return original(text, params);
      }) as never;
    }
    const write = exec.write.bind(exec);
    exec.write = (statements) => {
      written.push(...statements.map((st) => ({ sql: st.sql, params: st.params ?? [] })));
      return write(statements);
    };
  }, 60_000);
  afterAll(() => db.destroy());

  /** The plan lines of every statement `run` reads with (or, `of` "writes", writes with), by statement. */
  async function plansOf(run: () => Promise<unknown>, of: "reads" | "writes" = "reads"): Promise<{ sql: string; plan: string[] }[]> {
    read.length = 0;
    written.length = 0;
    await run();
    const statements = [...of === "reads" ? read : written];
    expect(statements.length).toBeGreaterThan(0);
    read.length = 0;
    const plans = [];
    for (const s of statements) {
      const rows = await exec.all<Record<string, string>>(`${dialect === "postgres" ? "EXPLAIN" : "EXPLAIN QUERY PLAN"} ${s.sql}`, s.params);
      plans.push({ sql: s.sql.replace(/\s+/g, " ").slice(0, 90), plan: rows.map((r) => r["QUERY PLAN"] ?? r.detail ?? "") });
    }
    read.length = 0;
    return plans;
  }

  const WHOLE_TABLE = dialect === "postgres"
    ? /Seq Scan on (site_modules|site_module_states|site_module_details|site_project_updates|sites|site_change_sets|site_update_marks)\b/
    : /^SCAN (site_modules|site_module_states|site_module_details|site_project_updates|sites|site_change_sets|site_update_marks)\b(?! USING (COVERING )?INDEX)/;

  // Not on statistics older than the rows: a whole batch's read is of every row of its sites,
  // which Postgres plans by site_id's statistics; taken from 3 sites, they make it read the
  // whole table. ANALYZE (autovacuum's) mends that; the reads below go through indexes before.
  if (!staleStatistics) test("a batch's inventories, stored statuses and counts are read through indexes", async () => {
    const releases = store.releases;
    const plans = [
      ...await plansOf(() => releases.inventories(BATCH)),
      ...await plansOf(() => releases.statusCounts(BATCH)),
      ...await plansOf(() => releases.replaceSiteUpdates(BATCH.map((siteId) => ({ siteId, syncedAt: new Date(), projects: [] })), new Date())),
    ];
    expect(plans.filter((p) => p.sql.includes("site_module_states")).length).toBeGreaterThan(0);
    expect(plans.filter((p) => p.sql.includes("site_project_updates")).length).toBeGreaterThan(0);
    expect(plans.map((p) => ({ sql: p.sql, wholeTable: p.plan.filter((line) => WHOLE_TABLE.test(line.trim())) })))
      .toEqual(plans.map((p) => ({ sql: p.sql, wholeTable: [] })));
  }, 60_000);

  test("a batch judged in part reads its change sets since the marks and its changed rows, and writes its statuses, through indexes", async () => {
    const releases = store.releases;
    const reads = await plansOf(() => releases.changedInventories(BATCH));
    // The change sets since the marks (read from the marks: site_change_sets is named past what is shown).
    expect(reads.filter((p) => p.sql.includes("c.changes FROM site_update_marks u")).length).toBe(1);
    // (Statements as shown here stop at 90 characters: told apart by their start.)
    expect(reads.filter((p) => p.sql.includes("SELECT sm.site_id")).length).toBe(1);
    // Its statuses are written without a read of the stored ones: each judged project upserted
    // (drupal's), each of `only` it no longer runs deleted (project_2's, put back here first: a
    // test before may have deleted them). The upserts' plans are of VALUES lists; the DELETE's
    // is the one that could scan the table.
    await sql(store, `INSERT INTO site_project_updates (site_id, project, installed_version, status, security_updates, also_available, links, values_hash)
      SELECT id, 'project_2', '1.0.0', 'current', '[]', '[]', '{}', 1 FROM sites WHERE id IN (${BATCH.join(", ")})
      ON CONFLICT (site_id, project) DO NOTHING`);
    const judged: ProjectUpdateRow = { project: "drupal", installedVersion: "10.3.8", status: "current", reason: null, recommended: null, latestVersion: null,
      securityUpdates: [], alsoAvailable: [], links: { project: null, recommended: null, securityRelease: null } };
    let readsWhileWriting: unknown[] = [];
    const writes = await plansOf(async () => {
      await releases.replaceSiteUpdates(BATCH.map((siteId) => ({ siteId, syncedAt: new Date(), projects: [judged], only: ["drupal", "project_2"] })), new Date());
      readsWhileWriting = [...read];
    }, "writes");
    expect(readsWhileWriting).toEqual([]);
    expect(writes.filter((p) => p.sql.startsWith("DELETE FROM site_project_updates")).length).toBeGreaterThan(0);
    expect(writes.filter((p) => p.sql.startsWith("INSERT INTO site_project_updates")).length).toBeGreaterThan(0);
    const plans = [...reads, ...writes];
    expect(plans.map((p) => ({ sql: p.sql, wholeTable: p.plan.filter((line) => WHOLE_TABLE.test(line.trim())) })))
      .toEqual(plans.map((p) => ({ sql: p.sql, wholeTable: [] })));
    expect(await sql(store, `SELECT site_id FROM site_project_updates WHERE project = 'project_2' AND site_id IN (${BATCH.join(", ")})`)).toEqual([]);
    expect((await sql(store, `SELECT site_id FROM site_project_updates WHERE project = 'drupal' AND site_id IN (${BATCH.join(", ")})`)).length).toBe(BATCH.length);
    // Module 2 of each site, its one change since its mark: every site judged in part, on that row alone.
    const { whole, partial } = await releases.changedInventories(BATCH);
    expect(whole).toEqual([]);
    expect(partial.map((p) => [p.siteId, p.modules.map((m) => m.machineName)])).toEqual(BATCH.map((id) => [id, ["module_2"]]));
  }, 60_000);

  test("the inventories read is the batch's own modules", async () => {
    const inventories = await store.releases.inventories(BATCH);
    expect(inventories.map((i) => i.siteId)).toEqual(BATCH);
    // Custom modules are never judged, core ones only count as present: 90 contrib modules of the 150 each.
    expect(inventories.every((i) => i.hasCore && i.modules.length === MODULES - (2 * MODULES) / 5)).toBe(true);
  });
}

describeEachDialect("update statuses: plans on a grown database", (dialect) => plansSuite(dialect, false));

// Postgres plans by its statistics, which lag behind a database growing fast (a first import, a
// bench's warm-up): the reads must go through indexes then too.
describeEachDialect("update statuses: plans on a database grown since its statistics", (dialect) => {
  if (dialect === "postgres") plansSuite(dialect, true);
});
