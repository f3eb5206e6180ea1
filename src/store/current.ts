// A site's current modules, as the sync compares them: read by both dialects
// with the same columns, integers only, as value arrays (SQLite's cheapest
// rows; Postgres sends a whole site's as one JSON array of them, a background
// batch's as rows). Text stays in the database: detailsHash stands for it.
import type { HeldModules, StoredModule } from "../inventory";
import { fits, PackedModules, packRow, SLOTS } from "./packed-modules";

/** The columns, in StoredModuleRow order, of site_module_states (both dialects), all a sync compares. */
export const STORED_MODULE_COLUMNS = "module_id, version_id, enabled, details_hash";

/**
 * SQLite hands `enabled` back as 0/1, Postgres as a boolean; Postgres rows
 * hand bigint columns (version_id, details_hash) back as strings, its JSON as
 * numbers (exact: both stay below 2^53).
 */
export type StoredModuleRow = [number, number | string | null, number | boolean, number | string];

/** The rows as a map of objects: for a background batch's few, and for rows that do not pack. */
export function storedModules(rows: Iterable<StoredModuleRow>): Map<number, StoredModule> {
  const current = new Map<number, StoredModule>();
  for (const [moduleId, versionId, enabled, detailsHash] of rows) {
    current.set(moduleId, { moduleId, versionId: versionId === null ? null : Number(versionId), enabled: Boolean(enabled), detailsHash: Number(detailsHash) });
  }
  return current;
}

/**
 * A site's rows as read from the database, packed; a Map when a row does not
 * fit (then the sync still runs from it, and its result is not kept).
 */
export function heldModules(rows: readonly StoredModuleRow[]): HeldModules {
  const packed = new Float64Array(rows.length * SLOTS);
  let at = 0;
  for (const [moduleId, versionId, enabled, hash] of rows) {
    const version = versionId === null ? null : Number(versionId);
    if (!fits(moduleId, version)) return storedModules(rows);
    at = packRow(packed, at, moduleId, version, Boolean(enabled), Number(hash));
  }
  return new PackedModules(packed);
}
