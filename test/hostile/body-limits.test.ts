// Issue 10, item 3: bodies sent chunked, without Content-Length, far past a
// route's limit. They used to be read whole before their size was checked
// (hundreds of MB held for a 413). Now reading stops as soon as the body
// passes the limit: 64 KiB on the small JSON routes, MAX_BODY_MB on the sync
// route.
//
// A real server process: memory is the point. SQLite only: these bodies are
// refused before anything is stored.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cheaply, emptyEntries, generated, hostileServer, modulesOpening, post, type Answer, type HostileServer, type Part } from "./support";

const MiB = 1024 * 1024;
/** What a client could send: far more than the server should ever read. */
const HUGE = 512 * MiB;
/**
 * How far past the limit a client may get before the 413 reaches it: what
 * the sockets and the server's read-ahead buffer hold, never the whole body.
 * The client holds the rest back from HELD_AT on until the answer comes
 * (generated's `hold`): a server that kept reading instead of answering
 * gets it all after HOLD_WAIT_MS, and fails the test.
 */
const SLACK = 32 * MiB;
const HELD_AT = 16 * MiB;

/**
 * POSTs `parts` to `path`, held at HELD_AT until the answer comes, watched
 * by cheaply(): the answer, and how many bytes the client had sent by then.
 */
async function sendHeld(h: HostileServer, label: string, path: string, parts: Part[]): Promise<{ res: Answer; sent: number }> {
  let answered!: () => void;
  const until = new Promise<void>((resolve) => (answered = resolve));
  const { body, sent } = generated(parts, { at: HELD_AT, until });
  const { value: res } = await cheaply(h, label, () => post(h.server, path, h.world.token, body).finally(answered));
  return { res, sent: sent() };
}

describe("chunked bodies past the limit [sqlite]", () => {
  let h: HostileServer;
  beforeAll(async () => {
    h = await hostileServer("sqlite", { MAX_BODY_MB: "1" });
  });
  afterAll(() => h.close());

  test("POST /api/v1/sites, 512 MB chunked: 413 as soon as it passes 64 KiB, the rest never read", async () => {
    const parts: Part[] = [`{"organization_id":${h.world.orgId},"url":"https://chunked.example","name":"`, { fill: "n", bytes: HUGE }, `"}`];
    const { res, sent } = await sendHeld(h, "sites route, 512 MB chunked", "/api/v1/sites", parts);
    expect({ status: res.status, json: res.json }).toEqual({ status: 413, json: expect.objectContaining({ detail: "Request body exceeds 65536 bytes" }) });
    if (process.env.HOSTILE_REPORT === "1") console.log(`[hostile]   client had sent ${(sent / MiB).toFixed(1)} MiB`);
    expect(sent).toBeLessThan(SLACK);
  });

  test("the sync route, 512 MB chunked with MAX_BODY_MB=1: 413 as soon as it passes 1 MiB, the rest never read", async () => {
    const site = h.world.sites[0]!;
    const parts: Part[] = [modulesOpening(site), ...emptyEntries(Math.floor(HUGE / 3)), "]}"];
    const { res, sent } = await sendHeld(h, "sync route, 512 MB chunked, MAX_BODY_MB=1", `/api/v1/sites/${site.id}/modules`, parts);
    expect({ status: res.status, json: res.json }).toEqual({ status: 413, json: expect.objectContaining({ detail: `Request body exceeds ${MiB} bytes` }) });
    if (process.env.HOSTILE_REPORT === "1") console.log(`[hostile]   client had sent ${(sent / MiB).toFixed(1)} MiB`);
    expect(sent).toBeLessThan(SLACK);
  });
});
