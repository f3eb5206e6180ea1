// `bun run bench`: modsync against the floor server (bench/floor-server.ts),
// side by side in one run on the same work, printed as ratios. See
// bench/README.md. Environment:
//   BENCH_SCENARIOS     resync,large (default: both)
//   BENCH_DURATION      seconds per wrk run (default 10)
//   BENCH_ROUNDS        floor/modsync wrk pairs in the re-sync scenario (default 2)
//   BENCH_DATABASE_URL  postgres://… to run modsync on Postgres (default: a SQLite file)
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createFixtures, freshDatabase, type ModsyncDatabase } from "./lib/modsync";
import { printTable, writeJson, type BenchResults } from "./lib/report";
import { freePort, startServer, stopServer, type Server } from "./lib/servers";
import { wrkAvailable } from "./lib/wrk";
import { largeScenario } from "./scenarios/large";
import { resyncScenario } from "./scenarios/resync";

const benchDir = import.meta.dir;
const repoDir = dirname(benchDir);
const SITES = 1000;

function positiveInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  if (!/^[1-9]\d*$/.test(raw)) throw new Error(`${name} must be a positive whole number, got "${raw}"`);
  return Number(raw);
}

function scenarios(): Set<string> {
  const known = ["resync", "large"];
  const chosen = (process.env.BENCH_SCENARIOS ?? known.join(",")).split(",").map((s) => s.trim()).filter(Boolean);
  const unknown = chosen.filter((s) => !known.includes(s));
  if (unknown.length > 0 || chosen.length === 0) throw new Error(`BENCH_SCENARIOS must list some of ${known.join(",")}, got "${process.env.BENCH_SCENARIOS}"`);
  return new Set(chosen);
}

function gitCommit(): string | null {
  const r = Bun.spawnSync(["git", "rev-parse", "--short", "HEAD"], { cwd: repoDir, stderr: "ignore" });
  return r.exitCode === 0 ? r.stdout.toString().trim() : null;
}

// Everything that must be undone, also on error or Ctrl-C.
const running = new Set<Server>();
let tmpDir: string | null = null;
let database: ModsyncDatabase | null = null;

async function cleanup(): Promise<void> {
  await Promise.all([...running].map(stopServer));
  running.clear();
  await database?.drop().catch((err: unknown) => console.error(`could not drop the bench database: ${String(err)}`));
  database = null;
  if (tmpDir) rmSync(tmpDir, { recursive: true, force: true });
  tmpDir = null;
}

process.on("SIGINT", () => void cleanup().finally(() => process.exit(130)));
process.on("SIGTERM", () => void cleanup().finally(() => process.exit(143)));

async function main(): Promise<number> {
  if (!wrkAvailable()) {
    console.error("wrk not found: apt-get install -y wrk");
    return 1;
  }
  const seconds = positiveInt("BENCH_DURATION", 10);
  const rounds = positiveInt("BENCH_ROUNDS", 2);
  const chosen = scenarios();

  tmpDir = mkdtempSync(join(tmpdir(), "modsync-bench-"));
  database = await freshDatabase(tmpDir, process.env.BENCH_DATABASE_URL);
  console.log(`modsync on ${database.dialect}; creating ${SITES} sites`);
  const fixtures = await createFixtures(database.url, SITES);

  const [floorPort, modsyncPort] = [freePort(), freePort()];
  const floorDb = join(tmpDir, "floor.db");
  const databaseUrl = database.url;
  // Fresh processes per scenario: peak RSS in the large sync must not carry the re-sync load.
  const start = async () => {
    const floor = await startServer({ name: "floor", script: join(benchDir, "floor-server.ts"), port: floorPort, env: { FLOOR_DB: floorDb }, cwd: repoDir });
    running.add(floor);
    const modsync = await startServer({
      name: "modsync", script: join(repoDir, "src/index.ts"), port: modsyncPort, readyPath: "/health", cwd: repoDir,
      env: { HOST: "127.0.0.1", DATABASE_URL: databaseUrl, LOG_LEVEL: "warn" },
    });
    running.add(modsync);
    return { floor, modsync };
  };
  const stop = async (servers: { floor: Server; modsync: Server }) => {
    for (const s of [servers.floor, servers.modsync]) {
      await stopServer(s);
      running.delete(s);
    }
  };

  const results: BenchResults = {};
  if (chosen.has("resync")) {
    console.log(`\n[resync] 150-module re-syncs over ${SITES} sites, wrk -t2 -c32 -d${seconds}s, ${rounds} round(s)`);
    const servers = await start();
    results.resync = await resyncScenario({ ...servers, apiToken: fixtures.apiToken, sites: fixtures.sites, tmpDir, benchDir, seconds, rounds });
    await stop(servers);
  }
  if (chosen.has("large")) {
    console.log("\n[large] one 100,000-module sync to a fresh site");
    const servers = await start();
    results.large = await largeScenario({ ...servers, apiToken: fixtures.apiToken, site: fixtures.spare });
    await stop(servers);
  }

  const meta = { seconds, rounds, dialect: database.dialect, commit: gitCommit() };
  printTable(results, meta);
  console.log(`\nwrote ${writeJson(results, meta, benchDir)}`);
  return 0;
}

try {
  process.exitCode = await main();
} catch (err) {
  console.error(`\nbench failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
} finally {
  await cleanup();
}
