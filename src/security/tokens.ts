// Bearer and site tokens: 256 random bits, shown once, stored as SHA-256.
// A fast hash is right here: the tokens carry full entropy, so there is
// nothing for a slow hash to protect against, and it sits on the hot path.
import { randomBytes, timingSafeEqual } from "node:crypto";
import { unauthorized } from "../errors";

export type TokenKind = "api" | "site";
const PREFIX: Record<TokenKind, string> = { api: "msk_", site: "mss_" };

export function generateToken(kind: TokenKind): string {
  return PREFIX[kind] + randomBytes(32).toString("base64url");
}

/** A site token (by its prefix): on a site's sync route it may stand in for a person's API token. */
export function isSiteToken(token: string): boolean {
  return token.startsWith(PREFIX.site);
}

/**
 * SHA-256 of the token's UTF-8, in hex. Bun's own hasher: a sync hashes its
 * bearer and its site token, and node:crypto's createHash took ~1.1 µs a
 * hash to this one's ~0.25 (tokenMatches: ~2.0 µs to ~0.6).
 */
export function hashToken(token: string): string {
  return Bun.SHA256.hash(token, "hex");
}

/** Constant-time check of a presented token against a stored hash. */
export function tokenMatches(presented: string, storedHash: string): boolean {
  const a = Bun.SHA256.hash(presented) as Uint8Array;
  const b = Buffer.from(storedHash, "hex");
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * The token of an `Authorization: Bearer <token>` header, or a 401: "Not
 * authenticated" without the header, "Invalid authentication credentials"
 * for any other form (or a token longer than `maxChars`).
 */
export function bearerToken(authorization: string | null | undefined, maxChars: number): string {
  if (!authorization) throw unauthorized("Not authenticated", "not_authenticated");
  const token = BEARER.exec(authorization)?.[1];
  if (token === undefined || token.length > maxChars) throw unauthorized("Invalid authentication credentials");
  return token;
}

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;
