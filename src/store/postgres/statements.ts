// The statements of Postgres (../statements.ts) on postgres-js, on a pooled
// connection or on one transaction's: each step yields its query (the
// runner awaits it). Tagged statements are prepared once per connection;
// batches of rows travel as one JSON parameter (json_to_recordset), so a
// step is one round trip whatever the batch size. Steps that touch a site's
// modules run with the site's row lock held (lockSite, ownedTask).
import type postgres from "postgres";
import { detailsHash, REPORTED_ERRORS, splitWrites, type AcceptedSync, type EntryError, type EntryIds, type SiteModuleState, type StoredModule, type SyncPlan } from "../../inventory";
import { heldModules, STORED_MODULE_COLUMNS, storedModules, type StoredModuleRow } from "../current";
import {
  SITE_ACCESS_COLUMNS, siteAccessFromRow, taskFromRow, userSiteAccessFromRow, type SiteAccessRow, type TaskRow, type TaskTableRow, type UserSiteAccessRow,
} from "../rows";
import { KeptStateStaleError, type SiteState } from "../site-states";
import { encodeEntry, validEntries } from "../staging";
import type { BatchProgress, SiteEnvelope, StoreStatements, SyncHistory, SyncRecord } from "../statements";
import { waitFor, type AwaitingStep } from "../steps";
import type { StagedEntry } from "../task-types";
import { NotFoundError, type SiteAccess, type UserSiteAccess } from "../types";
import { FEW_STATE_UPDATES } from "../write-plan";
import { PostgresHistoryStatements, syncTime } from "./history";

/** A time as a timestamptz parameter (drizzle's client sends times as text). */
const at = (time: Date) => time.toISOString();

/** A transaction's end, for statements that run in one (PostgresRunner.transaction). */
export interface TransactionEnd {
  /** Sends COMMIT, after every statement already issued, and returns its answer; once per transaction. */
  commit(): PromiseLike<unknown>;
}

export class PostgresStatements implements StoreStatements<PromiseLike<unknown>> {
  private readonly currentColumns;
  readonly history: PostgresHistoryStatements;

  /** The lock and check sent by lockSiteModulesAssuming, answered with the writes (commitWith). */
  private assumed: Promise<unknown> | null = null;

  /** `tx`: a transaction's connection, or the pool; `end`: how that transaction commits. */
  constructor(private readonly tx: postgres.Sql | postgres.TransactionSql, private readonly end: TransactionEnd | null = null) {
    this.history = new PostgresHistoryStatements(tx);
    this.currentColumns = tx.unsafe(STORED_MODULE_COLUMNS);
  }

  /**
   * Sends a step's last statements, in order, with COMMIT right behind them
   * (one write, one round trip fewer), and waits for them. Should one fail,
   * the server has rolled the transaction back before the COMMIT, which then
   * answers as a ROLLBACK; the failure is what this throws. Only for the last
   * statements of a transaction: anything issued after would run outside it.
   */
  private *commitWith(last: readonly (postgres.PendingQuery<postgres.Row[]> | null)[]): AwaitingStep<void> {
    if (this.end === null) {
      yield* waitFor(Promise.all(last));
      return;
    }
    // execute() hands each to the connection now. Awaiting alone would not:
    // Promise.all reaches a query's then() a microtask later, after a COMMIT
    // executed at once, which would then go out first.
    const sent = last.map((query) => query?.execute() ?? null);
    const assumed = this.assumed;
    this.assumed = null;
    const answers = yield* waitFor(Promise.allSettled([assumed, ...sent, this.end.commit()]));
    // In the order sent: a failed check (the first) is why everything after it failed.
    for (const answer of answers) if (answer.status === "rejected") throw answer.reason;
  }

  *userIdByToken(tokenHash: string): AwaitingStep<number | null> {
    const [row] = yield* waitFor(this.tx<{ user_id: number }[]>`
      SELECT user_id FROM api_tokens WHERE token_hash = ${tokenHash} AND revoked_at IS NULL`);
    return row?.user_id ?? null;
  }

