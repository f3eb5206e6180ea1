// Catalog ids (module by machine_name, version by module and version string):
// those a sync already knows, from the id cache, so the store need not read
// them; and those the store had to read or create, for the cache to keep.

/**
 * Ids the id cache held for a sync's entries, by each entry's position in
 * them (0: not held; catalog ids start at 1). Arrays, not maps by name: a
 * sync's 150 names and entries put into maps took ~30 µs (bench/README round 12).
 */
export interface KnownIds {
  moduleIds: Float64Array;
  /** 0 also for an entry without a version. */
  versionIds: Float64Array;
}

/** Ids a sync read or created: by machine_name, and by versionKey(machine_name, version). */
export interface LearnedIds {
  modules: Map<string, number>;
  versions: Map<string, number>;
}

/** machine_names cannot contain ":", so this key is unambiguous. */
export const versionKey = (machineName: string, version: string) => `${machineName}:${version}`;

/** A versionKey's two parts. */
export function splitVersionKey(key: string): [machineName: string, version: string] {
  const at = key.indexOf(":");
  return [key.slice(0, at), key.slice(at + 1)];
}
