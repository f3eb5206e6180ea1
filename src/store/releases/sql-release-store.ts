// The release store, written once over SqlExec for both dialects.
import { UPDATE_STATUSES, type ProjectHistory, type UpdateStatus } from "../../releases";
import { hash53 } from "../../inventory";
import { modulesChanged } from "../change-sets";
import { toDate, type DbTime } from "../rows";
import type { SqlExec, Statement } from "./exec";
import type {
  ChangedSites, ExposedSite, HistoryDocument, PartialInventory, ProjectUpdateRow, RefreshTarget, ReleaseStore, SiteInventory, SiteUpdates, StatusCounts,
} from "./types";

/** Catalog ids whose text one release store keeps (catalogText): a few MB. */
const CATALOG_TEXT_CACHE = 100_000;

/**
 * Sites, and status rows, one write transaction holds at most (replaceSiteUpdates):
 * syncs wait for the write gate while it runs. A first computation writes ~50
 * rows a site: 50 sites' 2,550 rows held it 20 ms under a drift load.
 */
const SITES_PER_WRITE = 50;
const ROWS_PER_WRITE = 400;

/** Rows per multi-row INSERT: few distinct statement texts, far below both dialects' parameter limits. */
const ROWS_PER_INSERT = 200;

const UPDATE_COLUMNS = "project, installed_version, status, reason, recommended, latest_version, security_updates, also_available, links";

interface UpdateRowData {
  project: string;
  installed_version: string | null;
  status: UpdateStatus;
  reason: string | null;
  recommended: string | null;
  latest_version: string | null;
  security_updates: string;
  also_available: string;
  links: string;
}

const updateFromRow = (r: UpdateRowData): ProjectUpdateRow => ({
  project: r.project,
  installedVersion: r.installed_version,
  status: r.status,
  reason: r.reason,
  recommended: r.recommended,
  latestVersion: r.latest_version,
  securityUpdates: JSON.parse(r.security_updates) as string[],
  alsoAvailable: JSON.parse(r.also_available) as string[],
  links: JSON.parse(r.links) as ProjectUpdateRow["links"],
});

/** A row's columns after site_id, in UPDATE_COLUMNS order, as written. */
const updateValues = (p: ProjectUpdateRow): unknown[] => [
  p.project, p.installedVersion, p.status, p.reason, p.recommended, p.latestVersion,
  JSON.stringify(p.securityUpdates), JSON.stringify(p.alsoAvailable), JSON.stringify(p.links),
];

/**
 * A 53-bit hash (a safe integer: both dialects store it as such) of a row's
 * columns as written, NUL-joined (no stored text holds NUL), null told from
 * any string by its own tag (hash53).
 */
export function valuesHash(columns: readonly unknown[]): number {
  return hash53(columns.map((c) => (c === null ? "n" : `s${String(c)}`)).join("\0"));
}

function chunks<T>(items: T[], size = ROWS_PER_INSERT): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** `sites` in runs of at most SITES_PER_WRITE sites and, but for a site alone, ROWS_PER_WRITE rows. */
function writeChunks(sites: SiteUpdates[], rows: (site: SiteUpdates) => number): SiteUpdates[][] {
  const out: SiteUpdates[][] = [];
  let chunk: SiteUpdates[] = [];
  let held = 0;
  for (const site of sites) {
    const n = rows(site);
    if (chunk.length > 0 && (chunk.length === SITES_PER_WRITE || held + n > ROWS_PER_WRITE)) {
      out.push(chunk);
      chunk = [];
      held = 0;
    }
    chunk.push(site);
    held += n;
  }
  if (chunk.length > 0) out.push(chunk);
  return out;
}

/** One multi-row INSERT per chunk of rows. */
function inserts<T>(head: string, columns: number, rows: T[], values: (row: T) => unknown[], tail = ""): Statement[] {
  const tuple = `(${Array(columns).fill("?").join(", ")})`;
  return chunks(rows).map((chunk) => ({
    sql: `${head} VALUES ${chunk.map(() => tuple).join(", ")}${tail}`,
    params: chunk.flatMap(values),
  }));
}

interface SiteRowData {
  id: number;
  core_version: string | null;
  last_synced_at: DbTime | null;
  details_changed_at: DbTime | null;
  has_core: boolean | number;
  /** site_update_marks.synced_at: null when never judged or marked to be judged again. */
  mark: DbTime | null;
}