  *siteAccess(siteId: number, userId: number): AwaitingStep<SiteAccess | null> {
    const [row] = yield* waitFor(this.tx<SiteAccessRow[]>`
      SELECT ${this.tx.unsafe(SITE_ACCESS_COLUMNS)}, (SELECT m.role FROM memberships m WHERE m.organization_id = s.organization_id AND m.user_id = ${userId}) AS role
      FROM sites s WHERE s.id = ${siteId}`);
    return row ? siteAccessFromRow(row) : null;
  }

  /** One round trip for both of the above. */
  *userSiteAccess(tokenHash: string, siteId: number | null): AwaitingStep<UserSiteAccess | null> {
    const [row] = yield* waitFor(this.tx<UserSiteAccessRow[]>`
      SELECT t.user_id, ${this.tx.unsafe(SITE_ACCESS_COLUMNS)}, (SELECT m.role FROM memberships m WHERE m.organization_id = s.organization_id AND m.user_id = t.user_id) AS role
      FROM api_tokens t LEFT JOIN sites s ON s.id = ${siteId}::integer
      WHERE t.token_hash = ${tokenHash} AND t.revoked_at IS NULL`);
    return row ? userSiteAccessFromRow(row) : null;
  }

  /** The UPDATE waits for any sync of this site in flight (row lock), then matches or not. */
  *recordRepeatedSync(siteId: number, fingerprint: string, now: Date): AwaitingStep<string | null> {
    const [row] = yield* waitFor(this.tx<{ sync_repeat: string | null }[]>`
      UPDATE sites SET last_synced_at = GREATEST(last_synced_at, ${at(now)}::timestamptz)
      WHERE id = ${siteId} AND sync_fingerprint = ${fingerprint}
        AND NOT EXISTS (SELECT 1 FROM tasks WHERE site_id = ${siteId} AND status IN ('pending', 'in_progress'))
      RETURNING sync_repeat`);
    return row?.sync_repeat ?? null;
  }

  *ping(): AwaitingStep<void> {
    yield* waitFor(this.tx`SELECT 1`);
  }

  *siteModulesAmong(siteId: number, moduleIds: readonly number[]): AwaitingStep<Map<number, StoredModule>> {
    const rows = yield* waitFor(this.tx`
      SELECT ${this.currentColumns} FROM site_module_states WHERE site_id = ${siteId}
        AND module_id IN (SELECT value::int FROM json_array_elements_text(${JSON.stringify(moduleIds)}::json))`.values());
    return storedModules(rows as unknown as StoredModuleRow[]);
  }

  // ORDER BY in the inserts: concurrent syncs adding the same new catalog
  // rows lock them in one order, so they wait for each other instead of deadlocking.

  // RETURNING gives the ids of new rows; only rows that already existed need
  // the SELECT after (a round trip saved when every row is new, as a new version usually is).

  *moduleIds(names: readonly string[]): AwaitingStep<[number, string][]> {
    const json = JSON.stringify(names);
    const created = yield* waitFor(this.tx<{ id: number; machine_name: string }[]>`
      INSERT INTO modules (machine_name) SELECT value FROM json_array_elements_text(${json}::json)
      ORDER BY 1 ON CONFLICT (machine_name) DO NOTHING RETURNING id, machine_name`);
    const ids = created.map((r): [number, string] => [r.id, r.machine_name]);
    if (created.length === names.length) return ids;
    const found = yield* waitFor(this.tx<{ id: number; machine_name: string }[]>`
      SELECT id, machine_name FROM modules WHERE machine_name IN (SELECT value FROM json_array_elements_text(${json}::json))`);
    return found.map((r) => [r.id, r.machine_name]);
  }

  *existingModuleIds(names: readonly string[]): AwaitingStep<number[]> {
    const found = yield* waitFor(this.tx<{ id: number }[]>`
      SELECT id FROM modules WHERE machine_name IN (SELECT value FROM json_array_elements_text(${JSON.stringify(names)}::json))`);
    return found.map((r) => r.id);
  }

