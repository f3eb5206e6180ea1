// Which syncs make the background thread judge a site again: the first, and
// any that changed its inventory or core version. A re-sync that changed
// nothing (most of them) costs it nothing. On both dialects.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { UpdateStatuses } from "../../src/updates/statuses";
import { createHarness, mod, payload, type Harness } from "../support/harness";
import { describeEachDialect } from "../support/stores";
import { nextMillisecond } from "../support/until";

describeEachDialect("sites due for their update statuses", (dialect) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(dialect);
  });
  afterAll(() => h.close());

  test("the first sync, then only syncs that change something", async () => {
    const site = await h.freshSite("due");
    const due = async () => (await h.store.releases.sitesToCompute(site.id - 1, 10)).includes(site.id);
    const statuses = new UpdateStatuses(h.store.releases);
    const info = (core: string) => ({ drupal_info: { core_version: core, php_version: "8.3.2", ip_address: "192.0.2.1" } });
    const sync = async (version: string, core = "10.3.8", extra: object = {}) => {
      await nextMillisecond(); // later than the computation before it
      const body = payload(site, [mod("node", { module_type: "core", version: core }), mod("token", { version })], { ...info(core), ...extra });
      expect((await h.sync(body, site.id)).status).toBe(200);
    };

    expect(await due()).toBe(false); // never synced
    await sync("8.x-1.10");
    expect(await due()).toBe(true);
    await statuses.computePending();
    expect(await due()).toBe(false);

    // The same inventory again, byte for byte and reordered/reformatted: nothing to judge.
    await sync("8.x-1.10");
    await sync("8.x-1.10", "10.3.8", { full_sync: false });
    expect(await due()).toBe(false);

    await sync("8.x-1.11"); // a module's version
    expect(await due()).toBe(true);
    await statuses.computePending();
    expect(await due()).toBe(false);

    await sync("8.x-1.11", "10.3.9"); // the core version
    expect(await due()).toBe(true);
    await statuses.computePending();
    expect(await due()).toBe(false);
  });
});
