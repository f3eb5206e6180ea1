// A computation writes only the status rows that changed, telling them by
// values_hash: unchanged rows are left as they are, changed ones written, and
// rows stored before values_hash existed (null) written again, on both dialects.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { UpdateStatuses } from "../../src/updates/statuses";
import { createHarness, mod, payload, type Harness } from "../support/harness";
import { fixture } from "../support/releases";
import { describeEachDialect } from "../support/stores";
import { sql } from "../support/sql";

describeEachDialect("status rows written by values_hash", (dialect) => {
  let h: Harness;
  beforeAll(async () => { h = await createHarness(dialect); });
  afterAll(() => h.close());

  test("an unchanged row is not written, a changed or hashless one is, and what is read back is right", async () => {
    const site = await h.freshSite("hashes");
    const sync = async (coreVersion: string) => {
      const body = payload(site, [mod("node", { module_type: "core", version: coreVersion }), mod("token", { module_type: "contrib", version: "8.x-1.15" })],
        { drupal_info: { core_version: coreVersion, php_version: "8.3.2", ip_address: "192.0.2.1" } });
      expect((await h.sync(body, site.id)).status).toBe(200);
    };
    await sync("8.0.0");
    await h.store.releases.saveHistories([{ history: fixture("drupal.8.1.0") }], new Date());
    const statuses = new UpdateStatuses(h.store.releases);
    await statuses.computeSites([site.id]);
    const rows = async () => new Map((await sql<{ project: string; installed_version: string; values_hash: number | string | null }>(h.store,
      `SELECT project, installed_version, values_hash FROM site_project_updates WHERE site_id = ${site.id}`))
      .map((r) => [r.project, { version: r.installed_version, hash: r.values_hash === null ? null : Number(r.values_hash) }]));
    const first = await rows();
    expect([...first.keys()].sort()).toEqual(["drupal", "token"]);
    expect([...first.values()].every((r) => Number.isSafeInteger(r.hash))).toBe(true);

    // A row changed behind the computation's back keeps its hash: computing again leaves it as it is,
    // which shows the row was told unchanged and not written.
    await sql(h.store, `UPDATE site_project_updates SET reason = 'untouched' WHERE site_id = ${site.id} AND project = 'token'`);
    // A row as written before values_hash existed.
    await sql(h.store, `UPDATE site_project_updates SET values_hash = NULL, reason = 'stale' WHERE site_id = ${site.id} AND project = 'drupal'`);
    await statuses.computeSites([site.id]);
    const reasons = async () => new Map((await sql<{ project: string; reason: string | null }>(h.store,
      `SELECT project, reason FROM site_project_updates WHERE site_id = ${site.id}`)).map((r) => [r.project, r.reason]));
    expect((await reasons()).get("token")).toBe("untouched");
    expect((await reasons()).get("drupal")).not.toBe("stale");
    expect((await rows()).get("drupal")!.hash).toBe(first.get("drupal")!.hash);

    // A changed version changes the row and its hash.
    await sync("8.1.0");
    await statuses.computeSites([site.id]);
    const after = await rows();
    expect(after.get("drupal")!.version).toBe("8.1.0");
    expect(after.get("drupal")!.hash).not.toBe(first.get("drupal")!.hash);
    const drupal = (await h.store.releases.siteUpdates(site.id)).projects.find((p) => p.project === "drupal")!;
    expect(drupal).toMatchObject({ installedVersion: "8.1.0", status: "current" });
  });

  test("a first computation of many sites writes in transactions of a few hundred rows, every row written", async () => {
    const sites = [];
    for (let i = 0; i < 30; i++) {
      const site = await h.freshSite("chunks");
      const modules = [mod("node", { module_type: "core", version: "10.3.8" }),
        ...Array.from({ length: 25 }, (_, m) => mod(`chunk_module_${m}`, { module_type: "contrib", version: `8.x-1.${m}` }))];
      expect((await h.sync(payload(site, modules), site.id)).status).toBe(200);
      sites.push(site.id);
    }
    const exec = (h.store.releases as unknown as { db: { write(statements: { params: unknown[] }[]): Promise<number[]> } }).db;
    const write = exec.write.bind(exec);
    const rowsPerWrite: number[] = [];
    exec.write = async (statements) => {
      const counts = await write(statements);
      rowsPerWrite.push(counts.reduce((a, b) => a + b, 0));
      return counts;
    };
    try {
      await new UpdateStatuses(h.store.releases).computeSites(sites);
    } finally {
      exec.write = write;
    }
    // 26 projects and a mark per site: 810 rows, at most 400 a transaction (by site count alone, one of 50 sites).
    expect(rowsPerWrite.length).toBeGreaterThanOrEqual(3);
    expect(rowsPerWrite.every((n) => n <= 400)).toBe(true);
    expect(rowsPerWrite.reduce((a, b) => a + b, 0)).toBe(30 * 27);
    const [stored] = await sql<{ n: number | string }>(h.store,
      `SELECT COUNT(*) AS n FROM site_project_updates WHERE site_id IN (${sites.join(", ")})`);
    expect(Number(stored!.n)).toBe(30 * 26);
  });
});
