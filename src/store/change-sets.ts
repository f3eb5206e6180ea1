// The history's storage form, for both dialects: each applied sync that
// changed anything is one site_change_sets row whose `changes` is a JSON array
// of its changes, in the order the sync made them. Modules and versions are
// written by catalog id (the sync has the ids; naming them would cost a join
// per change inside the sync's transaction) and named when read. Core and PHP
// changes, and rows from before change sets (migration 0007), carry their
// values as text instead.
//
// A sync writes a module's change by ids as a tuple (CompactChange: changesJson),
// consecutive ones that step their ids alike as one tuple for the run
// (RunChange), any other change as an object (RecordedChange), as do the
// removals a background sync records in SQL and every row written before the
// tuples. All are read alike (readChanges).
import type { ChangeKind, SiteChange } from "../inventory";
import type { ChangeRow } from "./types";

/** One change as read (and as stored, but for tuples): ids (`m`, `f`, `t`) or text (`n`, `fv`, `tv`); null and absent are alike. */
export interface RecordedChange {
  k: ChangeKind;
  /** Module id. */
  m?: number | null;
  /** Version ids, before and after. */
  f?: number | null;
  t?: number | null;
  /** initial_inventory: module count. */
  c?: number | null;
  /** 1: an addition or version change of a core or custom module (SiteChange.notContrib); absent in sets recorded before it. */
  nc?: 1;
  /** Module machine name, versions before and after, as text. */
  n?: string | null;
  fv?: string | null;
  tv?: string | null;
}

/**
 * A module's change by ids, as stored: [kind code, module id, version id
 * before, version id after], with a fifth element 1 for `nc`. A release's 76
 * version changes take ~1.5 KB so, against ~4.2 KB as objects: under the size
 * past which Postgres compresses a row's text (~2 KB) and SQLite spills it to
 * overflow pages (~4 KB), and about half the bytes to build and to parse.
 */
type CompactChange = [code: number, m: number, f: number | null, t: number | null, nc?: 1];

/**
 * `n` (2 or more) changes of one kind and `nc` as one tuple, under the kind's
 * code negated: the first change's ids, each next change's module id and
 * non-null version ids one more than the change before it (a null one stays
 * null). On SQLite a Drupal core release's changes are such a run: the first
 * site to report those modules, and then each release, created their catalog
 * rows in one statement in the order of its payload, which lists them as
 * every site's does (on Postgres in the order of their names, so a run only
 * where that is the payload's). Its 76 changes take a few dozen bytes so,
 * against ~1.5 KB as tuples: the change set's row no longer fills most of a
 * page (a release sync's WAL frames, 1,000 sites in process: 2.85 → 2.26, of
 * which the change sets' rows 0.67 → 0.08; bench/README round 29).
 */
type RunChange = [negatedCode: number, m: number, f: number | null, t: number | null, n: number, nc?: 1];

/**
 * The kinds stored as tuples, by code. Stored in rows: a code is never
 * reused or renumbered; a new kind takes a new code, or stays an object.
 */
const KIND_CODES = { module_added: 1, module_removed: 2, version_changed: 3, module_enabled: 4, module_disabled: 5 } as const satisfies Partial<Record<ChangeKind, number>>;
const KIND_OF_CODE: readonly (ChangeKind | undefined)[] = (() => {
  const kinds: (ChangeKind | undefined)[] = [];
  for (const [kind, code] of Object.entries(KIND_CODES)) kinds[code] = kind as ChangeKind;
  return kinds;
})();

/** A stored change set's `changes` as objects, whichever form each change was stored in. */
export function readChanges(changes: string): RecordedChange[] {
  const read: RecordedChange[] = [];
  for (const c of JSON.parse(changes) as (RecordedChange | CompactChange | RunChange)[]) {
    if (!Array.isArray(c)) read.push(c);
    // A version before runs reads a negated code as a kind it does not know, as it reads any code added after it (expand).
    else if (c[0] < 0) expandRun(c as RunChange, read);
    else read.push(expand(c as CompactChange));
  }
  return read;
}

/** A run's changes, each as its own tuple would read. */
function expandRun([negatedCode, m, f, t, n, nc]: RunChange, into: RecordedChange[]): void {
  for (let i = 0; i < n; i++) {
    into.push(expand([-negatedCode, m + i, f === null ? null : f + i, t === null ? null : t + i, nc]));
  }
}

function expand([code, m, f, t, nc]: CompactChange): RecordedChange {
  // Codes are only ever added, by a later version: its rows are not for this one to read (rolling
  // back past the tuples leaves them unreadable by the feed until purged; the statuses judge such a site whole).
  // Nulls left out, as the object form leaves them out.
  const change: RecordedChange = { k: KIND_OF_CODE[code]!, m };
  if (f !== null) change.f = f;
  if (t !== null) change.t = t;
  if (nc === 1) change.nc = 1;
  return change;
}

