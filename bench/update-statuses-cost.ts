// `bun bench/update-statuses-cost.ts`: what judging update statuses again
// costs per site after a drift-shaped sync (one module's version changed of
// 150), in process, on SQLite (BENCH_DATABASE_URL=postgres://… for an empty
// Postgres database): the background thread's work for each changed site.
// Prints CPU and wall time per site, and how they split between reading
// inventories, judging and writing (UpdateStatuses.computeSites).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { SiteModuleState, SyncCommand } from "../src/inventory";
import { PostgresStore } from "../src/store/postgres/store";
import { SqliteStore } from "../src/store/sqlite/store";
import type { Store } from "../src/store/types";
import { UpdateStatuses } from "../src/updates/statuses";
import { payload } from "../test/support/payload";

const SITES = Number(process.env.BENCH_STATUS_SITES ?? 1000);
const ROUNDS = Number(process.env.BENCH_STATUS_ROUNDS ?? 5);
const pgUrl = process.env.BENCH_DATABASE_URL;

const dir = mkdtempSync(join(tmpdir(), "modsync-statuses-"));
const store: Store = pgUrl ? await PostgresStore.connect(pgUrl) : SqliteStore.connect(join(dir, "bench.db"));
const org = await store.createOrganization("bench");
const base = payload(150).modules.map((m): SiteModuleState => ({
  machineName: m.machine_name, displayName: m.display_name, moduleType: m.module_type, extensionType: "module", enabled: m.enabled,
  version: m.version ?? null, description: m.description ?? null, project: null,
}));
const command = (siteId: number, entries: SiteModuleState[]): SyncCommand => ({
  siteId, siteName: "s", drupalInfo: { coreVersion: "10.3.8", phpVersion: "8.3.2", ipAddress: "192.0.2.1" },
  entries, fullSync: true, keep: new Set(), fingerprint: null, repeat: null,
} as unknown as SyncCommand);
const sites: number[] = [];
for (let i = 0; i < SITES; i++) {
  const site = await store.createSite({ organizationId: org.id, url: `https://h${i}.example`, normalizedUrl: `https://h${i}.example`, name: "s", tokenHash: `h${i}` });
  sites.push(site.id);
  await store.applySync(command(site.id, base));
}
const statuses = new UpdateStatuses(store.releases);
await statuses.computePending();

// Where a batch's time goes: the store's calls, timed.
const spent = { inventories: 0, replaceSiteUpdates: 0, other: 0 };
const releases = store.releases as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
for (const name of ["inventories", "replaceSiteUpdates"] as const) {
  const original = releases[name]!.bind(store.releases);
  releases[name] = async (...args: unknown[]) => {
    const t0 = performance.now();
    try { return await original(...args); } finally { spent[name] += performance.now() - t0; }
  };
}

let pass = 0;
const cpuPerSite: number[] = [];
const wallPerSite: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  pass++;
  for (const id of sites) await store.applySync(command(id, base.map((m, i) => (i === pass % 150 ? { ...m, version: `drift-${pass}` } : m))));
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const computed = await statuses.computePending();
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  if (computed !== SITES) throw new Error(`computed ${computed} sites, expected ${SITES}`);
  cpuPerSite.push((cpu.user + cpu.system) / SITES);
  wallPerSite.push((wall * 1000) / SITES);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const total = spent.inventories + spent.replaceSiteUpdates;
console.log(`${pgUrl ? "postgres" : "sqlite"}: judging ${SITES} sites again after a drift sync each, median of ${ROUNDS} rounds`);
console.log(`  per site: CPU ${median(cpuPerSite).toFixed(0)} µs, wall ${median(wallPerSite).toFixed(0)} µs`);
console.log(`  of the wall time over all rounds: inventories ${((spent.inventories / ROUNDS) * 1000 / SITES).toFixed(0)} µs/site, replaceSiteUpdates ${((spent.replaceSiteUpdates / ROUNDS) * 1000 / SITES).toFixed(0)} µs/site, the rest (sitesToCompute, judging) ${(median(wallPerSite) - (total / ROUNDS) * 1000 / SITES).toFixed(0)} µs/site`);
await store.close();
rmSync(dir, { recursive: true, force: true });
