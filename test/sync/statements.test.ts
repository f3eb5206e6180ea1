// Database statements per sync request, counted for real: on SQLite by
// wrapping the statements bun:sqlite hands out, on Postgres through
// postgres-js's per-query `debug` callback. The spec's proof: with a warm id
// cache, re-syncing unchanged modules takes a small fixed number of
// statements, the same for 150 modules as for 1,500.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { createApp, type App } from "../../src/app";
import { silentLogger } from "../../src/log";
import type { PostgresStore } from "../../src/store/postgres/store";
import { createHarness, mod, payload, testConfig, type Harness, type ModuleInput, type SeededSite } from "../support/harness";
import { postSync } from "../support/http";
import { describeEachDialect } from "../support/stores";

/** Records the SQL of every statement executed while it is on. */
interface StatementCounter {
  on(): void;
  /** Turns counting off and returns what ran since on(). */
  off(): string[];
  /** Undoes the instrumentation. */
  restore(): void;
}

type Fn = (...args: unknown[]) => unknown;

/** What both instrumentations share: a log that records only between on() and off(). */
function statementLog(restore: () => void): StatementCounter & { record(sql: string): void } {
  let log: string[] | null = null;
  return {
    record: (sql) => void log?.push(sql),
    on: () => void (log = []),
    off: () => {
      const ran = log ?? [];
      log = null;
      return ran;
    },
    restore,
  };
}

/**
 * bun:sqlite puts run/get/all/values/iterate on each Statement instance (not
 * on Statement.prototype), and runs a transaction's BEGIN/COMMIT through
 * statements of its own. So: Database.prototype.prepare/query wrap the methods
 * of every statement they return, and Database.prototype.transaction counts
 * BEGIN and COMMIT (or ROLLBACK) around each outermost transaction. Must be
 * installed before the store is opened: the store prepares its statements and
 * its transaction function in its constructor.
 */
function instrumentSqlite(): StatementCounter {
  const proto = Database.prototype as unknown as Record<string, Fn>;
  const saved = { prepare: proto.prepare!, query: proto.query!, transaction: proto.transaction!, run: proto.run!, exec: proto.exec! };
  const counted = new WeakSet<object>();
  const log = statementLog(() => void Object.assign(proto, saved));

  const wrapStatement = (statement: Record<string, Fn>, sql: string) => {
    if (counted.has(statement)) return statement;
    counted.add(statement);
    for (const method of ["run", "get", "all", "values", "iterate"]) {
      const original = statement[method];
      if (typeof original !== "function") continue;
      statement[method] = function (this: unknown, ...args: unknown[]) {
        log.record(sql);
        return original.apply(this, args);
      };
    }
    return statement;
  };
  proto.prepare = function (this: Database, sql: unknown, ...rest: unknown[]) {
    return wrapStatement(saved.prepare.call(this, sql, ...rest) as Record<string, Fn>, String(sql));
  };
  proto.query = function (this: Database, sql: unknown, ...rest: unknown[]) {
    return wrapStatement(saved.query.call(this, sql, ...rest) as Record<string, Fn>, String(sql));
  };
  for (const method of ["run", "exec"] as const) {
    proto[method] = function (this: Database, sql: unknown, ...rest: unknown[]) {
      log.record(String(sql));
      return saved[method].call(this, sql, ...rest);
    };
  }
  proto.transaction = function (this: Database, fn: unknown) {
    const db = this;
    const tx = saved.transaction.call(this, fn) as Fn & Record<string, Fn>;
    const counting = (variant: Fn, begin: string): Fn => function (this: unknown, ...args: unknown[]) {
      const outermost = !db.inTransaction;
      if (outermost) log.record(begin);
      try {
        const result = variant.apply(this, args);
        if (outermost) log.record("COMMIT");
        return result;
      } catch (err) {
        if (outermost) log.record("ROLLBACK");
        throw err;
      }
    };
    const wrapped = counting(tx, "BEGIN") as Fn & Record<string, Fn>;
    for (const [variant, begin] of [["deferred", "BEGIN DEFERRED"], ["immediate", "BEGIN IMMEDIATE"], ["exclusive", "BEGIN EXCLUSIVE"]] as const) {
      wrapped[variant] = counting(tx[variant]!, begin);
    }
    return wrapped;
  };

  return log;
}

/** postgres-js calls `options.debug` once per query it sends, BEGIN and COMMIT included. */
function instrumentPostgres(store: PostgresStore): StatementCounter {
  const options = store.sql.options as { debug: unknown };
  const saved = options.debug;
  const log = statementLog(() => void (options.debug = saved));
  options.debug = (_connection: number, query: string) => log.record(query);
  return log;
}

/** Statements that read or write the catalog (module or version ids), as opposed to a site's own rows. */
// (The history statement names the ids it records by joining the catalog: not a lookup of ids.)
// A site's modules: Postgres's table, SQLite's view or either of its two tables (sqlite/schema.ts).
const SITE_MODULES = /\bsite_(modules|module_states|module_details)\b/;
const touchesCatalog = (sql: string) => /\b(modules|module_versions)\b/.test(sql) && !SITE_MODULES.test(sql) && !/\bsite_change_sets\b/.test(sql);
const touchesSiteModules = (sql: string) => SITE_MODULES.test(sql);

