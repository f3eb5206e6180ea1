// Catalog ids for a sync's entries, shared by both adapters: ids the cache
// already knows are used as they are; the adapter fetches (or creates) only
// the rest, in bulk, and what it fetched is reported back for caching. Every
// entry's ids are resolved before the diff, which compares ids, not text.
import { versionKey, type EntryIds, type KnownIds, type SiteModuleState } from "../inventory";

export class IdResolution implements EntryIds {
  /** Module ids by name: the caller's known ones (the map is taken over, not copied), then those read. */
  private readonly modules: Map<string, number>;
  /** By entry (identity: no key string is built again for each look-up): the caller's known ones, then those read. */
  private readonly versions: Map<SiteModuleState, number>;
  /** Entries whose version id must come from the database, by versionKey. */
  private readonly missingVersions = new Map<string, SiteModuleState>();
  readonly learned: KnownIds = { modules: new Map(), versions: new Map() };

  /** `known` is the caller's to give away: its maps are used, and added to, as they are. */
  constructor(private readonly entries: readonly SiteModuleState[], private readonly known?: KnownIds) {
    this.modules = known?.modules ?? new Map();
    this.versions = known?.entryVersions ?? new Map();
  }

  /** machine_names whose module id must come from the database. */
  unknownModules(): string[] {
    const unknown: string[] = [];
    for (const w of this.entries) if (!this.modules.has(w.machineName)) unknown.push(w.machineName);
    return unknown;
  }

  addModules(rows: Iterable<readonly [id: number, machineName: string]>): void {
    for (const [id, name] of rows) {
      this.modules.set(name, id);
      this.learned.modules.set(name, id);
    }
  }

  /** (module id, version) pairs whose version id must come from the database. Call after addModules. */
  unknownVersions(): [moduleId: number, version: string][] {
    const unknown: [number, string][] = [];
    for (const w of this.entries) {
      if (w.version === null || this.versions.has(w)) continue;
      const key = versionKey(w.machineName, w.version);
      const id = this.known?.versions.get(key);
      if (id !== undefined) {
        this.versions.set(w, id);
      } else {
        this.missingVersions.set(key, w);
        unknown.push([this.moduleId(w.machineName), w.version]);
      }
    }
    return unknown;
  }

  addVersions(rows: Iterable<readonly [id: number, moduleId: number, version: string]>): void {
    const names = new Map<number, string>();
    for (const w of this.missingVersions.values()) names.set(this.moduleId(w.machineName), w.machineName);
    for (const [id, moduleId, version] of rows) {
      const key = versionKey(names.get(moduleId)!, version);
      const entry = this.missingVersions.get(key);
      if (entry !== undefined) this.versions.set(entry, id);
      this.learned.versions.set(key, id);
    }
  }

  moduleId(machineName: string): number {
    const id = this.modules.get(machineName);
    if (id === undefined) throw new Error(`module id of ${machineName} was not resolved`);
    return id;
  }

  versionId(entry: SiteModuleState): number | null {
    if (entry.version === null) return null;
    const id = this.versions.get(entry);
    if (id === undefined) throw new Error(`version id of ${entry.machineName} ${entry.version} was not resolved`);
    return id;
  }
}
