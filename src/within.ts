// A time limit on a promise: the callers that must never hang (Redis
// commands and probes, readiness checks) give up after it.

/** `work`, or the error `timeout()` makes if it has not settled within `ms`. */
export async function within<T>(ms: number, work: Promise<T>, timeout: () => Error): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([work, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(timeout()), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
