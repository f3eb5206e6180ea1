// Shared by the hostile-request tests (issue 10): a real server process per
// dialect, a watch on it while one hostile request is processed (its peak
// RSS, and how fast GET /health answers meanwhile), and bodies streamed from
// generators, so a test never holds hundreds of MB itself.
import { expect } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import { createGzip } from "node:zlib";
import { createClient } from "redis";
import { redisKeyPrefix } from "../../src/app";
import type { Store } from "../../src/store/types";
import { redisAvailable, TEST_REDIS_URL } from "../support/env";
import { cleanupProcesses, startServer, waitHealthy, type Server } from "../support/server-process";
import { createTestDatabase, type Dialect, type TestDatabase } from "../support/stores";
import type { SeededSite } from "../support/harness";
import { seedWorld, type SeededWorld } from "../tasks/support";

/** The bounds: a server fed a hostile request peaks under this... */
export const PEAK_RSS_LIMIT_MIB = 300;
/** ...and answers GET /health within this, while and after the request is processed. */
export const HEALTH_LIMIT_MS = 1000;
/**
 * A server past this is killed at once, so a regression fails its test in
 * seconds instead of taking the shared machine's memory (the unfixed code
 * reached 6.8 GB on one 60 KB body).
 */
const KILL_AT_MIB = 1024;
/** How long one GET /health may take before it is given up (and counted as that slow). */
const HEALTH_GIVE_UP_MS = 60_000;

const encoder = new TextEncoder();

// ---------------------------------------------------------------------------
// Memory of a process, from /proc/<pid>/status.

export function statusMiB(pid: number, field: "VmHWM" | "VmRSS"): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!match) throw new Error(`${field} missing from /proc/${pid}/status`);
  return Math.round(Number(match[1]) / 1024);
}

/**
 * Resets the process's VmHWM to its current RSS (Linux: "5" to clear_refs),
 * so the peak read later is this request's, not start-up's or an earlier
 * test's. False where that is not allowed: the peak is then the process's.
 */
function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, "5");
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------
// A server process of the test's own, with a seeded world in its database.

