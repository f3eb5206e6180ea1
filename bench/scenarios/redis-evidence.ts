// Proof that modsync+redis's figures are Redis's: modsync falls back to
// in-process state whenever Redis fails or is slow, and would then be
// measured without it. After each run the server must still be ready with
// Redis, and Redis must have read at least one rate-limit bucket per
// sync the server answered (GET calls, which Redis counts inside scripts
// too; one script call updates the buckets of a whole batch of takes).
//
// Bucket keys alone prove little at the bench's limit: a bucket expires as
// soon as it is full again, and at 100,000,000 per hour one spent token is
// back within a millisecond. They are counted (halfway through and after the
// run) for information; the bucket-read count is the check.
import { readiness, syncAnswers } from "../lib/endpoints";
import type { RedisProbe } from "../lib/redis";
import type { Server } from "../lib/servers";
import type { RedisEvidence } from "./resync-work";

export function bucketPattern(databaseId: string): string {
  return `modsync:${databaseId}:bucket:*`;
}

export async function redisEvidence(opts: {
  server: Server;
  probe: RedisProbe;
  round: number;
  databaseId: string;
  /** probe.commandCalls() just before the server started. */
  callsBefore: { scripts: number; bucketReads: number };
  /** Syncs the bench saw answered: warm pass plus wrk's completed requests. */
  syncsSent: number;
  bucketKeysMidRun: number | null;
}): Promise<RedisEvidence> {
  const { server, probe } = opts;
  const ready = await readiness(server.base);
  if (ready.status !== 200 || ready.checks.redis !== "ok") {
    throw new Error(`${server.name}: GET /ready after the run answered ${ready.status} ${JSON.stringify(ready.checks)}; Redis was not in use`);
  }
  const answers = await syncAnswers(server.base);
  const ok = answers["200"] ?? 0;
  const others = Object.entries(answers).filter(([status, n]) => status !== "200" && n > 0);
  if (others.length > 0 || ok < opts.syncsSent) {
    throw new Error(`${server.name}: /metrics counts sync answers ${JSON.stringify(answers)}, expected at least ${opts.syncsSent} answered 200 and no others`);
  }
  const calls = await probe.commandCalls();
  const redisScripts = calls.scripts - opts.callsBefore.scripts;
  const bucketReads = calls.bucketReads - opts.callsBefore.bucketReads;
  if (bucketReads < ok) {
    throw new Error(`${server.name}: Redis read ${bucketReads} buckets for ${ok} syncs; some syncs used in-process rate-limit buckets instead of Redis`);
  }
  return {
    round: opts.round,
    ready: ready.checks,
    syncAnswers: answers,
    redisScripts,
    bucketReads,
    bucketKeysMidRun: opts.bucketKeysMidRun,
    bucketKeysAfter: await probe.countKeys(bucketPattern(opts.databaseId)),
    bucketKeysAfterAll: await probe.countKeys("modsync:*:bucket:*"),
  };
}

export function printEvidence(name: string, e: RedisEvidence): void {
  const mid = e.bucketKeysMidRun === null ? "n/a" : String(e.bucketKeysMidRun);
  console.log(`  round ${e.round} ${name} checks: /ready redis=${e.ready.redis}; ${e.syncAnswers["200"] ?? 0} syncs answered 200 (/metrics); ` +
    `${e.bucketReads} bucket reads in ${e.redisScripts} Redis script calls; bucket keys of this database ${mid} mid-run, ${e.bucketKeysAfter} after; modsync:*:bucket:* ${e.bucketKeysAfterAll} after`);
}
