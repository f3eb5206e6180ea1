// Opening a store: the configured database, in the main process; or, in a
// worker thread, the main process's database as its store describes it.
import type { DatabaseTarget } from "../config";
import { PostgresStore } from "./postgres/store";
import { SqliteStore } from "./sqlite/store";
import { WriteGate } from "./sqlite/write-gate";
import type { Store, WorkerStoreSpec } from "./types";

/** A worker thread applies one task at a time: a statement in flight, and one to spare. */
const WORKER_CONNECTIONS = 2;

/** Opens the configured database and brings its schema up to date. */
export async function openStore(target: DatabaseTarget): Promise<Store> {
  return target.dialect === "sqlite" ? SqliteStore.connect(target.path) : PostgresStore.connect(target.url);
}

/** Opens, in a worker thread, the database of the main thread's store (Store.workerAccess). */
export async function openForWorker(spec: WorkerStoreSpec): Promise<Store> {
  return spec.dialect === "sqlite"
    ? SqliteStore.connect(spec.path, { gate: new WriteGate(spec.writeGate), role: "worker" })
    : PostgresStore.connect(spec.url, { maxConnections: WORKER_CONNECTIONS, role: "worker" });
}
