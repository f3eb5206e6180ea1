// The questions asked across sites and over time (modules/, changes/,
// organizations/, stale sites), written once over drizzle's query builder
// for both dialects, as reads.ts is. Every query is scoped to organizations
// (the caller's, resolved by the service) and starts from an index:
// site_modules_module_idx (module → sites), sites_org_synced_idx
// (organization → sites by last sync), site_change_sets_site_idx /
// site_change_sets_org_idx (changes by site or organization, in time order).
import { and, asc, count, desc, eq, exists, gt, gte, inArray, isNotNull, isNull, lt, or, sql, type Column, type SQL } from "drizzle-orm";
import { catalogIdsOf, nameChanges, pickChanges } from "./change-sets";
import type { ReadDatabase, ReadTables } from "./reads";
import type {
  ChangeQuery, ChangeRow, CountedValue, ModuleSiteQuery, ModuleSiteRow, ModuleUsageQuery, ModuleUsageRow, OrganizationCounts, StaleCount,
} from "./types";

/**
 * Sites with no successful sync since `before` (a site never synced counts
 * from its registration), or (`stale` false) the others. Each side written
 * out: NOT of the first would drop never-synced sites (NULL) from both.
 */
export function staleCondition(t: ReadTables, before: Date, stale = true): SQL {
  const s = t.sites;
  return stale
    ? or(lt(s.lastSyncedAt, before), and(isNull(s.lastSyncedAt), lt(s.createdAt, before)))!
    : or(gte(s.lastSyncedAt, before), and(isNull(s.lastSyncedAt), gte(s.createdAt, before)))!;
}

export class InventoryQueries {
  constructor(private readonly db: ReadDatabase, private readonly t: ReadTables, private readonly dialect: "sqlite" | "postgres") {}

  /**
   * The organization filter of a query that a module's index drives. On
   * SQLite written `+organization_id`, which no index matches, so its planner
   * does not start from the organization's sites instead (10,000 sites
   * probed, then sorted, where the module's index gives the page in order).
   * Postgres, which has the column's statistics, needs no hint, and the `+`
   * would hide them (it then starts from the sites: measured 650 ms vs 30 ms).
   */
  private filterOnly(column: Column): SQL {
    return this.dialect === "sqlite" ? sql`+${column}` : sql`${column}`;
  }

  async organizationsOf(userId: number): Promise<number[]> {
    const m = this.t.memberships;
    const rows = await this.db.select({ id: m.organizationId }).from(m).where(eq(m.userId, userId));
    return rows.map((r) => r.id);
  }

  async moduleId(machineName: string): Promise<number | null> {
    const m = this.t.modules;
    const [row] = await this.db.select({ id: m.id }).from(m).where(eq(m.machineName, machineName)).limit(1);
    return row?.id ?? null;
  }

  /** Every version of a module in the catalog (the version filters are decided on them in code, in Drupal's order). */
  async moduleVersions(moduleId: number): Promise<{ id: number; version: string }[]> {
    const v = this.t.moduleVersions;
    return this.db.select({ id: v.id, version: v.version }).from(v).where(eq(v.moduleId, moduleId));
  }

  async moduleSites(q: ModuleSiteQuery): Promise<ModuleSiteRow[]> {
    const { sites: s, siteModuleStates: sm, moduleVersions: v } = this.t;
    return this.db.select({
      siteId: s.id, organizationId: s.organizationId, name: s.name, url: s.url,
      version: v.version, enabled: sm.enabled, lastSyncedAt: s.lastSyncedAt,
    }).from(sm)
      .innerJoin(s, eq(s.id, sm.siteId))
      .leftJoin(v, eq(v.id, sm.versionId))
      .where(and(
        eq(sm.moduleId, q.moduleId),
        inArray(this.filterOnly(s.organizationId), q.organizationIds),
        q.afterSiteId !== undefined ? gt(sm.siteId, q.afterSiteId) : undefined,
        q.versionIds !== undefined ? inArray(sm.versionId, q.versionIds) : undefined,
        q.enabled !== undefined ? eq(sm.enabled, q.enabled) : undefined,
      ))
      .orderBy(asc(sm.siteId)).limit(q.limit);
  }

