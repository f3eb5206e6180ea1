// The sync route's checks, in the promised order, and hostile or broken input:
// every refusal is a JSON error with the right status, never a 500, and never
// touches what is stored.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createHarness, mod, payload, type Harness } from "../support/harness";
import { expectError } from "../support/http";
import { describeEachDialect } from "../support/stores";

describeEachDialect("sync checks", (dialect) => {
  let h: Harness;
  let good: ReturnType<typeof payload>;
  const stored = async () => (await h.store.listSiteModules(h.world.site.id, { limit: 1000 })).map((m) => `${m.machineName}@${m.version}`);

  beforeAll(async () => {
    h = await createHarness(dialect, { config: { maxBodyBytes: 3 * 1024 * 1024 } });
    good = payload(h.world.site, [mod("views"), mod("token")]);
    expect((await h.sync(good)).status).toBe(200);
  });
  afterAll(() => h.close());

  /** A test of what is sent to the world's site: whatever it refuses, the site still holds exactly its two modules afterwards. */
  const refusing = (name: string, body: () => Promise<void>) => test(name, async () => {
    await body();
    expect(await stored()).toEqual(["token@1.0.0", "views@1.0.0"]);
  });
  const wrongSiteToken = () => ({ ...good, site: { ...good.site, token: "mss_wrong" } });
  const wrongUrl = () => ({ ...good, site: { ...good.site, url: "https://elsewhere.example" } });

  refusing("401 with WWW-Authenticate when the bearer token is missing, malformed, unknown or revoked", async () => {
    const revoked = (await h.accounts.createToken(h.world.userId)).token;
    expect(await h.accounts.revokeToken(revoked)).toBe(true);
    const cases: Record<string, string>[] = [
      {},
      { authorization: "Basic dXNlcjpwYXNz" },
      { authorization: "Bearer" },
      { authorization: "Bearer msk_unknown" },
      { authorization: `Bearer ${revoked}` },
    ];
    for (const headers of cases) {
      const res = await h.request("POST", `/api/v1/sites/${h.world.site.id}/modules`, { token: null, headers, body: good });
      await expectError(res, 401);
      expect(res.headers.get("www-authenticate")).toBe("Bearer");
    }
  });

  refusing("401 comes before 404, 403 and 400", async () => {
    await expectError(await h.sync({ nonsense: true }, 999_999, null), 401);
    await expectError(await h.request("POST", "/api/v1/sites/abc/modules", { token: null, raw: "{not json" }), 401);
  });

  refusing("404 for a site that does not exist, before any body check", async () => {
    await expectError(await h.sync({ nonsense: true }, 999_999), 404);
    for (const id of ["abc", "0", "-1", "1.5", "99999999999"]) {
      await expectError(await h.request("POST", `/api/v1/sites/${id}/modules`, { body: good }), 404);
    }
  });

  refusing("403 for a user outside the site's organization, before any body check", async () => {
    await expectError(await h.sync(good, undefined, h.world.outsiderToken), 403);
    await expectError(await h.sync({ nonsense: true }, undefined, h.world.outsiderToken), 403);
  });

  refusing("400 for a bad body comes before the site token check", async () => {
    const body = { ...wrongSiteToken(), modules: "none" };
    const json = await expectError(await h.sync(body), 400);
    expect(json.errors).toContainEqual({ loc: ["body", "modules"], msg: expect.any(String) });
  });

  refusing("403 for a wrong site token, before the URL check", async () => {
    await expectError(await h.sync({ ...wrongSiteToken(), site: { ...wrongSiteToken().site, url: "https://elsewhere.example" } }), 403);
  });

  refusing("400 naming site.url when the URL differs from the registered one", async () => {
    const json = await expectError(await h.sync(wrongUrl()), 400);
    expect(json.errors![0]!.loc).toEqual(["body", "site", "url"]);
  });

  refusing("400 naming the field for each broken top level", async () => {
    const cases: [unknown, (string | number)[]][] = [
      [{ ...good, site: undefined }, ["body", "site"]],
      [{ ...good, site: "https://example.drupal.site" }, ["body", "site"]],
      [{ ...good, site: { ...good.site, url: 123 } }, ["body", "site", "url"]],
      [{ ...good, site: { ...good.site, token: undefined } }, ["body", "site", "token"]],
      [{ ...good, drupal_info: undefined }, ["body", "drupal_info"]],
      [{ ...good, drupal_info: [] }, ["body", "drupal_info"]],
      [{ ...good, drupal_info: { ...good.drupal_info, core_version: 10 } }, ["body", "drupal_info", "core_version"]],
      [{ ...good, drupal_info: { ...good.drupal_info, ip_address: "999.1.1.1" } }, ["body", "drupal_info", "ip_address"]],
      [{ ...good, drupal_info: { ...good.drupal_info, ip_address: "localhost" } }, ["body", "drupal_info", "ip_address"]],
      [{ ...good, modules: undefined }, ["body", "modules"]],
      [{ ...good, modules: { views: {} } }, ["body", "modules"]],
      [{ ...good, full_sync: "true" }, ["body", "full_sync"]],
      [{ ...good, full_sync: 1 }, ["body", "full_sync"]],
    ];
    for (const [body, loc] of cases) {
      const json = await expectError(await h.sync(body), 400);
      expect(json.errors!.map((e: { loc: unknown }) => e.loc)).toContainEqual(loc);
    }
  });

  refusing("400 when the body is not a JSON object", async () => {
    for (const raw of ["", "{not json", "[]", "null", "\"text\"", "42", "{\"a\":1} trailing"]) {
      const json = await expectError(await h.request("POST", `/api/v1/sites/${h.world.site.id}/modules`, { raw }), 400);
      expect(json.errors![0]!.loc).toEqual(["body"]);
    }
  });

  refusing("400 for invalid UTF-8", async () => {
    const text = JSON.stringify(good);
    const bytes = new Uint8Array([...new TextEncoder().encode(text.slice(0, 20)), 0xff, 0xfe, ...new TextEncoder().encode(text.slice(20))]);
    await expectError(await h.request("POST", `/api/v1/sites/${h.world.site.id}/modules`, { raw: bytes }), 400);
  });

  refusing("64-level nesting is refused where a value is expected and ignored where it is not", async () => {
    let deep: unknown = "bottom";
    for (let i = 0; i < 64; i++) deep = { level: deep };
    await expectError(await h.sync({ ...good, site: deep }), 400);
    await expectError(await h.sync({ ...good, drupal_info: { ...good.drupal_info, php_version: deep } }), 400);
    const res = await (await h.sync({ ...good, modules: [deep, ...good.modules], extra: deep })).json();
    expect(res).toMatchObject({ modules_unchanged: 2, errors: [{ index: 0, detail: expect.any(String) }] });
  });

  refusing("__proto__ and constructor keys change nothing", async () => {
    const raw = JSON.stringify(good).replace(/^\{/, '{"__proto__":{"full_sync":true},"constructor":{"prototype":{"polluted":1}},');
    const res = await h.request("POST", `/api/v1/sites/${h.world.site.id}/modules`, { raw: raw.replace('"modules":[', '"modules":[{"__proto__":{"enabled":true},"machine_name":"x_proto","display_name":"P","module_type":"core","version":"1"},') });
    const json = await res.json();
    expect(res.status).toBe(200);
    expect(json.modules_removed).toBe(0);
    expect(json.errors).toEqual([{ index: 0, machine_name: "x_proto", detail: expect.stringContaining("enabled") }]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).full_sync).toBeUndefined();
  });

  refusing("1 MB strings are refused with the field named", async () => {
    const mb = "x".repeat(1024 * 1024);
    const json = await expectError(await h.sync({ ...good, site: { ...good.site, name: mb } }), 400);
    expect(json.errors![0]!.loc).toEqual(["body", "site", "name"]);
    // One per body, so each is read whole (a streamed body skips any entry past 64 KiB unread: test/hostile/streamed-fields.test.ts).
    for (const [field, entry] of [["description", mod("huge", { description: mb })], ["display_name", mod("huge_name", { display_name: mb })]] as const) {
      const res = await (await h.sync({ ...good, modules: [...good.modules, entry] })).json();
      expect(res.errors.map((e: { index: number; detail: string }) => [e.index, e.detail.split(":")[0]])).toEqual([[2, field]]);
    }
  });

  refusing("numbers where strings belong are refused per entry", async () => {
    const res = await (await h.sync({ ...good, modules: [...good.modules, { ...mod("num_version"), version: 10.3 }, { ...mod("num_name"), display_name: 7 }, { ...mod("x"), machine_name: 12 }] })).json();
    expect(res.modules_processed).toBe(2);
    expect(res.errors.map((e: { index: number }) => e.index)).toEqual([2, 3, 4]);
  });

  refusing("413 for a body larger than MAX_BODY_MB, declared or actual", async () => {
    const big = JSON.stringify({ ...good, padding: "p".repeat(4 * 1024 * 1024) });
    await expectError(await h.request("POST", `/api/v1/sites/${h.world.site.id}/modules`, { raw: big }), 413);
    const stream = new ReadableStream({
      start(c) {
        c.enqueue(new TextEncoder().encode(big));
        c.close();
      },
    });
    await expectError(await h.request("POST", `/api/v1/sites/${h.world.site.id}/modules`, { raw: stream }), 413);
  });

  refusing("text that no database could store as sent (NUL, unpaired surrogates) is refused, never a 500", async () => {
    const send = (raw: string) => h.request("POST", `/api/v1/sites/${h.world.site.id}/modules`, { raw });
    const base = JSON.stringify(good);
    for (const [field, bad] of [["name", "Site\\u0000"], ["name", "Site\\ud800"]] as const) {
      const raw = base.replace(`"${field}":"${good.site.name}"`, `"${field}":"${bad}"`);
      const json = await expectError(await send(raw), 400);
      expect(json.errors![0]!.loc).toEqual(["body", "site", "name"]);
    }
    const dirtyCore = base.replace('"core_version":"10.3.8"', '"core_version":"10\\u0000"');
    expect((await expectError(await send(dirtyCore), 400)).errors![0]!.loc).toEqual(["body", "drupal_info", "core_version"]);
  });

  test("entries whose text no database could store as sent are refused one by one, never a 500; the rest sync", async () => {
    const site = await h.freshSite("nul");
    const entries = [
      '{"machine_name":"nul_display","display_name":"a\\u0000b","module_type":"custom","enabled":true}',
      '{"machine_name":"nul_version","display_name":"v","module_type":"custom","enabled":true,"version":"1\\u0000"}',
      '{"machine_name":"lone_high","display_name":"x","module_type":"custom","enabled":true,"description":"\\ud83d"}',
      '{"machine_name":"lone_low","display_name":"\\ude00","module_type":"custom","enabled":true}',
      '{"machine_name":"emoji_ok","display_name":"Smile \\ud83d\\ude00","module_type":"custom","enabled":true,"extra":"\\u0000 ignored"}',
    ];
    const raw = JSON.stringify(payload(site, good.modules)).replace('"modules":[', `"modules":[${entries.join(",")},`);
    const res = await h.request("POST", `/api/v1/sites/${site.id}/modules`, { raw });
    const json = await res.json();
    expect(res.status).toBe(200);
    expect(json.errors!.map((e: { index: number; detail: string }) => [e.index, e.detail.split(":")[0]]))
      .toEqual([[0, "display_name"], [1, "version"], [2, "description"], [3, "display_name"]]);
    const kept = await h.store.listSiteModules(site.id, { limit: 1000 });
    expect(kept.map((m) => [m.machineName, m.displayName])).toEqual([["emoji_ok", "Smile \u{1F600}"], ["token", "token"], ["views", "views"]]);
  });

  test("a repeated machine_name is skipped even when its first entry was invalid", async () => {
    const site = await h.freshSite("dupes");
    const res = await (await h.sync(payload(site, [{ ...mod("b"), enabled: "no" }, mod("b"), mod("c")]), site.id)).json();
    expect(res).toMatchObject({ modules_created: 1 });
    expect(res.errors.map((e: { index: number; detail: string }) => [e.index, e.detail.startsWith("Duplicate")])).toEqual([[0, false], [1, true]]);
  });

  refusing("a blank site name is refused", async () => {
    const json = await expectError(await h.sync({ ...good, site: { ...good.site, name: "   " } }), 400);
    expect(json.errors![0]!.loc).toEqual(["body", "site", "name"]);
  });

  test("a module named like an Object.prototype member syncs like any other", async () => {
    const site = await h.freshSite("proto");
    const res = await (await h.sync(payload(site, [mod("constructor"), mod("valueof"), mod("hasownproperty")]), site.id)).json();
    expect(res).toMatchObject({ modules_created: 3, errors: [] });
    const again = await (await h.sync(payload(site, [mod("constructor"), mod("valueof"), mod("hasownproperty")]), site.id)).json();
    expect(again.modules_unchanged).toBe(3);
  });
});
