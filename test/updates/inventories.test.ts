// The inventories update statuses are judged from (contrib modules, and
// whether the site runs Drupal core): read by id and named from
// a cache of the catalog's text, the same whether the names were cached, not
// yet, or dropped from a full cache mid-read, on both dialects.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { PostgresExec, SqliteExec } from "../../src/store/releases/exec";
import { SqlReleaseStore } from "../../src/store/releases/sql-release-store";
import type { PostgresStore } from "../../src/store/postgres/store";
import type { SqliteStore } from "../../src/store/sqlite/store";
import { WriteGate } from "../../src/store/sqlite/write-gate";
import { UpdateStatuses } from "../../src/updates/statuses";
import { createHarness, mod, payload, type Harness } from "../support/harness";
import { sql } from "../support/sql";
import { describeEachDialect } from "../support/stores";

describeEachDialect("inventories for update statuses", (dialect) => {
  let h: Harness;
  beforeAll(async () => { h = await createHarness(dialect); });
  afterAll(() => h.close());

  test("names and versions are right from a cache too small to hold them", async () => {
    const first = await h.freshSite("inv");
    const second = await h.freshSite("inv");
    // The second site holds no core module.
    const modules = (n: number) => [
      ...(n === 1 ? [mod("node", { module_type: "core", version: `10.${n}.0` })] : []), mod("token", { module_type: "contrib", version: `8.x-1.${n}` }),
      mod("pathauto", { module_type: "contrib", version: `8.x-1.${n + 1}` }), mod("mine", { module_type: "custom", version: null }),
    ];
    for (const [site, n] of [[first, 1], [second, 2]] as const) {
      expect((await h.sync(payload(site, modules(n), { drupal_info: { core_version: `10.${n}.0`, php_version: "8.3.2", ip_address: "192.0.2.1" } }), site.id)).status).toBe(200);
    }
    const exec = dialect === "sqlite" ? new SqliteExec((h.store as SqliteStore).raw, new WriteGate()) : new PostgresExec((h.store as PostgresStore).sql);
    const tiny = new SqlReleaseStore(exec, 3);
    // Contrib modules only: custom ones have no project, core ones count only as present.
    // Both run Drupal core: each reports a core version.
    const expected = [
      { siteId: first.id, coreVersion: "10.1.0", hasCore: true, names: [["pathauto", "8.x-1.2"], ["token", "8.x-1.1"]] },
      { siteId: second.id, coreVersion: "10.2.0", hasCore: true, names: [["pathauto", "8.x-1.3"], ["token", "8.x-1.2"]] },
    ];
    // Each read overflows the cache: what it held is dropped and read again, with the rest.
    for (const ids of [[first.id], [first.id, second.id], [second.id], [first.id, second.id]]) {
      const read = await tiny.inventories(ids);
      expect(read.map((i) => ({
        siteId: i.siteId, coreVersion: i.coreVersion, hasCore: i.hasCore,
        names: i.modules.map((m) => [m.machineName, m.version]).sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
      }))).toEqual(expected.filter((e) => ids.includes(e.siteId)));
    }
  });

  test("a site that reports no core version runs Drupal core only if it holds a core module, and is judged so", async () => {
    // Every sync sends a core version; a row written by hand may hold none.
    const withCore = await h.freshSite("inv");
    const withoutCore = await h.freshSite("inv");
    for (const [site, core] of [[withCore, true], [withoutCore, false]] as const) {
      const modules = [...(core ? [mod("node", { module_type: "core", version: "10.3.8" })] : []), mod("token", { module_type: "contrib", version: "8.x-1.9" })];
      expect((await h.sync(payload(site, modules), site.id)).status).toBe(200);
    }
    await sql(h.store, `UPDATE sites SET core_version = NULL WHERE id IN (${withCore.id}, ${withoutCore.id})`);
    const read = await h.store.releases.inventories([withCore.id, withoutCore.id]);
    expect(read.map((i) => [i.siteId, i.coreVersion, i.hasCore])).toEqual([[withCore.id, null, true], [withoutCore.id, null, false]]);
    await new UpdateStatuses(h.store.releases).computeSites([withCore.id, withoutCore.id]);
    // drupal, at no known version, for the site with a core module only.
    const judged: [typeof withCore, (string | null)[][]][] = [[withCore, [["drupal", null], ["token", "8.x-1.9"]]], [withoutCore, [["token", "8.x-1.9"]]]];
    for (const [site, projects] of judged) {
      expect((await h.store.releases.siteUpdates(site.id)).projects.map((p) => [p.project, p.installedVersion])).toEqual(projects);
    }
  });

  test("a version id the catalog lacks is read as no version, and the site's statuses are computed all the same", async () => {
    const site = await h.freshSite("inv");
    const body = payload(site, [mod("node", { module_type: "core", version: "10.3.8" }), mod("token", { module_type: "contrib", version: "8.x-1.9" })]);
    expect((await h.sync(body, site.id)).status).toBe(200);
    // Postgres keeps no foreign key to the versions; SQLite's is set aside to make the same row.
    if (dialect === "sqlite") await sql(h.store, "PRAGMA foreign_keys = OFF");
    try {
      await sql(h.store, `UPDATE site_modules SET version_id = 987654321 WHERE site_id = ${site.id}
        AND module_id = (SELECT id FROM modules WHERE machine_name = 'token')`);
    } finally {
      if (dialect === "sqlite") await sql(h.store, "PRAGMA foreign_keys = ON");
    }
    const [inventory] = await h.store.releases.inventories([site.id]);
    expect(inventory!.modules.map((m) => [m.machineName, m.version])).toEqual([["token", null]]);
    await new UpdateStatuses(h.store.releases).computeSites([site.id]);
    const projects = (await h.store.releases.siteUpdates(site.id)).projects;
    expect(projects.map((p) => [p.project, p.installedVersion, p.status])).toEqual([["drupal", "10.3.8", "unknown"], ["token", null, "unknown"]]);
  });
});
