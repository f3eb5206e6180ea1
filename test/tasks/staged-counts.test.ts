// What accepting and completing a background task read of its staged rows:
// nothing of the valid ones. The valid entries count into the task's total as
// each staging write lands (before, accepting counted them: a scan of the
// whole upload), and the errors a completed task lists come from an index
// holding only the rows with an error (migrations 0013 and 0017).
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { StagedEntry } from "../../src/store/task-types";
import { createHarness, type Harness } from "../support/harness";
import { sql } from "../support/sql";
import { describeEachDialect } from "../support/stores";

const valid = (index: number, name: string): StagedEntry => ({
  index, machineName: name,
  entry: { machineName: name, displayName: name, moduleType: "contrib", extensionType: "module", enabled: true, version: "1.0.0", description: null, project: null },
});
const failed = (index: number, name: string): StagedEntry => ({ index, machineName: null, error: { index, machine_name: name, detail: "Duplicate machine_name: only its first entry counts" } });
/** A skipped entry past the reported errors: staged for its name only. */
const named = (index: number, name: string): StagedEntry => ({ index, machineName: name, error: null });

describeEachDialect("a background task's staged rows", (dialect) => {
  let h: Harness;
  beforeAll(async () => { h = await createHarness(dialect); });
  afterAll(() => h.close());

  test("accepting totals the valid entries of every staging write; completing lists the errors in upload order", async () => {
    const site = await h.freshSite("staged");
    const tasks = h.store.tasks;
    const id = await tasks.beginUpload(site.id);
    await tasks.stageEntries(id, [valid(0, "staged_a"), failed(1, "staged_a"), valid(2, "staged_b")]);
    await tasks.stageEntries(id, []);
    await tasks.stageEntries(id, [named(3, "staged_c"), failed(4, "staged_b"), valid(5, "staged_d"), valid(6, "staged_e")]);
    expect(await tasks.acceptUpload(id, {
      siteName: site.name, drupalInfo: { coreVersion: "10.3.8", phpVersion: "8.3.2", ipAddress: null }, fullSync: false, errorsTotal: 3,
    })).toEqual({ total: 4 });
    // Accepted once only: an upload no longer receiving is left as it is, and counts nothing.
    expect(await tasks.acceptUpload(id, {
      siteName: "again", drupalInfo: { coreVersion: "10.3.8", phpVersion: "8.3.2", ipAddress: null }, fullSync: true, errorsTotal: 0,
    })).toEqual({ total: 0 });
    expect(await tasks.claimTask(id, "staged", 30_000)).toBe(true);
    while ((await tasks.applyTaskBatch(id, "staged", 2, 30_000))!.applied > 0);
    expect(await tasks.completeTask(id, "staged")).toBe(true);
    const task = await tasks.getTask(id);
    expect(task?.status).toBe("completed");
    expect(task?.total).toBe(4);
    expect(task?.current).toBe(4);
    expect((task!.result as { errors: unknown[] }).errors).toEqual([
      { index: 1, machine_name: "staged_a", detail: expect.stringContaining("Duplicate") },
      { index: 4, machine_name: "staged_b", detail: expect.stringContaining("Duplicate") },
    ]);
  });

  test("a staging write that fails counts nothing: its rows and its count are one write", async () => {
    const site = await h.freshSite("staged-failing");
    const tasks = h.store.tasks;
    const id = await tasks.beginUpload(site.id);
    await tasks.stageEntries(id, [valid(0, "staged_f")]);
    // Index 0 is staged already: the whole write fails, its two valid entries with it.
    await expect(tasks.stageEntries(id, [valid(1, "staged_g"), valid(0, "staged_h")])).rejects.toThrow();
    expect(await tasks.acceptUpload(id, {
      siteName: site.name, drupalInfo: { coreVersion: "10.3.8", phpVersion: "8.3.2", ipAddress: null }, fullSync: false, errorsTotal: 0,
    })).toEqual({ total: 1 });
  });

  test("the errors index holds only rows with an error", async () => {
    const definition = dialect === "sqlite"
      ? (await sql<{ sql: string }>(h.store, "SELECT sql FROM sqlite_master WHERE name = 'task_entries_errors_idx'"))[0]?.sql
      : (await sql<{ indexdef: string }>(h.store, "SELECT indexdef FROM pg_indexes WHERE indexname = 'task_entries_errors_idx'"))[0]?.indexdef;
    expect(definition).toMatch(/\(\W*task_num\W*,\W*idx\W*\).*WHERE.*error IS NOT NULL/i);
  });

  // SQLite's plan is fixed by its schema; Postgres's would depend on the table's statistics: the definition above guards it.
  if (dialect === "sqlite") {
    test("the completion's read of the errors goes through that index, not through every staged row", async () => {
      const plan = (await sql<{ detail: string }>(h.store,
        "EXPLAIN QUERY PLAN SELECT error FROM task_entries WHERE task_num = 1 AND error IS NOT NULL ORDER BY idx LIMIT 10"))
        .map((r) => r.detail).join("\n");
      expect(plan).toContain("task_entries_errors_idx");
    });
  }
});
