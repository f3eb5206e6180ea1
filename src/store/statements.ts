// The statements of a dialect, one step each, in its own SQL: what the store
// code written once (sql-store.ts, sql-task-store.ts, and the algorithms of
// sync.ts and task-work.ts) runs, through the dialect's StepRunner
// (steps.ts). `Wait` is what a step yields while it waits: never on SQLite,
// a query's promise on Postgres. Steps of the write algorithms run inside the
// transaction the algorithm runs in.
import type { AcceptedSync, EntryError, EntryIds, SiteChange, SiteModuleState, StoredModule, SyncCounts, SyncPlan } from "../inventory";
import type { HistoryStatements } from "./history";
import type { TaskRow } from "./rows";
import type { SiteState } from "./site-states";
import type { Step } from "./steps";
import type { StagedEntry } from "./task-types";
import type { SiteAccess, UserSiteAccess } from "./types";

/** Reading and writing one site's modules, in bulk. */
export interface ModuleStatements<Wait> {
  /** What syncs change, recorded in their transaction (history.ts). */
  readonly history: HistoryStatements<Wait>;
  /** The site's modules among these module ids (a background batch compares only those). */
  siteModulesAmong(siteId: number, moduleIds: readonly number[]): Step<Wait, Map<number, StoredModule>>;
  /** Ids of the modules named, created where missing. */
  moduleIds(names: readonly string[]): Step<Wait, Iterable<readonly [id: number, machineName: string]>>;
  /** Ids of the modules named that the catalog holds (none is created). */
  existingModuleIds(names: readonly string[]): Step<Wait, Iterable<number>>;
  /** Ids of the (module id, version) pairs, created where missing. */
  versionIds(pairs: readonly (readonly [moduleId: number, version: string])[]): Step<Wait, Iterable<readonly [id: number, moduleId: number, version: string]>>;
  /** Writes the entries as the site's modules, created or updated (with their detailsHash). */
  upsertSiteModules(siteId: number, entries: readonly SiteModuleState[], ids: EntryIds, now: Date): Step<Wait, void>;
  /** Writes the version and enabled flag of entries the site holds with the same details (SyncPlan.sameDetails). */
  updateSiteModuleStates(siteId: number, entries: readonly SiteModuleState[], ids: EntryIds, now: Date): Step<Wait, void>;
  removeSiteModules(siteId: number, moduleIds: readonly number[]): Step<Wait, void>;
}

/** A sync's module changes, and the background task that applied it (null: synchronous). */
export interface SyncHistory {
  changes: readonly SiteChange[];
  taskId: string | null;
  /** Whether the sync changed the details of a module the site held (sites.details_changed_at). */
  detailsChanged: boolean;
}

/** What recordSync writes with a sync's time: the envelope, the fingerprint of the body the site now holds exactly (or null), the history, the new modules stamp. */
export interface SyncRecord {
  site: SiteEnvelope;
  fingerprint: string | null;
  repeat: string | null;
  history: SyncHistory;
  /** sites.modules_stamp from this sync on (site-states.ts). */
  stamp: number;
}

/** What a sync writes on the site row besides its time. */
export interface SiteEnvelope {
  siteName: string;
  coreVersion: string | null;
  phpVersion: string | null;
  ipAddress: string | null;
}

/** A synchronous sync's own statements. */
export interface SyncStatements<Wait> extends ModuleStatements<Wait> {
  /**
   * Holds the site until commit, so that its syncs apply one at a time
   * (NotFoundError if there is no such site), then reads every module of
   * the site, by module id, with the site's modules stamp: null (and no rows
   * read) while background syncs of the site, accepted earlier, are still to
   * apply. When the site still holds `kept`'s stamp, its modules are `kept`'s
   * and no rows are read.
   */
  lockSiteModules(siteId: number, kept: SiteState | undefined): Step<Wait, SiteState | null>;
  /**
   * lockSiteModules for a sync that starts from `kept` and needs nothing else
   * read before its writes: on Postgres it returns `kept` at once, and the
   * lock goes out with the sync's writes and COMMIT (one round trip), with a
   * check run once the lock is held that fails the transaction before any
   * write, as KeptStateStaleError, unless the site is not busy and still
   * holds `kept`'s stamp. SQLite holds every site already: lockSiteModules.
   */
  lockSiteModulesAssuming(siteId: number, kept: SiteState): Step<Wait, SiteState | null>;
  /**
   * The plan's writes (writePlan), then the site row's (recordSync), in one
   * step: a transaction's last (Postgres sends COMMIT with them).
   */
  writeSync(siteId: number, plan: SyncPlan, ids: EntryIds, now: Date, record: SyncRecord): Step<Wait, void>;
  /**
   * The envelope and time of the sync on the site row, with the fingerprint
   * of the body it now holds exactly (or null); first, the sync's changes
   * recorded as history.recordChanges records them, the core and PHP changes
   * against the row as it was (Postgres: both in one statement). `stamp`
   * is the site's new modules stamp (site-states.ts).
   */
  recordSync(siteId: number, site: SiteEnvelope, now: Date, fingerprint: string | null, repeat: string | null, history: SyncHistory, stamp: number): Step<Wait, void>;
}

