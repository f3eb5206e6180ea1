// A module as a site reports it and as modsync stores it per site: the
// fields a sync compares. This folder is the inventory domain: plain types
// and pure functions, importing nothing else of modsync.

import { hash53 } from "./hash53";

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

/**
 * A module currently on the site, as loaded inside the sync transaction:
 * integers only (catalog ids, and detailsHash for the text fields), so that
 * reading a site's modules creates no string.
 */
export interface StoredModule {
  moduleId: number;
  versionId: number | null;
  enabled: boolean;
  detailsHash: number;
}

/**
 * A site's modules as a sync reads them, by module id: a Map is one; the
 * store's own form (store/packed-modules.ts) holds them packed, unboxed.
 */
export interface HeldModules {
  readonly size: number;
  get(moduleId: number): StoredModule | undefined;
  keys(): Iterable<number>;
}

/** An entry's catalog ids, once resolved. */
export interface EntryIds {
  moduleId(entry: SiteModuleState): number;
  versionId(entry: SiteModuleState): number | null;
}

/**
 * A 53-bit hash (a safe integer, stored as such by both dialects) of what an
 * entry holds besides its module, version and enabled flag (extension_type included). Stored with each
 * row, it lets a sync tell an unchanged row from a changed one without reading
 * the row's text back. Parts are joined by NUL, which no stored text holds (it
 * is refused), and null is told from any string by its own tag. Two different
 * texts share a hash with a chance of 2^-53 (hash53).
 */
export function detailsHash(state: SiteModuleState): number {
  const held = lastDetails.get(state.machineName);
  if (held !== undefined && held.displayName === state.displayName && held.moduleType === state.moduleType
    && held.description === state.description && held.project === state.project && held.extensionType === state.extensionType) {
    missesInARow = 0;
    return held.hash;
  }
  const hash = hashDetails(state);
  const { machineName, displayName, moduleType, description, project, extensionType } = state;
  // The backfill's rows have no name (""): nothing to remember them by.
  if (machineName === "") return hash;
  if (++missesInARow > DETAILS_MISSES_REMEMBERED && missesInARow % DETAILS_STREAK_SAMPLE !== 0) return hash;
  const chars = machineName.length + displayName.length + (description?.length ?? 0) + (project?.length ?? 0);
  if (lastDetails.size >= DETAILS_HELD_NAMES || heldChars + chars > DETAILS_HELD_CHARS) {
    lastDetails.clear();
    heldChars = 0;
  }
  // The entry replaced, if any, stays counted until the next clear: an over-count, which only clears sooner.
  heldChars += chars;
  lastDetails.set(machineName, { displayName, moduleType, description, project, extensionType, hash });
  return hash;
}

/**
 * The details last hashed for each module name, with their hash. Sites running
 * a module mostly report it with the same details, and comparing five strings
 * costs less than joining and hashing them: 150 fresh entries' hashes took
 * ~46 µs a sync (bench/README round 9). A pure function's memory: whatever it
 * holds, the hash returned is the one hashDetails gives.
 */
const lastDetails = new Map<string, Pick<SiteModuleState, "displayName" | "moduleType" | "description" | "project" | "extensionType"> & { hash: number }>();
/**
 * Held at most, then all dropped: 20,000 names, or 2,000,000 characters of
 * text (2-4 MB), since one sync's 4,096-character descriptions could
 * otherwise pin ~170 MB (measured). A real fleet's catalog fits either way.
 */
const DETAILS_HELD_NAMES = 20_000;
const DETAILS_HELD_CHARS = 2_000_000;
let heldChars = 0;
/**
 * Past this many misses in a row, only one miss in DETAILS_STREAK_SAMPLE is
 * remembered, until a name is found again: a sync of thousands of modules no
 * other site runs (a large background sync's batches) would otherwise fill
 * the memory for nothing and drop what the fleet's common modules had put
 * there. Remembering a miss costs more than hashing it (100,000 distinct
 * entries: ~13 ms to hash, ~45 ms with the memory; bench/README round 22).
 * The sample lets a fleet's common modules back in after such a streak, even
 * into an empty memory. A 150-module site's first sync misses at most 150
 * times in a row.
 */
const DETAILS_MISSES_REMEMBERED = 1_000;
const DETAILS_STREAK_SAMPLE = 64;
let missesInARow = 0;

/** Names detailsHash holds now (for tests: what it remembers is otherwise invisible). */
export function detailsHeld(): number {
  return lastDetails.size;
}

function hashDetails(state: SiteModuleState): number {
  // A module's kind adds nothing: the hashes stored before extension_type existed stay true.
  const kind = state.extensionType === "module" ? "" : `\0k${state.extensionType}`;
  const text = `${state.displayName}\0${state.moduleType}\0${state.description === null ? "n" : `s${state.description}`}\0${state.project === null ? "n" : `s${state.project}`}${kind}`;
  return hash53(text);
}
