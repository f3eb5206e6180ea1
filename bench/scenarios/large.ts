// Scenario 2: one 100,000-module sync to a site that holds nothing yet, the
// worst single request a server must survive. Every round starts from empty
// databases and fresh processes. That way each round does the same work
// (all 100k modules new), and VmHWM (peak resident set) shows this request,
// not earlier load. A single shot is at the mercy of machine noise, so the
// scenario runs a few rounds and keeps the fastest of each server. modsync
// runs with its default SYNC_BACKGROUND_THRESHOLD, so it answers 202 and its
// time runs until its background task completes (one-sync.ts).
import { payload } from "../../test/support/payload";
import type { Lab } from "../lib/lab";
import { describe, measureSync, summarize, type OneSyncRun, type OneSyncSide } from "./one-sync";

export const LARGE = { modules: 100_000, floorSiteId: 5000 } as const;

export interface LargeResult {
  bodyMiB: number;
  floor: OneSyncSide;
  modsync: OneSyncSide;
  /** modsync seconds ÷ floor seconds (fastest rounds). */
  ratio: number;
}

export async function largeScenario(lab: Lab, rounds: number): Promise<LargeResult> {
  // Generated once; only the site block differs between bodies.
  const base = payload(LARGE.modules, { fullSync: false });
  const floorBody = JSON.stringify(base);
  const bodyMiB = floorBody.length / 2 ** 20;
  console.log(`  body ${bodyMiB.toFixed(1)} MiB`);
  const floorRuns: OneSyncRun[] = [];
  const modsyncRuns: OneSyncRun[] = [];
  for (let round = 1; round <= rounds; round++) {
    const servers = await lab.start(`large_${round}`, 1);
    try {
      const site = servers.fixtures.sites[0]!;
      const modsyncBody = JSON.stringify({ ...base, site: { ...base.site, url: site.url, token: site.token } });
      const f = await measureSync(servers.floor, LARGE.floorSiteId, floorBody, LARGE.modules);
      const m = await measureSync(servers.modsync, site.id, modsyncBody, LARGE.modules, servers.fixtures.apiToken);
      floorRuns.push(f);
      modsyncRuns.push(m);
      console.log(`  round ${round} floor ${describe(f)};  modsync ${describe(m)}`);
    } finally {
      await servers.stop();
    }
  }
  const floor = summarize(floorRuns);
  const modsync = summarize(modsyncRuns);
  return { bodyMiB, floor, modsync, ratio: modsync.seconds / floor.seconds };
}