  *versionIds(pairs: readonly (readonly [number, string])[]): AwaitingStep<[number, number, string][]> {
    const json = JSON.stringify(pairs.map(([m, v]) => ({ m, v })));
    const created = yield* waitFor(this.tx<{ id: string | number; module_id: number; version: string }[]>`
      INSERT INTO module_versions (module_id, version)
      SELECT m, v FROM json_to_recordset(${json}::json) AS x(m int, v text) ORDER BY 1, 2
      ON CONFLICT (module_id, version) DO NOTHING RETURNING id, module_id, version`);
    if (created.length === pairs.length) return created.map((r) => [Number(r.id), r.module_id, r.version]);
    const found = yield* waitFor(this.tx<{ id: string | number; module_id: number; version: string }[]>`
      SELECT mv.id, mv.module_id, mv.version FROM json_to_recordset(${json}::json) AS x(m int, v text)
      JOIN module_versions mv ON mv.module_id = x.m AND mv.version = x.v`);
    return found.map((r) => [Number(r.id), r.module_id, r.version]);
  }

  *upsertSiteModules(siteId: number, entries: readonly SiteModuleState[], ids: EntryIds, now: Date): AwaitingStep<void> {
    yield* waitFor(this.upsertQuery(siteId, entries, ids, now));
  }

  private upsertQuery(siteId: number, entries: readonly SiteModuleState[], ids: EntryIds, now: Date) {
    const rows = entries.map((w) => ({
      m: ids.moduleId(w), v: ids.versionId(w), e: w.enabled,
      d: w.displayName, t: w.moduleType, k: w.extensionType, s: w.description, p: w.project, h: detailsHash(w),
    }));
    // One statement for both tables: all or none. A row's first_seen_at stays.
    return this.tx`
      WITH x AS (SELECT * FROM json_to_recordset(${JSON.stringify(rows)}::json) AS x(m int, v bigint, e boolean, d text, t text, k text, s text, p text, h bigint)),
      states AS (
        INSERT INTO site_module_states (site_id, module_id, version_id, enabled, details_hash, updated_at)
        SELECT ${siteId}, m, v, e, h, ${at(now)}::timestamptz FROM x
        ON CONFLICT (site_id, module_id) DO UPDATE SET
          version_id = excluded.version_id, enabled = excluded.enabled, details_hash = excluded.details_hash, updated_at = excluded.updated_at)
      INSERT INTO site_module_details (site_id, module_id, display_name, module_type, extension_type, description, project, first_seen_at)
      SELECT ${siteId}, m, d, t, k, s, p, ${at(now)}::timestamptz FROM x
      ON CONFLICT (site_id, module_id) DO UPDATE SET
        display_name = excluded.display_name, module_type = excluded.module_type, extension_type = excluded.extension_type,
        description = excluded.description, project = excluded.project`;
  }

  *updateSiteModuleStates(siteId: number, entries: readonly SiteModuleState[], ids: EntryIds, now: Date): AwaitingStep<void> {
    yield* waitFor(Promise.all(this.updateStatesQueries(siteId, entries, ids, now)));
  }

  /**
   * Every row they name was read, under the site's lock, in this transaction:
   * none can be missing. Up to FEW_STATE_UPDATES rows (../write-plan.ts) as
   * an UPDATE each by the primary key, sent together; more as one UPDATE
   * from a JSON list.
   */
  private updateStatesQueries(siteId: number, entries: readonly SiteModuleState[], ids: EntryIds, now: Date) {
    if (entries.length <= FEW_STATE_UPDATES) {
      return entries.map((w) => this.tx`
        UPDATE site_module_states SET version_id = ${ids.versionId(w)}, enabled = ${w.enabled}, updated_at = ${at(now)}::timestamptz
        WHERE site_id = ${siteId} AND module_id = ${ids.moduleId(w)}`);
    }
    const rows = entries.map((w) => ({ m: ids.moduleId(w), v: ids.versionId(w), e: w.enabled }));
    return [this.tx`
      UPDATE site_module_states sm SET version_id = x.v, enabled = x.e, updated_at = ${at(now)}::timestamptz
      FROM json_to_recordset(${JSON.stringify(rows)}::json) AS x(m int, v bigint, e boolean)
      WHERE sm.site_id = ${siteId} AND sm.module_id = x.m`];
  }

