// Scenario 1: steady-state re-syncs. Every site already holds the same 150
// modules (warm-up), so the measured run is the common case in production:
// a site re-reports an unchanged inventory, and the server must read, compare
// and acknowledge it.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { payload } from "../payload";
import type { Lab, Servers } from "../lib/lab";
import { postAll } from "../lib/post";
import type { Server } from "../lib/servers";
import { runWrk, type WrkResult } from "../lib/wrk";

export const RESYNC = { modules: 150, connections: 32, threads: 2, sites: 1000 } as const;

export interface ResyncSide {
  best: WrkResult;
  runs: WrkResult[];
  /** Seconds for the warm-up: every site's first sync (creates), 16 at a time. Informational. */
  warmUpSeconds: number;
}

export interface ResyncResult {
  floor: ResyncSide;
  modsync: ResyncSide;
  ratio: number;
}

export async function resyncScenario(lab: Lab, seconds: number, rounds: number): Promise<ResyncResult> {
  const servers = await lab.start("resync", RESYNC.sites);
  console.log(`  ${RESYNC.sites} sites registered in modsync in ${servers.setupSeconds.toFixed(1)} s`);
  try {
    return await measure(servers, lab, seconds, rounds);
  } finally {
    await servers.stop();
  }
}

async function measure(servers: Servers, lab: Lab, seconds: number, rounds: number): Promise<ResyncResult> {
  const { floor, modsync, fixtures } = servers;
  // The floor ignores the site block, so one body serves every site id.
  const floorFile = join(lab.tmpDir, "floor-body.json");
  const floorBody = JSON.stringify(payload(RESYNC.modules));
  writeFileSync(floorFile, floorBody);

  // modsync checks site.url and site.token against the site in the path:
  // one body per site, same modules in each.
  const bodyDir = join(lab.tmpDir, "modsync-bodies");
  mkdirSync(bodyDir);
  const modsyncJobs = fixtures.sites.map((s) => ({ siteId: s.id, body: JSON.stringify(payload(RESYNC.modules, { url: s.url, token: s.token })) }));
  for (const job of modsyncJobs) writeFileSync(join(bodyDir, `${job.siteId}.json`), job.body);
  writeFileSync(join(bodyDir, "ids.txt"), modsyncJobs.map((j) => j.siteId).join("\n") + "\n");

  const floorJobs = Array.from({ length: RESYNC.sites }, (_, i) => ({ siteId: i + 1, body: floorBody }));
  let started = performance.now();
  await postAll(floor.name, floor.base, floorJobs);
  const floorWarm = (performance.now() - started) / 1000;
  started = performance.now();
  await postAll(modsync.name, modsync.base, modsyncJobs, fixtures.apiToken);
  const modsyncWarm = (performance.now() - started) / 1000;
  console.log(`  warm-up (first ${RESYNC.modules}-module sync of every site): floor ${floorWarm.toFixed(1)} s, modsync ${modsyncWarm.toFixed(1)} s`);

  const wrk = (server: Server, env: Record<string, string>) =>
    runWrk({ base: server.base, seconds, connections: RESYNC.connections, threads: RESYNC.threads, env, benchDir: lab.benchDir });
  const floorRuns: WrkResult[] = [];
  const modsyncRuns: WrkResult[] = [];
  // Alternating runs spread machine noise (thermal, page cache, neighbours) over both servers.
  for (let round = 1; round <= rounds; round++) {
    const f = await wrk(floor, { BODY_FILE: floorFile, SITES: String(RESYNC.sites) });
    report("floor", round, f);
    floorRuns.push(f);
    const m = await wrk(modsync, { BODY_DIR: bodyDir, SITES: String(modsyncJobs.length), TOKEN: fixtures.apiToken });
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
  const floorSide = { best: best(floorRuns), runs: floorRuns, warmUpSeconds: floorWarm };
  const modsyncSide = { best: best(modsyncRuns), runs: modsyncRuns, warmUpSeconds: modsyncWarm };
  return { floor: floorSide, modsync: modsyncSide, ratio: modsyncSide.best.requestsPerSec / floorSide.best.requestsPerSec };
}

function report(name: string, round: number, r: WrkResult) {
  console.log(`  round ${round} ${name.padEnd(7)} ${r.requestsPerSec.toFixed(1).padStart(9)} req/s  p50 ${r.p50Ms.toFixed(2)} ms  p99 ${r.p99Ms.toFixed(2)} ms  (${r.requests} requests, ${r.non2xx} non-2xx)`);
}
