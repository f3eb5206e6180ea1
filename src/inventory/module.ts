// A module as a site reports it and as modsync stores it per site: the
// fields a sync compares. This folder is the inventory domain: plain types
// and pure functions, importing nothing else of modsync.

export const MODULE_TYPES = ["core", "contrib", "custom"] as const;
export type ModuleType = (typeof MODULE_TYPES)[number];

/** Drupal's kinds of extension: themes and install profiles have versions and advisories too. */
export const EXTENSION_TYPES = ["module", "theme", "profile"] as const;
export type ExtensionType = (typeof EXTENSION_TYPES)[number];

/** Everything stored per (site, module). */
export interface SiteModuleState {
  machineName: string;
  displayName: string;
  moduleType: ModuleType;
  extensionType: ExtensionType;
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
    && a.extensionType === b.extensionType
    && a.description === b.description
    && a.project === b.project;
}
