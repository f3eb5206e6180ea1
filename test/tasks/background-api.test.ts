// Background syncs (issue 4) through the app, on every dialect: the 200/202
// threshold, the task status route, what a completed, resumed or failed task
// leaves on the site, ordering with synchronous syncs, and purging.
// Tasks are run in-process by a TaskRunner of the test's own.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createApp, type App } from "../../src/app";
import { silentLogger } from "../../src/log";
import type { StagedEntry } from "../../src/store/task-types";
import { SiteBusyError, type Store } from "../../src/store/types";
import { TaskMaintenance } from "../../src/tasks/maintenance";
import { MemoryJobQueue } from "../../src/tasks/queue";
import { TaskRunner } from "../../src/tasks/runner";
import { createHarness, mod, payload, testConfig, type Harness, type SeededSite } from "../support/harness";
import { postSync } from "../support/http";
import { payload as benchPayload, type ModuleEntry } from "../support/payload";
import { describeEachDialect } from "../support/stores";
import { until } from "../support/until";
import { count, sql } from "../support/sql";
import { allSiteModules, comparable, expectedTuples, storedTuples, taskRows } from "./support";

/**
 * `store` as the app sees it, counting the SiteBusyError its calls throw: a
 * synchronous sync finding the site's earlier background syncs unfinished.
 */
