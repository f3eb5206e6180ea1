// The site routes (register, list, read one, read its modules), end to end
// through the app, on every dialect.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { encodeCursor } from "../../src/sites/pagination";
import { createHarness, mod, newSite, payload, type Harness } from "../support/harness";
import { expectError } from "../support/http";
import { describeEachDialect } from "../support/stores";

/** A response body as parsed JSON, untyped: the assertions say what it must hold. */
const json = (res: Response | Promise<Response>): Promise<any> => Promise.resolve(res).then((r) => r.json());

async function expect401(res: Response) {
  await expectError(res, 401);
  expect(res.headers.get("www-authenticate")).toBe("Bearer");
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/;

describeEachDialect("sites API", (dialect) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(dialect);
  });
  afterAll(() => h.close());

  let n = 0;
  const uniqueUrl = () => `https://site-${++n}.sites-api.test`;
  const register = (body: unknown, token?: string | null) => h.request("POST", "/api/v1/sites", { body, token });

  /** A user of a fresh organization of their own, so listings are exactly what a test made. */
  async function freshMember() {
    const org = await h.accounts.createOrganization(`Org ${++n}`);
    const user = await h.accounts.createUser({ email: `member-${n}@fresh.test`, organizationId: org.id, role: "member" });
    return { orgId: org.id, token: user.token };
  }

  describe("POST /api/v1/sites", () => {
    test("registers a site and returns its id, url, name and a site token that syncs", async () => {
      const url = uniqueUrl();
      const res = await register({ organization_id: h.world.orgId, url, name: "New Site" });
      expect(res.status).toBe(201);
      const created = await json(res);
      expect(Object.keys(created).sort()).toEqual(["id", "name", "token", "url"]);
      expect(created).toMatchObject({ url, name: "New Site" });
      expect(Number.isInteger(created.id)).toBe(true);
      expect(created.token).toStartWith("mss_");

      const sync = await h.sync(payload(created, [mod("views")]), created.id);
      expect(sync.status).toBe(200);
      expect((await json(sync)).modules_created).toBe(1);
      const wrongToken = await h.sync(payload({ ...created, token: h.world.site.token }, [mod("views")]), created.id);
      expect(wrongToken.status).toBe(403);
    });

    test("refuses the same URL twice in one organization, whatever its spelling, with 409", async () => {
      const url = "https://dup.sites-api.test/drupal";
      expect((await register({ organization_id: h.world.orgId, url, name: "Dup" })).status).toBe(201);
      for (const spelling of [url, "https://DUP.Sites-API.test/drupal", "https://dup.sites-api.test/drupal/", "https://dup.sites-api.test:443/drupal"]) {
        const res = await register({ organization_id: h.world.orgId, url: spelling, name: "Dup again" });
        await expectError(res, 409);
      }
    });

    test("accepts a URL already registered in another organization", async () => {
      const url = "https://shared.sites-api.test";
      expect((await register({ organization_id: h.world.orgId, url, name: "Mine" })).status).toBe(201);
      const theirAdmin = await h.accounts.createUser({ email: "admin@agency-two.test", organizationId: h.world.otherOrgId, role: "admin" });
      const res = await register({ organization_id: h.world.otherOrgId, url, name: "Theirs" }, theirAdmin.token);
      expect(res.status).toBe(201);
      expect((await json(res)).url).toBe(url);
    });

    test("refuses with 403 an organization the caller is not a member of", async () => {
      await expectError(await register({ organization_id: h.world.otherOrgId, url: uniqueUrl(), name: "X" }), 403);
      await expectError(await register({ organization_id: 999_999, url: uniqueUrl(), name: "X" }), 403);
    });

    const badBodies: [string, () => string, unknown[]][] = [
      ["a missing name", () => JSON.stringify({ organization_id: h.world.orgId, url: uniqueUrl() }), ["body", "name"]],
      ["an ftp:// url", () => JSON.stringify({ organization_id: h.world.orgId, url: "ftp://x", name: "X" }), ["body", "url"]],
      ["organization_id as a string", () => JSON.stringify({ organization_id: String(h.world.orgId), url: uniqueUrl(), name: "X" }), ["body", "organization_id"]],
      ["a body that is not JSON", () => "{not json", ["body"]],
      ["a JSON array body", () => JSON.stringify([{ organization_id: h.world.orgId, url: uniqueUrl(), name: "X" }]), ["body"]],
    ];
    for (const [what, body, loc] of badBodies) {
      test(`answers 400 naming the field for ${what}`, async () => {
        const res = await h.request("POST", "/api/v1/sites", { raw: body(), headers: { "content-type": "application/json" } });
        const error = await expectError(res, 400);
        expect(error.errors?.map((e) => e.loc)).toContainEqual(loc);
      });
    }

    test("answers 401 with WWW-Authenticate: Bearer without a token, with an unknown one and with a revoked one", async () => {
      const body = { organization_id: h.world.orgId, url: uniqueUrl(), name: "X" };
      const revoked = await h.accounts.createUser({ email: `revoked-${++n}@agency-one.test`, organizationId: h.world.orgId, role: "admin" });
      expect((await register({ ...body, url: uniqueUrl() }, revoked.token)).status).toBe(201);
      expect(await h.accounts.revokeToken(revoked.token)).toBe(true);
      for (const token of [null, "msk_unknown", revoked.token]) await expect401(await register(body, token));
    });

    test("answers 401 before 400: a bad body without a token is unauthenticated", async () => {
      await expect401(await h.request("POST", "/api/v1/sites", { raw: "{not json", token: null, headers: { "content-type": "application/json" } }));
      await expect401(await register({ url: "ftp://x" }, null));
    });
  });

  describe("GET /api/v1/sites", () => {
    test("lists the sites of the caller's organizations only", async () => {
      const mine = await h.request("GET", "/api/v1/sites?limit=1000");
      expect(mine.status).toBe(200);
      const mineIds = (await json(mine)).items.map((s: { id: number }) => s.id);
      expect(mineIds).toContain(h.world.site.id);

      const theirs = await json(h.request("GET", "/api/v1/sites?limit=1000", { token: h.world.outsiderToken }));
      expect(theirs.items.every((s: { organization_id: number }) => s.organization_id === h.world.otherOrgId)).toBe(true);
      expect(theirs.items.map((s: { id: number }) => s.id)).not.toContain(h.world.site.id);
    });

    test("pages through every site exactly once with limit=1, ending with next_cursor null", async () => {
      const member = await freshMember();
      const ids: number[] = [];
      for (let i = 0; i < 3; i++) ids.push((await newSite(h.sites, member.orgId)).id);

      const seen: number[] = [];
      let cursor: string | null = null;
      for (let page = 0; page < 10; page++) {
        const res = await h.request("GET", `/api/v1/sites?limit=1${cursor ? `&cursor=${cursor}` : ""}`, { token: member.token });
        expect(res.status).toBe(200);
        const page = await json(res);
        expect(page.items.length).toBeLessThanOrEqual(1);
        seen.push(...page.items.map((s: { id: number }) => s.id));
        cursor = page.next_cursor;
        if (cursor === null) break;
      }
      expect(cursor).toBeNull();
      expect(seen).toEqual(ids);
    });

    test("gives next_cursor null on a last page shorter than the limit", async () => {
      const member = await freshMember();
      for (let i = 0; i < 3; i++) await newSite(h.sites, member.orgId);
      const first = await json(h.request("GET", "/api/v1/sites?limit=2", { token: member.token }));
      expect(first.items.length).toBe(2);
      expect(typeof first.next_cursor).toBe("string");
      const second = await json(h.request("GET", `/api/v1/sites?limit=2&cursor=${first.next_cursor}`, { token: member.token }));
      expect(second.items.length).toBe(1);
      expect(second.next_cursor).toBeNull();
    });

    for (const query of ["limit=0", "limit=1001", "limit=abc", "limit=-1", "limit=1.5"]) {
      test(`answers 400 for ${query}`, async () => {
        const error = await expectError(await h.request("GET", `/api/v1/sites?${query}`), 400);
        expect(error.errors?.map((e) => e.loc)).toContainEqual(["query", "limit"]);
      });
    }

    for (const [what, cursor] of [["garbage", "%%%"], ["a non-numeric key", encodeCursor("abc")], ["non-canonical base64", "MQ="]]) {
      test(`answers 400 for a cursor that is ${what}`, async () => {
        const error = await expectError(await h.request("GET", `/api/v1/sites?cursor=${cursor}`), 400);
        expect(error.errors?.map((e) => e.loc)).toContainEqual(["query", "cursor"]);
      });
    }

    test("answers 401 before 400 for a bad query without a token", async () => {
      await expect401(await h.request("GET", "/api/v1/sites?limit=abc", { token: null }));
    });
  });

  describe("GET /api/v1/sites/{id}", () => {
    test("answers the site with drupal_info, last_synced_at null before any sync and module_count", async () => {
      const created = await h.freshSite("fresh");
      const res = await h.request("GET", `/api/v1/sites/${created.id}`);
      expect(res.status).toBe(200);
      const site = await json(res);
      expect(site).toEqual({
        id: created.id, organization_id: h.world.orgId, url: created.url, name: created.name,
        drupal_info: { core_version: null, php_version: null, ip_address: null },
        last_synced_at: null, module_count: 0, created_at: expect.stringMatching(ISO),
        update_status_counts: { not_secure: 0, revoked: 0, not_supported: 0, not_current: 0, current: 0, unknown: 0 },
      });

      await h.sync(payload(created, [mod("views"), mod("token")]), created.id);
      const synced = await json(h.request("GET", `/api/v1/sites/${created.id}`));
      expect(synced.module_count).toBe(2);
      expect(synced.last_synced_at).toMatch(ISO);
      expect(synced.drupal_info).toEqual({ core_version: "10.3.8", php_version: "8.3.2", ip_address: "192.168.1.100" });
    });

    for (const id of ["999999", "abc", "0", "99999999999", "-1", "1.0"]) {
      test(`answers 404 for site id ${id}`, async () => {
        await expectError(await h.request("GET", `/api/v1/sites/${id}`), 404);
      });
    }

    test("answers 403 to a member of another organization", async () => {
      await expectError(await h.request("GET", `/api/v1/sites/${h.world.site.id}`, { token: h.world.outsiderToken }), 403);
    });

    test("answers 401 before 404: an unknown site without a token is unauthenticated", async () => {
      await expect401(await h.request("GET", "/api/v1/sites/999999", { token: null }));
      await expect401(await h.request("GET", `/api/v1/sites/${h.world.site.id}`, { token: "msk_unknown" }));
    });
  });

  describe("GET /api/v1/sites/{id}/modules", () => {
    let site: { id: number; url: string; name: string; token: string };
    const inventory = [
      mod("views", { module_type: "core", version: "10.3.8", display_name: "Views", description: "Lists" }),
      mod("node", { module_type: "core", version: "10.3.8" }),
      mod("pathauto", { enabled: false, version: "8.x-1.12" }),
      mod("admin_toolbar_search", { project: "admin_toolbar" }),
      { machine_name: "my_custom", display_name: "My custom", module_type: "custom", enabled: false },
    ];
    const names = (page: { items: { machine_name: string }[] }) => page.items.map((m) => m.machine_name);
    const list = async (query = "", token?: string) => {
      const res = await h.request("GET", `/api/v1/sites/${site.id}/modules${query}`, { token });
      expect(res.status).toBe(200);
      return json(res);
    };

    beforeAll(async () => {
      site = await h.freshSite("inventory");
      expect((await h.sync(payload(site, inventory), site.id)).status).toBe(200);
    });

    test("lists every module with all its fields, ordered by machine_name", async () => {
      const page = await list();
      expect(names(page)).toEqual(["admin_toolbar_search", "my_custom", "node", "pathauto", "views"]);
      expect(page.next_cursor).toBeNull();
      const byName = new Map(page.items.map((m: { machine_name: string }) => [m.machine_name, m]));
      expect(byName.get("views")).toEqual({
        machine_name: "views", display_name: "Views", module_type: "core", extension_type: "module", enabled: true, version: "10.3.8",
        description: "Lists", project: null, first_seen_at: expect.stringMatching(ISO), updated_at: expect.stringMatching(ISO),
      });
      expect(byName.get("my_custom")).toMatchObject({ module_type: "custom", enabled: false, version: null, description: null, project: null });
      expect(byName.get("admin_toolbar_search")).toMatchObject({ project: "admin_toolbar" });
    });

    test("filters by module_type, by enabled, and by both", async () => {
      expect(names(await list("?module_type=core"))).toEqual(["node", "views"]);
      expect(names(await list("?module_type=custom"))).toEqual(["my_custom"]);
      expect(names(await list("?enabled=false"))).toEqual(["my_custom", "pathauto"]);
      expect(names(await list("?enabled=true"))).toEqual(["admin_toolbar_search", "node", "views"]);
      expect(names(await list("?module_type=contrib&enabled=false"))).toEqual(["pathauto"]);
      expect(names(await list("?module_type=core&enabled=false"))).toEqual([]);
    });

    test("pages with limit=2 over 5 modules, visiting each exactly once", async () => {
      const pages: string[][] = [];
      let cursor: string | null = null;
      do {
        const page = await list(`?limit=2${cursor ? `&cursor=${cursor}` : ""}`);
        pages.push(names(page));
        cursor = page.next_cursor;
      } while (cursor !== null && pages.length < 10);
      expect(pages).toEqual([["admin_toolbar_search", "my_custom"], ["node", "pathauto"], ["views"]]);
    });

    test("pages within a filter", async () => {
      const first = await list("?module_type=core&limit=1");
      expect(names(first)).toEqual(["node"]);
      const second = await list(`?module_type=core&limit=1&cursor=${first.next_cursor}`);
      expect(names(second)).toEqual(["views"]);
    });

    for (const [query, field] of [["module_type=theme", "module_type"], ["enabled=yes", "enabled"], ["enabled=1", "enabled"], ["limit=0", "limit"], ["cursor=%%%", "cursor"]]) {
      test(`answers 400 for ${query}`, async () => {
        const error = await expectError(await h.request("GET", `/api/v1/sites/${site.id}/modules?${query}`), 400);
        expect(error.errors?.map((e) => e.loc)).toContainEqual(["query", field]);
      });
    }

    test("answers 403 to a member of another organization and 404 for an unknown site", async () => {
      await expectError(await h.request("GET", `/api/v1/sites/${site.id}/modules`, { token: h.world.outsiderToken }), 403);
      await expectError(await h.request("GET", "/api/v1/sites/999999/modules"), 404);
      await expectError(await h.request("GET", "/api/v1/sites/abc/modules"), 404);
    });

    test("answers 401 before anything else without a token", async () => {
      await expect401(await h.request("GET", "/api/v1/sites/999999/modules?module_type=theme", { token: null }));
    });
  });

  describe("values no database could take are 400s, never 500s", () => {
    const b64 = (s: string) => Buffer.from(s).toString("base64url");
    test("tampered cursors", async () => {
      await h.sync(payload(h.world.site, [{ machine_name: "views", display_name: "Views", module_type: "core", enabled: true }]));
      for (const cursor of ["AA", b64("\u0000"), "A".repeat(200), b64("Views"), b64("9999999999"), b64("0")]) {
        const modules = await h.request("GET", `/api/v1/sites/${h.world.site.id}/modules?cursor=${cursor}`);
        expect({ cursor, status: modules.status }).toEqual({ cursor, status: 400 });
        const sites = await h.request("GET", `/api/v1/sites?cursor=${cursor}`);
        expect({ cursor, status: sites.status }).toEqual({ cursor, status: 400 });
      }
    });

    test("an organization_id past 32 bits, and text with NUL or unpaired surrogates", async () => {
      for (const organization_id of [2 ** 31, 1e20]) {
        const res = await register({ organization_id, url: uniqueUrl(), name: "Big" });
        expect(res.status).toBe(400);
      }
      for (const name of ["a\\u0000b", "a\\ud800b"]) {
        const raw = JSON.stringify({ organization_id: h.world.orgId, url: uniqueUrl(), name: "placeholder" }).replace("placeholder", name);
        const res = await h.request("POST", "/api/v1/sites", { raw });
        expect(res.status).toBe(400);
        expect((await res.json()).errors[0].loc).toEqual(["body", "name"]);
      }
    });
  });

  describe("request ids", () => {
    test("every response carries a fresh X-Request-Id", async () => {
      const responses = await Promise.all([
        h.request("GET", "/api/v1/sites"),
        h.request("GET", `/api/v1/sites/${h.world.site.id}`),
        h.request("GET", "/api/v1/sites/999999"),
        h.request("GET", "/api/v1/sites", { token: null }),
        h.request("GET", "/no/such/route"),
        h.request("GET", "/health"),
      ]);
      const ids = responses.map((r) => r.headers.get("x-request-id"));
      for (const id of ids) expect(id).toMatch(/^[0-9a-f-]{36}$/);
      expect(new Set(ids).size).toBe(ids.length);
    });

    test("echoes a sane client-supplied X-Request-Id, on success and on error", async () => {
      const ok = await h.request("GET", "/api/v1/sites", { headers: { "x-request-id": "client-req.42:abc" } });
      expect(ok.status).toBe(200);
      expect(ok.headers.get("x-request-id")).toBe("client-req.42:abc");
      const denied = await h.request("GET", "/api/v1/sites", { token: null, headers: { "x-request-id": "client-req-43" } });
      expect(denied.status).toBe(401);
      expect(denied.headers.get("x-request-id")).toBe("client-req-43");
    });

    test("replaces an unsafe or oversized client X-Request-Id with its own", async () => {
      for (const given of ["has spaces in it", "x".repeat(129), "<script>"]) {
        const res = await h.request("GET", "/api/v1/sites", { headers: { "x-request-id": given } });
        expect(res.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
      }
    });
  });
});
