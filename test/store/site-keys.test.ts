// What the keys on a site's rows still guarantee now that Postgres's change
// sets have no key on their organization (migration 0014) nor on their site
// (migration 0019: a trigger deletes them with their site), and that a sync's
// lock on its site no longer blocks the key checks of rows that reference it.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type postgres from "postgres";
import type { PostgresStore } from "../../src/store/postgres/store";
import { createHarness, mod, newSite, payload, type Harness, type SeededSite } from "../support/harness";
import { count, sql } from "../support/sql";
import { describeEachDialect } from "../support/stores";
import { until } from "../support/until";

describeEachDialect("the keys on a site's rows", (dialect) => {
  let h: Harness;
  beforeAll(async () => { h = await createHarness(dialect); });
  afterAll(() => h.close());

  test("deleting an organization deletes its sites' modules and change sets, and no other organization's", async () => {
    const { world } = h;
    const kept = await newSite(h.sites, world.otherOrgId, "kept");
    expect((await h.sync(payload(kept, [mod("kept_a")]), kept.id, world.outsiderToken)).status).toBe(200);
    const site = await h.freshSite("deleted");
    expect((await h.sync(payload(site, [mod("gone_a")]), site.id)).status).toBe(200);
    expect((await h.sync(payload(site, [mod("gone_a", { version: "2.0.0" })]), site.id)).status).toBe(200);
    expect(await count(h.store, `SELECT count(*) AS n FROM site_change_sets WHERE organization_id = ${world.orgId}`)).toBeGreaterThanOrEqual(2);

    await sql(h.store, `DELETE FROM organizations WHERE id = ${world.orgId}`);

    expect(await count(h.store, `SELECT count(*) AS n FROM site_change_sets WHERE organization_id = ${world.orgId}`)).toBe(0);
    expect(await count(h.store, `SELECT count(*) AS n FROM site_modules WHERE site_id = ${site.id}`)).toBe(0);
    expect(await count(h.store, `SELECT count(*) AS n FROM sites WHERE organization_id = ${world.orgId}`)).toBe(0);
    expect(await count(h.store, `SELECT count(*) AS n FROM site_change_sets WHERE site_id = ${kept.id}`)).toBe(1);
    expect(await count(h.store, `SELECT count(*) AS n FROM site_modules WHERE site_id = ${kept.id}`)).toBe(1);
  });
});

// A harness of its own: the test above deletes its harness's organization.
describeEachDialect("the change sets of a deleted site", (dialect) => {
  let h: Harness;
  beforeAll(async () => { h = await createHarness(dialect); });
  afterAll(() => h.close());

  test("deleting sites deletes their change sets, and no other site's (on Postgres a trigger, migration 0019)", async () => {
    const [a, b, c, kept] = [await h.freshSite("del-a"), await h.freshSite("del-b"), await h.freshSite("del-c"), await h.freshSite("del-kept")];
    for (const site of [a, b, c, kept]) {
      expect((await h.sync(payload(site, [mod("del_a")]), site.id)).status).toBe(200);
      expect((await h.sync(payload(site, [mod("del_a", { version: "2.0.0" })]), site.id)).status).toBe(200);
    }
    const setsOf = (id: number) => count(h.store, `SELECT count(*) AS n FROM site_change_sets WHERE site_id = ${id}`);
    expect(await setsOf(a.id)).toBe(2);

    expect(await h.store.deleteSite(a.id)).toBe(true);
    expect(await setsOf(a.id)).toBe(0);
    // Two sites in one statement.
    await sql(h.store, `DELETE FROM sites WHERE id IN (${b.id}, ${c.id})`);
    expect(await setsOf(b.id)).toBe(0);
    expect(await setsOf(c.id)).toBe(0);
    expect(await setsOf(kept.id)).toBe(2);
  });
});

