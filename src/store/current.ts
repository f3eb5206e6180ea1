// A site's current modules, as the sync compares them: read by both dialects
// with the same columns, integers only, as value arrays (the cheapest rows
// both drivers give). Text stays in the database: detailsHash stands for it.
import type { StoredModule } from "../inventory";

/** The columns, in StoredModuleRow order, of site_modules. */
export const STORED_MODULE_COLUMNS = "module_id, version_id, enabled, details_hash";

/**
 * SQLite hands `enabled` back as 0/1, Postgres as a boolean; Postgres hands
 * bigint columns (version_id, details_hash) back as strings.
 */
export type StoredModuleRow = [number, number | string | null, number | boolean, number | string];

export function storedModules(rows: Iterable<StoredModuleRow>): Map<number, StoredModule> {
  const current = new Map<number, StoredModule>();
  for (const [moduleId, versionId, enabled, detailsHash] of rows) {
    current.set(moduleId, { moduleId, versionId: versionId === null ? null : Number(versionId), enabled: Boolean(enabled), detailsHash: Number(detailsHash) });
  }
  return current;
}
