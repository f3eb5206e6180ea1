// The statements of SQLite (../statements.ts) on bun:sqlite, compiled once:
// single-row ones for lookups, multi-row VALUES statements in fixed-size
// chunks for bulk writes (batch.ts). Every step runs at once and never
// yields, so a write algorithm runs whole inside one synchronous BEGIN
// IMMEDIATE transaction. Times are Unix milliseconds, booleans 0/1.
import type { Database } from "bun:sqlite";
import { detailsHash, REPORTED_ERRORS, type AcceptedSync, type EntryError, type EntryIds, type HeldModules, type SiteModuleState, type StoredModule, type SyncPlan } from "../../inventory";
import { heldModules, STORED_MODULE_COLUMNS, storedModules, type StoredModuleRow } from "../current";
import {
  SITE_ACCESS_COLUMNS, siteAccessFromRow, taskFromRow, userSiteAccessFromRow, type SiteAccessRow, type TaskRow, type TaskTableRow, type UserSiteAccessRow,
} from "../rows";
import type { SiteState } from "../site-states";
import { encodeEntry, validEntries } from "../staging";
import type { BatchProgress, SiteEnvelope, StoreStatements, SyncHistory, SyncRecord } from "../statements";
import type { NowStep } from "../steps";
import { NotFoundError, type SiteAccess, type UserSiteAccess } from "../types";
import type { StagedEntry } from "../task-types";
import { FEW_STATE_UPDATES, writePlan } from "../write-plan";
import { BatchStatement } from "./batch";
import { SqliteHistoryStatements, syncTime } from "./history";

export class SqliteStatements implements StoreStatements<never> {
  private readonly one;
  private readonly many;
  private readonly stageAll: (taskId: string, entries: readonly StagedEntry[]) => void;
  readonly history: SqliteHistoryStatements;

