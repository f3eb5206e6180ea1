// Module entries as parsed, by the hash of their segment (the entry and the
// separator after it, as near-repeats.ts lays a body out): the
// entries many sites send byte for byte alike (a Drupal core release's 76
// core modules, a contrib module's new version) are parsed once per process,
// not once per site. JSON.parse and judging were ~40 µs of a release sync's
// main thread in process (bench/README round 27).

/**
 * An entry's text as parsed: its value (never changed by its users), whether
 * that text may hold NUL or unpaired surrogates (http/body.ts), and its length
 * in bytes within its segment (the separator follows).
 */
export interface ParsedEntry {
  readonly value: unknown;
  readonly suspectText: boolean;
  readonly length: number;
}

/**
 * Entries held at most, and their text's size (two bytes a character), which
 * stands for their values' (the text itself is not kept): a 150-module body's
 * entries average ~170 characters, so ~12,000 of them fill it.
 */
const MAX_ENTRIES = 20_000;
const MAX_TEXT_BYTES = 4 * 2 ** 20;
/**
 * An entry's text past this size (two bytes a character) is not held: a real
 * entry is a few hundred characters, and one near the body's limit would
 * empty the memory for everyone at each sync that sends it.
 */
const MAX_ENTRY_TEXT_BYTES = 32 * 1024;

/**
 * Bounded: when full it starts over (a clear costs nothing, and the entries
 * syncs share come back with the next sync that sends them).
 */
export class ParsedEntries {
  private readonly byHash = new Map<bigint, ParsedEntry>();
  private textBytes = 0;

  constructor(
    private readonly maxEntries = MAX_ENTRIES,
    private readonly maxTextBytes = MAX_TEXT_BYTES,
    private readonly maxEntryTextBytes = MAX_ENTRY_TEXT_BYTES,
  ) {}

  get(hash: bigint): ParsedEntry | undefined {
    return this.byHash.get(hash);
  }

  remember(hash: bigint, entry: ParsedEntry, textBytes: number): void {
    if (textBytes > this.maxEntryTextBytes || textBytes > this.maxTextBytes) return;
    if (this.byHash.size >= this.maxEntries || this.textBytes + textBytes > this.maxTextBytes) {
      this.byHash.clear();
      this.textBytes = 0;
    }
    this.byHash.set(hash, entry);
    this.textBytes += textBytes;
  }

  get size(): number {
    return this.byHash.size;
  }
}
