// Controller: what changed, on one site or on all the caller's sites.
import { Elysia } from "elysia";
import { bearerSecurity, type BearerAuth } from "../http/auth";
import { authErrors, ErrorResponse, ValidationErrorResponse } from "../http/model";
import { documentedResponse, errorResponse } from "../http/openapi";
import { pageParameters, siteIdParameter } from "../sites/model";
import type { SitesService } from "../sites/service";
import { ChangeList, organizationFilterParameter, timeRangeParameters } from "./model";
import type { ChangesService } from "./service";

export function changesRoutes({ auth, sites, changes }: { auth: BearerAuth; sites: SitesService; changes: ChangesService }) {
  const description = "Module added or removed, version from → to, enabled or disabled, core and PHP version changes, in time order. "
    + "A site's first sync is one initial_inventory change with its module count.";
  const invalid = errorResponse("`since`, `until`, `limit` or `cursor` invalid (`errors` names it)", undefined, ValidationErrorResponse);
  const unauthorized = errorResponse("Missing, unknown or revoked bearer token");
  const page = documentedResponse(ChangeList, "One page of changes, oldest first");
  return new Elysia({ name: "changes" })
    .use(auth)
    .get("/api/v1/sites/:site_id/changes", async ({ userId, params, query }) =>
      changes.ofSite(await sites.requireAccess(params.site_id, userId), query), {
      auth: true,
      response: { 200: ChangeList, 400: ValidationErrorResponse, ...authErrors },
      detail: {
        operationId: "listSiteChanges",
        summary: "What changed on a site", description, tags: ["Questions"], security: bearerSecurity,
        parameters: [siteIdParameter, ...timeRangeParameters, ...pageParameters],
        responses: {
          200: page, 400: invalid, 401: unauthorized,
          403: errorResponse("Not a member of the site's organization"),
          404: errorResponse("No such site (also for a `site_id` that is not a positive 32-bit integer)"),
        },
      },
    })
    .get("/api/v1/changes", async ({ userId, query }) => changes.ofOrganizations(userId, query), {
      auth: true,
      response: { 200: ChangeList, 400: ValidationErrorResponse, 401: ErrorResponse, 403: ErrorResponse },
      detail: {
        operationId: "listChanges",
        summary: "What changed on all your sites", description, tags: ["Questions"], security: bearerSecurity,
        parameters: [...timeRangeParameters, ...organizationFilterParameter, ...pageParameters],
        responses: {
          200: page, 400: invalid, 401: unauthorized,
          403: errorResponse("`organization_id` names an organization the caller is not a member of"),
        },
      },
    });
}
