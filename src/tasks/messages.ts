// Messages between the pool (main thread) and its worker threads.
import type { LogLevel } from "../config";
import type { WorkerStoreSpec } from "../store/types";
import type { RunOutcome } from "./runner";

export interface WorkerInit {
  type: "init";
  /** The main thread's store, as a worker opens it (Store.workerAccess). */
  store: WorkerStoreSpec;
  owner: string;
  batchSize: number;
  leaseMs: number;
  logLevel: LogLevel;
}

export type ToWorker = WorkerInit | { type: "run"; taskId: string } | { type: "stop" } | { type: "close" };

export type FromWorker =
  | { type: "ready" }
  | { type: "done"; taskId: string; outcome: RunOutcome }
  | { type: "closed" }
  | { type: "fatal"; error: string };
