// One Redis connection shared by the rate limiter and the lookup cache, with
// a circuit breaker: every command gives up within COMMAND_TIMEOUT_MS, the
// first failure marks Redis down (logged once), and while it is down callers
// get an immediate RedisUnavailable instead of waiting. A probe brings it
// back up (logged once) as soon as Redis answers again.
import { createClient } from "redis";
import type { Logger } from "../log";

export const COMMAND_TIMEOUT_MS = 250;
const PROBE_INTERVAL_MS = 1000;

export class RedisUnavailable extends Error {}

export type RedisClient = ReturnType<typeof createClient>;

export interface RedisOptions {
  commandTimeoutMs?: number;
  probeIntervalMs?: number;
}

export class RedisConnection {
  readonly client: RedisClient;
  private up = false;
  private problem = "connecting";
  private probing: ReturnType<typeof setInterval> | null = null;
  private closed = false;
  private outageLogged = false;
  private readonly timeoutMs: number;
  private readonly probeMs: number;

  constructor(url: string, private readonly logger: Logger, options: RedisOptions = {}) {
    this.timeoutMs = options.commandTimeoutMs ?? COMMAND_TIMEOUT_MS;
    this.probeMs = options.probeIntervalMs ?? PROBE_INTERVAL_MS;
    this.client = createClient({
      url,
      // Fail fast while disconnected instead of queueing commands for later.
      disableOfflineQueue: true,
      socket: {
        connectTimeout: 1000,
        reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 2000),
      },
    });
    this.client.on("error", (err: Error) => this.markDown(err.message));
    this.client.on("ready", () => this.markUp());
  }

  /** Connects in the background: the server starts (and serves) whether or not Redis answers. */
  start(): void {
    this.client.connect().catch((err: Error) => this.markDown(err.message));
  }

  get isUp(): boolean {
    return this.up;
  }

  /** "ok", or why Redis is not usable right now (for /ready). */
  status(): string {
    return this.up ? "ok" : this.problem;
  }

  /** Runs one Redis operation within the time limit; throws RedisUnavailable when down or slow. */
  async run<T>(operation: (client: RedisClient) => Promise<T>): Promise<T> {
    if (!this.up) throw new RedisUnavailable(this.problem);
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      return await Promise.race([
        operation(this.client),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new RedisUnavailable(`no answer within ${this.timeoutMs} ms`)), this.timeoutMs);
        }),
      ]);
    } catch (err) {
      // A script error is an answer, not an outage.
      if (!(err instanceof RedisUnavailable) && err instanceof Error && /NOSCRIPT|ERR |WRONGTYPE/.test(err.message)) throw err;
      this.markDown(err instanceof Error ? err.message : String(err));
      throw err instanceof RedisUnavailable ? err : new RedisUnavailable(String(err));
    } finally {
      clearTimeout(timer);
    }
  }

  private markDown(problem: string): void {
    if (this.closed) return;
    this.up = false;
    this.problem = problem || "unavailable";
    if (!this.outageLogged) {
      this.outageLogged = true;
      this.logger.warn("redis unavailable: using in-process state", { problem: this.problem });
    }
    // A connection that hangs without dropping never emits "ready" again: probe it.
    if (this.probing === null) {
      this.probing = setInterval(() => void this.probe(), this.probeMs);
      this.probing.unref?.();
    }
  }

  private markUp(): void {
    if (this.closed || this.up) return;
    this.up = true;
    this.problem = "ok";
    if (this.probing) clearInterval(this.probing);
    this.probing = null;
    if (this.outageLogged) {
      this.outageLogged = false;
      this.logger.warn("redis available again: shared state in use", {});
    }
  }

  private async probe(): Promise<void> {
    if (!this.client.isReady) return; // the client's own reconnect will emit "ready"
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        this.client.ping(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error("probe timed out")), this.timeoutMs);
        }),
      ]);
      this.markUp();
    } catch {
      // still down
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.probing) clearInterval(this.probing);
    if (this.client.isOpen) await this.client.close().catch(() => this.client.destroy());
    else this.client.destroy();
  }
}
