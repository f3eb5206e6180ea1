// HTTP conventions of the read routes: an ETag on every GET answer, 304 for
// a matching If-None-Match, and a `Link: <…>; rel="next"` on paginated lists.
type Headers = Record<string, unknown>;

/** A strong validator of the JSON body: the same body, the same tag, on every instance. */
export function etagOf(body: unknown): string {
  return `"${Bun.hash.wyhash(JSON.stringify(body)).toString(36)}"`;
}

/** Whether an If-None-Match header names `etag` (or `*`); weak comparison, as RFC 9110 asks for GET. */
function matches(ifNoneMatch: string | null, etag: string): boolean {
  if (ifNoneMatch === null) return false;
  if (ifNoneMatch.trim() === "*") return true;
  return ifNoneMatch.split(",").some((tag) => tag.trim().replace(/^W\//, "") === etag);
}

/**
 * The body, tagged; or a 304 with no body when the client holds it already.
 * Answers vary with the bearer (another caller may see other sites): private.
 * Typed as the body: the route's schema describes its 200, and Elysia sends
 * a Response returned in its place as it is.
 */
export function conditional<T>(request: Request, set: { status?: number | string; headers: Headers }, body: T): T {
  const etag = etagOf(body);
  set.headers.etag = etag;
  set.headers["cache-control"] = "private, no-cache";
  set.headers.vary = "Authorization";
  if (!matches(request.headers.get("if-none-match"), etag)) return body;
  return new Response(null, { status: 304, headers: { etag, "cache-control": "private, no-cache", vary: "Authorization" } }) as T;
}

/** `Link: <this URL with cursor=next>; rel="next"` when there is a next page. */
export function linkNext(request: Request, set: { headers: Headers }, nextCursor: string | null): void {
  if (nextCursor === null) return;
  const url = new URL(request.url);
  url.searchParams.set("cursor", nextCursor);
  set.headers.link = `<${url.pathname}${url.search}>; rel="next"`;
}
