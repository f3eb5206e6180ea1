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
// write gate until a pass finds few frames added, then copies back the rest
// holding it (its writers wait, typically 10-20 ms): the next write of this
// process starts the WAL over, unless a reader still holds an older snapshot
// (the next round tries again; writers of other processes are not gated).
import { Database } from "bun:sqlite";
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
let timer: ReturnType<typeof setInterval> | null = null;
let round: Promise<void> | null = null;
let closed = false;
let failed = false;
const reply = (message: CheckpointReply) => self.postMessage(message);

function passive(): CheckpointResult {
  // A round that waited for the gate past the thread's close does nothing.
  if (closed) return { busy: 0, log: -1, checkpointed: -1 };
  db ??= new Database(path!, { strict: true, create: false });
  return db.query("PRAGMA wal_checkpoint(PASSIVE)").get() as CheckpointResult;
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
  const asked = performance.now();
  await gate.run(() => {
    if (performance.now() - asked <= GATE_WAIT_MS) passive();
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
    reply({ type: "closed" });
  }
};
