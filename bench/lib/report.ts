// The printed tables and bench/results/latest.json.
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import type { ChangeResult, ChangeRun, ChangeSide } from "../scenarios/changes";
import type { HugeResult } from "../scenarios/huge";
import type { LargeResult } from "../scenarios/large";
import type { OneSyncSide } from "../scenarios/one-sync";
import type { ResyncResult } from "../scenarios/resync-work";
import { CHANGES } from "../scenarios/changes";
import { mean, median } from "./stats";
import { num, printGrid, verdict, type RowGroup } from "./table";

export const TARGETS = {
  /** modsync req/s ÷ floor req/s, at least. */
  resyncRatio: 0.7,
  /** BENCH_REDIS: modsync+redis req/s ÷ floor req/s, at least. */
  redisResyncRatio: 0.7,
  /** BENCH_REDIS: modsync+redis req/s ÷ modsync (no Redis) req/s, at least. */
  redisVsModsyncRatio: 0.9,
  /** modsync seconds ÷ floor seconds, at most (issue 11; 1.5 before it). */
  largeRatio: 1.2,
  /** huge: modsync seconds ÷ floor seconds, at most (issue 11; 1.5 before it). */
  hugeRatio: 1.2,
  /** huge: modsync's peak RSS (VmHWM), MiB, at most (issue 11; 300 before it). */
  hugePeakMiB: 256,
  /** identical re-syncs (changes.ts): modsync req/s ÷ its floor's, at least. */
  identicalRatio: 1.0,
  /** drift and release: modsync req/s ÷ its floor's, at least. */
  changedRatio: 0.8,
  /** identical, drift, release: modsync p99 ÷ its floor's, at most. */
  changesP99Ratio: 1.5,
  /** identical, drift, release: modsync req/s with the most sites ÷ with the fewest (BENCH_SITES=1000,10000), the median of the rounds' ratios, at least. */
  grownRatio: 0.9,
} as const;

export interface BenchResults {
  resync?: ResyncResult;
  large?: LargeResult;
  huge?: HugeResult;
  /** identical, drift, release: one per scenario and site count, scenario by scenario, site counts in BENCH_SITES order (their runs interleaved). */
  changes?: ChangeResult[];
}

export interface BenchMeta {
  seconds: number;
  rounds: number;
  /** Seconds of each server's unmeasured run before round 1 of identical, drift and release. */
  warmSeconds: number;
  /** Seconds of each server's unmeasured run right before each measured one there. */
  rewarmSeconds: number;
  largeRounds: number;
  hugeRounds: number;
  dialect: string;
  commit: string | null;
  /** Paths changed outside bench/ since the commit (null: not a git checkout). */
  uncommitted: string[] | null;
  /** modsync's LOG_LEVEL during the run. */
  logLevel: string;
  /** modsync's RATE_LIMIT_PER_HOUR during the run. */
  rateLimitPerHour: number;
  /** BENCH_REDIS's Redis, or null. */
  redisUrl: string | null;
  /** BENCH_SITES: the site counts of identical, drift and release. */
  siteCounts: number[];
  /** BENCH_MODSYNC_BUN_FLAGS. */
  modsyncBunFlags: string[];
}

