// The printed tables and bench/results/latest.json.
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import type { HugeResult } from "../scenarios/huge";
import type { LargeResult } from "../scenarios/large";
import type { OneSyncSide } from "../scenarios/one-sync";
import type { ResyncResult } from "../scenarios/resync-work";
import { num, printGrid, verdict, type RowGroup } from "./table";

export const TARGETS = {
  /** modsync req/s ÷ floor req/s, at least. */
  resyncRatio: 0.7,
  /** BENCH_REDIS: modsync+redis req/s ÷ floor req/s, at least. */
  redisResyncRatio: 0.7,
  /** BENCH_REDIS: modsync+redis req/s ÷ modsync (no Redis) req/s, at least. */
  redisVsModsyncRatio: 0.9,
  /** modsync seconds ÷ floor seconds, at most. */
  largeRatio: 1.5,
  /** huge: modsync seconds ÷ floor seconds, at most. */
  hugeRatio: 1.5,
  /** huge: modsync's peak RSS (VmHWM), MiB, at most. */
  hugePeakMiB: 300,
} as const;

export interface BenchResults {
  resync?: ResyncResult;
  large?: LargeResult;
  huge?: HugeResult;
}

export interface BenchMeta {
  seconds: number;
  rounds: number;
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
}

const mean = (xs: number[] | undefined) => (xs && xs.length > 0 ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

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
  console.log(`\ncommit ${meta.commit ?? "unknown"}${changed}`);
  console.log(`modsync (${meta.dialect}, LOG_LEVEL=${meta.logLevel}, RATE_LIMIT_PER_HOUR=${meta.rateLimitPerHour}) vs floor; ratio = modsync / floor`);
  printGrid(["figure", "floor", "modsync", "ratio", "target", ""], groups);
  if (r.resync?.redis) printRedisTable(r.resync);
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
    largeRounds: meta.largeRounds,
    hugeRounds: meta.hugeRounds,
    targets: TARGETS,
    ...r,
  };
  writeFileSync(file, JSON.stringify(out, null, 2) + "\n");
  return file;
}
