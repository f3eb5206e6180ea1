// Issue 10, items 4 and 6: a streamed sync body (past the 2 MiB read whole, or
// gzip unpacking past it) with one enormous field. Each captured value was
// held whole, whatever its size: a 204 KB gzip body unpacking to hundreds of
// MB in one field took 790 MB. And the top-level fields were gathered in a
// plain object, so an envelope given only as `"__proto__": {...}` became its
// prototype and was accepted over 2 MiB, though refused under it.
//
// Now a streamed body holds no unknown top-level field (scanned past), no
// known field past 64 KiB (400 naming it) and no module entry past 64 KiB
// (skipped as invalid, the others synced); "__proto__" is just a name, so
// both paths answer the same 400.
//
// A real server process per dialect: memory is the point, and the entries
// that get through are stored.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { describeEachDialect } from "../support/stores";
import { count } from "../support/sql";
import { allSiteModules } from "../tasks/support";
import {
  cheaply, generated, gzipped, hostileServer, moduleEntry, moduleList, modulesOpening, post, siteBlock, sizeOf, DRUPAL_INFO,
  type Body, type HostileServer, type Part,
} from "./support";

const MiB = 1024 * 1024;
const WHOLE_BODY_BYTES = 2 * MiB;
const OVERSIZED_DETAIL = "Module entry larger than 65536 characters";

