// `bun bench/queries.ts`: the questions routes on a grown database. Seeds a
// fresh SQLite file (or BENCH_DATABASE_URL's Postgres database, which must be
// empty) with BENCH_QUERY_SITES sites (default 10,000) of one organization, each
// holding 150 modules (payload.ts's inventory, versions spread over 3 releases
// per module) and 3 recorded changes, straight through SQL (a sync per site
// would take minutes and measure nothing here), then times each route
// in-process (app.handle(), so no HTTP stack in the figures) BENCH_QUERY_RUNS
// times (default 200) and prints p50 and p99 per route.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AccountsService } from "../src/accounts/service";
import { createApp } from "../src/app";
import { loadConfig } from "../src/config";
import { silentLogger } from "../src/log";
import { TopModulesRefresh } from "../src/organizations/top-modules";
import { PostgresStore } from "../src/store/postgres/store";
import { SqliteStore } from "../src/store/sqlite/store";
import type { Store } from "../src/store/types";
import { payload } from "../test/support/payload";

const SITES = Number(process.env.BENCH_QUERY_SITES ?? 10_000);
const RUNS = Number(process.env.BENCH_QUERY_RUNS ?? 200);
const pgUrl = process.env.BENCH_DATABASE_URL;
/** A SQLite file to keep (seeded once, reused by later runs) instead of a temporary one. */
const keep = process.env.BENCH_QUERY_DB;

async function exec(store: Store, text: string): Promise<void> {
  if (store instanceof SqliteStore) store.raw.exec(text);
  else await (store as PostgresStore).sql.unsafe(text);
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), "modsync-queries-"));
  const seeded = keep !== undefined && existsSync(keep);
  const store: Store = pgUrl ? await PostgresStore.connect(pgUrl) : SqliteStore.connect(keep ?? join(dir, "bench.db"));
  const accounts = new AccountsService(store);
  const modules = payload(150).modules;
  const org = seeded ? { id: 1 } : await accounts.createOrganization("Bench");
  const user = await accounts.createUser({ email: `bench-${Date.now()}@queries.test`, organizationId: org.id, role: "member" });
  if (!seeded) await seed(store, org.id, modules.map((m) => m.machine_name));
  await run(store, org.id, user.token, modules[10]!.machine_name);
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}

async function seed(store: Store, orgId: number, moduleNames: string[]) {
  const org = { id: orgId };
  const modules = moduleNames.map((machine_name) => ({ machine_name }));
  const t0 = performance.now();
  const names = modules.map((m) => `('${m.machine_name}')`).join(",");
  await exec(store, `INSERT INTO modules (machine_name) VALUES ${names}`);
  await exec(store, `INSERT INTO module_versions (module_id, version) SELECT id, v FROM modules, (SELECT '8.x-1.9' AS v UNION ALL SELECT '8.x-1.10' UNION ALL SELECT '2.0.0') vs`);
  const now = pgUrl ? "now()" : "(unixepoch('subsec') * 1000)";
  const hourAgo = pgUrl ? "now() - interval '1 hour'" : "(unixepoch('subsec') * 1000 - 3600000)";
  const series = pgUrl ? `generate_series(1, ${SITES}) AS g(i)` : `(WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${SITES}) SELECT i FROM n) AS g`;
  const i = "g.i";
  await exec(store, `INSERT INTO sites (organization_id, url, normalized_url, name, token_hash, core_version, php_version, last_synced_at)
    SELECT ${org.id}, 'https://s' || ${i} || '.example', 'https://s' || ${i} || '.example', 'site ' || ${i}, 'h' || ${i},
      CASE WHEN ${i} % 3 = 0 THEN '10.3.8' ELSE '10.2.12' END, '8.3.2', CASE WHEN ${i} % 50 = 0 THEN NULL ELSE ${hourAgo} END
    FROM ${series}`);
  // The two tables beneath the view site_modules: the view's triggers would write them a row at a time.
  await exec(store, `INSERT INTO site_module_states (site_id, module_id, version_id, enabled, updated_at)
    SELECT s.id, m.id, v.id, true, ${now}
    FROM sites s JOIN modules m ON true JOIN module_versions v ON v.module_id = m.id
      AND v.version = CASE (s.id + m.id) % 3 WHEN 0 THEN '8.x-1.9' WHEN 1 THEN '8.x-1.10' ELSE '2.0.0' END`);
  await exec(store, `INSERT INTO site_module_details (site_id, module_id, display_name, module_type, first_seen_at)
    SELECT s.id, m.id, m.machine_name, CASE WHEN m.id % 2 = 0 THEN 'contrib' ELSE 'core' END, ${now} FROM sites s JOIN modules m ON true`);
  // Two change sets per site (three changes): its first sync, then a version change and a module disabled.
  await exec(store, `INSERT INTO site_change_sets (organization_id, site_id, changed_at, changes)
    SELECT s.organization_id, s.id, ${hourAgo}, c.changes
    FROM sites s, (SELECT '[{"k":"initial_inventory","c":150}]' AS changes
      UNION ALL SELECT '[{"k":"version_changed","m":1,"f":1,"t":2},{"k":"module_disabled","m":1,"f":2,"t":2}]') c`);
  if (pgUrl) await exec(store, "ANALYZE");
  else await exec(store, "ANALYZE");
  console.log(`seeded ${SITES} sites x 150 modules in ${((performance.now() - t0) / 1000).toFixed(1)} s (${pgUrl ? "postgres" : "sqlite"})`);

}

