// The write algorithms (sync, task batch, task completion) are written once,
// as generators over a dialect's statement steps (statements.ts). What a step
// yields is what it waits for: on Postgres the promise of a query, whose
// result the async driver sends back; on SQLite nothing, since bun:sqlite runs
// a statement synchronously, so the whole algorithm runs to its end in one
// call, inside a synchronous `BEGIN IMMEDIATE` transaction, with no await
// that would let another request use the connection mid-transaction.

/** A step of a write algorithm: yields `Wait`s, returns `T`. */
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

/** Runs steps that wait: each yielded promise is awaited, its result (or error) handed back to the step. */
export async function runAwaiting<T>(steps: AwaitingStep<T>): Promise<T> {
  let next = steps.next();
  while (!next.done) {
    let result: unknown;
    try {
      result = await next.value;
    } catch (err) {
      next = steps.throw(err);
      continue;
    }
    next = steps.next(result);
  }
  return next.value;
}

/** Inside an awaiting step: waits for `query` and returns its result, typed. */
export function* waitFor<T>(query: PromiseLike<T>): AwaitingStep<T> {
  return (yield query) as T;
}
