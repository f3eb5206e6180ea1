// planSync is pure: what changed, what to remove, the counts.
import { expect, test } from "bun:test";
import { detailsHash, detailsHeld, leavesExactlyPayload, planSync as plan, splitWrites, type EntryIds, type SiteModuleState, type StoredModule } from "../../src/inventory";

const state = (machineName: string, over: Partial<SiteModuleState> = {}): SiteModuleState => ({
  machineName, displayName: machineName, moduleType: "contrib", extensionType: "module", enabled: true, version: "1.0.0", description: null, project: null, ...over,
});

// Catalog ids as the store resolves them: one per name, one per (name, version); current() fixes a module's id.
const moduleIds = new Map<string, number>();
const versionIds = new Map<string, number>();
const idOf = (ids: Map<string, number>, key: string) => ids.get(key) ?? ids.set(key, 1000 + ids.size).get(key)!;
const ids: EntryIds = {
  moduleId: (e) => idOf(moduleIds, e.machineName),
  versionId: (e) => (e.version === null ? null : idOf(versionIds, `${e.machineName}:${e.version}`)),
};
const current = (...mods: [number, SiteModuleState][]) => new Map<number, StoredModule>(mods.map(([moduleId, s]) => {
  moduleIds.set(s.machineName, moduleId);
  return [moduleId, { moduleId, versionId: ids.versionId(s), enabled: s.enabled, detailsHash: detailsHash(s) }];
}));
const planSync = (cur: Map<number, StoredModule>, entries: SiteModuleState[], full: boolean, keep: Set<number>) => plan(cur, entries, ids, full, keep);

test("new modules are created, identical ones unchanged, differing ones updated", () => {
  const plan = planSync(current([1, state("a")], [2, state("b")]), [state("a"), state("b", { version: "2.0.0" }), state("c")], false, new Set());
  expect(plan).toMatchObject({ modulesCreated: 1, modulesUpdated: 1, modulesUnchanged: 1, modulesRemoved: 0, removals: [] });
  expect(plan.writes.map((w) => w.machineName)).toEqual(["b", "c"]);
});

test("an update that leaves the details as stored writes the state alone; one that changes them writes the whole row", () => {
  const cur = current([1, state("a", { description: "d" })], [2, state("b", { description: "d" })], [3, state("c")], [4, state("e")]);
  const plan = planSync(cur, [
    state("a", { description: "d", version: "2.0.0" }), // a new version: the release case
    state("b", { description: "d", enabled: false }), // disabled
    state("c", { description: "now described", version: "2.0.0" }), // details and version
    state("e"), // unchanged
    state("f"), // new
  ], false, new Set());
  expect(plan).toMatchObject({ modulesCreated: 1, modulesUpdated: 3, modulesUnchanged: 1 });
  expect(plan.writes.map((w) => w.machineName)).toEqual(["a", "b", "c", "f"]);
  expect(plan.sameDetails).toEqual([true, true, false, false]);
  const { whole, stateOnly } = splitWrites(plan);
  expect(whole.map((w) => w.machineName)).toEqual(["c", "f"]);
  expect(stateOnly.map((w) => w.machineName)).toEqual(["a", "b"]);
});

test("null and a value differ; two nulls are equal", () => {
  const cur = current([1, state("a", { version: null, description: null })]);
  expect(planSync(cur, [state("a", { version: null, description: null })], false, new Set()).modulesUnchanged).toBe(1);
  expect(planSync(cur, [state("a", { version: "", description: null })], false, new Set()).modulesUpdated).toBe(1);
  expect(planSync(cur, [state("a", { version: null, description: "" })], false, new Set()).modulesUpdated).toBe(1);
});

