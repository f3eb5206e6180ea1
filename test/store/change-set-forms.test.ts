// A change set stores a module's change by ids as a tuple, any other change as
// an object; sets written before the tuples hold objects only. Both forms read
// the same: in the changes feed, and in what the update statuses judge again.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { SiteChange } from "../../src/inventory";
import { changesJson, modulesChanged, readChanges, type RecordedChange } from "../../src/store/change-sets";
import { UpdateStatuses } from "../../src/updates/statuses";
import { createHarness, mod, payload, type Harness } from "../support/harness";
import { sql } from "../support/sql";
import { describeEachDialect } from "../support/stores";
import { nextMillisecond } from "../support/until";

/** Every shape a sync's module changes take (moduleChanges, initialInventory). */
const CHANGES: SiteChange[] = [
  { kind: "version_changed", moduleId: 7, fromVersionId: 70, toVersionId: 71, count: null, notContrib: true },
  { kind: "version_changed", moduleId: 8, fromVersionId: null, toVersionId: 81, count: null },
  { kind: "module_added", moduleId: 9, fromVersionId: null, toVersionId: 90, count: null },
  { kind: "module_added", moduleId: 10, fromVersionId: null, toVersionId: null, count: null, notContrib: true },
  { kind: "module_enabled", moduleId: 11, fromVersionId: 110, toVersionId: 110, count: null },
  { kind: "module_disabled", moduleId: 12, fromVersionId: 120, toVersionId: 120, count: null },
  { kind: "module_removed", moduleId: 13, fromVersionId: 130, toVersionId: null, count: null },
  { kind: "initial_inventory", moduleId: null, fromVersionId: null, toVersionId: null, count: 150 },
];

/** The object form, as sets were written before the tuples (nulls left out). */
function objectForm(changes: readonly SiteChange[]): string {
  return JSON.stringify(changes.map((c): RecordedChange => ({
    k: c.kind, m: c.moduleId ?? undefined, f: c.fromVersionId ?? undefined, t: c.toVersionId ?? undefined, c: c.count ?? undefined,
    nc: c.notContrib ? 1 : undefined,
  })));
}

test("a module's change by ids is stored as a tuple and reads as the object form did", () => {
  const stored = changesJson(CHANGES);
  const items = JSON.parse(stored) as unknown[];
  expect(items.slice(0, 7).every((c) => Array.isArray(c))).toBe(true);
  expect(items[7]).toEqual({ k: "initial_inventory", c: 150 });
  expect(readChanges(stored)).toStrictEqual(JSON.parse(objectForm(CHANGES)));
  expect(changesJson([])).toBe("[]");
  // An id no tuple can hold as it is stays in the object form, as JSON.stringify writes it.
  const odd: SiteChange[] = [{ kind: "version_changed", moduleId: 7, fromVersionId: Number.NaN, toVersionId: 71, count: null }];
  expect(changesJson(odd)).toBe(objectForm(odd));
});

test("a change set of tuples written again, among others, reads as it was: each text is its own set's", () => {
  // Sets that differ in one number each (kind, module, either version, null, nc), written in turns:
  // more of them than the last sets held, so that some are met again and some were forgotten.
  const tuples = CHANGES.slice(0, 7);
  const variants: SiteChange[][] = [tuples, tuples.slice(0, 6), [...tuples.slice(0, 6), { ...tuples[6]!, kind: "module_enabled" }]];
  for (const [field, value] of [["kind", "module_added"], ["moduleId", 99], ["fromVersionId", 71], ["fromVersionId", null], ["toVersionId", 72], ["notContrib", undefined]] as const) {
    variants.push([{ ...tuples[0]!, [field]: value }, ...tuples.slice(1)]);
  }
  for (const [field, value] of [["moduleId", 98], ["fromVersionId", 131], ["toVersionId", 132], ["notContrib", true]] as const) {
    variants.push([...tuples.slice(0, 6), { ...tuples[6]!, [field]: value }]);
  }
  for (let n = 0; n < 20; n++) variants.push(tuples.map((c) => ({ ...c, toVersionId: c.toVersionId === null ? null : c.toVersionId + n + 1 })));
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < variants.length; i++) {
      const changes = variants[round === 1 ? variants.length - 1 - i : i]!;
      expect(readChanges(changesJson(changes))).toStrictEqual(JSON.parse(objectForm(changes)));
    }
  }
});

/** A core module's version change, by ids (other fields as given). */
const coreChange = (m: number, f: number | null, t: number | null, other: Partial<SiteChange> = {}): SiteChange => ({
  kind: "version_changed", moduleId: m, fromVersionId: f, toVersionId: t, count: null, notContrib: true, ...other,
});

