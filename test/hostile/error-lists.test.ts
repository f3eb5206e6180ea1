// Issue 10, item 2: bodies of millions of invalid module entries. Every
// skipped entry used to be kept, with its error, until the answer: a 6 KB gzip
// body of 2,000,000 `{}` with a wrong site token peaked at 1.2 GB before its
// 403, and the answer (and the row a re-sync is answered from) listed every
// error. Now a streamed body's site block is checked as soon as it is read,
// skipped entries past the first 100 are only counted (`errors_total`), and
// what is stored for a re-sync is as small as the answer.
//
// A real server process per dialect: memory is the point, and the answers
// are stored (the site row, its re-sync summary) in each dialect.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { OpenAPIV3_1 } from "openapi-types";
import { describeEachDialect } from "../support/stores";
import { sql } from "../support/sql";
import { allSiteModules, waitFinished } from "../tasks/support";
import { cheaply, emptyEntries, generated, gzipped, hostileServer, moduleList, modulesOpening, post, siteBlock, sizeOf, DRUPAL_INFO, type HostileServer, type Part } from "./support";

const REPORTED = 100;
/** What an entry `{}` is skipped for. */
const EMPTY_ENTRY_ERROR = (index: number) => ({ index, detail: expect.stringMatching(/^machine_name: /) });