describeEachDialect("one enormous field in a streamed body", (dialect) => {
  let h: HostileServer;
  beforeAll(async () => {
    h = await hostileServer(dialect, {}, 10);
  });
  afterAll(() => h.close());

  let next = 0;
  /** A site of its own per test: what it holds afterwards is that test's doing. */
  const freshSite = () => h.world.sites[next++]!;
  const sync = (siteId: number, body: Body, gzip = false) =>
    post(h.server, `/api/v1/sites/${siteId}/modules`, h.world.token, body, gzip ? { "content-encoding": "gzip" } : {});
  const storedNames = async (siteId: number) => (await allSiteModules(h.store, siteId)).map((m) => m.machineName);
  const names = (count: number, prefix = "mod") => Array.from({ length: count }, (_, i) => `${prefix}_${i + 1}`).sort();

  test("an unknown top-level field holding a 200 MB string, streamed: scanned past, never held; the sync goes through", async () => {
    const site = freshSite();
    const parts: Part[] = [`{"padding":"`, { fill: "p", bytes: 200 * MiB }, `",`, modulesOpening(site).slice(1), moduleList(20), "]}"];
    const { body, sent } = generated(parts);
    const { value: res } = await cheaply(h, `${dialect}: 200 MB unknown field, streamed`, () => sync(site.id, body));
    expect({ status: res.status, created: res.json.modules_created, errors: res.json.errors }).toEqual({ status: 200, created: 20, errors: [] });
    expect(sent()).toBe(sizeOf(parts));
    expect(await storedNames(site.id)).toEqual(names(20));
  });

  test("a 300 KB gzip body unpacking to 300 MB in one unknown field: the sync goes through in bounded memory", async () => {
    const site = freshSite();
    const gz = await gzipped([modulesOpening(site), moduleList(20), `],"padding":"`, { fill: "p", bytes: 300 * MiB }, `"}`]);
    expect(gz.byteLength).toBeLessThan(400 * 1024);
    const { value: res } = await cheaply(h, `${dialect}: gzip ${Math.round(gz.byteLength / 1024)} KB -> 300 MB unknown field`, () => sync(site.id, gz, true));
    expect({ status: res.status, created: res.json.modules_created, errors: res.json.errors }).toEqual({ status: 200, created: 20, errors: [] });
  });

  test("a site block past 64 KiB (a 3 MB name), streamed: 400 naming body.site, nothing stored", async () => {
    const site = freshSite();
    const { body } = generated([`{"site":{"url":"${site.url}","token":"${site.token}","name":"`, { fill: "n", bytes: 3 * MiB }, `"},`,
      `"drupal_info":${JSON.stringify(DRUPAL_INFO)},"modules":[`, moduleList(20), "]}"]);
    const { value: res } = await cheaply(h, `${dialect}: 3 MB site block`, () => sync(site.id, body));
    expect({ status: res.status, detail: res.json.detail, loc: res.json.errors?.[0]?.loc }).toEqual({ status: 400, detail: "Invalid sync payload", loc: ["body", "site"] });
    expect(await storedNames(site.id)).toEqual([]);
  });

  test("drupal_info unpacking to 300 MB from gzip: 400 naming body.drupal_info, in bounded memory", async () => {
    const site = freshSite();
    const gz = await gzipped([`{"site":${siteBlock(site)},"drupal_info":{"core_version":"10.3.8","php_version":"8.3.2","ip_address":"192.0.2.10","x":"`,
      { fill: "x", bytes: 300 * MiB }, `"},"modules":[`, moduleList(20), "]}"]);
    const { value: res } = await cheaply(h, `${dialect}: gzip -> 300 MB drupal_info`, () => sync(site.id, gz, true));
    expect({ status: res.status, detail: res.json.detail, loc: res.json.errors?.[0]?.loc }).toEqual({ status: 400, detail: "Invalid sync payload", loc: ["body", "drupal_info"] });
    expect(await storedNames(site.id)).toEqual([]);
  });

  test("one module entry past 64 KiB (a 3 MB description), streamed: that entry is skipped with its index, the others synced", async () => {
    const site = freshSite();
    const huge = `${JSON.stringify(moduleEntry("huge")).slice(0, -1)},"description":"`;
    const { body } = generated([modulesOpening(site), moduleList(10, "before"), ",", huge, { fill: "d", bytes: 3 * MiB }, `"},`, moduleList(10, "after"), "]}"]);
    const { value: res } = await cheaply(h, `${dialect}: 3 MB module entry`, () => sync(site.id, body));
    expect({ status: res.status, created: res.json.modules_created, errors: res.json.errors, total: res.json.errors_total })
      .toEqual({ status: 200, created: 20, errors: [{ index: 10, detail: OVERSIZED_DETAIL }], total: 1 });
    expect(await storedNames(site.id)).toEqual([...names(10, "after"), ...names(10, "before")].sort());
  });

  test("one module entry unpacking to 300 MB from gzip: skipped with its index, the others synced, in bounded memory", async () => {
    const site = freshSite();
    const gz = await gzipped([modulesOpening(site), moduleList(10, "before"), `,{"machine_name":"huge","display_name":"`,
      { fill: "h", bytes: 300 * MiB }, `","module_type":"custom","enabled":true},`, moduleList(10, "after"), "]}"]);
    const { value: res } = await cheaply(h, `${dialect}: gzip -> 300 MB module entry`, () => sync(site.id, gz, true));
    expect({ status: res.status, created: res.json.modules_created, errors: res.json.errors, total: res.json.errors_total })
      .toEqual({ status: 200, created: 20, errors: [{ index: 10, detail: OVERSIZED_DETAIL }], total: 1 });
    expect(await storedNames(site.id)).toEqual([...names(10, "after"), ...names(10, "before")].sort());
  });

  /** A body whose whole envelope is given as "__proto__", `modules` valid entries in it. */
  const protoBody = (site: (typeof h.world.sites)[number], modules: number) =>
    `{"__proto__":${modulesOpening(site)}${moduleList(modules)}]}}`;

  test("an envelope given only as \"__proto__\": the same 400 read whole (under 2 MiB) and streamed (over it), nothing staged or stored", async () => {
    const site = freshSite();
    const small = protoBody(site, 20);
    const large = protoBody(site, 20_000);
    expect(small.length).toBeLessThan(WHOLE_BODY_BYTES);
    expect(large.length).toBeGreaterThan(WHOLE_BODY_BYTES);
    const { value: whole } = await cheaply(h, `${dialect}: __proto__ envelope, whole`, () => sync(site.id, small));
    const { value: streamed } = await cheaply(h, `${dialect}: __proto__ envelope, streamed`, () => sync(site.id, generated([large]).body));
    expect({ status: whole.status, detail: whole.json.detail }).toEqual({ status: 400, detail: "Invalid sync payload" });
    expect({ status: streamed.status, json: streamed.json }).toEqual({ status: 400, json: whole.json });
    expect(await storedNames(site.id)).toEqual([]);
    expect(await count(h.store, `SELECT count(*) AS n FROM tasks WHERE site_id = ${site.id}`)).toBe(0);
  });
});
