// bun:sqlite adapter: opening the file, its admin writes (drizzle's query
// builder) and its upkeep. The rest of the Store is written once
// (../sql-store.ts) over statements compiled once (statements.ts), run
// synchronously (runner.ts).
import { Database } from "bun:sqlite";
import { and, eq, isNull, lt } from "drizzle-orm";
import { idempotencyRecord } from "../rows";
import { drizzle, type BunSQLiteDatabase } from "drizzle-orm/bun-sqlite";
import type { Logger } from "../../log";
import {
  ConflictError, NotFoundError,
  type IdempotencyRecord, type IdempotentAnswer, type Organization, type Role, type SiteRecord, type Store, type StoreRole, type Upkeep, type User, type WorkerStoreSpec,
} from "../types";
import { InventoryQueries } from "../queries";
import { SiteReads, type ReadTables } from "../reads";
import { SqlStore } from "../sql-store";
import { SqliteExec } from "../releases/exec";
import { SqlReleaseStore } from "../releases/sql-release-store";
import { TopModulesStore } from "../top-modules";
import { CHECKPOINT_EVERY_MS, WalCheckpointer } from "./checkpointer";
import { WAL_FILE_LIMIT_BYTES } from "./wal-file";
import { migrateSchema } from "./migrate";
import { SqliteStatements } from "./statements";
import { SqliteRunner } from "./runner";
import { WriteGate } from "./write-gate";
import { createPrivately } from "./private-file";
import { prepareDatabaseFolder } from "./writable";
import * as schema from "./schema";

// site_modules is a view (schema.ts): passed as ReadTables types it (../reads.ts).
const readTables: ReadTables = { ...schema, siteModules: schema.siteModules as unknown as ReadTables["siteModules"] };

/**
 * WAL size (4 KiB pages, so ~117 MiB) past which a connection checkpoints at
 * commit itself, at every commit until the WAL starts over: the backstop for
 * a checkpoint thread that cannot start it over. A 100,000-module sync writes
 * ~65 MiB (staged entries, then the modules): past 40 MiB, the limit before,
 * its last batches each checkpointed (0.12-0.15 s of its 1.4-1.6 s). Under a
 * 10,000-site release load the thread started the WAL over at up to ~25,000
 * frames (the limit before this one), so the serving connection at times
 * checkpointed inline, its fsyncs stalling every request.
 */
export const WAL_LIMIT_PAGES = 30_000;

function isUniqueViolation(err: unknown): boolean {
  return err instanceof Error && /UNIQUE constraint failed/.test(err.message);
}

export interface SqliteOptions {
  /** The turns of writers to this file in this process, shared with the worker threads (write-gate.ts). */
  gate?: WriteGate;
  role?: StoreRole;
}

export class SqliteStore extends SqlStore<never> implements Store {
  readonly dialect = "sqlite" as const;
  readonly releases: SqlReleaseStore;
  readonly topModules: TopModulesStore;

  /** Compiles its statements: the schema must be up to date (connect()). */
  private constructor(
    readonly path: string, readonly gate: WriteGate, readonly raw: Database, private readonly orm: BunSQLiteDatabase<typeof schema>,
  ) {
    super(new SqliteRunner(raw, new SqliteStatements(raw), gate), new SiteReads(orm, readTables), new InventoryQueries(orm, readTables, "sqlite"));
    const exec = new SqliteExec(raw, gate);
    this.releases = new SqlReleaseStore(exec);
    this.topModules = new TopModulesStore(exec);
  }

  /**
   * Opens `path` (a file path or ":memory:"), brings its schema up to date
   * unless it opens for a worker thread, then compiles the store's
   * statements. Threads writing one file pass the same `gate`.
   */
  static connect(path: string, { gate = new WriteGate(), role = "main" }: SqliteOptions = {}): SqliteStore {
    const raw = SqliteStore.open(path);
    if (role === "main") migrateSchema(raw);
    const store = new SqliteStore(path, gate, raw, drizzle({ client: raw, schema }));
    // The main thread's checkpoint thread (startUpkeep) checkpoints the WAL.
    if (role === "worker") store.leaveCheckpointsToOthers();
    return store;
  }

