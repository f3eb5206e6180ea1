// Issue 10, item 5: a payload past SYNC_BACKGROUND_THRESHOLD (so its entries
// are staged for a background task) with one entry whose machine_name holds
// text no database stores as sent: "a\u0000b" or a lone "\ud800". Staging
// that name answered 500 on Postgres, whole or streamed. Now a skipped
// entry's name is staged only when it could be a stored name: 202, the task
// completes, the entry is listed in its errors, the others are synced.
//
// A real server process per dialect, with its task workers.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { describeEachDialect } from "../support/stores";
import { allSiteModules, waitFinished } from "../tasks/support";
import { cheaply, generated, gzipped, hostileServer, moduleEntry, modulesOpening, post, sizeOf, type HostileServer, type Part } from "./support";

const THRESHOLD = 500;
const VALID = 600;
/** Where the bad entry sits among the valid ones. */
const BAD_AT = 300;
const WHOLE_BODY_BYTES = 2 * 1024 * 1024;

/** Each bad name as JSON text, and as the task's result reports it (storable: NUL and lone surrogates become U+FFFD). */
const BAD_NAMES = [
  { json: "a\\u0000b", reported: "a\uFFFDb" },
  { json: "\\ud800", reported: "\uFFFD" },
];

const bytesOf = async (parts: Part[]) => new Uint8Array(await new Response(generated(parts).body as unknown as ReadableStream).arrayBuffer());

describeEachDialect("unstorable names in a staged payload", (dialect) => {
  let h: HostileServer;
  beforeAll(async () => {
    h = await hostileServer(dialect, { SYNC_BACKGROUND_THRESHOLD: String(THRESHOLD), SYNC_BATCH_SIZE: "100" }, 8);
  });
  afterAll(() => h.close());

  let next = 0;
  const freshSite = () => h.world.sites[next++]!;
  const expectedNames = Array.from({ length: VALID }, (_, i) => `mod_${i + 1}`).sort();

  /** `VALID` valid entries with the bad one at BAD_AT, as the inside of the modules array. */
  function entries(badName: string): string {
    const list = Array.from({ length: VALID }, (_, i) => JSON.stringify(moduleEntry(`mod_${i + 1}`)));
    list.splice(BAD_AT, 0, `{"machine_name":"${badName}","display_name":"Bad","module_type":"custom","enabled":true}`);
    return list.join(",");
  }

  for (const bad of BAD_NAMES) {
    for (const shape of ["whole", "streamed", "gzip"] as const) {
      test(`machine_name "${bad.json}" among ${VALID} valid entries, ${shape}: 202, the task completes, that entry listed, the others synced`, async () => {
        const site = freshSite();
        // Streamed bodies pass the whole-body size with an unknown field ahead of the envelope.
        const padding: Part[] = shape === "whole" ? [] : [`{"padding":"`, { fill: "p", bytes: WHOLE_BODY_BYTES }, `",`];
        const opening = modulesOpening(site);
        const parts: Part[] = [...padding, shape === "whole" ? opening : opening.slice(1), entries(bad.json), "]}"];
        if (shape === "whole") expect(sizeOf(parts)).toBeLessThan(WHOLE_BODY_BYTES);
        // Whole: sent with its Content-Length; streamed: chunked; gzip: unpacking past the whole-body size.
        const body = shape === "gzip" ? await gzipped(parts) : shape === "streamed" ? generated(parts).body : await bytesOf(parts);
        const { value: res } = await cheaply(h, `${dialect}: "${bad.json}" staged, ${shape}`,
          () => post(h.server, `/api/v1/sites/${site.id}/modules`, h.world.token, body, shape === "gzip" ? { "content-encoding": "gzip" } : {}));
        expect({ status: res.status, message: res.json.message }).toEqual({ status: 202, message: `Sync of ${VALID} modules queued for processing` });

        const task = await waitFinished(h.server.base, h.world.token, res.json.task_id, 30_000);
        expect({ status: task.status, created: task.result?.modules_created, errors: task.result?.errors, total: task.result?.errors_total }).toEqual({
          status: "completed", created: VALID, total: 1,
          errors: [{ index: BAD_AT, machine_name: bad.reported, detail: expect.stringMatching(/^machine_name: /) }],
        });
        expect((await allSiteModules(h.store, site.id)).map((m) => m.machineName)).toEqual(expectedNames);
      });
    }
  }
});
