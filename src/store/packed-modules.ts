// A site's modules as a sync reads them and as SiteStates keeps them: three
// doubles a row in one Float64Array, never unpacked into a map of objects
// (building that map took a tenth of a changed re-sync's main thread: bench/README
// round 12). A sync makes a new array of what it leaves (applyPlan), so a
// kept array is never changed and is read in place.
//
// Rows go in the order of the payload that left them, so the next sync,
// whose entries come in the same order (Drupal lists its modules the same
// way each time), finds each entry's row where it looks first.
import { detailsHash, type EntryIds, type HeldModules, type SiteModuleState, type StoredModule, type SyncPlan } from "../inventory";

/** Slots per row: the module id (negative when disabled), the version id (0 for none), the details hash. */
export const SLOTS = 3;

/**
 * Rows a sync's look-ups may walk, past where each started, as a multiple of
 * the site's rows, before the index of every row is built. A walk compares
 * numbers (~1 ns a row), an index puts each row in a map (tens of ns): a
 * sync's history, which asks for its written modules after the plan has
 * walked them all, or a module the site does not hold, walks; rows in
 * another order than the payload (read from the database) soon build it.
 */
const WALKED_ROWS_BEFORE_INDEX = 4;

/**
 * Whether a row can be packed exactly: catalog ids start at 1, so a module
 * id's sign is free to hold the enabled flag and 0 to stand for "no
 * version"; every id and the 53-bit hash are exact as doubles.
 */
export function fits(moduleId: number, versionId: number | null): boolean {
  return moduleId >= 1 && (versionId === null || versionId >= 1);
}

/** Writes one row (which fits()) into `out` at `at`; returns the next free slot. The one place rows are packed. */
export function packRow(out: Float64Array, at: number, moduleId: number, versionId: number | null, enabled: boolean, detailsHash: number): number {
  out[at] = enabled ? moduleId : -moduleId;
  out[at + 1] = versionId ?? 0;
  out[at + 2] = detailsHash;
  return at + SLOTS;
}

export class PackedModules implements HeldModules {
  /** The row after the last one found: where the next look-up starts. */
  private next = 0;
  /** Rows walked past where look-ups started. */
  private walked = 0;
  /** Row by module id, built once look-ups keep missing where they start (rows in another order). */
  private index: Map<number, number> | null = null;

  constructor(readonly packed: Float64Array) {}

  get size(): number {
    return this.packed.length / SLOTS;
  }

  moduleIdAt(row: number): number {
    return Math.abs(this.packed[row * SLOTS]!);
  }

  /** The row holding `moduleId`, or -1. */
  rowOf(moduleId: number): number {
    const n = this.size;
    if (n === 0) return -1;
    const start = this.next < n ? this.next : 0;
    if (this.moduleIdAt(start) === moduleId) {
      this.next = start + 1;
      return start;
    }
    let row = -1;
    if (this.index !== null) row = this.index.get(moduleId) ?? -1;
    else if (this.walked < n * WALKED_ROWS_BEFORE_INDEX) {
      let tried = 1;
      for (let r = start + 1; tried < n; tried++, r++) {
        if (r === n) r = 0;
        if (this.moduleIdAt(r) === moduleId) {
          row = r;
          break;
        }
      }
      this.walked += tried;
    } else {
      this.index = new Map();
      for (let r = 0; r < n; r++) this.index.set(this.moduleIdAt(r), r);
      row = this.index.get(moduleId) ?? -1;
    }
    if (row >= 0) this.next = row + 1;
    return row;
  }

  get(moduleId: number): StoredModule | undefined {
    const row = this.rowOf(moduleId);
    return row < 0 ? undefined : this.at(row);
  }

  *keys(): IterableIterator<number> {
    for (let row = 0; row < this.size; row++) yield this.moduleIdAt(row);
  }

