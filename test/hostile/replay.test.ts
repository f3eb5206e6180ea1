// Issue 10, item 7: a body byte for byte the last one applied is answered
// from the fingerprint stored on the site, without being parsed or checked
// again. Once the site's token or URL changed, the old bytes still synced.
// Now the fingerprint covers the token hash and URL the body was checked
// against: changed (here in the database itself: there is no rotation API
// yet, and nothing clears the stored fingerprint), the same bytes are
// checked in full, and refused.
//
// A real server process per dialect: the fingerprint lives in each store.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { hashToken } from "../../src/security/tokens";
import type { SeededSite } from "../support/harness";
import { describeEachDialect } from "../support/stores";
import { sql } from "../support/sql";
import { cheaply, hostileServer, moduleList, modulesOpening, post, type HostileServer } from "./support";

const encoder = new TextEncoder();

describeEachDialect("a replayed body after the site changed", (dialect) => {
  let h: HostileServer;
  beforeAll(async () => {
    h = await hostileServer(dialect, {}, 4);
  });
  afterAll(() => h.close());

  /** A sync body for `site` as exact bytes (sent with their Content-Length: read whole, fingerprinted). */
  const bodyFor = (site: SeededSite) => encoder.encode(`${modulesOpening(site)}${moduleList(30)}]}`);
  const sync = (site: SeededSite, bytes: Uint8Array) => post(h.server, `/api/v1/sites/${site.id}/modules`, h.world.token, bytes);
  const fingerprint = async (site: SeededSite) =>
    (await sql<{ f: string | null }>(h.store, `SELECT sync_fingerprint AS f FROM sites WHERE id = ${site.id}`))[0]!.f;

  /** Syncs `bytes` twice: applied, then answered from the stored fingerprint. */
  async function appliedThenReplayed(site: SeededSite, bytes: Uint8Array) {
    const first = await sync(site, bytes);
    expect({ status: first.status, created: first.json.modules_created }).toEqual({ status: 200, created: 30 });
    expect(await fingerprint(site)).not.toBeNull();
    const again = await sync(site, bytes);
    expect({ status: again.status, unchanged: again.json.modules_unchanged }).toEqual({ status: 200, unchanged: 30 });
  }

  test("the site's token hash changed: the identical bytes are refused with 403", async () => {
    const site = h.world.sites[0]!;
    const bytes = bodyFor(site);
    await appliedThenReplayed(site, bytes);
    const stored = await fingerprint(site);

    await sql(h.store, `UPDATE sites SET token_hash = '${hashToken("mss_rotated")}' WHERE id = ${site.id}`);
    const { value: res } = await cheaply(h, `${dialect}: replay after token change`, () => sync(site, bytes));
    expect({ status: res.status, json: res.json }).toEqual({ status: 403, json: expect.objectContaining({ detail: "Invalid site token" }) });
    // Still the fingerprint of the old sync: the refusal came from the checks, not from a cleared column.
    expect(await fingerprint(site)).toBe(stored);

    // The old token back: the same bytes are the site's again.
    await sql(h.store, `UPDATE sites SET token_hash = '${hashToken(site.token)}' WHERE id = ${site.id}`);
    expect((await sync(site, bytes)).status).toBe(200);
  });

  test("the site's registered URL changed: the identical bytes are refused with 400 naming site.url", async () => {
    const site = h.world.sites[1]!;
    const bytes = bodyFor(site);
    await appliedThenReplayed(site, bytes);

    await sql(h.store, `UPDATE sites SET url = 'https://moved.example', normalized_url = 'https://moved.example' WHERE id = ${site.id}`);
    const { value: res } = await cheaply(h, `${dialect}: replay after URL change`, () => sync(site, bytes));
    expect({ status: res.status, detail: res.json.detail, loc: res.json.errors?.[0]?.loc })
      .toEqual({ status: 400, detail: "Site URL does not match the registered URL", loc: ["body", "site", "url"] });
  });
});