describeEachDialect("a sync on Postgres", (dialect) => {
  if (dialect !== "postgres") return;
  let h: Harness;
  beforeAll(async () => { h = await createHarness(dialect); });
  afterAll(() => h.close());

  /**
   * Syncs `site` while another transaction holds what `hold` takes, and
   * whether the sync finished before that transaction ended. Should it wait
   * (the failure), that transaction is rolled back after 10 s, which lets the
   * sync finish: the test then fails on its answer instead of hanging.
   */
  async function syncBeside(site: SeededSite, hold: (other: postgres.ReservedSql) => Promise<unknown>): Promise<"synced" | "waited"> {
    const other = await (h.store as PostgresStore).sql.reserve();
    try {
      await other`BEGIN`;
      await hold(other);
      const synced = h.sync(payload(site, [mod("ks_a", { version: `${Date.now()}` })]), site.id);
      let timer: Timer | undefined;
      const first = await Promise.race([
        synced.then(() => "synced" as const),
        new Promise<"waited">((resolve) => { timer = setTimeout(resolve, 10_000, "waited"); }),
      ]);
      clearTimeout(timer);
      await other`ROLLBACK`;
      expect((await synced).status).toBe(200);
      return first;
    } finally {
      other.release();
    }
  }

  test("runs while another transaction holds a new row that references its site (the update statuses' writes)", async () => {
    const site = await h.freshSite("key-share");
    expect((await h.sync(payload(site, [mod("ks_a")]), site.id)).status).toBe(200);
    // The row's key check holds a KEY SHARE lock on the site's row until that transaction ends:
    // under FOR UPDATE the sync waited for it.
    expect(await syncBeside(site, async (other) => {
      await other`DELETE FROM site_update_marks WHERE site_id = ${site.id}`;
      await other`INSERT INTO site_update_marks (site_id, synced_at, computed_at) VALUES (${site.id}, now(), now())`;
    })).toBe("synced");
    expect(await count(h.store, `SELECT count(*) AS n FROM site_change_sets WHERE site_id = ${site.id}`)).toBe(2);
  });

  test("has no foreign key on site_change_sets (migrations 0014, 0019)", async () => {
    const keys = await count(h.store, `SELECT count(*) AS n FROM pg_constraint WHERE conrelid = 'site_change_sets'::regclass AND contype = 'f'`);
    expect(keys).toBe(0);
  });

  /** Until a statement of the store's pool waits for a lock (the other transaction's). */
  const someoneWaits = () => until(async () => await count(h.store,
    "SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()") > 0, 10_000, "a statement waiting for a lock");

  test("a site deleted while a sync holds its lock: the deletion waits, then takes the sync's change set with it", async () => {
    const site = await h.freshSite("race-sync-first");
    expect((await h.sync(payload(site, [mod("rc_a")]), site.id)).status).toBe(200);
    const other = await (h.store as PostgresStore).sql.reserve();
    try {
      // What a sync does: the site's lock, then its change set, taking the id from the row.
      await other`BEGIN`;
      await other`SELECT id FROM sites WHERE id = ${site.id} FOR NO KEY UPDATE`;
      await other`INSERT INTO site_change_sets (organization_id, site_id, changed_at, changes) SELECT organization_id, id, now(), '[]' FROM sites WHERE id = ${site.id}`;
      const deleted = h.store.deleteSite(site.id);
      await someoneWaits();
      await other`COMMIT`;
      expect(await deleted).toBe(true);
    } finally {
      other.release();
    }
    expect(await count(h.store, `SELECT count(*) AS n FROM site_change_sets WHERE site_id = ${site.id}`)).toBe(0);
  });

  test("a sync of a site whose deletion is committing: it waits, then finds no site and writes nothing", async () => {
    const site = await h.freshSite("race-delete-first");
    expect((await h.sync(payload(site, [mod("rd_a")]), site.id)).status).toBe(200);
    const other = await (h.store as PostgresStore).sql.reserve();
    let synced: Promise<Response>;
    try {
      await other`BEGIN`;
      await other`DELETE FROM sites WHERE id = ${site.id}`;
      synced = h.sync(payload(site, [mod("rd_a", { version: "2.0.0" })]), site.id);
      await someoneWaits();
      await other`COMMIT`;
    } finally {
      other.release();
    }
    expect((await synced).status).toBe(404);
    expect(await count(h.store, `SELECT count(*) AS n FROM site_change_sets WHERE site_id = ${site.id}`)).toBe(0);
  });

  test("that records a change takes no lock on its organization's row (migration 0014)", async () => {
    const site = await h.freshSite("org-lock");
    expect((await h.sync(payload(site, [mod("ks_a")]), site.id)).status).toBe(200);
    // With the organization's key on change sets, the set's key check waited for this lock.
    expect(await syncBeside(site, (other) => other`SELECT id FROM organizations WHERE id = ${h.world.orgId} FOR UPDATE`)).toBe("synced");
    expect(await count(h.store, `SELECT count(*) AS n FROM site_change_sets WHERE site_id = ${site.id}`)).toBe(2);
  });
});
