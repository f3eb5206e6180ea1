// Issue 10, item 8 (who spends the quota): test/ratelimit/ratelimit-api.test.ts
// covers syncs refused for their body's shape (400), site token (403), URL
// (400) or site (404). This adds the refusals a hostile body gets for its
// size or encoding: 413 (declared, or found past MAX_BODY_MB while reading
// a chunked or gzip body) and 415. Each gives the site's token back and
// counts as one of the user's failed attempts; once those are spent, the
// user's next sync is a 429 before a byte of its body is read.
//
// In-process (app.handle) with clocks of the test's own: nothing here
// depends on a server process or a dialect.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createApp } from "../../src/app";
import { MemoryRateLimiter } from "../../src/ratelimit/bucket";
import { FailedAttempts } from "../../src/ratelimit/failures";
import { createHarness, mod, payload, testConfig, type Harness } from "../support/harness";

const LIMIT = 4;
/** Four refusals below: the fourth finds them spent (it is still answered for what it is) and blocks what follows. */
const FAILURES = 3;
const MAX_BODY = 1024 * 1024;
const encoder = new TextEncoder();

describe("hostile bodies and the quota", () => {
  let h: Harness;
  let app: ReturnType<typeof createApp>;
  beforeAll(async () => {
    h = await createHarness("sqlite");
    const now = () => Date.parse("2026-11-29T12:00:00Z");
    app = createApp({
      config: testConfig({ rateLimitPerHour: LIMIT, maxBodyBytes: MAX_BODY }),
      store: h.store,
      limiter: new MemoryRateLimiter(LIMIT, now),
      failures: new FailedAttempts(new MemoryRateLimiter(FAILURES, now), now),
    });
  });
  afterAll(() => h.close());

  test("413 (declared, chunked, gzip) and 415 give the site's token back and each spend one of the user's failed attempts", async () => {
    const site = await h.sites.create({ organizationId: h.world.orgId, url: "https://quota.example", name: "Quota" });
    const member = await h.accounts.createUser({ email: "hostile@agency-one.test", organizationId: h.world.orgId, role: "member" });
    let read = false;
    const send = (body: RequestInit["body"], headers: Record<string, string> = {}) =>
      app.handle(new Request(`http://localhost/api/v1/sites/${site.id}/modules`, {
        method: "POST", headers: { authorization: `Bearer ${member.token}`, "content-type": "application/json", ...headers }, body,
      }));
    const good = JSON.stringify(payload(site, [mod("views")]));
    const chunked = (bytes: number) => new ReadableStream<Uint8Array>({
      pull(controller) {
        read = true;
        controller.enqueue(encoder.encode(" ".repeat(64 * 1024)));
        if ((bytes -= 64 * 1024) <= 0) controller.close();
      },
    }, { highWaterMark: 0 });

    const refusals: [string, Response, number][] = [
      ["declared past MAX_BODY_MB", await send(good, { "content-length": String(MAX_BODY + 1) }), 413],
      ["chunked past MAX_BODY_MB", await send(chunked(4 * MAX_BODY)), 413],
      ["gzip unpacking past MAX_BODY_MB", await send(Bun.gzipSync(encoder.encode(" ".repeat(4 * MAX_BODY))), { "content-encoding": "gzip" }), 413],
      ["unsupported encoding", await send(good, { "content-encoding": "br" }), 415],
    ];
    for (const [what, res, status] of refusals) {
      expect({ what, status: res.status, remaining: res.headers.get("x-ratelimit-remaining") }).toEqual({ what, status, remaining: String(LIMIT) });
    }

    // The user's failed attempts are spent: refused before the body is read.
    read = false;
    const blocked = await send(chunked(64 * 1024));
    expect({ status: blocked.status, read, body: await blocked.json() })
      .toEqual({ status: 429, read: false, body: expect.objectContaining({ detail: "Too many refused syncs. Please check the request and try again later." }) });
    // The site's quota is whole: another member syncs it four times.
    const statuses: number[] = [];
    for (let i = 0; i < LIMIT + 1; i++) {
      const res = await app.handle(new Request(`http://localhost/api/v1/sites/${site.id}/modules`, {
        method: "POST", headers: { authorization: `Bearer ${h.world.token}` }, body: good,
      }));
      statuses.push(res.status);
    }
    expect(statuses).toEqual([200, 200, 200, 200, 429]);
  });
});
