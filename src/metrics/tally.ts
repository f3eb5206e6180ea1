// Counts added on the hot path as plain numbers, handed to a prom-client
// counter when it is read (a scrape): prom-client's inc() hashes and checks
// its label object on every call, and a labels() child is that same inc
// bound to the object. A sync adds 14 such counts.

export class Tally<Labels extends Record<string, string>> {
  private readonly pending: number[];
  /** Added to since the last flush (a count of 0 still makes its series appear, as inc(labels, 0) does). */
  private readonly touched: boolean[];

  /** `series`: the label sets, addressed by their index. */
  constructor(private readonly series: readonly Labels[]) {
    this.pending = series.map(() => 0);
    this.touched = series.map(() => false);
  }

  add(index: number, count = 1): void {
    this.pending[index]! += count;
    this.touched[index] = true;
  }

  /** Moves what was added into the counter (its `collect` hook calls this). */
  flushInto(counter: { inc(labels: Labels, value: number): void }): void {
    for (let i = 0; i < this.series.length; i++) {
      if (!this.touched[i]) continue;
      counter.inc(this.series[i]!, this.pending[i]!);
      this.pending[i] = 0;
      this.touched[i] = false;
    }
  }
}
