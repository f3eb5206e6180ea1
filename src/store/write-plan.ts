// Resolving a sync's catalog ids and writing its plan to a site's modules, for
// both dialects: ids resolved in bulk (those the caller knows are used as
// they are), then one bulk upsert of what is new or changed in its details, one
// bulk update of versions and enabled flags (up to a few rows as one
// single-row UPDATE each: FEW_STATE_UPDATES; on SQLite the bulk form is an
// upsert of the rows), and one bulk removal.
import { splitWrites, type EntryIds, type KnownIds, type SiteModuleState, type SyncPlan } from "../inventory";
import { IdResolution } from "./resolve";
import type { ModuleStatements } from "./statements";
import type { Step } from "./steps";

/**
 * Up to this many state-only row updates (a drift sync's one or two) run as a
 * single-row UPDATE each, on both dialects; more as one multi-row statement.
 * The multi-row forms pay a fixed cost: SQLite's (an upsert of a VALUES list,
 * sqlite/statements.ts) compiles and binds the list, about what a few single
 * rows cost (9 rows: 18-19 µs either way, on site_module_states); its former
 * `UPDATE … FROM (VALUES …)` took ~90 µs of a drift sync's CPU for one row in
 * the server, ~20 µs as a plain UPDATE. Postgres plans its UPDATE from
 * a JSON list as a hash join over all of the site's rows (it estimates the
 * list at 100 rows): 150 rows read and joined to update one, 136 µs a drift
 * sync's statement (pg_stat_statements). A bound, so no sync ever runs a
 * statement per module of its site.
 */
export const FEW_STATE_UPDATES = 8;

/**
 * The ids of every entry: `known` ones as they are, the rest read or created.
 * Its `learned` are those `known` did not hold (left empty unless `learns`).
 */
export function* resolveIds<Wait>(s: ModuleStatements<Wait>, entries: readonly SiteModuleState[], known?: KnownIds, learns = true): Step<Wait, IdResolution> {
  const ids = new IdResolution(entries, known, learns);
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
