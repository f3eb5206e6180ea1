// Uploads of sync bodies, streamed (issue 4): compressed bodies, size limits
// before and after decompression, bad encodings, bodies that fail after
// entries were staged, and a client that hangs up mid-upload on a real server.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Socket } from "bun";
import { deflateSync } from "node:zlib";
import { createApp } from "../../src/app";
import { silentLogger } from "../../src/log";
import type { Store } from "../../src/store/types";
import { TaskRunner } from "../../src/tasks/runner";
import { WHOLE_BODY_BYTES } from "../../src/sync/ingest";
import { createHarness, type Harness, type SeededSite } from "../support/harness";
import { expectError, postSync } from "../support/http";
import { payload as benchPayload } from "../support/payload";
import { createTestDatabase, describeEachDialect, type TestDatabase } from "../support/stores";
import {
  allSiteModules, cleanupProcesses, expectedTuples, seedWorld, startedServer, storedTuples, taskRows, until, type Server,
} from "../tasks/support";
import { count } from "../support/sql";

// Bodies past WHOLE_BODY_BYTES are streamed (and staged as they arrive): the limit sits above it.
const MAX_BODY = 2 * WHOLE_BODY_BYTES;
const encoder = new TextEncoder();

afterAll(() => cleanupProcesses());

describeEachDialect("sync uploads", (dialect) => {
  let h: Harness;
  let runner: TaskRunner;

  beforeAll(async () => {
    h = await createHarness(dialect, { config: { backgroundThreshold: 500, batchSize: 100, maxBodyBytes: MAX_BODY } });
    runner = new TaskRunner(h.store.tasks, { owner: "test", batchSize: 100, leaseMs: 30_000, logger: silentLogger });
  });
  afterAll(() => h.close());

  const freshSite = () => h.freshSite("up");
  const big = (count: number, site: SeededSite) => benchPayload(count, { url: site.url, token: site.token });
  const bytesOf = (body: unknown) => encoder.encode(JSON.stringify(body));

  const post = (site: SeededSite, raw: RequestInit["body"], headers: Record<string, string> = {}) =>
    postSync(h.app, site.id, { token: h.world.token, raw, headers: { "content-type": "application/json", ...headers } });

  /** A body handed over in `chunk`-byte pieces, with a hook before each piece (the upload is waiting on it then). */
  function streamOf(bytes: Uint8Array, chunk = 16 * 1024, before?: (sent: number) => Promise<void>) {
    let at = 0;
    const stats = { pulls: 0, sent: 0 };
    const stream = new ReadableStream<Uint8Array>({
      async pull(controller) {
        stats.pulls++;
        if (at >= bytes.byteLength) return controller.close();
        await before?.(at);
        controller.enqueue(bytes.slice(at, at + chunk));
        at += chunk;
        stats.sent = Math.min(at, bytes.byteLength);
      },
    }, { highWaterMark: 0 }); // pulled only when the upload reads
    return { stream, stats };
  }

  /** Whether the site has an upload being staged right now (a task in "receiving" with staged rows). */
  const stagingUnderway = async (site: SeededSite) =>
    (await count(h.store, `SELECT count(*) AS n FROM tasks WHERE site_id = ${site.id} AND status = 'receiving'`)) === 1
    && (await taskRows(h.store, site.id)).entries > 0;

  async function completes(res: Response, total: number) {
    expect(res.status).toBe(202);
    const json = await res.json();
    expect(json.message).toBe(`Sync of ${total} modules queued for processing`);
    expect(await runner.run(json.task_id)).toBe("completed");
    const status = await (await h.request("GET", `/api/v1/tasks/${json.task_id}/status`)).json();
    expect(status.status).toBe("completed");
    return status.result;
  }

  test("a gzip body is accepted, staged and applied like a plain one; small gzip bodies apply at once", async () => {
    const site = await freshSite();
    const body = big(3000, site);
    const gz = Bun.gzipSync(bytesOf(body));
    expect(gz.byteLength).toBeLessThan(bytesOf(body).byteLength / 4);
    const result = await completes(await post(site, gz, { "content-encoding": "gzip", "content-length": String(gz.byteLength) }), 3000);
    expect(result).toMatchObject({ modules_processed: 3000, modules_created: 3000, errors: [] });
    expect(storedTuples(await allSiteModules(h.store, site.id))).toEqual(expectedTuples(body.modules));

    const small = await freshSite();
    const smallBody = big(40, small);
    const res = await post(small, Bun.gzipSync(bytesOf(smallBody)), { "content-encoding": "GZip" });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ modules_created: 40, errors: [] });
  });

  test("a streamed upload collects garbage by the decompressed bytes it read: once past its pacing's first mark, never short of it", async () => {
    const body = (site: SeededSite) => big(15_000, site);
    const plain = bytesOf(body(await freshSite())).byteLength;
    const packed = Bun.gzipSync(bytesOf(body(await freshSite()))).byteLength;
    // ~3.0 MiB of JSON in ~140 KB of gzip: past the first 2 MiB (read whole, not counted), ~1 MiB is streamed.
    expect(plain - WHOLE_BODY_BYTES).toBeGreaterThan(4 * packed);
    // A mark past every compressed byte is reached only when decompressed bytes are counted; one past every plain byte, never.
    for (const [from, expected] of [[packed + 1, 1], [plain, 0]] as const) {
      let collections = 0;
      const app = createApp({ config: h.config, store: h.store, logger: silentLogger, uploadCollections: { pacing: { from, every: 1 << 30 }, collect: () => void collections++ } });
      const site = await freshSite();
      const gz = Bun.gzipSync(bytesOf(body(site)));
      const res = await postSync(app, site.id, { token: h.world.token, raw: gz, headers: { "content-type": "application/json", "content-encoding": "gzip" } });
      await completes(res, 15_000);
      expect({ from, collections }).toEqual({ from, collections: expected });
    }
  });

  test("a streamed body that ends in whitespace after its JSON is staged and applied", async () => {
    // A client's trailing newline, read past the first 2 MiB: the splitter's end, not JSON.parse, meets it.
    const site = await freshSite();
    const body = big(15_000, site);
    const raw = new Uint8Array([...bytesOf(body), 0x20, 0x0a, 0x09, 0x0d]);
    expect(raw.byteLength).toBeGreaterThan(WHOLE_BODY_BYTES);
    const result = await completes(await post(site, raw), 15_000);
    expect(result).toMatchObject({ modules_processed: 15_000, modules_created: 15_000, errors: [] });
  });

  test("x-gzip and deflate (zlib) bodies are accepted too, also streamed in pieces", async () => {
    for (const [encoding, compress] of [["x-gzip", (b: Uint8Array<ArrayBuffer>) => Bun.gzipSync(b)], ["deflate", (b: Uint8Array<ArrayBuffer>) => new Uint8Array(deflateSync(b))]] as const) {
      const site = await freshSite();
      const body = big(1200, site);
      const { stream } = streamOf(compress(bytesOf(body)), 1000);
      const result = await completes(await post(site, stream, { "content-encoding": encoding }), 1200);
      expect(result).toMatchObject({ modules_created: 1200 });
      expect(storedTuples(await allSiteModules(h.store, site.id))).toEqual(expectedTuples(body.modules));
    }
  });

  test("a declared Content-Length over MAX_BODY_MB answers 413 without reading the body", async () => {
    const site = await freshSite();
    const { stream, stats } = streamOf(bytesOf(big(8000, site)));
    const res = await post(site, stream, { "content-length": String(MAX_BODY + 1) });
    await expectError(res, 413, `Request body exceeds ${MAX_BODY} bytes`);
    expect(stats.sent).toBe(0);
    expect(await taskRows(h.store, site.id)).toEqual({ tasks: 0, entries: 0 });
  });

  test("a body without Content-Length that grows past the limit answers 413 and leaves no task nor staged rows", async () => {
    const site = await freshSite();
    const bytes = bytesOf(big(30000, site));
    expect(bytes.byteLength).toBeGreaterThan(MAX_BODY);
    let sawStaging = false;
    const { stream, stats } = streamOf(bytes, 16 * 1024, async (sent) => {
      // Past the whole-body size: entries are being staged before the limit is reached.
      if (sent >= WHOLE_BODY_BYTES + 400 * 1024 && !sawStaging) sawStaging = await stagingUnderway(site);
    });
    const res = await post(site, stream);
    await expectError(res, 413, `Request body exceeds ${MAX_BODY} bytes`);
    expect(sawStaging).toBe(true);
    // Reading stopped at the limit.
    expect(stats.sent).toBeLessThan(MAX_BODY + 64 * 1024);
    expect(await taskRows(h.store, site.id)).toEqual({ tasks: 0, entries: 0 });
  });

  test("a gzip bomb (a few KB unpacking to 20 MB) answers 413: the limit applies after decompression", async () => {
    const site = await freshSite();
    const body = { ...big(10, site), padding: " ".repeat(20 * 1024 * 1024) };
    const bomb = Bun.gzipSync(bytesOf(body));
    expect(bomb.byteLength).toBeLessThan(64 * 1024);
    const started = performance.now();
    const res = await post(site, bomb, { "content-encoding": "gzip", "content-length": String(bomb.byteLength) });
    await expectError(res, 413, `Request body exceeds ${MAX_BODY} bytes`);
    expect(performance.now() - started).toBeLessThan(5000);

    // The same with entries past the threshold first: what was staged goes too.
    const other = await freshSite();
    const staged = JSON.stringify(big(3000, other)).replace(/\]\s*,\s*"full_sync"/, `,${JSON.stringify({ machine_name: "pad", display_name: " ".repeat(20 * 1024 * 1024), module_type: "custom", enabled: true })}],"full_sync"`);
    const bomb2 = Bun.gzipSync(encoder.encode(staged));
    await expectError(await post(other, bomb2, { "content-encoding": "gzip" }), 413, `Request body exceeds ${MAX_BODY} bytes`);
    expect(await taskRows(h.store, other.id)).toEqual({ tasks: 0, entries: 0 });
  });

  test("a body that is not gzip, though declared so, answers 400", async () => {
    const site = await freshSite();
    const garbage = crypto.getRandomValues(new Uint8Array(4096));
    await expectError(await post(site, garbage, { "content-encoding": "gzip" }), 400, /gzip/i);
    // Plain JSON labelled gzip.
    await expectError(await post(site, bytesOf(big(5, site)), { "content-encoding": "gzip" }), 400, /gzip/i);
    expect(await taskRows(h.store, site.id)).toEqual({ tasks: 0, entries: 0 });
  });

  test("a gzip body cut short after entries were staged answers 400 and leaves nothing staged", async () => {
    const site = await freshSite();
    // Past WHOLE_BODY_BYTES once unpacked, so it is streamed and staged before the cut is reached.
    const gz = Bun.gzipSync(bytesOf(big(15_000, site)));
    const cut = gz.slice(0, Math.floor(gz.byteLength * 0.8));
    let sawStaging = false;
    const { stream } = streamOf(cut, 4096, async (sent) => {
      if (!sawStaging && sent >= cut.byteLength / 2) sawStaging = await stagingUnderway(site);
    });
    await expectError(await post(site, stream, { "content-encoding": "gzip" }), 400, "Request body is not valid gzip");
    expect(sawStaging).toBe(true);
    expect(await taskRows(h.store, site.id)).toEqual({ tasks: 0, entries: 0 });
  });

  test("an unsupported Content-Encoding answers 415 naming it", async () => {
    const site = await freshSite();
    const body = bytesOf(big(5, site));
    await expectError(await post(site, body, { "content-encoding": "br" }), 415, "Unsupported Content-Encoding: br");
    await expectError(await post(site, body, { "content-encoding": "compress" }), 415, "Unsupported Content-Encoding: compress");
    expect(await taskRows(h.store, site.id)).toEqual({ tasks: 0, entries: 0 });
  });

  test("bodies refused after entries were staged (bad JSON, wrong site token or URL given after the modules) leave nothing behind", async () => {
    const site = await freshSite();
    const good = JSON.stringify(big(15000, site));
    /** The same payload with its site block last, as a client may write it. */
    const siteLast = (given: { url: string; token: string }) => {
      const { site: block, ...rest } = benchPayload(15000, given);
      return JSON.stringify({ ...rest, site: block });
    };
    const cases: [string, string, number][] = [
      ["JSON broken after 11,000 entries", good.slice(0, Math.floor(good.length * 0.75)) + "}}}]", 400],
      ["JSON cut short", good.slice(0, good.length - 40), 400],
      ["wrong site token", siteLast({ url: site.url, token: "not-the-token" }), 403],
      ["wrong site URL", siteLast({ url: "https://elsewhere.example", token: site.token }), 400],
    ];
    for (const [what, text, code] of cases) {
      const bytes = encoder.encode(text);
      let sawStaging = false;
      const { stream } = streamOf(bytes, 32 * 1024, async (sent) => {
        if (sent >= WHOLE_BODY_BYTES + 160 * 1024 && !sawStaging) sawStaging = await stagingUnderway(site);
      });
      const res = await post(site, stream);
      expect({ what, code: res.status, sawStaging }).toEqual({ what, code, sawStaging: true });
      expect({ what, rows: await taskRows(h.store, site.id) }).toEqual({ what, rows: { tasks: 0, entries: 0 } });
    }
    expect(await allSiteModules(h.store, site.id)).toEqual([]);
  });

  test("a wrong site token or URL in a site block read before the modules is refused there: nothing is staged, the rest is not read", async () => {
    const site = await freshSite();
    const cases: [string, { url: string; token: string }, number][] = [
      ["wrong site token", { url: site.url, token: "not-the-token" }, 403],
      ["wrong site URL", { url: "https://elsewhere.example", token: site.token }, 400],
    ];
    for (const [what, given, code] of cases) {
      // About 9 MB: the first WHOLE_BODY_BYTES are read before any of it is split.
      const bytes = encoder.encode(JSON.stringify(benchPayload(40000, given)));
      const { stream, stats } = streamOf(bytes, 32 * 1024);
      const res = await post(site, stream);
      expect({ what, code: res.status, rows: await taskRows(h.store, site.id) }).toEqual({ what, code, rows: { tasks: 0, entries: 0 } });
      // Refused on the site block, while most of the body was still unread.
      expect({ what, readPart: stats.sent < bytes.byteLength / 2 }).toEqual({ what, readPart: true });
    }
  });
});

