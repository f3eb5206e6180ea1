// The bench's environment variables, read and checked once (README's table).
import type { LogLevel } from "../../src/config";

export interface BenchOptions {
  scenarios: Set<string>;
  seconds: number;
  rounds: number;
  /** identical, drift, release: seconds of each server's unmeasured run before round 1 (0: none). */
  warmSeconds: number;
  /** identical, drift, release: seconds of each server's unmeasured run right before each measured one (0: none). */
  rewarmSeconds: number;
  largeRounds: number;
  hugeRounds: number;
  /** identical, drift, release: how many sites each run registers, warms and posts to (one pass of the scenarios per count). */
  siteCounts: number[];
  /** Extra bun flags for every modsync process the bench starts (e.g. --cpu-prof-md). */
  modsyncBunFlags: string[];
  /** postgres://… for modsync, or undefined for a SQLite file. */
  pgUrl: string | undefined;
  /** Redis for the re-sync scenario's third server, or null: no Redis mode. */
  redisUrl: string | null;
  logLevel: LogLevel;
}

/** The re-sync scenarios of changes.ts (all opt-in), in the order they run. */
export const CHANGE_SCENARIOS = ["identical", "drift", "release"] as const;

const DEFAULT_REDIS_URL = "redis://127.0.0.1:6379";
const LOG_LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error"];

function positiveInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  if (!/^[1-9]\d*$/.test(raw)) throw new Error(`${name} must be a positive whole number, got "${raw}"`);
  return Number(raw);
}

function wholeNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  if (!/^(0|[1-9]\d*)$/.test(raw)) throw new Error(`${name} must be a whole number (0 or more), got "${raw}"`);
  return Number(raw);
}

function scenarios(): Set<string> {
  const known = ["resync", "large", "huge", ...CHANGE_SCENARIOS];
  // huge is opt-in: it adds minutes and writes ~210 MB of body plus databases of a million modules.
  const byDefault = ["resync", "large"];
  const chosen = (process.env.BENCH_SCENARIOS ?? byDefault.join(",")).split(",").map((s) => s.trim()).filter(Boolean);
  if (chosen.length === 0 || chosen.some((s) => !known.includes(s))) {
    throw new Error(`BENCH_SCENARIOS must list some of ${known.join(",")}, got "${process.env.BENCH_SCENARIOS}"`);
  }
  return new Set(chosen);
}

/** BENCH_REDIS=1 or a BENCH_REDIS_URL turns Redis mode on; BENCH_REDIS=0 keeps it off. */
function redisUrl(): string | null {
  const flag = process.env.BENCH_REDIS ?? "";
  const url = process.env.BENCH_REDIS_URL?.trim() ?? "";
  if (!["", "0", "1"].includes(flag)) throw new Error(`BENCH_REDIS must be 1 or 0, got "${flag}"`);
  if (flag === "0" || (flag === "" && url === "")) return null;
  const chosen = url || DEFAULT_REDIS_URL;
  if (!/^rediss?:\/\/./.test(chosen)) throw new Error(`BENCH_REDIS_URL must start with redis:// or rediss://, got "${chosen}"`);
  return chosen;
}

/** BENCH_SITES: "1000" or a list such as "1000,10000" (the changed re-sync scenarios run at each, their runs interleaved in each round). */
function siteCounts(): number[] {
  const raw = process.env.BENCH_SITES?.trim() || "1000";
  const counts = raw.split(",").map((s) => s.trim());
  if (counts.some((c) => !/^[1-9]\d*$/.test(c) || Number(c) < 2 || Number(c) > 100_000)) {
    throw new Error(`BENCH_SITES must list site counts between 2 and 100000, comma-separated, got "${raw}"`);
  }
  return [...new Set(counts.map(Number))];
}

/** BENCH_MODSYNC_BUN_FLAGS: bun options, split on spaces, put before modsync's script. */
function bunFlags(): string[] {
  const flags = (process.env.BENCH_MODSYNC_BUN_FLAGS ?? "").split(/\s+/).filter(Boolean);
  const bad = flags.find((f) => !f.startsWith("-"));
  if (bad !== undefined) throw new Error(`BENCH_MODSYNC_BUN_FLAGS must hold bun options only (each starting with -), got "${bad}"`);
  return flags;
}

function logLevel(): LogLevel {
  const raw = process.env.BENCH_LOG_LEVEL || "warn";
  const level = LOG_LEVELS.find((l) => l === raw);
  if (!level) throw new Error(`BENCH_LOG_LEVEL must be one of ${LOG_LEVELS.join(", ")}, got "${raw}"`);
  return level;
}

export function readOptions(): BenchOptions {
  return {
    scenarios: scenarios(),
    seconds: positiveInt("BENCH_DURATION", 10),
    rounds: positiveInt("BENCH_ROUNDS", 3),
    warmSeconds: wholeNumber("BENCH_WARM_RUN", 5),
    rewarmSeconds: wholeNumber("BENCH_REWARM", 3),
    largeRounds: positiveInt("BENCH_LARGE_ROUNDS", 3),
    hugeRounds: positiveInt("BENCH_HUGE_ROUNDS", 1),
    siteCounts: siteCounts(),
    modsyncBunFlags: bunFlags(),
    pgUrl: process.env.BENCH_DATABASE_URL || undefined,
    redisUrl: redisUrl(),
    logLevel: logLevel(),
  };
}
