// Reads a request body chunk by chunk (after decompression), enforcing the
// size limit on what it yields, not on what the client declared.
import { badRequest, tooLarge } from "../errors";

export interface ChunkReader {
  read(): Promise<{ done: true; value?: undefined } | { done: false; value: Uint8Array }>;
  cancel(): Promise<void>;
}

/** Reads a (decompressed) body chunk by chunk, enforcing MAX_BODY_MB on what it yields. */
export class BodyReader {
  private received = 0;

  constructor(private readonly reader: ChunkReader, private readonly encoding: string, private readonly maxBytes: number) {}

  /** A body already read to its end (its bytes are in hand). */
  static ended(): BodyReader {
    return new BodyReader({ read: async () => ({ done: true }), cancel: async () => {} }, "identity", Number.POSITIVE_INFINITY);
  }

  /** The next chunk, or null at the end. */
  async next(): Promise<Uint8Array | null> {
    const { done, value } = await this.reader.read().catch((err: unknown) => {
      // Decompression fails on data that is not what Content-Encoding says (or is cut short);
      // on an identity body a read fails only when the client has gone.
      if (this.encoding !== "identity") throw badRequest(`Request body is not valid ${this.encoding}`, [{ loc: ["body"], msg: "Invalid compressed data" }]);
      throw err;
    });
    if (done) return null;
    this.received += value.byteLength;
    // Counted after decompression: a small gzip body cannot unpack past the limit.
    if (this.received > this.maxBytes) throw tooLarge(this.maxBytes);
    return value;
  }

  /** Chunks until more than `bytes` were read or the body ended. */
  async readUpTo(bytes: number): Promise<{ chunks: Uint8Array[]; done: boolean }> {
    const chunks: Uint8Array[] = [];
    let size = 0;
    while (size <= bytes) {
      const chunk = await this.next();
      if (chunk === null) return { chunks, done: true };
      chunks.push(chunk);
      size += chunk.byteLength;
    }
    return { chunks, done: false };
  }

  /** Stops reading: the rest of the body is not wanted. */
  async cancel(): Promise<void> {
    await this.reader.cancel().catch(() => {});
  }
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const all = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.byteLength;
  }
  return all;
}
