// Scenarios identical, drift and release: 150-module re-syncs of N sites
// (BENCH_SITES, default 1,000) whose bodies are byte-identical (identical),
// differ by one module's version per request (drift), or move every core
// module to the next release per pass over the sites (release). Real
// traffic is mostly the last two: a body differs whenever anything on the
// site changed, and after a Drupal core release thousands of sites re-sync
// with 70+ changed versions each.
//
// Each request's body is built by changes.lua from one template (payload.ts's
// 150 modules, with placeholders), so both servers get the same bodies, each
// wrk thread posts to its own half of the sites, and no run repeats an
// earlier run's versions. The floor is the one for modsync's database: the
// SQLite floor (floor-server.ts), or with BENCH_DATABASE_URL the Postgres
// floor (floor-server-pg.ts) on a fresh database of its own on the same
// server. With BENCH_REDIS, modsync runs with REDIS_URL (there is no third
// server here: compare with a run without it).
//
// Per scenario, each site count of BENCH_SITES set up in turn: fresh
// databases for both, N sites registered in modsync, both servers started,
// every site's first sync posted (pass 0: the payload's own versions). Then
// BENCH_ROUNDS rounds, each one wrk run per (site count, server) pair in
// roundOrder's order, reversed every round; the best run of each server at
// each site count counts. Every server stays up until the last round.
//
// A run counts only if the work really happened: no non-2xx and no socket
// errors; modsync's own counters (GET /metrics) say every sync was applied
// with 1 (drift) or one per core module (release) module updated and none
// created, or for identical that every sync was answered from the stored
// fingerprint; and both databases gained the version rows the run's bodies
// name (one per request in drift, one per core module and pass in release,
// none in identical). With Redis, /ready must still say redis=ok and Redis
// must have read one rate-limit bucket per sync.
import { Database } from "bun:sqlite";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { SITES_TO_COMPUTE } from "../../src/store/releases/sql-release-store";
import { payload, type Payload } from "../../test/support/payload";
import { readiness, syncCounters, type SyncCounters } from "../lib/endpoints";
import type { Lab } from "../lib/lab";
import type { BenchSite, ModsyncDatabase } from "../lib/modsync";
import { countRows, PgProbe } from "../lib/postgres";
import { postSync } from "../lib/post";
import { RedisProbe } from "../lib/redis";
import { cpuSecondsOf, mainThreadCpuSecondsOf, mainThreadReadCallsOf, threadCpuSecondsOf, threadCpuSince, type Server } from "../lib/servers";
import { runWrk, type WrkResult } from "../lib/wrk";
import { timed } from "./resync-work";

export type ChangeKind = "identical" | "drift" | "release";

export const CHANGES = { modules: 150, connections: 32, threads: 2, warmUpConcurrency: 16 } as const;

export interface ChangeRun extends WrkResult {
  round: number;
  /** CPU time per answered request, µs: the server process (all threads). */
  cpuUs: number;
  /** The same, its main thread alone (the one serving HTTP), and the share of wrk's run it was busy (1: a whole core). */
  mainThreadUs: number;
  mainThreadBusy: number;
  /** Read system calls of the main thread per answered request (mainThreadReadCallsOf). */
  mainThreadReads: number;
  /** The same for each group of the server's threads (threadCpuSecondsOf's groups). */
  threadsUs: Record<string, number>;
  /** The scenario's other servers' CPU over the run (up, not measured: their background threads), per answered request, µs. */
  idleServersUs: number;
  /** wrk's own CPU time per answered request, µs: what generating the load cost the machine. */
  wrkCpuUs: number;
  /** Postgres: CPU per request of the backends connected to this server's database, µs; null on SQLite. */
  dbCpuUs: number | null;
  /** modsync with Redis: redis-server's CPU per request, µs (Redis is shared: others may add to it). */
  redisCpuUs: number | null;
  /** Version rows the server's database gained during the run. */
  newVersionRows: number;
  /** modsync only: what its counters say the run's syncs did. */
  counters: { syncs: number; applied: number; updatedPerSync: number; createdPerSync: number } | null;
}

export interface ChangeSide {
  best: ChangeRun;
  runs: ChangeRun[];
  /** Every site's first sync (creates), CHANGES.warmUpConcurrency at a time; informational. */
  warmUpSeconds: number;
}

