// Scenario 1: steady-state re-syncs. Every site already holds the same 150
// modules (warm-up), so the measured run is the common case in production:
// a site re-reports an unchanged inventory, and the server must read, compare
// and acknowledge it. With BENCH_REDIS, resync-redis.ts runs instead.
import type { Lab, Servers } from "../lib/lab";
import { postAll } from "../lib/post";
import type { WrkResult } from "../lib/wrk";
import { best, measuredRun, RESYNC, timed, writeBodies, type ResyncResult } from "./resync-work";

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
  const { floor, modsync } = servers;
  const work = writeBodies(lab, servers.fixtures);
  const floorWarm = await timed(() => postAll(floor.name, floor.base, work.floorJobs));
  const modsyncWarm = await timed(() => postAll(modsync.name, modsync.base, work.modsyncJobs, work.apiToken));
  console.log(`  warm-up (first ${RESYNC.modules}-module sync of every site): floor ${floorWarm.toFixed(1)} s, modsync ${modsyncWarm.toFixed(1)} s`);

  const floorRuns: WrkResult[] = [];
  const modsyncRuns: WrkResult[] = [];
  // Alternating runs spread machine noise (thermal, page cache, neighbours) over both servers.
  for (let round = 1; round <= rounds; round++) {
    floorRuns.push(await measuredRun(lab, floor, work.floorEnv, seconds, round));
    modsyncRuns.push(await measuredRun(lab, modsync, work.modsyncEnv, seconds, round));
  }
  const floorSide = { best: best(floorRuns), runs: floorRuns, warmUpSeconds: floorWarm };
  const modsyncSide = { best: best(modsyncRuns), runs: modsyncRuns, warmUpSeconds: modsyncWarm };
  return { floor: floorSide, modsync: modsyncSide, ratio: modsyncSide.best.requestsPerSec / floorSide.best.requestsPerSec };
}
