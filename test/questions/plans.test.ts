// The plans of the questions' queries on SQLite, as drizzle sends them:
// every one starts from an index, none reads a whole table of site rows
// (site_modules, site_change_sets, sites). Captured from the statements the store
// prepares, then explained.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { createTestDatabase, type TestDatabase } from "../support/stores";
import type { SqliteStore } from "../../src/store/sqlite/store";

let db: TestDatabase;
let store: SqliteStore;
const prepared: string[] = [];

beforeAll(async () => {
  db = createTestDatabase("sqlite");
  store = (await db.open()) as SqliteStore;
  const raw = store.raw as Database & Record<string, unknown>;
  for (const method of ["prepare", "query"] as const) {
    const original = raw[method].bind(raw) as (sql: string) => unknown;
    raw[method] = ((sql: string) => {
      prepared.push(sql);
      return original(sql);
    }) as never;
  }
});
afterAll(() => db.destroy());

/** The plan's lines for the statements `run` prepares. */
async function plansOf(run: () => Promise<unknown>): Promise<string[]> {
  prepared.length = 0;
  await run();
  const sqls = [...prepared];
  expect(sqls.length).toBeGreaterThan(0);
  return sqls.flatMap((sql) => (store.raw.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as { detail: string }[]).map((r) => r.detail));
}

// SQLite's site_modules is a view: its plans name its two tables.
const BIG = /^SCAN (sm|site_modules|site_module_states|site_module_details|site_change_sets|sites|s)\b(?! USING COVERING INDEX)/;

test("where a module runs, the usage table, the change feeds, stale counts and the summary start from indexes", async () => {
  const q = store.queries;
  const cases: [string, () => Promise<unknown>][] = [
    ["module sites", () => q.moduleSites({ moduleId: 1, organizationIds: [1, 2], versionIds: [1, 2], enabled: true, afterSiteId: 5, limit: 100 })],
    ["usage", () => q.moduleUsage({ organizationIds: [1], prefix: "web", limit: 20 })],
    ["site changes", () => q.changes({ siteId: 1, since: new Date(0), after: { at: new Date(0), setId: 1, index: 0 }, limit: 100 })],
    ["org changes", () => q.changes({ organizationIds: [1], since: new Date(0), limit: 100 })],
    ["stale counts", () => q.staleCounts(new Date())],
    ["summary counts", () => q.organizationCounts(1, new Date(), new Date())],
    ["core distribution", () => q.distribution(1, "coreVersion")],
  ];
  for (const [name, run] of cases) {
    const plan = await plansOf(run);
    expect({ name, scans: plan.filter((line) => BIG.test(line)) }).toEqual({ name, scans: [] });
    expect({ name, indexed: plan.some((line) => /USING (COVERING )?INDEX|USING INTEGER PRIMARY KEY|PRIMARY KEY/.test(line)) }).toEqual({ name, indexed: true });
  }
});
