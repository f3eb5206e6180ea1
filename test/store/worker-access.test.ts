// A worker thread opens the main thread's database from the store's
// workerAccess(): plain data that survives postMessage, naming the same
// database, with no migration of its own.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { openForWorker } from "../../src/store/open";
import type { Store } from "../../src/store/types";
import { createTestDatabase, describeEachDialect, type TestDatabase } from "../support/stores";

describeEachDialect("a store opened for a worker thread", (dialect) => {
  let db: TestDatabase;
  let store: Store;
  beforeAll(async () => {
    db = createTestDatabase(dialect);
    store = await db.open();
  });
  afterAll(async () => {
    await db.destroy();
  });

  test("reaches the same database through a structured clone of workerAccess()", async () => {
    const org = await store.createOrganization("Worker access");
    const spec = structuredClone(store.workerAccess());
    expect(spec).not.toBeNull();
    const worker = await openForWorker(spec!);
    try {
      const site = await worker.createSite({ organizationId: org.id, url: "https://w.example", normalizedUrl: "https://w.example", name: "W", tokenHash: "h" });
      expect(await store.getSiteSummary(site.id)).toMatchObject({ id: site.id, name: "W", moduleCount: 0 });
      expect(await worker.databaseId()).toBe(await store.databaseId());
    } finally {
      await worker.close();
    }
  });
});