export interface ChangeResult {
  kind: ChangeKind;
  sites: number;
  /** modsync's database and whether it used Redis; the floor is on the same kind of database. */
  database: "sqlite" | "postgres";
  redis: boolean;
  /** Module versions each request changes: 0, 1, or the core modules. */
  changedPerRequest: number;
  floor: ChangeSide;
  modsync: ChangeSide;
  /** modsync req/s ÷ floor req/s (best runs). */
  ratio: number;
  /** modsync p99 ÷ floor p99 (best runs). */
  p99Ratio: number;
  setupSeconds: number;
}

/** The contrib module whose version drift changes: the first contrib module of the payload. */
function driftModule(p: Payload): string {
  const m = p.modules.find((mod) => mod.module_type === "contrib");
  if (!m) throw new Error("the payload has no contrib module to drift");
  return m.machine_name;
}

/**
 * The body changes.lua fills in: the payload with placeholders for the
 * site's url and token and, by kind, the drifting module's version or every
 * core module's version (and drupal_info.core_version).
 */
function template(kind: ChangeKind, p: Payload): string {
  const drifting = driftModule(p);
  const t: Payload = {
    ...p,
    site: { ...p.site, url: "@URL@", token: "@TOKEN@" },
    drupal_info: { ...p.drupal_info, core_version: kind === "release" ? "@CORE@" : p.drupal_info.core_version },
    modules: p.modules.map((m) => {
      if (kind === "drift" && m.machine_name === drifting) return { ...m, version: "@DRIFT@" };
      if (kind === "release" && m.module_type === "core") return { ...m, version: "@CORE@" };
      return m;
    }),
  };
  return JSON.stringify(t);
}

/**
 * The tail number of the site at line `k` of a sites file (0-based): its
 * place among its wrk thread's sites (thread k mod threads), mod 256, so that
 * each thread's sites use all 256 tails in turn.
 */
function tailCode(k: number): number {
  return Math.floor(k / CHANGES.threads) % 256;
}

/**
 * The four whitespace characters that end every body of a site with tail
 * number `code`: its base-4 digits, lowest first, each one of space, \n,
 * \t, \r. The same as changes.lua's TAIL (which says why bodies have one).
 */
function bodyTail(code: number): string {
  return [0, 1, 2, 3].map((d) => " \n\t\r"[Math.floor(code / 4 ** d) % 4]!).join("");
}

/** `template` with its placeholders filled: the site's url and token, pass 0's versions (the payload's own), then the site's tail. */
function pass0Body(tmpl: string, p: Payload, site: { url: string; token: string }, k: number): string {
  const drifting = p.modules.find((m) => m.machine_name === driftModule(p))!;
  const fills: Record<string, string> = { URL: site.url, TOKEN: site.token, DRIFT: drifting.version, CORE: p.drupal_info.core_version };
  return tmpl.replace(/@([A-Z]+)@/g, (_, name: string) => fills[name]!) + bodyTail(tailCode(k));
}

/** Module versions one request of `kind` changes. */
function changedPerRequest(kind: ChangeKind, p: Payload): number {
  if (kind === "identical") return 0;
  if (kind === "drift") return 1;
  return p.modules.filter((m) => m.module_type === "core").length;
}

interface SideSetup {
  server: Server;
  /** Site ids, in the order the sites file lists them (floor: 1..N; modsync: the registered ids). */
  ids: number[];
  sitesFile: string;
  apiToken: string | undefined;
  /** The Postgres database the server uses (for its backends' CPU), or null on SQLite. */
  pgDatabase: string | null;
  versionRows(): Promise<number>;
}

/** Rows of `table` in a SQLite file another process has open (WAL: this read never blocks it). */
function sqliteCount(path: string, query: string): number {
  const db = new Database(path, { readonly: true });
  try {
    // Finalized before close: a statement left to the GC keeps the file open (see sqliteReleased in lib/modsync.ts).
    const stmt = db.prepare(query);
    try {
      return (stmt.get() as { n: number }).n;
    } finally {
      stmt.finalize();
    }
  } finally {
    db.close();
  }
}

/** What the count `query` (its column `n`) reads in a Postgres database (by URL) or a SQLite file (by path). */
function counter(db: { dialect: "postgres"; url: string } | { dialect: "sqlite"; path: string }, query: string): () => Promise<number> {
  if (db.dialect === "postgres") return () => countRows(db.url, query);
  return async () => sqliteCount(db.path, query);
}

/** Counts `table`'s rows. */
function rowCounter(db: { dialect: "postgres"; url: string } | { dialect: "sqlite"; path: string }, table: string): () => Promise<number> {
  if (!/^[a-z_]+$/.test(table)) throw new Error(`bad table name ${table}`);
  return counter(db, `SELECT count(*) AS n FROM ${table}`);
}

