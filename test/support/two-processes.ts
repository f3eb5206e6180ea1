// Syncs straight to the store, from two processes on one database (two
// stores, each with its own kept site states): for the tests of what a sync
// keeps of a site and when it may trust it (store/site-states.ts).
import type { SiteModuleState, SyncCommand } from "../../src/inventory";
import type { Store } from "../../src/store/types";
import { sql } from "./sql";
import { createTestDatabase, type Dialect, type TestDatabase } from "./stores";

export interface TwoProcesses {
  db: TestDatabase;
  /** The process under test. */
  store: Store;
  /** Another process on the same database. */
  other: Store;
  /** A new site of one organization (`https://<label><n>.example`). */
  freshSite(): Promise<number>;
}

export async function openTwoProcesses(dialect: Dialect, label: string): Promise<TwoProcesses> {
  const db = createTestDatabase(dialect);
  const store = await db.open();
  const other = await db.open();
  const organizationId = (await store.createOrganization(label)).id;
  let sites = 0;
  return {
    db, store, other,
    async freshSite() {
      const n = ++sites;
      const url = `https://${label.toLowerCase().replaceAll(" ", "-")}${n}.example`;
      return (await store.createSite({ organizationId, url, normalizedUrl: url, name: label, tokenHash: `${label}${n}` })).id;
    },
  };
}

/** A contrib module, enabled, at `version`. */
export const moduleAt = (machineName: string, version: string | null): SiteModuleState => ({
  machineName, displayName: machineName, moduleType: "contrib", extensionType: "module", enabled: true, version, description: null, project: null,
});

/** A full sync of `entries` to the site, as the sync service hands it to the store (no fingerprint). */
export const fullSync = (siteId: number, entries: SiteModuleState[]) => ({
  siteId, siteName: "Kept", drupalInfo: { coreVersion: "10.3.8", phpVersion: "8.3.2", ipAddress: null },
  entries, fullSync: true, keep: new Set<string>(), fingerprint: null, repeat: "{}",
}) as unknown as SyncCommand;

/** The site's modules as `name@version`, by name. */
export async function storedVersions(store: Store, siteId: number): Promise<string[]> {
  const rows = await sql<{ name: string; version: string }>(store, `SELECT m.machine_name AS name, v.version FROM site_modules sm
    JOIN modules m ON m.id = sm.module_id JOIN module_versions v ON v.id = sm.version_id WHERE sm.site_id = ${siteId} ORDER BY m.machine_name`);
  return rows.map((r) => `${r.name}@${r.version}`);
}
