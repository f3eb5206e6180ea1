// The statements the shared write algorithms (sync.ts, task-work.ts) run, one
// step each: what a dialect implements, in its own SQL, so that the
// algorithms exist once. `Wait` is what a step yields while it waits (see
// steps.ts): never on SQLite, a query's promise on Postgres. Call inside the
// write transaction the algorithm runs in.
import type { CurrentModule, EntryError, SiteModuleState, SyncCounts } from "../inventory";
import type { Step } from "./steps";
import type { TaskRow } from "./rows";

/** Catalog ids of a sync's writes, once resolved (resolve.ts). */
export interface ResolvedIds {
  moduleId(machineName: string): number;
  versionId(entry: SiteModuleState): number | null;
}

/** Reading and writing one site's modules, in bulk. */
export interface ModuleStatements<Wait> {
  /** Every module of the site. */
  siteModules(siteId: number): Step<Wait, Map<string, CurrentModule>>;
  /** The site's modules among `names` (a background batch compares only those). */
  siteModulesAmong(siteId: number, names: readonly string[]): Step<Wait, Map<string, CurrentModule>>;
  /** Ids of the modules named, created where missing. */
  moduleIds(names: readonly string[]): Step<Wait, Iterable<readonly [id: number, machineName: string]>>;
  /** Ids of the (module id, version) pairs, created where missing. */
  versionIds(pairs: readonly (readonly [moduleId: number, version: string])[]): Step<Wait, Iterable<readonly [id: number, moduleId: number, version: string]>>;
  /** Writes the entries as the site's modules, created or updated. */
  upsertSiteModules(siteId: number, entries: readonly SiteModuleState[], ids: ResolvedIds, now: Date): Step<Wait, void>;
  removeSiteModules(siteId: number, moduleIds: readonly number[]): Step<Wait, void>;
}

/** A synchronous sync's own statements. */
export interface SyncStatements<Wait> extends ModuleStatements<Wait> {
  /** Holds the site until commit, so that its syncs apply one at a time; throws NotFoundError if there is no such site. */
  lockSite(siteId: number): Step<Wait, void>;
  /** Whether background syncs of the site, accepted earlier, are still to apply. */
  hasUnfinishedTasks(siteId: number): Step<Wait, boolean>;
  /** The envelope and time of the sync on the site row, with the fingerprint of the body it now holds exactly (or null). */
  recordSync(siteId: number, site: SiteEnvelope, now: Date, fingerprint: string | null, repeat: string | null): Step<Wait, void>;
}

/** What a sync writes on the site row besides its time. */
export interface SiteEnvelope {
  siteName: string;
  coreVersion: string | null;
  phpVersion: string | null;
  ipAddress: string | null;
}

/** What a batch adds to its task's progress. */
export interface BatchProgress {
  /** idx of the batch's last entry. */
  cursor: number;
  /** Entries applied. */
  applied: number;
  counts: SyncCounts;
}

/** A background sync's steps: claiming, applying and completing a task. */
export interface TaskStatements<Wait> extends ModuleStatements<Wait>, Pick<SyncStatements<Wait>, "recordSync"> {
  /** Takes the task if it can run now; the id of its site, or null. */
  claim(taskId: string, owner: string, leaseMs: number, now: Date): Step<Wait, number | null>;
  /** No body's fingerprint describes the site's modules any more. */
  forgetFingerprint(siteId: number): Step<Wait, void>;
  /** The task while `owner` holds it, its site held until commit as a sync holds it; null once the lease is lost. */
  ownedTask(taskId: string, owner: string): Step<Wait, TaskRow | null>;
  /** Up to `limit` valid staged entries after index `after`, in order. */
  stagedAfter(taskNum: number, after: number, limit: number): Step<Wait, { idx: number; entry: string }[]>;
  /** Adds a batch to the task's progress and extends its lease. */
  recordBatch(taskId: string, batch: BatchProgress, leaseMs: number, now: Date): Step<Wait, void>;
  /** A full sync's removals: the site's modules the payload did not name. Returns how many. */
  removeUnnamed(siteId: number, taskNum: number): Step<Wait, number>;
  /** The entries the upload skipped, in payload order. */
  skippedEntries(taskNum: number): Step<Wait, EntryError[]>;
  markCompleted(taskId: string, removed: number, result: string, now: Date): Step<Wait, void>;
}
