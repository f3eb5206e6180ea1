import type { DatabaseTarget } from "../config";
import { PostgresStore, type PostgresOptions } from "./postgres/store";
import { SqliteStore } from "./sqlite/store";
import type { Store } from "./types";

/** Opens the configured database and brings its schema up to date. */
export async function openStore(target: DatabaseTarget, options: PostgresOptions = {}): Promise<Store> {
  return target.dialect === "sqlite"
    ? new SqliteStore(target.path)
    : PostgresStore.connect(target.url, options);
}
