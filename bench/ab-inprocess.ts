// `bun bench/ab-inprocess.ts <treeA> <treeB> [rounds] [identical|drift|release] [sites] [in flight]`:
// the CPU a sync costs through app.handle() (no HTTP server, no wrk), for two
// source trees in one process, rounds interleaved (A B, B A, …) so that both
// share the machine's load. Each tree gets its own SQLite file, `sites` sites
// (200) and their first syncs; a round posts 3 syncs per site, in the drift
// shape (the first contrib module's version changes), release (every core
// module moves to the next release once per pass) or identical bodies.
// `in flight` (1) requests are handled at once, as an HTTP server under load
// does (distinct sites: a site's syncs still follow each other).
// Prints each side's median CPU per sync and the per-round B/A ratios.
//
// A tree is a directory holding src/ and test/support/ (e.g. the checkout, and
// `git archive <commit> | tar -x -C /tmp/base` with node_modules linked in).
// Compare a tree with itself first: the spread of B/A is the noise to beat.
//
// AB_POSTGRES=postgres://user@host:port runs both sides on Postgres instead,
// each in a database of its own made for the run and dropped after it.
//
// It runs with the allocator's purging off (src/allocator.ts, as the server does): with it
// on, page faults from the harness's own bodies were most of the figures.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { runWithSteadyAllocator } from "../src/allocator";
import { measuredRound, seedSites, syncRequest, type Shape } from "./lib/in-process";

runWithSteadyAllocator();

const [treeA, treeB] = [process.argv[2], process.argv[3]].map((t) => resolve(t ?? "."));
const ROUNDS = Number(process.argv[4] ?? 10);
const KIND = (process.argv[5] ?? "drift") as Shape;
if (!["identical", "drift", "release"].includes(KIND)) throw new Error("shape: identical, drift or release");
const SITES = Number(process.argv[6] ?? 200);
const IN_FLIGHT = Number(process.argv[7] ?? 1);
const SYNCS_PER_SITE = 3;
const PG_SERVER = process.env.AB_POSTGRES?.replace(/\/+$/, "") ?? null;
let sideCount = 0;

async function adminQuery(statement: string): Promise<void> {
  const { default: postgres } = await import("postgres");
  const admin = postgres(`${PG_SERVER}/postgres`, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(statement);
  } finally {
    await admin.end();
  }
}

interface Side { handle(request: Request): Promise<Response>; close(): Promise<void>; next(): Request[]; results: number[]; main: number[] }

async function setup(tree: string): Promise<Side> {
  const { createApp } = await import(join(tree, "src/app.ts")) as any;
  const { loadConfig } = await import(join(tree, "src/config.ts")) as any;
  const { SqliteStore } = await import(join(tree, "src/store/sqlite/store.ts")) as any;
  const { PostgresStore } = await import(join(tree, "src/store/postgres/store.ts")) as any;
  const { AccountsService } = await import(join(tree, "src/accounts/service.ts")) as any;
  const { SitesService } = await import(join(tree, "src/sites/service.ts")) as any;
  const { payload } = await import(join(tree, "test/support/payload.ts")) as any;
  const dir = mkdtempSync(join(tmpdir(), "modsync-ab-"));
  const database = PG_SERVER ? `${PG_SERVER}/modsync_ab_${process.pid}_${sideCount++}` : null;
  if (database) await adminQuery(`CREATE DATABASE ${database.split("/").at(-1)}`);
  const config = loadConfig({ DATABASE_URL: database ?? `sqlite:${join(dir, "db")}`, LOG_LEVEL: "warn", RATE_LIMIT_PER_HOUR: "100000000" });
  const store = database ? await PostgresStore.connect(database) : SqliteStore.connect(join(dir, "db"));
  const app = createApp({ config, store });
  const { token, sites, body } = await seedSites({ accounts: new AccountsService(store), sites: new SitesService(store) }, (r) => app.handle(r), {
    label: "ab", count: SITES, shape: KIND, base: payload(150),
  });
  return {
    handle: (r) => app.handle(r),
    async close() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
      if (database) await adminQuery(`DROP DATABASE ${database.split("/").at(-1)} WITH (FORCE)`);
    },
    next: () => Array.from({ length: SYNCS_PER_SITE }, () => sites.map((s) => syncRequest(s, body(s), token))).flat(),
    results: [],
    main: [],
  };
}

const sides = [await setup(treeA!), await setup(treeB!)];
for (let round = 0; round <= ROUNDS; round++) {
  for (const side of round % 2 === 0 ? sides : [...sides].reverse()) {
    const requests = side.next();
    const { mainMicros, processMicros } = await measuredRound(side.handle, requests, IN_FLIGHT);
    if (round > 0) { // round 0 warms up
      side.results.push(processMicros / requests.length);
      side.main.push(mainMicros / requests.length);
    }
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const [a, b] = sides.map((s) => s.results) as [number[], number[]];
const ratios = a.map((x, i) => b[i]! / x).sort((x, y) => x - y);
console.log(`${KIND}, ${SITES} sites, ${IN_FLIGHT} in flight, ${ROUNDS} rounds of ${SITES * SYNCS_PER_SITE} syncs per side: CPU µs per sync, A ${median(a).toFixed(0)} (min ${Math.min(...a).toFixed(0)}), `
  + `B ${median(b).toFixed(0)} (min ${Math.min(...b).toFixed(0)}); B/A per round: median ${median(ratios).toFixed(3)}, range ${ratios[0]!.toFixed(2)}-${ratios.at(-1)!.toFixed(2)}`);
const [mainA, mainB] = sides.map((s) => s.main) as [number[], number[]];
const mainRatios = mainA.map((x, i) => mainB[i]! / x).sort((x, y) => x - y);
console.log(`  main thread alone: A ${median(mainA).toFixed(0)}, B ${median(mainB).toFixed(0)} µs per sync; B/A median ${median(mainRatios).toFixed(3)}, range ${mainRatios[0]!.toFixed(2)}-${mainRatios.at(-1)!.toFixed(2)}`);
for (const side of sides) await side.close();
process.exit(0);