function located(db: ModsyncDatabase): { dialect: "postgres"; url: string } | { dialect: "sqlite"; path: string } {
  return db.dialect === "postgres" ? { dialect: "postgres", url: db.url } : { dialect: "sqlite", path: db.url.slice("sqlite:".length) };
}

function databaseRowCounter(db: ModsyncDatabase, table: string): () => Promise<number> {
  return rowCounter(located(db), table);
}

/** The sites whose update statuses modsync has yet to compute for their last sync, by its statuses thread's own condition. */
const STATUSES_BEHIND = `SELECT count(*) AS n ${SITES_TO_COMPUTE}`;

/** Longest wait for modsync's statuses to catch up with the warm-up: past it, the bench stops with an error. */
const CATCH_UP_LIMIT_MS = 600_000;

/**
 * Waits until modsync's update statuses thread has computed every site's
 * statuses for the warm-up's first syncs, as a database that grew over time
 * would have them, so that no round measures that backlog (~50 status rows a
 * site). A guard: on the 2-core bench machine the thread had caught up within
 * 0.3 s (SQLite) and 1.0-1.3 s (Postgres) of a 10,000-site warm-up. Returns
 * the seconds waited.
 */
async function statusesCaughtUp(db: ModsyncDatabase): Promise<number> {
  const behind = counter(located(db), STATUSES_BEHIND);
  const started = performance.now();
  while ((await behind()) > 0) {
    if (performance.now() - started > CATCH_UP_LIMIT_MS) throw new Error(`modsync's update statuses still behind the warm-up after ${CATCH_UP_LIMIT_MS / 1000} s`);
    await Bun.sleep(250);
  }
  return (performance.now() - started) / 1000;
}

/** The run with the most req/s. */
function fastest(runs: ChangeRun[]): ChangeRun {
  return runs.reduce((x, y) => (y.requestsPerSec > x.requestsPerSec ? y : x));
}

function databaseName(db: ModsyncDatabase): string | null {
  return db.dialect === "postgres" ? new URL(db.url).pathname.slice(1) : null;
}

/** "id url token tail" lines for changes.lua (tail: the line's tailCode); url and token go into JSON strings as they are. */
function writeSitesFile(path: string, lines: { id: number; url: string; token: string }[]): void {
  for (const l of lines) {
    if (!/^[^\s"\\]+$/.test(l.url) || !/^[^\s"\\]+$/.test(l.token)) throw new Error(`site ${l.id}: url or token unfit for a JSON template`);
  }
  writeFileSync(path, lines.map((l, k) => `${l.id} ${l.url} ${l.token} ${tailCode(k)}`).join("\n") + "\n");
}

/** Every site's first sync, `concurrency` at a time; anything but 200 stops the bench. */
async function warmUp(server: Server, ids: number[], body: (k: number) => string, apiToken?: string): Promise<number> {
  return timed(async () => {
    let next = 0;
    const worker = async () => {
      while (next < ids.length) {
        const k = next++;
        const answer = await postSync(server.base, { siteId: ids[k]!, body: body(k) }, apiToken);
        if (answer.status !== 200) {
          throw new Error(`${server.name}: first sync of site ${ids[k]} answered ${answer.status}: ${JSON.stringify(answer.json).slice(0, 500)}`);
        }
      }
    };
    await Promise.all(Array.from({ length: CHANGES.warmUpConcurrency }, worker));
  });
}

export interface ChangeOptions {
  seconds: number;
  rounds: number;
  /** Seconds of each server's warm run before round 1 (warmRun); 0: none. */
  warmSeconds: number;
  /** Seconds of each server's unmeasured run right before each of its measured runs; 0: none. */
  rewarmSeconds: number;
  /** With BENCH_DATABASE_URL: modsync on Postgres, against the Postgres floor. */
  pgUrl: string | undefined;
  /** With BENCH_REDIS: modsync's REDIS_URL. */
  redisUrl: string | null;
}

/** One scenario at one site count, set up: both servers started, every site's first sync posted. */
interface ChangeStage {
  kind: ChangeKind;
  sites: number;
  templateFile: string;
  changed: number;
  database: ModsyncDatabase["dialect"];
  floor: SideSetup;
  modsync: SideSetup;
  /** modsync's database. */
  db: ModsyncDatabase;
  floorWarm: number;
  modsyncWarm: number;
  setupSeconds: number;
  runs: { floor: ChangeRun[]; modsync: ChangeRun[] };
}

/** What a stage holds that must be let go: its servers, its databases. */
interface Held { started: Server[]; dbs: ModsyncDatabase[] }

