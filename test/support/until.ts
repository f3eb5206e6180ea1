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
