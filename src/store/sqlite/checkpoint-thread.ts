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

/** Passes without the gate, at most, before the one with it; and the frames a pass may see added and be the last. */
const CATCH_UP_PASSES = 4;
const CAUGHT_UP_FRAMES = 1000;

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
    let last = passive();
    if (last.log >= restartAfterFrames && gate) {
      // Again without the gate while writers add many frames during a pass
      // (its fsyncs take 10-100 ms here), then the rest with it: no writer of
      // this process adds frames meanwhile, and what is left to copy is little.
      for (let pass = 0; pass < CATCH_UP_PASSES; pass++) {
        const next = passive();
        const added = next.log - last.log;
        last = next;
        if (added >= 0 && added < CAUGHT_UP_FRAMES) break;
      }
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