function inventoryOf(s: SiteRowData): SiteInventory {
  return { siteId: Number(s.id), coreVersion: s.core_version, syncedAt: toDate(s.last_synced_at), hasCore: Boolean(s.has_core), modules: [] };
}

export function emptyCounts(): StatusCounts {
  return Object.fromEntries(UPDATE_STATUSES.map((s) => [s, 0])) as StatusCounts;
}

/**
 * FROM and WHERE of the sites whose statuses are behind their inventory
 * (sitesToCompute, which says why), on either dialect: `s` the site, `u` its
 * mark. The bench waits on it too (bench/scenarios/changes.ts).
 */
export const SITES_TO_COMPUTE = `FROM sites s LEFT JOIN site_update_marks u ON u.site_id = s.id
  WHERE s.last_synced_at IS NOT NULL
    AND (u.site_id IS NULL OR u.synced_at IS NULL OR s.details_changed_at > u.synced_at
      OR (s.last_synced_at > u.synced_at
        AND EXISTS (SELECT 1 FROM site_change_sets c WHERE c.site_id = s.id AND c.changed_at > u.synced_at)))`;

/**
 * Joined to a site's mark `u`: its change sets `c` since the mark. On Postgres
 * a look-up of each mark's range of site_change_sets_site_idx, so that the
 * plan can no longer be a scan of every site's sets: as a plain join, on a
 * table never analyzed (autovacuum off) that had grown to 57,200 sets in a
 * 10,000-site bench run, it was planned as a parallel scan of them all,
 * hashed: 4,700 pages read and 26 ms a batch of 500 sites, against 255 and
 * 5 ms (bench/README round 39), and more as the history grows. The ORDER BY
 * is what keeps the subquery from being merged back into a join (no caller
 * relies on the order). SQLite, which has no LATERAL, plans the join as a
 * look-up per mark.
 */
const SETS_SINCE_MARK = {
  postgres: `CROSS JOIN LATERAL (SELECT c.task_id, c.changes FROM site_change_sets c
      WHERE c.site_id = u.site_id AND c.changed_at > u.synced_at ORDER BY c.changed_at, c.id) AS c`,
  sqlite: "JOIN site_change_sets c ON c.site_id = u.site_id AND c.changed_at > u.synced_at",
} as const;

export class SqlReleaseStore implements ReleaseStore {
  /**
   * Catalog text by id. The catalog's rows are never changed or deleted, so
   * what was read once stays true; bounded by being dropped whole when full.
   */
  private readonly moduleNames = new Map<number, string>();
  private readonly versionTexts = new Map<number, string>();

  /** `catalogTextLimit`: ids whose text each cache keeps. */
  constructor(private readonly db: SqlExec, private readonly catalogTextLimit = CATALOG_TEXT_CACHE) {}

  /** The text of each id (`select` reads `id` and `text` of a catalog table), from `cache` or read once for those it lacks. */
  private async catalogText(cache: Map<number, string>, select: string, ids: readonly number[]): Promise<Map<number, string>> {
    let missing = [...new Set(ids.filter((id) => !cache.has(id)))];
    if (missing.length === 0) return cache;
    if (cache.size + missing.length > this.catalogTextLimit) {
      cache.clear();
      missing = [...new Set(ids)]; // what was cached is gone too
    }
    for (const r of await this.db.all<{ id: number | string; text: string }>(`${select} WHERE ${this.db.inList("id", "int")}`, [JSON.stringify(missing)])) {
      cache.set(Number(r.id), r.text);
    }
    return cache;
  }