/**
 * SQL, on either dialect, for the JSON array text `array` (changesJson's:
 * `[...]`, nothing around it) with the object of each `[condition, object]`
 * whose condition holds appended, as text. Parsing the array to append would
 * write it whole again: for a release's 76 changes SQLite's json_insert took
 * ~14 µs against ~5 for this, Postgres's jsonb || ~70 µs against ~1.3.
 */
export function appendToJsonArray(array: string, items: readonly (readonly [condition: string, object: string])[]): string {
  const anyHolds = items.map(([condition]) => condition).join(" OR ");
  // Each object with a comma before it, inserted before the closing bracket; into "[]", without the first comma.
  const appended = items.map(([condition, object]) => `CASE WHEN ${condition} THEN ',' || ${object} ELSE '' END`).join(" || ");
  return `CASE WHEN ${anyHolds} THEN
    CASE WHEN ${array} = '[]' THEN '[' || substr(${appended}, 2) ELSE substr(${array}, 1, length(${array}) - 1) || ${appended} END || ']'
    ELSE ${array} END`;
}

/**
 * The JSON of a sync's module changes as the history statements store it:
 * a module's change by ids as a tuple (CompactChange), a run of them as one
 * (RunChange), any other as an object with its nulls left out. Written by
 * hand: no object per change to build, and the numbers are integers. A
 * change set of tuples alone that one of the last few was, number for
 * number, is given that one's text (RecentSets).
 */
export function changesJson(changes: readonly SiteChange[]): string {
  const numbers = changes.length <= RecentSets.MAX_CHANGES ? tupleNumbers(changes) : null;
  const recent = numbers === null ? undefined : recentSets.find(numbers);
  if (recent !== undefined) return recent;
  let json = "[";
  for (let i = 0; i < changes.length;) {
    if (json.length > 1) json += ",";
    const c = changes[i]!;
    const code = tupleCode(c);
    if (code === undefined) {
      json += JSON.stringify(asObject(c));
      i++;
      continue;
    }
    const n = runLength(changes, i, code);
    const nc = c.notContrib ? ",1" : "";
    json += n === 1 ? `[${code},${c.moduleId},${c.fromVersionId},${c.toVersionId}${nc}]`
      : `[${-code},${c.moduleId},${c.fromVersionId},${c.toVersionId},${n}${nc}]`;
    i += n;
  }
  json += "]";
  if (numbers !== null) recentSets.add(numbers, json);
  return json;
}

/**
 * How many changes from `start` on (1 at least) make a run (RunChange): of
 * `code`, the start's `nc`, and each id one more than the change's before it
 * (a null version id staying null).
 */
function runLength(changes: readonly SiteChange[], start: number, code: number): number {
  const first = changes[start]!;
  let n = 1;
  for (let i = start + 1; i < changes.length; i++, n++) {
    const c = changes[i]!;
    if (c.moduleId !== first.moduleId! + n || !steps(first.fromVersionId, c.fromVersionId, n) || !steps(first.toVersionId, c.toVersionId, n)
      || !c.notContrib !== !first.notContrib || tupleCode(c) !== code) break;
  }
  return n;
}

/** Whether `id`, n changes into a run, follows the run's first `from`: n more, or null as it is. */
const steps = (from: number | null, id: number | null, n: number) => (from === null ? id === null : id === from + n);

/** The code a change is stored under as a tuple, or undefined: it is stored as an object. */
function tupleCode(c: SiteChange): number | undefined {
  return c.count === null && c.moduleId !== null && isId(c.moduleId) && isId(c.fromVersionId) && isId(c.toVersionId)
    ? (KIND_CODES as Partial<Record<ChangeKind, number>>)[c.kind] : undefined;
}

/** A null version id among tupleNumbers: no id (a safe integer, tupleCode) is it, -1 included. */
const NO_ID = Number.NEGATIVE_INFINITY;

/** Each change's tuple as numbers, five a change (null ids as NO_ID), or null if one is not a tuple. */
function tupleNumbers(changes: readonly SiteChange[]): Float64Array | null {
  const numbers = new Float64Array(changes.length * 5);
  for (let i = 0, at = 0; i < changes.length; i++) {
    const c = changes[i]!;
    const code = tupleCode(c);
    if (code === undefined) return null;
    numbers[at++] = code;
    numbers[at++] = c.moduleId!;
    numbers[at++] = c.fromVersionId ?? NO_ID;
    numbers[at++] = c.toVersionId ?? NO_ID;
    numbers[at++] = c.notContrib ? 1 : 0;
  }
  return numbers;
}

/**
 * The last change sets of tuples written, with their text. A Drupal core
 * release moves every site of a version to the next one alike: their syncs
 * record the same 76 changes, number for number, and the text given again
 * (the same string) costs less to build and to bind than a new one (a
 * release sync's main thread in process: 0.93 × with the text given;
 * bench/README round 27).
 */
class RecentSets {
  /** Change sets past this size are not held (a large background sync's). */
  static readonly MAX_CHANGES = 1_000;
  private static readonly HELD = 8;
  private readonly sets: { numbers: Float64Array; json: string }[] = [];