async function setUpStage(lab: Lab, kind: ChangeKind, sitesCount: number, o: ChangeOptions, held: Held): Promise<ChangeStage> {
  const label = `${kind}_${sitesCount}`;
  const p = payload(CHANGES.modules);
  const tmpl = template(kind, p);
  const templateFile = join(lab.tmpDir, `${label}-template.json`);
  writeFileSync(templateFile, tmpl);

  const prepared = await lab.prepare(label, sitesCount);
  held.dbs.push(prepared.db);
  const sites: BenchSite[] = prepared.fixtures.sites;
  console.log(`  ${sitesCount} sites registered in modsync in ${prepared.setupSeconds.toFixed(1)} s`);

  let floor: SideSetup;
  const floorSites = sites.map((s, k) => ({ id: k + 1, url: s.url, token: s.token }));
  const floorSitesFile = join(lab.tmpDir, `${label}-floor-sites.txt`);
  writeSitesFile(floorSitesFile, floorSites);
  if (o.pgUrl) {
    const { server, db } = await lab.startFloorPg(label);
    held.started.push(server);
    held.dbs.push(db);
    floor = { server, ids: floorSites.map((s) => s.id), sitesFile: floorSitesFile, apiToken: undefined, pgDatabase: databaseName(db), versionRows: databaseRowCounter(db, "versions") };
  } else {
    const server = await lab.startFloor(label);
    held.started.push(server);
    floor = { server, ids: floorSites.map((s) => s.id), sitesFile: floorSitesFile, apiToken: undefined, pgDatabase: null,
      versionRows: rowCounter({ dialect: "sqlite", path: lab.floorDbPath(label) }, "versions") };
  }

  const modsyncSitesFile = join(lab.tmpDir, `${label}-modsync-sites.txt`);
  writeSitesFile(modsyncSitesFile, sites);
  let modsyncServer = await lab.startModsync(prepared.db, o.redisUrl);
  held.started.push(modsyncServer);
  const modsync: SideSetup = {
    server: modsyncServer, ids: sites.map((s) => s.id), sitesFile: modsyncSitesFile, apiToken: prepared.fixtures.apiToken,
    pgDatabase: databaseName(prepared.db), versionRows: databaseRowCounter(prepared.db, "module_versions"),
  };

  const body = (k: number) => pass0Body(tmpl, p, sites[k]!, k);
  const floorWarm = await warmUp(floor.server, floor.ids, body);
  const modsyncWarm = await warmUp(modsync.server, modsync.ids, body, modsync.apiToken);
  console.log(`  warm-up (first ${CHANGES.modules}-module sync of every site): ${floor.server.name} ${floorWarm.toFixed(1)} s, ${modsync.server.name} ${modsyncWarm.toFixed(1)} s`);
  console.log(`  ${modsync.server.name}'s update statuses caught up with the warm-up ${(await statusesCaughtUp(prepared.db)).toFixed(1)} s later`);
  if (lab.modsyncFlagged) {
    // Profiling: the warm run and the rounds get a process (and so a profile)
    // of their own, without the warm-up's first syncs. It starts with empty caches; the
    // sites share their modules, so its first syncs fill them.
    await lab.stop(modsyncServer);
    modsyncServer = await lab.startModsync(prepared.db, o.redisUrl);
    held.started.push(modsyncServer);
    modsync.server = modsyncServer;
    console.log("  BENCH_MODSYNC_BUN_FLAGS: the warm run and the rounds run in a second modsync process, so its profile holds no first syncs");
  }
  return {
    kind, sites: sitesCount, templateFile, changed: changedPerRequest(kind, p), database: prepared.db.dialect,
    floor, modsync, db: prepared.db, floorWarm, modsyncWarm, setupSeconds: prepared.setupSeconds, runs: { floor: [], modsync: [] },
  };
}

function resultOf(stage: ChangeStage, redis: boolean): ChangeResult {
  const floor = { best: fastest(stage.runs.floor), runs: stage.runs.floor, warmUpSeconds: stage.floorWarm };
  const modsync = { best: fastest(stage.runs.modsync), runs: stage.runs.modsync, warmUpSeconds: stage.modsyncWarm };
  return {
    kind: stage.kind, sites: stage.sites, database: stage.database, redis, changedPerRequest: stage.changed,
    floor, modsync,
    ratio: modsync.best.requestsPerSec / floor.best.requestsPerSec,
    p99Ratio: modsync.best.p99Ms / floor.best.p99Ms,
    setupSeconds: stage.setupSeconds,
  };
}

