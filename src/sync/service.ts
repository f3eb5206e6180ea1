// The sync use case: check the payload against the site, then hand the store
// one command to apply atomically. HTTP concerns stay in the controller.
import { badRequest, forbidden, siteBusy } from "../errors";
import type { Logger } from "../log";
import { tokenMatches } from "../security/tokens";
import { normalizeSiteUrl } from "../sites/url";
import type { CacheReport, IdCache } from "../cache/ids";
import type { Metrics } from "../metrics/registry";
import { SiteBusyError, type SiteRecord, type Store } from "../store/types";
import { NearRepeatStaleError } from "../store/site-states";
import { syncResult, unchangedCounts, type EntryError, type KnownIds, type LearnedIds, type RepeatSummary, type SiteModuleState, type SyncCommand, type SyncCounts, type SyncOutcome, type SyncResult } from "../inventory";
import { envelopeOf, judgeEntry, validateEnvelope, type Envelope, type ValidatedModules } from "./validate";
import { SUSPECT_ESCAPE } from "../http/body";
import { NearRepeats, type KeptEnvelope, type NearRepeat } from "./near-repeats";

/** A body as it came, for a sync applied at once to remember (near-repeats.ts). */
export interface ReceivedBody {
  bytes: Uint8Array;
  bearer: Bearer;
}

/** What a repeat of a body with no skipped entry reports. */
const repeatOf = (modules: number): string => JSON.stringify({ modules, errors: [], errorsTotal: 0 } satisfies RepeatSummary);

/** How long a sync waits for the site's earlier background syncs before answering 503. */
const SITE_BUSY_WAIT_MS = 60_000;

/** Who a sync's bearer token names: a person (API token) or the site itself (its site token). */
export type Bearer = "user" | "site";

/**
 * Site token (403), then site URL (400): the checks after the body's shape.
 * With the site's own token as the bearer (checked already), site.token may
 * be absent, and must match if present; a person's bearer needs it.
 */
export function checkSite(site: SiteRecord, given: Envelope["site"], bearer: Bearer): void {
  if (given.token === undefined) {
    if (bearer === "user") {
      throw badRequest("Invalid sync payload", [{ loc: ["body", "site", "token"], msg: "Required unless the bearer is the site's own token" }]);
    }
  } else if (!tokenMatches(given.token, site.tokenHash)) throw forbidden("Invalid site token", "invalid_site_token");
  if (normalizeSiteUrl(given.url) !== site.normalizedUrl) {
    throw badRequest("Site URL does not match the registered URL", [
      { loc: ["body", "site", "url"], msg: `Expected the URL registered for site ${site.id}` },
    ], "site_url_mismatch");
  }
}

export class SyncService {
  constructor(
    private readonly store: Store,
    private readonly cache: IdCache,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
    private readonly nearRepeats: NearRepeats | null,
  ) {}

  /**
   * The common re-sync: a body byte for byte the one whose modules the site
   * already holds. It passed every check then (the same bytes carry the same
   * site token, URL and entries), so it is answered from what was stored with
   * its fingerprint, without being parsed again; null when it is not that body.
   */
  async replay(site: SiteRecord, fingerprint: string): Promise<SyncResult | null> {
    const started = performance.now();
    const stored = await this.store.recordRepeatedSync(site.id, fingerprint);
    if (stored === null) return null;
    const repeat = JSON.parse(stored) as RepeatSummary;
    return this.report(site, false, true, unchangedCounts(repeat.modules), repeat.errors, repeat.errorsTotal, null, started);
  }