  constructor(private readonly db: Database) {
    this.history = new SqliteHistoryStatements(db);
    // The task's count and several chunks of rows, one transaction (a savepoint inside a batch's):
    // all or none, committed once (the wrapper made once, as SqliteRunner does).
    const stageAll = db.transaction((taskId: string, entries: readonly StagedEntry[]) => {
      // -1 (matching nothing) for an unknown task.
      const num = this.one.stagedInto.get(validEntries(entries), taskId)?.num ?? -1;
      this.many.stage.run(entries.map((e) => [num, e.index, e.machineName, e.entry ? encodeEntry(e.entry) : null, e.error ? JSON.stringify(e.error) : null]));
    });
    this.stageAll = (taskId, entries) => stageAll.immediate(taskId, entries);
    this.one = {
      userIdByToken: db.prepare<{ user_id: number }, [string]>(
        "SELECT user_id FROM api_tokens WHERE token_hash = ? AND revoked_at IS NULL"),
      siteAccess: db.prepare<SiteAccessRow, [number, number]>(
        `SELECT ${SITE_ACCESS_COLUMNS}, (SELECT m.role FROM memberships m WHERE m.organization_id = s.organization_id AND m.user_id = ?2) AS role
         FROM sites s WHERE s.id = ?1`),
      // The two above in one statement, for a site that exists (no row otherwise). The user
      // as scalar subqueries (SQLite runs an uncorrelated one once): any join of api_tokens
      // with sites (inner, left, CTE) took bun:sqlite 30-45 us, where this takes ~8 and the
      // two statements 10-13 together (measured).
      userSiteAccess: db.prepare<UserSiteAccessRow, [string, number]>(
        `SELECT (SELECT user_id FROM api_tokens WHERE token_hash = ?1 AND revoked_at IS NULL) AS user_id, ${SITE_ACCESS_COLUMNS},
           (SELECT m.role FROM memberships m WHERE m.organization_id = s.organization_id
              AND m.user_id = (SELECT user_id FROM api_tokens WHERE token_hash = ?1 AND revoked_at IS NULL)) AS role
         FROM sites s WHERE s.id = ?2`),
      // (The same bytes carry the same name and drupal_info: only the time changes.)
      recordRepeatedSync: db.prepare<{ sync_repeat: string | null }, [number, number, string]>(
        `UPDATE sites SET last_synced_at = max(coalesce(last_synced_at, 0), ?) WHERE id = ?2 AND sync_fingerprint = ?
           AND NOT EXISTS (SELECT 1 FROM tasks WHERE site_id = ?2 AND status IN ('pending', 'in_progress'))
         RETURNING sync_repeat`),
      ping: db.prepare("SELECT 1"),
      // The compared state alone: site_module_states holds every column of it.
      siteModules: db.prepare<unknown, [number]>(`SELECT ${STORED_MODULE_COLUMNS} FROM site_module_states WHERE site_id = ?`),
      // Whether the site exists (it may have been deleted since the request's access check) and is busy.
      // One row always: stamp null when there is no such site.
      siteState: db.prepare<{ stamp: number | null; busy: number }, [number]>(
        `SELECT (SELECT modules_stamp FROM sites WHERE id = ?1) AS stamp,
           EXISTS (SELECT 1 FROM tasks WHERE site_id = ?1 AND status IN ('pending', 'in_progress')) AS busy`),
      // max(): the time of the last sync never moves backwards, whichever of two racing syncs writes last.
      recordSync: db.prepare<never, [string, string | null, string | null, string | null, number, string | null, string | null, number, number | null, number]>(
        // A sync without ip_address (cron under drush has none) keeps the one last reported.
        // Times: syncTime (history.ts). details_changed_at: the sync's time when it changed held
        // modules' details, else null: kept (max() is null with a null).
        `UPDATE sites SET name = ?, core_version = ?, php_version = ?, ip_address = coalesce(?, ip_address),
           last_synced_at = ${syncTime("?")}, sync_fingerprint = ?, sync_repeat = ?, modules_stamp = ?,
           details_changed_at = coalesce(${syncTime("?")}, details_changed_at) WHERE id = ?`),
      claim: db.prepare<{ site_id: number }, [string, number, number, string, number]>(
        `UPDATE tasks SET status = 'in_progress', lease_owner = ?, lease_expires_at = ?, attempts = attempts + 1, updated_at = ?,
           site_was_empty = NOT EXISTS (SELECT 1 FROM site_module_states sm WHERE sm.site_id = tasks.site_id)
         WHERE id = ? AND (status = 'pending' OR (status = 'in_progress' AND lease_expires_at < ?5))
           AND NOT EXISTS (SELECT 1 FROM tasks e WHERE e.site_id = tasks.site_id AND e.seq < tasks.seq
                           AND e.status IN ('pending', 'in_progress'))
         RETURNING site_id`),
      // A few rows (FEW_STATE_UPDATES) each in a run of this; more in updateStates below.
      updateState: db.prepare<never, [number, number, number | null, number, number]>(
        "UPDATE site_module_states SET version_id = ?3, enabled = ?4, updated_at = ?2 WHERE site_id = ?1 AND module_id = ?5"),
      forgetFingerprint: db.prepare<never, [number, number]>("UPDATE sites SET sync_fingerprint = NULL, sync_repeat = NULL, modules_stamp = ? WHERE id = ?"),
      markDetailsChanged: db.prepare<never, [number, number]>(
        `UPDATE sites SET details_changed_at = ${syncTime("?")} WHERE id = ?`),
      ownedTask: db.prepare<TaskTableRow, [string, string]>("SELECT * FROM tasks WHERE id = ? AND lease_owner = ? AND status = 'in_progress'"),
      stagedAfter: db.prepare<{ idx: number; entry: string }, [number, number, number]>(
        "SELECT idx, entry FROM task_entries WHERE task_num = ? AND idx > ? AND entry IS NOT NULL ORDER BY idx LIMIT ?"),
      recordBatch: db.prepare<never, [number, number, number, number, number, number, number, string]>(
        `UPDATE tasks SET cursor = ?, current = current + ?, modules_created = modules_created + ?, modules_updated = modules_updated + ?,
           modules_unchanged = modules_unchanged + ?, lease_expires_at = ?, updated_at = ? WHERE id = ?`),
      removeUnnamed: db.prepare<never, [number, number]>(
        `DELETE FROM site_module_states WHERE site_id = ? AND module_id NOT IN (
           SELECT m.id FROM task_entries te JOIN modules m ON m.machine_name = te.machine_name WHERE te.task_num = ?)`),
      skippedEntries: db.prepare<{ error: string }, [number]>(
        `SELECT error FROM task_entries WHERE task_num = ? AND error IS NOT NULL ORDER BY idx LIMIT ${REPORTED_ERRORS}`),
      markCompleted: db.prepare<never, [number, string, number, number, string]>(
        `UPDATE tasks SET status = 'completed', modules_removed = ?, result = ?, finished_at = ?, updated_at = ?,
           lease_owner = NULL, lease_expires_at = NULL WHERE id = ?`),
      insertUpload: db.prepare<never, [string, number]>("INSERT INTO tasks (id, site_id, seq, status) VALUES (?, ?, 0, 'receiving')"),
      // A staging write counts its valid entries into the upload's total and
      // gets the internal key its rows use: accepting then counts no rows (a
      // scan of the whole upload, ~15 ms for 100,000 entries).
      stagedInto: db.prepare<{ num: number }, [number, string]>("UPDATE tasks SET total = total + ? WHERE id = ? RETURNING num"),
      deleteUpload: db.prepare<never, [string]>("DELETE FROM tasks WHERE id = ? AND status = 'receiving'"),
      accept: db.prepare<{ total: number }, [number, number, string, string, string, string | null, number, string]>(
        `UPDATE tasks SET status = 'pending', errors_total = ?, full_sync = ?, site_name = ?, core_version = ?, php_version = ?, ip_address = ?,
           seq = (SELECT coalesce(max(seq), 0) + 1 FROM tasks t WHERE t.site_id = tasks.site_id),
           updated_at = ?
         WHERE id = ? AND status = 'receiving'
         RETURNING total`),
      markFailed: db.prepare<never, [string, number, number, string, string]>(
        `UPDATE tasks SET status = 'failed', error = ?, finished_at = ?, updated_at = ?, lease_owner = NULL, lease_expires_at = NULL
         WHERE id = ? AND lease_owner = ? AND status = 'in_progress'`),
      release: db.prepare<never, [number, string, string]>(
        `UPDATE tasks SET status = 'pending', lease_owner = NULL, lease_expires_at = NULL, updated_at = ?
         WHERE id = ? AND lease_owner = ? AND status = 'in_progress'`),
      task: db.prepare<TaskTableRow, [string]>("SELECT * FROM tasks WHERE id = ?"),
      runnableTaskIds: db.prepare<{ id: string }, [number, number]>(
        `SELECT id FROM tasks WHERE status = 'pending' OR (status = 'in_progress' AND lease_expires_at < ?)
         ORDER BY created_at, seq LIMIT ?`),
      purge: db.prepare<never, [number, number]>(
        `DELETE FROM tasks WHERE (status IN ('completed', 'failed') AND finished_at < ?)
           OR (status = 'receiving' AND created_at < ?)`),
    };
    this.many = {
      // CROSS JOIN fixes the loop order: from the ids to this site's rows, one primary-key
      // lookup each. Left to itself the planner may scan every row of the site, for every batch of a large task.
      siteModulesAmong: new BatchStatement(db, 1, (values) =>
        `WITH site(id) AS (SELECT ?)
         SELECT ${STORED_MODULE_COLUMNS.split(", ").map((c) => `sm.${c}`).join(", ")}
         FROM (VALUES ${values}) AS ids CROSS JOIN site_module_states sm ON sm.site_id = (SELECT id FROM site) AND sm.module_id = ids.column1`),
      // RETURNING gives the ids of new rows; only rows that already existed need the SELECT after.
      insertModules: new BatchStatement(db, 1, (values) =>
        `INSERT INTO modules (machine_name) VALUES ${values} ON CONFLICT (machine_name) DO NOTHING RETURNING id, machine_name`),
      moduleIds: new BatchStatement(db, 1, (values) =>
        `SELECT id, machine_name FROM modules WHERE machine_name IN (VALUES ${values})`),
      insertVersions: new BatchStatement(db, 2, (values) =>
        `INSERT INTO module_versions (module_id, version) VALUES ${values} ON CONFLICT (module_id, version) DO NOTHING RETURNING id, module_id, version`),
      versionIds: new BatchStatement(db, 2, (values) =>
        `SELECT id, module_id, version FROM module_versions WHERE (module_id, version) IN (VALUES ${values})`),
      // A row's state, then its text (whose key refers to the state).
      upsertStates: new BatchStatement(db, 6, (values) =>
        `INSERT INTO site_module_states (site_id, module_id, version_id, enabled, details_hash, updated_at)
         VALUES ${values}
         ON CONFLICT (site_id, module_id) DO UPDATE SET
           version_id = excluded.version_id, enabled = excluded.enabled, details_hash = excluded.details_hash, updated_at = excluded.updated_at`),
      upsertDetails: new BatchStatement(db, 8, (values) =>
        `INSERT INTO site_module_details (site_id, module_id, display_name, module_type, extension_type, description, project, first_seen_at)
         VALUES ${values}
         ON CONFLICT (site_id, module_id) DO UPDATE SET
           display_name = excluded.display_name, module_type = excluded.module_type, extension_type = excluded.extension_type,
           description = excluded.description, project = excluded.project`),
      // Rows that exist, as an upsert: every row it names is one the site held by the modules the
      // sync started from, read under the file's write lock or kept with the stamp the site row
      // still holds (writes through the site_modules view reset it), so its insert branch is never
      // taken. On the narrow state table it costs half what `UPDATE … FROM (VALUES …)` does, which
      // materializes the list and collects the rows before writing (76 rows alone: 70-87 against
      // 137-160 µs; bench/README round 15).
      updateStates: new BatchStatement(db, 5, (values) =>
        `INSERT INTO site_module_states (site_id, module_id, version_id, enabled, updated_at) VALUES ${values}
         ON CONFLICT (site_id, module_id) DO UPDATE SET
           version_id = excluded.version_id, enabled = excluded.enabled, updated_at = excluded.updated_at`),
      remove: new BatchStatement(db, 1, (values) =>
        `DELETE FROM site_module_states WHERE site_id = ? AND module_id IN (VALUES ${values})`),
      stage: new BatchStatement(db, 5, (values) =>
        `INSERT INTO task_entries (task_num, idx, machine_name, entry, error) VALUES ${values}`),
    };
  }

