// Runs the shared code's steps on bun:sqlite: synchronously, so that a
// transaction holds the connection from BEGIN IMMEDIATE to COMMIT with no
// await in between (the connection also serves concurrent requests).
import type { Database } from "bun:sqlite";
import { runNow, type NowStep, type StepRunner } from "../steps";
import type { SqliteStatements } from "./statements";
import type { WriteGate } from "./write-gate";

/**
 * transaction(): steps all or none together; write(): a statement; alone:
 * writeAlone()'s, which is never batched.
 */
type WriteKind = "transaction" | "write" | "alone";

interface PendingWrite {
  work: () => unknown;
  kind: WriteKind;
  resolve(value: unknown): void;
  reject(err: unknown): void;
}

/**
 * Writes committed together at most. A batch holds the file's write lock
 * from its first write to its commit: the worker threads' turns wait that
 * long, and a batch's size is bounded by the requests in flight anyway.
 */
const MAX_BATCH = 64;

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

  /**
   * Steps in one write transaction of their own, or in a savepoint of the
   * turn's batch (write()): all or none either way, and committed before
   * the promise settles.
   */
  transaction<T>(steps: (s: SqliteStatements) => NowStep<T>): Promise<T> {
    return this.enqueue(() => runNow(steps(this.statements)), "transaction");
  }

  /**
   * Writes arriving in one turn of the event loop (the changed syncs and the
   * fingerprint UPDATEs of concurrent requests) commit together: one
   * transaction, each write in a savepoint of its own, so that each is still
   * all or none and one that fails is undone alone and fails alone. A commit
   * is most of a small write's cost (its WAL frames, and the pages that
   * every sync touches: the site list's index, the history's last pages),
   * paid once per batch; each caller's promise settles only after the commit.
   */
  write<T>(steps: (s: SqliteStatements) => NowStep<T>): Promise<T> {
    return this.enqueue(() => runNow(steps(this.statements)), "write");
  }

  /**
   * Deletes that may reach many rows (purges, a dropped upload) run in their
   * turn but never in a batch: in a savepoint SQLite keeps a copy of every
   * page a write changes, in memory (temp_store), where a statement of its
   * own in autocommit keeps none (measured: a 95 MB delete beside one other
   * write, +120 MB of RSS in a savepoint, none alone).
   */
  writeAlone<T>(steps: (s: SqliteStatements) => NowStep<T>): Promise<T> {
    return this.enqueue(() => runNow(steps(this.statements)), "alone");
  }

  private pending: PendingWrite[] = [];

  private enqueue<T>(work: () => T, kind: WriteKind): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ work, kind, resolve: resolve as (value: unknown) => void, reject });
      if (this.pending.length === 1) setImmediate(() => this.flush());
    });
  }

  /** The next batch, in arrival order: up to MAX_BATCH writes, ending before one that runs alone (or that one by itself). */
  private nextBatch(): PendingWrite[] {
    if (this.pending[0]!.kind === "alone") return this.pending.splice(0, 1);
    const alone = this.pending.findIndex((w) => w.kind === "alone");
    return this.pending.splice(0, Math.min(MAX_BATCH, alone === -1 ? this.pending.length : alone));
  }

  private flush(): void {
    const batch = this.nextBatch();
    if (this.pending.length > 0) setImmediate(() => this.flush());
    this.gate.run(() => {
      const only = batch.length === 1 ? batch[0]! : null;
      // A lone statement needs no transaction; lone steps get one without a savepoint.
      if (only) return [settle(only.kind === "transaction" ? () => this.immediate(only.work) : only.work)];
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
