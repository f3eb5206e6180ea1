// What both re-sync modes share: the workload (1,000 sites, 150 unchanged
// modules each), its body files, one checked wrk run, and the result types.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { payload } from "../../test/support/payload";
import type { Lab } from "../lib/lab";
import type { Fixtures } from "../lib/modsync";
import type { PostJob } from "../lib/post";
import type { RedisProbe } from "../lib/redis";
import { cpuSecondsOf, type Server } from "../lib/servers";
import { runWrk, type WrkResult } from "../lib/wrk";

export const RESYNC = { modules: 150, connections: 32, threads: 2, sites: 1000 } as const;

export interface ResyncSide {
  best: WrkResult;
  runs: WrkResult[];
  /** Seconds for the warm-up: every site's first sync (creates), 16 at a time. Informational. */
  warmUpSeconds: number;
  /** Redis mode only: seconds of the warm pass (1,000 re-syncs) after each process start, per round. */
  warmPassSeconds?: number[];
}

/** What modsync+redis itself and Redis said after each of its runs (Redis mode). */
export interface RedisEvidence {
  round: number;
  /** GET /ready's checks after the run; "redis" must be "ok". */
  ready: Record<string, string>;
  /** POST sync answers by status from GET /metrics: warm pass and wrk run, including wrk's last requests in flight. */
  syncAnswers: Record<string, number>;
  /** Growth of Redis's script-call count while this server ran: one per batch of rate-limit takes. */
  redisScripts: number;
  /** Growth of Redis's GET count while this server ran: one per sync through the shared limiter. */
  bucketReads: number;
  /** This database's bucket keys (modsync:<id>:bucket:*) found by one SCAN halfway through the wrk run. */
  bucketKeysMidRun: number | null;
  /** Right after the run: this database's bucket keys, and modsync:*:bucket:* (every database). */
  bucketKeysAfter: number;
  bucketKeysAfterAll: number;
}

export interface RedisSide extends ResyncSide {
  redisUrl: string;
  /** modsync+redis req/s ÷ floor req/s. */
  ratioToFloor: number;
  /** modsync+redis req/s ÷ modsync (no Redis) req/s. */
  ratioToModsync: number;
  evidence: RedisEvidence[];
}

export interface ResyncResult {
  floor: ResyncSide;
  modsync: ResyncSide;
  /** modsync req/s ÷ floor req/s. */
  ratio: number;
  /** Only with BENCH_REDIS: modsync with REDIS_URL set, measured in the same rounds. */
  redis?: RedisSide;
}

export interface ResyncWork {
  floorJobs: PostJob[];
  modsyncJobs: PostJob[];
  apiToken: string;
  /** post.lua's environment for each server. */
  floorEnv: Record<string, string>;
  modsyncEnv: Record<string, string>;
}

/** Writes the body files wrk posts and returns the same bodies for warm-up passes. */
export function writeBodies(lab: Lab, fixtures: Fixtures): ResyncWork {
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

  return {
    floorJobs: Array.from({ length: RESYNC.sites }, (_, i) => ({ siteId: i + 1, body: floorBody })),
    modsyncJobs,
    apiToken: fixtures.apiToken,
    floorEnv: { BODY_FILE: floorFile, SITES: String(RESYNC.sites) },
    modsyncEnv: { BODY_DIR: bodyDir, SITES: String(modsyncJobs.length), TOKEN: fixtures.apiToken },
  };
}

/** One wrk run against `server`, printed, and refused if any answer was an error. */
export async function measuredRun(lab: Lab, server: Server, env: Record<string, string>, seconds: number, round: number, redis?: RedisProbe): Promise<WrkResult> {
  const cpuBefore = cpuSecondsOf(server.proc.pid);
  const redisCpuBefore = await redis?.cpuSeconds();
  const r = await runWrk({ base: server.base, seconds, connections: RESYNC.connections, threads: RESYNC.threads, env, benchDir: lab.benchDir });
  // CPU per request, for information: where the time of each request goes, whatever the machine's noise.
  const perRequest = (seconds: number) => `${((seconds * 1e6) / r.requests).toFixed(0)} µs`;
  let cpu = `cpu/req: server ${perRequest(cpuSecondsOf(server.proc.pid) - cpuBefore)}`;
  if (redis && redisCpuBefore !== undefined) cpu += `, redis-server ${perRequest((await redis.cpuSeconds()) - redisCpuBefore)}`;
  console.log(`  round ${round} ${server.name.padEnd(13)} ${r.requestsPerSec.toFixed(1).padStart(9)} req/s  p50 ${r.p50Ms.toFixed(2)} ms  p99 ${r.p99Ms.toFixed(2)} ms  (${r.requests} requests, ${r.non2xx} non-2xx; ${cpu})`);
  // A benchmark of error answers measures nothing: stop here, loudly.
  if (r.non2xx > 0 || r.socketErrors > 0) {
    throw new Error(`${server.name} answered ${r.non2xx} non-2xx responses and had ${r.socketErrors} socket errors out of ${r.requests} requests; the re-sync figures are not valid`);
  }
  return r;
}

export async function timed(work: () => Promise<void>): Promise<number> {
  const started = performance.now();
  await work();
  return (performance.now() - started) / 1000;
}

/** The run with the most req/s. */
export function best(runs: WrkResult[]): WrkResult {
  return runs.reduce((a, b) => (b.requestsPerSec > a.requestsPerSec ? b : a));
}