export function printTable(r: BenchResults, meta: BenchMeta): void {
  const groups: RowGroup[] = [];
  if (r.resync) {
    const { floor: f, modsync: m, ratio } = r.resync;
    groups.push({
      title: `150-module re-syncs over 1,000 sites at 32 connections (${meta.seconds} s per run, best run)`,
      rows: [
        ["req/s", num(f.best.requestsPerSec, 1), num(m.best.requestsPerSec, 1), num(ratio), `>= ${TARGETS.resyncRatio}`, verdict(ratio >= TARGETS.resyncRatio)],
        ["p50 ms", num(f.best.p50Ms), num(m.best.p50Ms), num(m.best.p50Ms / f.best.p50Ms), "", ""],
        ["p99 ms", num(f.best.p99Ms), num(m.best.p99Ms), num(m.best.p99Ms / f.best.p99Ms), "", ""],
        ["warm-up s (1,000 first syncs)", num(f.warmUpSeconds, 1), num(m.warmUpSeconds, 1), num(m.warmUpSeconds / f.warmUpSeconds, 1), "", "info"],
      ],
    });
  }
  if (r.large) {
    const { floor: f, modsync: m, ratio } = r.large;
    groups.push({
      title: `one 100,000-module sync (${meta.largeRounds} round(s), fresh databases and processes each; modsync until its task completed)`,
      rows: [
        ["seconds (fastest round)", num(f.seconds), num(m.seconds), num(ratio), `<= ${TARGETS.largeRatio}`, verdict(ratio <= TARGETS.largeRatio)],
        ...splitRows(f, m),
        ["peak RSS MiB (highest)", num(f.peakMiB, 0), num(m.peakMiB, 0), num(m.peakMiB / f.peakMiB), "", ""],
        peakAtAnswerRow(f, m),
      ],
    });
  }
  if (r.huge) {
    const { floor: f, modsync: m, ratio } = r.huge;
    groups.push({
      title: `one 1,000,000-module sync, ${num(r.huge.bodyMiB, 0)} MiB (${meta.hugeRounds} round(s), each server alone in a fresh process and database)`,
      rows: [
        ["seconds (fastest round)", num(f.seconds), num(m.seconds), num(ratio), `<= ${TARGETS.hugeRatio}`, verdict(ratio <= TARGETS.hugeRatio)],
        ...splitRows(f, m),
        ["peak RSS MiB (highest)", num(f.peakMiB, 0), num(m.peakMiB, 0), num(m.peakMiB / f.peakMiB), `modsync <= ${TARGETS.hugePeakMiB}`, verdict(m.peakMiB <= TARGETS.hugePeakMiB)],
        peakAtAnswerRow(f, m),
      ],
    });
  }
  const changed = meta.uncommitted?.length ? ` + ${meta.uncommitted.length} uncommitted file(s) outside bench/` : "";
  const onlyChanges = !r.resync && !r.large && !r.huge;
  console.log(`\ncommit ${meta.commit ?? "unknown"}${changed}`);
  console.log(`modsync (${meta.dialect}, LOG_LEVEL=${meta.logLevel}, RATE_LIMIT_PER_HOUR=${meta.rateLimitPerHour})${onlyChanges ? "" : " vs floor; ratio = modsync / floor"}`);
  if (groups.length > 0) printGrid(["figure", "floor", "modsync", "ratio", "target", ""], groups);
  if (r.resync?.redis) printRedisTable(r.resync);
  if (r.changes?.length) printChangesTable(r.changes, meta);
}

const KIND_TITLE: Record<ChangeResult["kind"], string> = {
  identical: "identical re-syncs (byte-identical bodies)",
  drift: "drift (each request changes 1 module's version)",
  release: "release (each pass moves every core module to a new release)",
};

/**
 * modsync ÷ floor within each round (the two run back to back), in round
 * order: how far the machine's changes between rounds move the best-run
 * ratio above.
 */
function roundRatios(c: ChangeResult): string {
  return c.modsync.runs.map((m) => {
    const f = c.floor.runs.find((run) => run.round === m.round);
    return f ? num(m.requestsPerSec / f.requestsPerSec) : "-";
  }).join(" ");
}

