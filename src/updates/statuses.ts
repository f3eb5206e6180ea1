// Computes sites' update statuses from their inventories and the stored
// release data, a batch of sites at a time: per batch, one read of the sites
// and their change sets, one of their modules (all of a site judged whole,
// the changed ones of a site judged in part), one of the release documents
// they need, and write transactions of a few sites each (multi-row
// statements). Runs off the request path.
import { installedProjects, judgeProject, projectsChanged, securityReleaseToInstall, type ProjectHistory } from "../releases";
import type { ProjectUpdateRow, ReleaseStore, SiteInventory, SiteUpdates } from "../store/releases/types";

/** Sites per batch: 10,000 sites are 20 batches. */
export const SITES_PER_BATCH = 500;

/**
 * Due sites read at most per look (sitesToCompute). Each look walks every
 * site's mark whatever its limit (Postgres: a scan of sites and marks, 12-28
 * ms at 10,000 sites under drift load), so a round looks once where it can,
 * not once per batch and once more to find none left (bench/README round 20).
 * Bounded, so that a round after release data marked every site due holds
 * ids, not rows, for at most this many at once.
 */
export const SITES_PER_LOOK = 20_000;

function releaseLink(history: ProjectHistory | null, version: string | null): string | null {
  if (!history || version === null) return null;
  return history.releases.find((r) => r.version === version)?.releaseLink ?? null;
}

export class UpdateStatuses {
  constructor(private readonly releases: ReleaseStore, private readonly clock: () => number = Date.now) {}

  /** Computes the statuses of these sites again, now, every project of each. */
  async computeSites(siteIds: number[]): Promise<void> {
    await this.judge(await this.releases.inventories(siteIds), []);
  }

  /**
   * Computes the statuses of these sites again, now: of a site judged before
   * whose syncs since only added contrib modules or set their versions, only
   * those modules' projects (a drift sync's one module: its one project, not
   * the fifty of the site), and drupal if the core version changed or a core
   * module may have been added; the others whole.
   */
  async computeChanged(siteIds: number[]): Promise<void> {
    const { whole, partial } = await this.releases.changedInventories(siteIds);
    const inPart: { inventory: SiteInventory; only: string[] }[] = [];
    for (const inventory of partial) {
      const only = projectsChanged(inventory.modules, inventory.judgesCore);
      if (only) inPart.push({ inventory, only });
      else whole.push(inventory);
    }
    // Their site rows as read above: what a sync commits after that read is judged in a later round.
    await this.judge(await this.releases.withAllModules(whole), inPart);
  }

  /** Judges and stores `whole` sites' every project and `inPart` sites' `only` projects. */
  private async judge(whole: SiteInventory[], inPart: { inventory: SiteInventory; only: string[] }[]): Promise<void> {
    const sites = [...whole.map((inventory) => ({ inventory, only: undefined })), ...inPart].map(({ inventory, only }) => {
      const projects = installedProjects(inventory.coreVersion, inventory.modules, inventory.hasCore);
      // In part: an inventory of the changed modules alone, and drupal, whose row is
      // written again only if `only` names it (its judgement can have changed).
      return { inventory, only, projects: only ? projects.filter((p) => only.includes(p.project)) : projects };
    });
    const used = [...new Set(sites.flatMap((s) => s.projects.map((p) => p.project)))];
    const stampsRead = await this.releases.historyStamps(used);
    const histories = await this.releases.histories(used);
    // Sites run the same releases: each (project, version) is judged once per batch.
    // By project, then version (null: none), not by a joined key: no string built per project and site.
    const judged = new Map<string, Map<string | null, ProjectUpdateRow>>();
    const judge = (project: string, version: string | null): ProjectUpdateRow => {
      let ofProject = judged.get(project);
      if (!ofProject) judged.set(project, ofProject = new Map());
      let row = ofProject.get(version);
      if (!row) {
        const history = histories.get(project) ?? null;
        const judgement = judgeProject(version, history);
        row = {
          project,
          installedVersion: version,
          ...judgement,
          links: {
            project: history?.link ?? null,
            recommended: releaseLink(history, judgement.recommended),
            securityRelease: releaseLink(history, securityReleaseToInstall(judgement)),
          },
        };
        ofProject.set(version, row);
      }
      return row;
    };
    const updates: SiteUpdates[] = sites.map(({ inventory, projects, only }) => ({
      siteId: inventory.siteId,
      syncedAt: inventory.syncedAt,
      projects: projects.map((p) => judge(p.project, p.version)),
      only,
    }));
    try {
      await this.releases.replaceSiteUpdates(updates, new Date(this.clock()));
    } finally {
      // Release data saved while this batch was judged marked its sites to be
      // computed again, and the write above cleared that mark: set it again
      // (also when the write failed part way: it commits a few sites at a time).
      const stampsNow = await this.releases.historyStamps(used);
      const changed = new Set(used.filter((p) => stampsNow.get(p) !== stampsRead.get(p)));
      if (changed.size > 0) {
        await this.releases.invalidateSites(sites.filter((s) => s.projects.some((p) => changed.has(p.project))).map((s) => s.inventory.siteId));
      }
    }
  }

  /**
   * Computes every site synced since its statuses were (or whose release data
   * changed), batch by batch; returns how many. Each site at most once per
   * call, so a site that keeps changing cannot hold the caller. A site that
   * becomes due after the look that passed its id is the next call's.
   */
  async computePending(batchSize = SITES_PER_BATCH, lookSize = SITES_PER_LOOK): Promise<number> {
    let done = 0;
    let lastId = 0;
    for (;;) {
      const ids = await this.releases.sitesToCompute(lastId, lookSize);
      for (let i = 0; i < ids.length; i += batchSize) await this.computeChanged(ids.slice(i, i + batchSize));
      done += ids.length;
      // Fewer than asked for: none was left above the last one when it looked.
      if (ids.length < lookSize) return done;
      lastId = ids.at(-1)!;
    }
  }
}
