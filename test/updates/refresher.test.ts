// The release refresher against a local HTTP server serving Drupal's
// fixtures: conditional fetches (a 304 keeps the data), failures (a 500, a
// malformed document) that keep the last good data, one instance at a time
// through the lease, at most once per interval (an injected clock), and
// statuses computed again once release data changes.
import { afterEach, beforeEach, expect, test } from "bun:test";
import { silentLogger } from "../../src/log";
import { LEASE_MS, REFRESH_LEASE, ReleaseRefresher, RETRY_FAILED_MS, type FetchResult } from "../../src/updates/refresher";
import { UpdateStatuses } from "../../src/updates/statuses";
import { manualClock } from "../support/clock";
import { createHarness, mod, payload, type Harness } from "../support/harness";
import { fixtureText } from "../support/releases";
import { describeEachDialect } from "../support/stores";

const HOUR = 3600_000;

interface Answer { status: number; body?: string; etag?: string; lastModified?: string }

/** A release-history server whose answer per project a test sets; it records each request's conditional headers. */
function releaseServer() {
  const answers = new Map<string, Answer>();
  const requests: { project: string; ifNoneMatch: string | null; ifModifiedSince: string | null }[] = [];
  const server = Bun.serve({
    port: 0,
    fetch(req) {
      const m = /^\/release-history\/([^/]+)\/current$/.exec(new URL(req.url).pathname);
      const project = m?.[1] ?? "";
      const ifNoneMatch = req.headers.get("if-none-match");
      const ifModifiedSince = req.headers.get("if-modified-since");
      requests.push({ project, ifNoneMatch, ifModifiedSince });
      const a = answers.get(project) ?? { status: 404, body: "<error>No release history was found.</error>" };
      if (a.status === 200 && ((a.etag && ifNoneMatch === a.etag) || (a.lastModified && ifModifiedSince === a.lastModified))) {
        return new Response(null, { status: 304 });
      }
      const headers: Record<string, string> = { "content-type": "application/xml" };
      if (a.etag) headers.etag = a.etag;
      if (a.lastModified) headers["last-modified"] = a.lastModified;
      return new Response(a.body ?? "", { status: a.status, headers });
    },
  });
  return { answers, requests, baseUrl: `http://127.0.0.1:${server.port}/release-history`, stop: () => server.stop(true) };
}

