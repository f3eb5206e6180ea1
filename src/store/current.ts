// A site's current modules, as the sync compares them: read by both dialects
// with the same columns, as value arrays (the cheapest rows both drivers give).
import type { CurrentModule, ExtensionType, ModuleType } from "../inventory";

/** The columns, in CurrentModuleRow order, and the joins they come from (aliases sm, m, v). */
export const CURRENT_MODULE_COLUMNS = "sm.module_id, m.machine_name, v.version, sm.enabled, sm.display_name, sm.module_type, sm.description, sm.project, sm.extension_type";
export const CURRENT_MODULE_JOINS = "site_modules sm JOIN modules m ON m.id = sm.module_id LEFT JOIN module_versions v ON v.id = sm.version_id";

/** SQLite hands `enabled` back as 0/1, Postgres as a boolean. */
export type CurrentModuleRow = [number, string, string | null, number | boolean, string, ModuleType, string | null, string | null, ExtensionType];

export function currentModules(rows: Iterable<CurrentModuleRow>): Map<string, CurrentModule> {
  const current = new Map<string, CurrentModule>();
  for (const [moduleId, machineName, version, enabled, displayName, moduleType, description, project, extensionType] of rows) {
    current.set(machineName, { moduleId, machineName, version, enabled: Boolean(enabled), displayName, moduleType, extensionType, description, project });
  }
  return current;
}
