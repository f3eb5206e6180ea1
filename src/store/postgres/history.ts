// Postgres's history statements (../history.ts): one round trip per sync,
// which writes its change set (../change-sets.ts) as one row, the module
// changes as the JSON the sync built, with its core and PHP changes appended.
import type postgres from "postgres";
import type { SiteChange } from "../../inventory";
import { appendToJsonArray, changesJson } from "../change-sets";
import type { HistoryStatements } from "../history";
import type { SiteEnvelope } from "../statements";
import { waitFor, type AwaitingStep } from "../steps";

const at = (time: Date) => time.toISOString();

/** The time a sync that changes modules is recorded at: `now`, but at least 1 ms after the site's last sync (see ../sqlite/history.ts syncTime). */
export function syncTime(tx: postgres.Sql | postgres.TransactionSql, now: Date) {
  return tx`GREATEST(last_synced_at + interval '1 millisecond', ${at(now)}::timestamptz)`;
}

export class PostgresHistoryStatements implements HistoryStatements<PromiseLike<unknown>> {
  constructor(private readonly tx: postgres.Sql | postgres.TransactionSql) {}

  *recordChanges(siteId: number, changes: readonly SiteChange[], site: SiteEnvelope | null, now: Date, taskId: string | null): AwaitingStep<void> {
    if (changes.length === 0 && !site) return;
    yield* waitFor(this.changeSetInsert(siteId, changes, site, now, taskId));
  }

  /**
   * The INSERT of recordChanges, as a fragment: PostgresStatements.recordSync
   * runs it in the WITH of its UPDATE of the site row, one round trip for
   * both (a data-modifying WITH reads the row as it was before the UPDATE:
   * every part of a statement sees one snapshot).
   */
  changeSetInsert(siteId: number, changes: readonly SiteChange[], site: SiteEnvelope | null, now: Date, taskId: string | null) {
    // The site row still holds the previous sync's core and PHP versions: a
    // change of either is appended to the module changes (appendToJsonArray).
    // The changes' JSON is bound once, in the LATERAL, and read from there by each branch.
    const changesText = this.tx.unsafe(appendToJsonArray("p.changes", [
      ["p.core_changed", "json_build_object('k', 'core_version_changed', 'fv', s.core_version, 'tv', p.core)::text"],
      ["p.php_changed", "json_build_object('k', 'php_version_changed', 'fv', s.php_version, 'tv', p.php)::text"],
    ]));
    const core = site?.coreVersion ?? null;
    const php = site?.phpVersion ?? null;
    const envelope = site !== null;
    return this.tx`
      INSERT INTO site_change_sets (organization_id, site_id, changed_at, task_id, changes)
      SELECT s.organization_id, s.id, ${syncTime(this.tx, now)}, ${taskId}::text, ${changesText}
      FROM sites s, LATERAL (SELECT ${changesJson(changes)}::text AS changes, ${core}::text AS core, ${php}::text AS php,
        (${envelope}::boolean AND s.last_synced_at IS NOT NULL AND s.core_version IS DISTINCT FROM ${core}::text) AS core_changed,
        (${envelope}::boolean AND s.last_synced_at IS NOT NULL AND s.php_version IS DISTINCT FROM ${php}::text) AS php_changed) p
      WHERE s.id = ${siteId} AND (${changes.length > 0}::boolean OR p.core_changed OR p.php_changed)`;
  }

  *recordUnnamedRemovals(siteId: number, taskNum: number, now: Date, taskId: string): AwaitingStep<void> {
    yield* waitFor(this.tx`
      INSERT INTO site_change_sets (organization_id, site_id, changed_at, task_id, changes)
      SELECT s.organization_id, s.id, ${syncTime(this.tx, now)}, ${taskId}, json_agg(json_build_object('k', 'module_removed', 'm', sm.module_id, 'f', sm.version_id))::text
      FROM sites s JOIN site_module_states sm ON sm.site_id = s.id
      WHERE s.id = ${siteId} AND sm.module_id NOT IN (
        SELECT m2.id FROM task_entries te JOIN modules m2 ON m2.machine_name = te.machine_name WHERE te.task_num = ${taskNum})
      GROUP BY s.id, s.organization_id`);
  }

  *purgeChanges(before: Date): AwaitingStep<number> {
    const result = yield* waitFor(this.tx`DELETE FROM site_change_sets WHERE changed_at < ${at(before)}::timestamptz`);
    return result.count;
  }
}
