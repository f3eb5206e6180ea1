// A site's modules as a sync reads them and as SiteStates keeps them: packed
// rows, found by module id in any order, and the new rows a plan leaves,
// in the payload's order.
import { describe, expect, test } from "bun:test";
import { detailsHash, planSync, type EntryIds, type SiteModuleState, type StoredModule } from "../../src/inventory";
import { heldModules, storedModules, type StoredModuleRow } from "../../src/store/current";
import { applyPlan, PackedModules } from "../../src/store/packed-modules";

const state = (machineName: string, version: string | null = "1.0.0", enabled = true, description: string | null = null): SiteModuleState => ({
  machineName, version, displayName: machineName, moduleType: "contrib", extensionType: "module", enabled, description, project: null,
});
// Module ids: the number in the name (m3 is 3); version ids: 100 + the major version.
const ids: EntryIds = {
  moduleId: (e) => Number(e.machineName.slice(1)),
  versionId: (e) => (e.version === null ? null : 100 + Number(e.version.split(".")[0])),
};
const row = (e: SiteModuleState): StoredModuleRow => [ids.moduleId(e), ids.versionId(e), e.enabled ? 1 : 0, detailsHash(e)];
const packedOf = (...entries: SiteModuleState[]) => heldModules(entries.map(row)) as PackedModules;
const asMap = (modules: { keys(): Iterable<number>; get(id: number): StoredModule | undefined }) => new Map([...modules.keys()].map((id) => [id, modules.get(id)!]));

describe("heldModules", () => {
  test("packs rows exactly: disabled, without a version, the largest ids and hash, Postgres's strings and booleans", () => {
    const rows: StoredModuleRow[] = [
      [1, null, 0, 0],
      [2 ** 53 - 1, 2 ** 53 - 1, 1, 2 ** 53 - 1],
      [7, "1", false, "123456789012345"],
      [8, null, true, 5],
    ];
    const held = heldModules(rows);
    expect(held).toBeInstanceOf(PackedModules);
    expect(held.size).toBe(4);
    expect(asMap(held)).toEqual(storedModules(rows));
  });

  test("rows that cannot be packed (ids start at 1) are held as a map, from which no state is kept", () => {
    for (const rows of [[[0, 1, 1, 5]], [[4, 0, 1, 5]], [[4, "0", 1, 5]]] as StoredModuleRow[][]) {
      const held = heldModules(rows);
      expect(held).toBeInstanceOf(Map);
      expect(asMap(held)).toEqual(storedModules(rows));
    }
    const entries = [state("m4")];
    const current = heldModules([[4, 0, 1, 5]]);
    expect(applyPlan(current, entries, planSync(current, entries, ids, true, new Set()), ids)).toBeNull();
  });

  test("finds every module whatever order it is asked in, and answers none for a module not held", () => {
    const entries = Array.from({ length: 40 }, (_, i) => state(`m${i + 1}`, `${(i % 3) + 1}.0.0`, i % 4 !== 0));
    const held = packedOf(...entries);
    const orders = [entries.map((_, i) => i), entries.map((_, i) => 39 - i), entries.map((_, i) => (i * 17) % 40)];
    for (const order of orders) {
      for (const i of order) expect(held.get(i + 1)).toEqual({ moduleId: i + 1, versionId: ids.versionId(entries[i]!), enabled: entries[i]!.enabled, detailsHash: detailsHash(entries[i]!) });
      expect(held.get(41)).toBeUndefined();
      expect(held.rowOf(0)).toBe(-1);
    }
    expect(packedOf().get(1)).toBeUndefined();
  });
});

describe("applyPlan", () => {
  test("leaves the payload's entries in its order, written ones as written, then held modules the payload did not name; the array it started from unchanged", () => {
    const before = [state("m1"), state("m2"), state("m3"), state("m4")];
    const current = packedOf(...before);
    const kept = current.packed.slice();
    // Partial: m4 is not named and stays; m5 is new; m2 moves to 2.0.0; m1 is disabled; m3 as held.
    const entries = [state("m5", "3.0.0"), state("m3"), state("m2", "2.0.0"), state("m1", "1.0.0", false)];
    const plan = planSync(current, entries, ids, false, new Set());
    const after = new PackedModules(applyPlan(current, entries, plan, ids)!);
    expect([...after.keys()]).toEqual([5, 3, 2, 1, 4]);
    expect(asMap(after)).toEqual(new Map([...entries, before[3]!].map((e) => [ids.moduleId(e), { moduleId: ids.moduleId(e), versionId: ids.versionId(e), enabled: e.enabled, detailsHash: detailsHash(e) }])));
    expect(current.packed).toEqual(kept);
  });

  test("a full sync's removals are gone, modules kept for a skipped entry stay", () => {
    const current = packedOf(state("m1"), state("m2"), state("m3"));
    const entries = [state("m1", "2.0.0")];
    const plan = planSync(current, entries, ids, true, new Set([3]));
    expect(plan.removals).toEqual([2]);
    expect([...new PackedModules(applyPlan(current, entries, plan, ids)!).keys()]).toEqual([1, 3]);
  });

  test("keeps the held hash of a write whose details the plan found as stored, and hashes changed details", () => {
    const current = packedOf(state("m1", "1.0.0", true, "old"), state("m2"));
    const entries = [state("m1", "2.0.0", true, "new"), state("m2", "2.0.0")];
    const plan = planSync(current, entries, ids, true, new Set());
    expect(plan.sameDetails).toEqual([false, true]);
    const after = new PackedModules(applyPlan(current, entries, plan, ids)!);
    expect(after.get(1)?.detailsHash).toBe(detailsHash(entries[0]!));
    expect(after.get(2)?.detailsHash).toBe(current.get(2)!.detailsHash);
  });

  test("a plan made from other modules is refused, not kept wrong", () => {
    const current = packedOf(state("m1"), state("m2"));
    const entries = [state("m1"), state("m2", "2.0.0")];
    const plan = planSync(current, entries, ids, true, new Set());
    expect(() => applyPlan(packedOf(state("m1")), entries, plan, ids)).toThrow();
  });
});
