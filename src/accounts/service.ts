// Organizations, users and API tokens: what the admin CLI manages and what
// bearer authentication reads.
import { badRequest, unauthorized } from "../errors";
import { bearerToken, generateToken, hashToken } from "../security/tokens";
import type { Organization, Role, Store, UserSiteAccess } from "../store/types";

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export class AccountsService {
  constructor(private readonly store: Store) {}

  createOrganization(name: string): Promise<Organization> {
    const trimmed = name.trim();
    if (trimmed === "" || trimmed.length > 255) throw badRequest("Organization name must be 1 to 255 characters");
    return this.store.createOrganization(trimmed);
  }

  /** Creates the user, their membership and a first API token (shown only here). */
  async createUser(input: { email: string; organizationId: number; role: Role }): Promise<{ id: number; email: string; token: string }> {
    const email = input.email.trim().toLowerCase();
    if (!EMAIL.test(email) || email.length > 320) throw badRequest(`Malformed email address: ${input.email}`);
    const user = await this.store.createUser({ ...input, email });
    const token = await this.createToken(user.id);
    return { id: user.id, email: user.email, token: token.token };
  }

  async createToken(userId: number): Promise<{ token: string }> {
    const token = generateToken("api");
    await this.store.createApiToken(userId, hashToken(token));
    return { token };
  }

  revokeToken(token: string): Promise<boolean> {
    return this.store.revokeApiToken(hashToken(token));
  }

  /** The user id behind an `Authorization: Bearer` header, or a 401. */
  async authenticate(authorization: string | null | undefined): Promise<number> {
    // Lookup by the token's SHA-256: the secret itself never reaches the
    // database, and equality of hashes leaks nothing useful about the token.
    const userId = await this.store.findUserIdByTokenHash(hashToken(bearerToken(authorization, 512)));
    if (userId === null) throw unauthorized("Invalid authentication credentials");
    return userId;
  }

  /**
   * authenticate() (401) and, in the same read, the user's access to the site
   * `siteId` (null: no such site; a `siteId` null names none). For a route
   * that reads both on every request: one statement (one round trip) instead of two.
   */
  async authenticateWithSite(authorization: string | null | undefined, siteId: number | null): Promise<UserSiteAccess> {
    const found = await this.store.findUserSiteAccess(hashToken(bearerToken(authorization, 512)), siteId);
    if (found === null) throw unauthorized("Invalid authentication credentials");
    return found;
  }
}
