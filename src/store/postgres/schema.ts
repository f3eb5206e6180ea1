// Postgres schema (drizzle). Mirrors ../sqlite/schema.ts table for table.
import { sql } from "drizzle-orm";
import { bigint, boolean, index, integer, pgTable, pgView, primaryKey, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";
import { UPDATE_STATUSES } from "../../releases/status";

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });
const createdAt = () => ts("created_at").notNull().defaultNow();

export const organizations = pgTable("organizations", {
  id: integer("id").primaryKey().generatedAlwaysAsIdentity(),
  name: text("name").notNull(),
  createdAt: createdAt(),
});

export const users = pgTable("users", {
  id: integer("id").primaryKey().generatedAlwaysAsIdentity(),
  email: text("email").notNull(),
  createdAt: createdAt(),
}, (t) => [uniqueIndex("users_email_uq").on(t.email)]);

export const memberships = pgTable("memberships", {
  userId: integer("user_id").notNull().references(() => users.id, { onDelete: "cascade" }),
  organizationId: integer("organization_id").notNull().references(() => organizations.id, { onDelete: "cascade" }),
  role: text("role", { enum: ["admin", "member"] }).notNull(),
  createdAt: createdAt(),
}, (t) => [
  primaryKey({ columns: [t.userId, t.organizationId] }),
  index("memberships_org_idx").on(t.organizationId),
]);

export const apiTokens = pgTable("api_tokens", {
  id: integer("id").primaryKey().generatedAlwaysAsIdentity(),
  userId: integer("user_id").notNull().references(() => users.id, { onDelete: "cascade" }),
  tokenHash: text("token_hash").notNull(),
  createdAt: createdAt(),
  revokedAt: ts("revoked_at"),
}, (t) => [uniqueIndex("api_tokens_hash_uq").on(t.tokenHash), index("api_tokens_user_idx").on(t.userId)]);

export const sites = pgTable("sites", {
  id: integer("id").primaryKey().generatedAlwaysAsIdentity(),
  organizationId: integer("organization_id").notNull().references(() => organizations.id, { onDelete: "cascade" }),
  url: text("url").notNull(),
  normalizedUrl: text("normalized_url").notNull(),
  name: text("name").notNull(),
  tokenHash: text("token_hash").notNull(),
  coreVersion: text("core_version"),
  phpVersion: text("php_version"),
  ipAddress: text("ip_address"),
  lastSyncedAt: ts("last_synced_at"),
  /**
   * Fingerprint (sync/digest.ts) of the body whose modules the site holds
   * exactly; null when unknown. Every write to site_modules must keep it true
   * (and anything that changes the site's token or URL must clear it: a
   * repeat of that body is answered without being parsed again).
   */
  syncFingerprint: text("sync_fingerprint"),
  /** What that body's sync reports when repeated: its valid entry count and skipped entries (JSON). */
  syncRepeat: text("sync_repeat"),
  /**
   * Changes whenever the site's modules may have changed: a random stamp
   * (below 2^53), written by every sync's site-row update and by a background
   * task's claim, in the transaction that changes site_modules or before it
   * (a claimed task keeps the site busy until it ends). A process that wrote a
   * stamp knows the modules it left with it (store/site-states.ts): finding
   * the same stamp, it need not read them again. Every write to site_modules
   * must come with a new stamp, as with sync_fingerprint (on Postgres,
   * triggers on its two tables also set it to 0 on every change: see 0010 and 0020).
   */
  modulesStamp: bigint("modules_stamp", { mode: "number" }).notNull().default(0),
  /**
   * When a sync last changed the details (text, type, project) of a module the
   * site already held: the update statuses' thread then judges every project
   * of the site again, where it otherwise judges only those of the modules
   * its change sets name (statuses.ts). Change sets record no details change.
   */
  detailsChangedAt: ts("details_changed_at"),
  createdAt: createdAt(),
}, (t) => [
  uniqueIndex("sites_org_url_uq").on(t.organizationId, t.normalizedUrl),
  // Who went quiet: an organization's sites by last sync (stale filter, summary, the stale gauge), read from the index alone.
  index("sites_org_synced_idx").on(t.organizationId, t.lastSyncedAt, t.createdAt),
]);

