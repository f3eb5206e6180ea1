// Rate-limit response headers: the X-RateLimit-* trio, Retry-After on 429,
// and the IETF draft RateLimit / RateLimit-Policy fields.
import { WINDOW_MS, type RateDecision } from "./bucket";

const POLICY = "sync";

export function rateLimitHeaders(d: RateDecision): Record<string, string> {
  const secondsUntilFull = Math.ceil(d.msUntilFull / 1000);
  const headers: Record<string, string> = {
    "X-RateLimit-Limit": String(d.limit),
    "X-RateLimit-Remaining": String(d.remaining),
    "X-RateLimit-Reset": String(Math.ceil((d.now + d.msUntilFull) / 1000)),
    "RateLimit-Policy": `"${POLICY}";q=${d.limit};w=${WINDOW_MS / 1000}`,
    RateLimit: `"${POLICY}";r=${d.remaining};t=${secondsUntilFull}`,
  };
  if (!d.allowed) headers["Retry-After"] = String(Math.max(1, Math.ceil(d.msUntilToken / 1000)));
  return headers;
}

/** OpenAPI descriptions of the headers above, for the sync route's responses. */
export const rateLimitHeaderDocs: Record<string, { description: string; schema: { type: "integer" | "string" } }> = {
  "X-RateLimit-Limit": { description: "Bucket size: syncs allowed per hour for this site", schema: { type: "integer" } },
  "X-RateLimit-Remaining": { description: "Whole syncs left right now, after this request", schema: { type: "integer" } },
  "X-RateLimit-Reset": { description: "Unix time, in seconds, when the bucket is full again", schema: { type: "integer" } },
  "RateLimit-Policy": { description: 'IETF draft policy: "sync";q=<limit>;w=<window seconds, 3600>', schema: { type: "string" } },
  RateLimit: { description: 'IETF draft state: "sync";r=<remaining>;t=<seconds until full>', schema: { type: "string" } },
};

export const retryAfterDoc: typeof rateLimitHeaderDocs = {
  "Retry-After": { description: "Seconds until one sync is allowed again (at least 1)", schema: { type: "integer" } },
};
