// The printed table and bench/results/latest.json.
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import type { LargeResult } from "../scenarios/large";
import type { ResyncResult } from "../scenarios/resync";

export const TARGETS = {
  /** modsync req/s ÷ floor req/s, at least. */
  resyncRatio: 0.7,
  /** modsync seconds ÷ floor seconds, at most. */
  largeRatio: 1.5,
} as const;

export interface BenchResults {
  resync?: ResyncResult;
  large?: LargeResult;
}

const num = (v: number, digits = 2) => v.toFixed(digits);

export interface BenchMeta {
  seconds: number;
  rounds: number;
  largeRounds: number;
  dialect: string;
  commit: string | null;
}

export function printTable(r: BenchResults, meta: BenchMeta): void {
  const header = ["figure", "floor", "modsync", "ratio", "target", ""];
  const sections: { title: string; rows: string[][] }[] = [];
  if (r.resync) {
    const { floor: f, modsync: m, ratio } = r.resync;
    sections.push({
      title: `150-module re-syncs over 1,000 sites at 32 connections (${meta.seconds} s per run, best run)`,
      rows: [
        ["req/s", num(f.best.requestsPerSec, 1), num(m.best.requestsPerSec, 1), num(ratio), `>= ${TARGETS.resyncRatio}`, ratio >= TARGETS.resyncRatio ? "PASS" : "MISS"],
        ["p50 ms", num(f.best.p50Ms), num(m.best.p50Ms), num(m.best.p50Ms / f.best.p50Ms), "", ""],
        ["p99 ms", num(f.best.p99Ms), num(m.best.p99Ms), num(m.best.p99Ms / f.best.p99Ms), "", ""],
        ["warm-up s (1,000 first syncs)", num(f.warmUpSeconds, 1), num(m.warmUpSeconds, 1), num(m.warmUpSeconds / f.warmUpSeconds, 1), "", "info"],
      ],
    });
  }
  if (r.large) {
    const { floor: f, modsync: m, ratio } = r.large;
    sections.push({
      title: `one 100,000-module sync (${meta.largeRounds} round(s), fresh databases and processes each)`,
      rows: [
        ["seconds (fastest round)", num(f.seconds), num(m.seconds), num(ratio), `<= ${TARGETS.largeRatio}`, ratio <= TARGETS.largeRatio ? "PASS" : "MISS"],
        ["peak RSS MiB (highest)", num(f.peakMiB, 0), num(m.peakMiB, 0), num(m.peakMiB / f.peakMiB), "", ""],
      ],
    });
  }
  const all = [header, ...sections.flatMap((s) => s.rows)];
  const widths = header.map((_, c) => Math.max(...all.map((row) => row[c]!.length)));
  const line = (row: string[]) => "  " + row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join("  ");
  console.log(`\nmodsync (${meta.dialect}) vs floor; ratio = modsync / floor`);
  console.log(line(header));
  for (const section of sections) {
    console.log(section.title);
    for (const row of section.rows) console.log(line(row));
  }
}

export function writeJson(r: BenchResults, meta: BenchMeta, benchDir: string): string {
  const dir = join(benchDir, "results");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, "latest.json");
  const out = {
    date: new Date().toISOString(),
    commit: meta.commit,
    bun: Bun.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? null,
    database: meta.dialect,
    wrkSeconds: meta.seconds,
    rounds: meta.rounds,
    largeRounds: meta.largeRounds,
    targets: TARGETS,
    ...r,
  };
  writeFileSync(file, JSON.stringify(out, null, 2) + "\n");
  return file;
}
