// clients/drush/modsync-push.php against the real server: a Drupal site's
// cron pipes drush's JSON into it; what it stores is read back through the API.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createClient } from "redis";
import { AccountsService } from "../../src/accounts/service";
import { redisKeyPrefix } from "../../src/app";
import { SitesService } from "../../src/sites/service";
import type { Store } from "../../src/store/types";
import { redisAvailable, TEST_REDIS_URL } from "../support/env";
import { newSite, seedAccounts, type SeededSite } from "../support/harness";
import { deleteKeys } from "../support/redis";
import { cleanupProcesses, startedServer, type Server } from "../support/server-process";
import { createTestDatabase, describeEachDialect, type TestDatabase } from "../support/stores";
import { EMPTY, EXIT, expectExit, NOT_JSON, largePmList, PM_LIST, pmList, pmListWithout, push, recordingProxy, requirePhp, STATUS } from "./support";

/** Syncs per site per hour on these servers: the rate-limit test spends a fresh site's bucket. */
const RATE_LIMIT = 3;
type Bearer = "site" | "api";
/** The bearer the server tests send: "site", the client's default form (it also follows its 202 with it). */
const BEARER: Bearer = "site";
/** Small, so that a pm:list of a few hundred modules becomes a background task. */
const BACKGROUND_THRESHOLD = 100;

interface StoredModule { machine_name: string; display_name: string; module_type: string; enabled: boolean; version: string | null; project: string | null }

beforeAll(requirePhp);
afterAll(cleanupProcesses);