/**
 * The order of a round's runs: every (site count, server) pair once, in
 * ascending site counts, floor first, in odd rounds, and exactly reversed in
 * even ones. So each server's runs at two site counts are minutes apart at
 * most, and a machine that slows steadily through a pair of rounds weighs on
 * both site counts alike: the grown database's ratio is read round by round
 * (bench/README, "The grown database").
 */
export function roundOrder(siteCounts: number[], round: number): { sites: number; server: "floor" | "modsync" }[] {
  const order = [...siteCounts].sort((a, b) => a - b).flatMap((sites) => [{ sites, server: "floor" as const }, { sites, server: "modsync" as const }]);
  return round % 2 === 1 ? order : order.reverse();
}

/**
 * One scenario at every site count of `siteCounts`: each set up in turn
 * (fresh databases, sites registered, servers started, first syncs), then
 * `o.rounds` rounds that run every server at every site count, interleaved
 * by roundOrder. Every server stays up until the last round.
 */
export async function changeScenario(lab: Lab, kind: ChangeKind, siteCounts: number[], o: ChangeOptions): Promise<ChangeResult[]> {
  const probes: { pg: PgProbe | null; redis: RedisProbe | null } = { pg: null, redis: null };
  const held: Held = { started: [], dbs: [] };
  try {
    // Connect first: an unreachable Redis should stop the bench before minutes of set-up.
    if (o.redisUrl) probes.redis = await RedisProbe.connect(o.redisUrl);
    if (o.pgUrl) probes.pg = PgProbe.connect(o.pgUrl);

    const stages = new Map<number, ChangeStage>();
    for (const sites of siteCounts) {
      console.log(`  set-up at ${sites.toLocaleString("en-US")} sites`);
      stages.set(sites, await setUpStage(lab, kind, sites, o, held));
    }
    if (o.warmSeconds > 0) {
      for (const { sites, server } of roundOrder(siteCounts, 1)) {
        const stage = stages.get(sites)!;
        await warmRun(server === "floor" ? stage.floor : stage.modsync, { lab, kind, sites, seconds: o.warmSeconds, templateFile: stage.templateFile, run: 0, quiet: false });
      }
      // As after the first syncs: round 1 does not share the machine with the warm runs' statuses.
      for (const stage of stages.values()) {
        console.log(`  ${stage.modsync.server.name} at ${stage.sites.toLocaleString("en-US")} sites: update statuses caught up with the warm run ${(await statusesCaughtUp(stage.db)).toFixed(1)} s later`);
      }
    }
    for (let round = 1; round <= o.rounds; round++) {
      for (const { sites, server } of roundOrder(siteCounts, round)) {
        const stage = stages.get(sites)!;
        const side = server === "floor" ? stage.floor : stage.modsync;
        const idle = held.started.filter((s) => s !== side.server && s.proc.exitCode === null && s.proc.signalCode === null);
        if (o.rewarmSeconds > 0) {
          // After sitting idle while the other servers ran, a server's runtime compiled in a burst as
          // its run started: 35-58 compilations in the first 5 s of a run against 1-6 a second in a
          // run straight after one of its own, most of them hot functions reaching the top tier,
          // some compiled again (JavaScriptCore lets optimized code go in idle collections; bench/
          // README round 32). Under steady load that is behind it; so each run comes right after a
          // few seconds that are not counted, versions of their own (RUN 1000 + the round), and a
          // moment for their last requests to land.
          await warmRun(side, { lab, kind, sites, seconds: o.rewarmSeconds, templateFile: stage.templateFile, run: 1000 + round, quiet: true });
          await Bun.sleep(300);
        }
        stage.runs[server].push(await measuredRun({
          lab, kind, side, idle, isModsync: server === "modsync", round, seconds: o.seconds,
          templateFile: stage.templateFile, changed: stage.changed, sites, probes,
        }));
      }
    }
    return siteCounts.map((sites) => resultOf(stages.get(sites)!, o.redisUrl !== null));
  } finally {
    for (const server of held.started) await lab.stop(server);
    await probes.pg?.close();
    await probes.redis?.close();
    // Done with them: a 10,000-site database is large, and each holds a connection.
    for (const db of held.dbs) await lab.dropDatabase(db).catch((err: unknown) => console.error(`could not drop a bench database: ${String(err)}`));
  }
}

/**
 * One wrk run of changes.lua against a side, `run` its RUN: a number no other
 * run against that side's database uses, so that no run repeats another's
 * versions (the rounds use their number, the warm runs 0, 1000 (warmRun's second
 * run) and 1000 + the round).
 */