  *removeSiteModules(siteId: number, moduleIds: readonly number[]): AwaitingStep<void> {
    yield* waitFor(this.removeQuery(siteId, moduleIds));
  }

  /** The details go with the states (a trigger: migration 0020). */
  private removeQuery(siteId: number, moduleIds: readonly number[]) {
    return this.tx`DELETE FROM site_module_states WHERE site_id = ${siteId}
                   AND module_id IN (SELECT value::int FROM json_array_elements_text(${JSON.stringify(moduleIds)}::json))`;
  }

  /**
   * The row lock serialises syncs of one site across connections and
   * instances. FOR NO KEY UPDATE (the lock an UPDATE of the row takes, which
   * conflicts with itself), not FOR UPDATE: FOR UPDATE also blocks the
   * KEY SHARE lock a foreign-key check takes on the site, so every INSERT of
   * a row that references the site (its update statuses, written by the
   * background thread for many sites per transaction) waited for the site's
   * sync, and the site's next sync for that transaction's commit.
   */
  *lockSite(siteId: number): AwaitingStep<void> {
    const locked = yield* waitFor(this.lockQuery(siteId));
    if (locked.length === 0) throw new NotFoundError(`site ${siteId}`);
  }

  *lockSiteModulesAssuming(siteId: number, kept: SiteState): AwaitingStep<SiteState | null> {
    if (this.end === null) throw new Error("lockSiteModulesAssuming outside a transaction");
    // Handed to the connection now (execute): they go out ahead of the writes, in the same write.
    const lock = this.lockQuery(siteId).execute();
    const check = this.tx`SELECT modsync_check_kept_site(${siteId}, ${kept.stamp})`.execute();
    this.assumed = Promise.all([lock, check]).catch((err: unknown) => {
      throw (err as { code?: unknown }).code === "MS409" ? new KeptStateStaleError(siteId) : err;
    });
    // Awaited by commitWith; should the steps fail before it, their own error is the one thrown.
    this.assumed.catch(() => {});
    return kept;
  }

  private lockQuery(siteId: number) {
    return this.tx`SELECT id FROM sites WHERE id = ${siteId} FOR NO KEY UPDATE`;
  }

  /**
   * One round trip: the lock and the read are sent together (pipelined). The
   * server runs them in order, and the read, a statement of its own, takes
   * its snapshot once the lock is held: it sees what the site's last sync
   * committed and every task accepted before. The read gives the busy flag,
   * then the modules stamp and the module columns (none when busy or when
   * the site still holds `kept`'s stamp; one row of nulls when the site holds
   * none).
   */
  *lockSiteModules(siteId: number, kept: SiteState | undefined): AwaitingStep<SiteState | null> {
    // The site's rows come back as one JSON value, not a row each: the driver
    // decodes every column of every row from text one at a time (about a
    // tenth of a changed sync's main-thread time), where JSON.parse reads the
    // whole array natively. details_hash is below 2^53: exact as a JSON number.
    // -1 is no stamp: a site never synced holds 0. writes_stamps: this
    // transaction writes the site's new stamp itself (recordSync), so the
    // triggers on the site's module tables (migrations 0010, 0020) need not reset it.
    const [locked, read] = yield* waitFor(Promise.all([
      this.lockQuery(siteId),
      this.tx<{ busy: boolean; stamp: string | null; same: boolean | null; modules: StoredModuleRow[] | null }[]>`
        SELECT set_config('modsync.writes_stamps', 'on', true) AS writes_stamps, b.busy, s.modules_stamp AS stamp, s.modules_stamp = ${kept?.stamp ?? -1} AS same, CASE WHEN b.busy OR s.modules_stamp = ${kept?.stamp ?? -1} THEN NULL ELSE (
          SELECT json_agg(json_build_array(${this.currentColumns})) FROM site_module_states WHERE site_id = ${siteId}) END AS modules
        FROM (SELECT EXISTS (SELECT 1 FROM tasks WHERE site_id = ${siteId} AND status IN ('pending', 'in_progress')) AS busy) b
          LEFT JOIN sites s ON s.id = ${siteId}`,
    ]));
    if (locked.length === 0) throw new NotFoundError(`site ${siteId}`);
    // One row always: the EXISTS subquery's (and the site's, locked above).
    const { busy, stamp, same, modules } = read[0]!;
    if (busy) return null;
    // The server's own comparison decides, as it decided whether to send the rows.
    if (same === true) return kept!;
    // A bigint column comes back as a string; every stamp is below 2^53.
    return { stamp: Number(stamp), modules: heldModules(modules ?? []) };
  }

