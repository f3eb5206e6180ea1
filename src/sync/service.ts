// The sync use case: check the payload against the site, then hand the store
// one command to apply atomically. HTTP concerns stay in the controller.
import { badRequest, forbidden } from "../errors";
import type { Logger } from "../log";
import { tokenMatches } from "../security/tokens";
import { normalizeSiteUrl } from "../sites/url";
import type { SiteRecord, Store } from "../store/types";
import { validateEnvelope, validateModules, type EntryError } from "./validate";

export interface SyncResponse {
  site_id: number;
  modules_processed: number;
  modules_created: number;
  modules_updated: number;
  modules_unchanged: number;
  modules_removed: number;
  errors: EntryError[];
  message: string;
}

export class SyncService {
  constructor(private readonly store: Store, private readonly logger: Logger) {}

  /**
   * Checks in the API's order: body shape (400), site token (403), site URL
   * (400); then applies. `fingerprint` identifies the exact body (or is null).
   */
  async sync(site: SiteRecord, body: unknown, fingerprint: string | null): Promise<SyncResponse> {
    const payload = validateEnvelope(body);
    if (!tokenMatches(payload.site.token, site.tokenHash)) throw forbidden("Invalid site token");
    if (normalizeSiteUrl(payload.site.url) !== site.normalizedUrl) {
      throw badRequest("Site URL does not match the registered URL", [
        { loc: ["body", "site", "url"], msg: `Expected the URL registered for site ${site.id}` },
      ]);
    }
    const modules = validateModules(payload.modules);
    const started = performance.now();
    const counts = await this.store.applySync({
      siteId: site.id,
      siteName: payload.site.name,
      drupalInfo: {
        coreVersion: payload.drupal_info.core_version,
        phpVersion: payload.drupal_info.php_version,
        ipAddress: payload.drupal_info.ip_address,
      },
      entries: modules.entries,
      fullSync: payload.full_sync === true,
      keep: modules.skipped,
      fingerprint,
      now: new Date(),
    });
    const processed = counts.modulesCreated + counts.modulesUpdated + counts.modulesUnchanged;
    this.logger.debug("sync applied", {
      site_id: site.id, processed, created: counts.modulesCreated, updated: counts.modulesUpdated,
      removed: counts.modulesRemoved, skipped: modules.errors.length, ms: Math.round(performance.now() - started),
    });
    return {
      site_id: site.id,
      modules_processed: processed,
      modules_created: counts.modulesCreated,
      modules_updated: counts.modulesUpdated,
      modules_unchanged: counts.modulesUnchanged,
      modules_removed: counts.modulesRemoved,
      errors: modules.errors,
      message: `Successfully synced ${processed} modules`,
    };
  }
}