  /**
   * A body that differs from the site's last one in a run of entries,
   * applied from that run alone (near-repeats.ts); null when it is not such
   * a body, or is but cannot be applied so (the caller applies it in full).
   * `fingerprint`: the body's.
   */
  async applyNear(site: SiteRecord, body: ReceivedBody, fingerprint: string): Promise<SyncResult | null> {
    const started = performance.now();
    const near = this.nearRepeats?.match(site.id, site, body.bearer, body.bytes, fingerprint) ?? null;
    if (near === null) return null;
    // The store no longer keeps the modules that body left (another writer, or more sites than it keeps):
    // its transaction would refuse it.
    if (!this.store.keepsModulesOf(site.id, near.assumes)) {
      this.nearRepeats!.forget(site.id);
      return null;
    }
    const envelope = near.envelopeText === null ? near.next.envelope : checkedEnvelope(near.envelopeText, site, body.bearer);
    if (envelope === null) return null;
    near.next.envelope = envelope;
    const entries = judgedRun(near);
    if (entries === null) return null;
    const lookup = await this.cache.lookup(entries);
    // Ids the cache lacks are resolved, and all compared, in the sync's transaction.
    if (namesOtherModules(lookup.known, near.moduleIds)) return null;
    const command: SyncCommand = {
      ...envelope,
      // Its entries alone must remove nothing (the store also plans a near repeat so).
      fullSync: false,
      siteId: site.id,
      entries,
      keep: new Set(),
      fingerprint,
      repeat: repeatOf(entries.length + near.untouched),
      partOf: { untouched: near.untouched, assumes: near.assumes, moduleIds: near.moduleIds },
    };
    let outcome;
    try {
      outcome = await this.whenSiteIsFree(site.id, () => this.store.applySync(command, lookup.known));
    } catch (err) {
      if (!(err instanceof NearRepeatStaleError)) throw err;
      this.nearRepeats!.forget(site.id);
      return null;
    }
    await this.cache.remember(outcome.learned);
    if (outcome.exact) this.nearRepeats!.applied(site.id, near);
    else this.nearRepeats!.forget(site.id);
    return this.report(site, envelope.fullSync, false, outcome.counts, [], 0, lookup.report, started);
  }

  /** Applies an envelope that passed checkSite() with its validated modules; `body`, when whole, to remember. */
  async apply(site: SiteRecord, payload: Envelope, modules: ValidatedModules, fingerprint: string | null, body?: ReceivedBody): Promise<SyncResult> {
    const started = performance.now();
    const repeat: RepeatSummary = { modules: modules.entries.length, errors: modules.errors, errorsTotal: modules.errorsTotal };
    const command: SyncCommand = {
      ...envelopeOf(payload),
      siteId: site.id,
      entries: modules.entries,
      keep: modules.skipped,
      fingerprint,
      repeat: JSON.stringify(repeat),
    };
    const lookup = await this.cache.lookup(modules.entries);
    const outcome = await this.whenSiteIsFree(site.id, () => this.store.applySync(command, lookup.known));
    await this.cache.remember(outcome.learned);
    this.rememberLayout(site, payload, modules, fingerprint, body, outcome, lookup.known);
    return this.report(site, command.fullSync, false, outcome.counts, modules.errors, modules.errorsTotal, lookup.report, started);
  }

  /**
   * After a sync applied at once: its body's layout, for near repeats of it,
   * if it was whole, had no skipped entry and left the site holding exactly
   * its modules; otherwise the site's last layout is forgotten.
   */
  private rememberLayout(
    site: SiteRecord, payload: Envelope, modules: ValidatedModules, fingerprint: string | null, body: ReceivedBody | undefined,
    outcome: SyncOutcome, known: KnownIds,
  ): void {
    if (this.nearRepeats === null) return;
    const moduleIds = outcome.exact && modules.errorsTotal === 0 && body !== undefined ? moduleIdsOf(modules.entries, known, outcome.learned) : null;
    if (moduleIds === null || fingerprint === null || body === undefined) this.nearRepeats.forget(site.id);
    else this.nearRepeats.remember(site.id, site, body.bearer, body.bytes, fingerprint, moduleIds, envelopeOf(payload));
  }

