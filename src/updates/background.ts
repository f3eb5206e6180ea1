// Starts the update statuses' background work (upkeep.ts) from the main
// process: on a thread of its own with its own connection, or, for a
// database no other thread can reach (in-memory SQLite), on the main thread.
import type { Config } from "../config";
import type { Logger } from "../log";
import type { Metrics } from "../metrics/registry";
import type { Store } from "../store/types";
import { closeThread } from "../threads";
import type { FromUpdatesThread, RefreshSettings, ToUpdatesThread } from "./messages";
import { ReleaseRefresher, type FetchResult } from "./refresher";
import { UpdateStatuses } from "./statuses";
import { UpdatesUpkeep } from "./upkeep";

export interface Background {
  close(): Promise<void>;
}

export function createUpkeep(store: Store, refresh: RefreshSettings | null, logger: Logger, onFetch?: (result: FetchResult) => void): UpdatesUpkeep {
  const refresher = refresh ? new ReleaseRefresher(store.releases, { ...refresh, logger, onFetch }) : null;
  return new UpdatesUpkeep(new UpdateStatuses(store.releases), refresher, logger);
}

/** Without RELEASE_HISTORY_URL nothing is fetched; statuses are computed either way. */
export function refreshSettings(config: Pick<Config, "releaseHistoryUrl" | "releaseRefreshHours">, owner: string): RefreshSettings | null {
  return config.releaseHistoryUrl
    ? { baseUrl: config.releaseHistoryUrl, everyMs: config.releaseRefreshHours * 3600_000, owner }
    : null;
}

export function startUpdatesBackground(
  { store, config, logger, metrics, owner }: { store: Store; config: Config; logger: Logger; metrics: Metrics; owner: string },
): Background {
  const refresh = refreshSettings(config, owner);
  const count = (result: FetchResult) => metrics.releaseFetches.inc({ result });
  const spec = store.workerAccess();
  if (!spec) {
    const upkeep = createUpkeep(store, refresh, logger, count);
    upkeep.start();
    return upkeep;
  }
  const worker = new Worker(new URL("./thread.ts", import.meta.url).href);
  let closed: (() => void) | null = null;
  worker.onmessage = (event: MessageEvent<FromUpdatesThread>) => {
    const message = event.data;
    if (message.type === "fetched") count(message.result);
    else if (message.type === "closed") closed?.();
    else logger.error("update statuses thread failed", { error: message.error });
  };
  worker.postMessage({ type: "init", store: spec, logLevel: config.logLevel, refresh } satisfies ToUpdatesThread);
  return {
    close: () => closeThread(worker, { type: "close" } satisfies ToUpdatesThread, (done) => {
      closed = done;
    }),
  };
}
