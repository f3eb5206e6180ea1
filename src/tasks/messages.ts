// Messages between the pool (main thread) and its worker threads.
import type { DatabaseTarget, LogLevel } from "../config";
import type { RunOutcome } from "./runner";

export interface WorkerInit {
  type: "init";
  database: DatabaseTarget;
  /** SQLite's write gate, shared with the main thread. */
  writeGate?: SharedArrayBuffer;
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