  private report(site: SiteRecord, fullSync: boolean, replayed: boolean, counts: SyncCounts, errors: EntryError[], errorsTotal: number, cache: CacheReport | null, started: number): SyncResult {
    const result = syncResult(site.id, counts, errors, errorsTotal);
    this.metrics.recordSync(fullSync, replayed, counts, cache);
    this.logger.info("sync", {
      site_id: site.id, full_sync: fullSync, path: replayed ? "unchanged" : "applied", processed: result.modules_processed,
      created: counts.modulesCreated, updated: counts.modulesUpdated, unchanged: counts.modulesUnchanged,
      removed: counts.modulesRemoved, skipped: errorsTotal, cache,
      ms: Math.round((performance.now() - started) * 10) / 10,
    });
    return result;
  }

  /**
   * Syncs of a site apply in the order they were accepted: while background
   * syncs accepted earlier are unfinished, wait (with backoff), then 503.
   */
  private async whenSiteIsFree<T>(siteId: number, work: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + SITE_BUSY_WAIT_MS;
    for (let delay = 50; ; delay = Math.min(delay * 2, 1000)) {
      try {
        return await work();
      } catch (err) {
        if (!(err instanceof SiteBusyError)) throw err;
        if (Date.now() + delay > deadline) {
          throw siteBusy(30);
        }
        await Bun.sleep(delay);
      }
    }
  }
}

/**
 * Valid entries as judged, by the value NearRepeats parsed them to: it gives
 * one value per distinct entry segment, and a valid judgement depends on
 * nothing else. It holds no position, and `suspectText` cannot change it:
 * text that would fail that check needs an escape in the entry's own text,
 * whose flag is always part of the run's. Only valid judgements are kept.
 */
const judgedEntries = new WeakMap<object, SiteModuleState>();

/** A near repeat's run, judged: its entries, or null if any would be skipped (the body is then applied in full, to report it). */
function judgedRun(near: NearRepeat): SiteModuleState[] | null {
  const entries: SiteModuleState[] = [];
  for (let i = 0; i < near.values.length; i++) {
    const value = near.values[i];
    let entry = typeof value === "object" && value !== null ? judgedEntries.get(value) : undefined;
    if (entry === undefined) {
      entry = judgeEntry(value, near.first + i, near.suspectText, true).entry;
      if (entry === undefined) return null;
      judgedEntries.set(value as object, entry);
    }
    entries.push(entry);
  }
  return entries;
}

/** Whether the cache knows a run's entry to name another module than the entry it replaces. */
function namesOtherModules(known: KnownIds, moduleIds: Uint32Array): boolean {
  for (let i = 0; i < moduleIds.length; i++) if (known.moduleIds[i] !== 0 && known.moduleIds[i] !== moduleIds[i]) return true;
  return false;
}

/**
 * Each entry's module id, known before or learned by the sync, in four bytes
 * (catalog ids are far below 2^32); null if one is missing or larger.
 */
function moduleIdsOf(entries: readonly SiteModuleState[], known: KnownIds, learned: LearnedIds): Uint32Array | null {
  const ids = new Uint32Array(entries.length);
  for (let i = 0; i < entries.length; i++) {
    const id = known.moduleIds[i] || learned.modules.get(entries[i]!.machineName);
    if (id === undefined || id === 0 || id > 0xffffffff) return null;
    ids[i] = id;
  }
  return ids;
}

/**
 * A near repeat's changed envelope (the body with its entries left out),
 * checked as a whole body's is: null if it fails any check (the body is then
 * applied in full, to answer as that fails).
 */
function checkedEnvelope(text: string, site: SiteRecord, bearer: Bearer): KeptEnvelope | null {
  try {
    const payload = validateEnvelope({ value: JSON.parse(text), suspectText: SUSPECT_ESCAPE.test(text) });
    checkSite(site, payload.site, bearer);
    return envelopeOf(payload);
  } catch {
    return null;
  }
}