  async saveHistories(documents: HistoryDocument[], now: Date): Promise<string[]> {
    if (documents.length === 0) return [];
    const projects = documents.map((d) => d.history.project);
    const stored = new Map((await this.db.all<{ project: string; history: string }>(
      `SELECT project, history FROM release_projects WHERE ${this.db.inList("project", "text")}`, [JSON.stringify(projects)],
    )).map((r) => [r.project, r.history]));
    const rows = documents.map((d) => ({ ...d, json: JSON.stringify(d.history) }));
    const changed = rows.filter((r) => stored.get(r.history.project) !== r.json).map((r) => r.history.project);
    await this.db.write([
      ...inserts(
        "INSERT INTO release_projects (project, history, etag, last_modified, fetched_at, changed_at)", 6, rows,
        (r) => [r.history.project, r.json, r.etag ?? null, r.lastModified ?? null, now, now],
        ` ON CONFLICT (project) DO UPDATE SET history = excluded.history, etag = excluded.etag,
          last_modified = excluded.last_modified, fetched_at = excluded.fetched_at,
          changed_at = CASE WHEN release_projects.history = excluded.history THEN release_projects.changed_at ELSE excluded.changed_at END`,
      ),
      {
        sql: `UPDATE site_update_marks SET synced_at = NULL WHERE site_id IN
          (SELECT site_id FROM site_project_updates WHERE ${this.db.inList("project", "text")})`,
        params: [JSON.stringify(changed)],
      },
    ]);
    return changed;
  }

  async confirmHistories(projects: string[], now: Date): Promise<void> {
    if (projects.length === 0) return;
    await this.db.write([{
      sql: `UPDATE release_projects SET fetched_at = ? WHERE ${this.db.inList("project", "text")}`,
      params: [now, JSON.stringify(projects)],
    }]);
  }

  async histories(projects: string[]): Promise<Map<string, ProjectHistory>> {
    if (projects.length === 0) return new Map();
    const rows = await this.db.all<{ project: string; history: string }>(
      `SELECT project, history FROM release_projects WHERE ${this.db.inList("project", "text")}`, [JSON.stringify(projects)],
    );
    return new Map(rows.map((r) => [r.project, JSON.parse(r.history) as ProjectHistory]));
  }

  async historyStamps(projects: string[]): Promise<Map<string, string>> {
    if (projects.length === 0) return new Map();
    const rows = await this.db.all<{ project: string; changed_at: DbTime; size: number }>(
      `SELECT project, changed_at, LENGTH(history) AS size FROM release_projects WHERE ${this.db.inList("project", "text")}`,
      [JSON.stringify(projects)],
    );
    // The size too: two changes within one millisecond still differ.
    return new Map(rows.map((r) => [r.project, `${toDate(r.changed_at)?.getTime()}/${Number(r.size)}`]));
  }

  async invalidateSites(siteIds: number[]): Promise<void> {
    if (siteIds.length === 0) return;
    await this.db.write([{
      sql: `UPDATE site_update_marks SET synced_at = NULL WHERE ${this.db.inList("site_id", "int")}`,
      params: [JSON.stringify(siteIds)],
    }]);
  }

  async projectsInUse(): Promise<RefreshTarget[]> {
    const rows = await this.db.all<{ project: string; etag: string | null; last_modified: string | null }>(`
      SELECT p.project, r.etag, r.last_modified
      FROM (SELECT DISTINCT project FROM site_project_updates) p LEFT JOIN release_projects r ON r.project = p.project
      ORDER BY p.project`);
    return rows.map((r) => ({ project: r.project, etag: r.etag, lastModified: r.last_modified }));
  }

  /**
   * Sites never computed, whose release data changed (mark cleared), or whose
   * inventory changed since: a sync's changes are in site_change_sets, written in
   * its transaction at its sync time, so a re-sync that changed nothing (most
   * of them) costs the background thread nothing. (EXISTS, not max(): a seek
   * in site_change_sets_site_idx, where max() let SQLite walk the time index.)
   * A module's details (its project, its type) changed alone make no change
   * set: the sync that changed them set sites.details_changed_at.
   *
   * Only a site synced since its mark can have a change set since (the mark is
   * the site's last_synced_at as judged; a sync's change set and its site row
   * carry the same sync time; a background batch that changed anything sets
   * details_changed_at, task-work.ts): the others are passed over without a
   * look into site_change_sets. At 10,000 sites that look, made for every
   * site a pass walked by, was ~30% of Postgres's CPU in a drift round
   * (bench/README round 15).
   */
  async sitesToCompute(afterId: number, limit: number): Promise<number[]> {
    const rows = await this.db.all<{ id: number }>(`
      SELECT s.id ${SITES_TO_COMPUTE} AND s.id > ? ORDER BY s.id LIMIT ?`, [afterId, limit]);
    return rows.map((r) => Number(r.id));
  }

