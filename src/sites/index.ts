// Controller: site registration and the read routes.
import { Elysia } from "elysia";
import { bearerSecurity, type BearerAuth } from "../http/auth";
import { compile, readJson, SMALL_BODY_BYTES, validateOr400 } from "../http/body";
import { authErrors, documentedBody, ErrorResponse, ValidationErrorResponse } from "../http/model";
import type { SitesService } from "./service";
import { moduleFilterParameters, pageParameters, Site, SiteCreateBody, SiteCreated, SiteList, SiteModuleList, siteIdParameter, staleParameter } from "./model";

const createBody = compile(SiteCreateBody);

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
        summary: "Register a site",
        description: "Registers a Drupal site in an organization the caller belongs to. The returned token is shown only once.",
        tags: ["Sites"],
        security: bearerSecurity,
        requestBody: documentedBody(SiteCreateBody),
      },
    })
    .get("", async ({ userId, query }) => sites.list(userId, query), {
      auth: true,
      response: { 200: SiteList, 400: ValidationErrorResponse, 401: ErrorResponse },
      detail: { summary: "List the caller's sites", tags: ["Sites"], security: bearerSecurity, parameters: [staleParameter, ...pageParameters] },
    })
    .get("/:site_id", async ({ userId, params }) => sites.get(await sites.requireAccess(params.site_id, userId)), {
      auth: true,
      response: { 200: Site, ...authErrors },
      detail: { summary: "One site: drupal_info, last sync, module count", tags: ["Sites"], security: bearerSecurity, parameters: [siteIdParameter] },
    })
    .get("/:site_id/modules", async ({ userId, params, query }) =>
      sites.listModules(await sites.requireAccess(params.site_id, userId), query), {
      auth: true,
      response: { 200: SiteModuleList, 400: ValidationErrorResponse, ...authErrors },
      detail: {
        summary: "A site's modules, by machine_name",
        tags: ["Sites"],
        security: bearerSecurity,
        parameters: [siteIdParameter, ...moduleFilterParameters, ...pageParameters],
      },
    });
}
