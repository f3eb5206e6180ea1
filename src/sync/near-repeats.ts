// Near repeats: a body that is, byte for byte, the site's last applied one
// but for a run of entries (one module updated: the common changed re-sync),
// and perhaps for the text before the entries (a Drupal core release moves
// core_version as well as the core modules). Such a body is applied from
// that run alone: parsed, judged and looked up are its few entries, not the
// 150 (JSON.parse and judging were ~70 µs of a ~210 µs drift sync's main
// thread; bench/README round 26).
//
// Per site, what is remembered of its last body is its layout, not its bytes:
// where each entry starts, a 64-bit hash of each entry with the separator
// after it, of the text before the first entry and of the text after the
// last, and each entry's module id: 16 bytes an entry. A new body is walked
// entry by entry from the front and from the back while those hashes agree;
// what lies between is the changed run, its entries found by their braces
// (or each where a segment met before says it ends: changedRun) and each
// parsed on its own. That each parses, and that only `,` and spaces
// lie between them, proves the whole body valid JSON with those values in
// place of the old ones (the run starts where a value is due and ends where
// one has ended). The separators are checked in every body; an entry whose
// segment (the entry and the separator after it) was met before, byte for
// byte, in any site's body, is not parsed again: the entries many sites send
// alike (a core release's) are parsed once (parsed-entries.ts). The text
// after the entries must be as it was (it holds no other `modules` key); the
// text before them may differ,
// and is then parsed with it as a body without entries and checked as a
// whole body's envelope is.
//
// A near repeat is used only when it cannot differ from a full parse: the
// last body had no skipped entry and left the site holding exactly its
// modules (its fingerprint stored), the run's entries are all valid and name
// the same modules in the same places, the site token, URL and kind of
// bearer the last body was checked against are unchanged, and a changed
// envelope passes every check. The store checks, in the sync's transaction,
// that the site still holds that body's modules and that the run names those
// modules (SyncCommand.partOf); anything else is applied the ordinary way.
// The hashes are seeded at random per process: a caller cannot search for
// two entries that would pass for each other.
import type { AcceptedSync } from "../inventory";
import type { SiteRecord } from "../store/types";
import { SUSPECT_ESCAPE } from "../http/body";
import { containerEnd, entriesLayout, firstEntryStart, isSpace, separatorEnd } from "./body-layout";
import { ParsedEntries, type ParsedEntry } from "./parsed-entries";

/**
 * The most memory all sites' layouts take together, about: 40 MiB holds
 * ~15,000 sites of 150 modules (16 bytes an entry, ~400 a site). Past it the
 * least recently synced sites are forgotten (their next changed body is
 * parsed whole).
 */
const MAX_BYTES = 40 * 2 ** 20;
const BYTES_PER_ENTRY = 16;
/** A site's own objects and arrays, besides its entries' slots and its strings (counted as they are). */
const BYTES_PER_SITE = 300;
/** A site's bodies past this many entries are not remembered (they are rare, and long to walk). */
const MAX_SITE_ENTRIES = 2_000;

const utf8 = new TextDecoder("utf-8", { fatal: true });
const COMMA = 0x2c, OPEN_OBJECT = 0x7b;

/** What a sync keeps of a body's envelope (validate.ts envelopeOf). */
export type KeptEnvelope = Omit<AcceptedSync, "errorsTotal">;

interface RememberedBody {
  /** The body's fingerprint, as stored with the site (digest.ts). */
  fingerprint: string;
  /** A hash of what the body was checked against (the site's token hash and URL, the bearer's kind). */
  checkedAgainst: bigint;
  length: number;
  starts: Int32Array;
  /** Just past the last entry. */
  end: number;
  /** [0]: the text before the first entry; [1 + i]: entry i with the separator after it; [n + 1]: the text after the last. */
  hashes: BigUint64Array;
  moduleIds: Uint32Array;
  envelope: KeptEnvelope;
}

/** A body found to be a near repeat: its changed run, to be judged and applied (SyncService.applyNear). */
export interface NearRepeat {
  /** The run's values, in order, as JSON.parse gave them (shared with other near repeats of the same text: not to be changed). */
  values: unknown[];
  /** Whether the run's text may hold NUL or unpaired surrogates (see http/body.ts). */
  suspectText: boolean;
  /** The position of the run's first entry in the body. */
  first: number;
  /** The module ids the run's entries must have: those of the entries they replace. */
  moduleIds: Uint32Array;
  /** The body's other entries: byte for byte the last body's. */
  untouched: number;
  /** The fingerprint of the last body, whose modules the site must hold. */
  assumes: string;
  /**
   * Null: the text around the entries is the last body's. Else it changed:
   * that text, which is the body with an empty `modules` array, to be
   * checked as a whole body's envelope is (the entries are valid JSON in place).
   */
  envelopeText: string | null;
  /**
   * The body's layout, to be remembered once it has been applied. Its
   * envelope is the last body's: the caller puts in a changed one once checked.
   */
  next: RememberedBody;
}

