// Controller: site registration, token rotation, deletion and the read routes.
// Reads answer with an ETag (304 for a matching If-None-Match); lists add
// `Link: rel="next"`. Registering, rotating and deleting need an admin of
// the site's organization; reading needs a member.
import { Elysia } from "elysia";
import { bearerSecurity, type BearerAuth } from "../http/auth";
import { compile, readJson, SMALL_BODY_BYTES, validateOr400 } from "../http/body";
import { conditional, linkNext } from "../http/conditional";
import { authErrors, ErrorResponse, ValidationErrorResponse } from "../http/model";
import { documentedBody, documentedResponse, errorResponse, type HeaderDocs } from "../http/openapi";
import type { RateLimiter } from "../ratelimit/bucket";
import type { SitesService } from "./service";
import {
  conditionalGetDocs, moduleFilterParameters, pageParameters, Site, SiteCreateBody, SiteCreated, SiteList, SiteModuleList, SiteToken, siteIdParameter,
  staleParameter,
} from "./model";

const createBody = compile(SiteCreateBody);

/** The answers of a route that reads one site the caller must be a member of. */
export const siteReadErrors = {
  401: errorResponse("Missing, unknown or revoked bearer token"),
  403: errorResponse("Not a member of the site's organization"),
  404: errorResponse("No such site (also for a `site_id` that is not a positive 32-bit integer)"),
};

/** The answers of a route only the site organization's admins may call. */
const siteAdminErrors = {
  ...siteReadErrors,
  403: errorResponse("Not a member of the site's organization (`not_a_member`), or a member but not an admin (`role_required`)"),
};

const ETAG: HeaderDocs = { ETag: { description: "The answer's tag: send it back as `If-None-Match`", schema: { type: "string" } } };
const LINK: HeaderDocs = { Link: { description: "`</same/path?…&cursor=…>; rel=\"next\"` while there is a next page", schema: { type: "string" } } };
const NOT_MODIFIED = { 304: { description: "Not modified: `If-None-Match` names the current `ETag`" } };

