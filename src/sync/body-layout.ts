// Where a sync body's module entries lie, byte by byte: what lets a body that
// differs from the site's last one in a few entries be applied from those
// entries alone (near-repeats.ts).
//
// The scan works on UTF-8 bytes: every byte JSON's structure uses is ASCII,
// and no byte of a multi-byte character is below 0x80, so none is mistaken
// for one. entriesLayout runs on bodies JSON.parse has accepted; anything it
// is not sure of (a top-level key written with an escape, `modules` twice,
// entries that are not objects) answers null, and the body is not
// remembered. firstEntryStart runs on a new body, not parsed: what it finds
// is trusted only once the text around the entries has been parsed and
// checked (near-repeats.ts). Neither ever reads past the bytes given.

const QUOTE = 0x22, BACKSLASH = 0x5c, COMMA = 0x2c, COLON = 0x3a;
const OPEN_OBJECT = 0x7b, CLOSE_OBJECT = 0x7d, OPEN_ARRAY = 0x5b, CLOSE_ARRAY = 0x5d;
const MODULES_KEY = new TextEncoder().encode('"modules"');

export function isSpace(c: number | undefined): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function skipSpace(bytes: Uint8Array, at: number): number {
  while (isSpace(bytes[at])) at++;
  return at;
}

// Byte by byte rather than with indexOf: a call per string cost more than
// the loop (a 26 KB body: 20 µs against 59).

/** The position just past the string whose opening quote is at `at`, or -1. */
export function stringEnd(bytes: Uint8Array, at: number): number {
  const n = bytes.length;
  for (let i = at + 1; i < n; i++) {
    const c = bytes[i];
    if (c === BACKSLASH) i++;
    else if (c === QUOTE) return i + 1;
  }
  return -1;
}

/** The position just past the object or array opening at `at`, or -1 (on invalid JSON, some position or -1). */
export function containerEnd(bytes: Uint8Array, at: number): number {
  const n = bytes.length;
  let depth = 0;
  for (let i = at; i < n; i++) {
    const c = bytes[i];
    if (c === QUOTE) {
      for (i++; i < n; i++) {
        const d = bytes[i];
        if (d === BACKSLASH) i++;
        else if (d === QUOTE) break;
      }
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) depth++;
    else if ((c === CLOSE_OBJECT || c === CLOSE_ARRAY) && --depth === 0) return i + 1;
  }
  return -1;
}

/** The position just past the value starting at `at` (a scalar ends at the next `,` `}` `]` or space). */
function valueEnd(bytes: Uint8Array, at: number): number {
  const c = bytes[at];
  if (c === QUOTE) return stringEnd(bytes, at);
  if (c === OPEN_OBJECT || c === OPEN_ARRAY) return containerEnd(bytes, at);
  let i = at;
  while (i < bytes.length && !isSpace(bytes[i]) && bytes[i] !== COMMA && bytes[i] !== CLOSE_OBJECT && bytes[i] !== CLOSE_ARRAY) i++;
  return i > at ? i : -1;
}

function isModulesKey(bytes: Uint8Array, at: number, end: number): boolean {
  if (end - at !== MODULES_KEY.length) return false;
  for (let i = 0; i < MODULES_KEY.length; i++) if (bytes[at + i] !== MODULES_KEY[i]) return false;
  return true;
}

/**
 * Where each object of a run of `, `-separated objects from `at` up to `end`
 * starts and ends (just past its closing brace), or null if the run holds
 * anything else.
 */
export function objectSpans(bytes: Uint8Array, at: number, end: number): { starts: number[]; ends: number[] } | null {
  const starts: number[] = [];
  const ends: number[] = [];
  let i = skipSpace(bytes, at);
  for (;;) {
    if (i >= end || bytes[i] !== OPEN_OBJECT) return null;
    starts.push(i);
    const objectEnd = containerEnd(bytes, i);
    if (objectEnd === -1 || objectEnd > end) return null;
    ends.push(objectEnd);
    i = skipSpace(bytes, objectEnd);
    if (i >= end) return { starts, ends };
    if (bytes[i] !== COMMA) return null;
    i = skipSpace(bytes, i + 1);
  }
}

/**
 * Just past the separator between two entries that starts at `at`: spaces,
 * one `,`, spaces, before `end`; -1 without the comma.
 */
export function separatorEnd(bytes: Uint8Array, at: number, end: number): number {
  let i = at;
  while (i < end && isSpace(bytes[i])) i++;
  if (i >= end || bytes[i] !== COMMA) return -1;
  i++;
  while (i < end && isSpace(bytes[i])) i++;
  return i;
}

export interface EntriesLayout {
  /** Where each entry of `modules` starts. */
  starts: Int32Array;
  /** Just past the last entry. */
  end: number;
}

/**
 * Where the `count` entries of the top-level `modules` array lie in `bytes`
 * (a body JSON.parse accepted), or null when unsure or they are not all objects.
 */
export function entriesLayout(bytes: Uint8Array, count: number): EntriesLayout | null {
  if (count === 0) return null;
  let i = skipSpace(bytes, 0);
  if (bytes[i] !== OPEN_OBJECT) return null;
  i = skipSpace(bytes, i + 1);
  let found: EntriesLayout | null = null;
  while (bytes[i] === QUOTE) {
    const keyEnd = stringEnd(bytes, i);
    if (keyEnd === -1 || bytes.subarray(i, keyEnd).includes(BACKSLASH)) return null;
    const modules = isModulesKey(bytes, i, keyEnd);
    i = skipSpace(bytes, keyEnd);
    if (bytes[i] !== COLON) return null;
    i = skipSpace(bytes, i + 1);
    const end = valueEnd(bytes, i);
    if (end === -1) return null;
    if (modules) {
      // Twice: JSON.parse kept the last; not worth telling apart.
      if (found !== null || bytes[i] !== OPEN_ARRAY) return null;
      const run = objectSpans(bytes, i + 1, end - 1);
      if (run === null || run.starts.length !== count) return null;
      found = { starts: Int32Array.from(run.starts), end: run.ends[count - 1]! };
    }
    i = skipSpace(bytes, end);
    if (bytes[i] !== COMMA) break;
    i = skipSpace(bytes, i + 1);
  }
  return found;
}

/**
 * Where the first entry of the top-level `modules` array starts, scanning
 * only the fields before it; -1 when unsure (a key written with an escape
 * before it), or when that array does not start with an object. The caller
 * knows the text after the array holds no other `modules` key.
 */
export function firstEntryStart(bytes: Uint8Array): number {
  let i = skipSpace(bytes, 0);
  if (bytes[i] !== OPEN_OBJECT) return -1;
  i = skipSpace(bytes, i + 1);
  while (bytes[i] === QUOTE) {
    const keyEnd = stringEnd(bytes, i);
    if (keyEnd === -1 || bytes.subarray(i, keyEnd).includes(BACKSLASH)) return -1;
    const modules = isModulesKey(bytes, i, keyEnd);
    i = skipSpace(bytes, keyEnd);
    if (bytes[i] !== COLON) return -1;
    i = skipSpace(bytes, i + 1);
    if (modules) {
      if (bytes[i] !== OPEN_ARRAY) return -1;
      i = skipSpace(bytes, i + 1);
      return bytes[i] === OPEN_OBJECT ? i : -1;
    }
    const end = valueEnd(bytes, i);
    if (end === -1) return -1;
    i = skipSpace(bytes, end);
    if (bytes[i] !== COMMA) return -1;
    i = skipSpace(bytes, i + 1);
  }
  return -1;
}