/** A near repeat's changed entries, as match() found them. */
interface ChangedRun {
  first: number;
  values: unknown[];
  suspectText: boolean;
  /** Where each starts in the body. */
  runStarts: number[];
  /** The hash of each one's segment (the entry and the separator after it), as the layout keeps it. */
  runHashes: BigUint64Array;
}

/** Its entries' slots, its strings (two bytes a character, at most), its objects. */
function costOf(body: RememberedBody): number {
  const { siteName, drupalInfo } = body.envelope;
  const text = body.fingerprint.length + siteName.length + drupalInfo.coreVersion.length + drupalInfo.phpVersion.length + (drupalInfo.ipAddress?.length ?? 0);
  return body.starts.length * BYTES_PER_ENTRY + 2 * text + BYTES_PER_SITE;
}

/** Random per process (see above). */
const SEED = crypto.getRandomValues(new BigUint64Array(1))[0]!;

const hashOf = (bytes: Uint8Array, from: number, to: number): bigint => Bun.hash.wyhash(bytes.subarray(from, to), SEED);

function checkedAgainst(site: Pick<SiteRecord, "tokenHash" | "normalizedUrl">, bearer: string): bigint {
  return Bun.hash.wyhash(`${site.tokenHash}\n${site.normalizedUrl}\n${bearer}`, SEED);
}

/** Where entry i's segment (the entry and the separator after it) ends: the next entry's start, or `end` for the last. */
const segmentEnd = (starts: Int32Array, end: number, i: number): number => (i + 1 < starts.length ? starts[i + 1]! : end);

/** `bytes` from `from` to `to` as text, or null if they are not UTF-8. */
function decoded(bytes: Uint8Array, from: number, to: number): string | null {
  try {
    return utf8.decode(bytes.subarray(from, to));
  } catch {
    return null;
  }
}

export class NearRepeats {
  /** Least recently remembered first (Map order). */
  private readonly bySite = new Map<number, RememberedBody>();
  private bytes = 0;
  /** The changed runs' entries, parsed, by their segment's hash: shared by all sites. */
  private readonly entries = new ParsedEntries();

  constructor(private readonly maxBytes = MAX_BYTES) {}

  /**
   * Remembers a body just applied at once, with no entry skipped, that left
   * the site holding exactly its modules (`moduleIds`: its entries', in order).
   */
  remember(siteId: number, site: Pick<SiteRecord, "tokenHash" | "normalizedUrl">, bearer: string, bytes: Uint8Array, fingerprint: string, moduleIds: Uint32Array, envelope: KeptEnvelope): void {
    const count = moduleIds.length;
    const layout = count <= MAX_SITE_ENTRIES ? entriesLayout(bytes, count) : null;
    if (layout === null) {
      this.forget(siteId);
      return;
    }
    const { starts, end } = layout;
    const hashes = new BigUint64Array(count + 2);
    hashes[0] = hashOf(bytes, 0, starts[0]!);
    for (let i = 0; i < count; i++) hashes[i + 1] = hashOf(bytes, starts[i]!, segmentEnd(starts, end, i));
    hashes[count + 1] = hashOf(bytes, end, bytes.length);
    this.keep(siteId, { fingerprint, checkedAgainst: checkedAgainst(site, bearer), length: bytes.length, starts, end, hashes, moduleIds, envelope });
  }

  /** Remembers the layout of a near repeat once it has been applied. */
  applied(siteId: number, near: NearRepeat): void {
    this.keep(siteId, near.next);
  }

  forget(siteId: number): void {
    const kept = this.bySite.get(siteId);
    if (kept === undefined) return;
    this.bySite.delete(siteId);
    this.bytes -= costOf(kept);
  }

  /** The memory the remembered layouts take, about (bytes). */
  get size(): number {
    return this.bytes;
  }

