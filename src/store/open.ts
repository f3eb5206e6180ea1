import type { DatabaseTarget } from "../config";
import { PostgresStore, type PostgresOptions } from "./postgres/store";
import { SqliteStore } from "./sqlite/store";
import { WriteGate } from "./sqlite/write-gate";
import type { Store } from "./types";

/** Opens the configured database; the main process's store brings its schema up to date. */
export async function openStore(target: DatabaseTarget, options: PostgresOptions & { writeGate?: SharedArrayBuffer } = {}): Promise<Store> {
  return target.dialect === "sqlite"
    ? SqliteStore.connect(target.path, { gate: new WriteGate(options.writeGate), role: options.role })
    : PostgresStore.connect(target.url, options);
}

/** What a worker thread needs to share this store's database fairly (SQLite's write gate). */
export function sharedWith(store: Store): SharedArrayBuffer | undefined {
  return store instanceof SqliteStore ? store.gate.buffer : undefined;
}
