// Reading and writing one site's modules on Postgres, in bulk: shared by the
// synchronous sync and by background batches. Runs on a transaction that
// holds the site's row lock. Batches of rows travel as one JSON parameter
// (json_to_recordset): one round trip per step whatever the batch size.
import type postgres from "postgres";
import { planSync, type CurrentModule, type KnownIds, type ModuleType, type SiteModuleState, type SyncPlan } from "../../inventory";
import { IdResolution } from "../resolve";

type CurrentRow = {
  module_id: number; machine_name: string; version: string | null; enabled: boolean;
  display_name: string; module_type: ModuleType; description: string | null; project: string | null;
};

function toCurrent(rows: readonly CurrentRow[]): Map<string, CurrentModule> {
  const current = new Map<string, CurrentModule>();
  for (const r of rows) {
    current.set(r.machine_name, {
      moduleId: r.module_id, machineName: r.machine_name, version: r.version, enabled: r.enabled,
      displayName: r.display_name, moduleType: r.module_type, description: r.description, project: r.project,
    });
  }
  return current;
}

export class PostgresModules {
  constructor(private readonly tx: postgres.TransactionSql) {}

  /** Every module of the site. */
  async current(siteId: number): Promise<Map<string, CurrentModule>> {
    return toCurrent(await this.tx<CurrentRow[]>`
      SELECT sm.module_id, m.machine_name, v.version, sm.enabled, sm.display_name, sm.module_type, sm.description, sm.project
      FROM site_modules sm JOIN modules m ON m.id = sm.module_id
      LEFT JOIN module_versions v ON v.id = sm.version_id
      WHERE sm.site_id = ${siteId}`);
  }

  /** The site's modules among `names` (a background batch compares only those). */
  async currentAmong(siteId: number, names: readonly string[]): Promise<Map<string, CurrentModule>> {
    return toCurrent(await this.tx<CurrentRow[]>`
      SELECT sm.module_id, m.machine_name, v.version, sm.enabled, sm.display_name, sm.module_type, sm.description, sm.project
      FROM site_modules sm JOIN modules m ON m.id = sm.module_id
      LEFT JOIN module_versions v ON v.id = sm.version_id
      WHERE sm.site_id = ${siteId}
        AND m.machine_name IN (SELECT value FROM json_array_elements_text(${JSON.stringify(names)}::json))`);
  }

  /** Compares, then writes what changed and removes what the plan removes; returns the plan and learned ids. */
  async apply(siteId: number, current: ReadonlyMap<string, CurrentModule>, entries: readonly SiteModuleState[], fullSync: boolean, keep: ReadonlySet<string>, known: KnownIds | undefined, now: string): Promise<{ plan: SyncPlan; learned: KnownIds }> {
    const tx = this.tx;
    const plan = planSync(current, entries, fullSync, keep);
    const ids = new IdResolution(plan.writes, known);
    if (plan.writes.length > 0) {
      await this.resolve(ids);
      const upserts = plan.writes.map((w) => ({
        m: ids.moduleId(w.machineName), v: ids.versionId(w), e: w.enabled,
        d: w.displayName, t: w.moduleType, s: w.description, p: w.project,
      }));
      await tx`
        INSERT INTO site_modules (site_id, module_id, version_id, enabled, display_name, module_type, description, project, first_seen_at, updated_at)
        SELECT ${siteId}, m, v, e, d, t, s, p, ${now}::timestamptz, ${now}::timestamptz
        FROM json_to_recordset(${JSON.stringify(upserts)}::json) AS x(m int, v bigint, e boolean, d text, t text, s text, p text)
        ON CONFLICT (site_id, module_id) DO UPDATE SET
          version_id = excluded.version_id, enabled = excluded.enabled, display_name = excluded.display_name,
          module_type = excluded.module_type, description = excluded.description, project = excluded.project,
          updated_at = excluded.updated_at`;
    }
    if (plan.removals.length > 0) {
      await tx`DELETE FROM site_modules WHERE site_id = ${siteId}
               AND module_id IN (SELECT value::int FROM json_array_elements_text(${JSON.stringify(plan.removals)}::json))`;
    }
    return { plan, learned: ids.learned };
  }

  private async resolve(ids: IdResolution): Promise<void> {
    const tx = this.tx;
    // ORDER BY in the inserts: concurrent syncs adding the same new catalog
    // rows lock them in one order, so they wait for each other instead of deadlocking.
    const names = ids.unknownModules();
    if (names.length > 0) {
      const json = JSON.stringify(names);
      await tx`INSERT INTO modules (machine_name) SELECT value FROM json_array_elements_text(${json}::json)
               ORDER BY 1 ON CONFLICT (machine_name) DO NOTHING`;
      const found = await tx<{ id: number; machine_name: string }[]>`
        SELECT id, machine_name FROM modules WHERE machine_name IN (SELECT value FROM json_array_elements_text(${json}::json))`;
      ids.addModules(found.map((r) => [r.id, r.machine_name] as const));
    }
    const pairs = ids.unknownVersions();
    if (pairs.length > 0) {
      const json = JSON.stringify(pairs.map(([m, v]) => ({ m, v })));
      await tx`INSERT INTO module_versions (module_id, version)
               SELECT m, v FROM json_to_recordset(${json}::json) AS x(m int, v text) ORDER BY 1, 2
               ON CONFLICT (module_id, version) DO NOTHING`;
      const found = await tx<{ id: string | number; module_id: number; version: string }[]>`
        SELECT mv.id, mv.module_id, mv.version FROM json_to_recordset(${json}::json) AS x(m int, v text)
        JOIN module_versions mv ON mv.module_id = x.m AND mv.version = x.v`;
      ids.addVersions(found.map((r) => [Number(r.id), r.module_id, r.version] as const));
    }
  }
}
