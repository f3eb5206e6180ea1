// Entry point of the WAL checkpoint thread (see checkpointer.ts): its own
// connection, copying committed WAL pages back into the database file every
// interval. PASSIVE never waits for, nor blocks, readers or writers.
//
// Copying back is not enough to keep the WAL small: SQLite starts it over
// only at a write that begins while it is wholly copied back, and writes that
// never pause always find new frames behind the last checkpoint. The WAL then
// grew to WAL_LIMIT_PAGES, where a committing connection checkpointed by
// itself, holding the write gate: measured under a 10,000-site drift load,
// commits of 160-530 ms, every writer of the process waiting behind them.
// So once the WAL holds restartAfterFrames, the thread copies back what is
// left while holding the write gate (a few hundred milliseconds' worth of
// frames, copied just before without it): the next write starts it over.
import { Database } from "bun:sqlite";
import { WriteGate } from "./write-gate";

declare const self: Worker;

export type CheckpointMessage =
  | { type: "start"; path: string; everyMs: number; restartAfterFrames: number; writeGate?: SharedArrayBuffer }
  | { type: "close" };
/** "ok" and "failed" report each checkpoint's outcome only when it differs from the last one's. */
export type CheckpointReply = { type: "ok" } | { type: "failed"; error: string } | { type: "closed" };

interface CheckpointResult { busy: number; log: number; checkpointed: number }

let path: string | null = null;
let restartAfterFrames = Infinity;
let gate: WriteGate | null = null;
let db: Database | null = null;
let timer: ReturnType<typeof setInterval> | null = null;
let running = false;
let closed = false;
let failed = false;
const reply = (message: CheckpointReply) => self.postMessage(message);

function passive(): CheckpointResult {
  // A checkpoint that waited for the gate past the thread's close does nothing.
  if (closed) return { busy: 0, log: 0, checkpointed: 0 };
  db ??= new Database(path!, { strict: true, create: false });
  return db.query("PRAGMA wal_checkpoint(PASSIVE)").get() as CheckpointResult;
}

async function checkpoint(): Promise<void> {
  // An interval can come while the last checkpoint waits for the gate.
  if (running) return;
  running = true;
  try {
    if (passive().log >= restartAfterFrames && gate) {
      // Once more without the gate (the frames written during the first pass),
      // then the rest with it: no writer of this process adds frames meanwhile.
      passive();
      await gate.run(passive);
    }
    if (failed) reply({ type: "ok" });
    failed = false;
  } catch (err) {
    if (!failed) reply({ type: "failed", error: err instanceof Error ? err.message : String(err) });
    failed = true;
  } finally {
    running = false;
  }
}

self.onmessage = (event: MessageEvent<CheckpointMessage>) => {
  const message = event.data;
  if (message.type === "start") {
    path = message.path;
    restartAfterFrames = message.restartAfterFrames;
    gate = message.writeGate ? new WriteGate(message.writeGate) : null;
    timer = setInterval(() => void checkpoint(), message.everyMs);
  } else {
    if (timer) clearInterval(timer);
    closed = true;
    db?.close();
    db = null;
    reply({ type: "closed" });
  }
};
