// What Drupal sites really send, end to end on every dialect: themes and
// install profiles, entries without module_type, syncs without an IP
// address (cron under drush), messages a person can act on, and a full sync
// that would empty the site.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { decodeEntry, encodeEntry } from "../../src/store/staging";
import { createHarness, mod, payload, type Harness } from "../support/harness";
import { expectError } from "../support/http";
import { describeEachDialect } from "../support/stores";

const json = (res: Response): Promise<any> => res.json();

describeEachDialect("Drupal realities", (dialect) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(dialect);
  });
  afterAll(() => h.close());

  const modulesOf = async (siteId: number, query = "") => (await json(await h.request("GET", `/api/v1/sites/${siteId}/modules${query}`))).items;

  test("extension_type (module, theme, profile; module when absent) is stored, returned, filtered on and updated", async () => {
    const site = await h.freshSite("ext");
    const res = await h.sync(payload(site, [
      mod("views"), { ...mod("olivero"), extension_type: "theme" }, { ...mod("standard"), extension_type: "profile" },
    ]), site.id);
    expect(await json(res)).toMatchObject({ modules_created: 3, errors: [] });
    const kinds = Object.fromEntries((await modulesOf(site.id)).map((m: any) => [m.machine_name, m.extension_type]));
    expect(kinds).toEqual({ olivero: "theme", standard: "profile", views: "module" });
    expect((await modulesOf(site.id, "?extension_type=theme")).map((m: any) => m.machine_name)).toEqual(["olivero"]);
    await expectError(await h.request("GET", `/api/v1/sites/${site.id}/modules?extension_type=plugin`), 400);
    // A change of kind alone is an update.
    expect(await json(await h.sync(payload(site, [{ ...mod("views"), extension_type: "theme" }]), site.id))).toMatchObject({ modules_updated: 1 });
    expect((await modulesOf(site.id, "?extension_type=theme")).map((m: any) => m.machine_name)).toEqual(["olivero", "views"]);
  });

  test("an entry without module_type is a core module, as the schema's default says", async () => {
    const site = await h.freshSite("ext");
    const { module_type: _dropped, ...entry } = mod("node");
    expect(await json(await h.sync(payload(site, [entry]), site.id))).toMatchObject({ modules_created: 1, errors: [] });
    expect((await modulesOf(site.id))[0]).toMatchObject({ machine_name: "node", module_type: "core", extension_type: "module" });
  });

  test("skipped entries say which field is wrong and what it allows", async () => {
    const site = await h.freshSite("messages");
    const res = await h.sync(payload(site, [
      { ...mod("long_text"), description: "x".repeat(5200) },
      { ...mod("a_theme"), module_type: "theme" },
      { ...mod("a_plugin"), extension_type: "plugin" },
      { ...mod("not_bool"), enabled: "yes" },
      mod("fine"),
    ]), site.id);
    const body = await json(res);
    expect(body.errors.map((e: { detail: string }) => e.detail)).toEqual([
      "description: Must be at most 4096 characters; got 5200",
      'module_type: Must be one of "core", "contrib", "custom"; got "theme"',
      'extension_type: Must be one of "module", "theme", "profile"; got "plugin"',
      'enabled: Must be true or false; got "yes"',
    ]);
    expect(body.modules_created).toBe(1);
  });

  test("envelope errors too: a missing field is Required, a long one says its limit", async () => {
    const site = await h.freshSite("messages");
    const body = payload(site, [mod("views")]);
    const problem = await expectError(await h.sync({ ...body, drupal_info: { php_version: "8.3.2", core_version: "1".repeat(65) }, site: { ...body.site, name: undefined } }, site.id), 400);
    expect(problem.errors).toEqual(expect.arrayContaining([
      { loc: ["body", "site", "name"], msg: "Required" },
      { loc: ["body", "drupal_info", "core_version"], msg: "Must be at most 64 characters; got 65" },
    ]));
  });

  test("drupal_info.ip_address may be left out: the sync applies and the last reported address is kept", async () => {
    const site = await h.freshSite("ip");
    expect((await h.sync(payload(site, [mod("views")]), site.id)).status).toBe(200);
    const body = payload(site, [mod("views"), mod("token")]);
    const res = await h.sync({ ...body, drupal_info: { core_version: "10.4.0", php_version: "8.3.2" } }, site.id);
    expect(await json(res)).toMatchObject({ modules_created: 1 });
    expect((await json(await h.request("GET", `/api/v1/sites/${site.id}`))).drupal_info).toEqual({
      core_version: "10.4.0", php_version: "8.3.2", ip_address: "192.168.1.100",
    });
  });

  test("a full sync with no valid entry is refused (422) and removes nothing", async () => {
    const site = await h.freshSite("full");
    await h.sync(payload(site, [mod("views"), mod("token")]), site.id);
    for (const modules of [[], [{ machine_name: "Bad Name" }, { display_name: "no name" }, 42]]) {
      const problem = await expectError(await h.sync(payload(site, modules, { full_sync: true }), site.id), 422);
      expect(problem.code).toBe("full_sync_without_entries");
      expect(problem.detail).toContain("would remove every module of the site");
      expect(problem.errors).toEqual([{ loc: ["body", "modules"], msg: "A full sync needs at least one valid module entry" }]);
    }
    expect((await modulesOf(site.id)).map((m: any) => m.machine_name)).toEqual(["token", "views"]);
  });

  test("a body whose entries were all skipped says so, instead of 'Successfully synced 0 modules'", async () => {
    const site = await h.freshSite("skipped");
    const body = await json(await h.sync(payload(site, [{ machine_name: "Bad" }, 7, { ...mod("x"), enabled: 1 }]), site.id));
    expect(body).toMatchObject({ modules_processed: 0, errors_total: 3, message: "No module synced: all 3 entries were invalid or repeated (see errors)" });
    const one = await json(await h.sync(payload(site, [7]), site.id));
    expect(one.message).toBe("No module synced: the 1 entry was invalid or repeated (see errors)");
    expect((await json(await h.sync(payload(site, []), site.id))).message).toBe("Successfully synced 0 modules");
  });
});

describe("staged entries", () => {
  test("carry extension_type; rows staged before it existed read back as modules", () => {
    const theme = { machineName: "olivero", displayName: "Olivero", moduleType: "core", extensionType: "theme", enabled: true, version: "10.3.8", description: null, project: null } as const;
    expect(decodeEntry(encodeEntry(theme))).toEqual(theme);
    expect(decodeEntry('["views","Views","core",true,"10.3.8",null,null]')).toEqual({ ...theme, machineName: "views", displayName: "Views", extensionType: "module" });
  });
});