export const modules = pgTable("modules", {
  id: integer("id").primaryKey().generatedAlwaysAsIdentity(),
  machineName: text("machine_name").notNull(),
  createdAt: createdAt(),
}, (t) => [uniqueIndex("modules_machine_name_uq").on(t.machineName)]);

// No foreign key from module_versions, site_modules or organization_top_modules to modules
// (migration 0016): catalog rows are never deleted, and a sync writes only module ids it read
// or inserted, remembered once their transaction committed (test/store/catalog-indexes.test.ts).
// Postgres checks a key with a query of its own for every inserted row: 5.5 µs a row, 0.73-0.79
// s for 100,000 against 0.17-0.20 s without; a 100,000-module first sync took 10.3-11.3 s with
// them, 8.9-9.4 s without (bench/README round 16). Updates that keep the key are not checked.
export const moduleVersions = pgTable("module_versions", {
  id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
  moduleId: integer("module_id").notNull(),
  version: text("version").notNull(),
  createdAt: createdAt(),
}, (t) => [
  // Every read of a version by its text names its module too: this index serves them all.
  // (One on the text alone served none, and cost every new version a page: 0009 drops it.)
  uniqueIndex("module_versions_module_version_uq").on(t.moduleId, t.version),
]);

/**
 * A site's modules, in two tables joined by the view `site_modules` (below), as
 * on SQLite. The state a sync compares and writes, narrow: a core release
 * rewrites 76 rows of a site, which here fill about two pages instead of the
 * five or six of rows that carried the text; at 10,000 sites those pages were
 * read from outside Postgres's buffers (bench/README round 36). Filled to 60%
 * (migration 0021; 75% in 0020; by hand: drizzle's schema has no table storage
 * parameters), so that a release's new versions of a site's 76 core rows,
 * which sit together, fit on their page beside the old: heap-only updates,
 * with no new index entries (bench/README round 38).
 */
export const siteModuleStates = pgTable("site_module_states", {
  siteId: integer("site_id").notNull().references(() => sites.id, { onDelete: "cascade" }),
  // No foreign key to modules (migration 0016): see module_versions above.
  moduleId: integer("module_id").notNull(),
  // No foreign key to module_versions (migration 0011; SQLite's went with its 0012): on Postgres its check
  // takes a KEY SHARE lock on the version row for every row a sync sets, and all the sites
  // moving to a release share those rows, so concurrent syncs built multixacts over them:
  // 76 rows set at 16 in flight cost 4.9-5.7 ms of Postgres CPU a sync with it, 1.3-1.7
  // without. Catalog rows are never deleted, and a sync sets only ids it read or inserted.
  versionId: bigint("version_id", { mode: "number" }),
  enabled: boolean("enabled").notNull(),
  /**
   * detailsHash() of the row's site_module_details (display_name, module_type,
   * extension_type, description, project): what a sync compares instead of
   * reading the text back. Every write of the text writes it too, since a sync
   * that finds it equal writes only the version and enabled flag
   * (SyncPlan.sameDetails); rows older than it are filled in at start-up
   * (backfill.ts).
   */
  detailsHash: bigint("details_hash", { mode: "number" }),
  updatedAt: ts("updated_at").notNull(),
}, (t) => [
  // The primary key is the site association index: every sync starts from a site.
  primaryKey({ columns: [t.siteId, t.moduleId] }),
  // Where a module runs (modules/): the module's sites without reading every site's modules. Only
  // a row's creation and removal write it (an update changes neither column); it makes a new
  // site's first sync slower (its 150 entries land in 150 places), not the re-syncs.
  index("site_modules_module_idx").on(t.moduleId, t.siteId),
  // Only rows still waiting for their details_hash (none once start-up has
  // filled them in): the backfill finds them without a scan, writes pay nothing.
  index("site_modules_details_hash_missing").on(t.siteId, t.moduleId).where(sql`details_hash IS NULL`),
]);

