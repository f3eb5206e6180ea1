// HTTP conventions, end to end on every dialect (+Redis): problem+json
// errors, Location and Retry-After, Idempotency-Key, ETag / If-None-Match,
// Link rel="next".
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHarness, mod, payload, type Harness } from "../support/harness";
import { expectError, postSync } from "../support/http";
import { describeEachDialect } from "../support/stores";

const json = (res: Response): Promise<any> => res.json();

describeEachDialect("HTTP conventions", (dialect) => {
  let h: Harness;
  beforeAll(async () => {
    // A rate limit that counts, and background syncs past 5 modules.
    h = await createHarness(dialect, { config: { rateLimitPerHour: 3, backgroundThreshold: 5 } });
  });
  afterAll(() => h.close());

  const syncWithKey = (siteId: number, body: unknown, key: string, token = h.world.token) =>
    postSync(h.app, siteId, { token, body, headers: { "idempotency-key": key } });

  describe("errors", () => {
    test("are application/problem+json with type, title, status, detail and a stable code", async () => {
      const res = await h.request("GET", "/api/v1/sites/99999999");
      expect(res.headers.get("content-type")).toStartWith("application/problem+json");
      expect(await json(res)).toEqual({
        type: "urn:modsync:problem:site_not_found", title: "Not Found", status: 404, detail: "Site not found", code: "site_not_found",
      });
    });
  });

  describe("Location and Retry-After", () => {
    test("201 of a registration names the new site", async () => {
      const res = await h.request("POST", "/api/v1/sites", { body: { organization_id: h.world.orgId, url: "https://located.conventions.test", name: "Located" } });
      expect(res.status).toBe(201);
      const { id } = await json(res);
      expect(res.headers.get("location")).toBe(`/api/v1/sites/${id}`);
      expect((await h.request("GET", res.headers.get("location")!)).status).toBe(200);
    });

    test("202 of a background sync names its status URL and when to poll it", async () => {
      const site = await h.freshSite("located");
      const res = await h.sync(payload(site, Array.from({ length: 8 }, (_, i) => mod(`bg_${i}`))), site.id);
      expect(res.status).toBe(202);
      const body = await json(res);
      expect(res.headers.get("location")).toBe(body.status_url);
      expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
    });
  });

  describe("Idempotency-Key", () => {
    test("a retry gets the first answer, marked replayed, and spends no rate-limit token", async () => {
      const site = await h.freshSite("idem");
      const first = await syncWithKey(site.id, payload(site, [mod("views")]), "key-1");
      expect(first.status).toBe(200);
      const remaining = Number(first.headers.get("x-ratelimit-remaining"));
      const firstBody = await json(first);
      for (let i = 0; i < 3; i++) {
        const retry = await syncWithKey(site.id, payload(site, [mod("views")]), "key-1");
        expect(retry.status).toBe(200);
        expect(retry.headers.get("idempotent-replayed")).toBe("true");
        expect(await json(retry)).toEqual(firstBody);
      }
      // The bucket was not touched by the replays: the next real sync leaves one less than the first did.
      const next = await h.sync(payload(site, [mod("views")]), site.id);
      expect(Number(next.headers.get("x-ratelimit-remaining"))).toBe(remaining - 1);
    });

    test("the same key with another body is a 422; a key is per caller and route", async () => {
      const site = await h.freshSite("idem");
      expect((await syncWithKey(site.id, payload(site, [mod("views")]), "key-2")).status).toBe(200);
      const problem = await expectError(await syncWithKey(site.id, payload(site, [mod("token")]), "key-2"), 422);
      expect(problem.code).toBe("idempotency_key_mismatch");
      // The site's own token is another caller: the same key is new to it.
      const other = await postSync(h.app, site.id, { token: site.token, body: payload(site, [mod("token")]), headers: { "idempotency-key": "key-2" } });
      expect(other.status).toBe(200);
      expect(other.headers.get("idempotent-replayed")).toBeNull();
    });

    test("a refused first request is not kept: its retry runs again", async () => {
      const site = await h.freshSite("idem");
      const wrong = { ...payload(site, [mod("views")]), site: { url: "https://elsewhere.test", name: site.name, token: site.token } };
      await expectError(await syncWithKey(site.id, wrong, "key-3"), 400);
      await expectError(await syncWithKey(site.id, wrong, "key-3"), 400);
      expect((await syncWithKey(site.id, wrong, "key-3")).headers.get("idempotent-replayed")).toBeNull();
    });

    test("concurrent requests with one key make one background task: the others replay it or are told to retry (409)", async () => {
      const site = await h.freshSite("idem");
      const body = payload(site, Array.from({ length: 8 }, (_, i) => mod(`conc_${i}`)));
      const answers = await Promise.all(Array.from({ length: 5 }, () => syncWithKey(site.id, body, "key-4")));
      const statuses = answers.map((r) => r.status).sort();
      expect(statuses.filter((s) => s !== 202 && s !== 409)).toEqual([]);
      const taskIds = new Set<string>();
      for (const res of answers) if (res.status === 202) taskIds.add((await json(res)).task_id);
      expect(taskIds.size).toBe(1);
      for (const res of answers.filter((r) => r.status === 409)) expect(res.headers.get("retry-after")).toBe("1");
      // Once answered, every retry replays the same task.
      const retry = await syncWithKey(site.id, body, "key-4");
      expect(retry.status).toBe(202);
      expect((await json(retry)).task_id).toBe([...taskIds][0]);
      expect(retry.headers.get("location")).toBe(`/api/v1/tasks/${[...taskIds][0]}/status`);
    });

    test("a streamed (gzip) body is hashed as it is read: its retry replays, another body under the key is a 422", async () => {
      const site = await h.freshSite("idem");
      const gzip = (body: unknown) => Bun.gzipSync(JSON.stringify(body));
      const body = payload(site, Array.from({ length: 8 }, (_, i) => mod(`gz_${i}`)));
      const send = (raw: Uint8Array) => postSync(h.app, site.id, {
        token: h.world.token, raw, headers: { "content-type": "application/json", "content-encoding": "gzip", "idempotency-key": "gzip-1" },
      });
      const first = await send(gzip(body));
      expect(first.status).toBe(202);
      const retry = await send(gzip(body));
      expect(retry.headers.get("idempotent-replayed")).toBe("true");
      expect((await json(retry)).task_id).toBe((await json(first)).task_id);
      await expectError(await send(gzip({ ...body, full_sync: true })), 422);
    });

    test("registering a site or rotating its token stores no answer (it holds a token): a retried registration is a 409 and makes no site, a retried rotation rotates again", async () => {
      const body = { organization_id: h.world.orgId, url: "https://idem-register.conventions.test", name: "Once" };
      const first = await h.request("POST", "/api/v1/sites", { body, headers: { "idempotency-key": "register-1" } });
      const again = await h.request("POST", "/api/v1/sites", { body, headers: { "idempotency-key": "register-1" } });
      expect(first.status).toBe(201);
      const created = await json(first) as { id: number; token: string };
      expect(again.status).toBe(409);
      expect(again.headers.get("idempotent-replayed")).toBeNull();

      const rotate = () => h.request("POST", `/api/v1/sites/${created.id}/token`, { headers: { "idempotency-key": "rotate-1" } });
      const r1 = await rotate();
      const r2 = await rotate();
      expect([r1.status, r2.status]).toEqual([200, 200]);
      const [t1, t2] = [(await json(r1) as { token: string }).token, (await json(r2) as { token: string }).token];
      expect(t2).not.toBe(t1);
      // No token of either route is anywhere in the stored answers.
      for (const token of [created.token, t1, t2]) {
        for (const scope of [`user:${h.world.userId} POST /api/v1/sites`, `user:${h.world.userId} POST /api/v1/sites/${created.id}/token`]) {
          for (const key of ["register-1", "rotate-1"]) {
            const stored = await h.store.claimIdempotencyKey({ scope, key, siteId: null, now: new Date(), expiresAt: new Date(Date.now() + 1000) });
            expect(JSON.stringify(stored ?? {})).not.toContain(token);
          }
        }
      }
    });

    test("a key expires: once past its time it is claimed anew, and purged", async () => {
      const at = (ms: number) => new Date(Date.UTC(2030, 0, 1) + ms);
      const claim = (now: Date) => h.store.claimIdempotencyKey({ scope: "user:1 POST /x", key: "expiring", siteId: null, now, expiresAt: new Date(now.getTime() + 1000) });
      expect(await claim(at(0))).toBeNull();
      await h.store.completeIdempotencyKey("user:1 POST /x", "expiring", { requestHash: "h", status: 200, headers: { "content-type": "application/json" }, body: "{}" });
      expect(await claim(at(999))).toEqual({ requestHash: "h", status: 200, headers: { "content-type": "application/json" }, body: "{}" });
      expect(await claim(at(1001))).toBeNull();
      expect(await h.store.purgeIdempotencyKeys(at(5000))).toBeGreaterThanOrEqual(1);
      expect(await claim(at(5000))).toBeNull();
    });

    test("a malformed key is a 400 naming the header", async () => {
      const site = await h.freshSite("idem");
      const problem = await expectError(await syncWithKey(site.id, payload(site, [mod("views")]), "x".repeat(256)), 400);
      expect(problem.errors?.[0]?.loc).toEqual(["header", "Idempotency-Key"]);
    });
  });

  describe("ETag and If-None-Match", () => {
    test("site, modules, list and task status answer 304 to their own ETag, and 200 once they change", async () => {
      const site = await h.freshSite("etag");
      await h.sync(payload(site, [mod("views")]), site.id);
      // (No worker runs here: the task stays pending, and its site's syncs would wait on it.)
      const tasked = await h.freshSite("etag");
      const accepted = await json(await h.sync(payload(tasked, Array.from({ length: 8 }, (_, i) => mod(`et_${i}`))), tasked.id));
      for (const path of [`/api/v1/sites/${site.id}`, `/api/v1/sites/${site.id}/modules`, "/api/v1/sites", accepted.status_url]) {
        const first = await h.request("GET", path);
        const etag = first.headers.get("etag");
        expect({ path, etag }).toEqual({ path, etag: expect.stringMatching(/^"[0-9a-z]+"$/) });
        const again = await h.request("GET", path, { headers: { "if-none-match": etag! } });
        expect({ path, status: again.status, body: await again.text(), etag: again.headers.get("etag") }).toEqual({ path, status: 304, body: "", etag });
        expect((await h.request("GET", path, { headers: { "if-none-match": '"other"' } })).status).toBe(200);
      }
      const before = (await h.request("GET", `/api/v1/sites/${site.id}`)).headers.get("etag")!;
      await h.sync(payload(site, [mod("views", { version: "2.0.0" })]), site.id);
      expect((await h.request("GET", `/api/v1/sites/${site.id}`, { headers: { "if-none-match": before } })).status).toBe(200);
    });
  });

  describe("Link rel=next", () => {
    test("module pages link to the next one until the last", async () => {
      const site = await h.freshSite("link");
      await h.sync(payload(site, [mod("a_one"), mod("b_two"), mod("c_three")]), site.id);
      let path: string | null = `/api/v1/sites/${site.id}/modules?limit=2&enabled=true`;
      const seen: string[] = [];
      while (path) {
        const res: Response = await h.request("GET", path);
        const page = await json(res);
        seen.push(...page.items.map((m: { machine_name: string }) => m.machine_name));
        const link = res.headers.get("link");
        if (page.next_cursor === null) expect(link).toBeNull();
        else expect(link).toBe(`</api/v1/sites/${site.id}/modules?limit=2&enabled=true&cursor=${page.next_cursor}>; rel="next"`);
        path = link ? /^<([^>]+)>/.exec(link)![1]! : null;
      }
      expect(seen).toEqual(["a_one", "b_two", "c_three"]);
    });
  });
});
