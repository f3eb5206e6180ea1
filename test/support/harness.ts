// An app around a real store, driven with app.handle(), plus a seeded world:
// two organizations, a user in each, a site in the first.
import { AccountsService } from "../../src/accounts/service";
import { createApp, redisKeyPrefix, type App } from "../../src/app";
import type { RedisConnection } from "../../src/redis/connection";
import { loadConfig, type Config } from "../../src/config";
import { silentLogger, type Logger } from "../../src/log";
import { SitesService } from "../../src/sites/service";
import type { Store } from "../../src/store/types";
import { redisAvailable, TEST_REDIS_URL } from "./env";
import { postSync, send, type SendInit } from "./http";
import { connectedRedis, deleteKeys } from "./redis";
import { createTestDatabase, type Dialect, type TestDatabase } from "./stores";

export interface SeededSite { id: number; url: string; name: string; token: string }

export interface World {
  orgId: number;
  otherOrgId: number;
  /** Bearer token of a member of orgId. */
  token: string;
  userId: number;
  /** Bearer token of a member of otherOrgId only. */
  outsiderToken: string;
  site: SeededSite;
}

export interface Harness {
  db: TestDatabase;
  /** The shared Redis this app uses (Postgres runs), or null. */
  redis: RedisConnection | null;
  store: Store;
  app: App;
  config: Config;
  world: World;
  accounts: AccountsService;
  sites: SitesService;
  /** A request to the app, with the world's token unless `token` says otherwise. */
  request(method: string, path: string, init?: Partial<SendInit>): Promise<Response>;
  /** POST /api/v1/sites/:id/modules (the world's site unless `siteId`) with the world's token. */
  sync(body: unknown, siteId?: number, token?: string | null): Promise<Response>;
  /** A new site of the world's organization, with a URL no other site of this run has. */
  freshSite(label?: string): Promise<SeededSite>;
  close(): Promise<void>;
}

let sitesMade = 0;

/** A new site of `organizationId` whose URL no other site of this test run has (`https://<label>-<n>.example`). */
export function newSite(sites: SitesService, organizationId: number, label = "site"): Promise<SeededSite> {
  const n = ++sitesMade;
  return sites.create({ organizationId, url: `https://${label}-${n}.example`, name: `${label} ${n}` });
}

let warnedNoRedis = false;

/**
 * The shared Redis for a Postgres harness: up, or a loud failure under
 * REQUIRE_REDIS=1 (CI); elsewhere a loud warning (once), and the harness runs without.
 */
async function sharedRedis(logger: Logger): Promise<RedisConnection | null> {
  const required = process.env.REQUIRE_REDIS === "1";
  let problem: string;
  if (redisAvailable()) {
    try {
      return await connectedRedis(TEST_REDIS_URL, logger);
    } catch (err) {
      problem = err instanceof Error ? err.message : String(err);
    }
  } else {
    problem = `${TEST_REDIS_URL} did not answer when the run started`;
  }
  if (required) throw new Error(`REQUIRE_REDIS=1 but this Postgres harness has no Redis: ${problem}`);
  if (warnedNoRedis) return null;
  warnedNoRedis = true;
  console.warn(`\n!!! Postgres harness WITHOUT REDIS (${problem}): the shared id cache and rate limit are NOT exercised.\n`);
  return null;
}

/**
 * Rate limiting and background syncs are effectively off unless a test asks
 * for them: most tests sync one site many times, some with thousands of modules.
 */
export function testConfig(overrides: Partial<Config> = {}): Config {
  return {
    ...loadConfig({ DATABASE_URL: "sqlite::memory:", LOG_LEVEL: "error", RATE_LIMIT_PER_HOUR: "1000000", FAILED_ATTEMPTS_PER_HOUR: "1000000", SYNC_BACKGROUND_THRESHOLD: "1000000" }),
    ...overrides,
  };
}

/**
 * The Postgres runs go through the real Redis too (as a deployment of many
 * instances would), so every API test also exercises the shared id cache.
 */
export async function createHarness(dialect: Dialect, options: { config?: Partial<Config>; logger?: Logger } = {}): Promise<Harness> {
  const logger = options.logger ?? silentLogger;
  // Before any database is made: a harness that cannot have its Redis leaves nothing behind.
  const redis = dialect === "postgres" ? await sharedRedis(logger) : null;
  const db = createTestDatabase(dialect);
  const store = await db.open();
  const config = testConfig(options.config);
  const keyPrefix = await redisKeyPrefix(store);
  const app = createApp({ config, store, logger, shared: redis ? { redis, keyPrefix } : undefined });
  const accounts = new AccountsService(store);
  const sites = new SitesService(store);

  const { org, other, user, outsider } = await seedAccounts(accounts);
  const site = await sites.create({ organizationId: org.id, url: "https://example.drupal.site", name: "Example Drupal Site" });
  const world: World = { orgId: org.id, otherOrgId: other.id, token: user.token, userId: user.id, outsiderToken: outsider.token, site };

  return {
    db, redis, store, app, config, world, accounts, sites,
    request: (method, path, init = {}) => send(app, method, path, { ...init, token: init.token === undefined ? world.token : init.token }),
    sync: (body, siteId = site.id, token) => postSync(app, siteId, { body, token: token === undefined ? world.token : token }),
    freshSite: (label) => newSite(sites, world.orgId, label),
    async close() {
      if (redis) {
        // Leave nothing behind in the shared Redis.
        await deleteKeys(redis.client, keyPrefix);
        await redis.close();
      }
      await db.destroy();
    },
  };
}

/** Two organizations with one user each: the first's user is the one that syncs, the other an outsider. */
export async function seedAccounts(accounts: AccountsService) {
  const org = await accounts.createOrganization("Agency One");
  const other = await accounts.createOrganization("Agency Two");
  const user = await accounts.createUser({ email: "dev@agency-one.test", organizationId: org.id, role: "admin" });
  const outsider = await accounts.createUser({ email: "dev@agency-two.test", organizationId: other.id, role: "member" });
  return { org, other, user, outsider };
}

export interface ModuleInput {
  machine_name: string;
  display_name: string;
  module_type: "core" | "contrib" | "custom";
  enabled: boolean;
  version?: string | null;
  description?: string | null;
  project?: string | null;
}

export const mod = (machine_name: string, overrides: Partial<ModuleInput> = {}): ModuleInput => ({
  machine_name,
  display_name: machine_name.replace(/_/g, " "),
  module_type: "contrib",
  enabled: true,
  version: "1.0.0",
  ...overrides,
});

/** A valid sync payload for `site`, with the given modules. */
export function payload<M = unknown>(site: SeededSite, modules: M[], extra: Record<string, unknown> = {}) {
  return {
    site: { url: site.url, name: site.name, token: site.token },
    drupal_info: { core_version: "10.3.8", php_version: "8.3.2", ip_address: "192.168.1.100" },
    modules,
    ...extra,
  };
}
