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
 * Which of two modules of one project says its version: the module named
 * after the project, if it has a version; else the one with a version, the
 * first by machine name. Never the order the rows happen to be read in
 * (Postgres returns a site's rows in no set order).
 */
function saysVersionBefore(m: InstalledModule, than: InstalledModule, project: string): boolean {
  const rank = (x: InstalledModule) => (x.version === null ? 2 : x.machineName === project ? 0 : 1);
  return rank(m) < rank(than) || (rank(m) === rank(than) && m.machineName < than.machineName);
}

/**
 * The site's projects, each once. `runsCore`: the site runs Drupal core,
 * as a core module that `modules` may leave out says (only its presence
 * counts); a core version says so too.
 */
export function installedProjects(coreVersion: string | null, modules: Iterable<InstalledModule>, runsCore = false): InstalledProject[] {
  const found = new Map<string, InstalledModule>();
  let hasCore = runsCore || (coreVersion !== null && coreVersion !== "");
  for (const m of modules) {
    if (m.moduleType === "custom") continue;
    if (m.moduleType === "core") {
      hasCore = true;
      continue;
    }
    const project = (m.project ?? m.machineName).trim();
    if (!PROJECT_NAME.test(project)) continue;
    const seen = found.get(project);
    if (!seen || saysVersionBefore(m, seen, project)) found.set(project, m);
  }
  const projects: InstalledProject[] = [];
  for (const [project, m] of found) if (project !== CORE_PROJECT || !hasCore) projects.push({ project, version: m.version });
  if (hasCore) projects.push({ project: CORE_PROJECT, version: coreVersion });
  // In no particular order: statuses are stored by project, and read in its order.
  return projects;
}

/**
 * The projects whose judgement contrib modules added or set to another
 * version (`changed`, of one site) can change, and `drupal` when `core`
 * says its judgement can have changed too (the core version is the site
 * row's); null when one of them is not named after its project or has no
 * version: the project's version may then come from another of the site's
 * modules (saysVersionBefore), so the site is judged whole.
 */
export function projectsChanged(changed: readonly InstalledModule[], core: boolean): string[] | null {
  const projects = new Set<string>(core ? [CORE_PROJECT] : []);
  for (const m of changed) {
    const project = (m.project ?? m.machineName).trim();
    if (!PROJECT_NAME.test(project)) continue;
    if (m.machineName !== project || m.version === null) return null;
    projects.add(project);
  }
  return [...projects];
}
