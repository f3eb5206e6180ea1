// A near repeat (src/sync/near-repeats.ts) is applied from its changed
// entries alone; what it answers, stores and records must be what applying
// the body in full gives. One site syncs through an app that uses near
// repeats, another through one that never does, the same bodies in turn;
// after each, the answers, the sites' modules and their change feeds are
// compared, and which bodies were near repeats is checked too.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createApp, redisKeyPrefix, type App } from "../../src/app";
import type { SiteModuleRow } from "../../src/store/types";
import { NearRepeats } from "../../src/sync/near-repeats";
import { createHarness, mod, type Harness, type ModuleInput, type SeededSite } from "../support/harness";
import { postSync } from "../support/http";
import { sql } from "../support/sql";
import { describeEachDialect } from "../support/stores";

/** Counts the bodies applied as near repeats. */
class CountedNearRepeats extends NearRepeats {
  used = 0;
  override applied(...args: Parameters<NearRepeats["applied"]>) {
    this.used++;
    super.applied(...args);
  }
}

type Entry = ModuleInput | string;

const base: ModuleInput[] = Array.from({ length: 40 }, (_, i) => mod(`near_mod_${i}`, {
  module_type: i < 15 ? "core" : "contrib",
  version: i < 15 ? "10.3.8" : `8.x-1.${i}`,
  enabled: i % 7 !== 3,
  description: i % 5 === 0 ? null : `Description ${i}: «ünïcode» "quoted" \\ back`,
  project: i < 15 ? "drupal" : `near_mod_${i}`,
}));

interface BodyOptions { sep?: string; php?: string; core?: string; ip?: string; name?: string; token?: string; url?: string; fullSync?: boolean }

function bodyText(site: SeededSite, entries: readonly Entry[], options: BodyOptions = {}): string {
  const { sep = ",", php = "8.3.2", core = "10.3.8", ip = "192.0.2.7", name = "Near", token = site.token, url = site.url, fullSync = true } = options;
  const texts = entries.map((e) => (typeof e === "string" ? e : JSON.stringify(e)));
  // php_version as given: a test may put an escape in it.
  const envelope = `"site":${JSON.stringify({ url, name, token })},"drupal_info":{"core_version":"${core}","php_version":"${php}","ip_address":"${ip}"}`;
  return `{${envelope},"modules":[${texts.join(sep)}],"full_sync":${fullSync}}`;
}

const at = (i: number, change: Partial<ModuleInput>, from: readonly ModuleInput[] = base): ModuleInput[] =>
  from.map((e, j) => (j === i ? { ...e, ...change } : e));

