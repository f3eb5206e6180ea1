// The questions across sites and over time, end to end on both dialects:
// where a module runs (version order included), the usage table, what
// changed (synchronous and background syncs), who went quiet, an
// organization's summary; and that no route shows another organization's rows.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createApp, type App } from "../../src/app";
import { silentLogger } from "../../src/log";
import { TopModulesRefresh } from "../../src/organizations/top-modules";
import { TaskMaintenance } from "../../src/tasks/maintenance";
import { MemoryJobQueue } from "../../src/tasks/queue";
import { manualClock, type ManualClock } from "../support/clock";
import { createHarness, mod, newSite, payload, type Harness, type ModuleInput, type SeededSite } from "../support/harness";
import { expectError, postSync, send } from "../support/http";
import { describeEachDialect } from "../support/stores";
import { connectionsInTransaction, sql } from "../support/sql";

const json = (res: Response | Promise<Response>): Promise<any> => Promise.resolve(res).then((r) => r.json());

describeEachDialect("questions", (dialect) => {
  let h: Harness;
  let app: App;
  let clock: ManualClock;
  // Organization A: the world's user (token) and three sites; organization B: the outsider and one site.
  let a: { orgId: number; token: string };
  let b: { orgId: number; token: string };
  let sitesA: SeededSite[];
  let siteB: SeededSite;

  const get = (path: string, token: string | null = a.token) => send(app, "GET", path, { token });
  const sync = (site: SeededSite, modules: ModuleInput[], extra: Record<string, unknown> = {}) =>
    postSync(app, site.id, { body: payload(site, modules, extra), token: site === siteB ? b.token : a.token });

  beforeAll(async () => {
    h = await createHarness(dialect);
    clock = manualClock(Date.now());
    app = createApp({ config: h.config, store: h.store, logger: silentLogger, clock: clock.now });
    // Fresh organizations, so every list holds exactly what these tests made.
    const orgA = await h.accounts.createOrganization("Questions A");
    const orgB = await h.accounts.createOrganization("Questions B");
    const userA = await h.accounts.createUser({ email: `qa-${dialect}@a.test`, organizationId: orgA.id, role: "member" });
    const userB = await h.accounts.createUser({ email: `qb-${dialect}@b.test`, organizationId: orgB.id, role: "member" });
    a = { orgId: orgA.id, token: userA.token };
    b = { orgId: orgB.id, token: userB.token };
    sitesA = [await newSite(h.sites, a.orgId, "qa"), await newSite(h.sites, a.orgId, "qa"), await newSite(h.sites, a.orgId, "qa")];
    siteB = await newSite(h.sites, b.orgId, "qb");
    const versions = ["8.x-1.9", "8.x-1.10", "2.0.0-beta3"];
    for (const [i, site] of sitesA.entries()) {
      const res = await sync(site, [mod("webform", { version: versions[i], enabled: i !== 2 }), mod("views", { module_type: "core", version: "10.3.8" }), mod("token", { version: "8.x-1.15" })]);
      expect(res.status).toBe(200);
    }
    expect((await sync(siteB, [mod("webform", { version: "8.x-1.5" }), mod("secret_b_module", { module_type: "custom" })])).status).toBe(200);
  });
  afterAll(() => h.close());

  describe("GET /api/v1/modules/{machine_name}/sites", () => {
    test("lists the caller's sites running the module, with version, enabled flag and last sync", async () => {
      const res = await get("/api/v1/modules/webform/sites");
      expect(res.status).toBe(200);
      const body = await json(res);
      expect(body.machine_name).toBe("webform");
      expect(body.items.map((s: any) => [s.site_id, s.version, s.enabled])).toEqual([
        [sitesA[0]!.id, "8.x-1.9", true], [sitesA[1]!.id, "8.x-1.10", true], [sitesA[2]!.id, "2.0.0-beta3", false],
      ]);
      expect(body.items.every((s: any) => s.organization_id === a.orgId && typeof s.last_synced_at === "string")).toBe(true);
      expect(body.next_cursor).toBeNull();
    });

    test("version_below follows Drupal's version order; version is exact; enabled filters", async () => {
      const ids = async (query: string) => (await json(get(`/api/v1/modules/webform/sites?${query}`))).items.map((s: any) => s.site_id);
      expect(await ids("version_below=8.x-1.10")).toEqual([sitesA[0]!.id]);
      expect(await ids("version_below=8.x-1.11")).toEqual([sitesA[0]!.id, sitesA[1]!.id]);
      // 2.0.0-beta3 < 2.0.0, and every 1.N is below it
      expect(await ids("version_below=2.0.0")).toEqual(sitesA.map((s) => s.id));
      expect(await ids("version_below=2.0.0-beta3")).toEqual([sitesA[0]!.id, sitesA[1]!.id]);
      expect(await ids("version=8.x-1.10")).toEqual([sitesA[1]!.id]);
      expect(await ids("enabled=false")).toEqual([sitesA[2]!.id]);
      expect(await ids("version_below=8.x-1.10&enabled=false")).toEqual([]);
    });

    test("pages by site id with a cursor", async () => {
      const seen: number[] = [];
      let cursor: string | null = null;
      do {
        const body: any = await json(get(`/api/v1/modules/webform/sites?limit=1${cursor ? `&cursor=${cursor}` : ""}`));
        expect(body.items).toHaveLength(1);
        seen.push(body.items[0].site_id);
        cursor = body.next_cursor;
      } while (cursor);
      expect(seen).toEqual(sitesA.map((s) => s.id));
    });

    test("never shows another organization's sites; organization_id of another organization is 403", async () => {
      const outsider = await json(get("/api/v1/modules/webform/sites", b.token));
      expect(outsider.items.map((s: any) => s.site_id)).toEqual([siteB.id]);
      expect((await json(get("/api/v1/modules/secret_b_module/sites"))).items).toEqual([]);
      await expectError(await get(`/api/v1/modules/webform/sites?organization_id=${b.orgId}`), 403);
      const mine = await json(get(`/api/v1/modules/webform/sites?organization_id=${a.orgId}`));
      expect(mine.items).toHaveLength(3);
    });

    test("a module nobody runs is an empty list; bad input is 400 naming the field; no token is 401", async () => {
      expect(await json(get("/api/v1/modules/never_installed/sites"))).toEqual({ machine_name: "never_installed", items: [], next_cursor: null });
      const cases: [string, string[]][] = [
        ["/api/v1/modules/Bad-Name/sites", ["path", "machine_name"]],
        ["/api/v1/modules/webform/sites?version_below=latest", ["query", "version_below"]],
        ["/api/v1/modules/webform/sites?enabled=yes", ["query", "enabled"]],
        ["/api/v1/modules/webform/sites?limit=0", ["query", "limit"]],
        ["/api/v1/modules/webform/sites?cursor=zz", ["query", "cursor"]],
        ["/api/v1/modules/webform/sites?organization_id=x", ["query", "organization_id"]],
      ];
      for (const [path, loc] of cases) {
        const body = await expectError(await get(path), 400);
        expect(body.errors?.map((e) => e.loc)).toContainEqual(loc);
      }
      await expectError(await get("/api/v1/modules/webform/sites", null), 401);
    });
  });

  describe("GET /api/v1/modules", () => {
    test("the caller's modules with how many sites run each version, in version order", async () => {
      const body = await json(get("/api/v1/modules?search=webf"));
      expect(body.items).toEqual([{
        machine_name: "webform", sites: 3,
        versions: [{ version: "8.x-1.9", sites: 1 }, { version: "8.x-1.10", sites: 1 }, { version: "2.0.0-beta3", sites: 1 }],
      }]);
      const all = await json(get("/api/v1/modules"));
      expect(all.items.map((m: any) => m.machine_name)).toEqual(["token", "views", "webform"]);
      expect(all.items.find((m: any) => m.machine_name === "views").versions).toEqual([{ version: "10.3.8", sites: 3 }]);
    });

    test("pages by machine_name; never lists or counts another organization's modules", async () => {
      const first = await json(get("/api/v1/modules?limit=2"));
      expect(first.items.map((m: any) => m.machine_name)).toEqual(["token", "views"]);
      const second = await json(get(`/api/v1/modules?limit=2&cursor=${first.next_cursor}`));
      expect(second.items.map((m: any) => m.machine_name)).toEqual(["webform"]);
      expect(second.next_cursor).toBeNull();
      const outsider = await json(get("/api/v1/modules", b.token));
      expect(outsider.items).toEqual([
        { machine_name: "secret_b_module", sites: 1, versions: [{ version: "1.0.0", sites: 1 }] },
        { machine_name: "webform", sites: 1, versions: [{ version: "8.x-1.5", sites: 1 }] },
      ]);
      await expectError(await get(`/api/v1/modules?organization_id=${b.orgId}`), 403);
      const bad = await expectError(await get("/api/v1/modules?search=Web%25"), 400);
      expect(bad.errors?.[0]?.loc).toEqual(["query", "search"]);
    });
  });

  describe("what changed", () => {
    test("a first sync is one initial_inventory; later syncs record each change with its versions", async () => {
      const site = await newSite(h.sites, a.orgId, "changes");
      expect((await sync(site, [mod("webform", { version: "8.x-1.9" }), mod("token"), mod("pathauto")])).status).toBe(200);
      let body = await json(get(`/api/v1/sites/${site.id}/changes`));
      expect(body.items).toHaveLength(1);
      expect(body.items[0]).toMatchObject({ site_id: site.id, organization_id: a.orgId, kind: "initial_inventory", module_count: 3, task_id: null });

      const res = await sync(site, [mod("webform", { version: "8.x-1.10" }), mod("token", { enabled: false }), mod("redirect", { version: "8.x-1.8" })],
        { full_sync: true, drupal_info: { core_version: "10.4.0", php_version: "8.3.2", ip_address: "192.0.2.1" } });
      expect(res.status).toBe(200);
      body = await json(get(`/api/v1/sites/${site.id}/changes`));
      const later = body.items.slice(1).map((c: any) => [c.kind, c.machine_name, c.from, c.to]);
      expect(later.sort()).toEqual([
        ["core_version_changed", null, "10.3.8", "10.4.0"],
        ["module_added", "redirect", null, "8.x-1.8"],
        ["module_disabled", "token", "1.0.0", "1.0.0"],
        ["module_removed", "pathauto", "1.0.0", null],
        ["version_changed", "webform", "8.x-1.9", "8.x-1.10"],
      ].sort());
      // The same body again changes nothing and records nothing.
      await sync(site, [mod("webform", { version: "8.x-1.10" }), mod("token", { enabled: false }), mod("redirect", { version: "8.x-1.8" })],
        { full_sync: true, drupal_info: { core_version: "10.4.0", php_version: "8.3.2", ip_address: "192.0.2.1" } });
      expect((await json(get(`/api/v1/sites/${site.id}/changes`))).items).toHaveLength(6);
    });

    test("a sync that changes only the PHP or core version records that alone, in order", async () => {
      const site = await newSite(h.sites, a.orgId, "envelope");
      const modules = [mod("alpha", { version: "1.0.0" })];
      const info = (core: string, php: string) => ({ drupal_info: { core_version: core, php_version: php, ip_address: "192.0.2.1" } });
      await sync(site, modules, info("10.3.8", "8.3.2"));
      await sync(site, modules, info("10.3.8", "8.4.0"));
      await sync(site, modules, info("10.4.0", "8.4.1"));
      const all = (await json(get(`/api/v1/sites/${site.id}/changes`))).items;
      expect(all.map((c: any) => [c.kind, c.machine_name, c.from, c.to])).toEqual([
        ["initial_inventory", null, null, null],
        ["php_version_changed", null, "8.3.2", "8.4.0"],
        ["core_version_changed", null, "10.3.8", "10.4.0"],
        ["php_version_changed", null, "8.4.0", "8.4.1"],
      ]);
    });

    test("since, until and the cursor select and page in time order", async () => {
      const site = await newSite(h.sites, a.orgId, "times");
      await sync(site, [mod("alpha")]);
      for (const v of ["1.1.0", "1.2.0", "1.3.0"]) await sync(site, [mod("alpha", { version: v })]);
      const all = (await json(get(`/api/v1/sites/${site.id}/changes`))).items;
      expect(all.map((c: any) => c.to ?? c.kind)).toEqual(["initial_inventory", "1.1.0", "1.2.0", "1.3.0"]);
      const after = (await json(get(`/api/v1/sites/${site.id}/changes?since=${all[1].changed_at}`))).items;
      // (syncs a millisecond apart or less share a time: `since` keeps every change at or after it)
      expect(after.map((c: any) => c.id)).toEqual(all.filter((c: any) => c.changed_at >= all[1].changed_at).map((c: any) => c.id));
      expect(after.map((c: any) => c.id)).toContain(all[1].id);
      const before = (await json(get(`/api/v1/sites/${site.id}/changes?until=${all[1].changed_at}`))).items;
      expect(before.map((c: any) => c.id)).toEqual(all.filter((c: any) => c.changed_at < all[1].changed_at).map((c: any) => c.id));
      const paged: string[] = [];
      let cursor: string | null = null;
      do {
        const page: any = await json(get(`/api/v1/sites/${site.id}/changes?limit=3${cursor ? `&cursor=${cursor}` : ""}`));
        paged.push(...page.items.map((c: any) => c.id));
        cursor = page.next_cursor;
      } while (cursor);
      expect(paged).toEqual(all.map((c: any) => c.id));
      const bad = await expectError(await get(`/api/v1/sites/${site.id}/changes?since=yesterday`), 400);
      expect(bad.errors?.[0]?.loc).toEqual(["query", "since"]);
    });

    test("one sync's many changes page one by one: a cursor can stop inside them", async () => {
      const site = await newSite(h.sites, a.orgId, "many");
      const names = ["m_a", "m_b", "m_c", "m_d", "m_e"];
      await sync(site, names.map((n) => mod(n, { version: "1.0.0" })));
      await sync(site, names.map((n) => mod(n, { version: "2.0.0" })), { drupal_info: { core_version: "10.4.1", php_version: "8.4.0", ip_address: "192.0.2.1" } });
      const all = (await json(get(`/api/v1/sites/${site.id}/changes`))).items;
      expect(all.map((c: any) => [c.kind, c.machine_name, c.from, c.to])).toEqual([
        ["initial_inventory", null, null, null],
        ...names.map((n) => ["version_changed", n, "1.0.0", "2.0.0"]),
        ["core_version_changed", null, "10.3.8", "10.4.1"],
        ["php_version_changed", null, "8.3.2", "8.4.0"],
      ]);
      expect(new Set(all.map((c: any) => c.id)).size).toBe(all.length);
      for (const limit of [1, 2, 3]) {
        const paged: string[] = [];
        let cursor: string | null = null;
        do {
          const page: any = await json(get(`/api/v1/sites/${site.id}/changes?limit=${limit}${cursor ? `&cursor=${cursor}` : ""}`));
          expect(page.items.length).toBeLessThanOrEqual(limit);
          paged.push(...page.items.map((c: any) => c.id));
          cursor = page.next_cursor;
        } while (cursor);
        expect(paged).toEqual(all.map((c: any) => c.id));
      }
    });

    test("a sync that fails at its last write leaves neither its changes nor their record", async () => {
      const site = await newSite(h.sites, a.orgId, "atomic");
      expect((await sync(site, [mod("m_kept", { version: "1.0.0" })])).status).toBe(200);
      const before = (await json(get(`/api/v1/sites/${site.id}/changes`))).items;
      // A real database error on the site row's UPDATE, the sync's last statement (the change set is written before it, or with it).
      const explode = dialect === "sqlite"
        ? ["CREATE TRIGGER explode BEFORE UPDATE ON sites WHEN NEW.name = 'explode' BEGIN SELECT RAISE(ABORT, 'boom'); END"]
        : ["CREATE FUNCTION explode() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.name = 'explode' THEN RAISE EXCEPTION 'boom'; END IF; RETURN NEW; END $$",
          "CREATE TRIGGER explode BEFORE UPDATE ON sites FOR EACH ROW EXECUTE FUNCTION explode()"];
      for (const statement of explode) await sql(h.store, statement);
      try {
        const res = await sync(site, [mod("m_kept", { version: "2.0.0" }), mod("m_new")],
          { site: { url: site.url, name: "explode", token: site.token }, drupal_info: { core_version: "11.0.0", php_version: "8.4.0", ip_address: "192.0.2.1" } });
        expect(res.status).toBe(500);
        expect((await res.json()).detail).not.toContain("boom"); // the database's message stays in the log
      } finally {
        await sql(h.store, dialect === "sqlite" ? "DROP TRIGGER explode" : "DROP TRIGGER explode ON sites");
        if (dialect === "postgres") await sql(h.store, "DROP FUNCTION explode()");
      }
      expect((await json(get(`/api/v1/sites/${site.id}/changes`))).items).toEqual(before);
      const modules = (await json(get(`/api/v1/sites/${site.id}/modules`))).items;
      expect(modules.map((m: any) => [m.machine_name, m.version])).toEqual([["m_kept", "1.0.0"]]);
      // Postgres: its COMMIT went out with the failed writes (and answered as a ROLLBACK); no connection is left inside the transaction.
      expect(await connectionsInTransaction(h.store)).toBe(0);
      expect((await sync(site, [mod("m_kept", { version: "2.0.0" })])).status).toBe(200);
    });

    test("the organization feed holds the caller's sites only; another organization's site is 403", async () => {
      const mine = (await json(get("/api/v1/changes?limit=1000"))).items;
      expect(mine.length).toBeGreaterThan(0);
      expect(mine.every((c: any) => c.organization_id === a.orgId)).toBe(true);
      const theirs = (await json(get("/api/v1/changes?limit=1000", b.token))).items;
      expect(theirs.map((c: any) => [c.site_id, c.kind])).toEqual([[siteB.id, "initial_inventory"]]);
      await expectError(await get(`/api/v1/changes?organization_id=${b.orgId}`), 403);
      await expectError(await get(`/api/v1/sites/${siteB.id}/changes`), 403);
    });

    test("a background sync records its changes with its task id, inside its transactions", async () => {
      const site = await newSite(h.sites, a.orgId, "background");
      const tasks = h.store.tasks;
      const entry = (name: string, version: string) => ({ machineName: name, displayName: name, moduleType: "contrib" as const, extensionType: "module" as const, enabled: true, version, description: null, project: null });
      const run = async (entries: ReturnType<typeof entry>[], fullSync: boolean) => {
        const id = await tasks.beginUpload(site.id);
        await tasks.stageEntries(id, entries.map((e, index) => ({ index, machineName: e.machineName, entry: e })));
        await tasks.acceptUpload(id, { siteName: site.name, drupalInfo: { coreVersion: "10.3.8", phpVersion: "8.3.2", ipAddress: "192.0.2.1" }, fullSync, errorsTotal: 0 });
        expect(await tasks.claimTask(id, "test", 30_000)).toBe(true);
        while ((await tasks.applyTaskBatch(id, "test", 2, 30_000))!.applied > 0);
        expect(await tasks.completeTask(id, "test")).toBe(true);
        return id;
      };
      const first = await run([entry("m_one", "1.0.0"), entry("m_two", "1.0.0"), entry("m_three", "1.0.0")], false);
      const second = await run([entry("m_one", "1.1.0"), entry("m_four", "1.0.0")], true);
      const changes = (await json(get(`/api/v1/sites/${site.id}/changes`))).items;
      expect(changes.map((c: any) => [c.task_id, c.kind, c.machine_name, c.module_count]).sort()).toEqual([
        [first, "initial_inventory", null, 3],
        [second, "module_added", "m_four", null],
        [second, "module_removed", "m_three", null],
        [second, "module_removed", "m_two", null],
        [second, "version_changed", "m_one", null],
      ].sort());
    });

    test("changes older than HISTORY_RETENTION_DAYS are purged with finished tasks", async () => {
      const maintenance = new TaskMaintenance(h.store.tasks, new MemoryJobQueue(), { taskRetentionHours: 24, historyRetentionDays: 90 }, silentLogger);
      const before = (await json(get("/api/v1/changes?limit=1000"))).items.length;
      expect(before).toBeGreaterThan(0);
      await maintenance.purge(Date.now() + 89 * 86_400_000);
      expect((await json(get("/api/v1/changes?limit=1000"))).items).toHaveLength(before);
      await maintenance.purge(Date.now() + 91 * 86_400_000);
      expect((await json(get("/api/v1/changes?limit=1000"))).items).toEqual([]);
    });
  });

  describe("who went quiet, and the summary", () => {
    test("stale on site reads, ?stale=, the gauge and the summary follow STALE_AFTER_HOURS", async () => {
      const quiet = await newSite(h.sites, a.orgId, "quiet");
      const staleIds = async () => (await json(get("/api/v1/sites?stale=true&limit=1000"))).items.map((s: any) => s.id);
      expect(await staleIds()).toEqual([]);
      expect((await json(get(`/api/v1/sites/${quiet.id}`))).stale).toBe(false);
      // Never synced and registered just now: fresh, and listed as such.
      expect((await json(get("/api/v1/sites?stale=false&limit=1000"))).items.map((s: any) => s.id)).toContain(quiet.id);
      clock.advance(25 * 3_600_000);
      expect((await json(get(`/api/v1/sites/${quiet.id}`))).stale).toBe(true);
      const all = (await json(get("/api/v1/sites?limit=1000"))).items.map((s: any) => s.id);
      expect((await staleIds()).sort()).toEqual(all.sort());
      expect(await staleIds()).toContain(quiet.id);
      expect((await json(get("/api/v1/sites?stale=false&limit=1000"))).items).toEqual([]);
      await expectError(await get("/api/v1/sites?stale=maybe"), 400);

      const metrics = await (await send(app, "GET", "/metrics", { token: null })).text();
      const total = (await json(get("/api/v1/sites?limit=1000"))).items.length;
      expect(metrics).toContain(`modsync_stale_sites{organization_id="${a.orgId}"} ${total}`);
      expect(metrics).toContain(`modsync_stale_sites{organization_id="${b.orgId}"} 1`);
      const summary = await json(get(`/api/v1/organizations/${a.orgId}/summary`));
      expect(summary.sites).toBe(total);
      expect(summary.stale_sites).toBe(total);
      clock.advance(-25 * 3_600_000);
      // (sync times are the real clock's) 23 hours after a sync, a site is not stale yet.
      clock.advance(23 * 3_600_000);
      expect(await staleIds()).not.toContain(sitesA[0]!.id);
      expect((await json(get("/api/v1/sites?stale=false&limit=1000"))).items.map((s: any) => s.id)).toContain(sitesA[0]!.id);
      clock.advance(-23 * 3_600_000);
    });

    test("the summary: counts, core and PHP versions, top contrib modules; another organization's is 403", async () => {
      // The top modules as the background thread computes them (top-modules.test.ts tests when).
      const refresh = new TopModulesRefresh(h.store.topModules, 1000, clock.now);
      await refresh.run();
      const computedAt = new Date(clock.now()).toISOString();
      const body = await json(get(`/api/v1/organizations/${b.orgId}/summary`, b.token));
      expect(body).toEqual({
        organization_id: b.orgId, sites: 1, stale_sites: 0, sites_synced_last_24h: 1,
        core_versions: [{ version: "10.3.8", sites: 1 }], php_versions: [{ version: "8.3.2", sites: 1 }],
        top_contrib_modules: [{ machine_name: "webform", sites: 1 }], top_contrib_modules_computed_at: computedAt,
      });
      // An organization of its own, so the figures are exactly these syncs'.
      const orgC = await h.accounts.createOrganization("Questions C");
      const userC = await h.accounts.createUser({ email: `qc-${dialect}@c.test`, organizationId: orgC.id, role: "member" });
      const [c1, c2, c3] = [await newSite(h.sites, orgC.id, "qc"), await newSite(h.sites, orgC.id, "qc"), await newSite(h.sites, orgC.id, "qc")];
      const info = (core: string, php: string) => ({ drupal_info: { core_version: core, php_version: php, ip_address: "192.0.2.7" } });
      await postSync(app, c1.id, { body: payload(c1, [mod("token"), mod("webform"), mod("views", { module_type: "core" })], info("10.3.8", "8.3.2")), token: userC.token });
      await postSync(app, c2.id, { body: payload(c2, [mod("token"), mod("my_custom", { module_type: "custom" })], info("10.3.8", "8.2.0")), token: userC.token });
      await refresh.run();
      expect(await json(get(`/api/v1/organizations/${orgC.id}/summary`, userC.token))).toEqual({
        organization_id: orgC.id, sites: 3, stale_sites: 0, sites_synced_last_24h: 2,
        core_versions: [{ version: "10.3.8", sites: 2 }, { version: null, sites: 1 }],
        php_versions: [{ version: "8.2.0", sites: 1 }, { version: "8.3.2", sites: 1 }, { version: null, sites: 1 }],
        top_contrib_modules: [{ machine_name: "token", sites: 2 }, { machine_name: "webform", sites: 1 }], top_contrib_modules_computed_at: computedAt,
      });
      void c3;
      await expectError(await get(`/api/v1/organizations/${b.orgId}/summary`), 403);
      await expectError(await get("/api/v1/organizations/999999/summary"), 403);
      await expectError(await get("/api/v1/organizations/abc/summary"), 404);
    });
  });
});
