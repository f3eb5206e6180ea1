// The machine_names seen so far in a payload, to find repeats. A payload's
// first EXACT_NAMES names of at most EXACT_NAME_CHARS characters are held as
// they are, in a Set: the common body of a few hundred modules pays one
// string hash a name. Past that, and for longer names (a name is checked for
// repeats before it is judged, and may be any string up to an entry's size),
// each is kept as two independent 32-bit hashes (8 bytes) in an
// open-addressing table, without holding the name. Two different names
// collide there only if both hashes agree (about 1 in 2^64 per pair): a
// million names cost 16 MB instead of the ~150 MB a Set of strings takes.

/** Names held in the Set before the hashed table takes over. */
const EXACT_NAMES = 4096;
/** Longer names always go to the hashed table: a valid machine_name has at most 50 characters. */
const EXACT_NAME_CHARS = 64;

export class NameSet {
  /** The short names so far, while at most EXACT_NAMES; then null, and the table holds them all. */
  private exact: Set<string> | null = new Set();
  private capacity = 0;
  private size = 0;
  private keys = new Uint32Array(0);
  private used = new Uint8Array(0);

  /** Adds `name`; false when it was already there. */
  add(name: string): boolean {
    const exact = this.exact;
    // A name is always looked for where it would have been put: long ones in the table, from the first.
    if (exact === null || name.length > EXACT_NAME_CHARS) return this.insertName(name);
    const before = exact.size;
    exact.add(name);
    if (exact.size === before) return false;
    if (exact.size > EXACT_NAMES) {
      this.exact = null;
      for (const held of exact) this.insertName(held);
    }
    return true;
  }

  private insertName(name: string): boolean {
    // Room for 8,192 before the first growth, made when first needed.
    if (this.capacity === 0) {
      this.capacity = 1 << 14;
      this.keys = new Uint32Array(this.capacity * 2);
      this.used = new Uint8Array(this.capacity);
    }
    return this.insert(Bun.hash.crc32(name) >>> 0, Bun.hash.murmur32v3(name, 0x9e3779b9) >>> 0);
  }

  private insert(a: number, b: number): boolean {
    const mask = this.capacity - 1;
    for (let slot = b & mask; ; slot = (slot + 1) & mask) {
      if (this.used[slot] === 0) {
        this.used[slot] = 1;
        this.keys[slot * 2] = a;
        this.keys[slot * 2 + 1] = b;
        if (++this.size * 2 > this.capacity) this.grow();
        return true;
      }
      if (this.keys[slot * 2] === a && this.keys[slot * 2 + 1] === b) return false;
    }
  }

  private grow(): void {
    const { keys, used } = this;
    this.capacity *= 2;
    this.keys = new Uint32Array(this.capacity * 2);
    this.used = new Uint8Array(this.capacity);
    this.size = 0;
    for (let slot = 0; slot < used.length; slot++) {
      if (used[slot] === 1) this.insert(keys[slot * 2]!, keys[slot * 2 + 1]!);
    }
  }
}
