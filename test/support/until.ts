/**
 * Polls `probe` until it returns something truthy (returned), or fails after
 * `ms` naming `what` and the last error the probe threw.
 */
export async function until<T>(probe: () => T | undefined | null | false | Promise<T | undefined | null | false>, ms: number, what: string, everyMs = 25): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    await Bun.sleep(everyMs);
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}${last ? ` (last error: ${last})` : ""}`);
}

/**
 * Waits until the clock has left the current millisecond. Sync times and the
 * marks of computed update statuses are kept to the millisecond: a sync in
 * the very millisecond of the computation before it could not be told from
 * one that computation saw (production syncs of one site are minutes apart).
 */
export async function nextMillisecond(): Promise<void> {
  const now = Date.now();
  await until(() => Date.now() > now, 1000, "the clock to pass the current millisecond", 1);
}
