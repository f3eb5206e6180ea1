// Postgres adapter through postgres-js. Admin and read paths use drizzle's
// query builder; a sync runs the shared algorithm (../sync.ts) over
// postgres-js tagged statements (statements.ts), one transaction each.
import postgres from "postgres";
import { and, eq, isNull } from "drizzle-orm";
import { drizzle, type PostgresJsDatabase } from "drizzle-orm/postgres-js";
import type { KnownIds, SyncCommand, SyncOutcome } from "../../inventory";
import {
  ConflictError, NotFoundError,
  type ModuleListQuery, type Organization, type Role, type SiteAccess, type SiteListQuery,
  type SiteModuleRow, type SiteRecord, type SiteSummary, type Store, type StoreRole, type User,
  type WorkerStoreSpec,
} from "../types";
import { SiteReads } from "../reads";
import { siteAccessFromRow, type SiteAccessRow } from "../rows";
import { runAwaiting } from "../steps";
import { applySync } from "../sync";
import { migrateSchema } from "./migrate";
import { PostgresStatements } from "./statements";
import { PostgresTasks } from "./tasks";
import * as schema from "./schema";

/** The SQLSTATE of a Postgres error, also when drizzle wraps it in `cause`. */
function pgCode(err: unknown): string | undefined {
  for (let e = err; typeof e === "object" && e !== null; e = (e as { cause?: unknown }).cause) {
    if ("code" in e) return String((e as { code: unknown }).code);
  }
  return undefined;
}

export interface PostgresOptions {
  maxConnections?: number;
  role?: StoreRole;
}

export class PostgresStore implements Store {
  readonly dialect = "postgres" as const;
  private readonly orm: PostgresJsDatabase<typeof schema>;
  private readonly reads: SiteReads;

  readonly tasks: PostgresTasks;

  private constructor(readonly sql: postgres.Sql, private readonly url: string) {
    this.orm = drizzle({ client: sql, schema });
    this.reads = new SiteReads(this.orm, schema);
    this.tasks = new PostgresTasks(sql);
  }

  /** Connects, and brings the schema up to date unless it connects for a worker thread. */
  static async connect(url: string, options: PostgresOptions = {}): Promise<PostgresStore> {
    const sql = postgres(url, {
      max: options.maxConnections ?? 10,
      onnotice: () => {},
      connect_timeout: 10,
    });
    try {
      if ((options.role ?? "main") === "main") await migrateSchema(sql);
    } catch (err) {
      await sql.end({ timeout: 1 });
      throw err;
    }
    return new PostgresStore(sql, url);
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
    const [row] = await this.sql<SiteAccessRow[]>`
      SELECT s.*, EXISTS(SELECT 1 FROM memberships m WHERE m.organization_id = s.organization_id AND m.user_id = ${userId}) AS is_member
      FROM sites s WHERE s.id = ${siteId}`;
    return row ? siteAccessFromRow(row) : null;
  }

  async getSiteSummary(siteId: number): Promise<SiteSummary | null> {
    return this.reads.siteSummary(siteId);
  }

  async listSitesForUser(userId: number, query: SiteListQuery): Promise<SiteSummary[]> {
    return this.reads.sitesForUser(userId, query);
  }

  async listSiteModules(siteId: number, query: ModuleListQuery): Promise<SiteModuleRow[]> {
    return this.reads.siteModules(siteId, query);
  }

  async recordRepeatedSync(siteId: number, fingerprint: string): Promise<string | null> {
    // One round trip: the UPDATE waits for any sync of this site in flight
    // (row lock), then matches only if the site still holds exactly the
    // modules of the body with this fingerprint.
    const [row] = await this.sql<{ sync_repeat: string | null }[]>`
      UPDATE sites SET last_synced_at = GREATEST(last_synced_at, ${new Date().toISOString()}::timestamptz)
      WHERE id = ${siteId} AND sync_fingerprint = ${fingerprint}
        AND NOT EXISTS (SELECT 1 FROM tasks WHERE site_id = ${siteId} AND status IN ('pending', 'in_progress'))
      RETURNING sync_repeat`;
    return row?.sync_repeat ?? null;
  }

  async applySync(cmd: SyncCommand, known?: KnownIds): Promise<SyncOutcome> {
    return this.sql.begin((tx) => runAwaiting(applySync(new PostgresStatements(tx), cmd, known)));
  }

  workerAccess(): WorkerStoreSpec {
    return { dialect: "postgres", url: this.url };
  }

  /** Postgres keeps itself. */
  startUpkeep(): null {
    return null;
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