describeEachDialect("near repeats against full syncs", (dialect) => {
  let h: Harness;
  let nearApp: App;
  let fullApp: App;
  const near = new CountedNearRepeats();
  let nearSite: SeededSite;
  let fullSite: SeededSite;

  beforeAll(async () => {
    h = await createHarness(dialect);
    const shared = h.redis ? { redis: h.redis, keyPrefix: await redisKeyPrefix(h.store) } : undefined;
    nearApp = createApp({ config: h.config, store: h.store, shared, nearRepeats: near });
    fullApp = createApp({ config: h.config, store: h.store, shared, nearRepeats: null });
  });
  afterAll(() => h.close());

  async function answer(app: App, site: SeededSite, text: string, token: string) {
    const res = await postSync(app, site.id, { token, raw: text, headers: { "content-type": "application/json" } });
    // Error details name the site: the two sites differ only there.
    const body = JSON.parse((await res.text()).replaceAll(`site ${site.id}`, "site #")) as Record<string, unknown>;
    delete body.site_id;
    delete body.request_id;
    return { status: res.status, body };
  }

  const modulesOf = async (site: SeededSite) =>
    (await h.store.listSiteModules(site.id, { limit: 1000 })).map(({ firstSeenAt: _f, updatedAt: _u, ...state }: SiteModuleRow) => state);

  /** The site row's fields a sync writes (its fingerprint differs per site: only whether there is one). */
  async function siteRowOf(site: SeededSite) {
    const [row] = await sql<Record<string, unknown>>(h.store, `SELECT name, core_version, php_version, ip_address, sync_fingerprint IS NULL AS no_fingerprint, sync_repeat FROM sites WHERE id = ${site.id}`);
    return { ...row, no_fingerprint: Boolean(row!.no_fingerprint) };
  }

  async function feedOf(site: SeededSite) {
    const res = await h.request("GET", `/api/v1/sites/${site.id}/changes?limit=500`);
    const items = ((await res.json()) as { items: Record<string, unknown>[] }).items;
    return items.map(({ id: _i, site_id: _s, site_name: _n, changed_at: _c, ...change }) => change);
  }

  /** The same body (written for each site) to both; the answers, modules and feeds must agree. */
  async function both(entries: readonly Entry[], options: BodyOptions & { bearer?: "site" } = {}) {
    const before = near.used;
    const token = (site: SeededSite) => (options.bearer === "site" ? site.token : h.world.token);
    const nearAnswer = await answer(nearApp, nearSite, bodyText(nearSite, entries, options), token(nearSite));
    const fullAnswer = await answer(fullApp, fullSite, bodyText(fullSite, entries, options), token(fullSite));
    expect(nearAnswer).toEqual(fullAnswer);
    expect(await modulesOf(nearSite)).toEqual(await modulesOf(fullSite));
    expect(await feedOf(nearSite)).toEqual(await feedOf(fullSite));
    expect(await siteRowOf(nearSite)).toEqual(await siteRowOf(fullSite));
    return { ...nearAnswer, near: near.used > before };
  }

  test("every kind of change answers, stores and records what a full sync does", async () => {
    nearSite = await h.freshSite("near");
    fullSite = await h.freshSite("full");
    expect(await both(base)).toMatchObject({ status: 200, near: false, body: { modules_created: 40 } });

    // Near repeats: what they are for.
    let entries = at(20, { version: "8.x-1.99" });
    expect(await both(entries)).toMatchObject({ status: 200, near: true, body: { modules_updated: 1, modules_unchanged: 39 } });
    for (const [i, change] of [
      [0, { version: "10.3.9" }], [39, { version: "8.x-2.0" }], [10, { version: "10.3.10-alpha1" }], [24, { enabled: true }],
      [8, { display_name: "Renamed «8»" }], [9, { description: 'Now "different" \\ «é»' }], [12, { project: null, description: null }],
    ] as const) {
      entries = at(i, change, entries);
      expect(await both(entries)).toMatchObject({ status: 200, near: true, body: { modules_updated: 1, modules_unchanged: 39 } });
    }
    entries = at(30, { version: "8.x-1.300" }, at(5, { version: "10.4.0" }, entries));
    expect(await both(entries)).toMatchObject({ status: 200, near: true, body: { modules_updated: 2, modules_unchanged: 38 } });
    // Written differently, equal: a run of one unchanged entry.
    const spaced: Entry[] = entries.map((e, i) => (i === 11 ? JSON.stringify(e, null, 2) : e));
    expect(await both(spaced)).toMatchObject({ status: 200, near: true, body: { modules_updated: 0, modules_unchanged: 40 } });
    // Byte for byte the last: answered as a repeat, not looked at as a near one.
    expect(await both(spaced)).toMatchObject({ status: 200, near: false, body: { modules_unchanged: 40 } });

    // The envelope changed and the entries not, or both (a Drupal core release): applied from the
    // changed entries, the envelope checked again as a whole body's is.
    let opts: BodyOptions = { php: "8.4.1" };
    expect(await both(entries, opts)).toMatchObject({ status: 200, near: true, body: { modules_unchanged: 40 } });
    opts = { ...opts, core: "10.6.0" };
    entries = entries.map((e, i) => (i < 15 ? { ...e, version: "10.6.0" } : e));
    expect(await both(entries, opts)).toMatchObject({ status: 200, near: true, body: { modules_updated: 15, modules_unchanged: 25 } });
    // A longer envelope: every entry moves.
    opts = { ...opts, core: "10.6.10", name: "Near «renamed» site" };
    entries = entries.map((e, i) => (i < 15 ? { ...e, version: "10.6.10" } : e));
    expect(await both(entries, opts)).toMatchObject({ status: 200, near: true, body: { modules_updated: 15, modules_unchanged: 25 } });
    // An envelope that fails a check is answered as a whole body is.
    expect(await both(entries, { ...opts, token: "not-the-site-token" })).toMatchObject({ status: 403, near: false });
    expect(await both(entries, { ...opts, url: "https://elsewhere.example" })).toMatchObject({ status: 400, near: false });
    expect(await both(entries, { ...opts, ip: "not-an-ip" })).toMatchObject({ status: 400, near: false });
    expect(await both(entries, { ...opts, php: "8.4\\u0000" })).toMatchObject({ status: 400, near: false });
    opts = { ...opts, php: "8.4.2" };
    expect(await both(at(33, { version: "8.x-1.333" }, entries), opts)).toMatchObject({ status: 200, near: true, body: { modules_updated: 1 } });
    entries = at(33, { version: "8.x-1.333" }, entries);

    // Not near repeats, applied in full: entries moved, removed, added, replaced, repeated.
    const swapped = [...entries.slice(0, 3), entries[4]!, entries[3]!, ...entries.slice(5)];
    expect(await both(swapped, opts)).toMatchObject({ status: 200, near: false, body: { modules_unchanged: 40 } });
    expect(await both(swapped.slice(0, 39), opts)).toMatchObject({ status: 200, near: false, body: { modules_removed: 1 } });
    expect(await both(swapped, opts)).toMatchObject({ status: 200, near: false, body: { modules_created: 1 } });
    entries = swapped;
    expect(await both(at(6, { machine_name: "near_new_module" }, entries), opts)).toMatchObject({ status: 200, near: false, body: { modules_created: 1, modules_removed: 1 } });
    expect(await both(at(6, { machine_name: "near_mod_2" }, entries), opts)).toMatchObject({ status: 200, near: false, body: { errors_total: 1 } });
    // After a body with a skipped entry, nothing is remembered: the next is applied in full.
    expect(await both(entries, opts)).toMatchObject({ status: 200, near: false, body: { errors_total: 0 } });
    entries = at(25, { version: "8.x-1.250" }, entries);
    expect(await both(entries, opts)).toMatchObject({ status: 200, near: true });
    // A run with an entry that is skipped, or text that must not be stored: reported as a full sync reports it.
    expect(await both(at(25, { version: "x".repeat(300) }, entries), opts)).toMatchObject({ status: 200, near: false, body: { errors_total: 1 } });
    expect(await both(entries, opts)).toMatchObject({ status: 200, near: false });
    const dirty = entries.map((e, i) => (i === 26 ? JSON.stringify(e).replace('"display_name":"', '"display_name":"\\u0000') : e));
    expect(await both(dirty, opts)).toMatchObject({ status: 200, near: false, body: { errors_total: 1 } });
    expect(await both(entries, opts)).toMatchObject({ status: 200, near: false });
    // Invalid JSON in the run: 400 for both, and the last body is still the one remembered.
    const broken = entries.map((e, i) => (i === 27 ? JSON.stringify(e).replace('"version":"', '"version":') : e));
    expect(await both(broken, opts)).toMatchObject({ status: 400, near: false, body: { code: "invalid_json" } });
    entries = at(28, { version: "8.x-1.280" }, entries);
    expect(await both(entries, opts)).toMatchObject({ status: 200, near: true });
    // A partial sync leaves the site holding more than its body: the next is applied in full.
    const partial: BodyOptions = { ...opts, fullSync: false };
    expect(await both(entries.slice(0, 20), partial)).toMatchObject({ status: 200, near: false, body: { modules_removed: 0 } });
    expect(await both(at(3, { version: "10.5.0" }, entries.slice(0, 20)), partial)).toMatchObject({ status: 200, near: false });
    // Once the site holds exactly a partial body's modules, near repeats of it.
    expect(await both(entries.slice(0, 20), opts)).toMatchObject({ status: 200, near: false, body: { modules_removed: 20 } });
    expect(await both(entries.slice(0, 20), partial)).toMatchObject({ status: 200, near: false });
    expect(await both(at(3, { version: "10.5.0" }, entries.slice(0, 20)), partial)).toMatchObject({ status: 200, near: true });
    // The site's own token as the bearer: checked again in full, once.
    const siteBearer = at(3, { version: "10.5.1" }, entries.slice(0, 20));
    expect(await both(siteBearer, { ...partial, bearer: "site" })).toMatchObject({ status: 200, near: false });
    expect(await both(at(4, { enabled: true }, siteBearer), { ...partial, bearer: "site" })).toMatchObject({ status: 200, near: true });
  });

  test("entries other sites sent alike (a release), parsed once: each site stores and records what a full sync does", async () => {
    const release = base.map((e, i) => (i < 15 ? { ...e, version: "10.7.0" } : e));
    const skipped = at(20, { version: "y".repeat(300) }, release);
    const dirty = release.map((e, i) => (i === 21 ? JSON.stringify(e).replace('"display_name":"', '"display_name":"\\u0000') : e));
    // The first pair's near repeats parse these entries; the second's meet the same text again.
    for (const pair of ["first", "second"]) {
      nearSite = await h.freshSite(`alike-near-${pair}`);
      fullSite = await h.freshSite(`alike-full-${pair}`);
      expect(await both(base)).toMatchObject({ status: 200, near: false });
      expect(await both(release, { core: "10.7.0" })).toMatchObject({ status: 200, near: true, body: { modules_updated: 15, modules_unchanged: 25 } });
      // An entry that parses but is skipped: reported as a full sync reports it, however often it is met.
      expect(await both(skipped, { core: "10.7.0" })).toMatchObject({ status: 200, near: false, body: { errors_total: 1 } });
      expect(await both(release, { core: "10.7.0" })).toMatchObject({ status: 200, near: false, body: { modules_unchanged: 40 } });
      expect(await both(dirty, { core: "10.7.0" })).toMatchObject({ status: 200, near: false, body: { errors_total: 1 } });
    }
  });

  const poster = (site: SeededSite) => (app: App, entries: readonly Entry[]) =>
    postSync(app, site.id, { token: h.world.token, raw: bodyText(site, entries), headers: { "content-type": "application/json" } });

  /** nearApp syncs the site, `writer` changes it, then nearApp gets a near repeat of its own last body: applied in full. */
  async function changedMeanwhile(site: SeededSite, writer: App) {
    const post = poster(site);
    expect((await post(nearApp, base)).status).toBe(200);
    // A near repeat first: its sync starts from the kept modules, which are then trusted without a read
    // (on Postgres the check travels with the writes, lockSiteModulesAssuming).
    const before = near.used;
    const nearer = at(3, { version: "10.9.7" });
    expect((await post(nearApp, nearer)).status).toBe(200);
    expect(near.used).toBe(before + 1);
    expect((await post(writer, at(1, { enabled: false }))).status).toBe(200);
    const res = await post(nearApp, at(2, { version: "10.9.9" }, nearer));
    expect(near.used).toBe(before + 1);
    expect(await res.json()).toMatchObject({ modules_updated: 3, modules_unchanged: 37 });
    const stored = await h.store.listSiteModules(site.id, { limit: 1000 });
    expect(stored.find((m) => m.machineName === "near_mod_1")?.enabled).toBe(true);
    expect(stored.find((m) => m.machineName === "near_mod_2")?.version).toBe("10.9.9");
  }

  test("a site written by another instance since: the near repeat is applied in full", async () => {
    const other = await h.db.open();
    try {
      await changedMeanwhile(await h.freshSite("other-writer"), createApp({ config: h.config, store: other, nearRepeats: null }));
    } finally {
      await other.close();
    }
  });

  test("a site another sync of this process changed since (the same kept modules, now that sync's): applied in full", async () => {
    await changedMeanwhile(await h.freshSite("same-store"), fullApp);
  });

  test("two near repeats of one site at once: each applied whole, one after the other", async () => {
    const site = await h.freshSite("together");
    const post = (entries: readonly Entry[]) => poster(site)(nearApp, entries);
    expect((await post(base)).status).toBe(200);
    const first = at(16, { version: "8.x-1.161" });
    const second = at(17, { version: "8.x-1.171" });
    const before = near.used;
    const answers = await Promise.all([post(first), post(second)]);
    expect(answers.map((r) => r.status)).toEqual([200, 200]);
    // The first applied is a near repeat. The second is one too if it was read after the first was applied
    // (of the first's body); if it assumed the same last body as the first, it is applied in full.
    expect(near.used - before).toBeGreaterThanOrEqual(1);
    const stored = new Map((await h.store.listSiteModules(site.id, { limit: 1000 })).map((m) => [m.machineName, m.version]));
    // Each is a full sync of its own: whichever came last holds, with nothing of the other.
    const held = [first, second].filter((entries) => entries.every((e) => stored.get(e.machine_name) === e.version));
    expect(held).toHaveLength(1);
  });

  test("a body the whole path would split (brackets past its cap) is never taken as a near repeat", async () => {
    const padded = at(22, { display_name: "Padded", description: "[".repeat(4000) } as Partial<ModuleInput>).map((e, i) =>
      i === 22 ? JSON.stringify({ ...e, pad: "[".repeat(100_001) }) : e);
    nearSite = await h.freshSite("split-near");
    fullSite = await h.freshSite("split-full");
    expect(await both(base)).toMatchObject({ status: 200 });
    // Streamed, it stores no fingerprint: a near repeat would have (the site rows would differ).
    expect(await both(padded)).toMatchObject({ status: 200, near: false });
  });
});

