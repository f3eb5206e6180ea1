// Idempotency-Key on POSTs (IETF draft-ietf-httpapi-idempotency-key-header,
// as Stripe does it): the first request with a key, per caller and route
// (`scope`), is worked out and its successful answer stored; a retry with the
// same key and the same body gets that answer again, spending nothing (no
// rate-limit token, no second task); the same key with another body is a 422;
// while the first is still being answered, a retry is a 409. Answers that
// were errors are not kept: the retry runs again. Stored in the database, so
// every instance sees every key; kept IDEMPOTENCY_KEY_TTL_HOURS.
import { ApiError, badRequest, tooLarge } from "../errors";
import type { Store } from "../store/types";

const KEY = /^[\x21-\x7e]{1,255}$/;
const PURGE_EVERY_MS = 3_600_000;

/** The headers of an answer that a replay repeats. */
const REPLAYED_HEADERS = ["content-type", "location", "retry-after"];

/** A first request with its key claimed: its body is hashed as it is read. */
export class IdempotentClaim {
  private readonly hasher = new Bun.CryptoHasher("sha256");
  /** The request to read instead of the original: the same body, hashed on the way. */
  readonly request: Request;

  constructor(private readonly store: Store, readonly scope: string, readonly key: string, original: Request) {
    this.request = hashedRequest(original, this.hasher);
  }

  /**
   * Stores the answer (the body has been read whole) for the key's retries.
   * The request has succeeded by then: if storing fails, the claim is let go
   * instead (a retry runs again), and the answer stands.
   */
  async complete(status: number, headers: Record<string, unknown>, body: unknown): Promise<void> {
    const kept: Record<string, string> = { "content-type": "application/json" };
    for (const name of REPLAYED_HEADERS) if (typeof headers[name] === "string") kept[name] = headers[name] as string;
    await this.store.completeIdempotencyKey(this.scope, this.key, {
      requestHash: this.hasher.digest("hex"), status, headers: kept, body: JSON.stringify(body),
    }).catch(() => this.release());
  }

  /** The request failed: forget the key, so that a retry runs again. */
  release(): Promise<void> {
    return this.store.releaseIdempotencyKey(this.scope, this.key).catch(() => {});
  }
}

export type IdempotencyStart = { kind: "replay"; response: Response } | { kind: "claim"; claim: IdempotentClaim };

export class Idempotency {
  private nextPurge = 0;

  constructor(private readonly store: Store, private readonly ttlMs: number, private readonly clock: () => number = Date.now) {}

  /**
   * For a request with an Idempotency-Key header: the stored answer to
   * replay, or the claim of a first request; null without the header.
   * `scope` names the caller and the route; `siteId` the site it acts on
   * (deleting the site deletes its keys).
   */
  async begin(request: Request, scope: string, siteId: number | null, maxBodyBytes: number): Promise<IdempotencyStart | null> {
    const key = request.headers.get("idempotency-key");
    if (key === null) return null;
    if (!KEY.test(key)) {
      throw badRequest("Invalid Idempotency-Key header", [{ loc: ["header", "Idempotency-Key"], msg: "Must be 1 to 255 visible ASCII characters" }], "invalid_idempotency_key");
    }
    const now = this.clock();
    if (now >= this.nextPurge) {
      this.nextPurge = now + PURGE_EVERY_MS;
      await this.store.purgeIdempotencyKeys(new Date(now)).catch(() => {});
    }
    const found = await this.store.claimIdempotencyKey({ scope, key, siteId, now: new Date(now), expiresAt: new Date(now + this.ttlMs) });
    if (found === null) return { kind: "claim", claim: new IdempotentClaim(this.store, scope, key, request) };
    if (found.status === null || found.body === null) {
      throw new ApiError(409, "A request with this Idempotency-Key is still being answered; retry shortly", "idempotency_key_in_use", {
        headers: { "Retry-After": "1" },
      });
    }
    if ((await bodyHash(request, maxBodyBytes)) !== found.requestHash) {
      throw new ApiError(422, "This Idempotency-Key was already used with a different request body; use a new key for a new request", "idempotency_key_mismatch", {
        errors: [{ loc: ["header", "Idempotency-Key"], msg: "Already used with another body" }],
      });
    }
    return { kind: "replay", response: new Response(found.body, { status: found.status, headers: { ...found.headers, "idempotent-replayed": "true" } }) };
  }
}


/** `original` with its body passed through `hasher` as it is read. */
function hashedRequest(original: Request, hasher: Bun.CryptoHasher): Request {
  if (original.body === null) return original;
  const body = original.body.pipeThrough(new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      hasher.update(chunk);
      controller.enqueue(chunk);
    },
  }));
  return new Request(original.url, { method: original.method, headers: original.headers, body, signal: original.signal, duplex: "half" } as RequestInit);
}

/** SHA-256 of the whole body as sent (compressed or not), read as a stream; 413 past `maxBytes`. */
async function bodyHash(request: Request, maxBytes: number): Promise<string> {
  const hasher = new Bun.CryptoHasher("sha256");
  if (request.body === null) return hasher.digest("hex");
  let read = 0;
  for await (const chunk of request.body) {
    read += chunk.byteLength;
    if (read > maxBytes) throw tooLarge(maxBytes);
    hasher.update(chunk);
  }
  return hasher.digest("hex");
}

