// Writing a sync plan to a site's modules, for both dialects: catalog ids
// resolved in bulk (those the caller knows are used as they are), then one
// bulk upsert of what changed and one bulk removal.
import type { KnownIds, SyncPlan } from "../inventory";
import { IdResolution } from "./resolve";
import type { ModuleStatements } from "./statements";
import type { Step } from "./steps";

/** Returns the ids it read or created that `known` did not hold. */
export function* writePlan<Wait>(s: ModuleStatements<Wait>, siteId: number, plan: SyncPlan, now: Date, known?: KnownIds): Step<Wait, KnownIds> {
  const ids = new IdResolution(plan.writes, known);
  if (plan.writes.length > 0) {
    const names = ids.unknownModules();
    if (names.length > 0) ids.addModules(yield* s.moduleIds(names));
    const pairs = ids.unknownVersions();
    if (pairs.length > 0) ids.addVersions(yield* s.versionIds(pairs));
    yield* s.upsertSiteModules(siteId, plan.writes, ids, now);
  }
  if (plan.removals.length > 0) yield* s.removeSiteModules(siteId, plan.removals);
  return ids.learned;
}
