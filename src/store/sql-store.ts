// The part of the Store both adapters implement the same way, written once:
// a request's way in (token, site access, the one-statement re-sync), the
// sync (sync.ts), the site reads (reads.ts) and background syncs
// (sql-task-store.ts), over the dialect's statements and StepRunner. A
// dialect adds how it connects, its admin writes and its upkeep.
import type { KnownIds, SyncCommand, SyncOutcome } from "../inventory";
import type { InventoryQueries } from "./queries";
import type { SiteReads } from "./reads";
import { KeptStateStaleError, NearRepeatStaleError, SiteStates } from "./site-states";
import { SqlTaskStore } from "./sql-task-store";
import type { StoreStatements } from "./statements";
import type { StepRunner } from "./steps";
import { applySync } from "./sync";
import type { ModuleListQuery, Organization, SiteAccess, SiteListQuery, SiteModuleRow, SiteSummary, Store, UserListing, UserSiteAccess } from "./types";

type SharedMethods = "tasks" | "queries" | "findUserIdByTokenHash" | "findUserSiteAccess" | "getSiteAccess" | "getSiteSummary" | "listSitesForUser"
  | "listSites" | "listOrganizations" | "listUsers"
  | "listSiteModules" | "recordRepeatedSync" | "applySync" | "ping";

export abstract class SqlStore<Wait> implements Pick<Store, SharedMethods> {
  readonly tasks: SqlTaskStore<Wait>;
  /** The modules this process's syncs left on each site (only used while no one else has changed them). */
  private readonly siteStates = new SiteStates();

  constructor(private readonly db: StepRunner<Wait, StoreStatements<Wait>>, private readonly reads: SiteReads, readonly queries: InventoryQueries) {
    this.tasks = new SqlTaskStore(db);
  }

  findUserIdByTokenHash(tokenHash: string): Promise<number | null> {
    return this.db.read((s) => s.userIdByToken(tokenHash));
  }

  findUserSiteAccess(tokenHash: string, siteId: number | null): Promise<UserSiteAccess | null> {
    return this.db.read((s) => s.userSiteAccess(tokenHash, siteId));
  }

  getSiteAccess(siteId: number, userId: number): Promise<SiteAccess | null> {
    return this.db.read((s) => s.siteAccess(siteId, userId));
  }

  getSiteSummary(siteId: number): Promise<SiteSummary | null> {
    return this.reads.siteSummary(siteId);
  }

  listSitesForUser(userId: number, query: SiteListQuery): Promise<SiteSummary[]> {
    return this.reads.sitesForUser(userId, query);
  }

  listSites(organizationId?: number): Promise<SiteSummary[]> {
    return this.reads.allSites(organizationId);
  }

  listOrganizations(): Promise<Organization[]> {
    return this.reads.organizations();
  }

  listUsers(): Promise<UserListing[]> {
    return this.reads.users();
  }

  listSiteModules(siteId: number, query: ModuleListQuery): Promise<SiteModuleRow[]> {
    return this.reads.siteModules(siteId, query);
  }

  keepsModulesOf(siteId: number, fingerprint: string): boolean {
    return this.siteStates.keptWith(siteId, fingerprint);
  }

  recordRepeatedSync(siteId: number, fingerprint: string): Promise<string | null> {
    if (!this.siteStates.mayRepeat(siteId, fingerprint)) return Promise.resolve(null);
    return this.db.write((s) => s.recordRepeatedSync(siteId, fingerprint, new Date()));
  }

  /**
   * One write transaction, serialised per site. The modules it leaves are
   * kept once it has committed: the site's next sync starts from them if no
   * one has changed them since (site-states.ts).
   */
  async applySync(command: SyncCommand, known?: KnownIds): Promise<SyncOutcome> {
    const { counts, learned, exact, leaves, stamp, fingerprint, fromKept } = await this.db.transaction((s) => applySync(s, command, known, this.siteStates.get(command.siteId)))
      .catch((err: unknown) => {
        if (!(err instanceof KeptStateStaleError)) throw err;
        // The site was not as kept (another writer since, a background sync to apply first, or gone): nothing
        // was written. Made again reading the site, which says which; a near repeat, which needs the kept
        // state, is left to the caller to apply in full.
        this.siteStates.delete(command.siteId);
        if (command.partOf !== undefined) throw new NearRepeatStaleError(command.siteId);
        return this.db.transaction((s) => applySync(s, command, known, undefined));
      });
    try {
      const packed = leaves();
      if (packed === null) this.siteStates.delete(command.siteId);
      else this.siteStates.set(command.siteId, stamp, packed, fingerprint, fromKept);
    } catch {
      // The sync has committed: it succeeded. Its site's next sync reads the modules instead.
      this.siteStates.delete(command.siteId);
    }
    return { counts, learned, exact };
  }

  ping(): Promise<void> {
    return this.db.read((s) => s.ping());
  }
}
