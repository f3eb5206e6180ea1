// Entry point of the WAL checkpoint thread (see checkpointer.ts): its own
// connection, copying committed WAL pages back into the database file every
// interval. PASSIVE never waits for, nor blocks, readers or writers.
import { Database } from "bun:sqlite";

declare const self: Worker;

export type CheckpointMessage = { type: "start"; path: string; everyMs: number } | { type: "close" };
/** "ok" and "failed" report each checkpoint's outcome only when it differs from the last one's. */
export type CheckpointReply = { type: "ok" } | { type: "failed"; error: string } | { type: "closed" };

let path: string | null = null;
let db: Database | null = null;
let timer: ReturnType<typeof setInterval> | null = null;
let failed = false;
const reply = (message: CheckpointReply) => self.postMessage(message);

function checkpoint(): void {
  try {
    db ??= new Database(path!, { strict: true, create: false });
    db.query("PRAGMA wal_checkpoint(PASSIVE)").get();
    if (failed) reply({ type: "ok" });
    failed = false;
  } catch (err) {
    if (!failed) reply({ type: "failed", error: err instanceof Error ? err.message : String(err) });
    failed = true;
  }
}

self.onmessage = (event: MessageEvent<CheckpointMessage>) => {
  const message = event.data;
  if (message.type === "start") {
    path = message.path;
    timer = setInterval(checkpoint, message.everyMs);
  } else {
    if (timer) clearInterval(timer);
    db?.close();
    db = null;
    reply({ type: "closed" });
  }
};
