// SQLite's writes arriving in one event-loop turn commit in one transaction,
// each in a savepoint of its own: one that fails is undone and fails alone,
// the others commit; a lone write runs as it is (one statement, autocommit).
import { Database } from "bun:sqlite";
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SqliteRunner } from "../../src/store/sqlite/runner";
import type { SqliteStatements } from "../../src/store/sqlite/statements";
import { WriteGate } from "../../src/store/sqlite/write-gate";

const dir = mkdtempSync(join(tmpdir(), "modsync-batch-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function setup(name: string) {
  const db = new Database(join(dir, name), { create: true, strict: true });
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("CREATE TABLE t (x INTEGER PRIMARY KEY, v TEXT NOT NULL)");
  const runner = new SqliteRunner(db, {} as SqliteStatements, new WriteGate());
  const insert = db.prepare<never, [number, string | null]>("INSERT INTO t (x, v) VALUES (?, ?)");
  const rows = () => db.query<{ x: number }, []>("SELECT x FROM t ORDER BY x").all().map((r) => r.x);
  return { db, runner, insert, rows };
}

test("writes of one turn: one transaction; a failing one is undone alone and rejects alone", async () => {
  const { db, runner, insert, rows } = setup("batch.db");
  const inTransaction: boolean[] = [];
  const writes = [
    runner.write(function* () { inTransaction.push(db.inTransaction); insert.run(1, "a"); return "one"; }),
    runner.write(function* () { insert.run(3, "c"); throw new Error("boom"); }),
    runner.write(function* () { insert.run(4, null); }), // NOT NULL: SQLite's own error
    runner.write(function* () { insert.run(5, "e"); return "five"; }),
  ];
  const settled = await Promise.allSettled(writes);
  expect(settled.map((s) => s.status)).toEqual(["fulfilled", "rejected", "rejected", "fulfilled"]);
  expect(settled[0]).toMatchObject({ value: "one" });
  expect(settled[3]).toMatchObject({ value: "five" });
  expect(String((settled[1] as PromiseRejectedResult).reason)).toContain("boom");
  expect(String((settled[2] as PromiseRejectedResult).reason)).toMatch(/NOT NULL/i);
  expect(inTransaction).toEqual([true]);
  expect(db.inTransaction).toBe(false);
  expect(rows()).toEqual([1, 5]);
  // Committed: another connection sees them.
  const other = new Database(join(dir, "batch.db"), { readonly: true });
  expect(other.query<{ n: number }, []>("SELECT count(*) AS n FROM t").get()!.n).toBe(2);
  other.close();
  db.close();
});

test("a write alone runs outside a transaction; writes of later turns commit apart", async () => {
  const { db, runner, insert, rows } = setup("alone.db");
  const inTransaction: boolean[] = [];
  await runner.write(function* () { inTransaction.push(db.inTransaction); insert.run(1, "a"); });
  await expect(runner.write(function* () { inTransaction.push(db.inTransaction); insert.run(1, "again"); })).rejects.toThrow(/UNIQUE/);
  expect(inTransaction).toEqual([false, false]);
  expect(rows()).toEqual([1]);
  db.close();
});

test("an error that ends the whole transaction fails every write of the batch with that error, and commits none", async () => {
  const { db, runner, insert, rows } = setup("abort.db");
  db.exec("CREATE TRIGGER abort_all BEFORE INSERT ON t WHEN NEW.v = 'abort' BEGIN SELECT RAISE(ROLLBACK, 'whole transaction ended'); END");
  const settled = await Promise.allSettled([
    runner.write(function* () { insert.run(1, "a"); }),
    runner.write(function* () { insert.run(2, "abort"); }),
    runner.write(function* () { insert.run(3, "c"); }),
  ]);
  expect(settled.map((s) => s.status)).toEqual(["rejected", "rejected", "rejected"]);
  for (const s of settled) expect(String((s as PromiseRejectedResult).reason)).toContain("whole transaction ended");
  expect(db.inTransaction).toBe(false);
  expect(rows()).toEqual([]);
  // The connection works on.
  await runner.write(function* () { insert.run(4, "d"); });
  expect(rows()).toEqual([4]);
  db.close();
});
