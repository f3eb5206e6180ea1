// bun:sqlite adapter. Admin and read paths use drizzle's query builder; a
// sync runs the shared algorithm (../sync.ts) over statements compiled once
// (statements.ts), in one synchronous BEGIN IMMEDIATE transaction.
import { Database } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { and, eq, isNull } from "drizzle-orm";
import { drizzle, type BunSQLiteDatabase } from "drizzle-orm/bun-sqlite";
import type { KnownIds, SyncCommand, SyncOutcome } from "../../inventory";
import type { Logger } from "../../log";
import {
  ConflictError, NotFoundError,
  type ModuleListQuery, type Organization, type Role, type SiteAccess, type SiteListQuery,
  type SiteModuleRow, type SiteRecord, type SiteSummary, type Store, type StoreRole, type Upkeep, type User,
  type WorkerStoreSpec,
} from "../types";
import { SiteReads } from "../reads";
import { siteAccessFromRow, type SiteAccessRow } from "../rows";
import { runNow } from "../steps";
import { applySync } from "../sync";
import { CHECKPOINT_EVERY_MS, WalCheckpointer } from "./checkpointer";
import { migrateSchema } from "./migrate";
import { SqliteStatements } from "./statements";
import { SqliteTasks } from "./tasks";
import { WriteGate } from "./write-gate";
import * as schema from "./schema";

/** WAL size (4 KiB pages, so 40 MiB) past which a connection checkpoints at commit itself. */
export const WAL_LIMIT_PAGES = 10_000;

function isUniqueViolation(err: unknown): boolean {
  return err instanceof Error && /UNIQUE constraint failed/.test(err.message);
}

export interface SqliteOptions {
  /** The turns of writers to this file in this process, shared with the worker threads (write-gate.ts). */
  gate?: WriteGate;
  role?: StoreRole;
}

export class SqliteStore implements Store {
  readonly dialect = "sqlite" as const;
  private readonly orm: BunSQLiteDatabase<typeof schema>;
  private readonly stmt;
  private readonly reads: SiteReads;
  readonly tasks: SqliteTasks;
  private readonly syncTx;

  /** Compiles its statements: the schema must be up to date (connect()). */
  private constructor(readonly path: string, readonly gate: WriteGate, readonly raw: Database) {
    this.orm = drizzle({ client: raw, schema });
    this.reads = new SiteReads(this.orm, schema);
    this.stmt = {
      tokenUser: raw.prepare<{ user_id: number }, [string]>(
        "SELECT user_id FROM api_tokens WHERE token_hash = ? AND revoked_at IS NULL"),
      siteAccess: raw.prepare<SiteAccessRow, [number, number]>(
        `SELECT s.*, EXISTS(SELECT 1 FROM memberships m WHERE m.organization_id = s.organization_id AND m.user_id = ?2) AS is_member
         FROM sites s WHERE s.id = ?1`),
      ping: raw.prepare("SELECT 1"),
      // One atomic statement: records the sync only if the site still holds exactly this body's modules.
      // (The same bytes carry the same name and drupal_info: only the time changes.)
      touchIfRepeated: raw.prepare<{ sync_repeat: string | null }, [number, number, string]>(
        `UPDATE sites SET last_synced_at = max(coalesce(last_synced_at, 0), ?) WHERE id = ?2 AND sync_fingerprint = ?
           AND NOT EXISTS (SELECT 1 FROM tasks WHERE site_id = ?2 AND status IN ('pending', 'in_progress'))
         RETURNING sync_repeat`),
    };
    const statements = new SqliteStatements(raw);
    this.tasks = new SqliteTasks(raw, statements, gate);
    // BEGIN IMMEDIATE takes the write lock up front: two syncs (from this or
    // another process) never interleave, and no upgrade deadlock can occur.
    this.syncTx = raw.transaction((cmd: SyncCommand, known?: KnownIds) => runNow(applySync(statements, cmd, known))).immediate;
  }

  /**
   * Opens `path` (a file path or ":memory:"), brings its schema up to date
   * unless it opens for a worker thread, then compiles the store's
   * statements. Threads writing one file pass the same `gate`.
   */
  static connect(path: string, { gate = new WriteGate(), role = "main" }: SqliteOptions = {}): SqliteStore {
    const raw = SqliteStore.open(path);
    if (role === "main") migrateSchema(raw);
    const store = new SqliteStore(path, gate, raw);
    // The main thread's checkpoint thread (startUpkeep) checkpoints the WAL.
    if (role === "worker") store.leaveCheckpointsToOthers();
    return store;
  }

  static open(path: string): Database {
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    const db = new Database(path, { create: true, strict: true });
    db.exec("PRAGMA journal_mode = WAL");
    db.exec("PRAGMA synchronous = NORMAL");
    // Another process (CLI, second instance) may hold the write lock for a whole large sync.
    db.exec("PRAGMA busy_timeout = 15000");
    db.exec("PRAGMA foreign_keys = ON");
    // Once checkpointed, the WAL restarts from its start, but its file keeps the
    // size of the largest sync it ever held; beyond this it is cut back.
    db.exec("PRAGMA journal_size_limit = 67108864");
    return db;
  }

