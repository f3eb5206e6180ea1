// Entry point of the WAL checkpoint thread (see checkpointer.ts): its own
// connection, copying committed WAL pages back into the database file every
// interval, PASSIVE: it never waits for readers or writers.
//
// Copying back is not enough to keep the WAL small: SQLite starts it over
// only at a write that begins while it is wholly copied back, and writes that
// never pause always find new frames behind the last checkpoint. The WAL then
// grew to WAL_LIMIT_PAGES, where a committing connection checkpointed by
// itself, holding the write gate: measured under a 10,000-site drift load,
// commits of 160-530 ms, every writer of the process waiting behind them.
// So once the WAL holds restartAfterFrames, the thread catches up without the
// write gate until a pass finds few frames added, syncs the database file,
// then copies back the rest holding it (its writers wait, typically 10-25 ms,
// mostly fsyncs), and, still holding it, starts the WAL over itself with a
// write that changes nothing (startOver), unless a reader is still reading
// from the WAL (the next round tries again; writers of other processes are
// not gated).
//
// Why the thread writes: the write that starts the WAL over writes its header
// and fsyncs it, and its commit cuts the file back to WAL_FILE_LIMIT_BYTES.
// Left to the serving thread's next commit, those stalled every request for
// 60-145 ms a time (10,000-site release load, sampled from /proc: the serving
// thread in fsync of the WAL; bench/README round 28). Here they take 0.6-2.2
// ms, and no request's thread waits on a system call.
import { Database } from "bun:sqlite";
import { fdatasyncSync, openSync } from "node:fs";
import { WAL_FILE_LIMIT_BYTES } from "./wal-file";
import { WriteGate } from "./write-gate";

declare const self: Worker;

export type CheckpointMessage =
  | { type: "start"; path: string; everyMs: number; restartAfterFrames: number; writeGate?: SharedArrayBuffer }
  | { type: "close" };
/** "ok" and "failed" report each checkpoint's outcome only when it differs from the last one's. */
export type CheckpointReply = { type: "ok" } | { type: "failed"; error: string } | { type: "closed" };

interface CheckpointResult { busy: number; log: number; checkpointed: number }

/** Passes without the gate, at most, before the one with it; and the frames a pass may see added and be the last. */
const CATCH_UP_PASSES = 4;
const CAUGHT_UP_FRAMES = 1000;
/** A turn of the gate that came later than this finds too much written since: no pass, the next round tries again. */
const GATE_WAIT_MS = 100;

let path: string | null = null;
let restartAfterFrames = Infinity;
let gate: WriteGate | null = null;
let db: Database | null = null;
let databaseFile: number | null = null;
let timer: ReturnType<typeof setInterval> | null = null;
let round: Promise<void> | null = null;
let closed = false;
let failed = false;
const reply = (message: CheckpointReply) => self.postMessage(message);

function connection(): Database {
  if (db) return db;
  const opened = new Database(path!, { strict: true, create: false });
  try {
    // As the process's other connections: the WAL's commits are not synced one
    // by one, and the file is cut back when this connection starts it over.
    opened.exec("PRAGMA synchronous = NORMAL");
    opened.exec(`PRAGMA journal_size_limit = ${WAL_FILE_LIMIT_BYTES}`);
  } catch (err) {
    opened.close();
    throw err;
  }
  db = opened;
  return db;
}

function passive(): CheckpointResult {
  // A round that waited for the gate past the thread's close does nothing.
  if (closed) return { busy: 0, log: -1, checkpointed: -1 };
  return connection().query("PRAGMA wal_checkpoint(PASSIVE)").get() as CheckpointResult;
}

/**
 * fdatasync of the database file, on a descriptor of the thread's own, opened
 * once and never closed: SQLite's locks on the file are POSIX locks, which
 * belong to the process, and closing any descriptor of the file drops them
 * all, the connections' shared lock included (another process closing its
 * last connection could then delete the WAL under this one's). SQLite itself
 * defers such closes; this descriptor is one per thread, closed at exit.
 */
