// GET /api/v1/sites/{id}/updates, GET /api/v1/security, the site read's
// status counts and the security gauge, over statuses computed as the
// background computes them, on both dialects.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { UpdateStatuses } from "../../src/updates/statuses";
import { createHarness, mod, payload, type Harness, type SeededSite } from "../support/harness";
import { expectError } from "../support/http";
import { fixture } from "../support/releases";
import { nextMillisecond } from "../support/until";
import { describeEachDialect } from "../support/stores";

const info = (core: string) => ({ drupal_info: { core_version: core, php_version: "8.3.2", ip_address: "192.0.2.1" } });

describeEachDialect("update statuses API", (dialect) => {
  let h: Harness;
  let statuses: UpdateStatuses;
  // Three sites of the world's organization: one current, one with an insecure core, one also running a revoked project.
  let current: SeededSite;
  let insecure: SeededSite;
  let worst: SeededSite;
  let outsiders: SeededSite;

  async function syncSite(site: SeededSite, core: string, modules: ReturnType<typeof mod>[]) {
    await nextMillisecond(); // later than any computation before it
    expect((await h.sync(payload(site, [mod("node", { module_type: "core", version: core }), ...modules], info(core)), site.id)).status).toBe(200);
  }

  beforeAll(async () => {
    h = await createHarness(dialect);
    statuses = new UpdateStatuses(h.store.releases);
    const revoked = { ...fixture("drupal.project_status.revoked.0.2"), project: "old_thing" };
    await h.store.releases.saveHistories([{ history: fixture("drupal.sec.8.2.0-rc2") }, { history: fixture("aaa_update_test.8.x-1.2") }, { history: revoked }], new Date());
    current = await h.freshSite("current");
    insecure = await h.freshSite("insecure");
    worst = await h.freshSite("worst");
    await syncSite(current, "8.1.2", [mod("aaa_update_test", { version: "8.x-1.2" }), mod("mine", { module_type: "custom" })]);
    await syncSite(insecure, "8.1.0", [mod("aaa_update_test", { version: "8.x-1.0" })]);
    await syncSite(worst, "8.0.0", [mod("old_thing_ui", { project: "old_thing", version: "8.0.1" }), mod("unheard_of", { version: "2.0.0" })]);
    // A site of the other organization, exposed too: the world's user must never see it.
    const outsiderSite = await h.sites.create({ organizationId: h.world.otherOrgId, url: "https://outsider.example", name: "Outsider" });
    outsiders = outsiderSite;
    expect((await h.sync(payload(outsiderSite, [mod("node", { module_type: "core", version: "8.0.0" })], info("8.0.0")), outsiderSite.id, h.world.outsiderToken)).status).toBe(200);
    // The seeded site of the world never synced: it is never computed.
    expect(await statuses.computePending()).toBe(4);
  });
  afterAll(() => h.close());

  test("a site's projects: core as drupal at its core version, contrib by project, custom modules left out", async () => {
    const res = await h.request("GET", `/api/v1/sites/${worst.id}/updates`);
    expect(res.status).toBe(200);
    const body = await res.json() as { site_id: number; computed_at: string; projects: Record<string, unknown>[] };
    expect(body.site_id).toBe(worst.id);
    expect(Date.parse(body.computed_at)).not.toBeNaN();
    expect(body.projects).toEqual([
      {
        project: "drupal", installed_version: "8.0.0", status: "not_secure", reason: "Installed release is marked insecure",
        recommended: "8.1.2", latest_version: "8.2.0-rc2", security_release: "8.0.2", security_updates: ["8.2.0-rc2", "8.1.2", "8.0.2"],
        also_available: [],
        links: {
          project: "https://example.com/project/drupal", recommended: "https://example.com/drupal-8-1-2-release",
          security_release: "https://example.com/drupal-8-0-2-release",
        },
      },
      {
        project: "old_thing", installed_version: "8.0.1", status: "revoked", reason: "Project revoked", recommended: null,
        latest_version: null, security_release: null, security_updates: [], also_available: [],
        links: { project: "https://example.com/project/drupal", recommended: null, security_release: null },
      },
      {
        project: "unheard_of", installed_version: "2.0.0", status: "unknown", reason: "No release data for this project", recommended: null,
        latest_version: null, security_release: null, security_updates: [], also_available: [],
        links: { project: null, recommended: null, security_release: null },
      },
    ]);
    const mine = await (await h.request("GET", `/api/v1/sites/${current.id}/updates`)).json() as { projects: { project: string; status: string }[] };
    expect(mine.projects.map((p) => [p.project, p.status])).toEqual([["aaa_update_test", "current"], ["drupal", "current"]]);
  });

  test("a site not computed yet answers no projects and computed_at null", async () => {
    const body = await (await h.request("GET", `/api/v1/sites/${h.world.site.id}/updates`)).json();
    expect(body).toEqual({ site_id: h.world.site.id, computed_at: null, projects: [] });
  });

  test("the site route checks as every site route does: 401, 404, 403", async () => {
    await expectError(await h.request("GET", `/api/v1/sites/${worst.id}/updates`, { token: null }), 401);
    await expectError(await h.request("GET", `/api/v1/sites/999999/updates`), 404, "Site not found");
    await expectError(await h.request("GET", `/api/v1/sites/abc/updates`), 404, "Site not found");
    await expectError(await h.request("GET", `/api/v1/sites/${worst.id}/updates`, { token: h.world.outsiderToken }), 403);
  });

  test("GET /api/v1/security: the caller's exposed sites only, most exposed first", async () => {
    const res = await h.request("GET", "/api/v1/security");
    expect(res.status).toBe(200);
    const body = await res.json() as { items: { site_id: number; not_secure: number; revoked: number; projects: unknown[] }[]; total: number; next_cursor: string | null };
    expect(body.total).toBe(2);
    expect(body.items.map((s) => [s.site_id, s.not_secure, s.revoked])).toEqual([[worst.id, 1, 1], [insecure.id, 1, 0]]);
    expect(body.items[1]!.projects).toEqual([{ project: "drupal", installed_version: "8.1.0", status: "not_secure", security_release: "8.1.2", recommended: "8.1.2" }]);
    expect(body.items.some((s) => s.site_id === outsiders.id)).toBe(false);

    expect(body.next_cursor).toBeNull();

    // Page by page with the cursor: each site once, in order, and the last page says so.
    const first = await (await h.request("GET", "/api/v1/security?limit=1")).json() as typeof body;
    expect(first.items.map((s) => s.site_id)).toEqual([worst.id]);
    expect(first.total).toBe(2);
    expect(first.next_cursor).toEqual(expect.any(String));
    const second = await (await h.request("GET", `/api/v1/security?limit=1&cursor=${first.next_cursor}`)).json() as typeof body;
    expect(second.items.map((s) => s.site_id)).toEqual([insecure.id]);
    expect(second).toMatchObject({ total: 2, next_cursor: null });
    const theirs = await (await h.request("GET", "/api/v1/security", { token: h.world.outsiderToken })).json() as typeof body;
    expect(theirs.items.map((s) => s.site_id)).toEqual([outsiders.id]);
  });

  test("GET /api/v1/security refuses a bad limit or cursor (400 naming it) and no token (401)", async () => {
    for (const limit of ["0", "1001", "abc", "-1"]) {
      const err = await expectError(await h.request("GET", `/api/v1/security?limit=${limit}`), 400);
      expect(err.errors).toEqual([{ loc: ["query", "limit"], msg: expect.any(String) }]);
    }
    const notOurs = [Buffer.from("1.0.abc").toString("base64url"), Buffer.from("9".repeat(200)).toString("base64url"), "%00", "x".repeat(5000)];
    for (const cursor of notOurs) {
      const err = await expectError(await h.request("GET", `/api/v1/security?cursor=${cursor}`), 400);
      expect(err.errors).toEqual([{ loc: ["query", "cursor"], msg: "Invalid cursor" }]);
    }
    await expectError(await h.request("GET", "/api/v1/security", { token: null }), 401);
  });

  test("the site read counts its projects per status, in the site and in the list", async () => {
    const site = await (await h.request("GET", `/api/v1/sites/${worst.id}`)).json() as { update_status_counts: Record<string, number> };
    expect(site.update_status_counts).toEqual({ not_secure: 1, revoked: 1, not_supported: 0, not_current: 0, current: 0, unknown: 1 });
    const list = await (await h.request("GET", "/api/v1/sites?limit=1000")).json() as { items: { id: number; update_status_counts: Record<string, number> }[] };
    const byId = new Map(list.items.map((s) => [s.id, s.update_status_counts]));
    expect(byId.get(insecure.id)).toMatchObject({ not_secure: 1, not_current: 1 });
    expect(byId.get(current.id)).toMatchObject({ current: 2, not_secure: 0 });
  });

  test("a sync marks its site to be computed again; until then the last statuses are read", async () => {
    expect(await h.store.releases.sitesToCompute(0, 100)).toEqual([]);
    await syncSite(insecure, "8.1.2", [mod("aaa_update_test", { version: "8.x-1.2" })]);
    expect(await h.store.releases.sitesToCompute(0, 100)).toEqual([insecure.id]);
    const before = await (await h.request("GET", `/api/v1/sites/${insecure.id}/updates`)).json() as { projects: { status: string }[] };
    expect(before.projects.map((p) => p.status)).toEqual(["not_current", "not_secure"]);
    expect(await statuses.computePending()).toBe(1);
    const after = await (await h.request("GET", `/api/v1/sites/${insecure.id}/updates`)).json() as { projects: { status: string }[] };
    expect(after.projects.map((p) => p.status)).toEqual(["current", "current"]);
    // Put back as the other tests expect it.
    await syncSite(insecure, "8.1.0", [mod("aaa_update_test", { version: "8.x-1.0" })]);
    await statuses.computePending();
  });

  test("a project the site no longer runs leaves its statuses; one it starts running joins them", async () => {
    const site = await h.freshSite("changing");
    await syncSite(site, "8.1.2", [mod("aaa_update_test", { version: "8.x-1.0" })]);
    await statuses.computePending();
    const full = payload(site, [mod("node", { module_type: "core", version: "8.1.2" }), mod("old_thing", { version: "8.0.1" })], { ...info("8.1.2"), full_sync: true });
    await nextMillisecond();
    expect((await h.sync(full, site.id)).status).toBe(200);
    expect(await statuses.computePending()).toBe(1);
    const body = await (await h.request("GET", `/api/v1/sites/${site.id}/updates`)).json() as { projects: { project: string; status: string }[] };
    expect(body.projects.map((p) => [p.project, p.status])).toEqual([["drupal", "current"], ["old_thing", "revoked"]]);
  });

  test("/metrics: the gauge of sites with a not_secure project", async () => {
    const text = await (await h.request("GET", "/metrics", { token: null })).text();
    // worst, insecure, and the other organization's site.
    expect(text).toMatch(/^modsync_sites_security_updates_pending 3$/m);
    expect(text).toContain("# TYPE modsync_release_fetches_total counter");
  });
});
