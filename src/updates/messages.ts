// Messages between the main thread and the update statuses thread.
import type { LogLevel } from "../config";
import type { WorkerStoreSpec } from "../store/types";
import type { FetchResult } from "./refresher";

export interface RefreshSettings {
  baseUrl: string;
  everyMs: number;
  owner: string;
}

export type ToUpdatesThread =
  | { type: "init"; store: WorkerStoreSpec; logLevel: LogLevel; refresh: RefreshSettings | null }
  | { type: "close" };

export type FromUpdatesThread =
  | { type: "fetched"; result: FetchResult }
  | { type: "closed" }
  | { type: "fatal"; error: string };
