// Postgres: a staging write commits without waiting for the WAL to reach the
// disk (synchronous_commit off for its own transaction only). Nothing staged
// counts before the upload is accepted, and the acceptance's commit, which
// does wait, flushes the WAL up to it, every staging write before it included.
// The setting must not outlive the staging transaction: every other commit on
// the connection (an accepted upload, a sync) still waits for its flush.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { drizzle } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import { PostgresRunner } from "../../src/store/postgres/runner";
import type { StagedEntry } from "../../src/store/task-types";
import { createHarness, type Harness } from "../support/harness";
import { count } from "../support/sql";
import { dialects } from "../support/stores";

const valid = (index: number, name: string): StagedEntry => ({
  index, machineName: name,
  entry: { machineName: name, displayName: name, moduleType: "contrib", extensionType: "module", enabled: true, version: "1.0.0", description: null, project: null },
});

describe.if(dialects().includes("postgres"))("a staging write's commit [postgres]", () => {
  let h: Harness;
  let client: postgres.Sql;
  const sent: string[] = [];
  beforeAll(async () => {
    h = await createHarness("postgres");
    // One connection, every statement it sends recorded.
    client = postgres(h.db.url, { max: 1, onnotice: () => {}, debug: (_connection, query) => { sent.push(query.replace(/\s+/g, " ").trim()); } });
    drizzle({ client }); // as PostgresStore.connect does: its JSON parameters as the statements send them
  });
  afterAll(async () => {
    await client.end();
    await h.close();
  });

  test("is not waited for: synchronous_commit off, set in the staging write's own transaction and gone after it", async () => {
    const site = await h.freshSite("staging-flush");
    const id = await h.store.tasks.beginUpload(site.id);
    const runner = new PostgresRunner(client);
    await runner.transaction((s) => s.stage(id, [valid(0, "flush_a"), valid(1, "flush_b")]));
    const begin = sent.findIndex((q) => q.startsWith("BEGIN"));
    const off = sent.indexOf("SET LOCAL synchronous_commit = off");
    const insert = sent.findIndex((q) => q.includes("INSERT INTO task_entries"));
    const commit = sent.indexOf("COMMIT");
    expect(begin).toBeGreaterThanOrEqual(0);
    expect([begin < off, off < insert, insert < commit]).toEqual([true, true, true]);
    // Staged, on the server's own connection too.
    expect(await count(h.store, `SELECT count(*) AS n FROM task_entries te JOIN tasks t ON t.num = te.task_num WHERE t.id = '${id}'`)).toBe(2);
    // The same connection, after the transaction: back to the server's setting.
    const [after] = await client`SELECT current_setting('synchronous_commit') AS value`;
    expect(after!.value).toBe("on");
  });
});
