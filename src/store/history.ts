// Recording what syncs change (inventory/changes.ts), for both dialects,
// inside the sync's own transaction: no change without its record, no record
// without its change. A sync's module changes and its core and PHP version
// changes (compared with the site row as it was) are one change set
// (change-sets.ts), recorded by recordSync with the site row; a background
// sync's batches and its full sync's removals record sets of their own.
import type { EntryIds, SiteChange, StoredModule, SyncPlan } from "../inventory";
import { initialInventory, moduleChanges } from "../inventory";
import type { TaskRow } from "./rows";
import type { SiteEnvelope, SyncHistory } from "./statements";
import type { Step } from "./steps";

/**
 * Every method that records runs after its transaction took the site's row
 * lock (lockSiteModules, or a task's lockSite): on Postgres, change sets have
 * no key on their site (migration 0019), and that lock is what keeps a change
 * set from being written for a site being deleted.
 */
export interface HistoryStatements<Wait> {
  /**
   * Records `changes` for the site as one change set, in one statement,
   * with, when `site` is given and the site had synced before, its core and
   * PHP version changes; nothing if there are none.
   */
  recordChanges(siteId: number, changes: readonly SiteChange[], site: SiteEnvelope | null, now: Date, taskId: string | null): Step<Wait, void>;
  /** A background full sync's removals (before removeUnnamed deletes them): the site's modules the task did not name. */
  recordUnnamedRemovals(siteId: number, taskNum: number, now: Date, taskId: string): Step<Wait, void>;
  /** Deletes changes older than `before`; returns how many. */
  purgeChanges(before: Date): Step<Wait, number>;
}

/** A background batch's module changes; none while the task fills an empty site (its completion records one initial_inventory). */
export function* recordBatchHistory<Wait>(s: { history: HistoryStatements<Wait> }, task: TaskRow, present: ReadonlyMap<number, StoredModule>,
  plan: SyncPlan, ids: EntryIds, now: Date): Step<Wait, void> {
  if (task.siteWasEmpty) return;
  const changes = moduleChanges(present, plan, ids);
  if (changes.length > 0) yield* s.history.recordChanges(task.siteId, changes, null, now, task.id);
}

/** A background full sync's removals, recorded before removeUnnamed deletes them. */
export function* recordUnnamedRemovalsHistory<Wait>(s: { history: HistoryStatements<Wait> }, task: TaskRow, now: Date): Step<Wait, void> {
  if (task.fullSync && !task.siteWasEmpty) yield* s.history.recordUnnamedRemovals(task.siteId, task.num, now, task.id);
}

/**
 * What a background sync's completion records with the site row (recordSync):
 * the initial inventory of a site it filled. Its batches may have changed
 * modules' details (each batch that did said so: markDetailsChanged);
 * counted as if they had, once more (tasks are few).
 */
export function completionChanges(task: TaskRow): SyncHistory {
  return { changes: task.siteWasEmpty ? initialInventory(task.counts.modulesCreated) : [], taskId: task.id, detailsChanged: true };
}