describeEachDialect("drush client against the server", (dialect) => {
  let db: TestDatabase;
  let store: Store;
  let server: Server;
  let apiToken: string;
  let orgId: number;
  let sites: SitesService;
  let redisPrefix: string | null = null;

  beforeAll(async () => {
    db = createTestDatabase(dialect);
    store = await db.open();
    const seeded = await seedAccounts(new AccountsService(store));
    apiToken = seeded.user.token;
    orgId = seeded.org.id;
    sites = new SitesService(store);
    // Postgres as a scale-out deployment runs it: with Redis for buckets, caches and the job list.
    const shared = dialect === "postgres" && redisAvailable();
    if (shared) redisPrefix = await redisKeyPrefix(store);
    server = await startedServer({
      DATABASE_URL: db.url, RATE_LIMIT_PER_HOUR: String(RATE_LIMIT), SYNC_BACKGROUND_THRESHOLD: String(BACKGROUND_THRESHOLD),
      ...(shared && { REDIS_URL: TEST_REDIS_URL }),
    });
  });
  afterAll(async () => {
    server?.proc.kill("SIGKILL");
    await server?.proc.exited;
    if (redisPrefix) {
      const redis = createClient({ url: TEST_REDIS_URL });
      await redis.connect();
      await deleteKeys(redis, redisPrefix);
      await redis.close();
    }
    await db.destroy();
  });

  /**
   * What a site's cron sets: where modsync is, which site this is, and its token.
   * BEARER "api" sends the spec's original form (a person's API token as the
   * bearer, the site token in the body, an IP address), for servers that do not
   * yet take the site token as the bearer; "site" is the client's default form.
   */
  const envFor = (site: SeededSite, base = server.base, bearer: Bearer = BEARER): Record<string, string> => ({
    MODSYNC_URL: base, MODSYNC_SITE_ID: String(site.id), MODSYNC_SITE_URL: site.url, MODSYNC_SITE_NAME: site.name, MODSYNC_SITE_TOKEN: site.token,
    ...(bearer === "api" && { MODSYNC_API_TOKEN: apiToken, MODSYNC_IP_ADDRESS: "192.0.2.10" }),
  });

  async function storedModules(siteId: number): Promise<Map<string, StoredModule>> {
    const res = await fetch(`${server.base}/api/v1/sites/${siteId}/modules?limit=1000`, { headers: { authorization: `Bearer ${apiToken}` } });
    expect(res.status).toBe(200);
    const { items } = (await res.json()) as { items: StoredModule[] };
    return new Map(items.map((m) => [m.machine_name, m]));
  }

  test("a full sync of a Drupal 10.3 site: every module, theme and the install profile stored as drush lists them", async () => {
    // The site's URL comes from drush status's uri when MODSYNC_SITE_URL is unset.
    const { uri } = JSON.parse(await Bun.file(STATUS).text()) as { uri: string };
    const site = await sites.create({ organizationId: orgId, url: uri, name: "Agency One" });
    const { MODSYNC_SITE_URL: _fromDrush, ...env } = envFor(site);

    const run = await push([`--status-file=${STATUS}`], env, PM_LIST);

    expectExit(run, EXIT.ok);
    const count = Object.keys(pmList()).length;
    expect(run.stdout).toContain(`(${count} processed: ${count} created, 0 updated, 0 unchanged, 0 skipped)`);
    const stored = await storedModules(site.id);
    expect(stored.size).toBe(count);
    const pick = (name: string) => {
      const { display_name, module_type, enabled, version, project } = stored.get(name)!;
      return { display_name, module_type, enabled, version, project };
    };
    expect({
      views: pick("views"), language: pick("language"), standard: pick("standard"),
      pathauto: pick("pathauto"), admin_toolbar_search: pick("admin_toolbar_search"), gin: pick("gin"),
      search_api_autocomplete: pick("search_api_autocomplete"), agency_core: pick("agency_core"), agency_theme: pick("agency_theme"), olivero: pick("olivero"),
    }).toEqual({
      views: { display_name: "Views", module_type: "core", enabled: true, version: "10.3.8", project: "drupal" },
      language: { display_name: "Language", module_type: "core", enabled: false, version: "10.3.8", project: "drupal" },
      standard: { display_name: "Standard", module_type: "core", enabled: true, version: "10.3.8", project: "drupal" },
      pathauto: { display_name: "Pathauto", module_type: "contrib", enabled: true, version: "8.x-1.12", project: "pathauto" },
      admin_toolbar_search: { display_name: "Admin Toolbar Search", module_type: "contrib", enabled: false, version: "3.5.0", project: "admin_toolbar" },
      gin: { display_name: "Gin", module_type: "contrib", enabled: true, version: "8.x-3.0-rc14", project: "gin" },
      // A git checkout: under contrib/, but without drupal.org's packaging info.
      search_api_autocomplete: { display_name: "Search API Autocomplete", module_type: "contrib", enabled: true, version: null, project: null },
      agency_core: { display_name: "Agency Core", module_type: "custom", enabled: true, version: null, project: null },
      agency_theme: { display_name: "Agency Theme", module_type: "custom", enabled: true, version: null, project: null },
      olivero: { display_name: "Olivero", module_type: "core", enabled: true, version: "10.3.8", project: "drupal" },
    });
    const info = await (await fetch(`${server.base}/api/v1/sites/${site.id}`, { headers: { authorization: `Bearer ${apiToken}` } })).json();
    expect(info).toMatchObject({ name: "Agency One", drupal_info: { core_version: "10.3.8", php_version: "8.3.2" } });
  }, 30_000);

  test("full sync by default removes what drush no longer lists; --partial adds and updates only", async () => {
    const site = await newSite(sites, orgId, "drush-full");
    expectExit(await push([`--status-file=${STATUS}`], envFor(site), PM_LIST), EXIT.ok);
    const all = Object.keys(pmList()).length;

    const uninstalled = await push([`--status-file=${STATUS}`, pmListWithout("devel", "agency_migrate")], envFor(site));
    expectExit(uninstalled, EXIT.ok);
    const afterFull = await storedModules(site.id);
    expect([afterFull.size, afterFull.has("devel"), afterFull.has("agency_migrate")]).toEqual([all - 2, false, false]);

    const partial = await push(["--partial", `--status-file=${STATUS}`, pmListWithout("pathauto", "devel", "agency_migrate")], envFor(site));
    expectExit(partial, EXIT.ok);
    const afterPartial = await storedModules(site.id);
    expect([afterPartial.size, afterPartial.has("pathauto")]).toEqual([all - 2, true]);
  }, 30_000);

  test("a body over 64 KiB goes gzip-compressed with the bearer; the background task is followed to its result", async () => {
    const site = await newSite(sites, orgId, "drush-large");
    const large = largePmList(600);
    const proxy = recordingProxy(server.base);
    try {
      const run = await push([`--status-file=${STATUS}`, large.path], envFor(site, proxy.base));

      expectExit(run, EXIT.ok);
      const total = Object.keys(large.rows).length;
      expect(run.stdout).toContain(`(${total} processed: ${total} created`);
      expect(run.stderr).toContain("accepted as background task");
      const [post, ...polls] = proxy.seen;
      expect({
        method: post!.method, path: post!.path, encoding: post!.headers.get("content-encoding"),
        authorization: post!.headers.get("authorization"), type: post!.headers.get("content-type"),
      }).toEqual({
        method: "POST", path: `/api/v1/sites/${site.id}/modules`, encoding: "gzip",
        authorization: `Bearer ${site.token}`, type: "application/json",
      });
      // Compressed: far below what the JSON of that many entries weighs.
      expect(post!.bytes).toBeLessThan(total * 40);
      expect(polls.length).toBeGreaterThan(0);
      for (const poll of polls) {
        expect({ method: poll.method, path: poll.path, authorization: poll.headers.get("authorization") }).toEqual({
          method: "GET", path: expect.stringMatching(/^\/api\/v1\/tasks\/[0-9a-f-]{36}\/status$/), authorization: `Bearer ${site.token}`,
        });
      }
      expect((await storedModules(site.id)).size).toBe(total);
    } finally {
      proxy.stop();
    }
  }, 60_000);

  test("429: exits 7 and prints when to retry; nothing of the refused sync is stored", async () => {
    const site = await newSite(sites, orgId, "drush-limited");
    for (let i = 0; i < RATE_LIMIT - 1; i++) expectExit(await push([`--status-file=${STATUS}`], envFor(site), PM_LIST), EXIT.ok);
    expectExit(await push([`--status-file=${STATUS}`, pmListWithout("views")], envFor(site)), EXIT.ok);

    const limited = await push([`--status-file=${STATUS}`], envFor(site), PM_LIST);

    expectExit(limited, EXIT.rateLimited);
    const retry = Number(/rate limited: retry after (\d+) seconds \(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\)/.exec(limited.stderr)?.[1]);
    // One token of RATE_LIMIT per hour comes back within an hour / RATE_LIMIT.
    expect(retry).toBeGreaterThan(0);
    expect(retry).toBeLessThanOrEqual(Math.ceil(3600 / RATE_LIMIT));
    expect(limited.stdout).toBe("");
    expect((await storedModules(site.id)).has("views")).toBe(false);
  }, 30_000);

  test("a wrong site token: exits 5 naming the refusal, and nothing is stored", async () => {
    const site = await newSite(sites, orgId, "drush-badtoken");
    const other = await newSite(sites, orgId, "drush-other");
    for (const token of ["not-a-token", other.token]) {
      const run = await push([`--status-file=${STATUS}`], { ...envFor(site), MODSYNC_SITE_TOKEN: token }, PM_LIST);
      expectExit(run, EXIT.auth);
      expect(run.stderr).toMatch(/sync refused: HTTP 40[13]: /);
      expect(run.stderr).not.toContain(token);
    }
    expect((await storedModules(site.id)).size).toBe(0);
  }, 30_000);

  test("a site URL other than the registered one: exits 6 with modsync's detail, nothing stored", async () => {
    const site = await newSite(sites, orgId, "drush-url");
    const run = await push([`--status-file=${STATUS}`], { ...envFor(site), MODSYNC_SITE_URL: "https://elsewhere.example" }, PM_LIST);
    expectExit(run, EXIT.refused);
    expect(run.stderr).toMatch(/sync refused: HTTP 400: .*url/i);
    expect((await storedModules(site.id)).size).toBe(0);
  }, 30_000);
});

