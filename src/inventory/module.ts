// A module as a site reports it and as modsync stores it per site: the
// fields a sync compares. This folder is the inventory domain: plain types
// and pure functions, importing nothing else of modsync.

export type ModuleType = "core" | "contrib" | "custom";

/** Everything stored per (site, module). */
export interface SiteModuleState {
  machineName: string;
  displayName: string;
  moduleType: ModuleType;
  enabled: boolean;
  version: string | null;
  description: string | null;
  project: string | null;
}

/** A module currently on the site, as loaded inside the sync transaction. */
export interface CurrentModule extends SiteModuleState {
  moduleId: number;
}

export function sameState(a: SiteModuleState, b: SiteModuleState): boolean {
  return a.version === b.version
    && a.enabled === b.enabled
    && a.displayName === b.displayName
    && a.moduleType === b.moduleType
    && a.description === b.description
    && a.project === b.project;
}
