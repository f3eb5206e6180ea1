// The summary's top contrib modules, computed in the background
// (organizations/top-modules.ts) on both dialects: exact after a refresh,
// per organization, a deleted site or a removed module reflected by the next
// refresh, and no refresh sooner than SUMMARY_REFRESH_SECONDS. Each test
// makes organizations of its own.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createApp, type App } from "../../src/app";
import { silentLogger } from "../../src/log";
import { TOP_MODULES, TopModulesRefresh } from "../../src/organizations/top-modules";
import { manualClock, type ManualClock } from "../support/clock";
import { createHarness, mod, newSite, payload, type Harness, type SeededSite } from "../support/harness";
import { postSync, send } from "../support/http";
import { describeEachDialect } from "../support/stores";

const EVERY_MS = 300_000;
interface Org { id: number; token: string; sites: SeededSite[] }
/** m01 … m13 */
const names = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `m${String(from + i).padStart(2, "0")}`);

describeEachDialect("organization summary top modules", (dialect) => {
  let h: Harness;
  let app: App;
  let clock: ManualClock;
  let made = 0;

  const summary = async (org: Org) => {
    const res = await send(app, "GET", `/api/v1/organizations/${org.id}/summary`, { token: org.token });
    expect(res.status).toBe(200);
    const body = await res.json() as any;
    return { top: body.top_contrib_modules.map((m: any) => `${m.machine_name}:${m.sites}`), at: body.top_contrib_modules_computed_at };
  };
  const sync = async (org: Org, site: SeededSite, modules: string[]) => {
    clock.advance(1); // A sync at its own instant, as they are.
    const all = [...modules.map((n) => mod(n)), mod("views", { module_type: "core" }), mod("mine", { module_type: "custom" })];
    expect((await postSync(app, site.id, { body: payload(site, all, { full_sync: true }), token: org.token })).status).toBe(200);
  };
  /** Full syncs: a module absent from the list leaves the site. Organization A: m01 on 3 sites, m02..m12 on 2, m13 on 1 (a core and a custom module everywhere); B: only its own module. */
  const world = async (): Promise<[Org, Org]> => {
    const orgs = await Promise.all(["a", "b"].map(async (side) => {
      const label = `top-${side}-${++made}`;
      const org = await h.accounts.createOrganization(label);
      const user = await h.accounts.createUser({ email: `${label}-${dialect}@top.test`, organizationId: org.id, role: "member" });
      return { id: org.id, token: user.token, sites: [await newSite(h.sites, org.id, label), await newSite(h.sites, org.id, label), await newSite(h.sites, org.id, label)] };
    }));
    const [a, b] = orgs as [Org, Org];
    await sync(a, a.sites[0]!, names(1, 12));
    await sync(a, a.sites[1]!, names(1, 13));
    await sync(a, a.sites[2]!, ["m01"]);
    await sync(b, b.sites[0]!, [`only_b${made}`]);
    return [a, b];
  };

  beforeAll(async () => {
    h = await createHarness(dialect);
    clock = manualClock(Date.now());
    app = createApp({ config: h.config, store: h.store, logger: silentLogger, clock: clock.now });
  });
  afterAll(() => h.close());

  test("null and empty until computed, then the exact top ten of each organization", async () => {
    const [a, b] = await world();
    expect(await summary(a)).toEqual({ top: [], at: null });
    const refresh = new TopModulesRefresh(h.store.topModules, EVERY_MS, clock.now);
    expect(await refresh.run()).toEqual(expect.arrayContaining([a.id, b.id]));
    const at = new Date(clock.now()).toISOString();
    // Ties (m02..m12 on 2 sites) in module id order: first seen first.
    const expected = ["m01:3", ...names(2, 10).map((n) => `${n}:2`)];
    expect(expected).toHaveLength(TOP_MODULES);
    expect(await summary(a)).toEqual({ top: expected, at });
    expect(await summary(b)).toEqual({ top: [`only_b${made}:1`], at });
    // Nothing changed: nothing is computed again.
    expect(await refresh.run()).toEqual([]);
  });

  test("a removed module and a deleted site are reflected by the next refresh, of that organization only", async () => {
    const [a, b] = await world();
    const refresh = new TopModulesRefresh(h.store.topModules, EVERY_MS, clock.now);
    await refresh.run();
    const before = await summary(b);
    await sync(a, a.sites[2]!, ["m13"]); // m01 leaves a site; m13 (on 2 now) comes after m01..m12 by id.
    expect(await refresh.run()).toEqual([a.id]);
    expect((await summary(a)).top).toEqual(names(1, 10).map((n) => `${n}:2`));
    expect(await h.store.deleteSite(a.sites[1]!.id)).toBe(true);
    clock.advance(1000);
    expect(await refresh.run()).toEqual([a.id]);
    expect(await summary(a)).toEqual({ top: names(1, 10).map((n) => `${n}:1`), at: new Date(clock.now()).toISOString() });
    expect(await summary(b)).toEqual(before);
  });

  test("the background rounds refresh at most every SUMMARY_REFRESH_SECONDS", async () => {
    const [, b] = await world();
    const rounds = new TopModulesRefresh(h.store.topModules, EVERY_MS, clock.now);
    await rounds.runIfDue(); // The first round computes whatever is due.
    const own = `only_b${made}`;
    await sync(b, b.sites[1]!, [own, "second_b"]);
    clock.advance(EVERY_MS - 2);
    await rounds.runIfDue();
    expect((await summary(b)).top).toEqual([`${own}:1`]);
    clock.advance(1);
    await rounds.runIfDue();
    expect(await summary(b)).toEqual({ top: [`${own}:2`, "second_b:1"], at: new Date(clock.now()).toISOString() });
  });
});
