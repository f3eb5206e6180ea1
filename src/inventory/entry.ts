// One module entry of a payload, judged: either the state to store, or why it
// was skipped. Judgements keep the payload's order (`index`), so a sync applied
// at once and one staged for the background report the same errors.
import type { SiteModuleState } from "./module";

/**
 * A sync result lists the first this many skipped entries, and counts them
 * all: what a response carries, and what is stored per site or task, stays
 * small whatever the payload held.
 */
export const REPORTED_ERRORS = 100;

/** Why an entry was skipped, as the sync result lists it. */
export interface EntryError {
  index: number;
  machine_name?: string;
  detail: string;
}

/**
 * `machineName` is the entry's name when it speaks for that module (valid or
 * not); null when it has none, or repeats a name seen earlier in the payload.
 */
export type Judgement =
  | { index: number; machineName: string; entry: SiteModuleState; error?: undefined }
  | { index: number; machineName: string | null; entry?: undefined; error: EntryError };
