// Near repeats: a body that is, byte for byte, the site's last applied one
// but for a run of entries (one module updated: the common changed re-sync).
// Such a body is applied from that run alone: parsed, judged and looked up
// are its few entries, not the 150 (JSON.parse and judging were ~70 µs of a
// ~210 µs drift sync's main thread; bench/README round 26).
//
// Per site, what is remembered of its last body is its layout, not its bytes:
// where each entry starts, a 64-bit hash of each entry with the separator
// after it, of the text before the first entry and after the last, and each
// entry's module id: ~20 bytes an entry. A new body is walked entry by entry
// from the front and from the back while those hashes agree; what lies
// between is the changed run, parsed on its own as `[run]`. That it parses
// as an array of as many values proves the whole body valid JSON with those
// values in place of the old ones (the run starts where a value is due and
// ends where one has ended); the text around the entries, and so the
// envelope, is the old body's, checked already.
//
// A near repeat is used only when it cannot differ from a full parse: the
// last body had no skipped entry and left the site holding exactly its
// modules (its fingerprint stored), the run's entries are all valid and name
// the same modules in the same places, and the site token, URL and kind of
// bearer the last body was checked against are unchanged. The store checks,
// in the sync's transaction, that the site still holds that body's modules
// (SyncCommand.partOf); anything else is applied the ordinary way.
import type { AcceptedSync } from "../inventory";
import type { SiteRecord } from "../store/types";
import { entriesLayout, objectStarts } from "./body-layout";

/**
 * The most memory all sites' layouts take together, about: 40 MiB holds
 * ~15,000 sites of 150 modules (16 bytes an entry, ~400 a site). Past it the
 * least recently synced sites are forgotten (their next changed body is
 * parsed whole).
 */
const MAX_BYTES = 40 * 2 ** 20;
const BYTES_PER_ENTRY = 16;
/** The site's own objects and strings besides its entries' arrays. */
const BYTES_PER_SITE = 400;
/** A site's bodies past this many entries are not remembered (they are rare, and long to walk). */
const MAX_SITE_ENTRIES = 2_000;

const SUSPECT_ESCAPE = /\\u(?:0000|[dD][89a-fA-F])/;
const utf8 = new TextDecoder("utf-8", { fatal: true });
const COMMA = 0x2c;

export type Envelope = Omit<AcceptedSync, "errorsTotal">;

interface RememberedBody {
  /** The body's fingerprint, as stored with the site (digest.ts). */
  fingerprint: string;
  /** What the body was checked against (the site's token hash and URL, the bearer's kind). */
  checkedAgainst: string;
  length: number;
  starts: Int32Array;
  /** Just past the last entry. */
  end: number;
  /** [0]: the text before the first entry; [1 + i]: entry i with the separator after it; [n + 1]: the text after the last. */
  hashes: BigUint64Array;
  moduleIds: Uint32Array;
  envelope: Envelope;
}

/** A body found to be a near repeat: its changed run, to be judged and applied (SyncService.applyNear). */
export interface NearRepeat {
  /** The run's values, in order, as JSON.parse gave them. */
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
  /** The envelope: the last body's, unchanged. */
  envelope: Envelope;
  /** The body's layout, to be remembered once it has been applied. */
  next: RememberedBody;
}

const costOf = (body: RememberedBody): number => body.starts.length * BYTES_PER_ENTRY + BYTES_PER_SITE;

function checkedAgainst(site: Pick<SiteRecord, "tokenHash" | "normalizedUrl">, bearer: string): string {
  return `${site.tokenHash}\n${site.normalizedUrl}\n${bearer}`;
}

const hashOf = (bytes: Uint8Array, from: number, to: number): bigint => Bun.hash.wyhash(bytes.subarray(from, to), 0n);

function isSpace(c: number | undefined): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

export class NearRepeats {
  /** Least recently remembered first (Map order). */
  private readonly bySite = new Map<number, RememberedBody>();
  private bytes = 0;

  constructor(private readonly maxBytes = MAX_BYTES) {}

