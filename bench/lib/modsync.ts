// modsync's side of the set-up: a fresh database and its fixtures (one org,
// one user with an API token, N registered sites). Fixtures are created
// in-process with the project's own services (spawning the CLI per site would
// take minutes for 1,000 sites), and the store is closed before the server
// starts so the two never share a SQLite connection.
import { join } from "node:path";
import postgres from "postgres";
import { AccountsService } from "../../src/accounts/service";
import { parseDatabaseUrl } from "../../src/config";
import { SitesService } from "../../src/sites/service";
import { openStore } from "../../src/store/open";

export interface BenchSite {
  id: number;
  url: string;
  token: string;
}

export interface Fixtures {
  apiToken: string;
  sites: BenchSite[];
}

export interface ModsyncDatabase {
  url: string;
  dialect: "sqlite" | "postgres";
  drop(): Promise<void>;
}

const PG_DATABASE = "modsync_bench";

/**
 * SQLite: a file in `tmpDir` (deleted with it). Postgres (`pgUrl` given): a
 * fresh `modsync_bench` database on that server, because the server process
 * reads only DATABASE_URL and so cannot be pointed at a private schema.
 */
export async function freshDatabase(tmpDir: string, pgUrl: string | undefined): Promise<ModsyncDatabase> {
  if (!pgUrl) return { url: `sqlite:${join(tmpDir, "modsync.db")}`, dialect: "sqlite", drop: async () => {} };
  if (parseDatabaseUrl(pgUrl, "BENCH_DATABASE_URL").dialect !== "postgres") {
    throw new Error("BENCH_DATABASE_URL must be a postgres:// URL (SQLite is the default)");
  }
  const admin = postgres(pgUrl, { max: 1, onnotice: () => {} });
  const recreate = async (create: boolean) => {
    await admin.unsafe(`DROP DATABASE IF EXISTS ${PG_DATABASE} WITH (FORCE)`);
    if (create) await admin.unsafe(`CREATE DATABASE ${PG_DATABASE}`);
  };
  try {
    await recreate(true);
  } catch (err) {
    await admin.end();
    throw err;
  }
  const url = new URL(pgUrl);
  url.pathname = `/${PG_DATABASE}`;
  return {
    url: url.toString(),
    dialect: "postgres",
    drop: async () => {
      try {
        await recreate(false);
      } finally {
        await admin.end();
      }
    },
  };
}

export function siteUrl(i: number): string {
  return `https://site-${i}.bench.example`;
}

/** Creates the org, the user and `siteCount` sites plus one spare for the large sync. */
export async function createFixtures(databaseUrl: string, siteCount: number): Promise<Fixtures & { spare: BenchSite }> {
  const store = await openStore(parseDatabaseUrl(databaseUrl));
  try {
    const accounts = new AccountsService(store);
    const sitesService = new SitesService(store);
    const org = await accounts.createOrganization("Bench");
    const user = await accounts.createUser({ email: "bench@example.com", organizationId: org.id, role: "member" });
    const sites: BenchSite[] = [];
    for (let i = 1; i <= siteCount + 1; i++) {
      const site = await sitesService.create({ organizationId: org.id, url: siteUrl(i), name: `Bench site ${i}` });
      sites.push({ id: site.id, url: site.url, token: site.token });
    }
    const spare = sites.pop()!;
    return { apiToken: user.token, sites, spare };
  } finally {
    await store.close();
  }
}
