// Raw SQL on either dialect's store, for tests that check what was written
// (or that nothing was left half-done) beneath the store's own methods.
import type { PostgresStore } from "../../src/store/postgres/store";
import type { SqliteStore } from "../../src/store/sqlite/store";
import type { Store } from "../../src/store/types";

/** Runs one SQL statement (no parameters: tests inline their own ids) and returns its rows. */
export async function sql<T = Record<string, unknown>>(store: Store, text: string): Promise<T[]> {
  if (store.dialect === "sqlite") return (store as SqliteStore).raw.query(text).all() as T[];
  return (await (store as PostgresStore).sql.unsafe(text)) as unknown as T[];
}

export async function count(store: Store, text: string): Promise<number> {
  const [row] = await sql<{ n: number | string }>(store, text);
  return Number(row!.n);
}

/**
 * How many of the store's connections are inside a transaction (a failed one
 * not rolled back would leave its connection so, for whoever gets it next).
 * On Postgres every connection of the pool is reserved at once, so each is
 * seen, not just whichever a pooled query lands on; the server's view of
 * each (pg_stat_activity: "idle in transaction") is read from another of them.
 */
export async function connectionsInTransaction(store: Store): Promise<number> {
  if (store.dialect === "sqlite") return (store as SqliteStore).raw.inTransaction ? 1 : 0;
  const pool = (store as PostgresStore).sql;
  if (pool.options.max < 2) throw new Error("connectionsInTransaction needs a pool of 2 connections or more");
  const connections = await Promise.all(Array.from({ length: pool.options.max }, () => pool.reserve()));
  try {
    const pids = await Promise.all(connections.map(async (c) => (await c<{ pid: number }[]>`SELECT pg_backend_pid() AS pid`)[0]!.pid));
    const inside = async (asker: number, asked: number[]) => Number((await connections[asker]!<{ n: string }[]>`
      SELECT count(*) AS n FROM pg_stat_activity WHERE pid IN ${pool(asked)} AND state LIKE 'idle in transaction%'`)[0]!.n);
    return (await inside(0, pids.slice(1))) + (await inside(1, pids.slice(0, 1)));
  } finally {
    for (const c of connections) c.release();
  }
}