/**
 * What a site reports of each module besides its state: written with a row's
 * creation and when it changes (rarely), never by a version update. Deleted
 * with its state row by a trigger on site_module_states (migration 0020), not
 * a foreign key's cascade: its check cost every inserted row a query.
 */
export const siteModuleDetails = pgTable("site_module_details", {
  siteId: integer("site_id").notNull(),
  moduleId: integer("module_id").notNull(),
  displayName: text("display_name").notNull(),
  moduleType: text("module_type", { enum: ["core", "contrib", "custom"] }).notNull(),
  extensionType: text("extension_type", { enum: ["module", "theme", "profile"] }).notNull().default("module"),
  description: text("description"),
  project: text("project"),
  firstSeenAt: ts("first_seen_at").notNull(),
}, (t) => [
  primaryKey({ columns: [t.siteId, t.moduleId] }),
]);

/**
 * A site's modules as one relation, every column of the table it was before
 * migration 0020, in its order: what every read names (both dialects share
 * their SQL), and what SQL written by hand may still write (INSTEAD OF
 * triggers; not an upsert). The details are LEFT JOINed, to a key: Postgres
 * leaves the join out of a read that names no column of theirs. The store's
 * own writes go to the two tables.
 */
export const siteModules = pgView("site_modules", {
  siteId: integer("site_id").notNull(),
  moduleId: integer("module_id").notNull(),
  versionId: bigint("version_id", { mode: "number" }),
  enabled: boolean("enabled").notNull(),
  displayName: text("display_name").notNull(),
  moduleType: text("module_type", { enum: ["core", "contrib", "custom"] }).notNull(),
  extensionType: text("extension_type", { enum: ["module", "theme", "profile"] }).notNull(),
  description: text("description"),
  project: text("project"),
  detailsHash: bigint("details_hash", { mode: "number" }),
  firstSeenAt: ts("first_seen_at").notNull(),
  updatedAt: ts("updated_at").notNull(),
}).existing();

/** Mirrors ../sqlite/schema.ts: the first answer to a POST sent with an Idempotency-Key. */
export const idempotencyKeys = pgTable("idempotency_keys", {
  scope: text("scope").notNull(),
  key: text("key").notNull(),
  /** The site the route acts on, if any: deleting the site deletes its keys. */
  siteId: integer("site_id").references(() => sites.id, { onDelete: "cascade" }),
  requestHash: text("request_hash").notNull(),
  status: integer("status"),
  headers: text("headers"),
  body: text("body"),
  createdAt: createdAt(),
  expiresAt: ts("expires_at").notNull(),
}, (t) => [
  primaryKey({ columns: [t.scope, t.key] }),
  index("idempotency_keys_expires_idx").on(t.expiresAt),
  index("idempotency_keys_site_idx").on(t.siteId),
]);

/** Facts about this database itself, e.g. its id (which namespaces its keys in Redis). */
export const settings = pgTable("settings", {
  key: text("key").primaryKey(),
  value: text("value").notNull(),
});

/**
 * Background syncs. A task is "receiving" while its body streams into
 * task_entries, then "pending" once accepted, "in_progress" while a worker
 * holds its lease, and "completed" or "failed". `seq` orders a site's tasks.
 */
