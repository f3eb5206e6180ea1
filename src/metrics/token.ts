// METRICS_TOKEN: /metrics tells how busy the service is, which sites sync and
// how often requests fail; when a token is configured, only its holder reads it.
import { createHash, timingSafeEqual } from "node:crypto";
import { unauthorized } from "../errors";

const digest = (value: string) => createHash("sha256").update(value).digest();

/**
 * A check of `Authorization: Bearer <token>` against `expected`. Compared as
 * SHA-256 digests with timingSafeEqual: equal lengths whatever was sent, and
 * the time taken says nothing about how much of the token was right.
 */
export function metricsTokenCheck(expected: string): (authorization: string | null) => void {
  const wanted = digest(expected);
  return (authorization) => {
    if (!authorization) throw unauthorized("Not authenticated");
    const match = /^Bearer[ \t]+(\S{1,1024})[ \t]*$/i.exec(authorization);
    if (!match || !timingSafeEqual(digest(match[1]!), wanted)) throw unauthorized("Invalid authentication credentials");
  };
}
