// Entry point of a worker thread: its own database connection and a runner,
// applying the tasks the pool sends, one at a time.
import { createLogger } from "../log";
import { openForWorker } from "../store/open";
import type { Store } from "../store/types";
import type { FromWorker, ToWorker } from "./messages";
import { TaskRunner } from "./runner";

declare const self: Worker;

let store: Store | null = null;
let runner: TaskRunner | null = null;
const reply = (message: FromWorker) => self.postMessage(message);

self.onmessage = async (event: MessageEvent<ToWorker>) => {
  const message = event.data;
  try {
    switch (message.type) {
      case "init": {
        store = await openForWorker(message.store);
        const logger = createLogger(message.logLevel);
        runner = new TaskRunner(store.tasks, { owner: message.owner, batchSize: message.batchSize, leaseMs: message.leaseMs, logger });
        reply({ type: "ready" });
        break;
      }
      case "run":
        reply({ type: "done", taskId: message.taskId, outcome: await runner!.run(message.taskId) });
        break;
      case "stop":
        runner?.stop();
        break;
      case "close":
        await store?.close();
        reply({ type: "closed" });
        break;
    }
  } catch (err) {
    reply({ type: "fatal", error: err instanceof Error ? err.message : String(err) });
  }
};