  /**
   * One round trip: the plan's writes (as writePlan in ../write-plan.ts makes
   * them, in its order) and the site row's (with the change set) sent
   * together, and COMMIT with them: a sync's last statements.
   */
  *writeSync(siteId: number, plan: SyncPlan, ids: EntryIds, now: Date, record: SyncRecord): AwaitingStep<void> {
    const { whole, stateOnly } = splitWrites(plan);
    yield* this.commitWith([
      whole.length > 0 ? this.upsertQuery(siteId, whole, ids, now) : null,
      ...this.updateStatesQueries(siteId, stateOnly, ids, now),
      plan.removals.length > 0 ? this.removeQuery(siteId, plan.removals) : null,
      this.recordSyncQuery(siteId, record.site, now, record.fingerprint, record.repeat, record.history, record.stamp),
    ]);
  }

  *recordSync(siteId: number, site: SiteEnvelope, now: Date, fingerprint: string | null, repeat: string | null, history: SyncHistory, stamp: number): AwaitingStep<void> {
    yield* waitFor(this.recordSyncQuery(siteId, site, now, fingerprint, repeat, history, stamp));
  }

  /** One statement: the change set is inserted in the WITH of the UPDATE (PostgresHistoryStatements.changeSetInsert). */
  private recordSyncQuery(siteId: number, site: SiteEnvelope, now: Date, fingerprint: string | null, repeat: string | null, history: SyncHistory, stamp: number) {
    return this.tx`
      WITH recorded AS (${this.history.changeSetInsert(siteId, history.changes, site, now, history.taskId)})
      UPDATE sites SET name = ${site.siteName}, core_version = ${site.coreVersion}, php_version = ${site.phpVersion},
        ip_address = coalesce(${site.ipAddress}, ip_address),
        last_synced_at = ${syncTime(this.tx, now)},
        sync_fingerprint = ${fingerprint}, sync_repeat = ${repeat}, modules_stamp = ${stamp},
        details_changed_at = CASE WHEN ${history.detailsChanged}::boolean THEN ${syncTime(this.tx, now)} ELSE details_changed_at END
      WHERE id = ${siteId}`;
  }

  // Task times are the database's clock_timestamp() (`now` unused), but for
  // the completion time, which the result reports too.

  *insertUpload(taskId: string, siteId: number): AwaitingStep<void> {
    yield* waitFor(this.tx`INSERT INTO tasks (id, site_id, seq, status) VALUES (${taskId}, ${siteId}, 0, 'receiving')`);
  }

  /** One statement: all or none. */
  *stage(taskId: string, entries: readonly StagedEntry[]): AwaitingStep<void> {
    const rows = entries.map((e) => ({
      i: e.index, n: e.machineName, e: e.entry ? encodeEntry(e.entry) : null, r: e.error ? JSON.stringify(e.error) : null,
    }));
    // The valid entries count into the upload's total as they are staged: accepting counts no rows.
    yield* waitFor(this.tx`
      WITH upload AS (UPDATE tasks SET total = total + ${validEntries(entries)} WHERE id = ${taskId} RETURNING num)
      INSERT INTO task_entries (task_num, idx, machine_name, entry, error)
      SELECT (SELECT num FROM upload), i, n, e, r
      FROM json_to_recordset(${JSON.stringify(rows)}::json) AS x(i int, n text, e text, r text)`);
  }

