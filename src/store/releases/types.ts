// The storage port of release data and of the update statuses computed from
// it (issue 14). Written once for both dialects (sql-release-store.ts).
import type { InstalledModule, ProjectHistory, ProjectJudgement, UpdateStatus } from "../../releases";

export interface HistoryDocument {
  history: ProjectHistory;
  etag?: string | null;
  lastModified?: string | null;
}

export interface RefreshTarget {
  project: string;
  etag: string | null;
  lastModified: string | null;
}

/** What a site's statuses are computed from. */
export interface SiteInventory {
  siteId: number;
  coreVersion: string | null;
  /** The sync these modules are from (sites.last_synced_at when read). */
  syncedAt: Date | null;
  /**
   * Whether the site runs Drupal core (the drupal project): it reports a core
   * version, or else holds a core module (looked up only then). Core modules
   * are read no further.
   */
  hasCore: boolean;
  /** Its contrib modules: custom ones have no project, core ones are the drupal project. */
  modules: InstalledModule[];
}

/** drupal.org pages, from the release data. */
export interface UpdateLinks {
  project: string | null;
  recommended: string | null;
  securityRelease: string | null;
}

/** A project a site runs, and its judgement. */
export interface ProjectUpdateRow extends ProjectJudgement {
  project: string;
  installedVersion: string | null;
  links: UpdateLinks;
}

export interface SiteUpdates {
  siteId: number;
  syncedAt: Date | null;
  projects: ProjectUpdateRow[];
  /**
   * Only these projects were judged again (ChangedSites.partial): the site's
   * rows for other projects stay as stored, those of these not in `projects`
   * are deleted, and its mark moves only if nothing cleared it meanwhile
   * (release data saved since: the site is then judged whole). Absent: every
   * project was judged.
   */
  only?: readonly string[];
}

/** Sites to judge again (changedInventories), split by how much of each. */
export interface ChangedSites {
  /**
   * Never judged, marked to be judged again, or changed in a way that can
   * reach any of their projects: their site rows alone (no module yet: withAllModules).
   */
  whole: SiteInventory[];
  /**
   * Judged before, and since then only contrib modules added or set to another
   * version (or core and PHP versions, enabled flags, other modules added or
   * set): each inventory holds just those contrib modules.
   */
  partial: PartialInventory[];
}

/** A site to judge in part (ChangedSites.partial). */
export interface PartialInventory extends SiteInventory {
  /**
   * Whether drupal's judgement can have changed too: the core version
   * changed, or a module that is not contrib was added (change-sets.ts
   * modulesChanged, "core").
   */
  judgesCore: boolean;
}

export interface ExposedSite {
  site: { id: number; name: string; url: string };
  projects: ProjectUpdateRow[];
}

export type StatusCounts = Record<UpdateStatus, number>;

export interface ReleaseStore {
  /**
   * Stores documents (one per project), in one transaction; the sites using
   * a project whose document changed are marked to be computed again.
   * Returns the projects whose document changed (or is new).
   */
  saveHistories(documents: HistoryDocument[], now: Date): Promise<string[]>;
  /** Records that the stored documents of `projects` are still current (a 304). */
  confirmHistories(projects: string[], now: Date): Promise<void>;
  histories(projects: string[]): Promise<Map<string, ProjectHistory>>;
  /** A stamp per stored document of `projects` that differs once the document changes. */
  historyStamps(projects: string[]): Promise<Map<string, string>>;
  /** Marks these sites to be computed again. */
  invalidateSites(siteIds: number[]): Promise<void>;
  /** Every project some site uses, with what its stored document came with. */
  projectsInUse(): Promise<RefreshTarget[]>;

  /** Sites above `afterId` synced with changes (or changed module details) since their statuses were computed, or whose release data changed, lowest id first. */
  sitesToCompute(afterId: number, limit: number): Promise<number[]>;
  inventories(siteIds: number[]): Promise<SiteInventory[]>;
  /** These inventories again, each with every contrib module of its site read now (its site row as it was read). */
  withAllModules(sites: readonly SiteInventory[]): Promise<SiteInventory[]>;
  /**
   * These sites split into those to judge whole and those whose change sets
   * since their mark name only modules added or set to another version
   * (change-sets.ts modulesChanged), with those modules' contrib rows. A site
   * whose module details a sync changed (sites.details_changed_at), a module
   * removed, or a background sync's set goes whole.
   */
  changedInventories(siteIds: number[]): Promise<ChangedSites>;
  /** Replaces the statuses of these sites, in one transaction. */
  replaceSiteUpdates(sites: SiteUpdates[], now: Date): Promise<void>;

  siteUpdates(siteId: number): Promise<{ computedAt: Date | null; projects: ProjectUpdateRow[] }>;
  statusCounts(siteIds: number[]): Promise<Map<number, StatusCounts>>;
  /** The user's sites with not_secure or revoked projects, and those projects. */
  exposedSites(userId: number): Promise<ExposedSite[]>;
  /** Sites with at least one not_secure project. */
  countSitesNotSecure(): Promise<number>;

  /**
   * Takes the lease `name` for `leaseMs` if nobody holds it and its work last
   * finished at least `everyMs` ago: true when this caller now holds it.
   */
  takeLease(name: string, owner: string, now: Date, leaseMs: number, everyMs: number): Promise<boolean>;
  /** Extends the lease `owner` holds to `leaseMs` from `now`: false when it no longer holds it. */
  renewLease(name: string, owner: string, now: Date, leaseMs: number): Promise<boolean>;
  /** Lets the lease go, recording the work as done at `now`. */
  finishLease(name: string, owner: string, now: Date): Promise<void>;
}