describeEachDialect("millions of invalid entries", (dialect) => {
  let h: HostileServer;
  beforeAll(async () => {
    h = await hostileServer(dialect, {}, 6);
  });
  afterAll(() => h.close());

  const sync = (siteIndex: number, body: Uint8Array | AsyncIterable<Uint8Array>, headers: Record<string, string> = {}) =>
    post(h.server, `/api/v1/sites/${h.world.sites[siteIndex]!.id}/modules`, h.world.token, body, headers);

  /** The small answer a body of `total` skipped entries and `valid` synced ones gets. */
  function expectSmallAnswer(res: { status: number; json: any; bytes: number }, total: number, valid = 0) {
    expect({ status: res.status, processed: res.json.modules_processed, listed: res.json.errors?.length, total: res.json.errors_total })
      .toEqual({ status: 200, processed: valid, listed: REPORTED, total });
    expect(res.json.errors.slice(0, 2)).toEqual([EMPTY_ENTRY_ERROR(valid), EMPTY_ENTRY_ERROR(valid + 1)]);
    expect(res.json.errors.at(-1)).toEqual(EMPTY_ENTRY_ERROR(valid + REPORTED - 1));
    expect(res.bytes).toBeLessThan(32 * 1024);
  }

  test("a 6 KB gzip body of 2,000,000 `{}` with a wrong site token: 403 as soon as the site block is read", async () => {
    const site = h.world.sites[0]!;
    const gz = await gzipped([modulesOpening(site, { token: "mss_wrong" }), ...emptyEntries(2_000_000), "]}"], 9);
    expect(gz.byteLength).toBeLessThan(8 * 1024);
    const { value: res } = await cheaply(h, `${dialect}: gzip 2M {} wrong token (${gz.byteLength} bytes)`, () => sync(0, gz, { "content-encoding": "gzip" }));
    expect({ status: res.status, json: res.json }).toEqual({ status: 403, json: expect.objectContaining({ detail: "Invalid site token" }) });
  });

  test("the same with the site block after the 2,000,000 entries: read to the end, still 403 with bounded memory", async () => {
    const site = h.world.sites[0]!;
    const gz = await gzipped([`{"drupal_info":${JSON.stringify(DRUPAL_INFO)},"modules":[`, ...emptyEntries(2_000_000), `],"site":${siteBlock(site, "mss_wrong")}}`], 9);
    const { value: res } = await cheaply(h, `${dialect}: gzip 2M {} site last, wrong token`, () => sync(0, gz, { "content-encoding": "gzip" }));
    expect({ status: res.status, json: res.json }).toEqual({ status: 403, json: expect.objectContaining({ detail: "Invalid site token" }) });
  });

  test("the same with the right site token: a sync of no valid entry, 200 listing the first 100 of 2,000,000 errors", async () => {
    const site = h.world.sites[1]!;
    const gz = await gzipped([modulesOpening(site), ...emptyEntries(2_000_000), "]}"], 9);
    const { value: res } = await cheaply(h, `${dialect}: gzip 2M {} right token`, () => sync(1, gz, { "content-encoding": "gzip" }));
    expectSmallAnswer(res, 2_000_000);
  });

  test("1,000,000 `{}` in a 3 MB body (streamed): a small answer, 100 errors listed, errors_total 1,000,000", async () => {
    const site = h.world.sites[2]!;
    const parts: Part[] = [modulesOpening(site), ...emptyEntries(1_000_000), "]}"];
    expect(sizeOf(parts)).toBeGreaterThan(2.5 * 1024 * 1024);
    const { body } = generated(parts);
    const { value: res } = await cheaply(h, `${dialect}: 3 MB of 1M {}`, () => sync(2, body));
    expectSmallAnswer(res, 1_000_000);
  });

  /** The site's stored re-sync summary: its fingerprint, and the length of what a replay answers from. */
  async function storedRepeat(siteId: number, answerBytes: number) {
    const [row] = await sql<{ fingerprint: string | null; repeat_length: number | string | null }>(h.store,
      `SELECT sync_fingerprint AS fingerprint, length(sync_repeat) AS repeat_length FROM sites WHERE id = ${siteId}`);
    if (process.env.HOSTILE_REPORT === "1") console.log(`[hostile]   stored sync_repeat: ${row!.repeat_length} characters; answer: ${answerBytes} bytes`);
    return { fingerprinted: row!.fingerprint !== null, length: row!.repeat_length === null ? 0 : Number(row!.repeat_length) };
  }

  test("a full sync of 1 valid entry and 650,000 `{}` (under 2 MiB): a small answer, nothing large stored, and the same answer again", async () => {
    const site = h.world.sites[3]!;
    const parts: Part[] = [modulesOpening(site, { fullSync: true }), moduleList(1), ",", ...emptyEntries(650_000), "]}"];
    const bytes = await new Response(generated(parts).body as unknown as ReadableStream).bytes();
    expect(bytes.byteLength).toBeLessThan(2 * 1024 * 1024);
    const { value: res } = await cheaply(h, `${dialect}: full sync of 1 + 650k {}`, () => sync(3, bytes));
    expectSmallAnswer(res, 650_000, 1);
    expect(res.json.modules_created).toBe(1);
    expect((await allSiteModules(h.store, site.id)).map((m) => m.machineName)).toEqual(["mod_1"]);
    expect((await storedRepeat(site.id, res.bytes)).length).toBeLessThan(64 * 1024);

    const { value: again } = await cheaply(h, `${dialect}: again, 1 + 650k {}`, () => sync(3, bytes));
    expect(again.json).toEqual({ ...res.json, modules_created: 0, modules_unchanged: 1, message: again.json.message });
  });

  test("a full sync of 1 valid entry and 300,000 `0` (a whole body, fingerprinted): a small stored re-sync summary, and a replay that says the same", async () => {
    const site = h.world.sites[5]!;
    const parts: Part[] = [modulesOpening(site, { fullSync: true }), moduleList(1), ",", { fill: "0,", bytes: 2 * 299_999 }, "0]}"];
    const bytes = await new Response(generated(parts).body as unknown as ReadableStream).bytes();
    // Under the whole-body size, with its length declared, and no more containers than real entries have: parsed whole.
    expect(bytes.byteLength).toBeLessThan(2 * 1024 * 1024);
    const { value: res } = await cheaply(h, `${dialect}: full sync of 1 + 300k 0`, () => sync(5, bytes));
    expect({ status: res.status, created: res.json.modules_created, listed: res.json.errors?.length, total: res.json.errors_total })
      .toEqual({ status: 200, created: 1, listed: REPORTED, total: 300_000 });
    expect(res.json.errors[0]).toEqual({ index: 1, detail: "Module entry must be a JSON object" });
    expect(res.bytes).toBeLessThan(32 * 1024);
    const stored = await storedRepeat(site.id, res.bytes);
    expect(stored.fingerprinted).toBe(true);
    expect(stored.length).toBeLessThan(64 * 1024);

    // The identical bytes again: answered from that summary, unparsed, with the same errors.
    const { value: again } = await cheaply(h, `${dialect}: replay of 1 + 300k 0`, () => sync(5, bytes));
    expect(again.json).toEqual({ ...res.json, modules_created: 0, modules_unchanged: 1, message: again.json.message });
  });

  /** The completed task's result of the next test, for the one after it. */

  test("a background sync of 600 valid entries and 150,000 `{}`: the completed task lists the first 100 errors", async () => {
    const site = h.world.sites[4]!;
    const parts: Part[] = [modulesOpening(site), moduleList(600), ",", ...emptyEntries(150_000), "]}"];
    const bytes = await new Response(generated(parts).body as unknown as ReadableStream).bytes();
    const { value: res } = await cheaply(h, `${dialect}: background sync of 600 + 150k {}`, () => sync(4, bytes));
    expect({ status: res.status, message: res.json.message }).toEqual({ status: 202, message: "Sync of 600 modules queued for processing" });
    const task = await waitFinished(h.server.base, h.world.token, res.json.task_id, 30_000);
    expect({ status: task.status, created: task.result.modules_created, listed: task.result.errors.length })
      .toEqual({ status: "completed", created: 600, listed: REPORTED });
    expect(task.result.errors.slice(0, 1)).toEqual([EMPTY_ENTRY_ERROR(600)]);
    // Only the first REPORTED are staged with their error; the count travels with the accepted task.
    expect(task.result.errors_total).toBe(150_000);
  });

  test("the OpenAPI document's sync result has errors_total, and lists at most 100 errors", async () => {
    const doc = (await (await fetch(`${h.server.base}/swagger/json`)).json()) as OpenAPIV3_1.Document;
    const ok = doc.paths!["/api/v1/sites/{site_id}/modules"]!.post!.responses!["200"] as OpenAPIV3_1.ResponseObject;
    // The result is a named component: the response refers to it.
    const ref = (ok.content!["application/json"]!.schema as OpenAPIV3_1.ReferenceObject).$ref;
    expect(ref).toBe("#/components/schemas/SyncResult");
    const schema = doc.components!.schemas!.SyncResult!;
    expect(schema.required).toContain("errors_total");
    expect(schema.properties!.errors_total).toMatchObject({ type: "integer" });
    expect(schema.properties!.errors).toMatchObject({ type: "array", maxItems: REPORTED });
  });
});
