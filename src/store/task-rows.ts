// The tasks table as both adapters read it; they differ only in how a
// boolean and a time come back (SQLite: 0/1 and Unix ms; Postgres: boolean and Date).
import { REPORTED_ERRORS, syncResult, type EntryError } from "../inventory";
import type { TaskRecord, TaskStatus } from "./task-types";

export interface TaskRow<Bool, Time> {
  num: number; id: string; site_id: number; status: TaskStatus; full_sync: Bool; site_was_empty: Bool;
  site_name: string | null; core_version: string | null; php_version: string | null; ip_address: string | null;
  total: number; current: number; cursor: number;
  modules_created: number; modules_updated: number; modules_unchanged: number; modules_removed: number;
  result: string | null; error: string | null; finished_at: Time | null;
}

export function taskRecord(row: TaskRow<unknown, unknown>, finishedAt: Date | null): TaskRecord {
  return {
    id: row.id, siteId: row.site_id, status: row.status, total: row.total, current: row.current,
    counts: { modulesCreated: row.modules_created, modulesUpdated: row.modules_updated, modulesUnchanged: row.modules_unchanged, modulesRemoved: row.modules_removed },
    result: row.result === null ? null : JSON.parse(row.result),
    error: row.error,
    finishedAt,
  };
}

/** A completed task's result: the sync result a synchronous sync returns, and when it completed. */
export function completedResult(task: TaskRow<unknown, unknown>, removed: number, errors: EntryError[], completedAt: Date) {
  const counts = { modulesCreated: task.modules_created, modulesUpdated: task.modules_updated, modulesUnchanged: task.modules_unchanged, modulesRemoved: removed };
  return { ...syncResult(task.site_id, counts, errors.slice(0, REPORTED_ERRORS), errors.length), completed_at: Math.floor(completedAt.getTime() / 1000) };
}
