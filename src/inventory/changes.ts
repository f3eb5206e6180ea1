// What a sync changed on a site, as its history records it: derived from
// the plan (before → after), with no I/O. A sync into an empty inventory (a
// site's first) is one "initial_inventory" change with its module count, not
// one change per module. Core and PHP version changes are compared with the
// site row by the store, in the statement that records these.
import type { EntryIds, HeldModules } from "./module";
import type { SyncPlan } from "./plan";

export const CHANGE_KINDS = [
  "initial_inventory",
  "module_added",
  "module_removed",
  "version_changed",
  "module_enabled",
  "module_disabled",
  "core_version_changed",
  "php_version_changed",
] as const;

export type ChangeKind = (typeof CHANGE_KINDS)[number];

/**
 * One recorded change, by catalog ids (the statement that records it names
 * them): the module, its version before and after (null: none), `count` only
 * for initial_inventory.
 */
export interface SiteChange {
  kind: ChangeKind;
  moduleId: number | null;
  fromVersionId: number | null;
  toVersionId: number | null;
  count: number | null;
  /**
   * An addition or version change of a core or custom module: no project of
   * its own for the update statuses to judge again (change-sets.ts
   * modulesChanged), so they need not look the module up.
   */
  notContrib?: true;
}

/** The one change of a first sync: `count` modules reported. */
export function initialInventory(count: number): SiteChange[] {
  return count > 0 ? [{ kind: "initial_inventory", moduleId: null, fromVersionId: null, toVersionId: null, count }] : [];
}

/**
 * The module changes of `plan` against `current` (what the site held among the
 * plan's modules, by module id): additions, version changes, enabling and
 * disabling, and removals. Changes of display name, description, project or
 * type are not history: they change no answer the history gives.
 */
export function moduleChanges(current: HeldModules, plan: SyncPlan, ids: EntryIds): SiteChange[] {
  const changes: SiteChange[] = [];
  for (const after of plan.writes) {
    const moduleId = ids.moduleId(after);
    const to = ids.versionId(after);
    const before = current.get(moduleId);
    const notContrib = after.moduleType === "contrib" ? undefined : true;
    if (!before) {
      changes.push({ kind: "module_added", moduleId, fromVersionId: null, toVersionId: to, count: null, notContrib });
      continue;
    }
    if (before.versionId !== to) changes.push({ kind: "version_changed", moduleId, fromVersionId: before.versionId, toVersionId: to, count: null, notContrib });
    if (before.enabled !== after.enabled) {
      changes.push({ kind: after.enabled ? "module_enabled" : "module_disabled", moduleId, fromVersionId: to, toVersionId: to, count: null });
    }
  }
  for (const moduleId of plan.removals) {
    changes.push({ kind: "module_removed", moduleId, fromVersionId: current.get(moduleId)?.versionId ?? null, toVersionId: null, count: null });
  }
  return changes;
}

/** A synchronous sync's changes: `current` is everything the site held before it. */
export function syncChanges(current: HeldModules, plan: SyncPlan, ids: EntryIds): SiteChange[] {
  return current.size === 0 ? initialInventory(plan.modulesCreated) : moduleChanges(current, plan, ids);
}
