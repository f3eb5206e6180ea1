// A sync starts from the modules this process's last sync of the site left
// (store/site-states.ts) only while the site row still holds the stamp that
// sync wrote; anything else that changes the site's modules writes a stamp of
// its own, and the next sync reads them again. Counts and stored rows stay
// exact whoever wrote last: another process, a background task cut short.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { SiteModuleState } from "../../src/inventory";
import { newModulesStamp, SiteStates } from "../../src/store/site-states";
import type { Store } from "../../src/store/types";
import { count, sql } from "../support/sql";
import { describeEachDialect } from "../support/stores";
import { fullSync, moduleAt, openTwoProcesses, storedVersions, type TwoProcesses } from "../support/two-processes";

/** Packed rows (packed-modules.ts) of these module ids, each enabled at version 1. */
const packedOf = (...ids: number[]) => Float64Array.from(ids.flatMap((id) => [id, 1, 7]));

describe("SiteStates", () => {
  test("keeps at most its rows, dropping the sites synced least recently", () => {
    const states = new SiteStates(5, 0);
    states.set(1, 11, packedOf(1, 2));
    states.set(2, 12, packedOf(1, 2));
    states.set(1, 13, packedOf(1, 2)); // site 1 synced again: now the most recent
    states.set(3, 14, packedOf(1, 2));
    expect(states.get(2)).toBeUndefined();
    expect(states.get(1)?.stamp).toBe(13);
    expect(states.get(3)?.stamp).toBe(14);
    expect(states.size).toBe(4);
  });

  test("a site holding more than every row allowed is not kept, and no longer holds its earlier state", () => {
    const states = new SiteStates(3, 0);
    states.set(1, 1, packedOf(1));
    states.set(1, 2, packedOf(1, 2, 3, 4));
    expect(states.get(1)).toBeUndefined();
    expect(states.size).toBe(0);
  });

  test("gives back the modules kept, by module id", () => {
    const states = new SiteStates(10, 0);
    states.set(1, 1, Float64Array.from([4, 9, 7, -5, 0, 8]));
    const kept = states.get(1)!;
    expect(kept.stamp).toBe(1);
    expect(kept.modules.size).toBe(2);
    expect([...kept.modules.keys()]).toEqual([4, 5]);
    expect(kept.modules.get(5)).toEqual({ moduleId: 5, versionId: null, enabled: false, detailsHash: 8 });
    expect(kept.modules.get(4)).toEqual({ moduleId: 4, versionId: 9, enabled: true, detailsHash: 7 });
    expect(kept.modules.get(6)).toBeUndefined();
  });

  test("past its rows, drops the least recently synced sites down to 7/8 of them", () => {
    const states = new SiteStates(16, 0);
    for (let site = 1; site <= 8; site++) states.set(site, site, packedOf(1, 2));
    states.get(1); // reading a site does not make it recent: syncing it does
    states.set(9, 9, packedOf(1, 2)); // 18 rows: down to 14
    expect([1, 2].map((site) => states.get(site))).toEqual([undefined, undefined]);
    expect(states.get(3)?.stamp).toBe(3);
    expect(states.size).toBe(14);
  });

  test("each site counts for its rows and a fixed cost: a site of no module is not free", () => {
    const states = new SiteStates(20, 8);
    states.set(1, 1, packedOf());
    states.set(2, 2, packedOf(1, 2));
    expect(states.size).toBe(18);
    states.set(3, 3, packedOf()); // 26 rows: down to 17.5
    expect([1, 2, 3].map((site) => states.get(site)?.stamp)).toEqual([undefined, undefined, 3]);
    expect(states.size).toBe(8);
  });

  test("a site holding most of the rows allowed is kept, alone if it must be", () => {
    const states = new SiteStates(16, 0);
    states.set(1, 1, packedOf(1, 2));
    states.set(2, 2, packedOf(...Array.from({ length: 15 }, (_, i) => i + 1)));
    expect(states.get(1)).toBeUndefined();
    expect(states.get(2)?.modules.size).toBe(15);
    expect(states.size).toBe(15);
  });

  test("stamps are integers below 2^53 and never the column's default, 0", () => {
    for (let i = 0; i < 1000; i++) {
      const stamp = newModulesStamp();
      expect(Number.isSafeInteger(stamp) && stamp > 0).toBe(true);
    }
  });
});

