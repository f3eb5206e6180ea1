// The error catalogue: every error a client can be answered with, in one
// place, each carrying its HTTP status and a stable machine-readable `code`.
// Services throw them; the error plugin (http/errors.ts) turns them into
// RFC 9457 `application/problem+json` answers whose `detail` is the wording below.

export interface FieldError {
  loc: (string | number)[];
  msg: string;
}

/** Stable codes: clients branch on these, never on the wording of `detail`. */
export type ErrorCode =
  | "invalid_request" | "invalid_json" | "invalid_idempotency_key" | "validation_failed" | "invalid_query" | "site_url_mismatch" | "full_sync_without_entries"
  | "not_authenticated" | "invalid_credentials"
  | "forbidden" | "not_a_member" | "invalid_site_token" | "role_required"
  | "not_found" | "site_not_found" | "task_not_found" | "organization_not_found"
  | "conflict" | "idempotency_key_in_use"
  | "body_too_large" | "unsupported_encoding" | "idempotency_key_mismatch"
  | "rate_limited" | "too_many_failures" | "site_busy" | "client_closed" | "internal_error";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly code: ErrorCode,
    readonly extra: { errors?: FieldError[]; headers?: Record<string, string> } = {},
  ) {
    super(detail);
  }
}

export const badRequest = (detail: string, errors?: FieldError[], code: ErrorCode = errors ? "validation_failed" : "invalid_request") =>
  new ApiError(400, detail, code, errors ? { errors } : {});
export const unauthorized = (detail: string, code: ErrorCode = "invalid_credentials") =>
  new ApiError(401, detail, code, { headers: { "WWW-Authenticate": "Bearer" } });
export const forbidden = (detail: string, code: ErrorCode = "forbidden") => new ApiError(403, detail, code);
export const notFound = (detail: string, code: ErrorCode = "not_found") => new ApiError(404, detail, code);
export const conflict = (detail: string, code: ErrorCode = "conflict") => new ApiError(409, detail, code);

/** 400 for a body that is not JSON (or not the JSON its route reads), naming what is wrong. */
export const invalidJson = (msg: string, detail = "Request body is not valid JSON") => badRequest(detail, [{ loc: ["body"], msg }], "invalid_json");

export const TOO_LARGE_DETAIL = "Request body too large";
/** 413: the body (declared, or as read after decompression) passed the route's limit. */
export const tooLarge = (maxBytes?: number) =>
  new ApiError(413, maxBytes === undefined ? TOO_LARGE_DETAIL : `Request body exceeds ${maxBytes} bytes`, "body_too_large");

export const unsupportedEncoding = (encoding: string) => new ApiError(415, `Unsupported Content-Encoding: ${encoding}`, "unsupported_encoding");

/**
 * 422: a full sync removes every module it does not name, so one naming no
 * valid module would empty the site: refused, whatever the intent.
 */
export const fullSyncWithoutEntries = (skipped: number) =>
  new ApiError(422, `full_sync is true but no module entry is valid (${skipped} skipped): it would remove every module of the site. Send valid entries, or full_sync: false`, "full_sync_without_entries", {
    errors: [{ loc: ["body", "modules"], msg: "A full sync needs at least one valid module entry" }],
  });

/** 403 for an action only an organization's admins may take. */
export const adminOnly = (action: string) =>
  forbidden(`Only an admin of the site's organization can ${action}; your role is member`, "role_required");

/** The spec's 429 wording; the caller adds the rate-limit headers. */
export const rateLimited = () => new ApiError(429, "Rate limit exceeded. Please try again later.", "rate_limited");

/** 429 once a user's refused syncs are past FAILED_ATTEMPTS_PER_HOUR (ratelimit/failures.ts). */
export const tooManyFailures = (waitMs: number) =>
  new ApiError(429, "Too many refused syncs. Please check the request and try again later.", "too_many_failures", {
    headers: { "Retry-After": String(Math.max(1, Math.ceil(waitMs / 1000))) },
  });

/** 503 while a site's earlier background syncs are still being applied. */
export const siteBusy = (retryAfterSeconds: number) =>
  new ApiError(503, "This site's earlier background syncs are still being applied; retry later", "site_busy", {
    headers: { "Retry-After": String(retryAfterSeconds) },
  });
