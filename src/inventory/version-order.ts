// Drupal version order: how the versions drupal.org gives one project's
// releases follow each other, so that "sites below 8.x-1.10" or "sites older
// than the security release" can be asked of stored version strings.
//
// The forms (those of drupal.org release names and of what `drush pm:list`
// reports):
//   10.3.8  11.0.0-rc1  2.0.0-beta3     semantic: major.minor.patch[-extra]
//   8.x-1.10  7.x-2.0-alpha4            legacy: core prefix, major.minor[-extra]
//   7.98                                Drupal 7 core: major.minor
//   8.x-1.x-dev  2.0.x-dev  11.x-dev    a development branch's snapshot
//   8.x-1.5+3-dev  2.0.1+12-dev          a git checkout 3 (12) commits past a release
//
// The order, composer's reading of drupal.org versions:
// - A legacy `8.x-M.N` is `M.N.0`: the core prefix only says which core it was
//   made for, so `8.x-1.10` and `1.10.0` are the same place (ties are broken by
//   the text, so the order stays total).
// - Numbers compare as numbers (`1.10` > `1.9`); a missing one is 0.
// - At equal numbers: dev < unstable < alpha < beta < rc < the release, then
//   the extra's number (`beta3` < `beta10`); `1.5+3-dev` comes after `1.5`
//   and before `1.6`.
// - A branch's `x` is above every number: `8.x-1.x-dev` is after every 1.N
//   release and before `2.0.0-alpha1`, as its snapshot is newer than what it
//   has released and older than the next major.
// - A string that is none of these forms (a custom module's "VERSION", a
//   git hash) has no place: it is never below or above anything, and sorts
//   after every version, by its text.

export type Stability = "dev" | "unstable" | "alpha" | "beta" | "rc" | "stable";

const STABILITY_RANK: Record<Stability, number> = { dev: 0, unstable: 1, alpha: 2, beta: 3, rc: 4, stable: 5 };

/** `Infinity` stands for a development branch's `x`. */
export type DrupalVersion = {
  /** 8 for `8.x-1.10`, null for a version without the legacy core prefix. */
  coreCompatibility: number | null;
  major: number;
  minor: number;
  patch: number;
  stability: Stability;
  /** The extra's number: 3 for `beta3`, 0 when it has none. */
  stabilityNumber: number;
  /** Commits past the release: 3 for `1.5+3-dev`, 0 otherwise. */
  commitsPast: number;
  /** `1.x-dev`, `2.0.x-dev`: the snapshot of a branch, not a release. */
  isDevBranch: boolean;
};

// Numbers longer than this are not versions (and would lose precision).
const MAX_DIGITS = 15;
const NUMBER = `(\\d{1,${MAX_DIGITS}})`;
const PART = `(\\d{1,${MAX_DIGITS}}|x)`;
const VERSION = new RegExp(
  `^(?:${NUMBER}\\.x-)?${NUMBER}(?:\\.${PART})?(?:\\.${PART})?` + // [core prefix] numbers
    `(?:\\+${NUMBER}-dev|-(dev|unstable|alpha|beta|rc)${NUMBER}?)?$`, // +N-dev | -extra[N]
  "i",
);

/** The parts of a Drupal version string, or null when it is none of the known forms. */
export function parseDrupalVersion(version: string): DrupalVersion | null {
  const m = VERSION.exec(version.trim());
  if (!m) return null;
  const [, core, majorText, minorText, patchText, commitsText, extraText, extraNumber] = m;
  const x = (part: string | undefined) => part?.toLowerCase() === "x";
  const isDevBranch = x(minorText) || x(patchText);
  // `1.x.3` is no version; a legacy version has two numbers, not three.
  if (x(minorText) && patchText !== undefined) return null;
  if (core !== undefined && patchText !== undefined) return null;
  const extra = extraText?.toLowerCase() as Stability | undefined;
  // A branch is only ever named as its dev snapshot (or bare, as a support branch).
  if (isDevBranch && extra !== undefined && extra !== "dev") return null;
  if (isDevBranch && commitsText !== undefined) return null;
  const num = (part: string | undefined) => (part === undefined ? 0 : x(part) ? Infinity : Number(part));
  const minor = num(minorText);
  return {
    coreCompatibility: core === undefined ? null : Number(core),
    major: Number(majorText),
    minor,
    // A branch `1.x` covers every minor and so every patch.
    patch: minor === Infinity ? Infinity : num(patchText),
    stability: isDevBranch ? "dev" : (extra ?? "stable"),
    stabilityNumber: extraNumber === undefined ? 0 : Number(extraNumber),
    commitsPast: commitsText === undefined ? 0 : Number(commitsText),
    isDevBranch,
  };
}

function compareParsed(a: DrupalVersion, b: DrupalVersion): number {
  return (
    compareNumbers(a.major, b.major) ||
    compareNumbers(a.minor, b.minor) ||
    compareNumbers(a.patch, b.patch) ||
    STABILITY_RANK[a.stability] - STABILITY_RANK[b.stability] ||
    compareNumbers(a.stabilityNumber, b.stabilityNumber) ||
    compareNumbers(a.commitsPast, b.commitsPast)
  );
}

function compareNumbers(a: number, b: number): number {
  return a === b ? 0 : a < b ? -1 : 1;
}

/** A total order over version strings (see the top of this file): < 0, 0 or > 0, for sorting. */
export function compareDrupalVersions(a: string, b: string): number {
  const pa = parseDrupalVersion(a);
  const pb = parseDrupalVersion(b);
  if (pa && pb) return compareParsed(pa, pb) || compareText(a, b);
  if (pa) return -1;
  if (pb) return 1;
  return compareText(a, b);
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Whether `version` comes strictly before `bound`; false when either has no place in the order. */
export function isVersionBelow(version: string, bound: string): boolean {
  const pv = parseDrupalVersion(version);
  const pb = parseDrupalVersion(bound);
  return pv !== null && pb !== null && compareParsed(pv, pb) < 0;
}

/**
 * A text key whose byte order is the version order of equal-placed versions
 * (ties are not broken), for a database column to sort and filter on
 * (`key < drupalVersionKey(bound)`); null when the version has no place.
 * Each number is written as its digit count (one letter) then its digits,
 * so keys compare number by number without padding; a branch's `x` is `~`,
 * above every letter.
 */
export function drupalVersionKey(version: string): string | null {
  const v = parseDrupalVersion(version);
  if (!v) return null;
  return (
    numberKey(v.major) +
    numberKey(v.minor) +
    numberKey(v.patch) +
    String(STABILITY_RANK[v.stability]) +
    numberKey(v.stabilityNumber) +
    numberKey(v.commitsPast)
  );
}

function numberKey(n: number): string {
  if (n === Infinity) return "~";
  const digits = String(n);
  return String.fromCharCode(0x40 + digits.length) + digits;
}
