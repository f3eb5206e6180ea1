// The ids a site's last sync resolved, in its payload's order: a Drupal site
// lists its modules in the same order every time, so its next sync's entry at
// the same position, with the same machine_name (and version), has the same
// ids. Compared position by position: no key string built, no look-up in the
// shared caches, whose 100,000 entries cost a changed re-sync about a tenth
// of its main-thread time. Ids never change once assigned (catalog rows are
// never deleted), so what is kept here cannot go stale; a site whose order
// differs simply finds nothing at those positions.
import type { KnownIds, SiteModuleState } from "../inventory";

/** One site's entries' ids, by position. NaN: an entry without a version. */
interface SiteIds {
  names: string[];
  versions: (string | null)[];
  moduleIds: Float64Array;
  versionIds: Float64Array;
}

export class SiteIdMemory {
  /** Least recently synced first (Map order). */
  private readonly bySite = new Map<number, SiteIds>();
  private rows = 0;

  /** `maxRows`: entries kept over all sites (about 60 bytes each, with their strings). */
  constructor(private readonly maxRows: number) {}

  get(siteId: number): SiteIds | undefined {
    return this.bySite.get(siteId);
  }

  /** The ids of `entries`, every one of which `known` resolves (after the sync that used it). */
  remember(siteId: number, entries: readonly SiteModuleState[], known: KnownIds): void {
    this.forget(siteId);
    if (entries.length > this.maxRows) return;
    const n = entries.length;
    const ids: SiteIds = { names: new Array(n), versions: new Array(n), moduleIds: new Float64Array(n), versionIds: new Float64Array(n) };
    for (let i = 0; i < n; i++) {
      const e = entries[i]!;
      const moduleId = known.modules.get(e.machineName);
      const versionId = e.version === null ? NaN : known.entryVersions?.get(e);
      // Every entry is resolved once its sync applied; should one not be, nothing is kept.
      if (moduleId === undefined || versionId === undefined) return;
      ids.names[i] = e.machineName;
      ids.versions[i] = e.version;
      ids.moduleIds[i] = moduleId;
      ids.versionIds[i] = versionId;
    }
    this.bySite.set(siteId, ids);
    this.rows += n;
    for (const [oldest, kept] of this.bySite) {
      if (this.rows <= this.maxRows) break;
      this.bySite.delete(oldest);
      this.rows -= kept.names.length;
    }
  }

  forget(siteId: number): void {
    const kept = this.bySite.get(siteId);
    if (kept === undefined) return;
    this.bySite.delete(siteId);
    this.rows -= kept.names.length;
  }

  /** Entries kept, all sites together. */
  get size(): number {
    return this.rows;
  }
}
