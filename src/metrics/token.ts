// METRICS_TOKEN: /metrics tells how busy the service is, which sites sync and
// how often requests fail; when a token is configured, only its holder reads it.
import { bearerToken, hashToken, tokenMatches } from "../security/tokens";
import { unauthorized } from "../errors";

/**
 * A check of `Authorization: Bearer <token>` against `expected`, compared as
 * SHA-256 hashes in constant time (security/tokens.ts): the time taken says
 * nothing about how much of the token was right.
 */
export function metricsTokenCheck(expected: string): (authorization: string | null) => void {
  const wanted = hashToken(expected);
  return (authorization) => {
    if (!tokenMatches(bearerToken(authorization, 1024), wanted)) throw unauthorized("Invalid authentication credentials");
  };
}
