// Brings a Postgres database's schema up to date: drizzle's migrations
// (drizzle/postgres/), under a session advisory lock, so that instances
// starting together migrate one at a time and the later ones find nothing to do.
import type postgres from "postgres";
import { drizzle } from "drizzle-orm/postgres-js";
import { migrate } from "drizzle-orm/postgres-js/migrator";
import { migrationsFolder } from "../migrations";

/** Any fixed number: instances starting together queue on it. */
const MIGRATION_LOCK_KEY = 7_401_133_901;

export async function migrateSchema(sql: postgres.Sql): Promise<void> {
  const conn = await sql.reserve();
  try {
    await conn`SELECT pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
    try {
      await migrate(drizzle({ client: sql }), { migrationsFolder: migrationsFolder("postgres") });
    } finally {
      await conn`SELECT pg_advisory_unlock(${MIGRATION_LOCK_KEY})`;
    }
  } finally {
    conn.release();
  }
}