  async inventories(siteIds: number[]): Promise<SiteInventory[]> {
    if (siteIds.length === 0) return [];
    // The sites first: a sync that commits between the two reads leaves its
    // site marked older than its modules, so it is computed again.
    return this.withAllModules((await this.siteRows(JSON.stringify(siteIds))).map(inventoryOf));
  }

  async withAllModules(sites: readonly SiteInventory[]): Promise<SiteInventory[]> {
    if (sites.length === 0) return [];
    const bySite = new Map(sites.map((s) => [s.siteId, { ...s, modules: [] }]));
    // Of core modules only their presence counts (they are the drupal project
    // at core_version): asked of SQL (has_core), so that only contrib rows, a
    // third of a typical site's, are read out. The details by name, with the
    // list: through the view site_modules the list held only for the states
    // (its site_id), and Postgres read every contrib row of the details to
    // join them (5 s a batch of 500 sites at 10,000 sites; bench/README round
    // 36). Each row's version is a look-up by the states' key, whatever the
    // statistics say (a join was planned as a scan of every site's states).
    await this.addContribModules(bySite, `
      SELECT d.site_id, d.module_id,
        (SELECT sm.version_id FROM site_module_states sm WHERE sm.site_id = d.site_id AND sm.module_id = d.module_id) AS version_id, d.project
      FROM site_module_details d WHERE ${this.db.inList("d.site_id", "int")} AND d.module_type = 'contrib'`, [JSON.stringify([...bySite.keys()])]);
    return [...bySite.values()];
  }

  async changedInventories(siteIds: number[]): Promise<ChangedSites> {
    const whole: SiteInventory[] = [];
    if (siteIds.length === 0) return { whole, partial: [] };
    // The sites first, as in inventories(): what a sync commits after this read is judged in a later round.
    const partial = new Map<number, { inventory: PartialInventory; modules: Set<number> }>();
    for (const s of await this.siteRows(JSON.stringify(siteIds))) {
      const mark = toDate(s.mark);
      const detailsChangedAt = toDate(s.details_changed_at);
      if (mark !== null && (detailsChangedAt === null || detailsChangedAt <= mark)) {
        partial.set(Number(s.id), { inventory: { ...inventoryOf(s), judgesCore: false }, modules: new Set() });
      } else whole.push(inventoryOf(s));
    }
    if (partial.size === 0) return { whole, partial: [] };
    // The marks drive the join: each site's sets since its mark, a range of site_change_sets_site_idx.
    // A sync that commits after the mark (the site's last_synced_at) was read has a later
    // time, whatever its clock says: its site row, sets and details_changed_at are at least
    // 1 ms after the site's last sync (sqlite/statements.ts recordSync).
    const sets = await this.db.values<[siteId: number | string, taskId: string | null, changes: string]>(`
      SELECT u.site_id, c.task_id, c.changes FROM site_update_marks u ${SETS_SINCE_MARK[this.db.dialect]}
      WHERE ${this.db.inList("u.site_id", "int")}`, [JSON.stringify([...partial.keys()])]);
    for (const [siteId, taskId, changes] of sets) {
      const site = partial.get(Number(siteId));
      if (!site) continue;
      // A background sync's batches may have changed details, which no set records.
      const reach = taskId === null ? modulesChanged(changes, site.modules) : null;
      if (reach === null) {
        partial.delete(Number(siteId));
        whole.push(site.inventory);
      } else if (reach === "core") site.inventory.judgesCore = true;
    }
    const pairs = [...partial].flatMap(([siteId, p]) => [...p.modules].map((moduleId) => [siteId, moduleId]));
    if (pairs.length > 0) {
      // Each site's changed modules, a primary-key look-up each in both tables.
      await this.addContribModules(new Map([...partial].map(([id, p]) => [id, p.inventory])), `
        SELECT sm.site_id, sm.module_id, sm.version_id, d.project FROM ${this.db.pairTable()} AS x
        JOIN site_module_details d ON d.site_id = x.a AND d.module_id = x.b
        JOIN site_module_states sm ON sm.site_id = x.a AND sm.module_id = x.b WHERE d.module_type = 'contrib'`, [JSON.stringify(pairs)]);
    }
    return { whole: whole.sort((a, b) => a.siteId - b.siteId), partial: [...partial.values()].map((p) => p.inventory) };
  }

