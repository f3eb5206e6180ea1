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
import { storeWorld } from "./lib/store-world";

const SITES = Number(process.env.BENCH_STATUS_SITES ?? 1000);
const ROUNDS = Number(process.env.BENCH_STATUS_ROUNDS ?? 5);

const { store, dialect, base, sites, command, close } = await storeWorld("statuses", SITES);
const statuses = new UpdateStatuses(store.releases);
await statuses.computePending();

// Postgres: the store's backends (the world's own database: no other client uses it).
const pgUrl = process.env.BENCH_DATABASE_URL;
const probe = pgUrl ? PgProbe.connect(pgUrl) : null;
const database = pgUrl ? decodeURIComponent(new URL(pgUrl).pathname.slice(1)) : "";
/**
 * The backends' pids as a round starts, read around each call from /proc with
 * no query of Postgres's own in between. A backend is one thread: its run
 * time in ns (schedstat), where /proc/<pid>/stat counts 10 ms ticks, coarser
 * than many a call.
 */
let backends: number[] = [];
const backendSeconds = () => backends.reduce((sum, pid) => {
  try {
    return sum + mainThreadCpuSecondsOf(pid);
  } catch {
    return sum; // ended since
  }
}, 0);

// Where a batch's time goes: the store's calls, timed (and on Postgres, its backends' CPU in them).
const spent = { changedInventories: 0, inventories: 0, withAllModules: 0, replaceSiteUpdates: 0 };
const serverSpent = { changedInventories: 0, inventories: 0, withAllModules: 0, replaceSiteUpdates: 0 };
const releases = store.releases as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
for (const name of ["changedInventories", "inventories", "withAllModules", "replaceSiteUpdates"] as const) {
  if (!releases[name]) continue; // changedInventories, withAllModules: not in code before them (an A/B)
  const original = releases[name]!.bind(store.releases);
  releases[name] = async (...args: unknown[]) => {
    const t0 = performance.now();
    const server0 = probe ? backendSeconds() : 0;
    try {
      return await original(...args);
    } finally {
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
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const total = spent.changedInventories + spent.inventories + spent.withAllModules + spent.replaceSiteUpdates;
const perSite = (ms: number) => ((ms / ROUNDS) * 1000 / SITES).toFixed(0);
console.log(`${dialect}: judging ${SITES} sites again after a drift sync each, median of ${ROUNDS} rounds`);
console.log(`  per site: CPU ${median(cpuPerSite).toFixed(0)} µs, wall ${median(wallPerSite).toFixed(0)} µs`);
console.log(`  of the wall time over all rounds, µs/site: changedInventories ${perSite(spent.changedInventories)}, inventories ${perSite(spent.inventories)}, withAllModules ${perSite(spent.withAllModules)}, replaceSiteUpdates ${perSite(spent.replaceSiteUpdates)}, the rest (sitesToCompute, judging) ${(median(wallPerSite) - (total / ROUNDS) * 1000 / SITES).toFixed(0)}`);
if (probe) {
  const byCall = (Object.keys(serverSpent) as (keyof typeof serverSpent)[]).map((name) => `${name} ${perSite(serverSpent[name])}`).join(", ");
  console.log(`  Postgres's backends, CPU per site: ${median(serverPerSite).toFixed(0)} µs (median); over all rounds, µs/site: ${byCall}`);
  await probe.close();
}
await close();
