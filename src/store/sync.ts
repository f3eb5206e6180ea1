// A synchronous sync, for both dialects: in one write transaction, serialised
// per site, compare the payload with the site's modules and write the
// difference.
import { changesHeldDetails, leavesExactlyPayload, planSync, syncChanges, type KnownIds, type SyncCommand, type SyncOutcome } from "../inventory";
import { applyPlan } from "./packed-modules";
import { newModulesStamp, type SiteState } from "./site-states";
import type { SyncStatements } from "./statements";
import { together, type Step } from "./steps";
import { SiteBusyError } from "./types";
import { knowsEveryId, resolveIds } from "./write-plan";

const NOTHING_TO_KEEP: ReadonlySet<number> = new Set();

/** What a sync did, and the site's modules it leaves: to be made and kept (SiteStates) once it has committed, not before. */
export interface AppliedSync extends SyncOutcome {
  /** The stamp written with the site's modules. */
  stamp: number;
  /** The site's modules, packed, as the sync leaves them (null: not to be kept). */
  leaves(): Float64Array | null;
  /** The fingerprint the sync stored with the site (null: none, the site holds more than the payload). */
  fingerprint: string | null;
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
  // (lockSiteModulesAssuming): the lock and its check then travel with the writes.
  const assume = kept !== undefined && knowsEveryId(cmd.entries, known) && !(cmd.fullSync && cmd.keep.size > 0);
  const [held, ids] = assume
    ? [yield* s.lockSiteModulesAssuming(cmd.siteId, kept), yield* resolveIds(s, cmd.entries, known)]
    : yield* together(s.lockSiteModules(cmd.siteId, kept), resolveIds(s, cmd.entries, known));
  if (!held) throw new SiteBusyError(cmd.siteId);
  const current = held.modules;
  // After the lock, so that later syncs of this site get later times; or, assumed, after this process's
  // last sync of the site, which nothing has followed if the assumption holds (else nothing is written).
  const now = new Date();
  // A module the catalog does not hold is on no site: nothing to keep for it.
  const keep = cmd.fullSync && cmd.keep.size > 0 ? new Set(yield* s.existingModuleIds([...cmd.keep])) : NOTHING_TO_KEEP;
  const plan = planSync(current, cmd.entries, ids, cmd.fullSync, keep);
  const site = { siteName: cmd.siteName, ...cmd.drupalInfo };
  const exact = cmd.fingerprint !== null && leavesExactlyPayload(current, cmd.entries, plan);
  const fingerprint = exact ? cmd.fingerprint : null;
  const stamp = newModulesStamp();
  yield* s.writeSync(cmd.siteId, plan, ids, now, {
    site, fingerprint, repeat: exact ? cmd.repeat : null,
    // What it changed: `current` is what the site held before it.
    history: { changes: syncChanges(current, plan, ids), taskId: null, detailsChanged: changesHeldDetails(plan) },
    stamp,
  });
  return { counts: plan, learned: ids.learned, fingerprint, stamp, leaves: () => applyPlan(current, cmd.entries, plan, ids) };
}
