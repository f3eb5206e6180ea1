// Brings a SQLite file's schema up to date: drizzle's migrations
// (drizzle/sqlite/), in one transaction, then the hashes of rows older than
// details_hash (../backfill.ts). Concurrent starters queue on the file's write
// lock, then find nothing to do.
import type { Database } from "bun:sqlite";
import { drizzle } from "drizzle-orm/bun-sqlite";
import { migrate } from "drizzle-orm/bun-sqlite/migrator";
import { hashOfRow, MISSING_HASHES_SQL, type MissingHashRow } from "../backfill";
import { migrationsFolder } from "../migrations";

export function migrateSchema(db: Database): void {
  migrate(drizzle({ client: db }), { migrationsFolder: migrationsFolder("sqlite") });
  fillDetailsHashes(db);
}

function fillDetailsHashes(db: Database): void {
  const missing = db.prepare<MissingHashRow, []>(MISSING_HASHES_SQL);
  const set = db.prepare<never, [number, number, number]>("UPDATE site_module_states SET details_hash = ? WHERE site_id = ? AND module_id = ?");
  // Looked for first without the write lock: starters (the CLI, several at once) find nothing and never queue for it.
  const anyMissing = db.prepare<{ one: number }, []>("SELECT 1 AS one FROM site_module_states WHERE details_hash IS NULL LIMIT 1");
  if (!anyMissing.get()) return;
  // Each batch its own write transaction: other writers get their turn between batches.
  const batch = db.transaction(() => {
    const rows = missing.all();
    for (const row of rows) set.run(hashOfRow(row), row.site_id, row.module_id);
    return rows.length;
  });
  while (batch.immediate() > 0);
}
