// The few things the release store needs of a database, for both dialects:
// reads, and writes applied together atomically. Statements are written once
// with `?` placeholders; lists travel as one JSON parameter (inList()), so a
// statement's text, and so its prepared form, does not change with their length.
import type { Database } from "bun:sqlite";
import type postgres from "postgres";
import type { WriteGate } from "../sqlite/write-gate";

export interface Statement {
  sql: string;
  params: unknown[];
}

/** The columns lists are matched against: names pasted into SQL, so a closed set. */
export type ListColumn = "id" | "site_id" | "u.site_id" | "d.site_id" | "module_id" | "project";

export interface SqlExec {
  /** For the few statements whose best form differs by dialect. */
  readonly dialect: "sqlite" | "postgres";
  all<T>(sql: string, params?: unknown[]): Promise<T[]>;
  /** As all(), each row an array of its columns in order: no object per row. */
  values<T extends unknown[]>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Runs the statements in one transaction; returns each one's count of changed rows. */
  write(statements: Statement[]): Promise<number[]>;
  /** `column` is one of the elements of a JSON array parameter (`?`), as integers or text: a predicate. */
  inList(column: ListColumn, type: "int" | "text"): string;
  /** A subquery yielding the [integer, text] pairs of a JSON array parameter (`?`), as two columns. */
  pairs(): string;
  /**
   * A derived table of the [integer, integer] pairs of a JSON array
   * parameter (`?`), columns `a` and `b`, to join from: a look-up per pair,
   * where two IN lists would look up every site with every module.
   */
  pairTable(): string;
}

export class SqliteExec implements SqlExec {
  readonly dialect = "sqlite";

  constructor(private readonly db: Database, private readonly gate: WriteGate) {}

  private static params(params: unknown[]) {
    return params.map((p) => (p instanceof Date ? p.getTime() : p)) as never[];
  }

  async all<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    return this.db.query(sql).all(...SqliteExec.params(params)) as T[];
  }

  async values<T extends unknown[]>(sql: string, params: unknown[] = []): Promise<T[]> {
    return this.db.query(sql).values(...SqliteExec.params(params)) as T[];
  }

  write(statements: Statement[]): Promise<number[]> {
    // Synchronous from BEGIN IMMEDIATE to COMMIT: nothing else on this connection can interleave.
    return this.gate.run(() => this.db.transaction(() =>
      statements.map((s) => this.db.query(s.sql).run(...SqliteExec.params(s.params)).changes)).immediate());
  }

  inList(column: ListColumn, type: "int" | "text"): string {
    return `${column} IN (SELECT CAST(value AS ${type === "int" ? "INTEGER" : "TEXT"}) FROM json_each(?))`;
  }

  pairs(): string {
    return "SELECT CAST(value ->> 0 AS INTEGER), CAST(value ->> 1 AS TEXT) FROM json_each(?)";
  }

  pairTable(): string {
    return "(SELECT CAST(value ->> 0 AS INTEGER) AS a, CAST(value ->> 1 AS INTEGER) AS b FROM json_each(?))";
  }
}

export class PostgresExec implements SqlExec {
  readonly dialect = "postgres";

  constructor(private readonly sql: postgres.Sql) {}

  private static text(sql: string): string {
    let n = 0;
    return sql.replace(/\?/g, () => `$${++n}`);
  }

  private static params(params: unknown[]) {
    return params.map((p) => (p instanceof Date ? p.toISOString() : p)) as postgres.ParameterOrJSON<never>[];
  }

  async all<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    return (await this.sql.unsafe(PostgresExec.text(sql), PostgresExec.params(params), { prepare: true })) as unknown as T[];
  }

  async values<T extends unknown[]>(sql: string, params: unknown[] = []): Promise<T[]> {
    return (await this.sql.unsafe(PostgresExec.text(sql), PostgresExec.params(params), { prepare: true }).values()) as unknown as T[];
  }

  async write(statements: Statement[]): Promise<number[]> {
    return (await this.sql.begin(async (tx) => {
      const counts: number[] = [];
      for (const s of statements) counts.push((await tx.unsafe(PostgresExec.text(s.sql), PostgresExec.params(s.params), { prepare: true })).count);
      return counts;
    })) as number[];
  }

  /**
   * `= ANY` of an array, not `IN (subquery)`: Postgres plans the latter as a
   * semi-join that guesses 100 elements, and with 1,000 sites it read the whole
   * of site_modules (150,000 rows, a hash join) to compute 77 sites' statuses,
   * where an index scan reads just their rows.
   */
  inList(column: ListColumn, type: "int" | "text"): string {
    // bigint: module_versions ids are; an int column compares with them through its index all the same.
    return `${column} = ANY (ARRAY(SELECT ${type === "int" ? "(jsonb_array_elements_text(?::jsonb))::bigint" : "jsonb_array_elements_text(?::jsonb)"}))`;
  }

  pairs(): string {
    return "SELECT (e ->> 0)::int, e ->> 1 FROM jsonb_array_elements(?::jsonb) AS e";
  }

  pairTable(): string {
    return "(SELECT (e ->> 0)::int AS a, (e ->> 1)::int AS b FROM jsonb_array_elements(?::jsonb) AS e)";
  }
}
