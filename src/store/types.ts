// The storage port. Routes and services talk only to this interface; the
// sqlite/ and postgres/ adapters implement it, each with its own schema.
import type { ChangeKind, ExtensionType, KnownIds, ModuleType, SiteModuleState, SyncCommand, SyncOutcome } from "../inventory";
import type { ChangePosition } from "./change-sets";
import type { InventoryQueries } from "./queries";
import type { TopModulesStore } from "./top-modules";
import type { Logger } from "../log";
import type { ReleaseStore } from "./releases/types";
import type { TaskStore } from "./task-types";

export type Role = "admin" | "member";

/**
 * Who opens a store: the main process, which brings the schema up to date, or
 * one of its worker threads, which finds it so and leaves the database's
 * upkeep (Store.startUpkeep) to the main thread.
 */
export type StoreRole = "main" | "worker";

/**
 * What a worker thread opens (openForWorker) to share a store's database:
 * plain data, posted to the thread. SQLite's carries the write gate's memory,
 * so that the threads take turns at the file's write lock.
 */
export type WorkerStoreSpec =
  | { dialect: "sqlite"; path: string; writeGate: SharedArrayBuffer }
  | { dialect: "postgres"; url: string };

/** Background work a store runs while the server does; closed at shutdown, before the store. */
export interface Upkeep {
  close(): Promise<void>;
}

export interface Organization { id: number; name: string }
export interface User { id: number; email: string }

export interface SiteRecord {
  id: number;
  organizationId: number;
  url: string;
  normalizedUrl: string;
  name: string;
  tokenHash: string;
  coreVersion: string | null;
  phpVersion: string | null;
  ipAddress: string | null;
  lastSyncedAt: Date | null;
  createdAt: Date;
}

export interface SiteSummary extends Omit<SiteRecord, "tokenHash" | "normalizedUrl"> {
  moduleCount: number;
}

/** A site as seen by one user: the row, plus whether the user may act on it. */
export interface SiteAccess {
  site: SiteRecord;
  isMember: boolean;
  /** The user's role in the site's organization; null for a non-member. */
  role: Role | null;
}

/** An API token's user and, in the same read, that user's access to a site (null: no such site). */
export interface UserSiteAccess {
  userId: number;
  access: SiteAccess | null;
}

/** The first answer to a POST with an Idempotency-Key; `status` null while it is being worked out. */
export interface IdempotencyRecord {
  requestHash: string;
  status: number | null;
  headers: Record<string, string>;
  body: string | null;
}

/** What a POST with an Idempotency-Key answered, to replay. */
export interface IdempotentAnswer {
  requestHash: string;
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** A user and their memberships, as the admin CLI lists them. */
export interface UserListing extends User {
  memberships: { organizationId: number; role: Role }[];
}

export interface SiteModuleRow extends SiteModuleState {
  firstSeenAt: Date;
  updatedAt: Date;
}

export interface ModuleListQuery {
  moduleType?: ModuleType;
  extensionType?: ExtensionType;
  enabled?: boolean;
  /** Return modules whose machine_name sorts after this one. */
  after?: string;
  limit: number;
}

export interface SiteListQuery {
  /** Return sites whose id is greater than this one. */
  afterId?: number;
  limit: number;
  /** Only stale sites (true) or only the others (false), stale meaning no successful sync since `staleBefore`. */
  stale?: { stale: boolean; before: Date };
}

/** Sites running one module, among organizations' sites. */
export interface ModuleSiteQuery {
  moduleId: number;
  organizationIds: number[];
  /** Only sites whose version of the module is one of these (module_versions ids). */
  versionIds?: number[];
  enabled?: boolean;
  afterSiteId?: number;
  limit: number;
}

export interface ModuleSiteRow {
  siteId: number;
  organizationId: number;
  name: string;
  url: string;
  version: string | null;
  enabled: boolean;
  lastSyncedAt: Date | null;
}

export interface ModuleUsageQuery {
  organizationIds: number[];
  /** Only modules whose machine_name starts with this. */
  prefix?: string;
  /** Modules whose machine_name sorts after this one. */
  after?: string;
  limit: number;
}

export interface ModuleUsageRow { machineName: string; version: string | null; sites: number }

/** Changes of one site, or of organizations' sites, in time order. */
export type ChangeQuery = {
  since?: Date;
  until?: Date;
  /** Changes after this one (the cursor). */
  after?: ChangePosition;
  limit: number;
} & ({ siteId: number; organizationIds?: undefined } | { siteId?: undefined; organizationIds: number[] });

export interface ChangeRow {
  /** The change set (one sync's changes) it belongs to, and its place in it. */
  setId: number;
  index: number;
  siteId: number;
  organizationId: number;
  changedAt: Date;
  taskId: string | null;
  kind: ChangeKind;
  machineName: string | null;
  fromValue: string | null;
  toValue: string | null;
  moduleCount: number | null;
}

export interface StaleCount { organizationId: number; sites: number }
export interface CountedValue { value: string | null; sites: number }
export interface OrganizationCounts { sites: number; stale: number; synced: number }

/**
 * Thrown by applySync when background syncs of the site, accepted earlier,
 * have not finished: syncs of a site apply in the order they were accepted.
 */
export class SiteBusyError extends Error {
  constructor(readonly siteId: number) {
    super(`site ${siteId} has background syncs still to apply`);
  }
}

/** Thrown by the store when a unique constraint refuses a row. */
export class ConflictError extends Error {
  constructor(readonly what: string) {
    super(`${what} already exists`);
  }
}

/** Thrown by the store when a referenced row does not exist. */
export class NotFoundError extends Error {
  constructor(readonly what: string) {
    super(`${what} not found`);
  }
}

export interface Store {
  readonly dialect: "sqlite" | "postgres";
  /** Background syncs. */
  readonly tasks: TaskStore;
  /** The questions across sites and over time: where a module runs, what changed, who went quiet. */
  readonly queries: InventoryQueries;
  /** Release data and update statuses. */
  readonly releases: ReleaseStore;
  /** Each organization's top contrib modules, computed in the background. */
  readonly topModules: TopModulesStore;

