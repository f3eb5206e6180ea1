// What a sync changed, derived from its plan (before → after), with no I/O.
import { expect, test } from "bun:test";
import { moduleChanges, planSync, syncChanges, type CurrentModule, type SiteModuleState } from "../../src/inventory";

const state = (machineName: string, version: string | null, enabled = true, extra: Partial<SiteModuleState> = {}): SiteModuleState => ({
  machineName, displayName: machineName, moduleType: "contrib", enabled, version, description: null, project: null, ...extra,
});
const current = (...modules: SiteModuleState[]) =>
  new Map<string, CurrentModule>(modules.map((m, i) => [m.machineName, { ...m, moduleId: i + 1 }]));

test("a sync into an empty inventory is one initial_inventory with its count; nothing reported is nothing", () => {
  const plan = planSync(new Map(), [state("a", "1.0.0"), state("b", null)], false, new Set());
  expect(syncChanges(new Map(), plan)).toEqual([{ kind: "initial_inventory", machineName: null, from: null, to: null, count: 2 }]);
  expect(syncChanges(new Map(), planSync(new Map(), [], true, new Set()))).toEqual([]);
});

test("added, version from → to, enabled, disabled and removed; other field changes are not history", () => {
  const before = current(state("a", "8.x-1.9"), state("b", "1.0.0"), state("c", "1.0.0", false), state("d", "2.0.0"), state("e", "1.0.0"));
  const after = [state("a", "8.x-1.10"), state("b", "1.0.0", false), state("c", "1.0.0", true), state("e", "1.0.0", true, { displayName: "E!" }), state("f", null)];
  const plan = planSync(before, after, true, new Set());
  expect(moduleChanges(before, plan)).toEqual([
    { kind: "version_changed", machineName: "a", from: "8.x-1.9", to: "8.x-1.10", count: null },
    { kind: "module_disabled", machineName: "b", from: "1.0.0", to: "1.0.0", count: null },
    { kind: "module_enabled", machineName: "c", from: "1.0.0", to: "1.0.0", count: null },
    { kind: "module_added", machineName: "f", from: null, to: null, count: null },
    { kind: "module_removed", machineName: "d", from: "2.0.0", to: null, count: null },
  ]);
});

test("a partial sync removes nothing, and a module kept for its skipped entry is not removed", () => {
  const before = current(state("a", "1.0.0"), state("b", "1.0.0"));
  expect(moduleChanges(before, planSync(before, [state("a", "1.0.0")], false, new Set()))).toEqual([]);
  expect(moduleChanges(before, planSync(before, [state("a", "1.0.0")], true, new Set(["b"])))).toEqual([]);
});
