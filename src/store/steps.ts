// What is written once for both dialects (the Store's sync and task side,
// the write algorithms) runs as steps over a dialect's statements
// (statements.ts): generators that yield what they wait for. On Postgres
// that is a query's promise, whose result the async driver sends back; on
// SQLite nothing, since bun:sqlite runs a statement synchronously, so a whole
// algorithm runs to its end in one call, inside a synchronous BEGIN
// IMMEDIATE transaction, with no await that would let another request use
// the connection mid-transaction. A StepRunner is how a dialect runs them.

/** A step: yields `Wait`s, returns `T`. */
export type Step<Wait, T> = Generator<Wait, T, unknown>;

/** Steps that never wait (bun:sqlite). */
export type NowStep<T> = Step<never, T>;

/** Steps that wait for queries (postgres-js). */
export type AwaitingStep<T> = Step<PromiseLike<unknown>, T>;

/** Runs steps that never wait, synchronously. */
export function runNow<T>(steps: NowStep<T>): T {
  const next = steps.next();
  // The type says it cannot happen; a step that did yield would have run only in part.
  if (!next.done) throw new Error("a synchronous store step waited");
  return next.value;
}

/**
 * Runs steps that wait: each yielded promise is awaited, its result (or error)
 * handed back to the step. `sentBefore`, a statement already on its way
 * (Postgres: BEGIN), is awaited with the first one, or at the end if none
 * came: its failure fails the steps.
 */
export async function runAwaiting<T>(steps: AwaitingStep<T>, sentBefore?: PromiseLike<unknown>): Promise<T> {
  let next = steps.next();
  let before = sentBefore;
  while (!next.done) {
    const waiting = before === undefined ? next.value : Promise.all([before, next.value]).then(([, result]) => result);
    before = undefined;
    let result: unknown;
    try {
      result = await waiting;
    } catch (err) {
      next = steps.throw(err);
      continue;
    }
    next = steps.next(result);
  }
  await before;
  return next.value;
}

/** Inside an awaiting step: waits for `query` and returns its result, typed. */
export function* waitFor<T>(query: PromiseLike<T>): AwaitingStep<T> {
  return (yield query) as T;
}

/**
 * How the code written once reaches a dialect's database: runs steps over the
 * dialect's statements (`S`) in one of four ways.
 */
export interface StepRunner<Wait, S> {
  /**
   * All or none, in a write transaction (SQLite: BEGIN IMMEDIATE, in turn with
   * the process's other writers, shared with the writes of the same event-loop
   * turn, each in a savepoint of its own: runner.ts).
   */
  transaction<T>(steps: (s: S) => Step<Wait, T>): Promise<T>;
  /** Writes that need no transaction of their own: one statement (SQLite: in turn with the other writers). */
  write<T>(steps: (s: S) => Step<Wait, T>): Promise<T>;
  /**
   * Like write(), for deletes that may reach many rows (purges): never
   * batched with other writes (SQLite: a savepoint would hold a copy of
   * every page they change, in memory).
   */
  writeAlone<T>(steps: (s: S) => Step<Wait, T>): Promise<T>;
  /** Reads, which wait for no writer's turn. */
  read<T>(steps: (s: S) => Step<Wait, T>): Promise<T>;
}
