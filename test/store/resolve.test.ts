// IdResolution keeps a sync's ids by entry position: each entry answers its
// own ids whatever order it is asked in, and only entries of the sync answer.
import { expect, test } from "bun:test";
import type { SiteModuleState } from "../../src/inventory";
import { IdResolution } from "../../src/store/resolve";

const state = (machineName: string, version: string | null = "1.0.0"): SiteModuleState => ({
  machineName, version, displayName: machineName, moduleType: "contrib", extensionType: "module", enabled: true, description: null, project: null,
});

test("known ids are used as they are; only the others are asked for, then every entry answers its own, in any order", () => {
  const entries = [state("a"), state("b", null), state("c", "2.0.0"), state("d")];
  const known = { moduleIds: Float64Array.from([11, 0, 13, 0]), versionIds: Float64Array.from([101, 0, 0, 104]) };
  const ids = new IdResolution(entries, known);
  expect(ids.unknownModules()).toEqual(["b", "d"]);
  ids.addModules([[12, "b"], [14, "d"]]);
  expect(ids.unknownVersions()).toEqual([[13, "2.0.0"]]);
  ids.addVersions([[103, 13, "2.0.0"]]);
  expect(ids.learned.modules).toEqual(new Map([["b", 12], ["d", 14]]));
  expect(ids.learned.versions).toEqual(new Map([["c:2.0.0", 103]]));
  const expected: [number, number | null][] = [[11, 101], [12, null], [13, 103], [14, 104]];
  for (const order of [[0, 1, 2, 3], [3, 2, 1, 0], [2, 0, 3, 1, 1, 2]]) {
    expect(order.map((i) => [ids.moduleId(entries[i]!), ids.versionId(entries[i]!)])).toEqual(order.map((i) => expected[i]!));
  }
  // The caller's known ids are copied, not filled in: ids read in a transaction that then fails (a busy
  // site's sync, tried again once its background syncs are done) must not reach the next attempt.
  expect([...known.moduleIds]).toEqual([11, 0, 13, 0]);
  expect([...known.versionIds]).toEqual([101, 0, 0, 104]);
});

test("an entry of another sync, even an equal one, is not answered for; nor is an id never resolved", () => {
  const entries = [state("a"), state("b")];
  const ids = new IdResolution(entries, { moduleIds: Float64Array.from([1, 0]), versionIds: Float64Array.from([5, 0]) });
  expect(() => ids.moduleId(state("a"))).toThrow("not an entry of this sync");
  expect(() => ids.moduleId(entries[1]!)).toThrow("module id of b was not resolved");
  expect(() => ids.versionId(entries[1]!)).toThrow("version id of b 1.0.0 was not resolved");
});

test("known ids must come one per entry", () => {
  expect(() => new IdResolution([state("a")], { moduleIds: new Float64Array(2), versionIds: new Float64Array(2) })).toThrow("by position");
});
