// Issue 10, item 1: deeply nested JSON beside a string holding \u0000. Such
// a body was walked recursively, copying its path at every level: 60 KB
// nested 30,000 deep blocked the event loop for 13 s and took 6.8 GB, other
// depths answered 500 (stack overflow). Now a small JSON route refuses
// nesting past 32 levels (400), and the sync route never walks the keys it
// does not know (a wrong site token is a 403 at once).
//
// A real server process: blocking and memory are the point. SQLite only:
// these bodies are refused (or, for the sync with the right token, stored
// as any sync is) before anything dialect-specific happens.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cheaply, generated, hostileServer, post, type HostileServer } from "./support";

const nested = (depth: number) => "[".repeat(depth) + "]".repeat(depth);
const DRUPAL_INFO = `"drupal_info":{"core_version":"10.3.8","php_version":"8.3.2","ip_address":"192.0.2.10"}`;

describe("deeply nested bodies [sqlite]", () => {
  let h: HostileServer;
  beforeAll(async () => {
    h = await hostileServer("sqlite");
  });
  afterAll(() => h.close());

  let n = 0;
  /** A valid registration with an extra array nested `depth` deep, and a NUL beside it. */
  const registration = (depth: number, nul = "\\u0000") =>
    `{"organization_id":${h.world.orgId},"url":"https://deep-${++n}.example","name":"Deep","deep":${nested(depth)},"nul":"${nul}"}`;
  const register = (body: string) => post(h.server, "/api/v1/sites", h.world.token, body);

  for (const depth of [100, 1000, 30_000]) {
    test(`POST /api/v1/sites: an array nested ${depth} deep beside "\\u0000" is a 400 naming the depth`, async () => {
      const body = registration(depth);
      expect(body.length).toBeLessThan(64 * 1024);
      const { value: res } = await cheaply(h, `sites route, nested ${depth} deep (${body.length} bytes)`, () => register(body));
      expect({ status: res.status, detail: res.json.detail, msg: res.json.errors?.[0]?.msg })
        .toEqual({ status: 400, detail: "Request body is nested too deeply", msg: "Nested deeper than 32 levels" });
    });
  }

  test("POST /api/v1/sites: nested 200,000 deep (400 KB) is past the route's 64 KiB: 413, not parsed", async () => {
    const { value: res } = await cheaply(h, "sites route, nested 200000 deep", () => register(registration(200_000)));
    expect({ status: res.status, json: res.json }).toEqual({ status: 413, json: expect.objectContaining({ detail: "Request body exceeds 65536 bytes" }) });
  });

  test("POST /api/v1/sites still takes a body with a shallow extra key, and names a NUL where it is", async () => {
    await h.restartIfGone();
    expect((await register(registration(5, "fine"))).status).toBe(201);
    const nul = await register(registration(5));
    expect({ status: nul.status, loc: nul.json.errors?.[0]?.loc }).toEqual({ status: 400, loc: ["body", "nul"] });
  });

  /** A sync body whose site block holds an extra array nested `depth` deep and a NUL. */
  const syncBody = (depth: number, token: string) => {
    const site = h.world.sites[0]!;
    return `{"site":{"url":"${site.url}","name":"${site.name}","token":"${token}","deep":${nested(depth)},"nul":"\\u0000"},${DRUPAL_INFO},"modules":[]}`;
  };
  const sync = (body: string | AsyncIterable<Uint8Array>, site = h.world.sites[0]!) =>
    post(h.server, `/api/v1/sites/${site.id}/modules`, h.world.token, body);

  for (const depth of [100, 1000, 30_000]) {
    test(`the sync route: extra keys nested ${depth} deep inside site, with a wrong site token, are a 403, never walked`, async () => {
      const { value: res } = await cheaply(h, `sync route, wrong token, nested ${depth} deep`, () => sync(syncBody(depth, "mss_wrong")));
      expect({ status: res.status, json: res.json }).toEqual({ status: 403, json: expect.objectContaining({ detail: "Invalid site token" }) });
    });
  }

  test("the sync route: extra keys nested 200,000 deep inside site (400 KB, more brackets than a body of real entries has) are a 400", async () => {
    // Not parsed whole (sync/ingest.ts: WHOLE_BODY_MAX_CONTAINERS) but split, which refuses nesting past 30 levels.
    const { value: res } = await cheaply(h, "sync route, wrong token, nested 200000 deep", () => sync(syncBody(200_000, "mss_wrong")));
    expect({ status: res.status, detail: res.json.detail }).toEqual({ status: 400, detail: "Request body is nested too deeply" });
  });

  test("the sync route with the right site token: unknown keys nested 30,000 deep are not read, the sync goes through", async () => {
    const { value: res } = await cheaply(h, "sync route, right token, nested 30000 deep", () => sync(syncBody(30_000, h.world.sites[0]!.token)));
    expect({ status: res.status, processed: res.json.modules_processed }).toEqual({ status: 200, processed: 0 });
  });

  test("the sync route, streamed: a site block nested 1,500,000 deep (3 MB, past the whole-body size) is a 400, never held or walked", async () => {
    const site = h.world.sites[1]!;
    const depth = 1_500_000;
    const { body } = generated([
      `{"site":{"url":"${site.url}","name":"${site.name}","token":"mss_wrong","deep":`,
      { fill: "[", bytes: depth }, { fill: "]", bytes: depth },
      `,"nul":"\\u0000"},${DRUPAL_INFO},"modules":[]}`,
    ]);
    const { value: res } = await cheaply(h, "sync route, streamed, nested 1500000 deep", () => sync(body, site));
    expect({ status: res.status, detail: res.json.detail }).toEqual({ status: 400, detail: "Request body is nested too deeply" });
  });
});
