// A redis-server of the test's own, on a spare port, that the test may stop,
// pause and restart. Never the shared one on 6379.
import type { Subprocess } from "bun";

export async function freePort(): Promise<number> {
  const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
  const port = server.port!;
  await server.stop(true);
  return port;
}

export class OwnRedis {
  private proc: Subprocess | null = null;

  private constructor(readonly port: number) {}

  static async start(): Promise<OwnRedis> {
    const redis = new OwnRedis(await freePort());
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
    for (let i = 0; i < 100; i++) {
      const ok = await Bun.connect({ hostname: "127.0.0.1", port: this.port, socket: { data() {} } }).then((s) => (s.end(), true), () => false);
      if (ok) return;
      await Bun.sleep(20);
    }
    throw new Error(`redis-server did not start on ${this.port}`);
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