describeEachDialect("a sync's kept modules", (dialect) => {
  let world: TwoProcesses;
  let store: Store;
  let other: Store;
  beforeAll(async () => {
    // Another process on the same database: a store of its own, with kept states of its own.
    world = await openTwoProcesses(dialect, "Kept");
    ({ store, other } = world);
  });
  afterAll(() => world.db.destroy());

  const entry = moduleAt;
  const command = fullSync;
  const freshSite = () => world.freshSite();
  const versions = (siteId: number) => storedVersions(store, siteId);
  const v1 = [entry("alpha", "1.0.0"), entry("beta", "1.0.0")];
  const v2 = [entry("alpha", "2.0.0"), entry("beta", "1.0.0")];

  const disableAll = `UPDATE site_modules SET enabled = ${dialect === "sqlite" ? 0 : "false"} WHERE site_id = `;
  async function enabledFlags(siteId: number): Promise<boolean[]> {
    return (await sql<{ enabled: number | boolean }>(store, `SELECT enabled FROM site_modules WHERE site_id = ${siteId}`)).map((r) => Boolean(r.enabled));
  }

  test("are used while the site row holds the stamp their sync wrote, and read again once it does not", async () => {
    const siteId = await freshSite();
    await store.applySync(command(siteId, v1));
    // A write beneath the store that leaves the stamp as it was goes unseen: the kept modules are used.
    // (Every write through the view site_modules resets the stamp; on Postgres, so does one to the
    // table beneath unless its trigger is off, as here; SQLite's table has none.)
    if (dialect === "postgres") await sql(store, "ALTER TABLE site_module_states DISABLE TRIGGER site_module_states_updated");
    try {
      await sql(store, `UPDATE site_module_states SET enabled = ${dialect === "sqlite" ? 0 : "false"} WHERE site_id = ${siteId}`);
    } finally {
      if (dialect === "postgres") await sql(store, "ALTER TABLE site_module_states ENABLE TRIGGER site_module_states_updated");
    }
    expect((await store.applySync(command(siteId, v1))).counts).toMatchObject({ modulesUpdated: 0, modulesUnchanged: 2 });
    // A new stamp, and the same sync reads what is stored: both modules disabled, so both updated.
    await sql(store, `UPDATE sites SET modules_stamp = modules_stamp + 1 WHERE id = ${siteId}`);
    expect((await store.applySync(command(siteId, v1))).counts).toMatchObject({ modulesUpdated: 2, modulesUnchanged: 0 });
    expect(await enabledFlags(siteId)).toEqual([true, true]);
  });

  test("any statement that changes a site's modules through site_modules resets its stamp: writers that write none are seen", async () => {
    // As SQL by hand, or (Postgres) an instance of an earlier version during a rolling upgrade: no stamp of its own.
    const siteId = await freshSite();
    await store.applySync(command(siteId, v1));
    await sql(store, `${disableAll}${siteId}`);
    expect(await count(store, `SELECT modules_stamp AS n FROM sites WHERE id = ${siteId}`)).toBe(0);
    expect((await store.applySync(command(siteId, v1))).counts).toMatchObject({ modulesUpdated: 2, modulesUnchanged: 0 });
    expect(await enabledFlags(siteId)).toEqual([true, true]);
    // A sync writes a stamp of its own.
    expect(await count(store, `SELECT modules_stamp AS n FROM sites WHERE id = ${siteId}`)).toBeGreaterThan(0);
    await sql(store, `DELETE FROM site_modules WHERE site_id = ${siteId} AND module_id = (SELECT id FROM modules WHERE machine_name = 'beta')`);
    expect((await store.applySync(command(siteId, v1))).counts).toMatchObject({ modulesCreated: 1, modulesUnchanged: 1 });
  });

  test("a module deleted by hand, then more than a few versions changed at once: it is created again, whole", async () => {
    // The state-only updates of more than FEW_STATE_UPDATES rows are SQLite's upsert: a row the kept
    // modules still held would come back from it as a state without its text, had the delete left the stamp.
    const siteId = await freshSite();
    const ten = (version: string) => Array.from({ length: 10 }, (_, i) => entry(`hand_${i}`, version));
    await store.applySync(command(siteId, ten("1.0.0")));
    await sql(store, `DELETE FROM site_modules WHERE site_id = ${siteId} AND module_id = (SELECT id FROM modules WHERE machine_name = 'hand_3')`);
    expect((await store.applySync(command(siteId, ten("2.0.0")))).counts).toMatchObject({ modulesCreated: 1, modulesUpdated: 9 });
    expect(await versions(siteId)).toEqual(ten("2.0.0").map((e) => `${e.machineName}@2.0.0`));
    if (dialect === "sqlite") {
      // Each state row with its text, and no text without its state.
      expect(await count(store, `SELECT count(*) AS n FROM site_module_states WHERE site_id = ${siteId}`)).toBe(10);
      expect(await count(store, `SELECT count(*) AS n FROM site_module_details WHERE site_id = ${siteId}`)).toBe(10);
    }
  });

  test("a sync that fails after starting from them leaves them as they were", async () => {
    const siteId = await freshSite();
    await store.applySync(command(siteId, v1));
    // alpha@2.0.0 in the catalog already: the failed sync's rollback cannot change its id.
    await store.applySync(command(await freshSite(), v2));
    // A real database error on the site row's update, the sync's last statement, after its module writes.
    const explode = dialect === "sqlite"
      ? [`CREATE TRIGGER explode_kept BEFORE UPDATE ON sites WHEN NEW.id = ${siteId} AND NEW.name = 'explode' BEGIN SELECT RAISE(ABORT, 'boom'); END`]
      : [`CREATE FUNCTION explode_kept() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.name = 'explode' THEN RAISE EXCEPTION 'boom'; END IF; RETURN NEW; END $$`,
        `CREATE TRIGGER explode_kept BEFORE UPDATE ON sites FOR EACH ROW WHEN (NEW.id = ${siteId}) EXECUTE FUNCTION explode_kept()`];
    for (const statement of explode) await sql(store, statement);
    try {
      await expect(store.applySync({ ...command(siteId, v2), siteName: "explode" })).rejects.toThrow();
    } finally {
      await sql(store, dialect === "sqlite" ? "DROP TRIGGER explode_kept" : "DROP TRIGGER explode_kept ON sites");
      if (dialect === "postgres") await sql(store, "DROP FUNCTION explode_kept()");
    }
    expect(await versions(siteId)).toEqual(["alpha@1.0.0", "beta@1.0.0"]);
    // Had the failed sync's result been kept, this would find alpha at 2.0.0 already and write nothing.
    expect((await store.applySync(command(siteId, v2))).counts).toMatchObject({ modulesUpdated: 1, modulesUnchanged: 1 });
    expect(await versions(siteId)).toEqual(["alpha@2.0.0", "beta@1.0.0"]);
  });

  test("after syncs of one site at once (one SQLite batch, or queued on the Postgres lock), the next sync counts against what is stored", async () => {
    const siteId = await freshSite();
    const bodies = [v1, v2, [entry("alpha", "3.0.0")], v1, [entry("beta", "2.0.0"), entry("gamma", "1.0.0")], v2];
    for (let round = 0; round < 5; round++) {
      await Promise.all(bodies.map((b) => store.applySync(command(siteId, b))));
      const stored = await versions(siteId);
      const counts = (await store.applySync(command(siteId, v1))).counts;
      const same = stored.filter((m) => m === "alpha@1.0.0" || m === "beta@1.0.0").length;
      const named = stored.filter((m) => m.startsWith("alpha@") || m.startsWith("beta@")).length;
      expect(counts).toMatchObject({ modulesUnchanged: same, modulesUpdated: named - same, modulesCreated: 2 - named, modulesRemoved: stored.length - named });
      expect(await versions(siteId)).toEqual(["alpha@1.0.0", "beta@1.0.0"]);
    }
  });

  test("payloads in another order, partial syncs and a full sync keeping a skipped entry's module count against the kept modules as against the stored ones", async () => {
    const siteId = await freshSite();
    const [a1, a2, b1, c1, c2, d1, e1] = [entry("alpha", "1.0.0"), entry("alpha", "2.0.0"), entry("beta", "1.0.0"), entry("gamma", "1.0.0"),
      entry("gamma", "2.0.0"), entry("delta", "1.0.0"), entry("epsilon", "1.0.0")];
    const counts = (created: number, updated: number, unchanged: number, removed: number) =>
      ({ modulesCreated: created, modulesUpdated: updated, modulesUnchanged: unchanged, modulesRemoved: removed });
    expect((await store.applySync(command(siteId, [a1, b1, c1, d1]))).counts).toMatchObject(counts(4, 0, 0, 0));
    expect((await store.applySync(command(siteId, [d1, c2, b1, a1]))).counts).toMatchObject(counts(0, 1, 3, 0));
    expect((await store.applySync({ ...command(siteId, [e1, a2]), fullSync: false })).counts).toMatchObject(counts(1, 1, 0, 0));
    expect(await versions(siteId)).toEqual(["alpha@2.0.0", "beta@1.0.0", "delta@1.0.0", "epsilon@1.0.0", "gamma@2.0.0"]);
    // delta's entry was skipped: kept; gamma and epsilon go.
    expect((await store.applySync({ ...command(siteId, [b1, a2]), keep: new Set(["delta"]) })).counts).toMatchObject(counts(0, 0, 2, 2));
    expect(await versions(siteId)).toEqual(["alpha@2.0.0", "beta@1.0.0", "delta@1.0.0"]);
    expect((await store.applySync(command(siteId, [d1, a2, b1]))).counts).toMatchObject(counts(0, 0, 3, 0));
    // What this store kept is what is stored: another process, reading the rows, counts the same.
    expect((await other.applySync(command(siteId, [b1, d1, a2]))).counts).toMatchObject(counts(0, 0, 3, 0));
  });

  test("another process's sync of the site is seen by the next sync here", async () => {
    const siteId = await freshSite();
    await store.applySync(command(siteId, v1));
    expect((await other.applySync(command(siteId, v2))).counts).toMatchObject({ modulesUpdated: 1, modulesUnchanged: 1 });
    expect(await versions(siteId)).toEqual(["alpha@2.0.0", "beta@1.0.0"]);
    // Kept here: alpha@1.0.0, as this store's last sync left it. Stored: alpha@2.0.0.
    expect((await store.applySync(command(siteId, v1))).counts).toMatchObject({ modulesUpdated: 1, modulesUnchanged: 1 });
    expect(await versions(siteId)).toEqual(["alpha@1.0.0", "beta@1.0.0"]);
  });

  // A body whose fingerprint is not the one this store's last sync of the site
  // stored is not tried as a repeat (no statement), but applied: to the same
  // counts a replay would give, even when another process stored it since.
  test("a repeat is tried only for the fingerprint this store's last sync stored, or with nothing kept", async () => {
    const siteId = await freshSite();
    const withFingerprint = (entries: SiteModuleState[], fingerprint: string) => ({ ...command(siteId, entries), fingerprint, repeat: `{"modules":2,"errors":[],"errorsTotal":0}` });
    // Nothing kept here for the site: the stored fingerprint is asked.
    expect(await store.recordRepeatedSync(siteId, "fp-none")).toBeNull();
    await store.applySync(withFingerprint(v1, "fp-1"));
    expect(await store.recordRepeatedSync(siteId, "fp-1")).not.toBeNull();
    // Another process stores fp-2. This store kept fp-1: fp-2 is not tried...
    await other.applySync(withFingerprint(v2, "fp-2"));
    expect(await other.recordRepeatedSync(siteId, "fp-2")).not.toBeNull();
    expect(await store.recordRepeatedSync(siteId, "fp-2")).toBeNull();
    // ...but applied, and nothing changes: what a replay would have answered.
    expect((await store.applySync(withFingerprint(v2, "fp-2"))).counts).toMatchObject({ modulesCreated: 0, modulesUpdated: 0, modulesUnchanged: 2, modulesRemoved: 0 });
    // Now kept with fp-2 here: tried, and found.
    expect(await store.recordRepeatedSync(siteId, "fp-2")).not.toBeNull();
    // A sync that stored no fingerprint (a partial one that leaves more than its entries) keeps none: no repeat is tried.
    await store.applySync({ ...withFingerprint([entry("alpha", "2.0.0")], "fp-3"), fullSync: false });
    expect(await store.recordRepeatedSync(siteId, "fp-2")).toBeNull();
    expect(await store.recordRepeatedSync(siteId, "fp-3")).toBeNull();
    // Even once another process has stored a fingerprint that would answer: this store kept none.
    await other.applySync(withFingerprint(v2, "fp-4"));
    expect(await other.recordRepeatedSync(siteId, "fp-4")).not.toBeNull();
    expect(await store.recordRepeatedSync(siteId, "fp-4")).toBeNull();
  });

  test("a background task's batches are seen even when the task never completes", async () => {
    const siteId = await freshSite();
    await store.applySync(command(siteId, v1));
    const taskId = await store.tasks.beginUpload(siteId);
    await store.tasks.stageEntries(taskId, [{ index: 0, machineName: "alpha", entry: entry("alpha", "3.0.0") }]);
    await store.tasks.acceptUpload(taskId, { siteName: "Kept", drupalInfo: { coreVersion: "10.3.8", phpVersion: "8.3.2", ipAddress: null }, fullSync: false, errorsTotal: 0 });
    expect(await store.tasks.claimTask(taskId, "test", 30_000)).toBe(true);
    expect(await store.tasks.applyTaskBatch(taskId, "test", 100, 30_000)).toMatchObject({ applied: 1 });
    await store.tasks.failTask(taskId, "test", "cut short");
    expect(await versions(siteId)).toEqual(["alpha@3.0.0", "beta@1.0.0"]);
    expect((await store.applySync(command(siteId, v1))).counts).toMatchObject({ modulesUpdated: 1, modulesUnchanged: 1 });
    expect(await versions(siteId)).toEqual(["alpha@1.0.0", "beta@1.0.0"]);
  });
});
