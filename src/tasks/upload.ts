// Receives a sync body. Up to SYNC_BACKGROUND_THRESHOLD valid module entries
// it is applied at once (200); beyond that its entries are staged in the
// database as they arrive and a background task is queued (202).
//
// Bodies up to WHOLE_BODY_BYTES (after decompression) are read whole: the
// common, fast case, where a body byte for byte the last one applied is
// answered without being parsed. Larger bodies are streamed: split entry by
// entry and staged in batches, so memory stays bounded whatever their size.
// Anything that stops an upload (bad JSON, a size past MAX_BODY_MB, a client
// that hangs up) removes what was staged.
import type { Config } from "../config";
import { ApiError, badRequest } from "../errors";
import { parseJson, readBytes } from "../http/body";
import type { StagedEntry } from "../store/task-types";
import type { SiteRecord, Store } from "../store/types";
import { payloadFingerprint } from "../sync/digest";
import { checkSite, type SyncResponse, type SyncService } from "../sync/service";
import { PayloadSplitter, PayloadSyntaxError } from "../sync/stream";
import { EntryJudge, ModuleCollector, validateEnvelope, type Envelope, type Judgement } from "../sync/validate";
import type { JobQueue } from "./queue";

/** Bodies up to this size (declared, or found so after reading) are parsed whole; larger ones are streamed. */
export const WHOLE_BODY_BYTES = 2 * 1024 * 1024;
const ENCODINGS = new Set(["identity", "gzip", "x-gzip", "deflate"]);
/**
 * Staging batches written per transaction. Nothing staged counts before the
 * upload is accepted, so grouping them costs no durability; it spares SQLite
 * nine commits in ten, as the workers' BATCHES_PER_COMMIT does.
 */
const BATCHES_PER_STAGING_WRITE = 10;

export type Received =
  | { kind: "synced"; response: SyncResponse }
  | { kind: "accepted"; taskId: string; total: number };

export class UploadService {
  constructor(
    private readonly store: Store,
    private readonly sync: SyncService,
    private readonly queue: JobQueue,
    private readonly config: Pick<Config, "maxBodyBytes" | "backgroundThreshold" | "batchSize">,
  ) {}

  async receive(site: SiteRecord, request: Request): Promise<Received> {
    const { maxBodyBytes } = this.config;
    const encoding = (request.headers.get("content-encoding") ?? "identity").trim().toLowerCase() || "identity";
    if (!ENCODINGS.has(encoding)) throw new ApiError(415, `Unsupported Content-Encoding: ${encoding}`);
    const declared = Number(request.headers.get("content-length") ?? NaN);
    if (declared > maxBodyBytes) throw tooLarge(maxBodyBytes);
    if (encoding === "identity" && declared <= WHOLE_BODY_BYTES) return this.receiveWhole(site, await readBytes(request, maxBodyBytes));

    let stream = request.body;
    if (!stream) throw badRequest("Request body is not valid JSON", [{ loc: ["body"], msg: "Empty body" }]);
    if (encoding !== "identity") stream = stream.pipeThrough(new DecompressionStream(encoding === "deflate" ? "deflate" : "gzip"));
    const body = new BodyReader(stream.getReader() as ChunkReader, encoding, maxBodyBytes);
    // A body of unknown size that turns out small is read whole, like one that said so.
    const head = await body.readUpTo(WHOLE_BODY_BYTES).catch(async (err: unknown) => {
      await body.cancel();
      throw err;
    });
    if (head.done) return this.receiveWhole(site, concat(head.chunks));
    return this.receiveStream(site, head.chunks, body);
  }

  private async receiveWhole(site: SiteRecord, bytes: Uint8Array): Promise<Received> {
    const fingerprint = payloadFingerprint(bytes);
    const replayed = await this.sync.replay(site, fingerprint);
    if (replayed) return { kind: "synced", response: replayed };
    const body = parseJson(bytes);
    const payload = validateEnvelope(body);
    checkSite(site, payload);
    // Judged once, whichever way the sync goes.
    const judge = new EntryJudge();
    const judged = payload.modules.map((raw) => judge.next(raw, body.suspectText));
    const modules = new ModuleCollector();
    for (const j of judged) modules.add(j);
    if (modules.entries.length <= this.config.backgroundThreshold) {
      return { kind: "synced", response: await this.sync.apply(site, payload, modules, fingerprint) };
    }
    const taskId = await this.store.tasks.beginUpload(site.id);
    try {
      const staged = judged.map(staging);
      const group = this.config.batchSize * BATCHES_PER_STAGING_WRITE;
      for (let i = 0; i < staged.length; i += group) await this.store.tasks.stageEntries(taskId, staged.slice(i, i + group));
      return await this.accept(taskId, payload);
    } catch (err) {
      await this.store.tasks.abortUpload(taskId).catch(() => {});
      throw err;
    }
  }

