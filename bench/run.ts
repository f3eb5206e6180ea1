// `bun run bench`: modsync against the floor server (bench/floor-server.ts),
// side by side in one run on the same work, printed as ratios. See
// bench/README.md. Environment (read in lib/options.ts):
//   BENCH_SCENARIOS     some of resync,large,huge,identical,drift,release (default: resync,large;
//                       the others are opt-in)
//   BENCH_DURATION      seconds per wrk run (default 10)
//   BENCH_ROUNDS        wrk rounds in resync, identical, drift and release (default 3)
//   BENCH_WARM_RUN      seconds of each server's unmeasured run before round 1 in identical, drift and release (default 5; 0: none; longer when it does not re-sync every site)
//   BENCH_REWARM        seconds of each server's unmeasured run right before each measured one there (default 3; 0: none)
//   BENCH_LARGE_ROUNDS  fresh-process rounds of the 100k sync (default 3)
//   BENCH_HUGE_ROUNDS   fresh-process rounds of the 1M sync (default 1)
//   BENCH_SITES         sites of identical/drift/release, or a list (default 1000; 1000,10000 adds the grown database,
//                       both site counts run in each round, interleaved)
//   BENCH_DATABASE_URL  postgres://… to run modsync on Postgres (default: a SQLite file); identical,
//                       drift and release then measure it against the Postgres floor (floor-server-pg.ts)
//   BENCH_REDIS         1: the re-sync scenario also measures modsync with Redis; identical, drift
//                       and release run modsync with Redis
//   BENCH_REDIS_URL     that Redis (default redis://127.0.0.1:6379; setting it implies BENCH_REDIS=1)
//   BENCH_LOG_LEVEL     modsync's LOG_LEVEL (default warn)
//   BENCH_MODSYNC_BUN_FLAGS  bun options for every modsync process, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"
//                       (then: bun bench/cpu-profile.ts /tmp/prof/<file>.cpuprofile)
//
// Scenarios (README's "What it measures"):
//   resync     1,000 sites re-post byte-identical 150-module bodies (modsync answers from the stored fingerprint)
//   large      one 100,000-module sync to an empty site (modsync: 202, then its background task)
//   huge       one 1,000,000-module sync to an empty site, each server alone
//   identical  as resync, but with the changed re-syncs' machinery: wrk threads on disjoint sites, any
//              BENCH_SITES, and on Postgres against the Postgres floor
//   drift      each request changes one module's version (a version no site had): one module updated
//   release    each pass over the sites moves every core module (76 of the 150) to a new release,
//              whose version rows all sites of the pass share: 76 modules updated per request
//   identical, drift and release print req/s, p50, p99 and CPU per request of each side; a run counts
//   only if both databases gained the version rows its bodies name and modsync's /metrics show the
//   modules updated per sync. Targets (issue 11): drift and release >= 0.8 x their floor, identical
//   >= 1.0 x, p99 <= 1.5 x the floor's, 10,000 sites within 10% of 1,000.
import { CONFIG_VARIABLES } from "../src/config";
import { BENCH_RATE_LIMIT_PER_HOUR, Lab } from "./lib/lab";
import { CHANGE_SCENARIOS, readOptions } from "./lib/options";
import { printTable, writeJson, type BenchResults } from "./lib/report";
import { stopWrk, wrkAvailable } from "./lib/wrk";
import { changeScenario, type ChangeResult } from "./scenarios/changes";
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
  lab = new Lab(import.meta.dir, { pgUrl: o.pgUrl, logLevel: o.logLevel, modsyncBunFlags: o.modsyncBunFlags });
  // Read before any server starts: the servers load the working tree as it is then.
  const source = { commit: gitCommit(lab.repoDir), uncommitted: uncommitted(lab.repoDir) };
  const changes = CHANGE_SCENARIOS.filter((kind) => o.scenarios.has(kind));
  if (o.redisUrl && !o.scenarios.has("resync") && changes.length === 0) console.log("note: BENCH_REDIS applies to the resync, identical, drift and release scenarios only, none of which is selected");
  // modsync runs with its shipped defaults (Lab.startModsync unsets these): a variable set here changes nothing, and says so.
  const ignored = Object.keys(CONFIG_VARIABLES).filter((name) => process.env[name] !== undefined);
  if (ignored.length > 0) console.log(`note: ${ignored.join(", ")} set in this shell: ignored, modsync runs with its defaults (bench/README)`);

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

  if (changes.length > 0) {
    const on = o.pgUrl ? `Postgres${o.redisUrl ? "+Redis" : ""} against the Postgres floor` : `SQLite${o.redisUrl ? "+Redis" : ""} against the SQLite floor`;
    const list: ChangeResult[] = [];
    const counts = o.siteCounts.map((n) => n.toLocaleString("en-US")).join(" and ");
    for (const kind of changes) {
      console.log(`\n[${kind}] 150-module re-syncs over ${counts} sites, modsync on ${on}, wrk -t2 -c32 -d${o.seconds}s, ${o.rounds} round(s)${o.siteCounts.length > 1 ? ", the site counts' runs interleaved" : ""}`);
      list.push(...await changeScenario(lab, kind, o.siteCounts, { seconds: o.seconds, rounds: o.rounds, warmSeconds: o.warmSeconds, rewarmSeconds: o.rewarmSeconds, pgUrl: o.pgUrl, redisUrl: o.redisUrl }));
    }
    results.changes = list;
  }

  const meta = {
    seconds: o.seconds, rounds: o.rounds, warmSeconds: o.warmSeconds, rewarmSeconds: o.rewarmSeconds, largeRounds: o.largeRounds, hugeRounds: o.hugeRounds, dialect: lab.dialect, ...source,
    logLevel: o.logLevel, rateLimitPerHour: BENCH_RATE_LIMIT_PER_HOUR, redisUrl: o.redisUrl,
    siteCounts: o.siteCounts, modsyncBunFlags: o.modsyncBunFlags,
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
