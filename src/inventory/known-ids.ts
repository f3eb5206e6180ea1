// Catalog ids (module by machine_name, version by module and version string)
// that a sync already knows, from the id cache, so the store need not read them.

import type { SiteModuleState } from "./module";

/** Ids of catalog rows, by machine_name and by versionKey(machine_name, version). */
export interface KnownIds {
  modules: Map<string, number>;
  versions: Map<string, number>;
  /**
   * The same version ids by the entry they were looked up for, when the
   * caller has them so: resolution then builds no versionKey for a known
   * version (a concatenation and a string hash per entry: a fifth of the
   * id look-up's CPU). Taken over by the resolution, like `modules`. The id
   * cache gives its version ids this way only (`versions` stays empty).
   */
  entryVersions?: Map<SiteModuleState, number>;
}

/** machine_names cannot contain ":", so this key is unambiguous. */
export const versionKey = (machineName: string, version: string) => `${machineName}:${version}`;
