// Postgres adapter through postgres-js. Admin and read paths use drizzle's
// query builder; the sync hot path uses postgres-js tagged statements (prepared
// once per connection) with json_to_recordset(), so a batch of rows travels in
// one parameter: one statement per step, no per-module round trips.
import postgres from "postgres";
import { and, asc, eq, gt, inArray, isNull } from "drizzle-orm";
import { drizzle, type PostgresJsDatabase } from "drizzle-orm/postgres-js";
import { migrate } from "drizzle-orm/postgres-js/migrator";
import { leavesExactlyPayload, planSync, type CurrentModule, type ModuleType } from "../../sync/plan";
import { IdResolution } from "../resolve";
import {
  ConflictError, NotFoundError,
  type ModuleListQuery, type Organization, type Role, type SiteAccess, type SiteListQuery,
  type KnownIds, type SiteModuleRow, type SiteRecord, type SiteSummary, type Store, type SyncCommand, type SyncOutcome, type User,
} from "../types";
import { migrationsFolder } from "../migrations";
import * as schema from "./schema";

/** Any fixed number: instances starting together queue on it to migrate one at a time. */
const MIGRATION_LOCK_KEY = 7_401_133_901;

/** The SQLSTATE of a Postgres error, also when drizzle wraps it in `cause`. */
function pgCode(err: unknown): string | undefined {
  for (let e = err; typeof e === "object" && e !== null; e = (e as { cause?: unknown }).cause) {
    if ("code" in e) return String((e as { code: unknown }).code);
  }
  return undefined;
}

export interface PostgresOptions {
  maxConnections?: number;
}

export class PostgresStore implements Store {
  readonly dialect = "postgres" as const;
  private readonly orm: PostgresJsDatabase<typeof schema>;

  private constructor(readonly sql: postgres.Sql) {
    this.orm = drizzle({ client: sql, schema });
  }

  static async connect(url: string, options: PostgresOptions = {}): Promise<PostgresStore> {
    const sql = postgres(url, {
      max: options.maxConnections ?? 10,
      onnotice: () => {},
      connect_timeout: 10,
    });
    const store = new PostgresStore(sql);
    try {
      await store.migrate();
    } catch (err) {
      await sql.end({ timeout: 1 });
      throw err;
    }
    return store;
  }

