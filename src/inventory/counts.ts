// What a sync counts, and the result body every sync reports: a synchronous
// one in its 200, a background one in its completed task.
import type { EntryError } from "./entry";

export interface SyncCounts {
  modulesCreated: number;
  modulesUpdated: number;
  modulesUnchanged: number;
  modulesRemoved: number;
}

/** All modules unchanged: what a sync counts when the stored fingerprint matches. */
export function unchangedCounts(entries: number): SyncCounts {
  return { modulesCreated: 0, modulesUpdated: 0, modulesUnchanged: entries, modulesRemoved: 0 };
}

/** The spec's sync result (field names as in the HTTP body). */
export interface SyncResult {
  site_id: number;
  modules_processed: number;
  modules_created: number;
  modules_updated: number;
  modules_unchanged: number;
  modules_removed: number;
  /** The first REPORTED_ERRORS skipped entries, in payload order. */
  errors: EntryError[];
  /** How many entries were skipped in all. */
  errors_total: number;
  message: string;
}

export function syncResult(siteId: number, counts: SyncCounts, errors: EntryError[], errorsTotal: number): SyncResult {
  const processed = counts.modulesCreated + counts.modulesUpdated + counts.modulesUnchanged;
  return {
    site_id: siteId,
    modules_processed: processed,
    modules_created: counts.modulesCreated,
    modules_updated: counts.modulesUpdated,
    modules_unchanged: counts.modulesUnchanged,
    modules_removed: counts.modulesRemoved,
    errors,
    errors_total: errorsTotal,
    message: syncMessage(processed, errorsTotal),
  };
}

/** The result's message: says what happened when nothing could be synced. */
export function syncMessage(processed: number, skipped: number): string {
  if (processed > 0 || skipped === 0) return `Successfully synced ${processed} modules`;
  const entries = skipped === 1 ? "the 1 entry was" : `all ${skipped} entries were`;
  return `No module synced: ${entries} invalid or repeated (see errors)`;
}
