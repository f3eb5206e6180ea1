// SQLite's history statements (../history.ts): one statement per sync, which
// writes its change set (../change-sets.ts) as one row, the module changes as
// the JSON the sync built, with its core and PHP changes appended.
import type { Database } from "bun:sqlite";
import type { SiteChange } from "../../inventory";
import { appendToJsonArray, changesJson } from "../change-sets";
import type { HistoryStatements } from "../history";
import type { SiteEnvelope } from "../statements";
import type { NowStep } from "../steps";

/**
 * The time a sync that changes modules is recorded at (its change sets, the
 * site row's last_synced_at, details_changed_at): `now`, but at least 1 ms
 * after the site's last sync, whatever the clock says (another instance's may
 * lag behind, or read the same millisecond). The update statuses read a
 * site's sets after the time they last judged it
 * (../releases/sql-release-store.ts changedInventories). An expression over
 * the sites row in scope; `now` is the parameter that holds the clock's time.
 */
export const syncTime = (now: string) => `max(coalesce(last_synced_at, 0) + 1, ${now})`;

type RecordParams = { site: number; now: number; task: string | null; changes: string; modules: number; envelope: number; core: string | null; php: string | null };

export class SqliteHistoryStatements implements HistoryStatements<never> {
  private readonly record;
  private readonly unnamedRemovals;
  private readonly purge;

  constructor(db: Database) {
    // The site row still holds the previous sync's core and PHP versions: a
    // change of either is appended to the module changes (appendToJsonArray).
    const coreChanged = "($envelope AND s.last_synced_at IS NOT NULL AND s.core_version IS NOT $core)";
    const phpChanged = "($envelope AND s.last_synced_at IS NOT NULL AND s.php_version IS NOT $php)";
    const changes = appendToJsonArray("$changes", [
      [coreChanged, "json_object('k', 'core_version_changed', 'fv', s.core_version, 'tv', $core)"],
      [phpChanged, "json_object('k', 'php_version_changed', 'fv', s.php_version, 'tv', $php)"],
    ]);
    this.record = db.prepare<never, RecordParams>(
      `INSERT INTO site_change_sets (organization_id, site_id, changed_at, task_id, changes)
       SELECT s.organization_id, s.id, ${syncTime("$now")}, $task, ${changes}
       FROM sites s WHERE s.id = $site AND ($modules OR ${coreChanged} OR ${phpChanged})`);
    this.unnamedRemovals = db.prepare<never, [number, number, number, string]>(
      `INSERT INTO site_change_sets (organization_id, site_id, changed_at, task_id, changes)
       SELECT s.organization_id, s.id, ${syncTime("?3")}, ?4, json_group_array(json_object('k', 'module_removed', 'm', sm.module_id, 'f', sm.version_id))
       FROM sites s JOIN site_module_states sm ON sm.site_id = s.id
       WHERE s.id = ?1 AND sm.module_id NOT IN (
         SELECT m2.id FROM task_entries te JOIN modules m2 ON m2.machine_name = te.machine_name WHERE te.task_num = ?2)
       GROUP BY s.id`);
    this.purge = db.prepare<never, [number]>("DELETE FROM site_change_sets WHERE changed_at < ?");
  }

  *recordChanges(siteId: number, changes: readonly SiteChange[], site: SiteEnvelope | null, now: Date, taskId: string | null): NowStep<void> {
    if (changes.length === 0 && !site) return;
    this.record.run({
      site: siteId, now: now.getTime(), task: taskId, changes: changesJson(changes), modules: changes.length > 0 ? 1 : 0,
      envelope: site ? 1 : 0, core: site?.coreVersion ?? null, php: site?.phpVersion ?? null,
    });
  }

  *recordUnnamedRemovals(siteId: number, taskNum: number, now: Date, taskId: string): NowStep<void> {
    this.unnamedRemovals.run(siteId, taskNum, now.getTime(), taskId);
  }

  *purgeChanges(before: Date): NowStep<number> {
    return this.purge.run(before.getTime()).changes;
  }
}
