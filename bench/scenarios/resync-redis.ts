// The re-sync scenario with Redis (BENCH_REDIS): the floor, modsync without
// Redis and modsync with REDIS_URL, measured in one run on the same fixtures
// and the same database.
//
// Only one modsync process runs at a time, so the two never share the CPUs or
// the database. Each modsync measurement therefore starts its own process and
// gives it one pass over every site (1,000 unchanged re-syncs) before wrk, so
// both variants start equally warm: JIT, page cache, and their in-process and
// Redis state. The first syncs that fill the database (the warm-up) run once,
// before the rounds, in a process of their own. The order reverses every
// round, so no server always runs first or last.
import type { Lab } from "../lib/lab";
import type { ModsyncDatabase } from "../lib/modsync";
import { postAll } from "../lib/post";
import { RedisProbe } from "../lib/redis";
import type { WrkResult } from "../lib/wrk";
import { bucketPattern, printEvidence, redisEvidence } from "./redis-evidence";
import { best, measuredRun, RESYNC, timed, writeBodies, type RedisEvidence, type ResyncResult, type ResyncWork } from "./resync-work";

type Kind = "floor" | "modsync" | "redis";

interface ModsyncRun {
  result: WrkResult;
  warmPassSeconds: number;
  evidence: RedisEvidence | null;
}

export async function resyncRedisScenario(lab: Lab, seconds: number, rounds: number, redisUrl: string): Promise<ResyncResult> {
  // Connect first: an unreachable Redis should stop the bench before minutes of set-up.
  const probe = await RedisProbe.connect(redisUrl);
  try {
    const { db, fixtures, setupSeconds } = await lab.prepare("resync", RESYNC.sites);
    console.log(`  ${RESYNC.sites} sites registered in modsync in ${setupSeconds.toFixed(1)} s`);
    const work = writeBodies(lab, fixtures);

    const warmUp = await lab.startModsync(db);
    let modsyncWarm: number;
    try {
      modsyncWarm = await timed(() => postAll(warmUp.name, warmUp.base, work.modsyncJobs, work.apiToken));
    } finally {
      await lab.stop(warmUp);
    }

    const floor = await lab.startFloor("resync");
    try {
      const floorWarm = await timed(() => postAll(floor.name, floor.base, work.floorJobs));
      console.log(`  warm-up (first ${RESYNC.modules}-module sync of every site): floor ${floorWarm.toFixed(1)} s, modsync ${modsyncWarm.toFixed(1)} s`);

      const runs: Record<Kind, WrkResult[]> = { floor: [], modsync: [], redis: [] };
      const passes: Record<"modsync" | "redis", number[]> = { modsync: [], redis: [] };
      const evidence: RedisEvidence[] = [];
      for (let round = 1; round <= rounds; round++) {
        const order: Kind[] = round % 2 === 1 ? ["floor", "modsync", "redis"] : ["redis", "modsync", "floor"];
        for (const kind of order) {
          if (kind === "floor") {
            runs.floor.push(await measuredRun(lab, floor, work.floorEnv, seconds, round));
            continue;
          }
          const run = await measureModsync({ lab, db, work, seconds, round, redis: kind === "redis" ? { url: redisUrl, probe, databaseId: fixtures.databaseId } : null });
          runs[kind].push(run.result);
          passes[kind].push(run.warmPassSeconds);
          if (run.evidence) evidence.push(run.evidence);
        }
      }

      const floorSide = { best: best(runs.floor), runs: runs.floor, warmUpSeconds: floorWarm };
      const modsyncSide = { best: best(runs.modsync), runs: runs.modsync, warmUpSeconds: modsyncWarm, warmPassSeconds: passes.modsync };
      const redisBest = best(runs.redis);
      return {
        floor: floorSide,
        modsync: modsyncSide,
        ratio: modsyncSide.best.requestsPerSec / floorSide.best.requestsPerSec,
        redis: {
          best: redisBest,
          runs: runs.redis,
          // Its database was already warm: its first pass is re-syncs, not first syncs.
          warmUpSeconds: passes.redis[0]!,
          warmPassSeconds: passes.redis,
          redisUrl,
          ratioToFloor: redisBest.requestsPerSec / floorSide.best.requestsPerSec,
          ratioToModsync: redisBest.requestsPerSec / modsyncSide.best.requestsPerSec,
          evidence,
        },
      };
    } finally {
      await lab.stop(floor);
    }
  } finally {
    await probe.close();
  }
}

/** A fresh modsync process (with or without Redis): warm pass, wrk run, and for Redis the evidence. */
async function measureModsync(opts: {
  lab: Lab;
  db: ModsyncDatabase;
  work: ResyncWork;
  seconds: number;
  round: number;
  redis: { url: string; probe: RedisProbe; databaseId: string } | null;
}): Promise<ModsyncRun> {
  const { lab, work, redis } = opts;
  const callsBefore = redis ? await redis.probe.commandCalls() : { scripts: 0, bucketReads: 0 };
  const server = await lab.startModsync(opts.db, redis?.url ?? null);
  try {
    const warmPassSeconds = await timed(() => postAll(server.name, server.base, work.modsyncJobs, work.apiToken));
    // One SCAN halfway through the run; failures only lose this informational count.
    const midRun = redis
      ? Bun.sleep(opts.seconds * 500).then(() => redis.probe.countKeys(bucketPattern(redis.databaseId))).catch(() => null)
      : Promise.resolve(null);
    const result = await measuredRun(lab, server, work.modsyncEnv, opts.seconds, opts.round, redis?.probe);
    const bucketKeysMidRun = await midRun;
    if (!redis) return { result, warmPassSeconds, evidence: null };
    const evidence = await redisEvidence({
      server, probe: redis.probe, round: opts.round, databaseId: redis.databaseId, callsBefore,
      syncsSent: work.modsyncJobs.length + result.requests, bucketKeysMidRun,
    });
    printEvidence(server.name, evidence);
    return { result, warmPassSeconds, evidence };
  } finally {
    await lab.stop(server);
  }
}
