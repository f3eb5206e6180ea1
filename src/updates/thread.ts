// Entry point of the update statuses thread: its own database connection,
// so computing statuses and fetching release data never hold the thread
// that serves requests (a SQLite statement runs synchronously).
import { createLogger } from "../log";
import { openForWorker } from "../store/open";
import type { Store } from "../store/types";
import type { FromUpdatesThread, ToUpdatesThread } from "./messages";
import { createUpkeep } from "./background";
import type { UpdatesUpkeep } from "./upkeep";

declare const self: Worker;

let store: Store | null = null;
let upkeep: UpdatesUpkeep | null = null;
const reply = (message: FromUpdatesThread) => self.postMessage(message);

self.onmessage = async (event: MessageEvent<ToUpdatesThread>) => {
  const message = event.data;
  try {
    if (message.type === "init") {
      store = await openForWorker(message.store);
      upkeep = createUpkeep(store, message.refresh, createLogger(message.logLevel), (result) => reply({ type: "fetched", result }));
      upkeep.start();
    } else {
      await upkeep?.close();
      await store?.close();
      reply({ type: "closed" });
    }
  } catch (err) {
    reply({ type: "fatal", error: err instanceof Error ? err.message : String(err) });
  }
};
