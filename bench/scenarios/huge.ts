// Scenario 3 (opt-in): one 1,000,000-module sync (~210 MB of JSON) to a site
// that holds nothing yet, on SQLite or BENCH_DATABASE_URL. modsync must apply
// it at most 1.2 × as slowly as the floor does synchronously, without its
// process's peak resident set passing 256 MiB (issue 11): a body that size cannot be
// held in memory whole, and the floor, which parses it whole, shows what that
// costs.
//
// Each server runs alone, in a process of its own on a fresh database, so
// neither's memory or CPU weighs on the other's figures. The body is written
// to a file once per round (the site's token differs per database) and both
// servers get the same bytes from it: the floor ignores the site block.
import { join } from "node:path";
import { payload, writePayloadFile } from "../../test/support/payload";
import type { Lab } from "../lib/lab";
import type { Server } from "../lib/servers";
import { describe, measureSync, summarize, type OneSyncRun, type OneSyncSide } from "./one-sync";

export const HUGE = { modules: 1_000_000 } as const;

export interface HugeResult {
  bodyMiB: number;
  floor: OneSyncSide;
  modsync: OneSyncSide;
  /** modsync seconds ÷ floor seconds (fastest rounds). */
  ratio: number;
}

type Kind = "floor" | "modsync";

export async function hugeScenario(lab: Lab, rounds: number): Promise<HugeResult> {
  // Built once (a few hundred MB in this process); only the site block differs per round.
  const base = payload(HUGE.modules, { fullSync: false });
  const file = join(lab.tmpDir, "huge-body.json");
  let bodyMiB = 0;
  const runs: Record<Kind, OneSyncRun[]> = { floor: [], modsync: [] };
  for (let round = 1; round <= rounds; round++) {
    const label = `huge_${round}`;
    const { db, fixtures } = await lab.prepare(label, 1);
    const site = fixtures.sites[0]!;
    const writeStarted = performance.now();
    bodyMiB = writePayloadFile(file, { ...base, site: { ...base.site, url: site.url, token: site.token } }) / 2 ** 20;
    console.log(`  round ${round}: body ${bodyMiB.toFixed(1)} MiB written in ${((performance.now() - writeStarted) / 1000).toFixed(1)} s`);
    // Alternating which goes first spreads slow drift (page cache, neighbours) over both.
    const order: Kind[] = round % 2 === 1 ? ["floor", "modsync"] : ["modsync", "floor"];
    for (const kind of order) {
      const server: Server = kind === "floor" ? await lab.startFloor(label) : await lab.startModsync(db);
      try {
        // Bun.file: the body goes out from the file, with its size as Content-Length.
        const run = await measureSync(server, site.id, Bun.file(file), HUGE.modules, kind === "modsync" ? fixtures.apiToken : undefined);
        runs[kind].push(run);
        console.log(`  round ${round} ${kind.padEnd(7)} ${describe(run)}`);
      } finally {
        await lab.stop(server);
      }
    }
  }
  const floor = summarize(runs.floor);
  const modsync = summarize(runs.modsync);
  return { bodyMiB, floor, modsync, ratio: modsync.seconds / floor.seconds };
}