function scenarioWrk(side: SideSetup, a: { lab: Lab; kind: ChangeKind; seconds: number; templateFile: string; run: number }): Promise<WrkResult> {
  const env: Record<string, string> = { TEMPLATE: a.templateFile, SITES_FILE: side.sitesFile, MODE: a.kind, THREADS: String(CHANGES.threads), RUN: String(a.run) };
  if (side.apiToken) env.TOKEN = side.apiToken;
  return runWrk({ base: side.server.base, seconds: a.seconds, connections: CHANGES.connections, threads: CHANGES.threads, env, benchDir: a.lab.benchDir, script: "changes.lua" });
}

/**
 * A run of the scenario that is not measured: before round 1 (RUN 0, quiet
 * false), each server's runtime compiles the changed path's code as it first
 * runs it (the first syncs warm another path), which took the JIT's threads
 * up to 72 µs of CPU a request in the first measured round; before each
 * measured run (RUN 1000 + the round, quiet), what a server compiles after
 * sitting idle (round 32 of bench/README). A server that has been up under
 * load has paid both. Anything but 2xx stops the bench.
 *
 * Before round 1 it also re-syncs every site once at least: each wrk run
 * starts over at each thread's first site, so when the first run answered
 * fewer requests than a pass and a quarter (WARM_PASS_MARGIN: a thread may
 * run ahead of the other), a second one (RUN 1000, which no round uses) runs
 * that long at the first one's rate, up to WARM_PASS_LIMIT_S. A site's first
 * re-sync after its first sync costs more than the ones after it (on
 * Postgres, the first UPDATE of freshly inserted rows finds their pages
 * fuller than later ones do: 60% of those updates were HOT with pages filled
 * to 75%, against 94-100% after, round 37; 89% at 60%, round 38); at 1,000
 * sites the warm run had always paid that, at 10,000 on Postgres round 1
 * paid it instead.
 */
async function warmRun(side: SideSetup, a: { lab: Lab; kind: ChangeKind; sites: number; seconds: number; templateFile: string; run: number; quiet: boolean }): Promise<void> {
  let r = await checkedWarmRun(side, a);
  const label = `  warm run ${String(a.sites).padStart(6)} sites ${side.server.name.padEnd(13)}`;
  if (!a.quiet) console.log(`${label} ${r.requestsPerSec.toFixed(1).padStart(9)} req/s (not counted)`);
  const pass = a.sites * WARM_PASS_MARGIN;
  if (a.quiet || r.requests >= pass) return;
  const seconds = Math.min(WARM_PASS_LIMIT_S, Math.ceil(pass / Math.max(r.requestsPerSec, 1)));
  r = await checkedWarmRun(side, { ...a, seconds, run: 1000 });
  console.log(`${label} ${r.requestsPerSec.toFixed(1).padStart(9)} req/s (not counted; ${seconds} s more, so that every site re-synced: ${r.requests} requests)`);
  if (r.requests < pass) console.log(`${label} warning: ${r.requests} requests, short of ${Math.ceil(pass)}: some sites' first re-sync falls in round 1`);
}

/** A pass over the sites and a quarter: wrk's two threads each post to half of them, and one may run ahead. */
const WARM_PASS_MARGIN = 1.25;
/** The longest second warm run: at 10,000 sites, a pass and a quarter at ~70 req/s, far below any server measured here. */
const WARM_PASS_LIMIT_S = 180;

async function checkedWarmRun(side: SideSetup, a: { lab: Lab; kind: ChangeKind; seconds: number; templateFile: string; run: number }): Promise<WrkResult> {
  const r = await scenarioWrk(side, a);
  if (r.non2xx > 0 || r.socketErrors > 0) {
    throw new Error(`${side.server.name}: its warm run answered ${r.non2xx} non-2xx responses and had ${r.socketErrors} socket errors out of ${r.requests} requests`);
  }
  return r;
}