function busyCounting(store: Store): { store: Store; busy: () => number } {
  let busy = 0;
  const watched = new Proxy(store, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        const result: unknown = value.apply(target, args);
        if (!(result instanceof Promise)) return result;
        return result.catch((err: unknown) => {
          if (err instanceof SiteBusyError) busy++;
          throw err;
        });
      };
    },
  });
  return { store: watched, busy: () => busy };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describeEachDialect("background syncs through the API", (dialect) => {
  let h: Harness;
  /** The same store behind an app that applies everything at once: what the synchronous path reports. */
  let twin: App;
  let runner: TaskRunner;

  beforeAll(async () => {
    h = await createHarness(dialect, { config: { backgroundThreshold: 500, batchSize: 100 } });
    twin = createApp({ config: testConfig(), store: h.store, logger: silentLogger });
    runner = new TaskRunner(h.store.tasks, { owner: "test", batchSize: 100, leaseMs: 30_000, logger: silentLogger });
  });
  afterAll(() => h.close());

  const freshSite = () => h.freshSite("bg");
  const big = (count: number, site: SeededSite, opts: { fullSync?: boolean } = {}) =>
    benchPayload(count, { url: site.url, token: site.token, fullSync: opts.fullSync });
  const status = (taskId: string, token: string | null = h.world.token) => h.request("GET", `/api/v1/tasks/${taskId}/status`, { token });
  const statusJson = async (taskId: string) => {
    const res = await status(taskId);
    expect(res.status).toBe(200);
    return res.json();
  };
  const stored = async (site: SeededSite) => storedTuples(await allSiteModules(h.store, site.id));

  /** POSTs a body either whole (with Content-Length) or streamed in 4 KiB chunks (no Content-Length). */
  function post(site: SeededSite, body: unknown, mode: "whole" | "streamed" = "whole", app: App = h.app): Promise<Response> {
    const bytes = new TextEncoder().encode(JSON.stringify(body));
    const headers: Record<string, string> = { "content-type": "application/json" };
    let raw: RequestInit["body"];
    if (mode === "whole") {
      headers["content-length"] = String(bytes.byteLength);
      raw = bytes;
    } else {
      let at = 0;
      raw = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (at >= bytes.byteLength) return controller.close();
          controller.enqueue(bytes.slice(at, at + 4096));
          at += 4096;
        },
      });
    }
    return postSync(app, site.id, { token: h.world.token, raw, headers });
  }

  /** Until the lease of `taskId` has lapsed: the store offers the task to workers again. */
  const leaseLapsed = (taskId: string) =>
    until(async () => (await h.store.tasks.runnableTaskIds(1000)).includes(taskId), 5000, `the lease of task ${taskId} to lapse`, 5);

  async function accepted(res: Response, total: number): Promise<string> {
    const json = await res.json();
    expect({ code: res.status, json }).toEqual({
      code: 202,
      json: {
        status: "accepted",
        task_id: expect.stringMatching(UUID),
        message: `Sync of ${total} modules queued for processing`,
        status_url: `/api/v1/tasks/${json.task_id}/status`,
      },
    });
    return json.task_id;
  }

  for (const mode of ["whole", "streamed"] as const) {
    test(`${mode} body: 500 valid entries apply at once (200), 501 are queued (202); only valid entries count`, async () => {
      const at500 = await freshSite();
      const res500 = await post(at500, big(500, at500), mode);
      expect(res500.status).toBe(200);
      expect(await res500.json()).toMatchObject({ modules_processed: 500, modules_created: 500, errors: [] });

      const at501 = await freshSite();
      await accepted(await post(at501, big(501, at501), mode), 501);

      // 501 entries of which one is invalid and one repeats another: 499 valid, applied at once.
      const mixed = await freshSite();
      const body = big(501, mixed);
      body.modules[7] = { ...body.modules[7]!, module_type: "theme" as never };
      body.modules[400] = { ...body.modules[3]! };
      const res = await post(mixed, body, mode);
      expect(res.status).toBe(200);
      const json = await res.json();
      expect(json.modules_created).toBe(499);
      expect(json.errors.map((e: { index: number }) => e.index)).toEqual([7, 400]);
      expect(await taskRows(h.store, mixed.id)).toEqual({ tasks: 0, entries: 0 });

      // 502 entries, one invalid: 501 valid, queued.
      const over = await freshSite();
      const body502 = big(502, over);
      body502.modules[0] = { ...body502.modules[0]!, enabled: "yes" as never };
      const overId = await accepted(await post(over, body502, mode), 501);
      expect(await runner.run(overId)).toBe("completed");
      const done = await statusJson(overId);
      expect(done.result).toMatchObject({ modules_processed: 501, modules_created: 501 });
      expect(done.result.errors).toEqual([{ index: 0, machine_name: body502.modules[0]!.machine_name, detail: expect.stringContaining("enabled") }]);
      expect(await stored(over)).toEqual(expectedTuples(body502.modules.slice(1)));
    });
  }

  test("a task is pending right after acceptance; completed, it reports what the synchronous path reports and leaves the same modules", async () => {
    const site = await freshSite();
    const other = await freshSite();
    const body = big(700, site, { fullSync: true });
    // A start both sites share: 20 modules at another version (updates), 30 identical (unchanged), 2 absent from the body (removed).
    const initial = [
      ...body.modules.slice(0, 20).map((m) => ({ ...m, version: "9.9.9" })),
      ...body.modules.slice(20, 50),
      mod("legacy_one"), mod("legacy_two"),
    ];
    for (const s of [site, other]) expect((await h.sync(payload(s, initial), s.id)).status).toBe(200);

    // Skipped entries: invalid (kept by the full sync when the site has them), and repeats.
    const original5 = body.modules[5]!;
    body.modules[5] = { ...original5, module_type: "theme" as never };
    body.modules[123] = { ...body.modules[123]!, machine_name: "Bad_Name" };
    body.modules[300] = { ...body.modules[10]!, version: "7.0.0" };
    body.modules[650] = { ...body.modules[650]!, machine_name: "Bad_Name" };
    const validEntries = body.modules.filter((_, i) => ![5, 123, 300, 650].includes(i));

    const taskId = await accepted(await h.sync(body, site.id), 696);
    expect(await statusJson(taskId)).toEqual({ status: "pending", message: "Task is pending execution" });
    const task = await h.store.tasks.getTask(taskId);
    expect(task).toMatchObject({ siteId: site.id, status: "pending", total: 696, current: 0 });

    const synchronous = await post(other, { ...body, site: { ...body.site, url: other.url, token: other.token } }, "whole", twin);
    expect(synchronous.status).toBe(200);
    const expectedResult = await synchronous.json();
    expect(expectedResult).toMatchObject({ modules_processed: 696, modules_created: 647, modules_updated: 19, modules_unchanged: 30, modules_removed: 2 });

    const before = Math.floor(Date.now() / 1000);
    expect(await runner.run(taskId)).toBe("completed");
    const done = await statusJson(taskId);
    expect(Object.keys(done).sort()).toEqual(["result", "status"]);
    expect(done.status).toBe("completed");
    expect(comparable(done.result)).toEqual(comparable(expectedResult));
    expect(done.result.site_id).toBe(site.id);
    expect(done.result.completed_at).toBeGreaterThanOrEqual(before);
    expect(done.result.completed_at).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + 1);
    expect(done.result.errors).toEqual([
      { index: 5, machine_name: original5.machine_name, detail: expect.stringContaining("module_type") },
      { index: 123, machine_name: "Bad_Name", detail: expect.stringContaining("machine_name") },
      { index: 300, machine_name: body.modules[10]!.machine_name, detail: expect.stringContaining("Duplicate") },
      { index: 650, machine_name: "Bad_Name", detail: expect.stringContaining("Duplicate") },
    ]);

    // Both sites hold exactly the body's valid entries, plus the module whose entry was skipped (kept as it was).
    const expected = expectedTuples([...validEntries, initial[5]!]);
    expect(await stored(site)).toEqual(expected);
    expect(await stored(other)).toEqual(expected);
    // The site's details come from the body, as with a synchronous sync.
    const summary = await h.store.getSiteSummary(site.id);
    expect(summary).toMatchObject({ name: body.site.name, coreVersion: "10.3.8", phpVersion: "8.3.2", ipAddress: "192.168.1.100", moduleCount: 697 });
    expect(summary!.lastSyncedAt).not.toBeNull();
  });

  /** A site holding legacy_a and legacy_b, and a 600-module full sync of it accepted, then claimed by `owner`. */
  async function claimedFullSync(owner: string, leaseMs: number) {
    const site = await freshSite();
    expect((await h.sync(payload(site, [mod("legacy_a"), mod("legacy_b")]), site.id)).status).toBe(200);
    const body = big(600, site, { fullSync: true });
    const taskId = await accepted(await h.sync(body, site.id), 600);
    expect(await h.store.tasks.claimTask(taskId, owner, leaseMs)).toBe(true);
    return { site, body, taskId };
  }

  test("progress shows batch by batch; a full sync removes absent modules only when the task completes", async () => {
    const { site, body, taskId } = await claimedFullSync("manual", 30_000);
    expect(await statusJson(taskId)).toEqual({
      status: "in_progress", progress: { current: 0, total: 600, status: "Processed 0/600 modules" },
    });
    for (let batch = 1; batch <= 6; batch++) {
      const outcome = await h.store.tasks.applyTaskBatch(taskId, "manual", 100, 30_000);
      expect(outcome).toMatchObject({ applied: 100, current: batch * 100, total: 600 });
      expect(await statusJson(taskId)).toEqual({
        status: "in_progress", progress: { current: batch * 100, total: 600, status: `Processed ${batch * 100}/600 modules` },
      });
      const names = (await allSiteModules(h.store, site.id)).map((m) => m.machineName);
      expect(names).toHaveLength(batch * 100 + 2);
      expect(names).toEqual(expect.arrayContaining(["legacy_a", "legacy_b"]));
    }
    expect(await h.store.tasks.applyTaskBatch(taskId, "manual", 100, 30_000)).toMatchObject({ applied: 0, current: 600, total: 600 });
    expect((await allSiteModules(h.store, site.id)).length).toBe(602);

    expect(await h.store.tasks.completeTask(taskId, "manual")).toBe(true);
    const done = await statusJson(taskId);
    expect(done.status).toBe("completed");
    expect(done.result).toMatchObject({
      site_id: site.id, modules_processed: 600, modules_created: 600, modules_updated: 0, modules_unchanged: 0, modules_removed: 2,
      errors: [], errors_total: 0, message: "Successfully synced 600 modules",
    });
    expect(await stored(site)).toEqual(expectedTuples(body.modules));
  });

  test("a background apply collects garbage by the entries it applied: once at the pacing's first mark, never short of it", async () => {
    for (const [from, expected] of [[600, 1], [601, 0]] as const) {
      const site = await freshSite();
      const taskId = await accepted(await post(site, big(600, site)), 600);
      let collections = 0;
      const paced = new TaskRunner(h.store.tasks, {
        owner: "test-paced", batchSize: 100, leaseMs: 30_000, logger: silentLogger,
        collections: { pacing: { from, every: 1_000_000 }, collect: () => void collections++ },
      });
      expect(await paced.run(taskId)).toBe("completed");
      expect({ from, collections }).toEqual({ from, collections: expected });
    }
  });

  test("a task taken over after its lease lapsed continues after the last committed batch, counting every module once", async () => {
    const site = await freshSite();
    const body = big(650, site);
    const taskId = await accepted(await h.sync(body, site.id), 650);
    // A worker that applies two batches, then stops renewing its lease (as a dead one would).
    expect(await h.store.tasks.claimTask(taskId, "dead-worker", 1)).toBe(true);
    expect(await h.store.tasks.applyTaskBatch(taskId, "dead-worker", 100, 1)).toMatchObject({ applied: 100 });
    expect(await h.store.tasks.applyTaskBatch(taskId, "dead-worker", 100, 1)).toMatchObject({ applied: 100, current: 200 });
    await leaseLapsed(taskId);

    expect(await runner.run(taskId)).toBe("completed");
    // The old worker's lease is gone: whatever it tries now changes nothing.
    expect(await h.store.tasks.applyTaskBatch(taskId, "dead-worker", 100, 30_000)).toBeNull();
    expect(await h.store.tasks.completeTask(taskId, "dead-worker")).toBe(false);

    const done = await statusJson(taskId);
    expect(done.result).toMatchObject({ modules_processed: 650, modules_created: 650, modules_updated: 0, modules_unchanged: 0, errors: [] });
    expect(await count(h.store, `SELECT attempts AS n FROM tasks WHERE id = '${taskId}'`)).toBe(2);
    expect(await stored(site)).toEqual(expectedTuples(body.modules));
  });

  test("status: 404 for unknown and malformed ids, for another organization's member, another site's token and an upload still arriving; the site's own token reads it; 401 without a token", async () => {
    const site = await freshSite();
    const taskId = await accepted(await h.sync(big(501, site), site.id), 501);
    expect((await status(taskId)).status).toBe(200);

    for (const id of [crypto.randomUUID(), "not-a-uuid", "123", `${taskId}x`, taskId.toUpperCase(), taskId.replace(/-/g, "")]) {
      const res = await status(id);
      expect({ id, code: res.status, body: await res.json() }).toEqual({ id, code: 404, body: expect.objectContaining({ detail: "Task not found" }) });
    }
    const outsider = await status(taskId, h.world.outsiderToken);
    expect(outsider.status).toBe(404);
    expect(await outsider.json()).toMatchObject({ status: 404, code: "task_not_found", detail: "Task not found" });

    const receiving = await h.store.tasks.beginUpload(site.id);
    expect((await status(receiving)).status).toBe(404);
    await h.store.tasks.abortUpload(receiving);

    // The site's own token (the bearer of a site-token sync) reads its tasks; another site's token does not.
    expect(await (await status(taskId, site.token)).json()).toMatchObject({ status: expect.stringMatching(/^(pending|in_progress|completed)$/) });
    const neighbour = await freshSite();
    const other = await status(taskId, neighbour.token);
    expect(other.status).toBe(404);
    expect(await other.json()).toMatchObject({ code: "task_not_found" });

    const anonymous = await status(taskId, null);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("www-authenticate")).toBe("Bearer");
    expect((await status(taskId, "api_not-a-real-token")).status).toBe(401);
  });

  test("a batch failing on a database error is retried, then the task fails saying how far it got (the database's message only in the log), and removes nothing", async () => {
    const { site, taskId } = await claimedFullSync("first-worker", 1);
    expect(await h.store.tasks.applyTaskBatch(taskId, "first-worker", 100, 1)).toMatchObject({ applied: 100 });
    expect(await h.store.tasks.applyTaskBatch(taskId, "first-worker", 100, 1)).toMatchObject({ current: 200 });

    // A real failure underneath: this site's module rows can no longer be inserted.
    const trigger = `fail_site_${site.id}`;
    if (dialect === "sqlite") {
      await sql(h.store, `CREATE TRIGGER ${trigger} BEFORE INSERT ON site_module_states WHEN NEW.site_id = ${site.id} BEGIN SELECT RAISE(ABORT, 'injected failure'); END`);
    } else {
      await sql(h.store, "CREATE OR REPLACE FUNCTION modsync_test_fail() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$");
      await sql(h.store, `CREATE TRIGGER ${trigger} BEFORE INSERT ON site_module_states FOR EACH ROW WHEN (NEW.site_id = ${site.id}) EXECUTE FUNCTION modsync_test_fail()`);
    }
    const attempts: string[] = [];
    const failures: Record<string, unknown>[] = [];
    const failing = new TaskRunner(h.store.tasks, {
      owner: "test-failing", batchSize: 100, leaseMs: 30_000, backoffMs: [5, 5, 5],
      logger: {
        ...silentLogger,
        warn: (msg) => void attempts.push(msg),
        error: (msg, fields) => void (attempts.push(msg), failures.push(fields ?? {})),
      },
    });
    try {
      await leaseLapsed(taskId); // the first worker's
      expect(await failing.run(taskId)).toBe("failed");
    } finally {
      await sql(h.store, dialect === "sqlite" ? `DROP TRIGGER ${trigger}` : `DROP TRIGGER ${trigger} ON site_module_states`);
    }
    // Two retries, then the failure.
    expect(attempts).toEqual(["background sync batch failed; retrying", "background sync batch failed; retrying", "background sync failed"]);

    const res = await statusJson(taskId);
    expect(Object.keys(res).sort()).toEqual(["error", "status"]);
    expect(res.status).toBe("failed");
    expect(res.error).toBe(`The sync could not be applied (stopped after 200 of 600 modules); the server logged the details (task ${taskId})`);
    // The database's own text is in the log, with the task id, and nowhere in the answer.
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ task_id: taskId, applied: "200 of 600" });
    expect(JSON.stringify(failures[0])).toContain("injected failure");
    // Nothing removed: the two modules absent from the full sync are still there, next to the 200 applied.
    const names = (await allSiteModules(h.store, site.id)).map((m) => m.machineName);
    expect(names).toHaveLength(202);
    expect(names).toEqual(expect.arrayContaining(["legacy_a", "legacy_b"]));

    // A failed task stays failed, and does not hold up the site's next sync.
    expect(await runner.run(taskId)).toBe("skipped");
    const next = await h.sync(payload(site, [mod("legacy_a")]), site.id);
    expect(next.status).toBe(200);
  });

  test("syncs of a site apply one at a time in the order accepted: a synchronous sync waits for the pending task, a later task for an earlier one", async () => {
    const site = await freshSite();
    const first = big(600, site);
    const firstId = await accepted(await h.sync(first, site.id), 600);

    // A small full sync sent while the task is pending: answered only once it has been applied after it.
    // Sent through an app whose store counts the times a sync found the site busy.
    const watched = busyCounting(h.store);
    const app = createApp({ config: h.config, store: watched.store, logger: silentLogger });
    const laterModules = first.modules.slice(0, 3).map((m) => ({ ...m, version: "8.8.8" }));
    let settled = false;
    const later = postSync(app, site.id, { token: h.world.token, body: payload(site, laterModules, { full_sync: true }) }).then((r) => {
      settled = true;
      return r;
    });
    // It found the task unfinished, twice: it waits and tries again, rather than answering.
    await until(() => watched.busy() >= 2, 10_000, "the sync to find the site busy twice");
    expect(settled).toBe(false);
    expect(await allSiteModules(h.store, site.id)).toEqual([]);

    expect(await runner.run(firstId)).toBe("completed");
    const res = await later;
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ modules_processed: 3, modules_created: 0, modules_updated: 3, modules_removed: 597 });
    expect(await stored(site)).toEqual(expectedTuples(laterModules));
    expect((await statusJson(firstId)).result).toMatchObject({ modules_created: 600, modules_removed: 0 });

    // Two tasks of one site: the later cannot start before the earlier finishes.
    const a = big(550, site, { fullSync: true });
    const b = benchPayload(520, { url: site.url, token: site.token, fullSync: true, versionBump: 1 });
    const aId = await accepted(await h.sync(a, site.id), 550);
    const bId = await accepted(await h.sync(b, site.id), 520);
    expect(await runner.run(bId)).toBe("skipped");
    expect(await statusJson(bId)).toEqual({ status: "pending", message: "Task is pending execution" });
    expect(await runner.run(aId)).toBe("completed");
    expect(await runner.run(bId)).toBe("completed");
    expect((await statusJson(bId)).result).toMatchObject({ modules_processed: 520, modules_removed: 30 });
    expect(await stored(site)).toEqual(expectedTuples(b.modules));
  });

  test("an entry with an enormous machine_name is reported as invalid, as the synchronous path does, not a server error", async () => {
    const site = await freshSite();
    const body = big(600, site);
    // Random text does not compress: too long for any index entry.
    const hugeName = Array.from(crypto.getRandomValues(new Uint8Array(6000)), (b) => b.toString(36)).join("");
    body.modules[42] = { ...body.modules[42]!, machine_name: hugeName };
    const res = await h.sync(body, site.id);
    const json = await res.json();
    expect({ code: res.status, detail: json.detail }).toEqual({ code: 202, detail: undefined });
    expect(await runner.run(json.task_id)).toBe("completed");
    const done = await statusJson(json.task_id);
    expect(done.result.modules_processed).toBe(599);
    expect(done.result.errors).toEqual([{ index: 42, machine_name: hugeName.slice(0, 255), detail: expect.stringContaining("machine_name") }]);
  });

  test("purging removes finished tasks past the retention and abandoned uploads, with their staged rows; recent and unfinished ones stay", async () => {
    const site = await freshSite();
    const entry = (index: number, name: string): StagedEntry => ({
      index, machineName: name,
      entry: { machineName: name, displayName: name, moduleType: "contrib", extensionType: "module", enabled: true, version: "1.0.0", description: null, project: null },
    });
    const tasks = h.store.tasks;
    const accept = (id: string) => tasks.acceptUpload(id, {
      siteName: site.name, drupalInfo: { coreVersion: "10.3.8", phpVersion: "8.3.2", ipAddress: "10.0.0.1" }, fullSync: false, errorsTotal: 0,
    });
    async function make(kind: "completed" | "failed" | "pending" | "receiving"): Promise<string> {
      const id = await tasks.beginUpload(site.id);
      await tasks.stageEntries(id, [
        entry(0, `purge_${kind}_a`), entry(1, `purge_${kind}_b`),
        { index: 2, machineName: null, error: { index: 2, machine_name: `purge_${kind}_a`, detail: "Duplicate machine_name: only its first entry counts" } },
      ]);
      if (kind === "receiving") return id;
      expect(await accept(id)).toEqual({ total: 2 });
      if (kind === "pending") return id;
      expect(await tasks.claimTask(id, "purger", 30_000)).toBe(true);
      if (kind === "failed") {
        await tasks.failTask(id, "purger", "given up");
        return id;
      }
      while ((await tasks.applyTaskBatch(id, "purger", 100, 30_000))!.applied > 0);
      expect(await tasks.completeTask(id, "purger")).toBe(true);
      return id;
    }
    const ageFinished = (id: string, hours: number) => sql(h.store, dialect === "sqlite"
      ? `UPDATE tasks SET finished_at = finished_at - ${hours * 3600_000} WHERE id = '${id}'`
      : `UPDATE tasks SET finished_at = finished_at - interval '${hours} hours' WHERE id = '${id}'`);
    const ageCreated = (id: string, hours: number) => sql(h.store, dialect === "sqlite"
      ? `UPDATE tasks SET created_at = created_at - ${hours * 3600_000} WHERE id = '${id}'`
      : `UPDATE tasks SET created_at = created_at - interval '${hours} hours' WHERE id = '${id}'`);

    const oldCompleted = await make("completed");
    const oldFailed = await make("failed");
    const recentCompleted = await make("completed");
    const recentFailed = await make("failed");
    const oldPending = await make("pending");
    const abandoned = await make("receiving");
    const receiving = await make("receiving");
    await ageFinished(oldCompleted, 25);
    await ageFinished(oldFailed, 30);
    await ageFinished(recentCompleted, 23);
    for (const id of [oldCompleted, oldFailed, oldPending]) await ageCreated(id, 40);
    await ageCreated(abandoned, 7);
    expect(await taskRows(h.store, site.id)).toEqual({ tasks: 7, entries: 21 });

    const maintenance = new TaskMaintenance(tasks, new MemoryJobQueue(), { taskRetentionHours: 24, historyRetentionDays: 90 }, silentLogger);
    expect(await maintenance.purge()).toBe(3);
    const left = (await sql<{ id: string }>(h.store, `SELECT id FROM tasks WHERE site_id = ${site.id}`)).map((r) => r.id).sort();
    expect(left).toEqual([recentCompleted, recentFailed, oldPending, receiving].sort());
    expect(await taskRows(h.store, site.id)).toEqual({ tasks: 4, entries: 12 });
    for (const id of [oldCompleted, oldFailed, abandoned]) {
      expect(await tasks.getTask(id)).toBeNull();
      expect((await status(id)).status).toBe(404);
    }
    expect((await statusJson(recentCompleted)).status).toBe("completed");
    expect(await maintenance.purge()).toBe(0);
    // The purge leaves the site's modules alone.
    expect((await allSiteModules(h.store, site.id)).map((m) => m.machineName)).toEqual(["purge_completed_a", "purge_completed_b"]);

    await tasks.abortUpload(receiving);
    // Unblock the site for anything else (the pending task would hold it).
    expect(await runner.run(oldPending)).toBe("completed");
  });
});
