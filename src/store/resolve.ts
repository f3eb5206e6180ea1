// Catalog ids for a sync's entries, shared by both adapters: ids the cache
// already knows are used as they are; the adapter fetches (or creates) only
// the rest, in bulk, and what it fetched is reported back for caching. Every
// entry's ids are resolved before the diff, which compares ids, not text.
import { versionKey, type EntryIds, type KnownIds, type LearnedIds, type SiteModuleState } from "../inventory";

/** An entry lacks its module id while it is 0 (catalog ids start at 1). */
const lacksModuleId = (moduleIds: Float64Array, i: number) => moduleIds[i] === 0;
/** An entry with a version lacks its version id while it is 0; one without needs none. */
const lacksVersionId = (entries: readonly SiteModuleState[], versionIds: Float64Array, i: number) =>
  entries[i]!.version !== null && versionIds[i] === 0;

/** Whether `known` holds every id of `entries`: an IdResolution of them reads nothing. */
export function knowsEveryId(entries: readonly SiteModuleState[], known: KnownIds | undefined): boolean {
  if (known === undefined) return false;
  for (let i = 0; i < entries.length; i++) {
    if (lacksModuleId(known.moduleIds, i) || lacksVersionId(entries, known.versionIds, i)) return false;
  }
  return true;
}

export class IdResolution implements EntryIds {
  /** By entry position (0: not resolved yet; catalog ids start at 1): the caller's known ones (copied), then those read. */
  private readonly moduleIds: Float64Array;
  private readonly versionIds: Float64Array;
  /**
   * Positions of entries whose version id must come from the database, by
   * module id: a sync's entries name distinct modules (the validator skips
   * repeats), so the module id alone finds the entry, with no key string
   * built per entry (~0.3 µs each, 100,000 in a large background sync).
   */
  private readonly missingVersions = new Map<number, number>();
  /** Where the last entry asked about was: see position(). */
  private last = -1;
  readonly learned: LearnedIds = { modules: new Map(), versions: new Map() };

  /**
   * `known`: by position in `entries`. Copied, not filled in: ids read inside
   * a transaction that then fails (a busy site, whose sync is tried again
   * once its background syncs are done) must not reach the next attempt.
   * `learns`: whether `learned` is filled (for the caches); a background
   * batch, which no cache serves, does without.
   */
  constructor(private readonly entries: readonly SiteModuleState[], known?: KnownIds, private readonly learns = true) {
    if (known !== undefined && (known.moduleIds.length !== entries.length || known.versionIds.length !== entries.length)) {
      throw new Error("known ids must be given for each entry, by position");
    }
    this.moduleIds = known ? known.moduleIds.slice() : new Float64Array(entries.length);
    this.versionIds = known ? known.versionIds.slice() : new Float64Array(entries.length);
  }

  /** machine_names whose module id must come from the database. */
  unknownModules(): string[] {
    const unknown: string[] = [];
    for (let i = 0; i < this.entries.length; i++) if (lacksModuleId(this.moduleIds, i)) unknown.push(this.entries[i]!.machineName);
    return unknown;
  }

  addModules(rows: Iterable<readonly [id: number, machineName: string]>): void {
    // What this sync learned is what it read: one map, unless no cache wants it.
    const read = this.learns ? this.learned.modules : new Map<string, number>();
    for (const [id, name] of rows) read.set(name, id);
    for (let i = 0; i < this.entries.length; i++) {
      if (lacksModuleId(this.moduleIds, i)) this.moduleIds[i] = read.get(this.entries[i]!.machineName) ?? 0;
    }
  }

  /** (module id, version) pairs whose version id must come from the database. Call after addModules. */
  unknownVersions(): [moduleId: number, version: string][] {
    const unknown: [number, string][] = [];
    for (let i = 0; i < this.entries.length; i++) {
      if (!lacksVersionId(this.entries, this.versionIds, i)) continue;
      const version = this.entries[i]!.version!;
      const moduleId = this.moduleIdAt(i);
      if (this.missingVersions.has(moduleId)) throw new Error(`${this.entries[i]!.machineName} is named twice among the entries`);
      this.missingVersions.set(moduleId, i);
      unknown.push([moduleId, version]);
    }
    return unknown;
  }

  addVersions(rows: Iterable<readonly [id: number, moduleId: number, version: string]>): void {
    for (const [id, moduleId, version] of rows) {
      const i = this.missingVersions.get(moduleId);
      if (i === undefined || this.entries[i]!.version !== version) continue;
      this.versionIds[i] = id;
      if (this.learns) this.learned.versions.set(versionKey(this.entries[i]!.machineName, version), id);
    }
  }

  moduleId(entry: SiteModuleState): number {
    return this.moduleIdAt(this.position(entry));
  }

  versionId(entry: SiteModuleState): number | null {
    if (entry.version === null) return null;
    const id = this.versionIds[this.position(entry)]!;
    if (id === 0) throw new Error(`version id of ${entry.machineName} ${entry.version} was not resolved`);
    return id;
  }

  private moduleIdAt(i: number): number {
    const id = this.moduleIds[i]!;
    if (id === 0) throw new Error(`module id of ${this.entries[i]!.machineName} was not resolved`);
    return id;
  }

  /**
   * The entry's position. Every caller walks entries (or a plan's writes) in
   * payload order, asking for an entry's module id, then its version id: the
   * search starts at the last entry found, so each answer costs a comparison
   * or two, and no map from entries to ids is built (any order stays right,
   * only slower).
   */
  private position(entry: SiteModuleState): number {
    const n = this.entries.length;
    let i = this.last < 0 ? 0 : this.last;
    for (let tried = 0; tried < n; tried++, i = i + 1 === n ? 0 : i + 1) {
      if (this.entries[i] === entry) return (this.last = i);
    }
    throw new Error(`${entry.machineName} is not an entry of this sync`);
  }
}
