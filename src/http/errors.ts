// Cross-cutting: a request id on every answer, and every error mapped to an
// RFC 9457 problem (`application/problem+json`: type, title, status, detail,
// code, and errors where fields are at fault). Unexpected failures answer 500 with nothing leaked, are
// logged with their stack and the request id, and the process keeps serving.
// A client that hung up is no failure of ours: logged at info.
import { Elysia } from "elysia";
import { ApiError, TOO_LARGE_DETAIL, type ErrorCode, type FieldError } from "../errors";
import { problem, PROBLEM_JSON } from "./problem";
import type { Logger } from "../log";

const requestIds = new WeakMap<Request, string>();
/** nginx's "client closed request": no one reads it, but metrics tell these from 500s. */
const CLIENT_CLOSED = 499;
const CLIENT_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Elysia's own validation errors, reduced to `{loc, msg}` pairs. */
function validationErrors(error: unknown, where: string): FieldError[] {
  const all = (error as { all?: { path?: string; message?: string; summary?: string }[] }).all ?? [];
  return all.slice(0, 20).map((e) => ({
    loc: [where, ...(e.path ?? "").split("/").filter(Boolean)],
    msg: e.summary ?? e.message ?? "Invalid value",
  }));
}

/** Told of every answer the error plugin gives (the metrics count them). */
export type AnswerObserver = (request: Request, route: string | undefined, status: number | string | undefined) => void;

export function errorHandling(logger: Logger, observe?: AnswerObserver) {
  return new Elysia({ name: "http.errors" })
    .onRequest(({ request, set }) => {
      const given = request.headers.get("x-request-id");
      const id = given && CLIENT_ID.test(given) ? given : crypto.randomUUID();
      requestIds.set(request, id);
      set.headers["x-request-id"] = id;
    })
    .onError({ as: "global" }, (context) => {
      const body = answer(context);
      context.set.headers["content-type"] = PROBLEM_JSON;
      observe?.(context.request, (context as { route?: string }).route, context.set.status);
      return body;
    });

  function answer({ code, error, set, request }: { code: unknown; error: unknown; set: { status?: number | string; headers: Record<string, unknown> }; request: Request }) {
    const id = requestIds.get(request) ?? crypto.randomUUID();
    set.headers["x-request-id"] = id;
    // A client that hangs up mid-request fails whatever was reading its body
    // (Bun: an AbortError, and the request's signal aborted). That is the
    // client's doing, not a server fault: at info, not as an unhandled error.
    if (request.signal.aborted || (error instanceof DOMException && error.name === "AbortError")) {
      logger.info("client disconnected", {
        request_id: id, method: request.method, path: new URL(request.url).pathname,
        error: error instanceof Error ? error.message : String(error),
      });
      set.status = CLIENT_CLOSED;
      return problem(CLIENT_CLOSED, "client_closed", "Client closed the request");
    }
    if (error instanceof ApiError) {
      set.status = error.status;
      if (error.extra.headers) Object.assign(set.headers, error.extra.headers);
      return problem(error.status, error.code, error.detail, error.extra.errors);
    }
    switch (code) {
      case "NOT_FOUND":
        set.status = 404;
        return problem(404, "not_found", "Not found");
      case "PARSE":
        set.status = 400;
        return problem(400, "invalid_json", "Request body is not valid JSON");
      case "VALIDATION": {
        const where = (error as { type?: string }).type ?? "body";
        // A response that fails its own schema is our bug, not the client's: a 500, logged.
        if (where === "response") break;
        set.status = 400;
        return problem(400, where === "query" ? "invalid_query" : "validation_failed", `Invalid ${where}`, validationErrors(error, where));
      }
      case "INVALID_COOKIE_SIGNATURE":
      case "INVALID_FILE_TYPE":
        set.status = 400;
        return problem(400, "invalid_request", "Bad request");
    }
    const status = (error as { status?: unknown }).status;
    if (typeof status === "number" && status >= 400 && status < 500) {
      // Elysia-raised client errors (e.g. 413 from the body limit): pass the status, not the internals.
      set.status = status;
      const code: ErrorCode = status === 413 ? "body_too_large" : "invalid_request";
      return problem(status, code, status === 413 ? TOO_LARGE_DETAIL : "Bad request");
    }
    // Drivers wrap the database's own message (and code) in `cause`: log it too.
    const cause = error instanceof Error ? (error.cause as { message?: string; code?: string } | undefined) : undefined;
    logger.error("unhandled error", {
      request_id: id,
      method: request.method,
      path: new URL(request.url).pathname,
      error: error instanceof Error ? error.message : String(error),
      ...(cause && { cause: cause.message ?? String(cause), cause_code: cause.code }),
      stack: error instanceof Error ? error.stack : undefined,
    });
    set.status = 500;
    return problem(500, "internal_error", "Internal server error");
  }
}
