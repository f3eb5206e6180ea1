// Recording what syncs change (inventory/changes.ts), for both dialects,
// inside the sync's own transaction: no change without its record, no record
// without its change. One statement per sync records its module changes and
// its core and PHP version changes (compared with the site row, so it runs
// before recordSync overwrites that row) as one change set (change-sets.ts).
import type { EntryIds, SiteChange, StoredModule, SyncPlan } from "../inventory";
import { initialInventory, moduleChanges, syncChanges } from "../inventory";
import type { TaskRow } from "./rows";
import type { SiteEnvelope } from "./statements";
import type { Step } from "./steps";

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

/** The history of a synchronous sync: `current` is what the site held before it. */
export function* recordSyncHistory<Wait>(s: { history: HistoryStatements<Wait> }, siteId: number, current: ReadonlyMap<number, StoredModule>,
  plan: SyncPlan, ids: EntryIds, site: SiteEnvelope, now: Date): Step<Wait, void> {
  yield* s.history.recordChanges(siteId, syncChanges(current, plan, ids), site, now, null);
}

/** A background batch's module changes; none while the task fills an empty site (its completion records one initial_inventory). */
export function* recordBatchHistory<Wait>(s: { history: HistoryStatements<Wait> }, task: TaskRow, present: ReadonlyMap<number, StoredModule>,
  plan: SyncPlan, ids: EntryIds, now: Date): Step<Wait, void> {
  if (task.siteWasEmpty) return;
  const changes = moduleChanges(present, plan, ids);
  if (changes.length > 0) yield* s.history.recordChanges(task.siteId, changes, null, now, task.id);
}

/**
 * A background sync's completion: a full sync's removals (before they are
 * deleted), the initial inventory of a site it filled, and core and PHP
 * changes (before recordSync writes the envelope).
 */
export function* recordCompletionHistory<Wait>(s: { history: HistoryStatements<Wait> }, task: TaskRow, site: SiteEnvelope, now: Date): Step<Wait, void> {
  if (task.fullSync && !task.siteWasEmpty) yield* s.history.recordUnnamedRemovals(task.siteId, task.num, now, task.id);
  const initial = task.siteWasEmpty ? initialInventory(task.counts.modulesCreated) : [];
  yield* s.history.recordChanges(task.siteId, initial, site, now, task.id);
}