  /**
   * These sites (a JSON array of ids), with what judging them needs of their
   * row and their mark. has_core: whether the site runs Drupal core, which a
   * core version says (every sync sends one) without a look at its modules;
   * only a site without one (a row written by hand) is looked up. CASE
   * evaluates only the branch it takes: at 10,000 sites that look, a walk
   * into the site's rows (then of site_modules), read ~1 page a site from outside
   * Postgres's buffers: ~70 µs of statement time a drift request
   * (bench/README round 35). The look is the site's first core row, a scalar
   * subquery: Postgres may run an EXISTS once for all sites as a hashed
   * subplan, and did when its statistics still counted few rows (a database
   * grown since its last ANALYZE): every site's module rows read
   * (150,000 rows at 1,000 sites, 25-85 ms) for a batch of 150 sites. The
   * ORDER BY is what makes the plan walk the primary key from the site's
   * first row (a LIMIT alone was planned as a table scan on those statistics):
   * it stops at the first core row, a few entries into a site with core
   * modules (1.7 ms for the batch); a site without any walks all its rows.
   * (The whole read of a site's rows, in inventories(), is still planned by
   * the statistics: statuses-plans.test.ts.)
   */
  private siteRows(ids: string): Promise<SiteRowData[]> {
    return this.db.all<SiteRowData>(`
      SELECT id, core_version, last_synced_at, details_changed_at,
        CASE WHEN core_version <> '' THEN TRUE
          ELSE (SELECT 1 FROM site_module_details m WHERE m.site_id = sites.id AND m.module_type = 'core' ORDER BY m.module_id LIMIT 1) IS NOT NULL
        END AS has_core,
        (SELECT synced_at FROM site_update_marks u WHERE u.site_id = sites.id) AS mark
      FROM sites WHERE ${this.db.inList("id", "int")} ORDER BY id`, [ids]);
  }

  /**
   * Adds the rows `select` reads (site_id, module_id, version_id, project of
   * contrib rows) to their sites' inventories; names and versions come from
   * the catalog's text, read once per id (catalogText).
   */
  private async addContribModules(bySite: ReadonlyMap<number, SiteInventory>, select: string, params: unknown[]): Promise<void> {
    const rows = await this.db.values<[siteId: number | string, moduleId: number | string, versionId: number | string | null, project: string | null]>(select, params);
    const names = await this.catalogText(this.moduleNames, "SELECT id, machine_name AS text FROM modules", rows.map((m) => Number(m[1])));
    const versions = await this.catalogText(this.versionTexts, "SELECT id, version AS text FROM module_versions",
      rows.flatMap((m) => (m[2] === null ? [] : [Number(m[2])])));
    for (const [siteId, moduleId, versionId, project] of rows) {
      // An id the catalog lacks (Postgres keeps no foreign key to the catalog,
      // 0011 and 0016) is skipped (a module) or judged as no version, not a
      // failure of every round from then on.
      const machineName = names.get(Number(moduleId));
      if (machineName === undefined) continue;
      bySite.get(Number(siteId))?.modules.push({
        machineName, moduleType: "contrib", version: versionId === null ? null : versions.get(Number(versionId)) ?? null, project,
      });
    }
  }

