// Time that a test moves by hand, for code that takes a clock (Unix ms).

export interface ManualClock {
  /** Pass this where a clock is taken. */
  now: () => number;
  advance(ms: number): void;
}

export function manualClock(start = Date.parse("2026-11-29T12:00:00Z")): ManualClock {
  let at = start;
  return { now: () => at, advance: (ms) => void (at += ms) };
}