  *deleteUpload(taskId: string): AwaitingStep<void> {
    yield* waitFor(this.tx`DELETE FROM tasks WHERE id = ${taskId} AND status = 'receiving'`);
  }

  *accept(taskId: string, sync: AcceptedSync): AwaitingStep<number> {
    const [task] = yield* waitFor(this.tx<{ site_id: number }[]>`SELECT site_id FROM tasks WHERE id = ${taskId}`);
    if (!task) return 0;
    // The site's row lock orders this acceptance with the site's synchronous syncs.
    yield* waitFor(this.tx`SELECT id FROM sites WHERE id = ${task.site_id} FOR NO KEY UPDATE`);
    const info = sync.drupalInfo;
    // total: the valid entries staged, counted as they were (stage); 0 for an upload no longer receiving, as on SQLite.
    const [accepted] = yield* waitFor(this.tx<{ total: number }[]>`
      UPDATE tasks SET status = 'pending', errors_total = ${sync.errorsTotal}, full_sync = ${sync.fullSync}, site_name = ${sync.siteName},
        core_version = ${info.coreVersion}, php_version = ${info.phpVersion}, ip_address = ${info.ipAddress},
        seq = (SELECT coalesce(max(seq), 0) + 1 FROM tasks t WHERE t.site_id = ${task.site_id}), updated_at = clock_timestamp()
      WHERE id = ${taskId} AND status = 'receiving'
      RETURNING total`);
    return accepted?.total ?? 0;
  }

  *claim(taskId: string, owner: string, leaseMs: number): AwaitingStep<number | null> {
    const [claimed] = yield* waitFor(this.tx<{ site_id: number }[]>`
      UPDATE tasks SET status = 'in_progress', lease_owner = ${owner},
        lease_expires_at = clock_timestamp() + ${leaseMs} * interval '1 millisecond', attempts = attempts + 1, updated_at = clock_timestamp(),
        site_was_empty = NOT EXISTS (SELECT 1 FROM site_module_states sm WHERE sm.site_id = tasks.site_id)
      WHERE id = ${taskId} AND (status = 'pending' OR (status = 'in_progress' AND lease_expires_at < clock_timestamp()))
        AND NOT EXISTS (SELECT 1 FROM tasks e WHERE e.site_id = tasks.site_id AND e.seq < tasks.seq
                        AND e.status IN ('pending', 'in_progress'))
      RETURNING site_id`);
    return claimed?.site_id ?? null;
  }

  *forgetFingerprint(siteId: number, stamp: number): AwaitingStep<void> {
    yield* waitFor(this.tx`UPDATE sites SET sync_fingerprint = NULL, sync_repeat = NULL, modules_stamp = ${stamp} WHERE id = ${siteId}`);
  }

  *markDetailsChanged(siteId: number, now: Date): AwaitingStep<void> {
    yield* waitFor(this.tx`UPDATE sites SET details_changed_at = ${syncTime(this.tx, now)} WHERE id = ${siteId}`);
  }

  *ownedTask(taskId: string, owner: string): AwaitingStep<TaskRow | null> {
    const [row] = yield* waitFor(this.tx<TaskTableRow[]>`
      SELECT * FROM tasks WHERE id = ${taskId} AND lease_owner = ${owner} AND status = 'in_progress' FOR UPDATE`);
    if (!row) return null;
    yield* this.lockSite(row.site_id);
    return taskFromRow(row);
  }