async function run(store: Store, orgId: number, token: string, module: string) {
  const org = { id: orgId };
  const user = { token };
  const app = createApp({ config: { ...loadConfig({ DATABASE_URL: "sqlite::memory:", LOG_LEVEL: "error" }) }, store, logger: silentLogger });
  const routes: [string, string][] = [
    ["module sites (first page)", `/api/v1/modules/${module}/sites`],
    ["module sites version_below", `/api/v1/modules/${module}/sites?version_below=8.x-1.10`],
    ["module sites (rare: none match)", `/api/v1/modules/${module}/sites?version=9.9.9`],
    ["modules usage (search)", `/api/v1/modules?search=${module.slice(0, 3)}&limit=10`],
    ["modules usage (first page of 20)", "/api/v1/modules?limit=20"],
    ["site changes", "/api/v1/sites/5000/changes"],
    ["org changes since", `/api/v1/changes?since=${new Date(Date.now() - 2 * 3600_000).toISOString()}`],
    ["sites ?stale=true", "/api/v1/sites?stale=true"],
    ["organization summary", `/api/v1/organizations/${org.id}/summary`],
    ["/metrics (stale gauge)", "/metrics"],
  ];
  // The summary's top modules, as the background thread computes them (off the request path).
  const t0 = performance.now();
  await new TopModulesRefresh(store.topModules, 0).run();
  console.log(`top modules computed in the background in ${(performance.now() - t0).toFixed(0)} ms`);
  console.log("| Route | p50 ms | p99 ms |\n| --- | --- | --- |");
  for (const [label, path] of routes) {
    const times: number[] = [];
    // The usage aggregates take seconds on a grown SQLite file: fewer runs (p99 is then their maximum).
    const runs = label.includes("usage") ? Math.min(RUNS, 10) : RUNS;
    for (let r = 0; r < runs; r++) {
      const start = performance.now();
      const res = await app.handle(new Request(`http://bench${path}`, { headers: { authorization: `Bearer ${user.token}` } }));
      await res.text();
      if (res.status !== 200) throw new Error(`${path}: ${res.status}`);
      times.push(performance.now() - start);
    }
    times.sort((x, y) => x - y);
    const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))]!.toFixed(2);
    console.log(`| ${label} (${runs} runs) | ${at(0.5)} | ${at(0.99)} |`);
  }
}

await main();