describe("drush client on its own", () => {
  const env = { MODSYNC_SITE_NAME: "Agency One", MODSYNC_SITE_URL: "https://www.agency-one.example" };

  test("--dry-run prints the payload: each pm:list row as a module entry, full sync, the token never shown", async () => {
    const run = await push(["--dry-run", `--status-file=${STATUS}`, PM_LIST], { ...env, MODSYNC_SITE_TOKEN: "s3cret-site-token" });

    expectExit(run, EXIT.ok);
    expect(run.stdout).not.toContain("s3cret-site-token");
    const payload = JSON.parse(run.stdout);
    const byName = new Map<string, Record<string, unknown>>(payload.modules.map((m: { machine_name: string }) => [m.machine_name, m]));
    expect({ site: payload.site, drupal_info: payload.drupal_info, full_sync: payload.full_sync, count: payload.modules.length }).toEqual({
      site: { url: "https://www.agency-one.example", name: "Agency One", token: "<MODSYNC_SITE_TOKEN>" },
      // No ip_address: drush under cron has none to give.
      drupal_info: { core_version: "10.3.8", php_version: "8.3.2" },
      full_sync: true,
      count: Object.keys(pmList()).length,
    });
    expect([byName.get("standard"), byName.get("claro"), byName.get("token"), byName.get("agency_migrate")]).toEqual([
      { machine_name: "standard", display_name: "Standard", module_type: "core", extension_type: "profile", enabled: true, version: "10.3.8", project: "drupal" },
      { machine_name: "claro", display_name: "Claro", module_type: "core", extension_type: "theme", enabled: true, version: "10.3.8", project: "drupal" },
      { machine_name: "token", display_name: "Token", module_type: "contrib", extension_type: "module", enabled: true, version: "8.x-1.15", project: "token" },
      { machine_name: "agency_migrate", display_name: "Agency Migrate", module_type: "custom", extension_type: "module", enabled: false, version: null, project: null },
    ]);
  });

  test("without drush status: core version from the system module, PHP version from the PHP running it; --partial", async () => {
    const run = await push(["--dry-run", "--partial", "--ip-address=192.0.2.10"], env, PM_LIST);
    expectExit(run, EXIT.ok);
    const php = Bun.spawnSync(["php", "-r", "echo PHP_VERSION;"]).stdout.toString();
    const { drupal_info, full_sync } = JSON.parse(run.stdout);
    expect({ drupal_info, full_sync }).toEqual({ drupal_info: { core_version: "10.3.8", php_version: php, ip_address: "192.0.2.10" }, full_sync: false });
  });

  test("missing settings, a token flag or an unknown option: exit 2 naming what is wrong", async () => {
    const missing = await push([PM_LIST], {});
    expectExit(missing, EXIT.usage);
    for (const name of ["MODSYNC_URL", "MODSYNC_SITE_ID", "MODSYNC_SITE_URL", "MODSYNC_SITE_NAME", "MODSYNC_SITE_TOKEN"]) expect(missing.stderr).toContain(name);

    const tokenFlag = await push(["--token=abc", PM_LIST], env);
    expectExit(tokenFlag, EXIT.usage);
    expect(tokenFlag.stderr).toContain("MODSYNC_SITE_TOKEN");

    const unknown = await push(["--fast", PM_LIST], env);
    expectExit(unknown, EXIT.usage);
    expect(unknown.stderr).toContain("--fast");

    const badId = await push([PM_LIST], { ...env, MODSYNC_URL: "http://127.0.0.1:9", MODSYNC_SITE_ID: "one", MODSYNC_SITE_TOKEN: "t" });
    expectExit(badId, EXIT.usage);
    expect(badId.stderr).toContain("MODSYNC_SITE_ID");
  });

  test("input that is missing, not drush's JSON, or lists nothing: exit 3, nothing sent", async () => {
    const notJson = await push(["--dry-run", "-"], env, NOT_JSON);
    expectExit(notJson, EXIT.input);
    expect(notJson.stderr).toContain("--format=json");

    const missing = await push(["--dry-run", "/nonexistent/pm-list.json"], env);
    expectExit(missing, EXIT.input);
    expect(missing.stderr).toContain("cannot read drush pm:list output from /nonexistent/pm-list.json");

    const emptyList = await push(["--dry-run", "-"], env, EMPTY);
    expectExit(emptyList, EXIT.input);
    expect(emptyList.stderr).toContain("nothing to send");
  });

  test("modsync unreachable: exit 4", async () => {
    // Port 9 (discard) has no listener on a test machine: the connection is refused at once.
    const run = await push([`--status-file=${STATUS}`, PM_LIST], { ...env, MODSYNC_URL: "http://127.0.0.1:9", MODSYNC_SITE_ID: "1", MODSYNC_SITE_TOKEN: "t" });
    expectExit(run, EXIT.network);
    expect(run.stderr).toContain("cannot reach modsync at http://127.0.0.1:9/api/v1/sites/1/modules");
  });
});
