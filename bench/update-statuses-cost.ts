// `bun bench/update-statuses-cost.ts`: what judging update statuses again
// costs per site after a drift-shaped sync (the version of the first contrib
// module of 150 changed, as in the HTTP bench's drift), in process, on SQLite (BENCH_DATABASE_URL=postgres://… for an empty
// Postgres database): the background thread's work for each changed site.
// Prints CPU and wall time per site, and how they split between reading
// inventories, judging and writing (UpdateStatuses.computePending). On
// Postgres, also the CPU its backends spent per site, in all and by call:
// there most of a site's cost is the server's, which this process's CPU
// does not show.
import { UpdateStatuses } from "../src/updates/statuses";
import { PgProbe } from "./lib/postgres";
import { mainThreadCpuSecondsOf } from "./lib/servers";
import { mean, median } from "./lib/stats";
import { storeWorld } from "./lib/store-world";

const SITES = Number(process.env.BENCH_STATUS_SITES ?? 1000);
const ROUNDS = Number(process.env.BENCH_STATUS_ROUNDS ?? 5);

// Postgres (on this machine: its backends are read in /proc): the world's own database, used by the store and the probe alone.
const pgUrl = process.env.BENCH_DATABASE_URL;
const database = pgUrl ? decodeURIComponent(new URL(pgUrl).pathname.slice(1)) : "";
if (pgUrl && database === "") throw new Error("BENCH_DATABASE_URL must name its database (postgres://…/<database>): its backends are found by it, and it is filled with sites");
const { store, dialect, base, sites, command, close } = await storeWorld("statuses", SITES);
const statuses = new UpdateStatuses(store.releases);
await statuses.computePending();

const probe = pgUrl ? PgProbe.connect(pgUrl) : null;
/** The backends' pids as a round starts: read around each call from /proc, with no query of Postgres's own in between. */
let backends: number[] = [];
const backendSeconds = () => backends.reduce((sum, pid) => {
  try {
    return sum + mainThreadCpuSecondsOf(pid);
  } catch {
    return sum; // ended since
  }
}, 0);

// Where a batch's time goes: the store's calls, timed (and on Postgres, its backends' CPU in them).
// computePending makes its calls one at a time: a call made inside another one timed here
// (inventories → withAllModules) counts in the outer one alone.
const CALLS = ["sitesToCompute", "changedInventories", "inventories", "withAllModules", "historyStamps", "histories", "replaceSiteUpdates", "invalidateSites"] as const;
type Call = (typeof CALLS)[number];
const spent = Object.fromEntries(CALLS.map((name) => [name, 0])) as Record<Call, number>;
const serverSpent = { ...spent };
let depth = 0;
const releases = store.releases as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
for (const name of CALLS) {
  if (!releases[name]) continue; // changedInventories, withAllModules: not in code before them (an A/B)
  const original = releases[name]!.bind(store.releases);
  releases[name] = async (...args: unknown[]) => {
    if (depth > 0) return original(...args);
    depth++;
    const t0 = performance.now();
    const server0 = probe ? backendSeconds() : 0;
    try {
      return await original(...args);
    } finally {
      depth--;
      spent[name] += performance.now() - t0;
      if (probe) serverSpent[name] += (backendSeconds() - server0) * 1000;
    }
  };
}

const drifted = base.findIndex((m) => m.moduleType === "contrib");
let pass = 0;
const cpuPerSite: number[] = [];
const wallPerSite: number[] = [];
const serverPerSite: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  pass++;
  for (const id of sites) await store.applySync(command(id, base.map((m, i) => (i === drifted ? { ...m, version: `drift-${pass}` } : m))));
  const server0 = probe ? await probe.backendCpu(database) : null;
  backends = server0 ? [...server0.keys()] : [];
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const computed = await statuses.computePending();
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  if (probe) serverPerSite.push((await probe.backendCpuSince(database, server0!)) * 1e6 / SITES);
  if (computed !== SITES) throw new Error(`computed ${computed} sites, expected ${SITES}`);
  cpuPerSite.push((cpu.user + cpu.system) / SITES);
  wallPerSite.push((wall * 1000) / SITES);
}
/** Milliseconds summed over all rounds → µs a site a round. */
const perSite = (ms: number) => (ms / ROUNDS) * 1000 / SITES;
const byCall = (ms: Record<Call, number>) => CALLS.map((name) => `${name} ${perSite(ms[name]).toFixed(0)}`).join(", ");
const timed = CALLS.reduce((sum, name) => sum + spent[name], 0);
console.log(`${dialect}: judging ${SITES} sites again after a drift sync each, ${ROUNDS} rounds`);
console.log(`  per site: CPU ${median(cpuPerSite).toFixed(0)} µs, wall ${median(wallPerSite).toFixed(0)} µs (medians)`);
console.log(`  wall time, µs a site over all rounds: ${byCall(spent)}; the rest (judging) ${(mean(wallPerSite) - perSite(timed)).toFixed(0)}`);
if (probe) {
  console.log(`  Postgres's backends, CPU µs a site over all rounds: ${mean(serverPerSite).toFixed(0)} in all; ${byCall(serverSpent)}`);
  await probe.close();
}
await close();
