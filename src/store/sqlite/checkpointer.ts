// WAL checkpoints on a thread of their own. A checkpoint copies pages into the
// database file and fsyncs it: on the thread that serves requests it stalls
// every request behind it (measured: re-sync p99 88 ms with, 17 ms without),
// and on a thread applying a background sync it adds to the sync's time
// (measured: 100,000 modules applied in 0.84–1.0 s without, 1.16–1.21 s with).
// So every connection of the process leaves checkpoints to this thread
// (SqliteStore.leaveCheckpointsToOthers: automatic ones only past WAL_LIMIT_PAGES, ~117 MiB);
// SqliteStore.startUpkeep starts it.
import type { Logger } from "../../log";
import { closeThread } from "../../threads";
import type { Upkeep } from "../types";
import type { CheckpointMessage, CheckpointReply } from "./checkpoint-thread";

/**
 * 250 ms: under a 10,000-site release load the WAL grows by up to ~30,000
 * frames a second; at 1 s a round found it past WAL_LIMIT_PAGES before it could
 * start it over, and the serving connection checkpointed at commit (its fsyncs
 * inline). A round with nothing to copy costs one look at the WAL index.
 */
export const CHECKPOINT_EVERY_MS = 250;
/** WAL frames (~4 KiB each) past which the thread has the WAL start over (checkpoint-thread.ts): 32 MiB. */
export const RESTART_AFTER_FRAMES = 8192;

export class WalCheckpointer implements Upkeep {
  private readonly worker: Worker;
  private closed: (() => void) | null = null;

  /** `writeGate`: the buffer of the write gate of the process's writers to `path`, which the thread holds to have the WAL start over. */
  constructor(path: string, logger: Logger, everyMs = CHECKPOINT_EVERY_MS, writeGate?: SharedArrayBuffer) {
    this.worker = new Worker(new URL("./checkpoint-thread.ts", import.meta.url).href);
    // The thread never keeps the process alive: shutdown closes it, a failed start-up just exits.
    this.worker.unref();
    this.worker.onmessage = (event: MessageEvent<CheckpointReply>) => {
      const message = event.data;
      if (message.type === "closed") this.closed?.();
      else if (message.type === "ok") logger.warn("WAL checkpoints work again", {});
      // The thread reports a change of outcome only: a checkpoint that keeps failing is logged once.
      else logger.warn("WAL checkpoint failed", { error: message.error });
    };
    this.worker.onerror = (event) => logger.error("WAL checkpoint thread failed", { error: event.message });
    this.worker.postMessage({ type: "start", path, everyMs, restartAfterFrames: RESTART_AFTER_FRAMES, writeGate } satisfies CheckpointMessage);
  }

  async close(): Promise<void> {
    await closeThread(this.worker, { type: "close" } satisfies CheckpointMessage, (done) => {
      this.closed = done;
    });
  }
}
