// Runs the shared code's steps on bun:sqlite: synchronously, so that a
// transaction holds the connection from BEGIN IMMEDIATE to COMMIT with no
// await in between (the connection also serves concurrent requests).
import type { Database } from "bun:sqlite";
import { runNow, type NowStep, type StepRunner } from "../steps";
import type { SqliteStatements } from "./statements";
import type { WriteGate } from "./write-gate";

interface PendingWrite {
  work: () => unknown;
  resolve(value: unknown): void;
  reject(err: unknown): void;
}

type Outcome = { value: unknown } | { error: unknown };

function settle(work: () => unknown): Outcome {
  try {
    return { value: work() };
  } catch (error) {
    return { error };
  }
}

export class SqliteRunner implements StepRunner<never, SqliteStatements> {
  /**
   * Runs its argument in BEGIN IMMEDIATE ... COMMIT (made once: bun:sqlite
   * builds a new wrapper for every transaction() call). BEGIN IMMEDIATE takes
   * the write lock up front: two transactions (from this or another process)
   * never interleave, and no upgrade deadlock can occur.
   */
  private readonly immediate: <T>(work: () => T) => T;

  private readonly savepoint;
  private readonly releaseSavepoint;
  private readonly rollbackToSavepoint;

  constructor(private readonly db: Database, private readonly statements: SqliteStatements, private readonly gate: WriteGate) {
    this.immediate = db.transaction((work: () => unknown) => work()).immediate as <T>(work: () => T) => T;
    this.savepoint = db.prepare("SAVEPOINT modsync_write");
    this.releaseSavepoint = db.prepare("RELEASE modsync_write");
    this.rollbackToSavepoint = db.prepare("ROLLBACK TO modsync_write");
  }

  transaction<T>(steps: (s: SqliteStatements) => NowStep<T>): Promise<T> {
    return this.gate.run(() => this.immediate(() => runNow(steps(this.statements))));
  }

  /**
   * Writes arriving in one turn of the event loop (the fingerprint UPDATEs of
   * concurrent identical re-syncs, mostly) commit together: one transaction,
   * each write in a savepoint of its own, so that each is still all or none
   * and one that fails is undone alone and fails alone. A commit is most of
   * a one-row write's cost (its WAL frames); each caller's promise settles
   * only after the commit.
   */
  write<T>(steps: (s: SqliteStatements) => NowStep<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ work: () => runNow(steps(this.statements)), resolve: resolve as (value: unknown) => void, reject });
      if (this.pending.length === 1) setImmediate(() => this.flush());
    });
  }

  private pending: PendingWrite[] = [];

  private flush(): void {
    const batch = this.pending;
    this.pending = [];
    this.gate.run(() => {
      if (batch.length === 1) return [settle(batch[0]!.work)];
      return this.immediate(() => batch.map((write) => {
        this.savepoint.run();
        const outcome = settle(write.work);
        // An error that ended the whole transaction (SQLITE_FULL, IOERR…): every write of the batch fails with it.
        if ("error" in outcome && !this.db.inTransaction) throw outcome.error;
        if ("error" in outcome) this.rollbackToSavepoint.run();
        this.releaseSavepoint.run();
        return outcome;
      }));
    }).then(
      (outcomes) => outcomes.forEach((o, i) => ("error" in o ? batch[i]!.reject(o.error) : batch[i]!.resolve(o.value))),
      (err: unknown) => batch.forEach((write) => write.reject(err)),
    );
  }

  async read<T>(steps: (s: SqliteStatements) => NowStep<T>): Promise<T> {
    return runNow(steps(this.statements));
  }
}
