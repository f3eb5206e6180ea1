// Drupal version order: the order drupal.org's release names follow, as a
// comparator, a "below" test and a database sort key that agree.
import { describe, expect, test } from "bun:test";
import { compareDrupalVersions, drupalVersionKey, isVersionBelow, parseDrupalVersion } from "../../src/inventory";

// Each list is in ascending order.
const ORDERED: string[][] = [
  ["8.x-1.0-alpha1", "8.x-1.0-beta3", "8.x-1.0-beta10", "8.x-1.0-rc1", "8.x-1.0", "8.x-1.5", "8.x-1.5+3-dev", "8.x-1.9", "8.x-1.10", "8.x-1.x-dev", "2.0.0-beta3", "2.0.0", "2.0.1", "2.0.x-dev", "2.1.0", "2.x-dev"],
  ["7.x-1.0-unstable2", "7.x-1.0-alpha1", "7.x-1.0", "7.x-2.0-alpha4"],
  ["9.5.11", "10.0.0-alpha1", "10.0.0-rc1", "10.0.0", "10.2.12", "10.3.0", "10.3.8", "10.3.10", "10.3.x-dev", "11.0.0-beta1", "11.0.0", "11.x-dev"],
  ["7.9", "7.10", "7.98", "7.x-dev"],
];

describe("the order", () => {
  for (const list of ORDERED) {
    test(`ascending: ${list[0]} … ${list.at(-1)}`, () => {
      const shuffled = [...list].reverse();
      expect(shuffled.sort(compareDrupalVersions)).toEqual(list);
      for (let i = 1; i < list.length; i++) {
        expect(isVersionBelow(list[i - 1]!, list[i]!)).toBe(true);
        expect(isVersionBelow(list[i]!, list[i - 1]!)).toBe(false);
      }
    });
    test(`the database key sorts the same: ${list[0]} … ${list.at(-1)}`, () => {
      const keys = list.map((v) => drupalVersionKey(v)!);
      expect(keys.every((k) => typeof k === "string")).toBe(true);
      // Byte order, as a database's binary/"C" collation compares.
      const byKey = [...list].reverse().sort((a, b) => {
        const ka = drupalVersionKey(a)!, kb = drupalVersionKey(b)!;
        return ka < kb ? -1 : ka > kb ? 1 : 0;
      });
      expect(byKey).toEqual(list);
    });
  }

  test("numbers compare as numbers, not text", () => {
    expect(compareDrupalVersions("8.x-1.10", "8.x-1.9")).toBeGreaterThan(0);
    expect(compareDrupalVersions("1.0.10", "1.0.9")).toBeGreaterThan(0);
    expect(compareDrupalVersions("2.0.0-beta3", "2.0.0")).toBeLessThan(0);
    expect(compareDrupalVersions("2.0.0-beta10", "2.0.0-beta9")).toBeGreaterThan(0);
  });

  test("a legacy version and its composer reading are the same place; the order stays total", () => {
    expect(drupalVersionKey("8.x-1.10")).toBe(drupalVersionKey("1.10.0")!);
    expect(isVersionBelow("8.x-1.10", "1.10.0")).toBe(false);
    expect(isVersionBelow("1.10.0", "8.x-1.10")).toBe(false);
    expect(compareDrupalVersions("8.x-1.10", "1.10.0")).not.toBe(0);
    expect(Math.sign(compareDrupalVersions("8.x-1.10", "1.10.0"))).toBe(-Math.sign(compareDrupalVersions("1.10.0", "8.x-1.10")));
  });

  test("case of the extra does not matter", () => {
    expect(drupalVersionKey("1.0.0-RC1")).toBe(drupalVersionKey("1.0.0-rc1")!);
  });
});

describe("strings that are not versions", () => {
  const NOT_VERSIONS = ["", "VERSION", "dev-main", "1.x.3", "8.x-1.2.3", "1.x-beta1", "1.x+3-dev", "1.0.0-gamma1", "a3f9c2e", "1".repeat(16)];
  for (const text of NOT_VERSIONS) {
    test(JSON.stringify(text.length > 20 ? `${text.slice(0, 8)}…` : text), () => {
      expect(parseDrupalVersion(text)).toBeNull();
    });
  }

  test("surrounding space is ignored", () => {
    expect(parseDrupalVersion(" 1.0.0 ")).toMatchObject({ major: 1, minor: 0, patch: 0, stability: "stable" });
  });

  test("are never below or above anything, and sort after every version", () => {
    expect(isVersionBelow("VERSION", "99.0.0")).toBe(false);
    expect(isVersionBelow("1.0.0", "VERSION")).toBe(false);
    expect(drupalVersionKey("VERSION")).toBeNull();
    expect(["zzz", "VERSION", "11.x-dev", "1.0.0"].sort(compareDrupalVersions)).toEqual(["1.0.0", "11.x-dev", "VERSION", "zzz"]);
  });
});

test("the parts", () => {
  expect(parseDrupalVersion("8.x-1.x-dev")).toEqual({
    coreCompatibility: 8, major: 1, minor: Infinity, patch: Infinity, stability: "dev", stabilityNumber: 0, commitsPast: 0, isDevBranch: true,
  });
  expect(parseDrupalVersion("7.x-2.0-alpha4")).toEqual({
    coreCompatibility: 7, major: 2, minor: 0, patch: 0, stability: "alpha", stabilityNumber: 4, commitsPast: 0, isDevBranch: false,
  });
  expect(parseDrupalVersion("2.0.1+12-dev")).toMatchObject({ major: 2, minor: 0, patch: 1, stability: "stable", commitsPast: 12 });
  expect(parseDrupalVersion("8.x-dev")).toMatchObject({ coreCompatibility: null, major: 8, isDevBranch: true });
});
