// Site registration, access rules and the read side of a site's inventory.
import { adminOnly, badRequest, conflict, forbidden, notFound } from "../errors";
import { generateToken, hashToken } from "../security/tokens";
import { ConflictError, NotFoundError, type Role, type SiteAccess, type SiteRecord, type SiteSummary, type Store } from "../store/types";
import { encodeCursor, parseModulePage, parseSitePage } from "./pagination";
import { parseSiteId } from "./site-id";
import { withUpdateCounts } from "./update-counts";
import { normalizeSiteUrl } from "./url";

/** Who went quiet: a site with no successful sync for STALE_AFTER_HOURS (counted from its registration if it never synced). */
export class Staleness {
  constructor(private readonly staleAfterHours: number, private readonly clock: () => number = Date.now) {}

  /** Sites whose last sync (or registration) is before this are stale. */
  cutoff(): Date {
    return new Date(this.clock() - this.staleAfterHours * 3_600_000);
  }

  isStale(site: { lastSyncedAt: Date | null; createdAt: Date }): boolean {
    return (site.lastSyncedAt ?? site.createdAt) < this.cutoff();
  }
}

function siteJson(s: SiteSummary, staleness: Staleness) {
  return {
    id: s.id,
    organization_id: s.organizationId,
    url: s.url,
    name: s.name,
    drupal_info: { core_version: s.coreVersion, php_version: s.phpVersion, ip_address: s.ipAddress },
    last_synced_at: s.lastSyncedAt ? s.lastSyncedAt.toISOString() : null,
    module_count: s.moduleCount,
    stale: staleness.isStale(s),
    created_at: s.createdAt.toISOString(),
  };
}

/** The site of a member's access (404: no such site; 403: not a member of its organization). */
export function memberSite(access: SiteAccess | null): SiteRecord {
  if (!access) throw notFound("Site not found", "site_not_found");
  if (!access.isMember) throw forbidden("You do not have access to this site's organization", "not_a_member");
  return access.site;
}

export class SitesService {
  constructor(private readonly store: Store, private readonly staleness = new Staleness(24)) {}

  /**
   * The checks every site route shares, in the order the API promises:
   * the site exists (404), then the user belongs to its organization (403),
   * then, for what only admins may do, is one of its admins (403).
   */
  async requireAccess(rawSiteId: string, userId: number, needs: Role = "member", action = "do this"): Promise<SiteRecord> {
    const siteId = parseSiteId(rawSiteId);
    const access = siteId === null ? null : await this.store.getSiteAccess(siteId, userId);
    const site = memberSite(access);
    if (needs === "admin" && access!.role !== "admin") throw adminOnly(action);
    return site;
  }

  /** The site, by the raw id of a path, without any user's access (a site token's bearer is checked against it); null if none. */
  async find(rawSiteId: string): Promise<SiteRecord | null> {
    const siteId = parseSiteId(rawSiteId);
    return siteId === null ? null : (await this.store.getSiteAccess(siteId, 0))?.site ?? null;
  }

  /** Whether the site is still there (a sync that failed may have met its deletion). */
  async exists(siteId: number): Promise<boolean> {
    return (await this.store.getSiteAccess(siteId, 0)) !== null;
  }

  /** A new site token; the old one stops at once. Shown only here. */
  async rotateToken(site: SiteRecord): Promise<{ id: number; token: string }> {
    const token = generateToken("site");
    if (!(await this.store.rotateSiteToken(site.id, hashToken(token)))) throw notFound("Site not found", "site_not_found");
    return { id: site.id, token };
  }

  /** Deletes the site and everything of it (the store's one cascading statement). */
  async delete(site: SiteRecord): Promise<void> {
    if (!(await this.store.deleteSite(site.id))) throw notFound("Site not found", "site_not_found");
  }

  /** Registers a site; the token is returned once and stored only as a hash. */
  async create(input: { organizationId: number; url: string; name: string }) {
    const normalizedUrl = normalizeSiteUrl(input.url);
    if (normalizedUrl === null) {
      throw badRequest("Invalid site URL", [{ loc: ["body", "url"], msg: "Must be an absolute http(s) URL without credentials" }]);
    }
    const name = input.name.trim();
    if (name === "" || name.length > 255) {
      throw badRequest("Invalid site name", [{ loc: ["body", "name"], msg: "Must be 1 to 255 characters" }]);
    }
    const token = generateToken("site");
    try {
      const site = await this.store.createSite({
        organizationId: input.organizationId, url: input.url.trim(), normalizedUrl, name, tokenHash: hashToken(token),
      });
      return { id: site.id, url: site.url, name: site.name, token };
    } catch (err) {
      if (err instanceof ConflictError) throw conflict("A site with this URL is already registered in this organization");
      if (err instanceof NotFoundError) throw notFound("Organization not found", "organization_not_found");
      throw err;
    }
  }

  async register(userId: number, input: { organizationId: number; url: string; name: string }) {
    const role = await this.store.memberRole(userId, input.organizationId);
    if (role === null) throw forbidden("You are not a member of this organization", "not_a_member");
    if (role !== "admin") throw forbidden("Only an admin of the organization can register sites; your role is member", "role_required");
    return this.create(input);
  }

  async list(userId: number, query: Record<string, string | undefined>) {
    const page = parseSitePage(query);
    // One row more than asked tells whether another page exists.
    const stale = page.stale === undefined ? undefined : { stale: page.stale, before: this.staleness.cutoff() };
    const rows = await this.store.listSitesForUser(userId, { afterId: page.afterId, limit: page.limit + 1, stale });
    const sites = rows.slice(0, page.limit);
    return {
      items: await withUpdateCounts(this.store, sites.map((s) => siteJson(s, this.staleness))),
      next_cursor: rows.length > page.limit ? encodeCursor(String(sites.at(-1)!.id)) : null,
    };
  }

  async get(site: SiteRecord) {
    const summary = await this.store.getSiteSummary(site.id);
    if (!summary) throw notFound("Site not found", "site_not_found");
    const [json] = await withUpdateCounts(this.store, [siteJson(summary, this.staleness)]);
    return json!;
  }

  async listModules(site: SiteRecord, query: Record<string, string | undefined>) {
    const page = parseModulePage(query);
    const found = await this.store.listSiteModules(site.id, { ...page, limit: page.limit + 1 });
    const rows = found.slice(0, page.limit);
    return {
      items: rows.map((m) => ({
        machine_name: m.machineName,
        display_name: m.displayName,
        module_type: m.moduleType,
        extension_type: m.extensionType,
        enabled: m.enabled,
        version: m.version,
        description: m.description,
        project: m.project,
        first_seen_at: m.firstSeenAt.toISOString(),
        updated_at: m.updatedAt.toISOString(),
      })),
      next_cursor: found.length > page.limit ? encodeCursor(rows.at(-1)!.machineName) : null,
    };
  }
}
