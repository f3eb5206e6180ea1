// A re-sync that changes only versions and enabled flags writes them as
// "state-only" updates: on both dialects, up to a few rows as one single-row UPDATE
// each, more as multi-row statements (each dialect's statements.ts, FEW_STATE_UPDATES).
// Either way every changed row, and only it, holds the new version and flag.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createHarness, mod, payload, type Harness, type ModuleInput } from "../support/harness";
import { sql } from "../support/sql";
import { describeEachDialect } from "../support/stores";

describeEachDialect("state-only updates of a site's modules", (dialect) => {
  let h: Harness;
  beforeAll(async () => { h = await createHarness(dialect); });
  afterAll(() => h.close());

  const stored = async (siteId: number) =>
    (await sql<{ machine_name: string; version: string | null; enabled: number | boolean }>(h.store, `
      SELECT m.machine_name, v.version, sm.enabled FROM site_modules sm
      JOIN modules m ON m.id = sm.module_id LEFT JOIN module_versions v ON v.id = sm.version_id
      WHERE sm.site_id = ${siteId} ORDER BY m.machine_name`))
      .map((r) => [r.machine_name, r.version, Boolean(r.enabled)]);

  // Postgres: room on each page for a row's new version, so re-syncs update in place of no index entry (migrations 0012, 0020, then 0021).
  if (dialect === "postgres") {
    test("site_module_states fills its pages to 60%, leaving room for heap-only updates", async () => {
      const [row] = await sql<{ reloptions: string[] | null }>(h.store, "SELECT reloptions FROM pg_class WHERE oid = 'site_module_states'::regclass");
      expect(row!.reloptions).toEqual(["fillfactor=60"]);
    });
  }

  // 1 and 8: one statement a row; 9 and 40: the multi-row form.
  for (const changed of [1, 8, 9, 40]) {
    test(`${changed} changed of 40: exactly those rows change, whichever statements write them`, async () => {
      const site = await h.freshSite(`states${changed}`);
      const before: ModuleInput[] = Array.from({ length: 40 }, (_, i) => mod(`states_${String(i).padStart(2, "0")}`, { version: "1.0.0" }));
      expect((await h.sync(payload(site, before), site.id)).status).toBe(200);
      // Every other changed row moves version, the rest change only their flag; one loses its version.
      const after = before.map((m, i) => i >= changed ? m
        : i === 0 ? { ...m, version: null, enabled: false }
        : i % 2 === 0 ? { ...m, version: `2.0.${i}` } : { ...m, enabled: false });
      const res = await h.sync(payload(site, after), site.id);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ modules_updated: changed, modules_unchanged: 40 - changed, modules_created: 0 });
      expect(await stored(site.id)).toEqual(after.map((m) => [m.machine_name, m.version ?? null, m.enabled]));
    });
  }
});