  static open(path: string): Database {
    if (path !== ":memory:") {
      prepareDatabaseFolder(path);
      createPrivately(path);
    }
    const db = new Database(path, { create: true, strict: true });
    // Another process (CLI, second instance) may hold the write lock for a whole large sync.
    // Set first: switching a new file to WAL takes a lock that another connection
    // opening it at the same moment (the checkpoint thread, a second process) may hold.
    db.exec("PRAGMA busy_timeout = 15000");
    db.exec("PRAGMA journal_mode = WAL");
    db.exec("PRAGMA synchronous = NORMAL");
    db.exec("PRAGMA foreign_keys = ON");
    // Savepoint journals in memory: a batch of writes (runner.ts) journals every
    // page each write first touches, and on disk that file took two system
    // calls per page once past 64 KiB, as many as the commit's own WAL frames.
    db.exec("PRAGMA temp_store = MEMORY");
    db.exec(`PRAGMA journal_size_limit = ${WAL_FILE_LIMIT_BYTES}`);
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

  async claimIdempotencyKey(input: { scope: string; key: string; siteId: number | null; now: Date; expiresAt: Date }): Promise<IdempotencyRecord | null> {
    const t = schema.idempotencyKeys;
    const fresh = { siteId: input.siteId, requestHash: "", status: null, headers: null, body: null, createdAt: input.now, expiresAt: input.expiresAt };
    const claimed = this.orm.insert(t).values({ scope: input.scope, key: input.key, ...fresh })
      .onConflictDoUpdate({ target: [t.scope, t.key], set: fresh, setWhere: lt(t.expiresAt, input.now) })
      .returning({ scope: t.scope }).all();
    if (claimed.length > 0) return null;
    const row = this.orm.select().from(t).where(and(eq(t.scope, input.scope), eq(t.key, input.key))).get();
    return row ? idempotencyRecord(row) : null;
  }

  async completeIdempotencyKey(scope: string, key: string, answer: IdempotentAnswer): Promise<void> {
    const t = schema.idempotencyKeys;
    this.orm.update(t).set({ requestHash: answer.requestHash, status: answer.status, headers: JSON.stringify(answer.headers), body: answer.body })
      .where(and(eq(t.scope, scope), eq(t.key, key))).run();
  }

  async releaseIdempotencyKey(scope: string, key: string): Promise<void> {
    const t = schema.idempotencyKeys;
    this.orm.delete(t).where(and(eq(t.scope, scope), eq(t.key, key), isNull(t.status))).run();
  }

  async purgeIdempotencyKeys(now: Date): Promise<number> {
    return this.orm.delete(schema.idempotencyKeys).where(lt(schema.idempotencyKeys.expiresAt, now)).returning({ key: schema.idempotencyKeys.key }).all().length;
  }

  async memberRole(userId: number, organizationId: number): Promise<Role | null> {
    const row = this.orm.select({ role: schema.memberships.role }).from(schema.memberships)
      .where(and(eq(schema.memberships.userId, userId), eq(schema.memberships.organizationId, organizationId))).get();
    return row?.role ?? null;
  }

  async rotateSiteToken(siteId: number, tokenHash: string): Promise<boolean> {
    const rows = this.orm.update(schema.sites).set({ tokenHash, syncFingerprint: null, syncRepeat: null })
      .where(eq(schema.sites.id, siteId)).returning({ id: schema.sites.id }).all();
    return rows.length > 0;
  }

  async deleteSite(siteId: number): Promise<boolean> {
    // Through the write gate, as every writer of this file: one statement, cascading.
    return this.gate.run(() => this.orm.delete(schema.sites).where(eq(schema.sites.id, siteId)).returning({ id: schema.sites.id }).all().length > 0);
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

  /**
   * Leaves WAL checkpoints to the checkpoint thread (checkpointer.ts), as
   * every connection of the process does, but for one case: SQLite restarts
   * the WAL only at a write that finds it wholly copied back, which under
   * writes that never pause the thread brings about itself, copying it back
   * and writing while it holds the write gate (checkpoint-thread.ts). Should
   * that fall behind (a reader still on the WAL, another process's writes),
   * past WAL_LIMIT_PAGES this connection checkpoints at commit itself, and
   * the WAL restarts from its start at its next write.
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
    return new WalCheckpointer(this.path, logger, everyMs, this.gate.buffer);
  }

  async databaseId(): Promise<string> {
    this.orm.insert(schema.settings).values({ key: "database_id", value: crypto.randomUUID() }).onConflictDoNothing().run();
    return this.orm.select({ value: schema.settings.value }).from(schema.settings).where(eq(schema.settings.key, "database_id")).get()!.value;
  }

  async close(): Promise<void> {
    // close(true) finalizes every statement still open (drizzle's included)
    // and releases the file now, not when they are garbage collected.
    this.raw.close(true);
  }

}
