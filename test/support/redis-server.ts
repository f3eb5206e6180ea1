// A redis-server of the test's own, on a spare port, that the test may stop,
// pause and restart. Never the shared one on 6379. And the ports of the
// servers tests start.
import type { Subprocess } from "bun";
import { readFileSync } from "node:fs";
import { until } from "./until";

/** The first port of the range the kernel hands to outgoing connections and to binds of port 0. */
function ephemeralLow(): number {
  try {
    return Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]) || 32768;
  } catch {
    return 32768;
  }
}

const PORTS_FROM = 10_000;
const handedOut = new Set<number>();

async function canListen(port: number): Promise<boolean> {
  try {
    const server = Bun.serve({ port, hostname: "127.0.0.1", fetch: () => new Response() });
    await server.stop(true);
    return true;
  } catch {
    return false;
  }
}

/**
 * A port for a server a test starts, free when asked for, and never handed out
 * twice in a run. Chosen below the ephemeral range: a port from bind(0) is
 * free only until the kernel hands it to the next outgoing connection or
 * bind(0) (two servers started together were seen to get the same one), while
 * below that range only a process that names the port can take it.
 */
export async function serverPort(): Promise<number> {
  const span = ephemeralLow() - PORTS_FROM;
  for (;;) {
    const port = PORTS_FROM + Math.floor(Math.random() * span);
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    if (await canListen(port)) return port;
  }
}

/**
 * Whether tests that start a redis-server of their own can run: the binary is
 * on PATH, or REQUIRE_REDIS=1 (CI) says they must, and fail if it is not.
 */
export function ownRedisPossible(): boolean {
  if (Bun.which("redis-server") !== null || process.env.REQUIRE_REDIS === "1") return true;
  console.warn("\n!!! redis-server NOT ON PATH: the tests that stop, stall and restart a Redis of their own are NOT RUN. Set REQUIRE_REDIS=1 to fail instead.\n");
  return false;
}

export class OwnRedis {
  private proc: Subprocess | null = null;

  private constructor(readonly port: number) {}

  static async start(): Promise<OwnRedis> {
    const redis = new OwnRedis(await serverPort());
    await redis.restart();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async restart(): Promise<void> {
    this.proc = Bun.spawn(["redis-server", "--port", String(this.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
      stdout: "ignore", stderr: "ignore",
    });
    const proc = this.proc;
    const state = await until(async () => {
      if (proc.exitCode !== null) return "exited";
      return Bun.connect({ hostname: "127.0.0.1", port: this.port, socket: { data() {} } }).then((s) => (s.end(), "listening"), () => false);
    }, 5000, `redis-server to listen on ${this.port}`, 20);
    if (state === "exited") throw new Error(`redis-server on ${this.port} exited with ${proc.exitCode}`);
  }

  /** Hard stop, as a crash would be. */
  async stop(): Promise<void> {
    this.proc?.kill("SIGKILL");
    await this.proc?.exited;
    this.proc = null;
  }

  /** The process stays, its socket stays open, and nothing answers: a slow Redis. */
  pause(): void {
    this.proc?.kill("SIGSTOP");
  }

  resume(): void {
    this.proc?.kill("SIGCONT");
  }
}
