// Bearer and site tokens: 256 random bits, shown once, stored as SHA-256.
// A fast hash is right here: the tokens carry full entropy, so there is
// nothing for a slow hash to protect against, and it sits on the hot path.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

export type TokenKind = "api" | "site";
const PREFIX: Record<TokenKind, string> = { api: "msk_", site: "mss_" };

export function generateToken(kind: TokenKind): string {
  return PREFIX[kind] + randomBytes(32).toString("base64url");
}

export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

/** Constant-time check of a presented token against a stored hash. */
export function tokenMatches(presented: string, storedHash: string): boolean {
  const a = Buffer.from(hashToken(presented), "hex");
  const b = Buffer.from(storedHash, "hex");
  return a.length === b.length && timingSafeEqual(a, b);
}
