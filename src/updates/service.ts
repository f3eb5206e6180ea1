// The read side of update statuses: a site's projects, and the caller's
// exposed sites. Statuses are read as computed in the background, never
// computed here.
import { badRequest, type FieldError } from "../errors";
import { securityReleaseToInstall } from "../releases";
import { decodeCursor, encodeCursor, parseLimit } from "../sites/pagination";
import type { ProjectUpdateRow } from "../store/releases/types";
import type { SiteRecord, Store } from "../store/types";

/** A /security cursor's key: the last listed site's place in the order (not_secure.revoked.site_id). */
const EXPOSURE_KEY = /^\d{1,6}\.\d{1,6}\.[1-9]\d{0,9}$/;

type Exposure = { not_secure: number; revoked: number; site_id: number };

const mostExposedFirst = (a: Exposure, b: Exposure) => b.not_secure - a.not_secure || b.revoked - a.revoked || a.site_id - b.site_id;

function projectJson(p: ProjectUpdateRow) {
  return {
    project: p.project,
    installed_version: p.installedVersion,
    status: p.status,
    reason: p.reason,
    recommended: p.recommended,
    latest_version: p.latestVersion,
    security_release: securityReleaseToInstall(p),
    security_updates: p.securityUpdates,
    also_available: p.alsoAvailable,
    links: { project: p.links.project, recommended: p.links.recommended, security_release: p.links.securityRelease },
  };
}

export class UpdatesService {
  constructor(private readonly store: Store) {}

  async siteUpdates(site: SiteRecord) {
    const { computedAt, projects } = await this.store.releases.siteUpdates(site.id);
    return { site_id: site.id, computed_at: computedAt?.toISOString() ?? null, projects: projects.map(projectJson) };
  }

  async security(userId: number, query: Record<string, string | undefined>) {
    const errors: FieldError[] = [];
    const limit = parseLimit(query.limit, errors);
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor, EXPOSURE_KEY, errors);
    if (errors.length > 0) throw badRequest("Invalid query parameters", errors);
    const exposed = (await this.store.releases.exposedSites(userId)).map(({ site, projects }) => ({
      site_id: site.id,
      name: site.name,
      url: site.url,
      not_secure: projects.filter((p) => p.status === "not_secure").length,
      revoked: projects.filter((p) => p.status === "revoked").length,
      projects: projects.map((p) => ({
        project: p.project,
        installed_version: p.installedVersion,
        status: p.status as "not_secure" | "revoked",
        security_release: securityReleaseToInstall(p),
        recommended: p.recommended,
      })),
    }));
    exposed.sort(mostExposedFirst);
    let start = 0;
    if (after !== undefined) {
      const [notSecure, revoked, siteId] = after.split(".").map(Number) as [number, number, number];
      const cursor = { not_secure: notSecure, revoked, site_id: siteId };
      start = exposed.findIndex((s) => mostExposedFirst(s, cursor) > 0);
      if (start < 0) start = exposed.length;
    }
    const items = exposed.slice(start, start + limit);
    const last = items.at(-1);
    const more = start + limit < exposed.length && last !== undefined;
    return { items, total: exposed.length, next_cursor: more ? encodeCursor(`${last.not_secure}.${last.revoked}.${last.site_id}`) : null };
  }
}