  *userIdByToken(tokenHash: string): NowStep<number | null> {
    return this.one.userIdByToken.get(tokenHash)?.user_id ?? null;
  }

  *siteAccess(siteId: number, userId: number): NowStep<SiteAccess | null> {
    const row = this.one.siteAccess.get(siteId, userId);
    return row ? siteAccessFromRow(row) : null;
  }

  /** One statement when the site exists (the common case); the token alone otherwise. */
  *userSiteAccess(tokenHash: string, siteId: number | null): NowStep<UserSiteAccess | null> {
    const row = siteId === null ? null : this.one.userSiteAccess.get(tokenHash, siteId);
    if (row) return userSiteAccessFromRow(row);
    const userId = this.one.userIdByToken.get(tokenHash)?.user_id;
    return userId === undefined ? null : { userId, access: null };
  }

  *recordRepeatedSync(siteId: number, fingerprint: string, now: Date): NowStep<string | null> {
    return this.one.recordRepeatedSync.get(now.getTime(), siteId, fingerprint)?.sync_repeat ?? null;
  }

  *ping(): NowStep<void> {
    this.one.ping.get();
  }

  /** Every module of the site, by module id. */
  private siteModules(siteId: number): HeldModules {
    return heldModules(this.one.siteModules.values(siteId) as StoredModuleRow[]);
  }