describeEachDialect("release refresher", (dialect) => {
  // Each test has its own database, server and clock: none depends on another.
  let h: Harness;
  let rh: ReturnType<typeof releaseServer>;
  let siteId: number;
  let fetches: FetchResult[];
  let clock: ReturnType<typeof manualClock>;
  const refresher = (owner: string, baseUrl = rh.baseUrl) => new ReleaseRefresher(h.store.releases, {
    baseUrl, everyMs: 6 * HOUR, owner, logger: silentLogger, clock: clock.now, onFetch: (r) => fetches.push(r),
  });
  const drupalStatus = async () => {
    const { projects } = await h.store.releases.siteUpdates(siteId);
    return projects.find((p) => p.project === "drupal")!;
  };
  const storedDrupalVersions = async () => (await h.store.releases.histories(["drupal"])).get("drupal")!.releases.map((r) => r.version);

  /** The server's first answers, a first refresh (by "a"), and the statuses computed from it; requests and counts forgotten. */
  async function refreshedOnce() {
    rh.answers.set("drupal", { status: 200, body: fixtureText("drupal.sec.8.0.2"), etag: '"v1"' });
    rh.answers.set("aaa_update_test", { status: 200, body: fixtureText("aaa_update_test.8.x-1.2"), lastModified: "Tue, 01 Dec 2026 10:00:00 GMT" });
    rh.answers.set("broken", { status: 500, body: "oops" });
    rh.answers.set("garbled", { status: 200, body: "<project><short_name>garbled</short_name><releases>" });
    const report = await refresher("a").refreshIfDue();
    await new UpdateStatuses(h.store.releases).computePending();
    rh.requests.length = 0;
    fetches.length = 0;
    return report;
  }

  beforeEach(async () => {
    h = await createHarness(dialect);
    rh = releaseServer();
    fetches = [];
    clock = manualClock();
    const site = await h.freshSite("refresh");
    siteId = site.id;
    const modules = [
      mod("node", { module_type: "core", version: "8.0.0" }), mod("aaa_update_test", { version: "8.x-1.0" }),
      mod("broken", { version: "1.0.0" }), mod("garbled", { version: "1.0.0" }), mod("my_custom", { module_type: "custom" }),
    ];
    const body = payload(site, modules, { drupal_info: { core_version: "8.0.0", php_version: "8.3.2", ip_address: "192.0.2.1" } });
    expect((await h.sync(body, site.id)).status).toBe(200);
    // Computed before any release data: every project unknown, and so in use.
    await new UpdateStatuses(h.store.releases).computePending();
  });
  afterEach(async () => {
    rh.stop();
    await h.close();
  });

  test("fetches every project in use (not custom modules), one instance at a time; failures are reported, the rest stored", async () => {
    expect((await h.store.releases.projectsInUse()).map((t) => t.project)).toEqual(["aaa_update_test", "broken", "drupal", "garbled"]);
    expect((await drupalStatus()).status).toBe("unknown");
    rh.answers.set("drupal", { status: 200, body: fixtureText("drupal.sec.8.0.2"), etag: '"v1"' });
    rh.answers.set("aaa_update_test", { status: 200, body: fixtureText("aaa_update_test.8.x-1.2"), lastModified: "Tue, 01 Dec 2026 10:00:00 GMT" });
    rh.answers.set("broken", { status: 500, body: "oops" });
    rh.answers.set("garbled", { status: 200, body: "<project><short_name>garbled</short_name><releases>" });

    const [a, b] = await Promise.all([refresher("a").refreshIfDue(), refresher("b").refreshIfDue()]);
    const report = a ?? b;
    expect([a, b].filter((r) => r !== null)).toHaveLength(1);
    expect(report!.changed.sort()).toEqual(["aaa_update_test", "drupal"]);
    expect(report!.failed.sort((x, y) => x.project.localeCompare(y.project))).toEqual([
      { project: "broken", reason: "HTTP 500" },
      { project: "garbled", reason: expect.stringContaining("malformed document: not well-formed XML") },
    ]);
    expect(rh.requests).toHaveLength(4);
    expect(rh.requests.every((r) => r.ifNoneMatch === null && r.ifModifiedSince === null)).toBe(true);
    expect(fetches.sort()).toEqual(["changed", "changed", "failed", "failed"]);

    // The sites using a changed project are computed again.
    expect(await h.store.releases.sitesToCompute(0, 10)).toEqual([siteId]);
    expect(await new UpdateStatuses(h.store.releases).computePending()).toBe(1);
    expect(await drupalStatus()).toMatchObject({ status: "not_secure", securityUpdates: ["8.0.2"] });
  });

  test("runs at most once per interval, whichever instance asks; sooner again after a failed fetch", async () => {
    await refreshedOnce(); // "broken" and "garbled" failed
    expect(await refresher("a").refreshIfDue()).toBeNull();
    clock.advance(RETRY_FAILED_MS - 1);
    expect(await refresher("b").refreshIfDue()).toBeNull();
    clock.advance(1);
    // Both mended: the retry fetches all four (the others conditionally) and nothing fails.
    const valid = (project: string) => fixtureText("aaa_update_test.8.x-1.2").replace(/<short_name>[^<]*</, `<short_name>${project}<`);
    rh.answers.set("broken", { status: 200, body: valid("broken") });
    rh.answers.set("garbled", { status: 200, body: valid("garbled") });
    const retried = await refresher("b").refreshIfDue();
    expect(retried).toMatchObject({ failed: [], unchanged: 2 });
    expect(retried!.changed.sort()).toEqual(["broken", "garbled"]);
    rh.requests.length = 0;

    // Nothing failed: the next is a whole interval later.
    expect(await refresher("a").refreshIfDue()).toBeNull();
    clock.advance(6 * HOUR - 1);
    expect(await refresher("b").refreshIfDue()).toBeNull();
    expect(rh.requests).toHaveLength(0);
    clock.advance(1);
    expect(await refresher("b").refreshIfDue()).not.toBeNull();
    expect(rh.requests).toHaveLength(4);
  });

  test("asks conditionally: a 304 keeps the stored document and changes nothing", async () => {
    await refreshedOnce();
    clock.advance(6 * HOUR);
    const report = await refresher("b").refreshIfDue();
    expect(report).toMatchObject({ changed: [], unchanged: 2 });
    const byProject = Object.fromEntries(rh.requests.map((r) => [r.project, r]));
    expect(byProject.drupal!.ifNoneMatch).toBe('"v1"');
    expect(byProject.aaa_update_test!.ifModifiedSince).toBe("Tue, 01 Dec 2026 10:00:00 GMT");
    expect(fetches.filter((f) => f === "unchanged")).toHaveLength(2);
    expect(await h.store.releases.sitesToCompute(0, 10)).toEqual([]);
    expect(await storedDrupalVersions()).toEqual(["8.0.2", "8.0.1", "8.0.0"]);
  });

  test("a failed fetch (500, malformed, another project's document, unreachable) keeps the last good data", async () => {
    await refreshedOnce();
    for (const answer of [{ status: 500 }, { status: 200, body: "<project><short_name>drupal" }, { status: 200, body: "<project><short_name>views</short_name></project>" }]) {
      rh.answers.set("drupal", answer);
      clock.advance(6 * HOUR);
      const report = await refresher("a").refreshIfDue();
      expect(report!.failed.map((f) => f.project)).toContain("drupal");
      expect(await storedDrupalVersions()).toEqual(["8.0.2", "8.0.1", "8.0.0"]);
      expect(await h.store.releases.sitesToCompute(0, 10)).toEqual([]);
      expect(await drupalStatus()).toMatchObject({ status: "not_secure" });
    }
    clock.advance(6 * HOUR);
    const report = await refresher("c", "http://127.0.0.1:9/release-history").refreshIfDue();
    expect(report!.failed.map((f) => f.reason)).toEqual(Array(4).fill(expect.stringMatching(/^request failed/)));
    expect(await storedDrupalVersions()).toEqual(["8.0.2", "8.0.1", "8.0.0"]);
  });

  test("a new document replaces the old one and the statuses of its sites are computed again", async () => {
    await refreshedOnce();
    expect(await drupalStatus()).toMatchObject({ status: "not_secure" });
    rh.answers.set("drupal", { status: 200, body: fixtureText("drupal.sec.8.1.2"), etag: '"v2"' });
    clock.advance(6 * HOUR);
    const report = await refresher("b").refreshIfDue();
    expect(report!.changed).toEqual(["drupal"]);
    expect(await h.store.releases.sitesToCompute(0, 10)).toEqual([siteId]);
    await new UpdateStatuses(h.store.releases).computePending();
    expect(await drupalStatus()).toMatchObject({ status: "not_current", recommended: "8.1.2" });
  });

  test("a refresh longer than the lease renews it: no second instance starts while it fetches", async () => {
    await refreshedOnce();
    clock.advance(6 * HOUR);
    const takenByB: boolean[] = [];
    // One document at a time, each taking 2/3 of the lease: the second starts past the lease taken at the start.
    const slow = new ReleaseRefresher(h.store.releases, {
      baseUrl: rh.baseUrl, everyMs: 6 * HOUR, owner: "a", logger: silentLogger, clock: clock.now, concurrency: 1,
      fetch: (async (url: string, init?: RequestInit) => {
        clock.advance((LEASE_MS * 2) / 3);
        takenByB.push(await h.store.releases.takeLease(REFRESH_LEASE, "b", new Date(clock.now()), LEASE_MS, 6 * HOUR));
        return fetch(url, init);
      }) as typeof fetch,
    });
    const report = await slow.refreshIfDue();
    expect(report!.fetched).toBe(4);
    expect(takenByB).toEqual([false, false, false, false]);
    // Done: the next refresh is due an interval after it finished, not before.
    expect(await refresher("b").refreshIfDue()).toBeNull();
  });

  test("a server that answers slowly (no headers, or a body that stalls) fails that project within the timeout", async () => {
    await refreshedOnce();
    clock.advance(6 * HOUR);
    const stalls: ReturnType<typeof setTimeout>[] = [];
    const stalling = Bun.serve({
      port: 0,
      fetch(req) {
        if (req.url.includes("/drupal/")) return new Promise<Response>(() => {}); // never answers
        const body = new ReadableStream({
          start(controller) {
            controller.enqueue(new TextEncoder().encode("<project><short_name>"));
            stalls.push(setTimeout(() => controller.close(), 60_000)); // the rest never comes in time
          },
        });
        return new Response(body, { headers: { "content-type": "application/xml" } });
      },
    });
    try {
      const started = performance.now();
      const report = await new ReleaseRefresher(h.store.releases, {
        baseUrl: `http://127.0.0.1:${stalling.port}/release-history`, everyMs: 6 * HOUR, owner: "a", logger: silentLogger,
        clock: clock.now, fetchTimeoutMs: 300,
      }).refreshIfDue();
      expect(performance.now() - started).toBeLessThan(10_000);
      expect(report!.failed).toHaveLength(4);
      expect(report!.changed).toEqual([]);
      expect(await storedDrupalVersions()).toEqual(["8.0.2", "8.0.1", "8.0.0"]);
    } finally {
      stalls.forEach(clearTimeout);
      stalling.stop(true);
    }
  });
});
