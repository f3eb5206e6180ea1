// A TCP proxy in front of a Redis that holds back the bytes of chosen
// connections (by the order they were opened) for a while: a slow network
// or TLS handshake for that one connection.
import type { Socket, TCPSocketListener } from "bun";

interface Link {
  upstream: Socket | null;
  pending: Uint8Array[];
}

export class SlowProxy {
  private opened = 0;

  private constructor(private readonly listener: TCPSocketListener<Link>) {}

  /** Connections numbered in `slow` (1 = the first opened) reach `upstream` only after `delayMs`. */
  static start(upstream: URL, slow: number[], delayMs: number): SlowProxy {
    let proxy: SlowProxy;
    const listener = Bun.listen<Link>({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        open(client) {
          client.data = { upstream: null, pending: [] };
          const delay = slow.includes(++proxy.opened) ? delayMs : 0;
          setTimeout(async () => {
            const upstreamSocket = await Bun.connect({
              hostname: upstream.hostname,
              port: Number(upstream.port || 6379),
              socket: { data: (_s, bytes) => void client.write(bytes), close: () => void client.end(), error: () => void client.end() },
            });
            client.data.upstream = upstreamSocket;
            for (const bytes of client.data.pending.splice(0)) upstreamSocket.write(bytes);
          }, delay);
        },
        data(client, bytes) {
          if (client.data.upstream) client.data.upstream.write(bytes);
          else client.data.pending.push(new Uint8Array(bytes));
        },
        close(client) {
          client.data.upstream?.end();
        },
      },
    });
    proxy = new SlowProxy(listener);
    return proxy;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.listener.port}`;
  }

  stop(): void {
    this.listener.stop(true);
  }
}