/** A Drupal core release's changes: `n` modules in a row, each to the next of its versions, created in the same order. */
const releaseRun = (n: number): SiteChange[] => Array.from({ length: n }, (_, i) => coreChange(40 + i, 400 + i, 900 + i));

test("changes whose ids step alike are stored as one run, and read as each change's own tuple would", () => {
  const release = releaseRun(76);
  const stored = changesJson(release);
  expect(JSON.parse(stored)).toEqual([[-3, 40, 400, 900, 76, 1]]);
  expect(readChanges(stored)).toStrictEqual(JSON.parse(objectForm(release)));

  // Each way a run ends: a module, a version before or after that does not step, a null where the
  // run had an id, another kind, another nc; and an object between runs. Null version ids that stay null run on.
  const added = (m: number, t: number | null): SiteChange => ({ kind: "module_added", moduleId: m, fromVersionId: null, toVersionId: t, count: null });
  const mixed: SiteChange[] = [
    ...releaseRun(3),
    coreChange(43, 404, 903), // from does not step
    coreChange(44, 405, 905), // after does not step
    coreChange(45, 406, 906, { notContrib: undefined }),
    coreChange(46, 407, 907, { kind: "module_enabled" }),
    coreChange(47, 408, 908, { kind: "module_enabled" }),
    coreChange(48, null, 909, { kind: "module_enabled" }),
    added(49, 910), added(50, 911), added(51, null), added(52, null), added(54, null),
    { kind: "initial_inventory", moduleId: null, fromVersionId: null, toVersionId: null, count: 3 },
    added(55, 912), added(56, 913),
  ];
  const items = JSON.parse(changesJson(mixed)) as unknown[];
  expect(items).toEqual([
    [-3, 40, 400, 900, 3, 1], [3, 43, 404, 903, 1], [3, 44, 405, 905, 1], [3, 45, 406, 906], [-4, 46, 407, 907, 2, 1], [4, 48, null, 909, 1],
    [-1, 49, null, 910, 2], [-1, 51, null, null, 2], [1, 54, null, null], { k: "initial_inventory", c: 3 }, [-1, 55, null, 912, 2],
  ]);
  expect(readChanges(changesJson(mixed))).toStrictEqual(JSON.parse(objectForm(mixed)));
  // A null version id is told from any id as a recent set, -1 included (ids are never negative, but a tuple may hold one).
  const withId: SiteChange[] = [{ ...added(60, 5), fromVersionId: -1 }];
  const withNull: SiteChange[] = [added(60, 5)];
  for (const set of [withId, withNull, withId, withNull]) expect(readChanges(changesJson(set))).toStrictEqual(JSON.parse(objectForm(set)));
});

test("any sequence of changes reads back as written, runs or not (fixed seed)", () => {
  let seed = 7;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const kinds = ["version_changed", "module_added", "module_removed", "module_enabled", "module_disabled"] as const;
  for (let set = 0; set < 300; set++) {
    const changes: SiteChange[] = [];
    let m = 1 + Math.floor(random() * 50);
    let f: number | null = 100;
    let t: number | null = 500;
    for (let i = Math.floor(random() * 30); i > 0; i--) {
      // Mostly the next ids, sometimes a jump, a null, another kind or nc: runs of every length and every break.
      m += random() < 0.8 ? 1 : 2;
      f = random() < 0.1 ? null : (f ?? 100) + (random() < 0.85 ? 1 : 3);
      t = random() < 0.1 ? null : (t ?? 500) + (random() < 0.85 ? 1 : 3);
      const kind = random() < 0.9 ? "version_changed" : kinds[Math.floor(random() * kinds.length)]!;
      changes.push(random() < 0.03
        ? { kind: "initial_inventory", moduleId: null, fromVersionId: null, toVersionId: null, count: i }
        : { kind, moduleId: m, fromVersionId: f, toVersionId: t, count: null, notContrib: random() < 0.9 ? true : undefined });
    }
    expect(readChanges(changesJson(changes))).toStrictEqual(JSON.parse(objectForm(changes)));
  }
});