  *siteModulesAmong(siteId: number, moduleIds: readonly number[]): NowStep<Map<number, StoredModule>> {
    return storedModules(this.many.siteModulesAmong.values<StoredModuleRow>(moduleIds.map((id) => [id]), [siteId]));
  }

  *moduleIds(names: readonly string[]): NowStep<[number, string][]> {
    const created = this.many.insertModules.values<[number, string]>(names.map((n) => [n]));
    if (created.length === names.length) return created;
    const createdNames = new Set(created.map(([, name]) => name));
    return created.concat(this.many.moduleIds.values<[number, string]>(names.filter((n) => !createdNames.has(n)).map((n) => [n])));
  }

  *existingModuleIds(names: readonly string[]): NowStep<number[]> {
    return this.many.moduleIds.values<[number, string]>(names.map((n) => [n])).map(([id]) => id);
  }

  *versionIds(pairs: readonly (readonly [number, string])[]): NowStep<[number, number, string][]> {
    const created = this.many.insertVersions.values<[number, number, string]>(pairs as [number, string][]);
    if (created.length === pairs.length) return created;
    const createdKeys = new Set(created.map(([, m, v]) => `${m}:${v}`));
    return created.concat(this.many.versionIds.values<[number, number, string]>(pairs.filter(([m, v]) => !createdKeys.has(`${m}:${v}`)) as [number, string][]));
  }

