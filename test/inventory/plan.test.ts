// planSync is pure: what changed, what to remove, the counts.
import { expect, test } from "bun:test";
import { leavesExactlyPayload, planSync, type CurrentModule, type SiteModuleState } from "../../src/inventory";

const state = (machineName: string, over: Partial<SiteModuleState> = {}): SiteModuleState => ({
  machineName, displayName: machineName, moduleType: "contrib", extensionType: "module", enabled: true, version: "1.0.0", description: null, project: null, ...over,
});
const current = (...mods: [number, SiteModuleState][]) =>
  new Map<string, CurrentModule>(mods.map(([moduleId, s]) => [s.machineName, { ...s, moduleId }]));

test("new modules are created, identical ones unchanged, differing ones updated", () => {
  const plan = planSync(current([1, state("a")], [2, state("b")]), [state("a"), state("b", { version: "2.0.0" }), state("c")], false, new Set());
  expect(plan).toMatchObject({ modulesCreated: 1, modulesUpdated: 1, modulesUnchanged: 1, modulesRemoved: 0, removals: [] });
  expect(plan.writes.map((w) => w.machineName)).toEqual(["b", "c"]);
});

test("null and a value differ; two nulls are equal", () => {
  const cur = current([1, state("a", { version: null, description: null })]);
  expect(planSync(cur, [state("a", { version: null, description: null })], false, new Set()).modulesUnchanged).toBe(1);
  expect(planSync(cur, [state("a", { version: "", description: null })], false, new Set()).modulesUpdated).toBe(1);
  expect(planSync(cur, [state("a", { version: null, description: "" })], false, new Set()).modulesUpdated).toBe(1);
});

test("partial sync removes nothing; full sync removes the absent, except those kept", () => {
  const cur = current([1, state("a")], [2, state("b")], [3, state("c")]);
  expect(planSync(cur, [state("a")], false, new Set()).removals).toEqual([]);
  const full = planSync(cur, [state("a")], true, new Set(["c"]));
  expect(full.removals).toEqual([2]);
  expect(full.modulesRemoved).toBe(1);
});

test("a full sync of nothing onto nothing does nothing", () => {
  expect(planSync(new Map(), [], true, new Set())).toMatchObject({ writes: [], removals: [], modulesCreated: 0, modulesRemoved: 0 });
});

test("leavesExactlyPayload: only when nothing but the payload's modules remain", () => {
  const cur = current([1, state("a")], [2, state("b")]);
  const exactly = (entries: SiteModuleState[], full: boolean, keep: string[] = []) =>
    leavesExactlyPayload(cur, entries, planSync(cur, entries, full, new Set(keep)));
  expect(exactly([state("a"), state("b")], false)).toBe(true);
  expect(exactly([state("b"), state("a"), state("c")], false)).toBe(true);
  expect(exactly([state("a")], false)).toBe(false); // partial: b stays
  expect(exactly([state("a")], true)).toBe(true); // full: b removed
  expect(exactly([state("a")], true, ["b"])).toBe(false); // full, but b's entry was skipped: b stays
  expect(exactly([state("c")], true)).toBe(true);
  expect(leavesExactlyPayload(new Map(), [], planSync(new Map(), [], false, new Set()))).toBe(true);
});
