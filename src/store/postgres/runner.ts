// Runs the shared code's steps on postgres-js: each query a step yields is
// awaited; a transaction's steps run on the connection it holds.
import type postgres from "postgres";
import { runAwaiting, type AwaitingStep, type StepRunner } from "../steps";
import { PostgresStatements } from "./statements";

export class PostgresRunner implements StepRunner<PromiseLike<unknown>, PostgresStatements> {
  private readonly pooled: PostgresStatements;

  constructor(private readonly sql: postgres.Sql) {
    this.pooled = new PostgresStatements(sql);
  }

  transaction<T>(steps: (s: PostgresStatements) => AwaitingStep<T>): Promise<T> {
    // (begin() types its result as if T might hold promises to unwrap; no step returns one.)
    // READ COMMITTED whatever the server's default: a statement after the
    // site's row lock (sent with it, or awaited) must see what the lock's
    // previous holder committed.
    return this.sql.begin("isolation level read committed", (tx) => runAwaiting(steps(new PostgresStatements(tx)))) as Promise<T>;
  }

  /** Each statement on a connection of the pool: a single statement is a transaction of its own. */
  write<T>(steps: (s: PostgresStatements) => AwaitingStep<T>): Promise<T> {
    return runAwaiting(steps(this.pooled));
  }

  read<T>(steps: (s: PostgresStatements) => AwaitingStep<T>): Promise<T> {
    return runAwaiting(steps(this.pooled));
  }
}
