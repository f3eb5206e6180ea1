// The WAL checkpoint thread: with automatic checkpoints left to it (a
// connection checkpoints by itself only past WAL_LIMIT_PAGES), it is what
// keeps the WAL from growing with every write.
import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { silentLogger, type Logger } from "../../src/log";
import { openForWorker } from "../../src/store/open";
import { WalCheckpointer } from "../../src/store/sqlite/checkpointer";
import { SqliteStore, WAL_LIMIT_PAGES } from "../../src/store/sqlite/store";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A SQLite file, with checkpoints left to the thread as in the server. */
function openStore(): SqliteStore {
  const dir = mkdtempSync(join(tmpdir(), "modsync-wal-"));
  dirs.push(dir);
  const store = SqliteStore.connect(join(dir, "modsync.db"));
  store.raw.exec("CREATE TABLE filler (data BLOB)");
  return store;
}

/** Writes `mb` MiB in 256 KiB transactions, pausing `pauseMs` between them; returns the WAL file's size. */
async function write(store: SqliteStore, mb: number, pauseMs = 30): Promise<number> {
  const insert = store.raw.prepare("INSERT INTO filler VALUES (randomblob(262144))");
  for (let i = 0; i < mb * 4; i++) {
    insert.run();
    await Bun.sleep(pauseMs);
  }
  return statSync(`${store.path}-wal`).size;
}

const LIMIT_BYTES = WAL_LIMIT_PAGES * 4096;

test("without the thread, the WAL holds every write since the start, up to the limit", async () => {
  const store = openStore();
  store.leaveCheckpointsToOthers();
  expect(store.raw.query("PRAGMA wal_autocheckpoint").get()).toEqual({ wal_autocheckpoint: WAL_LIMIT_PAGES });
  expect(await write(store, 8, 0)).toBeGreaterThan(8 * 2 ** 20);
  // Past the limit, the connection checkpoints itself and the WAL starts over.
  const size = await write(store, 48, 0);
  expect(size).toBeLessThan(LIMIT_BYTES + 2 ** 20);
  expect(store.raw.query("SELECT count(*) AS n FROM filler").get()).toEqual({ n: 224 });
  await store.close();
});

test("with it, the WAL is copied back and restarts in every pause: its file stays a fraction of what was written", async () => {
  const store = openStore();
  const checkpointer = store.startUpkeep(silentLogger, 10)!;
  expect(store.raw.query("PRAGMA wal_autocheckpoint").get()).toEqual({ wal_autocheckpoint: WAL_LIMIT_PAGES });
  expect(await write(store, 8)).toBeLessThan(4 * 2 ** 20);
  await checkpointer.close();
  expect(store.raw.query("SELECT count(*) AS n FROM filler").get()).toEqual({ n: 32 });
  await store.close();
});

test("a thread that cannot checkpoint says so once, not every interval", async () => {
  const warnings: string[] = [];
  const logger: Logger = { ...silentLogger, warn: (msg) => void warnings.push(msg) };
  const checkpointer = new WalCheckpointer(join(tmpdir(), "modsync-no-such-dir", "modsync.db"), logger, 10);
  await Bun.sleep(300);
  await checkpointer.close();
  expect(warnings).toEqual(["WAL checkpoint failed"]);
});

test("a worker thread's connection to the file leaves checkpoints to the thread too", async () => {
  const store = openStore();
  const worker = await openForWorker(store.workerAccess()!) as SqliteStore;
  expect(worker.raw.query("PRAGMA wal_autocheckpoint").get()).toEqual({ wal_autocheckpoint: WAL_LIMIT_PAGES });
  await worker.close();
  await store.close();
});

test("nothing to do for a database in memory, which no worker thread can reach either", async () => {
  const store = SqliteStore.connect(":memory:");
  expect(store.startUpkeep(silentLogger)).toBeNull();
  expect(store.workerAccess()).toBeNull();
  await store.close();
});
