// Where a module runs, and the usage table: across the caller's sites only.
import type { OrganizationScope } from "../accounts/scope";
import { type FieldError } from "../errors";
import { compareDrupalVersions, isVersionBelow, parseDrupalVersion } from "../inventory";
import { decodeCursor, encodeCursor, fail, MACHINE_NAME, parseBoolean, parseLimit, parseSiteIdPage, type Query } from "../sites/pagination";
import type { Store } from "../store/types";

const SEARCH = /^[a-z0-9_]{1,50}$/;
const VERSION_MAX = 255;
/**
 * A usage page counts every site of the caller running each of its modules
 * (measured on SQLite, 10,000 sites: ~10 ms per module): pages are smaller.
 */
export const USAGE_PAGE = { fallback: 20, max: 100 };

export class ModulesService {
  constructor(private readonly store: Store, private readonly scope: OrganizationScope) {}

  async sites(userId: number, machineName: string, query: Query) {
    const errors: FieldError[] = [];
    if (!MACHINE_NAME.test(machineName)) errors.push({ loc: ["path", "machine_name"], msg: "Must be a Drupal machine name ([a-z][a-z0-9_]*, at most 50)" });
    const page = parseSiteIdPage(query, errors);
    const enabled = parseBoolean(query, "enabled", errors);
    for (const name of ["version", "version_below"]) {
      const v = query[name];
      if (v !== undefined && (v === "" || v.length > VERSION_MAX)) errors.push({ loc: ["query", name], msg: `Must be 1 to ${VERSION_MAX} characters` });
    }
    const below = query.version_below;
    if (below !== undefined && parseDrupalVersion(below) === null) {
      errors.push({ loc: ["query", "version_below"], msg: "Must be a Drupal version (e.g. 8.x-1.10, 2.0.0-beta3, 10.3.8)" });
    }
    if (errors.length) fail(errors);
    const organizationIds = await this.scope.of(userId, query.organization_id);
    const moduleId = await this.store.queries.moduleId(machineName);
    const empty = { machine_name: machineName, items: [], next_cursor: null };
    if (moduleId === null || organizationIds.length === 0) return empty;

    let versionIds: number[] | undefined;
    if (query.version !== undefined || below !== undefined) {
      // The module's versions are few: which match is decided here, in Drupal's order.
      versionIds = (await this.store.queries.moduleVersions(moduleId))
        .filter((v) => (query.version === undefined || v.version === query.version) && (below === undefined || isVersionBelow(v.version, below)))
        .map((v) => v.id);
      if (versionIds.length === 0) return empty;
    }
    const rows = await this.store.queries.moduleSites({ moduleId, organizationIds, versionIds, enabled, afterSiteId: page.afterId, limit: page.limit + 1 });
    const items = rows.slice(0, page.limit);
    return {
      machine_name: machineName,
      items: items.map((r) => ({
        site_id: r.siteId, organization_id: r.organizationId, name: r.name, url: r.url,
        version: r.version, enabled: r.enabled, last_synced_at: r.lastSyncedAt ? r.lastSyncedAt.toISOString() : null,
      })),
      next_cursor: rows.length > page.limit ? encodeCursor(String(items.at(-1)!.siteId)) : null,
    };
  }

  async usage(userId: number, query: Query) {
    const errors: FieldError[] = [];
    const limit = parseLimit(query.limit, errors, USAGE_PAGE);
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor, MACHINE_NAME, errors);
    if (query.search !== undefined && !SEARCH.test(query.search)) errors.push({ loc: ["query", "search"], msg: "Must be 1 to 50 of a-z, 0-9, _" });
    if (errors.length) fail(errors);
    const organizationIds = await this.scope.of(userId, query.organization_id);
    if (organizationIds.length === 0) return { items: [], next_cursor: null };
    const { names, usage } = await this.store.queries.moduleUsage({ organizationIds, prefix: query.search, after, limit: limit + 1 });
    const page = names.slice(0, limit);
    const byModule = new Map(page.map((n) => [n, [] as { version: string | null; sites: number }[]]));
    for (const u of usage) byModule.get(u.machineName)?.push({ version: u.version, sites: u.sites });
    return {
      items: page.map((name) => {
        const versions = byModule.get(name)!.sort((a, b) => a.version === null ? 1 : b.version === null ? -1 : compareDrupalVersions(a.version, b.version));
        return { machine_name: name, sites: versions.reduce((n, v) => n + v.sites, 0), versions };
      }),
      next_cursor: names.length > limit ? encodeCursor(page.at(-1)!) : null,
    };
  }
}