/** identical, drift, release: each against the floor of modsync's database, then the grown database against the smallest. */
function printChangesTable(results: ChangeResult[], meta: BenchMeta): void {
  const first = results[0]!;
  const floorName = first.database === "postgres" ? "the Postgres floor (floor-server-pg.ts)" : "the SQLite floor (floor-server.ts)";
  console.log(`\nmodsync (${first.database}${first.redis ? " + Redis" : ""}) vs ${floorName}; 150-module re-syncs at ${CHANGES.connections} connections, ${meta.seconds} s per run, best of ${meta.rounds} run(s) each; ratio = modsync / floor`);
  const us = (v: number | null) => (v === null ? "-" : num(v, 0));
  const groups: RowGroup[] = results.map((c) => {
    const f = c.floor.best;
    const m = c.modsync.best;
    const target = c.kind === "identical" ? TARGETS.identicalRatio : TARGETS.changedRatio;
    const rows = [
      ["req/s", num(f.requestsPerSec, 1), num(m.requestsPerSec, 1), num(c.ratio), `>= ${target}`, verdict(c.ratio >= target)],
      ["req/s ratio round by round", "", "", roundRatios(c), "", "info"],
      ["p50 ms", num(f.p50Ms), num(m.p50Ms), num(m.p50Ms / f.p50Ms), "", ""],
      ["p99 ms", num(f.p99Ms), num(m.p99Ms), num(c.p99Ratio), `<= ${TARGETS.changesP99Ratio}`, verdict(c.p99Ratio <= TARGETS.changesP99Ratio)],
      ["cpu/req µs, server process", us(f.cpuUs), us(m.cpuUs), num(m.cpuUs / f.cpuUs), "", "info"],
      ["cpu/req µs, its main thread", us(f.mainThreadUs), us(m.mainThreadUs), num(m.mainThreadUs / f.mainThreadUs), "", "info"],
      ["main thread busy, % of a core", num(f.mainThreadBusy * 100, 0), num(m.mainThreadBusy * 100, 0), "", "", "info"],
      ["cpu/req µs, wrk", us(f.wrkCpuUs), us(m.wrkCpuUs), "", "", "info"],
    ];
    if (f.dbCpuUs !== null || m.dbCpuUs !== null) {
      rows.push(["cpu/req µs, its Postgres backends", us(f.dbCpuUs), us(m.dbCpuUs), f.dbCpuUs && m.dbCpuUs ? num(m.dbCpuUs / f.dbCpuUs) : "", "", "info"]);
    }
    if (m.redisCpuUs !== null) rows.push(["cpu/req µs, redis-server", "-", us(m.redisCpuUs), "", "", "info"]);
    rows.push([`warm-up s (${c.sites.toLocaleString("en-US")} first syncs)`, num(c.floor.warmUpSeconds, 1), num(c.modsync.warmUpSeconds, 1), num(c.modsync.warmUpSeconds / c.floor.warmUpSeconds, 1), "", "info"]);
    return { title: `${KIND_TITLE[c.kind]}, ${c.sites.toLocaleString("en-US")} sites`, rows };
  });
  printGrid(["figure", "floor", "modsync", "ratio", "target", ""], groups);
  const grown = grownRows(results);
  if (grown.length > 0) {
    console.log("\ngrown database: the most sites ÷ the fewest, round by round (each round runs every site count, interleaved), median of the rounds");
    printGrid(["scenario", "floor", "modsync", "target", "", "round by round (modsync)"], [{ title: "req/s, most sites ÷ fewest", rows: grown }]);
    console.log("  (cost: each server's main-thread CPU a request at the fewest sites ÷ at the most, median of the rounds: below 1 when a sync costs more in the larger database)");
    if (meta.rounds < 4 || meta.rounds % 2 === 1) {
      // roundOrder reverses every round: only pairs of rounds put each site count first as often as last.
      console.log(`  note: ${meta.rounds} round(s): the machine's drift within a round cancels only over pairs of rounds; use BENCH_ROUNDS=4 or another even number of at least 4 before reading the verdicts`);
    }
  }
}

/** Per round: `figure` of the run at the most sites ÷ the same round's at the fewest. */
function pairedRatios(small: ChangeSide, large: ChangeSide, figure: (run: ChangeRun) => number): number[] {
  return large.runs.flatMap((l) => {
    const s = small.runs.find((run) => run.round === l.round);
    return s ? [figure(l) / figure(s)] : [];
  });
}

function grownRows(results: ChangeResult[]): string[][] {
  const rows: string[][] = [];
  for (const kind of ["identical", "drift", "release"] as const) {
    const runs = results.filter((c) => c.kind === kind).sort((a, b) => a.sites - b.sites);
    if (runs.length < 2) continue;
    const small = runs[0]!;
    const large = runs[runs.length - 1]!;
    const rate = (run: ChangeRun) => run.requestsPerSec;
    const f = pairedRatios(small.floor, large.floor, rate);
    const m = pairedRatios(small.modsync, large.modsync, rate);
    // Inverted so that, like req/s, 1 is no growth and lower is worse.
    const cost = (side: "floor" | "modsync") => pairedRatios(small[side], large[side], (run) => 1 / run.mainThreadUs);
    const title = `${kind}: ${large.sites.toLocaleString("en-US")} ÷ ${small.sites.toLocaleString("en-US")} sites`;
    rows.push([title, num(median(f)), num(median(m)), `modsync >= ${TARGETS.grownRatio}`, verdict(median(m) >= TARGETS.grownRatio), m.map((x) => num(x)).join(" ")]);
    const modsyncCost = cost("modsync");
    rows.push([`  ${kind}: cost, main thread`, num(median(cost("floor"))), num(median(modsyncCost)), "", "info", modsyncCost.map((x) => num(x)).join(" ")]);
  }
  return rows;
}