async function measuredRun(a: {
  lab: Lab;
  kind: ChangeKind;
  side: SideSetup;
  /** The scenario's other servers, up but not measured in this run: their own threads still use CPU. */
  idle: Server[];
  isModsync: boolean;
  round: number;
  seconds: number;
  templateFile: string;
  changed: number;
  sites: number;
  probes: { pg: PgProbe | null; redis: RedisProbe | null };
}): Promise<ChangeRun> {
  const { side, probes } = a;
  const server = side.server;
  const pid = server.proc.pid;
  const redis = a.isModsync ? probes.redis : null;

  const rowsBefore = await side.versionRows();
  const countersBefore = a.isModsync ? await syncCounters(server.base) : null;
  const callsBefore = redis ? await redis.commandCalls() : null;
  const redisCpuBefore = redis ? await redis.cpuSeconds() : null;
  const dbCpuBefore = side.pgDatabase && probes.pg ? await probes.pg.backendCpu(side.pgDatabase) : null;
  const cpuBefore = cpuSecondsOf(pid);
  const mainBefore = mainThreadCpuSecondsOf(pid);
  const readsBefore = mainThreadReadCallsOf(pid);
  const threadsBefore = threadCpuSecondsOf(pid);
  const idleCpu = () => a.idle.reduce((sum, s) => sum + cpuSecondsOf(s.proc.pid), 0);
  const idleBefore = idleCpu();

  const r = await scenarioWrk(side, { lab: a.lab, kind: a.kind, seconds: a.seconds, templateFile: a.templateFile, run: a.round });

  const cpu = cpuSecondsOf(pid) - cpuBefore;
  const mainCpu = mainThreadCpuSecondsOf(pid) - mainBefore;
  const mainReads = mainThreadReadCallsOf(pid) - readsBefore;
  const threadsCpu = [...threadCpuSince(threadsBefore, threadCpuSecondsOf(pid))];
  const idleSeconds = idleCpu() - idleBefore;
  const dbCpu = dbCpuBefore && side.pgDatabase && probes.pg ? await probes.pg.backendCpuSince(side.pgDatabase, dbCpuBefore) : null;
  const redisCpu = redis && redisCpuBefore !== null ? (await redis.cpuSeconds()) - redisCpuBefore : null;
  const perRequestUs = (s: number) => (s * 1e6) / r.requests;
  // Requests wrk cut off at the end may still be applied: give them a moment before counting.
  await Bun.sleep(300);
  const newVersionRows = (await side.versionRows()) - rowsBefore;

  const run: ChangeRun = {
    ...r, round: a.round, cpuUs: perRequestUs(cpu), mainThreadUs: perRequestUs(mainCpu), mainThreadBusy: mainCpu / r.wallSeconds,
    mainThreadReads: mainReads / r.requests,
    threadsUs: Object.fromEntries(threadsCpu.map(([group, seconds]) => [group, perRequestUs(seconds)])),
    idleServersUs: perRequestUs(idleSeconds),
    wrkCpuUs: perRequestUs(r.wrkCpuSeconds), dbCpuUs: dbCpu === null ? null : perRequestUs(dbCpu),
    redisCpuUs: redisCpu === null ? null : perRequestUs(redisCpu), newVersionRows, counters: null,
  };
  let cpuText = `cpu/req: server ${run.cpuUs.toFixed(0)} µs (main thread ${run.mainThreadUs.toFixed(0)} µs, busy ${(run.mainThreadBusy * 100).toFixed(0)}%, ${run.mainThreadReads.toFixed(1)} reads)`;
  if (run.dbCpuUs !== null) cpuText += `, postgres ${run.dbCpuUs.toFixed(0)} µs`;
  if (run.redisCpuUs !== null) cpuText += `, redis-server ${run.redisCpuUs.toFixed(0)} µs`;
  cpuText += `, wrk ${run.wrkCpuUs.toFixed(0)} µs`;
  const rank = (group: string) => (group.startsWith("worker") ? 0 : ["jit", "gc", "other"].indexOf(group) + 1);
  const others = Object.entries(run.threadsUs).filter(([group]) => group !== "main").sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b, undefined, { numeric: true }));
  if (others.length > 0) cpuText += `; other threads: ${others.map(([group, us]) => `${group} ${us.toFixed(0)}`).join(", ")} µs`;
  if (a.idle.length > 0) cpuText += `; idle servers ${run.idleServersUs.toFixed(0)} µs`;
  console.log(`  round ${a.round} ${String(a.sites).padStart(6)} sites ${server.name.padEnd(13)} ${r.requestsPerSec.toFixed(1).padStart(9)} req/s  p50 ${r.p50Ms.toFixed(2)} ms  p99 ${r.p99Ms.toFixed(2)} ms  (${r.requests} requests, ${r.non2xx} non-2xx; ${cpuText})`);
  if (r.non2xx > 0 || r.socketErrors > 0) {
    throw new Error(`${server.name} answered ${r.non2xx} non-2xx responses and had ${r.socketErrors} socket errors out of ${r.requests} requests; the figures are not valid`);
  }

  const notes: string[] = [`${newVersionRows} new version rows`];
  checkVersionRows(server.name, a.kind, newVersionRows, r.requests, a.changed, a.sites);
  if (countersBefore) {
    const after = await syncCounters(server.base);
    run.counters = checkCounters(server.name, a.kind, countersBefore, after, r.requests, a.changed);
    notes.push(`/metrics: ${run.counters.syncs} syncs, ${run.counters.applied} applied, ${run.counters.updatedPerSync.toFixed(2)} modules updated and ${run.counters.createdPerSync.toFixed(2)} created per sync`);
  }
  if (redis && callsBefore) {
    const ready = await readiness(server.base);
    if (ready.status !== 200 || ready.checks.redis !== "ok") {
      throw new Error(`${server.name}: GET /ready after the run answered ${ready.status} ${JSON.stringify(ready.checks)}; Redis was not in use`);
    }
    const bucketReads = (await redis.commandCalls()).bucketReads - callsBefore.bucketReads;
    if (bucketReads < r.requests) {
      throw new Error(`${server.name}: Redis read ${bucketReads} rate-limit buckets for ${r.requests} syncs; some syncs used in-process buckets instead of Redis`);
    }
    notes.push(`redis=ok, ${bucketReads} bucket reads`);
  }
  console.log(`          checks: ${notes.join("; ")}`);
  return run;
}

