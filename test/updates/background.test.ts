// The background work as start.ts runs it: on a thread of its own with its
// own connection, it computes the statuses of a site after its sync and,
// with RELEASE_HISTORY_URL set, fetches the release data of the projects in
// use and computes again; fetches are counted in the main thread's metrics.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { silentLogger } from "../../src/log";
import { Metrics } from "../../src/metrics/registry";
import { startUpdatesBackground, type Background } from "../../src/updates/background";
import { createHarness, mod, payload, testConfig, type Harness } from "../support/harness";
import { fixtureText } from "../support/releases";
import { describeEachDialect } from "../support/stores";
import { until } from "../support/until";

describeEachDialect("update statuses in the background", (dialect) => {
  let h: Harness;
  let server: ReturnType<typeof Bun.serve>;
  let background: Background;
  const metrics = new Metrics();

  beforeAll(async () => {
    h = await createHarness(dialect);
    server = Bun.serve({
      port: 0,
      fetch: (req) => new URL(req.url).pathname === "/rh/drupal/current"
        ? new Response(fixtureText("drupal.sec.8.0.2"), { headers: { etag: '"v1"' } })
        : new Response("not found", { status: 404 }),
    });
    const config = testConfig({ releaseHistoryUrl: `http://127.0.0.1:${server.port}/rh`, releaseRefreshHours: 6 });
    expect(h.store.workerAccess()).not.toBeNull(); // so this is the thread, not the in-process fallback
    background = startUpdatesBackground({ store: h.store, config, logger: silentLogger, metrics, owner: "test-instance" });
  });
  afterAll(async () => {
    await background.close();
    server.stop(true);
    await h.close();
  });

  test("a synced site gets its statuses, from release data fetched in the background", async () => {
    const site = await h.freshSite("background");
    const body = payload(site, [mod("node", { module_type: "core", version: "8.0.0" }), mod("pathauto", { version: "8.x-1.0" })],
      { drupal_info: { core_version: "8.0.0", php_version: "8.3.2", ip_address: "192.0.2.1" } });
    expect((await h.sync(body, site.id)).status).toBe(200);
    const drupal = await until(async () => {
      const { projects } = await h.store.releases.siteUpdates(site.id);
      const found = projects.find((p) => p.project === "drupal");
      return found?.status === "not_secure" ? found : null;
    }, 20_000, "the site's drupal project to be judged not_secure");
    expect(drupal).toMatchObject({ installedVersion: "8.0.0", securityUpdates: ["8.0.2"] });
    const pathauto = (await h.store.releases.siteUpdates(site.id)).projects.find((p) => p.project === "pathauto");
    expect(pathauto).toMatchObject({ status: "unknown", reason: "No release data for this project" });
    const text = await until(async () => {
      const t = await metrics.registry.metrics();
      return /modsync_release_fetches_total\{result="failed"\} 1/.test(t) ? t : null;
    }, 5000, "the fetches to be counted");
    expect(text).toMatch(/modsync_release_fetches_total\{result="changed"\} 1/);
  }, 30_000);
});
