// The averages the bench's reports and scripts print.

/** The mean; NaN for no values. */
export function mean(xs: readonly number[] | undefined): number {
  return xs && xs.length > 0 ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
}

/** The middle value (the mean of the two middle ones for an even count). */
export function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
