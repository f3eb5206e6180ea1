// A sync whose site is gone by the time its transaction runs (deleted after
// the request's access check) is NotFoundError on both dialects, which the
// route answers with 404, never a 500. Here at the store: a site id that was
// never there, with nothing written and the transaction rolled back.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { SyncCommand } from "../../src/inventory";
import { NotFoundError } from "../../src/store/types";
import { createHarness, type Harness } from "../support/harness";
import { describeEachDialect } from "../support/stores";
import { connectionsInTransaction, count } from "../support/sql";

describeEachDialect("a sync of a site that no longer exists", (dialect) => {
  let h: Harness;
  beforeAll(async () => { h = await createHarness(dialect); });
  afterAll(() => h.close());

  test("is NotFoundError, and leaves no module, change or catalog row of its own", async () => {
    const missing = 987_654;
    const before = await count(h.store, "SELECT count(*) AS n FROM modules");
    const command = {
      siteId: missing, siteName: "gone", drupalInfo: { coreVersion: "10.3.8", phpVersion: "8.3.2", ipAddress: null },
      entries: [{ machineName: "only_on_a_gone_site", displayName: "x", moduleType: "contrib", extensionType: "module", enabled: true, version: "1.0.0", description: null, project: null }],
      fullSync: true, keep: new Set<string>(), fingerprint: null, repeat: null,
    } as unknown as SyncCommand;
    await expect(h.store.applySync(command)).rejects.toBeInstanceOf(NotFoundError);
    expect(await count(h.store, `SELECT count(*) AS n FROM site_modules WHERE site_id = ${missing}`)).toBe(0);
    expect(await count(h.store, `SELECT count(*) AS n FROM site_change_sets WHERE site_id = ${missing}`)).toBe(0);
    expect(await count(h.store, "SELECT count(*) AS n FROM modules")).toBe(before);
    // The error is thrown by code after the lock's read: the transaction is rolled back, not left open on its connection.
    expect(await connectionsInTransaction(h.store)).toBe(0);
  });
});
