// The id cache's first source: the ids a site's last sync resolved, by
// position. An entry at the same place with the same machine_name takes its
// module id from there, and its version id too when its version is the same;
// anything else goes to the shared tiers as before.
import { describe, expect, test } from "bun:test";
import { IdCache } from "../../src/cache/ids";
import { SiteIdMemory } from "../../src/cache/site-ids";
import type { KnownIds, SiteModuleState } from "../../src/inventory";

const state = (machineName: string, version: string | null = "1.0.0"): SiteModuleState => ({
  machineName, version, displayName: machineName, moduleType: "contrib", extensionType: "module", enabled: true, description: null, project: null,
});
const config = { moduleCacheTtlSeconds: 3600, versionCacheTtlSeconds: 86400, cacheMaxEntries: 1000 };
const nothingLearned = (): KnownIds => ({ modules: new Map(), versions: new Map() });

/** What a sync's resolution leaves in `known`: every entry's ids (module n: id n, its version: 100 + n). */
function resolved(entries: SiteModuleState[]): KnownIds {
  const known: KnownIds = { modules: new Map(), versions: new Map(), entryVersions: new Map() };
  entries.forEach((e, i) => {
    known.modules.set(e.machineName, i + 1);
    if (e.version !== null) known.entryVersions!.set(e, 101 + i);
  });
  return known;
}

describe("the ids of a site's last sync", () => {
  const last = [state("a"), state("b", null), state("c")];

  test("answer the same modules at the same places, as memory hits, with no shared tier holding them", async () => {
    const cache = new IdCache(config, null, "t:");
    await cache.remember(nothingLearned(), { siteId: 1, entries: last, known: resolved(last) });
    // Parsed again from the next body: other objects, equal content.
    const next = [state("a"), state("b", null), state("c")];
    const { known, report } = await cache.lookup(next, 1);
    expect([...known.modules]).toEqual([["a", 1], ["b", 2], ["c", 3]]);
    expect(next.map((e) => known.entryVersions!.get(e))).toEqual([101, undefined, 103]);
    expect(report).toEqual({ module: { memoryHits: 3, redisHits: 0, misses: 0 }, version: { memoryHits: 2, redisHits: 0, misses: 0 } });
    // Another site has none of them.
    expect((await cache.lookup(next, 2)).report.module).toEqual({ memoryHits: 0, redisHits: 0, misses: 3 });
  });

  test("a changed version keeps its module's id and goes to the shared tiers for the version's", async () => {
    const cache = new IdCache(config, null, "t:");
    await cache.remember(nothingLearned(), { siteId: 1, entries: last, known: resolved(last) });
    const next = [state("a"), state("b", null), state("c", "2.0.0")];
    const { known, report } = await cache.lookup(next, 1);
    expect(known.modules.get("c")).toBe(3);
    expect(known.entryVersions!.has(next[2]!)).toBe(false);
    expect(report.version).toEqual({ memoryHits: 1, redisHits: 0, misses: 1 });
  });

  test("an entry at another place is looked up in the shared tiers", async () => {
    const cache = new IdCache(config, null, "t:");
    await cache.remember(nothingLearned(), { siteId: 1, entries: last, known: resolved(last) });
    const next = [state("c"), state("a"), state("b", null), state("d")];
    const { known, report } = await cache.lookup(next, 1);
    expect(known.modules.size).toBe(0);
    expect(report.module).toEqual({ memoryHits: 0, redisHits: 0, misses: 4 });
  });

  test("are kept for at most the allowed entries, the sites synced least recently first out", () => {
    const memory = new SiteIdMemory(5);
    const two = [state("a"), state("b")];
    memory.remember(1, two, resolved(two));
    memory.remember(2, two, resolved(two));
    memory.remember(1, two, resolved(two)); // synced again: now the most recent
    memory.remember(3, two, resolved(two));
    expect(memory.get(2)).toBeUndefined();
    expect(memory.get(1)?.names).toEqual(["a", "b"]);
    expect(memory.size).toBe(4);
    const six = ["a", "b", "c", "d", "e", "f"].map((n) => state(n));
    memory.remember(1, six, resolved(six));
    expect(memory.get(1)).toBeUndefined();
    expect(memory.size).toBe(2);
  });

  test("keep nothing for a site when an entry's ids are not all resolved", () => {
    const memory = new SiteIdMemory(100);
    const entries = [state("a"), state("b")];
    const known = resolved(entries);
    known.entryVersions!.delete(entries[1]!);
    memory.remember(1, entries, known);
    expect(memory.get(1)).toBeUndefined();
    expect(memory.size).toBe(0);
  });
});
