// Splits a sync payload as it arrives: the top-level object's small fields are
// parsed whole, and each entry of its `modules` array is handed over on its
// own, so a body of any size is read with memory bounded by one chunk.
//
// Each chunk is decoded once (a streaming decoder keeps characters split
// across chunks whole) and scanned as text: it follows the grammar of the
// top-level object and of the `modules` array, and every value it captures is
// then parsed by JSON.parse, which checks the rest.

import { SUSPECT_ESCAPE } from "../http/body";

export class PayloadSyntaxError extends Error {}

/** A known top-level field larger than its cap: refused (400) without being held. */
export class FieldTooLargeError extends Error {
  constructor(readonly field: string) {
    super(`Larger than ${MAX_VALUE_CHARS} characters`);
  }
}

/**
 * Captured values are held up to this size: no envelope field and no valid
 * module entry comes near it (an entry's strings total at most 4,515
 * characters, six bytes each when written as \u escapes).
 */
export const MAX_VALUE_CHARS = 64 * 1024;
/** Bytes of a chunk scanned before the entries they complete are handed over. */
const SLICE_BYTES = 64 * 1024;
/** Longer property names are refused: no name the payload has is near it. */
const MAX_KEY_CHARS = 1024;
/** Nesting inside one field or entry past this is refused (as http/body.ts's walker does). */
export const MAX_VALUE_DEPTH = 30;

/** Stands for a module entry larger than MAX_VALUE_CHARS, which was skipped unread. */
export const OVERSIZED_ENTRY: unique symbol = Symbol("oversized module entry");

export interface ModuleChunk {
  value: unknown;
  /** Whether the entry's text may hold NUL or unpaired surrogates (see http/body.ts). */
  suspectText: boolean;
}

export interface PayloadSink {
  /** A top-level field other than an array `modules` (a non-array `modules` comes here too). */
  field(name: string, value: unknown): void;
  /** The entries of `modules` completed by one chunk, in order. */
  modules(entries: ModuleChunk[]): void | Promise<void>;
}

const enum State { BeforeRoot, BeforeKey, BeforeFirstKey, InKey, AfterKey, BeforeValue, InValue, AfterValue, BeforeEntry, BeforeFirstEntry, InEntry, AfterEntry, Done }

const QUOTE = 0x22, BACKSLASH = 0x5c, COMMA = 0x2c, COLON = 0x3a;
const QUOTE_CHAR = '"';
const OPEN_OBJECT = 0x7b, CLOSE_OBJECT = 0x7d, OPEN_ARRAY = 0x5b, CLOSE_ARRAY = 0x5d;
const WHITESPACE = new Uint8Array(128);
for (const c of [0x20, 0x09, 0x0a, 0x0d]) WHITESPACE[c] = 1;

export class PayloadSplitter {
  private state = State.BeforeRoot;
  /** Text of the key or value being captured, carried over chunk boundaries. */
  private carried = "";
  private readonly decoder = new TextDecoder("utf-8", { fatal: true });
  private depth = 0;
  private inString = false;
  private key = "";
  private readonly seenKeys = new Set<string>();
  private entries: ModuleChunk[] = [];
  /** The value being scanned is not kept: an unknown field, or one past MAX_VALUE_CHARS. */
  private discarding = false;
  private oversized = false;
  /** Whether `modules` was an array (its entries went to sink.modules, not sink.field). */
  modulesArray = false;

  /** `fields`: the top-level fields to capture; others are scanned past, never held. */
  constructor(private readonly sink: PayloadSink, private readonly fields?: ReadonlySet<string>) {}