  *upsertSiteModules(siteId: number, entries: readonly SiteModuleState[], ids: EntryIds, now: Date): NowStep<void> {
    const ms = now.getTime();
    this.many.upsertStates.run(entries.map((w) => [siteId, ids.moduleId(w), ids.versionId(w), w.enabled ? 1 : 0, detailsHash(w), ms]));
    this.many.upsertDetails.run(entries.map((w) => [
      siteId, ids.moduleId(w), w.displayName, w.moduleType, w.extensionType, w.description, w.project, ms,
    ]));
  }

  *updateSiteModuleStates(siteId: number, entries: readonly SiteModuleState[], ids: EntryIds, now: Date): NowStep<void> {
    const ms = now.getTime();
    if (entries.length <= FEW_STATE_UPDATES) {
      for (const w of entries) this.one.updateState.run(siteId, ms, ids.versionId(w), w.enabled ? 1 : 0, ids.moduleId(w));
    } else this.many.updateStates.run(entries.map((w) => [siteId, ids.moduleId(w), ids.versionId(w), w.enabled ? 1 : 0, ms]));
  }

  *removeSiteModules(siteId: number, moduleIds: readonly number[]): NowStep<void> {
    this.many.remove.run(moduleIds.map((id) => [id]), [siteId]);
  }

  /**
   * BEGIN IMMEDIATE has taken the file's write lock already, so every site is
   * held: nothing to lock, only whether the site still exists (it may have
   * been deleted since the request's access check) and is busy, and its
   * modules stamp: `kept`'s modules while it is still theirs, else the rows.
   */
  *lockSiteModules(siteId: number, kept: SiteState | undefined): NowStep<SiteState | null> {
    const { stamp, busy } = this.one.siteState.get(siteId)!;
    if (stamp === null) throw new NotFoundError(`site ${siteId}`);
    if (busy) return null;
    if (kept?.stamp === stamp) return kept;
    return { stamp, modules: this.siteModules(siteId) };
  }

  *lockSiteModulesAssuming(siteId: number, kept: SiteState): NowStep<SiteState | null> {
    return yield* this.lockSiteModules(siteId, kept);
  }

  *writeSync(siteId: number, plan: SyncPlan, ids: EntryIds, now: Date, record: SyncRecord): NowStep<void> {
    yield* writePlan(this, siteId, plan, ids, now);
    yield* this.recordSync(siteId, record.site, now, record.fingerprint, record.repeat, record.history, record.stamp);
  }