// ---------------------------------------------------------------------------
// A real server process and a client that hangs up halfway through a large body.

/** Writes everything, waiting for the socket to drain between partial writes. */
function rawClient(port: number) {
  const drained: (() => void)[] = [];
  let received = "";
  const connected = Bun.connect({
    hostname: "127.0.0.1",
    port,
    socket: {
      data(_s, data) {
        received += new TextDecoder().decode(data);
      },
      drain() {
        for (const resolve of drained.splice(0)) resolve();
      },
    },
  });
  return {
    connected,
    received: () => received,
    async writeAll(socket: Socket, data: Uint8Array) {
      for (let off = 0; off < data.byteLength;) {
        const wrote = socket.write(data.subarray(off));
        off += Math.max(0, wrote);
        if (off < data.byteLength) await new Promise<void>((resolve) => drained.push(resolve));
      }
    },
  };
}

describeEachDialect("uploads to a real server process", (dialect) => {
  let db: TestDatabase;
  let store: Store;
  let server: Server;
  let world: Awaited<ReturnType<typeof seedWorld>>;

  beforeAll(async () => {
    db = createTestDatabase(dialect);
    store = await db.open();
    world = await seedWorld(store, 2);
    server = await startedServer({ DATABASE_URL: db.url, SYNC_BACKGROUND_THRESHOLD: "500", SYNC_BATCH_SIZE: "100", MAX_BODY_MB: "8" });
  });
  afterAll(async () => {
    server?.proc.kill("SIGKILL");
    await server?.proc.exited;
    await db.destroy();
  });

  test("a client that disconnects mid-upload leaves no task and no staged rows, and the server keeps serving", async () => {
    const site = world.sites[0]!;
    const body = encoder.encode(JSON.stringify(benchPayload(20_000, { url: site.url, token: site.token })));
    const head = encoder.encode([
      `POST /api/v1/sites/${site.id}/modules HTTP/1.1`,
      `Host: 127.0.0.1:${server.port}`,
      `Authorization: Bearer ${world.token}`,
      "Content-Type: application/json",
      `Content-Length: ${body.byteLength}`,
      "", "",
    ].join("\r\n"));
    const client = rawClient(server.port);
    const socket = await client.connected;
    await client.writeAll(socket, head);
    await client.writeAll(socket, body.subarray(0, Math.floor(body.byteLength / 2)));
    // Half of 20,000 entries is well past the threshold: the server is staging them.
    await until(async () => (await count(store, `SELECT count(*) AS n FROM tasks WHERE site_id = ${site.id} AND status = 'receiving'`)) === 1,
      10_000, "the upload to start staging");
    socket.terminate();

    const left = await until(async () => {
      const rows = await taskRows(store, site.id);
      return rows.tasks === 0 && rows.entries === 0 ? rows : undefined;
    }, 3000, "the abandoned upload to be removed", 100).catch(async () => taskRows(store, site.id));
    expect(left).toEqual({ tasks: 0, entries: 0 });
    expect(client.received()).toBe(""); // nobody to answer

    expect((await fetch(`${server.base}/health`)).status).toBe(200);
    const res = await postSync(server.base, site.id, { token: world.token, body: benchPayload(20, { url: site.url, token: site.token }) });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ modules_created: 20 });
  }, 30_000);

  /** Sends the head (and `body`, if any) and waits for the whole response, without sending anything more. */
  async function rawExchange(head: string[], body?: Uint8Array): Promise<{ status: number; json: any }> {
    const client = rawClient(server.port);
    const socket = await client.connected;
    try {
      await client.writeAll(socket, encoder.encode([...head, "", ""].join("\r\n")));
      if (body) await client.writeAll(socket, body);
      return await until(async () => {
        const text = client.received();
        const end = text.indexOf("\r\n\r\n");
        const length = /content-length: *(\d+)/i.exec(text.slice(0, end));
        if (end < 0 || !length || text.length - end - 4 < Number(length[1])) return undefined;
        return { status: Number(text.split(" ")[1]), json: JSON.parse(text.slice(end + 4, end + 4 + Number(length[1]))) };
      }, 5000, "a response");
    } finally {
      socket.terminate();
    }
  }

  test("a declared size over MAX_BODY_MB answers 413 as JSON before any of the body is sent; no token answers 401 the same way", async () => {
    const site = world.sites[1]!;
    const head = [`POST /api/v1/sites/${site.id}/modules HTTP/1.1`, `Host: 127.0.0.1:${server.port}`, "Content-Type: application/json", `Content-Length: ${9 * 1024 * 1024}`];
    expect(await rawExchange([...head, `Authorization: Bearer ${world.token}`])).toEqual({ status: 413, json: expect.objectContaining({ detail: `Request body exceeds ${8 * 1024 * 1024} bytes` }) });
    expect(await rawExchange(head)).toEqual({ status: 401, json: expect.objectContaining({ detail: expect.any(String) }) });
    expect(await taskRows(store, site.id)).toEqual({ tasks: 0, entries: 0 });
  }, 30_000);

  test("a chunked body growing past MAX_BODY_MB answers 413 as JSON and leaves nothing staged", async () => {
    const site = world.sites[1]!;
    const body = encoder.encode(JSON.stringify(benchPayload(45_000, { url: site.url, token: site.token })));
    expect(body.byteLength).toBeGreaterThan(8 * 1024 * 1024);
    let at = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (at >= body.byteLength) return controller.close();
        controller.enqueue(body.slice(at, at + 256 * 1024));
        at += 256 * 1024;
      },
    });
    const res = await postSync(server.base, site.id, { token: world.token, raw: stream, headers: { "content-type": "application/json" } });
    expect(await expectError(res, 413, `Request body exceeds ${8 * 1024 * 1024} bytes`)).toMatchObject({ code: "body_too_large", detail: `Request body exceeds ${8 * 1024 * 1024} bytes` });
    expect(await taskRows(store, site.id)).toEqual({ tasks: 0, entries: 0 });
    expect((await fetch(`${server.base}/health`)).status).toBe(200);
  }, 30_000);
});