test("every stored field counts: a change to any one of them is an update", () => {
  const cur = current([1, state("a", { description: "d", project: "p" })]);
  const base = state("a", { description: "d", project: "p" });
  expect(planSync(cur, [base], false, new Set()).modulesUnchanged).toBe(1);
  for (const over of [{ displayName: "A" }, { moduleType: "core" as const }, { enabled: false }, { version: "1.0.1" },
    { description: null }, { description: "d " }, { project: null }, { project: "q" }]) {
    expect(planSync(cur, [{ ...base, ...over }], false, new Set())).toMatchObject({ modulesUpdated: 1, modulesUnchanged: 0 });
  }
});

test("detailsHash tells apart texts that only a separator or null would confuse", () => {
  const hashes = [
    state("a", { displayName: "x", description: null, project: null }),
    state("a", { displayName: "x", description: "", project: null }),
    state("a", { displayName: "x", description: null, project: "" }),
    state("a", { displayName: "x", description: "n", project: null }),
    state("a", { displayName: "x", description: "sn", project: null }),
    state("a", { displayName: "x\0contrib", description: null, project: null }),
  ].map(detailsHash);
  expect(new Set(hashes).size).toBe(hashes.length);
  expect(hashes.every(Number.isSafeInteger)).toBe(true);
});

// The text as detailsHash builds it, and the hash as every stored row was written (BigInt arithmetic).
const detailsText = (s: SiteModuleState) => `${s.displayName}\0${s.moduleType}\0${s.description === null ? "n" : `s${s.description}`}\0${s.project === null ? "n" : `s${s.project}`}${s.extensionType === "module" ? "" : `\0k${s.extensionType}`}`;
const stored = (s: SiteModuleState) => Number(BigInt.asUintN(53, Bun.hash.wyhash(detailsText(s))));

test("detailsHash is the low 53 bits of the wyhash of its text: the values already stored stay true", () => {
  const samples = Array.from({ length: 2000 }, (_, i) => state(`m${i}`, {
    displayName: `Module ${i} \u00e9\u{1F600}`, moduleType: (["core", "contrib", "custom"] as const)[i % 3], extensionType: (["module", "theme", "profile"] as const)[i % 3],
    description: i % 5 === 0 ? null : `Description ${i * 7919}`, project: i % 4 === 0 ? null : `p${i}`,
  }));
  for (const s of samples) expect(detailsHash(s)).toBe(stored(s));
  // A pinned value, from before detailsHash read the hash's halves instead of BigInt.asUintN.
  expect(detailsHash(state("views", { displayName: "Views", moduleType: "core", description: "Create lists." }))).toBe(7769694754890184);
});

test("detailsHash of one module name whose details change and change back: each time the hash of the details given", () => {
  // detailsHash holds the last details hashed per name: any field it failed to compare would return a stale hash.
  const base = state("memo_probe", { displayName: "Probe", moduleType: "contrib", extensionType: "module", description: "d", project: "p" });
  const variants: SiteModuleState[] = [
    base, { ...base, displayName: "Probe 2" }, base, { ...base, moduleType: "custom" }, base, { ...base, extensionType: "theme" }, base,
    { ...base, description: null }, base, { ...base, description: "d2" }, base, { ...base, project: null }, { ...base, project: "p2" }, base,
    { ...base, enabled: false, version: "9.9.9" }, // not details: the same hash
  ];
  for (const v of variants) expect(detailsHash({ ...v, displayName: `${v.displayName}` })).toBe(stored(v));
  expect(new Set(variants.map(detailsHash)).size).toBe(8);
});

