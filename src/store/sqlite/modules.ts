// Reading and writing one site's modules on SQLite, in bulk: shared by the
// synchronous sync and by background batches. Call inside a write transaction.
import type { Database } from "bun:sqlite";
import { planSync, type CurrentModule, type KnownIds, type ModuleType, type SiteModuleState, type SyncPlan } from "../../inventory";
import { IdResolution } from "../resolve";
import { BatchStatement } from "./batch";

type CurrentRow = [number, string, string | null, number, string, ModuleType, string | null, string | null];
const CURRENT_COLUMNS = `sm.module_id, m.machine_name, v.version, sm.enabled, sm.display_name, sm.module_type, sm.description, sm.project
  FROM site_modules sm JOIN modules m ON m.id = sm.module_id LEFT JOIN module_versions v ON v.id = sm.version_id`;

function toCurrent(rows: CurrentRow[]): Map<string, CurrentModule> {
  const current = new Map<string, CurrentModule>();
  for (const [moduleId, machineName, version, enabled, displayName, moduleType, description, project] of rows) {
    current.set(machineName, { moduleId, machineName, version, enabled: enabled === 1, displayName, moduleType, description, project });
  }
  return current;
}

export class SqliteModules {
  private readonly allCurrent;
  private readonly batch;

  constructor(db: Database) {
    this.allCurrent = db.prepare<unknown, [number]>(`SELECT ${CURRENT_COLUMNS} WHERE sm.site_id = ?`);
    this.batch = {
      // CROSS JOIN fixes the loop order: from the names, to their modules, to this site's rows.
      // Left to itself the planner scans every row of the site, for every batch of a large task.
      someCurrent: new BatchStatement(db, 1, (values) =>
        `WITH site(id) AS (SELECT ?)
         SELECT sm.module_id, m.machine_name, v.version, sm.enabled, sm.display_name, sm.module_type, sm.description, sm.project
         FROM (VALUES ${values}) AS names CROSS JOIN modules m ON m.machine_name = names.column1
         CROSS JOIN site_modules sm ON sm.site_id = (SELECT id FROM site) AND sm.module_id = m.id
         LEFT JOIN module_versions v ON v.id = sm.version_id`),
      // RETURNING gives the ids of new rows; only rows that already existed need the SELECT after.
      insertModules: new BatchStatement(db, 1, (values) =>
        `INSERT INTO modules (machine_name) VALUES ${values} ON CONFLICT (machine_name) DO NOTHING RETURNING id, machine_name`),
      moduleIds: new BatchStatement(db, 1, (values) =>
        `SELECT id, machine_name FROM modules WHERE machine_name IN (VALUES ${values})`),
      insertVersions: new BatchStatement(db, 2, (values) =>
        `INSERT INTO module_versions (module_id, version) VALUES ${values} ON CONFLICT (module_id, version) DO NOTHING RETURNING id, module_id, version`),
      versionIds: new BatchStatement(db, 2, (values) =>
        `SELECT id, module_id, version FROM module_versions WHERE (module_id, version) IN (VALUES ${values})`),
      upsert: new BatchStatement(db, 10, (values) =>
        `INSERT INTO site_modules (site_id, module_id, version_id, enabled, display_name, module_type, description, project, first_seen_at, updated_at)
         VALUES ${values}
         ON CONFLICT (site_id, module_id) DO UPDATE SET
           version_id = excluded.version_id, enabled = excluded.enabled, display_name = excluded.display_name,
           module_type = excluded.module_type, description = excluded.description, project = excluded.project,
           updated_at = excluded.updated_at`),
      remove: new BatchStatement(db, 1, (values) =>
        `DELETE FROM site_modules WHERE site_id = ? AND module_id IN (VALUES ${values})`),
    };
  }

  /** Every module of the site. */
  current(siteId: number): Map<string, CurrentModule> {
    return toCurrent(this.allCurrent.values(siteId) as CurrentRow[]);
  }

  /** The site's modules among `names` (a background batch compares only those). */
  currentAmong(siteId: number, names: readonly string[]): Map<string, CurrentModule> {
    return toCurrent(this.batch.someCurrent.values<CurrentRow>(names.map((n) => [n]), [siteId]));
  }

  /** Compares, then writes what changed and removes what the plan removes; returns the plan and learned ids. */
  apply(siteId: number, current: ReadonlyMap<string, CurrentModule>, entries: readonly SiteModuleState[], fullSync: boolean, keep: ReadonlySet<string>, known: KnownIds | undefined, now: number): { plan: SyncPlan; learned: KnownIds } {
    const plan = planSync(current, entries, fullSync, keep);
    const ids = new IdResolution(plan.writes, known);
    if (plan.writes.length > 0) {
      this.resolve(ids);
      this.batch.upsert.run(plan.writes.map((w) => [
        siteId, ids.moduleId(w.machineName), ids.versionId(w),
        w.enabled ? 1 : 0, w.displayName, w.moduleType, w.description, w.project, now, now,
      ]));
    }
    if (plan.removals.length > 0) this.batch.remove.run(plan.removals.map((id) => [id]), [siteId]);
    return { plan, learned: ids.learned };
  }

  private resolve(ids: IdResolution): void {
    const names = ids.unknownModules();
    if (names.length > 0) {
      const created = this.batch.insertModules.values<[number, string]>(names.map((n) => [n]));
      ids.addModules(created);
      if (created.length < names.length) {
        const createdNames = new Set(created.map(([, name]) => name));
        ids.addModules(this.batch.moduleIds.values<[number, string]>(names.filter((n) => !createdNames.has(n)).map((n) => [n])));
      }
    }
    const pairs = ids.unknownVersions();
    if (pairs.length > 0) {
      const created = this.batch.insertVersions.values<[number, number, string]>(pairs);
      ids.addVersions(created);
      if (created.length < pairs.length) {
        const createdKeys = new Set(created.map(([, m, v]) => `${m}:${v}`));
        ids.addVersions(this.batch.versionIds.values<[number, number, string]>(pairs.filter(([m, v]) => !createdKeys.has(`${m}:${v}`))));
      }
    }
  }

}
