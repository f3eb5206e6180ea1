// Which drupal.org project each module of a site belongs to, and at which
// version: a core module is part of the `drupal` project at the site's core
// version; a contrib module names its project, or is its own project (its
// machine name); a custom module has none.
import type { ModuleType } from "../inventory";
import { PROJECT_NAME } from "./history";

export interface InstalledModule {
  machineName: string;
  moduleType: ModuleType;
  version: string | null;
  project: string | null;
}

export interface InstalledProject {
  project: string;
  /** The version the site runs; null when the site does not say. */
  version: string | null;
}

export const CORE_PROJECT = "drupal";

/**
 * The site's projects, each once. `hasCoreModule`: the site holds a
 * core module that `modules` may leave out (only its presence counts).
 */
export function installedProjects(coreVersion: string | null, modules: Iterable<InstalledModule>, hasCoreModule = false): InstalledProject[] {
  const found = new Map<string, InstalledProject>();
  let hasCore = hasCoreModule || (coreVersion !== null && coreVersion !== "");
  for (const m of modules) {
    if (m.moduleType === "custom") continue;
    if (m.moduleType === "core") {
      hasCore = true;
      continue;
    }
    const project = (m.project ?? m.machineName).trim();
    if (!PROJECT_NAME.test(project)) continue;
    const seen = found.get(project);
    // Several modules of one project: the module named after the project says its version.
    if (!seen || (seen.version === null && m.version !== null) || m.machineName === project) {
      found.set(project, { project, version: m.version });
    }
  }
  if (hasCore) found.set(CORE_PROJECT, { project: CORE_PROJECT, version: coreVersion });
  // In no particular order: statuses are stored by project, and read in its order.
  return [...found.values()];
}