  createOrganization(name: string): Promise<Organization>;
  /** Creates the user and their membership of `organizationId`. */
  createUser(input: { email: string; organizationId: number; role: Role }): Promise<User>;
  createApiToken(userId: number, tokenHash: string): Promise<void>;
  /** Marks the token revoked; false when no live token has that hash. */
  revokeApiToken(tokenHash: string): Promise<boolean>;
  /** The user owning a live (unrevoked) token with this hash, or null. */
  findUserIdByTokenHash(tokenHash: string): Promise<number | null>;
  /**
   * findUserIdByTokenHash and getSiteAccess in one read (one statement): null
   * when no live token has this hash; `access` null when there is no such
   * site (or `siteId` is null).
   */
  findUserSiteAccess(tokenHash: string, siteId: number | null): Promise<UserSiteAccess | null>;
  /**
   * Claims (scope, key) for a first request, atomically: null when this call
   * claimed it (new, or its earlier claim had expired), else the live record.
   */
  claimIdempotencyKey(input: { scope: string; key: string; siteId: number | null; now: Date; expiresAt: Date }): Promise<IdempotencyRecord | null>;
  completeIdempotencyKey(scope: string, key: string, answer: IdempotentAnswer): Promise<void>;
  /** Drops a claim whose request failed: a retry runs again. */
  releaseIdempotencyKey(scope: string, key: string): Promise<void>;
  purgeIdempotencyKeys(now: Date): Promise<number>;

  /** The user's role in the organization; null when not a member. */
  memberRole(userId: number, organizationId: number): Promise<Role | null>;
  listOrganizations(): Promise<Organization[]>;
  listUsers(): Promise<UserListing[]>;
  /** Every site (of one organization when given), by id. */
  listSites(organizationId?: number): Promise<SiteSummary[]>;

  createSite(input: { organizationId: number; url: string; normalizedUrl: string; name: string; tokenHash: string }): Promise<SiteRecord>;
  getSiteAccess(siteId: number, userId: number): Promise<SiteAccess | null>;
  /**
   * Replaces the site's token hash (the old token stops at once) and forgets
   * its body fingerprint; false when there is no such site.
   */
  rotateSiteToken(siteId: number, tokenHash: string): Promise<boolean>;
  /**
   * Deletes the site and, in the same statement (foreign keys cascade), its
   * modules, tasks and their staged entries, fingerprint and idempotency keys,
   * and its change sets (on Postgres a trigger, migration 0019); false when
   * there is no such site.
   */
  deleteSite(siteId: number): Promise<boolean>;
  getSiteSummary(siteId: number): Promise<SiteSummary | null>;
  listSitesForUser(userId: number, query: SiteListQuery): Promise<SiteSummary[]>;
  listSiteModules(siteId: number, query: ModuleListQuery): Promise<SiteModuleRow[]>;

  /**
   * Records a sync in one statement if the site already holds exactly the
   * modules of the body with this fingerprint (and no background sync of it
   * is unfinished): returns that body's RepeatSummary (JSON), else null.
   * Null without a statement when this process's last sync of the site
   * stored another fingerprint: the caller applies the body instead.
   */
  recordRepeatedSync(siteId: number, fingerprint: string): Promise<string | null>;
  /**
   * Whether this process keeps the site's modules as the sync that stored
   * this fingerprint left them: only then may a near repeat of that body
   * apply (SyncCommand.partOf), which the sync's transaction checks again.
   */
  keepsModulesOf(siteId: number, fingerprint: string): boolean;
  /**
   * Applies a sync atomically, serialised per site. `known` saves id lookups.
   * Throws SiteBusyError while background syncs of the site are unfinished.
   */
  applySync(command: SyncCommand, known?: KnownIds): Promise<SyncOutcome>;

  /**
   * A random id created with the database and kept for its lifetime: keys in
   * Redis carry it, so a database that is replaced never meets stale ids.
   */
  databaseId(): Promise<string>;

  /** How a worker thread shares this database; null when no other thread can reach it (an in-memory SQLite database). */
  workerAccess(): WorkerStoreSpec | null;
  /**
   * Starts the upkeep the database needs from the process that serves it
   * (SQLite: the WAL checkpoint thread); null when it needs none.
   */
  startUpkeep(logger: Logger): Upkeep | null;

  /** Throws when the database does not answer. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