export const tasks = pgTable("tasks", {
  /** Internal key: staging rows carry this small integer, not the public uuid. */
  num: integer("num").primaryKey().generatedAlwaysAsIdentity(),
  id: text("id").notNull(),
  siteId: integer("site_id").notNull().references(() => sites.id, { onDelete: "cascade" }),
  seq: integer("seq").notNull(),
  status: text("status", { enum: ["receiving", "pending", "in_progress", "completed", "failed"] }).notNull(),
  fullSync: boolean("full_sync").notNull().default(false),
  siteName: text("site_name"),
  coreVersion: text("core_version"),
  phpVersion: text("php_version"),
  ipAddress: text("ip_address"),
  total: integer("total").notNull().default(0),
  current: integer("current").notNull().default(0),
  /**
   * The site held no modules when this claim began: no batch needs to read
   * what the site holds (each name comes once, and no other sync of the site
   * runs meanwhile). Claimed again after a crash, it is worked out again.
   */
  siteWasEmpty: boolean("site_was_empty").notNull().default(false),
  /** idx of the last task_entries row applied: a resumed task continues after it. */
  cursor: integer("cursor").notNull().default(-1),
  created: integer("modules_created").notNull().default(0),
  updated: integer("modules_updated").notNull().default(0),
  unchanged: integer("modules_unchanged").notNull().default(0),
  removed: integer("modules_removed").notNull().default(0),
  /** Entries the payload skipped, all of them: only the first REPORTED_ERRORS are staged with their error. */
  errorsTotal: integer("errors_total").notNull().default(0),
  result: text("result"),
  error: text("error"),
  attempts: integer("attempts").notNull().default(0),
  leaseOwner: text("lease_owner"),
  leaseExpiresAt: ts("lease_expires_at"),
  createdAt: createdAt(),
  updatedAt: ts("updated_at").notNull().defaultNow(),
  finishedAt: ts("finished_at"),
}, (t) => [
  uniqueIndex("tasks_id_uq").on(t.id),
  index("tasks_site_status_idx").on(t.siteId, t.status, t.seq),
  index("tasks_status_idx").on(t.status, t.leaseExpiresAt),
  index("tasks_finished_idx").on(t.finishedAt),
]);

/**
 * Durable staging of a background sync's module entries, in payload order:
 * a valid entry (`entry`, its normalised JSON) or a skipped one (`error`).
 * `machine_name` lets a full sync keep every module the payload named.
 */
export const taskEntries = pgTable("task_entries", {
  taskNum: integer("task_num").notNull().references(() => tasks.num, { onDelete: "cascade" }),
  idx: integer("idx").notNull(),
  machineName: text("machine_name"),
  entry: text("entry"),
  error: text("error"),
}, (t) => [
  primaryKey({ columns: [t.taskNum, t.idx] }),
  // The errors a completed task lists (the first REPORTED_ERRORS of its
  // upload): found without reading every staged row (~14 ms for 100,000).
  // Only those rows are in it, so staging valid entries writes nothing here.
  index("task_entries_errors_idx").on(t.taskNum, t.idx).where(sql`error IS NOT NULL`),
]);

/**
 * What each applied sync changed on a site (store/history.ts writes it in the
 * sync's own transaction): one row per sync that changed anything, its
 * changes a JSON array in `changes` (store/change-sets.ts reads it): a module
 * added, removed, its version from → to, enabled or disabled, core and PHP
 * version changes; a site's first sync is one "initial_inventory" change with
 * its module count. One row per sync, not per change, and modules and
 * versions by catalog id, named when read: a release that moves 76 modules
 * writes one row and its three index entries, not 76 rows and 228.
 * `organization_id` is the site's, copied so the organization feed reads one
 * index range. Purged after HISTORY_RETENTION_DAYS.
 *
 * No foreign key on `organization_id` (migration 0014), unlike SQLite's: its
 * check took a KEY SHARE lock on the organization's row in every changing
 * sync, and with other syncs of the organization's sites holding it, made a
 * new multixact each time (a median ~190 µs of a release sync's statement).
 * Its one writer copies the site's organization, which never changes.
 *
 * No foreign key on `site_id` either (migration 0019): its check locked the
 * site's row (KEY SHARE, a WAL record) in every changing sync, ~25-50 µs of a
 * sync's transaction, when the sync already holds that row locked. Every
 * insert (store/postgres/history.ts) runs after its transaction took the
 * site's row lock, which a deletion of the site waits for, and takes the
 * site's id from that row: no change set outlives its site. The trigger
 * `sites_deleted_change_sets` (function modsync_delete_site_change_sets)
 * deletes deleted sites' change sets, as the key's cascade did: deleting an
 * organization deletes its sites, and their change sets with them.
 */
export const siteChangeSets = pgTable("site_change_sets", {
  id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
  organizationId: integer("organization_id").notNull(),
  siteId: integer("site_id").notNull(),
  changedAt: ts("changed_at").notNull(),
  /** The background task that applied the sync; null for a synchronous one. */
  taskId: text("task_id"),
  /** JSON array of the sync's changes (store/change-sets.ts: tuples and objects, read by readChanges), in the order the sync made them; never empty. */
  changes: text("changes").notNull(),
}, (t) => [
  index("site_change_sets_site_idx").on(t.siteId, t.changedAt, t.id),
  index("site_change_sets_org_idx").on(t.organizationId, t.changedAt, t.id),
  index("site_change_sets_time_idx").on(t.changedAt),
]);

