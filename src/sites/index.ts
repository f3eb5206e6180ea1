// Controller: site registration and the read routes.
import { Elysia } from "elysia";
import { bearerSecurity, type BearerAuth } from "../http/auth";
import { compile, readJson, SMALL_BODY_BYTES, validateOr400 } from "../http/body";
import { authErrors, ErrorResponse, ValidationErrorResponse } from "../http/model";
import { documentedBody, documentedResponse, errorResponse } from "../http/openapi";
import type { SitesService } from "./service";
import { moduleFilterParameters, pageParameters, Site, SiteCreateBody, SiteCreated, SiteList, SiteModuleList, siteIdParameter } from "./model";

const createBody = compile(SiteCreateBody);

/** The answers of a route that reads one site the caller must be a member of. */
export const siteReadErrors = {
  401: errorResponse("Missing, unknown or revoked bearer token"),
  403: errorResponse("Not a member of the site's organization"),
  404: errorResponse("No such site (also for a `site_id` that is not a positive 32-bit integer)"),
};

export function sitesRoutes({ auth, sites }: { auth: BearerAuth; sites: SitesService }) {
  return new Elysia({ name: "sites", prefix: "/api/v1/sites" })
    .use(auth)
    .post("", async ({ request, userId, set }) => {
      const body = validateOr400(createBody, await readJson(request, SMALL_BODY_BYTES), "Invalid site");
      set.status = 201;
      return sites.register(userId, { organizationId: body.organization_id, url: body.url, name: body.name });
    }, {
      auth: true,
      parse: "none",
      response: { 201: SiteCreated, 400: ValidationErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 409: ErrorResponse, 413: ErrorResponse },
      detail: {
        operationId: "registerSite",
        summary: "Register a site",
        description: "Registers a Drupal site in an organization the caller belongs to. The returned token is shown only once.",
        tags: ["Sites"],
        security: bearerSecurity,
        requestBody: documentedBody(SiteCreateBody),
        responses: {
          201: documentedResponse(SiteCreated, "Registered: the site, with its token (shown only this once)"),
          400: errorResponse("Body not JSON, or a field missing or invalid (`errors` names it)", undefined, ValidationErrorResponse),
          401: errorResponse("Missing, unknown or revoked bearer token"),
          403: errorResponse("Not a member of that organization"),
          409: errorResponse("The organization already has a site with this URL"),
          413: errorResponse("Body larger than 64 KiB"),
        },
      },
    })
    .get("", async ({ userId, query }) => sites.list(userId, query), {
      auth: true,
      response: { 200: SiteList, 400: ValidationErrorResponse, 401: ErrorResponse },
      detail: {
        operationId: "listSites",
        summary: "List the caller's sites",
        description: "The sites of every organization the caller belongs to, by id; follow `next_cursor` for the next page.",
        tags: ["Sites"],
        security: bearerSecurity,
        parameters: pageParameters,
        responses: {
          200: documentedResponse(SiteList, "One page of sites"),
          400: errorResponse("`limit` or `cursor` invalid (`errors` names it)", undefined, ValidationErrorResponse),
          401: siteReadErrors[401],
        },
      },
    })
    .get("/:site_id", async ({ userId, params }) => sites.get(await sites.requireAccess(params.site_id, userId)), {
      auth: true,
      response: { 200: Site, ...authErrors },
      detail: {
        operationId: "getSite",
        summary: "One site: drupal_info, last sync, module count, update status counts",
        tags: ["Sites"],
        security: bearerSecurity,
        parameters: [siteIdParameter],
        responses: { 200: documentedResponse(Site, "The site"), ...siteReadErrors },
      },
    })
    .get("/:site_id/modules", async ({ userId, params, query }) =>
      sites.listModules(await sites.requireAccess(params.site_id, userId), query), {
      auth: true,
      response: { 200: SiteModuleList, 400: ValidationErrorResponse, ...authErrors },
      detail: {
        operationId: "listSiteModules",
        summary: "A site's modules, by machine_name",
        description: "Optionally filtered by `module_type` and `enabled`; follow `next_cursor` for the next page.",
        tags: ["Sites"],
        security: bearerSecurity,
        parameters: [siteIdParameter, ...moduleFilterParameters, ...pageParameters],
        responses: {
          200: documentedResponse(SiteModuleList, "One page of the site's modules"),
          400: errorResponse("A query parameter invalid (`errors` names it)", undefined, ValidationErrorResponse),
          ...siteReadErrors,
        },
      },
    });
}
