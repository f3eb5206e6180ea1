// Rows read with plain SQL, as the dialects hand them back: SQLite gives
// booleans as 0/1 and times as Unix milliseconds; Postgres, through the
// client drizzle configured, booleans as booleans and times as text. One mapper per row
// reads either. (Rows read through drizzle's query builder need none: the
// schema's columns map to Date on both sides.)
import type { SyncCounts } from "../inventory";
import type { TaskRecord, TaskStatus } from "./task-types";
import type { IdempotencyRecord, Role, SiteAccess, UserSiteAccess } from "./types";

type DbBoolean = boolean | number;
export type DbTime = number | string | Date;

export function toDate(value: DbTime): Date;
export function toDate(value: DbTime | null): Date | null;
export function toDate(value: DbTime | null): Date | null {
  return value === null ? null : new Date(value);
}

/**
 * The site columns every access check reads: never `s.*`, which would drag
 * the stored fingerprint's summary (sync_repeat) along on every request.
 */
export const SITE_ACCESS_COLUMNS = "s.id, s.organization_id, s.url, s.normalized_url, s.name, s.token_hash, s.core_version, s.php_version, s.ip_address, s.last_synced_at, s.created_at";

export interface SiteAccessRow {
  id: number; organization_id: number; url: string; normalized_url: string; name: string; token_hash: string;
  core_version: string | null; php_version: string | null; ip_address: string | null;
  last_synced_at: DbTime | null; created_at: DbTime; role: Role | null;
}

export function siteAccessFromRow(r: SiteAccessRow): SiteAccess {
  return {
    isMember: r.role !== null,
    role: r.role,
    site: {
      id: r.id, organizationId: r.organization_id, url: r.url, normalizedUrl: r.normalized_url, name: r.name,
      tokenHash: r.token_hash, coreVersion: r.core_version, phpVersion: r.php_version, ipAddress: r.ip_address,
      lastSyncedAt: toDate(r.last_synced_at), createdAt: toDate(r.created_at),
    },
  };
}

/** An API token's user (null: no live token) with SITE_ACCESS_COLUMNS and the role (id null: no such site). */
export type UserSiteAccessRow = { user_id: number | null } & { [K in keyof SiteAccessRow]: SiteAccessRow[K] | null };

export function userSiteAccessFromRow(r: UserSiteAccessRow): UserSiteAccess | null {
  if (r.user_id === null) return null;
  return { userId: r.user_id, access: r.id === null ? null : siteAccessFromRow(r as SiteAccessRow) };
}

/** An idempotency_keys row as drizzle reads it (either dialect). */
export function idempotencyRecord(row: { requestHash: string; status: number | null; headers: string | null; body: string | null }): IdempotencyRecord {
  return { requestHash: row.requestHash, status: row.status, headers: row.headers === null ? {} : JSON.parse(row.headers), body: row.body };
}

/** `SELECT * FROM tasks`, the columns read. */
export interface TaskTableRow {
  num: number; id: string; site_id: number; status: TaskStatus; full_sync: DbBoolean; site_was_empty: DbBoolean;
  site_name: string | null; core_version: string | null; php_version: string | null; ip_address: string | null;
  total: number; current: number; cursor: number;
  modules_created: number; modules_updated: number; modules_unchanged: number; modules_removed: number; errors_total: number;
  result: string | null; error: string | null; finished_at: DbTime | null;
}

/** A task as the shared code reads it. */
export interface TaskRow {
  num: number; id: string; siteId: number; status: TaskStatus; fullSync: boolean; siteWasEmpty: boolean;
  siteName: string | null; coreVersion: string | null; phpVersion: string | null; ipAddress: string | null;
  total: number; current: number; cursor: number; counts: SyncCounts; errorsTotal: number;
  result: string | null; error: string | null; finishedAt: Date | null;
}

export function taskFromRow(r: TaskTableRow): TaskRow {
  return {
    num: r.num, id: r.id, siteId: r.site_id, status: r.status, fullSync: Boolean(r.full_sync), siteWasEmpty: Boolean(r.site_was_empty),
    siteName: r.site_name, coreVersion: r.core_version, phpVersion: r.php_version, ipAddress: r.ip_address,
    total: r.total, current: r.current, cursor: r.cursor,
    counts: { modulesCreated: r.modules_created, modulesUpdated: r.modules_updated, modulesUnchanged: r.modules_unchanged, modulesRemoved: r.modules_removed },
    errorsTotal: r.errors_total,
    result: r.result, error: r.error, finishedAt: toDate(r.finished_at),
  };
}

export function taskRecord(task: TaskRow): TaskRecord {
  return {
    id: task.id, siteId: task.siteId, status: task.status, total: task.total, current: task.current, counts: task.counts,
    result: task.result === null ? null : JSON.parse(task.result),
    error: task.error,
    finishedAt: task.finishedAt,
  };
}
