// The heart of a sync, with no I/O: given what the site has now and what the
// payload says, decide what to write, what to remove and what to count.
// store/write-plan.ts executes the plan this returns, in bulk, for both dialects.
import type { SyncCounts } from "./counts";
import { detailsHash, type EntryIds, type SiteModuleState, type HeldModules } from "./module";

export interface SyncPlan extends SyncCounts {
  /** Entries to write (created and updated alike), in payload order. */
  writes: SiteModuleState[];
  /**
   * By position in `writes`: whether the site holds that write's module with
   * the same details (detailsHash): only its version, enabled flag and time
   * need writing, not its text again. (A release moves 76 modules' versions
   * and changes no description.) Flags beside the writes, not a set of them:
   * filling a Set took ~90 ns an entry, 7 of the plan's 17 µs for a release
   * (bench/README round 29).
   */
  sameDetails: readonly boolean[];
  /** Module ids to delete from the site (full sync only). */
  removals: number[];
}

/**
 * Whether applying `plan` leaves the site holding exactly the payload's
 * `entries` (their number). It does unless a partial sync, or modules kept because their entry
 * was skipped, leave other modules in place. (The result is the current set
 * minus removals plus creations; its size equals the payload's only when the
 * modules left over are precisely the payload's.)
 */
export function leavesExactlyPayload(current: HeldModules, entries: number, plan: SyncPlan): boolean {
  return current.size - plan.modulesRemoved + plan.modulesCreated === entries;
}

/**
 * `current`: the site's modules by module id. `entries` must hold unique
 * machine names (the validator drops repeats); `ids` has every entry's ids.
 * `keep` holds the module ids of modules whose payload entry was invalid: a
 * full sync must not remove them, since the site did report them.
 */
export function planSync(
  current: HeldModules,
  entries: readonly SiteModuleState[],
  ids: EntryIds,
  fullSync: boolean,
  keep: ReadonlySet<number>,
): SyncPlan {
  const writes: SiteModuleState[] = [];
  const sameDetails: boolean[] = [];
  let created = 0;
  let updated = 0;
  let unchanged = 0;
  for (const entry of entries) {
    const existing = current.get(ids.moduleId(entry));
    if (existing === undefined) {
      created++;
      writes.push(entry);
      sameDetails.push(false);
    } else {
      const detailsAsStored = existing.detailsHash === detailsHash(entry);
      if (detailsAsStored && existing.versionId === ids.versionId(entry) && existing.enabled === entry.enabled) {
        unchanged++;
      } else {
        updated++;
        writes.push(entry);
        sameDetails.push(detailsAsStored);
      }
    }
  }

  const removals: number[] = [];
  // Entries name distinct modules, so those found (updated + unchanged) are as
  // many distinct modules of the site: when that is all of them, none is left
  // to remove, and the common full re-sync builds no set of every module id.
  if (fullSync && updated + unchanged < current.size) {
    const reported = new Set<number>();
    for (const entry of entries) reported.add(ids.moduleId(entry));
    for (const moduleId of current.keys()) {
      if (!reported.has(moduleId) && !keep.has(moduleId)) removals.push(moduleId);
    }
  }

  return {
    writes,
    sameDetails,
    removals,
    modulesCreated: created,
    modulesUpdated: updated,
    modulesUnchanged: unchanged,
    modulesRemoved: removals.length,
  };
}

/** Whether `plan` rewrites the details of a module the site already holds (not only its version or enabled flag). */
export function changesHeldDetails(plan: SyncPlan): boolean {
  let sameDetails = 0;
  for (const same of plan.sameDetails) if (same) sameDetails++;
  return plan.writes.length - sameDetails > plan.modulesCreated;
}

/** A plan's writes as the store makes them: whole rows, and the version and enabled flag alone of those with the same details. */
export function splitWrites(plan: Pick<SyncPlan, "writes" | "sameDetails">): { whole: SiteModuleState[]; stateOnly: SiteModuleState[] } {
  if (!plan.sameDetails.includes(true)) return { whole: plan.writes, stateOnly: [] };
  const whole: SiteModuleState[] = [];
  const stateOnly: SiteModuleState[] = [];
  for (let i = 0; i < plan.writes.length; i++) (plan.sameDetails[i] ? stateOnly : whole).push(plan.writes[i]!);
  return { whole, stateOnly };
}
