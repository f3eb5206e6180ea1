// Postgres adapter through postgres-js: connecting, its admin writes
// (drizzle's query builder). The rest of the Store is written once
// (../sql-store.ts) over postgres-js tagged statements (statements.ts).
import postgres from "postgres";
import { and, eq, isNull, lt } from "drizzle-orm";
import { idempotencyRecord } from "../rows";
import { drizzle, type PostgresJsDatabase } from "drizzle-orm/postgres-js";
import {
  ConflictError, NotFoundError,
  type IdempotencyRecord, type IdempotentAnswer, type Organization, type Role, type SiteRecord, type Store, type StoreRole, type User, type WorkerStoreSpec,
} from "../types";
import { InventoryQueries } from "../queries";
import { SiteReads, type ReadTables } from "../reads";
import { SqlStore } from "../sql-store";
import { PostgresExec } from "../releases/exec";
import { SqlReleaseStore } from "../releases/sql-release-store";
import { TopModulesStore } from "../top-modules";
import { migrateSchema } from "./migrate";
import { PostgresRunner } from "./runner";
import * as schema from "./schema";

/** The SQLSTATE of a Postgres error, also when drizzle wraps it in `cause`. */
function pgCode(err: unknown): string | undefined {
  for (let e = err; typeof e === "object" && e !== null; e = (e as { cause?: unknown }).cause) {
    if ("code" in e) return String((e as { code: unknown }).code);
  }
  return undefined;
}

// site_modules is a view (schema.ts): passed as ReadTables types it (../reads.ts).
const readTables: ReadTables = { ...schema, siteModules: schema.siteModules as ReadTables["siteModules"] };

export interface PostgresOptions {
  maxConnections?: number;
  role?: StoreRole;
}

export class PostgresStore extends SqlStore<PromiseLike<unknown>> implements Store {
  readonly dialect = "postgres" as const;
  readonly releases: SqlReleaseStore;
  readonly topModules: TopModulesStore;

  private constructor(readonly sql: postgres.Sql, private readonly url: string, private readonly orm: PostgresJsDatabase<typeof schema>) {
    super(new PostgresRunner(sql), new SiteReads(orm, readTables), new InventoryQueries(orm, readTables, "postgres"));
    const exec = new PostgresExec(sql);
    this.releases = new SqlReleaseStore(exec);
    this.topModules = new TopModulesStore(exec);
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
    return new PostgresStore(sql, url, drizzle({ client: sql, schema }));
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

  async claimIdempotencyKey(input: { scope: string; key: string; siteId: number | null; now: Date; expiresAt: Date }): Promise<IdempotencyRecord | null> {
    const t = schema.idempotencyKeys;
    const fresh = { siteId: input.siteId, requestHash: "", status: null, headers: null, body: null, createdAt: input.now, expiresAt: input.expiresAt };
    const claimed = await this.orm.insert(t).values({ scope: input.scope, key: input.key, ...fresh })
      .onConflictDoUpdate({ target: [t.scope, t.key], set: fresh, setWhere: lt(t.expiresAt, input.now) })
      .returning({ scope: t.scope });
    if (claimed.length > 0) return null;
    const [row] = await this.orm.select().from(t).where(and(eq(t.scope, input.scope), eq(t.key, input.key)));
    return row ? idempotencyRecord(row) : null;
  }

  async completeIdempotencyKey(scope: string, key: string, answer: IdempotentAnswer): Promise<void> {
    const t = schema.idempotencyKeys;
    await this.orm.update(t).set({ requestHash: answer.requestHash, status: answer.status, headers: JSON.stringify(answer.headers), body: answer.body })
      .where(and(eq(t.scope, scope), eq(t.key, key)));
  }

  async releaseIdempotencyKey(scope: string, key: string): Promise<void> {
    const t = schema.idempotencyKeys;
    await this.orm.delete(t).where(and(eq(t.scope, scope), eq(t.key, key), isNull(t.status)));
  }

  async purgeIdempotencyKeys(now: Date): Promise<number> {
    return (await this.orm.delete(schema.idempotencyKeys).where(lt(schema.idempotencyKeys.expiresAt, now)).returning({ key: schema.idempotencyKeys.key })).length;
  }

  async memberRole(userId: number, organizationId: number): Promise<Role | null> {
    const [row] = await this.orm.select({ role: schema.memberships.role }).from(schema.memberships)
      .where(and(eq(schema.memberships.userId, userId), eq(schema.memberships.organizationId, organizationId)));
    return row?.role ?? null;
  }

  async rotateSiteToken(siteId: number, tokenHash: string): Promise<boolean> {
    const rows = await this.orm.update(schema.sites).set({ tokenHash, syncFingerprint: null, syncRepeat: null })
      .where(eq(schema.sites.id, siteId)).returning({ id: schema.sites.id });
    return rows.length > 0;
  }

  /** One statement, cascading; it waits for the row lock a sync of the site holds. */
  async deleteSite(siteId: number): Promise<boolean> {
    const rows = await this.orm.delete(schema.sites).where(eq(schema.sites.id, siteId)).returning({ id: schema.sites.id });
    return rows.length > 0;
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

  async close(): Promise<void> {
    await this.sql.end({ timeout: 5 });
  }
}
