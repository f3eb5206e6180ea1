// Scenario 2: one 100,000-module sync to a site that holds nothing yet, the
// worst single request a server must survive. Every round starts from empty
// databases and fresh processes. That way each round does the same work
// (all 100k modules new), and VmHWM (peak resident set) shows this request,
// not earlier load. A single shot is at the mercy of machine noise, so the
// scenario runs a few rounds and keeps the fastest of each server.
import { payload } from "../payload";
import type { Lab } from "../lib/lab";
import { postSync } from "../lib/post";
import { memoryOf, type Server } from "../lib/servers";

export const LARGE = { modules: 100_000, floorSiteId: 5000 } as const;

export interface LargeRun {
  seconds: number;
  /** VmHWM just before the request: the process's start-up peak. */
  peakBeforeMiB: number;
  /** VmHWM after the request. */
  peakMiB: number;
  rssAfterMiB: number;
}

export interface LargeSide {
  /** The fastest round. */
  seconds: number;
  /** The highest peak RSS of all rounds: for memory, the worst case is what matters. */
  peakMiB: number;
  runs: LargeRun[];
}

export interface LargeResult {
  bodyMiB: number;
  floor: LargeSide;
  modsync: LargeSide;
  ratio: number;
}

async function measure(server: Server, siteId: number, body: string, apiToken?: string): Promise<LargeRun> {
  const before = memoryOf(server.proc.pid);
  const answer = await postSync(server.base, { siteId, body }, apiToken);
  const after = memoryOf(server.proc.pid);
  const processed = (answer.json as { modules_processed?: unknown }).modules_processed;
  if (answer.status !== 200 || processed !== LARGE.modules) {
    throw new Error(`${server.name}: 100k sync answered ${answer.status} with modules_processed=${String(processed)}: ${JSON.stringify(answer.json).slice(0, 500)}`);
  }
  return { seconds: answer.seconds, peakBeforeMiB: before.peakMiB, peakMiB: after.peakMiB, rssAfterMiB: after.rssMiB };
}

function side(runs: LargeRun[]): LargeSide {
  return { seconds: Math.min(...runs.map((r) => r.seconds)), peakMiB: Math.max(...runs.map((r) => r.peakMiB)), runs };
}

export async function largeScenario(lab: Lab, rounds: number): Promise<LargeResult> {
  // Generated once; only the site block differs between bodies.
  const base = payload(LARGE.modules, { fullSync: false });
  const floorBody = JSON.stringify(base);
  const bodyMiB = floorBody.length / 2 ** 20;
  console.log(`  body ${bodyMiB.toFixed(1)} MiB`);
  const floorRuns: LargeRun[] = [];
  const modsyncRuns: LargeRun[] = [];
  for (let round = 1; round <= rounds; round++) {
    const servers = await lab.start(`large_${round}`, 1);
    try {
      const site = servers.fixtures.sites[0]!;
      const modsyncBody = JSON.stringify({ ...base, site: { ...base.site, url: site.url, token: site.token } });
      const f = await measure(servers.floor, LARGE.floorSiteId, floorBody);
      const m = await measure(servers.modsync, site.id, modsyncBody, servers.fixtures.apiToken);
      floorRuns.push(f);
      modsyncRuns.push(m);
      console.log(`  round ${round} floor ${f.seconds.toFixed(2)} s, peak RSS ${f.peakMiB.toFixed(0)} MiB;  modsync ${m.seconds.toFixed(2)} s, peak RSS ${m.peakMiB.toFixed(0)} MiB`);
    } finally {
      await servers.stop();
    }
  }
  const floor = side(floorRuns);
  const modsync = side(modsyncRuns);
  return { bodyMiB, floor, modsync, ratio: modsync.seconds / floor.seconds };
}