export function sitesRoutes({ auth, sites, limiter }: { auth: BearerAuth; sites: SitesService; limiter: RateLimiter }) {
  return new Elysia({ name: "sites", prefix: "/api/v1/sites" })
    .use(auth)
    // Registration and rotation answer a site token, which modsync keeps only
    // as a hash: their answers are never stored to be replayed (no
    // Idempotency-Key). Retrying them is safe as it is: a registration retried
    // is a 409 (the URL is registered, no second site); a rotation retried
    // rotates again, and the last token answered is the one that works.
    .post("", async ({ request, userId, set }) => {
      const body = validateOr400(createBody, await readJson(request, SMALL_BODY_BYTES), "Invalid site");
      const created = await sites.register(userId, { organizationId: body.organization_id, url: body.url, name: body.name });
      set.status = 201;
      set.headers.location = `/api/v1/sites/${created.id}`;
      return created;
    }, {
      auth: true,
      parse: "none",
      response: { 201: SiteCreated, 400: ValidationErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 409: ErrorResponse, 413: ErrorResponse },
      detail: {
        operationId: "registerSite",
        summary: "Register a site",
        description: "Registers a Drupal site in an organization the caller is an admin of. The returned token is shown only once.",
        tags: ["Sites"],
        security: bearerSecurity,
        requestBody: documentedBody(SiteCreateBody),
        responses: {
          201: documentedResponse(SiteCreated, "Registered: the site, with its token (shown only this once)", {
            Location: { description: "The new site's URL, `/api/v1/sites/{id}`", schema: { type: "string" } },
          }),
          400: errorResponse("Body not JSON, or a field missing or invalid (`errors` names it)", undefined, ValidationErrorResponse),
          401: errorResponse("Missing, unknown or revoked bearer token"),
          403: errorResponse("Not a member of that organization (`not_a_member`), or not an admin of it (`role_required`)"),
          409: errorResponse("The organization already has a site with this URL (also the answer to a retried registration: no second site is made)"),
          413: errorResponse("Body larger than 64 KiB"),
        },
      },
    })
    .get("", async ({ request, userId, query, set }) => {
      const page = await sites.list(userId, query);
      linkNext(request, set, page.next_cursor);
      return conditional(request, set, page);
    }, {
      auth: true,
      response: { 200: SiteList, 400: ValidationErrorResponse, 401: ErrorResponse },
      detail: {
        operationId: "listSites",
        summary: "List the caller's sites",
        description: "The sites of every organization the caller belongs to, by id; follow `next_cursor` (or the `Link` header) for the next page.",
        tags: ["Sites"],
        security: bearerSecurity,
        parameters: [staleParameter, ...pageParameters, ...conditionalGetDocs],
        responses: {
          200: documentedResponse(SiteList, "One page of sites", { ...ETAG, ...LINK }),
          ...NOT_MODIFIED,
          400: errorResponse("`limit` or `cursor` invalid (`errors` names it)", undefined, ValidationErrorResponse),
          401: siteReadErrors[401],
        },
      },
    })
    .get("/:site_id", async ({ request, userId, params, set }) =>
      conditional(request, set, await sites.get(await sites.requireAccess(params.site_id, userId))), {
      auth: true,
      response: { 200: Site, ...authErrors },
      detail: {
        operationId: "getSite",
        summary: "One site: drupal_info, last sync, module count, update status counts",
        tags: ["Sites"],
        security: bearerSecurity,
        parameters: [siteIdParameter, ...conditionalGetDocs],
        responses: { 200: documentedResponse(Site, "The site", ETAG), ...NOT_MODIFIED, ...siteReadErrors },
      },
    })
    .get("/:site_id/modules", async ({ request, userId, params, query, set }) => {
      const page = await sites.listModules(await sites.requireAccess(params.site_id, userId), query);
      linkNext(request, set, page.next_cursor);
      return conditional(request, set, page);
    }, {
      auth: true,
      response: { 200: SiteModuleList, 400: ValidationErrorResponse, ...authErrors },
      detail: {
        operationId: "listSiteModules",
        summary: "A site's modules, by machine_name",
        description: "Optionally filtered by `module_type`, `extension_type` and `enabled`; follow `next_cursor` (or the `Link` header) for the next page.",
        tags: ["Sites"],
        security: bearerSecurity,
        parameters: [siteIdParameter, ...moduleFilterParameters, ...pageParameters, ...conditionalGetDocs],
        responses: {
          200: documentedResponse(SiteModuleList, "One page of the site's modules", { ...ETAG, ...LINK }),
          ...NOT_MODIFIED,
          400: errorResponse("A query parameter invalid (`errors` names it)", undefined, ValidationErrorResponse),
          ...siteReadErrors,
        },
      },
    })
    .post("/:site_id/token", async ({ userId, params }) => {
      const site = await sites.requireAccess(params.site_id, userId, "admin", "rotate a site's token");
      return sites.rotateToken(site);
    }, {
      auth: true,
      response: { 200: SiteToken, ...authErrors },
      detail: {
        operationId: "rotateSiteToken",
        summary: "Rotate a site's token",
        description: "Issues a new site token, shown only once; the old one stops working at once (as `site.token` and as a bearer). Admins of the site's organization only.",
        tags: ["Sites"],
        security: bearerSecurity,
        parameters: [siteIdParameter],
        responses: {
          200: documentedResponse(SiteToken, "The new token (shown only this once)"),
          ...siteAdminErrors,
        },
      },
    })
    .delete("/:site_id", async ({ userId, params, set }) => {
      const site = await sites.requireAccess(params.site_id, userId, "admin", "delete a site");
      await sites.delete(site);
      // Its rate-limit bucket too (ids are never reused: this is tidiness, not safety).
      await limiter.forget(site.id).catch(() => {});
      set.status = 204;
      return undefined;
    }, {
      auth: true,
      detail: {
        operationId: "deleteSite",
        summary: "Delete a site and all its data",
        description: "Removes the site with its modules, background tasks and their staged entries, body fingerprint, idempotency keys and rate-limit bucket, in one transaction. A sync of the site still in flight then answers 404. Admins of the site's organization only.",
        tags: ["Sites"],
        security: bearerSecurity,
        parameters: [siteIdParameter],
        responses: { 204: { description: "Deleted" }, ...siteAdminErrors },
      },
    });
}