  find(numbers: Float64Array): string | undefined {
    for (const set of this.sets) if (sameNumbers(set.numbers, numbers)) return set.json;
    return undefined;
  }

  add(numbers: Float64Array, json: string): void {
    this.sets.unshift({ numbers, json });
    if (this.sets.length > RecentSets.HELD) this.sets.pop();
  }
}

const recentSets = new RecentSets();

function sameNumbers(a: Float64Array, b: Float64Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** An id a tuple can hold as it is (null: none); anything else is left to JSON.stringify, in the object form. */
const isId = (id: number | null) => id === null || Number.isSafeInteger(id);

function asObject(c: SiteChange): RecordedChange {
  return {
    k: c.kind, m: c.moduleId ?? undefined, f: c.fromVersionId ?? undefined, t: c.toVersionId ?? undefined, c: c.count ?? undefined,
    nc: c.notContrib ? 1 : undefined,
  };
}

/**
 * How far a change set reaches into a site's update statuses, judged in
 * part (modulesChanged): its contrib modules' projects alone, or drupal's
 * too.
 */
export type ChangeReach = "contrib" | "core";

/**
 * Adds to `into` the contrib modules (or, in sets recorded before `nc`, any
 * modules) a stored change set (its `changes` JSON) added or set to another
 * version; null when it holds a change that can reach a project none of
 * them is in (an initial inventory, a removal, a change recorded as text):
 * the site's update statuses are then judged whole. "core" when drupal's
 * judgement can change too: the core version changed, or a module that is
 * not contrib was added (a core module: the site may run Drupal core only
 * now). Enabled flags, PHP versions and other modules' versions judge
 * nothing.
 */
export function modulesChanged(changes: string, into: Set<number>): ChangeReach | null {
  let reach: ChangeReach = "contrib";
  for (const c of readChanges(changes)) {
    switch (c.k) {
      case "module_added":
        if (c.m == null) return null;
        // nc does not tell a core module from a custom one: either may be core.
        if (c.nc === 1) reach = "core";
        else into.add(c.m);
        break;
      case "version_changed":
        if (c.m == null) return null;
        if (c.nc !== 1) into.add(c.m);
        break;
      case "core_version_changed":
        reach = "core";
        break;
      case "module_enabled":
      case "module_disabled":
      case "php_version_changed":
        break;
      default:
        return null;
    }
  }
  return reach;
}

/** A site_change_sets row as read. */
export interface ChangeSetRow {
  id: number;
  siteId: number;
  organizationId: number;
  changedAt: Date;
  taskId: string | null;
  changes: string;
}

/** A place in the feed: a change is its set's time and id and its index in the set. */
export interface ChangePosition { at: Date; setId: number; index: number }

/** A change picked from its set, not yet named. */
export interface PickedChange { set: ChangeSetRow; index: number; change: RecordedChange }

/**
 * Up to `limit` changes of `sets` (in feed order: time, then id), after
 * `after`; the sets must start at or after the set `after` is in.
 */
export function pickChanges(sets: readonly ChangeSetRow[], after: ChangePosition | undefined, limit: number): PickedChange[] {
  const picked: PickedChange[] = [];
  for (const set of sets) {
    const changes = readChanges(set.changes);
    const inCursorSet = after !== undefined && set.id === after.setId && set.changedAt.getTime() === after.at.getTime();
    for (let index = inCursorSet ? after.index + 1 : 0; index < changes.length; index++) {
      if (picked.length === limit) return picked;
      picked.push({ set, index, change: changes[index]! });
    }
  }
  return picked;
}

/** The catalog ids `picked` names modules and versions by. */
export function catalogIdsOf(picked: readonly PickedChange[]): { moduleIds: number[]; versionIds: number[] } {
  const moduleIds = new Set<number>();
  const versionIds = new Set<number>();
  for (const { change: c } of picked) {
    if (c.m != null) moduleIds.add(c.m);
    if (c.f != null) versionIds.add(c.f);
    if (c.t != null) versionIds.add(c.t);
  }
  return { moduleIds: [...moduleIds], versionIds: [...versionIds] };
}

/** The picked changes as the feed gives them, named from the catalog's `modules` and `versions` (id → text). */
export function nameChanges(picked: readonly PickedChange[], modules: ReadonlyMap<number, string>, versions: ReadonlyMap<number, string>): ChangeRow[] {
  const version = (id: number | null | undefined, text: string | null | undefined) => text ?? (id == null ? null : versions.get(id) ?? null);
  return picked.map(({ set, index, change: c }) => ({
    setId: set.id, index, siteId: set.siteId, organizationId: set.organizationId, changedAt: set.changedAt, taskId: set.taskId,
    kind: c.k,
    machineName: c.n ?? (c.m == null ? null : modules.get(c.m) ?? null),
    fromValue: version(c.f, c.fv),
    toValue: version(c.t, c.tv),
    moduleCount: c.c ?? null,
  }));
}
