// Scenario 1: steady-state re-syncs. Every site already holds the same 150
// modules (warm-up), so the measured run is the common case in production:
// a site re-reports an unchanged inventory, and the server must read, compare
// and acknowledge it.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { payload } from "../payload";
import type { BenchSite } from "../lib/modsync";
import { postAll } from "../lib/post";
import type { Server } from "../lib/servers";
import { runWrk, type WrkResult } from "../lib/wrk";

export const RESYNC = { modules: 150, connections: 32, threads: 2, floorSites: 1000 } as const;

export interface ResyncResult {
  floor: { best: WrkResult; runs: WrkResult[] };
  modsync: { best: WrkResult; runs: WrkResult[] };
  ratio: number;
}

export async function resyncScenario(opts: {
  floor: Server;
  modsync: Server;
  apiToken: string;
  sites: BenchSite[];
  tmpDir: string;
  benchDir: string;
  seconds: number;
  rounds: number;
}): Promise<ResyncResult> {
  // The floor ignores the site block, so one body serves every site id.
  const floorFile = join(opts.tmpDir, "floor-body.json");
  const floorBody = JSON.stringify(payload(RESYNC.modules));
  writeFileSync(floorFile, floorBody);

  // modsync checks site.url and site.token against the site in the path:
  // one body per site, same modules in each.
  const bodyDir = join(opts.tmpDir, "modsync-bodies");
  mkdirSync(bodyDir);
  const modsyncJobs = opts.sites.map((s) => ({ siteId: s.id, body: JSON.stringify(payload(RESYNC.modules, { url: s.url, token: s.token })) }));
  for (const job of modsyncJobs) writeFileSync(join(bodyDir, `${job.siteId}.json`), job.body);
  writeFileSync(join(bodyDir, "ids.txt"), modsyncJobs.map((j) => j.siteId).join("\n") + "\n");

  console.log(`  warming up: one ${RESYNC.modules}-module sync per site on each server`);
  const floorJobs = Array.from({ length: RESYNC.floorSites }, (_, i) => ({ siteId: i + 1, body: floorBody }));
  await postAll(opts.floor.name, opts.floor.base, floorJobs);
  await postAll(opts.modsync.name, opts.modsync.base, modsyncJobs, opts.apiToken);

  const wrk = (server: Server, env: Record<string, string>) =>
    runWrk({ base: server.base, seconds: opts.seconds, connections: RESYNC.connections, threads: RESYNC.threads, env, benchDir: opts.benchDir });
  const floorRuns: WrkResult[] = [];
  const modsyncRuns: WrkResult[] = [];
  // Alternating runs spread machine noise (thermal, page cache, neighbours) over both servers.
  for (let round = 1; round <= opts.rounds; round++) {
    const f = await wrk(opts.floor, { BODY_FILE: floorFile, SITES: String(RESYNC.floorSites) });
    report("floor", round, f);
    floorRuns.push(f);
    const m = await wrk(opts.modsync, { BODY_DIR: bodyDir, SITES: String(modsyncJobs.length), TOKEN: opts.apiToken });
    report("modsync", round, m);
    modsyncRuns.push(m);
    // A benchmark of error answers measures nothing: stop here, loudly.
    for (const [name, r] of [["floor", f], ["modsync", m]] as const) {
      if (r.non2xx > 0 || r.socketErrors > 0) {
        throw new Error(`${name} answered ${r.non2xx} non-2xx responses and had ${r.socketErrors} socket errors out of ${r.requests} requests; the re-sync figures are not valid`);
      }
    }
  }
  const best = (runs: WrkResult[]) => runs.reduce((a, b) => (b.requestsPerSec > a.requestsPerSec ? b : a));
  const floor = { best: best(floorRuns), runs: floorRuns };
  const modsync = { best: best(modsyncRuns), runs: modsyncRuns };
  return { floor, modsync, ratio: modsync.best.requestsPerSec / floor.best.requestsPerSec };
}

function report(name: string, round: number, r: WrkResult) {
  console.log(`  round ${round} ${name.padEnd(7)} ${r.requestsPerSec.toFixed(1).padStart(9)} req/s  p50 ${r.p50Ms.toFixed(2)} ms  p99 ${r.p99Ms.toFixed(2)} ms  (${r.requests} requests, ${r.non2xx} non-2xx)`);
}