  *stagedAfter(taskNum: number, after: number, limit: number): AwaitingStep<{ idx: number; entry: string }[]> {
    return yield* waitFor(this.tx<{ idx: number; entry: string }[]>`
      SELECT idx, entry FROM task_entries WHERE task_num = ${taskNum} AND idx > ${after} AND entry IS NOT NULL
      ORDER BY idx LIMIT ${limit}`);
  }

  *recordBatch(taskId: string, batch: BatchProgress, leaseMs: number): AwaitingStep<void> {
    const { counts } = batch;
    yield* waitFor(this.tx`
      UPDATE tasks SET cursor = ${batch.cursor}, current = current + ${batch.applied},
        modules_created = modules_created + ${counts.modulesCreated}, modules_updated = modules_updated + ${counts.modulesUpdated},
        modules_unchanged = modules_unchanged + ${counts.modulesUnchanged},
        lease_expires_at = clock_timestamp() + ${leaseMs} * interval '1 millisecond', updated_at = clock_timestamp()
      WHERE id = ${taskId}`);
  }

  *removeUnnamed(siteId: number, taskNum: number): AwaitingStep<number> {
    const result = yield* waitFor(this.tx`
      DELETE FROM site_module_states WHERE site_id = ${siteId} AND module_id NOT IN (
        SELECT m.id FROM task_entries te JOIN modules m ON m.machine_name = te.machine_name WHERE te.task_num = ${taskNum})`);
    return result.count;
  }

  *skippedEntries(taskNum: number): AwaitingStep<EntryError[]> {
    const rows = yield* waitFor(this.tx<{ error: string }[]>`
      SELECT error FROM task_entries WHERE task_num = ${taskNum} AND error IS NOT NULL ORDER BY idx LIMIT ${REPORTED_ERRORS}`);
    return rows.map((r) => JSON.parse(r.error) as EntryError);
  }

  *markCompleted(taskId: string, removed: number, result: string, now: Date): AwaitingStep<void> {
    yield* waitFor(this.tx`
      UPDATE tasks SET status = 'completed', modules_removed = ${removed}, result = ${result},
        finished_at = ${at(now)}::timestamptz, updated_at = clock_timestamp(), lease_owner = NULL, lease_expires_at = NULL
      WHERE id = ${taskId}`);
  }

  *markFailed(taskId: string, owner: string, error: string): AwaitingStep<void> {
    yield* waitFor(this.tx`
      UPDATE tasks SET status = 'failed', error = ${error}, finished_at = clock_timestamp(), updated_at = clock_timestamp(),
        lease_owner = NULL, lease_expires_at = NULL
      WHERE id = ${taskId} AND lease_owner = ${owner} AND status = 'in_progress'`);
  }

  *release(taskId: string, owner: string): AwaitingStep<void> {
    yield* waitFor(this.tx`
      UPDATE tasks SET status = 'pending', lease_owner = NULL, lease_expires_at = NULL, updated_at = clock_timestamp()
      WHERE id = ${taskId} AND lease_owner = ${owner} AND status = 'in_progress'`);
  }

  *task(taskId: string): AwaitingStep<TaskRow | null> {
    const [row] = yield* waitFor(this.tx<TaskTableRow[]>`SELECT * FROM tasks WHERE id = ${taskId}`);
    return row ? taskFromRow(row) : null;
  }

  *runnableTaskIds(limit: number): AwaitingStep<string[]> {
    const rows = yield* waitFor(this.tx<{ id: string }[]>`
      SELECT id FROM tasks WHERE status = 'pending' OR (status = 'in_progress' AND lease_expires_at < clock_timestamp())
      ORDER BY created_at, seq LIMIT ${limit}`);
    return rows.map((r) => r.id);
  }

  *purge(finishedBefore: Date, abandonedBefore: Date): AwaitingStep<number> {
    const result = yield* waitFor(this.tx`
      DELETE FROM tasks WHERE (status IN ('completed', 'failed') AND finished_at < ${at(finishedBefore)}::timestamptz)
        OR (status = 'receiving' AND created_at < ${at(abandonedBefore)}::timestamptz)`);
    return result.count;
  }
}
