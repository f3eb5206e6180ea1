// Resolving a sync's catalog ids and writing its plan to a site's modules, for
// both dialects: ids resolved in bulk (those the caller knows are used as
// they are), then one bulk upsert of what is new or changed in its details, one
// bulk update of versions and enabled flags (on SQLite, up to a few rows as one
// single-row UPDATE each: sqlite/statements.ts), and one bulk removal.
import { splitWrites, type EntryIds, type KnownIds, type SiteModuleState, type SyncPlan } from "../inventory";
import { IdResolution } from "./resolve";
import type { ModuleStatements } from "./statements";
import type { Step } from "./steps";

/** The ids of every entry: `known` ones as they are, the rest read or created. Its `learned` are those `known` did not hold. */
export function* resolveIds<Wait>(s: ModuleStatements<Wait>, entries: readonly SiteModuleState[], known?: KnownIds): Step<Wait, IdResolution> {
  const ids = new IdResolution(entries, known);
  const names = ids.unknownModules();
  if (names.length > 0) ids.addModules(yield* s.moduleIds(names));
  const pairs = ids.unknownVersions();
  if (pairs.length > 0) ids.addVersions(yield* s.versionIds(pairs));
  return ids;
}

export function* writePlan<Wait>(s: ModuleStatements<Wait>, siteId: number, plan: SyncPlan, ids: EntryIds, now: Date): Step<Wait, void> {
  const { whole, stateOnly } = splitWrites(plan);
  if (whole.length > 0) yield* s.upsertSiteModules(siteId, whole, ids, now);
  if (stateOnly.length > 0) yield* s.updateSiteModuleStates(siteId, stateOnly, ids, now);
  if (plan.removals.length > 0) yield* s.removeSiteModules(siteId, plan.removals);
}
