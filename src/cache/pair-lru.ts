// LruCache's rules (a bound, a time-to-live per entry, second-chance
// eviction) for keys of two parts, held as a map of maps: a version id by
// module name, then by version string. A look-up then hashes the two short
// strings a payload entry already holds, where one key joined from them is a
// new string to build and hash for each entry: 150 version look-ups a sync
// took ~60 µs that way, ~15 µs this way (bench/README round 12).
//
// Recency goes by group: storing a key moves its module's group to the back,
// and eviction walks the groups from the front. A module with one version
// cached costs its own map: ~370 bytes an entry against ~170 for LruCache's
// joined keys (~150 with ten versions a module), bounded all the same.
import { EVICTED_AT_ONCE, type Entry } from "./lru";

export class PairLruCache<V> {
  /** Groups by first part, least recently stored or kept first; entries within a group likewise. */
  private readonly groups = new Map<string, Map<string, Entry<V>>>();
  private count = 0;

  constructor(
    private readonly maxEntries: number,
    private readonly ttlMs: number,
    private readonly clock: () => number = Date.now,
  ) {}

  /** `now`: the clock's time, read once by a caller that gets many keys. */
  get(first: string, second: string, now = this.clock()): V | undefined {
    const group = this.groups.get(first);
    const entry = group?.get(second);
    if (entry === undefined) return undefined;
    if (entry.expires <= now) {
      this.remove(first, group!, second);
      return undefined;
    }
    entry.read = true;
    return entry.value;
  }

  /** The clock this cache's entries expire on. */
  now(): number {
    return this.clock();
  }

  set(first: string, second: string, value: V): void {
    let group = this.groups.get(first);
    const replaced = group?.delete(second) === true;
    if (replaced) this.count--;
    // Room is made before the new entry goes in: it is never the one evicted.
    else if (this.count >= this.maxEntries) {
      this.evict(Math.ceil(this.maxEntries / EVICTED_AT_ONCE));
      group = this.groups.get(first);
    }
    if (group === undefined) group = new Map();
    else this.groups.delete(first);
    // At the back, with its new entry last: the most recently stored group.
    this.groups.set(first, group);
    group.set(second, { value, expires: this.clock() + this.ttlMs, read: false });
    this.count++;
  }

  get size(): number {
    return this.count;
  }

  private remove(first: string, group: Map<string, Entry<V>>, second: string): void {
    group.delete(second);
    this.count--;
    if (group.size === 0) this.groups.delete(first);
  }

  /**
   * Evicts `count` entries in one walk from the front, group by group: an
   * entry not read since it was stored or kept goes; a read one is unmarked
   * and its group, if it keeps any, moves to the back. Ends after at most two
   * passes, as LruCache's does: every entry a pass keeps is unmarked.
   */
  private evict(count: number): void {
    for (const [first, group] of this.groups) {
      this.groups.delete(first);
      for (const [second, entry] of group) {
        if (!entry.read) {
          group.delete(second);
          this.count--;
          if (--count === 0) break;
        } else entry.read = false;
      }
      if (group.size > 0) this.groups.set(first, group);
      if (count === 0) return;
    }
  }
}
