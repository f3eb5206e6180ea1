// modsync's side of the set-up: fresh databases and their fixtures (one org,
// one user with an API token, N registered sites). Fixtures are created
// in-process with the project's own services (spawning the CLI per site would
// take minutes for 1,000 sites), and the store is closed before the server
// starts so the two never share a SQLite connection.
import { readdirSync, readlinkSync, realpathSync } from "node:fs";
import { join } from "node:path";
import postgres from "postgres";
import { AccountsService } from "../../src/accounts/service";
import { parseDatabaseUrl, type DatabaseTarget } from "../../src/config";
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
  /** The store's id, which modsync puts in its Redis keys ("modsync:<id>:…"). */
  databaseId: string;
}

export interface ModsyncDatabase {
  url: string;
  dialect: "sqlite" | "postgres";
  drop(): Promise<void>;
}

/**
 * A fresh, empty database for modsync, named after `label` so that scenarios
 * and rounds never share state. SQLite: a file in `tmpDir` (deleted with it).
 * Postgres (`pgUrl` given): a database `modsync_bench_<label>` on that server,
 * dropped and recreated; the server process reads only DATABASE_URL, so it
 * cannot be pointed at a private schema instead.
 */
export async function freshDatabase(tmpDir: string, pgUrl: string | undefined, label: string): Promise<ModsyncDatabase> {
  if (!/^[a-z0-9_]+$/.test(label)) throw new Error(`database label must be [a-z0-9_]+, got "${label}"`);
  if (!pgUrl) return { url: `sqlite:${join(tmpDir, `modsync-${label}.db`)}`, dialect: "sqlite", drop: async () => {} };
  if (parseDatabaseUrl(pgUrl, "BENCH_DATABASE_URL").dialect !== "postgres") {
    throw new Error("BENCH_DATABASE_URL must be a postgres:// URL (SQLite is the default)");
  }
  const name = `modsync_bench_${label}`;
  const admin = postgres(pgUrl, { max: 1, onnotice: () => {} });
  const recreate = async (create: boolean) => {
    await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    if (create) await admin.unsafe(`CREATE DATABASE ${name}`);
  };
  try {
    await recreate(true);
  } catch (err) {
    await admin.end();
    throw err;
  }
  const url = new URL(pgUrl);
  url.pathname = `/${name}`;
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

/** Sites created at once by createFixtures. */
const FIXTURE_CONCURRENCY = 8;

export function siteUrl(i: number): string {
  return `https://site-${i}.bench.example`;
}

/** Creates the org, the user and `siteCount` sites, and reads the database id. */
export async function createFixtures(databaseUrl: string, siteCount: number): Promise<Fixtures> {
  const target = parseDatabaseUrl(databaseUrl);
  const fixtures = await populate(target, siteCount);
  if (target.dialect === "sqlite") await sqliteReleased(target.path);
  return fixtures;
}

async function populate(target: DatabaseTarget, siteCount: number): Promise<Fixtures> {
  const store = await openStore(target);
  try {
    const accounts = new AccountsService(store);
    const sitesService = new SitesService(store);
    const org = await accounts.createOrganization("Bench");
    const user = await accounts.createUser({ email: "bench@example.com", organizationId: org.id, role: "member" });
    // A few at a time: on Postgres each is a round trip, and 10,000 one after another take minutes.
    const sites: BenchSite[] = new Array<BenchSite>(siteCount);
    let next = 1;
    const worker = async () => {
      while (next <= siteCount) {
        const i = next++;
        const site = await sitesService.create({ organizationId: org.id, url: siteUrl(i), name: `Bench site ${i}` });
        sites[i - 1] = { id: site.id, url: site.url, token: site.token };
      }
    };
    await Promise.all(Array.from({ length: Math.min(FIXTURE_CONCURRENCY, siteCount) }, worker));
    // Created on first read and kept, so the server started later sees the same id.
    return { apiToken: user.token, sites, databaseId: await store.databaseId() };
  } finally {
    await store.close();
  }
}

/**
 * Waits until this process no longer has the SQLite file open. The store's
 * close() finalizes its own statements but not those drizzle prepared, and
 * bun:sqlite keeps the connection open until they are finalized, that is
 * until garbage collection. Left to chance, that collection can happen while
 * the server starts: the last connection's closing checkpoint locks the file,
 * and the server exits with "database is locked".
 */
async function sqliteReleased(path: string): Promise<void> {
  const file = realpathSync(path);
  const held = () => readdirSync("/proc/self/fd").some((fd) => {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      return target === file || target.startsWith(`${file}-`);
    } catch {
      return false; // closed while we looked
    }
  });
  for (let attempt = 0; attempt < 10; attempt++) {
    Bun.gc(true);
    if (!held()) return;
    await Bun.sleep(20);
  }
  throw new Error(`the fixtures' connection to ${path} is still open after close(); modsync could find the database locked`);
}
