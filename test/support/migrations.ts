// A copy of a dialect's migrations that ends before a given one: a database
// migrated with it holds what an earlier version of modsync left, for the
// tests of what a migration does to such rows.
import { expect } from "bun:test";
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { migrationsFolder } from "../../src/store/migrations";
import { TEST_POSTGRES_URL } from "./env";

/** The migrations before `tag` (a journal entry's, e.g. "0007_change_sets"), in a new temporary folder: the caller removes it. */
export function migrationsBefore(dialect: "sqlite" | "postgres", tag: string): string {
  const dir = mkdtempSync(join(tmpdir(), "modsync-migrations-"));
  cpSync(migrationsFolder(dialect), dir, { recursive: true });
  const journalPath = join(dir, "meta", "_journal.json");
  const journal = JSON.parse(readFileSync(journalPath, "utf8")) as { entries: { tag: string }[] };
  const at = journal.entries.findIndex((e) => e.tag === tag);
  expect(at).toBeGreaterThan(0);
  journal.entries = journal.entries.slice(0, at);
  writeFileSync(journalPath, JSON.stringify(journal));
  return dir;
}

/**
 * A Postgres database made for one test, with a client on it: its drop (and
 * both clients' ends) pushed on `closers`, which the caller runs last made
 * first, whatever step fails.
 */
export async function scratchPostgres(prefix: string, closers: (() => unknown)[]): Promise<{ url: string; sql: postgres.Sql }> {
  const name = `${prefix}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = postgres(TEST_POSTGRES_URL, { max: 1, onnotice: () => {} });
  closers.push(() => admin.end());
  await admin`CREATE DATABASE ${admin(name)}`;
  closers.push(() => admin`DROP DATABASE IF EXISTS ${admin(name)} WITH (FORCE)`);
  const url = new URL(TEST_POSTGRES_URL);
  url.pathname = `/${name}`;
  const sql = postgres(url.toString(), { max: 1, onnotice: () => {} });
  closers.push(() => sql.end());
  return { url: url.toString(), sql };
}
