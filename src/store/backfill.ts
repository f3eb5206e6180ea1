// Rows of site_modules written before details_hash existed get theirs at
// start-up, after the migrations: a sync compares the hash, never the text, so
// none may lack it. Both dialects read such rows through a partial index
// (empty once filled) in batches, and write the hashes back.
import { detailsHash, type ExtensionType, type ModuleType } from "../inventory";

export const BACKFILL_BATCH = 1000;

/** Rows still without a hash (the partial index site_modules_details_hash_missing holds exactly these). */
export const MISSING_HASHES_SQL = `SELECT site_id, module_id, display_name, module_type, extension_type, description, project
  FROM site_modules WHERE details_hash IS NULL LIMIT ${BACKFILL_BATCH}`;

export interface MissingHashRow {
  site_id: number;
  module_id: number;
  display_name: string;
  module_type: ModuleType;
  extension_type: ExtensionType;
  description: string | null;
  project: string | null;
}

/** The hash a sync would have written with the row. */
export function hashOfRow(row: MissingHashRow): number {
  // machineName, enabled and version are not part of the hash.
  return detailsHash({ machineName: "", enabled: false, version: null, displayName: row.display_name, moduleType: row.module_type, extensionType: row.extension_type, description: row.description, project: row.project });
}
