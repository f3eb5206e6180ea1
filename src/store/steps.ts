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

type Settled = { ok: true; value: unknown } | { ok: false; error: unknown };

function resume<Wait, T>(step: Step<Wait, T>, settled: Settled): IteratorResult<Wait, T> {
  return settled.ok ? step.next(settled.value) : step.throw(settled.error);
}

function* settle<Wait>(wait: Wait): Step<Wait, Settled> {
  try {
    return { ok: true, value: yield wait };
  } catch (error) {
    return { ok: false, error };
  }
}

/**
 * Two steps side by side, each going on as soon as what it waits for has
 * come; what both wait for at once is waited for together. On Postgres their
 * statements of one moment then travel in one write, one round trip instead
 * of two (postgres-js sends what is issued in one tick together), and the
 * server still runs them in order, `first`'s before `second`'s: the locks
 * `first` takes are taken before anything `second` does. On SQLite, whose
 * steps never wait, `first` runs to its end, then `second`. Either one's
 * error is the whole's, once both have settled what they were waiting for.
 */
export function* together<Wait, A, B>(first: Step<Wait, A>, second: Step<Wait, B>): Step<Wait, [A, B]> {
  try {
    let a = first.next();
    let b = second.next();
    for (;;) {
      if (a.done && b.done) return [a.value, b.value];
      if (a.done) b = resume(second, yield* settle(b.value as Wait));
      else if (b.done) a = resume(first, yield* settle(a.value));
      else {
        // Only a dialect whose waits are promises gets here (a step that never waits is done at once).
        const both = Promise.all([a.value, b.value].map((wait) => Promise.resolve(wait as PromiseLike<unknown>).then(
          (value): Settled => ({ ok: true, value }),
          (error: unknown): Settled => ({ ok: false, error }),
        )));
        const [forFirst, forSecond] = (yield both as Wait) as [Settled, Settled];
        a = resume(first, forFirst);
        b = resume(second, forSecond);
      }
    }
  } catch (err) {
    // The step still suspended is ended too, so that its own `finally` runs (a no-op for one already done).
    first.return(undefined as A);
    second.return(undefined as B);
    throw err;
  }
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
