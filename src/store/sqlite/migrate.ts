// Brings a SQLite file's schema up to date: drizzle's migrations
// (drizzle/sqlite/), in one transaction. Concurrent starters queue on the
// file's write lock, then find nothing to do.
import type { Database } from "bun:sqlite";
import { drizzle } from "drizzle-orm/bun-sqlite";
import { migrate } from "drizzle-orm/bun-sqlite/migrator";
import { migrationsFolder } from "../migrations";

export function migrateSchema(db: Database): void {
  migrate(drizzle({ client: db }), { migrationsFolder: migrationsFolder("sqlite") });
}