/**
 * The version rows a run must add: none for identical; one per request for
 * drift (each names a version no site had), give or take the requests wrk
 * cut off at the end; for release, one per core module and pass started
 * (both threads share a pass's versions), so a multiple of the core modules.
 */
function checkVersionRows(name: string, kind: ChangeKind, rows: number, requests: number, changed: number, sites: number): void {
  const fail = (expected: string) => {
    throw new Error(`${name}: its database gained ${rows} version rows in a ${kind} run of ${requests} requests, expected ${expected}; the bodies did not do the work the scenario means`);
  };
  const slack = CHANGES.connections;
  if (kind === "identical" && rows !== 0) fail("0");
  if (kind === "drift" && (rows < requests || rows > requests + slack)) fail(`${requests} to ${requests + slack}`);
  if (kind === "release") {
    // The faster thread may run ahead by a pass; each thread has half the sites.
    const least = Math.floor(requests / sites);
    const most = Math.ceil((requests + slack) / Math.floor(sites / CHANGES.threads)) + 1;
    if (rows % changed !== 0 || rows / changed < least || rows / changed > most) fail(`${changed} × ${least} to ${most} passes`);
  }
}

/** modsync's counters over the run must show the scenario's work: every sync applied (or replayed), with the expected modules updated. */
function checkCounters(name: string, kind: ChangeKind, before: SyncCounters, after: SyncCounters, requests: number, changed: number): NonNullable<ChangeRun["counters"]> {
  const applied = after.syncs.applied - before.syncs.applied;
  const replayed = after.syncs.unchanged - before.syncs.unchanged;
  const syncs = applied + replayed;
  const updated = after.modules.updated - before.modules.updated;
  const created = after.modules.created - before.modules.created;
  const removed = after.modules.removed - before.modules.removed;
  const otherAnswers = Object.entries(after.answers)
    .map(([status, n]) => [status, n - (before.answers[status] ?? 0)] as const)
    .filter(([status, n]) => status !== "200" && n > 0);
  const result = { syncs, applied, updatedPerSync: updated / Math.max(1, syncs), createdPerSync: created / Math.max(1, syncs) };
  const problems: string[] = [];
  if (otherAnswers.length > 0) problems.push(`answers other than 200: ${JSON.stringify(Object.fromEntries(otherAnswers))}`);
  // wrk counts only answers it read; requests cut off at the end may be counted by the server too.
  if (syncs < requests || syncs > requests + CHANGES.connections) problems.push(`${syncs} syncs counted for ${requests} answered`);
  if (created !== 0 || removed !== 0) problems.push(`${created} modules created and ${removed} removed, expected none`);
  if (kind === "identical") {
    if (applied !== 0 || updated !== 0) problems.push(`${applied} syncs applied and ${updated} modules updated, expected every sync answered from the stored fingerprint`);
  } else {
    if (replayed !== 0) problems.push(`${replayed} syncs answered from the stored fingerprint, expected every body to differ`);
    if (updated !== applied * changed) problems.push(`${updated} modules updated in ${applied} syncs, expected ${changed} per sync`);
  }
  if (problems.length > 0) throw new Error(`${name}: /metrics after the ${kind} run: ${problems.join("; ")}`);
  return result;
}
