// A site's credentials and lifecycle, end to end on every dialect: its own
// token as the bearer of its sync route, token rotation, deletion, and the
// roles that may do each.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { redisKeyPrefix } from "../../src/app";
import { createHarness, mod, payload, type Harness, type SeededSite } from "../support/harness";
import { expectError, postSync } from "../support/http";
import { describeEachDialect } from "../support/stores";

const json = (res: Response): Promise<any> => res.json();

describeEachDialect("site credentials and lifecycle", (dialect) => {
  let h: Harness;
  /** A member (not admin) of the world's organization. */
  let memberToken: string;
  beforeAll(async () => {
    h = await createHarness(dialect);
    memberToken = (await h.accounts.createUser({ email: "member@agency-one.test", organizationId: h.world.orgId, role: "member" })).token;
  });
  afterAll(() => h.close());

  /** The site's body without site.token. */
  const tokenless = (site: SeededSite, modules = [mod("views")], extra: Record<string, unknown> = {}) => {
    const body = payload(site, modules, extra);
    return { ...body, site: { url: site.url, name: site.name } };
  };

  describe("the site token as the bearer", () => {
    test("syncs its own site with site.token absent, or present and matching", async () => {
      const site = await h.freshSite("bearer");
      const first = await postSync(h.app, site.id, { token: site.token, body: tokenless(site) });
      expect(first.status).toBe(200);
      expect(await json(first)).toMatchObject({ site_id: site.id, modules_created: 1 });
      const second = await postSync(h.app, site.id, { token: site.token, body: payload(site, [mod("views"), mod("token")]) });
      expect(await json(second)).toMatchObject({ modules_created: 1, modules_unchanged: 1 });
    });

    test("refuses a site.token in the body that is not the site's (403), and the same token of another site as the bearer (401)", async () => {
      const site = await h.freshSite("bearer");
      const other = await h.freshSite("bearer");
      const wrongBody = { ...payload(site, [mod("views")]), site: { url: site.url, name: site.name, token: other.token } };
      await expectError(await postSync(h.app, site.id, { token: site.token, body: wrongBody }), 403, "Invalid site token");
      const res = await postSync(h.app, other.id, { token: site.token, body: tokenless(other) });
      const problem = await expectError(res, 401, "Invalid authentication credentials");
      expect(res.headers.get("www-authenticate")).toBe("Bearer");
      expect(problem.code).toBe("invalid_credentials");
      // An unknown site with a site token is a 401 too: a site token tells nothing of other sites.
      await expectError(await postSync(h.app, 99_999_999, { token: site.token, body: tokenless(site) }), 401);
      expect((await h.request("GET", `/api/v1/sites/${site.id}/modules`)).status).toBe(200);
    });

    test("is good on its sync route only: the read routes refuse it (401)", async () => {
      const site = await h.freshSite("bearer");
      await expectError(await h.request("GET", `/api/v1/sites/${site.id}`, { token: site.token }), 401);
    });

    test("a person's bearer still needs site.token in the body (400 naming it)", async () => {
      const site = await h.freshSite("bearer");
      const problem = await expectError(await h.sync(tokenless(site), site.id), 400, "Invalid sync payload");
      expect(problem.errors).toEqual([{ loc: ["body", "site", "token"], msg: "Required unless the bearer is the site's own token" }]);
    });

    test("a body first synced with the site bearer is no proof for a person's bearer: the identical bytes are checked in full", async () => {
      const site = await h.freshSite("bearer");
      const raw = JSON.stringify(tokenless(site));
      expect((await postSync(h.app, site.id, { token: site.token, raw, headers: { "content-type": "application/json" } })).status).toBe(200);
      expect((await postSync(h.app, site.id, { token: site.token, raw, headers: { "content-type": "application/json" } })).status).toBe(200);
      await expectError(await postSync(h.app, site.id, { token: h.world.token, raw, headers: { "content-type": "application/json" } }), 400);
    });
  });

  describe("POST /api/v1/sites/{id}/token", () => {
    test("an admin gets a new token; the old one stops at once, as bearer and as site.token", async () => {
      const site = await h.freshSite("rotate");
      expect((await postSync(h.app, site.id, { token: site.token, body: tokenless(site) })).status).toBe(200);
      const res = await h.request("POST", `/api/v1/sites/${site.id}/token`);
      expect(res.status).toBe(200);
      const rotated = await json(res);
      expect(rotated).toEqual({ id: site.id, token: expect.stringMatching(/^mss_/) });
      expect(rotated.token).not.toBe(site.token);
      await expectError(await postSync(h.app, site.id, { token: site.token, body: tokenless(site) }), 401);
      await expectError(await h.sync(payload(site, [mod("views")]), site.id), 403, "Invalid site token");
      const renewed = { ...site, token: rotated.token as string };
      expect((await postSync(h.app, site.id, { token: renewed.token, body: tokenless(renewed) })).status).toBe(200);
      expect((await h.sync(payload(renewed, [mod("views")]), site.id)).status).toBe(200);
    });

    test("a member gets 403 role_required, an outsider 403 not_a_member, an unknown site 404", async () => {
      const site = await h.freshSite("rotate");
      expect((await expectError(await h.request("POST", `/api/v1/sites/${site.id}/token`, { token: memberToken }), 403)).code).toBe("role_required");
      expect((await expectError(await h.request("POST", `/api/v1/sites/${site.id}/token`, { token: h.world.outsiderToken }), 403)).code).toBe("not_a_member");
      await expectError(await h.request("POST", "/api/v1/sites/99999999/token"), 404, "Site not found");
      expect((await h.sync(payload(site, [mod("views")]), site.id)).status).toBe(200);
    });
  });

  describe("DELETE /api/v1/sites/{id}", () => {
    test("removes the site with its modules, tasks and staged entries; then it is 404 everywhere", async () => {
      const site = await h.freshSite("delete");
      expect((await h.sync(payload(site, [mod("views"), mod("token")]), site.id)).status).toBe(200);
      const upload = await h.store.tasks.beginUpload(site.id);
      await h.store.tasks.stageEntries(upload, [{ index: 0, machineName: "views", error: null }]);
      const res = await h.request("DELETE", `/api/v1/sites/${site.id}`);
      expect(res.status).toBe(204);
      expect(await res.text()).toBe("");
      expect(await h.store.getSiteSummary(site.id)).toBeNull();
      expect(await h.store.tasks.getTask(upload)).toBeNull();
      await expectError(await h.request("GET", `/api/v1/sites/${site.id}`), 404, "Site not found");
      await expectError(await h.request("GET", `/api/v1/sites/${site.id}/modules`), 404);
      await expectError(await h.sync(payload(site, [mod("views")]), site.id), 404);
      await expectError(await postSync(h.app, site.id, { token: site.token, body: tokenless(site) }), 401);
      await expectError(await h.request("DELETE", `/api/v1/sites/${site.id}`), 404);
      // Its modules are gone from the database, not only from the site's reads.
      expect(await h.store.listSiteModules(site.id, { limit: 10 })).toEqual([]);
    });

    test("takes the site's rate-limit bucket with it, in Redis too when there is one", async () => {
      // A limit that keeps a spent bucket for a while (this suite's is effectively off).
      const limited = await createHarness(dialect, { config: { rateLimitPerHour: 4 } });
      try {
        const site = limited.world.site;
        expect((await limited.sync(payload(site, [mod("views")]))).status).toBe(200);
        const key = `${await redisKeyPrefix(limited.store)}bucket:${site.id}`;
        if (limited.redis) expect(await limited.redis.client.exists(key)).toBe(1);
        expect((await limited.request("DELETE", `/api/v1/sites/${site.id}`)).status).toBe(204);
        if (limited.redis) expect(await limited.redis.client.exists(key)).toBe(0);
        else expect(dialect).toBe("sqlite");
      } finally {
        await limited.close();
      }
    });

    test("a member gets 403 role_required and the site stays", async () => {
      const site = await h.freshSite("delete");
      expect((await expectError(await h.request("DELETE", `/api/v1/sites/${site.id}`, { token: memberToken }), 403)).code).toBe("role_required");
      expect((await h.request("GET", `/api/v1/sites/${site.id}`, { token: memberToken })).status).toBe(200);
    });

    test("syncs racing the deletion either apply before it or answer 404: never a 500, never a site brought back", async () => {
      const site = await h.freshSite("race");
      const modules = Array.from({ length: 200 }, (_, i) => mod(`race_${i}`));
      const syncs = Array.from({ length: 6 }, (_, i) => h.sync(payload(site, modules.slice(0, 100 + i * 10)), site.id));
      const deletion = h.request("DELETE", `/api/v1/sites/${site.id}`);
      const statuses = (await Promise.all(syncs)).map((r) => r.status);
      expect((await deletion).status).toBe(204);
      expect(statuses.filter((s) => s !== 200 && s !== 404)).toEqual([]);
      expect(await h.store.getSiteSummary(site.id)).toBeNull();
      expect(await h.store.listSiteModules(site.id, { limit: 10 })).toEqual([]);
      await expectError(await h.sync(payload(site, modules), site.id), 404);
    });
  });

  describe("roles", () => {
    test("a member reads and syncs, but cannot register a site (403 role_required)", async () => {
      const site = await h.freshSite("roles");
      expect((await h.sync(payload(site, [mod("views")]), site.id, memberToken)).status).toBe(200);
      expect((await h.request("GET", `/api/v1/sites/${site.id}/modules`, { token: memberToken })).status).toBe(200);
      const res = await h.request("POST", "/api/v1/sites", { token: memberToken, body: { organization_id: h.world.orgId, url: "https://member.roles.test", name: "No" } });
      expect((await expectError(res, 403)).code).toBe("role_required");
    });
  });
});
