// What a checked sync asks the store to do: apply it at once (SyncCommand),
// or, for a staged background sync, accept it (AcceptedSync).
import type { SyncCounts } from "./counts";
import type { EntryError } from "./entry";
import type { LearnedIds } from "./known-ids";
import type { SiteModuleState } from "./module";

export interface DrupalInfo {
  coreVersion: string;
  phpVersion: string;
  /** Absent when the site could not tell (cron under drush): the stored one is kept. */
  ipAddress: string | null;
}

/** The envelope of a background sync, applied when its task completes. */
export interface AcceptedSync {
  siteName: string;
  drupalInfo: DrupalInfo;
  fullSync: boolean;
  /** Entries the payload skipped (the result lists the first REPORTED_ERRORS). */
  errorsTotal: number;
}

/** What a sync of a body reports when the body comes again unchanged. */
export interface RepeatSummary {
  modules: number;
  errors: EntryError[];
  errorsTotal: number;
}

/** A validated sync, applied in one transaction. */
export interface SyncCommand extends Omit<AcceptedSync, "errorsTotal"> {
  siteId: number;
  entries: SiteModuleState[];
  /** machine_names whose entries were skipped as invalid: never removed by a full sync. */
  keep: ReadonlySet<string>;
  /**
   * Fingerprint of the request body, or null. Equal to the site's stored one
   * means the site already holds exactly these modules.
   */
  fingerprint: string | null;
  /** Stored with the fingerprint: what a repeat of this body reports (RepeatSummary as JSON). */
  repeat: string;
  /**
   * A near repeat (sync/near-repeats.ts): `entries` are only the body's
   * changed ones, and must name the modules `moduleIds` (those of the
   * entries they replace, in order); its `untouched` others are byte for
   * byte those of the body whose fingerprint is `assumes`, and hold as that
   * body left them if the site still holds exactly that body's modules.
   * Otherwise nothing is written (NearRepeatStaleError) and the body is
   * applied in full. Sent with fullSync false: its entries alone remove nothing.
   */
  partOf?: { untouched: number; assumes: string; moduleIds: Uint32Array };
}

export interface SyncOutcome {
  counts: SyncCounts;
  /** Ids the store read or created that were not known: safe to cache once committed. */
  learned: LearnedIds;
  /** Whether the site now holds exactly the payload's modules (its fingerprint was stored). */
  exact: boolean;
}