test("detailsHash stops filling its memory in a long run of names never seen, and fills it again once a name is found", () => {
  // The memory is the process's (other test files hash too): first a name found, which ends any run of misses.
  const probe = state("run_reset_probe", { displayName: "Probe" });
  for (let i = 0; i < 66; i++) expect(detailsHash(probe)).toBe(stored(probe));
  // A large sync of modules no other site runs: past 1,000 misses in a row, one in 64 is remembered.
  const large = Array.from({ length: 7_500 }, (_, i) => state(`large_run_${i}`, { displayName: `Large ${i}` }));
  for (const s of large.slice(0, 1_100)) expect(detailsHash(s)).toBe(stored(s));
  const before = detailsHeld();
  for (const s of large.slice(1_100)) expect(detailsHash(s)).toBe(stored(s));
  expect(detailsHeld() - before).toBeLessThanOrEqual(6_400 / 64 + 1);
  // A name found again ends the run (the probe is remembered again within 64 misses, then found):
  // new names are remembered again, each of them (unless one found the memory full: it starts over).
  for (let i = 0; i < 66; i++) expect(detailsHash(probe)).toBe(stored(probe));
  const resumed = detailsHeld();
  for (let i = 0; i < 10; i++) detailsHash(state(`after_the_run_${i}`));
  const after = detailsHeld();
  expect(after === resumed + 10 || after <= 10).toBe(true);
});

test("detailsHash through a long run of names never seen (a large sync), some remembered, some not: always the hash of the details given", () => {
  // Past a run of misses only a sample is remembered: a name hashed then, remembered or not, must never answer stale.
  const many = Array.from({ length: 5_000 }, (_, i) => state(`streak_${i}`, { displayName: `Streak ${i}`, description: i % 3 === 0 ? null : `d${i}` }));
  for (const s of many) expect(detailsHash(s)).toBe(stored(s));
  for (const s of many) {
    const changed = { ...s, displayName: `${s.displayName}!` };
    expect(detailsHash(changed)).toBe(stored(changed));
    expect(detailsHash(s)).toBe(stored(s));
  }
});

test("partial sync removes nothing; full sync removes the absent, except those kept", () => {
  const cur = current([1, state("a")], [2, state("b")], [3, state("c")]);
  expect(planSync(cur, [state("a")], false, new Set()).removals).toEqual([]);
  const full = planSync(cur, [state("a")], true, new Set([3]));
  expect(full.removals).toEqual([2]);
  expect(full.modulesRemoved).toBe(1);
});

test("a full sync removes exactly the modules it does not name, however many new ones it brings", () => {
  const cur = current([1, state("a")], [2, state("b")], [3, state("c")]);
  // Every held module named (one changed), plus a new one: nothing to remove.
  expect(planSync(cur, [state("a"), { ...state("b"), version: "2.0.0" }, state("c"), state("d")], true, new Set())).toMatchObject({ removals: [], modulesCreated: 1, modulesUpdated: 1, modulesUnchanged: 2 });
  // As many entries as held modules, but one of them new: the module not named goes.
  expect(planSync(cur, [state("a"), state("c"), state("d")], true, new Set()).removals).toEqual([2]);
  expect(planSync(cur, [state("d"), state("e"), state("f"), state("c")], true, new Set()).removals).toEqual([1, 2]);
});

test("a full sync of nothing onto nothing does nothing", () => {
  expect(planSync(new Map(), [], true, new Set())).toMatchObject({ writes: [], removals: [], modulesCreated: 0, modulesRemoved: 0 });
});

test("leavesExactlyPayload: only when nothing but the payload's modules remain", () => {
  const cur = current([1, state("a")], [2, state("b")]);
  const exactly = (entries: SiteModuleState[], full: boolean, keep: number[] = []) =>
    leavesExactlyPayload(cur, entries.length, planSync(cur, entries, full, new Set(keep)));
  expect(exactly([state("a"), state("b")], false)).toBe(true);
  expect(exactly([state("b"), state("a"), state("c")], false)).toBe(true);
  expect(exactly([state("a")], false)).toBe(false); // partial: b stays
  expect(exactly([state("a")], true)).toBe(true); // full: b removed
  expect(exactly([state("a")], true, [2])).toBe(false); // full, but b's entry was skipped: b stays
  expect(exactly([state("c")], true)).toBe(true);
  expect(leavesExactlyPayload(new Map(), 0, planSync(new Map(), [], false, new Set()))).toBe(true);
});
