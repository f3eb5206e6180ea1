// How often a round of the update statuses looks for the sites due: each look
// walks every site's mark (sitesToCompute), so a round looks once when fewer
// than a look's size are due, and again only from the last id it was given. On
// both dialects.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { ReleaseStore } from "../../src/store/releases/types";
import { UpdateStatuses } from "../../src/updates/statuses";
import { createHarness, mod, payload, type Harness } from "../support/harness";
import { describeEachDialect } from "../support/stores";
import { nextMillisecond } from "../support/until";

describeEachDialect("the looks of a statuses round", (dialect) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(dialect);
  });
  afterAll(() => h.close());

  /** `count` sites, each synced once since anything was computed: all due. */
  async function dueSites(count: number): Promise<number[]> {
    // Whatever earlier tests left due is computed first.
    await new UpdateStatuses(h.store.releases).computePending();
    const ids: number[] = [];
    for (let i = 0; i < count; i++) {
      const site = await h.freshSite(`looked-at-${i}`);
      await nextMillisecond();
      expect((await h.sync(payload(site, [mod("token", { version: "8.x-1.10" })]), site.id)).status).toBe(200);
      ids.push(site.id);
    }
    expect(await h.store.releases.sitesToCompute(0, 100)).toEqual(ids);
    return ids;
  }

  /** The store's releases, with every look it is asked for recorded as [afterId, limit]. */
  function countingLooks(): { releases: ReleaseStore; looks: [number, number][] } {
    const looks: [number, number][] = [];
    const releases: ReleaseStore = Object.create(h.store.releases);
    releases.sitesToCompute = (afterId, limit) => {
      looks.push([afterId, limit]);
      return h.store.releases.sitesToCompute(afterId, limit);
    };
    return { releases, looks };
  }

  test("fewer due than a look holds: one look, every due site computed in batches", async () => {
    await dueSites(3);
    const { releases, looks } = countingLooks();
    expect(await new UpdateStatuses(releases).computePending(1, 10)).toBe(3);
    expect(looks).toEqual([[0, 10]]);
    expect(await h.store.releases.sitesToCompute(0, 100)).toEqual([]);
  });

  // Two looks either way: the second starts after the first's last id (the second site's) and finds the rest, or none.
  test.each([
    ["more due than a look holds: the next look starts after the last id of the one before", 3, 2],
    ["exactly a look's worth due: one more look finds none left", 2, 500],
  ] as const)("%s", async (_name, due, batchSize) => {
    const ids = await dueSites(due);
    const { releases, looks } = countingLooks();
    expect(await new UpdateStatuses(releases).computePending(batchSize, 2)).toBe(due);
    expect(looks).toEqual([[0, 2], [ids[1]!, 2]]);
    expect(await h.store.releases.sitesToCompute(0, 100)).toEqual([]);
  });
});
