// The steps of a background sync that change a site's modules, for both
// dialects, each one write transaction: claiming the task, applying batches of
// its staged entries (each with the task's progress), and completing it.
import { planSync, syncResult, type EntryError } from "../inventory";
import { completionChanges, recordBatchHistory, recordUnnamedRemovalsHistory } from "./history";
import type { TaskRow } from "./rows";
import { newModulesStamp } from "./site-states";
import { decodeEntry } from "./staging";
import type { TaskStatements } from "./statements";
import type { Step } from "./steps";
import type { BatchOutcome } from "./task-types";
import { resolveIds, writePlan } from "./write-plan";

const NOTHING_TO_KEEP: ReadonlySet<number> = new Set();

/** Takes the task for `owner` if it can run now. */
export function* claimTask<Wait>(s: TaskStatements<Wait>, taskId: string, owner: string, leaseMs: number): Step<Wait, boolean> {
  const siteId = yield* s.claim(taskId, owner, leaseMs, new Date());
  if (siteId === null) return false;
  // This task will change the site's modules: no body fingerprint describes them any more.
  yield* s.forgetFingerprint(siteId, newModulesStamp());
  return true;
}

/** Applies up to `batches` batches of `batchSize` staged entries; null if the lease was lost. */
export function* applyTaskBatch<Wait>(s: TaskStatements<Wait>, taskId: string, owner: string, batchSize: number, leaseMs: number, batches: number): Step<Wait, BatchOutcome | null> {
  const task = yield* s.ownedTask(taskId, owner);
  if (!task) return null;
  let { cursor, current } = task;
  let applied = 0;
  for (let b = 0; b < batches; b++) {
    const rows = yield* s.stagedAfter(task.num, cursor, batchSize);
    if (rows.length === 0) break;
    const entries = rows.map((r) => decodeEntry(r.entry));
    const now = new Date();
    // No cache serves a background batch: nothing learned to hand over.
    const ids = yield* resolveIds(s, entries, undefined, false);
    const present = task.siteWasEmpty ? new Map() : yield* s.siteModulesAmong(task.siteId, entries.map((e) => ids.moduleId(e)));
    const plan = planSync(present, entries, ids, false, NOTHING_TO_KEEP);
    yield* writePlan(s, task.siteId, plan, ids, now);
    yield* recordBatchHistory(s, task, present, plan, ids, now);
    // Set with every batch that changed the site's modules, so that a task that fails later is
    // judged for the batches it applied: the site's last_synced_at moves only with the task's
    // completion, and the statuses thread looks for change sets only of sites synced since it
    // judged them (SITES_TO_COMPUTE). A batch filling an empty site records no change set at all.
    // The thread judges a task's site whole either way.
    if (plan.writes.length > 0 || plan.removals.length > 0) yield* s.markDetailsChanged(task.siteId, now);
    cursor = rows.at(-1)!.idx;
    current += rows.length;
    applied += rows.length;
    // Each batch's progress is written with the batch itself.
    yield* s.recordBatch(taskId, { cursor, applied: rows.length, counts: plan }, leaseMs, now);
  }
  return { applied, current, total: task.total };
}

/** Full-sync removal, the site's drupal_info and the result, with the completion. */
export function* completeTask<Wait>(s: TaskStatements<Wait>, taskId: string, owner: string): Step<Wait, boolean> {
  const task = yield* s.ownedTask(taskId, owner);
  if (!task) return false;
  const now = new Date();
  // An accepted task has its envelope (site_name is set with status 'pending').
  const envelope = { siteName: task.siteName!, coreVersion: task.coreVersion, phpVersion: task.phpVersion, ipAddress: task.ipAddress };
  yield* recordUnnamedRemovalsHistory(s, task, now);
  // Everything the payload named stays, skipped entries included; only a failed task never gets here.
  const removed = task.fullSync ? yield* s.removeUnnamed(task.siteId, task.num) : 0;
  yield* s.recordSync(task.siteId, envelope, now, null, null, completionChanges(task), newModulesStamp());
  const result = completedResult(task, removed, yield* s.skippedEntries(task.num), now);
  yield* s.markCompleted(taskId, removed, JSON.stringify(result), now);
  return true;
}

/** A completed task's result: the sync result a synchronous sync returns, and when it completed. */
function completedResult(task: TaskRow, removed: number, errors: EntryError[], completedAt: Date) {
  const counts = { ...task.counts, modulesRemoved: removed };
  return { ...syncResult(task.siteId, counts, errors, task.errorsTotal), completed_at: Math.floor(completedAt.getTime() / 1000) };
}
