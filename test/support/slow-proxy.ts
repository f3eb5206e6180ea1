// A TCP proxy in front of a Redis that holds back the bytes of chosen
// connections (numbered in the order they were opened): for a while (a slow
// network or TLS handshake), or for good (a connection that went silent
// without closing). Enough for the few small commands of a test: a write the
// socket does not take in full is not retried.
import type { Socket, TCPSocketListener } from "bun";

interface Link {
  number: number;
  upstream: Socket | null;
  pending: Uint8Array[];
  timer: ReturnType<typeof setTimeout> | null;
  closed: boolean;
}

export class SlowProxy {
  private opened = 0;
  /** PING commands sent by each connection, by its number. */
  private readonly pingsSent = new Map<number, number>();
  private readonly frozen = new Set<number>();
  private readonly upstreams = new Set<Socket>();
  private listener!: TCPSocketListener<Link>;

  private constructor(private readonly upstream: URL) {}

  /** Connections numbered in `slow` (1 = the first opened) reach `upstream` only after `delayMs`. */
  static start(upstream: URL, slow: number[] = [], delayMs = 0): SlowProxy {
    const proxy = new SlowProxy(upstream);
    proxy.listener = Bun.listen<Link>({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        open(client) {
          const number = ++proxy.opened;
          client.data = { number, upstream: null, pending: [], timer: null, closed: false };
          client.data.timer = setTimeout(() => void proxy.connectUpstream(client), slow.includes(number) ? delayMs : 0);
        },
        data(client, bytes) {
          const pings = Buffer.from(bytes).toString("latin1").match(/\bPING\b/gi)?.length ?? 0;
          if (pings > 0) proxy.pingsSent.set(client.data.number, proxy.pings(client.data.number) + pings);
          if (proxy.frozen.has(client.data.number)) return;
          if (client.data.upstream) client.data.upstream.write(bytes);
          else client.data.pending.push(new Uint8Array(bytes));
        },
        close(client) {
          client.data.closed = true;
          if (client.data.timer) clearTimeout(client.data.timer);
          client.data.upstream?.end();
        },
      },
    });
    return proxy;
  }

  private async connectUpstream(client: Socket<Link>): Promise<void> {
    client.data.timer = null;
    let upstream: Socket;
    try {
      upstream = await Bun.connect({
        hostname: this.upstream.hostname,
        port: Number(this.upstream.port || 6379),
        socket: {
          data: (_s, bytes) => void (this.frozen.has(client.data.number) || client.write(bytes)),
          close: (s) => {
            this.upstreams.delete(s);
            client.end();
          },
          error: () => void client.end(),
        },
      });
    } catch {
      client.end();
      return;
    }
    if (client.data.closed) return void upstream.end();
    this.upstreams.add(upstream);
    client.data.upstream = upstream;
    for (const bytes of client.data.pending.splice(0)) upstream.write(bytes);
  }

  /** From now on, connection `number` passes nothing either way, and stays open. */
  freeze(number: number): void {
    this.frozen.add(number);
  }

  /** PING commands connection `number` has sent so far (whether or not they passed). */
  pings(number: number): number {
    return this.pingsSent.get(number) ?? 0;
  }

  /** Connections opened so far. */
  get connections(): number {
    return this.opened;
  }

  /** The upstream's URL (credentials, database) with the proxy's address. */
  get url(): string {
    const url = new URL(this.upstream.href);
    url.hostname = "127.0.0.1";
    url.port = String(this.listener.port);
    return url.href;
  }

  stop(): void {
    this.listener.stop(true);
    for (const upstream of this.upstreams) upstream.end();
    this.upstreams.clear();
  }
}