  /**
   * Writes only what changed: most computations after a sync find the same
   * statuses. A row is told unchanged by its values_hash alone (reading the
   * rows' text back, and turning it into JSON to compare, cost more than
   * judging). Of a site judged whole, its stored hashes are read first: only
   * changed rows are written, and rows of projects it no longer runs deleted.
   * Of a site judged in part (`only`: the projects of the contrib modules
   * its syncs changed, and drupal when its judgement can have changed:
   * PartialInventory.judgesCore), nothing is read: each project judged is
   * upserted, its row left as it is where the hash is the same (on SQLite no
   * page written; on Postgres the row is still locked, in project order as
   * below), and each project of `only` it no longer runs deleted. Reading
   * those few rows by key first cost more than it saved (bench/README round
   * 32). Upserts, so two instances computing one site at once both succeed.
   */
  async replaceSiteUpdates(sites: SiteUpdates[], now: Date): Promise<void> {
    if (sites.length === 0) return;
    // Each site judged whole: its stored rows by project (read as arrays: no object per row).
    const stored = new Map<number, Map<string, number | null>>();
    const whole = sites.filter((s) => !s.only);
    if (whole.length > 0) {
      const rows = await this.db.values<[number | string, string, number | string | null]>(
        `SELECT site_id, project, values_hash FROM site_project_updates WHERE ${this.db.inList("site_id", "int")}`,
        [JSON.stringify(whole.map((s) => s.siteId))]);
      for (const [siteId, project, hash] of rows) {
        const id = Number(siteId);
        let ofSite = stored.get(id);
        if (!ofSite) stored.set(id, ofSite = new Map());
        ofSite.set(project, hash === null ? null : Number(hash));
      }
    }
    // Rows repeat across sites (one judgement per release): their values and hash are made once each.
    const values = new Map<ProjectUpdateRow, { columns: unknown[]; hash: number }>();
    const valuesOf = (p: ProjectUpdateRow) => {
      let v = values.get(p);
      if (!v) {
        const columns = updateValues(p);
        values.set(p, v = { columns, hash: valuesHash(columns) });
      }
      return v;
    };
    // Per site, the rows to write and the projects it no longer runs.
    const changedOf = new Map<number, { siteId: number; p: ProjectUpdateRow }[]>();
    const goneOf = new Map<number, [number, string][]>();
    for (const s of sites) {
      const rows = stored.get(s.siteId);
      const changed: { siteId: number; p: ProjectUpdateRow }[] = [];
      for (const p of s.projects) {
        // A site judged in part has no rows read: each of its rows is written, the upsert's hash test deciding.
        const same = rows !== undefined && rows.get(p.project) === valuesOf(p).hash;
        rows?.delete(p.project);
        if (!same) changed.push({ siteId: s.siteId, p });
      }
      // In project order, whatever order they were judged in: two instances
      // computing one site at once lock its rows in the same order (Postgres
      // would end one of them as a deadlock otherwise).
      changedOf.set(s.siteId, changed.sort((a, b) => (a.p.project < b.p.project ? -1 : a.p.project > b.p.project ? 1 : 0)));
      // What is left was stored for projects the site no longer runs.
      const gone = s.only ? s.only.filter((project) => !s.projects.some((p) => p.project === project)) : [...rows?.keys() ?? []];
      if (gone.length > 0) goneOf.set(s.siteId, gone.sort().map((project): [number, string] => [s.siteId, project]));
    }
    // A transaction per few sites, each site's rows with its mark: syncs, which
    // wait for the write lock, get it between them instead of after a whole batch.
    const bySite = [...sites].sort((a, b) => a.siteId - b.siteId);
    const rowsOf = (s: SiteUpdates) => 1 + changedOf.get(s.siteId)!.length + (goneOf.get(s.siteId)?.length ?? 0);
    for (const chunk of writeChunks(bySite, rowsOf)) {
      const goneHere = chunk.flatMap((s) => goneOf.get(s.siteId) ?? []);
      await this.db.write([
        ...(goneHere.length > 0
          ? [{ sql: `DELETE FROM site_project_updates WHERE (site_id, project) IN (${this.db.pairs()})`, params: [JSON.stringify(goneHere)] }]
          : []),
        ...inserts(`INSERT INTO site_project_updates (site_id, ${UPDATE_COLUMNS}, values_hash)`, 11, chunk.flatMap((s) => changedOf.get(s.siteId)!),
          ({ siteId, p }) => { const v = valuesOf(p); return [siteId, ...v.columns, v.hash]; },
          ` ON CONFLICT (site_id, project) DO UPDATE SET ${[...UPDATE_COLUMNS.split(", ").slice(1), "values_hash"].map((c) => `${c} = excluded.${c}`).join(", ")}
            WHERE site_project_updates.values_hash IS DISTINCT FROM excluded.values_hash`),
        ...inserts("INSERT INTO site_update_marks (site_id, synced_at, computed_at)", 3, chunk.filter((s) => !s.only), (s) => [s.siteId, s.syncedAt, now],
          " ON CONFLICT (site_id) DO UPDATE SET synced_at = excluded.synced_at, computed_at = excluded.computed_at"),
        // A mark cleared since it was read (release data saved: invalidateSites) stays cleared: the site is judged whole next.
        ...inserts("INSERT INTO site_update_marks (site_id, synced_at, computed_at)", 3, chunk.filter((s) => s.only), (s) => [s.siteId, s.syncedAt, now],
          ` ON CONFLICT (site_id) DO UPDATE SET synced_at = excluded.synced_at, computed_at = excluded.computed_at
            WHERE site_update_marks.synced_at IS NOT NULL`),
      ]);
    }
  }