  /**
   * `bytes` as a near repeat of the site's last body, or null (not one, or
   * not sure): the caller then parses it whole. `fingerprint`: this body's.
   */
  match(siteId: number, site: Pick<SiteRecord, "tokenHash" | "normalizedUrl">, bearer: string, bytes: Uint8Array, fingerprint: string): NearRepeat | null {
    const last = this.bySite.get(siteId);
    if (last === undefined || last.checkedAgainst !== checkedAgainst(site, bearer)) return null;
    const { starts, end, hashes, length } = last;
    const count = starts.length;
    // The text after the last entry: as it was (it holds no `modules` key), at the end.
    const shift = bytes.length - length;
    const tailFrom = end + shift;
    if (tailFrom < 0 || hashOf(bytes, tailFrom, bytes.length) !== hashes[count + 1]) return null;
    // The text before the first entry: as it was, or found again (a release changes drupal_info's core_version).
    let headEnd = starts[0]!;
    const sameHead = headEnd <= tailFrom && hashOf(bytes, 0, headEnd) === hashes[0];
    if (!sameHead) {
      headEnd = firstEntryStart(bytes);
      if (headEnd === -1 || headEnd > tailFrom) return null;
    }
    const headShift = headEnd - starts[0]!;
    const segmentTo = (i: number) => segmentEnd(starts, end, i);
    // Entries as they were, from the front (moved as the head did) and from the back (moved as the tail did).
    let first = 0;
    while (first < count && segmentTo(first) + headShift <= tailFrom && hashOf(bytes, starts[first]! + headShift, segmentTo(first) + headShift) === hashes[first + 1]) first++;
    let lastChanged = count - 1;
    while (lastChanged >= first && starts[lastChanged]! + shift >= starts[first]! + headShift && hashOf(bytes, starts[lastChanged]! + shift, segmentTo(lastChanged) + shift) === hashes[lastChanged + 1]) lastChanged--;
    let envelopeText: string | null = null;
    if (!sameHead) {
      const head = decoded(bytes, 0, headEnd);
      const tail = decoded(bytes, tailFrom, bytes.length);
      if (head === null || tail === null) return null;
      envelopeText = head + tail;
    }
    if (first === count) {
      // Every entry as it was: a near repeat only if the envelope changed and nothing lies between the
      // entries and the tail (else nothing changed, or entries were added at the end).
      if (envelopeText === null || end + headShift !== tailFrom) return null;
      return this.found(last, bytes, fingerprint, envelopeText, { first, values: [], suspectText: false, runStarts: [], runHashes: new BigUint64Array(0) }, headShift, shift);
    }
    // Entries first..lastChanged changed: the run spans from where entry `first` starts to where entry
    // lastChanged + 1 starts (moved as the tail did), less the separator before it; or to the tail.
    if (lastChanged < first) return null;
    const runFrom = starts[first]! + headShift;
    let runTo = lastChanged + 1 < count ? starts[lastChanged + 1]! + shift : tailFrom;
    if (lastChanged + 1 < count) {
      while (runTo > runFrom && isSpace(bytes[runTo - 1])) runTo--;
      if (bytes[runTo - 1] !== COMMA) return null;
      runTo--;
      while (runTo > runFrom && isSpace(bytes[runTo - 1])) runTo--;
    }
    if (runTo <= runFrom) return null;
    // Each entry's segment (the entry and the separator after it, as the layout hashes it) reaches the next
    // entry's start: within the run, the next one found; past it, the first entry after the run, moved as the tail did.
    const runEnd = lastChanged + 1 < count ? starts[lastChanged + 1]! + shift : tailFrom;
    const run = this.changedRun(last, bytes, first, lastChanged - first + 1, runFrom, runTo, runEnd, lastChanged + 1 < count);
    return run === null ? null : this.found(last, bytes, fingerprint, envelopeText, run, headShift, shift);
  }

