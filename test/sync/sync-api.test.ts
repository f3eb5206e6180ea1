// POST /api/v1/sites/:site_id/modules, end to end through the app, on every dialect.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createHarness, mod, payload, type Harness } from "../support/harness";
import { describeEachDialect } from "../support/stores";
import { sql } from "../support/sql";
import { until } from "../support/until";

const modules = (h: Harness, site = h.world.site) => h.store.listSiteModules(site.id, { limit: 1000 });

describeEachDialect("sync API", (dialect) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(dialect);
  });
  afterAll(() => h.close());

  // A fresh site per test keeps tests independent within one database.
  const freshSite = () => h.freshSite("sync");

  /** Partial syncs so far by path (GET /metrics): answered as a repeat of the stored body, or applied. */
  const syncPaths = async () => {
    const text = await (await h.request("GET", "/metrics", { token: null })).text();
    const count = (path: string) => Number(new RegExp(`modsync_syncs_total\\{mode="partial",path="${path}"\\} (\\d+)`).exec(text)?.[1] ?? 0);
    return { unchanged: count("unchanged"), applied: count("applied") };
  };

  test("creates, then reports an identical re-sync as unchanged", async () => {
    const site = await freshSite();
    const body = payload(site, [mod("views", { module_type: "core", version: "10.3.8" }), mod("token"), mod("pathauto", { enabled: false })]);
    const first = await h.sync(body, site.id);
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({
      site_id: site.id, modules_processed: 3, modules_created: 3, modules_updated: 0, modules_unchanged: 0,
      modules_removed: 0, errors: [], errors_total: 0, message: "Successfully synced 3 modules",
    });
    const again = await (await h.sync(body, site.id)).json();
    expect(again).toMatchObject({ modules_processed: 3, modules_created: 0, modules_updated: 0, modules_unchanged: 3, modules_removed: 0 });
    const stored = await modules(h, site);
    expect(stored.map((m) => [m.machineName, m.version, m.enabled, m.moduleType])).toEqual([
      ["pathauto", "1.0.0", false, "contrib"], ["token", "1.0.0", true, "contrib"], ["views", "10.3.8", true, "core"],
    ]);
  });

  test("counts a change of any stored field as an update", async () => {
    const site = await freshSite();
    const base = { version: "1.0.0", enabled: true, display_name: "X", module_type: "contrib" as const, description: "d", project: "p" };
    const fields: [string, unknown][] = [["version", "1.0.1"], ["enabled", false], ["display_name", "Y"], ["module_type", "custom"], ["description", "e"], ["project", "q"]];
    const initial = fields.map(([f]) => mod(`m_${f}`, base));
    await h.sync(payload(site, [...initial, mod("same", base)]), site.id);
    const changed = fields.map(([f, v]) => mod(`m_${f}`, { ...base, [f]: v }));
    const res = await (await h.sync(payload(site, [...changed, mod("same", base)]), site.id)).json();
    expect(res).toMatchObject({ modules_processed: 7, modules_created: 0, modules_updated: 6, modules_unchanged: 1 });
    const stored = new Map((await modules(h, site)).map((m) => [m.machineName, m]));
    expect(stored.get("m_version")!.version).toBe("1.0.1");
    expect(stored.get("m_enabled")!.enabled).toBe(false);
    expect(stored.get("m_display_name")!.displayName).toBe("Y");
    expect(stored.get("m_module_type")!.moduleType).toBe("custom");
    expect(stored.get("m_description")!.description).toBe("e");
    expect(stored.get("m_project")!.project).toBe("q");
    // A new version or enabled flag alone leaves the stored text as it was (only those columns are written).
    expect(stored.get("m_version")).toMatchObject({ version: "1.0.1", enabled: true, displayName: "X", moduleType: "contrib", description: "d", project: "p" });
    expect(stored.get("m_enabled")).toMatchObject({ version: "1.0.0", enabled: false, displayName: "X", moduleType: "contrib", description: "d", project: "p" });
  });

  test("a new version alone is written alone: the stored text is not written again", async () => {
    const site = await freshSite();
    await h.sync(payload(site, [mod("moved", { description: "as reported" }), mod("redescribed", { description: "as reported" })]), site.id);
    // A mark only a whole-row write would overwrite (details_hash kept: the sync still sees the same details).
    await sql(h.store, `UPDATE site_modules SET description = 'mark' WHERE site_id = ${site.id}`);
    const res = await (await h.sync(payload(site, [
      mod("moved", { description: "as reported", version: "2.0.0" }),
      mod("redescribed", { description: "described anew", version: "2.0.0" }),
    ]), site.id)).json();
    expect(res).toMatchObject({ modules_updated: 2 });
    const stored = new Map((await modules(h, site)).map((m) => [m.machineName, m]));
    expect(stored.get("moved")).toMatchObject({ version: "2.0.0", description: "mark" });
    expect(stored.get("redescribed")).toMatchObject({ version: "2.0.0", description: "described anew" });
  });

  test("a release that moves every module's version, beyond one statement's rows, writes each one", async () => {
    const site = await freshSite();
    const names = Array.from({ length: 230 }, (_, i) => `release_${String(i).padStart(3, "0")}`);
    await h.sync(payload(site, names.map((n) => mod(n, { version: "10.3.7", description: `about ${n}` }))), site.id);
    const moved = names.map((n, i) => mod(n, { version: "10.3.8", description: `about ${n}`, enabled: i % 50 !== 0 }));
    const res = await (await h.sync(payload(site, moved), site.id)).json();
    expect(res).toMatchObject({ modules_processed: 230, modules_updated: 230, modules_unchanged: 0 });
    const stored = await modules(h, site);
    expect(stored.map((m) => [m.machineName, m.version, m.enabled, m.description]))
      .toEqual(names.map((n, i) => [n, "10.3.8", i % 50 !== 0, `about ${n}`]));
    expect((await (await h.sync(payload(site, moved), site.id)).json()).modules_unchanged).toBe(230);
  });

  test("a partial sync never removes; a full sync removes and counts what is absent", async () => {
    const site = await freshSite();
    await h.sync(payload(site, [mod("a"), mod("b"), mod("c")]), site.id);
    const partial = await (await h.sync(payload(site, [mod("a")]), site.id)).json();
    expect(partial).toMatchObject({ modules_processed: 1, modules_unchanged: 1, modules_removed: 0 });
    expect((await modules(h, site)).map((m) => m.machineName)).toEqual(["a", "b", "c"]);

    const full = await (await h.sync(payload(site, [mod("a"), mod("d")], { full_sync: true }), site.id)).json();
    expect(full).toMatchObject({ modules_processed: 2, modules_created: 1, modules_unchanged: 1, modules_removed: 2 });
    expect((await modules(h, site)).map((m) => m.machineName)).toEqual(["a", "d"]);
  });

  test("counts stay exact through partial, full and repeated syncs (inventory fingerprint)", async () => {
    const site = await freshSite();
    const a = mod("a"), b = mod("b"), c = mod("c");
    const counts = async (entries: unknown[], full = false) => {
      const r = await (await h.sync(payload(site, entries, { full_sync: full }), site.id)).json();
      return [r.modules_created, r.modules_updated, r.modules_unchanged, r.modules_removed];
    };
    expect(await counts([a, b])).toEqual([2, 0, 0, 0]);
    expect(await counts([b, a])).toEqual([0, 0, 2, 0]); // order does not matter
    expect(await counts([c])).toEqual([1, 0, 0, 0]); // partial: the site now holds a, b, c
    expect(await counts([a, b, c])).toEqual([0, 0, 3, 0]);
    expect(await counts([a, b])).toEqual([0, 0, 2, 0]); // partial subset: nothing removed
    expect(await counts([a, b], true)).toEqual([0, 0, 2, 1]);
    expect(await counts([a, b], true)).toEqual([0, 0, 2, 0]);
    expect(await counts([a, { ...b, enabled: false }])).toEqual([0, 1, 1, 0]);
    expect(await counts([a, b])).toEqual([0, 1, 1, 0]);
    expect((await modules(h, site)).map((m) => m.machineName)).toEqual(["a", "b"]);
  });

  test("a full sync keeps modules whose entries were skipped as invalid", async () => {
    const site = await freshSite();
    await h.sync(payload(site, [mod("a"), mod("b")]), site.id);
    const res = await (await h.sync(payload(site, [mod("a"), { ...mod("b"), enabled: "yes" }], { full_sync: true }), site.id)).json();
    expect(res.modules_removed).toBe(0);
    expect(res.errors).toEqual([{ index: 1, machine_name: "b", detail: expect.stringContaining("enabled") }]);
    expect((await modules(h, site)).map((m) => m.machineName)).toEqual(["a", "b"]);
  });

  test("skips and reports invalid and repeated entries, syncing the rest", async () => {
    const site = await freshSite();
    const entries = [
      mod("good"),
      mod("Bad_Name"),
      mod("1starts_with_digit"),
      mod("x".repeat(51)),
      { ...mod("no_type"), module_type: "theme" },
      { ...mod("long_version"), version: "9".repeat(65) },
      { ...mod("long_description"), description: "d".repeat(4097) },
      { ...mod("bad_project"), project: "Not-A-Project" },
      { ...mod("long_display"), display_name: "n".repeat(256) },
      { machine_name: 42, display_name: "n", module_type: "core", enabled: true },
      "not an object",
      null,
      mod("good", { version: "2.0.0" }),
    ];
    const res = await (await h.sync(payload(site, entries), site.id)).json();
    expect(res.modules_processed).toBe(1);
    expect(res.modules_created).toBe(1);
    expect(res.errors.map((e: { index: number }) => e.index)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(res.errors[0]).toEqual({ index: 1, machine_name: "Bad_Name", detail: expect.stringContaining("machine_name") });
    expect(res.errors[8]).toEqual({ index: 9, detail: expect.stringContaining("machine_name") });
    expect(res.errors[11]).toEqual({ index: 12, machine_name: "good", detail: expect.stringContaining("Duplicate") });
    const stored = await modules(h, site);
    expect(stored.map((m) => [m.machineName, m.version])).toEqual([["good", "1.0.0"]]);
  });

  test("accepts null or absent version, description and project", async () => {
    const site = await freshSite();
    const entries = [
      { machine_name: "custom_a", display_name: "A", module_type: "custom", enabled: true },
      { machine_name: "custom_b", display_name: "B", module_type: "custom", enabled: true, version: null, description: null, project: null },
      mod("admin_toolbar_search", { project: "admin_toolbar", description: "Search" }),
    ];
    const res = await (await h.sync(payload(site, entries), site.id)).json();
    expect(res).toMatchObject({ modules_created: 3, errors: [] });
    const stored = new Map((await modules(h, site)).map((m) => [m.machineName, m]));
    expect(stored.get("custom_a")).toMatchObject({ version: null, description: null, project: null });
    expect(stored.get("admin_toolbar_search")).toMatchObject({ project: "admin_toolbar", description: "Search" });
    const again = await (await h.sync(payload(site, entries), site.id)).json();
    expect(again.modules_unchanged).toBe(3);
  });

  test("stores drupal_info, the reported name and the time of the sync on the site", async () => {
    const site = await freshSite();
    const before = Date.now();
    const body = payload(site, [mod("views")]);
    body.site.name = "Renamed Site";
    body.drupal_info = { core_version: "11.0.1", php_version: "8.4.0", ip_address: "2001:db8::1" };
    expect((await h.sync(body, site.id)).status).toBe(200);
    const res = await h.request("GET", `/api/v1/sites/${site.id}`);
    const json = await res.json();
    expect(json).toMatchObject({
      id: site.id, name: "Renamed Site", module_count: 1,
      drupal_info: { core_version: "11.0.1", php_version: "8.4.0", ip_address: "2001:db8::1" },
    });
    expect(Date.parse(json.last_synced_at)).toBeGreaterThanOrEqual(before - 1000);
  });

  test("keeps first_seen_at and moves updated_at on change", async () => {
    const site = await freshSite();
    await h.sync(payload(site, [mod("views")]), site.id);
    const [first] = await modules(h, site);
    // Times are kept to the millisecond: the change comes at a later one.
    await until(() => Date.now() > first!.updatedAt.getTime(), 1000, "the clock to pass the first sync's time", 1);
    await h.sync(payload(site, [mod("views", { version: "2.0.0" })]), site.id);
    const [second] = await modules(h, site);
    expect(second!.firstSeenAt.getTime()).toBe(first!.firstSeenAt.getTime());
    expect(second!.updatedAt.getTime()).toBeGreaterThan(first!.updatedAt.getTime());
  });

  test("matches the registered URL ignoring scheme/host case, default port and trailing slash", async () => {
    const site = await h.sites.create({ organizationId: h.world.orgId, url: "https://Case.Example.org/drupal", name: "Case" });
    for (const url of ["HTTPS://case.example.ORG/drupal/", "https://case.example.org:443/drupal", "https://case.example.org/drupal"]) {
      const body = payload(site, [mod("views")]);
      body.site.url = url;
      expect((await h.sync(body, site.id)).status).toBe(200);
    }
    for (const url of ["http://case.example.org/drupal", "https://case.example.org/Drupal", "https://case.example.org:8443/drupal", "https://other.example.org/drupal", "not a url"]) {
      const body = payload(site, [mod("views")]);
      body.site.url = url;
      const res = await h.sync(body, site.id);
      expect(res.status).toBe(400);
      expect((await res.json()).errors[0].loc).toEqual(["body", "site", "url"]);
    }
  });

  test("syncs a site with thousands of modules in one request", async () => {
    const site = await freshSite();
    const many = Array.from({ length: 3000 }, (_, i) => mod(`custom_feature_${i}`, { module_type: "custom", version: `1.0.${i % 7}` }));
    const res = await (await h.sync(payload(site, many, { full_sync: true }), site.id)).json();
    expect(res).toMatchObject({ modules_processed: 3000, modules_created: 3000 });
    const bumped = many.map((m, i) => (i % 2 === 0 ? { ...m, version: "2.0.0" } : m)).slice(0, 2500);
    const res2 = await (await h.sync(payload(site, bumped, { full_sync: true }), site.id)).json();
    expect(res2).toMatchObject({ modules_processed: 2500, modules_updated: 1250, modules_unchanged: 1250, modules_removed: 500 });
    expect((await h.store.getSiteSummary(site.id))!.moduleCount).toBe(2500);
  });

  test("20 overlapping syncs of one site end in exactly one payload's state, name and drupal_info included", async () => {
    const site = await freshSite();
    const payloads = Array.from({ length: 20 }, (_, i) => {
      const p = payload(site, Array.from({ length: 30 }, (_, j) => mod(`mod_${(i * 7 + j) % 60}`, { version: `${i}.${j}.0` })), { full_sync: true });
      p.site.name = `Writer ${i}`;
      p.drupal_info.core_version = `10.${i}.0`;
      return p;
    });
    const results = await Promise.all(payloads.map((p) => h.sync(p, site.id)));
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(200));
    const stored = (await modules(h, site)).map((m) => `${m.machineName}@${m.version}`).sort();
    const matching = payloads.filter((p) => JSON.stringify(p.modules.map((m) => `${m.machine_name}@${m.version}`).sort()) === JSON.stringify(stored));
    expect(matching.length).toBe(1);
    const summary = (await h.store.getSiteSummary(site.id))!;
    expect([summary.name, summary.coreVersion]).toEqual([matching[0]!.site.name, matching[0]!.drupal_info.core_version]);
  });

  test("concurrent first syncs of many sites sharing the same new modules all succeed", async () => {
    const sites = await Promise.all(Array.from({ length: 8 }, () => freshSite()));
    const shared = (i: number) => Array.from({ length: 120 }, (_, j) => mod(`shared_new_${(j * 13 + i * 31) % 120}`, { version: `${j % 5}.0.0` }));
    const results = await Promise.all(sites.map((site, i) => h.sync(payload(site, shared(i)), site.id)));
    expect(results.map((r) => r.status)).toEqual(Array(8).fill(200));
    for (const site of sites) expect((await h.store.getSiteSummary(site.id))!.moduleCount).toBe(120);
  });

  test("syncs of several sites at once, one failing at its last write: the others are applied, the failing one leaves nothing", async () => {
    // On SQLite these share one commit (each in a savepoint); on Postgres each has its own transaction.
    const sites = await Promise.all(Array.from({ length: 5 }, () => freshSite()));
    for (const site of sites) expect((await h.sync(payload(site, [mod("kept", { version: "1.0.0" })]), site.id)).status).toBe(200);
    const failing = sites[2]!;
    // A real database error on the failing site's row UPDATE, its sync's last statement (after its modules' writes).
    const explode = dialect === "sqlite"
      ? [`CREATE TRIGGER explode_one BEFORE UPDATE ON sites WHEN NEW.id = ${failing.id} AND NEW.name = 'explode' BEGIN SELECT RAISE(ABORT, 'boom'); END`]
      : [`CREATE FUNCTION explode_one() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.name = 'explode' THEN RAISE EXCEPTION 'boom'; END IF; RETURN NEW; END $$`,
        `CREATE TRIGGER explode_one BEFORE UPDATE ON sites FOR EACH ROW WHEN (NEW.id = ${failing.id}) EXECUTE FUNCTION explode_one()`];
    for (const statement of explode) await sql(h.store, statement);
    const bodies = sites.map((site) => {
      const body = payload(site, [mod("kept", { version: "2.0.0" }), mod("added")]);
      body.site.name = "explode";
      return body;
    });
    let statuses: number[];
    try {
      const results = await Promise.all(sites.map((site, i) => h.sync(bodies[i]!, site.id)));
      statuses = results.map((r) => r.status);
    } finally {
      await sql(h.store, dialect === "sqlite" ? "DROP TRIGGER explode_one" : "DROP TRIGGER explode_one ON sites");
      if (dialect === "postgres") await sql(h.store, "DROP FUNCTION explode_one()");
    }
    expect(statuses).toEqual([200, 200, 500, 200, 200]);
    for (const site of sites) {
      const stored = (await modules(h, site)).map((m) => `${m.machineName}@${m.version}`);
      expect(stored).toEqual(site === failing ? ["kept@1.0.0"] : ["added@1.0.0", "kept@2.0.0"]);
      expect((await h.store.getSiteSummary(site.id))!.name).toBe(site === failing ? site.name : "explode");
    }
    // Nor its fingerprint: the very same body, sent again (the trigger gone), is applied, not answered as a repeat.
    const again = await h.sync(bodies[2]!, failing.id);
    expect(await again.json()).toMatchObject({ modules_created: 1, modules_updated: 1, modules_unchanged: 0 });
  });

  test("a body that ends in whitespace after its JSON syncs, and sent again byte for byte is answered as a repeat", async () => {
    // Clients that end their output with a newline send this; bench/changes.lua ends every body with four such bytes.
    const site = await freshSite();
    const raw = `${JSON.stringify(payload(site, [mod("a"), mod("b")]))} \n\t\r`;
    const post = () => h.request("POST", `/api/v1/sites/${site.id}/modules`, { raw, headers: { "content-type": "application/json" } });
    const first = await post();
    expect(first.status).toBe(200);
    expect(await first.json()).toMatchObject({ modules_created: 2, errors_total: 0 });
    const before = await syncPaths();
    const again = await post();
    expect(await again.json()).toMatchObject({ modules_created: 0, modules_unchanged: 2 });
    expect(await syncPaths()).toEqual({ unchanged: before.unchanged + 1, applied: before.applied });
    expect((await modules(h, site)).map((m) => m.machineName)).toEqual(["a", "b"]);
  });

  test("an identical body takes the one-statement path; a reordered one is compared, with the same counts", async () => {
    const site = await freshSite();
    const body = payload(site, [mod("a"), mod("b"), mod("c")]);
    await h.sync(body, site.id);
    const before = await syncPaths();
    const same = await (await h.sync(body, site.id)).json();
    const afterSame = await syncPaths();
    expect(afterSame).toEqual({ unchanged: before.unchanged + 1, applied: before.applied });
    const reordered = await (await h.sync({ ...body, modules: [...body.modules].reverse() }, site.id)).json();
    expect(await syncPaths()).toEqual({ unchanged: afterSame.unchanged, applied: afterSame.applied + 1 });
    expect(reordered).toEqual(same);
    expect(same).toMatchObject({ modules_unchanged: 3, modules_created: 0 });
  });
});
