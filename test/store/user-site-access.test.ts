// findUserSiteAccess: a sync's token lookup and site access read in one
// statement, on both dialects, answering what findUserIdByTokenHash and
// getSiteAccess answer apart.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { AccountsService } from "../../src/accounts/service";
import { hashToken } from "../../src/security/tokens";
import { SitesService } from "../../src/sites/service";
import type { Store } from "../../src/store/types";
import { createTestDatabase, describeEachDialect, type TestDatabase } from "../support/stores";

describeEachDialect("findUserSiteAccess", (dialect) => {
  let db: TestDatabase;
  let store: Store;
  let token: string;
  let revoked: string;
  let userId: number;
  let own: number;
  let foreign: number;

  beforeAll(async () => {
    db = createTestDatabase(dialect);
    store = await db.open();
    const accounts = new AccountsService(store);
    const sites = new SitesService(store);
    const org = await accounts.createOrganization("One");
    const other = await accounts.createOrganization("Two");
    const user = await accounts.createUser({ email: "a@one.test", organizationId: org.id, role: "member" });
    await accounts.createUser({ email: "b@two.test", organizationId: other.id, role: "admin" });
    ({ token } = user);
    userId = user.id;
    revoked = (await accounts.createToken(user.id)).token;
    await accounts.revokeToken(revoked);
    own = (await sites.create({ organizationId: org.id, url: "https://own.example", name: "Own" })).id;
    foreign = (await sites.create({ organizationId: other.id, url: "https://foreign.example", name: "Foreign" })).id;
  });
  afterAll(async () => {
    await db?.destroy();
  });

  test("a live token: its user and the same access getSiteAccess reads, member or not", async () => {
    for (const siteId of [own, foreign]) {
      const found = await store.findUserSiteAccess(hashToken(token), siteId);
      expect(found).toEqual({ userId, access: await store.getSiteAccess(siteId, userId) });
    }
    expect((await store.findUserSiteAccess(hashToken(token), own))!.access).toMatchObject({ isMember: true, role: "member", site: { id: own, name: "Own" } });
    expect((await store.findUserSiteAccess(hashToken(token), foreign))!.access).toMatchObject({ isMember: false, role: null, site: { id: foreign } });
  });

  test("no such site, or no site id: the user with no access", async () => {
    expect(await store.findUserSiteAccess(hashToken(token), 999_999)).toEqual({ userId, access: null });
    expect(await store.findUserSiteAccess(hashToken(token), null)).toEqual({ userId, access: null });
  });

  test("an unknown or revoked token: null, whatever the site", async () => {
    for (const siteId of [own, 999_999, null]) {
      expect(await store.findUserSiteAccess(hashToken("msk_unknown"), siteId)).toBeNull();
      expect(await store.findUserSiteAccess(hashToken(revoked), siteId)).toBeNull();
    }
  });
});
