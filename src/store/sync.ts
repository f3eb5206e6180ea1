// A synchronous sync, for both dialects: in one write transaction, serialised
// per site, compare the payload with the site's modules and write the
// difference.
import { changesHeldDetails, leavesExactlyPayload, planSync, syncChanges, type EntryIds, type KnownIds, type SiteModuleState, type SyncCommand, type SyncOutcome } from "../inventory";
import { applyPlan, applyPlanInPlace } from "./packed-modules";
import { NearRepeatStaleError, newModulesStamp, type SiteState } from "./site-states";
import type { SyncStatements } from "./statements";
import { together, type Step } from "./steps";
import { SiteBusyError } from "./types";
import { knowsEveryId } from "./resolve";
import { resolveIds } from "./write-plan";

const NOTHING_TO_KEEP: ReadonlySet<number> = new Set();

/** What a sync did, and the site's modules it leaves: to be made and kept (SiteStates) once it has committed, not before. */
export interface AppliedSync extends SyncOutcome {
  /** The stamp written with the site's modules. */
  stamp: number;
  /** The site's modules, packed, as the sync leaves them (null: not to be kept). */
  leaves(): Float64Array | null;
  /** The fingerprint the sync stored with the site (null: none, the site holds more than the payload). */
  fingerprint: string | null;
  /** Whether the sync started from the state this process kept (still the site's: nobody else wrote it since). */
  fromKept: boolean;
}

/**
 * `known` saves id lookups; `kept`, the site's modules as this process's last
 * sync of it left them, saves reading them while they are still those.
 * Throws SiteBusyError while background syncs of the site are unfinished.
 */
export function* applySync<Wait>(s: SyncStatements<Wait>, cmd: SyncCommand, known?: KnownIds, kept?: SiteState): Step<Wait, AppliedSync> {
  // Read after the lock: every task accepted before this sync got the site, and the modules its last sync left.
  // The ids the caches lacked are read (or created) with it, in the same round trip on Postgres (together):
  // they do not depend on the site, and the server still takes the site's lock first. A sync that reads
  // nothing else may start from the modules this process kept without waiting for the lock at all
  // (lockSiteModulesAssuming): the lock and its check then travel with the writes. Only a confirmed
  // state is assumed (SiteState.confirmed): one this process's syncs of the site keep finding current.
  const readsKeep = cmd.fullSync && cmd.keep.size > 0;
  const assume = kept?.confirmed === true && knowsEveryId(cmd.entries, known) && !readsKeep;
  const [held, ids] = assume
    ? [yield* s.lockSiteModulesAssuming(cmd.siteId, kept), yield* resolveIds(s, cmd.entries, known)]
    : yield* together(s.lockSiteModules(cmd.siteId, kept), resolveIds(s, cmd.entries, known));
  if (!held) throw new SiteBusyError(cmd.siteId);
  // A near repeat's untouched entries are as the assumed body left them only if the site holds exactly
  // that body's modules: the kept state its sync left (not read since: no one wrote the site), with its
  // fingerprint; and its entries replace the entries of the same modules, so none repeats another.
  const near = cmd.partOf;
  if (near !== undefined && (held !== kept || kept.fingerprint !== near.assumes || !sameModules(cmd.entries, ids, near.moduleIds))) {
    throw new NearRepeatStaleError(cmd.siteId);
  }
  const current = held.modules;
  // After the lock, so that later syncs of this site get later times; or, assumed, after this process's
  // last sync of the site, which no write of the site's modules has followed if the assumption holds
  // (else nothing is written). A repeat answered by another instance may have (it writes no stamp):
  // the site row's times take the later of the two all the same (syncTime).
  const now = new Date();
  // A module the catalog does not hold is on no site: nothing to keep for it.
  const keep = readsKeep ? new Set(yield* s.existingModuleIds([...cmd.keep])) : NOTHING_TO_KEEP;
  // A near repeat names the same modules as the body before it, in the same places: nothing to remove,
  // and its untouched entries are unchanged. (As a full sync, its few entries would remove the rest.)
  const plan = planSync(current, cmd.entries, ids, cmd.fullSync && near === undefined, keep);
  if (near !== undefined) plan.modulesUnchanged += near.untouched;
  const site = { siteName: cmd.siteName, ...cmd.drupalInfo };
  const exact = cmd.fingerprint !== null && leavesExactlyPayload(current, cmd.entries.length + (near?.untouched ?? 0), plan);
  const fingerprint = exact ? cmd.fingerprint : null;
  const stamp = newModulesStamp();
  yield* s.writeSync(cmd.siteId, plan, ids, now, {
    site, fingerprint, repeat: exact ? cmd.repeat : null,
    // What it changed: `current` is what the site held before it.
    history: { changes: syncChanges(current, plan, ids), taskId: null, detailsChanged: changesHeldDetails(plan) },
    stamp,
  });
  return {
    counts: plan, learned: ids.learned, exact, fingerprint, stamp, fromKept: kept !== undefined && held === kept,
    leaves: () => (near === undefined ? applyPlan(current, cmd.entries, plan, ids) : applyPlanInPlace(current, plan, ids)),
  };
}

/** Whether `entries` name, in order, the modules `moduleIds`. */
function sameModules(entries: readonly SiteModuleState[], ids: EntryIds, moduleIds: Uint32Array): boolean {
  if (entries.length !== moduleIds.length) return false;
  for (let i = 0; i < entries.length; i++) if (ids.moduleId(entries[i]!) !== moduleIds[i]) return false;
  return true;
}