/** The statements of a request's way in: who it is, and the one-statement re-sync. */
export interface SiteStatements<Wait> {
  /** The user owning a live token with this hash. */
  userIdByToken(tokenHash: string): Step<Wait, number | null>;
  siteAccess(siteId: number, userId: number): Step<Wait, SiteAccess | null>;
  /**
   * Both of the above in one statement: the user owning a live token with this
   * hash (null: none), and that user's access to the site (null: no such
   * site, or `siteId` null).
   */
  userSiteAccess(tokenHash: string, siteId: number | null): Step<Wait, UserSiteAccess | null>;
  /**
   * Records a sync at `now`, in one atomic statement, only if the site still
   * holds exactly the modules of the body with this fingerprint and no
   * background sync of it is unfinished: that body's RepeatSummary (JSON), else null.
   */
  recordRepeatedSync(siteId: number, fingerprint: string, now: Date): Step<Wait, string | null>;
  ping(): Step<Wait, void>;
}

/** What a batch adds to its task's progress. */
export interface BatchProgress {
  /** idx of the batch's last entry. */
  cursor: number;
  /** Entries applied. */
  applied: number;
  counts: SyncCounts;
}

/** A background sync's steps, from its upload to its end. */
export interface TaskStatements<Wait> extends ModuleStatements<Wait>, Pick<SyncStatements<Wait>, "recordSync"> {
  insertUpload(taskId: string, siteId: number): Step<Wait, void>;
  /** Stages the entries, all or none. */
  stage(taskId: string, entries: readonly StagedEntry[]): Step<Wait, void>;
  /** Drops an upload still receiving, with its staged rows. */
  deleteUpload(taskId: string): Step<Wait, void>;
  /** Makes the upload pending, after the syncs of its site accepted before it; returns its valid entry count. */
  accept(taskId: string, sync: AcceptedSync, now: Date): Step<Wait, number>;

  /** Takes the task if it can run now; the id of its site, or null. */
  claim(taskId: string, owner: string, leaseMs: number, now: Date): Step<Wait, number | null>;
  /**
   * No body's fingerprint describes the site's modules any more, nor does
   * any process's kept state: a new modules stamp (site-states.ts), before
   * the task's batches change them (the task keeps the site busy till it ends).
   */
  forgetFingerprint(siteId: number, stamp: number): Step<Wait, void>;
  /**
   * A batch changed the details of modules the site held, which no change set
   * records: sites.details_changed_at from `now` (at least 1 ms after the
   * site's last sync, as change sets: sql-release-store.ts changedInventories).
   */
  markDetailsChanged(siteId: number, now: Date): Step<Wait, void>;
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
  /** Ends the task as failed, if `owner` still holds it. */
  markFailed(taskId: string, owner: string, error: string, now: Date): Step<Wait, void>;
  /** Makes the task pending again, if `owner` still holds it. */
  release(taskId: string, owner: string, now: Date): Step<Wait, void>;

  task(taskId: string): Step<Wait, TaskRow | null>;
  /** Pending tasks and those whose lease expired before `now`, oldest first. */
  runnableTaskIds(limit: number, now: Date): Step<Wait, string[]>;
  /** Deletes tasks finished before `finishedBefore` and uploads receiving since before `abandonedBefore`; returns how many. */
  purge(finishedBefore: Date, abandonedBefore: Date): Step<Wait, number>;
}

/** Everything a dialect's statements object does. */
export type StoreStatements<Wait> = SiteStatements<Wait> & SyncStatements<Wait> & TaskStatements<Wait>;
