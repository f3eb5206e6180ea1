// A site judged before whose syncs since only added contrib modules or set
// their versions has only those modules' projects judged again (and drupal
// when the core version changed);
// anything else judges it whole. Either way the stored statuses are the ones
// a whole judgement gives: checked over random runs of syncs, on both dialects.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { ChangedSites, ReleaseStore } from "../../src/store/releases/types";
import { createApp } from "../../src/app";
import { silentLogger } from "../../src/log";
import { readChanges } from "../../src/store/change-sets";
import { UpdateStatuses } from "../../src/updates/statuses";
import { createHarness, mod, payload, testConfig, type Harness, type ModuleInput, type SeededSite } from "../support/harness";
import { postSync } from "../support/http";
import { fixture } from "../support/releases";
import { sql } from "../support/sql";
import { describeEachDialect } from "../support/stores";
import { nextMillisecond } from "../support/until";

/** A release store that counts how changedInventories split the sites. */
function counting(releases: ReleaseStore) {
  const seen = { whole: 0, partial: 0 };
  const store: ReleaseStore = Object.create(releases);
  store.changedInventories = async (siteIds) => {
    const split: ChangedSites = await releases.changedInventories(siteIds);
    seen.whole += split.whole.length;
    seen.partial += split.partial.length;
    return split;
  };
  return { store, seen };
}

