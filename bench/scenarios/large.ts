// Scenario 2: one 100,000-module sync to a site that holds nothing yet — the
// worst single request a server must survive. Each server runs in a process
// started just for this scenario, so VmHWM (peak resident set) reflects this
// request and not earlier load.
import { payload } from "../payload";
import type { BenchSite } from "../lib/modsync";
import { postSync } from "../lib/post";
import { memoryOf, type Server } from "../lib/servers";

export const LARGE = { modules: 100_000, floorSiteId: 5000 } as const;

export interface LargeRun {
  seconds: number;
  /** VmHWM just before the request: the process's start-up peak. */
  peakBeforeMiB: number;
  /** VmHWM after the request: the figure compared. */
  peakMiB: number;
  rssAfterMiB: number;
  bodyMiB: number;
}

export interface LargeResult {
  floor: LargeRun;
  modsync: LargeRun;
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
  const run = { seconds: answer.seconds, peakBeforeMiB: before.peakMiB, peakMiB: after.peakMiB, rssAfterMiB: after.rssMiB, bodyMiB: body.length / 2 ** 20 };
  console.log(`  ${server.name.padEnd(7)} ${run.seconds.toFixed(2)} s  peak RSS ${run.peakMiB.toFixed(0)} MiB (${run.peakBeforeMiB.toFixed(0)} MiB before)`);
  return run;
}

export async function largeScenario(opts: { floor: Server; modsync: Server; apiToken: string; site: BenchSite }): Promise<LargeResult> {
  // Same modules for both; only modsync's body names its real site and token.
  const floorBody = JSON.stringify(payload(LARGE.modules, { fullSync: false }));
  const modsyncBody = JSON.stringify(payload(LARGE.modules, { fullSync: false, url: opts.site.url, token: opts.site.token }));
  console.log(`  body ${(modsyncBody.length / 2 ** 20).toFixed(1)} MiB`);
  const floor = await measure(opts.floor, LARGE.floorSiteId, floorBody);
  const modsync = await measure(opts.modsync, opts.site.id, modsyncBody, opts.apiToken);
  return { floor, modsync, ratio: modsync.seconds / floor.seconds };
}
