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

  /**
   * BEGIN and COMMIT each cost a round trip of their own with sql.begin(),
   * which awaits BEGIN before the first statement and sends COMMIT after the
   * last one's answer. Here they travel with the statements next to them
   * (postgres-js sends what is issued in one tick in one write, and the
   * server runs it in order): BEGIN goes out first, not awaited, in the same
   * write as the steps' first statements, and is awaited with them; COMMIT
   * goes out with the last writes when the steps say which they are
   * (PostgresStatements.commitWith), else after the steps, as before.
   * READ COMMITTED whatever the server's default: a statement after the
   * site's row lock (sent with it, or awaited) must see what the lock's
   * previous holder committed.
   */
  async transaction<T>(steps: (s: PostgresStatements) => AwaitingStep<T>): Promise<T> {
    const connection = await this.sql.reserve();
    // execute(): handed to the connection now, ahead of any statement the steps make.
    const begun = connection`BEGIN ISOLATION LEVEL READ COMMITTED`.execute();
    // Its failure reaches the steps (runAwaiting awaits it with their first statements); this only
    // keeps it from counting as unhandled should the steps throw before waiting for anything.
    begun.catch(() => {});
    let commitSent = false;
    const commit = () => {
      if (commitSent) throw new Error("a transaction's COMMIT was sent twice");
      commitSent = true;
      return connection`COMMIT`.execute();
    };
    try {
      const result = await runAwaiting(steps(new PostgresStatements(connection, { commit })), begun);
      if (!commitSent) await commit();
      return result;
    } catch (err) {
      // A COMMIT sent has ended the transaction either way: after writes that failed, the server
      // answered it as a ROLLBACK (no error). Else the transaction is still open: rolled back here.
      if (!commitSent) await connection`ROLLBACK`.catch(() => {});
      throw err;
    } finally {
      connection.release();
    }
  }

  /** Each statement on a connection of the pool: a single statement is a transaction of its own. */
  write<T>(steps: (s: PostgresStatements) => AwaitingStep<T>): Promise<T> {
    return runAwaiting(steps(this.pooled));
  }

  /** Postgres batches no writes: as write(). */
  writeAlone<T>(steps: (s: PostgresStatements) => AwaitingStep<T>): Promise<T> {
    return this.write(steps);
  }

  read<T>(steps: (s: PostgresStatements) => AwaitingStep<T>): Promise<T> {
    return runAwaiting(steps(this.pooled));
  }
}
