// Ingestion: receives a sync body. While its entries name at most
// SYNC_BACKGROUND_THRESHOLD modules (intake.ts) it is applied at once (200);
// beyond that its entries are staged in the database as they arrive and a
// background task is queued (202).
//
// Bodies up to WHOLE_BODY_BYTES (after decompression) are read whole: the
// common, fast case, where a body byte for byte the last one applied is
// answered without being parsed. Larger bodies are streamed: split entry by
// entry and staged in batches, so memory stays bounded whatever their size.
// Anything that stops an upload (bad JSON, a size past MAX_BODY_MB, a client
// that hangs up) removes what was staged.
import type { Config } from "../config";
import { badRequest, fullSyncWithoutEntries, invalidJson, tooLarge, unsupportedEncoding } from "../errors";
import { compile, parseJson, readBytes } from "../http/body";
import type { SyncResult } from "../inventory";
import type { SiteRecord, Store } from "../store/types";
import type { JobQueue } from "../tasks/queue";
import { batchesPerCommit } from "../tasks/commit-size";
import { CollectionPacer, UPLOAD_PACING, type PacingOverride } from "../collection-pacer";
import { BodyReader, concat, type ChunkReader } from "../http/body-reader";
import { payloadFingerprint } from "./digest";
import { checkSite, type Bearer, type SyncService } from "./service";
import { FieldTooLargeError, PayloadSplitter, PayloadSyntaxError } from "./stream";
import { Intake } from "./intake";
import { Turn } from "./turn";
import { SiteInfo } from "./model";
import { envelopeOf, validateEnvelope, type Envelope } from "./validate";

/** The top-level fields a sync body may carry: any other is skipped unread. */
const ENVELOPE_FIELDS = new Set(["site", "drupal_info", "modules", "full_sync"]);
const siteInfo = compile(SiteInfo);

/** Bodies up to this size (declared, or found so after reading) are parsed whole; larger ones are streamed. */
export const WHOLE_BODY_BYTES = 2 * 1024 * 1024;
const ENCODINGS = new Set(["identity", "gzip", "x-gzip", "deflate"]);

/**
 * A whole body holding more objects and arrays than this is split as a
 * streamed one is, entry by entry, with turns for the event loop: JSON.parse
 * cannot yield, and 2 MiB of nothing but `{}` entries (700,000) held the
 * event loop for 0.2 to 0.8 s, where real entries (73 bytes at the very
 * least: under 30,000 in 2 MiB, ~1 container each) take ~10 ms.
 */
const WHOLE_BODY_MAX_CONTAINERS = 50_000;

/**
 * Whether `bytes` opens more than `max` objects or arrays (brackets inside
 * strings count too: a bound, not a parse). indexOf is a native scan: about
 * 0.25 ms for 2 MiB of real entries.
 */
function moreContainersThan(bytes: Uint8Array, max: number): boolean {
  // Each container takes at least 2 bytes (`{}`) and a separator: a body this
  // small cannot hold more, and the common 150-module body is never scanned.
  if (bytes.byteLength <= max * 2) return false;
  let opened = 0;
  for (const open of [0x7b, 0x5b]) {
    for (let at = bytes.indexOf(open); at !== -1; at = bytes.indexOf(open, at + 1)) if (++opened > max) return true;
  }
  return false;
}

/** A full sync naming no valid module would empty the site: refused (422). */
function refuseEmptyFullSync(payload: Envelope, intake: Intake): void {
  if (payload.full_sync === true && intake.validEntries === 0) throw fullSyncWithoutEntries(intake.errorsTotal);
}

export type Received =
  | { kind: "synced"; response: SyncResult }
  | { kind: "accepted"; taskId: string; total: number };

export class Ingestion {
  constructor(
    private readonly store: Store,
    private readonly sync: SyncService,
    private readonly queue: JobQueue,
    private readonly config: Pick<Config, "maxBodyBytes" | "backgroundThreshold" | "batchSize">,
    /** Collections during a streamed upload (collection-pacer.ts): UPLOAD_PACING and full collections unless a test gives its own. */
    private readonly collections?: PacingOverride,
  ) {}

  async receive(site: SiteRecord, request: Request, bearer: Bearer): Promise<Received> {
    const { maxBodyBytes } = this.config;
    const encoding = (request.headers.get("content-encoding") ?? "identity").trim().toLowerCase() || "identity";
    if (!ENCODINGS.has(encoding)) throw unsupportedEncoding(encoding);
    const declared = Number(request.headers.get("content-length") ?? NaN);
    if (declared > maxBodyBytes) throw tooLarge(maxBodyBytes);
    if (encoding === "identity" && declared <= WHOLE_BODY_BYTES) return this.receiveWhole(site, bearer, await readBytes(request, maxBodyBytes));

    let stream = request.body;
    if (!stream) throw invalidJson("Empty body");
    if (encoding !== "identity") stream = stream.pipeThrough(new DecompressionStream(encoding === "deflate" ? "deflate" : "gzip"));
    const body = new BodyReader(stream.getReader() as ChunkReader, encoding, maxBodyBytes);
    // A body of unknown size that turns out small is read whole, like one that said so.
    const head = await body.readUpTo(WHOLE_BODY_BYTES).catch(async (err: unknown) => {
      await body.cancel();
      throw err;
    });
    if (head.done) return this.receiveWhole(site, bearer, concat(head.chunks));
    return this.receiveStream(site, bearer, head.chunks, body);
  }

