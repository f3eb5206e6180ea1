// The top contrib modules of each organization, kept in organization_top_modules
// by the background thread (organizations/top-modules.ts) so that the summary
// reads ten rows instead of counting every site_modules row of the
// organization (seconds at 10,000 sites, on the thread serving requests).
import type { SqlExec, Statement } from "./releases/exec";

export interface TopModules {
  /** null: not computed yet (the organization has no site, or its first refresh has not run). */
  computedAt: Date | null;
  modules: { machineName: string; sites: number }[];
}

interface SignatureRow { organization_id: number; sites: number | string; synced: number | string | null; ids: number | string | null }


/**
 * What a refresh depends on, per organization: a site added or deleted changes
 * the count or the sum of ids, a sync its site's last_synced_at and so their sum
 * (a sum, not the latest: another instance's clock may be behind).
 */
const signatureOf = (r: SignatureRow) => `${Number(r.sites)}:${r.synced ?? 0}:${r.ids ?? 0}`;

/** A timestamp column in ms, on each dialect (read as text, a Postgres timestamp would need parsing). */
const MS = {
  sqlite: (column: string) => column,
  postgres: (column: string) => `(extract(epoch FROM ${column}) * 1000)::bigint`,
} as const;

export class TopModulesStore {
  constructor(private readonly db: SqlExec) {}

  /** Organizations whose sites changed since their last refresh (or never refreshed), with their current signature. */
  async due(): Promise<{ organizationId: number; signature: string }[]> {
    const [now, stored] = await Promise.all([
      this.db.all<SignatureRow>(`SELECT organization_id, count(*) AS sites, sum(${MS[this.db.dialect]("last_synced_at")}) AS synced, sum(id) AS ids
        FROM sites GROUP BY organization_id`),
      this.db.all<{ organization_id: number; signature: string }>("SELECT organization_id, signature FROM organization_summary_refreshes"),
    ]);
    const current = new Map(now.map((r) => [Number(r.organization_id), signatureOf(r)]));
    // An organization whose last site was deleted is due too: its list becomes empty.
    for (const r of stored) if (!current.has(Number(r.organization_id))) current.set(Number(r.organization_id), signatureOf({ ...r, sites: 0, synced: null, ids: 0 }));
    const before = new Map(stored.map((r) => [Number(r.organization_id), r.signature]));
    return [...current].filter(([id, signature]) => before.get(id) !== signature).map(([organizationId, signature]) => ({ organizationId, signature }));
  }

  /** Counts the organization's contrib modules (the heavy read) and replaces its top `limit`, all in one transaction. */
  async refresh(organizationId: number, signature: string, limit: number, now: Date): Promise<void> {
    // The details alone hold the module's type, and a row for every module a
    // site runs (written with its state): the view would join the states in for nothing.
    const top = await this.db.all<{ module_id: number; sites: number | string }>(
      `SELECT d.module_id, count(*) AS sites FROM sites s JOIN site_module_details d ON d.site_id = s.id
        WHERE s.organization_id = ? AND d.module_type = 'contrib'
        GROUP BY d.module_id ORDER BY count(*) DESC, d.module_id LIMIT ?`, [organizationId, limit]);
    const statements: Statement[] = [
      { sql: "DELETE FROM organization_top_modules WHERE organization_id = ?", params: [organizationId] },
      ...top.map((t) => ({
        sql: "INSERT INTO organization_top_modules (organization_id, module_id, sites) VALUES (?, ?, ?)",
        params: [organizationId, Number(t.module_id), Number(t.sites)],
      })),
      {
        sql: `INSERT INTO organization_summary_refreshes (organization_id, signature, computed_at) VALUES (?, ?, ?)
          ON CONFLICT (organization_id) DO UPDATE SET signature = excluded.signature, computed_at = excluded.computed_at`,
        params: [organizationId, signature, now],
      },
    ];
    await this.db.write(statements);
  }

  async read(organizationId: number): Promise<TopModules> {
    const rows = await this.db.all<{ computed_at: number | string; machine_name: string | null; sites: number | string | null }>(
      `SELECT ${MS[this.db.dialect]("r.computed_at")} AS computed_at, m.machine_name, t.sites FROM organization_summary_refreshes r
        LEFT JOIN organization_top_modules t ON t.organization_id = r.organization_id
        LEFT JOIN modules m ON m.id = t.module_id
        WHERE r.organization_id = ? ORDER BY t.sites DESC, t.module_id`, [organizationId]);
    if (rows.length === 0) return { computedAt: null, modules: [] };
    return {
      computedAt: new Date(Number(rows[0]!.computed_at)),
      modules: rows.filter((r) => r.machine_name !== null).map((r) => ({ machineName: r.machine_name!, sites: Number(r.sites) })),
    };
  }
}
