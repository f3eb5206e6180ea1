// Requests the way a client sends them, to an app in this process
// (app.handle) or to a server process (its base URL), and what every error
// answer must look like.
import { expect } from "bun:test";
import type { App } from "../../src/app";

/** An app driven in-process, or the base URL (`http://127.0.0.1:PORT`) of a server process. */
export type Target = App | string;

export interface SendInit {
  /** Bearer token; null sends no Authorization header. */
  token: string | null;
  /** Sent as JSON (with content-type application/json unless headers say otherwise). */
  body?: unknown;
  /** Sent as is, instead of `body`. */
  raw?: RequestInit["body"];
  headers?: Record<string, string>;
}

/** One request to `to`. */
export function send(to: Target, method: string, path: string, init: SendInit): Promise<Response> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.token !== null) headers.authorization = `Bearer ${init.token}`;
  let body: RequestInit["body"] = init.raw;
  if (init.body !== undefined) {
    body = JSON.stringify(init.body);
    headers["content-type"] ??= "application/json";
  }
  if (typeof to === "string") return fetch(`${to}${path}`, { method, headers, body });
  return to.handle(new Request(`http://localhost${path}`, { method, headers, body }));
}

/** POST /api/v1/sites/:site_id/modules. */
export function postSync(to: Target, siteId: number | string, init: SendInit): Promise<Response> {
  return send(to, "POST", `/api/v1/sites/${siteId}/modules`, init);
}

/** An error answer (RFC 9457): `detail`, a stable `code`, and for a 400 naming fields, `errors`. */
export interface ErrorBody {
  type: string;
  title: string;
  status: number;
  code: string;
  detail: string;
  errors?: { loc: unknown[]; msg: string }[];
}

/**
 * Every error answers `application/problem+json` (type, title, status,
 * detail, code) with a request id. Checks that, the status, and the detail
 * when given; returns the parsed body.
 */
export async function expectError(res: Response, status: number, detail?: string | RegExp): Promise<ErrorBody> {
  const text = await res.text();
  expect({ status: res.status, body: text }).toEqual({ status, body: expect.any(String) });
  expect(res.headers.get("content-type")).toContain("application/problem+json");
  expect(res.headers.get("x-request-id")).toBeTruthy();
  const body = JSON.parse(text) as ErrorBody;
  expect(body).toMatchObject({ type: `urn:modsync:problem:${body.code}`, title: expect.any(String), status });
  expect(body.code).toMatch(/^[a-z_]+$/);
  expect(typeof body.detail).toBe("string");
  expect(body.detail.length).toBeGreaterThan(0);
  if (typeof detail === "string") expect(body.detail).toBe(detail);
  else if (detail) expect(body.detail).toMatch(detail);
  return body;
}
