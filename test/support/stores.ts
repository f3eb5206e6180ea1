// Real databases for tests: a fresh SQLite file, or a fresh schema on the real
// Postgres, each migrated exactly as the server does at start-up.
import { describe } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { PostgresStore } from "../../src/store/postgres/store";
import { SqliteStore } from "../../src/store/sqlite/store";
import type { Store } from "../../src/store/types";
import { postgresAvailable, TEST_POSTGRES_URL } from "./env";

export type Dialect = "sqlite" | "postgres";

export interface TestDatabase {
  dialect: Dialect;
  /** DATABASE_URL a child process (server, CLI) would use to reach this database. */
  url: string;
  open(): Promise<Store>;
  /** Closes every store opened here and deletes the database. */
  destroy(): Promise<void>;
}

const uniqueName = () => `t_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;

export function createTestDatabase(dialect: Dialect): TestDatabase {
  const opened: Store[] = [];
  if (dialect === "sqlite") {
    const dir = mkdtempSync(join(tmpdir(), "modsync-test-"));
    const path = join(dir, "modsync.db");
    return {
      dialect,
      url: `sqlite:${path}`,
      async open() {
        const store = SqliteStore.connect(path);
        opened.push(store);
        return store;
      },
      async destroy() {
        for (const s of opened) await s.close().catch(() => {});
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  // A database of its own per test database: full isolation, and a child
  // process (server, CLI) reaches it with nothing but DATABASE_URL.
  const name = uniqueName();
  const url = new URL(TEST_POSTGRES_URL);
  url.pathname = `/${name}`;
  let created = false;
  const admin = () => postgres(TEST_POSTGRES_URL, { max: 1, onnotice: () => {} });
  return {
    dialect,
    url: url.toString(),
    async open() {
      if (!created) {
        const sql = admin();
        await sql`CREATE DATABASE ${sql(name)}`;
        await sql.end();
        created = true;
      }
      const store = await PostgresStore.connect(url.toString(), { maxConnections: 12 });
      opened.push(store);
      return store;
    },
    async destroy() {
      for (const s of opened) await s.close().catch(() => {});
      if (!created) return;
      const sql = admin();
      await sql`DROP DATABASE IF EXISTS ${sql(name)} WITH (FORCE)`;
      await sql.end();
    },
  };
}

/** The dialects this run can test: SQLite always, Postgres when it answers. */
export function dialects(): Dialect[] {
  return postgresAvailable() ? ["sqlite", "postgres"] : ["sqlite"];
}

/** Runs the same suite once per available dialect. */
export function describeEachDialect(name: string, suite: (dialect: Dialect) => void): void {
  for (const dialect of dialects()) describe(`${name} [${dialect}]`, () => suite(dialect));
}
