// Which organizations a caller's cross-site questions read: all of theirs,
// or the one `organization_id` names, which must be one of theirs (403
// otherwise: a user never learns anything of another organization's sites).
import { badRequest, forbidden, notFound } from "../errors";
import type { Store } from "../store/types";

const ORGANIZATION_ID = /^[1-9]\d{0,9}$/;

export class OrganizationScope {
  constructor(private readonly store: Store) {}

  /** The caller's organizations, or the one `rawOrganizationId` names (query parameter `organization_id`). */
  async of(userId: number, rawOrganizationId: string | undefined): Promise<number[]> {
    const mine = await this.store.queries.organizationsOf(userId);
    if (rawOrganizationId === undefined) return mine;
    const id = ORGANIZATION_ID.test(rawOrganizationId) ? Number(rawOrganizationId) : NaN;
    if (!(id <= 2 ** 31 - 1)) {
      throw badRequest("Invalid query parameters", [{ loc: ["query", "organization_id"], msg: "Must be a positive integer" }]);
    }
    if (!mine.includes(id)) throw forbidden("You are not a member of this organization");
    return [id];
  }

  /** One organization the caller must belong to (a path's `{id}`): 403 otherwise, whether or not it exists. */
  async one(userId: number, rawOrganizationId: string): Promise<number> {
    const id = ORGANIZATION_ID.test(rawOrganizationId) ? Number(rawOrganizationId) : NaN;
    if (!(id <= 2 ** 31 - 1)) throw notFound("Organization not found");
    if ((await this.store.memberRole(userId, id)) === null) throw forbidden("You are not a member of this organization");
    return id;
  }
}
