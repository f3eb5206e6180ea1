// Fetches the release-history documents of the projects the stored
// inventories use from RELEASE_HISTORY_URL, at most once per
// RELEASE_REFRESH_HOURS across every instance (a lease row in the database,
// so it holds with and without Redis), conditionally (If-None-Match /
// If-Modified-Since: a 304 keeps the stored document). A fetch that fails
// (network, status, malformed document) keeps the last good document and is
// logged and counted. Runs in the background (upkeep.ts), never on a request.
import { MAX_XML_BYTES, parseReleaseHistory, PROJECT_NAME, ReleaseHistoryError } from "../releases";
import type { Logger } from "../log";
import type { HistoryDocument, RefreshTarget, ReleaseStore } from "../store/releases/types";

export const REFRESH_LEASE = "release-refresh";
/** A dead holder's lease lapses after it; a live one renews it while it fetches (every third of it). */
export const LEASE_MS = 30 * 60_000;
const FETCH_CONCURRENCY = 4;
/** How soon a refresh in which a fetch failed is tried again. */
export const RETRY_FAILED_MS = 15 * 60_000;
/** Per document, headers and body together: a server that stalls cannot hold the refresh. */
const FETCH_TIMEOUT_MS = 30_000;
/** Documents stored per transaction. */
const SAVE_BATCH = 50;

export type FetchResult = "changed" | "unchanged" | "failed";

export interface RefreshReport {
  fetched: number;
  changed: string[];
  unchanged: number;
  failed: { project: string; reason: string }[];
}

export interface RefresherOptions {
  /** RELEASE_HISTORY_URL: documents are at `${baseUrl}/${project}/current`. */
  baseUrl: string;
  everyMs: number;
  owner: string;
  logger: Logger;
  clock?: () => number;
  /** Counts each fetch by result. */
  onFetch?: (result: FetchResult) => void;
  fetch?: typeof fetch;
  /** Documents fetched at once (default FETCH_CONCURRENCY). */
  concurrency?: number;
  /** Time allowed per document (default FETCH_TIMEOUT_MS). */
  fetchTimeoutMs?: number;
}

class FetchFailure extends Error {}

export class ReleaseRefresher {
  private readonly clock: () => number;
  private readonly fetch: typeof fetch;

  constructor(private readonly releases: ReleaseStore, private readonly options: RefresherOptions) {
    this.clock = options.clock ?? Date.now;
    this.fetch = options.fetch ?? fetch;
  }

  /** Refreshes every project in use if this instance takes the lease (the interval has passed); null otherwise. */
  async refreshIfDue(): Promise<RefreshReport | null> {
    const { owner, everyMs } = this.options;
    if (!(await this.releases.takeLease(REFRESH_LEASE, owner, new Date(this.clock()), LEASE_MS, everyMs))) return null;
    let retrySoon = true;
    try {
      const report = await this.refreshAll();
      retrySoon = report.failed.length > 0;
      return report;
    } finally {
      // After a failure the next refresh is due RETRY_FAILED_MS from now, not a whole interval:
      // recorded as done that much earlier. The projects that did not fail then answer 304s.
      const now = this.clock();
      const doneAt = retrySoon ? now - everyMs + Math.min(RETRY_FAILED_MS, everyMs) : now;
      await this.releases.finishLease(REFRESH_LEASE, owner, new Date(doneAt));
    }
  }

  private async refreshAll(): Promise<RefreshReport> {
    const targets = (await this.releases.projectsInUse()).filter((t) => PROJECT_NAME.test(t.project));
    const report: RefreshReport = { fetched: targets.length, changed: [], unchanged: 0, failed: [] };
    const documents: HistoryDocument[] = [];
    const unchanged: string[] = [];
    let next = 0;
    let renewedAt = this.clock();
    let leaseLost = false;
    // A refresh longer than the lease would let a second instance start one: renew it as fetches finish.
    const keepLease = async () => {
      const now = this.clock();
      if (leaseLost || now - renewedAt < LEASE_MS / 3) return;
      renewedAt = now;
      if (!(await this.releases.renewLease(REFRESH_LEASE, this.options.owner, new Date(now), LEASE_MS))) {
        leaseLost = true;
        this.options.logger.warn("release refresh lease lost; another instance refreshes, this one stops fetching");
      }
    };
    const worker = async () => {
      while (next < targets.length && !leaseLost) {
        const target = targets[next++]!;
        try {
          const document = await this.fetchOne(target);
          if (document) documents.push(document);
          else unchanged.push(target.project);
          this.options.onFetch?.(document ? "changed" : "unchanged");
        } catch (err) {
          const reason = err instanceof Error ? err.message : String(err);
          report.failed.push({ project: target.project, reason });
          this.options.onFetch?.("failed");
          this.options.logger.warn("release history fetch failed; the last good data is kept", { project: target.project, reason });
        }
        await keepLease();
      }
    };
    await Promise.all(Array.from({ length: this.options.concurrency ?? FETCH_CONCURRENCY }, worker));
    const now = new Date(this.clock());
    for (let i = 0; i < documents.length; i += SAVE_BATCH) {
      report.changed.push(...await this.releases.saveHistories(documents.slice(i, i + SAVE_BATCH), now));
    }
    await this.releases.confirmHistories(unchanged, now);
    report.unchanged = unchanged.length + documents.length - report.changed.length;
    this.options.logger.info("release histories refreshed", {
      projects: report.fetched, changed: report.changed.length, unchanged: report.unchanged, failed: report.failed.length,
    });
    return report;
  }

  /** The new document, or null when the stored one is still current (304). */
  private async fetchOne(target: RefreshTarget): Promise<HistoryDocument | null> {
    const headers: Record<string, string> = { "User-Agent": "modsync release refresher" };
    if (target.etag) headers["If-None-Match"] = target.etag;
    if (target.lastModified) headers["If-Modified-Since"] = target.lastModified;
    const url = `${this.options.baseUrl.replace(/\/+$/, "")}/${target.project}/current`;
    let response: Response;
    try {
      response = await this.fetch(url, { headers, signal: AbortSignal.timeout(this.options.fetchTimeoutMs ?? FETCH_TIMEOUT_MS) });
    } catch (err) {
      throw new FetchFailure(`request failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (response.status === 304 && (target.etag || target.lastModified)) return null;
    if (response.status !== 200) {
      await response.body?.cancel();
      throw new FetchFailure(`HTTP ${response.status}`);
    }
    const history = parseFetched(await readCapped(response));
    if (history.project !== target.project) throw new FetchFailure(`document is for project "${history.project}"`);
    return { history, etag: response.headers.get("etag"), lastModified: response.headers.get("last-modified") };
  }
}

function parseFetched(text: string) {
  try {
    return parseReleaseHistory(text);
  } catch (err) {
    if (err instanceof ReleaseHistoryError) throw new FetchFailure(`malformed document: ${err.message}`);
    throw err;
  }
}

/** The body as text, refusing (and no longer reading) one past MAX_XML_BYTES. */
async function readCapped(response: Response): Promise<string> {
  const declared = Number(response.headers.get("content-length") ?? NaN);
  if (declared > MAX_XML_BYTES) {
    await response.body?.cancel();
    throw new FetchFailure(`document larger than ${MAX_XML_BYTES} bytes`);
  }
  if (!response.body) return "";
  const reader = response.body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_XML_BYTES) {
      await reader.cancel();
      throw new FetchFailure(`document larger than ${MAX_XML_BYTES} bytes`);
    }
    parts.push(value);
  }
  return new TextDecoder("utf-8", { fatal: false }).decode(Buffer.concat(parts));
}
