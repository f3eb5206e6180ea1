// Release data that changes while a batch of sites is being judged: the
// batch's write must not clear the mark the change set, or those sites keep
// statuses judged on the old data until their next sync. On both dialects,
// the change lands between the read of the release data and the write.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { ReleaseStore } from "../../src/store/releases/types";
import { UpdateStatuses } from "../../src/updates/statuses";
import { createHarness, mod, payload, type Harness } from "../support/harness";
import { fixture } from "../support/releases";
import { describeEachDialect } from "../support/stores";

describeEachDialect("release data changing during a computation", (dialect) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(dialect);
  });
  afterAll(() => h.close());

  async function drupalStatus(siteId: number) {
    return (await h.store.releases.siteUpdates(siteId)).projects.find((p) => p.project === "drupal")?.status;
  }

  /** A fresh site running Drupal 8.0.0, with 8.1.0 the release data's latest. */
  async function siteOnDrupal8(name: string) {
    const site = await h.freshSite(name);
    const body = payload(site, [mod("node", { module_type: "core", version: "8.0.0" })],
      { drupal_info: { core_version: "8.0.0", php_version: "8.3.2", ip_address: "192.0.2.1" } });
    expect((await h.sync(body, site.id)).status).toBe(200);
    await h.store.releases.saveHistories([{ history: fixture("drupal.8.1.0") }], new Date());
    return site;
  }

  /** A release store whose history read lets a security release land just after it read the old data. */
  function racingSecurityRelease(): ReleaseStore {
    const racing: ReleaseStore = Object.create(h.store.releases);
    racing.histories = async (projects) => {
      const read = await h.store.releases.histories(projects);
      await h.store.releases.saveHistories([{ history: fixture("drupal.sec.8.0.2") }], new Date());
      return read;
    };
    return racing;
  }

  for (const computedBefore of [true, false]) {
    test(`a site ${computedBefore ? "computed before" : "never computed"} is computed again on the new data`, async () => {
      const site = await siteOnDrupal8("race");
      const statuses = new UpdateStatuses(h.store.releases);
      if (computedBefore) {
        await statuses.computeSites([site.id]);
        expect(await drupalStatus(site.id)).toBe("not_current");
      }

      // The refresher saves a security release just after this batch read the old data.
      await new UpdateStatuses(racingSecurityRelease()).computeSites([site.id]);
      expect(await drupalStatus(site.id)).toBe("not_current"); // judged on what it read

      expect(await h.store.releases.sitesToCompute(site.id - 1, 10)).toContain(site.id);
      await statuses.computePending();
      expect(await drupalStatus(site.id)).toBe("not_secure");
      // Restore the first data for the next case.
      await h.store.releases.saveHistories([{ history: fixture("drupal.8.1.0") }], new Date());
      await statuses.computePending();
    });
  }

  test("a write that throws after committing still leaves the sites whose release data changed meanwhile to be computed again", async () => {
    const site = await siteOnDrupal8("race-fail");
    const statuses = new UpdateStatuses(h.store.releases);
    await statuses.computePending();

    // New release data lands while the batch is judged; its write then commits (clearing the mark) and throws after,
    // as when a later chunk's transaction fails once the first ones have committed.
    const racing = racingSecurityRelease();
    racing.replaceSiteUpdates = async (sites, now) => {
      await h.store.releases.replaceSiteUpdates(sites, now);
      throw new Error("a later chunk failed");
    };
    await expect(new UpdateStatuses(racing).computeSites([site.id])).rejects.toThrow("a later chunk failed");
    expect(await h.store.releases.sitesToCompute(site.id - 1, 10)).toContain(site.id);
    await statuses.computePending();
    expect(await drupalStatus(site.id)).toBe("not_secure");
    // Restore the first data for the next case.
    await h.store.releases.saveHistories([{ history: fixture("drupal.8.1.0") }], new Date());
    await statuses.computePending();
  });
});
