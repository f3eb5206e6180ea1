// The modules each site held after this process's last sync of it, so that
// its next sync need not read them again (a tenth to a fifth of a changed
// re-sync's main-thread time went to reading and decoding those rows).
//
// Exact, never stale: each state is kept with the stamp its sync wrote to
// the site row (sites.modules_stamp), and is used only when the site row
// still holds that stamp, read in the sync's own transaction. Anything else
// that changes the site's modules (another process's sync, a background task
// from its claim on) writes a stamp of its own; on Postgres, triggers also
// reset it to 0 on every statement that changes site_modules (migration
// 0010), so that writers of earlier versions are seen during a rolling upgrade.
import { detailsHash, type EntryIds, type StoredModule, type SyncPlan } from "../inventory";

/** A site's modules by module id, and the stamp written with them. */
export interface SiteState {
  stamp: number;
  modules: Map<number, StoredModule>;
}

/**
 * Module rows kept across all sites: about 120 bytes each (measured), so
 * ~35 MB. A thousand sites of 150 modules fit; past that the least recently
 * synced sites are dropped (and read from the database again). A site
 * holding no module counts as one row.
 */
export const SITE_STATE_ROWS = 300_000;

/** A new stamp: random below 2^53 (exact in a JS number and in both dialects' columns), never 0, the column's default. */
export function newModulesStamp(): number {
  return 1 + Math.floor(Math.random() * (2 ** 53 - 1));
}

/**
 * The site's modules once `plan` is written, made from `current` itself once
 * the sync has committed (copying 150 entries cost more than the read it
 * spares): nothing else uses it by then, since a site's syncs never overlap
 * and a sync that started from the same kept state would have found the
 * stamp this one wrote.
 */
export function applyPlan(current: Map<number, StoredModule>, plan: SyncPlan, ids: EntryIds): Map<number, StoredModule> {
  for (const w of plan.writes) {
    const moduleId = ids.moduleId(w.machineName);
    // A release's 76 writes keep their details: their hash is the one held (the plan compared it), not hashed again.
    const hash = plan.sameDetails.has(w) ? current.get(moduleId)!.detailsHash : detailsHash(w);
    current.set(moduleId, { moduleId, versionId: ids.versionId(w), enabled: w.enabled, detailsHash: hash });
  }
  for (const moduleId of plan.removals) current.delete(moduleId);
  return current;
}

export class SiteStates {
  /** Least recently kept first (Map order), each with its row count when kept. */
  private readonly bySite = new Map<number, { state: SiteState; rows: number }>();
  private rows = 0;

  constructor(private readonly maxRows = SITE_STATE_ROWS) {}

  get(siteId: number): SiteState | undefined {
    return this.bySite.get(siteId)?.state;
  }

  /** Keeps the state a committed sync left. */
  set(siteId: number, state: SiteState): void {
    this.delete(siteId);
    const rows = Math.max(1, state.modules.size);
    if (rows > this.maxRows) return;
    this.bySite.set(siteId, { state, rows });
    this.rows += rows;
    for (const [oldest, kept] of this.bySite) {
      if (this.rows <= this.maxRows) break;
      this.bySite.delete(oldest);
      this.rows -= kept.rows;
    }
  }

  delete(siteId: number): void {
    const kept = this.bySite.get(siteId);
    if (kept === undefined) return;
    this.bySite.delete(siteId);
    this.rows -= kept.rows;
  }

  /** Module rows held, all sites together. */
  get size(): number {
    return this.rows;
  }
}
