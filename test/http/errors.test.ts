// An unexpected failure answers 500 {"detail": "Internal server error"},
// leaks nothing, is logged with its stack and request id, and the app keeps serving.
// Each test breaks something: each has an app and a database of its own.
import { expect, test } from "bun:test";
import { createApp } from "../../src/app";
import { silentLogger, type Logger } from "../../src/log";
import type { RateLimiter } from "../../src/ratelimit/bucket";
import { createHarness, mod, payload, testConfig, type Harness } from "../support/harness";
import { expectError } from "../support/http";
import { until } from "../support/until";

/** A SQLite harness whose logged errors are kept, for the length of `work`. */
async function withHarness(work: (h: Harness, logged: { msg: string; fields?: Record<string, unknown> }[]) => Promise<void>): Promise<void> {
  const logged: { msg: string; fields?: Record<string, unknown> }[] = [];
  const logger: Logger = { debug() {}, info() {}, warn() {}, error: (msg, fields) => void logged.push({ msg, fields }) };
  const h = await createHarness("sqlite", { logger });
  try {
    await work(h, logged);
  } finally {
    await h.close();
  }
}

test("a database failure mid-request is a clean 500 with a request id, and the app keeps serving", () => withHarness(async (h, logged) => {
  const body = payload(h.world.site, [mod("views")]);
  // Break one table underneath the running app: a real failure, not a mock.
  const raw = (h.store as unknown as { raw: import("bun:sqlite").Database }).raw;
  raw.exec("ALTER TABLE site_module_states RENAME TO site_module_states_away");
  const res = await h.sync(body);
  const requestId = res.headers.get("x-request-id");
  const text = await res.clone().text();
  expect(await expectError(res, 500)).toEqual({ type: "urn:modsync:problem:internal_error", title: "Internal Server Error", status: 500, code: "internal_error", detail: "Internal server error" });
  expect(text).not.toContain("site_module_states");
  expect(logged).toHaveLength(1);
  expect(logged[0]!.fields).toMatchObject({ request_id: requestId, path: `/api/v1/sites/${h.world.site.id}/modules` });
  expect(String(logged[0]!.fields!.stack)).toContain("site_module_states");

  raw.exec("ALTER TABLE site_module_states_away RENAME TO site_module_states");
  expect((await h.sync(body)).status).toBe(200);
  expect((await h.request("GET", "/health", { token: null })).status).toBe(200);
}));

test("unknown routes answer JSON 404", () => withHarness(async (h) => {
  expect(await expectError(await h.request("GET", "/nope", { token: null }), 404)).toEqual({ type: "urn:modsync:problem:not_found", title: "Not Found", status: 404, code: "not_found", detail: "Not found" });
}));

test("a client that hangs up mid-body is logged at info as a disconnect, with its request id and path, not as an unhandled error", () => withHarness(async (h) => {
  const infos: { msg: string; fields?: Record<string, unknown> }[] = [];
  const errors: string[] = [];
  const capture: Logger = { ...silentLogger, info: (msg, fields) => void infos.push({ msg, fields }), error: (msg) => void errors.push(msg) };
  // The rate-limit take comes right before the body is read: once it is asked, the request is in hand.
  let inHand!: () => void;
  const reached = new Promise<void>((resolve) => (inHand = resolve));
  const decision = { allowed: true, limit: 1000, remaining: 999, msUntilFull: 0, msUntilToken: 0 };
  const limiter: RateLimiter = {
    async take() {
      inHand();
      return { ...decision, now: Date.now() };
    },
    async refund() {
      return { ...decision, now: Date.now() };
    },
    async forget() {},
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
}));

test("/ready answers 503 naming the database when it does not answer", () => withHarness(async (h) => {
  expect((await h.request("GET", "/ready", { token: null })).status).toBe(200);
  await h.store.close();
  const res = await h.request("GET", "/ready", { token: null });
  expect(res.status).toBe(503);
  const json = await res.json();
  expect(json.status).toBe("unavailable");
  expect(json.checks.database).not.toBe("ok");
}));
