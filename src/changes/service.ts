// The read side of the history: what changed on one site, or on all the
// caller's sites, in time order, cursor-paginated.
import type { OrganizationScope } from "../accounts/scope";
import type { FieldError } from "../errors";
import { decodeCursor, encodeCursor, fail, parseLimit, type Query } from "../sites/pagination";
import type { ChangePosition } from "../store/change-sets";
import type { ChangeQuery, ChangeRow, SiteRecord, Store } from "../store/types";

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/i;

function parseTime(query: Query, name: "since" | "until", errors: FieldError[]): Date | undefined {
  const raw = query[name];
  if (raw === undefined) return undefined;
  const ms = RFC3339.test(raw) ? Date.parse(raw) : NaN;
  if (Number.isNaN(ms)) {
    errors.push({ loc: ["query", name], msg: "Must be an RFC 3339 date-time, e.g. 2026-11-01T00:00:00Z" });
    return undefined;
  }
  return new Date(ms);
}

/** since, until, limit and the cursor (the last change's time, change set and index in it). */
function parseChangePage(query: Query) {
  const errors: FieldError[] = [];
  const limit = parseLimit(query.limit, errors);
  const since = parseTime(query, "since", errors);
  const until = parseTime(query, "until", errors);
  let after: ChangePosition | undefined;
  if (query.cursor !== undefined) {
    const key = decodeCursor(query.cursor, /^\d{1,15}\.[1-9]\d{0,15}\.\d{1,9}$/, errors);
    if (key !== undefined) {
      const [at, setId, index] = key.split(".").map(Number) as [number, number, number];
      after = { at: new Date(at), setId, index };
    }
  }
  if (errors.length) fail(errors);
  return { limit, since, until, after };
}

function changeJson(c: ChangeRow) {
  return {
    id: `${c.setId}.${c.index}`, site_id: c.siteId, organization_id: c.organizationId, changed_at: c.changedAt.toISOString(), task_id: c.taskId,
    kind: c.kind, machine_name: c.machineName, from: c.fromValue, to: c.toValue, module_count: c.moduleCount,
  };
}

export class ChangesService {
  constructor(private readonly store: Store, private readonly scope: OrganizationScope) {}

  /** One site's changes (access checked by the caller: SitesService.requireAccess). */
  async ofSite(site: SiteRecord, query: Query) {
    const page = parseChangePage(query);
    return this.page({ ...page, siteId: site.id }, page.limit);
  }

  async ofOrganizations(userId: number, query: Query) {
    const page = parseChangePage(query);
    const organizationIds = await this.scope.of(userId, query.organization_id);
    if (organizationIds.length === 0) return { items: [], next_cursor: null };
    return this.page({ ...page, organizationIds }, page.limit);
  }

  private async page(query: ChangeQuery, limit: number) {
    const rows = await this.store.queries.changes({ ...query, limit: limit + 1 });
    const items = rows.slice(0, limit);
    const last = items.at(-1);
    return {
      items: items.map(changeJson),
      next_cursor: rows.length > limit && last ? encodeCursor(`${last.changedAt.getTime()}.${last.setId}.${last.index}`) : null,
    };
  }
}