const SIZES = [150, 1500] as const;
type Size = (typeof SIZES)[number];

/** n modules under a per-size prefix (so the two sizes never share catalog rows), versions as given. */
function inventory(n: number, version: (i: number) => string): ModuleInput[] {
  return Array.from({ length: n }, (_, i) => mod(`n${n}_module_${i}`, { version: version(i), module_type: i % 3 === 0 ? "custom" : "contrib" }));
}
const v1 = (i: number) => `1.${i % 10}.0`;
const v2 = (i: number) => `2.${i % 10}.${i % 3}`;

interface Measured {
  /** Identical body again: the fingerprint fast path. */
  identical: string[];
  /** Same modules, reversed order: different fingerprint, nothing changed. */
  reordered: string[];
  /** Every version changed to versions the catalog has never seen. */
  newVersions: string[];
  /** Every version changed to versions already in the catalog and in the warm cache. */
  knownVersions: string[];
  /** The same kind of sync as knownVersions, by an app whose cache is cold. */
  knownVersionsCold: string[];
  /** A new site's first sync of modules whose ids are all in the warm cache. */
  newSiteWarm: string[];
}

describeEachDialect("database statements per sync request", (dialect) => {
  let h: Harness;
  let counter: StatementCounter;
  const measured = new Map<Size, Measured>();

  const freshSite = () => h.freshSite("statements");
  const post = (app: App, site: SeededSite, modules: ModuleInput[]) => postSync(app, site.id, { token: h.world.token, body: payload(site, modules) });

  /** Runs one sync request with counting on; checks it answered 200 with the expected counts. */
  async function count(app: App, site: SeededSite, modules: ModuleInput[], expected: Record<string, number>): Promise<string[]> {
    const ran: string[] = [];
    counter.on();
    const res = await post(app, site, modules).finally(() => ran.push(...counter.off()));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject(expected);
    return ran;
  }

  beforeAll(async () => {
    // SQLite statements are wrapped as the store prepares them, so before it opens.
    if (dialect === "sqlite") counter = instrumentSqlite();
    h = await createHarness(dialect);
    if (dialect === "postgres") counter = instrumentPostgres(h.store as PostgresStore);

    // The harness app's in-process cache is the warm cache; a second app
    // around the same store starts cold.
    const cold = createApp({ config: testConfig(), store: h.store, logger: silentLogger });
    for (const size of SIZES) {
      const first = inventory(size, v1);
      const changed = inventory(size, v2);
      const a = await freshSite();
      await count(h.app, a, first, { modules_created: size });
      const identical = await count(h.app, a, first, { modules_unchanged: size });
      const reordered = await count(h.app, a, [...first].reverse(), { modules_unchanged: size });
      const newVersions = await count(h.app, a, changed, { modules_updated: size });
      // Site a now holds v2; both v1 and v2 ids are in the warm cache.
      const knownVersions = await count(h.app, a, first, { modules_updated: size });
      const b = await freshSite();
      const newSiteWarm = await count(h.app, b, changed, { modules_created: size });
      const knownVersionsCold = await count(cold, b, first, { modules_updated: size });
      measured.set(size, { identical, reordered, newVersions, knownVersions, knownVersionsCold, newSiteWarm });
    }
    const summary = [...measured].map(([size, m]) =>
      `${size}: ${Object.entries(m).map(([k, v]) => `${k}=${v.length}`).join(" ")}`).join("; ");
    console.log(`[statements ${dialect}] ${summary}`);
  });
  afterAll(async () => {
    counter?.restore();
    await h?.close();
  });

  const get = (size: Size) => measured.get(size)!;

  test("the counter sees every statement: a ping is exactly one", async () => {
    counter.on();
    await h.store.ping();
    expect(counter.off()).toHaveLength(1);
    // and nothing is recorded while counting is off
    await h.store.ping();
    counter.on();
    expect(counter.off()).toEqual([]);
  });

  test("an identical re-sync takes the same few statements for 150 and 1,500 modules", () => {
    const [small, large] = [get(150).identical, get(1500).identical];
    // token lookup and site access (one statement), and the one conditional UPDATE of the site row
    expect(small.length).toBeLessThanOrEqual(2);
    expect(large.length).toBe(small.length);
    expect(large.filter(touchesSiteModules)).toEqual([]);
    expect(large.filter(touchesCatalog)).toEqual([]);
  });

  test("the same modules in another order take the same few statements for 150 and 1,500 modules", () => {
    const [small, large] = [get(150).reordered, get(1500).reordered];
    // (no identical-body attempt: this process's last sync of the site stored another fingerprint)
    // one transaction: lock the site, check for unfinished
    // background syncs, read the site's modules, record the history (core and PHP versions are
    // compared with the site row in that statement, so it runs whatever changed), update the site row
    expect(small.length).toBeGreaterThan(get(150).identical.length);
    expect(small.length).toBeLessThanOrEqual(10);
    expect(large.length).toBe(small.length);
    // nothing changed: no write to the site's modules, no id lookup
    expect(large.filter((sql) => touchesSiteModules(sql) && !/^\s*SELECT/i.test(sql))).toEqual([]);
    expect(large.filter(touchesCatalog)).toEqual([]);
  });

  {
    // The multi-row form: SQLite's an upsert of a VALUES list, Postgres's an UPDATE from a JSON list.
    const multiRow = dialect === "sqlite" ? "ON CONFLICT" : "json_to_recordset";
    test("up to 8 changed versions are a single-row UPDATE each, more one multi-row UPDATE", async () => {
      const site = await freshSite();
      const first = inventory(150, v1);
      await count(h.app, site, first, { modules_created: 150 });
      // The first n modules move to versions of their own (`tag`): versions only, so state-only updates.
      const bump = (n: number, tag: string) => first.map((m, i) => (i < n ? { ...m, version: `3.${tag}.${i}` } : m));
      const updates = (ran: string[]) => ran.filter((sql) => /^\s*(UPDATE site_modules|UPDATE site_module_states|INSERT INTO site_module_states)\b/.test(sql));
      const one = updates(await count(h.app, site, bump(1, "a"), { modules_updated: 1 }));
      expect(one).toHaveLength(1);
      expect(one[0]).not.toContain(multiRow);
      const eight = updates(await count(h.app, site, bump(8, "b"), { modules_updated: 8 }));
      expect(eight).toHaveLength(8);
      for (const sql of eight) expect(sql).not.toContain(multiRow);
      const nine = updates(await count(h.app, site, bump(9, "c"), { modules_updated: 9 }));
      expect(nine).toHaveLength(1);
      expect(nine[0]).toContain(multiRow);
    });
  }

  // The site's last sync here stored another fingerprint: the body is no repeat, and no statement asks.
  test("a changed re-sync after this process's own sync of the site makes no attempt at a repeat", () => {
    // The repeat's conditional UPDATE: it alone answers the stored summary.
    const asksFingerprint = (sql: string) => /\bRETURNING\s+sync_repeat\b/.test(sql);
    for (const size of SIZES) {
      const m = get(size);
      expect(m.identical.filter(asksFingerprint)).toHaveLength(1);
      for (const ran of [m.reordered, m.newVersions, m.knownVersions]) expect(ran.filter(asksFingerprint)).toEqual([]);
    }
  });

  test("with a warm cache, no module id is read from the database when every version changes", () => {
    for (const size of SIZES) {
      const ran = get(size).newVersions;
      // module ids all come from the cache; only the never-seen versions reach the catalog
      expect(ran.filter((sql) => touchesCatalog(sql) && !/\bmodule_versions\b/.test(sql))).toEqual([]);
      expect(ran.filter(touchesCatalog).length).toBeGreaterThan(0);
    }
  });

  test("a re-sync where every version changed runs no statement per module", () => {
    for (const size of SIZES) {
      const m = get(size);
      expect(m.newVersions.length).toBeLessThan(size / 10);
      expect(m.knownVersions.length).toBeLessThan(size / 10);
      expect(m.newSiteWarm.length).toBeLessThan(size / 10);
      // the history of every changed version, and a first sync's initial inventory, is one statement
      for (const ran of [m.newVersions, m.knownVersions, m.newSiteWarm]) expect(ran.filter((sql) => /\bsite_change_sets\b/.test(sql))).toHaveLength(1);
    }
    if (dialect === "postgres") {
      // one json_to_recordset statement per step whatever the size
      expect(get(1500).newVersions.length).toBe(get(150).newVersions.length);
      expect(get(1500).knownVersions.length).toBe(get(150).knownVersions.length);
    } else {
      // chunked multi-row statements: only the chunk count grows (100 rows a chunk)
      const growth = get(1500).knownVersions.length - get(150).knownVersions.length;
      expect(growth).toBeLessThanOrEqual(Math.ceil(1500 / 100) - Math.ceil(150 / 100));
    }
  });

  test("with every id in the warm cache, a changed re-sync and a new site's first sync read no catalog ids", () => {
    for (const size of SIZES) {
      expect(get(size).knownVersions.filter(touchesCatalog)).toEqual([]);
      expect(get(size).newSiteWarm.filter(touchesCatalog)).toEqual([]);
    }
  });

  test("a cold cache costs the catalog lookups that the warm cache saves", () => {
    for (const size of SIZES) {
      const { knownVersions: warm, knownVersionsCold: cold } = get(size);
      expect(cold.filter(touchesCatalog).length).toBeGreaterThan(0);
      expect(cold.length).toBeGreaterThan(warm.length);
      // everything else is the same work
      expect(cold.filter((sql) => !touchesCatalog(sql)).length).toBe(warm.length);
    }
  });
});
