// For the in-process store benches (history-cost.ts, update-statuses-cost.ts):
// a fresh store (a SQLite file, or BENCH_DATABASE_URL's empty Postgres
// database), `sites` sites each holding the same 150 modules after a first
// sync, and the command that syncs a site's entries straight into the store.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { SiteModuleState, SyncCommand } from "../../src/inventory";
import { PostgresStore } from "../../src/store/postgres/store";
import { SqliteStore } from "../../src/store/sqlite/store";
import type { Store } from "../../src/store/types";
import { payload } from "../../test/support/payload";

export interface StoreWorld {
  store: Store;
  dialect: "sqlite" | "postgres";
  /** The 150 modules every site holds after its first sync. */
  base: SiteModuleState[];
  sites: number[];
  /** A full sync of `entries` to the site, as the sync route would apply it. */
  command(siteId: number, entries: SiteModuleState[]): SyncCommand;
  close(): Promise<void>;
}

export async function storeWorld(name: string, sites: number): Promise<StoreWorld> {
  const pgUrl = process.env.BENCH_DATABASE_URL;
  const dir = mkdtempSync(join(tmpdir(), `modsync-${name}-`));
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
  const ids: number[] = [];
  for (let i = 0; i < sites; i++) {
    const site = await store.createSite({ organizationId: org.id, url: `https://h${i}.example`, normalizedUrl: `https://h${i}.example`, name: "s", tokenHash: `h${i}` });
    ids.push(site.id);
    await store.applySync(command(site.id, base));
  }
  return {
    store, dialect: pgUrl ? "postgres" : "sqlite", base, sites: ids, command,
    async close() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
