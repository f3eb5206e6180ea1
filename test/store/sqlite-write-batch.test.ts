// SQLite's writes and transactions arriving in one event-loop turn commit in
// one transaction, each in a savepoint of its own: one that fails is undone
// whole and fails alone, the others commit; a lone write runs as it is (one
// statement, autocommit), a lone transaction in BEGIN IMMEDIATE.
import { Database } from "bun:sqlite";
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SqliteRunner } from "../../src/store/sqlite/runner";
import { SqliteStore } from "../../src/store/sqlite/store";
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

/** Commits in the WAL so far: frames whose header holds the database's size after commit (non-zero). */
function commitsInWal(db: Database): number {
  const wal = readFileSync(`${db.filename}-wal`);
  const pageSize = wal.readUInt32BE(8);
  let commits = 0;
  for (let at = 32; at + 24 + pageSize <= wal.length; at += 24 + pageSize) if (wal.readUInt32BE(at + 4) !== 0) commits++;
  return commits;
}

test("transactions of one turn commit together with its writes; a failing one is undone whole and rejects alone", async () => {
  const { db, runner, insert, rows } = setup("transactions.db");
  db.exec("PRAGMA wal_autocheckpoint = 0");
  await runner.write(function* () { insert.run(0, "first"); });
  const commitsBefore = commitsInWal(db);
  const inTransaction: boolean[] = [];
  const settled = await Promise.allSettled([
    runner.transaction(function* () { inTransaction.push(db.inTransaction); insert.run(1, "a"); insert.run(2, "b"); return "both"; }),
    // Two statements written, then a failure: neither stays.
    runner.transaction(function* () { insert.run(3, "c"); insert.run(4, "d"); throw new Error("after two writes"); }),
    runner.write(function* () { inTransaction.push(db.inTransaction); insert.run(5, "e"); }),
    runner.transaction(function* () { insert.run(6, "f"); insert.run(1, "duplicate"); }), // UNIQUE on its second statement
    runner.transaction(function* () { insert.run(7, "g"); return "seven"; }),
  ]);
  expect(settled.map((s) => s.status)).toEqual(["fulfilled", "rejected", "fulfilled", "rejected", "fulfilled"]);
  expect(settled[0]).toMatchObject({ value: "both" });
  expect(settled[4]).toMatchObject({ value: "seven" });
  expect(String((settled[1] as PromiseRejectedResult).reason)).toContain("after two writes");
  expect(String((settled[3] as PromiseRejectedResult).reason)).toMatch(/UNIQUE/);
  expect(inTransaction).toEqual([true, true]);
  expect(rows()).toEqual([0, 1, 2, 5, 7]);
  // One commit for the whole turn.
  expect(commitsInWal(db) - commitsBefore).toBe(1);
  db.close();
});

test("a transaction alone runs in a transaction of its own: a failure undoes all of its statements", async () => {
  const { db, runner, insert, rows } = setup("lone-transaction.db");
  const inTransaction: boolean[] = [];
  expect(await runner.transaction(function* () { inTransaction.push(db.inTransaction); insert.run(1, "a"); return "one"; })).toBe("one");
  await expect(runner.transaction(function* () { insert.run(2, "b"); insert.run(3, null); })).rejects.toThrow(/NOT NULL/i);
  expect(inTransaction).toEqual([true]);
  expect(db.inTransaction).toBe(false);
  expect(rows()).toEqual([1]);
  db.close();
});

test("a turn with more writes than one batch holds commits them in batches, each write settled once", async () => {
  const { db, runner, insert, rows } = setup("many.db");
  db.exec("PRAGMA wal_autocheckpoint = 0");
  const commitsBefore = commitsInWal(db);
  const values = await Promise.all(Array.from({ length: 150 }, (_, i) => runner.transaction(function* () { insert.run(i, `v${i}`); return i; })));
  expect(values).toEqual(Array.from({ length: 150 }, (_, i) => i));
  expect(rows()).toEqual(Array.from({ length: 150 }, (_, i) => i));
  // 64 at most per commit (MAX_BATCH): 64 + 64 + 22.
  expect(commitsInWal(db) - commitsBefore).toBe(3);
  db.close();
});

test("a write that runs alone keeps its place in the turn but is never in the batch", async () => {
  const { db, runner, insert, rows } = setup("alone-in-turn.db");
  db.exec("PRAGMA wal_autocheckpoint = 0");
  const commitsBefore = commitsInWal(db);
  const inTransaction: [string, boolean][] = [];
  const order: string[] = [];
  const write = (name: string, x: number) => function* () { order.push(name); inTransaction.push([name, db.inTransaction]); insert.run(x, name); };
  await Promise.all([
    runner.transaction(write("a", 1)),
    runner.write(write("b", 2)),
    runner.writeAlone(write("purge", 3)),
    runner.transaction(write("c", 4)),
    runner.writeAlone(write("purge again", 5)),
  ]);
  expect(order).toEqual(["a", "b", "purge", "c", "purge again"]);
  // a and b share a transaction; each delete-like write is a statement of its own; c, now alone, gets its own.
  expect(inTransaction).toEqual([["a", true], ["b", true], ["purge", false], ["c", true], ["purge again", false]]);
  expect(rows()).toEqual([1, 2, 3, 4, 5]);
  expect(commitsInWal(db) - commitsBefore).toBe(4);
  db.close();
});

/**
 * Unnamed files this process holds open, by descriptor: SQLite's temporary
 * files (statement and savepoint journals) are opened O_TMPFILE, so they
 * show as "(deleted)". Other tests of this process may hold deleted files
 * too: compare with what was open before.
 */
function openUnnamedFiles(): Map<string, string> {
  const open = new Map<string, string>();
  for (const fd of readdirSync("/proc/self/fd")) {
    try {
      const link = readlinkSync(`/proc/self/fd/${fd}`);
      if (link.endsWith(" (deleted)")) open.set(fd, link);
    } catch {
      // closed since the listing
    }
  }
  return open;
}

test("a store's connection keeps a batch's savepoint journals in memory, however many pages they hold", async () => {
  const db = SqliteStore.open(join(dir, "journal.db"));
  db.exec("CREATE TABLE t (x INTEGER PRIMARY KEY, v TEXT NOT NULL)");
  const fill = db.prepare<never, [number]>("INSERT INTO t (x, v) VALUES (?, printf('%.2000c', 'a'))");
  for (let i = 0; i < 100; i++) fill.run(i);
  const runner = new SqliteRunner(db, {} as SqliteStatements, new WriteGate());
  const rewrite = db.prepare<never, [string]>("UPDATE t SET v = printf('%.2000c', ?)");
  const before = openUnnamedFiles();
  const seen: string[][] = [];
  // Each rewrites ~50 pages that existed before its savepoint: ~200 KiB journaled apiece, past SQLite's 64 KiB spill point.
  await Promise.all(["b", "c", "d"].map((letter) => runner.transaction(function* () {
    rewrite.run(letter);
    seen.push([...openUnnamedFiles()].filter(([fd, link]) => before.get(fd) !== link).map(([, link]) => link));
  })));
  expect(seen).toEqual([[], [], []]);
  expect(db.query<{ v: string }, []>("SELECT DISTINCT v FROM t").all()).toEqual([{ v: "d".repeat(2000) }]);
  db.close();
});