  /** A body too large to hold: split as it arrives; `head` holds the chunks already read. */
  private async receiveStream(site: SiteRecord, head: Uint8Array[], body: BodyReader): Promise<Received> {
    const { backgroundThreshold, batchSize } = this.config;
    const fields: Record<string, unknown> = {};
    // Until the threshold is passed, judged entries are kept (they may be applied at once).
    const judge = new EntryJudge();
    const collector = new ModuleCollector();
    let held: Judgement[] = [];
    let taskId: string | null = null;
    let batch: StagedEntry[] = [];

    const stage = async (entries: StagedEntry[]) => {
      if (entries.length > 0) await this.store.tasks.stageEntries(taskId!, entries);
    };
    const splitter = new PayloadSplitter({
      field: (name, value) => {
        fields[name] = value;
      },
      modules: async (chunk) => {
        for (const item of chunk) {
          const judged = judge.next(item.value, item.suspectText);
          if (taskId === null) {
            held.push(judged);
            collector.add(judged);
            if (collector.entries.length > backgroundThreshold) {
              taskId = await this.store.tasks.beginUpload(site.id);
              batch = held.map(staging);
              held = [];
            }
            continue;
          }
          batch.push(staging(judged));
          if (batch.length >= batchSize * BATCHES_PER_STAGING_WRITE) {
            const full = batch;
            batch = [];
            await stage(full);
          }
        }
      },
    });

    try {
      for (const chunk of head) await splitter.push(chunk);
      for (let chunk = await body.next(); chunk !== null; chunk = await body.next()) await splitter.push(chunk);
      splitter.end();
      if (splitter.modulesArray) fields.modules = [];
      // Every envelope string is checked for unstorable text: it is small.
      const payload = validateEnvelope({ value: fields, suspectText: true });
      checkSite(site, payload);
      // Past WHOLE_BODY_BYTES the body has no fingerprint: such re-syncs are compared, not skipped.
      if (taskId === null) return { kind: "synced", response: await this.sync.apply(site, payload, collector, null) };
      await stage(batch);
      return await this.accept(taskId, payload);
    } catch (err) {
      await body.cancel();
      if (taskId !== null) await this.store.tasks.abortUpload(taskId).catch(() => {});
      if (err instanceof PayloadSyntaxError) throw badRequest(err.message, [{ loc: ["body"], msg: err.message }]);
      throw err;
    }
  }

  private async accept(taskId: string, payload: Envelope): Promise<Received> {
    const { total } = await this.store.tasks.acceptUpload(taskId, {
      siteName: payload.site.name,
      drupalInfo: { coreVersion: payload.drupal_info.core_version, phpVersion: payload.drupal_info.php_version, ipAddress: payload.drupal_info.ip_address },
      fullSync: payload.full_sync === true,
    });
    await this.queue.push(taskId);
    return { kind: "accepted", taskId, total };
  }
}

/** A judged entry as a staging row (repeats are already judged as errors). */
function staging(judged: Judgement): StagedEntry {
  return judged.entry
    ? { idx: judged.index, machineName: judged.machineName, entry: judged.entry }
    : { idx: judged.index, machineName: judged.machineName, error: judged.error };
}

interface ChunkReader {
  read(): Promise<{ done: true; value?: undefined } | { done: false; value: Uint8Array }>;
  cancel(): Promise<void>;
}

/** Reads a (decompressed) body chunk by chunk, enforcing MAX_BODY_MB on what it yields. */
class BodyReader {
  private received = 0;

  constructor(private readonly reader: ChunkReader, private readonly encoding: string, private readonly maxBytes: number) {}

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

function tooLarge(maxBytes: number): ApiError {
  return new ApiError(413, `Request body exceeds ${maxBytes} bytes`);
}

function concat(parts: Uint8Array[]): Uint8Array {
  const all = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.byteLength;
  }
  return all;
}
