// Brings a Postgres database's schema up to date: drizzle's migrations
// (drizzle/postgres/), then the hashes of rows older than details_hash
// (../backfill.ts), under a session advisory lock, so that instances starting
// together migrate one at a time and the later ones find nothing to do.
import type postgres from "postgres";
import { drizzle } from "drizzle-orm/postgres-js";
import { migrate } from "drizzle-orm/postgres-js/migrator";
import { hashOfRow, MISSING_HASHES_SQL, type MissingHashRow } from "../backfill";
import { migrationsFolder } from "../migrations";

/** Any fixed number: instances starting together queue on it. */
const MIGRATION_LOCK_KEY = 7_401_133_901;

export async function migrateSchema(sql: postgres.Sql): Promise<void> {
  const conn = await sql.reserve();
  try {
    await conn`SELECT pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
    try {
      await migrate(drizzle({ client: sql }), { migrationsFolder: migrationsFolder("postgres") });
      await fillDetailsHashes(sql);
    } finally {
      await conn`SELECT pg_advisory_unlock(${MIGRATION_LOCK_KEY})`;
    }
  } finally {
    conn.release();
  }
}

/**
 * Each batch in a transaction that locks its sites first, in id order, as a
 * sync locks its site before its modules: the triggers on site_module_states (0020)
 * update the sites' rows, and taken the other way round, the locks
 * deadlocked with syncs running meanwhile (another instance's, in a rolling
 * upgrade).
 */
async function fillDetailsHashes(sql: postgres.Sql): Promise<void> {
  for (;;) {
    const rows = await sql.unsafe<MissingHashRow[]>(MISSING_HASHES_SQL);
    if (rows.length === 0) return;
    const filled = rows.map((row) => ({ s: row.site_id, m: row.module_id, h: hashOfRow(row) }));
    const siteIds = [...new Set(rows.map((row) => Number(row.site_id)))];
    await sql.begin(async (tx) => {
      await tx`SELECT id FROM sites WHERE id = ANY(${siteIds}::int[]) ORDER BY id FOR NO KEY UPDATE`;
      await tx`UPDATE site_module_states sm SET details_hash = x.h
               FROM json_to_recordset(${JSON.stringify(filled)}::json) AS x(s int, m int, h bigint)
               WHERE sm.site_id = x.s AND sm.module_id = x.m`;
    });
  }
}