  /**
   * Feeds the next chunk; resolves once its completed entries have been
   * handed over. A large chunk is scanned SLICE_BYTES at a time, each slice's
   * entries handed over before the next is scanned: a chunk of tiny entries
   * (`{},` is 3 bytes) never puts more than a slice's worth in hand at once.
   */
  async push(chunk: Uint8Array): Promise<void> {
    for (let at = 0; at < chunk.byteLength; at += SLICE_BYTES) {
      let text: string;
      try {
        text = this.decoder.decode(chunk.subarray(at, at + SLICE_BYTES), { stream: true });
      } catch {
        throw new PayloadSyntaxError("Request body is not valid UTF-8");
      }
      this.scan(text);
      if (this.entries.length > 0) {
        const done = this.entries;
        this.entries = [];
        await this.sink.modules(done);
      }
    }
  }

  /** The body has ended: it must have been exactly one complete object. */
  end(): void {
    try {
      this.decoder.decode(); // a character cut off at the very end is invalid UTF-8
    } catch {
      throw new PayloadSyntaxError("Request body is not valid UTF-8");
    }
    if (this.state !== State.Done) throw new PayloadSyntaxError("Request body ended before the JSON object did");
  }

  private scan(chunk: string): void {
    const capturing = this.state === State.InKey || this.state === State.InValue || this.state === State.InEntry;
    let start = capturing ? 0 : -1;
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      if (this.inString) {
        // Jump to the next unescaped quote instead of stepping through the string.
        let q = chunk.indexOf(QUOTE_CHAR, i);
        while (q !== -1 && escapedAt(chunk, q, this.carried)) q = chunk.indexOf(QUOTE_CHAR, q + 1);
        if (q === -1) break;
        this.inString = false;
        i = q + 1;
        if (this.state === State.InKey) {
          this.key = parseJson(this.take(chunk, start, i)) as string;
          start = -1;
          this.state = State.AfterKey;
        } else if (this.depth === 0) {
          this.finish(chunk, start, i); // a string value or entry
          start = -1;
        }
        continue;
      }
      const c = chunk.charCodeAt(i);
      if (c < 128 && WHITESPACE[c] === 1) {
        i++;
        continue;
      }
      switch (this.state) {
        case State.BeforeRoot:
          if (c !== OPEN_OBJECT) throw new PayloadSyntaxError("Request body must be a JSON object");
          this.state = State.BeforeFirstKey;
          break;
        case State.BeforeFirstKey:
        case State.BeforeKey:
          if (c === QUOTE) {
            this.inString = true;
            this.state = State.InKey;
            start = i;
          } else if (c === CLOSE_OBJECT && this.state === State.BeforeFirstKey) this.state = State.Done;
          else throw new PayloadSyntaxError("Expected a property name");
          break;
        case State.AfterKey:
          if (c !== COLON) throw new PayloadSyntaxError("Expected ':' after a property name");
          if (this.seenKeys.has(this.key)) throw new PayloadSyntaxError(`Duplicate property "${this.key}"`);
          this.seenKeys.add(this.key);
          this.state = State.BeforeValue;
          break;
        case State.BeforeValue:
          if (this.key === "modules" && c === OPEN_ARRAY && this.wanted("modules")) {
            this.modulesArray = true;
            this.state = State.BeforeFirstEntry;
            break;
          }
          this.state = State.InValue;
          this.discarding = !this.wanted(this.key);
          this.oversized = false;
          start = i;
          continue; // the same byte opens the value
        case State.BeforeFirstEntry:
        case State.BeforeEntry:
          if (c === CLOSE_ARRAY && this.state === State.BeforeFirstEntry) {
            this.state = State.AfterValue;
            break;
          }
          if (c === CLOSE_ARRAY || c === COMMA) throw new PayloadSyntaxError("Expected a module entry");
          this.state = State.InEntry;
          this.discarding = false;
          this.oversized = false;
          start = i;
          continue;
        case State.InValue:
        case State.InEntry:
          if (c === QUOTE) this.inString = true;
          else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
            if (++this.depth > MAX_VALUE_DEPTH) throw new PayloadSyntaxError("Request body is nested too deeply");
          } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY || c === COMMA) {
            if (this.depth === 0) {
              // A scalar ended just before this byte, which belongs to the container.
              this.finish(chunk, start, i);
              start = -1;
              continue;
            }
            if (c !== COMMA && --this.depth === 0) {
              this.finish(chunk, start, i + 1);
              start = -1;
            }
          }
          break;
        case State.AfterValue:
          if (c === COMMA) this.state = State.BeforeKey;
          else if (c === CLOSE_OBJECT) this.state = State.Done;
          else throw new PayloadSyntaxError("Expected ',' or '}'");
          break;
        case State.AfterEntry:
          if (c === COMMA) this.state = State.BeforeEntry;
          else if (c === CLOSE_ARRAY) this.state = State.AfterValue;
          else throw new PayloadSyntaxError("Expected ',' or ']' between module entries");
          break;
        case State.Done:
          throw new PayloadSyntaxError("Unexpected data after the JSON object");
      }
      i++;
    }
    if (start === -1) return;
    if (!this.discarding) {
      this.carried += chunk.slice(start);
      if (this.state === State.InKey && this.carried.length > MAX_KEY_CHARS) throw new PayloadSyntaxError("Property name too long");
      if (this.carried.length <= MAX_VALUE_CHARS) return;
      // Held no further: the rest of this value is scanned past.
      this.discarding = true;
      this.oversized = true;
      this.carried = trailingBackslashes(this.carried) % 2 === 1 ? "\\" : "";
      return;
    }
    // A value scanned past keeps only whether it ends in an odd run of
    // backslashes: all escapedAt() needs to judge a quote at the next chunk's start.
    const run = trailingBackslashes(chunk);
    const odd = (run === chunk.length ? run + this.carried.length : run) % 2 === 1;
    this.carried = odd ? "\\" : "";
  }

  private wanted(key: string): boolean {
    return this.fields === undefined || this.fields.has(key);
  }

  /** The value being scanned has ended at `end`. */
  private finish(chunk: string, start: number, end: number): void {
    if (!this.discarding) {
      this.complete(this.take(chunk, start, end));
      return;
    }
    this.discarding = false;
    this.carried = "";
    if (this.state === State.InEntry) {
      this.state = State.AfterEntry;
      this.entries.push({ value: OVERSIZED_ENTRY, suspectText: false });
      return;
    }
    this.state = State.AfterValue;
    if (this.oversized) throw new FieldTooLargeError(this.key);
  }

  /** The value just captured is whole: parse it and route it. */
  private complete(text: string): void {
    const value = parseJson(text);
    if (this.state === State.InEntry) {
      this.state = State.AfterEntry;
      this.entries.push({ value, suspectText: SUSPECT_ESCAPE.test(text) });
    } else {
      this.state = State.AfterValue;
      this.sink.field(this.key, value);
    }
  }

  private take(chunk: string, start: number, end: number): string {
    const tail = chunk.slice(start === -1 ? 0 : start, end);
    if (this.carried === "") return tail;
    const all = this.carried + tail;
    this.carried = "";
    return all;
  }
}

/** Whether the quote at `q` is escaped: an odd run of backslashes before it (possibly in carried bytes). */
function escapedAt(chunk: string, q: number, carried: string): boolean {
  let backslashes = 0;
  for (let j = q - 1; j >= 0 && chunk.charCodeAt(j) === BACKSLASH; j--) backslashes++;
  if (backslashes === q) {
    // The run reaches the chunk's start: keep counting in the carried text.
    for (let j = carried.length - 1; j >= 0 && carried.charCodeAt(j) === BACKSLASH; j--) backslashes++;
  }
  return backslashes % 2 === 1;
}

function trailingBackslashes(chunk: string): number {
  let run = 0;
  for (let j = chunk.length - 1; j >= 0 && chunk.charCodeAt(j) === BACKSLASH; j--) run++;
  return run;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new PayloadSyntaxError("Request body is not valid JSON");
  }
}
