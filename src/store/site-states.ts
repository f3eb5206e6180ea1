// The modules each site held after this process's last sync of it, so that
// its next sync need not read them again (a tenth to a fifth of a changed
// re-sync's main-thread time went to reading and decoding those rows).
//
// Exact, never stale: each state is kept with the stamp its sync wrote to
// the site row (sites.modules_stamp), and is used only when the site row
// still holds that stamp, read in the sync's own transaction. Anything else
// that changes the site's modules (another process's sync, a background task
// from its claim on) writes a stamp of its own; on Postgres, triggers also
// reset it to 0 on every statement that changes a site's module states or
// their text (migrations 0010 and 0020), so that writers of earlier versions,
// and SQL by hand, are seen.
import type { HeldModules } from "../inventory";
import { PackedModules, SLOTS } from "./packed-modules";

/** A site's modules as a sync starts from them, and the stamp written with them. */
export interface SiteState {
  stamp: number;
  modules: HeldModules;
  /**
   * Kept states only: the sync that left them started from this process's
   * state before (no other writer came between), a sign that the site's
   * syncs come to this process. Only then does its next sync assume them
   * (lockSiteModulesAssuming): with instances behind a balancer a kept state
   * is often stale, and a wrong assumption costs a round trip for nothing.
   */
  confirmed?: boolean;
  /** Kept states only: the fingerprint stored by the sync that left them (null: none). */
  fingerprint?: string | null;
}

/**
 * Module rows kept across all sites, packed (packed-modules.ts): 24 bytes a
 * row, ~28 with each site's own objects (measured: 4,186 bytes of heap per
 * site of 150 modules), so ~42 MB for 10,000 such sites, each also counted
 * for its ROWS_PER_SITE. Past that the least recently synced sites are
 * dropped and read from the database again. Kept as maps of objects, a row
 * took ~120 bytes, so 2,000 such sites filled as much, and every one of those
 * objects was more for each garbage collection to trace (bench/README round 9).
 */
const SITE_STATE_ROWS = 1_600_000;

/** What a kept site costs besides its rows (its entry, its array, its fingerprint: ~230 bytes), counted as rows. */
const ROWS_PER_SITE = 8;

/**
 * A sync that assumed its site still held a kept state (lockSiteModulesAssuming)
 * found it did not (or the site busy, or gone): nothing was written; the
 * caller forgets the state and syncs again, reading the site first.
 */
export class KeptStateStaleError extends Error {
  constructor(readonly siteId: number) {
    super(`site ${siteId} no longer holds the modules this process kept`);
  }
}

/**
 * A near repeat (SyncCommand.partOf) found the site not holding exactly the
 * modules of the body it assumed, or its entries naming other modules than
 * those they replace: nothing was written; the caller applies the body in full.
 */
export class NearRepeatStaleError extends Error {
  constructor(readonly siteId: number) {
    super(`site ${siteId} no longer holds exactly its last body's modules`);
  }
}

/** A new stamp: random below 2^53 (exact in a JS number and in both dialects' columns), never 0, the column's default. */
export function newModulesStamp(): number {
  return 1 + Math.floor(Math.random() * (2 ** 53 - 1));
}

export class SiteStates {
  /**
   * Least recently kept first (Map order), each with the rows it counts for
   * (its modules and rowsPerSite), and the fingerprint its sync stored.
   */
  private readonly bySite = new Map<number, { stamp: number; packed: Float64Array; rows: number; fingerprint: string | null; confirmed: boolean }>();
  private rows = 0;

  constructor(private readonly maxRows = SITE_STATE_ROWS, private readonly rowsPerSite = ROWS_PER_SITE) {}

  /** The kept state, read in place: a sync never changes it, it leaves a new one (applyPlan). */
  get(siteId: number): SiteState | undefined {
    const kept = this.bySite.get(siteId);
    return kept && { stamp: kept.stamp, modules: new PackedModules(kept.packed), confirmed: kept.confirmed, fingerprint: kept.fingerprint };
  }

  /** Whether the kept state of the site is the one left by the sync that stored this fingerprint. */
  keptWith(siteId: number, fingerprint: string): boolean {
    return this.bySite.get(siteId)?.fingerprint === fingerprint;
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
   * Keeps the modules a committed sync left (applyPlan's array, taken over:
   * never to be changed), with the fingerprint that sync stored (null: none),
   * `confirmed` if that sync started from this process's state before (SiteState).
   */
  set(siteId: number, stamp: number, packed: Float64Array, fingerprint: string | null = null, confirmed = false): void {
    this.delete(siteId);
    const rows = packed.length / SLOTS + this.rowsPerSite;
    if (rows > this.maxRows) return;
    this.bySite.set(siteId, { stamp, packed, rows, fingerprint, confirmed });
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
