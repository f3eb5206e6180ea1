// What a sync changed, derived from its plan (before → after), with no I/O:
// by catalog ids, which the statement recording them names.
import { expect, test } from "bun:test";
import { detailsHash, moduleChanges, planSync, syncChanges, type EntryIds, type SiteModuleState, type StoredModule } from "../../src/inventory";

const state = (machineName: string, version: string | null, enabled = true, extra: Partial<SiteModuleState> = {}): SiteModuleState => ({
  machineName, displayName: machineName, moduleType: "contrib", extensionType: "module", enabled, version, description: null, project: null, ...extra,
});
// Module ids: a=1, b=2, ...; version ids: 100 + a number per distinct version string.
const versions = new Map<string, number>();
const ids: EntryIds = {
  moduleId: (e) => e.machineName.charCodeAt(0) - 96,
  versionId: (e) => (e.version === null ? null : versions.get(e.version) ?? (versions.set(e.version, 100 + versions.size), versions.get(e.version)!)),
};
const stored = (...modules: SiteModuleState[]) => new Map<number, StoredModule>(modules.map((m) => [ids.moduleId(m),
  { moduleId: ids.moduleId(m), versionId: ids.versionId(m), enabled: m.enabled, detailsHash: detailsHash(m) }]));
const v = (version: string) => ids.versionId(state("x", version));
const NONE = new Set<number>();

test("a sync into an empty inventory is one initial_inventory with its count; nothing reported is nothing", () => {
  const plan = planSync(new Map(), [state("a", "1.0.0"), state("b", null)], ids, false, NONE);
  expect(syncChanges(new Map(), plan, ids)).toEqual([{ kind: "initial_inventory", moduleId: null, fromVersionId: null, toVersionId: null, count: 2 }]);
  expect(syncChanges(new Map(), planSync(new Map(), [], ids, true, NONE), ids)).toEqual([]);
});

test("added, version from → to, enabled, disabled and removed; other field changes are not history", () => {
  const before = stored(state("a", "8.x-1.9"), state("b", "1.0.0"), state("c", "1.0.0", false), state("d", "2.0.0"), state("e", "1.0.0"));
  const after = [state("a", "8.x-1.10"), state("b", "1.0.0", false), state("c", "1.0.0", true), state("e", "1.0.0", true, { displayName: "E!" }), state("f", null)];
  const plan = planSync(before, after, ids, true, NONE);
  expect(moduleChanges(before, plan, ids)).toEqual([
    { kind: "version_changed", moduleId: 1, fromVersionId: v("8.x-1.9"), toVersionId: v("8.x-1.10"), count: null },
    { kind: "module_disabled", moduleId: 2, fromVersionId: v("1.0.0"), toVersionId: v("1.0.0"), count: null },
    { kind: "module_enabled", moduleId: 3, fromVersionId: v("1.0.0"), toVersionId: v("1.0.0"), count: null },
    { kind: "module_added", moduleId: 6, fromVersionId: null, toVersionId: null, count: null },
    { kind: "module_removed", moduleId: 4, fromVersionId: v("2.0.0"), toVersionId: null, count: null },
  ]);
});

test("a partial sync removes nothing, and a module kept for its skipped entry is not removed", () => {
  const before = stored(state("a", "1.0.0"), state("b", "1.0.0"));
  expect(moduleChanges(before, planSync(before, [state("a", "1.0.0")], ids, false, NONE), ids)).toEqual([]);
  expect(moduleChanges(before, planSync(before, [state("a", "1.0.0")], ids, true, new Set([2])), ids)).toEqual([]);
});
