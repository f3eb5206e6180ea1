// An unexpected failure answers 500 {"detail": "Internal server error"},
// leaks nothing, is logged with its stack and request id, and the app keeps serving.
// Each test breaks something: each has an app and a database of its own.
import { expect, test } from "bun:test";
import type { Logger } from "../../src/log";
import { createHarness, mod, payload, type Harness } from "../support/harness";
import { expectError } from "../support/http";

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
  raw.exec("ALTER TABLE site_modules RENAME TO site_modules_away");
  const res = await h.sync(body);
  const requestId = res.headers.get("x-request-id");
  const text = await res.clone().text();
  expect(await expectError(res, 500)).toEqual({ detail: "Internal server error" });
  expect(text).not.toContain("site_modules");
  expect(logged).toHaveLength(1);
  expect(logged[0]!.fields).toMatchObject({ request_id: requestId, path: `/api/v1/sites/${h.world.site.id}/modules` });
  expect(String(logged[0]!.fields!.stack)).toContain("site_modules");

  raw.exec("ALTER TABLE site_modules_away RENAME TO site_modules");
  expect((await h.sync(body)).status).toBe(200);
  expect((await h.request("GET", "/health", { token: null })).status).toBe(200);
}));

test("unknown routes answer JSON 404", () => withHarness(async (h) => {
  expect(await expectError(await h.request("GET", "/nope", { token: null }), 404)).toEqual({ detail: "Not found" });
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
