// `bun bench/stages.ts [drift|release] [rounds]`: where a changed sync's
// main-thread time goes, stage by stage, in process (SQLite; 200 sites, or
// STAGES_SITES; 16 requests in flight through app.handle(), as
// bench/ab-inprocess.ts drives them). The first line also gives the whole
// process's CPU a sync: every thread's (the collector's and the JIT's too,
// and background work a round leaves running counts in the next). Each
// stage is a method wrapped with a timer: the body's decoding and
// JSON.parse, judging the entries, the id caches, each SQL statement by its
// text, and the write transaction's work and COMMIT. Nested stages count in
// their parents too (a statement inside `tx work`), so the lines do not add
// up to the total. The timers cost ~0.1 µs a call: read the lines, not the
// total, against an unwrapped run of ab-inprocess.ts.
import { Database } from "bun:sqlite";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runWithSteadyAllocator } from "../src/allocator";
import { measuredRound, seedSites, syncRequest } from "./lib/in-process";

runWithSteadyAllocator();

const KIND = process.argv[2] ?? "drift";
if (KIND !== "drift" && KIND !== "release") throw new Error("shape: drift or release");
const ROUNDS = Number(process.argv[3] ?? 20);
const SITES = Number(process.env.STAGES_SITES ?? 200);
if (!Number.isInteger(SITES) || SITES < 1 || SITES > 100_000) throw new Error(`STAGES_SITES must be a whole number from 1 to 100000, got "${process.env.STAGES_SITES}"`);
const IN_FLIGHT = 16;
const SYNCS_PER_SITE = 3;

/** Milliseconds by stage, from the first measured round on. */
const spent = new Map<string, number>();
const add = (stage: string, ms: number) => spent.set(stage, (spent.get(stage) ?? 0) + ms);

function timed<A extends unknown[], R>(stage: string, fn: (...args: A) => R): (...args: A) => R {
  return function (this: unknown, ...args: A) {
    const started = performance.now();
    try {
      return fn.apply(this, args);
    } finally {
      add(stage, performance.now() - started);
    }
  };
}

/** A generator method (a store step, synchronous on SQLite) timed from its first step to its return. */
function timedSteps(stage: string, fn: (...args: unknown[]) => Generator<unknown, unknown, unknown>) {
  return function* (this: unknown, ...args: unknown[]) {
    const started = performance.now();
    try {
      return yield* fn.apply(this, args);
    } finally {
      add(stage, performance.now() - started);
    }
  };
}

function wrapMethods(proto: Record<string, unknown>, names: string[], label: string, steps = false): void {
  for (const name of names) {
    const fn = proto[name];
    if (typeof fn !== "function") throw new Error(`${label}.${name} is not a method any more: update bench/stages.ts`);
    proto[name] = steps ? timedSteps(`${label}.${name}`, fn as never) : timed(`${label}.${name}`, fn as never);
  }
}

const { Intake } = await import("../src/sync/intake");
const { IdCache } = await import("../src/cache/ids");
const { SqliteStatements } = await import("../src/store/sqlite/statements");
const { SqliteHistoryStatements } = await import("../src/store/sqlite/history");
const { createApp } = await import("../src/app");
const { loadConfig } = await import("../src/config");
const { SqliteStore } = await import("../src/store/sqlite/store");
const { AccountsService } = await import("../src/accounts/service");
const { SitesService } = await import("../src/sites/service");
const { payload } = await import("../test/support/payload");

JSON.parse = timed("JSON.parse", JSON.parse);
TextDecoder.prototype.decode = timed("TextDecoder.decode", TextDecoder.prototype.decode);
wrapMethods(Intake.prototype as never, ["add"], "Intake");
wrapMethods(IdCache.prototype as never, ["lookup", "remember"], "IdCache");
wrapMethods(SqliteStatements.prototype as never, ["userSiteAccess", "lockSiteModules", "writeSync", "versionIds", "moduleIds"], "statements", true);
wrapMethods(SqliteHistoryStatements.prototype as never, ["recordChanges"], "history", true);
// bun:sqlite gives each statement its own run/get/all/values: wrapped as each is prepared.
for (const method of ["prepare", "query"] as const) {
  const prepare = Database.prototype[method] as unknown as (this: Database, sql: string, ...rest: unknown[]) => Record<string, unknown>;
  (Database.prototype as unknown as Record<string, unknown>)[method] = function (this: Database, sql: string, ...rest: unknown[]) {
    const statement = prepare.call(this, sql, ...rest);
    const text = sql.replace(/\s+/g, " ").slice(0, 64);
    for (const call of ["run", "get", "all", "values"]) {
      const fn = statement[call];
      if (typeof fn === "function") statement[call] = timed(`sql ${call}: ${text}`, fn.bind(statement) as never);
    }
    return statement;
  };
}

const dir = mkdtempSync(join(tmpdir(), "modsync-stages-"));
const config = loadConfig({ DATABASE_URL: `sqlite:${join(dir, "db")}`, LOG_LEVEL: "warn", RATE_LIMIT_PER_HOUR: "100000000" });
const store = SqliteStore.connect(join(dir, "db"));
const app = createApp({ config, store });
// The write transaction (SqliteRunner's BEGIN IMMEDIATE … COMMIT): its work and its COMMIT apart.
const runner = (store as unknown as { db: { immediate: (work: () => unknown) => unknown } }).db;
const immediate = runner.immediate;
runner.immediate = (work) => {
  let began = 0;
  let worked = 0;
  const started = performance.now();
  const value = immediate(() => {
    began = performance.now();
    const out = work();
    worked = performance.now();
    return out;
  });
  add("transaction: BEGIN", began - started);
  add("transaction: work", worked - began);
  add("transaction: COMMIT", performance.now() - worked);
  return value;
};

const { token, sites, body } = await seedSites({ accounts: new AccountsService(store), sites: new SitesService(store) }, (r) => app.handle(r), {
  label: "stages", count: SITES, shape: KIND, base: payload(150),
});

let mainMicros = 0;
let processMicros = 0;
let syncs = 0;
for (let round = 0; round <= ROUNDS; round++) {
  const requests = Array.from({ length: SYNCS_PER_SITE }, () => sites.map((s) => syncRequest(s, body(s), token))).flat();
  if (round === 1) spent.clear(); // round 0 warms up
  const used = await measuredRound((r) => app.handle(r), requests, IN_FLIGHT);
  if (round > 0) {
    mainMicros += used.mainMicros;
    processMicros += used.processMicros;
    syncs += requests.length;
  }
}
console.log(`${KIND}, ${SITES} sites, ${IN_FLIGHT} in flight, ${ROUNDS} rounds: main thread ${(mainMicros / syncs).toFixed(0)} µs a sync (with the timers), process ${(processMicros / syncs).toFixed(0)} µs; by stage, µs a sync:`);
for (const [stage, ms] of [...spent].sort((a, b) => b[1] - a[1])) {
  const micros = (ms * 1000) / syncs;
  if (micros >= 0.5) console.log(`  ${micros.toFixed(1).padStart(7)}  ${stage}`);
}
await store.close();
rmSync(dir, { recursive: true, force: true });
process.exit(0);
