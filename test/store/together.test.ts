// together(): two store steps side by side, so that on Postgres what both
// wait for at once travels in one round trip (a sync's site lock and its new
// catalog ids). Driven here by runAwaiting and runNow, as the dialects do,
// with "queries" that record when they are sent (awaited) and answered.
import { expect, test } from "bun:test";
import { runAwaiting, runNow, together, waitFor, type AwaitingStep, type NowStep } from "../../src/store/steps";

/** A query in the manner of postgres-js: sent when first awaited, answered when the test says. */
class Query<T> implements PromiseLike<T> {
  private settle: { resolve: (v: T) => void; reject: (e: unknown) => void } | null = null;
  private readonly answer = new Promise<T>((resolve, reject) => {
    this.settle = { resolve, reject };
  });

  constructor(readonly name: string, private readonly log: string[]) {}

  then<R1 = T, R2 = never>(onfulfilled?: ((v: T) => R1 | PromiseLike<R1>) | null, onrejected?: ((e: unknown) => R2 | PromiseLike<R2>) | null): PromiseLike<R1 | R2> {
    if (!this.log.includes(`sent ${this.name}`)) this.log.push(`sent ${this.name}`);
    return this.answer.then(onfulfilled, onrejected);
  }

  resolve(value: T): void {
    this.settle!.resolve(value);
  }

  reject(error: unknown): void {
    this.settle!.reject(error);
  }
}

/** Lets every promise callback queued so far run. */
const drain = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

test("what both steps wait for at once is sent together; each goes on with its own answer", async () => {
  const log: string[] = [];
  const lock = new Query<string>("lock", log);
  const ids = new Query<number>("ids", log);
  const more = new Query<number>("more ids", log);
  function* locking(): AwaitingStep<string> {
    const held = yield* waitFor(lock);
    log.push(`lock got ${held}`);
    return held;
  }
  function* resolving(): AwaitingStep<number> {
    const first = yield* waitFor(ids);
    log.push(`ids got ${first}`);
    const second = yield* waitFor(more);
    return first + second;
  }
  const done = runAwaiting(together(locking(), resolving()));
  await drain();
  // Both sent before either answered: one round trip.
  expect(log).toEqual(["sent lock", "sent ids"]);
  ids.resolve(1);
  await drain();
  // Waits for both of the moment: the second step's next query is not sent before the lock's answer.
  expect(log).toEqual(["sent lock", "sent ids"]);
  lock.resolve("site 7");
  await drain();
  expect(log).toEqual(["sent lock", "sent ids", "lock got site 7", "ids got 1", "sent more ids"]);
  more.resolve(2);
  expect(await done).toEqual(["site 7", 3]);
});

test("an error of either step is the whole's, once both have been answered; the other step's answer is dropped", async () => {
  const log: string[] = [];
  const lock = new Query<string>("lock", log);
  const ids = new Query<number>("ids", log);
  const after = new Query<number>("after", log);
  function* locking(): AwaitingStep<string> {
    return yield* waitFor(lock);
  }
  function* resolving(): AwaitingStep<number> {
    yield* waitFor(ids);
    return yield* waitFor(after);
  }
  let settled = false;
  const done = runAwaiting(together(locking(), resolving())).finally(() => {
    settled = true;
  });
  await drain();
  lock.reject(new Error("site gone"));
  await drain();
  expect(settled).toBe(false);
  ids.resolve(1);
  await expect(done).rejects.toThrow("site gone");
  // The second step did not go on to its next statement.
  expect(log).toEqual(["sent lock", "sent ids"]);
});

test("a step may catch its own query's error and go on", async () => {
  const log: string[] = [];
  const lock = new Query<string>("lock", log);
  const ids = new Query<number>("ids", log);
  function* locking(): AwaitingStep<string> {
    return yield* waitFor(lock);
  }
  function* resolving(): AwaitingStep<number> {
    try {
      return yield* waitFor(ids);
    } catch {
      return -1;
    }
  }
  const done = runAwaiting(together(locking(), resolving()));
  await drain();
  ids.reject(new Error("conflict"));
  lock.resolve("site 7");
  expect(await done).toEqual(["site 7", -1]);
});

test("steps that never wait (SQLite) run one after the other, the first to its end first", () => {
  const order: string[] = [];
  function* first(): NowStep<string> {
    order.push("first starts");
    order.push("first ends");
    return "a";
  }
  function* second(): NowStep<number> {
    order.push("second starts");
    return 2;
  }
  expect(runNow(together(first(), second()))).toEqual(["a", 2]);
  expect(order).toEqual(["first starts", "first ends", "second starts"]);
});
