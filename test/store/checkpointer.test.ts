// The WAL checkpoint thread: with automatic checkpoints left to it (a
// connection checkpoints by itself only past WAL_LIMIT_PAGES), it is what
// keeps the WAL from growing with every write.
import { Database } from "bun:sqlite";
import { afterEach, expect, test } from "bun:test";
import { closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, readSync, rmSync, statSync, truncateSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { silentLogger, type Logger } from "../../src/log";
import { openForWorker } from "../../src/store/open";
import { RESTART_AFTER_FRAMES, WalCheckpointer } from "../../src/store/sqlite/checkpointer";
import { SqliteStore, WAL_LIMIT_PAGES } from "../../src/store/sqlite/store";
import { WAL_FILE_LIMIT_BYTES } from "../../src/store/sqlite/wal-file";
import { until } from "../support/until";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) {
    // Emptied first: a checkpoint thread's descriptor of the database file is
    // never closed (checkpoint-thread.ts), so a file only deleted would keep
    // its blocks, up to ~150 MiB here, until the test process ends.
    for (const entry of readdirSync(dir, { withFileTypes: true })) if (entry.isFile()) truncateSync(join(dir, entry.name), 0);
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A SQLite file, with checkpoints left to the thread as in the server. */
function openStore(): SqliteStore {
  const dir = mkdtempSync(join(tmpdir(), "modsync-wal-"));
  dirs.push(dir);
  const store = SqliteStore.connect(join(dir, "modsync.db"));
  store.raw.exec("CREATE TABLE filler (data BLOB)");
  return store;
}

/**
 * Frames in the WAL, and how many of them are copied back into the database
 * file: mxFrame and nBackfill of the WAL index in the -shm file (native byte
 * order; https://www.sqlite.org/walformat.html).
 */
function walIndex(store: SqliteStore): { frames: number; copiedBack: number } {
  const fd = openSync(`${store.path}-shm`, "r");
  try {
    const header = Buffer.alloc(100);
    readSync(fd, header, 0, 100, 0);
    return { frames: header.readUInt32LE(16), copiedBack: header.readUInt32LE(96) };
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes `mb` MiB in 256 KiB transactions; with `waitForCheckpoints`, waits
 * after each until some other connection has copied the whole WAL back.
 * Returns the WAL file's size.
 */
async function write(store: SqliteStore, mb: number, waitForCheckpoints = false): Promise<number> {
  const insert = store.raw.prepare("INSERT INTO filler VALUES (randomblob(262144))");
  for (let i = 0; i < mb * 4; i++) {
    insert.run();
    if (waitForCheckpoints) {
      await until(() => {
        const wal = walIndex(store);
        return wal.frames > 0 && wal.copiedBack === wal.frames;
      }, 5000, "the WAL to be copied back", 2);
    }
  }
  return statSync(`${store.path}-wal`).size;
}

/**
 * Writes about `bytes` in 256 KiB transactions, the connection's own
 * checkpoints off (only a thread can copy the WAL back). Returns the writes.
 */
function writeUncheckpointed(store: SqliteStore, bytes: number): number {
  store.raw.exec("PRAGMA wal_autocheckpoint = 0");
  const insert = store.raw.prepare("INSERT INTO filler VALUES (randomblob(262144))");
  const writes = Math.ceil(bytes / 262144);
  for (let i = 0; i < writes; i++) insert.run();
  return writes;
}

const LIMIT_BYTES = WAL_LIMIT_PAGES * 4096;
const LIMIT_MIB = Math.ceil(LIMIT_BYTES / 2 ** 20);

test("without the thread, the WAL holds every write since the start, up to the limit", async () => {
  const store = openStore();
  store.leaveCheckpointsToOthers();
  expect(store.raw.query("PRAGMA wal_autocheckpoint").get()).toEqual({ wal_autocheckpoint: WAL_LIMIT_PAGES });
  expect(await write(store, 8)).toBeGreaterThan(8 * 2 ** 20);
  expect(walIndex(store).copiedBack).toBe(0);
  // Past the limit, the connection checkpoints itself and the WAL starts over.
  const size = await write(store, LIMIT_MIB);
  // The limit counts frames: a page and its 24-byte header each. Without the checkpoint: ~8 MiB more.
  expect(size).toBeLessThan(WAL_LIMIT_PAGES * (4096 + 24) + 2 ** 20);
  expect(store.raw.query("SELECT count(*) AS n FROM filler").get()).toEqual({ n: (8 + LIMIT_MIB) * 4 });
  await store.close();
});

test("with it, the WAL is copied back after every write and starts over: its file stays the size of one write", async () => {
  const store = openStore();
  const checkpointer = store.startUpkeep(silentLogger, 10)!;
  expect(store.raw.query("PRAGMA wal_autocheckpoint").get()).toEqual({ wal_autocheckpoint: WAL_LIMIT_PAGES });
  expect(await write(store, 8, true)).toBeLessThan(2 ** 20);
  await checkpointer.close();
  expect(store.raw.query("SELECT count(*) AS n FROM filler").get()).toEqual({ n: 32 });
  await store.close();
});

test("a thread that cannot checkpoint says so once, not every interval, and once when it can again", async () => {
  const warnings: string[] = [];
  const logger: Logger = { ...silentLogger, warn: (msg) => void warnings.push(msg) };
  const dir = join(mkdtempSync(join(tmpdir(), "modsync-wal-")), "not-yet");
  dirs.push(dirname(dir));
  const checkpointer = new WalCheckpointer(join(dir, "modsync.db"), logger, 5);
  try {
    await until(() => warnings.length > 0, 5000, "the first failure to be reported");
    // Not waiting for anything: 40 more intervals in which a repeat would show.
    await Bun.sleep(200);
    expect(warnings).toEqual(["WAL checkpoint failed"]);
    // The database appears: the thread, still trying, says so once.
    mkdirSync(dir);
    await SqliteStore.connect(join(dir, "modsync.db")).close();
    await until(() => warnings.length > 1, 5000, "the recovery to be reported");
    expect(warnings).toEqual(["WAL checkpoint failed", "WAL checkpoints work again"]);
  } finally {
    await checkpointer.close();
  }
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

test("under writes that never pause, the thread has the WAL start over", async () => {
  const store = openStore();
  // Only the thread can have it start over: the connection never checkpoints by itself here.
  store.raw.exec("PRAGMA wal_autocheckpoint = 0");
  // The same 16 rows written again and again: every write adds its pages to the WAL as a new
  // one would, but the database file stays ~4 MiB. (Rows added each time grew it by ~128 MiB a
  // second, and the thread's passes and syncs of it fell behind on a busy machine.)
  const ROWS = 16;
  for (let row = 0; row < ROWS; row++) store.raw.exec("INSERT INTO filler VALUES (randomblob(262144))");
  const rewrite = store.raw.prepare("UPDATE filler SET data = randomblob(262144) WHERE rowid = ?");
  const checkpointer = new WalCheckpointer(store.path, silentLogger, 5, store.gate.buffer);
  let startedOver = 0;
  let frames = 0;
  try {
    // Through the write gate as the server's writers do, each write queued as soon as the last
    // one ends, until the WAL starts over. The thread may skip its pass when a turn of the gate
    // comes late (a busy machine); the next round tries again: waited for, up to 30 s.
    const deadline = performance.now() + 30_000;
    for (let i = 0; startedOver === 0 && performance.now() < deadline; i++) {
      await store.gate.run(() => rewrite.run(1 + (i % ROWS)));
      const now = walIndex(store).frames;
      if (now < frames) startedOver++;
      frames = now;
    }
  } finally {
    await checkpointer.close();
  }
  // Without the thread's pass under the gate, no write ever finds the WAL wholly copied back.
  expect(startedOver).toBeGreaterThan(0);
  await store.close();
});

test("the thread starts the WAL over itself, and cuts its file back, with no write of the process after it", async () => {
  const store = openStore();
  store.raw.exec("PRAGMA user_version = 7");
  // Past RESTART_AFTER_FRAMES and past the file's limit, then no write at all.
  const writes = writeUncheckpointed(store, WAL_FILE_LIMIT_BYTES * 1.1);
  expect(walIndex(store).frames).toBeGreaterThan(RESTART_AFTER_FRAMES);
  expect(statSync(`${store.path}-wal`).size).toBeGreaterThan(WAL_FILE_LIMIT_BYTES);
  const checkpointer = new WalCheckpointer(store.path, silentLogger, 5, store.gate.buffer);
  try {
    // Left to the next write, as before, the WAL would keep its frames (and the file its size) until one came.
    await until(() => walIndex(store).frames < 10, 20_000, "the thread to start the WAL over");
  } finally {
    await checkpointer.close();
  }
  expect(statSync(`${store.path}-wal`).size).toBeLessThanOrEqual(WAL_FILE_LIMIT_BYTES);
  // Its write changed nothing.
  expect(store.raw.query("PRAGMA user_version").get()).toEqual({ user_version: 7 });
  expect(store.raw.query("SELECT count(*) AS n FROM filler").get()).toEqual({ n: writes });
  await store.close();
});

test("a write of another process in the way: the thread starts the WAL over at a later round, reporting nothing", async () => {
  const store = openStore();
  writeUncheckpointed(store, RESTART_AFTER_FRAMES * 4096 * 1.1);
  // Another process's writer (not gated) holds the write lock, having written nothing yet.
  const other = new Database(store.path);
  other.exec("BEGIN IMMEDIATE");
  const warnings: string[] = [];
  const logger: Logger = { ...silentLogger, warn: (msg) => void warnings.push(msg) };
  const checkpointer = new WalCheckpointer(store.path, logger, 5, store.gate.buffer);
  try {
    // Copied back in full, yet not started over: the thread's write found the lock taken.
    await until(() => {
      const wal = walIndex(store);
      return wal.copiedBack === wal.frames;
    }, 20_000, "the WAL to be copied back");
    // Two more passes under the gate (a turn each), each of which tried the write.
    const cells = new Int32Array(store.gate.buffer);
    const turns = Atomics.load(cells, 0);
    await until(() => Atomics.load(cells, 1) >= turns + 2, 5000, "two more passes under the gate");
    expect(walIndex(store).frames).toBeGreaterThan(RESTART_AFTER_FRAMES);
    other.exec("COMMIT");
    await until(() => walIndex(store).frames < 10, 20_000, "the thread to start the WAL over");
  } finally {
    await checkpointer.close();
    other.close();
  }
  expect(warnings).toEqual([]);
  await store.close();
});

test("closed while it waits for the write gate, the thread takes its turn and hands it on", async () => {
  const store = openStore();
  // Past RESTART_AFTER_FRAMES: the thread's round ends waiting for the gate.
  writeUncheckpointed(store, RESTART_AFTER_FRAMES * 4096 * 1.1);
  const cells = new Int32Array(store.gate.buffer);
  // A writer of this process holds the gate: its turn served, not yet handed on.
  const mine = Atomics.add(cells, 0, 1);
  const checkpointer = new WalCheckpointer(store.path, silentLogger, 5, store.gate.buffer);
  await until(() => Atomics.load(cells, 0) === mine + 2, 5000, "the thread to queue for the gate");
  const closing = checkpointer.close();
  // The thread does not answer its close while its turn is pending: ended then, it would leave
  // a turn no one hands on. (The close gives up waiting only after CLOSE_WAIT_MS, 2 s.)
  expect(await Promise.race([closing.then(() => "closed"), Bun.sleep(500).then(() => "pending")])).toBe("pending");
  // The writer hands the gate on, to the closing thread's round.
  Atomics.add(cells, 1, 1);
  Atomics.notify(cells, 1);
  await closing;
  // Its turn was taken and handed on: every turn handed out is served, and the next writer gets the gate.
  expect(Atomics.load(cells, 1)).toBe(Atomics.load(cells, 0));
  const next = await Promise.race([store.gate.run(() => "written"), Bun.sleep(5000).then(() => "still waiting")]);
  expect(next).toBe("written");
  await store.close();
});
