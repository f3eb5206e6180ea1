// An unexpected failure answers 500 {"detail": "Internal server error"},
// leaks nothing, is logged with its stack and request id, and the app keeps serving.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createApp } from "../../src/app";
import { silentLogger, type Logger } from "../../src/log";
import type { RateLimiter } from "../../src/ratelimit/bucket";
import { createHarness, mod, payload, testConfig, type Harness } from "../support/harness";
import { until } from "../support/until";

let h: Harness;
const logged: { msg: string; fields?: Record<string, unknown> }[] = [];
const logger: Logger = { debug() {}, info() {}, warn() {}, error: (msg, fields) => void logged.push({ msg, fields }) };

beforeAll(async () => {
  h = await createHarness("sqlite", { logger });
});
afterAll(() => h.close());

test("a database failure mid-request is a clean 500 with a request id, and the app keeps serving", async () => {
  const body = payload(h.world.site, [mod("views")]);
  // Break one table underneath the running app: a real failure, not a mock.
  const raw = (h.store as unknown as { raw: import("bun:sqlite").Database }).raw;
  raw.exec("ALTER TABLE site_modules RENAME TO site_modules_away");
  const res = await h.sync(body);
  expect(res.status).toBe(500);
  const text = await res.text();
  expect(JSON.parse(text)).toEqual({ detail: "Internal server error" });
  expect(text).not.toContain("site_modules");
  const requestId = res.headers.get("x-request-id");
  expect(requestId).toBeTruthy();
  expect(logged).toHaveLength(1);
  expect(logged[0]!.fields).toMatchObject({ request_id: requestId, path: `/api/v1/sites/${h.world.site.id}/modules` });
  expect(String(logged[0]!.fields!.stack)).toContain("site_modules");

  raw.exec("ALTER TABLE site_modules_away RENAME TO site_modules");
  expect((await h.sync(body)).status).toBe(200);
  expect((await h.request("GET", "/health", { token: null })).status).toBe(200);
});

test("unknown routes answer JSON 404", async () => {
  const res = await h.request("GET", "/nope", { token: null });
  expect(res.status).toBe(404);
  expect(await res.json()).toEqual({ detail: "Not found" });
});

test("a client that hangs up mid-body is logged at info as a disconnect, with its request id and path, not as an unhandled error", async () => {
  const infos: { msg: string; fields?: Record<string, unknown> }[] = [];
  const errors: string[] = [];
  const capture: Logger = { ...silentLogger, info: (msg, fields) => void infos.push({ msg, fields }), error: (msg) => void errors.push(msg) };
  // The rate-limit take comes right before the body is read: once it is asked, the request is in hand.
  let inHand!: () => void;
  const reached = new Promise<void>((resolve) => (inHand = resolve));
  const limiter: RateLimiter = {
    async take() {
      inHand();
      return { allowed: true, limit: 1000, remaining: 999, msUntilFull: 0, msUntilToken: 0, now: Date.now() };
    },
    async refund() {
      return { allowed: true, limit: 1000, remaining: 1000, msUntilFull: 0, msUntilToken: 0, now: Date.now() };
    },
  };
  const app = createApp({ config: testConfig(), store: h.store, logger: capture, limiter }).listen({ port: 0, hostname: "127.0.0.1" });
  try {
    const path = `/api/v1/sites/${h.world.site.id}/modules`;
    const socket = await Bun.connect({ hostname: "127.0.0.1", port: app.server!.port!, socket: { data() {} } });
    socket.write([
      `POST ${path} HTTP/1.1`, "Host: 127.0.0.1", `Authorization: Bearer ${h.world.token}`, "X-Request-Id: hangs-up-1",
      "Content-Type: application/json", "Content-Length: 100000", "", '{"site":',
    ].join("\r\n"));
    await reached;
    socket.terminate();

    const disconnect = () => infos.find((l) => l.msg === "client disconnected");
    await until(() => errors.length > 0 || disconnect(), 5000, "the hang-up to be logged");
    expect(errors).toEqual([]);
    expect(disconnect()?.fields).toMatchObject({ request_id: "hangs-up-1", method: "POST", path });
  } finally {
    await app.stop();
  }
});

test("/ready answers 503 naming the database when it does not answer", async () => {
  expect((await h.request("GET", "/ready", { token: null })).status).toBe(200);
  await h.store.close();
  const res = await h.request("GET", "/ready", { token: null });
  expect(res.status).toBe(503);
  const json = await res.json();
  expect(json.status).toBe("unavailable");
  expect(json.checks.database).not.toBe("ok");
});
