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

test("a version row is matched to its entry by module id and version: a row of the module's other version answers nothing", () => {
  const entries = [state("a", "1.0.0"), state("b", "2.0.0")];
  const ids = new IdResolution(entries);
  ids.addModules([[1, "a"], [2, "b"]]);
  expect(ids.unknownVersions()).toEqual([[1, "1.0.0"], [2, "2.0.0"]]);
  // Rows as the database may send them: in any order, and (from a read by pairs) another version of a module.
  ids.addVersions([[21, 2, "2.0.0"], [11, 1, "1.0.0"], [19, 1, "0.9.0"]]);
  expect(entries.map((e) => ids.versionId(e))).toEqual([11, 21]);
  expect(ids.learned.versions).toEqual(new Map([["b:2.0.0", 21], ["a:1.0.0", 11]]));
});

test("without learning (a background batch, which no cache serves) the ids resolve the same and nothing is learned", () => {
  const entries = [state("a", "1.0.0"), state("b", null)];
  const ids = new IdResolution(entries, undefined, false);
  ids.addModules([[1, "a"], [2, "b"]]);
  ids.addVersions(ids.unknownVersions().map(([moduleId, version]) => [10 + moduleId, moduleId, version] as const));
  expect(entries.map((e) => [ids.moduleId(e), ids.versionId(e)])).toEqual([[1, 11], [2, null]]);
  expect(ids.learned.modules.size + ids.learned.versions.size).toBe(0);
});

test("entries naming one module twice (which the validator never lets through) are refused, not resolved to one entry's id", () => {
  const ids = new IdResolution([state("a", "1.0.0"), state("a", "2.0.0")]);
  ids.addModules([[1, "a"]]);
  expect(() => ids.unknownVersions()).toThrow("a is named twice");
});
