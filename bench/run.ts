// `bun run bench`: modsync against the floor server (bench/floor-server.ts),
// side by side in one run on the same work, printed as ratios. See
// bench/README.md. Environment:
//   BENCH_SCENARIOS     resync,large (default: both)
//   BENCH_DURATION      seconds per wrk run (default 10)
//   BENCH_ROUNDS        floor/modsync wrk pairs in the re-sync scenario (default 3)
//   BENCH_LARGE_ROUNDS  fresh-process rounds of the 100k sync (default 3)
//   BENCH_DATABASE_URL  postgres://… to run modsync on Postgres (default: a SQLite file)
import { Lab } from "./lib/lab";
import { printTable, writeJson, type BenchResults } from "./lib/report";
import { stopWrk, wrkAvailable } from "./lib/wrk";
import { largeScenario } from "./scenarios/large";
import { resyncScenario } from "./scenarios/resync";

function positiveInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  if (!/^[1-9]\d*$/.test(raw)) throw new Error(`${name} must be a positive whole number, got "${raw}"`);
  return Number(raw);
}

function scenarios(): Set<string> {
  const known = ["resync", "large"];
  const chosen = (process.env.BENCH_SCENARIOS ?? known.join(",")).split(",").map((s) => s.trim()).filter(Boolean);
  if (chosen.length === 0 || chosen.some((s) => !known.includes(s))) {
    throw new Error(`BENCH_SCENARIOS must list some of ${known.join(",")}, got "${process.env.BENCH_SCENARIOS}"`);
  }
  return new Set(chosen);
}

function gitCommit(repoDir: string): string | null {
  const r = Bun.spawnSync(["git", "rev-parse", "--short", "HEAD"], { cwd: repoDir, stderr: "ignore" });
  return r.exitCode === 0 ? r.stdout.toString().trim() : null;
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
  const seconds = positiveInt("BENCH_DURATION", 10);
  const rounds = positiveInt("BENCH_ROUNDS", 3);
  const largeRounds = positiveInt("BENCH_LARGE_ROUNDS", 3);
  const chosen = scenarios();
  lab = new Lab(import.meta.dir, process.env.BENCH_DATABASE_URL || undefined);

  const results: BenchResults = {};
  if (chosen.has("resync")) {
    console.log(`[resync] 150-module re-syncs over 1,000 sites, wrk -t2 -c32 -d${seconds}s, ${rounds} round(s)`);
    results.resync = await resyncScenario(lab, seconds, rounds);
  }
  if (chosen.has("large")) {
    console.log(`\n[large] one 100,000-module sync to a fresh site, ${largeRounds} round(s) in fresh processes`);
    results.large = await largeScenario(lab, largeRounds);
  }

  const meta = { seconds, rounds, largeRounds, dialect: lab.dialect, commit: gitCommit(lab.repoDir) };
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