  /**
   * Remembers a body just applied at once, with no entry skipped, that left
   * the site holding exactly its modules (`moduleIds`: its entries', in order).
   */
  remember(siteId: number, site: Pick<SiteRecord, "tokenHash" | "normalizedUrl">, bearer: string, bytes: Uint8Array, fingerprint: string, moduleIds: Float64Array, envelope: Envelope): void {
    const count = moduleIds.length;
    // Catalog ids are far below 2^32: kept in four bytes each, or not at all.
    const layout = count <= MAX_SITE_ENTRIES && moduleIds.every((id) => id <= 0xffffffff) ? entriesLayout(bytes, count) : null;
    if (layout === null) {
      this.forget(siteId);
      return;
    }
    const { starts, end } = layout;
    const hashes = new BigUint64Array(count + 2);
    hashes[0] = hashOf(bytes, 0, starts[0]!);
    for (let i = 0; i < count; i++) hashes[i + 1] = hashOf(bytes, starts[i]!, i + 1 < count ? starts[i + 1]! : end);
    hashes[count + 1] = hashOf(bytes, end, bytes.length);
    this.keep(siteId, { fingerprint, checkedAgainst: checkedAgainst(site, bearer), length: bytes.length, starts, end, hashes, moduleIds: Uint32Array.from(moduleIds), envelope });
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
    const shift = bytes.length - length;
    // The text before the first entry and after the last (the envelope): as it was.
    const tailFrom = end + shift;
    if (tailFrom < starts[0]! || hashOf(bytes, 0, starts[0]!) !== hashes[0] || hashOf(bytes, tailFrom, bytes.length) !== hashes[count + 1]) return null;
    const segmentEnd = (i: number) => (i + 1 < count ? starts[i + 1]! : end);
    // Entries as they were, from the front (in place) and from the back (shifted).
    let first = 0;
    while (first < count && segmentEnd(first) <= tailFrom && hashOf(bytes, starts[first]!, segmentEnd(first)) === hashes[first + 1]) first++;
    if (first === count) return null;
    let last_ = count - 1;
    while (last_ >= first && starts[last_]! + shift >= starts[first]! && hashOf(bytes, starts[last_]! + shift, segmentEnd(last_) + shift) === hashes[last_ + 1]) last_--;
    // Entries first..last_ changed: the run spans from where entry `first` starts to where entry
    // last_ + 1 starts (shifted), less the separator before it; or to the end of the entries.
    if (last_ < first) return null;
    const runFrom = starts[first]!;
    let runTo = last_ + 1 < count ? starts[last_ + 1]! + shift : tailFrom;
    if (last_ + 1 < count) {
      while (runTo > runFrom && isSpace(bytes[runTo - 1])) runTo--;
      if (bytes[runTo - 1] !== COMMA) return null;
      runTo--;
      while (runTo > runFrom && isSpace(bytes[runTo - 1])) runTo--;
    }
    if (runTo <= runFrom) return null;
    const changed = last_ - first + 1;
    let text: string;
    let values: unknown;
    try {
      text = utf8.decode(bytes.subarray(runFrom, runTo));
      values = JSON.parse(`[${text}]`);
    } catch {
      return null;
    }
    if (!Array.isArray(values) || values.length !== changed) return null;
    const run = objectStarts(bytes, runFrom, runTo);
    if (run === null || run.starts.length !== changed || run.lastEnd !== runTo) return null;
    return {
      values,
      suspectText: SUSPECT_ESCAPE.test(text),
      first,
      moduleIds: last.moduleIds.subarray(first, first + changed),
      untouched: count - changed,
      assumes: last.fingerprint,
      envelope: last.envelope,
      next: this.nextLayout(last, bytes, fingerprint, first, run.starts, shift),
    };
  }

  /** The layout of `bytes`: the last body's, its changed entries at `runStarts`, those after them shifted. */
  private nextLayout(last: RememberedBody, bytes: Uint8Array, fingerprint: string, first: number, runStarts: number[], shift: number): RememberedBody {
    const count = last.starts.length;
    const after = first + runStarts.length;
    const starts = new Int32Array(count);
    starts.set(last.starts.subarray(0, first));
    starts.set(runStarts, first);
    for (let i = after; i < count; i++) starts[i] = last.starts[i]! + shift;
    const end = last.end + shift;
    const hashes = last.hashes.slice();
    for (let i = first; i < after; i++) hashes[i + 1] = hashOf(bytes, starts[i]!, i + 1 < count ? starts[i + 1]! : end);
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