  async createOrganization(name: string): Promise<Organization> {
    const [org] = this.orm.insert(schema.organizations).values({ name })
      .returning({ id: schema.organizations.id, name: schema.organizations.name }).all();
    return org!;
  }

  async createUser(input: { email: string; organizationId: number; role: Role }): Promise<User> {
    return this.raw.transaction(() => {
      const org = this.orm.select({ id: schema.organizations.id }).from(schema.organizations)
        .where(eq(schema.organizations.id, input.organizationId)).get();
      if (!org) throw new NotFoundError(`organization ${input.organizationId}`);
      let user: User;
      try {
        [user] = this.orm.insert(schema.users).values({ email: input.email })
          .returning({ id: schema.users.id, email: schema.users.email }).all() as [User];
      } catch (err) {
        if (isUniqueViolation(err)) throw new ConflictError(`user with email ${input.email}`);
        throw err;
      }
      this.orm.insert(schema.memberships)
        .values({ userId: user.id, organizationId: input.organizationId, role: input.role }).run();
      return user;
    }).immediate();
  }

  async createApiToken(userId: number, tokenHash: string): Promise<void> {
    const user = this.orm.select({ id: schema.users.id }).from(schema.users).where(eq(schema.users.id, userId)).get();
    if (!user) throw new NotFoundError(`user ${userId}`);
    this.orm.insert(schema.apiTokens).values({ userId, tokenHash }).run();
  }

  async revokeApiToken(tokenHash: string): Promise<boolean> {
    const rows = this.orm.update(schema.apiTokens).set({ revokedAt: new Date() })
      .where(and(eq(schema.apiTokens.tokenHash, tokenHash), isNull(schema.apiTokens.revokedAt)))
      .returning({ id: schema.apiTokens.id }).all();
    return rows.length > 0;
  }

  async findUserIdByTokenHash(tokenHash: string): Promise<number | null> {
    return this.stmt.tokenUser.get(tokenHash)?.user_id ?? null;
  }

  async isMember(userId: number, organizationId: number): Promise<boolean> {
    const row = this.orm.select({ userId: schema.memberships.userId }).from(schema.memberships)
      .where(and(eq(schema.memberships.userId, userId), eq(schema.memberships.organizationId, organizationId))).get();
    return row !== undefined;
  }

  async createSite(input: { organizationId: number; url: string; normalizedUrl: string; name: string; tokenHash: string }): Promise<SiteRecord> {
    try {
      const [row] = this.orm.insert(schema.sites).values(input).returning().all();
      return row!;
    } catch (err) {
      if (isUniqueViolation(err)) throw new ConflictError(`site with url ${input.url}`);
      if (err instanceof Error && /FOREIGN KEY constraint failed/.test(err.message)) {
        throw new NotFoundError(`organization ${input.organizationId}`);
      }
      throw err;
    }
  }

  async getSiteAccess(siteId: number, userId: number): Promise<SiteAccess | null> {
    const row = this.stmt.siteAccess.get(siteId, userId);
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
    const row = await this.gate.run(() => this.stmt.touchIfRepeated.get(Date.now(), siteId, fingerprint));
    return row?.sync_repeat ?? null;
  }

  async applySync(cmd: SyncCommand, known?: KnownIds): Promise<SyncOutcome> {
    return this.gate.run(() => this.syncTx(cmd, known));
  }

  /**
   * Leaves WAL checkpoints to the checkpoint thread (checkpointer.ts), as
   * every connection of the process does, but for one case: SQLite restarts
   * the WAL only at a write that finds it wholly copied back, so under writes
   * that never pause the thread's checkpoints keep up without the WAL ever
   * restarting. Past WAL_LIMIT_PAGES this connection checkpoints at commit
   * itself, and the WAL restarts from its start at its next write.
   */
  leaveCheckpointsToOthers(): void {
    this.raw.exec(`PRAGMA wal_autocheckpoint = ${WAL_LIMIT_PAGES}`);
  }

  workerAccess(): WorkerStoreSpec | null {
    // Every connection to ":memory:" opens a database of its own.
    return this.path === ":memory:" ? null : { dialect: "sqlite", path: this.path, writeGate: this.gate.buffer };
  }

  /** The WAL checkpoint thread, for a file; checkpoints are left to it from then on. */
  startUpkeep(logger: Logger, everyMs = CHECKPOINT_EVERY_MS): Upkeep | null {
    if (this.path === ":memory:") return null;
    this.leaveCheckpointsToOthers();
    return new WalCheckpointer(this.path, logger, everyMs);
  }

  async databaseId(): Promise<string> {
    this.orm.insert(schema.settings).values({ key: "database_id", value: crypto.randomUUID() }).onConflictDoNothing().run();
    return this.orm.select({ value: schema.settings.value }).from(schema.settings).where(eq(schema.settings.key, "database_id")).get()!.value;
  }

  async ping(): Promise<void> {
    this.stmt.ping.get();
  }

  async close(): Promise<void> {
    // close(true) finalizes every statement still open (drizzle's included)
    // and releases the file now, not when they are garbage collected.
    this.raw.close(true);
  }

}
