// Controller: update statuses of a site's projects, and the caller's sites
// exposed to security issues. Both read statuses computed in the background.
import { Elysia } from "elysia";
import { bearerSecurity, type BearerAuth } from "../http/auth";
import { authErrors, ErrorResponse, ValidationErrorResponse } from "../http/model";
import { documentedResponse, errorResponse } from "../http/openapi";
import { siteReadErrors } from "../sites";
import { siteIdParameter } from "../sites/model";
import type { SitesService } from "../sites/service";
import { securityPageParameters, SecurityReport, SiteUpdateList } from "./model";
import type { UpdatesService } from "./service";

export function updatesRoutes({ auth, sites, updates }: { auth: BearerAuth; sites: SitesService; updates: UpdatesService }) {
  return new Elysia({ name: "updates" })
    .use(auth)
    .get("/api/v1/sites/:site_id/updates", async ({ userId, params }) =>
      updates.siteUpdates(await sites.requireAccess(params.site_id, userId)), {
      auth: true,
      response: { 200: SiteUpdateList, ...authErrors },
      detail: {
        operationId: "getSiteUpdates",
        summary: "Update and security status of a site's projects",
        description: "Each installed drupal.org project (core as `drupal` at the site's core version; custom modules have none) with its status "
          + "as Drupal core's Update module computes it from drupal.org release data, the recommended release, the security release to install "
          + "and links. Computed in the background after each sync and each change of release data: `computed_at` says when.",
        tags: ["Updates"],
        security: bearerSecurity,
        parameters: [siteIdParameter],
        responses: { 200: documentedResponse(SiteUpdateList, "The site's projects, by name (none before its first computation)"), ...siteReadErrors },
      },
    })
    .get("/api/v1/security", async ({ userId, query }) => updates.security(userId, query), {
      auth: true,
      response: { 200: SecurityReport, 400: ValidationErrorResponse, 401: ErrorResponse },
      detail: {
        operationId: "getSecurityReport",
        summary: "The caller's sites running not_secure or revoked projects, most exposed first",
        description: "Sites of every organization the caller belongs to with at least one project `not_secure` or `revoked`, "
          + "ordered by their count of not_secure projects, then revoked ones, then id; follow `next_cursor` for the next page. "
          + "A site whose counts change between two pages is listed at its new place.",
        tags: ["Updates"],
        security: bearerSecurity,
        parameters: securityPageParameters,
        responses: {
          200: documentedResponse(SecurityReport, "A page of the exposed sites, most exposed first, and how many there are"),
          400: errorResponse("`limit` or `cursor` invalid (`errors` names it)", undefined, ValidationErrorResponse),
          401: siteReadErrors[401],
        },
      },
    });
}