  async siteUpdates(siteId: number): Promise<{ computedAt: Date | null; projects: ProjectUpdateRow[] }> {
    const [mark] = await this.db.all<{ computed_at: DbTime }>("SELECT computed_at FROM site_update_marks WHERE site_id = ?", [siteId]);
    const rows = await this.db.all<UpdateRowData>(
      `SELECT ${UPDATE_COLUMNS} FROM site_project_updates WHERE site_id = ? ORDER BY project`, [siteId]);
    return { computedAt: toDate(mark?.computed_at ?? null), projects: rows.map(updateFromRow) };
  }

  async statusCounts(siteIds: number[]): Promise<Map<number, StatusCounts>> {
    const counts = new Map(siteIds.map((id) => [id, emptyCounts()]));
    if (siteIds.length === 0) return counts;
    const rows = await this.db.all<{ site_id: number; status: UpdateStatus; n: number }>(`
      SELECT site_id, status, COUNT(*) AS n FROM site_project_updates
      WHERE ${this.db.inList("site_id", "int")} GROUP BY site_id, status`, [JSON.stringify(siteIds)]);
    for (const r of rows) {
      const c = counts.get(Number(r.site_id));
      if (c && r.status in c) c[r.status] = Number(r.n);
    }
    return counts;
  }

  async exposedSites(userId: number): Promise<ExposedSite[]> {
    const rows = await this.db.all<UpdateRowData & { id: number; name: string; url: string }>(`
      SELECT s.id, s.name, s.url, ${UPDATE_COLUMNS.split(", ").map((c) => `u.${c}`).join(", ")}
      FROM site_project_updates u JOIN sites s ON s.id = u.site_id
      WHERE u.status IN ('not_secure', 'revoked')
        AND s.organization_id IN (SELECT organization_id FROM memberships WHERE user_id = ?)
      ORDER BY s.id, u.project`, [userId]);
    const sites = new Map<number, ExposedSite>();
    for (const r of rows) {
      const id = Number(r.id);
      let site = sites.get(id);
      if (!site) sites.set(id, site = { site: { id, name: r.name, url: r.url }, projects: [] });
      site.projects.push(updateFromRow(r));
    }
    return [...sites.values()];
  }

  async countSitesNotSecure(): Promise<number> {
    const [row] = await this.db.all<{ n: number }>("SELECT COUNT(DISTINCT site_id) AS n FROM site_project_updates WHERE status = 'not_secure'");
    return Number(row?.n ?? 0);
  }

  async takeLease(name: string, owner: string, now: Date, leaseMs: number, everyMs: number): Promise<boolean> {
    const [, taken] = await this.db.write([
      { sql: "INSERT INTO upkeep_leases (name) VALUES (?) ON CONFLICT (name) DO NOTHING", params: [name] },
      {
        sql: `UPDATE upkeep_leases SET owner = ?, expires_at = ?
          WHERE name = ? AND (expires_at IS NULL OR expires_at < ?) AND (last_done_at IS NULL OR last_done_at <= ?)`,
        params: [owner, new Date(now.getTime() + leaseMs), name, now, new Date(now.getTime() - everyMs)],
      },
    ]);
    return taken === 1;
  }

  async renewLease(name: string, owner: string, now: Date, leaseMs: number): Promise<boolean> {
    const [renewed] = await this.db.write([{
      sql: "UPDATE upkeep_leases SET expires_at = ? WHERE name = ? AND owner = ?",
      params: [new Date(now.getTime() + leaseMs), name, owner],
    }]);
    return renewed === 1;
  }

  async finishLease(name: string, owner: string, now: Date): Promise<void> {
    await this.db.write([{
      sql: "UPDATE upkeep_leases SET owner = NULL, expires_at = NULL, last_done_at = ? WHERE name = ? AND owner = ?",
      params: [now, name, owner],
    }]);
  }
}