  private at(row: number): StoredModule {
    const at = row * SLOTS;
    const signedId = this.packed[at]!;
    const versionId = this.packed[at + 1]!;
    return { moduleId: Math.abs(signedId), versionId: versionId === 0 ? null : versionId, enabled: signedId > 0, detailsHash: this.packed[at + 2]! };
  }

  /** Copies `row` into `out` at `at`; returns the next free slot. */
  copyRow(row: number, out: Float64Array, at: number): number {
    // Slot by slot: a subarray to copy from would be an object a row.
    const from = row * SLOTS;
    out[at] = this.packed[from]!;
    out[at + 1] = this.packed[from + 1]!;
    out[at + 2] = this.packed[from + 2]!;
    return at + SLOTS;
  }

  detailsHashAt(row: number): number {
    return this.packed[row * SLOTS + 2]!;
  }
}

/**
 * The site's modules once `plan` is written, as a new packed array: the
 * payload's entries in its order (written ones as written, the others as
 * held), then the held modules the payload did not name and the plan does
 * not remove. Null when `current` is not packed or a written row does not
 * fit: nothing is kept then. Made only once the sync has committed, so that a
 * sync that fails changes nothing kept.
 */
export function applyPlan(current: HeldModules, entries: readonly SiteModuleState[], plan: SyncPlan, ids: EntryIds): Float64Array | null {
  if (!(current instanceof PackedModules)) return null;
  const held = current.size;
  const out = new Float64Array((held - plan.modulesRemoved + plan.modulesCreated) * SLOTS);
  const named = new Uint8Array(held);
  let at = 0;
  let written = 0;
  for (const entry of entries) {
    const moduleId = ids.moduleId(entry);
    const row = current.rowOf(moduleId);
    if (row >= 0) named[row] = 1;
    // Writes are a subsequence of the entries, in their order.
    if (plan.writes[written] === entry) {
      const sameDetails = plan.sameDetails[written]!;
      written++;
      const versionId = ids.versionId(entry);
      if (!fits(moduleId, versionId)) return null;
      // A release's 76 writes keep their details: their hash is the one held (the plan compared it), not hashed again.
      const hash = row >= 0 && sameDetails ? current.detailsHashAt(row) : detailsHash(entry);
      at = packRow(out, at, moduleId, versionId, entry.enabled, hash);
    } else if (row >= 0) {
      at = current.copyRow(row, out, at);
    } else {
      throw new Error(`${entry.machineName} is neither held nor written`);
    }
  }
  if (at < out.length) {
    const removed = new Set(plan.removals);
    for (let row = 0; row < held; row++) {
      if (named[row] === 0 && !removed.has(current.moduleIdAt(row))) at = current.copyRow(row, out, at);
    }
  }
  if (at !== out.length || written !== plan.writes.length) throw new Error("the plan does not match the modules it was made from");
  return out;
}

/**
 * The site's modules once a near repeat's `plan` is written
 * (SyncCommand.partOf): its rows in their order, the written ones replaced
 * where they are. A near repeat names the modules the site holds, in the
 * same places, so nothing is created or removed, and the order stays the
 * payload's, as applyPlan leaves it for the whole body (the order a full
 * sync's removals and history come in).
 */
export function applyPlanInPlace(current: HeldModules, plan: SyncPlan, ids: EntryIds): Float64Array | null {
  if (!(current instanceof PackedModules)) return null;
  if (plan.modulesCreated !== 0 || plan.modulesRemoved !== 0) throw new Error("a near repeat creates or removes no module");
  const out = current.packed.slice();
  for (let i = 0; i < plan.writes.length; i++) {
    const entry = plan.writes[i]!;
    const moduleId = ids.moduleId(entry);
    const versionId = ids.versionId(entry);
    if (!fits(moduleId, versionId)) return null;
    const row = current.rowOf(moduleId);
    if (row < 0) throw new Error(`${entry.machineName} is not held`);
    const hash = plan.sameDetails[i] ? current.detailsHashAt(row) : detailsHash(entry);
    packRow(out, row * SLOTS, moduleId, versionId, entry.enabled, hash);
  }
  return out;
}