/** A small PRNG with a seed: the same run every time. */
function random(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describeEachDialect("update statuses judged in part", (dialect) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(dialect);
  });
  afterAll(() => h.close());

  const info = (core: string) => ({ drupal_info: { core_version: core, php_version: "8.3.2", ip_address: "192.0.2.1" } });
  async function sync(site: SeededSite, modules: ModuleInput[], core = "8.0.0") {
    await nextMillisecond(); // each sync later than the computation before it
    expect((await h.sync(payload(site, modules, { ...info(core), full_sync: true }), site.id)).status).toBe(200);
  }
  async function rows(siteId: number) {
    return sql<Record<string, unknown>>(h.store, `
      SELECT project, installed_version, status, reason, recommended, latest_version, security_updates, also_available, links, values_hash
      FROM site_project_updates WHERE site_id = ${siteId} ORDER BY project`);
  }
  const versionOf = async (siteId: number, project: string) =>
    (await rows(siteId)).find((r) => r.project === project)?.installed_version;

  test("a version set: only its project is judged again; a module's details changed: the site is judged whole", async () => {
    const site = await h.freshSite("in-part");
    const modules = (token: string, pathautoDescription = "URL aliases") => [
      mod("node", { module_type: "core", version: "8.0.0" }),
      mod("token", { version: token }),
      mod("pathauto", { version: "8.x-1.11", description: pathautoDescription }),
    ];
    await sync(site, modules("8.x-1.10"));
    const { store, seen } = counting(h.store.releases);
    const statuses = new UpdateStatuses(store);
    await statuses.computePending();
    expect(await versionOf(site.id, "pathauto")).toBe("8.x-1.11");

    // A row planted behind the computation's back shows whether its project was judged again.
    const plant = () => sql(h.store, `UPDATE site_project_updates SET installed_version = 'planted', values_hash = 1 WHERE site_id = ${site.id} AND project = 'pathauto'`);
    await plant();
    await sync(site, modules("8.x-1.11"));
    await statuses.computePending();
    expect(await versionOf(site.id, "token")).toBe("8.x-1.11");
    expect(await versionOf(site.id, "pathauto")).toBe("planted");
    expect(seen.partial).toBeGreaterThan(0);

    // pathauto's description changed (no change set records it), token's version with it.
    await sync(site, modules("8.x-1.12", "Aliases for paths"));
    await statuses.computePending();
    expect(await versionOf(site.id, "token")).toBe("8.x-1.12");
    expect(await versionOf(site.id, "pathauto")).toBe("8.x-1.11");

    // A removal judges it whole too: pathauto's row goes.
    await plant();
    await sync(site, modules("8.x-1.12").filter((m) => m.machine_name !== "pathauto"));
    await statuses.computePending();
    expect((await rows(site.id)).map((r) => r.project)).toEqual(["drupal", "token"]);
  });

  test("a site judged in part writes the row that changed and leaves the one judged the same as it is", async () => {
    const site = await h.freshSite("in-part-same");
    const modules = (token: string) => [mod("node", { module_type: "core", version: "8.0.0" }), mod("token", { version: token })];
    await sync(site, modules("8.x-1.10"));
    await h.store.releases.saveHistories([{ history: fixture("drupal.8.1.0") }], new Date());
    const { store, seen } = counting(h.store.releases);
    const statuses = new UpdateStatuses(store);
    await statuses.computePending();
    // Changed behind the computation's back, its hash kept: a write of drupal's row would put its reason back.
    await sql(h.store, `UPDATE site_project_updates SET reason = 'untouched' WHERE site_id = ${site.id} AND project = 'drupal'`);
    await sync(site, modules("8.x-1.11"));
    const partialBefore = seen.partial;
    await statuses.computePending();
    expect(seen.partial).toBe(partialBefore + 1);
    expect(await versionOf(site.id, "token")).toBe("8.x-1.11");
    expect((await rows(site.id)).find((r) => r.project === "drupal")).toMatchObject({ installed_version: "8.0.0", reason: "untouched" });
  });

  test("in part, drupal is judged again only when the core version changed; a PHP version alone judges nothing and moves the mark", async () => {
    const site = await h.freshSite("in-part-drupal");
    const modules = (token: string) => [mod("node", { module_type: "core", version: "8.0.0" }), mod("token", { version: token })];
    await sync(site, modules("8.x-1.10"));
    // What each judgement in part writes, as replaceSiteUpdates is handed it.
    const written: { only: readonly string[] | undefined; projects: string[] }[] = [];
    const store: ReleaseStore = Object.create(h.store.releases);
    store.replaceSiteUpdates = async (sites, now) => {
      for (const s of sites) if (s.siteId === site.id) written.push({ only: s.only, projects: s.projects.map((p) => p.project) });
      return h.store.releases.replaceSiteUpdates(sites, now);
    };
    const statuses = new UpdateStatuses(store);
    await statuses.computePending();
    written.length = 0;

    await sync(site, modules("8.x-1.11"));
    expect((await h.store.releases.changedInventories([site.id])).partial.map((p) => p.judgesCore)).toEqual([false]);
    await statuses.computePending();
    await sync(site, modules("8.x-1.11"), "8.1.0");
    expect((await h.store.releases.changedInventories([site.id])).partial.map((p) => p.judgesCore)).toEqual([true]);
    await statuses.computePending();
    // The PHP version alone: nothing to judge, the mark moves all the same (the site is no longer due).
    await nextMillisecond();
    const php = payload(site, modules("8.x-1.11"), { drupal_info: { core_version: "8.1.0", php_version: "8.4.0", ip_address: "192.0.2.1" }, full_sync: true });
    expect((await h.sync(php, site.id)).status).toBe(200);
    expect(await h.store.releases.sitesToCompute(site.id - 1, 10)).toContain(site.id);
    await statuses.computePending();
    expect(written).toEqual([
      { only: ["token"], projects: ["token"] },
      { only: ["drupal"], projects: ["drupal"] },
      { only: [], projects: [] },
    ]);
    expect(await versionOf(site.id, "drupal")).toBe("8.1.0");
    expect(await versionOf(site.id, "token")).toBe("8.x-1.11");
    expect(await h.store.releases.sitesToCompute(site.id - 1, 10)).not.toContain(site.id);
  });

  test("a core release (core modules' versions and the core version set) is judged in part without looking a module up", async () => {
    const site = await h.freshSite("in-part-release");
    const modules = (core: string, token = "8.x-1.10") => [
      mod("node", { module_type: "core", version: core }), mod("system", { module_type: "core", version: core }),
      mod("token", { version: token }), mod("site_tweaks", { module_type: "custom", version: core }),
    ];
    await sync(site, modules("8.0.0"), "8.0.0");
    await h.store.releases.saveHistories([{ history: fixture("drupal.8.1.0") }], new Date());
    const statuses = new UpdateStatuses(h.store.releases);
    await statuses.computePending();
    await sync(site, modules("8.1.0"), "8.1.0");
    // The core and custom modules' changes say they are no contrib module's (nc), the contrib one's does not.
    const [set] = await sql<{ changes: string }>(h.store, `SELECT changes FROM site_change_sets WHERE site_id = ${site.id} ORDER BY id DESC LIMIT 1`);
    const recorded = readChanges(set!.changes).filter((c) => c.k === "version_changed");
    expect(recorded.map((c) => c.nc ?? 0).sort()).toEqual([1, 1, 1]);
    const split = await h.store.releases.changedInventories([site.id]);
    expect(split.partial.map((p) => [p.siteId, p.coreVersion, p.modules])).toEqual([[site.id, "8.1.0", []]]);
    await statuses.computePending();
    expect(await versionOf(site.id, "drupal")).toBe("8.1.0");

    // With a contrib version in the same sync, that module is looked up.
    await sync(site, modules("8.1.0", "8.x-1.11"), "8.1.0");
    const withContrib = await h.store.releases.changedInventories([site.id]);
    expect(withContrib.partial.map((p) => p.modules.map((m) => [m.machineName, m.version]))).toEqual([[["token", "8.x-1.11"]]]);
  });

  test("a mark cleared while a site is judged in part stays cleared: the site is judged whole next", async () => {
    const site = await h.freshSite("in-part-race");
    const modules = (token: string) => [mod("node", { module_type: "core", version: "8.0.0" }), mod("token", { version: token })];
    await sync(site, modules("8.x-1.10"));
    const statuses = new UpdateStatuses(h.store.releases);
    await statuses.computePending();
    await sync(site, modules("8.x-1.11"));

    // Release data saved just after the batch read the site: its mark is cleared (saveHistories does so).
    const racing: ReleaseStore = Object.create(h.store.releases);
    racing.changedInventories = async (siteIds) => {
      const split = await h.store.releases.changedInventories(siteIds);
      await h.store.releases.invalidateSites([site.id]);
      return split;
    };
    expect((await h.store.releases.changedInventories([site.id])).partial.map((s) => s.siteId)).toEqual([site.id]);
    await new UpdateStatuses(racing).computeChanged([site.id]);
    expect(await versionOf(site.id, "token")).toBe("8.x-1.11");

    expect(await h.store.releases.sitesToCompute(site.id - 1, 10)).toContain(site.id);
    expect((await h.store.releases.changedInventories([site.id])).whole.map((s) => s.siteId)).toEqual([site.id]);
  });

  /** Runs `run` with this process's clock reading `now()` (another instance's clock, a frozen one). */
  async function withClock<T>(now: () => number, run: () => Promise<T>): Promise<T> {
    const Real = Date;
    globalThis.Date = class extends Real {
      constructor(...args: unknown[]) {
        if (args.length === 0) super(now());
        else super(...(args as [number]));
      }
      static override now() { return now(); }
    } as DateConstructor;
    try {
      return await run();
    } finally {
      globalThis.Date = Real;
    }
  }

  const withPathauto = (token: string, project: string | null = null) => [
    mod("node", { module_type: "core", version: "8.0.0" }), mod("token", { version: token }), mod("pathauto", { version: "8.x-1.11", project }),
  ];
  const withoutPathauto = (token: string) => withPathauto(token).filter((m) => m.machine_name !== "pathauto");
  /** What judging as the background thread does stored, and what judging the site whole stores. */
  async function inPartThenWhole(siteId: number) {
    const statuses = new UpdateStatuses(h.store.releases);
    await statuses.computePending();
    const inPart = await rows(siteId);
    await statuses.computeSites([siteId]);
    return { inPart, whole: await rows(siteId) };
  }

  test("a removal through an instance whose clock lags behind is not lost when a drift follows", async () => {
    const site = await h.freshSite("in-part-skew");
    await sync(site, withPathauto("8.x-1.1"));
    await new UpdateStatuses(h.store.releases).computePending();
    // Its change set still comes after the site's last sync.
    const realNow = Date.now;
    await withClock(() => realNow() - 2000, () => sync(site, withoutPathauto("8.x-1.1")));
    await sync(site, withoutPathauto("8.x-1.2"));
    const { inPart, whole } = await inPartThenWhole(site.id);
    expect(inPart.map((r) => r.project)).toEqual(["drupal", "token"]);
    expect(inPart).toEqual(whole);
  });

  test("syncs in the very millisecond of the judgement that read the site are judged next, in part or whole as they need", async () => {
    const site = await h.freshSite("in-part-same-ms");
    const frozen = Date.now() + 60_000; // later than anything stored
    const statuses = new UpdateStatuses(h.store.releases);
    // No waiting for the next millisecond here: there is none.
    const syncNow = async (modules: ModuleInput[]) =>
      expect((await h.sync(payload(site, modules, { ...info("8.0.0"), full_sync: true }), site.id)).status).toBe(200);
    const [inPart, whole] = await withClock(() => frozen, async () => {
      await syncNow(withPathauto("8.x-1.1"));
      await statuses.computePending();
      await syncNow(withoutPathauto("8.x-1.1")); // a removal: whole
      expect((await h.store.releases.changedInventories([site.id])).whole.map((s) => s.siteId)).toEqual([site.id]);
      await statuses.computePending();
      expect((await rows(site.id)).map((r) => r.project)).toEqual(["drupal", "token"]);
      await syncNow(withoutPathauto("8.x-1.2")); // a drift: in part
      expect((await h.store.releases.changedInventories([site.id])).partial.map((p) => p.siteId)).toEqual([site.id]);
      await statuses.computePending();
      const judgedInPart = await rows(site.id);
      await statuses.computeSites([site.id]);
      return [judgedInPart, await rows(site.id)];
    });
    expect((inPart ?? []).find((r) => r.project === "token")?.installed_version).toBe("8.x-1.2");
    expect(inPart).toEqual(whole);
  });

  /** `modules` as a background sync whose task applies its one batch (of 3), then fails. */
  async function failedAfterOneBatch(site: SeededSite, modules: ModuleInput[]) {
    const background = createApp({ config: testConfig({ backgroundThreshold: 2, batchSize: 100 }), store: h.store, logger: silentLogger });
    await nextMillisecond(); // later than the computation before it
    const res = await postSync(background, site.id, { body: payload(site, modules, { ...info("8.0.0"), full_sync: true }), token: h.world.token });
    expect(res.status).toBe(202);
    const taskId = ((await res.json()) as { task_id: string }).task_id;
    expect(await h.store.tasks.claimTask(taskId, "worker", 30_000)).toBe(true);
    expect(await h.store.tasks.applyTaskBatch(taskId, "worker", 100, 30_000)).toMatchObject({ applied: 3 });
    await h.store.tasks.failTask(taskId, "worker", "given up");
  }

  test("details a background sync changed are judged even when the task fails after that batch", async () => {
    const site = await h.freshSite("in-part-task");
    await sync(site, withPathauto("8.x-1.1"));
    await new UpdateStatuses(h.store.releases).computePending();
    await failedAfterOneBatch(site, withPathauto("8.x-1.1", "ctools"));
    await new UpdateStatuses(h.store.releases).computePending();
    await sync(site, withPathauto("8.x-1.2", "ctools"));
    const { inPart, whole } = await inPartThenWhole(site.id);
    expect(inPart.map((r) => r.project)).toEqual(["ctools", "drupal", "token"]);
    expect(inPart).toEqual(whole);
  });

  test("versions a background sync set are judged even when the task fails after that batch", async () => {
    const site = await h.freshSite("in-part-task-versions");
    await sync(site, withPathauto("8.x-1.1"));
    await new UpdateStatuses(h.store.releases).computePending();
    expect(await versionOf(site.id, "token")).toBe("8.x-1.1");
    await failedAfterOneBatch(site, withPathauto("8.x-1.2"));
    // The site's last sync is still the one before the task: only the batch says it changed.
    await new UpdateStatuses(h.store.releases).computePending();
    expect(await versionOf(site.id, "token")).toBe("8.x-1.2");
  });

  // Seeds 1 to 80 of the first form of this test (judged whole after every step) passed on both
  // dialects; seed 10 found the order dependence saysVersionBefore removed.
  for (const seed of [1, 2, 3, 10]) {
    test(`random syncs (seed ${seed}): a site judged in part holds what a twin judged whole holds, step after step`, async () => {
      // Two sites get the same syncs: one judged as the background thread does, the other whole.
      const inPart = await h.freshSite("in-part-random");
      const whole = await h.freshSite("whole-random");
      const next = random(seed);
      const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
      const versions = ["8.x-1.1", "8.x-1.2", "2.0.0", "3.1.0-beta1", null];
      // Modules named after their project, submodules of another, core and custom ones.
      const pool: ModuleInput[] = [
        mod("token"), mod("pathauto"), mod("ctools"), mod("ctools_views", { project: "ctools" }),
        mod("admin_toolbar"), mod("admin_toolbar_tools", { project: "admin_toolbar" }), mod("webform"),
        mod("node", { module_type: "core", version: "8.0.0" }), mod("system", { module_type: "core", version: "8.0.0" }),
        mod("site_tweaks", { module_type: "custom", version: null }),
      ];
      const held = new Map(pool.slice(0, 5).map((m) => [m.machine_name, { ...m }]));
      held.set("node", { ...pool[7]! });
      let core = "8.0.0";
      const { store, seen } = counting(h.store.releases);
      const statuses = new UpdateStatuses(store);
      const histories = ["drupal.8.1.0", "drupal.sec.8.1.2", "drupal.9.0.0"];

      for (let step = 0; step < 30; step++) {
        // Mostly versions set (judged in part), now and then anything else.
        const roll = next();
        const present = [...held.values()];
        const somePresent = pick(present);
        if (roll < 0.55) {
          for (const m of present.filter(() => next() < 0.4)) if (m.module_type !== "custom") m.version = pick(versions);
        } else if (roll < 0.65) {
          const absent = pool.filter((m) => !held.has(m.machine_name));
          if (absent.length > 0) {
            const m = { ...pick(absent) };
            held.set(m.machine_name, m);
          }
        } else if (roll < 0.72) {
          if (held.size > 1) held.delete(somePresent.machine_name);
        } else if (roll < 0.79) {
          somePresent.project = pick([null, "ctools", "admin_toolbar", "webform", "not a project!"]);
        } else if (roll < 0.84) {
          if (somePresent.module_type !== "core") somePresent.module_type = somePresent.module_type === "custom" ? "contrib" : "custom";
        } else if (roll < 0.88) {
          somePresent.enabled = !somePresent.enabled;
        } else if (roll < 0.92) {
          core = pick(["8.0.0", "8.1.0", "10.3.8"]);
        } else if (roll < 0.96) {
          somePresent.description = pick(["one", "two", null]);
        } else {
          await h.store.releases.saveHistories([{ history: fixture(pick(histories)) }], new Date());
        }
        for (const site of [inPart, whole]) await sync(site, [...held.values()], core);
        await statuses.computeChanged([inPart.id]);
        await statuses.computeSites([whole.id]);
        expect({ step, rows: await rows(inPart.id) }).toEqual({ step, rows: await rows(whole.id) });
      }
      // Both ways were taken.
      expect(seen.partial).toBeGreaterThan(0);
      expect(seen.whole).toBeGreaterThan(0);
    });
  }
});
