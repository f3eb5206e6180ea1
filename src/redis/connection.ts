// The Redis connections shared by the rate limiter, the lookup cache and the
// job list, with one circuit breaker: every command gives up within
// COMMAND_TIMEOUT_MS, the first failed command marks Redis down (logged
// once), and while it is down callers get an immediate RedisUnavailable
// instead of waiting. A probe brings it back up (logged once) as soon as
// both clients answer again.
//
// Two clients, one breaker. node-redis (the stack's client) serves every
// command but the request path's: the rate-limit script, sent on every sync
// request, and the id cache's reads and writes (cache/lookup.ts) go through
// Bun's built-in client (send()). For the script: node-redis writes the commands
// issued in one event-loop turn on a setImmediate, so the script, issued at
// the end of a turn, went out one turn late; and its socket runs through
// Node's stream layer. Measured on the re-sync bench (paired runs): a script
// call was answered 1.65 ms after it was issued with node-redis, 1.0 ms with
// Bun's client, and modsync used 17% less CPU per request.
import { RedisClient as BunRedisClient } from "bun";
import { createClient } from "redis";
import type { Logger } from "../log";
import { within } from "../within";

export const COMMAND_TIMEOUT_MS = 250;
const PROBE_INTERVAL_MS = 1000;
const CONNECT_TIMEOUT_MS = 1000;

export class RedisUnavailable extends Error {}

export type RedisClient = ReturnType<typeof createClient>;

export interface RedisOptions {
  commandTimeoutMs?: number;
  probeIntervalMs?: number;
}

export class RedisConnection {
  readonly client: RedisClient;
  /** Bun's client, for send(): (re)connected by probe() while Redis is down, by requestPathClosed() while up; never by itself. */
  private readonly requestPath: BunRedisClient;
  private up = false;
  private problem = "connecting";
  private probing: ReturnType<typeof setInterval> | null = null;
  private probeRunning = false;
  /** Set while requestPathClosed() reopens Bun's connection: send() waits for it. */
  private reopening: Promise<void> | null = null;
  /** When requestPathClosed() last reopened Bun's connection (Unix ms): at most once per probe interval. */
  private lastReconnect = 0;
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
        connectTimeout: CONNECT_TIMEOUT_MS,
        reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 2000),
      },
    });
    this.client.on("error", (err: Error) => this.markDown(err.message));
    // Up only once both clients answer: the probe checks both.
    this.client.on("ready", () => void this.probe());
    this.requestPath = new BunRedisClient(url, {
      connectionTimeout: CONNECT_TIMEOUT_MS,
      // Reconnected by this class (see the field), so one place decides when Redis is back.
      autoReconnect: false,
      enableOfflineQueue: false,
    });
    this.requestPath.onclose = (err: Error) => void this.requestPathClosed(err);
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

  /** Runs one node-redis operation within the time limit; throws RedisUnavailable when down or slow. */
  run<T>(operation: (client: RedisClient) => Promise<T>): Promise<T> {
    return this.guarded(() => operation(this.client));
  }

  /** One raw command on the request path (see the top of this file), under the same limit and breaker as run(). */
  send(command: string, args: string[]): Promise<unknown> {
    return this.onRequestPath((client) => client.send(command, args));
  }

  /** Raw commands on the request path, sent together (pipelined: one round trip) under one limit. */
  sendAll(commands: readonly (readonly [command: string, args: string[]])[]): Promise<unknown[]> {
    return this.onRequestPath((client) => Promise.all(commands.map(([command, args]) => client.send(command, args))));
  }

  private onRequestPath<T>(work: (client: BunRedisClient) => Promise<T>): Promise<T> {
    return this.guarded(async () => {
      // Bun's client refuses commands while (re)connecting: wait for a reopening in progress.
      if (this.reopening) await this.reopening;
      return work(this.requestPath);
    });
  }

  private async guarded<T>(operation: () => Promise<T>): Promise<T> {
    if (!this.up) throw new RedisUnavailable(this.problem);
    try {
      return await within(this.timeoutMs, operation(), () => new RedisUnavailable(`no answer within ${this.timeoutMs} ms`));
    } catch (err) {
      // A script error is an answer, not an outage.
      if (!(err instanceof RedisUnavailable) && err instanceof Error && /NOSCRIPT|ERR |WRONGTYPE/.test(err.message)) throw err;
      this.markDown(err instanceof Error ? err.message : String(err));
      throw err instanceof RedisUnavailable ? err : new RedisUnavailable(String(err));
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

  /** Up again once node-redis answers a PING and Bun's client is connected (reconnected here if it dropped). */
  private async probe(): Promise<void> {
    if (this.closed || this.probeRunning || !this.client.isReady) return; // node-redis's own reconnect will emit "ready"
    this.probeRunning = true;
    try {
      const timedOut = () => new Error("probe timed out");
      const [main, requestPath] = await Promise.allSettled([
        within(this.timeoutMs, this.client.ping(), timedOut),
        within(this.timeoutMs, this.requestPath.connected ? this.requestPath.send("PING", []) : this.requestPath.connect(), timedOut),
      ]);
      if (main.status === "rejected") throw main.reason;
      if (requestPath.status === "rejected") {
        // node-redis answers, so Redis does; an open connection of Bun's
        // client that does not is dead without having closed (half-open):
        // drop it, and the next probe opens a new one. (Its onclose does
        // nothing here: Redis is down while probes run.)
        if (this.requestPath.connected) this.requestPath.close();
        throw requestPath.reason;
      }
      if (!this.requestPath.connected) throw new Error("request-path connection (rate limit, id cache) closed");
      this.markUp();
    } catch (err) {
      // Still down: /ready keeps the outage's first cause (probes run only
      // while down). Marking it also starts the probe timer when the first
      // probe (on node-redis's "ready") fails: nothing else would retry it.
      this.markDown(this.problem === "connecting" ? (err instanceof Error ? err.message : String(err)) : this.problem);
    } finally {
      this.probeRunning = false;
    }
  }

  /**
   * Bun's connection closed while Redis was up. It carries only what sync
   * requests send (the rate-limit script, the id cache's commands), so it
   * sits idle between syncs, and Redis's idle
   * `timeout` or a proxy may close it: reopen it at once, at most once per
   * probe interval (a server that keeps closing it is an outage, not a blip).
   * Redis is counted down if the connection cannot be reopened within the
   * command time limit.
   */
  private requestPathClosed(err: Error | undefined): void {
    if (this.closed || this.reopening || !this.up) return;
    const problem = `request-path connection (rate limit, id cache): ${err?.message || "closed"}`;
    if (Date.now() - this.lastReconnect < this.probeMs) return this.markDown(problem);
    this.lastReconnect = Date.now();
    this.reopening = this.reopen(problem).finally(() => (this.reopening = null));
  }

  private async reopen(problem: string): Promise<void> {
    try {
      await within(this.timeoutMs, this.requestPath.connect(), () => new Error("reopening timed out"));
      if (!this.requestPath.connected) throw new Error("closed again while reopening");
    } catch (err) {
      this.markDown(`${problem}; ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.probing) clearInterval(this.probing);
    this.requestPath.close();
    if (this.client.isOpen) await this.client.close().catch(() => this.client.destroy());
    else this.client.destroy();
  }
}
