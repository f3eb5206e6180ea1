// Ingestion: receives a sync body. Up to SYNC_BACKGROUND_THRESHOLD valid module entries
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
import { badRequest, invalidJson, tooLarge, unsupportedEncoding } from "../errors";
import { parseJson, readBytes } from "../http/body";
import type { Judgement, SyncResult } from "../inventory";
import type { SiteRecord, Store } from "../store/types";
import type { JobQueue } from "../tasks/queue";
import { BodyReader, concat, type ChunkReader } from "../http/body-reader";
import { payloadFingerprint } from "./digest";
import { checkSite, type SyncService } from "./service";
import { PayloadSplitter, PayloadSyntaxError } from "./stream";
import { EntryJudge, ModuleCollector, validateEnvelope, type Envelope } from "./validate";

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
  | { kind: "synced"; response: SyncResult }
  | { kind: "accepted"; taskId: string; total: number };

export class Ingestion {
  constructor(
    private readonly store: Store,
    private readonly sync: SyncService,
    private readonly queue: JobQueue,
    private readonly config: Pick<Config, "maxBodyBytes" | "backgroundThreshold" | "batchSize">,
  ) {}

  async receive(site: SiteRecord, request: Request): Promise<Received> {
    const { maxBodyBytes } = this.config;
    const encoding = (request.headers.get("content-encoding") ?? "identity").trim().toLowerCase() || "identity";
    if (!ENCODINGS.has(encoding)) throw unsupportedEncoding(encoding);
    const declared = Number(request.headers.get("content-length") ?? NaN);
    if (declared > maxBodyBytes) throw tooLarge(maxBodyBytes);
    if (encoding === "identity" && declared <= WHOLE_BODY_BYTES) return this.receiveWhole(site, await readBytes(request, maxBodyBytes));

    let stream = request.body;
    if (!stream) throw invalidJson("Empty body");
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
      const staged = judged;
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
    let batch: Judgement[] = [];

    const stage = async (entries: Judgement[]) => {
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
              batch = held;
              held = [];
            }
            continue;
          }
          batch.push(judged);
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
      if (err instanceof PayloadSyntaxError) throw invalidJson(err.message, err.message);
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