  private async receiveWhole(site: SiteRecord, bearer: Bearer, bytes: Uint8Array): Promise<Received> {
    const fingerprint = payloadFingerprint(bytes, site, bearer);
    const replayed = await this.sync.replay(site, fingerprint);
    if (replayed) return { kind: "synced", response: replayed };
    // Split, not parsed in one go: such a body is not a re-sync worth a fingerprint (nor a near repeat:
    // it gets the streamed path's checks, which a near repeat's entries would not).
    if (moreContainersThan(bytes, WHOLE_BODY_MAX_CONTAINERS)) return this.receiveStream(site, bearer, [bytes], BodyReader.ended());
    const received = { bytes, bearer };
    const near = await this.sync.applyNear(site, received, fingerprint);
    if (near) return { kind: "synced", response: near };
    const body = parseJson(bytes);
    const payload = validateEnvelope(body);
    checkSite(site, payload.site, bearer);
    const intake = this.intake(site);
    const turn = new Turn();
    try {
      for (const raw of payload.modules) {
        const writing = intake.add(raw, body.suspectText);
        if (writing) await writing;
        if (turn.due()) await turn.give();
      }
      refuseEmptyFullSync(payload, intake);
      if (intake.task === null) return { kind: "synced", response: await this.sync.apply(site, payload, intake.modules, fingerprint, received) };
      await intake.finish();
      return await this.accept(intake, payload);
    } catch (err) {
      await intake.abort();
      throw err;
    }
  }

  /** A body too large to hold: split as it arrives; `head` holds the chunks already read. */
  private async receiveStream(site: SiteRecord, bearer: Bearer, head: Uint8Array[], body: BodyReader): Promise<Received> {
    // Only the fields modsync reads are kept (a null prototype: "__proto__" is just a name).
    const fields: Record<string, unknown> = Object.create(null);
    const intake = this.intake(site);
    const turn = new Turn();
    const collections = CollectionPacer.for(UPLOAD_PACING, this.collections);
    const splitter = new PayloadSplitter({
      field: (name, value) => {
        fields[name] = value;
        // The site's own checks, as soon as its block has been read: a refused
        // body is not read, judged or staged any further.
        if (name === "site" && siteInfo.check(value)) checkSite(site, value, bearer);
      },
      modules: async (chunk) => {
        for (const item of chunk) {
          const writing = intake.add(item.value, item.suspectText);
          if (writing) await writing;
          if (turn.due()) await turn.give();
        }
      },
    }, ENVELOPE_FIELDS);

    try {
      for (const chunk of head) await splitter.push(chunk);
      for (let chunk = await body.next(); chunk !== null; chunk = await body.next()) {
        await splitter.push(chunk);
        collections.done(chunk.byteLength); // decompressed bytes: the JSON parsed
        if (turn.late()) await turn.give();
      }
      splitter.end();
      if (splitter.modulesArray) fields.modules = [];
      // Every envelope string is checked for unstorable text: it is small.
      // The site block passed checkSite() as soon as it was read: a valid envelope's block is a SiteInfo.
      const payload = validateEnvelope({ value: fields, suspectText: true });
      // Past WHOLE_BODY_BYTES the body has no fingerprint: such re-syncs are compared, not skipped.
      refuseEmptyFullSync(payload, intake);
      if (intake.task === null) return { kind: "synced", response: await this.sync.apply(site, payload, intake.modules, null) };
      await intake.finish();
      return await this.accept(intake, payload);
    } catch (err) {
      await body.cancel();
      await intake.abort();
      if (err instanceof PayloadSyntaxError) throw invalidJson(err.message, err.message);
      if (err instanceof FieldTooLargeError) throw badRequest("Invalid sync payload", [{ loc: ["body", err.field], msg: err.message }]);
      throw err;
    }
  }

  private intake(site: SiteRecord): Intake {
    const { backgroundThreshold, batchSize } = this.config;
    // Staged a transaction's worth at a time, as the workers apply them: nothing staged counts before
    // the upload is accepted, so grouping batches costs no durability and spares SQLite most commits.
    return new Intake(this.store.tasks, { siteId: site.id, backgroundThreshold, stageRows: batchSize * batchesPerCommit(batchSize) });
  }

  private async accept(intake: Intake, payload: Envelope): Promise<Received> {
    const taskId = intake.task!;
    const { total } = await this.store.tasks.acceptUpload(taskId, { ...envelopeOf(payload), errorsTotal: intake.errorsTotal });
    await this.queue.push(taskId);
    return { kind: "accepted", taskId, total };
  }
}
