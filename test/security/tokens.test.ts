// Token hashes are SHA-256 of the token's UTF-8 in hex: what is stored for a
// token (sites, API tokens) and what a presented token is checked against.
import { expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { generateToken, hashToken, tokenMatches } from "../../src/security/tokens";

const tokens = [generateToken("api"), generateToken("site"), "", "x", "mss_é-ünïcødé-🔑", "a".repeat(512)];

test("hashToken is SHA-256 of the token's UTF-8, in hex", () => {
  for (const token of tokens) expect(hashToken(token)).toBe(createHash("sha256").update(token, "utf8").digest("hex"));
});

test("tokenMatches accepts the token of a stored hash, and no other", () => {
  for (const token of tokens) {
    const stored = hashToken(token);
    expect(tokenMatches(token, stored)).toBe(true);
    expect(tokenMatches(`${token}.`, stored)).toBe(false);
    expect(tokenMatches(token, stored.slice(0, 62))).toBe(false);
    expect(tokenMatches(token, "")).toBe(false);
  }
});
