// The bench's resources: fresh databases, fixtures and server processes,
// each set labelled per scenario (and round), and all of it undone by
// close() — also after an error or Ctrl-C.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createFixtures, freshDatabase, type Fixtures, type ModsyncDatabase } from "./modsync";
import { freePort, startServer, stopServer, type Server } from "./servers";

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
  // Ports are picked once and reused: every set of servers is stopped before the next starts.
  private readonly ports = { floor: freePort(), modsync: freePort() };

  constructor(benchDir: string, private readonly pgUrl: string | undefined) {
    this.benchDir = benchDir;
    this.repoDir = dirname(benchDir);
  }

  /** Fresh databases for both servers, `siteCount` sites registered in modsync, both servers started. */
  async start(label: string, siteCount: number): Promise<Servers & { setupSeconds: number }> {
    const started = performance.now();
    const db = await freshDatabase(this.tmpDir, this.pgUrl, label);
    this.databases.push(db);
    this.dialect = db.dialect;
    const fixtures = await createFixtures(db.url, siteCount);
    const setupSeconds = (performance.now() - started) / 1000;

    // The floor gets a file-backed database too (WAL, like modsync's), so neither enjoys :memory:.
    const floor = await startServer({
      name: "floor", script: join(this.benchDir, "floor-server.ts"), port: this.ports.floor, cwd: this.repoDir,
      env: { FLOOR_DB: join(this.tmpDir, `floor-${label}.db`) },
    });
    this.running.add(floor);
    const modsync = await startServer({
      name: "modsync", script: join(this.repoDir, "src/index.ts"), port: this.ports.modsync, readyPath: "/health", cwd: this.repoDir,
      env: { HOST: "127.0.0.1", DATABASE_URL: db.url, LOG_LEVEL: "warn" },
    });
    this.running.add(modsync);
    const stop = async () => {
      for (const s of [floor, modsync]) {
        await stopServer(s);
        this.running.delete(s);
      }
    };
    return { floor, modsync, fixtures, stop, setupSeconds };
  }

  async close(): Promise<void> {
    await Promise.all([...this.running].map(stopServer));
    this.running.clear();
    for (const db of this.databases.splice(0)) {
      await db.drop().catch((err: unknown) => console.error(`could not drop a bench database: ${String(err)}`));
    }
    rmSync(this.tmpDir, { recursive: true, force: true });
  }
}