function syncDatabaseFile(): void {
  if (closed) return;
  databaseFile ??= openSync(path!, "r");
  fdatasyncSync(databaseFile);
}

/** SQLITE_BUSY, or one of its extended codes (SQLITE_BUSY_SNAPSHOT, _RECOVERY, _TIMEOUT). */
function isBusy(err: unknown): boolean {
  return ((err as { errno?: number }).errno ?? 0) % 256 === 5;
}

/**
 * Starts the WAL over, holding the write gate with the WAL wholly copied back:
 * a write transaction that sets user_version to its own value (SQLite writes
 * the page all the same). Its first frame goes to the WAL's start unless a
 * reader is still reading from the WAL, in which case it is one frame more.
 * Another process writing (busy) leaves it to the next round.
 */
function startOver(): void {
  const conn = connection();
  try {
    conn.exec("BEGIN IMMEDIATE");
  } catch (err) {
    if (isBusy(err)) return;
    throw err;
  }
  try {
    const { user_version } = conn.query("PRAGMA user_version").get() as { user_version: number };
    conn.exec(`PRAGMA user_version = ${user_version}`);
    conn.exec("COMMIT");
  } catch (err) {
    // A failed COMMIT may have rolled back already; the first error is the one reported.
    try {
      if (conn.inTransaction) conn.exec("ROLLBACK");
    } catch {
      // Reported through err.
    }
    throw err;
  }
}

/** One round: a checkpoint and, past restartAfterFrames, the pass with the gate. */
async function checkpoint(): Promise<void> {
  let last = passive();
  if (last.log < restartAfterFrames || !gate) return;
  // Writes may outpace the passes: after the last one the gate is taken all the same, for longer,
  // but far shorter than the connection's own checkpoint at WAL_LIMIT_PAGES would take.
  for (let pass = 0; pass < CATCH_UP_PASSES; pass++) {
    const next = passive();
    const added = next.log - last.log;
    last = next;
    // Started over meanwhile, or busy (log -1: another connection checkpoints).
    if (next.log < restartAfterFrames) return;
    if (added < CAUGHT_UP_FRAMES) break;
  }
  // A pass that leaves frames behind writes their pages to the database file
  // without syncing it (only the pass that copies the last frame syncs it), so
  // the pass under the gate would sync every page the passes before it copied:
  // 40-100 ms with the writers waiting. Synced here, twice around one more
  // pass, what is left under the gate is the last few milliseconds' pages.
  syncDatabaseFile();
  passive();
  syncDatabaseFile();
  const asked = performance.now();
  await gate.run(() => {
    if (performance.now() - asked > GATE_WAIT_MS) return;
    const pass = passive();
    if (pass.busy === 0 && pass.log > 0 && pass.checkpointed === pass.log) startOver();
  });
}

function runRound(): void {
  // A round can outlast the interval while it waits for the gate.
  if (round) return;
  round = checkpoint().then(
    () => {
      if (failed) reply({ type: "ok" });
      failed = false;
    },
    (err: unknown) => {
      if (!failed) reply({ type: "failed", error: err instanceof Error ? err.message : String(err) });
      failed = true;
    },
  ).finally(() => {
    round = null;
  });
}

self.onmessage = async (event: MessageEvent<CheckpointMessage>) => {
  const message = event.data;
  if (message.type === "start") {
    path = message.path;
    restartAfterFrames = message.restartAfterFrames;
    gate = message.writeGate ? new WriteGate(message.writeGate) : null;
    timer = setInterval(runRound, message.everyMs);
  } else {
    if (timer) clearInterval(timer);
    closed = true;
    // A round waiting for the gate holds a ticket: it must be served and
    // handed on (doing nothing now), or every writer after it would wait forever.
    await round;
    db?.close();
    db = null;
    // databaseFile stays open (syncDatabaseFile).
    reply({ type: "closed" });
  }
};
