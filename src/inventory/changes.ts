// What a sync changed on a site, as its history records it: derived from
// the plan (before → after), with no I/O. A sync into an empty inventory (a
// site's first) is one "initial_inventory" change with its module count, not
// one change per module. Core and PHP version changes are compared with the
// site row by the store, in the statement that records these.
import type { CurrentModule } from "./module";
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

/** One recorded change; `from`/`to` are versions (null: none reported), `count` only for initial_inventory. */
export interface SiteChange {
  kind: ChangeKind;
  machineName: string | null;
  from: string | null;
  to: string | null;
  count: number | null;
}

/** The one change of a first sync: `count` modules reported. */
export function initialInventory(count: number): SiteChange[] {
  return count > 0 ? [{ kind: "initial_inventory", machineName: null, from: null, to: null, count }] : [];
}

/**
 * The module changes of `plan` against `current` (what the site held among the
 * plan's modules): additions, version changes, enabling and disabling, and
 * removals. Changes of display name, description, project or type are not
 * history: they change no answer the history gives.
 */
export function moduleChanges(current: ReadonlyMap<string, CurrentModule>, plan: SyncPlan): SiteChange[] {
  const changes: SiteChange[] = [];
  for (const after of plan.writes) {
    const before = current.get(after.machineName);
    const machineName = after.machineName;
    if (!before) {
      changes.push({ kind: "module_added", machineName, from: null, to: after.version, count: null });
      continue;
    }
    if (before.version !== after.version) changes.push({ kind: "version_changed", machineName, from: before.version, to: after.version, count: null });
    if (before.enabled !== after.enabled) {
      changes.push({ kind: after.enabled ? "module_enabled" : "module_disabled", machineName, from: after.version, to: after.version, count: null });
    }
  }
  if (plan.removals.length > 0) {
    const removed = new Set(plan.removals);
    for (const module of current.values()) {
      if (removed.has(module.moduleId)) changes.push({ kind: "module_removed", machineName: module.machineName, from: module.version, to: null, count: null });
    }
  }
  return changes;
}

/** A synchronous sync's changes: `current` is everything the site held before it. */
export function syncChanges(current: ReadonlyMap<string, CurrentModule>, plan: SyncPlan): SiteChange[] {
  return current.size === 0 ? initialInventory(plan.modulesCreated) : moduleChanges(current, plan);
}