export interface HostileServer {
  dialect: Dialect;
  db: TestDatabase;
  /** The test's own connection to the server's database. */
  store: Store;
  /** The server process (a new one after restartIfGone()). */
  readonly server: Server;
  world: SeededWorld;
  /** Starts the server again if it has exited (killed past KILL_AT_MIB): one test's failure is not the next one's. */
  restartIfGone(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A server on a fresh database of `dialect` (Postgres goes with the shared
 * Redis, as a deployment of several instances would), `sites` sites seeded.
 */
export async function hostileServer(dialect: Dialect, env: Record<string, string> = {}, sites = 4): Promise<HostileServer> {
  const db = createTestDatabase(dialect);
  const store = await db.open();
  const world = await seedWorld(store, sites);
  const withRedis = dialect === "postgres" && redisAvailable();
  const start = async () => {
    const started = await startServer({ DATABASE_URL: db.url, ...(withRedis && { REDIS_URL: TEST_REDIS_URL }), ...env });
    await waitHealthy(started);
    return started;
  };
  let server = await start();
  return {
    dialect, db, store, world,
    get server() {
      return server;
    },
    async restartIfGone() {
      if (!server.proc.killed && server.proc.exitCode === null && server.proc.signalCode === null) return;
      await server.proc.exited;
      server = await start();
    },
    async close() {
      server.proc.kill("SIGKILL");
      await server.proc.exited;
      // Also removes the temporary folders startServer made (one per start, even with DATABASE_URL given).
      await cleanupProcesses();
      if (withRedis) await dropRedisKeys(await redisKeyPrefix(store));
      await db.destroy();
    },
  };
}

/** Leaves nothing of a test database in the shared Redis. */
async function dropRedisKeys(prefix: string): Promise<void> {
  const redis = createClient({ url: TEST_REDIS_URL });
  redis.on("error", () => {});
  await redis.connect();
  try {
    const keys: string[] = [];
    for await (const batch of redis.scanIterator({ MATCH: `${prefix}*`, COUNT: 1000 })) keys.push(...batch);
    if (keys.length > 0) await redis.del(keys);
  } finally {
    await redis.close();
  }
}

// ---------------------------------------------------------------------------
// Watching a server while it processes one hostile request.

export interface Watched<T> {
  value: T;
  /** Peak RSS while `work` ran (VmHWM), MiB. */
  peakMiB: number;
  /** GET /health requests sent while `work` ran, and one after. */
  healthChecks: number;
  /** The slowest of them, ms. */
  worstHealthMs: number;
}

/** Figures of every watch, for HOSTILE_REPORT=1 (printed as they come). */
const report = process.env.HOSTILE_REPORT === "1";

/**
 * Runs `work` (one hostile request, to its answer) against `h.server` while
 * GET /health is asked again and again, one at a time, and the server's RSS
 * is polled (killed past KILL_AT_MIB). Then asserts the bounds:
 * peak RSS under PEAK_RSS_LIMIT_MIB, every /health answered 200 under
 * HEALTH_LIMIT_MS, and the process still alive.
 */
export async function cheaply<T>(h: HostileServer, label: string, work: () => Promise<T>): Promise<Watched<T>> {
  await h.restartIfGone();
  const server = h.server;
  const pid = server.proc.pid;
  const ownPeak = resetPeak(pid);
  let killedAt: number | null = null;
  const guard = setInterval(() => {
    try {
      const rss = statusMiB(pid, "VmRSS");
      if (rss > KILL_AT_MIB && killedAt === null) {
        killedAt = rss;
        server.proc.kill("SIGKILL");
      }
    } catch {
      // the process has exited
    }
  }, 20);

  let working = true;
  const health: (number | string)[] = [];
  const checking = (async () => {
    while (working) health.push(await healthLatency(server));
  })();
  let value: T;
  try {
    value = await work().catch(async (err: unknown) => {
      if (killedAt === null) throw err;
      await server.proc.exited;
      throw new Error(`${label}: server killed at ${killedAt} MiB RSS (over ${KILL_AT_MIB} MiB) while processing the request (${err})`);
    });
  } finally {
    working = false;
    await checking;
    clearInterval(guard);
  }
  health.push(await healthLatency(server));
  const peakMiB = killedAt ?? peakOf(pid);
  const failures = health.filter((h) => typeof h === "string");
  const times = health.filter((h): h is number => typeof h === "number");
  const worstHealthMs = Math.round(Math.max(...times, 0));
  if (report) console.log(`[hostile] ${label}: peak RSS ${peakMiB} MiB${ownPeak ? "" : " (process peak)"}, /health worst ${worstHealthMs} ms of ${health.length}`);
  expect({ label, alive: server.proc.exitCode === null && server.proc.signalCode === null && killedAt === null, healthFailures: failures }).toEqual({ label, alive: true, healthFailures: [] });
  expect({ label, peakMiB, underLimit: peakMiB < PEAK_RSS_LIMIT_MIB }).toEqual({ label, peakMiB, underLimit: true });
  expect({ label, worstHealthMs, underLimit: worstHealthMs < HEALTH_LIMIT_MS }).toEqual({ label, worstHealthMs, underLimit: true });
  return { value, peakMiB, healthChecks: health.length, worstHealthMs };
}

/** VmHWM, or NaN if the process has gone. */
function peakOf(pid: number): number {
  try {
    return statusMiB(pid, "VmHWM");
  } catch {
    return Number.NaN;
  }
}

/** One GET /health: its latency in ms, or what went wrong. */
async function healthLatency(server: Server): Promise<number | string> {
  const started = performance.now();
  try {
    const res = await fetch(`${server.base}/health`, { signal: AbortSignal.timeout(HEALTH_GIVE_UP_MS) });
    await res.arrayBuffer();
    if (res.status !== 200) return `GET /health answered ${res.status}`;
    return performance.now() - started;
  } catch (err) {
    if (err instanceof Error && err.name === "TimeoutError") return HEALTH_GIVE_UP_MS;
    return `GET /health failed: ${err}`;
  }
}

// ---------------------------------------------------------------------------
// Requests and bodies.

export interface Answer {
  status: number;
  headers: Headers;
  /** The body as parsed JSON (every answer of modsync is JSON). */
  json: any;
  /** The body's size in bytes. */
  bytes: number;
}

export type Body = Uint8Array | string | AsyncIterable<Uint8Array>;

/** POST `path` with the bearer `token`; an AsyncIterable body goes out chunked, without Content-Length. */
export async function post(server: Server, path: string, token: string, body: Body, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(`${server.base}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json", ...headers },
    body: body as RequestInit["body"],
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`POST ${path} answered ${res.status} with a body that is not JSON: ${text.slice(0, 200)}`);
  }
  return { status: res.status, headers: res.headers, json, bytes: encoder.encode(text).byteLength };
}

/** Part of a generated body: text as is, or `bytes` bytes of `fill` repeated. */
export type Part = string | Uint8Array | { fill: string; bytes: number };

const CHUNK = 1024 * 1024;

/** How long a held body (generated's `hold`) waits for its answer before it goes on sending. */
const HOLD_WAIT_MS = 15_000;

/**
 * A body generated as it is sent, one chunk of at most 1 MiB at a time;
 * `sent()` says how many bytes the server has pulled so far.
 *
 * `hold`: once `at` bytes are sent, wait for `until` (the answer), then send
 * nothing more; the rest follows only if no answer came within HOLD_WAIT_MS.
 * How far a client gets before an early answer reaches it otherwise depends
 * on how the machine schedules the two processes (on a loaded machine a
 * client pushed 40 MiB through loopback before a 413 sent after 1 MiB
 * arrived): held, the figure says only what the server read before it answered.
 */
export function generated(parts: Part[], hold?: { at: number; until: Promise<unknown> }): { body: AsyncIterable<Uint8Array>; sent: () => number } {
  let sent = 0;
  async function* body(): AsyncGenerator<Uint8Array> {
    let held = false;
    for (const chunk of chunks(parts)) {
      if (hold && !held && sent >= hold.at) {
        held = true;
        let timer: ReturnType<typeof setTimeout> | undefined;
        const answered = await Promise.race([
          hold.until.then(() => true, () => true),
          new Promise<false>((resolve) => (timer = setTimeout(resolve, HOLD_WAIT_MS, false))),
        ]);
        clearTimeout(timer);
        if (answered) return;
      }
      sent += chunk.byteLength;
      yield chunk;
    }
  }
  return { body: body(), sent: () => sent };
}

function* chunks(parts: Part[]): Generator<Uint8Array> {
  for (const part of parts) {
    if (typeof part === "string") yield* slices(encoder.encode(part));
    else if (part instanceof Uint8Array) yield* slices(part);
    else {
      const unit = encoder.encode(part.fill);
      const block = new Uint8Array(Math.floor(CHUNK / unit.byteLength) * unit.byteLength);
      for (let at = 0; at < block.byteLength; at += unit.byteLength) block.set(unit, at);
      if (part.bytes % unit.byteLength !== 0) throw new Error("fill: bytes must be a multiple of the unit's size");
      let left = part.bytes;
      for (; left >= block.byteLength; left -= block.byteLength) yield block;
      if (left > 0) yield block.subarray(0, left);
    }
  }
}

function* slices(bytes: Uint8Array): Generator<Uint8Array> {
  for (let at = 0; at < bytes.byteLength; at += CHUNK) yield bytes.subarray(at, at + CHUNK);
}

/** The parts gzip-compressed at `level`, as they are generated (only the compressed bytes are held). */
export async function gzipped(parts: Part[], level = 6): Promise<Uint8Array> {
  return new Uint8Array(await buffer(Readable.from(chunks(parts)).pipe(createGzip({ level }))));
}

/** Total size of the parts, in bytes. */
export function sizeOf(parts: Part[]): number {
  return parts.reduce((n, p) => n + (typeof p === "string" ? encoder.encode(p).byteLength : p instanceof Uint8Array ? p.byteLength : p.bytes), 0);
}

// ---------------------------------------------------------------------------
// Sync payloads, written as text so a test can put anything anywhere.

export const DRUPAL_INFO = { core_version: "10.3.8", php_version: "8.3.2", ip_address: "192.0.2.10" };

/** The site block of a sync body for `site` (its own token unless `token` says otherwise), as JSON text. */
export const siteBlock = (site: SeededSite, token = site.token) => JSON.stringify({ url: site.url, name: site.name, token });

/** The start of a sync body up to the opening of `modules`: `{"site":…,"drupal_info":…,"full_sync":…,"modules":[`. */
export function modulesOpening(site: SeededSite, options: { token?: string; fullSync?: boolean } = {}): string {
  return `{"site":${siteBlock(site, options.token)},"drupal_info":${JSON.stringify(DRUPAL_INFO)},"full_sync":${options.fullSync === true},"modules":[`;
}

/** A valid module entry named `name`. */
export const moduleEntry = (name: string, overrides: Record<string, unknown> = {}) =>
  ({ machine_name: name, display_name: name.replace(/_/g, " "), module_type: "contrib", enabled: true, version: "1.0.0", ...overrides });

/** `count` valid module entries, mod_1…mod_<count>, as the text inside a JSON array. */
export const moduleList = (count: number, prefix = "mod") =>
  Array.from({ length: count }, (_, i) => JSON.stringify(moduleEntry(`${prefix}_${i + 1}`))).join(",");

/** `count` empty objects `{}` (each an invalid module entry), comma-separated: 3 bytes an entry. */
export const emptyEntries = (count: number): Part[] => (count === 0 ? [] : [{ fill: "{},", bytes: 3 * (count - 1) }, "{}"]);
