// Opening a store: the configured database, in the main process; or, in a
// worker thread, the main process's database as its store describes it.
import type { DatabaseTarget } from "../config";
import type { Store, WorkerStoreSpec } from "./types";

// Each dialect's store is loaded only when that dialect is opened: the other's
// driver and schema cost every thread ~10-15 MiB that would never be used.
async function sqlite() {
  const [{ SqliteStore }, { WriteGate }] = await Promise.all([import("./sqlite/store"), import("./sqlite/write-gate")]);
  return { SqliteStore, WriteGate };
}

async function postgres() {
  return import("./postgres/store");
}

/** A worker thread applies one task at a time: a statement in flight, and one to spare. */
const WORKER_CONNECTIONS = 2;

/** Opens the configured database and brings its schema up to date. */
export async function openStore(target: DatabaseTarget): Promise<Store> {
  return target.dialect === "sqlite" ? (await sqlite()).SqliteStore.connect(target.path) : (await postgres()).PostgresStore.connect(target.url);
}

/** Opens, in a worker thread, the database of the main thread's store (Store.workerAccess). */
export async function openForWorker(spec: WorkerStoreSpec): Promise<Store> {
  if (spec.dialect === "sqlite") {
    const { SqliteStore, WriteGate } = await sqlite();
    return SqliteStore.connect(spec.path, { gate: new WriteGate(spec.writeGate), role: "worker" });
  }
  return (await postgres()).PostgresStore.connect(spec.url, { maxConnections: WORKER_CONNECTIONS, role: "worker" });
}
