// Runs the shared code's steps on bun:sqlite: synchronously, so that a
// transaction holds the connection from BEGIN IMMEDIATE to COMMIT with no
// await in between (the connection also serves concurrent requests).
import type { Database } from "bun:sqlite";
import { runNow, type NowStep, type StepRunner } from "../steps";
import type { SqliteStatements } from "./statements";
import type { WriteGate } from "./write-gate";

export class SqliteRunner implements StepRunner<never, SqliteStatements> {
  /**
   * Runs its argument in BEGIN IMMEDIATE ... COMMIT (made once: bun:sqlite
   * builds a new wrapper for every transaction() call). BEGIN IMMEDIATE takes
   * the write lock up front: two transactions (from this or another process)
   * never interleave, and no upgrade deadlock can occur.
   */
  private readonly immediate: <T>(work: () => T) => T;

  constructor(db: Database, private readonly statements: SqliteStatements, private readonly gate: WriteGate) {
    this.immediate = db.transaction((work: () => unknown) => work()).immediate as <T>(work: () => T) => T;
  }

  transaction<T>(steps: (s: SqliteStatements) => NowStep<T>): Promise<T> {
    return this.gate.run(() => this.immediate(() => runNow(steps(this.statements))));
  }

  write<T>(steps: (s: SqliteStatements) => NowStep<T>): Promise<T> {
    return this.gate.run(() => runNow(steps(this.statements)));
  }

  async read<T>(steps: (s: SqliteStatements) => NowStep<T>): Promise<T> {
    return runNow(steps(this.statements));
  }
}
