// A synchronous sync, for both dialects: in one write transaction, serialised
// per site, compare the payload with the site's modules and write the
// difference.
import { leavesExactlyPayload, planSync, syncChanges, type KnownIds, type SyncCommand, type SyncOutcome } from "../inventory";
import type { SyncStatements } from "./statements";
import type { Step } from "./steps";
import { SiteBusyError } from "./types";
import { resolveIds, writePlan } from "./write-plan";

const NOTHING_TO_KEEP: ReadonlySet<number> = new Set();

/** `known` saves id lookups. Throws SiteBusyError while background syncs of the site are unfinished. */
export function* applySync<Wait>(s: SyncStatements<Wait>, cmd: SyncCommand, known?: KnownIds): Step<Wait, SyncOutcome> {
  yield* s.lockSite(cmd.siteId);
  // After the lock: it sees every task accepted before this sync got the site, and the modules its last sync left.
  const current = yield* s.siteModulesUnlessBusy(cmd.siteId);
  if (!current) throw new SiteBusyError(cmd.siteId);
  const now = new Date(); // after the lock: later syncs of this site get later times
  const ids = yield* resolveIds(s, cmd.entries, known);
  // A module the catalog does not hold is on no site: nothing to keep for it.
  const keep = cmd.fullSync && cmd.keep.size > 0 ? new Set(yield* s.existingModuleIds([...cmd.keep])) : NOTHING_TO_KEEP;
  const plan = planSync(current, cmd.entries, ids, cmd.fullSync, keep);
  yield* writePlan(s, cmd.siteId, plan, ids, now);
  const site = { siteName: cmd.siteName, ...cmd.drupalInfo };
  const exact = cmd.fingerprint !== null && leavesExactlyPayload(current, cmd.entries, plan);
  // With its history: what it changed (`current` is what the site held before it).
  yield* s.recordSync(cmd.siteId, site, now,
    exact ? cmd.fingerprint : null, exact ? cmd.repeat : null, { changes: syncChanges(current, plan, ids), taskId: null });
  return { counts: plan, learned: ids.learned };
}
