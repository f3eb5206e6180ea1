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
 * Module rows kept across all sites, packed (below): 24 bytes a row, ~28 with
 * each site's own objects (measured: 4,186 bytes of heap per site of 150
 * modules), so ~42 MB for 10,000 such sites, each also counted for its
 * ROWS_PER_SITE. Past that the least recently synced sites are dropped and
 * read from the database again. Kept as maps of objects, a row took ~120
 * bytes, so 2,000 such sites filled as much, and every one of those objects
 * was more for each garbage collection to trace (bench/README round 9).
 */
const SITE_STATE_ROWS = 1_600_000;

/** What a kept site costs besides its rows (its entry, its array, its fingerprint: ~230 bytes), counted as rows. */
const ROWS_PER_SITE = 8;

/** Slots per packed row: the module id (negative when disabled), the version id (0 for none), the details hash. */
const SLOTS = 3;

/**
 * A site's modules as kept: three doubles per row, exact for every id and for
 * the 53-bit hash. Catalog ids start at 1, so a module id's sign is free to
 * hold the enabled flag and 0 is free to stand for "no version". Null when a
 * row does not fit that (then the site is not kept).
 */
export function packModules(modules: ReadonlyMap<number, StoredModule>): Float64Array | null {
  const packed = new Float64Array(modules.size * SLOTS);
  let at = 0;
  for (const m of modules.values()) {
    if (!(m.moduleId >= 1) || (m.versionId !== null && !(m.versionId >= 1))) return null;
    packed[at++] = m.enabled ? m.moduleId : -m.moduleId;
    packed[at++] = m.versionId ?? 0;
    packed[at++] = m.detailsHash;
  }
  return packed;
}

/** The modules packModules packed, as a map of the caller's own (a sync changes it: applyPlan). */
export function unpackModules(packed: Float64Array): Map<number, StoredModule> {
  const modules = new Map<number, StoredModule>();
  for (let at = 0; at < packed.length; at += SLOTS) {
    const signedId = packed[at]!;
    const moduleId = Math.abs(signedId);
    const versionId = packed[at + 1]!;
    modules.set(moduleId, { moduleId, versionId: versionId === 0 ? null : versionId, enabled: signedId > 0, detailsHash: packed[at + 2]! });
  }
  return modules;
}

/** A new stamp: random below 2^53 (exact in a JS number and in both dialects' columns), never 0, the column's default. */
export function newModulesStamp(): number {
  return 1 + Math.floor(Math.random() * (2 ** 53 - 1));
}

/**
 * The site's modules once `plan` is written, made from `current` itself (the
 * sync's own map: read from the database, or unpacked for it by
 * SiteStates.get), and only once the sync has committed, so that a sync that
 * fails changes nothing kept.
 */
export function applyPlan(current: Map<number, StoredModule>, plan: SyncPlan, ids: EntryIds): Map<number, StoredModule> {
  for (const w of plan.writes) {
    const moduleId = ids.moduleId(w);
    // A release's 76 writes keep their details: their hash is the one held (the plan compared it), not hashed again.
    const hash = plan.sameDetails.has(w) ? current.get(moduleId)!.detailsHash : detailsHash(w);
    current.set(moduleId, { moduleId, versionId: ids.versionId(w), enabled: w.enabled, detailsHash: hash });
  }
  for (const moduleId of plan.removals) current.delete(moduleId);
  return current;
}

export class SiteStates {
  /**
   * Least recently kept first (Map order), each with the rows it counts for
   * (its modules and rowsPerSite), and the fingerprint its sync stored.
   */
  private readonly bySite = new Map<number, { stamp: number; packed: Float64Array; rows: number; fingerprint: string | null }>();
  private rows = 0;

  constructor(private readonly maxRows = SITE_STATE_ROWS, private readonly rowsPerSite = ROWS_PER_SITE) {}

  /** The kept state, its modules unpacked into a map of this caller's own. */
  get(siteId: number): SiteState | undefined {
    const kept = this.bySite.get(siteId);
    return kept && { stamp: kept.stamp, modules: unpackModules(kept.packed) };
  }

  /**
   * Whether a body of this fingerprint may be a repeat of the site's last
   * sync: false only when this process's last sync of the site stored
   * another fingerprint (or none). Then the stored one differs too, unless
   * another process has since stored this very one: the sync is applied
   * instead of replayed, to the same answer (the site holds exactly its
   * entries), only dearer. A changed re-sync thus costs no replay attempt
   * (on SQLite a write in the turn's batch, on Postgres a round trip).
   */
  mayRepeat(siteId: number, fingerprint: string): boolean {
    const kept = this.bySite.get(siteId);
    return kept === undefined || kept.fingerprint === fingerprint;
  }

  /**
   * Keeps the state a committed sync left, packed (a copy: the map stays the
   * caller's), with the fingerprint that sync stored (null: none).
   */
  set(siteId: number, state: SiteState, fingerprint: string | null = null): void {
    this.delete(siteId);
    const rows = state.modules.size + this.rowsPerSite;
    if (rows > this.maxRows) return;
    const packed = packModules(state.modules);
    if (packed === null) return;
    this.bySite.set(siteId, { stamp: state.stamp, packed, rows, fingerprint });
    this.rows += rows;
    if (this.rows <= this.maxRows) return;
    // Down to 7/8 at once: a Map walked from its start steps over the entries
    // deleted there (each sync deletes and re-adds its site), so dropping one
    // site per sync cost ~10 µs a sync at 10,000 sites.
    for (const oldest of this.bySite.keys()) {
      // The site just kept comes last: it stays, alone if it must.
      if (this.rows <= this.maxRows * 0.875 || oldest === siteId) break;
      this.delete(oldest);
    }
  }

  delete(siteId: number): void {
    const kept = this.bySite.get(siteId);
    if (kept === undefined) return;
    this.bySite.delete(siteId);
    this.rows -= kept.rows;
  }

  /** Rows held, all sites together, each site's rowsPerSite included. */
  get size(): number {
    return this.rows;
  }
}
