// site_modules.details_hash stands for a row's text in every sync's diff: rows
// written before it existed get theirs when the schema is migrated, the same
// a sync writes, so that re-syncing them still counts them unchanged.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { detailsHash } from "../../src/inventory";
import { createHarness, mod, payload, type Harness } from "../support/harness";
import { describeEachDialect } from "../support/stores";
import { migrateSchema } from "../../src/store/postgres/migrate";
import type { PostgresStore } from "../../src/store/postgres/store";
import { count, sql } from "../support/sql";
import { until } from "../support/until";

describeEachDialect("details_hash backfill", (dialect) => {
  let h: Harness;
  beforeAll(async () => { h = await createHarness(dialect); });
  afterAll(async () => { await h?.close(); });

  test("rows without a hash get the one a sync writes when the schema is migrated again, and stay unchanged", async () => {
    const site = await h.freshSite();
    const modules = [
      mod("views", { display_name: "Views", description: "Lists", project: "drupal" }),
      mod("token", { display_name: "Token", module_type: "contrib" }),
    ];
    const first = await h.sync(payload(site, modules, { full_sync: true }), site.id);
    expect(first.status).toBe(200);
    const hashes = async () => (await sql<{ module_id: number; details_hash: number | string | null }>(h.store,
      `SELECT module_id, details_hash FROM site_modules WHERE site_id = ${site.id} ORDER BY module_id`))
      .map((r) => (r.details_hash === null ? null : Number(r.details_hash)));
    const written = await hashes();
    expect(written).toHaveLength(2);
    expect(written.every((hash) => hash !== null && Number.isSafeInteger(hash))).toBe(true);

    // As if written before the column existed; then a start-up's migration.
    await sql(h.store, `UPDATE site_modules SET details_hash = NULL WHERE site_id = ${site.id}`);
    expect(await hashes()).toEqual([null, null]);
    const reopened = await h.db.open();
    expect(await hashes()).toEqual(written);

    // The same modules in another order: compared, not replayed, and unchanged.
    const again = await h.sync(payload(site, [...modules].reverse(), { full_sync: true }), site.id);
    expect(await again.json()).toMatchObject({ modules_unchanged: 2, modules_updated: 0, modules_created: 0, modules_removed: 0 });
    await reopened.close();
  });

  if (dialect === "postgres") {
    test("on Postgres, the backfill waits for a sync that holds a site, and does not deadlock with its writes", async () => {
      const site = await h.freshSite();
      expect((await h.sync(payload(site, [mod("lock_a"), mod("lock_b")]), site.id)).status).toBe(200);
      await sql(h.store, `UPDATE site_modules SET details_hash = NULL WHERE site_id = ${site.id}`);
      const pool = (h.store as PostgresStore).sql;
      // A sync, as its transaction goes: the site's row locked, then its modules written.
      const syncing = await pool.reserve();
      try {
        await syncing`BEGIN`;
        await syncing`SELECT id FROM sites WHERE id = ${site.id} FOR NO KEY UPDATE`;
        const backfill = migrateSchema(pool);
        await until(async () => await count(h.store,
          "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'") > 0,
        10_000, "the backfill to wait for the site");
        // Had the backfill written the modules before locking the site, this would deadlock with it.
        await syncing`UPDATE site_modules SET enabled = enabled WHERE site_id = ${site.id}`;
        await syncing`COMMIT`;
        await backfill;
      } finally {
        syncing.release();
      }
      expect(await count(h.store, `SELECT count(*) AS n FROM site_modules WHERE site_id = ${site.id} AND details_hash IS NULL`)).toBe(0);
    });
  }

  test("the hash is the one detailsHash gives the stored text", async () => {
    const site = await h.freshSite();
    const entry = mod("pathauto", { display_name: "Pathauto", module_type: "contrib", description: null, project: "pathauto" });
    expect((await h.sync(payload(site, [entry]), site.id)).status).toBe(200);
    const [row] = await sql<{ details_hash: number | string }>(h.store, `SELECT details_hash FROM site_modules WHERE site_id = ${site.id}`);
    expect(Number(row!.details_hash)).toBe(detailsHash({
      machineName: "pathauto", displayName: "Pathauto", moduleType: "contrib", extensionType: "module", enabled: true, version: entry.version ?? null, description: null, project: "pathauto",
    }));
  });
});