  /**
   * The organizations' modules whose machine_name starts with `prefix`, a page
   * by name, with how many of their sites run each version.
   */
  async moduleUsage(q: ModuleUsageQuery): Promise<{ names: string[]; usage: ModuleUsageRow[] }> {
    const { sites: s, siteModuleStates: sm, modules: m, moduleVersions: v } = this.t;
    // The page of names: the catalog walked in name order (its unique index) from the prefix,
    // keeping the modules some site of theirs runs (site_modules_module_idx).
    const theirs = this.db.select({ one: sm.siteId }).from(sm).innerJoin(s, eq(s.id, sm.siteId))
      .where(and(eq(sm.moduleId, m.id), inArray(this.filterOnly(s.organizationId), q.organizationIds)));
    const candidates = await this.db.select({ id: m.id, machineName: m.machineName }).from(m)
      .where(and(
        q.prefix ? gte(m.machineName, q.prefix) : undefined,
        q.prefix ? sql`${m.machineName} LIKE ${`${q.prefix.replace(/_/g, "\\_")}%`} ESCAPE '\\'` : undefined,
        q.after !== undefined ? gt(m.machineName, q.after) : undefined,
        exists(theirs as unknown as SQL),
      ))
      .orderBy(asc(m.machineName)).limit(q.limit);
    if (candidates.length === 0) return { names: [], usage: [] };
    // Counted by ids (no join per row), then named.
    const counted = await this.db.select({ moduleId: sm.moduleId, versionId: sm.versionId, sites: count() }).from(sm)
      .innerJoin(s, eq(s.id, sm.siteId))
      .where(and(inArray(sm.moduleId, candidates.map((c) => c.id)), inArray(this.filterOnly(s.organizationId), q.organizationIds)))
      .groupBy(sql`${sm.moduleId}`, sql`${sm.versionId}`);
    const versionIds = counted.flatMap((c) => (c.versionId === null ? [] : [c.versionId]));
    const versions = versionIds.length === 0 ? [] : await this.db.select({ id: v.id, version: v.version }).from(v).where(inArray(v.id, versionIds));
    const versionOf = new Map(versions.map((x) => [x.id, x.version]));
    const nameOf = new Map(candidates.map((c) => [c.id, c.machineName]));
    const usage = counted.map((c) => ({
      machineName: nameOf.get(c.moduleId)!, version: c.versionId === null ? null : versionOf.get(c.versionId) ?? null, sites: c.sites,
    }));
    return { names: candidates.map((c) => c.machineName), usage };
  }

  /**
   * Up to `q.limit` changes in time order: as many change sets as could hold
   * them (each holds one or more), unpacked and named (change-sets.ts).
   */
  async changes(q: ChangeQuery): Promise<ChangeRow[]> {
    const c = this.t.siteChangeSets;
    const sets = await this.db.select({
      id: c.id, siteId: c.siteId, organizationId: c.organizationId, changedAt: c.changedAt, taskId: c.taskId, changes: c.changes,
    }).from(c)
      .where(and(
        q.siteId !== undefined ? eq(c.siteId, q.siteId) : inArray(c.organizationId, q.organizationIds),
        q.since ? gte(c.changedAt, q.since) : undefined,
        q.until ? lt(c.changedAt, q.until) : undefined,
        // The cursor's own set may hold changes after it.
        q.after ? or(gt(c.changedAt, q.after.at), and(eq(c.changedAt, q.after.at), gte(c.id, q.after.setId))) : undefined,
      ))
      .orderBy(asc(c.changedAt), asc(c.id)).limit(q.limit + 1);
    const picked = pickChanges(sets, q.after, q.limit);
    const { moduleIds, versionIds } = catalogIdsOf(picked);
    const { modules: m, moduleVersions: v } = this.t;
    const [modules, versions] = await Promise.all([
      moduleIds.length === 0 ? [] : this.db.select({ id: m.id, text: m.machineName }).from(m).where(inArray(m.id, moduleIds)),
      versionIds.length === 0 ? [] : this.db.select({ id: v.id, text: v.version }).from(v).where(inArray(v.id, versionIds)),
    ]);
    const byId = (rows: { id: number; text: string }[]) => new Map(rows.map((r) => [Number(r.id), r.text]));
    return nameChanges(picked, byId(modules), byId(versions));
  }

  /** Stale sites per organization, from sites_org_synced_idx alone. */
  async staleCounts(before: Date): Promise<StaleCount[]> {
    const s = this.t.sites;
    return this.db.select({ organizationId: s.organizationId, sites: count() }).from(s)
      .where(staleCondition(this.t, before)).groupBy(sql`${s.organizationId}`);
  }

  async organizationCounts(organizationId: number, staleBefore: Date, syncedSince: Date): Promise<OrganizationCounts> {
    const s = this.t.sites;
    const inOrg = eq(s.organizationId, organizationId);
    const total = (where: SQL | undefined) => this.db.select({ n: count() }).from(s).where(where).then((r) => r[0]?.n ?? 0);
    const [sites, stale, synced] = await Promise.all([
      total(inOrg),
      total(and(inOrg, staleCondition(this.t, staleBefore))),
      total(and(inOrg, isNotNull(s.lastSyncedAt), gte(s.lastSyncedAt, syncedSince))),
    ]);
    return { sites, stale, synced };
  }

  async distribution(organizationId: number, column: "coreVersion" | "phpVersion"): Promise<CountedValue[]> {
    const s = this.t.sites;
    const col = s[column];
    return this.db.select({ value: col, sites: count() }).from(s)
      .where(eq(s.organizationId, organizationId)).groupBy(sql`${col}`).orderBy(desc(count()), asc(col)).limit(50);
  }
}

