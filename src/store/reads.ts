// The read side of sites and their modules, written once over drizzle's query
// builder for both dialects: their schemas name the same columns with the
// same types (times as Date, booleans as boolean), so one query and one row
// shape serve both.
import { and, asc, eq, gt, inArray, type Column, type SQL, type Table } from "drizzle-orm";
import { staleCondition } from "./queries";
import type * as postgres from "./postgres/schema";
import type * as sqlite from "./sqlite/schema";
import type { ModuleListQuery, Organization, SiteListQuery, SiteModuleRow, SiteSummary, UserListing } from "./types";

type ValueOf<F> =
  F extends Column<infer C> ? (C["notNull"] extends true ? C["data"] : C["data"] | null)
  : F extends SQL<infer T> ? T
  : never;
type RowOf<F> = { [K in keyof F]: ValueOf<F[K]> };

// The part of a drizzle database both dialects share, as these reads use it:
// select, from, joins, where, order, limit, in that order.
interface Limited<R> extends PromiseLike<R[]> {
  getSQL(): SQL;
}
interface Ordered<R> extends Limited<R> {
  limit(limit: number): Limited<R>;
}
interface Grouped<R> extends Ordered<R> {
  orderBy(...columns: SQL[]): Ordered<R>;
}
interface Filtered<R> extends Ordered<R> {
  orderBy(...columns: SQL[]): Ordered<R>;
  /** Columns as sql`${column}`: one type for either dialect's columns. */
  groupBy(...columns: SQL[]): Grouped<R>;
}
interface Joined<R> extends Filtered<R> {
  innerJoin(table: Table, on: SQL): Joined<R>;
  leftJoin(table: Table, on: SQL): Joined<R>;
  where(condition: SQL | undefined): Filtered<R>;
}
export interface ReadDatabase {
  select<F extends Record<string, Column | SQL>>(fields: F): { from(table: Table): Joined<RowOf<F>> };
  $count(table: Table, filter?: SQL): SQL<number>;
}

/** A table of either dialect's schema. */
type Either<T extends keyof typeof sqlite & keyof typeof postgres> = (typeof sqlite)[T] | (typeof postgres)[T];

export interface ReadTables {
  organizations: Either<"organizations">;
  users: Either<"users">;
  sites: Either<"sites">;
  memberships: Either<"memberships">;
  modules: Either<"modules">;
  moduleVersions: Either<"moduleVersions">;
  /**
   * A view of the same columns on either dialect (the schemas' siteModules),
   * which each store passes as a table of Postgres's columns: drizzle types a
   * view apart from a table, though a read uses it as one (its name and columns).
   */
  siteModules: Table & (typeof postgres)["siteModules"];
  /** Reads of module_id, version_id, enabled, details_hash and updated_at alone. */
  siteModuleStates: Either<"siteModuleStates">;
  siteChangeSets: Either<"siteChangeSets">;
}

export class SiteReads {
  constructor(private readonly db: ReadDatabase, private readonly t: ReadTables) {}

  private summaries() {
    const { sites: s, siteModuleStates: sm } = this.t;
    return this.db.select({
      id: s.id, organizationId: s.organizationId, url: s.url, name: s.name,
      coreVersion: s.coreVersion, phpVersion: s.phpVersion, ipAddress: s.ipAddress,
      lastSyncedAt: s.lastSyncedAt, createdAt: s.createdAt,
      moduleCount: this.db.$count(sm, eq(sm.siteId, s.id)),
    }).from(s);
  }

  async siteSummary(siteId: number): Promise<SiteSummary | null> {
    const [row] = await this.summaries().where(eq(this.t.sites.id, siteId));
    return row ?? null;
  }

  async sitesForUser(userId: number, query: SiteListQuery): Promise<SiteSummary[]> {
    const { sites: s, memberships: m } = this.t;
    const orgIds = this.db.select({ id: m.organizationId }).from(m).where(eq(m.userId, userId));
    return this.summaries()
      .where(and(
        inArray(s.organizationId, orgIds),
        query.afterId ? gt(s.id, query.afterId) : undefined,
        query.stale ? staleCondition(this.t, query.stale.before, query.stale.stale) : undefined,
      ))
      .orderBy(asc(s.id)).limit(query.limit);
  }

  /** Every site, or one organization's, by id (the admin CLI). */
  async allSites(organizationId?: number): Promise<SiteSummary[]> {
    const s = this.t.sites;
    return this.summaries().where(organizationId === undefined ? undefined : eq(s.organizationId, organizationId)).orderBy(asc(s.id));
  }

  async organizations(): Promise<Organization[]> {
    const o = this.t.organizations;
    return this.db.select({ id: o.id, name: o.name }).from(o).where(undefined).orderBy(asc(o.id));
  }

  /** Every user with their memberships, by id. */
  async users(): Promise<UserListing[]> {
    const { users: u, memberships: m } = this.t;
    const rows = await this.db.select({ id: u.id, email: u.email, organizationId: m.organizationId, role: m.role })
      .from(u).leftJoin(m, eq(m.userId, u.id)).where(undefined).orderBy(asc(u.id), asc(m.organizationId));
    const users = new Map<number, UserListing>();
    for (const r of rows) {
      const user = users.get(r.id) ?? { id: r.id, email: r.email, memberships: [] };
      users.set(r.id, user);
      if (r.organizationId !== null && r.role !== null) user.memberships.push({ organizationId: r.organizationId, role: r.role });
    }
    return [...users.values()];
  }

  async siteModules(siteId: number, query: ModuleListQuery): Promise<SiteModuleRow[]> {
    const { siteModules: sm, modules: m, moduleVersions: v } = this.t;
    return this.db.select({
      machineName: m.machineName, displayName: sm.displayName, moduleType: sm.moduleType, extensionType: sm.extensionType,
      enabled: sm.enabled, version: v.version, description: sm.description, project: sm.project,
      firstSeenAt: sm.firstSeenAt, updatedAt: sm.updatedAt,
    }).from(sm)
      .innerJoin(m, eq(m.id, sm.moduleId))
      .leftJoin(v, eq(v.id, sm.versionId))
      .where(and(
        eq(sm.siteId, siteId),
        query.moduleType ? eq(sm.moduleType, query.moduleType) : undefined,
        query.extensionType ? eq(sm.extensionType, query.extensionType) : undefined,
        query.enabled !== undefined ? eq(sm.enabled, query.enabled) : undefined,
        query.after !== undefined ? gt(m.machineName, query.after) : undefined,
      ))
      .orderBy(asc(m.machineName)).limit(query.limit);
  }
}
