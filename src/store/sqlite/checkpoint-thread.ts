// Entry point of the WAL checkpoint thread (see checkpointer.ts): its own
// connection, copying committed WAL pages back into the database file every
// interval. PASSIVE never waits for, nor blocks, readers or writers.
import { Database } from "bun:sqlite";

declare const self: Worker;

export type CheckpointMessage = { type: "start"; path: string; everyMs: number } | { type: "close" };
export type CheckpointReply = { type: "failed"; error: string } | { type: "closed" };

let db: Database | null = null;
let timer: ReturnType<typeof setInterval> | null = null;
const reply = (message: CheckpointReply) => self.postMessage(message);

function checkpoint(): void {
  try {
    db?.query("PRAGMA wal_checkpoint(PASSIVE)").get();
  } catch (err) {
    reply({ type: "failed", error: err instanceof Error ? err.message : String(err) });
  }
}

self.onmessage = (event: MessageEvent<CheckpointMessage>) => {
  const message = event.data;
  if (message.type === "start") {
    db = new Database(message.path, { strict: true });
    db.exec("PRAGMA busy_timeout = 1000");
    timer = setInterval(checkpoint, message.everyMs);
  } else {
    if (timer) clearInterval(timer);
    db?.close();
    db = null;
    reply({ type: "closed" });
  }
};