/**
 * Release data (issue 14): one drupal.org release-history document per
 * project, as read (releases/history.ts, JSON), with what a conditional
 * fetch sends back (ETag, Last-Modified).
 */
export const releaseProjects = pgTable("release_projects", {
  project: text("project").primaryKey(),
  history: text("history").notNull(),
  etag: text("etag"),
  lastModified: text("last_modified"),
  /** Last time the document was confirmed (200, 304 or an import). */
  fetchedAt: ts("fetched_at").notNull(),
  /** Last time its content changed: the statuses of the sites using it are computed again. */
  changedAt: ts("changed_at").notNull(),
});

/** Each site's installed projects and their update status, computed off the request path. */
export const siteProjectUpdates = pgTable("site_project_updates", {
  siteId: integer("site_id").notNull().references(() => sites.id, { onDelete: "cascade" }),
  project: text("project").notNull(),
  installedVersion: text("installed_version"),
  status: text("status", { enum: UPDATE_STATUSES }).notNull(),
  reason: text("reason"),
  recommended: text("recommended"),
  latestVersion: text("latest_version"),
  /** JSON array of versions, newest first. */
  securityUpdates: text("security_updates").notNull(),
  /** JSON array of versions. */
  alsoAvailable: text("also_available").notNull(),
  /** JSON object: drupal.org pages of the project, the recommended release and the security release to install. */
  links: text("links").notNull(),
  /**
   * A 53-bit hash of the row's other columns as written: a computation tells
   * an unchanged row by it, without reading the row's text back. Null (rows
   * written before it existed) never matches, so such a row is written again.
   */
  valuesHash: bigint("values_hash", { mode: "number" }),
}, (t) => [
  primaryKey({ columns: [t.siteId, t.project] }),
  index("site_project_updates_project_idx").on(t.project),
  index("site_project_updates_status_idx").on(t.status, t.siteId),
]);

/**
 * When a site's statuses were computed, and for which of its syncs
 * (`synced_at`: the site's last_synced_at then; null once its projects'
 * release data changed): a site whose last sync is newer is computed again.
 */
export const siteUpdateMarks = pgTable("site_update_marks", {
  siteId: integer("site_id").primaryKey().references(() => sites.id, { onDelete: "cascade" }),
  syncedAt: ts("synced_at"),
  computedAt: ts("computed_at").notNull(),
});

/** Named leases on background work shared by every instance (the release refresh): one holder at a time. */
export const upkeepLeases = pgTable("upkeep_leases", {
  name: text("name").primaryKey(),
  owner: text("owner"),
  expiresAt: ts("expires_at"),
  /** When the work last finished: it runs again once its interval has passed. */
  lastDoneAt: ts("last_done_at"),
});

/**
 * Per organization, when its top contrib modules were last computed (by the
 * background thread, organizations/top-modules.ts) and from what state of its
 * sites (`signature`: site count, latest sync, sum of site ids): a different
 * signature means computing again.
 */
export const organizationSummaryRefreshes = pgTable("organization_summary_refreshes", {
  organizationId: integer("organization_id").primaryKey().references(() => organizations.id, { onDelete: "cascade" }),
  signature: text("signature").notNull(),
  computedAt: ts("computed_at").notNull(),
});

/** The ten contrib modules on the most sites of an organization, as of its refresh's computed_at. */
export const organizationTopModules = pgTable("organization_top_modules", {
  organizationId: integer("organization_id").notNull().references(() => organizations.id, { onDelete: "cascade" }),
  // No foreign key to modules (migration 0016): the refresh copies site_modules' ids, which have none.
  moduleId: integer("module_id").notNull(),
  sites: integer("sites").notNull(),
}, (t) => [primaryKey({ columns: [t.organizationId, t.moduleId] })]);
