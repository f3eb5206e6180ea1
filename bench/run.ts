// `bun run bench`: modsync against the floor server (bench/floor-server.ts),
// side by side in one run on the same work, printed as ratios. See
// bench/README.md. Environment (read in lib/options.ts):
//   BENCH_SCENARIOS     some of resync,large,huge (default: resync,large; huge is opt-in)
//   BENCH_DURATION      seconds per wrk run (default 10)
//   BENCH_ROUNDS        wrk rounds in the re-sync scenario (default 3)
//   BENCH_LARGE_ROUNDS  fresh-process rounds of the 100k sync (default 3)
//   BENCH_HUGE_ROUNDS   fresh-process rounds of the 1M sync (default 1)
//   BENCH_DATABASE_URL  postgres://… to run modsync on Postgres (default: a SQLite file)
//   BENCH_REDIS         1: the re-sync scenario also measures modsync with Redis
//   BENCH_REDIS_URL     that Redis (default redis://127.0.0.1:6379; setting it implies BENCH_REDIS=1)
//   BENCH_LOG_LEVEL     modsync's LOG_LEVEL (default warn)
import { BENCH_RATE_LIMIT_PER_HOUR, Lab } from "./lib/lab";
import { readOptions } from "./lib/options";
import { printTable, writeJson, type BenchResults } from "./lib/report";
import { stopWrk, wrkAvailable } from "./lib/wrk";
import { hugeScenario } from "./scenarios/huge";
import { largeScenario } from "./scenarios/large";
import { resyncScenario } from "./scenarios/resync";
import { resyncRedisScenario } from "./scenarios/resync-redis";

function gitCommit(repoDir: string): string | null {
  const r = Bun.spawnSync(["git", "rev-parse", "--short", "HEAD"], { cwd: repoDir, stderr: "ignore" });
  return r.exitCode === 0 ? r.stdout.toString().trim() : null;
}

/**
 * Files changed or added outside bench/ since the commit: the figures are the
 * working tree's, not the commit's, when this is not empty. Read-only
 * (--no-optional-locks: not even the index's stat cache is refreshed).
 */
function uncommitted(repoDir: string): string[] | null {
  const r = Bun.spawnSync(["git", "--no-optional-locks", "status", "--porcelain", "--untracked-files=all", "--", ".", ":!bench"], { cwd: repoDir, stderr: "ignore" });
  return r.exitCode === 0 ? r.stdout.toString().split("\n").filter(Boolean).map((line) => line.slice(3)) : null;
}

let lab: Lab | null = null;
let interrupted = false;

async function cleanup(): Promise<void> {
  stopWrk();
  const current = lab;
  lab = null;
  await current?.close();
}

function interrupt(code: number) {
  interrupted = true;
  console.error("\ninterrupted: stopping servers and removing temporary files");
  void cleanup().finally(() => process.exit(code));
}
process.on("SIGINT", () => interrupt(130));
process.on("SIGTERM", () => interrupt(143));

async function main(): Promise<number> {
  if (!wrkAvailable()) {
    console.error("wrk not found: apt-get install -y wrk");
    return 1;
  }
  const o = readOptions();
  lab = new Lab(import.meta.dir, { pgUrl: o.pgUrl, logLevel: o.logLevel });
  // Read before any server starts: the servers load the working tree as it is then.
  const source = { commit: gitCommit(lab.repoDir), uncommitted: uncommitted(lab.repoDir) };
  if (o.redisUrl && !o.scenarios.has("resync")) console.log("note: BENCH_REDIS applies to the resync scenario only, which is not selected");

  const results: BenchResults = {};
  if (o.scenarios.has("resync")) {
    const servers = o.redisUrl ? "floor, modsync and modsync+redis" : "floor and modsync";
    console.log(`[resync] 150-module re-syncs over 1,000 sites, wrk -t2 -c32 -d${o.seconds}s, ${o.rounds} round(s) of ${servers}`);
    results.resync = o.redisUrl
      ? await resyncRedisScenario(lab, o.seconds, o.rounds, o.redisUrl)
      : await resyncScenario(lab, o.seconds, o.rounds);
  }
  if (o.scenarios.has("large")) {
    console.log(`\n[large] one 100,000-module sync to a fresh site, ${o.largeRounds} round(s) in fresh processes`);
    results.large = await largeScenario(lab, o.largeRounds);
  }
  if (o.scenarios.has("huge")) {
    console.log(`\n[huge] one 1,000,000-module sync to a fresh site, ${o.hugeRounds} round(s), each server alone in a fresh process`);
    results.huge = await hugeScenario(lab, o.hugeRounds);
  }

  const meta = {
    seconds: o.seconds, rounds: o.rounds, largeRounds: o.largeRounds, hugeRounds: o.hugeRounds, dialect: lab.dialect, ...source,
    logLevel: o.logLevel, rateLimitPerHour: BENCH_RATE_LIMIT_PER_HOUR, redisUrl: o.redisUrl,
  };
  if (JSON.stringify(source) !== JSON.stringify({ commit: gitCommit(lab.repoDir), uncommitted: uncommitted(lab.repoDir) })) {
    console.warn("\nwarning: commits or changed files outside bench/ differ from the start of the run; servers started at different times may have run different code");
  }
  printTable(results, meta);
  console.log(`\nwrote ${writeJson(results, meta, lab.benchDir)}`);
  return 0;
}

try {
  process.exitCode = await main();
} catch (err) {
  // After Ctrl-C the servers vanish under the running scenario: that error is expected noise.
  if (!interrupted) console.error(`\nbench failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
} finally {
  await cleanup();
}
