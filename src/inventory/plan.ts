// The heart of a sync, with no I/O: given what the site has now and what the
// payload says, decide what to write, what to remove and what to count.
// store/write-plan.ts executes the plan this returns, in bulk, for both dialects.
import type { SyncCounts } from "./counts";
import { sameState, type EntryIds, type SiteModuleState, type StoredModule } from "./module";

export interface SyncPlan extends SyncCounts {
  /** Entries to upsert (created and updated alike). */
  writes: SiteModuleState[];
  /** Module ids to delete from the site (full sync only). */
  removals: number[];
}

/**
 * Whether applying `plan` leaves the site holding exactly the payload's
 * entries. It does unless a partial sync, or modules kept because their entry
 * was skipped, leave other modules in place. (The result is the current set
 * minus removals plus creations; its size equals the payload's only when the
 * modules left over are precisely the payload's.)
 */
export function leavesExactlyPayload(current: ReadonlyMap<number, StoredModule>, entries: readonly SiteModuleState[], plan: SyncPlan): boolean {
  return current.size - plan.modulesRemoved + plan.modulesCreated === entries.length;
}

/**
 * `current`: the site's modules by module id. `entries` must hold unique
 * machine names (the validator drops repeats); `ids` has every entry's ids.
 * `keep` holds the module ids of modules whose payload entry was invalid: a
 * full sync must not remove them, since the site did report them.
 */
export function planSync(
  current: ReadonlyMap<number, StoredModule>,
  entries: readonly SiteModuleState[],
  ids: EntryIds,
  fullSync: boolean,
  keep: ReadonlySet<number>,
): SyncPlan {
  const writes: SiteModuleState[] = [];
  let created = 0;
  let updated = 0;
  let unchanged = 0;
  for (const entry of entries) {
    const existing = current.get(ids.moduleId(entry.machineName));
    if (existing === undefined) {
      created++;
      writes.push(entry);
    } else if (sameState(existing, entry, ids)) {
      unchanged++;
    } else {
      updated++;
      writes.push(entry);
    }
  }

  const removals: number[] = [];
  if (fullSync && current.size > 0) {
    const reported = new Set<number>();
    for (const entry of entries) reported.add(ids.moduleId(entry.machineName));
    for (const moduleId of current.keys()) {
      if (!reported.has(moduleId) && !keep.has(moduleId)) removals.push(moduleId);
    }
  }

  return {
    writes,
    removals,
    modulesCreated: created,
    modulesUpdated: updated,
    modulesUnchanged: unchanged,
    modulesRemoved: removals.length,
  };
}