  /**
   * The `changed` entries from runFrom (past spaces) to runTo, each one's
   * segment reaching the next one's start (the last one's, runEnd: past a
   * separator if `entryFollows`, else runTo itself): found,
   * hashed, and parsed or met before; null unless they are exactly `changed`
   * objects with only separators between them. A segment is first guessed:
   * as long as the one it replaces, plus what the entry before it grew by (a
   * core release moves every core module to its new version alike), and
   * taken if that text is a segment met before (its hash known, and with it
   * the entry's length) whose separator lies where the entry ends. Otherwise
   * the entry is walked brace by brace. Walking every entry of a release's
   * run was ~15 µs of its sync's ~300 on the serving thread (bench/README
   * round 33).
   */
  private changedRun(last: RememberedBody, bytes: Uint8Array, first: number, changed: number, runFrom: number, runTo: number, runEnd: number, entryFollows: boolean): ChangedRun | null {
    const { starts, end } = last;
    const runStarts: number[] = new Array(changed);
    const runHashes = new BigUint64Array(changed);
    const values: unknown[] = new Array(changed);
    let suspectText = false;
    let at = runFrom;
    while (at < runTo && isSpace(bytes[at])) at++;
    let grown = 0;
    for (let i = 0; i < changed; i++) {
      if (at >= runTo || bytes[at] !== OPEN_OBJECT) return null;
      const lastOfRun = i === changed - 1;
      const replacedLength = segmentEnd(starts, end, first + i) - starts[first + i]!;
      // The guess, and the segment it gives if taken: the last one's end is known.
      const guess = lastOfRun ? runEnd : at + replacedLength + grown;
      let to = -1;
      let guessHash: bigint | null = null;
      let entry: ParsedEntry | null | undefined;
      if (guess > at && (lastOfRun || (guess < runTo && bytes[guess] === OPEN_OBJECT))) {
        guessHash = hashOf(bytes, at, guess);
        entry = this.entries.get(guessHash);
        // The entry's separator, where it ends: none before the text after the entries (an entry
        // longer than the guess fails both tests: separatorEnd finds no comma before `guess`).
        if (entry !== undefined) {
          const entryEnd = at + entry.length;
          if (lastOfRun && !entryFollows ? entryEnd === guess : separatorEnd(bytes, entryEnd, guess) === guess) to = guess;
        }
      }
      let hash = guessHash;
      if (to === -1) {
        const objectEnd = containerEnd(bytes, at);
        if (objectEnd === -1 || objectEnd > runTo) return null;
        if (lastOfRun) {
          if (objectEnd !== runTo) return null;
          to = runEnd;
        } else {
          to = separatorEnd(bytes, objectEnd, runTo);
          if (to === -1 || to >= runTo || bytes[to] !== OPEN_OBJECT) return null;
        }
        if (to !== guess || hash === null) hash = hashOf(bytes, at, to);
        entry = this.entries.get(hash) ?? this.parsedEntry(bytes, at, objectEnd, hash);
        if (entry === null) return null;
      }
      runStarts[i] = at;
      runHashes[i] = hash!;
      values[i] = entry!.value;
      suspectText ||= entry!.suspectText;
      grown = to - at - replacedLength;
      at = to;
    }
    return { first, values, suspectText, runStarts, runHashes };
  }

  /**
   * The entry from `from` to `to` (an object, as changedRun found it), parsed, and remembered by the
   * hash of its segment; null if it is not UTF-8 or not JSON. The same segment bytes met again hold
   * the same entry bytes (its braces end it within the segment), which parse to the same value; the
   * separators of each body are checked by changedRun() whether its entries were met before or not.
   */
  private parsedEntry(bytes: Uint8Array, from: number, to: number, hash: bigint): ParsedEntry | null {
    const text = decoded(bytes, from, to);
    if (text === null) return null;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return null;
    }
    const entry = { value, suspectText: SUSPECT_ESCAPE.test(text), length: to - from };
    this.entries.remember(hash, entry, 2 * text.length);
    return entry;
  }

  private found(last: RememberedBody, bytes: Uint8Array, fingerprint: string, envelopeText: string | null, run: ChangedRun, headShift: number, shift: number): NearRepeat {
    const { first, values } = run;
    return {
      values,
      suspectText: run.suspectText,
      first,
      moduleIds: last.moduleIds.subarray(first, first + values.length),
      untouched: last.starts.length - values.length,
      assumes: last.fingerprint,
      envelopeText,
      next: this.nextLayout(last, bytes, fingerprint, run, headShift, shift),
    };
  }

  /** The layout of `bytes`: the last body's, its changed entries at `runStarts`, those before them moved as the head did, those after as the tail did. */
  private nextLayout(last: RememberedBody, bytes: Uint8Array, fingerprint: string, run: ChangedRun, headShift: number, shift: number): RememberedBody {
    const { first, runStarts } = run;
    const count = last.starts.length;
    const after = first + runStarts.length;
    const starts = new Int32Array(count);
    for (let i = 0; i < first; i++) starts[i] = last.starts[i]! + headShift;
    starts.set(runStarts, first);
    for (let i = after; i < count; i++) starts[i] = last.starts[i]! + shift;
    const end = last.end + shift;
    const hashes = last.hashes.slice();
    hashes[0] = hashOf(bytes, 0, starts[0]!);
    // The entry before the run: its separator may have grown (the run began with spaces).
    if (first > 0) hashes[first] = hashOf(bytes, starts[first - 1]!, segmentEnd(starts, end, first - 1));
    hashes.set(run.runHashes, first + 1);
    return { ...last, fingerprint, length: bytes.length, starts, end, hashes };
  }

  private keep(siteId: number, body: RememberedBody): void {
    this.forget(siteId);
    const cost = costOf(body);
    if (cost > this.maxBytes) return;
    this.bySite.set(siteId, body);
    this.bytes += cost;
    if (this.bytes <= this.maxBytes) return;
    // Down to 7/8 at once, as SiteStates does (store/site-states.ts).
    for (const oldest of this.bySite.keys()) {
      if (this.bytes <= this.maxBytes * 0.875 || oldest === siteId) break;
      this.forget(oldest);
    }
  }
}