/**
 * The fastest round's split: until the 202 (upload and staging), then until
 * the task was seen completed. The floor answers only once it has applied the
 * sync, so it has no split ("-").
 */
function splitRows(f: OneSyncSide, m: OneSyncSide): string[][] {
  const part = (side: OneSyncSide, processing: boolean) => {
    if (side.uploadSeconds === null) return "-";
    return num(processing ? side.seconds - side.uploadSeconds : side.uploadSeconds);
  };
  return [
    ["  upload s (until the 202)", part(f, false), part(m, false), "", "", "info"],
    ["  then until completed s", part(f, true), part(m, true), "", "", "info"],
  ];
}

/**
 * VmHWM when the answer arrived (highest round): for modsync's 202, what
 * receiving and staging the upload cost, before the workers applied it.
 */
function peakAtAnswerRow(f: OneSyncSide, m: OneSyncSide): string[] {
  const peak = (side: OneSyncSide) => num(Math.max(...side.runs.map((run) => run.peakAtAnswerMiB)), 0);
  return ["  of which by the answer", peak(f), peak(m), "", "", "info"];
}

function printRedisTable(r: ResyncResult): void {
  const { floor: f, modsync: m } = r;
  const x = r.redis!;
  const ratioOf = (a: number, b: number) => num(a / b);
  console.log(`\nmodsync+redis (REDIS_URL=${x.redisUrl}) in the same rounds; every modsync run in its own warmed process`);
  printGrid(["figure", "floor", "modsync", "modsync+redis", "÷ floor", "target", "", "÷ modsync", "target", ""], [{
    title: "150-module re-syncs, best run of each",
    rows: [
      ["req/s", num(f.best.requestsPerSec, 1), num(m.best.requestsPerSec, 1), num(x.best.requestsPerSec, 1),
        num(x.ratioToFloor), `>= ${TARGETS.redisResyncRatio}`, verdict(x.ratioToFloor >= TARGETS.redisResyncRatio),
        num(x.ratioToModsync), `>= ${TARGETS.redisVsModsyncRatio}`, verdict(x.ratioToModsync >= TARGETS.redisVsModsyncRatio)],
      ["p50 ms", num(f.best.p50Ms), num(m.best.p50Ms), num(x.best.p50Ms), ratioOf(x.best.p50Ms, f.best.p50Ms), "", "", ratioOf(x.best.p50Ms, m.best.p50Ms), "", ""],
      ["p99 ms", num(f.best.p99Ms), num(m.best.p99Ms), num(x.best.p99Ms), ratioOf(x.best.p99Ms, f.best.p99Ms), "", "", ratioOf(x.best.p99Ms, m.best.p99Ms), "", ""],
      ["warm pass s (1,000 re-syncs, mean)", "", num(mean(m.warmPassSeconds), 1), num(mean(x.warmPassSeconds), 1), "", "", "", "", "", "info"],
    ],
  }]);
}

export function writeJson(r: BenchResults, meta: BenchMeta, benchDir: string): string {
  const dir = join(benchDir, "results");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, "latest.json");
  const out = {
    date: new Date().toISOString(),
    commit: meta.commit,
    uncommitted: meta.uncommitted,
    bun: Bun.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? null,
    database: meta.dialect,
    logLevel: meta.logLevel,
    rateLimitPerHour: meta.rateLimitPerHour,
    redisUrl: meta.redisUrl,
    wrkSeconds: meta.seconds,
    rounds: meta.rounds,
    warmRunSeconds: meta.warmSeconds,
    rewarmSeconds: meta.rewarmSeconds,
    largeRounds: meta.largeRounds,
    hugeRounds: meta.hugeRounds,
    sites: meta.siteCounts,
    modsyncBunFlags: meta.modsyncBunFlags,
    targets: TARGETS,
    ...r,
  };
  writeFileSync(file, JSON.stringify(out, null, 2) + "\n");
  return file;
}