test("the update statuses judge the same modules again from either form", () => {
  const release = CHANGES.slice(0, 4);
  for (const form of [changesJson(release), objectForm(release)]) {
    const modules = new Set<number>();
    // 10, not contrib, was added: it may be a core module, which drupal's judgement counts.
    expect(modulesChanged(form, modules)).toBe("core");
    // Contrib modules only: 7 and 10 are core or custom.
    expect([...modules].sort((a, b) => a - b)).toEqual([8, 9]);
  }
  // A core or custom module's version judges nothing of drupal (the core version does).
  for (const form of [changesJson(CHANGES.slice(0, 3)), objectForm(CHANGES.slice(0, 3))]) expect(modulesChanged(form, new Set())).toBe("contrib");
  for (const form of [changesJson(CHANGES), objectForm(CHANGES)]) expect(modulesChanged(form, new Set())).toBeNull();
  // The core version, as the sync appends it; the PHP version judges nothing.
  const core = (kind: string) => JSON.stringify([{ k: kind, fv: "10.1.0", tv: "10.2.0" }]);
  expect(modulesChanged(core("core_version_changed"), new Set())).toBe("core");
  expect(modulesChanged(core("php_version_changed"), new Set())).toBe("contrib");
  // A run of contrib modules' changes: each of its modules.
  const contrib = releaseRun(3).map((c) => ({ ...c, notContrib: undefined }));
  const modules = new Set<number>();
  expect(JSON.parse(changesJson(contrib))).toHaveLength(1);
  expect(modulesChanged(changesJson(contrib), modules)).toBe("contrib");
  expect([...modules]).toEqual([40, 41, 42]);
});

describeEachDialect("change sets stored in either form", (dialect) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(dialect);
  });
  afterAll(() => h.close());

  test("a set rewritten in the object form reads the same in the feed and in the statuses' split", async () => {
    const site = await h.freshSite("forms");
    const info = (core: string) => ({ drupal_info: { core_version: core, php_version: "8.3.2", ip_address: "192.0.2.1" } });
    const modules = (core: string, token: string) => [
      mod("node", { module_type: "core", version: core }), mod("system", { module_type: "core", version: core }),
      mod("token", { version: token }), mod("pathauto", { version: "8.x-1.11", enabled: token !== "8.x-1.11" }),
    ];
    expect((await h.sync(payload(site, modules("10.3.0", "8.x-1.10"), { ...info("10.3.0"), full_sync: true }), site.id)).status).toBe(200);
    // Judged once: the sets after it are what the statuses read to judge it again, in part.
    await new UpdateStatuses(h.store.releases).computePending();
    await nextMillisecond();
    expect((await h.sync(payload(site, modules("10.4.0", "8.x-1.11"), { ...info("10.4.0"), full_sync: true }), site.id)).status).toBe(200);

    const text = dialect === "sqlite" ? "changes" : "changes::text";
    const [last] = await sql<{ id: number; changes: string }>(h.store, `SELECT id, ${text} AS changes FROM site_change_sets WHERE site_id = ${site.id} ORDER BY id DESC LIMIT 1`);
    const stored = JSON.parse(last!.changes) as unknown[];
    // Three version changes and a disabling by ids (node's and system's one run where their ids follow each
    // other, as SQLite's do), then the core version's change as text.
    expect(stored.slice(0, -1).every((c) => Array.isArray(c))).toBe(true);
    // SQLite creates a first payload's catalog rows in its order: node's and system's changes are one run.
    if (dialect === "sqlite") expect(stored[0]).toEqual([-3, expect.any(Number), expect.any(Number), expect.any(Number), 2, 1]);
    expect((stored.at(-1) as RecordedChange).k).toBe("core_version_changed");
    expect(readChanges(last!.changes).map((c) => c.k)).toEqual(["version_changed", "version_changed", "version_changed", "module_disabled", "core_version_changed"]);

    const read = async () => ({
      feed: (await (await h.request("GET", `/api/v1/sites/${site.id}/changes`)).json() as { items: unknown[] }).items,
      split: await h.store.releases.changedInventories([site.id]),
    });
    const asTuples = await read();
    const objects = JSON.stringify(readChanges(last!.changes));
    await sql(h.store, `UPDATE site_change_sets SET changes = '${objects.replaceAll("'", "''")}' WHERE id = ${last!.id}`);
    const asObjects = await read();
    expect(asObjects).toEqual(asTuples);
    expect(asTuples.feed.map((c) => (c as { kind: string }).kind)).toEqual(
      expect.arrayContaining(["version_changed", "module_disabled", "core_version_changed"]),
    );
    const token = asTuples.feed.find((c) => (c as { machine_name?: string }).machine_name === "token");
    expect(token).toMatchObject({ kind: "version_changed", from: "8.x-1.10", to: "8.x-1.11" });
    // token's version changed (a contrib module): judged in part, for it alone.
    expect(asTuples.split.whole).toHaveLength(0);
    expect(asTuples.split.partial.map((p) => p.modules.length)).toEqual([1]);
  });
});