  *recordSync(siteId: number, site: SiteEnvelope, now: Date, fingerprint: string | null, repeat: string | null, history: SyncHistory, stamp: number): NowStep<void> {
    yield* this.history.recordChanges(siteId, history.changes, site, now, history.taskId);
    this.one.recordSync.run(site.siteName, site.coreVersion, site.phpVersion, site.ipAddress, now.getTime(), fingerprint, repeat, stamp,
      history.detailsChanged ? now.getTime() : null, siteId);
  }

  *claim(taskId: string, owner: string, leaseMs: number, now: Date): NowStep<number | null> {
    const ms = now.getTime();
    return this.one.claim.get(owner, ms + leaseMs, ms, taskId, ms)?.site_id ?? null;
  }

  *forgetFingerprint(siteId: number, stamp: number): NowStep<void> {
    this.one.forgetFingerprint.run(stamp, siteId);
  }

  *markDetailsChanged(siteId: number, now: Date): NowStep<void> {
    this.one.markDetailsChanged.run(now.getTime(), siteId);
  }

  *ownedTask(taskId: string, owner: string): NowStep<TaskRow | null> {
    const row = this.one.ownedTask.get(taskId, owner);
    return row ? taskFromRow(row) : null;
  }

  *stagedAfter(taskNum: number, after: number, limit: number): NowStep<{ idx: number; entry: string }[]> {
    return this.one.stagedAfter.all(taskNum, after, limit);
  }

  *recordBatch(taskId: string, batch: BatchProgress, leaseMs: number, now: Date): NowStep<void> {
    const ms = now.getTime();
    const { counts } = batch;
    this.one.recordBatch.run(batch.cursor, batch.applied, counts.modulesCreated, counts.modulesUpdated, counts.modulesUnchanged, ms + leaseMs, ms, taskId);
  }

  *removeUnnamed(siteId: number, taskNum: number): NowStep<number> {
    return this.one.removeUnnamed.run(siteId, taskNum).changes;
  }

  *skippedEntries(taskNum: number): NowStep<EntryError[]> {
    return this.one.skippedEntries.all(taskNum).map((r) => JSON.parse(r.error) as EntryError);
  }

  *markCompleted(taskId: string, removed: number, result: string, now: Date): NowStep<void> {
    const ms = now.getTime();
    this.one.markCompleted.run(removed, result, ms, ms, taskId);
  }

  *insertUpload(taskId: string, siteId: number): NowStep<void> {
    this.one.insertUpload.run(taskId, siteId);
  }

  *stage(taskId: string, entries: readonly StagedEntry[]): NowStep<void> {
    this.stageAll(taskId, entries);
  }

  *deleteUpload(taskId: string): NowStep<void> {
    this.one.deleteUpload.run(taskId);
  }

  *accept(taskId: string, sync: AcceptedSync, now: Date): NowStep<number> {
    const info = sync.drupalInfo;
    return this.one.accept.get(sync.errorsTotal, sync.fullSync ? 1 : 0, sync.siteName, info.coreVersion, info.phpVersion, info.ipAddress, now.getTime(), taskId)?.total ?? 0;
  }

  *markFailed(taskId: string, owner: string, error: string, now: Date): NowStep<void> {
    const ms = now.getTime();
    this.one.markFailed.run(error, ms, ms, taskId, owner);
  }

  *release(taskId: string, owner: string, now: Date): NowStep<void> {
    this.one.release.run(now.getTime(), taskId, owner);
  }

  *task(taskId: string): NowStep<TaskRow | null> {
    const row = this.one.task.get(taskId);
    return row ? taskFromRow(row) : null;
  }

  *runnableTaskIds(limit: number, now: Date): NowStep<string[]> {
    return this.one.runnableTaskIds.all(now.getTime(), limit).map((r) => r.id);
  }

  *purge(finishedBefore: Date, abandonedBefore: Date): NowStep<number> {
    return this.one.purge.run(finishedBefore.getTime(), abandonedBefore.getTime()).changes;
  }
}
