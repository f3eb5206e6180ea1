// The bench's resources: fresh databases, fixtures and server processes,
// each set labelled per scenario (and round), and all of it undone by
// close() — also after an error or Ctrl-C.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { PURGE_DELAY_VARIABLE, SERVER_PURGE_DELAY } from "../../src/allocator";
import { CONFIG_VARIABLES, type LogLevel } from "../../src/config";
import { createFixtures, freshDatabase, type Fixtures, type ModsyncDatabase } from "./modsync";
import { freePort, startServer, stopServer, type Server } from "./servers";

/**
 * modsync allows RATE_LIMIT_PER_HOUR syncs per site per hour (default 4) and
 * answers 429 beyond; the bench re-posts each site hundreds of times, so it
 * raises the limit to the most the config accepts.
 */
export const BENCH_RATE_LIMIT_PER_HOUR = 100_000_000;

export interface LabOptions {
  /** postgres://… for modsync; undefined: a SQLite file. */
  pgUrl: string | undefined;
  /** modsync's LOG_LEVEL (its stdout is discarded either way). */
  logLevel: LogLevel;
  /** bun options for every modsync process (BENCH_MODSYNC_BUN_FLAGS), e.g. a profiler's. */
  modsyncBunFlags?: readonly string[];
}

export interface Prepared {
  db: ModsyncDatabase;
  fixtures: Fixtures;
  setupSeconds: number;
}

export interface Servers {
  floor: Server;
  modsync: Server;
  fixtures: Fixtures;
  /** Stops both processes; their databases stay until the lab closes. */
  stop(): Promise<void>;
}

export class Lab {
  readonly tmpDir = mkdtempSync(join(tmpdir(), "modsync-bench-"));
  readonly benchDir: string;
  readonly repoDir: string;
  dialect: "sqlite" | "postgres" = "sqlite";
  private readonly running = new Set<Server>();
  private readonly databases: ModsyncDatabase[] = [];
  // Every server gets a port of its own (freePort at its start): the changed
  // re-sync scenarios keep one floor and one modsync per site count up at once.

  constructor(benchDir: string, private readonly options: LabOptions) {
    this.benchDir = benchDir;
    this.repoDir = dirname(benchDir);
  }

  /** A fresh database for modsync with `siteCount` sites registered; no process started. */
  async prepare(label: string, siteCount: number): Promise<Prepared> {
    const started = performance.now();
    const db = await freshDatabase(this.tmpDir, this.options.pgUrl, label);
    this.databases.push(db);
    this.dialect = db.dialect;
    const fixtures = await createFixtures(db.url, siteCount);
    return { db, fixtures, setupSeconds: (performance.now() - started) / 1000 };
  }

  /** The floor on its own file-backed database (WAL, like modsync's), so neither enjoys :memory:. */
  async startFloor(label: string): Promise<Server> {
    return this.track(await startServer({
      name: "floor", script: join(this.benchDir, "floor-server.ts"), port: freePort(), cwd: this.repoDir,
      env: { FLOOR_DB: this.floorDbPath(label) },
    }));
  }

  /**
   * The Postgres floor (floor-server-pg.ts) on a fresh database of its own,
   * `modsync_bench_floor_<label>`, on BENCH_DATABASE_URL's server; dropped when
   * the lab closes. It creates its tables at start-up.
   */
  async startFloorPg(label: string): Promise<{ server: Server; db: ModsyncDatabase }> {
    if (!this.options.pgUrl) throw new Error("the Postgres floor needs BENCH_DATABASE_URL");
    const db = await freshDatabase(this.tmpDir, this.options.pgUrl, `floor_${label}`);
    this.databases.push(db);
    const server = this.track(await startServer({
      name: "floor-pg", script: join(this.benchDir, "floor-server-pg.ts"), port: freePort(), cwd: this.repoDir,
      // It loads postgres-js from PROJECT_DIR/node_modules.
      env: { FLOOR_PG: db.url, PROJECT_DIR: this.repoDir },
    }));
    return { server, db };
  }

  /** The SQLite floor's database file for `label` (startFloor's FLOOR_DB). */
  floorDbPath(label: string): string {
    return join(this.tmpDir, `floor-${label}.db`);
  }

  /** modsync on `db`; with `redisUrl`, its rate limiter and lookup caches use that Redis. */
  async startModsync(db: ModsyncDatabase, redisUrl: string | null = null): Promise<Server> {
    return this.track(await startServer({
      name: redisUrl ? "modsync+redis" : "modsync", script: join(this.repoDir, "src/index.ts"), port: freePort(), cwd: this.repoDir,
      bunFlags: this.options.modsyncBunFlags,
      // /ready, not /health: it answers 200 only once the database and, when
      // configured, Redis answer, so no measured request falls back to in-process state.
      readyPath: "/ready",
      // Every setting the bench does not set below stays at modsync's default
      // (SYNC_BACKGROUND_THRESHOLD, SYNC_WORKERS, caches…), whatever the caller's
      // shell holds: the targets are about the server as it ships.
      unset: Object.keys(CONFIG_VARIABLES),
      env: {
        HOST: "127.0.0.1",
        DATABASE_URL: db.url,
        LOG_LEVEL: this.options.logLevel,
        RATE_LIMIT_PER_HOUR: String(BENCH_RATE_LIMIT_PER_HOUR),
        // Always set: a REDIS_URL in the caller's shell must not switch Redis on for the run without it.
        REDIS_URL: redisUrl ?? "",
        // Under a profiler, the allocator's setting is given rather than taken by
        // running itself again (src/allocator.ts): the profiler's sampling signal
        // (SIGPWR) can reach the process across that execve, before the new image
        // handles it, and kill it at start-up. The same setting either way.
        ...(this.modsyncFlagged ? { [PURGE_DELAY_VARIABLE]: SERVER_PURGE_DELAY } : {}),
      },
    }));
  }

  /** Whether modsync processes run with extra bun flags (BENCH_MODSYNC_BUN_FLAGS), e.g. a profiler. */
  get modsyncFlagged(): boolean {
    return (this.options.modsyncBunFlags?.length ?? 0) > 0;
  }

  async stop(server: Server): Promise<void> {
    await stopServer(server);
    this.running.delete(server);
  }

  /** Fresh databases for both servers, `siteCount` sites registered in modsync, both servers started. */
  async start(label: string, siteCount: number): Promise<Servers & { setupSeconds: number }> {
    const { db, fixtures, setupSeconds } = await this.prepare(label, siteCount);
    const floor = await this.startFloor(label);
    const modsync = await this.startModsync(db);
    const stop = async () => {
      for (const s of [floor, modsync]) await this.stop(s);
    };
    return { floor, modsync, fixtures, stop, setupSeconds };
  }

  /** Drops `db` now rather than when the lab closes (a scenario done with it frees the disk and the connection). */
  async dropDatabase(db: ModsyncDatabase): Promise<void> {
    const at = this.databases.indexOf(db);
    // Not tracked: already dropped (close() after Ctrl-C takes them all).
    if (at < 0) return;
    this.databases.splice(at, 1);
    await db.drop();
  }

  async close(): Promise<void> {
    await Promise.all([...this.running].map(stopServer));
    this.running.clear();
    for (const db of this.databases.splice(0)) {
      await db.drop().catch((err: unknown) => console.error(`could not drop a bench database: ${String(err)}`));
    }
    rmSync(this.tmpDir, { recursive: true, force: true });
  }

  private track(server: Server): Server {
    this.running.add(server);
    return server;
  }
}
