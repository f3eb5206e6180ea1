// The error catalogue: every error a client can be answered with, in one
// place, each carrying its HTTP status. Services throw them; the error plugin
// (http/errors.ts) turns them into `{"detail": ...}` responses.

export interface FieldError {
  loc: (string | number)[];
  msg: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly extra: { errors?: FieldError[]; headers?: Record<string, string> } = {},
  ) {
    super(detail);
  }
}

export const badRequest = (detail: string, errors?: FieldError[]) => new ApiError(400, detail, errors ? { errors } : {});
export const unauthorized = (detail: string) =>
  new ApiError(401, detail, { headers: { "WWW-Authenticate": "Bearer" } });
export const forbidden = (detail: string) => new ApiError(403, detail);
export const notFound = (detail: string) => new ApiError(404, detail);
export const conflict = (detail: string) => new ApiError(409, detail);

/** 400 for a body that is not JSON (or not the JSON its route reads), naming what is wrong. */
export const invalidJson = (msg: string, detail = "Request body is not valid JSON") => badRequest(detail, [{ loc: ["body"], msg }]);

export const TOO_LARGE_DETAIL = "Request body too large";
/** 413: the body (declared, or as read after decompression) passed the route's limit. */
export const tooLarge = (maxBytes?: number) =>
  new ApiError(413, maxBytes === undefined ? TOO_LARGE_DETAIL : `Request body exceeds ${maxBytes} bytes`);

export const unsupportedEncoding = (encoding: string) => new ApiError(415, `Unsupported Content-Encoding: ${encoding}`);

/** The spec's 429 wording; the caller adds the rate-limit headers. */
export const rateLimited = () => new ApiError(429, "Rate limit exceeded. Please try again later.");

/** 429 once a user's refused syncs are past FAILED_ATTEMPTS_PER_HOUR (ratelimit/failures.ts). */
export const tooManyFailures = (waitMs: number) =>
  new ApiError(429, "Too many refused syncs. Please check the request and try again later.", {
    headers: { "Retry-After": String(Math.max(1, Math.ceil(waitMs / 1000))) },
  });

/** 503 while a site's earlier background syncs are still being applied. */
export const siteBusy = (retryAfterSeconds: number) =>
  new ApiError(503, "This site's earlier background syncs are still being applied; retry later", {
    headers: { "Retry-After": String(retryAfterSeconds) },
  });