  /** Applies pending migrations under a session advisory lock: concurrent starters wait, then find nothing to do. */
  private async migrate(): Promise<void> {
    const conn = await this.sql.reserve();
    try {
      await conn`SELECT pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
      try {
        await migrate(this.orm, { migrationsFolder: migrationsFolder("postgres") });
      } finally {
        await conn`SELECT pg_advisory_unlock(${MIGRATION_LOCK_KEY})`;
      }
    } finally {
      conn.release();
    }
  }

  async createOrganization(name: string): Promise<Organization> {
    const [org] = await this.orm.insert(schema.organizations).values({ name })
      .returning({ id: schema.organizations.id, name: schema.organizations.name });
    return org!;
  }

  async createUser(input: { email: string; organizationId: number; role: Role }): Promise<User> {
    try {
      return await this.orm.transaction(async (tx) => {
        const [user] = await tx.insert(schema.users).values({ email: input.email })
          .returning({ id: schema.users.id, email: schema.users.email });
        await tx.insert(schema.memberships).values({ userId: user!.id, organizationId: input.organizationId, role: input.role });
        return user!;
      });
    } catch (err) {
      const code = pgCode(err);
      if (code === "23505") throw new ConflictError(`user with email ${input.email}`);
      if (code === "23503") throw new NotFoundError(`organization ${input.organizationId}`);
      throw err;
    }
  }

  async createApiToken(userId: number, tokenHash: string): Promise<void> {
    try {
      await this.orm.insert(schema.apiTokens).values({ userId, tokenHash });
    } catch (err) {
      if (pgCode(err) === "23503") throw new NotFoundError(`user ${userId}`);
      throw err;
    }
  }

  async revokeApiToken(tokenHash: string): Promise<boolean> {
    const rows = await this.orm.update(schema.apiTokens).set({ revokedAt: new Date() })
      .where(and(eq(schema.apiTokens.tokenHash, tokenHash), isNull(schema.apiTokens.revokedAt)))
      .returning({ id: schema.apiTokens.id });
    return rows.length > 0;
  }

  async findUserIdByTokenHash(tokenHash: string): Promise<number | null> {
    const [row] = await this.sql<{ user_id: number }[]>`
      SELECT user_id FROM api_tokens WHERE token_hash = ${tokenHash} AND revoked_at IS NULL`;
    return row?.user_id ?? null;
  }

  async isMember(userId: number, organizationId: number): Promise<boolean> {
    const [row] = await this.orm.select({ userId: schema.memberships.userId }).from(schema.memberships)
      .where(and(eq(schema.memberships.userId, userId), eq(schema.memberships.organizationId, organizationId)));
    return row !== undefined;
  }

  async createSite(input: { organizationId: number; url: string; normalizedUrl: string; name: string; tokenHash: string }): Promise<SiteRecord> {
    try {
      const [row] = await this.orm.insert(schema.sites).values(input).returning();
      return row!;
    } catch (err) {
      const code = pgCode(err);
      if (code === "23505") throw new ConflictError(`site with url ${input.url}`);
      if (code === "23503") throw new NotFoundError(`organization ${input.organizationId}`);
      throw err;
    }
  }

  async getSiteAccess(siteId: number, userId: number): Promise<SiteAccess | null> {
    const [r] = await this.sql`
      SELECT s.*, EXISTS(SELECT 1 FROM memberships m WHERE m.organization_id = s.organization_id AND m.user_id = ${userId}) AS is_member
      FROM sites s WHERE s.id = ${siteId}`;
    if (!r) return null;
    return {
      isMember: r.is_member === true,
      site: {
        id: r.id, organizationId: r.organization_id, url: r.url, normalizedUrl: r.normalized_url, name: r.name,
        tokenHash: r.token_hash, coreVersion: r.core_version, phpVersion: r.php_version, ipAddress: r.ip_address,
        lastSyncedAt: r.last_synced_at, createdAt: r.created_at,
      },
    };
  }

  private summaries() {
    const s = schema.sites;
    const moduleCount = this.orm.$count(schema.siteModules, eq(schema.siteModules.siteId, s.id));
    return this.orm.select({
      id: s.id, organizationId: s.organizationId, url: s.url, name: s.name,
      coreVersion: s.coreVersion, phpVersion: s.phpVersion, ipAddress: s.ipAddress,
      lastSyncedAt: s.lastSyncedAt, createdAt: s.createdAt, moduleCount,
    }).from(s);
  }

  async getSiteSummary(siteId: number): Promise<SiteSummary | null> {
    const [row] = await this.summaries().where(eq(schema.sites.id, siteId));
    return row ? { ...row, moduleCount: Number(row.moduleCount) } : null;
  }

  async listSitesForUser(userId: number, query: SiteListQuery): Promise<SiteSummary[]> {
    const orgIds = this.orm.select({ id: schema.memberships.organizationId }).from(schema.memberships)
      .where(eq(schema.memberships.userId, userId));
    const rows = await this.summaries()
      .where(and(inArray(schema.sites.organizationId, orgIds), query.afterId ? gt(schema.sites.id, query.afterId) : undefined))
      .orderBy(asc(schema.sites.id)).limit(query.limit);
    return rows.map((r) => ({ ...r, moduleCount: Number(r.moduleCount) }));
  }

  async listSiteModules(siteId: number, query: ModuleListQuery): Promise<SiteModuleRow[]> {
    const sm = schema.siteModules;
    return this.orm.select({
      machineName: schema.modules.machineName, displayName: sm.displayName, moduleType: sm.moduleType,
      enabled: sm.enabled, version: schema.moduleVersions.version, description: sm.description, project: sm.project,
      firstSeenAt: sm.firstSeenAt, updatedAt: sm.updatedAt,
    }).from(sm)
      .innerJoin(schema.modules, eq(schema.modules.id, sm.moduleId))
      .leftJoin(schema.moduleVersions, eq(schema.moduleVersions.id, sm.versionId))
      .where(and(
        eq(sm.siteId, siteId),
        query.moduleType ? eq(sm.moduleType, query.moduleType) : undefined,
        query.enabled !== undefined ? eq(sm.enabled, query.enabled) : undefined,
        query.after !== undefined ? gt(schema.modules.machineName, query.after) : undefined,
      ))
      .orderBy(asc(schema.modules.machineName)).limit(query.limit);
  }

  async recordUnchangedSync(cmd: SyncCommand & { fingerprint: string }): Promise<boolean> {
    // One round trip: the UPDATE waits for any sync of this site in flight
    // (row lock), then matches only if the site still holds exactly this
    // body's modules.
    const info = cmd.drupalInfo;
    const touched = await this.sql`
      UPDATE sites SET name = ${cmd.siteName}, core_version = ${info.coreVersion}, php_version = ${info.phpVersion},
        ip_address = ${info.ipAddress}, last_synced_at = GREATEST(last_synced_at, ${new Date().toISOString()}::timestamptz)
      WHERE id = ${cmd.siteId} AND sync_fingerprint = ${cmd.fingerprint}`;
    return touched.count === 1;
  }

  async applySync(cmd: SyncCommand, known?: KnownIds): Promise<SyncOutcome> {
    const info = cmd.drupalInfo;
    return this.sql.begin(async (tx) => {
      // The row lock serialises syncs of one site across connections and instances.
      const locked = await tx`SELECT id FROM sites WHERE id = ${cmd.siteId} FOR UPDATE`;
      if (locked.length === 0) throw new NotFoundError(`site ${cmd.siteId}`);
      const now = new Date().toISOString(); // after the lock: later syncs of this site get later times

      const rows = await tx<{ module_id: number; machine_name: string; version: string | null; enabled: boolean; display_name: string; module_type: ModuleType; description: string | null; project: string | null }[]>`
        SELECT sm.module_id, m.machine_name, v.version, sm.enabled, sm.display_name, sm.module_type, sm.description, sm.project
        FROM site_modules sm JOIN modules m ON m.id = sm.module_id
        LEFT JOIN module_versions v ON v.id = sm.version_id
        WHERE sm.site_id = ${cmd.siteId}`;
      const current = new Map<string, CurrentModule>();
      for (const r of rows) {
        current.set(r.machine_name, {
          moduleId: r.module_id, machineName: r.machine_name, version: r.version, enabled: r.enabled,
          displayName: r.display_name, moduleType: r.module_type, description: r.description, project: r.project,
        });
      }
      const plan = planSync(current, cmd.entries, cmd.fullSync, cmd.keep);
      const ids = new IdResolution(plan.writes, known);

      if (plan.writes.length > 0) {
        // ORDER BY in the inserts: concurrent syncs adding the same new catalog
        // rows lock them in one order, so they wait for each other instead of deadlocking.
        const names = ids.unknownModules();
        if (names.length > 0) {
          const json = JSON.stringify(names);
          await tx`INSERT INTO modules (machine_name) SELECT value FROM json_array_elements_text(${json}::json)
                   ORDER BY 1 ON CONFLICT (machine_name) DO NOTHING`;
          const found = await tx<{ id: number; machine_name: string }[]>`
            SELECT id, machine_name FROM modules WHERE machine_name IN (SELECT value FROM json_array_elements_text(${json}::json))`;
          ids.addModules(found.map((r) => [r.id, r.machine_name] as const));
        }
        const pairs = ids.unknownVersions();
        if (pairs.length > 0) {
          const json = JSON.stringify(pairs.map(([m, v]) => ({ m, v })));
          await tx`INSERT INTO module_versions (module_id, version)
                   SELECT m, v FROM json_to_recordset(${json}::json) AS x(m int, v text) ORDER BY 1, 2
                   ON CONFLICT (module_id, version) DO NOTHING`;
          const found = await tx<{ id: string | number; module_id: number; version: string }[]>`
            SELECT mv.id, mv.module_id, mv.version FROM json_to_recordset(${json}::json) AS x(m int, v text)
            JOIN module_versions mv ON mv.module_id = x.m AND mv.version = x.v`;
          ids.addVersions(found.map((r) => [Number(r.id), r.module_id, r.version] as const));
        }

        const upserts = plan.writes.map((w) => ({
          m: ids.moduleId(w.machineName), v: ids.versionId(w), e: w.enabled,
          d: w.displayName, t: w.moduleType, s: w.description, p: w.project,
        }));
        await tx`
          INSERT INTO site_modules (site_id, module_id, version_id, enabled, display_name, module_type, description, project, first_seen_at, updated_at)
          SELECT ${cmd.siteId}, m, v, e, d, t, s, p, ${now}::timestamptz, ${now}::timestamptz
          FROM json_to_recordset(${JSON.stringify(upserts)}::json) AS x(m int, v bigint, e boolean, d text, t text, s text, p text)
          ON CONFLICT (site_id, module_id) DO UPDATE SET
            version_id = excluded.version_id, enabled = excluded.enabled, display_name = excluded.display_name,
            module_type = excluded.module_type, description = excluded.description, project = excluded.project,
            updated_at = excluded.updated_at`;
      }
      if (plan.removals.length > 0) {
        await tx`DELETE FROM site_modules WHERE site_id = ${cmd.siteId}
                 AND module_id IN (SELECT value::int FROM json_array_elements_text(${JSON.stringify(plan.removals)}::json))`;
      }
      const fingerprint = leavesExactlyPayload(current, cmd.entries, plan) ? cmd.fingerprint : null;
      await tx`UPDATE sites SET name = ${cmd.siteName}, core_version = ${info.coreVersion}, php_version = ${info.phpVersion},
               ip_address = ${info.ipAddress}, last_synced_at = GREATEST(last_synced_at, ${now}::timestamptz), sync_fingerprint = ${fingerprint}
               WHERE id = ${cmd.siteId}`;
      return { counts: plan, learned: ids.learned };
    });
  }

  async databaseId(): Promise<string> {
    await this.orm.insert(schema.settings).values({ key: "database_id", value: crypto.randomUUID() }).onConflictDoNothing();
    const [row] = await this.orm.select({ value: schema.settings.value }).from(schema.settings).where(eq(schema.settings.key, "database_id"));
    return row!.value;
  }

  async ping(): Promise<void> {
    await this.sql`SELECT 1`;
  }

  async close(): Promise<void> {
    await this.sql.end({ timeout: 5 });
  }
}
