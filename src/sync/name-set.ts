// The machine_names seen so far in a streamed payload, to find repeats
// without holding the names: each is kept as two independent 32-bit hashes
// (8 bytes) in an open-addressing table. Two different names collide only if
// both hashes agree (about 1 in 2^64 per pair): a million names cost 16 MB
// instead of the ~150 MB a Set of strings takes.

export class NameSet {
  private capacity = 1 << 8;
  private size = 0;
  private keys = new Uint32Array(this.capacity * 2);
  private used = new Uint8Array(this.capacity);

  /** Adds `name`; false when it was already there. */
  add(name: string): boolean {
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
