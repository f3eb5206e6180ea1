// Catalog ids (module by machine_name, version by module and version string)
// that a sync already knows, from the id cache, so the store need not read them.

/** Ids of catalog rows, by machine_name and by versionKey(machine_name, version). */
export interface KnownIds {
  modules: Map<string, number>;
  versions: Map<string, number>;
}

/** machine_names cannot contain ":", so this key is unambiguous. */
export const versionKey = (machineName: string, version: string) => `${machineName}:${version}`;
