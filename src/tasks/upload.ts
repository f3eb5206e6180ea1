// Receives a sync body. Up to SYNC_BACKGROUND_THRESHOLD valid module entries
// it is applied at once (200); beyond that its entries are staged in the
// database as they arrive and a background task is queued (202).
//
// Small identity-encoded bodies are read whole (the common, fast case). Any
// other body is streamed: decompressed if gzip'd, split entry by entry,
// staged in batches, so memory stays bounded whatever its size. Anything that
// stops the upload (bad JSON, a size past MAX_BODY_MB, a client that hangs
// up) removes what was staged.
import type { Config } from "../config";
import { ApiError, badRequest } from "../errors";
import { parseJson, readBytes } from "../http/body";
import type { StagedEntry } from "../store/task-types";
import type { SiteRecord, Store } from "../store/types";
import { payloadFingerprint } from "../sync/digest";
import { checkSite, type SyncResponse, type SyncService } from "../sync/service";
import { PayloadSplitter, PayloadSyntaxError, type ModuleChunk } from "../sync/stream";
import { DUPLICATE_DETAIL, judgeEntry, ModuleCollector, validateEnvelope, validateModules, type Envelope, type Judgement } from "../sync/validate";
import { NameSet } from "./name-set";
import type { JobQueue } from "./queue";

/** Identity bodies up to this size (declared) are read whole. */
const WHOLE_BODY_BYTES = 2 * 1024 * 1024;
const ENCODINGS = new Set(["identity", "gzip", "x-gzip", "deflate"]);

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
    const encoding = (request.headers.get("content-encoding") ?? "identity").trim().toLowerCase() || "identity";
    if (!ENCODINGS.has(encoding)) throw new ApiError(415, `Unsupported Content-Encoding: ${encoding}`);
    const declared = Number(request.headers.get("content-length") ?? NaN);
    if (declared > this.config.maxBodyBytes) throw tooLarge(this.config.maxBodyBytes);
    if (encoding === "identity" && declared <= WHOLE_BODY_BYTES) return this.receiveWhole(site, request);
    return this.receiveStream(site, request, encoding);
  }

  private async receiveWhole(site: SiteRecord, request: Request): Promise<Received> {
    const bytes = await readBytes(request, this.config.maxBodyBytes);
    const body = parseJson(bytes);
    const payload = validateEnvelope(body);
    checkSite(site, payload);
    const modules = validateModules(payload.modules, body.suspectText);
    if (modules.entries.length <= this.config.backgroundThreshold) {
      return { kind: "synced", response: await this.sync.apply(site, payload, modules, payloadFingerprint(bytes)) };
    }
    const taskId = await this.store.tasks.beginUpload(site.id);
    try {
      const names = new NameSet();
      const staged = payload.modules.map((raw, idx) => staging(judgeEntry(raw, idx, body.suspectText), names));
      for (let i = 0; i < staged.length; i += this.config.batchSize) {
        await this.store.tasks.stageEntries(taskId, staged.slice(i, i + this.config.batchSize));
      }
      return await this.accept(taskId, payload);
    } catch (err) {
      await this.store.tasks.abortUpload(taskId).catch(() => {});
      throw err;
    }
  }

  private async receiveStream(site: SiteRecord, request: Request, encoding: string): Promise<Received> {
    const { maxBodyBytes, backgroundThreshold, batchSize } = this.config;
    let stream = request.body;
    if (!stream) throw badRequest("Request body is not valid JSON", [{ loc: ["body"], msg: "Empty body" }]);
    if (encoding !== "identity") stream = stream.pipeThrough(new DecompressionStream(encoding === "deflate" ? "deflate" : "gzip"));

    const fields: Record<string, unknown> = {};
    // Until the threshold is passed, entries are kept (they may be applied at once).
    const collector = new ModuleCollector();
    let held: ModuleChunk[] = [];
    let taskId: string | null = null;
    let batch: StagedEntry[] = [];
    let index = 0;
    const names = new NameSet();
    // The raw bytes, for the fingerprint of a body applied at once; dropped once too big to matter.
    let raw: Uint8Array[] | null = [];

    const stage = async (entries: StagedEntry[]) => {
      if (entries.length > 0) await this.store.tasks.stageEntries(taskId!, entries);
    };
    const splitter = new PayloadSplitter({
      field: (name, value) => {
        fields[name] = value;
      },
      modules: async (chunk) => {
        for (const item of chunk) {
          const idx = index++;
          if (taskId === null) {
            held.push(item);
            collector.add(item.value, item.suspectText);
            if (collector.entries.length > backgroundThreshold) {
              taskId = await this.store.tasks.beginUpload(site.id);
              batch = held.map((h, i) => staging(judgeEntry(h.value, i, h.suspectText), names));
              held = [];
              raw = null;
            }
            continue;
          }
          batch.push(staging(judgeEntry(item.value, idx, item.suspectText), names));
          if (batch.length >= batchSize) {
            const full = batch;
            batch = [];
            await stage(full);
          }
        }
      },
    });

    let received = 0;
    const reader = stream.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read().catch((err: unknown) => {
          // Decompression fails on data that is not what Content-Encoding says (or is cut short);
          // on an identity body a read fails only when the client has gone.
          if (encoding !== "identity") throw badRequest(`Request body is not valid ${encoding}`, [{ loc: ["body"], msg: "Invalid compressed data" }]);
          throw err;
        });
        if (done) break;
        received += value.byteLength;
        // Counted after decompression: a small gzip body cannot unpack past the limit.
        if (received > maxBodyBytes) {
          await reader.cancel().catch(() => {});
          throw tooLarge(maxBodyBytes);
        }
        if (raw) {
          raw.push(value);
          if (received > WHOLE_BODY_BYTES) raw = null;
        }
        await splitter.push(value);
      }
      splitter.end();
      if (splitter.modulesArray) fields.modules = [];
      // Every envelope string is checked for unstorable text: it is small.
      const payload = validateEnvelope({ value: fields, suspectText: true });
      checkSite(site, payload);
      if (taskId === null) {
        const fingerprint = raw ? payloadFingerprint(concat(raw)) : null;
        return { kind: "synced", response: await this.sync.apply(site, payload, collector, fingerprint) };
      }
      await stage(batch);
      return await this.accept(taskId, payload);
    } catch (err) {
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

/**
 * A judged entry as a staging row. A repeat of a name seen earlier in the
 * payload is skipped, valid or not, as in validate.ts's ModuleCollector.
 */
function staging(judged: Judgement, seen: NameSet): StagedEntry {
  const { index, machineName } = judged;
  if (machineName !== null && !seen.add(machineName)) {
    return { idx: index, machineName: null, error: { index, machine_name: machineName.slice(0, 255), detail: DUPLICATE_DETAIL } };
  }
  return judged.entry
    ? { idx: index, machineName: judged.machineName, entry: judged.entry }
    : { idx: index, machineName, error: judged.error };
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
